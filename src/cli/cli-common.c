/* cli-common.c: option parsing, error sentences, model loading and JSON
 * output shared by the convlens-cli verbs */
#define G_LOG_DOMAIN "cli-common"

#include "cli-common.h"

#include "lens-image.h"
#include "lens-npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lens_cli_global_threads = LENS_CLI_THREADS_UNSET;

const GOptionEntry *
lens_cli_common_entries (LensCliCommon *common)
{
  /* Static storage: the CLI parses one verb per process. */
  static GOptionEntry entries[3];

  entries[0] = (GOptionEntry) {
    "threads", 0, 0, G_OPTION_ARG_INT, &common->threads,
    "Number of BLAS threads (0: all cores; default: all cores)", "N"
  };
  entries[1] = (GOptionEntry) {
    "input-size", 0, 0, G_OPTION_ARG_STRING, &common->input_size,
    "Input height and width for a model whose spatial size is not fixed", "HxW"
  };
  entries[2] = (GOptionEntry) { NULL };

  return entries;
}

void
lens_cli_common_clear (LensCliCommon *common)
{
  g_clear_pointer (&common->input_size, g_free);
}

GOptionContext *
lens_cli_context_new (const char         *verb,
                      const char         *params,
                      const char         *summary,
                      const GOptionEntry *entries,
                      LensCliCommon      *common)
{
  g_autofree char *prgname = g_strdup_printf (LENS_CLI_NAME " %s", verb);
  GOptionContext *context = g_option_context_new (params);

  /* "Usage: convlens-cli VERB [OPTION...] PARAMS" in --help. */
  g_set_prgname (prgname);

  g_option_context_set_summary (context, summary);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_main_entries (context, lens_cli_common_entries (common), NULL);
  g_option_context_set_description (context,
                                    "Exit status: 0 success, 1 runtime error (unreadable "
                                    "file, unsupported model...), 2 usage error.");
  return context;
}

gboolean
lens_cli_parse (GOptionContext *context,
                const char     *verb,
                LensCliCommon  *common,
                int            *argc,
                char         ***argv)
{
  g_autoptr(GError) error = NULL;
  int height, width;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_autofree char *text = lens_cli_error_text (error);

      lens_cli_usage_error (verb, "%s", text);
      return FALSE;
    }

  if (common->threads != LENS_CLI_THREADS_UNSET && common->threads < 0)
    {
      lens_cli_usage_error (verb, "--threads must be 0 (all cores) or a positive number, "
                            "not %d", common->threads);
      return FALSE;
    }
  if (common->input_size != NULL && !lens_cli_parse_size (common->input_size, &height, &width))
    {
      lens_cli_usage_error (verb, "--input-size '%s' is not HxW with positive integers "
                            "(for example 224x224)", common->input_size);
      return FALSE;
    }

  /* GLib leaves a lone "--" in place in some cases; it is not an operand. */
  for (int i = 1; i < *argc; i++)
    {
      if (g_strcmp0 ((*argv)[i], "--") == 0)
        {
          memmove (&(*argv)[i], &(*argv)[i + 1], (*argc - i) * sizeof (char *));
          (*argc)--;
          break;
        }
    }

  return TRUE;
}

/* Replaces newlines and tabs with spaces so that every message is one line. */
static void
one_line (char *text)
{
  for (char *p = text; *p != '\0'; p++)
    if (*p == '\n' || *p == '\r' || *p == '\t')
      *p = ' ';
}

char *
lens_cli_error_text (const GError *error)
{
  char *text;
  gsize len;

  if (error == NULL || error->message == NULL)
    return g_strdup ("unknown error");

  text = g_strstrip (g_strdup (error->message));
  one_line (text);
  len = strlen (text);
  while (len > 0 && text[len - 1] == '.')
    text[--len] = '\0';
  return text;
}

int
lens_cli_fail (const char *format,
               ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  one_line (message);
  fflush (stdout);
  fprintf (stderr, LENS_CLI_NAME ": %s\n", message);
  return LENS_CLI_EXIT_RUNTIME;
}

/* Whether @text names the file @display: quoted (“x”, 'x', "x") or as the
 * "x: " prefix, so that a short name is not found inside other words. */
static gboolean
names_file (const char *text,
            const char *display)
{
  /* Opening and closing quotes, in pairs. */
  static const char *const quotes[] = { "\u201c", "\u201d", "'", "'", "\"", "\"" };
  g_autofree char *prefix = g_strconcat (display, ": ", NULL);

  if (g_str_has_prefix (text, prefix))
    return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (quotes); i += 2)
    {
      g_autofree char *quoted = g_strconcat (quotes[i], display, quotes[i + 1], NULL);

      if (strstr (text, quoted) != NULL)
        return TRUE;
    }
  return FALSE;
}

