/* test-window.c: the main window in-process, driven through its actions
 *
 * The fixtures (a tiny ONNX model, a 32x32 picture and what PyTorch
 * computes for it) are written by make-tiny-model.py into the folder given
 * as the first argument.  Expected values come from that file or are
 * worked out by hand below, never from ConvLens itself. */
#define _GNU_SOURCE /* memmem */

#include <gtk/gtk.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libintl.h>
#include <locale.h>
#include <math.h>
#include <png.h>
#include <string.h>

#include "lens-application.h"
#include "lens-image.h"
#include "lens-layer-blocks.h"
#include "lens-net.h"
#include "lens-occlude.h"
#include "lens-profile.h"
#include "lens-project.h"
#include "lens-document.h"
#include "lens-render.h"
#include "lens-window-private.h"
#include "gui-wait.h"

static char *fixtures;
static JsonObject *expected;

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

static gboolean
has_maps (gpointer doc)
{
  return lens_document_get_maps (doc) != NULL && !lens_document_get_busy (doc);
}

static gboolean
idle_doc (gpointer doc)
{
  return !lens_document_get_busy (doc);
}

static gboolean
is_null (gpointer ptr)
{
  return *(gpointer *) ptr == NULL;
}

static gboolean
action_enabled (LensWindow *win,
                const char *name)
{
  return g_action_group_get_action_enabled (G_ACTION_GROUP (win), name);
}

static char *
fixture (const char *name)
{
  return g_build_filename (fixtures, name, NULL);
}

static gboolean
have_fixtures (void)
{
  if (expected == NULL)
    {
      g_test_skip ("no fixtures (PyTorch and onnx are needed to make them)");
      return FALSE;
    }
  return TRUE;
}

static LensWindow *
new_window (void)
{
  LensWindow *win = lens_window_new (NULL);

  gtk_window_present (GTK_WINDOW (win));
  return win;
}

static void
open_fixtures (LensWindow *win,
               gboolean    with_image)
{
  g_autofree char *model = fixture ("tiny.onnx");
  g_autofree char *image = fixture ("tiny-image.png");
  g_autoptr(GFile) model_file = g_file_new_for_path (model);
  g_autoptr(GFile) image_file = g_file_new_for_path (image);
  LensDocument *doc = lens_window_get_document (win);

  lens_window_open_model (win, model_file);
  g_assert_true (wait_for (has_model, doc));
  if (with_image)
    {
      lens_window_open_image (win, image_file);
      g_assert_true (wait_for (has_maps, doc));
    }
}

static void
test_initial_state (void)
{
  LensWindow *win = new_window ();

  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (win)), ==, "ConvLens");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (win->main_stack), ==, "empty");
  g_assert_true (action_enabled (win, "open-model"));
  g_assert_false (action_enabled (win, "open-image"));
  g_assert_false (action_enabled (win, "export"));
  g_assert_false (action_enabled (win, "next-layer"));
  g_assert_false (action_enabled (win, "previous-layer"));
  g_assert_false (action_enabled (win, "next-channel"));
  gtk_window_destroy (GTK_WINDOW (win));
}

/* "8×32×32" for [1, 8, 32, 32]: the dims after the batch axis */
static char *
expected_shape (JsonArray *dims)
{
  GString *s = g_string_new (NULL);

  for (guint i = 1; i < json_array_get_length (dims); i++)
    g_string_append_printf (s, i > 1 ? "×%" G_GINT64_FORMAT : "%" G_GINT64_FORMAT,
                            json_array_get_int_element (dims, i));
  return g_string_free (s, FALSE);
}

static void
test_load_model (void)
{
  LensWindow *win;
  LensDocument *doc;
  GListModel *layers;
  JsonArray *want;

  if (!have_fixtures ())
    return;

  win = new_window ();
  doc = lens_window_get_document (win);
  open_fixtures (win, FALSE);

  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (win)), ==, "ConvLens — tiny.onnx");
  g_assert_cmpstr (gtk_stack_get_visible_child_name (win->main_stack), ==, "model");

  /* the layer list shows the graph's nodes, as onnx lists them (their
   * names carry no hierarchy: a flat tree) */
  want = json_object_get_array_member (expected, "layers");
  layers = G_LIST_MODEL (gtk_list_view_get_model (lens_layer_list_get_list_view (win->layer_list)));
  g_assert_cmpuint (g_list_model_get_n_items (layers), ==, json_array_get_length (want));
  for (guint i = 0; i < json_array_get_length (want); i++)
    {
      JsonObject *layer = json_array_get_object_element (want, i);
      g_autoptr(GtkTreeListRow) row = g_list_model_get_item (layers, i);
      g_autoptr(LensLayerItem) item = gtk_tree_list_row_get_item (row);
      g_autofree char *shape = expected_shape (json_object_get_array_member (layer, "shape"));

      g_assert_cmpstr (lens_layer_item_get_op (item), ==, json_object_get_string_member (layer, "op"));
      g_assert_cmpstr (lens_layer_item_get_shape (item), ==, shape);
    }

  /* a model without an image: layers to browse, nothing to export */
  g_assert_cmpint (lens_document_get_selected_layer (doc), ==, 0);
  g_assert_true (action_enabled (win, "open-image"));
  g_assert_true (action_enabled (win, "next-layer"));
  g_assert_false (action_enabled (win, "previous-layer"));
  g_assert_false (action_enabled (win, "export"));
  g_assert_cmpstr (lens_feature_grid_get_page (win->feature_grid), ==, "no-image");
  gtk_window_destroy (GTK_WINDOW (win));
}

static void
test_run_image (void)
{
  LensWindow *win;
  LensDocument *doc;
  LensTraceInfo *trace;
  JsonArray *top5;
  GListModel *channels;

  if (!have_fixtures ())
    return;

  win = new_window ();
  doc = lens_window_get_document (win);
  open_fixtures (win, TRUE);

  /* predictions: PyTorch's softmax top-5 of the same picture */
  trace = lens_document_get_trace (doc);
  top5 = json_object_get_array_member (expected, "top5");
  g_assert_cmpuint (trace->n_predictions, ==, 5);
  g_assert_false (trace->was_probability);
  g_assert_cmpuint (trace->n_classes, ==, 10);
  for (guint i = 0; i < 5; i++)
    {
      JsonObject *p = json_array_get_object_element (top5, i);
      guint index = (guint) json_object_get_int_member (p, "index");
      g_autofree char *label = g_strdup_printf ("class %u", index);

      g_assert_cmpuint (trace->predictions[i].index, ==, index);
      g_assert_cmpfloat_with_epsilon (trace->predictions[i].probability,
                                      json_object_get_double_member (p, "probability"), 1e-4);
      g_assert_cmpstr (lens_predictions_get_row_label (win->predictions, i), ==, label);
    }

  /* the input shown is the 32x32 picture itself: the disc is red */
  g_assert_nonnull (lens_image_canvas_get_pixels (win->input_canvas));
  g_assert_cmpint (lens_pixels_get_width (trace->input), ==, 32);
  g_assert_cmphex (lens_pixels_get_rgb (trace->input, 12, 13), ==, 0xe6281e);
  g_assert_cmphex (lens_pixels_get_rgb (trace->input, 24, 10), ==, 0xfafafa);

  /* layer 0 (conv1, 8 channels) fills the grid */
  channels = G_LIST_MODEL (gtk_grid_view_get_model (lens_feature_grid_get_grid_view (win->feature_grid)));
  g_assert_cmpuint (g_list_model_get_n_items (channels), ==, 8);
  g_assert_cmpstr (lens_feature_grid_get_page (win->feature_grid), ==, "grid");
  g_assert_true (action_enabled (win, "export"));
  g_assert_true (action_enabled (win, "next-channel"));
  g_assert_false (action_enabled (win, "previous-channel"));
  g_assert_nonnull (lens_image_canvas_get_pixels (win->channel_canvas));
  gtk_window_destroy (GTK_WINDOW (win));
}

