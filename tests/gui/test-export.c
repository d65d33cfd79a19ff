/* test-export.c: Export (PNG figures and CSV numbers), Preferences and the
 * recent files, in-process with the tiny fixtures of make-tiny-model.py
 *
 * Expected values come from PyTorch (tiny-expected.json), from the engine
 * called directly, or are worked out by hand below. */
#define _GNU_SOURCE /* memmem */

#include <gtk/gtk.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <png.h>
#include <string.h>

#include "lens-application.h"
#include "lens-document.h"
#include "lens-image.h"
#include "lens-net.h"
#include "lens-occlude.h"
#include "lens-preferences.h"
#include "lens-profile.h"
#include "lens-window-export.h"
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
has_projection (gpointer doc)
{
  LensProjection *proj = lens_document_get_projection (doc);

  return proj != NULL && proj->channel == 3 && !lens_document_get_busy (doc);
}

static gboolean
idle_doc (gpointer doc)
{
  return !lens_document_get_busy (doc);
}

static gboolean
has_sweep (gpointer doc)
{
  return lens_document_get_sweep (doc) != NULL && !lens_document_get_sweeping (doc);
}

static gboolean
export_done (gpointer win)
{
  return ((LensWindow *) win)->export_cancellable == NULL;
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
open_window (void)
{
  g_autofree char *model = fixture ("tiny.onnx");
  g_autofree char *image = fixture ("tiny-image.png");
  g_autoptr(GFile) model_file = g_file_new_for_path (model);
  g_autoptr(GFile) image_file = g_file_new_for_path (image);
  LensWindow *win = lens_window_new (NULL);
  LensDocument *doc = lens_window_get_document (win);

  gtk_window_present (GTK_WINDOW (win));
  lens_window_open_model (win, model_file);
  g_assert_true (wait_for (has_model, doc));
  lens_window_open_image (win, image_file);
  g_assert_true (wait_for (has_maps, doc));
  return win;
}

/* win.export-as((sis)) and wait until written. */
static void
export_as (LensWindow *win,
           const char *kind,
           int         scale,
           const char *path)
{
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (win), "export-as"));
  g_action_group_activate_action (G_ACTION_GROUP (win), "export-as",
                                  g_variant_new ("(sis)", kind, scale, path));
  g_assert_true (wait_for (export_done, win));
}

typedef struct
{
  guint   width, height;
  guint8 *rgb;
  char   *bytes;     /* the whole file, for its text chunks */
  gsize   length;
} Png;

static void
png_clear (Png *png)
{
  g_free (png->rgb);
  g_free (png->bytes);
}

static void
read_png (const char *path,
          Png        *out)
{
  png_image image = { .version = PNG_IMAGE_VERSION };

  g_assert_true (png_image_begin_read_from_file (&image, path));
  image.format = PNG_FORMAT_RGB;
  out->width = image.width;
  out->height = image.height;
  out->rgb = g_malloc (PNG_IMAGE_SIZE (image));
  g_assert_true (png_image_finish_read (&image, NULL, out->rgb, 0, NULL));
  g_assert_true (g_file_get_contents (path, &out->bytes, &out->length, NULL));
}

static guint32
png_rgb (const Png *png,
         guint      x,
         guint      y)
{
  const guint8 *p = png->rgb + ((gsize) y * png->width + x) * 3;

  g_assert_cmpuint (x, <, png->width);
  g_assert_cmpuint (y, <, png->height);
  return ((guint32) p[0] << 16) | ((guint32) p[1] << 8) | p[2];
}

/* A tEXt chunk "key\0value" is in the file. */
static gboolean
has_text (const Png  *png,
          const char *key,
          const char *value)
{
  g_autofree char *needle = g_strconcat (key, "|", value, NULL);
  gsize n = strlen (needle);

  needle[strlen (key)] = '\0';
  return memmem (png->bytes, png->length, needle, n) != NULL;
}

static int
channel_diff (guint32 a,
              guint32 b)
{
  int d = 0;

  for (int shift = 0; shift <= 16; shift += 8)
    d = MAX (d, abs ((int) ((a >> shift) & 0xff) - (int) ((b >> shift) & 0xff)));
  return d;
}

