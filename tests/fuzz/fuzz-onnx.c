/* fuzz-onnx.c: libFuzzer target for the ONNX loader.
 *
 * Each input is handed to lens_net_load_onnx_data() as a whole model file
 * with a 256 MiB memory budget; its folder is a private sandbox holding
 * one data file, so external-data references either load from there or
 * fail cleanly (a location outside the folder must be refused).  The target checks the loader's contract, not
 * only that nothing crashes:
 *   - a failed load returns NULL and sets a GError with a message;
 *   - a successful load sets no GError, and every query on the net works;
 *   - when the net's trace is small (< 16 MiB) and its FLOPs are bounded,
 *     a trace is created and run once on a zero input;
 *   - the engine never logs a warning or critical (a failed
 *     g_return_if_fail is a bug when reached from file contents).
 * Any violation aborts, which libFuzzer reports as a crash.  ASan and UBSan
 * (the engine library is built with them too) catch memory errors, leaks
 * and undefined behaviour. */
#define G_LOG_DOMAIN "fuzz-onnx"

#include "fuzz-common.h"
#include "lens-net.h"

#define FUZZ_MEMORY_BUDGET ((gsize) 256 << 20)
/* Bounds on the work of one run, so that each input takes well under
 * libFuzzer's -timeout=10 under ASan + coverage instrumentation: memory
 * errors do not need big tensors.  The trace bound also bounds the ops
 * that report no FLOPs (Pad, Transpose, Concat...: one pass over each
 * output element, about 1 us per element instrumented). */
#define FUZZ_MAX_TRACE_BYTES ((gsize) 16 << 20)
#define FUZZ_MAX_FLOPS ((guint64) 1000000000)

/* The model's folder is SANDBOX/model: external-data references resolve
 * inside it (and nowhere else).  It holds "weights.bin" (WEIGHTS_FLOATS
 * small floats, which the seeds with external data refer to) and an
 * empty "empty.bin".  SANDBOX/secret.bin, outside the model's folder, is
 * filled with SECRET_VALUE: a loaded constant holding that value means a
 * reference escaped the folder. */
#define WEIGHTS_FLOATS 1024
#define SECRET_VALUE 12345.0f

static char *model_dir;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  float weights[WEIGHTS_FLOATS];
  float secret[WEIGHTS_FLOATS];

  fuzz_init_logging ("fuzz-onnx");
  /* One BLAS thread: reproducible, and no thread pool under ASan */
  lens_set_threads (1);
  fuzz_sandbox_new ();
  for (int i = 0; i < WEIGHTS_FLOATS; i++)
    weights[i] = (float) ((i % 17) - 8) / 64.0f;
  for (int i = 0; i < WEIGHTS_FLOATS; i++)
    secret[i] = SECRET_VALUE;
  fuzz_sandbox_write ("model/weights.bin", weights, sizeof weights);
  fuzz_sandbox_write ("model/empty.bin", "", 0);
  fuzz_sandbox_write ("secret.bin", secret, sizeof secret);
  model_dir = g_build_filename (fuzz_sandbox_dir, "model", NULL);
  return 0;
}

static void
check_error (gboolean    ok,
             GError     *error,
             const char *what)
{
  fuzz_check_error (ok, error, 0, what);
}

/* No constant may hold data read from outside the model's folder. */
static void
check_no_secret (const LensTensor *t)
{
  if (t == NULL || t->dtype != LENS_DTYPE_FLOAT32)
    return;
  for (gsize i = 0, n = lens_shape_numel (&t->shape); i < n && i < 4; i++)
    if (((const float *) t->data)[i] == SECRET_VALUE)
      fuzz_fail ("external data", "a constant holds the contents of a file outside the model's folder");
}

