/* lens-filters.c: diagnostics of a network's first filters (see lens-filters.h) */
#define G_LOG_DOMAIN "lens-filters"

#include <math.h>
#include <string.h>

#include "lens-filters.h"

G_DEFINE_QUARK (lens-filters-error-quark, lens_filters_error)

#define SCAN_BATCH 32

void
lens_filter_stats_free (LensFilterStats *stats)
{
  if (stats == NULL)
    return;
  g_free (stats->layer);
  g_free (stats->weights);
  g_free (stats->rms);
  g_free (stats->weight_share);
  g_free (stats->high_share);
  g_free (stats->max);
  g_free (stats->positive_fraction);
  g_free (stats->energy_share);
  g_free (stats->dead);
  g_free (stats->dominating);
  g_free (stats);
}

/* |f| of DFT bin u of n points, in cycles per sample (numpy's fftfreq). */
static double
bin_frequency (int u,
               int n)
{
  return (double) MIN (u, n - u) / n;
}

double
lens_filter_high_share (const float *weights,
                        int          channels,
                        int          kh,
                        int          kw)
{
  double high = 0, total = 0;

  /* A direct DFT: kernels are a few pixels wide. */
  for (int c = 0; c < channels; c++)
    {
      const float *w = weights + (gsize) c * kh * kw;

      for (int u = 0; u < kh; u++)
        for (int v = 0; v < kw; v++)
          {
            double re = 0, im = 0, e, fu = bin_frequency (u, kh), fv = bin_frequency (v, kw);

            for (int y = 0; y < kh; y++)
              for (int x = 0; x < kw; x++)
                {
                  double phase = -2 * G_PI * ((double) u * y / kh + (double) v * x / kw);

                  re += w[y * kw + x] * cos (phase);
                  im += w[y * kw + x] * sin (phase);
                }
            e = re * re + im * im;
            total += e;
            if (sqrt (fu * fu + fv * fv) > LENS_FILTERS_HIGH_FREQUENCY)
              high += e;
          }
    }
  return total > 0 ? high / total : 0;
}

static int
find_conv (LensNet    *net,
           const char *name,
           GError    **error)
{
  if (name != NULL)
    {
      int layer = lens_net_find_layer (net, name);

      if (layer < 0 || g_strcmp0 (lens_net_layer_get_op (net, layer), "Conv") != 0)
        {
          g_set_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_LAYER,
                       "The model has no Conv layer '%s'", name);
          return -1;
        }
      return layer;
    }
  for (guint l = 0; l < lens_net_get_n_layers (net); l++)
    if (g_strcmp0 (lens_net_layer_get_op (net, l), "Conv") == 0)
      return (int) l;
  g_set_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_LAYER,
               "The model has no Conv layer");
  return -1;
}

static gboolean
scan_activations (LensFilterStats      *st,
                  LensNet              *net,
                  int                   value,
                  LensScanSource       *source,
                  const LensPreprocess *pre,
                  int                   limit,
                  GCancellable         *cancellable,
                  GError              **error)
{
  g_autoptr(LensTrace) trace = NULL;
  g_autofree double *energy = g_new0 (double, st->n_filters);
  g_autofree gint64 *positive = g_new0 (gint64, st->n_filters);
  const LensShape *in = lens_net_get_input_shape (net);
  const LensShape *out = lens_net_value_get_shape (net, value);
  int n = lens_scan_source_get_n_images (source);
  gsize plane_in, plane_out;
  double total = 0;
  int batch;

  if (in->ndim != 4 || in->dims[1] != pre->channels || in->dims[2] != pre->height ||
      in->dims[3] != pre->width || out->ndim != 4 || out->dims[1] != st->n_filters)
    {
      g_set_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_DATASET,
                   "The preprocessing does not fit the model's input");
      return FALSE;
    }
  if (limit > 0 && limit < n)
    n = limit;
  batch = MIN (SCAN_BATCH, n);
  trace = lens_trace_new (net, batch, error);
  if (trace == NULL)
    return FALSE;
  plane_in = (gsize) pre->channels * pre->height * pre->width;
  plane_out = (gsize) out->dims[2] * out->dims[3];
  for (int k = 0; k < st->n_filters; k++)
    st->max[k] = -INFINITY;

  for (int start = 0; start < n; start += batch)
    {
      LensTensor *input = lens_trace_get_input (trace);
      float *x = lens_tensor_get_floats (input);
      int nb = MIN (batch, n - start);
      const float *y;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      memset (x, 0, lens_tensor_nbytes (input));
      for (int b = 0; b < nb; b++)
        if (!lens_scan_source_load_input (source, start + b, pre, x + b * plane_in, error))
          return FALSE;
      if (!lens_trace_run (trace, cancellable, error))
        return FALSE;
      y = lens_tensor_get_floats (lens_trace_get_value (trace, value));
      for (int b = 0; b < nb; b++)
        for (int k = 0; k < st->n_filters; k++)
          {
            const float *map = y + ((gsize) b * st->n_filters + k) * plane_out;

            for (gsize p = 0; p < plane_out; p++)
              {
                double v = map[p];

                if (v > st->max[k])
                  st->max[k] = v;
                if (v > 0)
                  {
                    positive[k]++;
                    energy[k] += v * v;
                  }
              }
          }
    }

  st->n_images = n;
  for (int k = 0; k < st->n_filters; k++)
    total += energy[k];
  for (int k = 0; k < st->n_filters; k++)
    {
      st->positive_fraction[k] = (double) positive[k] / ((double) n * plane_out);
      st->energy_share[k] = total > 0 ? energy[k] / total : 0;
      st->dead[k] = !(st->max[k] > 0);
    }
  return TRUE;
}

