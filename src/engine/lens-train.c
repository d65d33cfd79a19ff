/* lens-train.c: architectures, the SGD loop, snapshots, evaluation
 *
 * One step: fill a batch-sized trace input with augmented images, run the
 * layers in training mode (lens-backprop.c), softmax + cross-entropy at
 * the logits, the backward walk, then SGD with momentum and weight decay
 * on the initializers in place, and the paper's renormalisation of conv
 * filters whose RMS exceeds a radius.
 *
 * Determinism: every random draw comes from GRand generators seeded from
 * the seed and the position in the run (the split from the seed, the
 * shuffle of an epoch from seed + epoch, augmentation and dropout of a
 * batch from seed + epoch + batch), so a run resumed at any batch
 * continues exactly as if it had not stopped (with the same threads).
 */
#define G_LOG_DOMAIN "lens-train"

#include "lens-train.h"
#include "lens-file.h"
#include "lens-net-private.h"
#include "lens-onnx-write.h"
#include "lens-project.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#define MOMENTUM_MAGIC "LENSMOM1"
#define LENS_TRAIN_MAX_WORKERS 8

void
lens_train_options_init (LensTrainOptions *o)
{
  memset (o, 0, sizeof *o);
  o->arch = "zf-mini";
  o->epochs = 20;
  o->batch = 128;
  o->seed = 1;
  o->lr = 0.01;
  o->momentum = 0.9;
  o->weight_decay = 5e-4;
  o->lr_drop = 0.1;
  o->patience = 2;
  o->filter_radius = 0.1;
  o->val_size = 5000;
  o->crop_pad = 2;
  o->flip = TRUE;
}

/* ---- architectures ---------------------------------------------------- */

static double
gaussian (GRand *r)
{
  /* Box-Muller; 1 - u keeps the log finite */
  double u = 1.0 - g_rand_double (r), v = g_rand_double (r);
  return sqrt (-2.0 * log (u)) * cos (2.0 * G_PI * v);
}

static void
add_param (LensOnnxBuilder *b,
           GRand           *r,
           const char      *name,
           int              ndim,
           const int64_t   *dims,
           double           std)
{
  LensShape s = lens_shape_make (ndim, dims);
  g_autoptr (LensTensor) t = lens_tensor_new_float (&s, NULL);
  float *d = t->data;
  gsize n = lens_tensor_numel (t);

  for (gsize i = 0; i < n; i++)
    d[i] = std > 0.0 ? (float) (std * gaussian (r)) : 0.0f;
  lens_onnx_builder_add_initializer (b, name, t);
}

typedef struct
{
  LensOnnxBuilder *b;
  GRand           *r;
  char            *x;      /* current value name */
  int              c, h, w;
} ArchCtx;

static void
arch_set (ArchCtx    *a,
          const char *value)
{
  g_free (a->x);
  a->x = g_strdup (value);
}

static void
arch_conv (ArchCtx    *a,
           const char *name,
           int         m,
           int         k,
           int         stride,
           int         pad)
{
  g_autofree char *wn = g_strdup_printf ("%s.weight", name);
  g_autofree char *bn = g_strdup_printf ("%s.bias", name);
  g_autofree char *ins = g_strdup_printf ("%s,%s,%s", a->x, wn, bn);
  int id;

  add_param (a->b, a->r, wn, 4, (int64_t[]) { m, a->c, k, k }, sqrt (2.0 / (a->c * k * k)));
  add_param (a->b, a->r, bn, 1, (int64_t[]) { m }, 0.0);
  id = lens_onnx_builder_add_node (a->b, "Conv", name, ins, name);
  lens_onnx_builder_set_ints (a->b, id, "kernel_shape", 2, (gint64[]) { k, k });
  lens_onnx_builder_set_ints (a->b, id, "strides", 2, (gint64[]) { stride, stride });
  lens_onnx_builder_set_ints (a->b, id, "pads", 4, (gint64[]) { pad, pad, pad, pad });
  a->c = m;
  a->h = (a->h + 2 * pad - k) / stride + 1;
  a->w = (a->w + 2 * pad - k) / stride + 1;
  arch_set (a, name);
}

static void
arch_simple (ArchCtx    *a,
             const char *op,
             const char *name)
{
  lens_onnx_builder_add_node (a->b, op, name, a->x, name);
  arch_set (a, name);
}

static void
arch_pool (ArchCtx    *a,
           const char *name)
{
  int id = lens_onnx_builder_add_node (a->b, "MaxPool", name, a->x, name);

  lens_onnx_builder_set_ints (a->b, id, "kernel_shape", 2, (gint64[]) { 3, 3 });
  lens_onnx_builder_set_ints (a->b, id, "strides", 2, (gint64[]) { 2, 2 });
  lens_onnx_builder_set_ints (a->b, id, "pads", 4, (gint64[]) { 1, 1, 1, 1 });
  a->h = (a->h + 2 - 3) / 2 + 1;
  a->w = (a->w + 2 - 3) / 2 + 1;
  arch_set (a, name);
}

static void
arch_lrn (ArchCtx    *a,
          const char *name)
{
  int id = lens_onnx_builder_add_node (a->b, "LRN", name, a->x, name);

  lens_onnx_builder_set_int (a->b, id, "size", 5);
  lens_onnx_builder_set_float (a->b, id, "alpha", 1e-4f);
  lens_onnx_builder_set_float (a->b, id, "beta", 0.75f);
  lens_onnx_builder_set_float (a->b, id, "bias", 1.0f);
  arch_set (a, name);
}

