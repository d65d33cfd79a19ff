/* cli-topk.c: `convlens-cli topk`, `topk-merge` and `topk-render`, the
 * paper's Fig. 2 (the nine strongest activations of every channel over a
 * data set) from the shell, in shards that any batch scheduler can run
 * (see docs/analyses.md).
 */
#define G_LOG_DOMAIN "cli-topk"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli-common.h"
#include "lens-image.h"
#include "lens-topk.h"

int lens_cli_topk        (int argc, char **argv);
int lens_cli_topk_merge  (int argc, char **argv);
int lens_cli_topk_render (int argc, char **argv);

/* SIGINT/SIGTERM: finish the batch, save the partial result, stop. */
static volatile sig_atomic_t interrupted;

static void
on_signal (int signum)
{
  interrupted = 1;
}

typedef struct
{
  GCancellable *cancellable;
  gint64        started;
  gint64        last_print;
  gboolean      tty;
  gboolean      quiet;
} Progress;

static void
on_progress (gint64   done,
             gint64   total,
             gpointer user_data)
{
  Progress *p = user_data;
  gint64 now = g_get_monotonic_time ();

  if (interrupted)
    g_cancellable_cancel (p->cancellable);
  if (p->quiet || (done < total && now - p->last_print < (p->tty ? 200000 : 2000000)))
    return;
  p->last_print = now;
  fprintf (stderr, "%stopk: %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " images, %.1f images/s%s",
           p->tty ? "\r" : "", done, total,
           done / MAX ((now - p->started) / 1e6, 1e-6),
           p->tty && done < total ? "" : "\n");
  fflush (stderr);
}

static gboolean
parse_shard (const char *text,
             int        *index,
             int        *count)
{
  char *end;
  gint64 i, n;

  i = g_ascii_strtoll (text, &end, 10);
  if (end == text || *end != '/')
    return FALSE;
  text = end + 1;
  n = g_ascii_strtoll (text, &end, 10);
  if (end == text || *end != '\0' || n < 1 || n > G_MAXINT || i < 0 || i >= n)
    return FALSE;
  *index = (int) i;
  *count = (int) n;
  return TRUE;
}

/* The model's preprocessing: --profile, or the profile beside the model,
 * or a guess from the input shape. */
static LensProfile *
load_profile (LensNet    *net,
              const char *model_path,
              const char *profile_path,
              int        *status)
{
  const LensShape *in = lens_net_get_input_shape (net);
  g_autoptr(GError) error = NULL;
  LensProfile *profile;

  if (in == NULL || in->ndim != 4)
    {
      *status = lens_cli_fail ("model '%s' does not take an image ([N,C,H,W] input).",
                               model_path);
      return NULL;
    }
  if (profile_path != NULL)
    profile = lens_profile_load (profile_path, &error);
  else
    profile = lens_profile_guess (model_path, (int) in->dims[1], (int) in->dims[2],
                                  (int) in->dims[3], &error);
  if (profile == NULL)
    {
      *status = lens_cli_fail_file ("cannot use the profile for", model_path, error,
                                    "Give one with --profile FILE");
      return NULL;
    }
  if (profile->pre.channels != in->dims[1] || profile->pre.height != in->dims[2] ||
      profile->pre.width != in->dims[3])
    {
      *status = lens_cli_fail ("the profile's input size %dx%dx%d does not match the model's "
                               "input.", profile->pre.channels, profile->pre.height,
                               profile->pre.width);
      lens_profile_free (profile);
      return NULL;
    }
  return profile;
}

/* -- topk ---------------------------------------------------------------- */