/* Only `names` are left in dir: no temporary files from the atomic writes. */
static void
assert_dir_holds (const char         *dir,
                  const char * const *names)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_assert_true (g_strv_contains (names, name));
      n++;
    }
  g_assert_cmpuint (n, ==, g_strv_length ((char **) names));
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
test_export_pictures (void)
{
  g_autofree char *dir = g_dir_make_tmp ("convlens-export-XXXXXX", NULL);
  g_autofree char *input3 = g_build_filename (dir, "input3.png", NULL);
  g_autofree char *input_auto = g_build_filename (dir, "input-auto.png", NULL);
  g_autofree char *grid2 = g_build_filename (dir, "grid2.png", NULL);
  g_autofree char *proj2 = g_build_filename (dir, "proj2.png", NULL);
  const char * const names[] = { "input3.png", "input-auto.png", "grid2.png", "proj2.png", NULL };
  LensWindow *win;
  LensDocument *doc;
  LensProjection *proj;
  Png png = { 0 };

  if (!have_fixtures ())
    return;
  win = open_window ();
  doc = lens_window_get_document (win);

  /* the 32x32 input three times: its red disc pixel (12, 13) = #e6281e
   * covers (36..38, 39..41), the white (24, 10) covers (72..74, 30..32) */
  export_as (win, "input", 3, input3);
  read_png (input3, &png);
  g_assert_cmpuint (png.width, ==, 96);
  g_assert_cmpuint (png.height, ==, 96);
  g_assert_cmphex (png_rgb (&png, 36, 39), ==, 0xe6281e);
  g_assert_cmphex (png_rgb (&png, 38, 41), ==, 0xe6281e);
  g_assert_cmphex (png_rgb (&png, 73, 31), ==, 0xfafafa);
  g_assert_true (has_text (&png, "Kind", "input"));
  g_assert_true (has_text (&png, "Scale", "3"));
  g_assert_true (has_text (&png, "Model", "tiny.onnx"));
  g_assert_true (has_text (&png, "Image", "tiny-image.png"));
  png_clear (&png);

  /* automatic: at least 256 pixels, ceil (256 / 32) = 8 */
  export_as (win, "input", 0, input_auto);
  read_png (input_auto, &png);
  g_assert_cmpuint (png.width, ==, 256);
  g_assert_true (has_text (&png, "Scale", "8"));
  png_clear (&png);

  /* layer 0: 8 tiles of 96 in rows of 3, 4-pixel gaps, 304 twice = 608 */
  export_as (win, "grid", 2, grid2);
  read_png (grid2, &png);
  g_assert_cmpuint (png.width, ==, 608);
  g_assert_cmpuint (png.height, ==, 608);
  g_assert_cmphex (png_rgb (&png, 3, 3), ==, 0xffffff);   /* the gap */
  g_assert_true (has_text (&png, "Kind", "grid"));
  g_assert_true (has_text (&png, "Layer", "/conv1/Conv"));
  g_assert_true (has_text (&png, "Op", "Conv"));
  g_assert_true (has_text (&png, "Normalisation", "per channel"));
  g_assert_true (has_text (&png, "Channel", "0"));
  png_clear (&png);

  /* no sweep yet: no heat map is written, the toast says so */
  g_assert_false (lens_window_can_export (win, LENS_EXPORT_HEAT_MAP));
  g_action_group_activate_action (G_ACTION_GROUP (win), "export-as",
                                  g_variant_new ("(sis)", "heat-map", 2, proj2));
  g_assert_true (export_done (win));
  g_assert_false (g_file_test (proj2, G_FILE_TEST_EXISTS));

  /* channel 3 projected: the figure is the projection shown, twice */
  lens_document_select_channel (doc, 3);
  lens_document_project (doc);
  g_assert_true (wait_for (has_projection, doc));
  proj = lens_document_get_projection (doc);
  export_as (win, "projection", 2, proj2);
  read_png (proj2, &png);
  g_assert_cmpuint (png.width, ==, 2 * lens_pixels_get_width (proj->pixels));
  g_assert_cmpuint (png.height, ==, 2 * lens_pixels_get_height (proj->pixels));
  for (int y = 0; y < lens_pixels_get_height (proj->pixels); y += 3)
    for (int x = 0; x < lens_pixels_get_width (proj->pixels); x += 3)
      g_assert_cmphex (png_rgb (&png, 2 * x + 1, 2 * y + 1), ==,
                       lens_pixels_get_rgb (proj->pixels, x, y));
  g_assert_true (has_text (&png, "Kind", "projection"));
  g_assert_true (has_text (&png, "Mode", "deconv"));
  g_assert_true (has_text (&png, "Channel", "3"));
  g_assert_true (has_text (&png, "Layer", "/conv1/Conv"));
  png_clear (&png);

  /* written atomically: exporting over a file replaces it, no leftovers */
  export_as (win, "input", 1, input3);
  read_png (input3, &png);
  g_assert_cmpuint (png.width, ==, 32);
  png_clear (&png);
  assert_dir_holds (dir, names);

  remove_dir (dir);
  gtk_window_destroy (GTK_WINDOW (win));
}

