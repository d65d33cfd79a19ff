/* lens-invariance.c: feature distances under translation, scaling and
 * rotation (see lens-invariance.h) */
#define G_LOG_DOMAIN "lens-invariance"

#include <math.h>
#include <string.h>

#include "lens-invariance.h"

#define DEFAULT_BATCH 16

void
lens_invariance_options_init (LensInvarianceOptions *options)
{
  memset (options, 0, sizeof *options);
  options->transform = LENS_TRANSFORM_TRANSLATE;
  options->fill_mean = TRUE;
}

static const char *const transform_names[] = { "translate", "scale", "rotate" };

gboolean
lens_transform_from_string (const char    *text,
                            LensTransform *transform)
{
  for (guint i = 0; i < G_N_ELEMENTS (transform_names); i++)
    if (g_strcmp0 (text, transform_names[i]) == 0)
      {
        *transform = (LensTransform) i;
        return TRUE;
      }
  return FALSE;
}

const char *
lens_transform_to_string (LensTransform transform)
{
  g_return_val_if_fail ((guint) transform < G_N_ELEMENTS (transform_names), NULL);
  return transform_names[transform];
}

static gboolean
parse_number (const char *text,
              double     *out)
{
  char *end;

  if (text == NULL || *text == '\0')
    return FALSE;
  *out = g_ascii_strtod (text, &end);
  return *end == '\0' && isfinite (*out);
}

gboolean
lens_invariance_parse_range (const char  *text,
                             double     **values,
                             int         *n_values,
                             GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (text != NULL ? text : "", ":", -1);
  guint n_parts = g_strv_length (parts);
  double a, b, step = 1, count;
  int n;

  if (n_parts == 1 && parse_number (g_strstrip (parts[0]), &a))
    b = a;
  else if (n_parts != 3 || !parse_number (g_strstrip (parts[0]), &a) ||
           !parse_number (g_strstrip (parts[1]), &b) ||
           !parse_number (g_strstrip (parts[2]), &step))
    {
      g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_INVALID,
                   "The range '%s' is not A:B:STEP (three numbers)", text ? text : "");
      return FALSE;
    }
  if (!(step > 0) || b < a)
    {
      g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_INVALID,
                   "The range '%s' needs STEP > 0 and A <= B", text);
      return FALSE;
    }
  count = floor ((b - a) / step + 1e-6) + 1;
  if (!(count <= LENS_INVARIANCE_MAX_VALUES))
    {
      g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_INVALID,
                   "The range '%s' has more than %d values", text, LENS_INVARIANCE_MAX_VALUES);
      return FALSE;
    }
  n = (int) count;
  *values = g_new (double, n);
  for (int i = 0; i < n; i++)
    /* Multiply rather than accumulate, so that 0:1:0.1 hits 1 exactly. */
    (*values)[i] = a + i * step;
  *n_values = n;
  return TRUE;
}

/* -- resampling ---------------------------------------------------------- */

static inline void
sample (const LensImage *im,
        double           sx,
        double           sy,
        const float      fill[3],
        float           *out)
{
  double fx0 = floor (sx), fy0 = floor (sy);
  double wx = sx - fx0, wy = sy - fy0;
  double acc[3] = { 0, 0, 0 };

  /* Far outside: all four neighbours are fill (and the casts below could
   * overflow). */
  if (!(fx0 >= -2 && fx0 <= im->width + 1 && fy0 >= -2 && fy0 <= im->height + 1))
    {
      memcpy (out, fill, 3 * sizeof (float));
      return;
    }
  for (int j = 0; j < 2; j++)
    for (int i = 0; i < 2; i++)
      {
        int x = (int) fx0 + i, y = (int) fy0 + j;
        double w = (i ? wx : 1 - wx) * (j ? wy : 1 - wy);
        const float *p;

        if (w == 0)
          continue;
        p = x >= 0 && x < im->width && y >= 0 && y < im->height
            ? im->rgb + ((gsize) y * im->width + x) * 3 : fill;
        for (int c = 0; c < 3; c++)
          acc[c] += w * p[c];
      }
  for (int c = 0; c < 3; c++)
    out[c] = (float) acc[c];
}

