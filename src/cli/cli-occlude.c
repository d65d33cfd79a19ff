/* cli-occlude.c: `convlens-cli occlude MODEL IMAGE`, the occlusion
 * sensitivity sweep of Zeiler & Fergus (section 4.2) as three heat maps over
 * the image, and `convlens-cli occlude-at MODEL IMAGE --x X --y Y`, one
 * position of the square (what the GUI computes while the occluder is
 * dragged).
 *
 * Both run the engine's incremental occlusion (lens-occlude.h); --full
 * makes it recompute whole layers, the baseline for tests and benchmarks.
 */
#define G_LOG_DOMAIN "cli-occlude"

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli-common.h"
#include "lens-image.h"
#include "lens-npy.h"
#include "lens-occlude.h"
#include "lens-project.h"

int lens_cli_occlude    (int    argc,
                         char **argv);
int lens_cli_occlude_at (int    argc,
                         char **argv);

#define UNSET G_MININT

/* Heat map over the image: share of the colour map in each pixel. */
#define OVERLAY_ALPHA 0.6
/* Classes listed in the legend of the class map (the most frequent). */
#define LEGEND_MAX    16

typedef struct
{
  LensCliCommon common;
  char         *input_npy;
  char         *profile_path;
  int           size;
  int           stride;
  char         *fill;
  int           klass;
  char         *layer;
  int           channel;
  gboolean      full;
  gboolean      partial;
  gboolean      json;
  /* occlude */
  char         *output;
  gboolean      raw;
  /* occlude-at */
  int           x, y;
} Options;

/* Everything a verb needs once the model, input and options are checked. */
typedef struct
{
  const char         *model_path;
  LensNet            *net;
  LensCliInput        input;
  LensOccludeOptions  opts;
  char               *fill_text;   /* "mean" or "R,G,B" as given */
  LensOccluder       *occ;
  int                 H, W;
  guint               n_classes;
  double              setup_s;
} Setup;

static void
options_clear (Options *o)
{
  lens_cli_common_clear (&o->common);
  g_clear_pointer (&o->input_npy, g_free);
  g_clear_pointer (&o->profile_path, g_free);
  g_clear_pointer (&o->fill, g_free);
  g_clear_pointer (&o->layer, g_free);
  g_clear_pointer (&o->output, g_free);
}

static void
setup_clear (Setup *s)
{
  g_clear_pointer (&s->occ, lens_occluder_free);
  lens_cli_input_clear (&s->input);
  g_clear_pointer (&s->net, lens_net_unref);
  g_clear_pointer (&s->fill_text, g_free);
}

static double
now_s (void)
{
  return (double) g_get_monotonic_time () / 1e6;
}

/* Labels only when there is one per class (as in `predict`). */
static const char *
class_label (const Setup *s,
             int          k)
{
  const LensProfile *p = s->input.profile;

  if (p == NULL || p->n_labels != s->n_classes || k < 0)
    return NULL;
  return lens_profile_get_label (p, (guint) k);
}

/* "mean" (zero after normalisation) or R,G,B (or one gray value) in 0..255
 * pixel units, turned into the tensor's normalised values with the
 * profile's scale, mean, std and channel order. */