int
lens_cli_fail_file (const char   *action,
                    const char   *path,
                    const GError *error,
                    const char   *hint)
{
  g_autofree char *text = lens_cli_error_text (error);
  g_autofree char *display = g_filename_display_name (path);

  /* Engine messages usually name the file already; say it only once. */
  if (names_file (text, display))
    return lens_cli_fail ("%s.%s%s%s", text, hint ? " " : "", hint ? hint : "", hint ? "." : "");
  return lens_cli_fail ("%s '%s': %s.%s%s%s", action, display, text, hint ? " " : "",
                        hint ? hint : "", hint ? "." : "");
}

int
lens_cli_usage_error (const char *verb,
                      const char *format,
                      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  one_line (message);
  fflush (stdout);
  if (verb != NULL)
    fprintf (stderr, LENS_CLI_NAME " %s: %s. Run '" LENS_CLI_NAME " %s --help' for usage.\n",
             verb, message, verb);
  else
    fprintf (stderr, LENS_CLI_NAME ": %s. Run '" LENS_CLI_NAME " help' for usage.\n", message);
  return LENS_CLI_EXIT_USAGE;
}

void
lens_cli_apply_threads (const LensCliCommon *common)
{
  int threads = common->threads;

  if (threads == LENS_CLI_THREADS_UNSET)
    threads = lens_cli_global_threads;
  if (threads != LENS_CLI_THREADS_UNSET)
    lens_set_threads (threads);
}

gboolean
lens_cli_parse_size (const char *text,
                     int        *height,
                     int        *width)
{
  g_auto(GStrv) parts = NULL;
  guint64 values[2];
  guint n;

  if (text == NULL)
    return FALSE;

  parts = g_strsplit_set (text, "xX", -1);
  n = g_strv_length (parts);
  if (n < 1 || n > 2)
    return FALSE;

  for (guint i = 0; i < n; i++)
    {
      if (!g_ascii_string_to_unsigned (parts[i], 10, 1, 65536, &values[i], NULL))
        return FALSE;
    }

  *height = (int) values[0];
  *width = (int) (n == 2 ? values[1] : values[0]);
  return TRUE;
}

/* What the user can do about a load failure, by error code (NULL: nothing
 * to add to the message). */
static const char *
load_hint (const GError *error)
{
  if (error->domain == LENS_NET_ERROR)
    {
      switch ((LensNetError) error->code)
        {
        case LENS_NET_ERROR_IO:
          return "Check the path and that the file is readable";
        case LENS_NET_ERROR_PARSE:
        case LENS_NET_ERROR_TRUNCATED:
        case LENS_NET_ERROR_INVALID:
          return "Check that the file is a complete ONNX model";
        case LENS_NET_ERROR_UNSUPPORTED_OP:
        case LENS_NET_ERROR_UNSUPPORTED_ATTR:
        case LENS_NET_ERROR_UNSUPPORTED_TYPE:
          return "ConvLens cannot run this model; export it with the supported ops "
                 "(see the README)";
        case LENS_NET_ERROR_SHAPE:
          return "Check the model, or pass a different --input-size";
        case LENS_NET_ERROR_DYNAMIC_SHAPE:
          /* The engine's message may already say so. */
          if (strstr (error->message, "--input-size") != NULL)
            return NULL;
          return "Pass the input size with --input-size HxW";
        case LENS_NET_ERROR_TOO_LARGE:
          return "Use a smaller --input-size or a smaller model";
        case LENS_NET_ERROR_EXTERNAL_DATA:
          return "Keep the model's external data files beside it";
        case LENS_NET_ERROR_CANCELLED:
          break;
        }
    }
  else if (error->domain == G_FILE_ERROR)
    return "Check the path and that the file is readable";

  return "Check the model file";
}

LensNet *
lens_cli_load_net (const char          *path,
                   const LensCliCommon *common,
                   int                 *exit_code)
{
  LensLoadOptions options = { 0 };
  g_autoptr(GError) error = NULL;
  LensNet *net;

  /* Already validated by lens_cli_parse(). */
  if (common->input_size != NULL)
    lens_cli_parse_size (common->input_size, &options.input_height, &options.input_width);

  net = lens_net_load_onnx (path, &options, &error);
  if (net == NULL)
    {
      *exit_code = lens_cli_fail_file ("cannot open model", path, error, load_hint (error));
      return NULL;
    }

  *exit_code = LENS_CLI_EXIT_OK;
  return net;
}

void
lens_cli_json_add_string (JsonBuilder *builder,
                          const char  *text)
{
  g_autofree char *valid = NULL;

  if (text == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }
  valid = g_utf8_make_valid (text, -1);
  json_builder_add_string_value (builder, valid);
}

