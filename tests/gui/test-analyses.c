/* test-analyses.c: the Analyses view in-process — the top-9 and filters
 * pages run their analyses off the main thread, and what they show equals
 * what the engine computes directly with the same inputs; cancel works. */
#include <gtk/gtk.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "lens-analysis-evolution.h"
#include "lens-analysis-filters.h"
#include "lens-analysis-topk.h"
#include "lens-application.h"
#include "lens-image.h"
#include "lens-window-private.h"
#include "gui-wait.h"

#define TIMEOUT_MS 60000

static char *samples_dir;   /* a few sample images, copied */

static void maybe_screenshot (LensWindow *win, const char *name);

/* Runs the main loop until cond holds; FALSE on timeout. */
static gboolean
wait_for (Condition cond,
          gpointer  data)
{
  return gui_wait_for_ms (cond, data, TIMEOUT_MS);
}

static gboolean
has_model (gpointer doc)
{
  return lens_document_get_model (doc) != NULL && !lens_document_get_busy (doc);
}

static gboolean
topk_idle (gpointer page)
{
  return !lens_analysis_topk_get_busy (page);
}

static gboolean
topk_shown (gpointer page)
{
  return !lens_analysis_topk_get_busy (page) && lens_analysis_topk_get_figure (page) != NULL;
}

static gboolean
filters_idle (gpointer page)
{
  return !lens_analysis_filters_get_busy (page);
}

/* The keyboard focus is inside `page` (so that its Escape shortcut works). */
static gboolean
focus_inside (LensWindow *win,
              gpointer    page)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (win));

  return focus != NULL && gtk_widget_is_ancestor (focus, GTK_WIDGET (page));
}

static char *
model_path (void)
{
  return g_build_filename (g_getenv ("CONVLENS_DATADIR"), "zf-mini.onnx", NULL);
}

/* The window with zf-mini open, on the Analyses view. */
static LensWindow *
open_window (void)
{
  LensWindow *win = lens_window_new (NULL);
  g_autofree char *model = model_path ();
  LensDocument *doc = lens_window_get_document (win);

  gtk_window_present (GTK_WINDOW (win));
  lens_document_open_model (doc, model);
  g_assert_true (wait_for (has_model, doc));
  adw_view_stack_set_visible_child_name (win->view_stack, "analyses");
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (win->view_stack), ==, "analyses");
  return win;
}

/* The first ReLU of zf-mini. */
static char *
first_relu (LensNet *net)
{
  for (guint i = 0; i < lens_net_get_n_layers (net); i++)
    if (g_strcmp0 (lens_net_layer_get_op (net, i), "Relu") == 0)
      return g_strdup (lens_net_layer_get_name (net, i));
  g_assert_not_reached ();
}