static gboolean
parse_fill (const char        *verb,
            const char        *text,
            const LensProfile *profile,
            int                channels,
            float              fill[3],
            int               *status)
{
  g_auto (GStrv) parts = NULL;
  double rgb[3];
  guint n;

  fill[0] = fill[1] = fill[2] = 0.0f;
  if (text == NULL || g_ascii_strcasecmp (text, "mean") == 0)
    return TRUE;
  parts = g_strsplit (text, ",", -1);
  n = g_strv_length (parts);
  if (n != 1 && n != 3)
    goto bad;
  for (guint i = 0; i < n; i++)
    {
      char *end = NULL;
      rgb[i] = g_ascii_strtod (g_strstrip (parts[i]), &end);
      if (end == parts[i] || *end != '\0' || !(rgb[i] >= 0.0 && rgb[i] <= 255.0))
        goto bad;
    }
  if (n == 1)
    rgb[1] = rgb[2] = rgb[0];
  if (profile == NULL)
    {
      *status = lens_cli_usage_error (verb, "--fill %s needs the model's preprocessing "
                                      "(mean, std): pass --profile FILE, or use --fill mean",
                                      text);
      return FALSE;
    }
  {
    const LensPreprocess *pre = &profile->pre;

    if (channels == 1)
      {
        double luma = (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / 255.0;
        fill[0] = fill[1] = fill[2] = (float) ((luma * pre->scale - pre->mean[0]) / pre->std[0]);
        return TRUE;
      }
    for (int c = 0; c < 3; c++)
      {
        double p = rgb[pre->bgr ? 2 - c : c] / 255.0;
        fill[c] = (float) ((p * pre->scale - pre->mean[c]) / pre->std[c]);
      }
  }
  return TRUE;

bad:
  *status = lens_cli_usage_error (verb, "--fill must be 'mean' or R,G,B with values from 0 "
                                  "to 255 (for example 128,128,128), not '%s'", text);
  return FALSE;
}

/* Checks the operands, loads model and input and plans the occluder.
 * Returns an exit status (LENS_CLI_EXIT_OK: s is ready). */
static int
setup (const char *verb,
       Options    *o,
       int         argc,
       char      **argv,
       Setup      *s)
{
  g_autoptr (GError) error = NULL;
  const LensShape *in;
  int status = LENS_CLI_EXIT_OK;
  int layer_value = -1;
  int side;
  double t0;

  memset (s, 0, sizeof *s);
  if (argc < 2)
    return lens_cli_usage_error (verb, "missing MODEL");
  if (argc > 3)
    return lens_cli_usage_error (verb, "too many arguments (expected MODEL and one IMAGE)");
  if (argc == 3 && o->input_npy != NULL)
    return lens_cli_usage_error (verb, "give either IMAGE or --input-npy, not both");
  if (argc == 2 && o->input_npy == NULL)
    return lens_cli_usage_error (verb, "missing IMAGE (or --input-npy FILE)");
  if (o->size != UNSET && o->size < 1)
    return lens_cli_usage_error (verb, "--size must be at least 1, not %d", o->size);
  if (o->stride != UNSET && o->stride < 1)
    return lens_cli_usage_error (verb, "--stride must be at least 1, not %d", o->stride);
  if (o->klass != UNSET && o->klass < 0)
    return lens_cli_usage_error (verb, "--class must be a class index (0 or more), not %d",
                                 o->klass);
  if (o->channel != UNSET && o->channel < 0)
    return lens_cli_usage_error (verb, "--channel must be 0 or more, not %d", o->channel);

  s->model_path = argv[1];
  lens_cli_apply_threads (&o->common);
  s->net = lens_cli_load_net (s->model_path, &o->common, &status);
  if (s->net == NULL)
    return status;
  in = lens_net_get_input_shape (s->net);
  if (in == NULL || in->ndim != 4)
    return lens_cli_fail ("model '%s' does not take an image ([1,C,H,W] input): occlusion "
                          "needs one.", s->model_path);
  if (!lens_cli_load_input (s->net, s->model_path, argc == 3 ? argv[2] : NULL, o->input_npy,
                            o->profile_path, &s->input))
    return LENS_CLI_EXIT_RUNTIME;
  s->H = (int) in->dims[2];
  s->W = (int) in->dims[3];
  {
    int out = lens_net_get_output_value (s->net);
    const LensShape *os = lens_net_value_get_shape (s->net, out);
    gsize n = 1;
    for (int d = 0; d < os->ndim; d++)
      n *= (gsize) os->dims[d];
    s->n_classes = (guint) n;
  }

  if (o->layer != NULL)
    {
      int layer = lens_net_find_layer (s->net, o->layer);
      layer_value = layer >= 0 ? lens_net_layer_get_output (s->net, (guint) layer)
                               : lens_net_find_value (s->net, o->layer);
      if (layer_value < 0)
        return lens_cli_usage_error (verb, "model '%s' has no layer or value named '%s' "
                                     "(run '" LENS_CLI_NAME " info MODEL' for the names)",
                                     s->model_path, o->layer);
    }

  lens_occlude_options_init (&s->opts);
  /* the paper's proportions: a square of 1/7 of the side, stride 1/4 of it */
  side = MIN (s->H, s->W);
  s->opts.size = o->size != UNSET ? o->size : MAX (1, (int) lround (side / 7.0));
  s->opts.stride = o->stride != UNSET ? o->stride : MAX (1, (int) lround (s->opts.size / 4.0));
  s->opts.target_class = o->klass != UNSET ? o->klass : -1;
  s->opts.layer_value = layer_value;
  s->opts.channel = o->channel != UNSET ? o->channel : -1;
  s->opts.partial = o->partial;
  s->opts.full = o->full;
  if (!parse_fill (verb, o->fill, s->input.profile, (int) in->dims[1], s->opts.fill, &status))
    return status;
  s->fill_text = g_strdup (o->fill != NULL ? o->fill : "mean");

  t0 = now_s ();
  s->occ = lens_occluder_new (s->net, s->input.tensor, &s->opts, &error);
  s->setup_s = now_s () - t0;
  if (s->occ == NULL)
    {
      g_autofree char *text = lens_cli_error_text (error);

      /* out-of-range options are the user's to fix */
      if (g_error_matches (error, LENS_OCCLUDE_ERROR, LENS_OCCLUDE_ERROR_ARGS))
        return lens_cli_usage_error (verb, "%s", text);
      return lens_cli_fail ("cannot occlude with model '%s' on '%s': %s.", s->model_path,
                            s->input.source, text);
    }
  return LENS_CLI_EXIT_OK;
}

static void
json_add_class (JsonBuilder *b,
                const Setup *s,
                int          k)
{
  json_builder_set_member_name (b, "class");
  json_builder_add_int_value (b, k);
  json_builder_set_member_name (b, "label");
  lens_cli_json_add_string (b, class_label (s, k));
}

static const char *
layer_name (const Setup *s)
{
  int v = lens_occluder_get_layer_value (s->occ);

  return v >= 0 ? lens_net_value_get_name (s->net, v) : NULL;
}

/* ---- rendering ------------------------------------------------------------ */

/* The un-normalised input at its own size, as RGB bytes. */
static guint8 *
backdrop_rgb (const Setup *s)
{
  const LensTensor *t = s->input.tensor;
  int C = (int) t->shape.dims[1], H = s->H, W = s->W;
  const float *x = t->data;
  guint8 *rgb;

  if (s->input.profile != NULL && (C == 1 || C == 3))
    {
      g_autoptr (LensImage) img = lens_image_from_tensor (t, &s->input.profile->pre);
      if (img != NULL)
        return lens_image_to_rgb8 (img);
    }
  /* no preprocessing known: stretch the values to the gray range */
  {
    float lo = INFINITY, hi = -INFINITY;
    gsize plane = (gsize) H * W, n = plane * C;

    for (gsize i = 0; i < n; i++)
      {
        lo = MIN (lo, x[i]);
        hi = MAX (hi, x[i]);
      }
    rgb = g_malloc (plane * 3);
    for (gsize i = 0; i < plane; i++)
      for (int c = 0; c < 3; c++)
        {
          float v = x[(gsize) (C == 3 ? c : 0) * plane + i];
          rgb[i * 3 + c] = (guint8) (hi > lo ? lroundf (255.0f * (v - lo) / (hi - lo)) : 128);
        }
  }
  return rgb;
}

/* 256 entries of the engine's perceptual colour map. */
static guint8 *
colormap_lut (void)
{
  float ramp[256];
  LensTensor t = { LENS_DTYPE_FLOAT32, { 2, { 1, 256 } }, ramp, FALSE };
  int w, h;

  for (int i = 0; i < 256; i++)
    ramp[i] = (float) i;
  return lens_heatmap_to_rgb (&t, &w, &h);
}

/* Where an image coordinate falls between the centres of the squares of
 * one grid axis: indices i0, i1 and the weight of i1. */
typedef struct
{
  int   i0, i1;
  float w;
} Interp;

static Interp *
axis_interp (const int *pos,
             int        n,
             int        size,
             int        extent,
             int        zoom)
{
  Interp *r = g_new (Interp, (gsize) extent * zoom);
  g_autofree double *centre = g_new (double, n);

  for (int i = 0; i < n; i++)
    centre[i] = (MAX (pos[i], 0) + MIN (pos[i] + size, extent)) / 2.0;
  for (int p = 0; p < extent * zoom; p++)
    {
      double u = (p + 0.5) / zoom;
      int i = 0;

      while (i + 1 < n && centre[i + 1] <= u)
        i++;
      r[p].i0 = i;
      r[p].i1 = MIN (i + 1, n - 1);
      r[p].w = (r[p].i1 == i || u <= centre[i]) ? 0.0f
               : (float) ((u - centre[i]) / (centre[i + 1] - centre[i]));
    }
  return r;
}

typedef enum
{
  MAP_PROB,
  MAP_CLASS,
  MAP_FEATURE,
} MapKind;

typedef struct
{
  const Setup            *s;
  const LensOcclusionMap *map;
  const guint8           *base;     /* W*H*3 */
  const guint8           *lut;      /* 256*3 */
  int                     zoom;
  /* class map: colour index per class that appears, in legend order */
  GArray                 *classes;  /* of int, most frequent first */
  GHashTable             *counts;   /* class -> count */
} Render;

/* A qualitative palette for the class map (distinct hues, then darker and
 * lighter versions). */
static const guint8 palette[][3] = {
  { 31, 119, 180 }, { 255, 127, 14 }, { 44, 160, 44 }, { 214, 39, 40 },
  { 148, 103, 189 }, { 140, 86, 75 }, { 227, 119, 194 }, { 127, 127, 127 },
  { 188, 189, 34 }, { 23, 190, 207 }, { 174, 199, 232 }, { 255, 187, 120 },
  { 152, 223, 138 }, { 255, 152, 150 }, { 197, 176, 213 }, { 196, 156, 148 },
};

static const guint8 *
class_colour (const Render *r,
              int           k)
{
  for (guint i = 0; i < r->classes->len; i++)
    if (g_array_index (r->classes, int, i) == k)
      return palette[i % G_N_ELEMENTS (palette)];
  return palette[7];
}

static void
values_range (const float *v,
              int          n,
              float       *lo,
              float       *hi)
{
  *lo = INFINITY;
  *hi = -INFINITY;
  for (int i = 0; i < n; i++)
    {
      *lo = MIN (*lo, v[i]);
      *hi = MAX (*hi, v[i]);
    }
}

/* The zoomed panel: colours of the map, interpolated between the centres
 * of the squares (class map: the nearest centre), blended over the image.
 * Returns cairo RGB24 pixels with the given stride. */
static guint8 *
render_panel (const Render *r,
              MapKind       kind,
              int          *stride_out)
{
  const LensOcclusionMap *m = r->map;
  int W = r->s->W, H = r->s->H, z = r->zoom;
  int pw = W * z, ph = H * z;
  int stride = cairo_format_stride_for_width (CAIRO_FORMAT_RGB24, pw);
  guint8 *pix = g_malloc0 ((gsize) stride * ph);
  g_autofree Interp *ix = axis_interp (m->xs, m->n_x, m->size, W, z);
  g_autofree Interp *iy = axis_interp (m->ys, m->n_y, m->size, H, z);
  const float *v = kind == MAP_PROB ? m->prob : m->feature;
  float lo = 0.0f, hi = 0.0f;

  if (kind != MAP_CLASS)
    values_range (v, m->n_y * m->n_x, &lo, &hi);
  for (int py = 0; py < ph; py++)
    {
      guint32 *row = (guint32 *) (pix + (gsize) py * stride);
      const Interp *a = &iy[py];

      for (int px = 0; px < pw; px++)
        {
          const Interp *b = &ix[px];
          const guint8 *under = r->base + ((gsize) (py / z) * W + px / z) * 3;
          const guint8 *c;
          guint8 out[3];

          if (kind == MAP_CLASS)
            {
              int gy = a->w < 0.5f ? a->i0 : a->i1, gx = b->w < 0.5f ? b->i0 : b->i1;
              c = class_colour (r, m->top_class[gy * m->n_x + gx]);
            }
          else
            {
              float v00 = v[a->i0 * m->n_x + b->i0], v01 = v[a->i0 * m->n_x + b->i1];
              float v10 = v[a->i1 * m->n_x + b->i0], v11 = v[a->i1 * m->n_x + b->i1];
              float t = (1 - a->w) * ((1 - b->w) * v00 + b->w * v01) +
                        a->w * ((1 - b->w) * v10 + b->w * v11);
              int li = hi > lo ? (int) lroundf (255.0f * (t - lo) / (hi - lo)) : 0;
              c = r->lut + CLAMP (li, 0, 255) * 3;
            }
          for (int q = 0; q < 3; q++)
            out[q] = (guint8) lround (OVERLAY_ALPHA * c[q] + (1.0 - OVERLAY_ALPHA) * under[q]);
          row[px] = ((guint32) out[0] << 16) | ((guint32) out[1] << 8) | out[2];
        }
    }
  *stride_out = stride;
  return pix;
}

static void
set_rgb (cairo_t      *cr,
         const guint8 *c)
{
  cairo_set_source_rgb (cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0);
}

static void
draw_text (cairo_t    *cr,
           double      x,
           double      y,
           double      size,
           const char *text)
{
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  cairo_set_font_size (cr, size);
  cairo_move_to (cr, x, y);
  cairo_show_text (cr, text);
}

#define MARGIN   12
#define TITLE_H  40
#define BAR_W    16
#define GAP      14
#define LABELS_W 80
#define LEGEND_W 300
#define ROW_H    18

static char *
map_title (const Render *r,
           MapKind       kind)
{
  const Setup *s = r->s;
  int target = lens_occluder_get_target_class (s->occ);
  const char *label = class_label (s, target);

  switch (kind)
    {
    case MAP_PROB:
      return g_strdup_printf ("p(class %d%s%s) under the occluder", target,
                              label ? " " : "", label ? label : "");
    case MAP_CLASS:
      return g_strdup ("most probable class under the occluder");
    case MAP_FEATURE:
    default:
      return g_strdup_printf ("total activation of %s, channel %d", layer_name (s),
                              lens_occluder_get_channel (s->occ));
    }
}

/* Draws one figure (title, panel, colour bar or legend) and writes it as a
 * PNG with the settings in its text chunks. */
static gboolean
write_figure (const Render *r,
              MapKind       kind,
              const char   *path,
              GError      **error)
{
  const Setup *s = r->s;
  const LensOcclusionMap *m = r->map;
  int pw = s->W * r->zoom, ph = s->H * r->zoom;
  int side_w = kind == MAP_CLASS ? LEGEND_W : BAR_W + LABELS_W;
  int n_rows = kind == MAP_CLASS ? (int) MIN (r->classes->len, LEGEND_MAX + 1) : 0;
  int fw = MARGIN + pw + GAP + side_w + MARGIN;
  int fh = MARGIN + TITLE_H + MAX (ph, n_rows * ROW_H) + MARGIN;
  int pstride;
  g_autofree guint8 *panel = render_panel (r, kind, &pstride);
  g_autofree guint8 *rgb = NULL;
  g_autofree char *title = map_title (r, kind);
  g_autofree char *subtitle = NULL;
  cairo_surface_t *surface, *img;
  cairo_t *cr;
  double px0 = MARGIN, py0 = MARGIN + TITLE_H, sx = px0 + pw + GAP;
  gboolean ok;

  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, fw, fh);
  cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

  draw_text (cr, MARGIN, MARGIN + 13, 13, title);
  subtitle = g_strdup_printf ("%s: square %d, stride %d, fill %s, %d x %d positions",
                              lens_net_get_name (s->net), m->size, m->stride, s->fill_text,
                              m->n_x, m->n_y);
  draw_text (cr, MARGIN, MARGIN + 31, 11, subtitle);

  img = cairo_image_surface_create_for_data (panel, CAIRO_FORMAT_RGB24, pw, ph, pstride);
  cairo_set_source_surface (cr, img, px0, py0);
  cairo_paint (cr);
  cairo_surface_destroy (img);

  if (kind == MAP_PROB)
    {
      /* outline the position that hurts the target class most */
      int best = 0;
      for (int i = 1; i < m->n_y * m->n_x; i++)
        if (m->prob[i] < m->prob[best])
          best = i;
      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_set_line_width (cr, 1.5);
      cairo_rectangle (cr, px0 + MAX (m->xs[best % m->n_x], 0) * r->zoom + 0.75,
                       py0 + MAX (m->ys[best / m->n_x], 0) * r->zoom + 0.75,
                       (MIN (m->xs[best % m->n_x] + m->size, s->W) - MAX (m->xs[best % m->n_x], 0)) *
                       r->zoom - 1.5,
                       (MIN (m->ys[best / m->n_x] + m->size, s->H) - MAX (m->ys[best / m->n_x], 0)) *
                       r->zoom - 1.5);
      cairo_stroke (cr);
    }

  if (kind == MAP_CLASS)
    {
      for (int i = 0; i < n_rows; i++)
        {
          double y = py0 + i * ROW_H;
          g_autofree char *text = NULL;

          if (i == LEGEND_MAX)
            {
              text = g_strdup_printf ("... and %u more classes", r->classes->len - LEGEND_MAX);
              draw_text (cr, sx, y + 12, 11, text);
              break;
            }
          {
            int k = g_array_index (r->classes, int, i);
            const char *label = class_label (s, k);
            int n = GPOINTER_TO_INT (g_hash_table_lookup (r->counts, GINT_TO_POINTER (k)));
            g_autofree char *shown = label ? g_utf8_substring (label, 0,
                                                               MIN (g_utf8_strlen (label, -1), 26))
                                           : NULL;

            set_rgb (cr, palette[i % G_N_ELEMENTS (palette)]);
            cairo_rectangle (cr, sx, y + 2, 14, 14);
            cairo_fill (cr);
            text = g_strdup_printf ("%d%s%s (%.0f%%)", k, shown ? " " : "", shown ? shown : "",
                                    100.0 * n / (m->n_y * m->n_x));
            draw_text (cr, sx + 20, y + 13, 11, text);
          }
        }
    }
  else
    {
      const float *v = kind == MAP_PROB ? m->prob : m->feature;
      float lo, hi;

      values_range (v, m->n_y * m->n_x, &lo, &hi);
      /* the colour bar: top = highest value */
      for (int y = 0; y < ph; y++)
        {
          int li = ph > 1 ? (int) lround (255.0 * (ph - 1 - y) / (ph - 1)) : 0;
          set_rgb (cr, r->lut + (hi > lo ? li : 0) * 3);
          cairo_rectangle (cr, sx, py0 + y, BAR_W, 1);
          cairo_fill (cr);
        }
      for (int t = 0; t < 3; t++)
        {
          double f = t / 2.0;
          double y = py0 + (1.0 - f) * (ph - 1);
          g_autofree char *text = g_strdup_printf ("%.4g", lo + f * (hi - lo));

          cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
          cairo_set_line_width (cr, 1);
          cairo_move_to (cr, sx + BAR_W, y + 0.5);
          cairo_line_to (cr, sx + BAR_W + 4, y + 0.5);
          cairo_stroke (cr);
          draw_text (cr, sx + BAR_W + 6, CLAMP (y + 4, py0 + 9, py0 + ph), 11, text);
          if (hi <= lo)
            break;
        }
    }
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  /* cairo's xRGB words to RGB bytes */
  {
    const guint8 *data = cairo_image_surface_get_data (surface);
    int stride = cairo_image_surface_get_stride (surface);

    rgb = g_malloc ((gsize) fw * fh * 3);
    for (int y = 0; y < fh; y++)
      for (int x = 0; x < fw; x++)
        {
          guint32 p = ((const guint32 *) (data + (gsize) y * stride))[x];
          guint8 *o = rgb + ((gsize) y * fw + x) * 3;
          o[0] = (p >> 16) & 0xff;
          o[1] = (p >> 8) & 0xff;
          o[2] = p & 0xff;
        }
  }
  cairo_surface_destroy (surface);

  {
    static const char *const names[] = { "probability", "class", "feature" };
    g_autofree char *size = g_strdup_printf ("%d", m->size);
    g_autofree char *stride = g_strdup_printf ("%d", m->stride);
    g_autofree char *klass = g_strdup_printf ("%d", lens_occluder_get_target_class (s->occ));
    g_autofree char *channel = g_strdup_printf ("%d", lens_occluder_get_channel (s->occ));
    g_autofree char *grid = g_strdup_printf ("%dx%d", m->n_y, m->n_x);
    const char *layer = layer_name (s);
    const char *kv[] = {
      "Software", LENS_CLI_NAME " occlude",
      "Title", title,
      "Map", names[kind],
      "Model", lens_net_get_name (s->net),
      "Model file", s->model_path,
      "Input", s->input.source,
      "Size", size,
      "Stride", stride,
      "Fill", s->fill_text,
      "Class", klass,
      "Layer", layer != NULL ? layer : "",
      "Channel", channel,
      "Grid", grid,
      "Partial", s->opts.partial ? "yes" : "no",
      NULL
    };
    ok = lens_png_save_rgb (path, rgb, fw, fh, fw * 3, kv, error);
  }
  return ok;
}