/* The fields of one CSV line (no quoted commas in these files). */
static char **
csv_fields (const char *line)
{
  return g_strsplit (line, ",", -1);
}

static void
test_export_predictions_csv (void)
{
  g_autofree char *dir = g_dir_make_tmp ("convlens-export-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "top5.csv", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  JsonArray *top5;
  LensWindow *win;

  if (!have_fixtures ())
    return;
  win = open_window ();
  export_as (win, "predictions", 0, path);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);

  /* header, 5 rows, and the final newline */
  g_assert_cmpuint (g_strv_length (lines), ==, 7);
  g_assert_cmpstr (lines[0], ==, "rank,class,label,probability");
  g_assert_cmpstr (lines[6], ==, "");
  top5 = json_object_get_array_member (expected, "top5");
  for (guint i = 0; i < 5; i++)
    {
      JsonObject *p = json_array_get_object_element (top5, i);
      g_auto(GStrv) f = csv_fields (lines[i + 1]);

      g_assert_cmpuint (g_strv_length (f), ==, 4);
      g_assert_cmpint (atoi (f[0]), ==, i + 1);
      g_assert_cmpint (atoi (f[1]), ==, json_object_get_int_member (p, "index"));
      /* PyTorch's softmax, in the C locale */
      g_assert_cmpfloat_with_epsilon (g_ascii_strtod (f[3], NULL),
                                      json_object_get_double_member (p, "probability"), 1e-4);
    }

  remove_dir (dir);
  gtk_window_destroy (GTK_WINDOW (win));
}

/* The tiny net with the fixture image, run by the engine directly. */
static LensOccluder *
direct_occluder (LensNet **net_out)
{
  g_autofree char *model = fixture ("tiny.onnx");
  g_autofree char *image_path = fixture ("tiny-image.png");
  LensLoadOptions load = { 224, 224, 0, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) image = NULL;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensTensor) input = NULL;
  LensOccludeOptions options;
  LensOccluder *occ;
  LensNet *net;

  net = lens_net_load_onnx (model, &load, &error);
  g_assert_no_error (error);
  profile = lens_profile_guess (model, 3, 32, 32, &error);
  g_assert_no_error (error);
  image = lens_image_load (image_path, &error);
  g_assert_no_error (error);
  input = lens_image_to_tensor (image, &profile->pre, &error);
  g_assert_no_error (error);

  /* as the window asks: a seventh of 32 = 5, stride 1, the top class,
   * channel 0 of the selected layer 0 */
  lens_occlude_options_init (&options);
  options.size = 5;
  options.stride = 1;
  options.target_class = -1;
  options.layer_value = lens_net_layer_get_output (net, 0);
  options.channel = 0;
  occ = lens_occluder_new (net, input, &options, &error);
  g_assert_no_error (error);
  *net_out = net;
  return occ;
}

