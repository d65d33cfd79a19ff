/* test-export.c: what the trainer writes back as ONNX
 *
 * - Flatten keeps its axis through a write and reload (the writer used to
 *   guess it from the shapes, which cannot tell axis 0, 1 and 2 apart when
 *   the leading dimensions are 1);
 * - a network with MatMul and BatchNormalization layers, after a few SGD
 *   steps through lens-backprop, is written with its trained values and the
 *   reloaded copy computes the same outputs;
 * - the built-in architecture with chosen widths has exactly the asked
 *   weight shapes, and the default widths are 32/64/128 and 256.
 */
#include <math.h>
#include <string.h>

#include "lens-net.h"
#include "lens-net-private.h"
#include "lens-onnx-write.h"
#include "lens-train.h"
#include "train-util.h"

static LensNet *
write_and_reload (LensNet *net)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = lens_onnx_net_to_bytes (net, NULL, &error);
  LensNet *back;

  g_assert_no_error (error);
  back = lens_net_load_onnx_data (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                  NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  return back;
}

static int
flatten_axis (LensNet *net)
{
  for (guint l = 0; l < lens_net_get_n_layers (net); l++)
    {
      LensNode *node = lens_net_layer_node (net, l);
      if (node->op == LENS_OP_FLATTEN)
        return node->p.axis;
    }
  g_assert_not_reached ();
  return -1;
}

typedef struct
{
  gint64  axis;       /* as written in the model */
  int     expected;   /* normalised */
  int64_t rows, cols; /* output of x [1, 1, 3, 4] */
} FlattenCase;

