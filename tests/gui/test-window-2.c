/* test-window-2.c: the main window in-process, part 2 — the feature grid
 * follows a selection made elsewhere, the canvas's zoom buttons stay out
 * of the way, the top-5 panel is updated in place
 *
 * Uses the default model zf-mini (models/ of the source tree, through
 * CONVLENS_SOURCE_DIR): its widest layers (conv3: 192 channels) have
 * more channels than a window shows at once.  Expected values come from the widgets' geometry as GTK
 * lays it out, never from the grid's own arithmetic. */
#include <gtk/gtk.h>
#include <math.h>

#include "lens-application.h"
#include "lens-channel-cell.h"
#include "lens-document.h"
#include "lens-image-canvas.h"
#include "lens-window-private.h"
#include "gui-wait.h"

#define TIMEOUT_MS 30000

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
  return lens_document_get_model (doc) != NULL;
}

typedef struct
{
  LensDocument *doc;
  int           layer;
} WantLayer;

static gboolean
has_layer_maps (gpointer data)
{
  WantLayer *w = data;
  LensLayerMaps *maps = lens_document_get_maps (w->doc);

  return maps != NULL && (int) maps->layer == w->layer && !lens_document_get_busy (w->doc);
}

static gboolean
has_input (gpointer doc)
{
  LensTraceInfo *trace = lens_document_get_trace (doc);

  return trace != NULL && trace->input != NULL && lens_document_get_maps (doc) != NULL &&
         !lens_document_get_busy (doc);
}

/* The window with zf-mini and its sample picture; NULL (test skipped)
 * without them. */
static LensWindow *
open_default_model (void)
{
  const char *models = g_getenv ("CONVLENS_SOURCE_DIR");
  g_autofree char *model = NULL;
  g_autofree char *image = NULL;
  g_autoptr(GFile) model_file = NULL;
  g_autoptr(GFile) image_file = NULL;
  LensWindow *win;

  if (models == NULL)
    {
      g_test_skip ("CONVLENS_SOURCE_DIR is not set");
      return NULL;
    }
  model = g_build_filename (models, "zf-mini.onnx", NULL);
  image = g_build_filename (models, "..", "resources", "samples", "test-00000-ankle-boot.png",
                            NULL);
  if (!g_file_test (model, G_FILE_TEST_EXISTS) || !g_file_test (image, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no default model or sample picture");
      return NULL;
    }
  model_file = g_file_new_for_path (model);
  image_file = g_file_new_for_path (image);

  win = lens_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (win), 1000, 700);
  gtk_window_present (GTK_WINDOW (win));
  lens_window_open_model (win, model_file);
  g_assert_true (wait_for (has_model, lens_window_get_document (win)));
  lens_window_open_image (win, image_file);
  g_assert_true (wait_for (has_input, lens_window_get_document (win)));
  return win;
}

/* The first layer whose output has `channels` channels (-1: none). */
static int
find_widest_layer (LensDocument *doc,
                   int          *channels)
{
  LensModelInfo *model = lens_document_get_model (doc);
  int best = -1;

  *channels = 0;
  for (guint i = 0; i < model->n_layers; i++)
    {
      const LensShape *shape = &model->layers[i].shape;

      if (shape->ndim == 4 && shape->dims[1] > *channels)
        {
          best = (int) i;
          *channels = (int) shape->dims[1];
        }
    }
  return best;
}

/* The grid cell labelled `label` (the channel index) among the cells the
 * grid has made, or NULL. */
static GtkWidget *
find_cell (GtkWidget  *widget,
           const char *label)
{
  if (LENS_IS_CHANNEL_CELL (widget) &&
      g_strcmp0 (lens_channel_cell_get_label (LENS_CHANNEL_CELL (widget)), label) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_cell (child, label);

      if (found != NULL)
        return found;
    }
  return NULL;
}

typedef struct
{
  GtkWidget  *grid;       /* the GtkGridView */
  GtkWidget  *viewport;   /* its GtkScrolledWindow */
  const char *label;
} WantVisible;

/* The cell exists and lies wholly inside the scrolled window. */
static gboolean
cell_visible (gpointer data)
{
  WantVisible *w = data;
  GtkWidget *cell = find_cell (w->grid, w->label);
  graphene_rect_t b;

  if (cell == NULL || !gtk_widget_get_mapped (cell) ||
      !gtk_widget_compute_bounds (cell, w->viewport, &b))
    return FALSE;
  return b.origin.y >= -0.5 && b.origin.y + b.size.height <=
                                 gtk_widget_get_height (w->viewport) + 0.5;
}

/* Selecting the last channel of the widest layer from outside the grid (as the
 * keyboard, an action or another view would) scrolls it into view. */