LensFilterStats *
lens_filters_analyse (LensNet              *net,
                      const char           *layer_name,
                      LensScanSource       *source,
                      const LensPreprocess *pre,
                      int                   limit,
                      GCancellable         *cancellable,
                      GError              **error)
{
  g_autoptr(LensFilterStats) st = NULL;
  const LensTensor *w;
  const float *data;
  gsize per_filter;
  double total = 0;
  int layer, n;

  g_return_val_if_fail (net != NULL, NULL);
  g_return_val_if_fail (source == NULL || pre != NULL, NULL);

  layer = find_conv (net, layer_name, error);
  if (layer < 0)
    return NULL;
  w = lens_net_layer_get_n_inputs (net, layer) >= 2
      ? lens_net_value_get_constant (net, lens_net_layer_get_input (net, layer, 1)) : NULL;
  if (w == NULL || w->dtype != LENS_DTYPE_FLOAT32 || w->shape.ndim != 4)
    {
      g_set_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_LAYER,
                   "Conv layer '%s' has no constant 4-D weights",
                   lens_net_layer_get_name (net, layer));
      return NULL;
    }

  st = g_new0 (LensFilterStats, 1);
  st->layer = g_strdup (lens_net_layer_get_name (net, layer));
  st->n_filters = n = (int) w->shape.dims[0];
  st->channels = (int) w->shape.dims[1];
  st->kh = (int) w->shape.dims[2];
  st->kw = (int) w->shape.dims[3];
  per_filter = (gsize) st->channels * st->kh * st->kw;
  data = lens_tensor_get_floats (w);
  st->weights = g_memdup2 (data, per_filter * n * sizeof (float));
  st->rms = g_new0 (double, n);
  st->weight_share = g_new0 (double, n);
  st->high_share = g_new0 (double, n);
  st->max = g_new0 (double, n);
  st->positive_fraction = g_new0 (double, n);
  st->energy_share = g_new0 (double, n);
  st->dead = g_new0 (gboolean, n);
  st->dominating = g_new0 (gboolean, n);

  for (int k = 0; k < n; k++)
    {
      const float *f = data + k * per_filter;
      double sum = 0;

      for (gsize i = 0; i < per_filter; i++)
        sum += (double) f[i] * f[i];
      st->rms[k] = sqrt (sum / per_filter);
      st->weight_share[k] = sum;
      total += sum;
      st->high_share[k] = lens_filter_high_share (f, st->channels, st->kh, st->kw);
    }
  for (int k = 0; k < n; k++)
    st->weight_share[k] = total > 0 ? st->weight_share[k] / total : 0;

  if (source != NULL &&
      !scan_activations (st, net, lens_net_layer_get_output (net, layer), source, pre, limit,
                         cancellable, error))
    return NULL;
  for (int k = 0; k < n; k++)
    st->dominating[k] = (st->n_images > 0 ? st->energy_share[k] : st->weight_share[k]) >
                        LENS_FILTERS_DOMINANT_FACTOR / n;
  return g_steal_pointer (&st);
}

/* -- Fig. 6 tiles -------------------------------------------------------- */

