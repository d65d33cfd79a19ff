/* cli-project.c: `convlens-cli project MODEL IMAGE --layer L --channel C`,
 * a feature projected back into pixel space (Zeiler & Fergus's deconvnet,
 * guided backprop, gradient), a class logit's projection, a Grad-CAM heat
 * map, or a grid of the strongest channels of a layer
 *
 * The pictures use the engine's display normalisation
 * (lens_projection_to_rgb; docs/project.md gives the formula) and carry
 * the settings in PNG text chunks. */
#define G_LOG_DOMAIN "cli-project"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-common.h"

#include "lens-image.h"
#include "lens-npy.h"
#include "lens-project.h"

/* Grad-CAM: the heat map's weight over the input picture. */
#define GRADCAM_ALPHA 0.5
/* Grid: pixels between tiles, and the label under each tile. */
#define GRID_GAP      4
#define GLYPH_W       5
#define GLYPH_H       7

typedef struct
{
  /* what to project */
  const char         *layer_name;   /* NULL: the logits (class) / last map (gradcam) */
  int                 value;
  int                 channel;      /* -1: none (class, gradcam, grid only) */
  int                 klass;        /* -1: none (gradcam: the top class) */
  gboolean            gradcam;
  LensProjectOptions  opt;
  /* for the PNG text */
  const char         *model_path;
  const char         *mode_text;
  const char         *start_text;
  gboolean            bgr;
} Request;

/* ---------------------------------------------------------------- options */

static gboolean
parse_mode (const char *text,
            Request    *req)
{
  static const struct { const char *name; LensProjectMode mode; } modes[] = {
    { "deconv", LENS_PROJECT_DECONV },
    { "guided", LENS_PROJECT_GUIDED },
    { "gradient", LENS_PROJECT_GRADIENT },
  };

  req->mode_text = text != NULL ? text : "deconv";
  if (g_strcmp0 (req->mode_text, "gradcam") == 0)
    {
      req->gradcam = TRUE;
      req->opt.mode = LENS_PROJECT_GRADIENT;
      return TRUE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (modes); i++)
    if (g_str_equal (req->mode_text, modes[i].name))
      {
        req->opt.mode = modes[i].mode;
        return TRUE;
      }
  return FALSE;
}

/* "map", "max" or "X,Y" (non-negative integers). */
static gboolean
parse_start (const char *text,
             Request    *req)
{
  g_auto(GStrv) parts = NULL;
  guint64 x, y;

  req->start_text = text != NULL ? text : "max";
  if (g_str_equal (req->start_text, "map"))
    req->opt.start = LENS_START_MAP;
  else if (g_str_equal (req->start_text, "max"))
    req->opt.start = LENS_START_MAX;
  else
    {
      parts = g_strsplit (req->start_text, ",", -1);
      if (g_strv_length (parts) != 2
          || !g_ascii_string_to_unsigned (g_strstrip (parts[0]), 10, 0, G_MAXINT, &x, NULL)
          || !g_ascii_string_to_unsigned (g_strstrip (parts[1]), 10, 0, G_MAXINT, &y, NULL))
        return FALSE;
      req->opt.start = LENS_START_POINT;
      req->opt.x = (int) x;
      req->opt.y = (int) y;
    }
  return TRUE;
}

static gboolean
parse_lrn (const char *text,
           Request    *req)
{
  if (text == NULL)
    req->opt.lrn = LENS_LRN_DEFAULT;
  else if (g_str_equal (text, "skip"))
    req->opt.lrn = LENS_LRN_SKIP;
  else if (g_str_equal (text, "jacobian"))
    req->opt.lrn = LENS_LRN_JACOBIAN;
  else
    return FALSE;
  return TRUE;
}

/* ---------------------------------------------------------------- layers */

/* A layer by node name or output value name; -1 after printing an error
 * that lists the layers. */
static int
resolve_layer (LensNet    *net,
               const char *model_path,
               const char *name)
{
  int layer = lens_net_find_layer (net, name);
  int value;
  g_autoptr(GString) names = NULL;

  if (layer >= 0)
    return lens_net_layer_get_output (net, (guint) layer);
  value = lens_net_find_value (net, name);
  if (value >= 0 && lens_net_value_get_constant (net, value) == NULL
      && value != lens_net_get_input_value (net))
    return value;

  names = g_string_new (NULL);
  for (guint l = 0; l < lens_net_get_n_layers (net); l++)
    g_string_append_printf (names, "%s%s", l > 0 ? ", " : "", lens_net_layer_get_name (net, l));
  lens_cli_fail ("model '%s' has no layer named '%s'. The layers are: %s (their output names, "
                 "listed by '" LENS_CLI_NAME " info', work too).", model_path, name, names->str);
  return -1;
}