static void
test_select_layer (void)
{
  LensWindow *win;
  LensDocument *doc;
  LensLayerMaps *maps;
  JsonArray *want;
  JsonArray *samples;

  if (!have_fixtures ())
    return;

  win = new_window ();
  doc = lens_window_get_document (win);
  open_fixtures (win, TRUE);

  /* Page Down's action: layer 1 is the first ReLU */
  g_action_group_activate_action (G_ACTION_GROUP (win), "next-layer", NULL);
  g_assert_cmpint (lens_document_get_selected_layer (doc), ==, 1);
  g_assert_true (wait_for (has_maps, doc));
  maps = lens_document_get_maps (doc);
  g_assert_cmpuint (maps->layer, ==, 1);

  want = json_object_get_array_member (expected, "relu1_max");
  g_assert_cmpuint (maps->n_channels, ==, json_array_get_length (want));
  for (guint c = 0; c < maps->n_channels; c++)
    g_assert_cmpfloat_with_epsilon (maps->max[c], json_array_get_double_element (want, c), 1e-4);

  /* the channel's own map, stretched to its min..max, at its own size */
  samples = json_object_get_array_member (expected, "relu1_c0_samples");
  for (guint i = 0; i < json_array_get_length (samples); i++)
    {
      JsonObject *s = json_array_get_object_element (samples, i);
      guint32 rgb = lens_pixels_get_rgb (maps->full[0], json_object_get_int_member (s, "x"),
                                         json_object_get_int_member (s, "y"));
      int gray = (int) json_object_get_int_member (s, "gray");

      g_assert_cmpint (abs ((int) (rgb & 0xff) - gray), <=, 1);
    }

  /* one brightness scale for the layer: channel 0's max is no longer
   * white unless it is the layer's max */
  g_action_group_activate_action (G_ACTION_GROUP (win), "shared-norm", NULL);
  g_assert_true (lens_document_get_shared_norm (doc));
  g_assert_true (wait_for (has_maps, doc));
  maps = lens_document_get_maps (doc);
  g_assert_cmpint (maps->norm, ==, LENS_NORM_SHARED);
  {
    double layer_max = 0;
    JsonObject *s = json_array_get_object_element (samples, json_array_get_length (samples) - 1);
    int x = (int) json_object_get_int_member (s, "x"), y = (int) json_object_get_int_member (s, "y");
    guint32 rgb = lens_pixels_get_rgb (maps->full[0], x, y);

    for (guint c = 0; c < json_array_get_length (want); c++)
      layer_max = MAX (layer_max, json_array_get_double_element (want, c));
    /* relu: the layer's min is 0, so channel 0's max maps to max0 / layer max */
    g_assert_cmpint (abs ((int) (rgb & 0xff) -
                          (int) lround (255 * json_array_get_double_element (want, 0) / layer_max)),
                     <=, 1);
  }
  g_action_group_activate_action (G_ACTION_GROUP (win), "shared-norm", NULL);
  g_assert_true (wait_for (has_maps, doc));
  maps = lens_document_get_maps (doc);
  g_assert_cmpint (maps->norm, ==, LENS_NORM_PER_CHANNEL);

  /* arrows step through channels; the ends disable their actions */
  g_action_group_activate_action (G_ACTION_GROUP (win), "next-channel", NULL);
  g_action_group_activate_action (G_ACTION_GROUP (win), "next-channel", NULL);
  g_assert_cmpint (lens_document_get_selected_channel (doc), ==, 2);
  g_assert_true (lens_image_canvas_get_pixels (win->channel_canvas) == maps->full[2]);
  lens_document_select_channel (doc, 7);
  g_assert_false (action_enabled (win, "next-channel"));

  /* the last layer (Gemm, 10 units) */
  lens_document_select_layer (doc, 7);
  g_assert_true (wait_for (has_maps, doc));
  g_assert_false (action_enabled (win, "next-layer"));
  g_assert_true (action_enabled (win, "previous-layer"));
  g_assert_cmpuint (lens_document_get_maps (doc)->n_channels, ==, 10);
  gtk_window_destroy (GTK_WINDOW (win));
}

static gboolean
maps_of_layer (gpointer doc)
{
  LensLayerMaps *maps = lens_document_get_maps (doc);

  return !lens_document_get_busy (doc) && maps != NULL &&
         (int) maps->layer == lens_document_get_selected_layer (doc);
}

static void
test_stale_results (void)
{
  LensWindow *win;
  LensDocument *doc;

  if (!have_fixtures ())
    return;

  win = new_window ();
  doc = lens_window_get_document (win);
  open_fixtures (win, TRUE);

  /* many requests without waiting: only the last one's result may stay */
  for (int round = 0; round < 3; round++)
    for (int layer = 7; layer >= 0; layer -= 2)
      lens_document_select_layer (doc, layer);
  lens_document_select_layer (doc, 4);
  g_assert_true (wait_for (maps_of_layer, doc));
  g_assert_cmpuint (lens_document_get_maps (doc)->layer, ==, 4);
  g_assert_cmpuint (lens_document_get_maps (doc)->n_channels, ==, 16);
  gtk_window_destroy (GTK_WINDOW (win));
}

typedef struct
{
  GError *errors[2];
  guint   n_done;
} RenderPair;

static void
on_render_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  RenderPair *pair = user_data;
  g_autoptr(LensLayerMaps) maps = NULL;
  GError *error = NULL;

  maps = lens_engine_client_render_layer_finish (LENS_ENGINE_CLIENT (source), result, &error);
  g_assert_true ((maps == NULL) == (error != NULL));
  pair->errors[pair->n_done++] = error;
}

static gboolean
both_done (gpointer data)
{
  return ((RenderPair *) data)->n_done == 2;
}

static void
test_client_generations (void)
{
  LensWindow *win;
  LensEngineClient *client;
  RenderPair pair = { { NULL, NULL }, 0 };

  if (!have_fixtures ())
    return;

  win = new_window ();
  open_fixtures (win, TRUE);
  client = lens_document_get_client (lens_window_get_document (win));

  /* The second request of a kind supersedes the first, whether the first
   * is still queued or already done: the first always ends CANCELLED. */
  lens_engine_client_render_layer_async (client, 0, 32, LENS_NORM_PER_CHANNEL, NULL,
                                         on_render_done, &pair);
  lens_engine_client_render_layer_async (client, 1, 32, LENS_NORM_PER_CHANNEL, NULL,
                                         on_render_done, &pair);
  g_assert_true (wait_for (both_done, &pair));
  g_assert_error (pair.errors[0], G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_no_error (pair.errors[1]);
  g_clear_error (&pair.errors[0]);
  gtk_window_destroy (GTK_WINDOW (win));
}

static void
on_error (LensDocument *doc,
          const char   *message,
          char        **out)
{
  g_free (*out);
  *out = g_strdup (message);
}

static gboolean
is_set (gpointer ptr)
{
  return *(gpointer *) ptr != NULL;
}

static void
test_bad_model (void)
{
  g_autofree char *dir = g_dir_make_tmp ("convlens-test-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "broken.onnx", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autofree char *message = NULL;
  LensWindow *win;
  LensDocument *doc;

  if (!have_fixtures ())
    return;

  win = new_window ();
  doc = lens_window_get_document (win);
  open_fixtures (win, TRUE);
  g_signal_connect (doc, "error", G_CALLBACK (on_error), &message);

  g_assert_true (g_file_set_contents (path, "this is not a protobuf", -1, NULL));
  lens_window_open_model (win, file);
  g_assert_true (wait_for (is_set, &message));
  g_assert_true (g_str_has_prefix (message, "Could not open the model: "));

  /* the window stays usable with the model it had */
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (win)), ==, "ConvLens — tiny.onnx");
  g_assert_true (wait_for (idle_doc, doc));
  g_assert_nonnull (lens_document_get_maps (doc));
  lens_document_select_layer (doc, 3);
  g_assert_true (wait_for (maps_of_layer, doc));

  g_unlink (path);
  g_rmdir (dir);
  gtk_window_destroy (GTK_WINDOW (win));
}

static gboolean
export_done (gpointer win)
{
  return ((LensWindow *) win)->export_cancellable == NULL;
}