static gint
compare_count (gconstpointer a,
               gconstpointer b,
               gpointer      user_data)
{
  GHashTable *counts = user_data;
  int ka = *(const int *) a, kb = *(const int *) b;
  int na = GPOINTER_TO_INT (g_hash_table_lookup (counts, GINT_TO_POINTER (ka)));
  int nb = GPOINTER_TO_INT (g_hash_table_lookup (counts, GINT_TO_POINTER (kb)));

  return na != nb ? nb - na : ka - kb;
}

static gboolean
write_npy (const char  *path,
           const float *v,
           int          n_y,
           int          n_x,
           GError     **error)
{
  LensShape shape = { 2, { n_y, n_x } };
  g_autoptr (LensTensor) t = lens_tensor_new_view (LENS_DTYPE_FLOAT32, &shape, (void *) v);

  return lens_npy_save (path, t, error);
}

/* ---- occlude ---------------------------------------------------------------- */

typedef struct
{
  gboolean tty;
  int      last;
} Progress;

static void
on_progress (double   fraction,
             gpointer user_data)
{
  Progress *p = user_data;
  int percent = (int) floor (fraction * 100.0);

  if (!p->tty || percent == p->last)
    return;
  p->last = percent;
  fprintf (stderr, "\r" LENS_CLI_NAME " occlude: %3d%%", percent);
  fflush (stderr);
}