static void
arch_fc (ArchCtx    *a,
         const char *name,
         int         n)
{
  g_autofree char *wn = g_strdup_printf ("%s.weight", name);
  g_autofree char *bn = g_strdup_printf ("%s.bias", name);
  g_autofree char *ins = g_strdup_printf ("%s,%s,%s", a->x, wn, bn);
  int k = a->c * a->h * a->w;
  int id;

  add_param (a->b, a->r, wn, 2, (int64_t[]) { n, k }, sqrt (2.0 / k));
  add_param (a->b, a->r, bn, 1, (int64_t[]) { n }, 0.0);
  id = lens_onnx_builder_add_node (a->b, "Gemm", name, ins, name);
  lens_onnx_builder_set_int (a->b, id, "transB", 1);
  a->c = n;
  a->h = a->w = 1;
  arch_set (a, name);
}

GBytes *
lens_train_build_arch (const char *arch,
                       int         channels,
                       int         height,
                       int         width,
                       int         n_classes,
                       guint32     seed,
                       GError    **error)
{
  return lens_train_build_arch_sized (arch, channels, height, width, n_classes, NULL, 0, seed,
                                      error);
}

GBytes *
lens_train_build_arch_sized (const char *arch,
                             int         channels,
                             int         height,
                             int         width,
                             int         n_classes,
                             const int  *conv_widths,
                             int         fc_units,
                             guint32     seed,
                             GError    **error)
{
  g_autoptr (LensOnnxBuilder) b = NULL;
  g_autoptr (GRand) r = g_rand_new_with_seed (seed);
  ArchCtx a = { 0 };
  gboolean alex = g_strcmp0 (arch, "alex-mini") == 0;
  LensShape in = lens_shape_4d (1, channels, height, width);
  GBytes *bytes;
  int w1 = conv_widths && conv_widths[0] > 0 ? conv_widths[0] : 32;
  int w2 = conv_widths && conv_widths[1] > 0 ? conv_widths[1] : 64;
  int w3 = conv_widths && conv_widths[2] > 0 ? conv_widths[2] : 128;
  int fc = fc_units > 0 ? fc_units : 256;

  if (!alex && g_strcmp0 (arch, "zf-mini") != 0)
    {
      g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_ARCH,
                   "Unknown architecture '%s' (use zf-mini or alex-mini)", arch);
      return NULL;
    }
  if (channels < 1 || height < 8 || width < 8 || height > 512 || width > 512 ||
      n_classes < 2 || n_classes > 256)
    {
      g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_DATA,
                   "Inputs of %dx%dx%d and %d classes do not fit %s", channels, height, width,
                   n_classes, arch);
      return NULL;
    }
  if (w1 > 1024 || w2 > 1024 || w3 > 1024 || fc > 8192)
    {
      g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_ARCH,
                   "Layer widths %d, %d, %d and %d units are too large (at most 1024 "
                   "filters per conv layer and 8192 units)", w1, w2, w3, fc);
      return NULL;
    }
  b = lens_onnx_builder_new (arch, 13);
  a.b = b;
  a.r = r;
  a.x = g_strdup ("input");
  a.c = channels;
  a.h = height;
  a.w = width;
  lens_onnx_builder_add_input (b, "input", &in);

  /* ZF's layer 1 (small filters, stride 1) versus AlexNet's coarse one */
  if (alex)
    arch_conv (&a, "conv1", w1, 7, 2, 3);
  else
    arch_conv (&a, "conv1", w1, 5, 1, 0);
  arch_simple (&a, "Relu", "relu1");
  arch_pool (&a, "pool1");
  arch_lrn (&a, "norm1");
  arch_conv (&a, "conv2", w2, 3, 1, 1);
  arch_simple (&a, "Relu", "relu2");
  arch_pool (&a, "pool2");
  arch_lrn (&a, "norm2");
  arch_conv (&a, "conv3", w3, 3, 1, 1);
  arch_simple (&a, "Relu", "relu3");
  arch_pool (&a, "pool3");
  {
    int id = lens_onnx_builder_add_node (b, "Flatten", "flatten", a.x, "flatten");
    lens_onnx_builder_set_int (b, id, "axis", 1);
    arch_set (&a, "flatten");
  }
  arch_fc (&a, "fc6", fc);
  arch_simple (&a, "Relu", "relu6");
  arch_simple (&a, "Dropout", "drop6");
  arch_fc (&a, "fc7", n_classes);
  {
    int id = lens_onnx_builder_add_node (b, "Softmax", "prob", a.x, "prob");
    lens_onnx_builder_set_int (b, id, "axis", 1);
  }
  lens_onnx_builder_add_output (b, "prob", &(LensShape) { 2, { 1, n_classes } });
  lens_onnx_builder_set_metadata (b, "convlens.arch", arch);
  g_free (a.x);
  bytes = lens_onnx_builder_to_bytes (b, error);
  return bytes;
}

/* ---- the trainer ------------------------------------------------------ */

typedef struct
{
  int       value;
  gboolean  decay;         /* weights decay, biases do not */
  gboolean  conv_filter;   /* renormalised */
  float    *velocity;      /* owned */
  gsize     n;
} Param;

