/* cli-bench.c: `convlens-cli bench MODEL`, forward-pass latency (median,
 * min, max over timed runs after warm-up) and the GFLOP/s it implies;
 * with --layers also each layer's median time */
#define G_LOG_DOMAIN "cli-bench"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli-common.h"

#define DEFAULT_RUNS   20
#define DEFAULT_WARMUP 3
#define MAX_RUNS       1000000
/* Fixed so that every run of the benchmark sees the same input. */
#define INPUT_SEED     20140912u

static double
now_ms (void)
{
  struct timespec ts;

  /* Nanosecond clock: a tiny model's pass is far below a microsecond tick. */
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec * 1e-6;
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return x < y ? -1 : (x > y ? 1 : 0);
}

/* Fills the trace's input with values uniform in [-1, 1), about the range
 * of a normalised image. */
static void
fill_input (LensTrace *trace)
{
  LensTensor *input = lens_trace_get_input (trace);
  g_autoptr(GRand) rand = g_rand_new_with_seed (INPUT_SEED);
  float *x = lens_tensor_get_floats (input);
  gsize n = lens_tensor_numel (input);

  for (gsize i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
}

static double
median_of (double *v,
           int     n)
{
  qsort (v, n, sizeof (double), compare_doubles);
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Each layer's median milliseconds over the runs, from per_run
 * [runs][n_layers] seconds. */
static double *
layer_medians (double *per_run,
               int     runs,
               guint   n_layers)
{
  double *out = g_new (double, n_layers);
  g_autofree double *column = g_new (double, runs);

  for (guint l = 0; l < n_layers; l++)
    {
      for (int r = 0; r < runs; r++)
        column[r] = per_run[(gsize) r * n_layers + l] * 1e3;
      out[l] = median_of (column, runs);
    }
  return out;
}

static void
print_layers (LensNet      *net,
              const double *ms)
{
  guint n = lens_net_get_n_layers (net);
  double total = 0.0;

  for (guint l = 0; l < n; l++)
    total += ms[l];
  printf ("\n%-40s %-20s %10s %6s\n", "layer", "op", "median ms", "share");
  for (guint l = 0; l < n; l++)
    printf ("%-40s %-20s %10.3f %5.1f%%\n", lens_net_layer_get_name (net, l),
            lens_net_layer_get_op (net, l), ms[l], total > 0.0 ? 100.0 * ms[l] / total : 0.0);
}

static int
bench (LensNet    *net,
       const char *model_path,
       int         runs,
       int         warmup,
       gboolean    layers,
       gboolean    json)
{
  g_autoptr(LensTrace) trace = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree double *times = g_new (double, runs);
  guint n_layers = lens_net_get_n_layers (net);
  g_autofree double *per_run = layers ? g_new0 (double, (gsize) runs * n_layers) : NULL;
  g_autofree double *layer_ms = NULL;
  guint64 flops = lens_cli_net_total_flops (net);
  double median, min, max, gflops;

  trace = lens_trace_new (net, 1, &error);
  if (trace == NULL)
    {
      g_autofree char *text = lens_cli_error_text (error);

      return lens_cli_fail ("cannot prepare a run of model '%s': %s. Use a smaller "
                            "--input-size or free some memory.", model_path, text);
    }
  fill_input (trace);

  for (int i = 0; i < warmup + runs; i++)
    {
      double start = now_ms ();
      double *lt = layers && i >= warmup ? per_run + (gsize) (i - warmup) * n_layers : NULL;

      if (!lens_trace_run_timed (trace, lt, NULL, &error))
        {
          g_autofree char *text = lens_cli_error_text (error);

          return lens_cli_fail ("cannot run model '%s': %s. Check the model with '"
                                LENS_CLI_NAME " info'.", model_path, text);
        }
      if (i >= warmup)
        times[i - warmup] = now_ms () - start;
    }

  median = median_of (times, runs);
  min = times[0];
  max = times[runs - 1];
  if (layers)
    layer_ms = layer_medians (per_run, runs, n_layers);
  gflops = median > 0.0 ? (double) flops / (median * 1e-3) / 1e9 : 0.0;

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "model");
      lens_cli_json_add_string (builder, model_path);
      json_builder_set_member_name (builder, "input_shape");
      lens_cli_json_add_shape (builder, &lens_trace_get_input (trace)->shape);
      json_builder_set_member_name (builder, "threads");
      json_builder_add_int_value (builder, lens_get_threads ());
      json_builder_set_member_name (builder, "runs");
      json_builder_add_int_value (builder, runs);
      json_builder_set_member_name (builder, "warmup");
      json_builder_add_int_value (builder, warmup);
      json_builder_set_member_name (builder, "median_ms");
      json_builder_add_double_value (builder, median);
      json_builder_set_member_name (builder, "min_ms");
      json_builder_add_double_value (builder, min);
      json_builder_set_member_name (builder, "max_ms");
      json_builder_add_double_value (builder, max);
      json_builder_set_member_name (builder, "flops");
      json_builder_add_int_value (builder, (gint64) flops);
      json_builder_set_member_name (builder, "gflops");
      json_builder_add_double_value (builder, gflops);
      if (layers)
        {
          json_builder_set_member_name (builder, "layers");
          json_builder_begin_array (builder);
          for (guint l = 0; l < n_layers; l++)
            {
              json_builder_begin_object (builder);
              lens_cli_json_add_layer (builder, net, l);
              json_builder_set_member_name (builder, "median_ms");
              json_builder_add_double_value (builder, layer_ms[l]);
              json_builder_end_object (builder);
            }
          json_builder_end_array (builder);
        }
      json_builder_end_object (builder);

      /* One line, so that it is the last line of stdout. */
      lens_cli_json_print (builder, FALSE);
    }
  else
    {
      g_autofree char *shape = lens_shape_to_string (&lens_trace_get_input (trace)->shape);

      printf ("model:   %s (%s)\n", lens_net_get_name (net), model_path);
      printf ("input:   %s, seeded pseudo-random\n", shape);
      printf ("threads: %d\n", lens_get_threads ());
      printf ("runs:    %d after %d warm-up\n", runs, warmup);
      printf ("median:  %.3f ms\nmin:     %.3f ms\nmax:     %.3f ms\n", median, min, max);
      printf ("speed:   %.2f GFLOP/s (%.3f GFLOP per pass)\n", gflops, (double) flops / 1e9);
      if (layers)
        print_layers (net, layer_ms);
    }

  return LENS_CLI_EXIT_OK;
}

