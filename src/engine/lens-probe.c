/* lens-probe.c: softmax classifiers on layer features (see lens-probe.h) */
#define G_LOG_DOMAIN "lens-probe"

#include <math.h>
#include <string.h>

#include "lens-blas.h"
#include "lens-probe.h"

#define FORWARD_BATCH 64
#define PREDICT_CHUNK 1024

void
lens_probe_options_init (LensProbeOptions *options)
{
  memset (options, 0, sizeof *options);
  options->epochs = 30;
  options->batch = 64;
  options->learning_rate = 0.1;
  options->momentum = 0.9;
  options->weight_decay = 1e-4;
  options->seed = 1;
  options->pool = LENS_PROBE_POOL_MEAN;
}

static const char *const pool_names[] = { "mean", "max", "none" };

gboolean
lens_probe_pool_from_string (const char    *text,
                             LensProbePool *pool)
{
  for (guint i = 0; i < G_N_ELEMENTS (pool_names); i++)
    if (g_strcmp0 (text, pool_names[i]) == 0)
      {
        *pool = (LensProbePool) i;
        return TRUE;
      }
  return FALSE;
}

const char *
lens_probe_pool_to_string (LensProbePool pool)
{
  g_return_val_if_fail ((guint) pool < G_N_ELEMENTS (pool_names), NULL);
  return pool_names[pool];
}

void
lens_probe_classifier_free (LensProbeClassifier *probe)
{
  if (probe == NULL)
    return;
  g_free (probe->mean);
  g_free (probe->scale);
  g_free (probe->weights);
  g_free (probe->bias);
  g_free (probe);
}

void
lens_probe_result_free (LensProbeResult *r)
{
  if (r == NULL)
    return;
  g_strfreev (r->layers);
  g_free (r->n_features);
  g_free (r->train_accuracy);
  g_free (r->test_accuracy);
  g_free (r->loss);
  g_free (r);
}

/* Softmax of each row of z [n, k] in place (max-shifted, in float: the
 * logits of standardised features are small). */
static void
softmax_rows (float *z,
              int    n,
              int    k)
{
  for (int i = 0; i < n; i++)
    {
      float *row = z + (gsize) i * k, max = row[0];
      double sum = 0;

      for (int c = 1; c < k; c++)
        max = MAX (max, row[c]);
      for (int c = 0; c < k; c++)
        {
          row[c] = expf (row[c] - max);
          sum += row[c];
        }
      for (int c = 0; c < k; c++)
        row[c] = (float) (row[c] / sum);
    }
}

/* logits [n, k] = standardise (x) W^T + b; xs is scratch [n, d]. */
static void
logits (const LensProbeClassifier *p,
        const float               *x,
        int                        n,
        float                     *xs,
        float                     *z)
{
  int d = p->n_features, k = p->n_classes;

  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      xs[(gsize) i * d + j] = (x[(gsize) i * d + j] - p->mean[j]) * p->scale[j];
  for (int i = 0; i < n; i++)
    memcpy (z + (gsize) i * k, p->bias, k * sizeof (float));
  lens_blas_sgemm (FALSE, TRUE, n, k, d, 1.0f, xs, d, p->weights, d, 1.0f, z, k);
}