static void
print_summary_json (const Setup            *s,
                    const LensOcclusionMap *m,
                    double                  sweep_s,
                    int                     worst,
                    GPtrArray              *written)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const LensOcclusionPoint *clean = lens_occluder_get_clean (s->occ);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  lens_cli_json_add_string (b, s->model_path);
  json_builder_set_member_name (b, "input");
  lens_cli_json_add_string (b, s->input.source);
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, m->size);
  json_builder_set_member_name (b, "stride");
  json_builder_add_int_value (b, m->stride);
  json_builder_set_member_name (b, "fill");
  lens_cli_json_add_string (b, s->fill_text);
  json_builder_set_member_name (b, "fill_normalised");
  json_builder_begin_array (b);
  for (int c = 0; c < 3; c++)
    json_builder_add_double_value (b, s->opts.fill[c]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "partial");
  json_builder_add_boolean_value (b, s->opts.partial);
  json_builder_set_member_name (b, "full");
  json_builder_add_boolean_value (b, s->opts.full);

  json_builder_set_member_name (b, "grid");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "n_y");
  json_builder_add_int_value (b, m->n_y);
  json_builder_set_member_name (b, "n_x");
  json_builder_add_int_value (b, m->n_x);
  json_builder_set_member_name (b, "ys");
  json_builder_begin_array (b);
  for (int i = 0; i < m->n_y; i++)
    json_builder_add_int_value (b, m->ys[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "xs");
  json_builder_begin_array (b);
  for (int i = 0; i < m->n_x; i++)
    json_builder_add_int_value (b, m->xs[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "target");
  json_builder_begin_object (b);
  json_add_class (b, s, lens_occluder_get_target_class (s->occ));
  json_builder_set_member_name (b, "clean_prob");
  json_builder_add_double_value (b, clean->prob);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "clean_top");
  json_builder_begin_object (b);
  json_add_class (b, s, clean->top_class[0]);
  json_builder_set_member_name (b, "prob");
  json_builder_add_double_value (b, clean->top_prob[0]);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "layer");
  lens_cli_json_add_string (b, layer_name (s));
  json_builder_set_member_name (b, "channel");
  json_builder_add_int_value (b, lens_occluder_get_channel (s->occ));
  json_builder_set_member_name (b, "clean_feature");
  json_builder_add_double_value (b, clean->feature);

  json_builder_set_member_name (b, "min_prob");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "prob");
  json_builder_add_double_value (b, m->prob[worst]);
  json_builder_set_member_name (b, "x");
  json_builder_add_int_value (b, m->xs[worst % m->n_x]);
  json_builder_set_member_name (b, "y");
  json_builder_add_int_value (b, m->ys[worst / m->n_x]);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "setup_s");
  json_builder_add_double_value (b, s->setup_s);
  json_builder_set_member_name (b, "time_s");
  json_builder_add_double_value (b, sweep_s);
  json_builder_set_member_name (b, "threads");
  json_builder_add_int_value (b, lens_get_threads ());
  json_builder_set_member_name (b, "files");
  json_builder_begin_array (b);
  for (guint i = 0; i < written->len; i++)
    lens_cli_json_add_string (b, g_ptr_array_index (written, i));
  json_builder_end_array (b);
  json_builder_end_object (b);
  lens_cli_json_print (b, FALSE);
}