static void
test_export (void)
{
  g_autofree char *dir = g_dir_make_tmp ("convlens-test-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "relu.png", NULL);
  g_autofree guint8 *rgb = NULL;
  g_autofree char *bytes = NULL;
  png_image image = { .version = PNG_IMAGE_VERSION };
  JsonArray *samples;
  gsize length;
  LensWindow *win;

  if (!have_fixtures ())
    return;

  win = new_window ();
  open_fixtures (win, TRUE);
  g_action_group_activate_action (G_ACTION_GROUP (win), "next-layer", NULL);
  g_assert_true (wait_for (has_maps, lens_window_get_document (win)));

  g_action_group_activate_action (G_ACTION_GROUP (win), "export", g_variant_new_string (path));
  g_assert_false (action_enabled (win, "export"));
  g_assert_true (wait_for (export_done, win));
  g_assert_true (action_enabled (win, "export"));

  /* 8 thumbnails of 96x96 in rows of ceil(sqrt(8)) = 3 with 4-pixel gaps:
   * 3*96 + 4*4 = 304 square */
  g_assert_true (png_image_begin_read_from_file (&image, path));
  g_assert_cmpuint (image.width, ==, 304);
  g_assert_cmpuint (image.height, ==, 304);
  image.format = PNG_FORMAT_RGB;
  rgb = g_malloc (PNG_IMAGE_SIZE (image));
  g_assert_true (png_image_finish_read (&image, NULL, rgb, 0, NULL));

  /* channel 0 is the first tile; a 32x32 map is enlarged 3x with crisp
   * squares, so map pixel (x, y) covers tile pixels 3x..3x+2 */
  samples = json_object_get_array_member (expected, "relu1_c0_samples");
  for (guint i = 0; i < json_array_get_length (samples); i++)
    {
      JsonObject *s = json_array_get_object_element (samples, i);
      int x = 4 + 3 * (int) json_object_get_int_member (s, "x") + 1;
      int y = 4 + 3 * (int) json_object_get_int_member (s, "y") + 1;
      int gray = (int) json_object_get_int_member (s, "gray");

      g_assert_cmpint (abs ((int) rgb[(y * 304 + x) * 3] - gray), <=, 1);
    }
  /* the gaps are white */
  g_assert_cmpint (rgb[(2 * 304 + 2) * 3], ==, 255);

  /* what was exported is written in the PNG's text chunks */
  g_assert_true (g_file_get_contents (path, &bytes, &length, NULL));
  g_assert_nonnull (memmem (bytes, length, "Layer\0/Relu", 11));
  g_assert_nonnull (memmem (bytes, length, "Model\0tiny.onnx", 15));

  g_unlink (path);
  g_rmdir (dir);
  gtk_window_destroy (GTK_WINDOW (win));
}

static void
test_objects_freed (void)
{
  LensWindow *win;
  gpointer doc, client;

  if (!have_fixtures ())
    return;

  win = new_window ();
  open_fixtures (win, FALSE);
  doc = lens_window_get_document (win);
  client = lens_document_get_client (doc);
  g_object_add_weak_pointer (doc, &doc);
  g_object_add_weak_pointer (client, &client);

  /* close the window while the engine works on an image */
  {
    g_autofree char *image = fixture ("tiny-image.png");
    g_autoptr(GFile) file = g_file_new_for_path (image);

    lens_window_open_image (win, file);
  }
  gtk_window_destroy (GTK_WINDOW (win));
  g_assert_true (wait_for (is_null, &doc));
  g_assert_true (wait_for (is_null, &client));
}

/* The tiny model and its picture, run here without the window: the
 * reference the window's engine thread must agree with. */
typedef struct
{
  LensNet    *net;
  LensTrace  *trace;
  LensTensor *input;
} Direct;

static void
direct_clear (Direct *d)
{
  g_clear_pointer (&d->input, lens_tensor_free);
  g_clear_pointer (&d->trace, lens_trace_free);
  g_clear_pointer (&d->net, lens_net_unref);
}

static void
direct_init (Direct *d)
{
  g_autofree char *model = fixture ("tiny.onnx");
  g_autofree char *image_path = fixture ("tiny-image.png");
  LensLoadOptions options = { 224, 224, 0, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) image = NULL;
  g_autoptr(LensProfile) profile = NULL;

  d->net = lens_net_load_onnx (model, &options, &error);
  g_assert_no_error (error);
  d->trace = lens_trace_new (d->net, 1, &error);
  g_assert_no_error (error);
  profile = lens_profile_guess (model, 3, 32, 32, &error);
  g_assert_no_error (error);
  image = lens_image_load (image_path, &error);
  g_assert_no_error (error);
  d->input = lens_image_to_tensor (image, &profile->pre, &error);
  g_assert_no_error (error);
  g_assert_true (lens_trace_set_input (d->trace, d->input, &error));
  g_assert_true (lens_trace_run (d->trace, NULL, &error));
  g_assert_no_error (error);
}

typedef struct
{
  LensDocument *doc;
  int           channel;
  LensStartKind start;
} WantProjection;

static gboolean
has_projection (gpointer data)
{
  WantProjection *want = data;
  LensProjection *proj = lens_document_get_projection (want->doc);

  return proj != NULL && proj->channel == want->channel && proj->start == want->start &&
         !lens_document_get_busy (want->doc);
}

static void
check_projection (Direct         *d,
                  LensProjection *proj,
                  int             layer_value,
                  const LensProjectOptions *options)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LensTensor) values = NULL;
  g_autofree guint8 *rgb = NULL;
  LensBox rf;
  int pos[2], w, h;
  gsize n;
  guint distinct = 0;
  guint32 first;

  values = lens_project_channel (d->trace, layer_value, proj->channel, options, &rf, pos, &error);
  g_assert_no_error (error);
  n = lens_tensor_numel (values);
  g_assert_cmpuint (lens_tensor_numel (proj->values), ==, n);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpfloat (((float *) proj->values->data)[i], ==, ((float *) values->data)[i]);
  g_assert_cmpint (proj->rf.x0, ==, rf.x0);
  g_assert_cmpint (proj->rf.y0, ==, rf.y0);
  g_assert_cmpint (proj->rf.x1, ==, rf.x1);
  g_assert_cmpint (proj->rf.y1, ==, rf.y1);
  g_assert_cmpint (proj->start_x, ==, pos[0]);
  g_assert_cmpint (proj->start_y, ==, pos[1]);

  /* the image shown is the documented display normalisation of it */
  rgb = lens_projection_to_rgb (values, FALSE, &w, &h);
  g_assert_cmpint (lens_pixels_get_width (proj->pixels), ==, w);
  first = lens_pixels_get_rgb (proj->pixels, 0, 0);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const guint8 *p = rgb + (y * w + x) * 3;
        guint32 got = lens_pixels_get_rgb (proj->pixels, x, y);

        g_assert_cmphex (got, ==, ((guint32) p[0] << 16) | ((guint32) p[1] << 8) | p[2]);
        distinct += got != first;
      }
  /* not blank from the strongest activation (a chosen position may be a
   * zero of the ReLU, whose projection is rightly blank) */
  if (options->start == LENS_START_MAX)
  g_assert_cmpuint (distinct, >, 0);
}

static void
test_projection (void)
{
  LensWindow *win;
  LensDocument *doc;
  WantProjection want;
  LensProjectOptions options = { LENS_PROJECT_DECONV, LENS_START_MAX, 0, 0, LENS_LRN_DEFAULT };
  Direct d = { 0 };
  LensProjection *proj;
  int value;

  if (!have_fixtures ())
    return;

  direct_init (&d);
  win = new_window ();
  doc = lens_window_get_document (win);
  open_fixtures (win, TRUE);

  /* selecting a channel projects it (deconv, strongest activation) */
  g_action_group_activate_action (G_ACTION_GROUP (win), "next-layer", NULL);
  g_assert_true (wait_for (has_maps, doc));
  lens_document_select_channel (doc, 2);
  want = (WantProjection) { doc, 2, LENS_START_MAX };
  g_assert_true (wait_for (has_projection, &want));
  proj = lens_document_get_projection (doc);
  g_assert_cmpuint (proj->layer, ==, 1);
  g_assert_true (lens_image_canvas_get_pixels (win->projection_canvas) == proj->pixels);
  value = lens_net_layer_get_output (d.net, 1);
  check_projection (&d, proj, value, &options);
  /* the strongest unit of a conv1 map sees 3x3 input pixels */
  g_assert_cmpint (proj->rf.x1 - proj->rf.x0, <=, 3);
  g_assert_cmpint (proj->rf.y1 - proj->rf.y0, <=, 3);

  /* the mode action (bound to GSettings) re-projects in guided mode */
  g_action_group_activate_action (G_ACTION_GROUP (win), "projection-mode",
                                  g_variant_new_string ("guided"));
  g_assert_true (wait_for (idle_doc, doc));
  proj = lens_document_get_projection (doc);
  g_assert_cmpint (proj->mode, ==, LENS_PROJECT_GUIDED);
  options.mode = LENS_PROJECT_GUIDED;
  check_projection (&d, proj, value, &options);
  if (win->settings != NULL)
    {
      g_autofree char *mode = g_settings_get_string (win->settings, "projection-mode");

      g_assert_cmpstr (mode, ==, "guided");
    }

  /* a position of the feature map */
  lens_document_project_point (doc, 5, 7);
  want.start = LENS_START_POINT;
  g_assert_true (wait_for (has_projection, &want));
  proj = lens_document_get_projection (doc);
  g_assert_cmpint (proj->start_x, ==, 5);
  g_assert_cmpint (proj->start_y, ==, 7);
  options.start = LENS_START_POINT;
  options.x = 5;
  options.y = 7;
  check_projection (&d, proj, value, &options);

  /* many requests at once: only the last one stays */
  for (int c = 0; c < 8; c++)
    lens_document_select_channel (doc, c);
  lens_document_select_channel (doc, 4);
  want = (WantProjection) { doc, 4, LENS_START_MAX };
  g_assert_true (wait_for (has_projection, &want));
  g_assert_cmpint (lens_document_get_projection (doc)->channel, ==, 4);

  g_action_group_activate_action (G_ACTION_GROUP (win), "projection-mode",
                                  g_variant_new_string ("deconv"));
  gtk_window_destroy (GTK_WINDOW (win));
  direct_clear (&d);
}

typedef struct
{
  LensDocument *doc;
  int           x, y;
} WantQuery;

static gboolean
has_query (gpointer data)
{
  WantQuery *want = data;
  LensOcclusionQuery *q = lens_document_get_query (want->doc);

  return q != NULL && q->x == want->x && q->y == want->y;
}