int
lens_cli_topk (int    argc,
               char **argv)
{
  LensCliCommon common = LENS_CLI_COMMON_INIT;
  g_autofree char *layers_text = NULL, *output = NULL, *shard = NULL, *profile_path = NULL;
  int k = 9, limit = 0, batch = 0, stop_after = 0;
  double checkpoint = 30;
  gboolean resume = FALSE, all_positions = FALSE, quiet = FALSE;
  const GOptionEntry entries[] = {
    { "layers", 'l', 0, G_OPTION_ARG_STRING, &layers_text,
      "Layers to scan, comma-separated (names from 'info')", "L1,L2" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Result file (JSON)", "FILE" },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &shard,
      "Scan only the images with index %% N == I", "I/N" },
    { "k", 'k', 0, G_OPTION_ARG_INT, &k, "Activations kept per channel (9)", "K" },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, "Scan only the first N images", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Images per forward pass (default: by memory)",
      "N" },
    { "all-positions", 0, 0, G_OPTION_ARG_NONE, &all_positions,
      "Let one image give several entries of a channel (default: its maximum only)", NULL },
    { "resume", 0, 0, G_OPTION_ARG_NONE, &resume,
      "Continue the partial result in --output", NULL },
    { "checkpoint", 0, 0, G_OPTION_ARG_DOUBLE, &checkpoint,
      "Save the partial result every this many seconds (30)", "SECONDS" },
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile_path, "Preprocessing profile (JSON)",
      "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress on stderr", NULL },
    { "stop-after", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &stop_after,
      "Stop after N images as if interrupted (tests)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(LensNet) net = NULL;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensScanSource) source = NULL;
  g_autoptr(LensTopk) topk = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) layers = NULL;
  LensTopkOptions opts;
  Progress progress = { 0 };
  struct sigaction sa = { 0 }, old_int, old_term;
  int status = LENS_CLI_EXIT_OK;
  gboolean done;

  context = lens_cli_context_new ("topk", "MODEL DATASET",
                                  "For every channel of the chosen layers, find the K strongest "
                                  "activations over DATASET (a folder of PNG/JPEG images, "
                                  "searched recursively, or fashion-mnist[:test|:train]), one "
                                  "per image (Zeiler & Fergus, Fig. 2).",
                                  entries, &common);
  if (!lens_cli_parse (context, "topk", &common, &argc, &argv))
    return LENS_CLI_EXIT_USAGE;
  if (argc != 3)
    return lens_cli_usage_error ("topk", "expected MODEL and DATASET");
  if (layers_text == NULL || output == NULL)
    return lens_cli_usage_error ("topk", "--layers and --output are required");

  lens_topk_options_init (&opts);
  if (shard != NULL && !parse_shard (shard, &opts.shard_index, &opts.shard_count))
    return lens_cli_usage_error ("topk", "--shard must be I/N with 0 <= I < N, not '%s'", shard);
  if (k < 1 || k > 4096)
    return lens_cli_usage_error ("topk", "--k must be between 1 and 4096, not %d", k);
  if (limit < 0 || batch < 0 || stop_after < 0 || checkpoint < 0)
    return lens_cli_usage_error ("topk", "--limit, --batch and --checkpoint must not be negative");
  layers = g_strsplit (layers_text, ",", -1);
  for (char **l = layers; *l != NULL; l++)
    g_strstrip (*l);

  opts.k = k;
  opts.limit = limit;
  opts.batch = batch;
  opts.all_positions = all_positions;
  opts.stop_after = stop_after;
  opts.checkpoint_path = output;
  opts.checkpoint_seconds = checkpoint;
  opts.progress = on_progress;
  opts.user_data = &progress;

  lens_cli_apply_threads (&common);
  net = lens_cli_load_net (argv[1], &common, &status);
  if (net == NULL)
    return status;
  profile = load_profile (net, argv[1], profile_path, &status);
  if (profile == NULL)
    return status;
  source = lens_scan_source_open (argv[2], &error);
  if (source == NULL)
    return lens_cli_fail_file ("cannot open the data set", argv[2], error, NULL);

  if (resume && g_file_test (output, G_FILE_TEST_EXISTS))
    {
      topk = lens_topk_load (output, &error);
      if (topk == NULL)
        return lens_cli_fail_file ("cannot resume from", output, error, NULL);
      if (!lens_topk_check_resume (topk, net, argv[1], source, (const char * const *) layers,
                                   &opts, &error))
        return lens_cli_fail_file ("cannot resume from", output, error,
                                   "Rerun without --resume to start over");
    }
  else
    {
      topk = lens_topk_new (net, argv[1], source, (const char * const *) layers, &opts, &error);
      if (topk == NULL)
        {
          g_autofree char *text = lens_cli_error_text (error);

          return lens_cli_fail ("%s.", text);
        }
    }

  progress.cancellable = cancellable;
  progress.started = progress.last_print = g_get_monotonic_time ();
  progress.tty = isatty (STDERR_FILENO);
  progress.quiet = quiet;
  sa.sa_handler = on_signal;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, &old_int);
  sigaction (SIGTERM, &sa, &old_term);

  done = lens_topk_scan (topk, net, source, &profile->pre, &opts, cancellable, &error);

  sigaction (SIGINT, &old_int, NULL);
  sigaction (SIGTERM, &old_term, NULL);

  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *text = lens_cli_error_text (error);

      /* Keep what was scanned, so that --resume can continue. */
      lens_topk_save (topk, output, NULL);
      return lens_cli_fail ("%s.", text);
    }
  g_clear_error (&error);
  if (!lens_topk_save (topk, output, &error))
    return lens_cli_fail_file ("cannot write", output, error, NULL);
  if (!done)
    {
      fprintf (stderr, LENS_CLI_NAME ": stopped after %" G_GINT64_FORMAT " images; the partial "
               "result is in '%s'; rerun with --resume to continue.\n",
               lens_topk_get_scanned (topk), output);
      return LENS_CLI_EXIT_RUNTIME;
    }
  return LENS_CLI_EXIT_OK;
}

