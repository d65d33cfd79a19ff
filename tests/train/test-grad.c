/* test-grad.c: analytic gradients (the op table's backward functions with
 * parameter gradients, walked by lens-backprop.c) against central
 * differences of the forward pass.
 *
 * Each case builds a small ONNX graph, draws inputs, weights and a random
 * projection R of the output, and compares d(sum y*R)/d(every input and
 * parameter element) from one backward walk with (L(v+e) - L(v-e)) / 2e.
 * The error is max |analytic - numeric| / max(|analytic|, |numeric|) over
 * each tensor, which must stay below 1e-3.  Inputs of ReLU and MaxPool are
 * kept away from kinks and ties (see the fill modes) so that the numerical
 * derivative exists.  The trained ops: Conv, Gemm, MatMul (weight as
 * second input) and BatchNormalization (scale and bias; running mean and
 * variance frozen), each alone and in two stacked networks.
 */
#include <math.h>
#include <string.h>

#include "lens-net.h"
#include "lens-onnx-write.h"
#include "lens-train.h"
#include "train-util.h"

#define MAX_REL_ERROR 1e-3

typedef enum
{
  FILL_UNIFORM,   /* [-1, 1) */
  FILL_AWAY,      /* |x| in [0.2, 1): ReLU sees no kink within eps */
  FILL_DISTINCT,  /* a shuffled ramp with steps of 0.05: no near-ties for MaxPool */
} FillMode;

typedef struct
{
  const char *name;
  void      (*build) (LensOnnxBuilder *b, GRand *r);
  int         batch;
  FillMode    fill;
  double      eps;
  gboolean    xent;     /* loss = softmax cross-entropy at the logits instead of sum(y R) */
  gboolean    dropout;  /* draw dropout masks once, then keep them fixed */
} GradCase;

/* ---- graphs ----------------------------------------------------------- */

static void
set_window (LensOnnxBuilder *b,
            int              id,
            int              kh,
            int              kw,
            int              sh,
            int              sw,
            const gint64    *pads)
{
  lens_onnx_builder_set_ints (b, id, "kernel_shape", 2, (gint64[]) { kh, kw });
  lens_onnx_builder_set_ints (b, id, "strides", 2, (gint64[]) { sh, sw });
  lens_onnx_builder_set_ints (b, id, "pads", 4, pads);
}

static void
build_conv_basic (LensOnnxBuilder *b,
                  GRand           *r)
{
  int id;

  lens_onnx_builder_add_input (b, "x", &(LensShape) { 4, { 1, 3, 6, 7 } });
  train_util_add_random (b, r, "w", 4, (int64_t[]) { 4, 3, 3, 3 }, 0.5);
  train_util_add_random (b, r, "bias", 1, (int64_t[]) { 4 }, 0.5);
  id = lens_onnx_builder_add_node (b, "Conv", "conv", "x,w,bias", "y");
  set_window (b, id, 3, 3, 1, 1, (gint64[]) { 1, 1, 1, 1 });
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 4, { 1, 4, 6, 7 } });
}

/* stride 2 x 1, asymmetric pads, 2 groups, a 3x2 kernel */
static void
build_conv_groups (LensOnnxBuilder *b,
                   GRand           *r)
{
  int id;

  lens_onnx_builder_add_input (b, "x", &(LensShape) { 4, { 1, 4, 7, 6 } });
  train_util_add_random (b, r, "w", 4, (int64_t[]) { 6, 2, 3, 2 }, 0.5);
  train_util_add_random (b, r, "bias", 1, (int64_t[]) { 6 }, 0.5);
  id = lens_onnx_builder_add_node (b, "Conv", "conv", "x,w,bias", "y");
  set_window (b, id, 3, 2, 2, 1, (gint64[]) { 1, 0, 2, 1 });
  lens_onnx_builder_set_int (b, id, "group", 2);
  /* H: (7 + 3 - 3) / 2 + 1 = 4; W: (6 + 1 - 2) / 1 + 1 = 6 */
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 4, { 1, 6, 4, 6 } });
}

/* dilation 2, stride 2, no bias */
static void
build_conv_dilated (LensOnnxBuilder *b,
                    GRand           *r)
{
  int id;

  lens_onnx_builder_add_input (b, "x", &(LensShape) { 4, { 1, 2, 9, 8 } });
  train_util_add_random (b, r, "w", 4, (int64_t[]) { 3, 2, 3, 3 }, 0.5);
  id = lens_onnx_builder_add_node (b, "Conv", "conv", "x,w", "y");
  set_window (b, id, 3, 3, 2, 2, (gint64[]) { 2, 1, 2, 1 });
  lens_onnx_builder_set_ints (b, id, "dilations", 2, (gint64[]) { 2, 2 });
  /* H: (9 + 4 - 5) / 2 + 1 = 5; W: (8 + 2 - 5) / 2 + 1 = 3 */
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 4, { 1, 3, 5, 3 } });
}

