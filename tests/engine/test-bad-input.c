/* test-bad-input.c: every way a model file can be wrong gives a GError with
 * the right domain and code, and a message naming what is wrong; nothing
 * crashes.  The models are written by make-engine-models.py with the onnx
 * package's helper API; each case runs through lens_net_load_onnx() on the
 * file and through lens_net_load_onnx_data() on its bytes. */
#include <string.h>

#include "engine-test.h"
#include "lens-net.h"

#define LOADS (-1)
#define MiB ((gsize) 1 << 20)

typedef struct
{
  const char *file;
  int         code;         /* LENS_NET_ERROR_*, or LOADS */
  const char *needles[2];   /* substrings the message must contain */
  gsize       budget;       /* LensLoadOptions.memory_budget, 0 = default */
  int         height, width;
} BadCase;

static const BadCase cases[] = {
  { "good.onnx", LOADS },
  { "not-onnx-text.onnx", LENS_NET_ERROR_PARSE, { "not an ONNX model" } },
  { "not-onnx-png.onnx", LENS_NET_ERROR_PARSE, { "not an ONNX model" } },
  { "not-onnx-random.onnx", LENS_NET_ERROR_PARSE, { "not an ONNX model" } },
  { "empty.onnx", LENS_NET_ERROR_PARSE, { "empty" } },
  { "truncated.onnx", LENS_NET_ERROR_TRUNCATED, { "truncated" } },
  { "no-graph.onnx", LENS_NET_ERROR_PARSE, { "graph" } },
  { "unsupported-op.onnx", LENS_NET_ERROR_UNSUPPORTED_OP, { "Einsum", "Foo_1" } },
  { "custom-domain.onnx", LENS_NET_ERROR_UNSUPPORTED_OP, { "com.example.custom", "custom_relu" } },
  { "conv-auto-pad-bogus.onnx", LENS_NET_ERROR_UNSUPPORTED_ATTR, { "BOGUS", "conv1" } },
  { "pad-mode-wrap.onnx", LENS_NET_ERROR_UNSUPPORTED_ATTR, { "wrap", "pad_wrap" } },
  { "maxpool-storage-order.onnx", LENS_NET_ERROR_UNSUPPORTED_ATTR, { "storage_order", "pool_col" } },
  { "opset-too-new.onnx", LENS_NET_ERROR_UNSUPPORTED_ATTR, { "opset", "99" } },
  { "conv-wrong-channels.onnx", LENS_NET_ERROR_SHAPE, { "conv_bad", "channels" } },
  { "conv-kernel-too-big.onnx", LENS_NET_ERROR_SHAPE, { "conv_huge_k", "Conv" } },
  { "gemm-inner-dims.onnx", LENS_NET_ERROR_SHAPE, { "fc_bad", "inner" } },
  { "gemm-rank3.onnx", LENS_NET_ERROR_SHAPE, { "fc_rank", "Gemm" } },
  { "add-broadcast.onnx", LENS_NET_ERROR_SHAPE, { "add_bad", "Add" } },
  { "reshape-size.onnx", LENS_NET_ERROR_SHAPE, { "reshape_bad", "1x3x4x4" } },
  { "concat-shapes.onnx", LENS_NET_ERROR_SHAPE, { "concat_bad", "1x2x4x5" } },
  { "input-float16.onnx", LENS_NET_ERROR_UNSUPPORTED_TYPE, { "float16", "'x'" } },
  { "input-int8.onnx", LENS_NET_ERROR_UNSUPPORTED_TYPE, { "int8", "'x'" } },
  { "input-double.onnx", LENS_NET_ERROR_UNSUPPORTED_TYPE, { "float64", "'x'" } },
  { "weights-float16.onnx", LENS_NET_ERROR_UNSUPPORTED_TYPE, { "float16", "'W'" } },
  { "activations-2mib.onnx", LOADS },
  { "activations-2mib.onnx", LENS_NET_ERROR_TOO_LARGE, { "budget" }, 1 * MiB },
  { "constantofshape-overflow.onnx", LENS_NET_ERROR_TOO_LARGE, { "cos_huge", "ConstantOfShape" } },
  { "initializer-dims-overflow.onnx", LENS_NET_ERROR_SHAPE, { "W_overflow" } },
  { "initializer-huge-no-data.onnx", LENS_NET_ERROR_TOO_LARGE, { "W_huge", "budget" } },
  /* the refusal gives the size (2^20 * 2^20 floats = 2^22 MiB) and the budget */
  { "initializer-huge-no-data.onnx", LENS_NET_ERROR_TOO_LARGE,
    { "1048576x1048576", "would need 4194304 MiB, over the memory budget of 1 MiB" }, 1 * MiB },
  { "initializer-no-data.onnx", LENS_NET_ERROR_SHAPE, { "W_empty" } },
  { "raw-data-length.onnx", LENS_NET_ERROR_SHAPE, { "W_short", "100" } },
  { "input-dims-overflow.onnx", LENS_NET_ERROR_TOO_LARGE, { "overflow" } },
  { "external-ok.onnx", LOADS },
  { "external-missing.onnx", LENS_NET_ERROR_EXTERNAL_DATA, { "no-such-weights.bin", "'W'" } },
  { "external-dotdot.onnx", LENS_NET_ERROR_EXTERNAL_DATA, { "sub/../../bad/weights.bin" } },
  { "external-absolute.onnx", LENS_NET_ERROR_EXTERNAL_DATA, { "relative" } },
  { "external-offset.onnx", LENS_NET_ERROR_EXTERNAL_DATA, { "4096", "'W'" } },
  { "external-length.onnx", LENS_NET_ERROR_EXTERNAL_DATA, { "weights.bin", "'W'" } },
  { "external-short-file.onnx", LENS_NET_ERROR_EXTERNAL_DATA, { "weights.bin", "'W'" } },
  { "external-symlink-out.onnx", LENS_NET_ERROR_EXTERNAL_DATA, { "up/outside-weights.bin",
                                                                 "out of the model's folder" } },
  { "external-symlink-in.onnx", LOADS },
  { "nested-graphs-deep.onnx", LENS_NET_ERROR_PARSE, { "64 levels deep" } },
  /* 1 + 3 * 21 = 64 levels: decoded, then refused for its empty op */
  { "nested-graphs-21.onnx", LENS_NET_ERROR_UNSUPPORTED_OP, { "Unsupported op ''" } },
  { "dynamic-hw.onnx", LENS_NET_ERROR_DYNAMIC_SHAPE, { "'x'", "input-size" } },
  { "dynamic-hw.onnx", LOADS, { NULL }, 0, 32, 48 },
  { "dynamic-batch.onnx", LOADS },
  { "dangling-input.onnx", LENS_NET_ERROR_INVALID, { "ghost", "add_ghost" } },
  { "producer-after-consumer.onnx", LENS_NET_ERROR_INVALID, { "relu_early", "'a'" } },
  { "two-inputs.onnx", LENS_NET_ERROR_INVALID, { "x1", "x2" } },
  { "output-not-produced.onnx", LENS_NET_ERROR_INVALID, { "nowhere" } },
  { "required-input-empty.onnx", LENS_NET_ERROR_INVALID, { "relu_noname", "input 0" } },
  { "add-input-empty.onnx", LENS_NET_ERROR_INVALID, { "add_half", "input 1" } },
  { "variadic-input-empty.onnx", LENS_NET_ERROR_INVALID, { "sum_gap", "input 1" } },
  { "clip-optional-empty.onnx", LOADS },
};