void
lens_cli_json_add_layer (JsonBuilder *builder,
                         const LensNet *net,
                         guint          layer)
{
  json_builder_set_member_name (builder, "name");
  lens_cli_json_add_string (builder, lens_net_layer_get_name (net, layer));
  json_builder_set_member_name (builder, "op");
  lens_cli_json_add_string (builder, lens_net_layer_get_op (net, layer));
}

void
lens_cli_json_add_shape (JsonBuilder     *builder,
                         const LensShape *shape)
{
  json_builder_begin_array (builder);
  if (shape != NULL)
    for (int d = 0; d < shape->ndim; d++)
      json_builder_add_int_value (builder, shape->dims[d]);
  json_builder_end_array (builder);
}

void
lens_cli_json_print (JsonBuilder *builder,
                     gboolean     pretty)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, pretty);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  printf ("%s\n", text);
  fflush (stdout);
}

guint64
lens_cli_net_total_flops (const LensNet *net)
{
  guint n_layers = lens_net_get_n_layers (net);
  guint64 total = 0;

  for (guint i = 0; i < n_layers; i++)
    total += lens_net_layer_get_flops (net, i);
  return total;
}

/* lens_cli_fail() for functions that return a gboolean. */
static gboolean G_GNUC_PRINTF (1, 2)
fail (const char *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  lens_cli_fail ("%s", message);
  return FALSE;
}

/* The shape the trace expects: the net's input with batch 1. */
static LensShape
net_input_shape (LensNet *net)
{
  LensShape shape = *lens_net_get_input_shape (net);

  if (shape.ndim > 0)
    shape.dims[0] = 1;
  return shape;
}

/* Adapts a profile's preprocessing to the input the net really takes. */
static void
fit_profile_to_net (LensPreprocess  *pre,
                    const LensShape *shape)
{
  int height = (int) shape->dims[2];
  int width = (int) shape->dims[3];

  pre->channels = (int) shape->dims[1];
  pre->height = height;
  pre->width = width;
  if (pre->resize_shorter > 0 && pre->resize_shorter < MAX (height, width))
    pre->resize_shorter = MAX (height, width);
}

static gboolean
load_profile (const char      *model_path,
              const char      *profile_path,
              const LensShape *shape,
              gboolean         required,
              LensProfile    **out_profile)
{
  g_autoptr(GError) error = NULL;
  LensProfile *profile;

  *out_profile = NULL;

  if (profile_path != NULL)
    {
      profile = lens_profile_load (profile_path, &error);
      if (profile == NULL)
        {
          lens_cli_fail_file ("cannot read profile", profile_path, error,
                              "Check the path and the profile format (docs/profile.md)");
          return FALSE;
        }
    }
  else
    {
      int channels = shape->ndim == 4 ? (int) shape->dims[1] : 0;
      int height = shape->ndim == 4 ? (int) shape->dims[2] : 0;
      int width = shape->ndim == 4 ? (int) shape->dims[3] : 0;

      profile = lens_profile_guess (model_path, channels, height, width, &error);
      if (profile == NULL)
        {
          g_autofree char *text = NULL;

          if (!required)
            return TRUE;
          text = lens_cli_error_text (error);
          lens_cli_fail ("cannot find a preprocessing profile for model '%s': %s. "
                         "Pass one with --profile FILE.", model_path, text);
          return FALSE;
        }
    }

  if (shape->ndim == 4)
    fit_profile_to_net (&profile->pre, shape);
  *out_profile = profile;
  return TRUE;
}