/* 1x1: the direct path without im2col */
static void
build_conv_pointwise (LensOnnxBuilder *b,
                      GRand           *r)
{
  int id;

  lens_onnx_builder_add_input (b, "x", &(LensShape) { 4, { 1, 5, 4, 4 } });
  train_util_add_random (b, r, "w", 4, (int64_t[]) { 3, 5, 1, 1 }, 0.5);
  train_util_add_random (b, r, "bias", 1, (int64_t[]) { 3 }, 0.5);
  id = lens_onnx_builder_add_node (b, "Conv", "conv", "x,w,bias", "y");
  set_window (b, id, 1, 1, 1, 1, (gint64[]) { 0, 0, 0, 0 });
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 4, { 1, 3, 4, 4 } });
}

static void
build_gemm (LensOnnxBuilder *b,
            GRand           *r)
{
  int id;

  lens_onnx_builder_add_input (b, "x", &(LensShape) { 2, { 1, 7 } });
  train_util_add_random (b, r, "w", 2, (int64_t[]) { 7, 5 }, 0.5);
  train_util_add_random (b, r, "c", 1, (int64_t[]) { 5 }, 0.5);
  id = lens_onnx_builder_add_node (b, "Gemm", "fc", "x,w,c", "y");
  lens_onnx_builder_set_float (b, id, "alpha", 0.7f);
  lens_onnx_builder_set_float (b, id, "beta", 1.3f);
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 2, { 1, 5 } });
}

/* transA and transB, C of shape [M, N] (batch 1: M is A's second dim) */
static void
build_gemm_trans (LensOnnxBuilder *b,
                  GRand           *r)
{
  int id;

  g_autoptr (LensTensor) shape = lens_tensor_new (LENS_DTYPE_INT64,
                                                  &(LensShape) { 1, { 2 } }, NULL);

  /* the input's dimension 0 is the batch: A [6, 3] comes from a Reshape */
  ((int64_t *) shape->data)[0] = 6;
  ((int64_t *) shape->data)[1] = 3;
  lens_onnx_builder_add_initializer (b, "shape", shape);
  lens_onnx_builder_add_input (b, "x", &(LensShape) { 2, { 1, 18 } });
  lens_onnx_builder_add_node (b, "Reshape", "reshape", "x,shape", "a");
  train_util_add_random (b, r, "w", 2, (int64_t[]) { 4, 6 }, 0.5);
  train_util_add_random (b, r, "c", 2, (int64_t[]) { 3, 4 }, 0.5);
  id = lens_onnx_builder_add_node (b, "Gemm", "fc", "a,w,c", "y");
  lens_onnx_builder_set_int (b, id, "transA", 1);
  lens_onnx_builder_set_int (b, id, "transB", 1);
  lens_onnx_builder_set_float (b, id, "alpha", 1.5f);
  lens_onnx_builder_set_float (b, id, "beta", 0.5f);
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 2, { 3, 4 } });
}

static void
build_relu (LensOnnxBuilder *b,
            GRand           *r)
{
  lens_onnx_builder_add_input (b, "x", &(LensShape) { 4, { 1, 3, 4, 5 } });
  lens_onnx_builder_add_node (b, "Relu", "relu", "x", "y");
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 4, { 1, 3, 4, 5 } });
}

static void
build_maxpool (LensOnnxBuilder *b,
               GRand           *r)
{
  int id;

  lens_onnx_builder_add_input (b, "x", &(LensShape) { 4, { 1, 2, 7, 6 } });
  id = lens_onnx_builder_add_node (b, "MaxPool", "pool", "x", "y");
  set_window (b, id, 3, 3, 2, 2, (gint64[]) { 1, 1, 1, 1 });
  /* overlapping windows: H (7 + 2 - 3) / 2 + 1 = 4, W (6 + 2 - 3) / 2 + 1 = 3 */
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 4, { 1, 2, 4, 3 } });
}

/* alpha large enough for the normalisation to matter */
static void
build_lrn (LensOnnxBuilder *b,
           GRand           *r)
{
  int id;

  lens_onnx_builder_add_input (b, "x", &(LensShape) { 4, { 1, 7, 3, 3 } });
  id = lens_onnx_builder_add_node (b, "LRN", "norm", "x", "y");
  lens_onnx_builder_set_int (b, id, "size", 5);
  lens_onnx_builder_set_float (b, id, "alpha", 2.0f);
  lens_onnx_builder_set_float (b, id, "beta", 0.75f);
  lens_onnx_builder_set_float (b, id, "bias", 1.5f);
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 4, { 1, 7, 3, 3 } });
}

