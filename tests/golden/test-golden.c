/* test-golden.c: runs cases in the ONNX backend-test layout
 * (CASE/model.onnx, CASE/test_data_set_N/input_K.pb, output_K.pb) and
 * compares every output with the expected tensor.
 *
 *   test-golden node  CASES.txt ROOT   ONNX node conformance (list of cases)
 *   test-golden light ROOT             the light zoo models (arange input)
 *   test-golden dir   ROOT             every sub-folder of ROOT is a case
 *
 * In a case list, a line is either `NAME [rtol=R] [atol=A]` (must match)
 * or `NAME unsupported: REASON` (must be refused at load with a GError,
 * never crash); '#' starts a comment. */
#include "lens-net.h"

#include <math.h>
#include <string.h>

typedef struct
{
  char    *name;
  char    *dir;
  double   rtol, atol;
  gboolean range_rel;      /* tolerance relative to the reference's range */
  gboolean expect_refusal;
  char    *reason;
  gboolean arange_input;   /* light models: input = arange(n)/n */
} Case;

static void
case_free (gpointer p)
{
  Case *c = p;
  g_free (c->name);
  g_free (c->dir);
  g_free (c->reason);
  g_free (c);
}

static GPtrArray *all_cases;

static void
compare (const Case       *c,
         const char       *what,
         const LensTensor *got,
         const LensTensor *want)
{
  gsize n = lens_tensor_numel (want), bad = 0;
  double lo = INFINITY, hi = -INFINITY, worst = 0.0;
  gsize worst_i = 0;

  if (!lens_shape_equal (&got->shape, &want->shape))
    {
      g_autofree char *a = lens_shape_to_string (&got->shape);
      g_autofree char *b = lens_shape_to_string (&want->shape);
      /* a scalar and a 1-element vector are the same data */
      if (!(lens_tensor_numel (got) == n && n == 1))
        {
          g_test_fail_printf ("%s: output %s has shape %s, expected %s", c->name, what, a, b);
          return;
        }
    }
  if (got->dtype != want->dtype)
    {
      g_test_fail_printf ("%s: output %s has the wrong element type", c->name, what);
      return;
    }
  if (want->dtype == LENS_DTYPE_INT64)
    {
      g_assert_cmpmem (got->data, lens_tensor_nbytes (got), want->data, lens_tensor_nbytes (want));
      return;
    }
  for (gsize i = 0; i < n; i++)
    {
      double w = ((float *) want->data)[i];
      lo = MIN (lo, w);
      hi = MAX (hi, w);
    }
  for (gsize i = 0; i < n; i++)
    {
      double g = ((float *) got->data)[i], w = ((float *) want->data)[i];
      double tol = c->range_rel ? c->rtol * (hi - lo) + c->atol : c->atol + c->rtol * fabs (w);
      double err = fabs (g - w);

      if (!(err <= tol) && !(isnan (g) && isnan (w)) && !(isinf (g) && g == w))
        {
          if (bad == 0 || err > worst)
            {
              worst = err;
              worst_i = i;
            }
          bad++;
        }
    }
  if (bad > 0)
    g_test_fail_printf ("%s: output %s differs at %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
             " elements; worst at %" G_GSIZE_FORMAT ": got %.8g, expected %.8g",
             c->name, what, bad, n, worst_i, ((float *) got->data)[worst_i],
             ((float *) want->data)[worst_i]);
}

static GPtrArray *
load_set (const char *dir,
          const char *prefix)
{
  GPtrArray *arr = g_ptr_array_new_with_free_func ((GDestroyNotify) lens_tensor_free);

  for (int i = 0;; i++)
    {
      g_autofree char *file = g_strdup_printf ("%s_%d.pb", prefix, i);
      g_autofree char *path = g_build_filename (dir, file, NULL);
      g_autoptr (GError) error = NULL;
      char *name = NULL;
      LensTensor *t;

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        break;
      t = lens_onnx_load_tensor_file (path, &name, &error);
      if (t == NULL)
        {
          /* an input of a type we refuse: keep a hole, the loader will
           * have to refuse the model too */
          g_ptr_array_add (arr, NULL);
          g_free (name);
          continue;
        }
      /* keep the name with the tensor: stash it in a parallel list */
      g_ptr_array_add (arr, t);
      g_dataset_set_data_full (t, "name", name, g_free);
    }
  return arr;
}

