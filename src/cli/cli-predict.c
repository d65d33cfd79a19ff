/* cli-predict.c: `convlens-cli predict MODEL IMAGE`, one forward pass and
 * the top-K classes */
#define G_LOG_DOMAIN "cli-predict"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-common.h"

#define DEFAULT_TOP 5

typedef struct
{
  double p;
  guint  k;
} LensCliRanked;

/* A vector already is a probability distribution when every entry lies in
 * [0,1] and they sum to 1 within 1e-3 (the model ends in Softmax). */
static gboolean
is_probability (const float *x,
                gsize        n)
{
  double sum = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      if (!(x[i] >= 0.0f && x[i] <= 1.0f))
        return FALSE;
      sum += x[i];
    }
  return fabs (sum - 1.0) <= 1e-3;
}

/* Softmax in double, shifted by the maximum so that exp() cannot overflow. */
static void
softmax (const float *x,
         double      *p,
         gsize        n)
{
  double max = x[0];
  double sum = 0.0;

  for (gsize i = 1; i < n; i++)
    max = MAX (max, (double) x[i]);
  for (gsize i = 0; i < n; i++)
    {
      p[i] = exp ((double) x[i] - max);
      sum += p[i];
    }
  for (gsize i = 0; i < n; i++)
    p[i] /= sum;
}

/* Descending probability, then ascending class index (stable ties). */
static int
compare_classes (const void *a,
                 const void *b)
{
  const LensCliRanked *ra = a;
  const LensCliRanked *rb = b;

  if (ra->p > rb->p)
    return -1;
  if (ra->p < rb->p)
    return 1;
  return ra->k < rb->k ? -1 : (ra->k > rb->k ? 1 : 0);
}

/* Labels are shown only when there is one per class: a list of another
 * length (ImageNet labels on a 10-class model) would name the wrong
 * classes. */
static const char *
class_label (const LensProfile *profile,
             guint              n_classes,
             guint              k)
{
  if (profile == NULL || profile->n_labels != n_classes)
    return NULL;
  return lens_profile_get_label (profile, k);
}

static void
print_json (const char          *model_path,
            const LensCliInput  *input,
            const LensCliRanked *ranked,
            guint                n_classes,
            guint                top,
            gboolean             softmax_applied)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "model");
  lens_cli_json_add_string (builder, model_path);
  json_builder_set_member_name (builder, "input");
  lens_cli_json_add_string (builder, input->source);
  json_builder_set_member_name (builder, "softmax_applied");
  json_builder_add_boolean_value (builder, softmax_applied);
  json_builder_set_member_name (builder, "top");
  json_builder_begin_array (builder);
  for (guint r = 0; r < top; r++)
    {
      guint k = ranked[r].k;
      const char *label = class_label (input->profile, n_classes, k);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "class");
      json_builder_add_int_value (builder, k);
      json_builder_set_member_name (builder, "label");
      lens_cli_json_add_string (builder, label);
      json_builder_set_member_name (builder, "probability");
      json_builder_add_double_value (builder, ranked[r].p);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  lens_cli_json_print (builder, FALSE);
}

static void
print_table (const char          *model_path,
             const LensNet       *net,
             const LensCliInput  *input,
             const LensCliRanked *ranked,
             guint                n_classes,
             guint                top,
             gboolean             softmax_applied)
{
  g_autofree char *shape = lens_shape_to_string (&input->tensor->shape);
  int label_width = (int) strlen ("label");

  for (guint r = 0; r < top; r++)
    {
      const char *label = class_label (input->profile, n_classes, ranked[r].k);

      label_width = MAX (label_width, label != NULL ? (int) g_utf8_strlen (label, -1) : 1);
    }

  printf ("model: %s (%s)\n", lens_net_get_name (net), model_path);
  printf ("input: %s (%s)%s\n\n", input->source, shape,
          softmax_applied ? "; softmax applied to the output" : "");
  printf ("%4s  %6s  %-*s  %11s\n", "rank", "class", label_width, "label", "probability");
  for (guint r = 0; r < top; r++)
    {
      guint k = ranked[r].k;
      const char *label = class_label (input->profile, n_classes, k);
      const char *shown = label != NULL ? label : "-";
      /* Pad by characters, not bytes, so that UTF-8 labels line up. */
      int pad = label_width - (int) g_utf8_strlen (shown, -1);

      printf ("%4u  %6u  %s%*s  %11.6f\n", r + 1, k, shown, MAX (pad, 0), "", ranked[r].p);
    }
}