static void
test_topk (void)
{
  LensWindow *win = open_window ();
  LensAnalysisTopk *page =
    LENS_ANALYSIS_TOPK (lens_analyses_view_get_page (win->analyses_view, "topk"));
  g_autofree char *model = model_path ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensNet) net = lens_analyses_load_net (model, &profile, &error);
  g_autoptr(LensScanSource) source = NULL;
  g_autoptr(LensTopk) direct = NULL;
  g_autofree char *layer = NULL;
  g_autofree guint8 *rgb = NULL;
  const LensTopkLayer *a, *b;
  LensTopkOptions opts;
  const char *layers[2] = { NULL, NULL };
  GdkTexture *figure;
  int w, h;

  g_assert_no_error (error);
  g_assert_nonnull (page);
  lens_analyses_view_set_visible_page (win->analyses_view, "topk");
  layer = first_relu (net);
  layers[0] = layer;

  /* cancelled at once: no result; the focus stayed in the page throughout */
  lens_analysis_topk_scan (page, samples_dir, layer, 0);
  g_assert_true (lens_analysis_topk_get_busy (page));
  g_assert_true (focus_inside (win, page));
  lens_analysis_topk_cancel (page);
  g_assert_true (wait_for (topk_idle, page));
  g_assert_null (lens_analysis_topk_get_result (page));
  g_assert_true (focus_inside (win, page));
  /* a fresh window, without the "cancelled" toast (for the screenshot) */
  gtk_window_destroy (GTK_WINDOW (win));
  win = open_window ();
  page = LENS_ANALYSIS_TOPK (lens_analyses_view_get_page (win->analyses_view, "topk"));
  lens_analyses_view_set_visible_page (win->analyses_view, "topk");

  lens_analysis_topk_scan (page, samples_dir, layer, 0);
  g_assert_true (wait_for (topk_shown, page));
  g_assert_nonnull (lens_analysis_topk_get_result (page));
  g_assert_true (g_file_test (lens_analysis_topk_get_result_path (page), G_FILE_TEST_IS_REGULAR));

  /* the engine, directly */
  source = lens_scan_source_open (samples_dir, &error);
  g_assert_no_error (error);
  lens_topk_options_init (&opts);
  direct = lens_topk_new (net, model, source, layers, &opts, &error);
  g_assert_no_error (error);
  g_assert_true (lens_topk_scan (direct, net, source, &profile->pre, &opts, NULL, &error));
  g_assert_no_error (error);
  /* the model's SHA-256 (hashed on its own thread beside the scan) is the
   * file's, computed here in one go */
  {
    g_autofree char *bytes = NULL;
    g_autofree char *want = NULL;
    gsize len;

    g_assert_true (g_file_get_contents (model, &bytes, &len, NULL));
    want = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) bytes, len);
    g_assert_cmpstr (lens_topk_get_model_sha256 (direct), ==, want);
    g_assert_cmpstr (lens_topk_get_model_sha256 (lens_analysis_topk_get_result (page)), ==,
                     want);
  }
  a = lens_topk_find_layer (lens_analysis_topk_get_result (page), layer);
  b = lens_topk_find_layer (direct, layer);
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpint (a->channels, ==, b->channels);
  g_assert_cmpint (a->channels, >, 1);
  for (int c = 0; c < a->channels; c++)
    {
      g_assert_cmpint (a->counts[c], ==, b->counts[c]);
      g_assert_cmpint (a->counts[c], ==, 9);   /* nine distinct images of the folder */
      for (int i = 0; i < a->counts[c]; i++)
        {
          const LensTopkEntry *ea = &a->entries[c * 9 + i], *eb = &b->entries[c * 9 + i];

          g_assert_cmpint (ea->image, ==, eb->image);
          g_assert_cmpint (ea->x, ==, eb->x);
          g_assert_cmpint (ea->y, ==, eb->y);
          g_assert_cmpfloat (ea->value, ==, eb->value);
          if (i > 0)
            g_assert_cmpfloat (ea->value, <=, a->entries[c * 9 + i - 1].value);
        }
    }

  /* channel 1's figure is the engine's drawing of it */
  lens_analysis_topk_set_channel (page, 1);
  g_assert_true (wait_for (topk_shown, page));
  maybe_screenshot (win, "analysis-topk");
  rgb = lens_topk_render (direct, net, source, &profile->pre, layer, 1, 1, &w, &h, NULL, &error);
  g_assert_no_error (error);
  figure = lens_analysis_topk_get_figure (page);
  g_assert_cmpint (gdk_texture_get_width (figure), ==, w);
  g_assert_cmpint (gdk_texture_get_height (figure), ==, h);
  {
    g_autofree char *dir = g_dir_make_tmp ("convlens-analyses-XXXXXX", NULL);
    g_autofree char *png = g_build_filename (dir, "topk.png", NULL);
    g_autoptr(LensImage) back = NULL;
    g_autofree guint8 *back_rgb = NULL;

    g_assert_true (lens_analysis_topk_export_png (page, png, &error));
    g_assert_no_error (error);
    back = lens_image_load (png, &error);
    g_assert_no_error (error);
    back_rgb = lens_image_to_rgb8 (back);
    g_assert_cmpint (back->width, ==, w);
    g_assert_cmpmem (back_rgb, (gsize) w * h * 3, rgb, (gsize) w * h * 3);
    g_unlink (png);
    g_rmdir (dir);
  }
  gtk_window_destroy (GTK_WINDOW (win));
}