static char *
bad_path (const char *file)
{
  return g_build_filename (ENGINE_MODELS_DIR, "bad", file, NULL);
}

static gboolean
have_models (void)
{
  g_autofree char *manifest = bad_path ("MANIFEST");

  if (!ENGINE_MODELS_OK || !g_file_test (manifest, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("test models not generated (needs /usr/bin/python3 with onnx)");
      return FALSE;
    }
  return TRUE;
}

static LensLoadOptions
case_options (const BadCase *c)
{
  LensLoadOptions o = { 0 };

  o.memory_budget = c->budget;
  o.input_height = c->height;
  o.input_width = c->width;
  return o;
}

/* A net that loaded must also run: zeros in, every layer forward. */
static void
run_zeros (LensNet *net)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LensTrace) trace = lens_trace_new (net, 1, &error);
  LensTensor *input;

  g_assert_no_error (error);
  input = lens_trace_get_input (trace);
  g_assert_nonnull (input);
  memset (input->data, 0, lens_tensor_nbytes (input));
  g_assert_true (lens_trace_run (trace, NULL, &error));
  g_assert_no_error (error);
}

static void
check_result (const BadCase *c,
              LensNet       *net,
              GError        *error)
{
  if (c->code == LOADS)
    {
      g_assert_no_error (error);
      g_assert_nonnull (net);
      run_zeros (net);
      return;
    }
  g_assert_null (net);
  g_assert_error (error, LENS_NET_ERROR, c->code);
  for (guint i = 0; i < G_N_ELEMENTS (c->needles); i++)
    if (c->needles[i] != NULL && strstr (error->message, c->needles[i]) == NULL)
      g_error ("%s: message \"%s\" does not mention \"%s\"", c->file, error->message,
               c->needles[i]);
  g_test_message ("%s: %s", c->file, error->message);
}