static void
test_export_occlusion (void)
{
  g_autofree char *dir = g_dir_make_tmp ("convlens-export-XXXXXX", NULL);
  g_autofree char *csv = g_build_filename (dir, "grid.csv", NULL);
  g_autofree char *heat = g_build_filename (dir, "heat.png", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(LensOccluder) occ = NULL;
  g_autoptr(GError) error = NULL;
  LensNet *net = NULL;
  LensOcclusionSweep *sweep;
  LensTraceInfo *trace;
  LensPixels *overlay;
  LensWindow *win;
  LensDocument *doc;
  Png png = { 0 };
  int checked = 0;

  if (!have_fixtures ())
    return;
  win = open_window ();
  doc = lens_window_get_document (win);
  g_assert_false (lens_window_can_export (win, LENS_EXPORT_OCCLUSION));
  lens_document_sweep (doc);
  g_assert_true (wait_for (has_sweep, doc));
  sweep = lens_document_get_sweep (doc);
  trace = lens_document_get_trace (doc);
  g_assert_cmpint (sweep->map->n_x, ==, 28);

  /* CSV: one row per position, row-major, equal to the engine's own
   * single-position answer for the same square */
  export_as (win, "occlusion", 0, csv);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 28 * 28 + 2);
  g_assert_cmpstr (lines[0], ==, "x,y,target_probability,top_class,top_label,top_probability,"
                                 "feature_activation");
  occ = direct_occluder (&net);
  for (int row = 0; row < 28 * 28; row += 37)
    {
      g_auto(GStrv) f = csv_fields (lines[row + 1]);
      LensOcclusionPoint point;
      int x = row % 28, y = row / 28;   /* stride 1 from the corner */

      g_assert_cmpuint (g_strv_length (f), ==, 7);
      g_assert_cmpint (atoi (f[0]), ==, x);
      g_assert_cmpint (atoi (f[1]), ==, y);
      g_assert_true (lens_occluder_query (occ, x, y, &point, &error));
      g_assert_no_error (error);
      g_assert_cmpfloat_with_epsilon (g_ascii_strtod (f[2], NULL), point.prob, 1e-5);
      g_assert_cmpint (atoi (f[3]), ==, point.top_class[0]);
      g_assert_cmpfloat_with_epsilon (g_ascii_strtod (f[5], NULL), point.top_prob[0], 1e-5);
      g_assert_cmpfloat_with_epsilon (g_ascii_strtod (f[6], NULL), point.feature,
                                      1e-4 * MAX (1.0, fabs (point.feature)));
      checked++;
    }
  g_assert_cmpint (checked, ==, 22);

  /* the heat map figure at scale 4: the input under the overlay at 70 %,
   * then the colour bar: viridis(0) = #440154 at its left end, viridis(1)
   * = #fde725 at its right (6-pixel margins, 14 high, 6 below the map) */
  overlay = lens_window_get_heat_map (win);
  export_as (win, "heat-map", 4, heat);
  read_png (heat, &png);
  g_assert_cmpuint (png.width, ==, 128);
  g_assert_cmpuint (png.height, >, 128 + 20);
  for (int i = 0; i < 28; i += 5)
    {
      /* cell (i, i) is centred on square (i, i) + 2.5, one pixel wide:
       * input pixel (i + 2, i + 2), figure pixels 4 (i + 2) .. + 3 */
      guint32 in = lens_pixels_get_rgb (trace->input, i + 2, i + 2);
      guint32 cell = lens_pixels_get_rgb (overlay, i, i);
      guint32 want = 0;

      for (int shift = 0; shift <= 16; shift += 8)
        want |= (guint32) lrint (0.3 * ((in >> shift) & 0xff) + 0.7 * ((cell >> shift) & 0xff))
                << shift;
      g_assert_cmpint (channel_diff (png_rgb (&png, 4 * (i + 2) + 1, 4 * (i + 2) + 1), want), <=, 2);
    }
  g_assert_cmpint (channel_diff (png_rgb (&png, 6, 128 + 12), 0x440154), <=, 1);
  g_assert_cmpint (channel_diff (png_rgb (&png, 128 - 7, 128 + 12), 0xfde725), <=, 1);
  g_assert_true (has_text (&png, "Kind", "heat-map"));
  g_assert_true (has_text (&png, "Occluder size", "5"));
  g_assert_true (has_text (&png, "Stride", "1"));
  g_assert_true (has_text (&png, "Heat map", "target probability"));
  g_assert_true (has_text (&png, "Colour map", "viridis"));
  png_clear (&png);

  /* a folder that does not exist: a toast, and the window stays usable */
  {
    g_autofree char *bad = g_build_filename (dir, "missing", "x.csv", NULL);

    export_as (win, "occlusion", 0, bad);
    g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
    g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (win), "export-as"));
  }

  lens_net_unref (net);
  remove_dir (dir);
  gtk_window_destroy (GTK_WINDOW (win));
}

