/* bench-occlude.c: latency of a single occlusion query (the occluder being
 * dragged in the GUI) next to one full forward pass, in the same process.
 *
 *   bench-occlude MODEL [--input-npy F] [--size S] [--runs N] [--threads N]
 *                       [--query-only]
 *
 * Each round times, one after the other: a forward pass (lens_trace_run on
 * the unoccluded input), an incremental query, the same query with its
 * layers left unsplit (split = -1: BLAS threads them; the same as the first
 * on one thread) and a full-recomputation query at the next of 49
 * positions spread over the image.  Interleaving
 * keeps the ratios meaningful on a busy machine.  Prints one JSON line of
 * medians (milliseconds) and the incremental queries per second.
 * --query-only times only the incremental queries (to run under a profiler;
 * the other medians are then 0).
 */
#define G_LOG_DOMAIN "bench-occlude"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lens-net.h"
#include "lens-npy.h"
#include "lens-occlude.h"

#define INPUT_SEED 20140912u

static double
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec * 1e-6;
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

int
main (int    argc,
      char **argv)
{
  g_autofree char *input_npy = NULL;
  int size = 0, runs = 50, threads = 0;
  gboolean query_only = FALSE;
  const GOptionEntry entries[] = {
    { "input-npy", 0, 0, G_OPTION_ARG_FILENAME, &input_npy,
      "Input tensor (default: seeded uniform values in [-1, 1))", "FILE" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size, "Side of the square (default: 1/7 of the input)",
      "S" },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Timed rounds (default 50)", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "BLAS threads (default: all cores)", "N" },
    { "query-only", 0, 0, G_OPTION_ARG_NONE, &query_only,
      "Time only the incremental queries (for profilers)", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("MODEL");
  g_autoptr (GError) error = NULL;
  g_autoptr (LensNet) net = NULL;
  g_autoptr (LensTensor) input = NULL;
  g_autoptr (LensTrace) trace = NULL;
  g_autoptr (LensOccluder) inc = NULL, nosplit = NULL, full = NULL;
  g_autofree double *t_fwd = NULL, *t_inc = NULL, *t_nosplit = NULL, *t_full = NULL;
  LensOccludeOptions o;
  const LensShape *in;
  int H, W;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 2 || runs < 1)
    {
      fprintf (stderr, "usage: bench-occlude MODEL [--input-npy F] [--size S] [--runs N] "
               "[--threads N]%s%s\n", error ? ": " : "", error ? error->message : "");
      return 2;
    }
  if (threads > 0)
    lens_set_threads (threads);

  net = lens_net_load_onnx (argv[1], NULL, &error);
  if (net == NULL)
    goto fail;
  in = lens_net_get_input_shape (net);
  if (in == NULL || in->ndim != 4)
    {
      fprintf (stderr, "bench-occlude: %s does not take an image\n", argv[1]);
      return 1;
    }
  H = (int) in->dims[2];
  W = (int) in->dims[3];
  if (input_npy != NULL)
    input = lens_npy_load (input_npy, &error);
  else
    {
      LensShape s = *in;
      g_autoptr (GRand) rand = g_rand_new_with_seed (INPUT_SEED);
      s.dims[0] = 1;
      input = lens_tensor_new_float (&s, &error);
      if (input != NULL)
        for (gsize i = 0; i < lens_tensor_numel (input); i++)
          ((float *) input->data)[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
    }
  if (input == NULL)
    goto fail;

  lens_occlude_options_init (&o);
  o.size = size > 0 ? size : MAX (1, (int) lround (MIN (H, W) / 7.0));
  o.stride = MAX (1, o.size / 4);
  inc = lens_occluder_new (net, input, &o, &error);
  if (inc == NULL)
    goto fail;
  o.split = -1;
  nosplit = lens_occluder_new (net, input, &o, &error);
  if (nosplit == NULL)
    goto fail;
  o.full = TRUE;
  full = lens_occluder_new (net, input, &o, &error);
  if (full == NULL)
    goto fail;
  trace = lens_trace_new (net, 1, &error);
  if (trace == NULL || !lens_trace_set_input (trace, input, &error))
    goto fail;

  t_fwd = g_new (double, runs);
  t_inc = g_new (double, runs);
  t_full = g_new (double, runs);
  t_nosplit = g_new (double, runs);
  for (int r = -3; r < runs; r++)   /* three rounds of warm-up */
    {
      int k = ((r + 3) * 11) % 49;  /* 7 x 7 positions, visited in a scattered order */
      int x = (W - o.size) * (k % 7) / 6, y = (H - o.size) * (k / 7) / 6;
      LensOcclusionPoint pt;
      double t0, t1, t2, t3, t4;

      t0 = now_ms ();
      if (!query_only && !lens_trace_run (trace, NULL, &error))
        goto fail;
      t1 = now_ms ();
      if (!lens_occluder_query (inc, x, y, &pt, &error))
        goto fail;
      t2 = now_ms ();
      if (!query_only && !lens_occluder_query (nosplit, x, y, &pt, &error))
        goto fail;
      t3 = now_ms ();
      if (!query_only && !lens_occluder_query (full, x, y, &pt, &error))
        goto fail;
      t4 = now_ms ();
      if (r >= 0)
        {
          t_fwd[r] = t1 - t0;
          t_inc[r] = t2 - t1;
          t_nosplit[r] = t3 - t2;
          t_full[r] = t4 - t3;
        }
    }

  {
    double fwd = median (t_fwd, runs), qi = median (t_inc, runs), qf = median (t_full, runs);
    double qn = median (t_nosplit, runs);
    g_autofree char *name = g_strescape (lens_net_get_name (net), NULL);

    printf ("{\"model\": \"%s\", \"size\": %d, \"runs\": %d, \"threads\": %d, "
            "\"forward_median_ms\": %.4f, \"query_median_ms\": %.4f, "
            "\"query_unsplit_median_ms\": %.4f, "
            "\"query_full_median_ms\": %.4f, \"query_over_forward\": %.4f, "
            "\"queries_per_s\": %.1f}\n",
            name, o.size, runs, lens_get_threads (), fwd, qi, qn, qf, fwd > 0.0 ? qi / fwd : 0.0,
            1e3 / qi);
  }
  return 0;

fail:
  fprintf (stderr, "bench-occlude: %s\n", error ? error->message : "failed");
  return 1;
}
