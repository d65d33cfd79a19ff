/* bench-topk.c: throughput of a top-9 scan (images/s) next to a plain
 * forward pass over the same images, in the same process.
 *
 *   bench-topk MODEL DATASET --layers L1,L2 [--runs 3] [--threads N]
 *              [--batch B] [--limit N]
 *
 * DATASET is what `convlens-cli topk` takes (fashion-mnist:test or a
 * folder).  Each round times, one after the other: a forward-only pass
 * (the scan's own loop — read and preprocess each image into a batch, run
 * the trace — without the heaps) and lens_topk_scan() with the same batch
 * size.  Interleaving keeps the ratio meaningful on a busy machine.
 * Prints one JSON line of medians (images/s), the ratio topk/forward
 * time, a split of the forward pass into reading and running, and the
 * scan's setup (lens_topk_new: hashing the data set and starting the model
 * file's hash, which runs beside the scan and is waited for at the end).
 */
#define G_LOG_DOMAIN "bench-topk"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lens-net.h"
#include "lens-profile.h"
#include "lens-topk.h"

/* As lens-topk.c chooses a scan batch when none is given. */
#define SCAN_TRACE_BUDGET ((gsize) 256 * 1024 * 1024)
#define SCAN_MAX_BATCH    32

static double
now_s (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : (x > y ? 1 : 0);
}

static double
median (double *v,
        int     n)
{
  qsort (v, n, sizeof *v, compare_doubles);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* One forward-only pass over n images; *read_s gets the time spent reading
 * and preprocessing. */
static gboolean
forward_pass (LensNet              *net,
              LensScanSource       *source,
              const LensPreprocess *pre,
              int                   n,
              int                   batch,
              double               *read_s,
              GError              **error)
{
  g_autoptr(LensTrace) trace = lens_trace_new (net, batch, error);
  gsize plane = (gsize) pre->channels * pre->height * pre->width;

  *read_s = 0;
  if (trace == NULL)
    return FALSE;
  for (int done = 0; done < n; done += batch)
    {
      LensTensor *input = lens_trace_get_input (trace);
      float *in = lens_tensor_get_floats (input);
      int m = MIN (batch, n - done);
      double t0 = now_s ();

      memset (in, 0, lens_tensor_nbytes (input));
      for (int b = 0; b < m; b++)
        if (!lens_scan_source_load_input (source, done + b, pre, in + b * plane, error))
          return FALSE;
      *read_s += now_s () - t0;
      if (!lens_trace_run (trace, NULL, error))
        return FALSE;
    }
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *layers_text = NULL;
  int runs = 3, threads = 0, batch = 0, limit = 0;
  const GOptionEntry entries[] = {
    { "layers", 'l', 0, G_OPTION_ARG_STRING, &layers_text, "Layers to scan", "L1,L2" },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Rounds (default: 3)", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "BLAS threads (default: all cores)", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Images per pass (default: as topk)", "N" },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, "Only the first N images", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("MODEL DATASET");
  g_autoptr(GError) error = NULL;
  g_autoptr(LensNet) net = NULL;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensScanSource) source = NULL;
  g_auto(GStrv) layers = NULL;
  g_autofree double *fwd = NULL, *scan = NULL, *read = NULL, *setup = NULL;
  LensLoadOptions load = { 0 };
  const LensShape *in;
  int n;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 3 ||
      layers_text == NULL || runs < 1 || batch < 0 || limit < 0)
    {
      fprintf (stderr, "usage: bench-topk MODEL DATASET --layers L1,L2 [--runs N] "
               "[--threads N] [--batch B] [--limit N]%s%s\n", error ? ": " : "",
               error ? error->message : "");
      return 2;
    }
  if (threads > 0)
    lens_set_threads (threads);
  layers = g_strsplit (layers_text, ",", -1);
  net = lens_net_load_onnx (argv[1], &load, &error);
  if (net != NULL)
    {
      in = lens_net_get_input_shape (net);
      profile = lens_profile_guess (argv[1], (int) in->dims[1], (int) in->dims[2],
                                    (int) in->dims[3], &error);
    }
  if (profile != NULL)
    source = lens_scan_source_open (argv[2], &error);
  if (source == NULL)
    {
      fprintf (stderr, "bench-topk: %s\n", error->message);
      return 1;
    }
  n = lens_scan_source_get_n_images (source);
  if (limit > 0)
    n = MIN (n, limit);
  if (batch == 0)
    batch = (int) CLAMP (SCAN_TRACE_BUDGET / MAX (lens_net_get_trace_bytes (net), 1), 1,
                         SCAN_MAX_BATCH);
  batch = MIN (batch, n);

  fwd = g_new (double, runs);
  scan = g_new (double, runs);
  read = g_new (double, runs);
  setup = g_new (double, runs);
  for (int r = 0; r < runs; r++)
    {
      g_autoptr(LensTopk) topk = NULL;
      LensTopkOptions opts;
      double t0;

      t0 = now_s ();
      if (!forward_pass (net, source, &profile->pre, n, batch, &read[r], &error))
        break;
      fwd[r] = now_s () - t0;

      lens_topk_options_init (&opts);
      opts.batch = batch;
      opts.limit = limit;
      t0 = now_s ();
      topk = lens_topk_new (net, argv[1], source, (const char * const *) layers, &opts, &error);
      setup[r] = now_s () - t0;
      if (topk == NULL ||
          !lens_topk_scan (topk, net, source, &profile->pre, &opts, NULL, &error))
        break;
      /* the model's hash runs beside the scan; a save waits for it, so do we */
      if (lens_topk_get_model_sha256 (topk) == NULL)
        {
          g_set_error_literal (&error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_IO,
                               "the model file was not hashed");
          break;
        }
      scan[r] = now_s () - t0;
    }
  if (error != NULL)
    {
      fprintf (stderr, "bench-topk: %s\n", error->message);
      return 1;
    }
  {
    double f = median (fwd, runs), s = median (scan, runs), rd = median (read, runs);
    double su = median (setup, runs);
    g_autofree char *model = g_path_get_basename (argv[1]);

    printf ("{\"model\": \"%s\", \"dataset\": \"%s\", \"layers\": \"%s\", \"images\": %d, "
            "\"batch\": %d, \"runs\": %d, \"threads\": %d, \"forward_images_per_s\": %.1f, "
            "\"topk_images_per_s\": %.1f, \"ratio\": %.3f, \"forward_read_s\": %.3f, "
            "\"forward_run_s\": %.3f, \"topk_s\": %.3f, \"topk_setup_s\": %.3f}\n",
            model, argv[2], layers_text, n, batch, runs, lens_get_threads (), n / f, n / s,
            s / f, rd, f - rd, s, su);
  }
  return 0;
}