static void
test_preferences (void)
{
  LensWindow *win;
  LensDocument *doc;
  GtkWindow *prefs;
  GtkWidget *size, *cmap, *threads, *mode;
  g_autofree char *name = NULL;
  LensPixels *heat;
  LensOcclusionSweep *sweep;
  int lo = 0;

  if (!have_fixtures ())
    return;
  win = open_window ();
  doc = lens_window_get_document (win);
  g_assert_nonnull (win->settings);

  /* the main menu's action opens a window of its own */
  {
    guint before = g_list_model_get_n_items (gtk_window_get_toplevels ());

    g_action_group_activate_action (G_ACTION_GROUP (win), "preferences", NULL);
    g_assert_cmpuint (g_list_model_get_n_items (gtk_window_get_toplevels ()), ==, before + 1);
  }

  prefs = lens_preferences_new (GTK_WINDOW (win), win->settings);
  size = lens_preferences_get_control (prefs, "occluder-size");
  cmap = lens_preferences_get_control (prefs, "colour-map");
  threads = lens_preferences_get_control (prefs, "threads");
  mode = lens_preferences_get_control (prefs, "projection-mode");
  g_assert_true (GTK_IS_SPIN_BUTTON (size));
  g_assert_true (ADW_IS_COMBO_ROW (cmap));

  /* occluder size: the setting, the document and the Occlusion view's
   * spin button all follow at once */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (size), 7);
  g_assert_cmpint (g_settings_get_int (win->settings, "occluder-size"), ==, 7);
  g_assert_cmpint (lens_document_get_occluder_size (doc), ==, 7);
  g_assert_cmpfloat (gtk_adjustment_get_value (win->size_adjustment), ==, 7);
  /* and back: the setting moves the control */
  g_settings_set_int (win->settings, "occluder-size", 6);
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (size)), ==, 6);
  g_assert_cmpint (lens_document_get_occluder_size (doc), ==, 6);

  /* projection mode: third choice = gradient, on the document too */
  adw_combo_row_set_selected (ADW_COMBO_ROW (mode), 2);
  name = g_settings_get_string (win->settings, "projection-mode");
  g_assert_cmpstr (name, ==, "gradient");
  {
    g_autofree char *value = NULL;

    g_object_get (doc, "projection-mode", &value, NULL);
    g_assert_cmpstr (value, ==, "gradient");
  }

  /* threads go to the engine, once it is idle (the new mode re-projects) */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (threads), 1);
  g_assert_cmpint (g_settings_get_int (win->settings, "threads"), ==, 1);
  g_assert_true (wait_for (idle_doc, doc));
  g_assert_cmpint (lens_get_threads (), ==, 1);

  /* colour map gray: the heat map's lowest cell is black, its highest
   * white (a 6-pixel square over 32: 27 x 27 positions at stride 1) */
  g_settings_set_int (win->settings, "occluder-stride", 1);
  lens_document_sweep (doc);
  g_assert_true (wait_for (has_sweep, doc));
  adw_combo_row_set_selected (ADW_COMBO_ROW (cmap), 2);
  g_clear_pointer (&name, g_free);
  name = g_settings_get_string (win->settings, "colour-map");
  g_assert_cmpstr (name, ==, "gray");
  sweep = lens_document_get_sweep (doc);
  g_assert_cmpint (sweep->map->n_x, ==, 27);
  heat = lens_window_get_heat_map (win);
  for (int i = 1; i < 27 * 27; i++)
    if (sweep->map->prob[i] < sweep->map->prob[lo])
      lo = i;
  g_assert_cmphex (lens_pixels_get_rgb (heat, lo % 27, lo / 27), ==, 0x000000);

  gtk_window_destroy (prefs);
  g_settings_reset (win->settings, "occluder-size");
  g_settings_reset (win->settings, "occluder-stride");
  g_settings_reset (win->settings, "projection-mode");
  g_settings_reset (win->settings, "colour-map");
  g_settings_reset (win->settings, "threads");
  gtk_window_destroy (GTK_WINDOW (win));
}

/* The labels of a menu section's items. */
static char *
section_labels (GMenuModel *menu,
                int         index)
{
  g_autoptr(GMenuModel) section = g_menu_model_get_item_link (menu, index, G_MENU_LINK_SECTION);
  GString *s = g_string_new (NULL);

  for (int i = 0; section != NULL && i < g_menu_model_get_n_items (section); i++)
    {
      g_autofree char *label = NULL;

      g_menu_model_get_item_attribute (section, i, G_MENU_ATTRIBUTE_LABEL, "s", &label);
      g_string_append_printf (s, "%s%s", i ? "|" : "", label);
    }
  return g_string_free (s, FALSE);
}