static void
build_dropout (LensOnnxBuilder *b,
               GRand           *r)
{
  int id;

  lens_onnx_builder_add_input (b, "x", &(LensShape) { 2, { 1, 16 } });
  lens_onnx_builder_add_node (b, "Dropout", "drop", "x", "d");
  train_util_add_random (b, r, "w", 2, (int64_t[]) { 4, 16 }, 0.5);
  id = lens_onnx_builder_add_node (b, "Gemm", "fc", "d,w", "y");
  lens_onnx_builder_set_int (b, id, "transB", 1);
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 2, { 1, 4 } });
}

static void
build_softmax_xent (LensOnnxBuilder *b,
                    GRand           *r)
{
  int id;

  lens_onnx_builder_add_input (b, "x", &(LensShape) { 2, { 1, 6 } });
  train_util_add_random (b, r, "w", 2, (int64_t[]) { 5, 6 }, 1.0);
  train_util_add_random (b, r, "c", 1, (int64_t[]) { 5 }, 1.0);
  id = lens_onnx_builder_add_node (b, "Gemm", "fc", "x,w,c", "logits");
  lens_onnx_builder_set_int (b, id, "transB", 1);
  id = lens_onnx_builder_add_node (b, "Softmax", "prob", "logits", "y");
  lens_onnx_builder_set_int (b, id, "axis", 1);
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 2, { 1, 5 } });
}

/* conv (stride 2, groups) -> relu -> maxpool -> LRN -> conv -> relu ->
 * flatten -> gemm -> relu -> dropout -> gemm -> softmax, with the
 * cross-entropy loss */
static void
build_stack (LensOnnxBuilder *b,
             GRand           *r)
{
  int id;

  lens_onnx_builder_add_input (b, "x", &(LensShape) { 4, { 1, 2, 10, 10 } });
  train_util_add_random (b, r, "w1", 4, (int64_t[]) { 4, 1, 3, 3 }, 0.6);
  train_util_add_random (b, r, "b1", 1, (int64_t[]) { 4 }, 0.3);
  id = lens_onnx_builder_add_node (b, "Conv", "conv1", "x,w1,b1", "c1");
  set_window (b, id, 3, 3, 2, 2, (gint64[]) { 1, 1, 1, 1 });
  lens_onnx_builder_set_int (b, id, "group", 2);
  lens_onnx_builder_add_node (b, "Relu", "relu1", "c1", "r1");
  id = lens_onnx_builder_add_node (b, "MaxPool", "pool1", "r1", "p1");
  set_window (b, id, 2, 2, 1, 1, (gint64[]) { 0, 0, 0, 0 });
  id = lens_onnx_builder_add_node (b, "LRN", "norm1", "p1", "n1");
  lens_onnx_builder_set_int (b, id, "size", 3);
  lens_onnx_builder_set_float (b, id, "alpha", 0.5f);
  train_util_add_random (b, r, "w2", 4, (int64_t[]) { 6, 4, 3, 3 }, 0.4);
  train_util_add_random (b, r, "b2", 1, (int64_t[]) { 6 }, 0.3);
  id = lens_onnx_builder_add_node (b, "Conv", "conv2", "n1,w2,b2", "c2");
  set_window (b, id, 3, 3, 1, 1, (gint64[]) { 1, 1, 1, 1 });
  lens_onnx_builder_add_node (b, "Relu", "relu2", "c2", "r2");
  id = lens_onnx_builder_add_node (b, "Flatten", "flatten", "r2", "f");
  lens_onnx_builder_set_int (b, id, "axis", 1);
  train_util_add_random (b, r, "w3", 2, (int64_t[]) { 12, 96 }, 0.2);
  train_util_add_random (b, r, "b3", 1, (int64_t[]) { 12 }, 0.3);
  id = lens_onnx_builder_add_node (b, "Gemm", "fc3", "f,w3,b3", "g3");
  lens_onnx_builder_set_int (b, id, "transB", 1);
  lens_onnx_builder_add_node (b, "Relu", "relu3", "g3", "r3");
  lens_onnx_builder_add_node (b, "Dropout", "drop3", "r3", "d3");
  train_util_add_random (b, r, "w4", 2, (int64_t[]) { 5, 12 }, 0.5);
  train_util_add_random (b, r, "b4", 1, (int64_t[]) { 5 }, 0.3);
  id = lens_onnx_builder_add_node (b, "Gemm", "fc4", "d3,w4,b4", "logits");
  lens_onnx_builder_set_int (b, id, "transB", 1);
  id = lens_onnx_builder_add_node (b, "Softmax", "prob", "logits", "y");
  lens_onnx_builder_set_int (b, id, "axis", 1);
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 2, { 1, 5 } });
}