static void
test_case_file (gconstpointer data)
{
  const BadCase *c = data;
  g_autofree char *path = bad_path (c->file);
  LensLoadOptions options = case_options (c);
  g_autoptr (GError) error = NULL;
  g_autoptr (LensNet) net = NULL;

  if (!have_models ())
    return;
  net = lens_net_load_onnx (path, &options, &error);
  check_result (c, net, error);
  if (c->code != LOADS)
    {
      /* and without anyone asking for the error */
      g_assert_null (lens_net_load_onnx (path, &options, NULL));
      g_assert_nonnull (strstr (error->message, path));
    }
}

static void
test_case_data (gconstpointer data)
{
  const BadCase *c = data;
  g_autofree char *path = bad_path (c->file);
  g_autofree char *dir = NULL;
  g_autofree char *bytes = NULL;
  gsize length = 0;
  LensLoadOptions options = case_options (c);
  g_autoptr (GError) error = NULL;
  g_autoptr (LensNet) net = NULL;
  guint8 *exact;

  if (!have_models ())
    return;
  g_assert_true (g_file_get_contents (path, &bytes, &length, NULL));
  dir = g_path_get_dirname (path);
  /* an exact-size copy so that a read past the end is caught by ASan */
  exact = g_memdup2 (bytes, MAX (length, 1));
  net = lens_net_load_onnx_data (exact, length, dir, &options, &error);
  check_result (c, net, error);
  g_free (exact);
}

static void
test_nonexistent (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = bad_path ("there-is-no-such-model.onnx");

  g_assert_null (lens_net_load_onnx (path, NULL, &error));
  g_assert_error (error, LENS_NET_ERROR, LENS_NET_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "there-is-no-such-model.onnx"));

  g_clear_error (&error);
  g_assert_null (lens_net_load_onnx (ENGINE_MODELS_DIR, NULL, &error));  /* a folder */
  g_assert_error (error, LENS_NET_ERROR, LENS_NET_ERROR_IO);
}

/* Every model the generator wrote has a row in the table. */
static void
test_manifest (void)
{
  g_autofree char *manifest = bad_path ("MANIFEST");
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  guint n = 0;

  if (!have_models ())
    return;
  g_assert_true (g_file_get_contents (manifest, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      gboolean found = FALSE;

      if (lines[i][0] == '\0')
        continue;
      for (guint j = 0; j < G_N_ELEMENTS (cases); j++)
        found |= strcmp (cases[j].file, lines[i]) == 0;
      if (!found)
        g_error ("generated model %s has no test case", lines[i]);
      n++;
    }
  g_assert_cmpuint (n, >=, 40);
}

static LensNet *
load_bad (const char            *file,
          const LensLoadOptions *options)
{
  g_autofree char *path = bad_path (file);
  g_autoptr (GError) error = NULL;
  LensNet *net = lens_net_load_onnx (path, options, &error);

  g_assert_no_error (error);
  return net;
}

/* What the loading cases above only check for "loads". */
static void
test_loaded_shapes (void)
{
  LensLoadOptions hw = { .input_height = 32, .input_width = 48 };
  g_autoptr (LensNet) dyn = NULL, batch = NULL, good = NULL, ext = NULL;
  const LensShape *s;
  const LensTensor *a, *b;

  if (!have_models ())
    return;
  dyn = load_bad ("dynamic-hw.onnx", &hw);
  s = lens_net_get_input_shape (dyn);
  g_assert_cmpint (s->ndim, ==, 4);
  g_assert_cmpint (s->dims[0], ==, 1);
  g_assert_cmpint (s->dims[1], ==, 3);
  g_assert_cmpint (s->dims[2], ==, 32);
  g_assert_cmpint (s->dims[3], ==, 48);
  s = lens_net_value_get_shape (dyn, lens_net_get_output_value (dyn));
  g_assert_cmpint (s->dims[1], ==, 4);
  g_assert_cmpint (s->dims[2], ==, 32);  /* 3x3 conv, pad 1 */
  g_assert_cmpint (s->dims[3], ==, 48);

  batch = load_bad ("dynamic-batch.onnx", NULL);
  s = lens_net_get_input_shape (batch);
  g_assert_cmpint (s->dims[0], ==, 1);
  g_assert_cmpint (s->dims[2], ==, 8);

  /* the external weights are the same numbers as the inline ones */
  good = load_bad ("good.onnx", NULL);
  ext = load_bad ("external-ok.onnx", NULL);
  a = lens_net_value_get_constant (good, lens_net_find_value (good, "W"));
  b = lens_net_value_get_constant (ext, lens_net_find_value (ext, "W"));
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpuint (lens_tensor_numel (a), ==, 4 * 3 * 3 * 3);
  g_assert_cmpmem (a->data, lens_tensor_nbytes (a), b->data, lens_tensor_nbytes (b));
}

static void
test_external_without_folder (void)
{
  g_autofree char *path = bad_path ("external-ok.onnx");
  g_autofree char *bytes = NULL;
  gsize length;
  g_autoptr (GError) error = NULL;

  if (!have_models ())
    return;
  g_assert_true (g_file_get_contents (path, &bytes, &length, NULL));
  g_assert_null (lens_net_load_onnx_data ((guint8 *) bytes, length, NULL, NULL, &error));
  g_assert_error (error, LENS_NET_ERROR, LENS_NET_ERROR_EXTERNAL_DATA);
}

/* Loads mutated bytes: a net or a LENS_NET_ERROR, never a crash; a net that
 * loads must run. */
static void
load_mutant (const guint8 *bytes,
             gsize         length,
             guint        *n_loaded,
             guint        *n_truncated)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *copy = g_memdup2 (bytes, MAX (length, 1));
  g_autoptr (LensNet) net = lens_net_load_onnx_data (copy, length, NULL, NULL, &error);

  if (net != NULL)
    {
      g_assert_no_error (error);
      run_zeros (net);
      (*n_loaded)++;
      return;
    }
  g_assert_nonnull (error);
  g_assert_true (error->domain == LENS_NET_ERROR);
  if (error->code == LENS_NET_ERROR_TRUNCATED)
    (*n_truncated)++;
}