static void
print_summary_text (const Setup            *s,
                    const LensOcclusionMap *m,
                    double                  sweep_s,
                    int                     worst,
                    GPtrArray              *written)
{
  const LensOcclusionPoint *clean = lens_occluder_get_clean (s->occ);
  int target = lens_occluder_get_target_class (s->occ);
  const char *label = class_label (s, target);

  printf ("model: %s (%s)\n", lens_net_get_name (s->net), s->model_path);
  printf ("input: %s\n", s->input.source);
  printf ("occluder: %d x %d, stride %d, fill %s%s; %d x %d = %d positions\n", m->size,
          m->size, m->stride, s->fill_text, s->opts.partial ? ", partial squares" : "",
          m->n_x, m->n_y, m->n_x * m->n_y);
  printf ("target: class %d%s%s, p = %.6f unoccluded\n", target, label ? " " : "",
          label ? label : "", clean->prob);
  printf ("lowest: p = %.6f with the square at x = %d, y = %d\n", m->prob[worst],
          m->xs[worst % m->n_x], m->ys[worst / m->n_x]);
  printf ("feature: %s channel %d, total %.6g unoccluded\n", layer_name (s),
          lens_occluder_get_channel (s->occ), clean->feature);
  printf ("time: %.3f s (%s, %d thread%s)\n", sweep_s, s->opts.full ? "full" : "incremental",
          lens_get_threads (), lens_get_threads () == 1 ? "" : "s");
  for (guint i = 0; i < written->len; i++)
    printf ("wrote %s\n", (const char *) g_ptr_array_index (written, i));
}

