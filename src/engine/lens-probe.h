/* lens-probe.h: linear probes, a softmax classifier on one layer's
 * features (Zeiler & Fergus, section 5.3)
 *
 *   LensProbeOptions opts;
 *   lens_probe_options_init (&opts);
 *   g_autoptr(LensProbeResult) r = lens_probe_run (net, &pre, train, test, layers, &opts,
 *                                                  cancellable, &error);
 *
 * Features: the layer's output per image; a [N,C,H,W] output is pooled over
 * its positions (mean by default, or max), or flattened with
 * LENS_PROBE_POOL_NONE; a [N,C] output is used as it is.  Each feature is
 * standardised with the mean and standard deviation over the training set
 * (a constant feature gets scale 1).  The classifier is multinomial
 * logistic regression, softmax(W f + b), trained from W = 0 by mini-batch
 * SGD with momentum on the mean cross-entropy plus weight_decay/2 |W|^2,
 * the learning rate following a cosine from learning_rate down to 0 over
 * the epochs, the batches drawn from a seeded shuffle.  Accuracy is the
 * fraction of images whose most probable class (lowest index on ties) is
 * the label.
 */
#pragma once

#include "lens-analysis.h"
#include "lens-dataset.h"

G_BEGIN_DECLS

typedef enum
{
  LENS_PROBE_POOL_MEAN,
  LENS_PROBE_POOL_MAX,
  LENS_PROBE_POOL_NONE,
} LensProbePool;

typedef struct
{
  int                  epochs;         /* 30 */
  int                  batch;          /* 64 */
  double               learning_rate;  /* 0.1 */
  double               momentum;       /* 0.9 */
  double               weight_decay;   /* 1e-4 */
  guint32              seed;           /* 1 */
  LensProbePool        pool;           /* mean */
  LensAnalysisProgress progress;       /* lens_probe_run: images, then epochs */
  gpointer             user_data;
} LensProbeOptions;

typedef struct
{
  int    n_features;
  int    n_classes;
  float *mean;       /* [n_features] standardisation */
  float *scale;      /* [n_features] 1 / std */
  float *weights;    /* [n_classes, n_features] */
  float *bias;       /* [n_classes] */
  double loss;       /* mean cross-entropy of the last epoch */
} LensProbeClassifier;

typedef struct
{
  int      n_layers;
  char   **layers;           /* NULL-terminated */
  int     *n_features;       /* [n_layers] */
  double  *train_accuracy;   /* [n_layers] */
  double  *test_accuracy;    /* [n_layers] */
  double  *loss;             /* [n_layers] final training loss */
  int      n_train;
  int      n_test;
  int      n_classes;
  /* The model's own accuracy on the test set (argmax of its output), NaN
   * when its output does not have n_classes entries. */
  double   model_accuracy;
} LensProbeResult;

void                 lens_probe_options_init     (LensProbeOptions *options);
/* "mean", "max", "none". */
gboolean             lens_probe_pool_from_string (const char    *text,
                                                  LensProbePool *pool);
const char          *lens_probe_pool_to_string   (LensProbePool  pool);

/* x [n, n_features] row-major, labels [n] in [0, n_classes).  progress
 * counts epochs. */
LensProbeClassifier *lens_probe_train            (const float            *x,
                                                  const int              *labels,
                                                  int                     n,
                                                  int                     n_features,
                                                  int                     n_classes,
                                                  const LensProbeOptions *options,
                                                  GCancellable           *cancellable,
                                                  GError                **error);
/* The most probable class of each row of x into predicted[n]. */
void                 lens_probe_predict          (const LensProbeClassifier *probe,
                                                  const float               *x,
                                                  int                        n,
                                                  int                       *predicted);
double               lens_probe_accuracy         (const LensProbeClassifier *probe,
                                                  const float               *x,
                                                  const int                 *labels,
                                                  int                        n);
void                 lens_probe_classifier_free  (LensProbeClassifier *probe);

/* train and test must have the model's input size and channels (1-channel
 * images feed a 3-channel model as gray) and the same classes; images are
 * normalised with pre (scale, mean, std, bgr). */
LensProbeResult     *lens_probe_run              (LensNet                *net,
                                                  const LensPreprocess   *pre,
                                                  const LensDataset      *train,
                                                  const LensDataset      *test,
                                                  const char * const     *layers,
                                                  const LensProbeOptions *options,
                                                  GCancellable           *cancellable,
                                                  GError                **error);
void                 lens_probe_result_free      (LensProbeResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensProbeClassifier, lens_probe_classifier_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensProbeResult, lens_probe_result_free)

G_END_DECLS