static void
test_grid_follows_selection (void)
{
  LensWindow *win = open_default_model ();
  LensDocument *doc;
  GtkWidget *grid, *viewport;
  GtkAdjustment *vadj;
  WantLayer want;
  WantVisible visible;
  graphene_rect_t b;
  double value, page;
  int n_channels;
  char last[16];

  if (win == NULL)
    return;
  doc = lens_window_get_document (win);
  want.doc = doc;
  want.layer = find_widest_layer (doc, &n_channels);
  g_assert_cmpint (want.layer, >=, 0);
  g_assert_cmpint (n_channels, >=, 100);
  g_snprintf (last, sizeof last, "%d", n_channels - 1);
  lens_document_select_layer (doc, want.layer);
  g_assert_true (wait_for (has_layer_maps, &want));
  g_assert_cmpuint (lens_document_get_maps (doc)->n_channels, ==, (guint) n_channels);

  grid = GTK_WIDGET (lens_feature_grid_get_grid_view (win->feature_grid));
  viewport = gtk_widget_get_ancestor (grid, GTK_TYPE_SCROLLED_WINDOW);
  g_assert_nonnull (viewport);
  vadj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (viewport));
  visible = (WantVisible) { grid, viewport, "0" };
  lens_document_select_channel (doc, 0);
  g_assert_true (wait_for (cell_visible, &visible));
  gui_spin (200);
  /* at the top; the last channel is not there yet: so many thumbnails do
   * not fit */
  g_assert_cmpfloat (gtk_adjustment_get_value (vadj), ==, 0.0);
  g_assert_cmpfloat (gtk_adjustment_get_upper (vadj), >, gtk_adjustment_get_page_size (vadj));
  visible.label = last;
  g_assert_false (cell_visible (&visible));

  lens_document_select_channel (doc, n_channels - 1);
  g_assert_true (wait_for (cell_visible, &visible));
  /* the adjustment moved, and the cell's rows lie in its visible range */
  value = gtk_adjustment_get_value (vadj);
  page = gtk_adjustment_get_page_size (vadj);
  g_assert_cmpfloat (value, >, 0.0);
  g_assert_true (gtk_widget_compute_bounds (find_cell (grid, last), grid, &b));
  g_assert_cmpfloat (b.origin.y + value, >=, value - 0.5);
  g_assert_cmpfloat (b.origin.y + value + b.size.height, <=, value + page + 0.5);
  /* it is the last row: nothing is left below it */
  g_assert_cmpfloat (value + page, >=, gtk_adjustment_get_upper (vadj) - b.size.height - 20);

  /* and back up to the first channel */
  visible.label = "0";
  lens_document_select_channel (doc, 0);
  g_assert_true (wait_for (cell_visible, &visible));
  g_assert_cmpfloat (gtk_adjustment_get_value (vadj), <, value);

  /* "Strongest First": the selected channel moves; it is followed */
  visible.label = last;
  lens_document_select_channel (doc, n_channels - 1);
  g_assert_true (wait_for (cell_visible, &visible));
  lens_feature_grid_set_sort_by_activation (win->feature_grid, TRUE);
  g_assert_true (wait_for (cell_visible, &visible));

  gtk_window_destroy (GTK_WINDOW (win));
}

static gboolean
is_mapped (gpointer widget)
{
  return gtk_widget_get_mapped (widget);
}

/* The zoom buttons are transparent and let the pointer through until the
 * pointer moves over the canvas; the shortcuts' actions work either way. */
static void
test_zoom_controls_hidden (void)
{
  LensWindow *win = open_default_model ();
  LensImageCanvas *canvas;
  GtkWidget *controls;

  if (win == NULL)
    return;
  canvas = win->input_canvas;
  g_assert_true (wait_for (is_mapped, canvas));
  g_assert_nonnull (lens_image_canvas_get_pixels (canvas));
  g_assert_true (lens_image_canvas_get_show_zoom_controls (canvas));
  controls = lens_image_canvas_get_zoom_controls (canvas);
  g_assert_nonnull (controls);

  /* no pointer over it: not shown, not in the way of a click */
  g_assert_false (lens_image_canvas_get_zoom_controls_revealed (canvas));
  g_assert_cmpfloat (gtk_widget_get_opacity (controls), ==, 0.0);
  g_assert_false (gtk_widget_get_can_target (controls));
  /* still there for the keyboard and screen readers */
  g_assert_true (gtk_widget_get_visible (controls));
  {
    int n = 0;

    for (GtkWidget *b = gtk_widget_get_first_child (controls); b != NULL;
         b = gtk_widget_get_next_sibling (b))
      n++;
    g_assert_cmpint (n, ==, 3);
  }

  /* Ctrl+plus's action zooms with the buttons hidden */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (canvas), "canvas.zoom-in", NULL));
  g_assert_cmpfloat (lens_image_canvas_get_zoom (canvas), ==, 1.25);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (canvas), "canvas.zoom-reset", NULL));
  g_assert_cmpfloat (lens_image_canvas_get_zoom (canvas), ==, 1.0);

  /* keyboard focus on a button (Zoom In: Zoom Out is off at zoom 1)
   * reveals them */
  g_assert_true (gtk_widget_grab_focus (gtk_widget_get_last_child (controls)));
  g_assert_true (lens_image_canvas_get_zoom_controls_revealed (canvas));
  g_assert_cmpfloat (gtk_widget_get_opacity (controls), ==, 1.0);
  g_assert_true (gtk_widget_get_can_target (controls));
  gtk_widget_grab_focus (GTK_WIDGET (lens_feature_grid_get_grid_view (win->feature_grid)));
  g_assert_false (lens_image_canvas_get_zoom_controls_revealed (canvas));

  gtk_window_destroy (GTK_WINDOW (win));
}