static char *
default_prefix (const char *source)
{
  g_autofree char *base = g_path_get_basename (source);
  char *dot = strrchr (base, '.');

  if (dot != NULL && dot != base)
    *dot = '\0';
  return g_strconcat (base, "-occlusion", NULL);
}

static int
run_occlude (Options    *o,
             Setup      *s)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LensOcclusionMap) m = NULL;
  g_autoptr (GPtrArray) written = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *prefix = o->output != NULL ? g_strdup (o->output)
                                              : default_prefix (s->input.source);
  Progress progress = { isatty (fileno (stderr)), -1 };
  double t0, sweep_s;
  int worst = 0, total;

  t0 = now_s ();
  m = lens_occluder_sweep (s->occ, on_progress, &progress, NULL, &error);
  sweep_s = now_s () - t0;
  if (progress.tty && progress.last >= 0)
    fputc ('\n', stderr);
  if (m == NULL)
    {
      g_autofree char *text = lens_cli_error_text (error);
      return lens_cli_fail ("occlusion sweep of model '%s' failed: %s.", s->model_path, text);
    }
  total = m->n_y * m->n_x;
  for (int i = 1; i < total; i++)
    if (m->prob[i] < m->prob[worst])
      worst = i;

  {
    g_autofree guint8 *base = backdrop_rgb (s);
    g_autofree guint8 *lut = colormap_lut ();
    g_autoptr (GHashTable) counts = g_hash_table_new (NULL, NULL);
    g_autoptr (GArray) classes = g_array_new (FALSE, FALSE, sizeof (int));
    Render r = { s, m, base, lut, 0, classes, counts };
    static const char *const suffix[] = { "-prob.png", "-class.png", "-feature.png" };

    r.zoom = CLAMP ((320 + MIN (s->H, s->W) - 1) / MIN (s->H, s->W), 1, 8);
    for (int i = 0; i < total; i++)
      {
        gpointer key = GINT_TO_POINTER (m->top_class[i]);
        int n = GPOINTER_TO_INT (g_hash_table_lookup (counts, key));
        if (n == 0)
          g_array_append_val (classes, m->top_class[i]);
        g_hash_table_insert (counts, key, GINT_TO_POINTER (n + 1));
      }
    g_array_sort_with_data (classes, compare_count, counts);

    for (int k = 0; k < 3; k++)
      {
        g_autofree char *path = g_strconcat (prefix, suffix[k], NULL);

        if (k == MAP_FEATURE && lens_occluder_get_layer_value (s->occ) < 0)
          continue;
        if (!write_figure (&r, (MapKind) k, path, &error))
          return lens_cli_fail_file ("cannot write", path, error,
                                     "Check that the folder exists and is writable");
        g_ptr_array_add (written, g_steal_pointer (&path));
      }
  }

  /* cairo and fontconfig keep font caches for the whole process; nothing
   * else in the CLI draws text, so release them (leak checkers then see
   * only real leaks) */
  cairo_debug_reset_static_data ();
  FcFini ();

  if (o->raw)
    {
      g_autofree float *klass = g_new (float, total);
      const char *suffix[] = { "-prob.npy", "-class.npy", "-feature.npy" };
      const float *data[] = { m->prob, klass, m->feature };

      for (int i = 0; i < total; i++)
        klass[i] = (float) m->top_class[i];
      for (int k = 0; k < 3; k++)
        {
          g_autofree char *path = g_strconcat (prefix, suffix[k], NULL);

          if (!write_npy (path, data[k], m->n_y, m->n_x, &error))
            return lens_cli_fail_file ("cannot write", path, error,
                                       "Check that the folder exists and is writable");
          g_ptr_array_add (written, g_steal_pointer (&path));
        }
    }

  if (o->json)
    print_summary_json (s, m, sweep_s, worst, written);
  else
    print_summary_text (s, m, sweep_s, worst, written);
  return LENS_CLI_EXIT_OK;
}