/* Grad-CAM's default: the output of the last convolution with a map larger
 * than 1x1, after the BatchNormalization, residual Add and activation
 * layers that directly follow it (the "last convolutional layer" of
 * Selvaraju et al.; for a ResNet the output of its last block). */
static int
last_conv_output (LensNet *net)
{
  static const char *const after[] = {
    "BatchNormalization", "Relu", "Clip", "LeakyRelu", "Add", "Sum", NULL
  };
  guint n = lens_net_get_n_layers (net);
  int value = -1;
  guint l;

  for (l = n; l-- > 0;)
    {
      const LensShape *s = lens_net_value_get_shape (net, lens_net_layer_get_output (net, l));

      if (g_str_equal (lens_net_layer_get_op (net, l), "Conv") && s != NULL && s->ndim == 4
          && s->dims[2] * s->dims[3] > 1)
        {
          value = lens_net_layer_get_output (net, l);
          break;
        }
    }
  for (l = l + 1; value >= 0 && l < n; l++)
    {
      gboolean follows = FALSE;

      for (guint i = 0; i < lens_net_layer_get_n_inputs (net, l); i++)
        follows |= lens_net_layer_get_input (net, l, i) == value;
      if (!follows || !g_strv_contains (after, lens_net_layer_get_op (net, l)))
        break;
      value = lens_net_layer_get_output (net, l);
    }
  return value;
}

static int
top_class (LensTrace *trace)
{
  const LensTensor *z = lens_trace_get_value (trace,
                                              lens_net_find_logits (lens_trace_get_net (trace)));
  gsize n = lens_tensor_numel (z) / (gsize) MAX (1, z->shape.dims[0]);
  const float *v = z->data;
  gsize best = 0;

  for (gsize i = 1; i < n; i++)
    if (v[i] > v[best])
      best = i;
  return (int) best;
}

/* ---------------------------------------------------------------- pictures */

/* The input as a picture: un-normalised with the profile, or (a .npy
 * without a profile) stretched from its minimum to its maximum.  NULL when
 * the input is not a 1- or 3-channel [N,C,H,W] tensor. */
static LensImage *
input_picture (const LensTensor  *input,
               const LensProfile *profile)
{
  LensPreprocess pre = { 0 };
  const float *v = input->data;
  gsize n = lens_tensor_numel (input);
  float lo = INFINITY, hi = -INFINITY;

  if (input->shape.ndim != 4 || (input->shape.dims[1] != 1 && input->shape.dims[1] != 3))
    return NULL;
  if (profile != NULL)
    return lens_image_from_tensor (input, &profile->pre);
  for (gsize i = 0; i < n; i++)
    {
      lo = MIN (lo, v[i]);
      hi = MAX (hi, v[i]);
    }
  pre.scale = 1.0f;
  for (int c = 0; c < 3; c++)
    {
      pre.mean[c] = lo;
      pre.std[c] = hi > lo ? hi - lo : 1.0f;
    }
  return lens_image_from_tensor (input, &pre);
}

/* 5x7 digits, one row a byte, bit 4 = leftmost column. */
static const guint8 digits[10][GLYPH_H] = {
  { 0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E },
  { 0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E },
  { 0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F },
  { 0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E },
  { 0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02 },
  { 0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E },
  { 0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E },
  { 0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08 },
  { 0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E },
  { 0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C },
};

/* Writes the decimal number n in white at (x, y), each font pixel a
 * scale x scale square, clipped to the canvas. */
static void
draw_number (guint8 *rgb,
             int     width,
             int     height,
             int     x,
             int     y,
             int     scale,
             int     n)
{
  char text[16];

  g_snprintf (text, sizeof text, "%d", n);
  for (int i = 0; text[i] != '\0'; i++, x += (GLYPH_W + 1) * scale)
    for (int r = 0; r < GLYPH_H * scale; r++)
      for (int col = 0; col < GLYPH_W * scale; col++)
        if (digits[text[i] - '0'][r / scale] & (0x10 >> (col / scale)))
          {
            int px = x + col, py = y + r;
            if (px >= 0 && px < width && py >= 0 && py < height)
              memset (rgb + ((gsize) py * width + px) * 3, 255, 3);
          }
}