struct _LensTrainer
{
  LensTrainOptions opt;
  GPtrArray    *strings;      /* owned copies of the option strings */
  int          *snapshots;
  int           n_snapshots;
  LensDataset  *train;        /* owned subsets */
  LensDataset  *val;
  LensNet      *net;
  int           n_workers;
  LensTrace    *traces[LENS_TRAIN_MAX_WORKERS];  /* one per worker, batch / n_workers each */
  LensBackprop *bps[LENS_TRAIN_MAX_WORKERS];
  LensBackprop *bp;           /* bps[0]: parameter gradients are summed into it */
  GArray       *params;       /* Param */
  float         mean[3], std[3];
  int           epoch_done;   /* completed epochs */
  int           batch_done;   /* completed batches of epoch_done + 1 */
  double        lr;
  double        best_val;
  double        last_val;
  int           stall;
  char         *model_path;
  char         *name;
  gint64        images_done;  /* in this run */
};

static const char *
keep (LensTrainer *t,
      const char  *s)
{
  char *copy;

  if (s == NULL)
    return NULL;
  copy = g_strdup (s);
  g_ptr_array_add (t->strings, copy);
  return copy;
}

void
lens_trainer_free (LensTrainer *t)
{
  if (t == NULL)
    return;
  if (t->params)
    {
      for (guint i = 0; i < t->params->len; i++)
        g_free (g_array_index (t->params, Param, i).velocity);
      g_array_unref (t->params);
    }
  for (int w = 0; w < LENS_TRAIN_MAX_WORKERS; w++)
    {
      lens_backprop_free (t->bps[w]);
      lens_trace_free (t->traces[w]);
    }
  if (t->net)
    lens_net_unref (t->net);
  lens_dataset_free (t->train);
  lens_dataset_free (t->val);
  g_ptr_array_unref (t->strings);
  g_free (t->snapshots);
  g_free ((int *) t->opt.lr_steps);
  g_free (t->model_path);
  g_free (t->name);
  g_free (t);
}

static char *
state_path (LensTrainer *t)
{
  return g_build_filename (t->opt.output_dir, "train-state.ini", NULL);
}

static char *
snapshot_path (LensTrainer *t,
               int          epoch)
{
  g_autofree char *file = g_strdup_printf ("%s-epoch-%03d.onnx", t->name, epoch);
  return g_build_filename (t->opt.output_dir, "snapshots", file, NULL);
}

static gboolean
setup_params (LensTrainer *t,
              GError     **error)
{
  LensNet *net = t->net;

  t->params = g_array_new (FALSE, TRUE, sizeof (Param));
  for (guint i = 0; i < lens_backprop_get_n_params (t->bp); i++)
    {
      Param p = { 0 };

      p.value = lens_backprop_get_param (t->bp, i);
      p.n = lens_tensor_numel (lens_backprop_get_param_data (t->bp, i));
      p.velocity = g_try_new0 (float, p.n);
      if (p.velocity == NULL)
        {
          g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_DATA, "Out of memory");
          return FALSE;
        }
      for (guint l = 0; l < net->layers->len; l++)
        {
          LensNode *node = lens_net_layer_node (net, l);
          /* weights decay; biases and BatchNormalization's scale do not */
          if (node->n_inputs > 1 && node->inputs[1] == p.value && node->op != LENS_OP_BATCHNORM)
            {
              p.decay = TRUE;
              p.conv_filter = node->op == LENS_OP_CONV;
            }
        }
      g_array_append_val (t->params, p);
    }
  return TRUE;
}

static gboolean
load_momentum (LensTrainer *t,
               const char  *path,
               GError     **error)
{
  g_autofree char *data = NULL;
  gsize len, off = 8, need = 8;

  if (!g_file_get_contents (path, &data, &len, NULL) || len < 8 ||
      memcmp (data, MOMENTUM_MAGIC, 8) != 0)
    goto bad;
  for (guint i = 0; i < t->params->len; i++)
    need += g_array_index (t->params, Param, i).n * sizeof (float);
  if (len != need)
    goto bad;
  for (guint i = 0; i < t->params->len; i++)
    {
      Param *p = &g_array_index (t->params, Param, i);
      memcpy (p->velocity, data + off, p->n * sizeof (float));
      off += p->n * sizeof (float);
    }
  return TRUE;

bad:
  g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_RESUME,
               "The momentum file '%s' is missing or does not match the model", path);
  return FALSE;
}

static gboolean
save_momentum (LensTrainer *t,
               const char  *path,
               GError     **error)
{
  g_autoptr (GByteArray) buf = g_byte_array_new ();

  g_byte_array_append (buf, (const guint8 *) MOMENTUM_MAGIC, 8);
  for (guint i = 0; i < t->params->len; i++)
    {
      Param *p = &g_array_index (t->params, Param, i);
      g_byte_array_append (buf, (const guint8 *) p->velocity, (guint) (p->n * sizeof (float)));
    }
  return lens_file_write_atomic (path, buf->data, buf->len, error);
}

/* Splits the data into validation and training images (seeded). */
static gboolean
split_data (LensTrainer       *t,
            const LensDataset *data,
            GError           **error)
{
  g_autoptr (GRand) r = g_rand_new_with_seed_array ((guint32[]) { t->opt.seed, 0x5eed }, 2);
  g_autofree int *perm = g_new (int, MAX (data->n, 1));
  int nval = MIN (t->opt.val_size, data->n / 5);
  int ntrain = data->n - nval;

  if (t->opt.limit > 0)
    ntrain = MIN (ntrain, t->opt.limit);
  if (ntrain < t->opt.batch)
    {
      g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_DATA,
                   "%d training images are fewer than one batch of %d", ntrain, t->opt.batch);
      return FALSE;
    }
  for (int i = 0; i < data->n; i++)
    perm[i] = i;
  for (int i = data->n - 1; i > 0; i--)
    {
      int j = g_rand_int_range (r, 0, i + 1), tmp = perm[i];
      perm[i] = perm[j];
      perm[j] = tmp;
    }
  t->val = lens_dataset_subset (data, perm, nval);
  t->train = lens_dataset_subset (data, perm + nval, ntrain);
  return TRUE;
}