/* Options shared by both verbs, then the verb's own. */
static GOptionEntry *
entries_new (Options *o,
             gboolean sweep)
{
  GArray *a = g_array_new (TRUE, TRUE, sizeof (GOptionEntry));
  const GOptionEntry shared[] = {
    { "input-npy", 0, 0, G_OPTION_ARG_FILENAME, &o->input_npy,
      "Use this float32 NCHW .npy array (already preprocessed) instead of an IMAGE", "FILE" },
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &o->profile_path,
      "Preprocessing and labels profile (default: NAME.convlens.json beside the model, or "
      "guessed from the model)", "FILE" },
    { "size", 0, 0, G_OPTION_ARG_INT, &o->size,
      "Side of the gray square in input pixels (default: 1/7 of the input side)", "S" },
    { "fill", 0, 0, G_OPTION_ARG_STRING, &o->fill,
      "Colour of the square: 'mean' (the dataset mean, default) or R,G,B in 0..255",
      "mean|R,G,B" },
    { "class", 0, 0, G_OPTION_ARG_INT, &o->klass,
      "Class whose probability is mapped (default: the top class of the unoccluded image)",
      "K" },
    { "layer", 0, 0, G_OPTION_ARG_STRING, &o->layer,
      "Layer (or value) whose feature map is tracked (default: the last conv layer)", "NAME" },
    { "channel", 0, 0, G_OPTION_ARG_INT, &o->channel,
      "Channel of that layer (default: the strongest map of the unoccluded image)", "C" },
    { "full", 0, 0, G_OPTION_ARG_NONE, &o->full,
      "Recompute whole layers for every position (the baseline; slower, same numbers)", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o->json, "Print one JSON object", NULL },
  };
  const GOptionEntry own_sweep[] = {
    { "stride", 0, 0, G_OPTION_ARG_INT, &o->stride,
      "Step between positions in input pixels (default: 1/4 of the size)", "T" },
    { "partial", 0, 0, G_OPTION_ARG_NONE, &o->partial,
      "Also place the square where it crosses the right and bottom borders (clipped)", NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &o->output,
      "Write PREFIX-prob.png, PREFIX-class.png, PREFIX-feature.png (default: the input's "
      "name + '-occlusion')", "PREFIX" },
    { "raw", 0, 0, G_OPTION_ARG_NONE, &o->raw,
      "Also write the grids as PREFIX-prob.npy, PREFIX-class.npy, PREFIX-feature.npy", NULL },
  };
  const GOptionEntry own_at[] = {
    { "x", 0, 0, G_OPTION_ARG_INT, &o->x, "Left edge of the square (input pixels)", "X" },
    { "y", 0, 0, G_OPTION_ARG_INT, &o->y, "Top edge of the square (input pixels)", "Y" },
  };

  g_array_append_vals (a, shared, G_N_ELEMENTS (shared));
  if (sweep)
    g_array_append_vals (a, own_sweep, G_N_ELEMENTS (own_sweep));
  else
    g_array_append_vals (a, own_at, G_N_ELEMENTS (own_at));
  return (GOptionEntry *) g_array_free (a, FALSE);
}

static void
options_init (Options *o)
{
  memset (o, 0, sizeof *o);
  o->common = (LensCliCommon) LENS_CLI_COMMON_INIT;
  o->size = o->stride = o->klass = o->channel = o->x = o->y = UNSET;
}