/* BatchNormalization with running statistics: scale, bias (trained) and
 * mean, var (frozen initializers); var kept well above 0 */
static void
add_batchnorm (LensOnnxBuilder *b,
               GRand           *r,
               const char      *name,
               const char      *x,
               const char      *y,
               int64_t          c,
               float            epsilon)
{
  g_autofree char *scale = g_strconcat (name, "_scale", NULL);
  g_autofree char *bias = g_strconcat (name, "_bias", NULL);
  g_autofree char *mean = g_strconcat (name, "_mean", NULL);
  g_autofree char *var = g_strconcat (name, "_var", NULL);
  g_autofree char *inputs = g_strjoin (",", x, scale, bias, mean, var, NULL);
  int id;

  train_util_add_range (b, r, scale, 1, (int64_t[]) { c }, -1.5, 1.5);
  train_util_add_random (b, r, bias, 1, (int64_t[]) { c }, 0.5);
  train_util_add_random (b, r, mean, 1, (int64_t[]) { c }, 0.5);
  train_util_add_range (b, r, var, 1, (int64_t[]) { c }, 0.3, 1.5);
  id = lens_onnx_builder_add_node (b, "BatchNormalization", name, inputs, y);
  lens_onnx_builder_set_float (b, id, "epsilon", epsilon);
}

static void
build_batchnorm (LensOnnxBuilder *b,
                 GRand           *r)
{
  lens_onnx_builder_add_input (b, "x", &(LensShape) { 4, { 1, 3, 4, 5 } });
  add_batchnorm (b, r, "bn", "x", "y", 3, 1e-3f);
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 4, { 1, 3, 4, 5 } });
}

/* [N, 7] x W [7, 5]: one product over the whole batch */
static void
build_matmul (LensOnnxBuilder *b,
              GRand           *r)
{
  lens_onnx_builder_add_input (b, "x", &(LensShape) { 2, { 1, 7 } });
  train_util_add_random (b, r, "w", 2, (int64_t[]) { 7, 5 }, 0.5);
  lens_onnx_builder_add_node (b, "MatMul", "mm", "x,w", "y");
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 2, { 1, 5 } });
}

/* [N, 4, 6] x W [6, 3]: W broadcast over the batch dimension, so its
 * gradient sums the products of every batch item */
static void
build_matmul_broadcast (LensOnnxBuilder *b,
                        GRand           *r)
{
  lens_onnx_builder_add_input (b, "x", &(LensShape) { 3, { 1, 4, 6 } });
  train_util_add_random (b, r, "w", 2, (int64_t[]) { 6, 3 }, 0.5);
  lens_onnx_builder_add_node (b, "MatMul", "mm", "x,w", "y");
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 3, { 1, 4, 3 } });
}

/* conv -> relu -> maxpool -> BN -> flatten -> matmul -> BN (2-D) -> relu
 * -> dropout -> matmul -> softmax, with the cross-entropy loss.  The first
 * BN comes after the pooling (where the paper has its normalisation) so
 * that a step of its scale, which moves a whole channel at once, does not
 * push pre-ReLU values across the kink. */
static void
build_stack_bn_matmul (LensOnnxBuilder *b,
                       GRand           *r)
{
  int id;

  lens_onnx_builder_add_input (b, "x", &(LensShape) { 4, { 1, 2, 8, 8 } });
  train_util_add_random (b, r, "w1", 4, (int64_t[]) { 4, 2, 3, 3 }, 0.5);
  train_util_add_random (b, r, "b1", 1, (int64_t[]) { 4 }, 0.3);
  id = lens_onnx_builder_add_node (b, "Conv", "conv1", "x,w1,b1", "c1");
  set_window (b, id, 3, 3, 1, 1, (gint64[]) { 1, 1, 1, 1 });
  lens_onnx_builder_add_node (b, "Relu", "relu1", "c1", "r1");
  id = lens_onnx_builder_add_node (b, "MaxPool", "pool1", "r1", "p1");
  set_window (b, id, 2, 2, 2, 2, (gint64[]) { 0, 0, 0, 0 });
  add_batchnorm (b, r, "bn1", "p1", "n1", 4, 1e-5f);
  id = lens_onnx_builder_add_node (b, "Flatten", "flatten", "n1", "f");
  lens_onnx_builder_set_int (b, id, "axis", 1);
  train_util_add_random (b, r, "w2", 2, (int64_t[]) { 64, 10 }, 0.25);
  lens_onnx_builder_add_node (b, "MatMul", "fc2", "f,w2", "m2");
  add_batchnorm (b, r, "bn2", "m2", "n2", 10, 1e-5f);
  lens_onnx_builder_add_node (b, "Relu", "relu2", "n2", "r2");
  lens_onnx_builder_add_node (b, "Dropout", "drop2", "r2", "d2");
  train_util_add_random (b, r, "w3", 2, (int64_t[]) { 10, 5 }, 0.6);
  lens_onnx_builder_add_node (b, "MatMul", "fc3", "d2,w3", "logits");
  id = lens_onnx_builder_add_node (b, "Softmax", "prob", "logits", "y");
  lens_onnx_builder_set_int (b, id, "axis", 1);
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 2, { 1, 5 } });
}