static void
test_filters (void)
{
  LensWindow *win = open_window ();
  LensAnalysisFilters *page =
    LENS_ANALYSIS_FILTERS (lens_analyses_view_get_page (win->analyses_view, "filters"));
  g_autofree char *model = model_path ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensNet) net = lens_analyses_load_net (model, &profile, &error);
  g_autoptr(LensScanSource) source = NULL;
  g_autoptr(LensFilterStats) direct = NULL;
  LensFilterStats *shown;

  g_assert_no_error (error);
  lens_analyses_view_set_visible_page (win->analyses_view, "filters");
  lens_analysis_filters_run (page, samples_dir, 0);
  g_assert_true (focus_inside (win, page));
  g_assert_true (wait_for (filters_idle, page));
  g_assert_true (focus_inside (win, page));
  shown = lens_analysis_filters_get_stats (page);
  g_assert_nonnull (shown);
  maybe_screenshot (win, "analysis-filters");

  source = lens_scan_source_open (samples_dir, &error);
  g_assert_no_error (error);
  direct = lens_filters_analyse (net, NULL, source, &profile->pre, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (shown->n_filters, ==, direct->n_filters);
  g_assert_cmpint (shown->n_images, ==, lens_scan_source_get_n_images (source));
  {
    /* with a data set the page also shows zf-mini's conv2 top-1 projections,
     * the same entries as a direct scan */
    LensTopk *l2 = lens_analysis_filters_get_layer2 (page);
    g_autoptr(LensTopk) d2 = lens_filters_layer2_scan (net, model, NULL, NULL, source,
                                                       &profile->pre, 0, NULL, NULL, NULL,
                                                       &error);
    const LensTopkLayer *a, *b;

    g_assert_no_error (error);
    g_assert_nonnull (l2);
    g_assert_nonnull (lens_analysis_filters_get_layer2_paintable (page));
    a = lens_topk_get_layer (l2, 0);
    b = lens_topk_get_layer (d2, 0);
    g_assert_cmpstr (a->name, ==, "conv2");
    g_assert_cmpint (a->channels, ==, b->channels);
    for (int c = 0; c < a->channels; c++)
      {
        g_assert_cmpint (a->entries[c].image, ==, b->entries[c].image);
        g_assert_cmpint (a->entries[c].y, ==, b->entries[c].y);
        g_assert_cmpint (a->entries[c].x, ==, b->entries[c].x);
      }
  }
  for (int f = 0; f < direct->n_filters; f++)
    {
      g_autofree char *rms = g_strdup_printf ("%.4g", direct->rms[f]);
      g_autofree char *high = g_strdup_printf ("%.4g", direct->high_share[f]);
      g_autofree char *energy = g_strdup_printf ("%.4g", direct->energy_share[f]);
      double sum = 0;

      g_assert_cmpstr (lens_analysis_filters_get_cell (page, f, 1), ==, rms);
      g_assert_cmpstr (lens_analysis_filters_get_cell (page, f, 2), ==, high);
      g_assert_cmpstr (lens_analysis_filters_get_cell (page, f, 6), ==, energy);
      g_assert_cmpint (shown->dead[f], ==, direct->dead[f]);
      /* the RMS by hand from the weights */
      for (int i = 0; i < direct->channels * direct->kh * direct->kw; i++)
        {
          double v = direct->weights[(gsize) f * direct->channels * direct->kh * direct->kw + i];

          sum += v * v;
        }
      g_assert_cmpfloat_with_epsilon (shown->rms[f],
                                      sqrt (sum / (direct->channels * direct->kh * direct->kw)),
                                      1e-6);
    }
  {
    g_autofree char *dir = g_dir_make_tmp ("convlens-analyses-XXXXXX", NULL);
    g_autofree char *csv = g_build_filename (dir, "filters.csv", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;

    g_assert_true (lens_analysis_filters_export_csv (page, csv, &error));
    g_assert_no_error (error);
    g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
    lines = g_strsplit (text, "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, (guint) direct->n_filters + 2);
    g_assert_true (g_str_has_prefix (lines[0], "filter,rms,"));
    g_unlink (csv);
    {
      /* the PNG is the whole figure: tiles, caption, layer-2 projections */
      g_autofree char *png = g_build_filename (dir, "filters.png", NULL);
      g_autofree guint8 *tiles = NULL;
      g_autoptr(GdkTexture) saved = NULL;
      GdkPaintable *l2 = lens_analysis_filters_get_layer2_paintable (page);
      int tw, th;

      g_assert_true (lens_analysis_filters_export_png (page, png, &error));
      g_assert_no_error (error);
      saved = gdk_texture_new_from_filename (png, &error);
      g_assert_no_error (error);
      tiles = lens_filters_render (direct, profile->pre.bgr, &tw, &th);
      g_assert_cmpint (gdk_texture_get_height (saved), ==,
                       th + LENS_FILTERS_CAPTION_HEIGHT + gdk_paintable_get_intrinsic_height (l2));
      g_assert_cmpint (gdk_texture_get_width (saved), ==,
                       MAX (tw, gdk_paintable_get_intrinsic_width (l2)));
      g_unlink (png);
    }
    g_rmdir (dir);
  }

  /* Fashion-MNIST, 100 images: the layer-2 picture comes from those 100;
   * a run cancelled at once keeps showing it */
  lens_analysis_filters_run (page, "fashion-mnist:test", 100);
  g_assert_true (wait_for (filters_idle, page));
  g_assert_nonnull (lens_analysis_filters_get_layer2 (page));
  g_assert_cmpint (lens_topk_get_scanned (lens_analysis_filters_get_layer2 (page)), ==, 100);
  g_assert_nonnull (lens_analysis_filters_get_layer2_paintable (page));
  lens_analysis_filters_run (page, "fashion-mnist:test", 0);
  g_assert_true (lens_analysis_filters_get_busy (page));
  lens_analysis_filters_cancel (page);
  g_assert_true (wait_for (filters_idle, page));
  g_assert_cmpint (lens_topk_get_scanned (lens_analysis_filters_get_layer2 (page)), ==, 100);
  gtk_window_destroy (GTK_WINDOW (win));
}

static gboolean
evolution_idle (gpointer page)
{
  return !lens_analysis_evolution_get_busy (page);
}

/* With CONVLENS_SCREENSHOT_DIR set, the window is saved there as NAME.png
 * (used to make docs/screenshots). */
static void
maybe_screenshot (LensWindow *win,
                  const char *name)
{
  const char *dir = g_getenv ("CONVLENS_SCREENSHOT_DIR");
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  int w, h;
  gint64 end = g_get_monotonic_time () + 500000;

  if (dir == NULL)
    return;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  w = gtk_widget_get_width (GTK_WIDGET (win));
  h = gtk_widget_get_height (GTK_WIDGET (win));
  paintable = gtk_widget_paintable_new (GTK_WIDGET (win));
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
  node = gtk_snapshot_to_node (snapshot);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (win)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, w, h));
  path = g_strdup_printf ("%s/%s.png", dir, name);
  gdk_texture_save_to_png (texture, path);
}