int
lens_cli_occlude (int    argc,
                  char **argv)
{
  Options o;
  Setup s = { 0 };
  g_autofree GOptionEntry *entries = NULL;
  g_autoptr (GOptionContext) context = NULL;
  int status;

  options_init (&o);
  entries = entries_new (&o, TRUE);
  context = lens_cli_context_new ("occlude", "MODEL [IMAGE]",
                                  "Slide a gray square over IMAGE (or the tensor given with "
                                  "--input-npy) and map, for every position, the probability "
                                  "of the target class, the most probable class and the "
                                  "total activation of one feature map (Zeiler & Fergus, "
                                  "section 4.2).",
                                  entries, &o.common);
  if (!lens_cli_parse (context, "occlude", &o.common, &argc, &argv))
    status = LENS_CLI_EXIT_USAGE;
  else if ((status = setup ("occlude", &o, argc, argv, &s)) == LENS_CLI_EXIT_OK)
    status = run_occlude (&o, &s);
  setup_clear (&s);
  options_clear (&o);
  return status;
}

/* ---- occlude-at ------------------------------------------------------------ */

static int
run_occlude_at (Options *o,
                Setup   *s)
{
  g_autoptr (GError) error = NULL;
  const LensOcclusionPoint *clean = lens_occluder_get_clean (s->occ);
  LensOcclusionPoint pt;
  int target = lens_occluder_get_target_class (s->occ);
  double t0, query_s;

  t0 = now_s ();
  if (!lens_occluder_query (s->occ, o->x, o->y, &pt, &error))
    {
      g_autofree char *text = lens_cli_error_text (error);
      return lens_cli_fail ("occlusion query of model '%s' failed: %s.", s->model_path, text);
    }
  query_s = now_s () - t0;

  if (o->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "model");
      lens_cli_json_add_string (b, s->model_path);
      json_builder_set_member_name (b, "input");
      lens_cli_json_add_string (b, s->input.source);
      json_builder_set_member_name (b, "x");
      json_builder_add_int_value (b, o->x);
      json_builder_set_member_name (b, "y");
      json_builder_add_int_value (b, o->y);
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, s->opts.size);
      json_builder_set_member_name (b, "fill");
      lens_cli_json_add_string (b, s->fill_text);
      json_builder_set_member_name (b, "target");
      json_builder_begin_object (b);
      json_add_class (b, s, target);
      json_builder_set_member_name (b, "prob");
      json_builder_add_double_value (b, pt.prob);
      json_builder_set_member_name (b, "clean_prob");
      json_builder_add_double_value (b, clean->prob);
      json_builder_end_object (b);
      json_builder_set_member_name (b, "top");
      json_builder_begin_array (b);
      for (int k = 0; k < LENS_OCCLUDE_TOP && pt.top_class[k] >= 0; k++)
        {
          json_builder_begin_object (b);
          json_add_class (b, s, pt.top_class[k]);
          json_builder_set_member_name (b, "probability");
          json_builder_add_double_value (b, pt.top_prob[k]);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "layer");
      lens_cli_json_add_string (b, layer_name (s));
      json_builder_set_member_name (b, "channel");
      json_builder_add_int_value (b, lens_occluder_get_channel (s->occ));
      json_builder_set_member_name (b, "feature");
      json_builder_add_double_value (b, pt.feature);
      json_builder_set_member_name (b, "clean_feature");
      json_builder_add_double_value (b, clean->feature);
      json_builder_set_member_name (b, "full");
      json_builder_add_boolean_value (b, s->opts.full);
      json_builder_set_member_name (b, "time_s");
      json_builder_add_double_value (b, query_s);
      json_builder_end_object (b);
      lens_cli_json_print (b, FALSE);
      return LENS_CLI_EXIT_OK;
    }

  {
    const char *label = class_label (s, target);

    printf ("model: %s (%s)\n", lens_net_get_name (s->net), s->model_path);
    printf ("input: %s\n", s->input.source);
    printf ("square: %d x %d at x = %d, y = %d, fill %s\n", s->opts.size, s->opts.size, o->x,
            o->y, s->fill_text);
    printf ("target: class %d%s%s, p = %.6f (unoccluded %.6f)\n", target, label ? " " : "",
            label ? label : "", pt.prob, clean->prob);
    printf ("feature: %s channel %d, total %.6g (unoccluded %.6g)\n", layer_name (s),
            lens_occluder_get_channel (s->occ), pt.feature, clean->feature);
    printf ("time: %.3f ms\n\n", query_s * 1e3);
    printf ("%4s  %6s  %-24s  %11s\n", "rank", "class", "label", "probability");
    for (int k = 0; k < LENS_OCCLUDE_TOP && pt.top_class[k] >= 0; k++)
      {
        const char *l = class_label (s, pt.top_class[k]);
        printf ("%4d  %6d  %-24s  %11.6f\n", k + 1, pt.top_class[k], l ? l : "-",
                pt.top_prob[k]);
      }
  }
  return LENS_CLI_EXIT_OK;
}

int
lens_cli_occlude_at (int    argc,
                     char **argv)
{
  Options o;
  Setup s = { 0 };
  g_autofree GOptionEntry *entries = NULL;
  g_autoptr (GOptionContext) context = NULL;
  int status;

  options_init (&o);
  entries = entries_new (&o, FALSE);
  context = lens_cli_context_new ("occlude-at", "MODEL [IMAGE] --x X --y Y",
                                  "Put the gray square at one position (top-left corner X, Y "
                                  "in input pixels; it may cross the border) and print the "
                                  "target class probability, the top 5 classes and the "
                                  "tracked feature map's total activation.",
                                  entries, &o.common);
  if (!lens_cli_parse (context, "occlude-at", &o.common, &argc, &argv))
    status = LENS_CLI_EXIT_USAGE;
  else if (o.x == UNSET || o.y == UNSET)
    status = lens_cli_usage_error ("occlude-at", "--x and --y are required");
  else if ((status = setup ("occlude-at", &o, argc, argv, &s)) == LENS_CLI_EXIT_OK)
    status = run_occlude_at (&o, &s);
  setup_clear (&s);
  options_clear (&o);
  return status;
}