static LensProbeClassifier *
train (const float            *x,
       const int              *labels,
       int                     n,
       int                     d,
       int                     k,
       const LensProbeOptions *o,
       gint64                  done,
       gint64                  total,
       GCancellable           *cancellable,
       GError                **error)
{
  g_autoptr(LensProbeClassifier) p = NULL;
  g_autoptr(GRand) rand = NULL;
  g_autofree int *order = NULL;
  g_autofree float *xb = NULL, *z = NULL, *gw = NULL, *vw = NULL, *vb = NULL;
  g_autofree float *gb = NULL;
  int batch;

  if (n < 1 || d < 1 || k < 2 || o->epochs < 1 || o->batch < 1 || !(o->learning_rate > 0) ||
      !(o->momentum >= 0 && o->momentum < 1) || !(o->weight_decay >= 0))
    {
      g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_INVALID,
                   "A probe needs at least one example, one feature and two classes, and "
                   "epochs, batch, learning rate > 0, momentum in [0, 1), weight decay >= 0");
      return NULL;
    }
  for (int i = 0; i < n; i++)
    if (labels[i] < 0 || labels[i] >= k)
      {
        g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_DATA,
                     "Example %d has label %d, not in [0, %d)", i, labels[i], k);
        return NULL;
      }

  p = g_new0 (LensProbeClassifier, 1);
  p->n_features = d;
  p->n_classes = k;
  p->mean = g_new0 (float, d);
  p->scale = g_new0 (float, d);
  p->weights = g_new0 (float, (gsize) k * d);
  p->bias = g_new0 (float, k);

  /* Standardisation over the training set (in double). */
  {
    g_autofree double *sum = g_new0 (double, d), *sq = g_new0 (double, d);

    for (int i = 0; i < n; i++)
      for (int j = 0; j < d; j++)
        {
          double v = x[(gsize) i * d + j];

          sum[j] += v;
          sq[j] += v * v;
        }
    for (int j = 0; j < d; j++)
      {
        double m = sum[j] / n, var = sq[j] / n - m * m;

        p->mean[j] = (float) m;
        p->scale[j] = var > 1e-12 * MAX (1.0, m * m) ? (float) (1.0 / sqrt (var)) : 1.0f;
      }
  }

  batch = MIN (o->batch, n);
  order = g_new (int, n);
  for (int i = 0; i < n; i++)
    order[i] = i;
  rand = g_rand_new_with_seed (o->seed);
  xb = g_new (float, (gsize) batch * d);
  z = g_new (float, (gsize) batch * k);
  gw = g_new (float, (gsize) k * d);
  vw = g_new0 (float, (gsize) k * d);
  gb = g_new (float, k);
  vb = g_new0 (float, k);

  for (int epoch = 0; epoch < o->epochs; epoch++)
    {
      float lr = (float) (o->learning_rate * 0.5 * (1 + cos (G_PI * epoch / o->epochs)));
      double loss = 0;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      /* Fisher-Yates with the seeded generator. */
      for (int i = n - 1; i > 0; i--)
        {
          int j = g_rand_int_range (rand, 0, i + 1), t = order[i];

          order[i] = order[j];
          order[j] = t;
        }
      for (int start = 0; start < n; start += batch)
        {
          int nb = MIN (batch, n - start);

          for (int b = 0; b < nb; b++)
            {
              const float *src = x + (gsize) order[start + b] * d;

              for (int j = 0; j < d; j++)
                xb[(gsize) b * d + j] = (src[j] - p->mean[j]) * p->scale[j];
              memcpy (z + (gsize) b * k, p->bias, k * sizeof (float));
            }
          lens_blas_sgemm (FALSE, TRUE, nb, k, d, 1.0f, xb, d, p->weights, d, 1.0f, z, k);
          softmax_rows (z, nb, k);
          /* z becomes dL/dlogits = (P - Y) / nb */
          memset (gb, 0, k * sizeof (float));
          for (int b = 0; b < nb; b++)
            {
              float *row = z + (gsize) b * k;
              int y = labels[order[start + b]];

              loss -= log (MAX (row[y], 1e-30f));
              row[y] -= 1.0f;
              for (int c = 0; c < k; c++)
                {
                  row[c] /= nb;
                  gb[c] += row[c];
                }
            }
          /* gw [k, d] = z^T xb + weight_decay W */
          memcpy (gw, p->weights, (gsize) k * d * sizeof (float));
          lens_blas_sgemm (TRUE, FALSE, k, d, nb, 1.0f, z, k, xb, d, (float) o->weight_decay,
                           gw, d);
          for (gsize e = 0; e < (gsize) k * d; e++)
            {
              vw[e] = (float) o->momentum * vw[e] - lr * gw[e];
              p->weights[e] += vw[e];
            }
          for (int c = 0; c < k; c++)
            {
              vb[c] = (float) o->momentum * vb[c] - lr * gb[c];
              p->bias[c] += vb[c];
            }
        }
      p->loss = loss / n;
      if (!isfinite (p->loss))
        {
          g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_INVALID,
                       "The probe's training diverged (non-finite loss at epoch %d); lower the "
                       "learning rate", epoch + 1);
          return NULL;
        }
      if (o->progress != NULL)
        o->progress (done + epoch + 1, total, o->user_data);
    }
  return g_steal_pointer (&p);
}