static void
test_occlusion_query (void)
{
  LensWindow *win;
  LensDocument *doc;
  Direct d = { 0 };
  LensOccludeOptions options;
  g_autoptr(LensOccluder) occ = NULL;
  g_autoptr(GError) error = NULL;
  LensOcclusionPoint point;
  LensOcclusionQuery *q;
  WantQuery want;

  if (!have_fixtures ())
    return;

  direct_init (&d);
  win = new_window ();
  doc = lens_window_get_document (win);
  open_fixtures (win, TRUE);

  /* the default square is a seventh of 32, rounded: 5 pixels */
  g_assert_cmpint (lens_document_get_occluder_size (doc), ==, 5);
  g_assert_cmpfloat (gtk_adjustment_get_value (win->size_adjustment), ==, 5);

  /* a drag sends many positions; the last one is what stays */
  for (int x = 0; x <= 10; x++)
    lens_window_set_occluder (win, x, x + 2);
  want = (WantQuery) { doc, 10, 12 };
  g_assert_true (wait_for (has_query, &want));
  q = lens_document_get_query (doc);

  /* the tracked map is the selected layer 0 (conv1), channel 0 */
  lens_occlude_options_init (&options);
  options.size = 5;
  options.stride = 1;
  options.target_class = -1;
  options.layer_value = lens_net_layer_get_output (d.net, 0);
  options.channel = 0;
  occ = lens_occluder_new (d.net, d.input, &options, &error);
  g_assert_no_error (error);
  g_assert_true (lens_occluder_query (occ, 10, 12, &point, &error));
  g_assert_cmpint (q->target_class, ==, lens_occluder_get_target_class (occ));
  g_assert_cmpfloat (q->point.prob, ==, point.prob);
  g_assert_cmpfloat (q->point.feature, ==, point.feature);
  for (int i = 0; i < LENS_OCCLUDE_TOP; i++)
    {
      g_assert_cmpuint (q->predictions[i].index, ==, (guint) point.top_class[i]);
      g_assert_cmpfloat (q->predictions[i].probability, ==, point.top_prob[i]);
    }
  /* the unoccluded target probability is PyTorch's top-1 */
  g_assert_cmpfloat_with_epsilon (q->clean.prob,
                                  json_object_get_double_member (
                                    json_array_get_object_element (
                                      json_object_get_array_member (expected, "top5"), 0),
                                    "probability"), 1e-4);
  /* the panel shows the occluded top-5 */
  {
    g_autofree char *label = g_strdup_printf ("class %d", point.top_class[0]);

    g_assert_cmpstr (lens_predictions_get_row_label (win->occlusion_predictions, 0), ==, label);
  }

  /* arrow keys' action: one pixel right */
  lens_window_move_occluder (win, 1, 0);
  want.x = 11;
  g_assert_true (wait_for (has_query, &want));

  gtk_window_destroy (GTK_WINDOW (win));
  direct_clear (&d);
}

static void
on_progress (LensDocument *doc,
             GParamSpec   *pspec,
             GArray       *seen)
{
  double p = lens_document_get_sweep_progress (doc);

  g_array_append_val (seen, p);
}

static gboolean
has_sweep (gpointer doc)
{
  return lens_document_get_sweep (doc) != NULL && !lens_document_get_sweeping (doc);
}

static void
test_sweep (void)
{
  LensWindow *win;
  LensDocument *doc;
  g_autoptr(GArray) seen = g_array_new (FALSE, FALSE, sizeof (double));
  LensOcclusionSweep *sweep;
  LensPixels *heat;

  if (!have_fixtures ())
    return;

  win = new_window ();
  doc = lens_window_get_document (win);
  open_fixtures (win, TRUE);
  g_signal_connect (doc, "notify::sweep-progress", G_CALLBACK (on_progress), seen);

  g_assert_true (action_enabled (win, "sweep"));
  g_signal_emit_by_name (win->sweep_button, "clicked");
  g_assert_true (lens_document_get_sweeping (doc));
  g_assert_false (action_enabled (win, "sweep"));
  g_assert_true (action_enabled (win, "cancel-sweep"));
  g_assert_true (wait_for (has_sweep, doc));
  sweep = lens_document_get_sweep (doc);

  /* size 5, stride 5/4 = 1 over 32 pixels: positions 0..27 each way */
  g_assert_cmpint (sweep->map->n_x, ==, 28);
  g_assert_cmpint (sweep->map->n_y, ==, 28);
  g_assert_cmpint (sweep->map->stride, ==, 1);
  /* progress went up and ended at 1 */
  g_assert_cmpuint (seen->len, >=, 2);
  for (guint i = 1; i < seen->len; i++)
    g_assert_cmpfloat (g_array_index (seen, double, i), >=, g_array_index (seen, double, i - 1));
  g_assert_cmpfloat (g_array_index (seen, double, seen->len - 1), ==, 1.0);
  g_assert_cmpfloat (gtk_progress_bar_get_fraction (win->sweep_progress), ==, 1.0);

  /* the heat map: one viridis cell a position; the lowest probability is
   * viridis(0) = #440154, the highest viridis(1) = #fde725 */
  heat = lens_window_get_heat_map (win);
  g_assert_nonnull (heat);
  g_assert_cmpint (lens_pixels_get_width (heat), ==, 28);
  {
    int lo = 0, hi = 0, n = 28 * 28;

    for (int i = 1; i < n; i++)
      {
        if (sweep->map->prob[i] < sweep->map->prob[lo])
          lo = i;
        if (sweep->map->prob[i] > sweep->map->prob[hi])
          hi = i;
      }
    g_assert_cmphex (lens_pixels_get_rgb (heat, lo % 28, lo / 28), ==, 0x440154);
    g_assert_cmphex (lens_pixels_get_rgb (heat, hi % 28, hi / 28), ==, 0xfde725);
  }
  g_assert_false (action_enabled (win, "cancel-sweep"));
  gtk_window_destroy (GTK_WINDOW (win));
}

static gboolean
progressed (gpointer doc)
{
  return lens_document_get_sweep_progress (doc) > 0.0;
}

static void
test_close_during_sweep (void)
{
  LensWindow *win;
  gpointer doc, client;

  if (!have_fixtures ())
    return;

  win = new_window ();
  open_fixtures (win, TRUE);
  doc = lens_window_get_document (win);
  client = lens_document_get_client (doc);
  g_object_add_weak_pointer (doc, &doc);
  g_object_add_weak_pointer (client, &client);

  /* a 1-pixel square at stride 1: 1024 positions, many batches */
  g_object_set (doc, "occluder-size", 1, "occluder-stride", 1, NULL);
  lens_document_sweep (doc);
  g_assert_true (wait_for (progressed, doc));
  gtk_window_destroy (GTK_WINDOW (win));
  /* the worker stops between batches; everything is freed, no warning */
  g_assert_true (wait_for (is_null, &doc));
  g_assert_true (wait_for (is_null, &client));
}

static void
test_cancel_sweep (void)
{
  LensWindow *win;
  LensDocument *doc;

  if (!have_fixtures ())
    return;

  win = new_window ();
  doc = lens_window_get_document (win);
  open_fixtures (win, TRUE);
  g_object_set (doc, "occluder-size", 1, "occluder-stride", 1, NULL);
  lens_document_sweep (doc);
  /* Escape, before the worker could finish */
  g_action_group_activate_action (G_ACTION_GROUP (win), "cancel-job", NULL);
  g_assert_false (lens_document_get_sweeping (doc));
  g_assert_true (wait_for (idle_doc, doc));
  g_assert_null (lens_document_get_sweep (doc));
  g_assert_true (action_enabled (win, "sweep"));
  g_object_set (doc, "occluder-size", 0, "occluder-stride", 0, NULL);
  gtk_window_destroy (GTK_WINDOW (win));
}

static void write_black_png (const char *path,
                             int         size);

typedef struct
{
  LensDocument *doc;
  int           x, y;
} WantIdleQuery;

static gboolean
idle_query_at (gpointer data)
{
  WantIdleQuery *w = data;
  LensOcclusionQuery *q = lens_document_get_query (w->doc);

  return !lens_document_get_busy (w->doc) && q != NULL && q->x == w->x && q->y == w->y;
}

/* Positions asked for while a model or an image loads are not lost: the
 * newest one is sent once the trace has arrived. */
static void
test_occluder_while_loading (void)
{
  g_autofree char *model = fixture ("tiny.onnx");
  g_autofree char *image = fixture ("tiny-image.png");
  g_autoptr(GFile) model_file = g_file_new_for_path (model);
  g_autoptr(GFile) image_file = g_file_new_for_path (image);
  g_autofree char *message = NULL;
  LensWindow *win;
  LensDocument *doc;
  WantIdleQuery want;

  if (!have_fixtures ())
    return;

  win = new_window ();
  doc = lens_window_get_document (win);
  g_signal_connect (doc, "error", G_CALLBACK (on_error), &message);
  g_object_set (doc, "occluder-size", 5, NULL);

  /* 1. a model without an image yet: nothing to occlude, the position
   * waits; the image then runs and the square lands where it was put
   * (not in the centre, (32 - 5) / 2 = 13) */
  lens_window_open_model (win, model_file);
  g_assert_true (wait_for (has_model, doc));
  g_assert_null (lens_document_get_trace (doc));
  lens_window_set_occluder (win, 2, 3);
  lens_window_set_occluder (win, 4, 6);
  lens_window_open_image (win, image_file);
  want = (WantIdleQuery) { doc, 4, 6 };
  g_assert_true (wait_for (idle_query_at, &want));

  /* 2. during an image run, with the old image still shown: the latest
   * of a drag's positions wins */
  lens_window_open_image (win, image_file);
  g_assert_true (lens_document_get_loading (doc));
  for (int i = 0; i < 8; i++)
    lens_window_set_occluder (win, i, 2 * i);
  want = (WantIdleQuery) { doc, 7, 14 };
  g_assert_true (wait_for (idle_query_at, &want));

  /* 3. during a model load (the trace is dropped when the model arrives):
   * the position is clamped to the new input, by hand 32 - 5 = 27 */
  lens_window_open_model (win, model_file);
  g_assert_true (lens_document_get_loading (doc));
  lens_document_occlude_at (doc, 100, 9);
  want = (WantIdleQuery) { doc, 27, 9 };
  g_assert_true (wait_for (idle_query_at, &want));
  g_assert_null (message);
  g_object_set (doc, "occluder-size", 0, NULL);

  gtk_window_destroy (GTK_WINDOW (win));
}