/* Walks every query of a loaded net; values must be consistent. */
static guint64
walk_net (LensNet *net)
{
  guint n_values = lens_net_get_n_values (net);
  guint n_layers = lens_net_get_n_layers (net);
  guint64 flops = 0;
  const LensShape *in_shape;

  if (lens_net_get_name (net) == NULL)
    fuzz_fail ("lens_net_get_name", "NULL");
  in_shape = lens_net_get_input_shape (net);
  if (in_shape != NULL && (in_shape->ndim < 0 || in_shape->ndim > LENS_MAX_DIMS))
    fuzz_fail ("lens_net_get_input_shape", "rank out of range");
  (void) lens_net_get_input_name (net);
  (void) lens_net_get_opset (net);

  for (guint v = 0; v < n_values; v++)
    {
      const LensShape *shape = lens_net_value_get_shape (net, (int) v);
      const char *name = lens_net_value_get_name (net, (int) v);
      g_autofree char *text = NULL;

      if (shape == NULL || name == NULL)
        fuzz_fail ("value query", "NULL shape or name");
      if (shape->ndim < 0 || shape->ndim > LENS_MAX_DIMS)
        fuzz_fail ("value query", "rank out of range");
      text = lens_shape_to_string (shape);
      check_no_secret (lens_net_value_get_constant (net, (int) v));
      if (lens_net_find_value (net, name) < 0)
        fuzz_fail ("lens_net_find_value", name);
    }

  for (guint i = 0; i < lens_net_get_n_outputs (net); i++)
    {
      int out = lens_net_get_output (net, i);
      if (out < 0 || (guint) out >= n_values)
        fuzz_fail ("lens_net_get_output", "index out of range");
    }

  for (guint l = 0; l < n_layers; l++)
    {
      const char *name = lens_net_layer_get_name (net, l);
      int out = lens_net_layer_get_output (net, l);
      guint64 f;

      if (name == NULL || lens_net_layer_get_op (net, l) == NULL)
        fuzz_fail ("layer query", "NULL name or op");
      if (out < 0 || (guint) out >= n_values)
        fuzz_fail ("lens_net_layer_get_output", "index out of range");
      for (guint i = 0; i < lens_net_layer_get_n_inputs (net, l); i++)
        {
          int in = lens_net_layer_get_input (net, l, i);
          if (in < -1 || in >= (int) n_values)
            fuzz_fail ("lens_net_layer_get_input", "index out of range");
        }
      (void) lens_net_layer_get_n_params (net, l);
      f = lens_net_layer_get_flops (net, l);
      flops = f > G_MAXUINT64 - flops ? G_MAXUINT64 : flops + f;
      if (lens_net_find_layer (net, name) < 0)
        fuzz_fail ("lens_net_find_layer", name);
    }
  return flops;
}

static void
run_trace (LensNet *net)
{
  g_autoptr (LensTrace) trace = NULL;
  g_autoptr (GError) error = NULL;
  LensTensor *input;
  gboolean ok;

  trace = lens_trace_new (net, 1, &error);
  check_error (trace != NULL, error, "lens_trace_new");
  if (trace == NULL)
    return;
  input = lens_trace_get_input (trace);
  if (input != NULL)
    memset (input->data, 0, lens_tensor_nbytes (input));
  ok = lens_trace_run (trace, NULL, &error);
  check_error (ok, error, "lens_trace_run");
  if (ok && lens_net_get_n_outputs (net) > 0 && lens_trace_get_output (trace) == NULL)
    fuzz_fail ("lens_trace_get_output", "NULL after a successful run");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  LensLoadOptions opts = { 0 };
  g_autoptr (LensNet) net = NULL;
  g_autoptr (GError) error = NULL;
  guint64 flops;

  opts.memory_budget = FUZZ_MEMORY_BUDGET;
  net = lens_net_load_onnx_data (data, size, model_dir, &opts, &error);
  check_error (net != NULL, error, "lens_net_load_onnx_data");
  if (net == NULL)
    {
      if (error->domain != LENS_NET_ERROR && error->domain != LENS_TENSOR_ERROR)
        fuzz_fail ("lens_net_load_onnx_data", "error in an unexpected domain");
      return 0;
    }

  flops = walk_net (net);
  if (lens_net_get_trace_bytes (net) < FUZZ_MAX_TRACE_BYTES && flops <= FUZZ_MAX_FLOPS)
    run_trace (net);
  return 0;
}