static char *
box_text (const LensBox *b)
{
  return g_strdup_printf ("%d,%d,%d,%d", b->x0, b->y0, b->x1, b->y1);
}

/* The PNG text chunks: model, layer, channel, mode, start and the rest. */
static GPtrArray *
text_chunks (const Request *req,
             LensNet       *net,
             int            channel,
             int            klass)
{
  GPtrArray *kv = g_ptr_array_new_with_free_func (g_free);

#define ADD(k, v) G_STMT_START { g_ptr_array_add (kv, g_strdup (k)); \
                                 g_ptr_array_add (kv, (v)); } G_STMT_END
  ADD ("Software", g_strdup (LENS_CLI_NAME " " CONVLENS_VERSION));
  ADD ("model", g_path_get_basename (req->model_path));
  ADD ("layer", g_strdup (lens_net_value_get_name (net, req->value)));
  if (channel >= 0)
    ADD ("channel", g_strdup_printf ("%d", channel));
  if (klass >= 0)
    ADD ("class", g_strdup_printf ("%d", klass));
  ADD ("mode", g_strdup (req->mode_text));
  if (!req->gradcam && channel >= 0)
    ADD ("start", g_strdup (req->start_text));
  if (!req->gradcam)
    ADD ("lrn", g_strdup (req->opt.lrn == LENS_LRN_SKIP ? "skip"
                          : req->opt.lrn == LENS_LRN_JACOBIAN ? "jacobian" : "default"));
#undef ADD
  return kv;
}

static gboolean
save_png (const char   *path,
          const guint8 *rgb,
          int           width,
          int           height,
          GPtrArray    *kv)
{
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (kv, NULL);
  if (!lens_png_save_rgb (path, rgb, width, height, width * 3,
                          (const char * const *) kv->pdata, &error))
    {
      lens_cli_fail_file ("cannot write", path, error,
                          "Check that its folder exists and is writable");
      return FALSE;
    }
  return TRUE;
}

static gboolean
save_raw (const char       *path,
          const LensTensor *t)
{
  g_autoptr(GError) error = NULL;

  if (path != NULL && !lens_npy_save (path, t, &error))
    {
      lens_cli_fail_file ("cannot write", path, error,
                          "Check that its folder exists and is writable");
      return FALSE;
    }
  return TRUE;
}

/* ---------------------------------------------------------------- the work */

static int
fail_project (const GError *error)
{
  g_autofree char *text = lens_cli_error_text (error);

  return lens_cli_fail ("cannot project: %s.", text);
}

/* One projection (channel or class) or Grad-CAM map -> OUT.png (+ raw). */
static int
project_one (Request            *req,
             LensTrace          *trace,
             const LensCliInput *input,
             const char         *output,
             const char         *raw)
{
  LensNet *net = lens_trace_get_net (trace);
  g_autoptr(LensTensor) map = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) kv = NULL;
  g_autofree guint8 *rgb = NULL;
  int pos[2] = { 0, 0 }, width = 0, height = 0;
  LensBox rf = { 0 };

  if (req->gradcam)
    map = lens_gradcam (trace, req->value, req->klass, &error);
  else if (req->channel >= 0)
    map = lens_project_channel (trace, req->value, req->channel, &req->opt, &rf, pos, &error);
  else
    map = lens_project_class (trace, req->klass, &req->opt, &error);
  if (map == NULL)
    return fail_project (error);

  kv = text_chunks (req, net, req->channel, req->klass);
  if (req->gradcam)
    {
      g_autoptr(LensImage) picture = input_picture (input->tensor, input->profile);
      g_autofree guint8 *heat = lens_heatmap_to_rgb (map, &width, &height);
      g_autofree guint8 *base = NULL;

      if (picture == NULL || picture->width != width || picture->height != height)
        return lens_cli_fail ("cannot show the Grad-CAM map over input '%s' (not a 1- or "
                              "3-channel picture).", input->source);
      /* blend: (1 - alpha) * picture + alpha * heat map */
      base = lens_image_to_rgb8 (picture);
      rgb = g_malloc ((gsize) width * height * 3);
      for (gsize i = 0; i < (gsize) width * height * 3; i++)
        rgb[i] = (guint8) lround ((1.0 - GRADCAM_ALPHA) * base[i] + GRADCAM_ALPHA * heat[i]);
    }
  else
    {
      rgb = lens_projection_to_rgb (map, req->bgr, &width, &height);
      if (req->channel >= 0)
        {
          g_ptr_array_add (kv, g_strdup ("start-position"));
          g_ptr_array_add (kv, g_strdup_printf ("%d,%d", pos[0], pos[1]));
          g_ptr_array_add (kv, g_strdup ("receptive-field"));
          g_ptr_array_add (kv, box_text (&rf));
        }
    }

  if (!save_png (output, rgb, width, height, kv) || !save_raw (raw, map))
    return LENS_CLI_EXIT_RUNTIME;

  if (req->gradcam)
    printf ("Grad-CAM at %s for class %d -> %s\n", lens_net_value_get_name (net, req->value),
            req->klass, output);
  else if (req->channel >= 0)
    printf ("%s channel %d, %s, start %d,%d, receptive field x %d-%d y %d-%d -> %s\n",
            lens_net_value_get_name (net, req->value), req->channel, req->mode_text, pos[0],
            pos[1], rf.x0, rf.x1, rf.y0, rf.y1, output);
  else
    printf ("class %d, %s -> %s\n", req->klass, req->mode_text, output);
  return LENS_CLI_EXIT_OK;
}