LensProbeClassifier *
lens_probe_train (const float            *x,
                  const int              *labels,
                  int                     n,
                  int                     n_features,
                  int                     n_classes,
                  const LensProbeOptions *options,
                  GCancellable           *cancellable,
                  GError                **error)
{
  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (n == 0 || (x != NULL && labels != NULL), NULL);

  return train (x, labels, n, n_features, n_classes, options, 0, options->epochs, cancellable,
                error);
}

void
lens_probe_predict (const LensProbeClassifier *p,
                    const float               *x,
                    int                        n,
                    int                       *predicted)
{
  int chunk = MIN (n, PREDICT_CHUNK);
  g_autofree float *xs = g_new (float, (gsize) MAX (chunk, 1) * p->n_features);
  g_autofree float *z = g_new (float, (gsize) MAX (chunk, 1) * p->n_classes);

  for (int start = 0; start < n; start += chunk)
    {
      int nb = MIN (chunk, n - start);

      logits (p, x + (gsize) start * p->n_features, nb, xs, z);
      for (int i = 0; i < nb; i++)
        {
          const float *row = z + (gsize) i * p->n_classes;
          int best = 0;

          for (int c = 1; c < p->n_classes; c++)
            if (row[c] > row[best])
              best = c;
          predicted[start + i] = best;
        }
    }
}

double
lens_probe_accuracy (const LensProbeClassifier *p,
                     const float               *x,
                     const int                 *labels,
                     int                        n)
{
  g_autofree int *pred = g_new (int, MAX (n, 1));
  int right = 0;

  if (n < 1)
    return NAN;
  lens_probe_predict (p, x, n, pred);
  for (int i = 0; i < n; i++)
    right += pred[i] == labels[i];
  return (double) right / n;
}

/* -- features of a data set ---------------------------------------------- */

static int
pooled_size (LensNet      *net,
             int           value,
             LensProbePool pool)
{
  const LensShape *s = lens_net_value_get_shape (net, value);

  if (s->ndim == 4 && pool != LENS_PROBE_POOL_NONE)
    return (int) s->dims[1];
  return (int) lens_analysis_value_size (net, value);
}

/* Image i of ds, normalised with pre, into out [C,H,W]. */
static void
load_item (const LensDataset    *ds,
           int                   i,
           const LensPreprocess *pre,
           float                *out)
{
  gsize plane = (gsize) ds->height * ds->width;
  const guint8 *px = ds->pixels + (gsize) i * ds->channels * plane;

  for (int c = 0; c < pre->channels; c++)
    {
      int sc = ds->channels == 1 ? 0 : (pre->bgr ? 2 - c : c);
      float m = pre->mean[c], s = 1.0f / pre->std[c], k = pre->scale / 255.0f;

      for (gsize p = 0; p < plane; p++)
        out[c * plane + p] = (px[sc * plane + p] * k - m) * s;
    }
}

/* Runs ds through the net: per layer the pooled features [n, d_l]; counts
 * in *correct the images whose output argmax is their label. */