/* Escape during an image run: whether the run was stopped before, during
 * or after the worker dropped the old activations, what the window shows
 * must still be backed by the worker (a layer and a channel click work). */
static void
test_cancel_image_run (void)
{
  g_autofree char *dir = g_dir_make_tmp ("convlens-cancel-XXXXXX", NULL);
  g_autofree char *black = g_build_filename (dir, "black.png", NULL);
  g_autofree char *image = fixture ("tiny-image.png");
  g_autofree char *message = NULL;
  const char *paths[2];
  LensWindow *win;
  LensDocument *doc;
  guint n_kept = 0;

  if (!have_fixtures ())
    return;

  write_black_png (black, 32);
  paths[0] = black;
  paths[1] = image;
  win = new_window ();
  doc = lens_window_get_document (win);
  open_fixtures (win, TRUE);
  g_signal_connect (doc, "error", G_CALLBACK (on_error), &message);

  for (int i = 0; i < 24; i++)
    {
      g_autoptr(GFile) file = g_file_new_for_path (paths[i % 2]);
      const char *shown = lens_document_get_trace (doc)->image_path;
      g_autofree char *before = g_strdup (shown);
      WantProjection want = { doc, 1 + i % 5, LENS_START_MAX };

      lens_window_open_image (win, file);
      /* let the worker get more or less far into the run */
      g_usleep (40 * (i % 6));
      g_action_group_activate_action (G_ACTION_GROUP (win), "cancel-job", NULL);
      g_assert_true (wait_for (idle_doc, doc));

      g_assert_nonnull (lens_document_get_trace (doc));
      shown = lens_document_get_trace (doc)->image_path;
      g_assert_true (g_str_equal (shown, before) || g_str_equal (shown, paths[i % 2]));
      n_kept += g_str_equal (shown, before);

      lens_document_select_layer (doc, i % 3);
      g_assert_true (wait_for (maps_of_layer, doc));
      lens_document_select_channel (doc, want.channel);
      g_assert_true (wait_for (has_projection, &want));
      g_assert_null (message);
    }
  g_test_message ("%u of 24 image runs cancelled in time", n_kept);

  gtk_window_destroy (GTK_WINDOW (win));
  g_unlink (black);
  g_rmdir (dir);
}

/* With CONVLENS_SCREENSHOT_DIR set, the window is saved there as NAME.png
 * (docs/screenshots comes from here); otherwise nothing is written. */
static void
save_window_shot (LensWindow *win,
                  const char *name)
{
  const char *dir = g_getenv ("CONVLENS_SCREENSHOT_DIR");
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  gint64 until = g_get_monotonic_time () + 400 * 1000;
  int w, h;

  if (dir == NULL || *dir == '\0')
    return;
  /* let the last results paint */
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);
  w = gtk_widget_get_width (GTK_WIDGET (win));
  h = gtk_widget_get_height (GTK_WIDGET (win));
  paintable = gtk_widget_paintable_new (GTK_WIDGET (win));
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
  node = gtk_snapshot_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (win)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, w, h));
  path = g_strdup_printf ("%s/%s.png", dir, name);
  g_assert_true (gdk_texture_save_to_png (texture, path));
}

/* The default model zf-mini on a Fashion-MNIST test picture, through the
 * three views the README shows. */