static void
test_truncation_sweep (void)
{
  g_autofree char *path = bad_path ("good.onnx");
  g_autofree char *bytes = NULL;
  gsize length;
  guint loaded = 0, truncated = 0;

  if (!have_models ())
    return;
  g_assert_true (g_file_get_contents (path, &bytes, &length, NULL));
  for (gsize cut = 0; cut < length; cut++)
    load_mutant ((guint8 *) bytes, cut, &loaded, &truncated);
  g_test_message ("%" G_GSIZE_FORMAT " prefixes: %u load, %u truncated", length, loaded,
                  truncated);
  /* most cuts land inside the 432 bytes of weights */
  g_assert_cmpuint (truncated, >, length / 2);
}

static void
test_corruption_sweep (void)
{
  g_autofree char *path = bad_path ("good.onnx");
  g_autofree char *bytes = NULL;
  gsize length;
  guint loaded = 0, truncated = 0;
  g_autoptr (GRand) rand = g_rand_new_with_seed (4242);

  if (!have_models ())
    return;
  g_assert_true (g_file_get_contents (path, &bytes, &length, NULL));
  for (int round = 0; round < 3000; round++)
    {
      g_autofree guint8 *m = g_memdup2 (bytes, length);
      int flips = g_rand_int_range (rand, 1, 5);

      for (int f = 0; f < flips; f++)
        {
          gsize at = g_rand_int_range (rand, 0, (gint32) length);
          /* bias towards the interesting bytes: lengths, tags, small ints */
          m[at] = g_rand_boolean (rand) ? (guint8) g_rand_int (rand)
                                        : (guint8) (m[at] ^ (1u << g_rand_int_range (rand, 0, 8)));
        }
      load_mutant (m, length, &loaded, &truncated);
    }
  g_test_message ("3000 mutants: %u load, %u truncated", loaded, truncated);
}

/* Odd but well-formed graphs (edge/): each loads and runs, or fails with a
 * LENS_NET_ERROR, the same way from the file and from its bytes. */
