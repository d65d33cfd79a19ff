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
#include "lens-document.h"
#include "lens-render.h"
#include "lens-window-private.h"

static char *fixtures;
static JsonObject *expected;

#define TIMEOUT_MS 30000

typedef gboolean (*Condition) (gpointer data);

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop until cond holds; FALSE on timeout. */
static gboolean
wait_for (Condition cond,
          gpointer  data)
{
  gint64 end = g_get_monotonic_time () + TIMEOUT_MS * 1000;
  guint id = g_timeout_add (10, tick, NULL);
  gboolean ok;

  while (!(ok = cond (data)) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
  return ok;
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

  /* the layer list shows the graph's nodes, as onnx lists them */
  want = json_object_get_array_member (expected, "layers");
  layers = G_LIST_MODEL (gtk_list_view_get_model (lens_layer_list_get_list_view (win->layer_list)));
  g_assert_cmpuint (g_list_model_get_n_items (layers), ==, json_array_get_length (want));
  for (guint i = 0; i < json_array_get_length (want); i++)
    {
      JsonObject *layer = json_array_get_object_element (want, i);
      g_autoptr(LensLayerItem) item = g_list_model_get_item (layers, i);
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
  g_test_add_func ("/render/thumbnails", test_thumbnails);
  g_test_add_func ("/i18n/zh-cn", test_translation);

  if (!gtk_init_check ())
    {
      g_test_message ("no display: the window tests are skipped");
      return g_test_run ();
    }

  g_test_add_func ("/window/initial-state", test_initial_state);
  g_test_add_func ("/window/load-model", test_load_model);
  g_test_add_func ("/window/run-image", test_run_image);
  g_test_add_func ("/window/select-layer", test_select_layer);
  g_test_add_func ("/window/stale-results", test_stale_results);
  g_test_add_func ("/window/bad-model", test_bad_model);
  g_test_add_func ("/window/export", test_export);
  g_test_add_func ("/window/objects-freed", test_objects_freed);
  g_test_add_func ("/engine-client/generations", test_client_generations);

  return g_test_run ();
}