/* -- topk-merge ---------------------------------------------------------- */

int
lens_cli_topk_merge (int    argc,
                     char **argv)
{
  LensCliCommon common = LENS_CLI_COMMON_INIT;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func ((GDestroyNotify) lens_topk_free);
  g_autoptr(LensTopk) merged = NULL;
  g_autoptr(GError) error = NULL;

  context = lens_cli_context_new ("topk-merge", "OUT IN...",
                                  "Merge the result files of the shards of one top-k scan. "
                                  "With every shard, OUT is exactly the unsharded result.",
                                  NULL, &common);
  if (!lens_cli_parse (context, "topk-merge", &common, &argc, &argv))
    return LENS_CLI_EXIT_USAGE;
  if (argc < 3)
    return lens_cli_usage_error ("topk-merge", "expected OUT and at least one IN");

  for (int i = 2; i < argc; i++)
    {
      LensTopk *part = lens_topk_load (argv[i], &error);

      if (part == NULL)
        return lens_cli_fail_file ("cannot read", argv[i], error, NULL);
      g_ptr_array_add (parts, part);
    }
  merged = lens_topk_merge ((LensTopk **) parts->pdata, parts->len, &error);
  if (merged == NULL)
    {
      g_autofree char *text = lens_cli_error_text (error);

      return lens_cli_fail ("%s.", text);
    }
  if (!lens_topk_save (merged, argv[1], &error))
    return lens_cli_fail_file ("cannot write", argv[1], error, NULL);
  return LENS_CLI_EXIT_OK;
}

/* -- topk-render --------------------------------------------------------- */

static gboolean
parse_channels (const char *text,
                int        *first,
                int        *last)
{
  char *end;
  gint64 a, b;

  a = g_ascii_strtoll (text, &end, 10);
  if (end == text || a < 0 || a > G_MAXINT)
    return FALSE;
  if (*end == '\0')
    b = a;
  else if (*end == '-')
    {
      text = end + 1;
      b = g_ascii_strtoll (text, &end, 10);
      if (end == text || *end != '\0' || b < a || b > G_MAXINT)
        return FALSE;
    }
  else
    return FALSE;
  *first = (int) a;
  *last = (int) b;
  return TRUE;
}