#define TILE_GAP 8
#define BAR_H    4

static void
put (guint8 *rgb,
     int     width,
     int     x,
     int     y,
     guint8  r,
     guint8  g,
     guint8  b)
{
  guint8 *p = rgb + ((gsize) y * width + x) * 3;

  p[0] = r;
  p[1] = g;
  p[2] = b;
}

guint8 *
lens_filters_render (const LensFilterStats *st,
                     gboolean               bgr,
                     int                   *width,
                     int                   *height)
{
  int scale = MAX (1, 64 / MAX (st->kh, st->kw));
  int tw = st->kw * scale, th = st->kh * scale;
  int cols = (int) ceil (sqrt ((double) st->n_filters));
  int rows = (st->n_filters + cols - 1) / cols;
  int cell_w = tw + 2, cell_h = th + 2 + 2 * (BAR_H + 2);
  gsize per_filter = (gsize) st->channels * st->kh * st->kw;
  double max_rms = 0;
  guint8 *rgb;

  *width = cols * cell_w + (cols + 1) * TILE_GAP;
  *height = rows * cell_h + (rows + 1) * TILE_GAP;
  rgb = g_malloc ((gsize) *width * *height * 3);
  memset (rgb, 24, (gsize) *width * *height * 3);
  for (int k = 0; k < st->n_filters; k++)
    max_rms = MAX (max_rms, st->rms[k]);

  for (int k = 0; k < st->n_filters; k++)
    {
      const float *f = st->weights + k * per_filter;
      int ox = TILE_GAP + (k % cols) * (cell_w + TILE_GAP);
      int oy = TILE_GAP + (k / cols) * (cell_h + TILE_GAP);
      float lo = f[0], hi = f[0];
      guint8 fr = 90, fg = 90, fb = 90;
      int bar;

      for (gsize i = 1; i < per_filter; i++)
        {
          lo = MIN (lo, f[i]);
          hi = MAX (hi, f[i]);
        }
      if (st->n_images > 0 && st->dead[k])
        fr = 220, fg = 40, fb = 40;
      else if (st->dominating[k])
        fr = 240, fg = 160, fb = 20;
      for (int x = 0; x < cell_w; x++)
        {
          put (rgb, *width, ox + x, oy, fr, fg, fb);
          put (rgb, *width, ox + x, oy + th + 1, fr, fg, fb);
        }
      for (int y = 0; y < th + 2; y++)
        {
          put (rgb, *width, ox, oy + y, fr, fg, fb);
          put (rgb, *width, ox + cell_w - 1, oy + y, fr, fg, fb);
        }

      for (int y = 0; y < th; y++)
        for (int x = 0; x < tw; x++)
          {
            int wy = y / scale, wx = x / scale;
            guint8 px[3];

            for (int c = 0; c < 3; c++)
              {
                double v;

                if (st->channels == 3)
                  v = f[(gsize) (bgr ? 2 - c : c) * st->kh * st->kw + wy * st->kw + wx];
                else
                  {
                    v = 0;
                    for (int ic = 0; ic < st->channels; ic++)
                      v += f[(gsize) ic * st->kh * st->kw + wy * st->kw + wx];
                    v /= st->channels;
                  }
                /* Each filter on its own scale; a constant filter is mid-gray. */
                v = hi > lo ? (v - lo) / (hi - lo) : 0.5;
                px[c] = (guint8) lround (CLAMP (v, 0.0, 1.0) * 255);
              }
            put (rgb, *width, ox + 1 + x, oy + 1 + y, px[0], px[1], px[2]);
          }

      /* RMS (white) and high-frequency share (blue) bars. */
      bar = max_rms > 0 ? (int) lround (st->rms[k] / max_rms * tw) : 0;
      for (int y = 0; y < BAR_H; y++)
        for (int x = 0; x < tw; x++)
          put (rgb, *width, ox + 1 + x, oy + th + 4 + y, x < bar ? 230 : 60, x < bar ? 230 : 60,
               x < bar ? 230 : 60);
      bar = (int) lround (st->high_share[k] * tw);
      for (int y = 0; y < BAR_H; y++)
        for (int x = 0; x < tw; x++)
          put (rgb, *width, ox + 1 + x, oy + th + 6 + BAR_H + y, x < bar ? 80 : 60,
               x < bar ? 150 : 60, x < bar ? 255 : 60);
    }
  return rgb;
}