/* The top-N channels of the layer by maximum activation, each projected
 * from its strongest activation (all in one engine call), in a grid
 * labelled with channel indices (best first, row by row). */
static int
project_grid (Request    *req,
              LensTrace  *trace,
              int         top,
              const char *grid_path)
{
  LensNet *net = lens_trace_get_net (trace);
  const LensShape *in = lens_net_get_input_shape (net);
  g_autofree int *channels = g_new (int, MAX (top, 1));
  g_autoptr(LensTensor) maps = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) kv = NULL;
  g_autoptr(GString) list = g_string_new (NULL);
  g_autofree guint8 *canvas = NULL;
  LensProjectOptions opt = req->opt;
  int W = (int) in->dims[3], H = (int) in->dims[2];
  int cols, rows, scale, label_h, cw, ch;
  gsize item;

  top = lens_project_rank_channels (trace, req->value, top, channels, &error);
  if (top < 1)
    return fail_project (error);
  opt.start = LENS_START_MAX;
  maps = lens_project_channels (trace, req->value, channels, top, &opt, NULL, NULL, &error);
  if (maps == NULL)
    return fail_project (error);
  item = lens_tensor_numel (maps) / (gsize) top;

  cols = (int) ceil (sqrt ((double) top));
  rows = (top + cols - 1) / cols;
  scale = CLAMP (W / 64, 1, 4);
  label_h = GLYPH_H * scale + 2 * GRID_GAP;
  cw = cols * (W + GRID_GAP) + GRID_GAP;
  ch = rows * (H + label_h) + GRID_GAP;
  canvas = g_malloc ((gsize) cw * ch * 3);
  memset (canvas, 32, (gsize) cw * ch * 3);

  for (int i = 0; i < top; i++)
    {
      g_autofree guint8 *rgb = NULL;
      LensTensor map = *maps;
      int x0 = GRID_GAP + (i % cols) * (W + GRID_GAP);
      int y0 = GRID_GAP + (i / cols) * (H + label_h);
      int w, h;

      /* item i as a batch-1 view */
      map.shape.dims[0] = 1;
      map.data = (float *) maps->data + (gsize) i * item;
      map.owns_data = FALSE;
      rgb = lens_projection_to_rgb (&map, req->bgr, &w, &h);
      for (int y = 0; y < MIN (h, H); y++)
        memcpy (canvas + ((gsize) (y0 + y) * cw + x0) * 3, rgb + (gsize) y * w * 3,
                (gsize) MIN (w, W) * 3);
      draw_number (canvas, cw, ch, x0, y0 + H + GRID_GAP, scale, channels[i]);
      g_string_append_printf (list, "%s%d", i > 0 ? "," : "", channels[i]);
    }

  kv = text_chunks (req, net, -1, -1);
  g_ptr_array_add (kv, g_strdup ("start"));
  g_ptr_array_add (kv, g_strdup ("max"));
  g_ptr_array_add (kv, g_strdup ("channels"));
  g_ptr_array_add (kv, g_strdup (list->str));
  if (!save_png (grid_path, canvas, cw, ch, kv))
    return LENS_CLI_EXIT_RUNTIME;
  printf ("top %d channels of %s by maximum activation: %s -> %s\n", top,
          lens_net_value_get_name (net, req->value), list->str, grid_path);
  return LENS_CLI_EXIT_OK;
}