int
lens_cli_bench (int    argc,
                char **argv)
{
  LensCliCommon common = LENS_CLI_COMMON_INIT;
  gboolean json = FALSE;
  gboolean layers = FALSE;
  int runs = DEFAULT_RUNS;
  int warmup = DEFAULT_WARMUP;
  const GOptionEntry entries[] = {
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Timed forward passes (default: 20)", "N" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup,
      "Untimed forward passes before them (default: 3)", "N" },
    { "layers", 0, 0, G_OPTION_ARG_NONE, &layers,
      "Also time each layer and report its median (a profile of the pass)", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      "Print one JSON object (one line) instead of text", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(LensNet) net = NULL;
  int status = LENS_CLI_EXIT_OK;

  context = lens_cli_context_new ("bench", "MODEL",
                                  "Time the forward pass of MODEL on a fixed pseudo-random "
                                  "input: median, min and max milliseconds, and GFLOP/s.",
                                  entries, &common);
  if (!lens_cli_parse (context, "bench", &common, &argc, &argv))
    status = LENS_CLI_EXIT_USAGE;
  else if (argc != 2)
    status = lens_cli_usage_error ("bench", argc < 2 ? "missing MODEL"
                                   : "too many arguments (expected only MODEL)");
  else if (runs < 1 || runs > MAX_RUNS)
    status = lens_cli_usage_error ("bench", "--runs must be between 1 and %d, not %d",
                                   MAX_RUNS, runs);
  else if (warmup < 0 || warmup > MAX_RUNS)
    status = lens_cli_usage_error ("bench", "--warmup must be between 0 and %d, not %d",
                                   MAX_RUNS, warmup);
  else
    {
      lens_cli_apply_threads (&common);
      net = lens_cli_load_net (argv[1], &common, &status);
      if (net != NULL)
        status = bench (net, argv[1], runs, warmup, layers, json);
    }

  lens_cli_common_clear (&common);
  return status;
}
