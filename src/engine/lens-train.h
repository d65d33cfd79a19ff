/* lens-train.h: training with the engine's own forward and backward ops
 *
 * The network is an ONNX graph like any other (built in memory by
 * lens_train_build_arch(), or a snapshot), loaded by the importer; its
 * initializers are updated in place.  Gradients come from the op table's
 * backward functions, the same walk the projections use, with the true
 * gradient through ReLU and LRN and the parameter gradients of Conv,
 * Gemm, MatMul and BatchNormalization switched on.
 *
 *   g_autoptr(LensDataset) data = lens_dataset_load_fashion_mnist (NULL, "train", &error);
 *   LensTrainOptions opt;
 *   lens_train_options_init (&opt);
 *   opt.epochs = 10;
 *   opt.output_dir = "out";
 *   g_autoptr(LensTrainer) t = lens_trainer_new (&opt, data, &error);
 *   lens_trainer_run (t, cancellable, progress_cb, NULL, &error);
 */
#pragma once

#include <gio/gio.h>

#include "lens-dataset.h"
#include "lens-net.h"

G_BEGIN_DECLS

#define LENS_TRAIN_ERROR (lens_train_error_quark ())

typedef enum
{
  LENS_TRAIN_ERROR_ARCH,        /* unknown architecture / unsupported layer */
  LENS_TRAIN_ERROR_DATA,        /* data set does not fit the network */
  LENS_TRAIN_ERROR_IO,          /* snapshot / state files */
  LENS_TRAIN_ERROR_RESUME,      /* nothing to resume, or a state that does not match */
  LENS_TRAIN_ERROR_CANCELLED,
} LensTrainError;

/* ---- the backward machinery (also used by the gradient tests) ---------- */

/* Gradient buffers over a trace: one per activation and one per trainable
 * parameter: the weight and bias initializers of Conv and Gemm, MatMul's
 * second input when it is an initializer, BatchNormalization's scale and
 * bias (trained with the running mean and variance frozen: the layer stays
 * in inference mode, as when fine-tuning). */
typedef struct _LensBackprop LensBackprop;

LensBackprop *lens_backprop_new            (LensTrace    *trace,
                                            GError      **error);
void          lens_backprop_free           (LensBackprop *bp);
/* Runs the layers one by one.  rand non-NULL: training mode, Dropout draws a
 * new mask from rand (kept for the backward pass, scaled by 1/(1-p));
 * rand NULL and keep_masks: reuse the last masks (gradient checks); else
 * inference (Dropout passes through). */
void          lens_backprop_forward        (LensBackprop *bp,
                                            GRand        *rand,
                                            gboolean      keep_masks);
/* The backward walk from `value` (a layer output) with the given signal
 * (shaped like the value's batched activation).  Parameter gradients are
 * ADDED to their buffers; activation gradients start from zero. */
void          lens_backprop_backward       (LensBackprop     *bp,
                                            int               value,
                                            const LensTensor *signal);
/* Softmax + cross-entropy over the logits (the input of the final Softmax,
 * or the output): returns the SUM of the losses of the batch items whose
 * label is < n_classes, counts the correct ones, and runs the backward
 * walk with (p - onehot) / divisor at the logits (divisor <= 0: the number
 * of labelled items; a batch split over several traces passes the whole
 * batch size).  Items with label 255 are ignored. */
double        lens_backprop_softmax_xent   (LensBackprop  *bp,
                                            const guint8  *labels,
                                            int            divisor,
                                            int           *n_correct);
void          lens_backprop_zero_params    (LensBackprop *bp);
guint         lens_backprop_get_n_params   (LensBackprop *bp);
/* Value index of parameter i, its gradient and its (mutable) data. */
int           lens_backprop_get_param      (LensBackprop *bp,
                                            guint         i);
LensTensor   *lens_backprop_get_param_grad (LensBackprop *bp,
                                            guint         i);
LensTensor   *lens_backprop_get_param_data (LensBackprop *bp,
                                            guint         i);
/* The gradient at the net's input after a backward walk (computed only
 * when want is TRUE, which is off by default: training does not need it). */
void          lens_backprop_want_input_grad (LensBackprop *bp,
                                             gboolean      want);
const LensTensor *lens_backprop_get_grad   (LensBackprop *bp,
                                            int           value);

/* ---- architectures ---------------------------------------------------- */

/* "zf-mini" or "alex-mini" for C x H x W inputs and n_classes, weights
 * drawn from seed (He-normal, biases 0).  Returns a serialized ONNX model.
 * The default widths: 32, 64, 128 conv filters and 256 units in fc6. */
GBytes       *lens_train_build_arch        (const char *arch,
                                            int         channels,
                                            int         height,
                                            int         width,
                                            int         n_classes,
                                            guint32     seed,
                                            GError    **error);

/* The same with chosen widths: conv_widths[3] filters in conv1..conv3
 * (NULL: the defaults) and fc_units in fc6 (0: the default). */