/* ---- the check -------------------------------------------------------- */

typedef struct
{
  LensBackprop *bp;
  LensTrace    *trace;
  const GradCase *c;
  const float  *proj;    /* R, for the sum(y R) loss */
  const guint8 *labels;  /* for the cross-entropy loss */
  int           logits;
} Loss;

static double
loss_value (Loss *l)
{
  LensNet *net = lens_trace_get_net (l->trace);

  lens_backprop_forward (l->bp, NULL, l->c->dropout);
  if (l->c->xent)
    {
      /* independent of lens_backprop_softmax_xent: log-sum-exp in double */
      const LensTensor *z = lens_trace_get_value (l->trace, l->logits);
      int64_t b = z->shape.dims[0], k = z->shape.dims[1];
      const float *zv = z->data;
      double total = 0.0;

      for (int64_t i = 0; i < b; i++)
        {
          double mx = zv[i * k], s = 0.0;
          for (int64_t j = 1; j < k; j++)
            mx = MAX (mx, zv[i * k + j]);
          for (int64_t j = 0; j < k; j++)
            s += exp (zv[i * k + j] - mx);
          total += mx + log (s) - zv[i * k + l->labels[i]];
        }
      return total / (double) b;
    }
  else
    {
      const LensTensor *y = lens_trace_get_output (l->trace);
      double total = 0.0;

      for (gsize i = 0; i < lens_tensor_numel (y); i++)
        total += (double) ((const float *) y->data)[i] * l->proj[i];
      (void) net;
      return total;
    }
}

/* Compares the analytic gradient of one tensor with central differences
 * over (at most max_checks, evenly spread) of its elements. */
static double
compare_tensor (Loss             *l,
                float            *data,
                const LensTensor *analytic,
                gsize             n,
                const char       *what)
{
  double max_diff = 0.0, max_mag = 0.0;
  gsize step = MAX (1, n / 400);
  double eps = l->c->eps;

  for (gsize i = 0; i < n; i += step)
    {
      float keep = data[i];
      double lp, lm, num, ana = ((const float *) analytic->data)[i];

      data[i] = (float) (keep + eps);
      lp = loss_value (l);
      data[i] = (float) (keep - eps);
      lm = loss_value (l);
      data[i] = keep;
      /* the step actually taken in float32 */
      num = (lp - lm) / ((double) (float) (keep + eps) - (double) (float) (keep - eps));
      max_diff = MAX (max_diff, fabs (num - ana));
      /* GRAD_DEBUG=1 in the environment lists every compared element */
      if (g_getenv ("GRAD_DEBUG") != NULL)
        g_test_message ("  %s[%zu] numeric %.6g analytic %.6g", what, i, num, ana);
      max_mag = MAX (max_mag, MAX (fabs (num), fabs (ana)));
    }
  g_test_message ("%s %s: max |diff| %.3g, max |grad| %.3g", l->c->name, what, max_diff,
                  max_mag);
  /* a gradient that vanishes everywhere would prove nothing */
  g_assert_cmpfloat (max_mag, >, 1e-3);
  return max_diff / max_mag;
}