static void
compute_norm (LensTrainer       *t,
              const LensDataset *data)
{
  gsize plane = (gsize) data->height * data->width;

  if (g_str_has_prefix (data->name, "fashion-mnist"))
    {
      /* the usual constants of Fashion-MNIST's training set */
      t->mean[0] = 0.2860f;
      t->std[0] = 0.3530f;
      return;
    }
  for (int c = 0; c < data->channels; c++)
    {
      double s = 0.0, s2 = 0.0;
      gsize count = 0;
      for (int i = 0; i < data->n; i++)
        {
          const guint8 *px = data->pixels + ((gsize) i * data->channels + c) * plane;
          for (gsize j = 0; j < plane; j++)
            {
              double v = px[j] / 255.0;
              s += v;
              s2 += v * v;
            }
          count += plane;
        }
      t->mean[c] = (float) (s / count);
      t->std[c] = (float) MAX (sqrt (MAX (s2 / count - (s / count) * (s / count), 0.0)), 1e-3);
    }
}

static gboolean
read_state (LensTrainer *t,
            char       **snapshot,
            GError     **error)
{
  g_autofree char *path = state_path (t);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *arch = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_RESUME,
                   "Nothing to resume in '%s': %s", t->opt.output_dir, local->message);
      return FALSE;
    }
  arch = g_key_file_get_string (kf, "train", "arch", NULL);
  if (g_strcmp0 (arch, t->opt.arch) != 0 ||
      g_key_file_get_int64 (kf, "train", "seed", NULL) != t->opt.seed)
    {
      g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_RESUME,
                   "'%s' holds a run of %s with seed %" G_GINT64_FORMAT
                   "; resume with the same --arch and --seed", path, arch ? arch : "?",
                   g_key_file_get_int64 (kf, "train", "seed", NULL));
      return FALSE;
    }
  t->epoch_done = g_key_file_get_integer (kf, "train", "epoch_done", NULL);
  t->batch_done = g_key_file_get_integer (kf, "train", "batch_done", NULL);
  t->lr = g_key_file_get_double (kf, "train", "lr", NULL);
  t->best_val = g_key_file_get_double (kf, "train", "best_val", NULL);
  t->last_val = g_key_file_get_double (kf, "train", "last_val", NULL);
  t->stall = g_key_file_get_integer (kf, "train", "stall", NULL);
  *snapshot = g_key_file_get_string (kf, "train", "snapshot", &local);
  if (*snapshot == NULL || t->lr <= 0.0)
    {
      g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_RESUME,
                   "'%s' is incomplete", path);
      return FALSE;
    }
  return TRUE;
}

LensTrainer *
lens_trainer_new (const LensTrainOptions *options,
                  const LensDataset      *data,
                  GError                **error)
{
  g_autoptr (LensTrainer) t = g_new0 (LensTrainer, 1);
  g_autoptr (LensNet) net = NULL;
  g_autofree char *resume_snapshot = NULL;

  t->opt = *options;
  t->strings = g_ptr_array_new_with_free_func (g_free);
  t->opt.arch = keep (t, options->arch ? options->arch : "zf-mini");
  t->opt.output_dir = keep (t, options->output_dir);
  t->opt.dataset_label = keep (t, options->dataset_label);
  t->name = g_strdup (options->name ? options->name : t->opt.arch);
  if (t->opt.batch < 1 || t->opt.batch > 4096 || t->opt.epochs < 1)
    {
      g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_DATA,
                   "The batch size must be 1 to 4096 and epochs at least 1");
      return NULL;
    }
  if (options->snapshots != NULL && options->n_snapshots > 0)
    {
      t->snapshots = g_memdup2 (options->snapshots, sizeof (int) * options->n_snapshots);
      t->n_snapshots = options->n_snapshots;
    }
  else
    {
      /* 1, 2, 5, 10, 20, 50, ... */
      t->snapshots = g_new (int, 30);
      for (int i = 0, base = 1; i < 27; i += 3, base *= 10)
        {
          t->snapshots[i] = base;
          t->snapshots[i + 1] = 2 * base;
          t->snapshots[i + 2] = 5 * base;
          t->n_snapshots = i + 3;
        }
    }
  t->opt.snapshots = NULL;
  if (options->lr_steps != NULL && options->n_lr_steps > 0)
    t->opt.lr_steps = g_memdup2 (options->lr_steps, sizeof (int) * options->n_lr_steps);
  else
    t->opt.n_lr_steps = 0;
  t->lr = t->opt.lr;
  t->best_val = -1.0;
  t->last_val = -1.0;
  if (data->n_classes > 256)
    {
      g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_DATA, "Too many classes");
      return NULL;
    }
  if (!split_data (t, data, error))
    return NULL;
  compute_norm (t, data);

  if (t->opt.resume)
    {
      if (t->opt.output_dir == NULL)
        {
          g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_RESUME,
                       "--resume needs the output folder of the run");
          return NULL;
        }
      if (!read_state (t, &resume_snapshot, error))
        return NULL;
      {
        g_autofree char *snap = g_build_filename (t->opt.output_dir, resume_snapshot, NULL);
        net = lens_net_load_onnx (snap, NULL, error);
      }
      if (net == NULL)
        return NULL;
    }
  else
    {
      g_autoptr (GBytes) bytes = lens_train_build_arch_sized (t->opt.arch, data->channels,
                                                              data->height, data->width,
                                                              data->n_classes,
                                                              t->opt.conv_widths,
                                                              t->opt.fc_units, t->opt.seed,
                                                              error);
      if (bytes == NULL)
        return NULL;
      net = lens_net_load_onnx_data (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                     NULL, NULL, error);
      if (net == NULL)
        return NULL;
      g_free (net->name);
      net->name = g_strdup (t->name);
    }
  {
    const LensShape *in = lens_net_get_input_shape (net);
    if (in->ndim != 4 || in->dims[1] != data->channels || in->dims[2] != data->height ||
        in->dims[3] != data->width)
      {
        g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_DATA,
                     "The model's input does not match the %dx%dx%d images of the data set",
                     data->channels, data->height, data->width);
        return NULL;
      }
  }
  t->net = g_steal_pointer (&net);
  t->n_workers = t->opt.workers > 0 ? t->opt.workers : lens_get_threads ();
  t->n_workers = CLAMP (t->n_workers, 1, LENS_TRAIN_MAX_WORKERS);
  while (t->opt.batch % t->n_workers != 0)
    t->n_workers--;
  for (int w = 0; w < t->n_workers; w++)
    {
      t->traces[w] = lens_trace_new (t->net, t->opt.batch / t->n_workers, error);
      if (t->traces[w] == NULL)
        return NULL;
      t->bps[w] = lens_backprop_new (t->traces[w], error);
      if (t->bps[w] == NULL)
        return NULL;
    }
  t->bp = t->bps[0];
  if (!setup_params (t, error))
    return NULL;
  if (t->opt.resume)
    {
      g_autofree char *mom = g_build_filename (t->opt.output_dir, "train-momentum.bin", NULL);
      if (!load_momentum (t, mom, error))
        return NULL;
    }
  return g_steal_pointer (&t);
}