static void
run_case (gconstpointer data)
{
  const Case *c = data;
  g_autofree char *model = g_build_filename (c->dir, "model.onnx", NULL);
  g_autofree char *set = g_build_filename (c->dir, "test_data_set_0", NULL);
  g_autoptr (GPtrArray) inputs = NULL;
  g_autoptr (GPtrArray) outputs = NULL;
  g_autoptr (GHashTable) bindings = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) error = NULL;
  g_autoptr (LensNet) net = NULL;
  g_autoptr (LensTrace) trace = NULL;
  LensLoadOptions opts = { 0 };
  const LensTensor *runtime = NULL;
  gboolean holes = FALSE;

  if (c->arange_input)
    {
      g_free (model);
      model = g_strdup_printf ("%s.onnx", c->dir);
      outputs = g_ptr_array_new_with_free_func ((GDestroyNotify) lens_tensor_free);
      {
        g_autofree char *p = g_strdup_printf ("%s_output_0.pb", c->dir);
        LensTensor *t = lens_onnx_load_tensor_file (p, NULL, &error);
        g_assert_no_error (error);
        g_ptr_array_add (outputs, t);
      }
    }
  else
    {
      inputs = load_set (set, "input");
      outputs = load_set (set, "output");
      for (guint i = 0; i < inputs->len; i++)
        {
          LensTensor *t = g_ptr_array_index (inputs, i);
          if (t == NULL)
            {
              holes = TRUE;
              continue;
            }
          if (i == 0 && t->dtype == LENS_DTYPE_FLOAT32)
            runtime = t;
          else
            g_hash_table_insert (bindings, g_dataset_get_data (t, "name"), t);
        }
    }
  opts.bindings = bindings;
  net = lens_net_load_onnx (model, &opts, &error);

  if (c->expect_refusal)
    {
      g_test_message ("%s is not supported: %s", c->name, c->reason);
      if (net != NULL && !holes)
        {
          /* loading may succeed when only an output type is unusual; the
           * case must then still not produce a wrong answer silently */
          g_test_fail_printf ("%s loaded although it is listed as unsupported (%s); "
                              "move it to the supported list", c->name, c->reason);
        }
      if (net == NULL)
        {
          g_assert_nonnull (error);
          g_assert_true (error->domain == LENS_NET_ERROR);
          g_test_message ("refused: %s", error->message);
        }
      return;
    }

  if (holes || net == NULL)
    {
      g_test_fail_printf ("%s: %s", c->name, holes ? "an input has an unsupported type"
                                                     : error->message);
      return;
    }
  {
    /* a dynamic batch dimension plans as 1; run the batch the data has */
    int batch = 1;
    const LensShape *plan = lens_net_get_input_shape (net);
    if (runtime != NULL && plan != NULL && plan->ndim > 0 && plan->dims[0] == 1 &&
        runtime->shape.ndim == plan->ndim)
      batch = (int) MAX (1, runtime->shape.dims[0]);
    trace = lens_trace_new (net, batch, &error);
  }
  g_assert_no_error (error);
  if (trace == NULL)
    return;
  if (c->arange_input)
    {
      LensTensor *in = lens_trace_get_input (trace);
      gsize n = lens_tensor_numel (in);
      float *x = in->data;
      for (gsize i = 0; i < n; i++)
        x[i] = (float) ((double) i / (double) n);
    }
  else if (runtime != NULL)
    {
      g_assert_cmpint (lens_net_get_input_value (net), >=, 0);
      lens_trace_set_input (trace, runtime, &error);
      g_assert_no_error (error);
    }
  lens_trace_run (trace, NULL, &error);
  g_assert_no_error (error);

  if (outputs->len != lens_net_get_n_outputs (net))
    {
      g_test_fail_printf ("%s: %u expected outputs, the model has %u", c->name, outputs->len,
                          lens_net_get_n_outputs (net));
      return;
    }
  for (guint i = 0; i < outputs->len; i++)
    {
      const LensTensor *want = g_ptr_array_index (outputs, i);
      int v = lens_net_get_output (net, i);
      if (want == NULL)
        {
          g_test_fail_printf ("%s: expected output %u has an unsupported type", c->name, i);
          return;
        }
      compare (c, lens_net_value_get_name (net, v), lens_trace_get_value (trace, v), want);
    }
  if (inputs)
    for (guint i = 0; i < inputs->len; i++)
      if (g_ptr_array_index (inputs, i))
        g_dataset_destroy (g_ptr_array_index (inputs, i));
  for (guint i = 0; i < outputs->len; i++)
    g_dataset_destroy (g_ptr_array_index (outputs, i));
}