/* Widgets of `type` under `widget`, in tree order. */
static void
collect (GtkWidget *widget,
         GType      type,
         GPtrArray *out)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    g_ptr_array_add (out, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect (child, type, out);
}

typedef struct
{
  LensDocument *doc;
  int           x, y;
} WantQuery;

static gboolean
has_query (gpointer data)
{
  WantQuery *w = data;
  LensOcclusionQuery *q = lens_document_get_query (w->doc);

  return q != NULL && q->x == w->x && q->y == w->y;
}

/* The rows of the top-5 panel show the query: name, "NN.N %" and the bar. */
static void
check_rows (LensWindow         *win,
            LensOcclusionQuery *q,
            GPtrArray          *rows)
{
  g_assert_cmpuint (rows->len, ==, q->n_predictions);
  for (guint i = 0; i < rows->len; i++)
    {
      g_autoptr(GPtrArray) labels = g_ptr_array_new ();
      g_autoptr(GPtrArray) bars = g_ptr_array_new ();
      g_autofree char *percent = g_strdup_printf ("%.1f %%", 100.0 * q->predictions[i].probability);

      collect (g_ptr_array_index (rows, i), GTK_TYPE_LABEL, labels);
      collect (g_ptr_array_index (rows, i), GTK_TYPE_PROGRESS_BAR, bars);
      g_assert_cmpuint (labels->len, ==, 2);
      g_assert_cmpuint (bars->len, ==, 1);
      g_assert_nonnull (q->predictions[i].label);   /* zf-mini has labels */
      g_assert_cmpstr (gtk_label_get_text (g_ptr_array_index (labels, 0)), ==,
                       q->predictions[i].label);
      g_assert_cmpstr (gtk_label_get_text (g_ptr_array_index (labels, 1)), ==, percent);
      g_assert_cmpfloat_with_epsilon (
        gtk_progress_bar_get_fraction (g_ptr_array_index (bars, 0)),
        q->predictions[i].probability, 1e-6);
    }
}

/* A new occlusion result updates the top-5 rows in place: the same row
 * widgets, new texts (building rows for every result blocked the main
 * loop during a drag). */
static void
test_predictions_in_place (void)
{
  LensWindow *win = open_default_model ();
  g_autoptr(GPtrArray) before = g_ptr_array_new ();
  g_autoptr(GPtrArray) after = g_ptr_array_new ();
  LensDocument *doc;
  WantQuery want;

  if (win == NULL)
    return;
  doc = lens_window_get_document (win);
  want = (WantQuery) { doc, 0, 0 };
  lens_window_set_occluder (win, 0, 0);
  g_assert_true (wait_for (has_query, &want));
  collect (GTK_WIDGET (win->occlusion_predictions), GTK_TYPE_LIST_BOX_ROW, before);
  check_rows (win, lens_document_get_query (doc), before);

  /* the square on the middle of the boot (28 x 28 input) */
  want = (WantQuery) { doc, 10, 10 };
  lens_window_set_occluder (win, 10, 10);
  g_assert_true (wait_for (has_query, &want));
  collect (GTK_WIDGET (win->occlusion_predictions), GTK_TYPE_LIST_BOX_ROW, after);
  check_rows (win, lens_document_get_query (doc), after);
  /* the same labels and bars, not new ones */
  g_ptr_array_set_size (before, 0);
  collect (GTK_WIDGET (win->occlusion_predictions), GTK_TYPE_LABEL, before);
  collect (GTK_WIDGET (win->occlusion_predictions), GTK_TYPE_PROGRESS_BAR, before);
  want = (WantQuery) { doc, 4, 16 };
  lens_window_set_occluder (win, 4, 16);
  g_assert_true (wait_for (has_query, &want));
  g_ptr_array_set_size (after, 0);
  collect (GTK_WIDGET (win->occlusion_predictions), GTK_TYPE_LABEL, after);
  collect (GTK_WIDGET (win->occlusion_predictions), GTK_TYPE_PROGRESS_BAR, after);
  g_assert_cmpuint (after->len, ==, before->len);
  for (guint i = 0; i < after->len; i++)
    g_assert_true (g_ptr_array_index (after, i) == g_ptr_array_index (before, i));

  gtk_window_destroy (GTK_WINDOW (win));
}

int
main (int   argc,
      char *argv[])
{
  lens_i18n_init ();
  g_test_init (&argc, &argv, NULL);

  if (!gtk_init_check ())
    {
      g_test_message ("no display: the window tests are skipped");
      return g_test_run ();
    }

  g_test_add_func ("/grid/follows-selection", test_grid_follows_selection);
  g_test_add_func ("/canvas/zoom-controls-hidden", test_zoom_controls_hidden);
  g_test_add_func ("/occlusion/predictions-in-place", test_predictions_in_place);

  return g_test_run ();
}