LensNet *
lens_trainer_get_net (LensTrainer *t)
{
  return t->net;
}

void
lens_trainer_get_norm (LensTrainer *t,
                       float       *mean,
                       float       *std)
{
  memcpy (mean, t->mean, sizeof t->mean);
  memcpy (std, t->std, sizeof t->std);
}

double
lens_trainer_get_val_accuracy (LensTrainer *t)
{
  return t->last_val;
}

const char *
lens_trainer_get_model_path (LensTrainer *t)
{
  return t->model_path;
}

/* One augmented image into dst [C,H,W]: shifted by (dx, dy) with the
 * background (pixel 0) filling the border, optionally mirrored. */
static void
fill_item (LensTrainer *t,
           int          index,
           int          dx,
           int          dy,
           gboolean     flip,
           float       *dst)
{
  const LensDataset *d = t->train;
  int h = d->height, w = d->width;
  gsize plane = (gsize) h * w;
  const guint8 *src = d->pixels + plane * d->channels * index;

  for (int c = 0; c < d->channels; c++)
    {
      float s = 1.0f / t->std[c], m = t->mean[c];
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          {
            int sy = y + dy, sx = (flip ? w - 1 - x : x) + dx;
            float v = sy >= 0 && sy < h && sx >= 0 && sx < w
                        ? src[c * plane + (gsize) sy * w + sx] * (1.0f / 255.0f) : 0.0f;
            dst[c * plane + (gsize) y * w + x] = (v - m) * s;
          }
    }
}

static void
sgd_update (LensTrainer *t)
{
  double lr = t->lr, mu = t->opt.momentum, wd = t->opt.weight_decay;

  for (guint i = 0; i < t->params->len; i++)
    {
      Param *p = &g_array_index (t->params, Param, i);
      LensTensor *data = lens_backprop_get_param_data (t->bp, i);
      const float *g = lens_backprop_get_param_grad (t->bp, i)->data;
      float *w = data->data, *v = p->velocity;
      float decay = p->decay ? (float) wd : 0.0f;

      for (gsize j = 0; j < p->n; j++)
        {
          v[j] = (float) mu * v[j] - (float) lr * (g[j] + decay * w[j]);
          w[j] += v[j];
        }
      if (p->conv_filter && t->opt.filter_radius > 0.0)
        {
          int64_t m = data->shape.dims[0];
          gsize per = p->n / (gsize) m;
          for (int64_t f = 0; f < m; f++)
            {
              float *fw = w + f * per;
              double ss = 0.0, rms;
              for (gsize j = 0; j < per; j++)
                ss += (double) fw[j] * fw[j];
              rms = sqrt (ss / per);
              if (rms > t->opt.filter_radius)
                {
                  float k = (float) (t->opt.filter_radius / rms);
                  for (gsize j = 0; j < per; j++)
                    fw[j] *= k;
                }
            }
        }
    }
}

typedef struct
{
  LensTrainer  *t;
  int           worker;
  GRand        *rand;        /* dropout masks of this worker */
  const guint8 *labels;
  double        loss;        /* sum */
  int           correct;
} Work;

static gpointer
run_worker (gpointer data)
{
  Work *w = data;
  LensBackprop *bp = w->t->bps[w->worker];

  lens_backprop_zero_params (bp);
  lens_backprop_forward (bp, w->rand, FALSE);
  w->loss = lens_backprop_softmax_xent (bp, w->labels, w->t->opt.batch, &w->correct);
  return NULL;
}