static void
test_default_model_views (void)
{
  const char *models = g_getenv ("CONVLENS_SOURCE_DIR");
  g_autofree char *model = NULL;
  g_autofree char *image = NULL;
  g_autoptr(GFile) model_file = NULL;
  g_autoptr(GFile) image_file = NULL;
  g_autofree char *message = NULL;
  WantProjection want;
  WantIdleQuery where;
  LensWindow *win;
  LensDocument *doc;
  guint n_layers;

  if (models == NULL)
    {
      g_test_skip ("CONVLENS_SOURCE_DIR is not set");
      return;
    }
  model = g_build_filename (models, "zf-mini.onnx", NULL);
  image = g_build_filename (models, "..", "resources", "samples", "test-00000-ankle-boot.png",
                            NULL);
  if (!g_file_test (model, G_FILE_TEST_EXISTS) || !g_file_test (image, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no default model or sample picture");
      return;
    }
  model_file = g_file_new_for_path (model);
  image_file = g_file_new_for_path (image);

  win = lens_window_new (NULL);
  /* 1180 x 760 once the client-side decorations' margins are off */
  gtk_window_set_default_size (GTK_WINDOW (win), 1190, 770);
  gtk_window_present (GTK_WINDOW (win));
  doc = lens_window_get_document (win);
  g_signal_connect (doc, "error", G_CALLBACK (on_error), &message);
  lens_window_open_model (win, model_file);
  g_assert_true (wait_for (has_model, doc));
  lens_window_open_image (win, image_file);
  g_assert_true (wait_for (has_maps, doc));

  /* the picture is test image 0 of Fashion-MNIST, an ankle boot (the
   * data set's own label) */
  g_assert_cmpstr (lens_predictions_get_row_label (win->predictions, 0), ==, "Ankle boot");
  /* every layer has its bar at once (all of zf-mini's outputs are float) */
  n_layers = lens_document_get_model (doc)->n_layers;
  for (guint i = 0; i < n_layers; i++)
    g_assert_false (isnan (lens_layer_list_get_layer_mean (win->layer_list, i)));

  /* Features: relu1's most active channel projected from its strongest
   * activation */
  lens_document_select_layer (doc, 1);
  g_assert_true (wait_for (maps_of_layer, doc));
  want = (WantProjection) { doc, 0, LENS_START_MAX };
  {
    LensLayerMaps *maps = lens_document_get_maps (doc);

    for (guint c = 1; c < maps->n_channels; c++)
      if (maps->max[c] > maps->max[want.channel])
        want.channel = (int) c;
    g_assert_cmpfloat (maps->max[want.channel], >, 0);
  }
  lens_document_select_channel (doc, want.channel);
  g_assert_true (wait_for (has_projection, &want));
  g_assert_cmpuint (lens_document_get_projection (doc)->layer, ==, 1);
  save_window_shot (win, "projection");

  /* Occlusion: a 7-pixel square over the boot's heel */
  adw_view_stack_set_visible_child_name (win->view_stack, "occlusion");
  g_object_set (doc, "occluder-size", 7, "occluder-stride", 2, NULL);
  lens_window_set_occluder (win, 4, 12);
  where = (WantIdleQuery) { doc, 4, 12 };
  g_assert_true (wait_for (idle_query_at, &where));
  g_assert_cmpint (lens_document_get_query (doc)->size, ==, 7);
  save_window_shot (win, "occluder-dragged");

  /* Sweep: (28 - 7) / 2 + 1 = 11 positions a side */
  g_action_group_activate_action (G_ACTION_GROUP (win), "sweep", NULL);
  g_assert_true (wait_for (has_sweep, doc));
  g_assert_cmpint (lens_document_get_sweep (doc)->map->n_x, ==, 11);
  g_assert_cmpint (lens_document_get_sweep (doc)->map->n_y, ==, 11);
  g_assert_nonnull (lens_window_get_heat_map (win));
  save_window_shot (win, "sweep");
  g_assert_null (message);

  g_object_set (doc, "occluder-size", 0, "occluder-stride", 0, NULL);
  gtk_window_destroy (GTK_WINDOW (win));
}

static void
test_default_model (void)
{
  g_autofree char *dir = g_dir_make_tmp ("convlens-test-XXXXXX", NULL);
  g_autofree char *models = g_build_filename (dir, "models", NULL);
  g_autofree char *samples = g_build_filename (dir, "resources", "samples", NULL);
  g_autofree char *model = g_build_filename (models, "zf-mini.onnx", NULL);
  g_autofree char *b = g_build_filename (samples, "b-shirt.png", NULL);
  g_autofree char *a = g_build_filename (samples, "a-boot.png", NULL);
  g_autofree char *old = g_strdup (g_getenv ("CONVLENS_DATADIR"));
  g_autofree char *found = NULL;
  g_autofree char *sample = NULL;

  g_setenv ("CONVLENS_DATADIR", models, TRUE);
  g_assert_cmpint (g_mkdir_with_parents (samples, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (models, 0700), ==, 0);

  /* absent: nothing (unless installed system-wide) */
  found = lens_find_default_model (&sample);
  if (found != NULL)
    g_assert_false (g_str_has_prefix (found, dir));
  g_clear_pointer (&found, g_free);
  g_clear_pointer (&sample, g_free);

  /* as soon as the files exist they are found: the first sample by name */
  g_assert_true (g_file_set_contents (model, "x", 1, NULL));
  g_assert_true (g_file_set_contents (b, "x", 1, NULL));
  g_assert_true (g_file_set_contents (a, "x", 1, NULL));
  found = lens_find_default_model (&sample);
  g_assert_cmpstr (found, ==, model);
  g_assert_cmpstr (sample, ==, a);

  g_unlink (a);
  g_unlink (b);
  g_unlink (model);
  g_rmdir (samples);
  {
    g_autofree char *res = g_path_get_dirname (samples);

    g_rmdir (res);
  }
  g_rmdir (models);
  g_rmdir (dir);
  if (old != NULL)
    g_setenv ("CONVLENS_DATADIR", old, TRUE);
  else
    g_unsetenv ("CONVLENS_DATADIR");
}

static void
test_top_k (void)
{
  /* softmax([1, 2, 3]) = e^(k-3) / (e^-2 + e^-1 + 1) */
  const float logits[] = { 1.f, 2.f, 3.f };
  const float probs[] = { 0.1f, 0.7f, 0.2f };
  double z = exp (-2.0) + exp (-1.0) + 1.0;
  guint index[5];
  float p[5];
  gboolean was_prob;

  g_assert_cmpuint (lens_top_k (logits, 3, 5, index, p, &was_prob), ==, 3);
  g_assert_false (was_prob);
  g_assert_cmpuint (index[0], ==, 2);
  g_assert_cmpuint (index[1], ==, 1);
  g_assert_cmpuint (index[2], ==, 0);
  g_assert_cmpfloat_with_epsilon (p[0], 1.0 / z, 1e-6);
  g_assert_cmpfloat_with_epsilon (p[1], exp (-1.0) / z, 1e-6);
  g_assert_cmpfloat_with_epsilon (p[2], exp (-2.0) / z, 1e-6);

  /* already a probability vector: taken as it is */
  g_assert_cmpuint (lens_top_k (probs, 3, 2, index, p, &was_prob), ==, 2);
  g_assert_true (was_prob);
  g_assert_cmpuint (index[0], ==, 1);
  g_assert_cmpuint (index[1], ==, 2);
  g_assert_cmpfloat (p[0], ==, 0.7f);
}

static void
test_thumbnails (void)
{
  /* two channels of 2x2: [0 1; 2 3] and [5 5; 5 5] */
  float data[] = { 0, 1, 2, 3, 5, 5, 5, 5 };
  LensShape shape = lens_shape_4d (1, 2, 2, 2);
  g_autoptr(LensTensor) t = lens_tensor_new_view (LENS_DTYPE_FLOAT32, &shape, data);
  g_autoptr(LensLayerMaps) maps = NULL;
  g_autoptr(LensLayerMaps) shared = NULL;
  g_autoptr(GError) error = NULL;

  maps = lens_layer_maps_new (t, 3, 4, LENS_NORM_PER_CHANNEL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (maps->n_channels, ==, 2);
  g_assert_cmpint (maps->thumb_width, ==, 4);
  g_assert_cmpfloat (maps->max[0], ==, 3.f);
  g_assert_cmpfloat (maps->mean[0], ==, 1.5f);
  /* 2x2 -> 4x4: each value a 2x2 square; 0..3 stretched to 0, 85, 170, 255 */
  g_assert_cmphex (lens_pixels_get_rgb (maps->thumbs[0], 0, 0), ==, 0x000000);
  g_assert_cmphex (lens_pixels_get_rgb (maps->thumbs[0], 1, 1), ==, 0x000000);
  g_assert_cmphex (lens_pixels_get_rgb (maps->thumbs[0], 2, 1), ==, 0x555555);
  g_assert_cmphex (lens_pixels_get_rgb (maps->thumbs[0], 1, 2), ==, 0xaaaaaa);
  g_assert_cmphex (lens_pixels_get_rgb (maps->thumbs[0], 3, 3), ==, 0xffffff);
  /* a flat positive map has no range of its own: mid gray */
  g_assert_cmphex (lens_pixels_get_rgb (maps->thumbs[1], 0, 0), ==, 0x808080);

  /* shared: one range 0..5 for both: 3 -> 153, 5 -> 255 */
  shared = lens_layer_maps_new (t, 3, 4, LENS_NORM_SHARED, &error);
  g_assert_no_error (error);
  g_assert_cmphex (lens_pixels_get_rgb (shared->thumbs[0], 3, 3), ==, 0x999999);
  g_assert_cmphex (lens_pixels_get_rgb (shared->thumbs[1], 0, 0), ==, 0xffffff);
  /* the full-size map keeps the activation's size */
  g_assert_cmpint (lens_pixels_get_width (shared->full[0]), ==, 2);
  g_assert_cmphex (lens_pixels_get_rgb (shared->full[0], 1, 0), ==, 0x333333);
}

static void
test_translation (void)
{
  const char *lc;

  /* gettext honours LANGUAGE unless the locale is plain "C" */
  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  lc = setlocale (LC_MESSAGES, "");
  if (lc == NULL || g_str_equal (lc, "C"))
    {
      g_test_skip ("the C locale ignores LANGUAGE");
      return;
    }
  g_assert_cmpstr (dgettext ("convlens", "Open Model…"), ==, "打开模型…");
  g_assert_cmpstr (dgettext ("convlens", "Predictions"), ==, "预测");
  g_unsetenv ("LANGUAGE");
  setlocale (LC_MESSAGES, "");
}

/* The layer tree, the grid's sort and the canvas zoom (browsing). */

/* A model whose node names carry torchvision's module hierarchy, made by
 * PyTorch into dir (FALSE when PyTorch is not there). */
static gboolean
make_nested_model (const char *path)
{
  static const char script[] =
    "import sys, torch, torch.nn as nn\n"
    "torch.manual_seed(1)\n"
    "class Block(nn.Module):\n"
    "    def __init__(s):\n"
    "        super().__init__(); s.conv1 = nn.Conv2d(8, 8, 3, padding=1); s.relu = nn.ReLU()\n"
    "        s.conv2 = nn.Conv2d(8, 8, 3, padding=1)\n"
    "    def forward(s, x): return torch.relu(s.conv2(s.relu(s.conv1(x))) + x)\n"
    "class Net(nn.Module):\n"
    "    def __init__(s):\n"
    "        super().__init__(); s.conv1 = nn.Conv2d(3, 8, 3, padding=1); s.relu = nn.ReLU()\n"
    "        s.layer1 = nn.Sequential(Block(), Block()); s.pool = nn.AdaptiveAvgPool2d(1)\n"
    "        s.fc = nn.Linear(8, 10)\n"
    "    def forward(s, x):\n"
    "        return s.fc(torch.flatten(s.pool(s.layer1(s.relu(s.conv1(x)))), 1))\n"
    "torch.onnx.export(Net().eval(), torch.zeros(1, 3, 32, 32), sys.argv[1], opset_version=13)\n";
  const char *argv[] = { "/usr/bin/python3", "-c", script, path, NULL };
  int status = -1;

  if (!g_file_test (argv[0], G_FILE_TEST_IS_EXECUTABLE))
    return FALSE;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL |
                     G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, NULL))
    return FALSE;
  return g_spawn_check_wait_status (status, NULL) && g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

/* The rows shown, as "name" for layers and "name+" / "name-" for folded /
 * unfolded blocks, joined by spaces. */
static char *
tree_rows (LensLayerList *list)
{
  GListModel *rows = G_LIST_MODEL (lens_layer_list_get_tree (list));
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < g_list_model_get_n_items (rows); i++)
    {
      g_autoptr(GtkTreeListRow) row = g_list_model_get_item (rows, i);
      g_autoptr(LensLayerItem) item = gtk_tree_list_row_get_item (row);
      g_autofree char *label = NULL;

      g_object_get (item, "label", &label, NULL);
      g_string_append_printf (s, "%s%s%s", i ? " " : "", label,
                              !lens_layer_item_is_block (item) ? ""
                              : gtk_tree_list_row_get_expanded (row) ? "-" : "+");
    }
  return g_string_free (s, FALSE);
}

static void
test_layer_name_path (void)
{
  static const struct { const char *name; const char *path; } cases[] = {
    { "/layer1/layer1.0/conv1/Conv", "layer1|layer1.0|conv1" },
    { "/layer1/layer1.0/Add", "layer1|layer1.0" },
    { "/Relu", "" },
    { "conv1", "" },
    { "n12", "" },
    { "model/block1_conv1/Conv2D", "model|block1_conv1" },
    { "//a//b/", "a" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(GStrv) path = lens_layer_name_path (cases[i].name);
      g_autofree char *joined = g_strjoinv ("|", path);

      g_assert_cmpstr (joined, ==, cases[i].path);
    }
}

static void
test_layer_tree (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *model = NULL;
  g_autofree char *image = fixture ("tiny-image.png");
  g_autoptr(GFile) model_file = NULL;
  g_autoptr(GFile) image_file = g_file_new_for_path (image);
  GListModel *rows;
  LensWindow *win;
  LensDocument *doc;
  char *shown;

  if (!have_fixtures ())
    return;
  dir = g_dir_make_tmp ("convlens-tree-XXXXXX", NULL);
  model = g_build_filename (dir, "nested.onnx", NULL);
  if (!make_nested_model (model))
    {
      g_test_skip ("PyTorch could not export the nested model");
      return;
    }

  win = new_window ();
  doc = lens_window_get_document (win);
  model_file = g_file_new_for_path (model);
  lens_window_open_model (win, model_file);
  g_assert_true (wait_for (has_model, doc));
  g_assert_cmpuint (lens_document_get_model (doc)->n_layers, ==, 15);

  /* layer 0 is selected: the stage "layer1" (10 nodes in two residual
   * blocks of 5: conv1, relu, conv2, Add, Relu) starts folded */
  shown = tree_rows (win->layer_list);
  g_assert_cmpstr (shown, ==, "/conv1/Conv /relu/Relu layer1+ /pool/GlobalAveragePool "
                              "/Flatten /fc/Gemm");
  g_free (shown);
  rows = G_LIST_MODEL (lens_layer_list_get_tree (win->layer_list));
  {
    g_autoptr(GtkTreeListRow) row = g_list_model_get_item (rows, 2);
    g_autoptr(LensLayerItem) block = gtk_tree_list_row_get_item (row);
    g_autofree char *details = NULL;

    g_assert_cmpuint (lens_layer_item_get_n_layers (block), ==, 10);
    g_object_get (block, "details", &details, NULL);
    g_assert_cmpstr (details, ==, "10 layers · 8×32×32");

    /* unfold, then fold again */
    gtk_tree_list_row_set_expanded (row, TRUE);
    shown = tree_rows (win->layer_list);
    g_assert_cmpstr (shown, ==, "/conv1/Conv /relu/Relu layer1- layer1.0+ layer1.1+ "
                                "/pool/GlobalAveragePool /Flatten /fc/Gemm");
    g_free (shown);
    gtk_tree_list_row_set_expanded (row, FALSE);
    g_assert_cmpuint (g_list_model_get_n_items (rows), ==, 6);
  }

  /* Page Down into the stage unfolds it down to the layer and selects its row */
  lens_document_select_layer (doc, 1);
  g_action_group_activate_action (G_ACTION_GROUP (win), "next-layer", NULL);
  g_assert_cmpint (lens_document_get_selected_layer (doc), ==, 2);
  shown = tree_rows (win->layer_list);
  g_assert_cmpstr (shown, ==, "/conv1/Conv /relu/Relu layer1- layer1.0- conv1/Conv relu/Relu "
                              "conv2/Conv Add Relu layer1.1+ /pool/GlobalAveragePool /Flatten "
                              "/fc/Gemm");
  g_free (shown);
  {
    GtkSelectionModel *sel = gtk_list_view_get_model (lens_layer_list_get_list_view (win->layer_list));
    guint pos = gtk_single_selection_get_selected (GTK_SINGLE_SELECTION (sel));
    g_autoptr(GtkTreeListRow) row = g_list_model_get_item (rows, pos);
    g_autoptr(LensLayerItem) item = gtk_tree_list_row_get_item (row);

    g_assert_cmpuint (pos, ==, 4);
    g_assert_cmpuint (lens_layer_item_get_index (item), ==, 2);

    /* picking a row of the tree selects that layer in the document */
    gtk_single_selection_set_selected (GTK_SINGLE_SELECTION (sel), 7);
    g_assert_cmpint (lens_document_get_selected_layer (doc), ==, 5);
    /* a block's row selects nothing */
    gtk_single_selection_set_selected (GTK_SINGLE_SELECTION (sel), 2);
    g_assert_cmpint (lens_document_get_selected_layer (doc), ==, 5);
  }

  /* the flat tiny model: no blocks at all */
  lens_window_open_image (win, image_file);
  g_assert_true (wait_for (has_maps, doc));
  gtk_window_destroy (GTK_WINDOW (win));
  g_unlink (model);
  g_rmdir (dir);
}

/* A black RGB PNG of size x size. */
static void
write_black_png (const char *path,
                 int         size)
{
  png_image image = { .version = PNG_IMAGE_VERSION, .width = size, .height = size,
                      .format = PNG_FORMAT_RGB };
  g_autofree guint8 *rgb = g_malloc0 (size * size * 3);

  g_assert_true (png_image_write_to_file (&image, path, FALSE, rgb, 0, NULL));
}

static gboolean
maps_of (gpointer data)
{
  LensWindow *win = data;
  LensLayerMaps *maps = lens_document_get_maps (win->document);

  return maps != NULL && !lens_document_get_busy (win->document) &&
         (int) maps->layer == lens_document_get_selected_layer (win->document);
}

static void
test_layer_means (void)
{
  g_autofree char *model = fixture ("tiny.onnx");
  g_autofree char *dir = NULL;
  g_autofree char *black = NULL;
  g_autoptr(GFile) black_file = NULL;
  g_autoptr(LensNet) net = NULL;
  const LensTensor *bias;
  const float *b;
  double mean_conv = 0, mean_relu = 0;
  guint n_layers;
  LensWindow *win;
  LensDocument *doc;

  if (!have_fixtures ())
    return;

  /* By hand: a black picture is all zeros for this model (plain [0,1]
   * RGB), so conv1's output is its bias everywhere (zero padding adds
   * nothing), ReLU keeps max (bias, 0) and the 2x2 max-pool of a
   * constant map is that constant. */
  net = lens_net_load_onnx (model, NULL, NULL);
  g_assert_nonnull (net);
  bias = lens_net_value_get_constant (net, lens_net_find_value (net, "conv1.bias"));
  g_assert_nonnull (bias);
  g_assert_cmpint (lens_tensor_numel (bias), ==, 8);
  b = lens_tensor_get_floats (bias);
  for (int c = 0; c < 8; c++)
    {
      mean_conv += b[c] / 8.0;
      mean_relu += MAX (b[c], 0.f) / 8.0;
    }

  dir = g_dir_make_tmp ("convlens-means-XXXXXX", NULL);
  black = g_build_filename (dir, "black.png", NULL);
  write_black_png (black, 32);
  black_file = g_file_new_for_path (black);

  win = new_window ();
  doc = lens_window_get_document (win);
  open_fixtures (win, FALSE);
  n_layers = lens_document_get_model (doc)->n_layers;
  g_assert_cmpuint (n_layers, ==, json_array_get_length (json_object_get_array_member (expected, "layers")));
  /* before any image: no bars */
  for (guint i = 0; i < n_layers; i++)
    g_assert_true (isnan (lens_layer_list_get_layer_mean (win->layer_list, i)));

  lens_window_open_image (win, black_file);
  g_assert_true (wait_for (maps_of, win));

  /* every layer has its bar as soon as the image has run, none visited
   * but the selected one (conv1) */
  g_assert_cmpint (lens_document_get_selected_layer (doc), ==, 0);
  g_assert_cmpfloat_with_epsilon (lens_layer_list_get_layer_mean (win->layer_list, 0),
                                  mean_conv, 1e-6);
  g_assert_cmpfloat_with_epsilon (lens_layer_list_get_layer_mean (win->layer_list, 1),
                                  mean_relu, 1e-6);
  g_assert_cmpfloat_with_epsilon (lens_layer_list_get_layer_mean (win->layer_list, 2),
                                  mean_relu, 1e-6);
  for (guint i = 3; i < n_layers; i++)
    g_assert_false (isnan (lens_layer_list_get_layer_mean (win->layer_list, i)));

  /* the rows carry them, the bar relative to the largest |mean| */
  {
    GListModel *rows = G_LIST_MODEL (lens_layer_list_get_tree (win->layer_list));
    g_autoptr(GtkTreeListRow) row = g_list_model_get_item (rows, 1);
    g_autoptr(LensLayerItem) item = gtk_tree_list_row_get_item (row);
    double top = 0;

    for (guint i = 0; i < n_layers; i++)
      top = MAX (top, fabs (lens_layer_list_get_layer_mean (win->layer_list, i)));
    g_assert_cmpfloat (top, >=, MAX (fabs (mean_conv), fabs (mean_relu)) - 1e-9);
    g_assert_cmpfloat_with_epsilon (lens_layer_item_get_mean (item), mean_relu, 1e-6);
    g_assert_cmpfloat_with_epsilon (lens_layer_item_get_mean_fraction (item),
                                    fabs (mean_relu) / top, 1e-6);
  }

  /* another image: every layer's mean is that image's, as the engine
   * computes the same trace outside the window */
  {
    g_autofree char *image = fixture ("tiny-image.png");
    g_autoptr(GFile) image_file = g_file_new_for_path (image);
    Direct d = { 0 };

    lens_window_open_image (win, image_file);
    g_assert_true (wait_for (maps_of, win));
    direct_init (&d);
    for (guint i = 0; i < n_layers; i++)
      {
        const LensTensor *t = lens_trace_get_value (d.trace, lens_net_layer_get_output (d.net, i));
        const float *v = lens_tensor_get_floats (t);
        gsize n = lens_tensor_numel (t);
        double sum = 0;

        for (gsize k = 0; k < n; k++)
          sum += v[k];
        g_assert_cmpfloat_with_epsilon (lens_layer_list_get_layer_mean (win->layer_list, i),
                                        sum / n, 1e-6);
      }
    g_assert_cmpfloat (fabs (lens_layer_list_get_layer_mean (win->layer_list, 2) - mean_relu),
                       >, 1e-4);
    direct_clear (&d);
  }
  gtk_window_destroy (GTK_WINDOW (win));
  g_unlink (black);
  g_rmdir (dir);
}

static void
test_sort_by_activation (void)
{
  LensWindow *win;
  LensDocument *doc;
  JsonArray *want;
  guint order[8];
  guint n;

  if (!have_fixtures ())
    return;

  win = new_window ();
  doc = lens_window_get_document (win);
  open_fixtures (win, TRUE);
  lens_document_select_layer (doc, 1);
  g_assert_true (wait_for (maps_of, win));

  /* PyTorch's per-channel maxima of relu1, strongest first (stable) */
  want = json_object_get_array_member (expected, "relu1_max");
  n = json_array_get_length (want);
  g_assert_cmpuint (n, ==, 8);
  for (guint i = 0; i < n; i++)
    order[i] = i;
  for (guint i = 1; i < n; i++)
    for (guint j = i; j > 0 && json_array_get_double_element (want, order[j]) >
                                json_array_get_double_element (want, order[j - 1]); j--)
      {
        guint t = order[j];

        order[j] = order[j - 1];
        order[j - 1] = t;
      }

  lens_document_select_channel (doc, 3);
  g_assert_cmpint (lens_feature_grid_get_channel_at (win->feature_grid, 0), ==, 0);
  lens_feature_grid_set_sort_by_activation (win->feature_grid, TRUE);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (lens_feature_grid_get_channel_at (win->feature_grid, i), ==, order[i]);
  /* the selection stays on channel 3, wherever it went */
  g_assert_cmpint (lens_document_get_selected_channel (doc), ==, 3);
  for (guint i = 0; i < n; i++)
    if (order[i] == 3)
      g_assert_cmpint (lens_feature_grid_get_position (win->feature_grid), ==, i);

  /* activating the first cell picks the strongest channel; Right moves
   * on in the order shown */
  g_signal_emit_by_name (lens_feature_grid_get_grid_view (win->feature_grid), "activate", 0);
  g_assert_cmpint (lens_document_get_selected_channel (doc), ==, order[0]);
  g_action_group_activate_action (G_ACTION_GROUP (win), "next-channel", NULL);
  g_assert_cmpint (lens_document_get_selected_channel (doc), ==, order[1]);
  g_assert_true (action_enabled (win, "previous-channel"));

  /* back to index order */
  lens_feature_grid_set_sort_by_activation (win->feature_grid, FALSE);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (lens_feature_grid_get_channel_at (win->feature_grid, i), ==, i);
  gtk_window_destroy (GTK_WINDOW (win));
}

/* The canvas as its snapshot draws it: 0xRRGGBB at (x, y) of the widget. */
static guint32
canvas_pixel (GtkWidget *canvas,
              int        x,
              int        y)
{
  int w = gtk_widget_get_width (canvas), h = gtk_widget_get_height (canvas);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree guint8 *buf = g_malloc (w * h * 4);
  const guint8 *p;

  /* white behind it, as the window's background is light */
  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 1, 1, 1, 1 }, &GRAPHENE_RECT_INIT (0, 0, w, h));
  GTK_WIDGET_GET_CLASS (canvas)->snapshot (canvas, snapshot);
  node = gtk_snapshot_free_to_node (snapshot);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (canvas)),
                                         node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  gdk_texture_download (texture, buf, w * 4);
  p = buf + (gsize) y * w * 4 + x * 4;  /* B, G, R, A */
  return ((guint32) p[2] << 16) | ((guint32) p[1] << 8) | p[0];
}

