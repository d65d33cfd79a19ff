/* bench-project.c: time of a projection (issue 3) next to one forward pass,
 * in the same process.
 *
 *   bench-project MODEL [--input-npy F] [--layer NAME] [--top N] [--runs N]
 *                 [--threads N] [--mode deconv|guided|gradient]
 *
 * The layer defaults to the output of the model's last Conv.  Each round
 * times, one after the other: a forward pass (lens_trace_run), one
 * projection of the layer's strongest channel from its strongest
 * activation (lens_project_channel, 'max' start), the top-N grid in one
 * call (lens_project_channels) and, for comparison, the same N channels
 * projected one call at a time.  Interleaving keeps the ratios meaningful
 * on a busy machine.  Prints one JSON line of medians (milliseconds) and
 * the ratios to the forward pass.
 */
#define G_LOG_DOMAIN "bench-project"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lens-net.h"
#include "lens-npy.h"
#include "lens-project.h"

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
  g_autofree char *layer = NULL;
  g_autofree char *mode = NULL;
  int top = 16, runs = 20, threads = 0;
  const GOptionEntry entries[] = {
    { "input-npy", 0, 0, G_OPTION_ARG_FILENAME, &input_npy,
      "Input tensor (default: seeded uniform values in [-1, 1))", "FILE" },
    { "layer", 0, 0, G_OPTION_ARG_STRING, &layer, "Layer (default: the last Conv)", "NAME" },
    { "top", 0, 0, G_OPTION_ARG_INT, &top, "Channels in the grid (default 16)", "N" },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Timed rounds (default 20)", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads (default: all cores)", "N" },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &mode, "deconv (default), guided or gradient", "M" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("MODEL");
  g_autoptr (GError) error = NULL;
  g_autoptr (LensNet) net = NULL;
  g_autoptr (LensTensor) input = NULL;
  g_autoptr (LensTrace) trace = NULL;
  g_autofree double *t_fwd = NULL, *t_one = NULL, *t_grid = NULL, *t_singles = NULL;
  g_autofree int *channels = NULL;
  LensProjectOptions opt = { .mode = LENS_PROJECT_DECONV, .start = LENS_START_MAX };
  const LensShape *in;
  int value = -1, n;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 2 || runs < 1
      || top < 1)
    {
      fprintf (stderr, "usage: bench-project MODEL [--input-npy F] [--layer NAME] [--top N] "
               "[--runs N] [--threads N] [--mode M]%s%s\n", error ? ": " : "",
               error ? error->message : "");
      return 2;
    }
  if (g_strcmp0 (mode, "guided") == 0)
    opt.mode = LENS_PROJECT_GUIDED;
  else if (g_strcmp0 (mode, "gradient") == 0)
    opt.mode = LENS_PROJECT_GRADIENT;
  else if (mode != NULL && g_strcmp0 (mode, "deconv") != 0)
    {
      fprintf (stderr, "bench-project: unknown mode '%s'\n", mode);
      return 2;
    }
  if (threads > 0)
    lens_set_threads (threads);

  net = lens_net_load_onnx (argv[1], NULL, &error);
  if (net == NULL)
    goto fail;
  in = lens_net_get_input_shape (net);
  if (layer != NULL)
    value = lens_net_find_layer (net, layer);
  else
    for (guint l = 0; l < lens_net_get_n_layers (net); l++)
      if (g_str_equal (lens_net_layer_get_op (net, l), "Conv"))
        value = lens_net_layer_get_output (net, l);
  if (in == NULL || in->ndim != 4 || value < 0)
    {
      fprintf (stderr, "bench-project: %s does not take an image or has no layer %s\n",
               argv[1], layer != NULL ? layer : "Conv");
      return 1;
    }
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
  trace = lens_trace_new (net, 1, &error);
  if (trace == NULL || !lens_trace_set_input (trace, input, &error)
      || !lens_trace_run (trace, NULL, &error))
    goto fail;
  channels = g_new (int, top);
  n = lens_project_rank_channels (trace, value, top, channels, &error);
  if (n < 1)
    goto fail;

  t_fwd = g_new (double, runs);
  t_one = g_new (double, runs);
  t_grid = g_new (double, runs);
  t_singles = g_new (double, runs);
  for (int r = -2; r < runs; r++)   /* two rounds of warm-up */
    {
      g_autoptr (LensTensor) one = NULL;
      g_autoptr (LensTensor) grid = NULL;
      double t0, t1, t2, t3, t4;

      t0 = now_ms ();
      if (!lens_trace_run (trace, NULL, &error))
        goto fail;
      t1 = now_ms ();
      one = lens_project_channel (trace, value, channels[0], &opt, NULL, NULL, &error);
      if (one == NULL)
        goto fail;
      t2 = now_ms ();
      grid = lens_project_channels (trace, value, channels, n, &opt, NULL, NULL, &error);
      if (grid == NULL)
        goto fail;
      t3 = now_ms ();
      for (int i = 0; i < n; i++)
        {
          g_autoptr (LensTensor) single = lens_project_channel (trace, value, channels[i], &opt,
                                                                NULL, NULL, &error);
          if (single == NULL)
            goto fail;
        }
      t4 = now_ms ();
      if (r >= 0)
        {
          t_fwd[r] = t1 - t0;
          t_one[r] = t2 - t1;
          t_grid[r] = t3 - t2;
          t_singles[r] = t4 - t3;
        }
    }

  {
    double fwd = median (t_fwd, runs), one = median (t_one, runs);
    double grid = median (t_grid, runs), singles = median (t_singles, runs);
    g_autofree char *name = g_strescape (lens_net_get_name (net), NULL);
    g_autofree char *vname = g_strescape (lens_net_value_get_name (net, value), NULL);

    printf ("{\"model\": \"%s\", \"layer\": \"%s\", \"top\": %d, \"runs\": %d, "
            "\"threads\": %d, \"forward_median_ms\": %.4f, \"project_median_ms\": %.4f, "
            "\"grid_median_ms\": %.4f, \"grid_singles_median_ms\": %.4f, "
            "\"project_over_forward\": %.4f, \"grid_over_forward\": %.4f, "
            "\"grid_singles_over_forward\": %.4f}\n",
            name, vname, n, runs, lens_get_threads (), fwd, one, grid, singles, one / fwd,
            grid / fwd, singles / fwd);
  }
  return 0;

fail:
  fprintf (stderr, "bench-project: %s\n", error ? error->message : "failed");
  return 1;
}
