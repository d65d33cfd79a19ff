/* cli-filters.c: `convlens-cli filters MODEL`, the paper's Fig. 6 checks of
 * the first layer: the filters as tiles, their RMS, dead and dominating
 * filters, and how much of each filter is high frequency (aliasing).
 */
#define G_LOG_DOMAIN "cli-filters"

#include <stdio.h>

#include "cli-common.h"
#include "lens-filters.h"
#include "lens-image.h"

int lens_cli_filters (int argc, char **argv);

static void
add_doubles (JsonBuilder  *b,
             const char   *name,
             const double *values,
             int           n)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    json_builder_add_double_value (b, values[i]);
  json_builder_end_array (b);
}

static void
add_flags (JsonBuilder    *b,
           const char     *name,
           const gboolean *flags,
           int             n)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    if (flags[i])
      json_builder_add_int_value (b, i);
  json_builder_end_array (b);
}

static void
print_json (const LensFilterStats *st,
            const char            *model,
            const char            *dataset)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  lens_cli_json_add_string (b, model);
  json_builder_set_member_name (b, "layer");
  lens_cli_json_add_string (b, st->layer);
  json_builder_set_member_name (b, "filters");
  json_builder_add_int_value (b, st->n_filters);
  json_builder_set_member_name (b, "kernel");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, st->channels);
  json_builder_add_int_value (b, st->kh);
  json_builder_add_int_value (b, st->kw);
  json_builder_end_array (b);
  add_doubles (b, "rms", st->rms, st->n_filters);
  add_doubles (b, "weight_share", st->weight_share, st->n_filters);
  add_doubles (b, "high_frequency_share", st->high_share, st->n_filters);
  json_builder_set_member_name (b, "dataset");
  lens_cli_json_add_string (b, dataset);
  json_builder_set_member_name (b, "images");
  json_builder_add_int_value (b, st->n_images);
  if (st->n_images > 0)
    {
      add_doubles (b, "max", st->max, st->n_filters);
      add_doubles (b, "positive_fraction", st->positive_fraction, st->n_filters);
      add_doubles (b, "energy_share", st->energy_share, st->n_filters);
      add_flags (b, "dead", st->dead, st->n_filters);
    }
  json_builder_set_member_name (b, "dominance_basis");
  json_builder_add_string_value (b, st->n_images > 0 ? "energy_share" : "weight_share");
  add_flags (b, "dominating", st->dominating, st->n_filters);
  json_builder_end_object (b);
  lens_cli_json_print (b, TRUE);
}

static void
print_text (const LensFilterStats *st)
{
  printf ("layer %s: %d filters of %dx%dx%d\n", st->layer, st->n_filters, st->channels, st->kh,
          st->kw);
  printf ("%6s %10s %8s %8s", "filter", "rms", "w-share", "high-f");
  if (st->n_images > 0)
    printf (" %10s %8s %8s", "max", "pos", "e-share");
  printf ("\n");
  for (int k = 0; k < st->n_filters; k++)
    {
      printf ("%6d %10.4g %8.4f %8.4f", k, st->rms[k], st->weight_share[k], st->high_share[k]);
      if (st->n_images > 0)
        printf (" %10.4g %8.4f %8.4f", st->max[k], st->positive_fraction[k], st->energy_share[k]);
      printf ("%s%s\n", st->n_images > 0 && st->dead[k] ? "  dead" : "",
              st->dominating[k] ? "  dominating" : "");
    }
}

int
lens_cli_filters (int    argc,
                  char **argv)
{
  LensCliCommon common = LENS_CLI_COMMON_INIT;
  g_autofree char *dataset = NULL, *layer = NULL, *output = NULL, *profile_path = NULL;
  gboolean json = FALSE;
  int limit = 0;
  const GOptionEntry entries[] = {
    { "dataset", 'd', 0, G_OPTION_ARG_FILENAME, &dataset,
      "Images to find dead and dominating filters with (folder or fashion-mnist[:split])",
      "DATASET" },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, "Use only the first N images", "N" },
    { "layer", 'l', 0, G_OPTION_ARG_STRING, &layer, "Conv layer (default: the first)", "L" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "PNG of the filter tiles", "OUT.png" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the statistics as JSON", NULL },
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile_path, "Preprocessing profile (JSON)",
      "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(LensNet) net = NULL;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensScanSource) source = NULL;
  g_autoptr(LensFilterStats) st = NULL;
  g_autoptr(GError) error = NULL;
  const LensShape *in;
  int status = LENS_CLI_EXIT_OK;

  context = lens_cli_context_new ("filters", "MODEL",
                                  "Show the first layer's filters as tiles and report their "
                                  "RMS, dead and dominating filters and their high-frequency "
                                  "share (Zeiler & Fergus, Fig. 6).",
                                  entries, &common);
  if (!lens_cli_parse (context, "filters", &common, &argc, &argv))
    return LENS_CLI_EXIT_USAGE;
  if (argc != 2)
    return lens_cli_usage_error ("filters", "expected one MODEL");
  if (limit < 0)
    return lens_cli_usage_error ("filters", "--limit must not be negative");

  lens_cli_apply_threads (&common);
  net = lens_cli_load_net (argv[1], &common, &status);
  if (net == NULL)
    return status;
  in = lens_net_get_input_shape (net);
  if (dataset != NULL)
    {
      if (in == NULL || in->ndim != 4)
        return lens_cli_fail ("model '%s' does not take an image ([N,C,H,W] input).", argv[1]);
      if (profile_path != NULL)
        profile = lens_profile_load (profile_path, &error);
      else
        profile = lens_profile_guess (argv[1], (int) in->dims[1], (int) in->dims[2],
                                      (int) in->dims[3], &error);
      if (profile == NULL)
        return lens_cli_fail_file ("cannot use the profile for", argv[1], error,
                                   "Give one with --profile FILE");
      source = lens_scan_source_open (dataset, &error);
      if (source == NULL)
        return lens_cli_fail_file ("cannot open the data set", dataset, error, NULL);
    }

  st = lens_filters_analyse (net, layer, source, profile ? &profile->pre : NULL, limit, NULL,
                             &error);
  if (st == NULL)
    {
      g_autofree char *text = lens_cli_error_text (error);

      if (g_error_matches (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_LAYER) && layer != NULL)
        return lens_cli_usage_error ("filters", "%s", text);
      return lens_cli_fail ("%s.", text);
    }

  if (output != NULL)
    {
      g_autofree guint8 *rgb = NULL;
      int w, h;
      const char *kv[] = { "Software", "ConvLens", "convlens:analysis", "filters",
                           "convlens:layer", st->layer, "convlens:dataset",
                           dataset ? dataset : "", NULL };

      rgb = lens_filters_render (st, profile ? profile->pre.bgr : FALSE, &w, &h);
      if (!lens_png_save_rgb (output, rgb, w, h, w * 3, kv, &error))
        return lens_cli_fail_file ("cannot write", output, error, NULL);
    }
  if (json)
    print_json (st, argv[1], dataset);
  else
    print_text (st);
  return LENS_CLI_EXIT_OK;
}
