/* test-api.c: LensNet and LensTrace queries on a model small enough to
 * check by hand.
 *
 * api-small.onnx (make-engine-models.py):
 *   x [1,3,8,8] -> Conv 'conv1' (8 filters 3x3, pad 1, bias) -> conv1_out
 *   -> Relu 'relu1' -> relu1_out -> MaxPool 'pool1' (2x2 / 2) -> pool1_out
 *   -> Reshape 'flatten' (shape from Constant 'shape_const' = [-1,128])
 *   -> flat_out -> Gemm 'fc' (128 -> 10, transB, bias) -> logits
 * Expected activations, switches and logits come from NumPy.  The trace
 * writes relu1_out inside the Conv (fused), so its check covers that. */
#include <math.h>
#include <string.h>

#include "engine-test.h"
#include "lens-net-private.h"

static char *
api_path (const char *file)
{
  return g_build_filename (ENGINE_MODELS_DIR, "api", file, NULL);
}

static LensNet *
load_small (void)
{
  g_autofree char *path = api_path ("api-small.onnx");
  g_autoptr (GError) error = NULL;
  LensNet *net;

  if (!ENGINE_MODELS_OK || !g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("test models not generated (needs /usr/bin/python3 with onnx)");
      return NULL;
    }
  net = lens_net_load_onnx (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (net);
  return net;
}

static LensTensor *
load_pb (const char *file)
{
  g_autofree char *path = api_path (file);
  g_autoptr (GError) error = NULL;
  LensTensor *t = lens_onnx_load_tensor_file (path, NULL, &error);

  g_assert_no_error (error);
  return t;
}

static void
assert_shape (const LensShape *s, int ndim, const int64_t *dims)
{
  LensShape want = lens_shape_make (ndim, dims);

  if (!lens_shape_equal (s, &want))
    {
      g_autofree char *a = lens_shape_to_string (s);
      g_autofree char *b = lens_shape_to_string (&want);
      g_error ("shape %s, expected %s", a, b);
    }
}

/* Compares item `item` of a batched activation with a batch-1 expectation:
 * |a - b| <= 1e-4 * max(1, range of b). */
static void
assert_item_close (const LensTensor *got, int item, const LensTensor *want, const char *what)
{
  gsize n = lens_tensor_numel (want);
  const float *a = (const float *) got->data + (gsize) item * n, *b = want->data;
  float lo = b[0], hi = b[0];

  g_assert_cmpuint (lens_tensor_numel (got) % n, ==, 0);
  for (gsize i = 0; i < n; i++)
    lo = MIN (lo, b[i]), hi = MAX (hi, b[i]);
  for (gsize i = 0; i < n; i++)
    if (!(fabs (a[i] - b[i]) <= 1e-4 * MAX (1.0, hi - lo)))
      g_error ("%s item %d: element %" G_GSIZE_FORMAT " is %.8g, expected %.8g", what, item, i,
               a[i], b[i]);
}

static void
test_structure (void)
{
  g_autoptr (LensNet) net = load_small ();
  const char *names[] = { "conv1", "relu1", "pool1", "flatten", "fc" };
  const char *ops[] = { "Conv", "Relu", "MaxPool", "Reshape", "Gemm" };
  const LensTensor *flat_shape;
  int w1;

  if (net == NULL)
    return;
  g_assert_cmpstr (lens_net_get_name (net), ==, "api-small");
  g_assert_cmpstr (lens_net_get_input_name (net), ==, "x");
  assert_shape (lens_net_get_input_shape (net), 4, (int64_t[]) { 1, 3, 8, 8 });
  g_assert_cmpint (lens_net_get_opset (net), ==, 13);
  g_assert_cmpuint (lens_net_get_n_outputs (net), ==, 1);
  g_assert_cmpint (lens_net_get_output (net, 0), ==, lens_net_get_output_value (net));
  g_assert_cmpstr (lens_net_value_get_name (net, lens_net_get_output_value (net)), ==, "logits");

  /* the Constant node was folded: five layers run */
  g_assert_cmpuint (lens_net_get_n_layers (net), ==, 5);
  for (guint l = 0; l < 5; l++)
    {
      g_assert_cmpstr (lens_net_layer_get_name (net, l), ==, names[l]);
      g_assert_cmpstr (lens_net_layer_get_op (net, l), ==, ops[l]);
      g_assert_cmpint (lens_net_find_layer (net, names[l]), ==, (int) l);
    }

  /* by output value name */
  g_assert_cmpint (lens_net_find_layer (net, "conv1_out"), ==, 0);
  g_assert_cmpint (lens_net_find_layer (net, "pool1_out"), ==, 2);
  g_assert_cmpint (lens_net_find_layer (net, "logits"), ==, 4);
  g_assert_cmpint (lens_net_find_layer (net, "shape_const"), ==, -1);
  g_assert_cmpint (lens_net_find_layer (net, "flat_shape"), ==, -1);
  g_assert_cmpint (lens_net_find_layer (net, "x"), ==, -1);
  g_assert_cmpint (lens_net_find_layer (net, "no-such-layer"), ==, -1);
  g_assert_cmpint (lens_net_layer_get_output (net, 0), ==, lens_net_find_value (net, "conv1_out"));
  g_assert_cmpint (lens_net_layer_get_output (net, 4), ==, lens_net_get_output_value (net));

  /* inputs of conv1: x, w1, b1 */
  g_assert_cmpuint (lens_net_layer_get_n_inputs (net, 0), ==, 3);
  g_assert_cmpint (lens_net_layer_get_input (net, 0, 0), ==, lens_net_get_input_value (net));
  w1 = lens_net_layer_get_input (net, 0, 1);
  g_assert_cmpstr (lens_net_value_get_name (net, w1), ==, "w1");
  g_assert_nonnull (lens_net_value_get_constant (net, w1));
  assert_shape (&lens_net_value_get_constant (net, w1)->shape, 4, (int64_t[]) { 8, 3, 3, 3 });
  g_assert_null (lens_net_value_get_constant (net, lens_net_find_value (net, "conv1_out")));
  g_assert_cmpint (lens_net_find_value (net, "no-such-value"), ==, -1);

  /* per-value shapes */
  assert_shape (lens_net_value_get_shape (net, lens_net_find_value (net, "conv1_out")), 4,
                (int64_t[]) { 1, 8, 8, 8 });
  assert_shape (lens_net_value_get_shape (net, lens_net_find_value (net, "relu1_out")), 4,
                (int64_t[]) { 1, 8, 8, 8 });
  assert_shape (lens_net_value_get_shape (net, lens_net_find_value (net, "pool1_out")), 4,
                (int64_t[]) { 1, 8, 4, 4 });
  assert_shape (lens_net_value_get_shape (net, lens_net_find_value (net, "flat_out")), 2,
                (int64_t[]) { 1, 128 });
  assert_shape (lens_net_value_get_shape (net, lens_net_find_value (net, "logits")), 2,
                (int64_t[]) { 1, 10 });
  flat_shape = lens_net_value_get_constant (net, lens_net_find_value (net, "flat_shape"));
  g_assert_nonnull (flat_shape);
  g_assert_cmpint (flat_shape->dtype, ==, LENS_DTYPE_INT64);
  g_assert_cmpint (lens_tensor_get_int64s (flat_shape)[0], ==, -1);
  g_assert_cmpint (lens_tensor_get_int64s (flat_shape)[1], ==, 128);
}

static void
test_params_flops (void)
{
  g_autoptr (LensNet) net = load_small ();
  /* activations 4 * (192 + 512 + 512 + 128 + 128 + 10), switches 4 * 128,
   * im2col of conv1 4 * 27 * 64 */
  gsize least = 4 * (192 + 512 + 512 + 128 + 128 + 10) + 4 * 128 + 4 * 27 * 64;

  if (net == NULL)
    return;
  /* Conv 3->8, 3x3: 8*3*9 weights + 8 biases; 2 * 8 * 27 MACs at 8x8 outputs */
  g_assert_cmpuint (lens_net_layer_get_n_params (net, 0), ==, 8 * 3 * 9 + 8);
  g_assert_cmpuint (lens_net_layer_get_flops (net, 0), ==, 2 * 8 * 27 * 64);
  /* Gemm 128 -> 10 */
  g_assert_cmpuint (lens_net_layer_get_n_params (net, 4), ==, 128 * 10 + 10);
  g_assert_cmpuint (lens_net_layer_get_flops (net, 4), ==, 2 * 10 * 128);
  for (guint l = 1; l < 4; l++)
    g_assert_cmpuint (lens_net_layer_get_n_params (net, l), ==, 0);
  g_assert_cmpuint (lens_net_get_trace_bytes (net), >=, least);
  g_assert_cmpuint (lens_net_get_trace_bytes (net), <, 2 * least);
}

/* Runs a trace of `batch` items (inputs input_0, input_1, ...) and checks
 * activations, switches and logits against NumPy. */
static void
check_trace (LensTrace *trace,
             int        batch)
{
  LensNet *net = lens_trace_get_net (trace);
  g_autoptr (GError) error = NULL;
  LensTensor *input = lens_trace_get_input (trace);

  assert_shape (&input->shape, 4, (int64_t[]) { batch, 3, 8, 8 });
  for (int b = 0; b < batch; b++)
    {
      g_autofree char *name = g_strdup_printf ("input_%d.pb", b);
      g_autoptr (LensTensor) x = load_pb (name);
      memcpy ((float *) input->data + b * 192, x->data, lens_tensor_nbytes (x));
    }
  g_assert_true (lens_trace_run (trace, NULL, &error));
  g_assert_no_error (error);

  for (int b = 0; b < batch; b++)
    {
      g_autofree char *relu_f = g_strdup_printf ("relu_%d.pb", b);
      g_autofree char *pool_f = g_strdup_printf ("pool_%d.pb", b);
      g_autofree char *logits_f = g_strdup_printf ("logits_%d.pb", b);
      g_autofree char *switch_f = g_strdup_printf ("switch_%d.pb", b);
      g_autoptr (LensTensor) relu = load_pb (relu_f), pool = load_pb (pool_f);
      g_autoptr (LensTensor) logits = load_pb (logits_f), sw = load_pb (switch_f);
      const int32_t *got_sw = lens_trace_get_switches (trace, 2);
      const int64_t *want_sw = lens_tensor_get_int64s (sw);
      guint n_zero_ties = 0;

      assert_item_close (lens_trace_get_value (trace, lens_net_find_value (net, "relu1_out")), b,
                         relu, "relu1_out");
      assert_item_close (lens_trace_get_value (trace, lens_net_find_value (net, "pool1_out")), b,
                         pool, "pool1_out");
      assert_item_close (lens_trace_get_output (trace), b, logits, "logits");
      g_assert_nonnull (got_sw);
      g_assert_cmpuint (lens_tensor_numel (sw), ==, 128);
      for (int i = 0; i < 128; i++)
        {
          if (got_sw[b * 128 + i] != want_sw[i])
            g_error ("item %d switch %d is %d, expected %" G_GINT64_FORMAT, b, i,
                     got_sw[b * 128 + i], want_sw[i]);
          n_zero_ties += lens_tensor_get_floats (pool)[i] == 0.0f;
        }
      /* input_1 has a dark half, so its windows hold ties of zeros */
      if (b == 1)
        g_assert_cmpuint (n_zero_ties, >, 4);
    }
  /* only MaxPool layers have switches */
  for (guint l = 0; l < lens_net_get_n_layers (net); l++)
    if (l != 2)
      g_assert_null (lens_trace_get_switches (trace, l));
}

static void
test_trace (void)
{
  g_autoptr (LensNet) net = load_small ();
  g_autoptr (LensTrace) t1 = NULL, t2 = NULL;
  g_autoptr (GError) error = NULL;
  int w1;

  if (net == NULL)
    return;
  t1 = lens_trace_new (net, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (lens_trace_get_batch (t1), ==, 1);
  check_trace (t1, 1);
  check_trace (t1, 1);       /* a second run of the same trace */

  t2 = lens_trace_new (net, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (lens_trace_get_batch (t2), ==, 2);
  assert_shape (&lens_trace_get_value (t2, lens_net_find_value (net, "pool1_out"))->shape, 4,
                (int64_t[]) { 2, 8, 4, 4 });
  check_trace (t2, 2);

  /* constants read through the trace are the net's */
  w1 = lens_net_find_value (net, "w1");
  g_assert_cmpmem (lens_trace_get_value (t2, w1)->data, 8 * 27 * sizeof (float),
                   lens_net_value_get_constant (net, w1)->data, 8 * 27 * sizeof (float));
}

static void
test_set_input (void)
{
  g_autoptr (LensNet) net = load_small ();
  g_autoptr (LensTrace) trace = NULL;
  g_autoptr (LensTensor) x = NULL, logits = NULL;
  g_autoptr (GError) error = NULL;

  if (net == NULL)
    return;
  trace = lens_trace_new (net, 1, &error);
  x = load_pb ("input_1.pb");
  logits = load_pb ("logits_1.pb");
  g_assert_true (lens_trace_set_input (trace, x, &error));
  g_assert_no_error (error);
  g_assert_true (lens_trace_run (trace, NULL, &error));
  assert_item_close (lens_trace_get_output (trace), 0, logits, "logits via set_input");
}

static void
test_refcount (void)
{
  LensNet *net = load_small ();
  LensTrace *trace;
  g_autoptr (GError) error = NULL;
  g_autoptr (LensTensor) x = NULL, logits = NULL;

  if (net == NULL)
    return;
  g_assert_cmpint (net->ref_count, ==, 1);
  g_assert_true (lens_net_ref (net) == net);
  g_assert_cmpint (net->ref_count, ==, 2);
  lens_net_unref (net);
  g_assert_cmpint (net->ref_count, ==, 1);
  lens_net_unref (NULL);

  trace = lens_trace_new (net, 1, &error);
  g_assert_no_error (error);
  g_assert_true (lens_trace_get_net (trace) == net);
  g_assert_cmpint (net->ref_count, ==, 2);

  /* the caller lets go; the trace alone keeps the net and still runs
   * (a use after free here is what ASan would report) */
  lens_net_unref (net);
  g_assert_cmpint (lens_trace_get_net (trace)->ref_count, ==, 1);
  x = load_pb ("input_0.pb");
  logits = load_pb ("logits_0.pb");
  g_assert_true (lens_trace_set_input (trace, x, &error));
  g_assert_true (lens_trace_run (trace, NULL, &error));
  g_assert_no_error (error);
  assert_item_close (lens_trace_get_output (trace), 0, logits, "logits after unref");
  g_assert_cmpstr (lens_net_get_name (lens_trace_get_net (trace)), ==, "api-small");
  lens_trace_free (trace);   /* drops the last reference: LeakSanitizer checks it went */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  lens_set_threads (2);

  g_test_add_func ("/engine/api/structure", test_structure);
  g_test_add_func ("/engine/api/params-flops", test_params_flops);
  g_test_add_func ("/engine/api/trace", test_trace);
  g_test_add_func ("/engine/api/set-input", test_set_input);
  g_test_add_func ("/engine/api/refcount", test_refcount);
  return g_test_run ();
}