static void
test_recent (void)
{
  g_autofree char *model = fixture ("tiny.onnx");
  g_autofree char *image = fixture ("tiny-image.png");
  g_autofree char *gone = fixture ("gone_model.onnx");
  g_auto(GStrv) models = NULL;
  g_auto(GStrv) images = NULL;
  g_autofree char *labels = NULL;
  LensWindow *win;

  if (!have_fixtures ())
    return;
  win = lens_window_new (NULL);
  /* a file that has since disappeared, opened long ago */
  g_settings_set_strv (win->settings, "recent-models", (const char * const []) { gone, NULL });
  g_settings_set_strv (win->settings, "recent-images", NULL);
  gtk_window_destroy (GTK_WINDOW (win));

  win = open_window ();
  models = g_settings_get_strv (win->settings, "recent-models");
  images = g_settings_get_strv (win->settings, "recent-images");
  g_assert_cmpuint (g_strv_length (models), ==, 2);
  g_assert_cmpstr (models[0], ==, model);
  g_assert_cmpstr (models[1], ==, gone);
  g_assert_cmpuint (g_strv_length (images), ==, 1);
  g_assert_cmpstr (images[0], ==, image);

  /* Open Recent: a Models and an Images section; "_" is no mnemonic */
  g_assert_cmpint (g_menu_model_get_n_items (G_MENU_MODEL (win->recent_menu)), ==, 2);
  labels = section_labels (G_MENU_MODEL (win->recent_menu), 0);
  g_assert_cmpstr (labels, ==, "tiny.onnx|gone__model.onnx");
  g_clear_pointer (&labels, g_free);
  labels = section_labels (G_MENU_MODEL (win->recent_menu), 1);
  g_assert_cmpstr (labels, ==, "tiny-image.png");

  /* opening the missing one removes it (with a toast); the model stays */
  g_action_group_activate_action (G_ACTION_GROUP (win), "open-recent-model",
                                  g_variant_new_string (gone));
  g_strfreev (models);
  models = g_settings_get_strv (win->settings, "recent-models");
  g_assert_cmpuint (g_strv_length (models), ==, 1);
  g_assert_cmpstr (models[0], ==, model);
  g_assert_nonnull (lens_document_get_model (lens_window_get_document (win)));
  g_clear_pointer (&labels, g_free);
  labels = section_labels (G_MENU_MODEL (win->recent_menu), 0);
  g_assert_cmpstr (labels, ==, "tiny.onnx");

  g_settings_reset (win->settings, "recent-models");
  g_settings_reset (win->settings, "recent-images");
  gtk_window_destroy (GTK_WINDOW (win));
}

static void
test_kind_names (void)
{
  /* names round-trip; unknown names are refused */
  for (guint k = 0; k < LENS_EXPORT_N_KINDS; k++)
    {
      LensExportKind back = LENS_EXPORT_N_KINDS;

      g_assert_true (lens_export_kind_from_string (lens_export_kind_to_string (k), &back));
      g_assert_cmpuint (back, ==, k);
    }
  {
    LensExportKind kind;

    g_assert_false (lens_export_kind_from_string ("jpeg", &kind));
  }
  g_assert_cmpstr (lens_export_kind_get_suffix (LENS_EXPORT_OCCLUSION), ==, ".csv");
  g_assert_cmpstr (lens_export_kind_get_suffix (LENS_EXPORT_GRID), ==, ".png");
}

static void
test_colormaps (void)
{
  /* the ends of each map, by hand: gray black/white, inferno's published
   * ends #000004 / #fcffa4, viridis's #440154 / #fde725 */
  g_assert_cmphex (lens_colormap_color (LENS_COLORMAP_GRAY, 0), ==, 0x000000);
  g_assert_cmphex (lens_colormap_color (LENS_COLORMAP_GRAY, 1), ==, 0xffffff);
  g_assert_cmphex (lens_colormap_color (LENS_COLORMAP_GRAY, 0.5), ==, 0x808080);
  g_assert_cmphex (lens_colormap_color (LENS_COLORMAP_INFERNO, 0), ==, 0x000004);
  g_assert_cmphex (lens_colormap_color (LENS_COLORMAP_INFERNO, 1), ==, 0xfcffa4);
  g_assert_cmphex (lens_colormap_color (LENS_COLORMAP_VIRIDIS, 0), ==, 0x440154);
  g_assert_cmphex (lens_colormap_color (LENS_COLORMAP_VIRIDIS, 1), ==, 0xfde725);
  g_assert_cmpint (lens_colormap_from_name ("nonsense"), ==, LENS_COLORMAP_VIRIDIS);
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

  g_test_add_func ("/export/kind-names", test_kind_names);
  g_test_add_func ("/export/colormaps", test_colormaps);
  if (!gtk_init_check ())
    {
      g_test_message ("no display: the window tests are skipped");
      return g_test_run ();
    }
  adw_init ();
  g_test_add_func ("/export/pictures", test_export_pictures);
  g_test_add_func ("/export/predictions-csv", test_export_predictions_csv);
  g_test_add_func ("/export/occlusion", test_export_occlusion);
  g_test_add_func ("/preferences/bound", test_preferences);
  g_test_add_func ("/recent/models-and-images", test_recent);
  return g_test_run ();
}
