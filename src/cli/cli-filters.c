/* cli-filters.c: `convlens-cli filters MODEL`, the paper's Fig. 6 checks of
 * the first layer: the filters as tiles, their RMS, dead and dominating
 * filters, and how much of each filter is high frequency (aliasing); with a
 * data set also the layer-2 top-1 projections (Fig. 6 (c)/(e)), drawn
 * below the tiles in the same PNG.
 */
#define G_LOG_DOMAIN "cli-filters"

#include <stdio.h>

#include "cli-analysis.h"
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

/* The layer-2 part: {layer, images, channels: [{channel, image, image_name, y, x,
 * value}]}, channels without a finite activation left out. */
static void
add_layer2 (JsonBuilder    *b,
            LensTopk       *top1,
            LensScanSource *source)
{
  const LensTopkLayer *l = lens_topk_get_layer (top1, 0);

  json_builder_set_member_name (b, "layer2");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "layer");
  lens_cli_json_add_string (b, l->name);
  json_builder_set_member_name (b, "images");
  json_builder_add_int_value (b, lens_topk_get_scanned (top1));
  json_builder_set_member_name (b, "channels");
  json_builder_begin_array (b);
  for (int c = 0; c < l->channels; c++)
    {
      const LensTopkEntry *e = &l->entries[c];
      g_autofree char *name = NULL;

      if (l->counts[c] < 1)
        continue;
      name = lens_scan_source_dup_name (source, e->image);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "channel");
      json_builder_add_int_value (b, c);
      json_builder_set_member_name (b, "image");
      json_builder_add_int_value (b, e->image);
      json_builder_set_member_name (b, "image_name");
      lens_cli_json_add_string (b, name);
      json_builder_set_member_name (b, "y");
      json_builder_add_int_value (b, e->y);
      json_builder_set_member_name (b, "x");
      json_builder_add_int_value (b, e->x);
      json_builder_set_member_name (b, "value");
      json_builder_add_double_value (b, e->value);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

static void
print_json (const LensFilterStats *st,
            LensTopk              *top1,
            LensScanSource        *source,
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
  if (top1 != NULL)
    add_layer2 (b, top1, source);
  else if (st->n_images > 0)
    {
      /* a data set was given but the model has no second Conv */
      json_builder_set_member_name (b, "layer2");
      json_builder_add_null_value (b);
    }
  json_builder_end_object (b);
  lens_cli_json_print (b, TRUE);
}

static void
print_text (const LensFilterStats *st,
            LensTopk              *top1)
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
  if (top1 != NULL)
    {
      const LensTopkLayer *l = lens_topk_get_layer (top1, 0);

      printf ("\nlayer 2 %s: strongest activation per channel over %" G_GINT64_FORMAT
              " images\n", l->name, lens_topk_get_scanned (top1));
      printf ("%7s %7s %4s %4s %10s\n", "channel", "image", "y", "x", "value");
      for (int c = 0; c < l->channels; c++)
        if (l->counts[c] > 0)
          printf ("%7d %7d %4d %4d %10.4g\n", c, l->entries[c].image, l->entries[c].y,
                  l->entries[c].x, l->entries[c].value);
        else
          printf ("%7d %7s\n", c, "-");
    }
}

/* The layer-1 tiles, and below them the layer-2 projections when there
 * are any, written atomically as one PNG. */
static gboolean
save_figure (const char            *output,
             const LensFilterStats *st,
             LensTopk              *top1,
             LensNet               *net,
             LensScanSource        *source,
             const LensPreprocess  *pre,
             const char            *dataset,
             GError               **error)
{
  g_autofree guint8 *tiles = NULL;
  g_autofree guint8 *layer2 = NULL;
  g_autofree guint8 *figure = NULL;
  g_autofree char *caption = NULL;
  const char *layer2_name = top1 ? lens_topk_get_layer (top1, 0)->name : "";
  const char *kv[] = { "Software", "ConvLens", "convlens:analysis", "filters",
                       "convlens:layer", st->layer, "convlens:dataset",
                       dataset ? dataset : "", "convlens:layer2", layer2_name, NULL };
  int tw, th, w2, h2, w, h;

  tiles = lens_filters_render (st, pre ? pre->bgr : FALSE, &tw, &th);
  if (top1 == NULL)
    return lens_png_save_rgb (output, tiles, tw, th, tw * 3, kv, error);
  layer2 = lens_filters_layer2_render (top1, net, source, pre, &w2, &h2, NULL, error);
  if (layer2 == NULL)
    {
      g_prefix_error (error, "Cannot draw the layer-2 projections: ");
      return FALSE;
    }
  caption = g_strdup_printf ("Layer 2 (%s): strongest activation of each channel over %"
                             G_GINT64_FORMAT " images, deconvnet projection | input patch, "
                             "channels in reading order", layer2_name,
                             lens_topk_get_scanned (top1));
  figure = lens_filters_figure_stack (tiles, tw, th, caption, layer2, w2, h2, &w, &h, error);
  if (figure == NULL)
    return FALSE;
  return lens_png_save_rgb (output, figure, w, h, w * 3, kv, error);
}

