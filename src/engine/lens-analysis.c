/* lens-analysis.c: helpers shared by the dataset analyses (see lens-analysis.h) */
#define G_LOG_DOMAIN "lens-analysis"

#include <math.h>
#include <string.h>

#include "lens-analysis.h"

G_DEFINE_QUARK (lens-analysis-error-quark, lens_analysis_error)

int *
lens_analysis_resolve_layers (LensNet            *net,
                              const char * const *names,
                              guint              *n_layers,
                              GError            **error)
{
  g_autofree int *values = NULL;
  guint n = names != NULL ? g_strv_length ((char **) names) : 0;

  if (n == 0)
    {
      g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_LAYER, "No layer given");
      return NULL;
    }
  values = g_new (int, n);
  for (guint i = 0; i < n; i++)
    {
      int layer = lens_net_find_layer (net, names[i]);

      if (layer < 0)
        {
          g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_LAYER,
                       "The model has no layer '%s' (see convlens-cli info)", names[i]);
          return NULL;
        }
      values[i] = lens_net_layer_get_output (net, layer);
    }
  *n_layers = n;
  return g_steal_pointer (&values);
}

gsize
lens_analysis_value_size (LensNet *net,
                          int      value)
{
  const LensShape *shape = lens_net_value_get_shape (net, value);
  gsize n = 1;

  /* Static shapes were checked for overflow at load time. */
  for (int d = 1; d < shape->ndim; d++)
    n *= (gsize) shape->dims[d];
  return n;
}

gboolean
lens_analysis_check_input (LensNet              *net,
                           const LensPreprocess *pre,
                           GError              **error)
{
  const LensShape *in = lens_net_get_input_shape (net);

  if (in == NULL || in->ndim != 4)
    {
      g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_INPUT,
                   "The model does not take an image ([N,C,H,W] input)");
      return FALSE;
    }
  if (in->dims[1] != pre->channels || in->dims[2] != pre->height || in->dims[3] != pre->width)
    {
      g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_INPUT,
                   "The preprocessing makes %dx%dx%d inputs; the model takes %dx%dx%d",
                   pre->channels, pre->height, pre->width, (int) in->dims[1], (int) in->dims[2],
                   (int) in->dims[3]);
      return FALSE;
    }
  return TRUE;
}

void
lens_analysis_probabilities (const float *x,
                             gsize        n,
                             double      *p)
{
  double sum = 0, max;
  gboolean already = TRUE;

  for (gsize i = 0; i < n; i++)
    {
      if (!(x[i] >= 0.0f && x[i] <= 1.0f))
        already = FALSE;
      sum += x[i];
    }
  if (already && fabs (sum - 1.0) <= 1e-3)
    {
      for (gsize i = 0; i < n; i++)
        p[i] = x[i];
      return;
    }
  max = x[0];
  for (gsize i = 1; i < n; i++)
    max = MAX (max, (double) x[i]);
  sum = 0;
  for (gsize i = 0; i < n; i++)
    {
      p[i] = exp ((double) x[i] - max);
      sum += p[i];
    }
  for (gsize i = 0; i < n; i++)
    p[i] /= sum;
}

int
lens_analysis_rank (const double *p,
                    gsize         n,
                    int           cls)
{
  int rank = 1;

  for (gsize i = 0; i < n; i++)
    if (p[i] > p[cls] || (p[i] == p[cls] && (int) i < cls))
      rank++;
  return rank;
}

void
lens_analysis_mean_fill (const LensPreprocess *pre,
                         float                 rgb[3])
{
  float scale = pre->scale > 0 ? pre->scale : 1.0f;

  for (int c = 0; c < 3; c++)
    {
      /* mean[] is in tensor channel order; rgb[] is R, G, B. */
      int tc = pre->channels == 1 ? 0 : (pre->bgr ? 2 - c : c);

      rgb[c] = CLAMP (pre->mean[tc] / scale, 0.0f, 1.0f);
    }
}

gboolean
lens_analysis_set_item (LensTrace            *trace,
                        int                   b,
                        const LensImage      *image,
                        const LensPreprocess *pre,
                        GError              **error)
{
  g_autoptr(LensTensor) x = lens_image_to_tensor (image, pre, error);
  LensTensor *input = lens_trace_get_input (trace);
  gsize item = lens_tensor_numel (input) / lens_trace_get_batch (trace);

  if (x == NULL)
    return FALSE;
  g_return_val_if_fail (lens_tensor_numel (x) == item, FALSE);
  memcpy (lens_tensor_get_floats (input) + (gsize) b * item, lens_tensor_get_floats (x),
          item * sizeof (float));
  return TRUE;
}