/* Loads, runs and projects; returns the exit code. */
static int
run (Request             *req,
     const char          *image_path,
     const char          *npy_path,
     const char          *profile_path,
     const LensCliCommon *common,
     const char          *output,
     const char          *raw,
     int                  top,
     const char          *grid)
{
  g_autoptr(LensNet) net = NULL;
  g_autoptr(LensTrace) trace = NULL;
  g_autoptr(GError) error = NULL;
  LensCliInput input = { 0 };
  int status = LENS_CLI_EXIT_OK;

  net = lens_cli_load_net (req->model_path, common, &status);
  if (net == NULL)
    return status;
  if (!lens_cli_load_input (net, req->model_path, image_path, npy_path, profile_path, &input))
    return LENS_CLI_EXIT_RUNTIME;
  req->bgr = input.profile != NULL && input.profile->pre.bgr;

  if (req->layer_name != NULL)
    req->value = resolve_layer (net, req->model_path, req->layer_name);
  else if (req->gradcam)
    {
      req->value = last_conv_output (net);
      if (req->value < 0)
        status = lens_cli_fail ("model '%s' has no convolution with a spatial map for "
                                "Grad-CAM. Name a layer with --layer.", req->model_path);
    }
  else
    req->value = lens_net_find_logits (net);
  if (req->value < 0)
    status = LENS_CLI_EXIT_RUNTIME;

  if (status == LENS_CLI_EXIT_OK)
    {
      trace = lens_trace_new (net, 1, &error);
      if (trace == NULL || !lens_trace_set_input (trace, input.tensor, &error)
          || !lens_trace_run (trace, NULL, &error))
        {
          g_autofree char *text = lens_cli_error_text (error);
          status = lens_cli_fail ("cannot run model '%s' on '%s': %s. Check that the input "
                                  "matches the model.", req->model_path, input.source, text);
        }
    }
  if (status == LENS_CLI_EXIT_OK && req->gradcam && req->klass < 0)
    req->klass = top_class (trace);
  if (status == LENS_CLI_EXIT_OK && output != NULL)
    status = project_one (req, trace, &input, output, raw);
  if (status == LENS_CLI_EXIT_OK && top > 0)
    status = project_grid (req, trace, top, grid);

  lens_cli_input_clear (&input);
  return status;
}