/* One step over the batch already in the workers' inputs: forward and
 * backward on every worker in parallel, then the parameter gradients are
 * summed into worker 0's buffers (in a fixed order: deterministic). */
static void
train_step (LensTrainer  *t,
            const guint8 *labels,
            guint32       epoch,
            guint32       batch_index,
            double       *loss,
            int          *correct)
{
  Work work[LENS_TRAIN_MAX_WORKERS];
  GThread *threads[LENS_TRAIN_MAX_WORKERS] = { 0 };
  int per = t->opt.batch / t->n_workers;

  for (int w = 0; w < t->n_workers; w++)
    {
      work[w].t = t;
      work[w].worker = w;
      work[w].rand = g_rand_new_with_seed_array ((guint32[]) { t->opt.seed, epoch, batch_index,
                                                               3, (guint32) w }, 5);
      work[w].labels = labels + per * w;
      work[w].loss = 0.0;
      work[w].correct = 0;
      if (w > 0)
        threads[w] = g_thread_new ("train-worker", run_worker, &work[w]);
    }
  run_worker (&work[0]);
  *loss = work[0].loss;
  *correct = work[0].correct;
  for (int w = 1; w < t->n_workers; w++)
    {
      g_thread_join (threads[w]);
      *loss += work[w].loss;
      *correct += work[w].correct;
      for (guint i = 0; i < t->params->len; i++)
        {
          float *dst = lens_backprop_get_param_grad (t->bp, i)->data;
          const float *src = lens_backprop_get_param_grad (t->bps[w], i)->data;
          gsize n = g_array_index (t->params, Param, i).n;
          for (gsize j = 0; j < n; j++)
            dst[j] += src[j];
        }
    }
  for (int w = 0; w < t->n_workers; w++)
    g_rand_free (work[w].rand);
}

static gboolean
write_state (LensTrainer *t,
             const char  *snapshot_rel,
             GError     **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = state_path (t);
  g_autofree char *mom = g_build_filename (t->opt.output_dir, "train-momentum.bin", NULL);

  g_key_file_set_string (kf, "train", "arch", t->opt.arch);
  g_key_file_set_int64 (kf, "train", "seed", t->opt.seed);
  g_key_file_set_integer (kf, "train", "epoch_done", t->epoch_done);
  g_key_file_set_integer (kf, "train", "batch_done", t->batch_done);
  g_key_file_set_double (kf, "train", "lr", t->lr);
  g_key_file_set_double (kf, "train", "best_val", t->best_val);
  g_key_file_set_double (kf, "train", "last_val", t->last_val);
  g_key_file_set_integer (kf, "train", "stall", t->stall);
  g_key_file_set_string (kf, "train", "snapshot", snapshot_rel);
  if (!save_momentum (t, mom, error))
    return FALSE;
  return g_key_file_save_to_file (kf, path, error);
}

/* Saves the weights to `rel` (relative to the output folder) and the state
 * that --resume reads. */
static gboolean
save_checkpoint (LensTrainer *t,
                 const char  *rel,
                 GError     **error)
{
  g_autofree char *path = g_build_filename (t->opt.output_dir, rel, NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *epoch = g_strdup_printf ("%d", t->epoch_done);
  g_autofree char *seed = g_strdup_printf ("%u", t->opt.seed);
  g_autofree char *val = g_strdup_printf ("%.4f", t->last_val);
  const char *meta[] = {
    "convlens.arch", t->opt.arch, "convlens.epoch", epoch, "convlens.seed", seed,
    "convlens.val_accuracy", val, "convlens.dataset",
    t->opt.dataset_label ? t->opt.dataset_label : t->train->name, NULL
  };

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_IO, "Cannot create '%s'", dir);
      return FALSE;
    }
  if (!lens_onnx_net_save (t->net, path, meta, error))
    return FALSE;
  return write_state (t, rel, error);
}

static gboolean
is_snapshot_epoch (LensTrainer *t,
                   int          epoch)
{
  if (epoch == t->opt.epochs)
    return TRUE;
  for (int i = 0; i < t->n_snapshots; i++)
    if (t->snapshots[i] == epoch)
      return TRUE;
  return FALSE;
}

static const char *
labels_file_name (LensTrainer *t,
                  char       **owned)
{
  if (g_str_has_prefix (t->train->name, "fashion-mnist"))
    return "fashion-mnist-labels.txt";
  *owned = g_strdup_printf ("%s-labels.txt", t->name);
  return *owned;
}