static gboolean
extract (LensNet               *net,
         LensTrace             *trace,
         const LensPreprocess  *pre,
         const LensDataset     *ds,
         const int             *values,
         const int             *dims,
         guint                  n_layers,
         const LensProbeOptions *o,
         float                **features,
         int                   *correct,
         gint64                *done,
         gint64                 total,
         GCancellable          *cancellable,
         GError               **error)
{
  int batch = lens_trace_get_batch (trace);
  int output = lens_net_get_output_value (net);
  gsize n_out = lens_analysis_value_size (net, output);
  LensTensor *input = lens_trace_get_input (trace);
  gsize item = lens_tensor_numel (input) / batch;

  *correct = 0;
  for (int start = 0; start < ds->n; start += batch)
    {
      int nb = MIN (batch, ds->n - start);
      const float *y;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      for (int b = 0; b < nb; b++)
        load_item (ds, start + b, pre, lens_tensor_get_floats (input) + b * item);
      if (!lens_trace_run (trace, cancellable, error))
        return FALSE;

      y = lens_tensor_get_floats (lens_trace_get_value (trace, output));
      for (int b = 0; b < nb && n_out == (gsize) ds->n_classes; b++)
        {
          const float *row = y + (gsize) b * n_out;
          int best = 0;

          for (gsize c = 1; c < n_out; c++)
            if (row[c] > row[best])
              best = (int) c;
          *correct += best == ds->labels[start + b];
        }

      for (guint l = 0; l < n_layers; l++)
        {
          const LensShape *s = lens_net_value_get_shape (net, values[l]);
          const float *f = lens_tensor_get_floats (lens_trace_get_value (trace, values[l]));
          gsize size = lens_analysis_value_size (net, values[l]);

          for (int b = 0; b < nb; b++)
            {
              const float *fb = f + (gsize) b * size;
              float *out = features[l] + (gsize) (start + b) * dims[l];

              if (s->ndim == 4 && o->pool != LENS_PROBE_POOL_NONE)
                {
                  gsize plane = (gsize) s->dims[2] * s->dims[3];

                  for (int c = 0; c < dims[l]; c++)
                    {
                      const float *map = fb + c * plane;
                      double acc = o->pool == LENS_PROBE_POOL_MAX ? -INFINITY : 0;

                      for (gsize q = 0; q < plane; q++)
                        acc = o->pool == LENS_PROBE_POOL_MAX ? MAX (acc, map[q]) : acc + map[q];
                      out[c] = (float) (o->pool == LENS_PROBE_POOL_MAX ? acc : acc / plane);
                    }
                }
              else
                memcpy (out, fb, size * sizeof (float));
            }
        }
      *done += nb;
      if (o->progress != NULL)
        o->progress (*done, total, o->user_data);
    }
  return TRUE;
}

static gboolean
check_dataset (const LensDataset    *ds,
               const char           *what,
               const LensPreprocess *pre,
               GError              **error)
{
  if (ds->n < 1 || ds->height != pre->height || ds->width != pre->width ||
      !(ds->channels == pre->channels || ds->channels == 1))
    {
      g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_DATA,
                   "The %s set (%d images of %dx%dx%d) does not fit the model's %dx%dx%d input",
                   what, ds->n, ds->channels, ds->height, ds->width, pre->channels, pre->height,
                   pre->width);
      return FALSE;
    }
  return TRUE;
}