static void
test_grad_case (gconstpointer data)
{
  const GradCase *c = data;
  g_autoptr (GRand) r = g_rand_new_with_seed (20131112);
  g_autoptr (LensOnnxBuilder) b = lens_onnx_builder_new (c->name, 13);
  g_autoptr (LensNet) net = NULL;
  g_autoptr (LensTrace) trace = NULL;
  g_autoptr (LensBackprop) bp = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LensTensor) proj = NULL;
  g_autoptr (LensTensor) ana_input = NULL;
  g_autofree guint8 *labels = NULL;
  GPtrArray *ana_params = g_ptr_array_new_with_free_func ((GDestroyNotify) lens_tensor_free);
  LensTensor *x;
  float *xv;
  gsize nx;
  Loss l = { 0 };
  int out;

  c->build (b, r);
  net = train_util_load (b);
  trace = lens_trace_new (net, c->batch, &error);
  g_assert_no_error (error);
  bp = lens_backprop_new (trace, &error);
  g_assert_no_error (error);
  lens_backprop_want_input_grad (bp, TRUE);

  x = lens_trace_get_input (trace);
  xv = x->data;
  nx = lens_tensor_numel (x);
  for (gsize i = 0; i < nx; i++)
    {
      double v = g_rand_double_range (r, -1.0, 1.0);
      if (c->fill == FILL_AWAY)
        v = (v < 0 ? -1.0 : 1.0) * (0.2 + 0.8 * fabs (v));
      else if (c->fill == FILL_DISTINCT)
        v = -1.0 + 0.05 * (double) i;
      xv[i] = (float) v;
    }
  if (c->fill == FILL_DISTINCT)
    for (gsize i = nx - 1; i > 0; i--)
      {
        gsize j = (gsize) g_rand_int_range (r, 0, (gint32) i + 1);
        float t = xv[i];
        xv[i] = xv[j];
        xv[j] = t;
      }

  out = lens_net_get_output_value (net);
  proj = lens_tensor_new_float (&lens_trace_get_value (trace, out)->shape, NULL);
  for (gsize i = 0; i < lens_tensor_numel (proj); i++)
    ((float *) proj->data)[i] = (float) g_rand_double_range (r, -1.0, 1.0);
  labels = g_new0 (guint8, c->batch);
  l.bp = bp;
  l.trace = trace;
  l.c = c;
  l.proj = proj->data;
  l.labels = labels;
  l.logits = lens_net_find_value (net, "logits");

  /* the dropout masks are drawn once (training mode) and kept */
  if (c->dropout)
    {
      g_autoptr (GRand) masks = g_rand_new_with_seed (7);
      lens_backprop_forward (bp, masks, FALSE);
    }
  lens_backprop_forward (bp, NULL, c->dropout);
  lens_backprop_zero_params (bp);
  if (c->xent)
    {
      const LensTensor *z = lens_trace_get_value (trace, l.logits);
      for (int i = 0; i < c->batch; i++)
        labels[i] = (guint8) g_rand_int_range (r, 0, (gint32) z->shape.dims[1]);
      lens_backprop_softmax_xent (bp, labels, c->batch, NULL);
    }
  else
    lens_backprop_backward (bp, out, proj);

  ana_input = lens_tensor_dup (lens_backprop_get_grad (bp, lens_net_get_input_value (net)), NULL);
  for (guint i = 0; i < lens_backprop_get_n_params (bp); i++)
    g_ptr_array_add (ana_params, lens_tensor_dup (lens_backprop_get_param_grad (bp, i), NULL));

  {
    double err = compare_tensor (&l, xv, ana_input, nx, "input");
    g_assert_cmpfloat (err, <, MAX_REL_ERROR);
  }
  for (guint i = 0; i < lens_backprop_get_n_params (bp); i++)
    {
      LensTensor *p = lens_backprop_get_param_data (bp, i);
      const char *name = lens_net_value_get_name (net, lens_backprop_get_param (bp, i));
      double err = compare_tensor (&l, p->data, g_ptr_array_index (ana_params, i),
                                   lens_tensor_numel (p), name);
      g_assert_cmpfloat (err, <, MAX_REL_ERROR);
    }
  g_ptr_array_unref (ana_params);
}