static gboolean
is_mapped_and_sized (gpointer widget)
{
  return gtk_widget_get_mapped (widget) && gtk_widget_get_width (widget) > 64;
}

static void
test_canvas_zoom (void)
{
  LensWindow *win;
  LensImageCanvas *canvas;
  GtkWidget *w;
  graphene_rect_t rect, square;
  double fit, s1;
  int cw, ch;

  if (!have_fixtures ())
    return;

  win = new_window ();
  open_fixtures (win, TRUE);
  adw_view_stack_set_visible_child_name (win->view_stack, "occlusion");
  canvas = win->occlusion_canvas;
  w = GTK_WIDGET (canvas);
  g_assert_true (wait_for (is_mapped_and_sized, canvas));

  /* fitted: the largest whole multiple of 32 that fits */
  cw = gtk_widget_get_width (w);
  ch = gtk_widget_get_height (w);
  fit = floor (MIN (cw, ch) / 32.0);
  g_assert_cmpfloat (fit, >=, 2);
  g_assert_cmpfloat (lens_image_canvas_get_scale (canvas), ==, fit);

  /* the occluder at input pixels (4, 4)..(4 + size) */
  lens_window_set_occluder (win, 4, 4);
  g_assert_true (lens_image_canvas_get_square (canvas, &square));

  /* Ctrl+plus's action: 1.25 times, still whole pixels */
  g_assert_true (gtk_widget_activate_action (w, "canvas.zoom-in", NULL));
  g_assert_cmpfloat (lens_image_canvas_get_zoom (canvas), ==, 1.25);
  g_assert_cmpfloat (lens_image_canvas_get_scale (canvas), ==, floor (fit * 1.25));

  /* zoom around the occluder's corner, far enough that the image
   * overflows the canvas both ways (while it fits an axis it stays
   * centred on it): the corner stays where it was on screen */
  lens_image_canvas_set_zoom (canvas, 1.0);
  lens_image_canvas_get_image_rect (canvas, &rect);
  {
    double wx = rect.origin.x + square.origin.x * fit;
    double wy = rect.origin.y + square.origin.y * fit;
    double zoom = ceil (MAX (cw, ch) / (8.0 * fit)) + 1;
    double ix, iy;

    lens_image_canvas_zoom_at (canvas, zoom, wx, wy);
    s1 = lens_image_canvas_get_scale (canvas);
    g_assert_cmpfloat (s1, ==, zoom * fit);
    g_assert_true (lens_image_canvas_to_image (canvas, wx, wy, &ix, &iy));
    g_assert_cmpfloat (fabs (ix - square.origin.x), <=, 1.0 / s1);
    g_assert_cmpfloat (fabs (iy - square.origin.y), <=, 1.0 / s1);

    /* on screen: the square's middle is the occluder's gray, one input
     * pixel outside its corner is the picture */
    lens_image_canvas_get_image_rect (canvas, &rect);
    {
      int mx = (int) (rect.origin.x + (square.origin.x + square.size.width / 2) * s1);
      int my = (int) (rect.origin.y + (square.origin.y + square.size.height / 2) * s1);
      int ox = (int) (rect.origin.x + (square.origin.x - 0.5) * s1);
      int oy = (int) (rect.origin.y + (square.origin.y - 0.5) * s1);

      g_assert_cmphex (canvas_pixel (w, mx, my), ==, 0x808080);
      g_assert_cmphex (canvas_pixel (w, ox, oy), !=, 0x808080);
    }
  }

  /* back to fit */
  g_assert_true (gtk_widget_activate_action (w, "canvas.zoom-reset", NULL));
  g_assert_cmpfloat (lens_image_canvas_get_scale (canvas), ==, fit);
  gtk_widget_activate_action (w, "canvas.zoom-out", NULL);
  g_assert_cmpfloat (lens_image_canvas_get_zoom (canvas), ==, 1.0);
  gtk_window_destroy (GTK_WINDOW (win));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *json = NULL;

  lens_i18n_init ();
  g_test_init (&argc, &argv, NULL);

  fixtures = g_strdup (argc > 1 ? argv[1] : ".");
  json = g_build_filename (fixtures, "tiny-expected.json", NULL);
  if (json_parser_load_from_file (parser, json, NULL))
    expected = json_node_get_object (json_parser_get_root (parser));

  g_test_add_func ("/render/top-k", test_top_k);
  g_test_add_func ("/browse/layer-name-path", test_layer_name_path);
  g_test_add_func ("/render/thumbnails", test_thumbnails);
  g_test_add_func ("/i18n/zh-cn", test_translation);

  if (!gtk_init_check ())
    {
      g_test_message ("no display: the window tests are skipped");
      return g_test_run ();
    }

  g_test_add_func ("/window/initial-state", test_initial_state);
  g_test_add_func ("/browse/layer-tree", test_layer_tree);
  g_test_add_func ("/browse/layer-means", test_layer_means);
  g_test_add_func ("/browse/sort-by-activation", test_sort_by_activation);
  g_test_add_func ("/browse/canvas-zoom", test_canvas_zoom);
  g_test_add_func ("/window/load-model", test_load_model);
  g_test_add_func ("/window/run-image", test_run_image);
  g_test_add_func ("/window/select-layer", test_select_layer);
  g_test_add_func ("/window/stale-results", test_stale_results);
  g_test_add_func ("/window/bad-model", test_bad_model);
  g_test_add_func ("/window/export", test_export);
  g_test_add_func ("/window/objects-freed", test_objects_freed);
  g_test_add_func ("/engine-client/generations", test_client_generations);
  g_test_add_func ("/window/projection", test_projection);
  g_test_add_func ("/window/occlusion-query", test_occlusion_query);
  g_test_add_func ("/window/sweep", test_sweep);
  g_test_add_func ("/window/cancel-sweep", test_cancel_sweep);
  g_test_add_func ("/window/close-during-sweep", test_close_during_sweep);
  g_test_add_func ("/window/occluder-while-loading", test_occluder_while_loading);
  g_test_add_func ("/window/cancel-image-run", test_cancel_image_run);
  g_test_add_func ("/window/default-model", test_default_model);
  g_test_add_func ("/window/default-model-views", test_default_model_views);

  return g_test_run ();
}