int
lens_cli_topk_render (int    argc,
                      char **argv)
{
  LensCliCommon common = LENS_CLI_COMMON_INIT;
  g_autofree char *layer = NULL, *channels = NULL, *output = NULL, *model = NULL;
  g_autofree char *dataset = NULL, *profile_path = NULL;
  const GOptionEntry entries[] = {
    { "layer", 'l', 0, G_OPTION_ARG_STRING, &layer, "Layer to show", "L" },
    { "channels", 'c', 0, G_OPTION_ARG_STRING, &channels,
      "Channels to show (default: the first 16)", "A-B" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "PNG file", "OUT.png" },
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model,
      "The model (default: the path in FILE)", "MODEL" },
    { "dataset", 0, 0, G_OPTION_ARG_FILENAME, &dataset,
      "The data set (default: the one in FILE)", "DATASET" },
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile_path, "Preprocessing profile (JSON)",
      "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(LensTopk) topk = NULL;
  g_autoptr(LensNet) net = NULL;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensScanSource) source = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *rgb = NULL;
  g_autofree char *range = NULL, *k_text = NULL;
  const LensTopkLayer *tl;
  const char *model_path;
  int first = 0, last = 0, width, height, status = LENS_CLI_EXIT_OK;

  context = lens_cli_context_new ("topk-render", "FILE",
                                  "Draw the top-k result FILE as the paper's Fig. 2: per "
                                  "channel, the deconvnet projections of its strongest "
                                  "activations beside the input patches under their "
                                  "receptive fields.",
                                  entries, &common);
  if (!lens_cli_parse (context, "topk-render", &common, &argc, &argv))
    return LENS_CLI_EXIT_USAGE;
  if (argc != 2)
    return lens_cli_usage_error ("topk-render", "expected one result FILE");
  if (layer == NULL || output == NULL)
    return lens_cli_usage_error ("topk-render", "--layer and --output are required");
  if (channels != NULL && !parse_channels (channels, &first, &last))
    return lens_cli_usage_error ("topk-render", "--channels must be A or A-B, not '%s'",
                                 channels);

  topk = lens_topk_load (argv[1], &error);
  if (topk == NULL)
    return lens_cli_fail_file ("cannot read", argv[1], error, NULL);
  tl = lens_topk_find_layer (topk, layer);
  if (tl == NULL)
    return lens_cli_usage_error ("topk-render", "'%s' has no layer '%s'", argv[1], layer);
  if (channels == NULL)
    last = MIN (tl->channels, 16) - 1;

  model_path = model != NULL ? model : lens_topk_get_model_path (topk);
  lens_cli_apply_threads (&common);
  net = lens_cli_load_net (model_path, &common, &status);
  if (net == NULL)
    return status;
  profile = load_profile (net, model_path, profile_path, &status);
  if (profile == NULL)
    return status;
  source = lens_scan_source_open (dataset != NULL ? dataset : lens_topk_get_dataset_spec (topk),
                                  &error);
  if (source == NULL)
    return lens_cli_fail_file ("cannot open the data set",
                               dataset != NULL ? dataset : lens_topk_get_dataset_spec (topk),
                               error, "Give it with --dataset");

  rgb = lens_topk_render (topk, net, source, &profile->pre, layer, first, last, &width, &height,
                          NULL, &error);
  if (rgb == NULL)
    {
      g_autofree char *text = lens_cli_error_text (error);

      return lens_cli_fail ("%s.", text);
    }
  range = g_strdup_printf ("%d-%d", first, last);
  k_text = g_strdup_printf ("%d", lens_topk_get_k (topk));
  {
    const char *kv[] = { "Software", "ConvLens", "convlens:analysis", "topk",
                         "convlens:model-sha256", lens_topk_get_model_sha256 (topk),
                         "convlens:layer", layer, "convlens:channels", range,
                         "convlens:k", k_text, "convlens:projection", "deconv", NULL };

    if (!lens_png_save_rgb (output, rgb, width, height, width * 3, kv, &error))
      return lens_cli_fail_file ("cannot write", output, error, NULL);
  }
  return LENS_CLI_EXIT_OK;
}