static void
test_flatten_axis (void)
{
  static const FlattenCase cases[] = {
    { 2, 2, 1, 12 },
    { 0, 0, 1, 12 },
    { -1, 3, 3, 4 },
    { 4, 4, 12, 1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const FlattenCase *c = &cases[i];
      g_autoptr (LensOnnxBuilder) b = lens_onnx_builder_new ("flatten", 13);
      g_autoptr (LensNet) net = NULL;
      g_autoptr (LensNet) back = NULL;
      const LensShape *out;
      int id;

      lens_onnx_builder_add_input (b, "x", &(LensShape) { 4, { 1, 1, 3, 4 } });
      id = lens_onnx_builder_add_node (b, "Flatten", "flatten", "x", "y");
      lens_onnx_builder_set_int (b, id, "axis", c->axis);
      lens_onnx_builder_add_output (b, "y", &(LensShape) { 2, { c->rows, c->cols } });
      net = train_util_load (b);
      g_assert_cmpint (flatten_axis (net), ==, c->expected);
      back = write_and_reload (net);
      g_assert_cmpint (flatten_axis (back), ==, c->expected);
      out = &lens_net_value (back, lens_net_get_output_value (back))->shape;
      g_assert_cmpint (out->ndim, ==, 2);
      g_assert_cmpint (out->dims[0], ==, c->rows);
      g_assert_cmpint (out->dims[1], ==, c->cols);
    }
}

/* x [N, 6] -> MatMul [6, 4] -> BN -> Relu -> MatMul [4, 3] -> Softmax */
static void
test_bn_matmul_roundtrip (void)
{
  enum { BATCH = 8 };
  g_autoptr (GRand) r = g_rand_new_with_seed (5);
  g_autoptr (LensOnnxBuilder) b = lens_onnx_builder_new ("bn-matmul", 13);
  g_autoptr (LensNet) net = NULL;
  g_autoptr (LensNet) back = NULL;
  g_autoptr (LensTrace) trace = NULL;
  g_autoptr (LensTrace) trace2 = NULL;
  g_autoptr (LensBackprop) bp = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LensTensor) scale0 = NULL;
  guint8 labels[BATCH];
  const LensTensor *y1, *y2, *scale;
  int id;

  lens_onnx_builder_add_input (b, "x", &(LensShape) { 2, { 1, 6 } });
  train_util_add_random (b, r, "w1", 2, (int64_t[]) { 6, 4 }, 0.5);
  lens_onnx_builder_add_node (b, "MatMul", "fc1", "x,w1", "m1");
  train_util_add_range (b, r, "s", 1, (int64_t[]) { 4 }, 0.5, 1.5);
  train_util_add_random (b, r, "o", 1, (int64_t[]) { 4 }, 0.2);
  train_util_add_random (b, r, "mu", 1, (int64_t[]) { 4 }, 0.2);
  train_util_add_range (b, r, "var", 1, (int64_t[]) { 4 }, 0.5, 2.0);
  id = lens_onnx_builder_add_node (b, "BatchNormalization", "bn", "m1,s,o,mu,var", "n1");
  lens_onnx_builder_set_float (b, id, "epsilon", 1e-3f);
  lens_onnx_builder_add_node (b, "Relu", "relu", "n1", "r1");
  train_util_add_random (b, r, "w2", 2, (int64_t[]) { 4, 3 }, 0.5);
  lens_onnx_builder_add_node (b, "MatMul", "fc2", "r1,w2", "logits");
  id = lens_onnx_builder_add_node (b, "Softmax", "prob", "logits", "y");
  lens_onnx_builder_set_int (b, id, "axis", 1);
  lens_onnx_builder_add_output (b, "y", &(LensShape) { 2, { 1, 3 } });
  net = train_util_load (b);

  trace = lens_trace_new (net, BATCH, &error);
  g_assert_no_error (error);
  bp = lens_backprop_new (trace, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (lens_backprop_get_n_params (bp), ==, 4);  /* w1, s, o, w2 */
  scale0 = lens_tensor_dup (lens_net_value_get_constant (net, lens_net_find_value (net, "s")),
                            NULL);
  for (int n = 0; n < BATCH; n++)
    {
      labels[n] = (guint8) (n % 3);
      for (int i = 0; i < 6; i++)
        ((float *) lens_trace_get_input (trace)->data)[n * 6 + i] =
          (float) g_rand_double_range (r, -1, 1);
    }
  for (int step = 0; step < 5; step++)
    {
      lens_backprop_forward (bp, NULL, FALSE);
      lens_backprop_zero_params (bp);
      lens_backprop_softmax_xent (bp, labels, BATCH, NULL);
      for (guint j = 0; j < lens_backprop_get_n_params (bp); j++)
        {
          LensTensor *w = lens_backprop_get_param_data (bp, j);
          const float *g = lens_backprop_get_param_grad (bp, j)->data;
          for (gsize e = 0; e < lens_tensor_numel (w); e++)
            ((float *) w->data)[e] -= 0.5f * g[e];
        }
    }
  lens_backprop_forward (bp, NULL, FALSE);
  y1 = lens_trace_get_output (trace);

  back = write_and_reload (net);
  scale = lens_net_value_get_constant (back, lens_net_find_value (back, "s"));
  g_assert_nonnull (scale);
  /* the trained scale was written, not the initial one */
  g_assert_true (memcmp (scale->data, scale0->data, lens_tensor_nbytes (scale0)) != 0);
  g_assert_cmpmem (scale->data, lens_tensor_nbytes (scale),
                   lens_net_value_get_constant (net, lens_net_find_value (net, "s"))->data,
                   lens_tensor_nbytes (scale0));

  trace2 = lens_trace_new (back, BATCH, &error);
  g_assert_no_error (error);
  memcpy (lens_trace_get_input (trace2)->data, lens_trace_get_input (trace)->data,
          lens_tensor_nbytes (lens_trace_get_input (trace)));
  g_assert_true (lens_trace_run (trace2, NULL, &error));
  g_assert_no_error (error);
  y2 = lens_trace_get_output (trace2);
  g_assert_cmpuint (lens_tensor_numel (y1), ==, lens_tensor_numel (y2));
  for (gsize i = 0; i < lens_tensor_numel (y1); i++)
    g_assert_cmpfloat_with_epsilon (((const float *) y1->data)[i],
                                    ((const float *) y2->data)[i], 1e-6);
}

static LensNet *
load_arch (const int *widths,
           int        fc,
           GError   **error)
{
  g_autoptr (GBytes) bytes = lens_train_build_arch_sized ("zf-mini", 1, 28, 28, 10, widths, fc,
                                                          3, error);

  if (bytes == NULL)
    return NULL;
  return lens_net_load_onnx_data (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                  NULL, NULL, error);
}

static void
assert_weight (LensNet    *net,
               const char *name,
               int64_t     d0,
               int64_t     d1)
{
  const LensTensor *w = lens_net_value_get_constant (net, lens_net_find_value (net, name));

  g_assert_nonnull (w);
  g_assert_cmpint (w->shape.dims[0], ==, d0);
  g_assert_cmpint (w->shape.dims[1], ==, d1);
}

static void
test_arch_widths (void)
{
  static const int wide[3] = { 48, 96, 192 };
  static const int huge[3] = { 48, 96, 4096 };
  g_autoptr (GError) error = NULL;
  LensNet *net;

  net = load_arch (wide, 512, &error);
  g_assert_no_error (error);
  assert_weight (net, "conv1.weight", 48, 1);
  assert_weight (net, "conv2.weight", 96, 48);
  assert_weight (net, "conv3.weight", 192, 96);
  /* conv3's 192 maps of 3 x 3 after pool3 feed fc6 */
  assert_weight (net, "fc6.weight", 512, 192 * 3 * 3);
  assert_weight (net, "fc7.weight", 10, 512);
  lens_net_unref (net);

  net = load_arch (NULL, 0, &error);
  g_assert_no_error (error);
  assert_weight (net, "conv1.weight", 32, 1);
  assert_weight (net, "conv2.weight", 64, 32);
  assert_weight (net, "conv3.weight", 128, 64);
  assert_weight (net, "fc6.weight", 256, 128 * 3 * 3);
  lens_net_unref (net);

  g_assert_null (load_arch (huge, 0, &error));
  g_assert_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_ARCH);
  g_assert_nonnull (strstr (error->message, "4096"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  lens_set_threads (1);
  g_test_add_func ("/train/export/flatten-axis", test_flatten_axis);
  g_test_add_func ("/train/export/bn-matmul", test_bn_matmul_roundtrip);
  g_test_add_func ("/train/export/arch-widths", test_arch_widths);
  return g_test_run ();
}