/* The parameter gradients of a batch are the sums of those of its items. */
static void
test_batch_sum (void)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (3);
  g_autoptr (LensOnnxBuilder) b = lens_onnx_builder_new ("batch", 13);
  g_autoptr (LensNet) net = NULL;
  g_autoptr (LensTrace) t2 = NULL, t1 = NULL;
  g_autoptr (LensBackprop) bp2 = NULL, bp1 = NULL;
  g_autoptr (LensTensor) sig2 = NULL, sig1 = NULL;
  g_autoptr (GError) error = NULL;
  gsize per_x, per_y;
  int out;

  build_conv_groups (b, r);
  net = train_util_load (b);
  out = lens_net_get_output_value (net);
  t2 = lens_trace_new (net, 2, &error);
  g_assert_no_error (error);
  t1 = lens_trace_new (net, 1, &error);
  g_assert_no_error (error);
  bp2 = lens_backprop_new (t2, &error);
  bp1 = lens_backprop_new (t1, &error);
  g_assert_no_error (error);
  per_x = lens_tensor_numel (lens_trace_get_input (t1));
  per_y = lens_tensor_numel (lens_trace_get_value (t1, out));
  for (gsize i = 0; i < 2 * per_x; i++)
    ((float *) lens_trace_get_input (t2)->data)[i] = (float) g_rand_double_range (r, -1, 1);
  sig2 = lens_tensor_new_float (&lens_trace_get_value (t2, out)->shape, NULL);
  sig1 = lens_tensor_new_float (&lens_trace_get_value (t1, out)->shape, NULL);
  for (gsize i = 0; i < 2 * per_y; i++)
    ((float *) sig2->data)[i] = (float) g_rand_double_range (r, -1, 1);

  lens_backprop_forward (bp2, NULL, FALSE);
  lens_backprop_zero_params (bp2);
  lens_backprop_backward (bp2, out, sig2);
  lens_backprop_zero_params (bp1);
  for (int item = 0; item < 2; item++)
    {
      memcpy (lens_trace_get_input (t1)->data,
              (float *) lens_trace_get_input (t2)->data + item * per_x, per_x * sizeof (float));
      memcpy (sig1->data, (float *) sig2->data + item * per_y, per_y * sizeof (float));
      lens_backprop_forward (bp1, NULL, FALSE);
      lens_backprop_backward (bp1, out, sig1);  /* accumulates over the two items */
    }
  g_assert_cmpuint (lens_backprop_get_n_params (bp1), ==, 2);
  for (guint i = 0; i < lens_backprop_get_n_params (bp1); i++)
    {
      const LensTensor *a = lens_backprop_get_param_grad (bp2, i);
      const LensTensor *s = lens_backprop_get_param_grad (bp1, i);
      for (gsize j = 0; j < lens_tensor_numel (a); j++)
        g_assert_cmpfloat_with_epsilon (((float *) a->data)[j], ((float *) s->data)[j], 1e-4);
    }
}

/* Plain SGD through lens-backprop on the BN + MatMul stack learns a small
 * separable problem: the loss falls, every trained initializer (Conv's
 * weight and bias, MatMul's weights, BN's scale and bias) is a parameter
 * and moves, and BN's running mean and variance stay exactly as loaded. */