static void
test_evolution (void)
{
  LensWindow *win = open_window ();
  LensAnalysisEvolution *page =
    LENS_ANALYSIS_EVOLUTION (lens_analyses_view_get_page (win->analyses_view, "evolution"));
  g_autofree char *model = model_path ();
  g_autofree char *dir = g_dir_make_tmp ("convlens-evolution-XXXXXX", NULL);
  g_autofree char *data = NULL;
  g_autofree char *png = g_build_filename (dir, "evolution.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) back = NULL;
  char *checkpoints[4] = { NULL };
  gsize len;
  GdkTexture *last;

  lens_analyses_view_set_visible_page (win->analyses_view, "evolution");
  g_assert_true (g_file_get_contents (model, &data, &len, NULL));
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("zf-epoch-%03d.onnx", i + 1);

      checkpoints[i] = g_build_filename (dir, name, NULL);
      g_assert_true (g_file_set_contents (checkpoints[i], data, len, NULL));
    }

  /* cancel at once: nothing shown */
  lens_analysis_evolution_run (page, (const char * const *) checkpoints, "conv1", samples_dir, 0);
  g_assert_true (focus_inside (win, page));
  lens_analysis_evolution_cancel (page);
  g_assert_true (wait_for (evolution_idle, page));
  g_assert_cmpuint (lens_analysis_evolution_get_n_snapshots (page), ==, 0);
  g_assert_true (focus_inside (win, page));
  /* a fresh window, without the "cancelled" toast (for the screenshot) */
  gtk_window_destroy (GTK_WINDOW (win));
  win = open_window ();
  page = LENS_ANALYSIS_EVOLUTION (lens_analyses_view_get_page (win->analyses_view, "evolution"));
  lens_analyses_view_set_visible_page (win->analyses_view, "evolution");

  lens_analysis_evolution_run (page, (const char * const *) checkpoints, "conv1", samples_dir, 0);
  g_assert_true (lens_analysis_evolution_get_busy (page));
  g_assert_true (wait_for (evolution_idle, page));
  g_assert_cmpuint (lens_analysis_evolution_get_n_snapshots (page), ==, 3);
  /* the last snapshot first; the slider moves to the first */
  g_assert_cmpuint (lens_analysis_evolution_get_snapshot (page), ==, 2);
  g_assert_true (g_str_has_prefix (lens_analysis_evolution_get_caption (page), "Snapshot 3 of 3"));
  g_assert_nonnull (strstr (lens_analysis_evolution_get_caption (page), "zf-epoch-003.onnx"));
  last = g_object_ref (lens_analysis_evolution_get_figure (page));
  maybe_screenshot (win, "analysis-evolution");
  lens_analysis_evolution_set_snapshot (page, 0);
  g_assert_true (g_str_has_prefix (lens_analysis_evolution_get_caption (page), "Snapshot 1 of 3"));
  g_assert_nonnull (strstr (lens_analysis_evolution_get_caption (page), "zf-epoch-001.onnx"));
  g_assert_true (lens_analysis_evolution_get_figure (page) != last);
  g_object_unref (last);

  /* the whole figure: 3 columns of 28*2 + gaps, 16 rows */
  g_assert_true (lens_analysis_evolution_export_png (page, png, &error));
  g_assert_no_error (error);
  back = lens_image_load (png, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->width, ==, 3 * (28 * 2 + 2) + 2);
  g_assert_cmpint (back->height, ==, 16 * (28 * 2 + 2) + 2);

  g_unlink (png);
  for (int i = 0; i < 3; i++)
    {
      g_unlink (checkpoints[i]);
      g_free (checkpoints[i]);
    }
  g_rmdir (dir);
  gtk_window_destroy (GTK_WINDOW (win));
}