static void
parse_case_list (const char *list,
                 const char *root)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) error = NULL;

  if (!g_file_get_contents (list, &text, NULL, &error))
    g_error ("cannot read case list: %s", error->message);
  lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i]; i++)
    {
      char *line = g_strstrip (lines[i]);
      g_auto (GStrv) words = NULL;
      Case *c;

      if (line[0] == '\0' || line[0] == '#')
        continue;
      c = g_new0 (Case, 1);
      c->rtol = 1e-4;
      c->atol = 1e-5;
      words = g_strsplit_set (line, " \t", -1);
      c->name = g_strdup (words[0]);
      c->dir = g_build_filename (root, c->name, NULL);
      for (int w = 1; words[w]; w++)
        {
          if (g_str_has_prefix (words[w], "rtol="))
            c->rtol = g_ascii_strtod (words[w] + 5, NULL);
          else if (g_str_has_prefix (words[w], "atol="))
            c->atol = g_ascii_strtod (words[w] + 5, NULL);
          else if (strcmp (words[w], "unsupported:") == 0)
            {
              c->expect_refusal = TRUE;
              c->reason = g_strjoinv (" ", words + w + 1);
              break;
            }
        }
      if (!g_file_test (c->dir, G_FILE_TEST_IS_DIR))
        g_error ("case %s listed but %s does not exist", c->name, c->dir);
      g_ptr_array_add (all_cases, c);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_set_nonfatal_assertions ();
  all_cases = g_ptr_array_new_with_free_func (case_free);
  lens_set_threads (2);

  if (argc >= 4 && strcmp (argv[1], "node") == 0)
    parse_case_list (argv[2], argv[3]);
  else if (argc >= 3 && strcmp (argv[1], "light") == 0)
    {
      const char *names[] = { "bvlc_alexnet", "zfnet512", "vgg19", "inception_v1", "inception_v2",
                              "resnet50", "squeezenet", "shufflenet", "densenet121" };
      for (guint i = 0; i < G_N_ELEMENTS (names); i++)
        {
          Case *c = g_new0 (Case, 1);
          g_autofree char *stem = g_strdup_printf ("light_%s", names[i]);
          c->name = g_strdup (names[i]);
          c->dir = g_build_filename (argv[2], stem, NULL);
          /* the upstream tolerances (README of the light models) */
          c->rtol = strcmp (names[i], "densenet121") == 0 ? 2e-3 : 1e-3;
          c->atol = 1e-7;
          c->arange_input = TRUE;
          g_ptr_array_add (all_cases, c);
        }
    }
  else if (argc >= 3 && strcmp (argv[1], "dir") == 0)
    {
      g_autoptr (GDir) dir = g_dir_open (argv[2], 0, NULL);
      const char *entry;
      g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

      g_assert_nonnull (dir);
      while ((entry = g_dir_read_name (dir)))
        {
          g_autofree char *m = g_build_filename (argv[2], entry, "model.onnx", NULL);
          if (g_file_test (m, G_FILE_TEST_EXISTS))
            g_ptr_array_add (names, g_strdup (entry));
        }
      g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
      g_assert_cmpuint (names->len, >, 0);
      for (guint i = 0; i < names->len; i++)
        {
          Case *c = g_new0 (Case, 1);
          g_autofree char *tol = NULL;
          g_autofree char *tolfile = NULL;
          c->name = g_strdup (g_ptr_array_index (names, i));
          c->dir = g_build_filename (argv[2], c->name, NULL);
          c->rtol = 1e-4;
          c->atol = 0;
          c->range_rel = TRUE;
          tolfile = g_build_filename (c->dir, "tolerance.txt", NULL);
          if (g_file_get_contents (tolfile, &tol, NULL, NULL) &&
              g_str_has_prefix (tol, "range-rel "))
            c->rtol = g_ascii_strtod (tol + 10, NULL);
          g_ptr_array_add (all_cases, c);
        }
    }
  else
    {
      g_printerr ("usage: test-golden node CASES ROOT | light ROOT | dir ROOT\n");
      return 2;
    }

  for (guint i = 0; i < all_cases->len; i++)
    {
      Case *c = g_ptr_array_index (all_cases, i);
      g_autofree char *path = g_strdup_printf ("/golden/%s/%s", argv[1], c->name);
      g_test_add_data_func (path, c, run_case);
    }
  return g_test_run ();
}