int
lens_cli_project (int    argc,
                  char **argv)
{
  LensCliCommon common = LENS_CLI_COMMON_INIT;
  char *layer = NULL, *mode = NULL, *start = NULL, *lrn = NULL;
  char *output = NULL, *raw = NULL, *grid = NULL, *input_npy = NULL, *profile_path = NULL;
  int channel = -1, klass = -1, top = 0;
  const GOptionEntry entries[] = {
    { "layer", 'l', 0, G_OPTION_ARG_STRING, &layer,
      "Layer to project from: a layer name or its output name (see 'info')", "NAME" },
    { "channel", 'c', 0, G_OPTION_ARG_INT, &channel, "Channel (feature map) of the layer", "C" },
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &mode,
      "deconv (Zeiler & Fergus, default), guided, gradient or gradcam", "MODE" },
    { "start", 's', 0, G_OPTION_ARG_STRING, &start,
      "map (the whole feature map), max (its strongest activation, default) or X,Y (one "
      "position of the feature map)", "START" },
    { "class", 'k', 0, G_OPTION_ARG_INT, &klass,
      "Project class K's logit (without --layer), or the class of Grad-CAM (default: the "
      "top class)", "K" },
    { "lrn", 0, 0, G_OPTION_ARG_STRING, &lrn,
      "LRN on the way back: skip (default in deconv mode) or jacobian (default otherwise)",
      "MODE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "PNG to write", "OUT.png" },
    { "raw", 0, 0, G_OPTION_ARG_FILENAME, &raw,
      "Also write the projection as a float32 .npy [1,C,H,W] (Grad-CAM: [1,1,H,W])",
      "OUT.npy" },
    { "top-channels", 0, 0, G_OPTION_ARG_INT, &top,
      "Project the N channels of --layer with the largest maximum activation ('max' start) "
      "into the --grid picture", "N" },
    { "grid", 0, 0, G_OPTION_ARG_FILENAME, &grid, "PNG for --top-channels", "OUT.png" },
    { "input-npy", 0, 0, G_OPTION_ARG_FILENAME, &input_npy,
      "Use this float32 NCHW .npy array (already preprocessed) instead of an IMAGE", "FILE" },
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile_path,
      "Preprocessing profile (default: NAME.convlens.json beside the model, or guessed)",
      "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  Request req = { .channel = -1, .klass = -1, .value = -1 };
  int status = LENS_CLI_EXIT_OK;

  context = lens_cli_context_new ("project", "MODEL [IMAGE]",
                                  "Project a feature (--layer and --channel), a class logit "
                                  "(--class) or a Grad-CAM map back onto the input IMAGE (or "
                                  "the tensor given with --input-npy) and write it as a PNG.",
                                  entries, &common);
  if (!lens_cli_parse (context, "project", &common, &argc, &argv))
    status = LENS_CLI_EXIT_USAGE;
  else if (argc < 2)
    status = lens_cli_usage_error ("project", "missing MODEL");
  else if (argc > 3)
    status = lens_cli_usage_error ("project", "too many arguments (expected MODEL and one "
                                   "IMAGE)");
  else if (argc == 3 && input_npy != NULL)
    status = lens_cli_usage_error ("project", "give either IMAGE or --input-npy, not both");
  else if (argc == 2 && input_npy == NULL)
    status = lens_cli_usage_error ("project", "missing IMAGE (or --input-npy FILE)");
  else if (!parse_mode (mode, &req))
    status = lens_cli_usage_error ("project", "--mode must be deconv, guided, gradient or "
                                   "gradcam, not '%s'", mode);
  else if (!parse_start (start, &req))
    status = lens_cli_usage_error ("project", "--start must be map, max or X,Y, not '%s'",
                                   start);
  else if (!parse_lrn (lrn, &req))
    status = lens_cli_usage_error ("project", "--lrn must be skip or jacobian, not '%s'", lrn);
  else if (channel < -1 || klass < -1)
    status = lens_cli_usage_error ("project", "--channel and --class must not be negative");
  else if (req.gradcam && (channel >= 0 || start != NULL || lrn != NULL || top != 0))
    status = lens_cli_usage_error ("project", "--channel, --start, --lrn and --top-channels do "
                                   "not apply to --mode gradcam");
  else if (!req.gradcam && klass >= 0 && (layer != NULL || channel >= 0 || top != 0))
    status = lens_cli_usage_error ("project", "--class projects the class logit: leave out "
                                   "--layer, --channel and --top-channels");
  else if (!req.gradcam && klass < 0 && layer == NULL)
    status = lens_cli_usage_error ("project", "missing --layer NAME (or --class K)");
  else if (!req.gradcam && klass < 0 && channel < 0 && top == 0)
    status = lens_cli_usage_error ("project", "missing --channel C (or --top-channels N)");
  else if (top < 0 || (top > 0) != (grid != NULL))
    status = lens_cli_usage_error ("project", "--top-channels N (N >= 1) and --grid OUT.png "
                                   "go together");
  else if (output == NULL && (req.gradcam || klass >= 0 || channel >= 0))
    status = lens_cli_usage_error ("project", "missing --output OUT.png");
  else if (output != NULL && !req.gradcam && klass < 0 && channel < 0)
    status = lens_cli_usage_error ("project", "--output needs --channel C");
  else if (raw != NULL && output == NULL)
    status = lens_cli_usage_error ("project", "--raw goes with --output");
  else
    {
      const char *image_path = argc == 3 ? argv[2] : NULL;

      req.model_path = argv[1];
      req.layer_name = layer;
      req.channel = channel;
      req.klass = klass;
      lens_cli_apply_threads (&common);
      status = run (&req, image_path, input_npy, profile_path, &common, output, raw, top, grid);
    }

  lens_cli_common_clear (&common);
  g_free (layer);
  g_free (mode);
  g_free (start);
  g_free (lrn);
  g_free (output);
  g_free (raw);
  g_free (grid);
  g_free (input_npy);
  g_free (profile_path);
  return status;
}