LensProbeResult *
lens_probe_run (LensNet                *net,
                const LensPreprocess   *pre,
                const LensDataset      *train_set,
                const LensDataset      *test_set,
                const char * const     *layers,
                const LensProbeOptions *options,
                GCancellable           *cancellable,
                GError                **error)
{
  g_autoptr(LensProbeResult) r = NULL;
  g_autoptr(LensTrace) trace = NULL;
  g_autofree int *values = NULL, *train_labels = NULL, *test_labels = NULL;
  int *dims;   /* borrowed: r->n_features */
  g_autofree float **train_f = NULL, **test_f = NULL;
  guint n_layers;
  gint64 done = 0, total;
  int correct = 0;
  gboolean ok = FALSE;

  g_return_val_if_fail (net != NULL && pre != NULL && train_set != NULL && test_set != NULL,
                        NULL);
  g_return_val_if_fail (options != NULL, NULL);

  if (!lens_analysis_check_input (net, pre, error) ||
      !check_dataset (train_set, "training", pre, error) ||
      !check_dataset (test_set, "test", pre, error))
    return NULL;
  if (train_set->n_classes != test_set->n_classes || train_set->n_classes < 2)
    {
      g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_DATA,
                   "The training and test sets need the same classes (at least two): %d and %d",
                   train_set->n_classes, test_set->n_classes);
      return NULL;
    }
  values = lens_analysis_resolve_layers (net, layers, &n_layers, error);
  if (values == NULL)
    return NULL;

  r = g_new0 (LensProbeResult, 1);
  r->n_layers = (int) n_layers;
  r->layers = g_strdupv ((char **) layers);
  r->n_features = dims = g_new (int, n_layers);
  r->train_accuracy = g_new0 (double, n_layers);
  r->test_accuracy = g_new0 (double, n_layers);
  r->loss = g_new0 (double, n_layers);
  r->n_train = train_set->n;
  r->n_test = test_set->n;
  r->n_classes = train_set->n_classes;
  train_f = g_new0 (float *, n_layers);
  test_f = g_new0 (float *, n_layers);
  for (guint l = 0; l < n_layers; l++)
    {
      dims[l] = pooled_size (net, values[l], options->pool);
      train_f[l] = g_try_malloc_n ((gsize) train_set->n * dims[l], sizeof (float));
      test_f[l] = g_try_malloc_n ((gsize) test_set->n * dims[l], sizeof (float));
      if (train_f[l] == NULL || test_f[l] == NULL)
        {
          g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_INVALID,
                       "Not enough memory for the %d features of layer '%s' over %d images",
                       dims[l], layers[l], train_set->n + test_set->n);
          goto out;
        }
    }
  train_labels = g_new (int, train_set->n);
  test_labels = g_new (int, test_set->n);
  for (int i = 0; i < train_set->n; i++)
    train_labels[i] = train_set->labels[i];
  for (int i = 0; i < test_set->n; i++)
    test_labels[i] = test_set->labels[i];

  total = (gint64) train_set->n + test_set->n + (gint64) n_layers * MAX (options->epochs, 0);
  trace = lens_trace_new (net, MIN (FORWARD_BATCH, MAX (train_set->n, test_set->n)), error);
  if (trace == NULL)
    goto out;
  if (!extract (net, trace, pre, train_set, values, dims, n_layers, options, train_f, &correct,
                &done, total, cancellable, error) ||
      !extract (net, trace, pre, test_set, values, dims, n_layers, options, test_f, &correct,
                &done, total, cancellable, error))
    goto out;
  r->model_accuracy = lens_analysis_value_size (net, lens_net_get_output_value (net)) ==
                      (gsize) r->n_classes ? (double) correct / test_set->n : NAN;
  g_clear_pointer (&trace, lens_trace_free);

  for (guint l = 0; l < n_layers; l++)
    {
      g_autoptr(LensProbeClassifier) p = train (train_f[l], train_labels, train_set->n, dims[l],
                                                r->n_classes, options, done, total, cancellable,
                                                error);

      if (p == NULL)
        {
          g_prefix_error (error, "Layer '%s': ", layers[l]);
          goto out;
        }
      done += options->epochs;
      r->loss[l] = p->loss;
      r->train_accuracy[l] = lens_probe_accuracy (p, train_f[l], train_labels, train_set->n);
      r->test_accuracy[l] = lens_probe_accuracy (p, test_f[l], test_labels, test_set->n);
    }
  ok = TRUE;

out:
  for (guint l = 0; l < n_layers; l++)
    {
      g_free (train_f[l]);
      g_free (test_f[l]);
    }
  if (!ok)
    return NULL;
  return g_steal_pointer (&r);
}