gboolean
lens_trainer_run (LensTrainer          *t,
                  GCancellable         *cancellable,
                  LensTrainProgressFunc progress,
                  gpointer              user_data,
                  GError              **error)
{
  int b = t->opt.batch;
  int n_batches = t->train->n / b;
  gsize per = (gsize) t->train->channels * t->train->height * t->train->width;
  g_autofree int *order = g_new (int, t->train->n);
  g_autofree guint8 *labels = g_new (guint8, b);
  gint64 start = g_get_monotonic_time ();
  gint64 total_images = (gint64) n_batches * b *
                        (t->opt.epochs - t->epoch_done) - (gint64) t->batch_done * b;
  int per_worker = b / t->n_workers;
  int blas_threads = lens_get_threads ();
  gboolean ok = FALSE;

  /* the batch is split over the workers; BLAS inside each runs alone */
  if (t->n_workers > 1)
    lens_set_threads (1);

  for (int epoch = t->epoch_done + 1; epoch <= t->opt.epochs; epoch++)
    {
      g_autoptr (GRand) shuffle = g_rand_new_with_seed_array ((guint32[]) { t->opt.seed, (guint32) epoch, 1 }, 3);
      double loss_sum = 0.0;
      int correct = 0, seen = 0;
      LensTrainProgress pr = { 0 };

      for (int i = 0; i < t->train->n; i++)
        order[i] = i;
      for (int i = t->train->n - 1; i > 0; i--)
        {
          int j = g_rand_int_range (shuffle, 0, i + 1), tmp = order[i];
          order[i] = order[j];
          order[j] = tmp;
        }

      for (int bi = t->batch_done; bi < n_batches; bi++)
        {
          g_autoptr (GRand) r = g_rand_new_with_seed_array ((guint32[]) { t->opt.seed, (guint32) epoch, (guint32) bi, 2 }, 4);
          int nc = 0;
          double batch_loss = 0.0;

          if (g_cancellable_is_cancelled (cancellable))
            {
              if (t->opt.output_dir != NULL)
                {
                  g_autofree char *rel = g_strdup_printf ("%s-interrupted.onnx", t->name);
                  g_autofree char *path = g_build_filename (t->opt.output_dir, rel, NULL);
                  if (!save_checkpoint (t, rel, error))
                    goto out;
                  g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_CANCELLED,
                               "Training stopped at epoch %d, batch %d; snapshot saved to '%s' "
                               "(continue with --resume)", epoch, bi, path);
                }
              else
                g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_CANCELLED,
                             "Training stopped at epoch %d, batch %d", epoch, bi);
              goto out;
            }
          for (int k = 0; k < b; k++)
            {
              int idx = order[bi * b + k];
              int pad = t->opt.crop_pad;
              int dx = pad > 0 ? g_rand_int_range (r, -pad, pad + 1) : 0;
              int dy = pad > 0 ? g_rand_int_range (r, -pad, pad + 1) : 0;
              gboolean flip = t->opt.flip && g_rand_boolean (r);

              float *x = lens_trace_get_input (t->traces[k / per_worker])->data;

              fill_item (t, idx, dx, dy, flip, x + per * (k % per_worker));
              labels[k] = t->train->labels[idx];
            }
          train_step (t, labels, (guint32) epoch, (guint32) bi, &batch_loss, &nc);
          loss_sum += batch_loss;
          correct += nc;
          seen += b;
          sgd_update (t);
          t->batch_done = bi + 1;
          t->images_done += b;

          if (progress != NULL && ((bi + 1) % 20 == 0 || bi + 1 == n_batches))
            {
              double secs = (g_get_monotonic_time () - start) / 1e6;
              pr.epoch = epoch;
              pr.epochs = t->opt.epochs;
              pr.batch_index = bi + 1;
              pr.n_batches = n_batches;
              pr.loss = loss_sum / MAX (seen, 1);
              pr.train_accuracy = (double) correct / MAX (seen, 1);
              pr.val_accuracy = t->last_val;
              pr.lr = t->lr;
              pr.images_per_second = t->images_done / MAX (secs, 1e-6);
              pr.eta_seconds = (total_images - t->images_done) / MAX (pr.images_per_second, 1e-6);
              pr.epoch_done = FALSE;
              progress (&pr, user_data);
            }
        }

      /* end of the epoch: validation, learning-rate schedule, snapshot */
      t->epoch_done = epoch;
      t->batch_done = 0;
      if (t->val->n > 0)
        {
          double acc;
          if (!lens_train_evaluate (t->net, t->val, t->mean, t->std, b, NULL, &acc, cancellable,
                                    error))
            goto out;
          t->last_val = acc;
          if (acc > t->best_val + 1e-4)
            {
              t->best_val = acc;
              t->stall = 0;
            }
          else if (++t->stall >= t->opt.patience)
            {
              t->lr = MAX (t->lr * t->opt.lr_drop, t->opt.lr * 1e-4);
              t->stall = 0;
            }
        }
      /* a scheduled drop applies as well when the stall rule has just
       * dropped (both: x0.01) */
      for (int i = 0; i < t->opt.n_lr_steps; i++)
        if (t->opt.lr_steps[i] == epoch)
          {
            t->lr = MAX (t->lr * t->opt.lr_drop, t->opt.lr * 1e-4);
            t->stall = 0;
          }
      {
        g_autofree char *snap = NULL;
        if (t->opt.output_dir != NULL && is_snapshot_epoch (t, epoch))
          {
            g_autofree char *file = g_strdup_printf ("%s-epoch-%03d.onnx", t->name, epoch);
            g_autofree char *rel = g_build_filename ("snapshots", file, NULL);
            if (!save_checkpoint (t, rel, error))
              goto out;
            snap = snapshot_path (t, epoch);
          }
        if (progress != NULL)
          {
            pr.epoch_done = TRUE;
            pr.val_accuracy = t->last_val;
            pr.lr = t->lr;
            pr.snapshot = snap;
            pr.batch_index = n_batches;
            progress (&pr, user_data);
          }
      }
    }

  if (t->opt.output_dir != NULL)
    {
      g_autofree char *file = g_strdup_printf ("%s.onnx", t->name);
      g_autofree char *owned = NULL;
      const char *labels_file = labels_file_name (t, &owned);
      g_autofree char *display = g_strdup_printf ("%s (ConvLens, %s)", t->name,
                                                  t->opt.dataset_label ? t->opt.dataset_label
                                                                       : t->train->name);
      const LensDataset *d = t->train;

      g_clear_pointer (&t->model_path, g_free);
      t->model_path = g_build_filename (t->opt.output_dir, file, NULL);
      if (!save_checkpoint (t, file, error) ||
          !lens_train_write_profile (t->model_path, display, d->channels, d->height, d->width,
                                     t->mean, t->std, (const char * const *) d->class_names,
                                     labels_file, error))
        goto out;
    }
  ok = TRUE;

