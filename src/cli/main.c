/* main.c: convlens-cli, the ConvLens engine from the shell
 *
 *   convlens-cli [--threads N] VERB [OPTION...] ARGS
 *
 * Global options come before the verb; everything after it belongs to the
 * verb, which parses it with its own GOptionContext (cli-VERB.c).
 */
#define G_LOG_DOMAIN "main"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli-common.h"
#include "cli-train.h"

typedef struct
{
  const char *name;
  const char *summary;
  int       (*run) (int    argc,
                    char **argv);
} LensCliVerb;

/* cli-occlude.c */
int lens_cli_occlude    (int argc, char **argv);
int lens_cli_occlude_at (int argc, char **argv);
/* cli-topk.c, cli-filters.c */
int lens_cli_topk        (int argc, char **argv);
int lens_cli_topk_merge  (int argc, char **argv);
int lens_cli_topk_render (int argc, char **argv);
int lens_cli_filters     (int argc, char **argv);
/* cli-invariance.c, cli-correspondence.c, cli-probe.c */
int lens_cli_invariance  (int argc, char **argv);
int lens_cli_correspondence (int argc, char **argv);
int lens_cli_probe       (int argc, char **argv);

/* cli-project.c */
int lens_cli_project     (int argc, char **argv);

static const LensCliVerb verbs[] = {
  { "info", "list every layer of a model: op, output shape, parameters, FLOPs",
    lens_cli_info },
  { "predict", "classify an image (or a .npy tensor) and print the top classes",
    lens_cli_predict },
  { "bench", "time the forward pass of a model", lens_cli_bench },
  { "project", "project a feature, a class or Grad-CAM back onto the input image (PNG)",
    lens_cli_project },
  { "occlude", "occlusion sensitivity maps: slide a gray square over an image",
    lens_cli_occlude },
  { "occlude-at", "the gray square at one position: target probability, top 5, feature",
    lens_cli_occlude_at },
  { "train", "train a ZF-style network (Fashion-MNIST or an image folder)", lens_cli_train },
  { "evaluate", "accuracy and confusion matrix of a model on a labelled data set",
    lens_cli_evaluate },
  { "evolution", "feature evolution over training snapshots (the paper's Fig. 4) as PNG",
    lens_cli_evolution },
  { "topk", "the K strongest activations of every channel over a data set (Fig. 2)",
    lens_cli_topk },
  { "topk-merge", "merge the result files of the shards of a top-k scan", lens_cli_topk_merge },
  { "topk-render", "draw a top-k result: projections and input patches (Fig. 2) as PNG",
    lens_cli_topk_render },
  { "filters", "layer-1 filters: tiles, RMS, dead, dominating, frequency content (Fig. 6)",
    lens_cli_filters },
  { "invariance", "feature distance and true-class probability under translation, scaling, "
    "rotation (Fig. 5)", lens_cli_invariance },
  { "correspondence", "consistency of the feature change when the same part is masked (Table 1)",
    lens_cli_correspondence },
  { "probe", "linear probes: a softmax classifier on each layer's features (section 5.3)",
    lens_cli_probe },
};

static const LensCliVerb *
find_verb (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    if (g_strcmp0 (verbs[i].name, name) == 0)
      return &verbs[i];
  return NULL;
}

static char *
verbs_description (void)
{
  GString *text = g_string_new ("Commands:\n");
  int width = (int) strlen ("help");

  /* the column of summaries starts after the longest command name */
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    width = MAX (width, (int) strlen (verbs[i].name));
  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    g_string_append_printf (text, "  %-*s  %s\n", width, verbs[i].name, verbs[i].summary);
  g_string_append_printf (text, "  %-*s  %s\n\n", width, "help",
                          "show this help, or 'help COMMAND' for one command");
  g_string_append (text, "Run '" LENS_CLI_NAME " COMMAND --help' for the options of a command.\n"
                   "Exit status: 0 success, 1 runtime error, 2 usage error.");
  return g_string_free (text, FALSE);
}

static GOptionContext *
global_context_new (gboolean *version)
{
  const GOptionEntry entries[] = {
    { "threads", 0, 0, G_OPTION_ARG_INT, &lens_cli_global_threads,
      "Number of BLAS threads for any command (0: all cores)", "N" },
    { "version", 0, 0, G_OPTION_ARG_NONE, version, "Print the version and exit", NULL },
    { NULL }
  };
  g_autofree char *description = verbs_description ();
  GOptionContext *context = g_option_context_new ("COMMAND [ARGS...]");

  g_option_context_set_summary (context,
                                "Inspect, run and time convolutional networks (ONNX) "
                                "with the ConvLens engine.");
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, NULL);
  /* Stop at the verb: its options are parsed by the verb. */
  g_option_context_set_strict_posix (context, TRUE);
  return context;
}

static void
print_global_help (GOptionContext *context,
                   FILE           *stream)
{
  g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

  fputs (help, stream);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  gboolean version = FALSE;
  const LensCliVerb *verb;

  setlocale (LC_ALL, "");
  g_set_prgname (LENS_CLI_NAME);

  context = global_context_new (&version);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_autofree char *text = lens_cli_error_text (error);

      return lens_cli_usage_error (NULL, "%s", text);
    }

  if (version)
    {
      printf (LENS_CLI_NAME " %s\n", CONVLENS_VERSION);
      return LENS_CLI_EXIT_OK;
    }

  if (lens_cli_global_threads != LENS_CLI_THREADS_UNSET && lens_cli_global_threads < 0)
    return lens_cli_usage_error (NULL, "--threads must be 0 (all cores) or a positive number, "
                                 "not %d", lens_cli_global_threads);

  /* argv[0] is the program; a "--" before the verb is not the verb. */
  if (argc >= 2 && g_strcmp0 (argv[1], "--") == 0)
    {
      memmove (&argv[1], &argv[2], (argc - 2 + 1) * sizeof (char *));
      argc--;
    }

  if (argc < 2)
    {
      print_global_help (context, stderr);
      return LENS_CLI_EXIT_USAGE;
    }

  if (g_strcmp0 (argv[1], "help") == 0)
    {
      if (argc == 2)
        {
          print_global_help (context, stdout);
          return LENS_CLI_EXIT_OK;
        }
      if (argc > 3)
        return lens_cli_usage_error (NULL, "'help' takes at most one command name");

      verb = find_verb (argv[2]);
      if (verb == NULL)
        return lens_cli_usage_error (NULL, "unknown command '%s'", argv[2]);
      else
        {
          /* Same as VERB --help (which prints and exits 0). */
          char *help_argv[] = { (char *) verb->name, (char *) "--help", NULL };

          return verb->run (2, help_argv);
        }
    }

  verb = find_verb (argv[1]);
  if (verb == NULL)
    return lens_cli_usage_error (NULL, "unknown command '%s'", argv[1]);

  return verb->run (argc - 1, argv + 1);
}