LensImage *
lens_image_transform (const LensImage *image,
                      LensTransform    transform,
                      double           amount,
                      const float      fill[3],
                      GError         **error)
{
  LensImage *out;
  double cx = (image->width - 1) / 2.0, cy = (image->height - 1) / 2.0;
  double cs = 1, sn = 0;

  if (!isfinite (amount) || (transform == LENS_TRANSFORM_SCALE && !(amount > 0)))
    {
      g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_INVALID,
                   "Cannot %s by %g%s", lens_transform_to_string (transform), amount,
                   transform == LENS_TRANSFORM_SCALE ? " (the factor must be > 0)" : "");
      return NULL;
    }
  if (transform == LENS_TRANSFORM_ROTATE)
    {
      double turns = fmod (amount, 360.0);

      if (turns < 0)
        turns += 360;
      /* Exact quarter turns, so that 90 degrees moves whole pixels. */
      if (turns == 0)
        cs = 1, sn = 0;
      else if (turns == 90)
        cs = 0, sn = 1;
      else if (turns == 180)
        cs = -1, sn = 0;
      else if (turns == 270)
        cs = 0, sn = -1;
      else
        cs = cos (turns * G_PI / 180), sn = sin (turns * G_PI / 180);
    }

  out = lens_image_new (image->width, image->height);
  for (int y = 0; y < image->height; y++)
    for (int x = 0; x < image->width; x++)
      {
        double dx = x - cx, dy = y - cy, sx, sy;

        switch (transform)
          {
          case LENS_TRANSFORM_TRANSLATE:
            sx = x;
            sy = y - amount;
            break;
          case LENS_TRANSFORM_SCALE:
            sx = cx + dx / amount;
            sy = cy + dy / amount;
            break;
          case LENS_TRANSFORM_ROTATE:
          default:
            sx = cx + cs * dx - sn * dy;
            sy = cy + sn * dx + cs * dy;
            break;
          }
        sample (image, sx, sy, fill, out->rgb + ((gsize) y * image->width + x) * 3);
      }
  return out;
}

/* -- the analysis -------------------------------------------------------- */

void
lens_invariance_free (LensInvariance *inv)
{
  if (inv == NULL)
    return;
  g_strfreev (inv->layers);
  g_free (inv->values);
  g_free (inv->distance);
  g_free (inv->relative);
  g_free (inv->norm);
  g_free (inv->true_class);
  g_free (inv->probability);
  g_free (inv->rank);
  g_free (inv);
}