/* Copies the first n samples of resources/samples into a temp folder. */
static char *
copy_samples (int n)
{
  g_autofree char *parent = g_path_get_dirname (g_getenv ("CONVLENS_DATADIR"));
  g_autofree char *src = g_build_filename (parent, "resources", "samples", NULL);
  g_autoptr(GDir) d = g_dir_open (src, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  char *dir = g_dir_make_tmp ("convlens-samples-XXXXXX", NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".png"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  g_assert_cmpuint (names->len, >=, (guint) n);
  for (int i = 0; i < n; i++)
    {
      g_autofree char *from = g_build_filename (src, g_ptr_array_index (names, i), NULL);
      g_autofree char *to = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
      g_autofree char *data = NULL;
      gsize len;

      g_assert_true (g_file_get_contents (from, &data, &len, NULL));
      g_assert_true (g_file_set_contents (to, data, len, NULL));
    }
  return dir;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *cache = g_dir_make_tmp ("convlens-cache-XXXXXX", NULL);
  int status;

  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  lens_i18n_init ();
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    {
      g_print ("1..0 # SKIP no display\n");
      return 0;
    }
  samples_dir = copy_samples (12);
  g_test_add_func ("/analyses/topk", test_topk);
  g_test_add_func ("/analyses/filters", test_filters);
  g_test_add_func ("/analyses/evolution", test_evolution);
  status = g_test_run ();
  g_free (samples_dir);
  return status;
}
