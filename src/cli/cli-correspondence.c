/* cli-correspondence.c: `convlens-cli correspondence`, the paper's Table 1:
 * mask the same object part in several images and measure how consistently
 * the features change, against randomly placed masks of the same size.
 */
#define G_LOG_DOMAIN "cli-correspondence"

#include <math.h>
#include <stdio.h>

#include "cli-analysis.h"
#include "cli-common.h"
#include "lens-correspondence.h"

int lens_cli_correspondence (int argc, char **argv);

static void
add_number (JsonBuilder *b,
            const char  *name,
            double       v)
{
  json_builder_set_member_name (b, name);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

static void
print_json (const LensCorrespondence     *c,
            const LensCorrespondenceSpec *spec,
            const char                   *model,
            const char                   *spec_path)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  lens_cli_json_add_string (b, model);
  json_builder_set_member_name (b, "spec");
  lens_cli_json_add_string (b, spec_path);
  json_builder_set_member_name (b, "images");
  json_builder_add_int_value (b, c->n_images);
  json_builder_set_member_name (b, "pairs");
  json_builder_add_int_value (b, c->n_images * (c->n_images - 1) / 2);
  json_builder_set_member_name (b, "trials");
  json_builder_add_int_value (b, c->trials);
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, spec->seed);
  json_builder_set_member_name (b, "layers");
  json_builder_begin_array (b);
  for (int l = 0; l < c->n_layers; l++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      lens_cli_json_add_string (b, c->layers[l]);
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, (gint64) c->size[l]);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "parts");
  json_builder_begin_array (b);
  for (int p = 0; p < c->n_parts; p++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      lens_cli_json_add_string (b, c->parts[p]);
      json_builder_set_member_name (b, "layers");
      json_builder_begin_object (b);
      for (int l = 0; l < c->n_layers; l++)
        {
          gsize at = (gsize) p * c->n_layers + l;

          json_builder_set_member_name (b, c->layers[l]);
          json_builder_begin_object (b);
          add_number (b, "delta", c->delta[at]);
          add_number (b, "mean", c->mean[at]);
          add_number (b, "std", c->std[at]);
          add_number (b, "random_delta", c->random_delta[at]);
          add_number (b, "random_mean", c->random_mean[at]);
          add_number (b, "random_std", c->random_std[at]);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  lens_cli_json_print (b, TRUE);
}

static void
print_table (const LensCorrespondence *c)
{
  printf ("%d images (%d pairs), %d random trials; mean and std of the Hamming distance "
          "between sign changes, as a fraction of the layer's size\n", c->n_images,
          c->n_images * (c->n_images - 1) / 2, c->trials);
  printf ("%-16s %-12s %12s %18s %12s %18s\n", "part", "layer", "delta", "mean +- std",
          "random delta", "random mean +- std");
  for (int p = 0; p < c->n_parts; p++)
    for (int l = 0; l < c->n_layers; l++)
      {
        gsize at = (gsize) p * c->n_layers + l;

        printf ("%-16.16s %-12.12s %12.0f %9.4f +- %6.4f %12.1f %9.4f +- %6.4f\n", c->parts[p],
                c->layers[l], c->delta[at], c->mean[at], c->std[at], c->random_delta[at],
                c->random_mean[at], c->random_std[at]);
      }
}

int
lens_cli_correspondence (int    argc,
                         char **argv)
{
  LensCliCommon common = LENS_CLI_COMMON_INIT;
  g_autofree char *layers_text = NULL, *profile_path = NULL;
  gboolean json = FALSE, quiet = FALSE;
  int trials = -1;
  gint64 seed = -1;
  const GOptionEntry entries[] = {
    { "layers", 'l', 0, G_OPTION_ARG_STRING, &layers_text,
      "Layers to compare, comma-separated (names from 'info')", "L1,L2" },
    { "trials", 0, 0, G_OPTION_ARG_INT, &trials,
      "Random-mask trials per part (overrides the spec's)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of the random masks (overrides the spec's)",
      "S" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the results as JSON", NULL },
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile_path, "Preprocessing profile (JSON)",
      "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress on stderr", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(LensNet) net = NULL;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensCorrespondenceSpec) spec = NULL;
  g_autoptr(LensCorrespondence) result = NULL;
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func ((GDestroyNotify) lens_image_free);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) layers = NULL;
  LensCliProgress progress = { 0 };
  int status = LENS_CLI_EXIT_OK;

  context = lens_cli_context_new ("correspondence", "MODEL SPEC.json",
                                  "Mask the same object part in several images (boxes listed in "
                                  "SPEC.json) and measure, per layer, how consistently the "
                                  "features change, against random masks of the same size "
                                  "(Zeiler & Fergus, Table 1).",
                                  entries, &common);
  if (!lens_cli_parse (context, "correspondence", &common, &argc, &argv))
    return LENS_CLI_EXIT_USAGE;
  if (argc != 3)
    return lens_cli_usage_error ("correspondence", "expected MODEL and SPEC.json");
  if (layers_text == NULL)
    return lens_cli_usage_error ("correspondence", "--layers is required");
  if (trials > LENS_CORRESPONDENCE_MAX_TRIALS || seed > G_MAXUINT32)
    return lens_cli_usage_error ("correspondence", "--trials must be 0 to %d and --seed 0 to %u",
                                 LENS_CORRESPONDENCE_MAX_TRIALS, G_MAXUINT32);
  layers = g_strsplit (layers_text, ",", -1);
  for (char **l = layers; *l != NULL; l++)
    g_strstrip (*l);

  spec = lens_correspondence_spec_load (argv[2], &error);
  if (spec == NULL)
    return lens_cli_fail_file ("cannot use the spec", argv[2], error,
                               "See docs/analyses.md for the format");
  if (trials >= 0)
    spec->trials = trials;
  if (seed >= 0)
    spec->seed = (guint32) seed;

  lens_cli_apply_threads (&common);
  net = lens_cli_load_net (argv[1], &common, &status);
  if (net == NULL)
    return status;
  profile = lens_cli_analysis_profile (net, argv[1], profile_path, &status);
  if (profile == NULL)
    return status;
  for (int i = 0; i < spec->n_images; i++)
    {
      LensImage *image = lens_image_load (spec->images[i].path, &error);

      if (image == NULL)
        return lens_cli_fail_file ("cannot read the image", spec->images[i].path, error, NULL);
      g_ptr_array_add (images, image);
    }

  lens_cli_progress_begin (&progress, "correspondence", quiet);
  result = lens_correspondence_run (net, &profile->pre, spec, (LensImage * const *) images->pdata,
                                    (const char * const *) layers, lens_cli_progress_cb,
                                    &progress, progress.cancellable, &error);
  lens_cli_progress_end (&progress);
  if (result == NULL)
    {
      g_autofree char *text = lens_cli_error_text (error);

      if (g_error_matches (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_LAYER))
        return lens_cli_usage_error ("correspondence", "%s", text);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return lens_cli_fail ("interrupted.");
      return lens_cli_fail ("%s.", text);
    }
  if (json)
    print_json (result, spec, argv[1], argv[2]);
  else
    print_table (result);
  return LENS_CLI_EXIT_OK;
}