gboolean
lens_cli_load_input (LensNet      *net,
                     const char   *model_path,
                     const char   *image_path,
                     const char   *npy_path,
                     const char   *profile_path,
                     LensCliInput *input)
{
  LensShape shape = net_input_shape (net);
  g_autofree char *want = lens_shape_to_string (&shape);
  g_autoptr(GError) error = NULL;

  memset (input, 0, sizeof *input);

  if (npy_path != NULL)
    {
      g_autoptr(LensTensor) tensor = NULL;
      g_autofree char *have = NULL;

      input->source = npy_path;
      tensor = lens_npy_load (npy_path, &error);
      if (tensor == NULL)
        {
          lens_cli_fail_file ("cannot read input", npy_path, error,
                              "Pass a float32 .npy file saved by numpy.save");
          return FALSE;
        }
      if (tensor->dtype != LENS_DTYPE_FLOAT32)
        return fail ("input '%s' is not float32. Convert it with "
                     "array.astype(numpy.float32).", npy_path);

      /* A single item without its batch axis is accepted as batch 1. */
      if (tensor->shape.ndim == shape.ndim - 1 && shape.ndim > 1)
        {
          LensShape with_batch = { .ndim = shape.ndim };

          with_batch.dims[0] = 1;
          for (int d = 0; d < tensor->shape.ndim; d++)
            with_batch.dims[d + 1] = tensor->shape.dims[d];
          tensor->shape = with_batch;
        }

      if (!lens_shape_equal (&tensor->shape, &shape))
        {
          have = lens_shape_to_string (&tensor->shape);
          return fail ("input '%s' has shape %s but model '%s' takes %s. Save the "
                       "array with that shape.", npy_path, have, model_path,
                       want);
        }

      /* Labels only: a model without a known profile still runs on a .npy. */
      if (!load_profile (model_path, profile_path, &shape, profile_path != NULL,
                         &input->profile))
        return FALSE;

      input->tensor = g_steal_pointer (&tensor);
      return TRUE;
    }
  else
    {
      g_autoptr(LensImage) image = NULL;
      g_autoptr(LensTensor) tensor = NULL;

      input->source = image_path;
      if (shape.ndim != 4 || (shape.dims[1] != 1 && shape.dims[1] != 3))
        return fail ("model '%s' takes a %s tensor, not an image with 1 or 3 "
                     "channels. Pass the input with --input-npy FILE.",
                     model_path, want);

      if (!load_profile (model_path, profile_path, &shape, TRUE, &input->profile))
        return FALSE;

      image = lens_image_load (image_path, &error);
      if (image == NULL)
        {
          lens_cli_fail_file ("cannot open image", image_path, error,
                              "Pass a PNG or JPEG file");
          return FALSE;
        }

      tensor = lens_image_to_tensor (image, &input->profile->pre, &error);
      if (tensor == NULL)
        {
          lens_cli_fail_file ("cannot preprocess image", image_path, error,
                              "Check the profile's input size and resize settings");
          return FALSE;
        }

      input->tensor = g_steal_pointer (&tensor);
      return TRUE;
    }
}

void
lens_cli_input_clear (LensCliInput *input)
{
  g_clear_pointer (&input->tensor, lens_tensor_free);
  g_clear_pointer (&input->profile, lens_profile_free);
  input->source = NULL;
}

static void
dump_free (gpointer data)
{
  LensCliDump *dump = data;

  g_free (dump->name);
  g_free (dump->file);
  g_free (dump);
}

GPtrArray *
lens_cli_dumps_parse (const char         *verb,
                      const char * const *specs)
{
  g_autoptr(GPtrArray) dumps = g_ptr_array_new_with_free_func (dump_free);

  for (guint i = 0; specs != NULL && specs[i] != NULL; i++)
    {
      const char *eq = strchr (specs[i], '=');
      LensCliDump *dump;

      if (eq == NULL || eq == specs[i] || eq[1] == '\0')
        {
          lens_cli_usage_error (verb, "--dump-npy '%s' is not LAYER=FILE", specs[i]);
          return NULL;
        }

      dump = g_new0 (LensCliDump, 1);
      dump->name = g_strndup (specs[i], eq - specs[i]);
      dump->file = g_strdup (eq + 1);
      dump->value = -1;
      g_ptr_array_add (dumps, dump);
    }

  return g_steal_pointer (&dumps);
}

gboolean
lens_cli_dumps_resolve (GPtrArray *dumps,
                        LensNet   *net)
{
  for (guint i = 0; i < dumps->len; i++)
    {
      LensCliDump *dump = g_ptr_array_index (dumps, i);
      int layer = lens_net_find_layer (net, dump->name);

      if (layer >= 0)
        dump->value = lens_net_layer_get_output (net, (guint) layer);
      else
        dump->value = lens_net_find_value (net, dump->name);

      if (dump->value < 0)
        return fail ("model '%s' has no layer or value named '%s'. Run '" LENS_CLI_NAME
                     " info MODEL' to list the layers.", lens_net_get_name (net), dump->name);
    }

  return TRUE;
}

gboolean
lens_cli_dumps_write (GPtrArray *dumps,
                      LensTrace *trace)
{
  for (guint i = 0; dumps != NULL && i < dumps->len; i++)
    {
      const LensCliDump *dump = g_ptr_array_index (dumps, i);
      const LensTensor *value = lens_trace_get_value (trace, dump->value);
      g_autoptr(GError) error = NULL;

      if (value == NULL)
        return fail ("value '%s' was not computed by the run, so it cannot be "
                     "dumped. Pick a layer listed by '" LENS_CLI_NAME " info'.",
                     dump->name);

      if (!lens_npy_save (dump->file, value, &error))
        {
          lens_cli_fail_file ("cannot write", dump->file, error,
                              "Check that its folder exists and is writable");
          return FALSE;
        }
    }

  return TRUE;
}