LensInvariance *
lens_invariance_run (LensNet                     *net,
                     const LensPreprocess        *pre,
                     LensImage * const           *images,
                     int                          n_images,
                     const int                   *true_class,
                     const char * const          *layers,
                     const LensInvarianceOptions *options,
                     GCancellable                *cancellable,
                     GError                     **error)
{
  g_autoptr(LensInvariance) inv = NULL;
  g_autoptr(LensTrace) trace = NULL;
  g_autofree int *values = NULL;
  g_autofree gsize *sizes = NULL;
  g_autofree float *reference = NULL;   /* the original's outputs, layer after layer */
  g_autofree double *p = NULL;
  int output, per_image, batch;
  guint n_layers;
  gsize ref_total = 0, n_classes;
  gint64 done = 0, total;

  g_return_val_if_fail (net != NULL && pre != NULL && options != NULL, NULL);
  g_return_val_if_fail (n_images == 0 || images != NULL, NULL);

  if (!lens_analysis_check_input (net, pre, error))
    return NULL;
  if (n_images < 1 || options->n_values < 1 ||
      options->n_values > LENS_INVARIANCE_MAX_VALUES)
    {
      g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_INVALID,
                   "Invariance needs at least one image and 1 to %d transform values",
                   LENS_INVARIANCE_MAX_VALUES);
      return NULL;
    }
  for (int v = 0; v < options->n_values; v++)
    if (!isfinite (options->values[v]) ||
        (options->transform == LENS_TRANSFORM_SCALE && !(options->values[v] > 0)))
      {
        g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_INVALID,
                     "Cannot %s by %g%s", lens_transform_to_string (options->transform),
                     options->values[v],
                     options->transform == LENS_TRANSFORM_SCALE ? " (factors must be > 0)" : "");
        return NULL;
      }
  values = lens_analysis_resolve_layers (net, layers, &n_layers, error);
  if (values == NULL)
    return NULL;

  output = lens_net_get_output_value (net);
  n_classes = lens_analysis_value_size (net, output);
  if (true_class != NULL)
    for (int i = 0; i < n_images; i++)
      if (true_class[i] >= (int) n_classes)
        {
          g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_DATA,
                       "Image %d: class %d does not exist (the model has %" G_GSIZE_FORMAT
                       " outputs)", i + 1, true_class[i], n_classes);
          return NULL;
        }

  inv = g_new0 (LensInvariance, 1);
  inv->transform = options->transform;
  inv->n_images = n_images;
  inv->n_values = options->n_values;
  inv->n_layers = (int) n_layers;
  inv->n_classes = (int) n_classes;
  inv->layers = g_strdupv ((char **) layers);
  inv->values = g_memdup2 (options->values, sizeof (double) * options->n_values);
  if (options->fill_mean)
    lens_analysis_mean_fill (pre, inv->fill);
  else
    memcpy (inv->fill, options->fill, sizeof inv->fill);
  inv->distance = g_new0 (double, (gsize) n_images * n_layers * inv->n_values);
  inv->relative = g_new0 (double, (gsize) n_images * n_layers * inv->n_values);
  inv->norm = g_new0 (double, (gsize) n_images * n_layers);
  inv->true_class = g_new0 (int, n_images);
  inv->probability = g_new0 (double, (gsize) n_images * inv->n_values);
  inv->rank = g_new0 (int, (gsize) n_images * inv->n_values);

  sizes = g_new (gsize, n_layers);
  for (guint l = 0; l < n_layers; l++)
    {
      sizes[l] = lens_analysis_value_size (net, values[l]);
      ref_total += sizes[l];
    }
  reference = g_new (float, ref_total);
  p = g_new (double, n_classes);

  /* Item 0 of an image is the original, items 1..n_values its copies. */
  per_image = inv->n_values + 1;
  batch = options->batch > 0 ? options->batch : DEFAULT_BATCH;
  batch = MIN (batch, per_image);
  trace = lens_trace_new (net, batch, error);
  if (trace == NULL)
    return NULL;
  total = (gint64) n_images * per_image;

  for (int i = 0; i < n_images; i++)
    for (int start = 0; start < per_image; start += batch)
      {
        int nb = MIN (batch, per_image - start);
        const float *y;

        if (g_cancellable_set_error_if_cancelled (cancellable, error))
          return NULL;
        for (int b = 0; b < nb; b++)
          {
            int item = start + b;
            gboolean ok;

            if (item == 0)
              ok = lens_analysis_set_item (trace, b, images[i], pre, error);
            else
              {
                g_autoptr(LensImage) t = lens_image_transform (images[i], inv->transform,
                                                               inv->values[item - 1],
                                                               inv->fill, error);

                ok = t != NULL && lens_analysis_set_item (trace, b, t, pre, error);
              }
            if (!ok)
              {
                g_prefix_error (error, "Image %d: ", i + 1);
                return NULL;
              }
          }
        if (!lens_trace_run (trace, cancellable, error))
          return NULL;

        y = lens_tensor_get_floats (lens_trace_get_value (trace, output));
        for (int b = 0; b < nb; b++)
          {
            int item = start + b;

            lens_analysis_probabilities (y + (gsize) b * n_classes, n_classes, p);
            if (item == 0)
              {
                int top = 0;

                for (gsize k = 1; k < n_classes; k++)
                  if (p[k] > p[top])
                    top = (int) k;
                inv->true_class[i] = true_class != NULL && true_class[i] >= 0 ? true_class[i]
                                                                              : top;
              }
            else
              {
                gsize at = (gsize) i * inv->n_values + item - 1;

                inv->probability[at] = p[inv->true_class[i]];
                inv->rank[at] = lens_analysis_rank (p, n_classes, inv->true_class[i]);
              }
          }

        for (guint l = 0, off = 0; l < n_layers; off += sizes[l], l++)
          {
            const float *f = lens_tensor_get_floats (lens_trace_get_value (trace, values[l]));

            for (int b = 0; b < nb; b++)
              {
                const float *fb = f + (gsize) b * sizes[l];
                int item = start + b;
                double sum = 0;

                if (item == 0)
                  {
                    memcpy (reference + off, fb, sizes[l] * sizeof (float));
                    for (gsize e = 0; e < sizes[l]; e++)
                      sum += (double) fb[e] * fb[e];
                    inv->norm[(gsize) i * n_layers + l] = sqrt (sum);
                  }
                else
                  {
                    gsize at = lens_invariance_index (inv, i, (int) l, item - 1);
                    double norm = inv->norm[(gsize) i * n_layers + l];

                    for (gsize e = 0; e < sizes[l]; e++)
                      {
                        double d = (double) fb[e] - reference[off + e];
                        sum += d * d;
                      }
                    inv->distance[at] = sqrt (sum);
                    inv->relative[at] = norm > 0 ? inv->distance[at] / norm : NAN;
                  }
              }
          }
        done += nb;
        if (options->progress != NULL)
          options->progress (done, total, options->user_data);
      }
  return g_steal_pointer (&inv);
}