static void
test_edge_sweep (void)
{
  g_autofree char *dir_path = g_build_filename (ENGINE_MODELS_DIR, "edge", NULL);
  g_autoptr (GDir) dir = NULL;
  const char *name;
  guint n = 0, loaded = 0;

  if (!have_models ())
    return;
  dir = g_dir_open (dir_path, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      g_autofree char *bytes = NULL;
      gsize length;
      g_autoptr (GError) e1 = NULL, e2 = NULL;
      g_autoptr (LensNet) a = NULL, b = NULL;

      n++;
      g_assert_true (g_file_get_contents (path, &bytes, &length, NULL));
      a = lens_net_load_onnx (path, NULL, &e1);
      b = lens_net_load_onnx_data ((guint8 *) bytes, length, dir_path, NULL, &e2);
      g_test_message ("%s: %s", name, e1 ? e1->message : "loads");
      g_assert_true ((a == NULL) == (b == NULL));
      if (a == NULL)
        {
          g_assert_true (e1->domain == LENS_NET_ERROR);
          g_assert_error (e2, LENS_NET_ERROR, e1->code);
          continue;
        }
      run_zeros (a);
      loaded++;
    }
  g_test_message ("%u edge models, %u load", n, loaded);
  g_assert_cmpuint (n, >=, 90);
  g_assert_cmpuint (loaded, >, 10);
}

static void
test_trace_errors (void)
{
  g_autoptr (LensNet) net = NULL;
  g_autoptr (LensTrace) trace = NULL, trace2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  LensShape wrong = lens_shape_4d (1, 3, 8, 9), right = lens_shape_4d (1, 3, 8, 8);
  g_autoptr (LensTensor) t_wrong = lens_tensor_new_float (&wrong, NULL);
  g_autoptr (LensTensor) t_int = lens_tensor_new (LENS_DTYPE_INT64, &right, NULL);
  g_autoptr (LensTensor) t_right = lens_tensor_new_float (&right, NULL);

  if (!have_models ())
    return;
  net = load_bad ("good.onnx", NULL);
  trace = lens_trace_new (net, 1, &error);
  g_assert_no_error (error);

  g_assert_false (lens_trace_set_input (trace, t_wrong, &error));
  g_assert_error (error, LENS_NET_ERROR, LENS_NET_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "1x3x8x9"));
  g_assert_nonnull (strstr (error->message, "1x3x8x8"));
  g_clear_error (&error);
  g_assert_false (lens_trace_set_input (trace, t_int, &error));
  g_assert_error (error, LENS_NET_ERROR, LENS_NET_ERROR_SHAPE);
  g_clear_error (&error);

  /* a batch-2 trace wants [2,3,8,8] */
  trace2 = lens_trace_new (net, 2, &error);
  g_assert_no_error (error);
  g_assert_false (lens_trace_set_input (trace2, t_right, &error));
  g_assert_error (error, LENS_NET_ERROR, LENS_NET_ERROR_SHAPE);
  g_clear_error (&error);

  g_assert_true (lens_trace_set_input (trace, t_right, &error));
  g_assert_no_error (error);
  g_cancellable_cancel (cancel);
  g_assert_false (lens_trace_run (trace, cancel, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* a batch the memory cannot hold */
  g_assert_null (lens_trace_new (net, G_MAXINT, &error));
  g_assert_error (error, LENS_NET_ERROR, LENS_NET_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "batch 2147483647 would need"));
  g_assert_nonnull (strstr (error->message, "MiB of activations, over the memory budget of"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const BadCase *c = &cases[i];
      g_autofree char *stem = g_strndup (c->file, strlen (c->file) - strlen (".onnx"));
      g_autofree char *suffix = c->budget ? g_strdup_printf ("-budget-%" G_GSIZE_FORMAT, c->budget)
                                : c->height ? g_strdup_printf ("-%dx%d", c->height, c->width)
                                : g_strdup ("");
      g_autofree char *file_path = g_strdup_printf ("/engine/bad-input/file/%s%s", stem, suffix);
      g_autofree char *data_path = g_strdup_printf ("/engine/bad-input/data/%s%s", stem, suffix);

      g_test_add_data_func (file_path, c, test_case_file);
      g_test_add_data_func (data_path, c, test_case_data);
    }
  g_test_add_func ("/engine/bad-input/nonexistent", test_nonexistent);
  g_test_add_func ("/engine/bad-input/manifest", test_manifest);
  g_test_add_func ("/engine/bad-input/loaded-shapes", test_loaded_shapes);
  g_test_add_func ("/engine/bad-input/external-without-folder", test_external_without_folder);
  g_test_add_func ("/engine/bad-input/truncation-sweep", test_truncation_sweep);
  g_test_add_func ("/engine/bad-input/corruption-sweep", test_corruption_sweep);
  g_test_add_func ("/engine/bad-input/edge-sweep", test_edge_sweep);
  g_test_add_func ("/engine/bad-input/trace-errors", test_trace_errors);
  return g_test_run ();
}