out:
  if (t->n_workers > 1)
    lens_set_threads (blas_threads);
  return ok;
}

/* ---- profile ---------------------------------------------------------- */

gboolean
lens_train_write_profile (const char         *model_path,
                          const char         *display_name,
                          int                 channels,
                          int                 height,
                          int                 width,
                          const float        *mean,
                          const float        *std,
                          const char * const *class_names,
                          const char         *labels_file,
                          GError            **error)
{
  g_autoptr (JsonBuilder) jb = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *profile_text = NULL;
  gsize profile_len = 0;
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *stem = g_strdup (model_path);
  g_autofree char *dir = g_path_get_dirname (model_path);
  g_autofree char *profile = NULL, *labels_path = NULL;
  g_autoptr (GString) labels = g_string_new (NULL);
  char *dot = strrchr (stem, '.');

  if (dot != NULL && strchr (dot, G_DIR_SEPARATOR) == NULL)
    *dot = '\0';
  profile = g_strdup_printf ("%s.convlens.json", stem);
  json_builder_begin_object (jb);
  json_builder_set_member_name (jb, "name");
  json_builder_add_string_value (jb, display_name);
  json_builder_set_member_name (jb, "description");
  json_builder_add_string_value (jb, "Trained by ConvLens (convlens-cli train)");
  json_builder_set_member_name (jb, "input");
  json_builder_begin_object (jb);
  json_builder_set_member_name (jb, "channels");
  json_builder_add_int_value (jb, channels);
  json_builder_set_member_name (jb, "height");
  json_builder_add_int_value (jb, height);
  json_builder_set_member_name (jb, "width");
  json_builder_add_int_value (jb, width);
  json_builder_set_member_name (jb, "scale");
  json_builder_add_double_value (jb, 1.0);
  json_builder_set_member_name (jb, "mean");
  json_builder_begin_array (jb);
  for (int c = 0; c < channels; c++)
    json_builder_add_double_value (jb, round (mean[c] * 1e4) / 1e4);
  json_builder_end_array (jb);
  json_builder_set_member_name (jb, "std");
  json_builder_begin_array (jb);
  for (int c = 0; c < channels; c++)
    json_builder_add_double_value (jb, round (std[c] * 1e4) / 1e4);
  json_builder_end_array (jb);
  json_builder_end_object (jb);
  json_builder_set_member_name (jb, "labels");
  json_builder_add_string_value (jb, labels_file);
  json_builder_end_object (jb);
  root = json_builder_get_root (jb);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  profile_text = json_generator_to_data (gen, &profile_len);
  if (!lens_file_write_atomic (profile, profile_text, profile_len, error))
    return FALSE;

  for (int i = 0; class_names[i] != NULL; i++)
    g_string_append_printf (labels, "%s\n", class_names[i]);
  labels_path = g_build_filename (dir, labels_file, NULL);
  return lens_file_write_atomic (labels_path, labels->str, labels->len, error);
}

/* ---- evaluation ------------------------------------------------------- */

gboolean
lens_train_evaluate (LensNet           *net,
                     const LensDataset *data,
                     const float       *mean,
                     const float       *std,
                     int                batch,
                     int               *confusion,
                     double            *accuracy,
                     GCancellable      *cancellable,
                     GError           **error)
{
  g_autoptr (LensTrace) trace = NULL;
  const LensShape *in = lens_net_get_input_shape (net);
  gsize per = (gsize) data->channels * data->height * data->width;
  int correct = 0;
  int logits;

  if (in->ndim != 4 || in->dims[1] != data->channels || in->dims[2] != data->height ||
      in->dims[3] != data->width)
    {
      g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_DATA,
                   "The model's input does not match the %dx%dx%d images of '%s'",
                   data->channels, data->height, data->width, data->name);
      return FALSE;
    }
  batch = CLAMP (batch, 1, MAX (data->n, 1));
  trace = lens_trace_new (net, batch, error);
  if (trace == NULL)
    return FALSE;
  logits = lens_net_find_logits (net);
  if (confusion)
    memset (confusion, 0, sizeof (int) * data->n_classes * data->n_classes);
  for (int start = 0; start < data->n; start += batch)
    {
      LensTensor *x = lens_trace_get_input (trace);
      int n = MIN (batch, data->n - start);
      const LensTensor *z;
      int64_t k;

      memset (x->data, 0, lens_tensor_nbytes (x));
      for (int i = 0; i < n; i++)
        lens_dataset_get_floats (data, start + i, mean, std, (float *) x->data + per * i);
      if (!lens_trace_run (trace, cancellable, error))
        return FALSE;
      z = lens_trace_get_value (trace, logits);
      k = (int64_t) (lens_tensor_numel (z) / (gsize) batch);
      for (int i = 0; i < n; i++)
        {
          const float *row = (const float *) z->data + i * k;
          int best = 0, truth = data->labels[start + i];
          for (int j = 1; j < k; j++)
            if (row[j] > row[best])
              best = j;
          correct += best == truth;
          if (confusion && best < data->n_classes)
            confusion[truth * data->n_classes + best]++;
        }
    }
  *accuracy = data->n > 0 ? (double) correct / data->n : 0.0;
  return TRUE;
}