static void
test_sgd_bn_matmul (void)
{
  static const char *const trained[] = { "w1", "b1", "bn1_scale", "bn1_bias", "w2",
                                         "bn2_scale", "bn2_bias", "w3" };
  static const char *const frozen[] = { "bn1_mean", "bn1_var", "bn2_mean", "bn2_var" };
  enum { BATCH = 20, CLASSES = 5, STEPS = 60 };
  g_autoptr (GRand) r = g_rand_new_with_seed (11);
  g_autoptr (LensOnnxBuilder) b = lens_onnx_builder_new ("sgd", 13);
  g_autoptr (LensNet) net = NULL;
  g_autoptr (LensTrace) trace = NULL;
  g_autoptr (LensBackprop) bp = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) before = g_ptr_array_new_with_free_func ((GDestroyNotify) lens_tensor_free);
  float templates[CLASSES][128];
  guint8 labels[BATCH];
  LensTensor *x;
  double first = 0.0, last = 0.0;
  int correct = 0;

  build_stack_bn_matmul (b, r);
  net = train_util_load (b);
  trace = lens_trace_new (net, BATCH, &error);
  g_assert_no_error (error);
  bp = lens_backprop_new (trace, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (lens_backprop_get_n_params (bp), ==, G_N_ELEMENTS (trained));
  for (gsize i = 0; i < G_N_ELEMENTS (trained); i++)
    {
      gboolean found = FALSE;
      for (guint j = 0; j < lens_backprop_get_n_params (bp); j++)
        found |= g_strcmp0 (lens_net_value_get_name (net, lens_backprop_get_param (bp, j)),
                            trained[i]) == 0;
      g_assert_true (found);
    }
  for (guint j = 0; j < lens_backprop_get_n_params (bp); j++)
    g_ptr_array_add (before, lens_tensor_dup (lens_backprop_get_param_data (bp, j), NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (frozen); i++)
    g_ptr_array_add (before, lens_tensor_dup (
                       lens_net_value_get_constant (net, lens_net_find_value (net, frozen[i])),
                       NULL));

  /* class k: a fixed random pattern plus noise */
  x = lens_trace_get_input (trace);
  g_assert_cmpuint (lens_tensor_numel (x), ==, BATCH * 128);
  for (int k = 0; k < CLASSES; k++)
    for (int i = 0; i < 128; i++)
      templates[k][i] = (float) g_rand_double_range (r, -1, 1);
  for (int n = 0; n < BATCH; n++)
    {
      labels[n] = (guint8) (n % CLASSES);
      for (int i = 0; i < 128; i++)
        ((float *) x->data)[n * 128 + i] = templates[labels[n]][i] +
                                          (float) g_rand_double_range (r, -0.3, 0.3);
    }

  for (int step = 0; step < STEPS; step++)
    {
      double loss;

      lens_backprop_forward (bp, NULL, FALSE);
      lens_backprop_zero_params (bp);
      loss = lens_backprop_softmax_xent (bp, labels, BATCH, &correct) / BATCH;
      if (step == 0)
        first = loss;
      last = loss;
      for (guint j = 0; j < lens_backprop_get_n_params (bp); j++)
        {
          LensTensor *w = lens_backprop_get_param_data (bp, j);
          const float *g = lens_backprop_get_param_grad (bp, j)->data;
          for (gsize e = 0; e < lens_tensor_numel (w); e++)
            ((float *) w->data)[e] -= 0.1f * g[e];
        }
    }
  g_test_message ("loss %.4f -> %.4f, %d of %d correct", first, last, correct, BATCH);
  /* ln 5 = 1.61 for a uniform guess */
  g_assert_cmpfloat (last, <, 0.25 * first);
  g_assert_cmpint (correct, ==, BATCH);

  for (guint j = 0; j < lens_backprop_get_n_params (bp); j++)
    {
      const LensTensor *old = g_ptr_array_index (before, j);
      g_assert_true (memcmp (old->data, lens_backprop_get_param_data (bp, j)->data,
                             lens_tensor_nbytes (old)) != 0);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (frozen); i++)
    {
      const LensTensor *old = g_ptr_array_index (before, lens_backprop_get_n_params (bp) + i);
      const LensTensor *now = lens_net_value_get_constant (net,
                                                           lens_net_find_value (net, frozen[i]));
      g_assert_cmpmem (old->data, lens_tensor_nbytes (old), now->data, lens_tensor_nbytes (now));
    }
}

static const GradCase cases[] = {
  { "conv-3x3-pad1", build_conv_basic, 2, FILL_UNIFORM, 1e-2, FALSE, FALSE },
  { "conv-stride-pads-groups", build_conv_groups, 2, FILL_UNIFORM, 1e-2, FALSE, FALSE },
  { "conv-dilated-nobias", build_conv_dilated, 1, FILL_UNIFORM, 1e-2, FALSE, FALSE },
  { "conv-1x1", build_conv_pointwise, 2, FILL_UNIFORM, 1e-2, FALSE, FALSE },
  { "gemm-alpha-beta", build_gemm, 3, FILL_UNIFORM, 1e-2, FALSE, FALSE },
  { "gemm-transA-transB", build_gemm_trans, 1, FILL_UNIFORM, 1e-2, FALSE, FALSE },
  { "relu", build_relu, 2, FILL_AWAY, 1e-2, FALSE, FALSE },
  { "maxpool-overlapping", build_maxpool, 2, FILL_DISTINCT, 1e-2, FALSE, FALSE },
  { "lrn", build_lrn, 2, FILL_UNIFORM, 1e-3, FALSE, FALSE },
  { "dropout-fixed-mask", build_dropout, 3, FILL_UNIFORM, 1e-2, FALSE, TRUE },
  { "softmax-cross-entropy", build_softmax_xent, 4, FILL_UNIFORM, 1e-2, TRUE, FALSE },
  { "stacked-network", build_stack, 3, FILL_UNIFORM, 1e-3, TRUE, TRUE },
  { "batchnorm", build_batchnorm, 2, FILL_UNIFORM, 1e-2, FALSE, FALSE },
  { "matmul", build_matmul, 3, FILL_UNIFORM, 1e-2, FALSE, FALSE },
  { "matmul-broadcast-weight", build_matmul_broadcast, 2, FILL_UNIFORM, 1e-2, FALSE, FALSE },
  { "stacked-bn-matmul", build_stack_bn_matmul, 3, FILL_UNIFORM, 5e-4, TRUE, TRUE },
};

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  lens_set_threads (1);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/train/grad/%s", cases[i].name);
      g_test_add_data_func (path, &cases[i], test_grad_case);
    }
  g_test_add_func ("/train/grad/batch-sum", test_batch_sum);
  g_test_add_func ("/train/sgd/bn-matmul", test_sgd_bn_matmul);
  return g_test_run ();
}
