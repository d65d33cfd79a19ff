/* test-analyses-2.c: the Invariance, Correspondence and Linear Probes pages
 * in-process — each runs on zf-mini off the main thread, shows what the
 * engine function computes directly with the same inputs, can be
 * cancelled, and exports its files. */
#include <gtk/gtk.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "lens-analysis-correspondence.h"
#include "lens-analysis-invariance.h"
#include "lens-analysis-probe.h"
#include "lens-application.h"
#include "lens-image.h"
#include "lens-plot.h"
#include "lens-window-private.h"
#include "gui-wait.h"

#define TIMEOUT_MS 120000

static char *samples_dir;   /* resources/samples */

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
has_trace (gpointer doc)
{
  return lens_document_get_trace (doc) != NULL && !lens_document_get_busy (doc);
}

static gboolean
not_busy (gpointer page)
{
  gboolean busy;

  g_object_get (page, "busy", &busy, NULL);
  return !busy;
}

static char *
model_path (void)
{
  return g_build_filename (g_getenv ("CONVLENS_DATADIR"), "zf-mini.onnx", NULL);
}

static char *
sample (const char *name)
{
  return g_build_filename (samples_dir, name, NULL);
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
  gint64 end = g_get_monotonic_time () + 1500000;   /* transitions done */

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

/* The window with zf-mini (and optionally an image) open, on the Analyses
 * view's page `name`. */
static LensWindow *
open_window (const char *image,
             const char *name)
{
  LensWindow *win = lens_window_new (NULL);
  g_autofree char *model = model_path ();
  LensDocument *doc = lens_window_get_document (win);

  gtk_window_set_default_size (GTK_WINDOW (win), 1200, 800);
  gtk_window_present (GTK_WINDOW (win));
  lens_document_open_model (doc, model);
  g_assert_true (wait_for (has_model, doc));
  if (image != NULL)
    {
      lens_document_open_image (doc, image);
      g_assert_true (wait_for (has_trace, doc));
    }
  adw_view_stack_set_visible_child_name (win->view_stack, "analyses");
  lens_analyses_view_set_visible_page (win->analyses_view, name);
  return win;
}

static gsize
count_lines (const char *path)
{
  g_autofree char *text = NULL;
  gsize n = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  for (const char *p = text; *p != '\0'; p++)
    n += *p == '\n';
  return n;
}

/* -- invariance ---------------------------------------------------------- */

static void
test_invariance (void)
{
  g_autofree char *first = sample ("test-00000-ankle-boot.png");
  g_autofree char *second = sample ("test-00001-pullover.png");
  LensWindow *win = open_window (first, "invariance");
  LensAnalysisInvariance *page = LENS_ANALYSIS_INVARIANCE (
    lens_analyses_view_get_page (win->analyses_view, "invariance"));
  const char *extra[] = { second, NULL };
  const char *layers[] = { "conv1", "relu6", NULL };
  g_autofree char *model = model_path ();
  g_autofree char *dir = g_dir_make_tmp ("convlens-inv-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "inv.png", NULL);
  g_autofree char *csv = g_build_filename (dir, "inv.csv", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensNet) net = lens_analyses_load_net (model, &profile, &error);
  g_autoptr(LensInvariance) direct = NULL;
  g_autoptr(LensImage) back = NULL;
  g_autofree double *values = NULL;
  LensImage *images[2];
  LensInvarianceOptions opts;
  const LensInvariance *shown;
  int n_values, fw, fh;

  g_assert_no_error (error);
  g_assert_nonnull (page);
  lens_analysis_invariance_configure (page, extra, LENS_TRANSFORM_TRANSLATE, -2, 4, 2, layers);

  lens_analysis_invariance_run (page);
  g_assert_true (wait_for (not_busy, page));
  shown = lens_analysis_invariance_get_result (page);
  g_assert_nonnull (shown);
  g_assert_cmpint (shown->n_images, ==, 2);
  g_assert_cmpint (shown->n_layers, ==, 2);
  g_assert_cmpint (shown->n_values, ==, 4);   /* -2, 0, 2, 4 */
  g_assert_cmpstr (shown->layers[0], ==, "conv1");
  g_assert_cmpstr (shown->layers[1], ==, "relu6");

  /* the engine, directly, on the same images */
  images[0] = lens_image_load (first, &error);
  g_assert_no_error (error);
  images[1] = lens_image_load (second, &error);
  g_assert_no_error (error);
  g_assert_true (lens_invariance_parse_range ("-2:4:2", &values, &n_values, &error));
  lens_invariance_options_init (&opts);
  opts.transform = LENS_TRANSFORM_TRANSLATE;
  opts.values = values;
  opts.n_values = n_values;
  direct = lens_invariance_run (net, &profile->pre, images, 2, NULL, layers, &opts, NULL, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 2; i++)
    {
      g_assert_cmpint (shown->true_class[i], ==, direct->true_class[i]);
      for (int v = 0; v < 4; v++)
        {
          gsize pv = (gsize) i * 4 + v;

          g_assert_cmpfloat_with_epsilon (shown->probability[pv], direct->probability[pv], 1e-9);
          g_assert_cmpint (shown->rank[pv], ==, direct->rank[pv]);
          for (int l = 0; l < 2; l++)
            {
              gsize at = lens_invariance_index (shown, i, l, v);

              g_assert_cmpfloat_with_epsilon (shown->distance[at], direct->distance[at], 1e-9);
              g_assert_cmpfloat_with_epsilon (shown->relative[at], direct->relative[at], 1e-9);
            }
        }
      /* no translation: the features do not move at all (value index 1 is 0) */
      g_assert_cmpfloat (shown->distance[lens_invariance_index (shown, i, 0, 1)], ==, 0.0);
      g_assert_cmpfloat (shown->distance[lens_invariance_index (shown, i, 1, 1)], ==, 0.0);
      g_assert_cmpfloat (shown->distance[lens_invariance_index (shown, i, 0, 3)], >, 0.0);
    }
  lens_image_free (images[0]);
  lens_image_free (images[1]);
  maybe_screenshot (win, "analysis-invariance");

  /* a second run cancelled at once: the shown result stays */
  lens_analysis_invariance_configure (page, extra, LENS_TRANSFORM_ROTATE, 0, 360, 1, layers);
  lens_analysis_invariance_run (page);
  g_assert_true (lens_analysis_invariance_get_busy (page));
  lens_analysis_invariance_cancel (page);
  g_assert_true (wait_for (not_busy, page));
  g_assert_true (lens_analysis_invariance_get_result (page) == shown);
  g_assert_cmpint (shown->transform, ==, LENS_TRANSFORM_TRANSLATE);

  /* export: the figure at its natural size (2 layer panels + probability
   * + rank) and one CSV row per image, layer and value */
  g_assert_true (lens_analysis_invariance_export_png (page, png, &error));
  g_assert_no_error (error);
  g_assert_true (lens_analysis_invariance_export_csv (page, csv, &error));
  g_assert_no_error (error);
  back = lens_image_load (png, &error);
  g_assert_no_error (error);
  lens_plot_get_size (4, &fw, &fh);
  g_assert_cmpint (back->width, ==, fw);
  g_assert_cmpint (back->height, ==, fh);
  g_assert_cmpuint (count_lines (csv), ==, 1 + 2 * 2 * 4);

  g_unlink (png);
  g_unlink (csv);
  g_rmdir (dir);
  gtk_window_destroy (GTK_WINDOW (win));
}

/* -- correspondence ------------------------------------------------------ */

static void
test_correspondence (void)
{
  LensWindow *win = open_window (NULL, "correspondence");
  LensAnalysisCorrespondence *page = LENS_ANALYSIS_CORRESPONDENCE (
    lens_analyses_view_get_page (win->analyses_view, "correspondence"));
  const char *layers[] = { "conv1", "relu2", NULL };
  g_autofree char *model = model_path ();
  g_autofree char *dir = g_dir_make_tmp ("convlens-corr-XXXXXX", NULL);
  g_autofree char *spec_path = g_build_filename (dir, "spec.json", NULL);
  g_autofree char *csv = g_build_filename (dir, "corr.csv", NULL);
  g_autofree char *json = g_build_filename (dir, "corr.json", NULL);
  g_autofree char *spec_text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensNet) net = lens_analyses_load_net (model, &profile, &error);
  g_autoptr(LensCorrespondenceSpec) spec = NULL;
  g_autoptr(LensCorrespondence) direct = NULL;
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func ((GDestroyNotify) lens_image_free);
  const char *names[] = { "test-00000-ankle-boot.png", "test-00001-pullover.png",
                          "test-00002-trouser.png" };

  g_assert_no_error (error);
  spec_text = g_strdup_printf (
    "{ \"trials\": 3, \"seed\": 7, \"images\": ["
    "{ \"file\": \"%s/%s\", \"parts\": { \"middle\": [10, 10, 8, 8], \"top\": [4, 2, 20, 6] } },"
    "{ \"file\": \"%s/%s\", \"parts\": { \"middle\": [9, 11, 8, 8], \"top\": [4, 3, 20, 6] } },"
    "{ \"file\": \"%s/%s\", \"parts\": { \"middle\": [11, 9, 8, 8], \"top\": [5, 2, 18, 6] } }"
    "] }", samples_dir, names[0], samples_dir, names[1], samples_dir, names[2]);
  g_assert_true (g_file_set_contents (spec_path, spec_text, -1, NULL));
  lens_analysis_correspondence_configure (page, spec_path, layers);

  lens_analysis_correspondence_run (page);
  g_assert_true (wait_for (not_busy, page));
  g_assert_nonnull (lens_analysis_correspondence_get_result (page));

  spec = lens_correspondence_spec_load (spec_path, &error);
  g_assert_no_error (error);
  for (int i = 0; i < spec->n_images; i++)
    {
      g_ptr_array_add (images, lens_image_load (spec->images[i].path, &error));
      g_assert_no_error (error);
    }
  direct = lens_correspondence_run (net, &profile->pre, spec, (LensImage * const *) images->pdata,
                                    layers, NULL, NULL, NULL, &error);
  g_assert_no_error (error);

  /* parts in order of first appearance, part-major rows; the numbers shown
   * are the engine's, to the 6 significant digits displayed */
  g_assert_cmpuint (lens_analysis_correspondence_get_n_rows (page), ==, 4);
  for (guint row = 0; row < 4; row++)
    {
      const double *cols[6] = { direct->delta, direct->mean, direct->std,
                                direct->random_delta, direct->random_mean, direct->random_std };

      g_assert_cmpstr (lens_analysis_correspondence_get_cell (page, row, 0), ==,
                       row < 2 ? "middle" : "top");
      g_assert_cmpstr (lens_analysis_correspondence_get_cell (page, row, 1), ==, layers[row % 2]);
      for (int c = 0; c < 6; c++)
        {
          const char *cell = lens_analysis_correspondence_get_cell (page, row, 2 + c);
          double v = g_ascii_strtod (cell, NULL), want = cols[c][row];

          g_assert_cmpfloat (fabs (v - want), <=, 1e-5 * fabs (want) + 1e-12);
        }
    }
  /* a hand-checkable bound: delta is a sum over 3 pairs of Hamming
   * distances, each at most the layer's size */
  g_assert_cmpfloat (direct->delta[0], <=, 3.0 * direct->size[0]);
  g_assert_null (lens_analysis_correspondence_get_cell (page, 4, 0));
  maybe_screenshot (win, "analysis-correspondence");

  /* a second run cancelled at once: the table stays */
  {
    const LensCorrespondence *before = lens_analysis_correspondence_get_result (page);

    lens_analysis_correspondence_run (page);
    g_assert_true (lens_analysis_correspondence_get_busy (page));
    lens_analysis_correspondence_cancel (page);
    g_assert_true (wait_for (not_busy, page));
    g_assert_true (lens_analysis_correspondence_get_result (page) == before);
    g_assert_cmpuint (lens_analysis_correspondence_get_n_rows (page), ==, 4);
  }

  g_assert_true (lens_analysis_correspondence_export_csv (page, csv, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_lines (csv), ==, 1 + 4);
  g_assert_true (lens_analysis_correspondence_export_json (page, json, &error));
  g_assert_no_error (error);
  {
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonObject *root;

    g_assert_true (json_parser_load_from_file (parser, json, &error));
    g_assert_no_error (error);
    root = json_node_get_object (json_parser_get_root (parser));
    g_assert_cmpint (json_object_get_int_member (root, "pairs"), ==, 3);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "parts")), ==, 2);
  }

  g_unlink (csv);
  g_unlink (json);
  g_unlink (spec_path);
  g_rmdir (dir);
  gtk_window_destroy (GTK_WINDOW (win));
}