int
lens_cli_filters (int    argc,
                  char **argv)
{
  LensCliCommon common = LENS_CLI_COMMON_INIT;
  g_autofree char *dataset = NULL, *layer = NULL, *output = NULL, *profile_path = NULL;
  g_autofree char *layer2 = NULL;
  gboolean json = FALSE, quiet = FALSE;
  int limit = 0;
  const GOptionEntry entries[] = {
    { "dataset", 'd', 0, G_OPTION_ARG_FILENAME, &dataset,
      "Images to find dead and dominating filters and the layer-2 top-1 activations with "
      "(folder or fashion-mnist[:split])",
      "DATASET" },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, "Use only the first N images", "N" },
    { "layer", 'l', 0, G_OPTION_ARG_STRING, &layer, "Conv layer (default: the first)", "L" },
    { "layer2", 0, 0, G_OPTION_ARG_STRING, &layer2,
      "Conv layer for the top-1 projections (default: the first Conv after --layer; "
      "needs --dataset)", "L2" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      "PNG of the filter tiles (with --dataset: the layer-2 projections below them)",
      "OUT.png" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the statistics as JSON", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress on stderr", NULL },
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile_path, "Preprocessing profile (JSON)",
      "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(LensNet) net = NULL;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensScanSource) source = NULL;
  g_autoptr(LensFilterStats) st = NULL;
  g_autoptr(LensTopk) top1 = NULL;
  g_autoptr(GError) error = NULL;
  const LensShape *in;
  int status = LENS_CLI_EXIT_OK;

  context = lens_cli_context_new ("filters", "MODEL",
                                  "Show the first layer's filters as tiles and report their "
                                  "RMS, dead and dominating filters and their high-frequency "
                                  "share (Zeiler & Fergus, Fig. 6).  With --dataset also, for "
                                  "every channel of the second Conv layer, the strongest "
                                  "activation over the data set and its deconvnet projection "
                                  "(Fig. 6 (c)/(e)), drawn below the tiles in the same PNG; "
                                  "layer-2 projections need a data set.",
                                  entries, &common);
  if (!lens_cli_parse (context, "filters", &common, &argc, &argv))
    return LENS_CLI_EXIT_USAGE;
  if (argc != 2)
    return lens_cli_usage_error ("filters", "expected one MODEL");
  if (limit < 0)
    return lens_cli_usage_error ("filters", "--limit must not be negative");
  if (layer2 != NULL && dataset == NULL)
    return lens_cli_usage_error ("filters", "--layer2 needs --dataset (layer-2 projections "
                                 "come from the strongest activations over a data set)");

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

  if (source != NULL)
    {
      LensCliProgress progress;

      lens_cli_progress_begin (&progress, "layer 2", quiet);
      top1 = lens_filters_layer2_scan (net, argv[1], st->layer, layer2, source, &profile->pre,
                                       limit, lens_cli_progress_cb, &progress,
                                       progress.cancellable, &error);
      lens_cli_progress_end (&progress);
      if (top1 == NULL)
        {
          g_autofree char *text = lens_cli_error_text (error);

          if (!g_error_matches (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_LAYER))
            return lens_cli_fail ("%s.", text);
          if (layer2 != NULL)
            return lens_cli_usage_error ("filters", "%s", text);
          /* The layer-1 analysis stands on its own: say why the figure has
           * no layer-2 part, and go on. */
          fprintf (stderr, LENS_CLI_NAME ": note: %s; the figure shows layer 1 only.\n", text);
          g_clear_error (&error);
        }
    }

  if (output != NULL &&
      !save_figure (output, st, top1, net, source, profile ? &profile->pre : NULL, dataset,
                    &error))
    return lens_cli_fail_file ("cannot write", output, error, NULL);
  if (json)
    print_json (st, top1, source, argv[1], dataset);
  else
    print_text (st, top1);
  return LENS_CLI_EXIT_OK;
}