/* Runs the trace and prints the top-K; returns the exit code. */
static int
predict (LensNet            *net,
         const char         *model_path,
         const LensCliInput *input,
         GPtrArray          *dumps,
         int                 top,
         gboolean            json)
{
  g_autoptr(LensTrace) trace = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree double *p = NULL;
  g_autofree LensCliRanked *ranked = NULL;
  const LensTensor *output;
  const float *x;
  gsize n;
  gboolean softmax_applied;

  trace = lens_trace_new (net, 1, &error);
  if (trace == NULL || !lens_trace_set_input (trace, input->tensor, &error)
      || !lens_trace_run (trace, NULL, &error))
    {
      g_autofree char *text = lens_cli_error_text (error);

      return lens_cli_fail ("cannot run model '%s' on '%s': %s. Check that the input "
                            "matches the model.", model_path, input->source, text);
    }

  if (!lens_cli_dumps_write (dumps, trace))
    return LENS_CLI_EXIT_RUNTIME;

  output = lens_trace_get_output (trace);
  if (output == NULL || output->dtype != LENS_DTYPE_FLOAT32 || lens_tensor_numel (output) == 0)
    return lens_cli_fail ("model '%s' has no float output to rank. Use --dump-npy to "
                          "read its values.", model_path);

  x = lens_tensor_get_floats (output);
  n = lens_tensor_numel (output);
  if (n > G_MAXUINT)
    return lens_cli_fail ("model '%s' has too many outputs to rank.", model_path);
  for (gsize i = 0; i < n; i++)
    if (!isfinite (x[i]))
      return lens_cli_fail ("model '%s' produced a non-finite output (class %" G_GSIZE_FORMAT
                            "). Check the model's weights and the input.", model_path, i);

  p = g_new (double, n);
  softmax_applied = !is_probability (x, n);
  if (softmax_applied)
    softmax (x, p, n);
  else
    for (gsize i = 0; i < n; i++)
      p[i] = x[i];

  ranked = g_new (LensCliRanked, n);
  for (gsize i = 0; i < n; i++)
    ranked[i] = (LensCliRanked) { p[i], (guint) i };
  qsort (ranked, n, sizeof *ranked, compare_classes);

  if ((gsize) top > n)
    top = (int) n;

  if (json)
    print_json (model_path, input, ranked, (guint) n, (guint) top, softmax_applied);
  else
    print_table (model_path, net, input, ranked, (guint) n, (guint) top, softmax_applied);
  return LENS_CLI_EXIT_OK;
}

int
lens_cli_predict (int    argc,
                  char **argv)
{
  LensCliCommon common = LENS_CLI_COMMON_INIT;
  gboolean json = FALSE;
  int top = DEFAULT_TOP;
  char *input_npy = NULL;
  char *profile_path = NULL;
  char **dump_specs = NULL;
  const GOptionEntry entries[] = {
    { "top", 'k', 0, G_OPTION_ARG_INT, &top, "Number of classes to print (default: 5)", "K" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object instead of a table", NULL },
    { "input-npy", 0, 0, G_OPTION_ARG_FILENAME, &input_npy,
      "Use this float32 NCHW .npy array (already preprocessed) instead of an IMAGE", "FILE" },
    { "dump-npy", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &dump_specs,
      "Write the activation of LAYER (a layer or value name from 'info') to FILE as .npy; "
      "repeatable", "LAYER=FILE" },
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile_path,
      "Preprocessing and labels profile (default: NAME.convlens.json beside the model, or "
      "guessed from the model)", "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(LensNet) net = NULL;
  g_autoptr(GPtrArray) dumps = NULL;
  LensCliInput input = { 0 };
  int status = LENS_CLI_EXIT_OK;

  context = lens_cli_context_new ("predict", "MODEL [IMAGE]",
                                  "Classify IMAGE (PNG or JPEG), or the tensor given with "
                                  "--input-npy, and print the top K classes.",
                                  entries, &common);
  if (!lens_cli_parse (context, "predict", &common, &argc, &argv))
    status = LENS_CLI_EXIT_USAGE;
  else if (argc < 2)
    status = lens_cli_usage_error ("predict", "missing MODEL");
  else if (argc > 3)
    status = lens_cli_usage_error ("predict", "too many arguments (expected MODEL and one "
                                   "IMAGE)");
  else if (argc == 3 && input_npy != NULL)
    status = lens_cli_usage_error ("predict", "give either IMAGE or --input-npy, not both");
  else if (argc == 2 && input_npy == NULL)
    status = lens_cli_usage_error ("predict", "missing IMAGE (or --input-npy FILE)");
  else if (top < 1)
    status = lens_cli_usage_error ("predict", "--top must be at least 1, not %d", top);
  else if ((dumps = lens_cli_dumps_parse ("predict", (const char * const *) dump_specs)) == NULL)
    status = LENS_CLI_EXIT_USAGE;
  else
    {
      const char *model_path = argv[1];
      const char *image_path = argc == 3 ? argv[2] : NULL;

      lens_cli_apply_threads (&common);
      net = lens_cli_load_net (model_path, &common, &status);
      if (net != NULL)
        {
          if (!lens_cli_dumps_resolve (dumps, net)
              || !lens_cli_load_input (net, model_path, image_path, input_npy, profile_path,
                                       &input))
            status = LENS_CLI_EXIT_RUNTIME;
          else
            status = predict (net, model_path, &input, dumps, top, json);
        }
    }

  lens_cli_input_clear (&input);
  lens_cli_common_clear (&common);
  g_free (input_npy);
  g_free (profile_path);
  g_strfreev (dump_specs);
  return status;
}