/* -- linear probes ------------------------------------------------------- */

static void
test_probe (void)
{
  LensWindow *win = open_window (NULL, "probe");
  LensAnalysisProbe *page = LENS_ANALYSIS_PROBE (
    lens_analyses_view_get_page (win->analyses_view, "probe"));
  const char *layers[] = { "relu1", "relu6", NULL };
  g_autofree char *model = model_path ();
  g_autofree char *dir = g_dir_make_tmp ("convlens-probe-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "probe.png", NULL);
  g_autofree char *csv = g_build_filename (dir, "probe.csv", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensNet) net = lens_analyses_load_net (model, &profile, &error);
  g_autoptr(LensDataset) train_all = NULL, test_all = NULL, train = NULL, test = NULL;
  g_autoptr(LensProbeResult) direct = NULL;
  g_autoptr(LensImage) back = NULL;
  g_autofree int *idx = NULL;
  const LensProbeResult *shown;
  LensProbeOptions opts;
  int fw, fh;

  g_assert_no_error (error);
  /* the whole data set, cancelled at once: nothing shown */
  lens_analysis_probe_configure (page, "fashion-mnist", 0, 0, 30, layers);
  lens_analysis_probe_run (page);
  g_assert_true (lens_analysis_probe_get_busy (page));
  lens_analysis_probe_cancel (page);
  g_assert_true (wait_for (not_busy, page));
  g_assert_null (lens_analysis_probe_get_result (page));
  g_assert_null (lens_analysis_probe_get_cell (page, 0, 0));

  lens_analysis_probe_configure (page, "fashion-mnist", 400, 200, 5, layers);

  lens_analysis_probe_run (page);
  g_assert_true (wait_for (not_busy, page));
  shown = lens_analysis_probe_get_result (page);
  g_assert_nonnull (shown);
  g_assert_cmpint (shown->n_train, ==, 400);
  g_assert_cmpint (shown->n_test, ==, 200);

  /* the engine, directly, on the first 400 / 200 images */
  train_all = lens_dataset_load_fashion_mnist (NULL, "train", &error);
  g_assert_no_error (error);
  test_all = lens_dataset_load_fashion_mnist (NULL, "test", &error);
  g_assert_no_error (error);
  idx = g_new (int, 400);
  for (int i = 0; i < 400; i++)
    idx[i] = i;
  train = lens_dataset_subset (train_all, idx, 400);
  test = lens_dataset_subset (test_all, idx, 200);
  lens_probe_options_init (&opts);
  opts.epochs = 5;
  direct = lens_probe_run (net, &profile->pre, train, test, layers, &opts, NULL, &error);
  g_assert_no_error (error);
  for (int l = 0; l < 2; l++)
    {
      g_autofree char *train_text = g_strdup_printf ("%.2f %%", 100 * direct->train_accuracy[l]);
      g_autofree char *test_text = g_strdup_printf ("%.2f %%", 100 * direct->test_accuracy[l]);
      g_autofree char *features = g_strdup_printf ("%d", direct->n_features[l]);

      g_assert_cmpstr (lens_analysis_probe_get_cell (page, l, LENS_PROBE_COL_LAYER), ==,
                       layers[l]);
      g_assert_cmpstr (lens_analysis_probe_get_cell (page, l, LENS_PROBE_COL_FEATURES), ==,
                       features);
      g_assert_cmpstr (lens_analysis_probe_get_cell (page, l, LENS_PROBE_COL_TRAIN), ==,
                       train_text);
      g_assert_cmpstr (lens_analysis_probe_get_cell (page, l, LENS_PROBE_COL_TEST), ==,
                       test_text);
      /* accuracies are fractions of 400 / 200 images */
      g_assert_cmpfloat (fabs (shown->test_accuracy[l] * 200 - round (shown->test_accuracy[l] * 200)),
                         <, 1e-9);
    }
  /* relu1 is mean-pooled over its positions: one feature per channel */
  g_assert_cmpint (direct->n_features[0], ==,
                   (int) lens_net_value_get_shape (net, lens_net_layer_get_output (
                     net, lens_net_find_layer (net, "relu1")))->dims[1]);
  maybe_screenshot (win, "analysis-probe");

  /* a second, long run cancelled at once: the result stays */
  lens_analysis_probe_configure (page, "fashion-mnist", 0, 0, 30, NULL);
  lens_analysis_probe_run (page);
  g_assert_true (lens_analysis_probe_get_busy (page));
  lens_analysis_probe_cancel (page);
  g_assert_true (wait_for (not_busy, page));
  g_assert_true (lens_analysis_probe_get_result (page) == shown);

  g_assert_true (lens_analysis_probe_export_png (page, png, &error));
  g_assert_no_error (error);
  back = lens_image_load (png, &error);
  g_assert_no_error (error);
  lens_plot_get_size (1, &fw, &fh);
  g_assert_cmpint (back->width, ==, fw);
  g_assert_cmpint (back->height, ==, fh);
  g_assert_true (lens_analysis_probe_export_csv (page, csv, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_lines (csv), ==, 1 + 2);

  g_unlink (png);
  g_unlink (csv);
  g_rmdir (dir);
  gtk_window_destroy (GTK_WINDOW (win));
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *cache = g_dir_make_tmp ("convlens-cache-XXXXXX", NULL);
  g_autofree char *parent = NULL;

  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  lens_i18n_init ();
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    {
      g_print ("1..0 # SKIP no display\n");
      return 0;
    }
  parent = g_path_get_dirname (g_getenv ("CONVLENS_DATADIR"));
  samples_dir = g_build_filename (parent, "resources", "samples", NULL);
  g_test_add_func ("/analyses-2/invariance", test_invariance);
  g_test_add_func ("/analyses-2/correspondence", test_correspondence);
  g_test_add_func ("/analyses-2/probe", test_probe);
  return g_test_run ();
}