GBytes       *lens_train_build_arch_sized  (const char *arch,
                                            int         channels,
                                            int         height,
                                            int         width,
                                            int         n_classes,
                                            const int  *conv_widths,
                                            int         fc_units,
                                            guint32     seed,
                                            GError    **error);

/* ---- the training loop ------------------------------------------------ */

typedef struct
{
  const char *arch;          /* "zf-mini" (default) or "alex-mini" */
  int         conv_widths[3];/* filters of conv1..conv3 (0: 32, 64, 128) */
  int         fc_units;      /* units of fc6 (0: 256) */
  const char *name;          /* model file stem; default: the arch */
  int         epochs;        /* default 20 */
  int         batch;         /* default 128 */
  guint32     seed;          /* default 1 */
  double      lr;            /* default 0.01 */
  double      momentum;      /* default 0.9 */
  double      weight_decay;  /* default 5e-4 (weights only, not biases) */
  double      lr_drop;       /* factor when validation stalls, default 0.1 */
  int         patience;      /* epochs without a better validation accuracy, default 2 */
  const int  *lr_steps;      /* epochs after which the rate drops anyway (sorted), or NULL */
  int         n_lr_steps;
  double      filter_radius; /* conv filter RMS limit, default 0.1 (<= 0: off) */
  int         val_size;      /* held-out validation images, default 5000 */
  int         crop_pad;      /* random crop padding, default 2 (0: off) */
  gboolean    flip;          /* random horizontal flips, default TRUE */
  int         limit;         /* use only this many training images (0: all) */
  int         workers;       /* threads the batch is split over (0: lens_get_threads ());
                              * BLAS runs single-threaded inside each */
  const int  *snapshots;     /* epochs to snapshot (sorted); NULL: 1,2,5,10,20,50,100,... */
  int         n_snapshots;
  const char *output_dir;    /* NULL: keep nothing on disk */
  gboolean    resume;        /* continue from output_dir's state */
  const char *dataset_label; /* written into the model metadata */
} LensTrainOptions;

typedef struct
{
  int     epoch;             /* 1-based, current */
  int     epochs;
  int     batch_index;       /* within the epoch */
  int     n_batches;
  double  loss;              /* running mean over the epoch so far */
  double  train_accuracy;    /* running, on augmented images */
  double  val_accuracy;      /* last validation accuracy, -1 if none yet */
  double  lr;
  double  images_per_second;
  double  eta_seconds;       /* for the whole run */
  gboolean epoch_done;       /* this report closes an epoch (val_accuracy is fresh) */
  const char *snapshot;      /* path written at this report, or NULL */
} LensTrainProgress;

typedef void (*LensTrainProgressFunc) (const LensTrainProgress *progress,
                                       gpointer                 user_data);

typedef struct _LensTrainer LensTrainer;

GQuark        lens_train_error_quark       (void);
void          lens_train_options_init      (LensTrainOptions *options);

LensTrainer  *lens_trainer_new             (const LensTrainOptions *options,
                                            const LensDataset      *train,
                                            GError                **error);
void          lens_trainer_free            (LensTrainer *trainer);
/* Trains until the last epoch or until cancellable fires (then it saves a
 * snapshot, when there is an output_dir, and fails with CANCELLED). */
gboolean      lens_trainer_run             (LensTrainer          *trainer,
                                            GCancellable         *cancellable,
                                            LensTrainProgressFunc progress,
                                            gpointer              user_data,
                                            GError              **error);
/* The network being trained (borrowed). */
LensNet      *lens_trainer_get_net         (LensTrainer *trainer);
/* Mean and std of the input normalisation (per channel). */
void          lens_trainer_get_norm        (LensTrainer *trainer,
                                            float       *mean,
                                            float       *std);
double        lens_trainer_get_val_accuracy (LensTrainer *trainer);
/* Path of the final model once run succeeded (borrowed, NULL without output_dir). */
const char   *lens_trainer_get_model_path  (LensTrainer *trainer);

/* Writes `name`.convlens.json and the labels file beside a model. */
gboolean      lens_train_write_profile     (const char         *model_path,
                                            const char         *display_name,
                                            int                 channels,
                                            int                 height,
                                            int                 width,
                                            const float        *mean,
                                            const float        *std,
                                            const char * const *class_names,
                                            const char         *labels_file,
                                            GError            **error);

/* ---- evaluation ------------------------------------------------------- */

/* Accuracy of net on data (inputs normalised with mean/std); confusion
 * (optional, n_classes^2 ints, row = true class, column = predicted) is
 * filled. */
gboolean      lens_train_evaluate          (LensNet           *net,
                                            const LensDataset *data,
                                            const float       *mean,
                                            const float       *std,
                                            int                batch,
                                            int               *confusion,
                                            double            *accuracy,
                                            GCancellable      *cancellable,
                                            GError           **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensBackprop, lens_backprop_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensTrainer, lens_trainer_free)

G_END_DECLS
