/* cli-invariance.c: `convlens-cli invariance`, the paper's Fig. 5: how far
 * a layer's feature vector moves, and what happens to the true class's
 * probability, when images are translated, scaled or rotated.
 */
#define G_LOG_DOMAIN "cli-invariance"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli-analysis.h"
#include "cli-common.h"
#include "lens-invariance.h"

int lens_cli_invariance (int argc, char **argv);

/* "mean", a gray level or R,G,B, all in [0,1]. */
static gboolean
parse_fill (const char            *text,
            LensInvarianceOptions *opts)
{
  g_auto(GStrv) parts = NULL;
  guint n;

  if (g_strcmp0 (text, "mean") == 0)
    {
      opts->fill_mean = TRUE;
      return TRUE;
    }
  parts = g_strsplit (text, ",", -1);
  n = g_strv_length (parts);
  if (n != 1 && n != 3)
    return FALSE;
  for (guint i = 0; i < 3; i++)
    {
      char *end;
      double v = g_ascii_strtod (g_strstrip (parts[n == 1 ? 0 : i]), &end);

      if (*parts[n == 1 ? 0 : i] == '\0' || *end != '\0' || !(v >= 0 && v <= 1))
        return FALSE;
      opts->fill[i] = (float) v;
    }
  opts->fill_mean = FALSE;
  return TRUE;
}

/* One class per image (or one for all): an index or a label name. */
static int *
parse_classes (const char        *text,
               int                n_images,
               const LensProfile *profile,
               int                n_classes)
{
  g_auto(GStrv) parts = g_strsplit (text, ",", -1);
  guint n = g_strv_length (parts);
  g_autofree int *classes = NULL;

  if (n != 1 && n != (guint) n_images)
    {
      lens_cli_usage_error ("invariance", "--labels needs one class or one per image (%d), "
                            "not %u", n_images, n);
      return NULL;
    }
  classes = g_new (int, n_images);
  for (int i = 0; i < n_images; i++)
    {
      char *item = g_strstrip (parts[n == 1 ? 0 : i]);
      char *end;
      gint64 k = g_ascii_strtoll (item, &end, 10);
      int found = -1;

      if (*item != '\0' && *end == '\0')
        found = k >= 0 && k < n_classes ? (int) k : -2;
      else
        for (guint c = 0; profile != NULL && c < profile->n_labels; c++)
          if (g_strcmp0 (profile->labels[c], item) == 0)
            found = (int) c;
      if (found < 0)
        {
          lens_cli_usage_error ("invariance", "--labels: '%s' is not a class of the model "
                                "(an index below %d or a label name)", item, n_classes);
          return NULL;
        }
      classes[i] = found;
    }
  return g_steal_pointer (&classes);
}

static char *
image_label (const char *path)
{
  return g_path_get_basename (path);
}

static char *
to_csv (const LensInvariance *inv,
        char                **names)
{
  GString *csv = g_string_new ("image,file,transform,value,layer,distance,relative_distance,"
                               "true_class,probability,rank\n");

  for (int i = 0; i < inv->n_images; i++)
    for (int l = 0; l < inv->n_layers; l++)
      for (int v = 0; v < inv->n_values; v++)
        {
          gsize at = lens_invariance_index (inv, i, l, v), pv = (gsize) i * inv->n_values + v;
          char value[G_ASCII_DTOSTR_BUF_SIZE], d[G_ASCII_DTOSTR_BUF_SIZE];
          char r[G_ASCII_DTOSTR_BUF_SIZE], p[G_ASCII_DTOSTR_BUF_SIZE];
          g_autofree char *file = g_strdup (names[i]);

          /* A comma or quote in a file name would break the row. */
          g_strdelimit (file, ",\"\n\r", '_');
          g_string_append_printf (csv, "%d,%s,%s,%s,%s,%s,%s,%d,%s,%d\n", i, file,
                                  lens_transform_to_string (inv->transform),
                                  g_ascii_formatd (value, sizeof value, "%.9g", inv->values[v]),
                                  inv->layers[l],
                                  g_ascii_formatd (d, sizeof d, "%.9g", inv->distance[at]),
                                  isnan (inv->relative[at]) ? "nan"
                                  : g_ascii_formatd (r, sizeof r, "%.9g", inv->relative[at]),
                                  inv->true_class[i],
                                  g_ascii_formatd (p, sizeof p, "%.9g", inv->probability[pv]),
                                  inv->rank[pv]);
        }
  return g_string_free (csv, FALSE);
}

static void
add_number (JsonBuilder *b,
            double       v)
{
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

static void
print_json (const LensInvariance *inv,
            const char           *model,
            char                **names)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  lens_cli_json_add_string (b, model);
  json_builder_set_member_name (b, "transform");
  json_builder_add_string_value (b, lens_transform_to_string (inv->transform));
  json_builder_set_member_name (b, "values");
  json_builder_begin_array (b);
  for (int v = 0; v < inv->n_values; v++)
    json_builder_add_double_value (b, inv->values[v]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "fill");
  json_builder_begin_array (b);
  for (int c = 0; c < 3; c++)
    json_builder_add_double_value (b, inv->fill[c]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "images");
  json_builder_begin_array (b);
  for (int i = 0; i < inv->n_images; i++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "file");
      lens_cli_json_add_string (b, names[i]);
      json_builder_set_member_name (b, "true_class");
      json_builder_add_int_value (b, inv->true_class[i]);
      json_builder_set_member_name (b, "probability");
      json_builder_begin_array (b);
      for (int v = 0; v < inv->n_values; v++)
        add_number (b, inv->probability[(gsize) i * inv->n_values + v]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "rank");
      json_builder_begin_array (b);
      for (int v = 0; v < inv->n_values; v++)
        json_builder_add_int_value (b, inv->rank[(gsize) i * inv->n_values + v]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "layers");
      json_builder_begin_object (b);
      for (int l = 0; l < inv->n_layers; l++)
        {
          json_builder_set_member_name (b, inv->layers[l]);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "norm");
          add_number (b, inv->norm[(gsize) i * inv->n_layers + l]);
          json_builder_set_member_name (b, "distance");
          json_builder_begin_array (b);
          for (int v = 0; v < inv->n_values; v++)
            add_number (b, inv->distance[lens_invariance_index (inv, i, l, v)]);
          json_builder_end_array (b);
          json_builder_set_member_name (b, "relative_distance");
          json_builder_begin_array (b);
          for (int v = 0; v < inv->n_values; v++)
            add_number (b, inv->relative[lens_invariance_index (inv, i, l, v)]);
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  lens_cli_json_print (b, TRUE);
}

static const char *const x_labels[] = {
  "vertical translation (pixels)", "scale factor", "rotation (degrees)"
};

/* One panel per layer (relative distance per image), then the true class's
 * probability. */
static gboolean
write_figure (const LensInvariance *inv,
              const char           *path,
              const char           *model,
              char                **names,
              GError              **error)
{
  int n_panels = inv->n_layers + 1;
  g_autofree LensCliPanel *panels = g_new0 (LensCliPanel, n_panels);
  g_autofree LensCliSeries *series = g_new0 (LensCliSeries, (gsize) n_panels * inv->n_images);
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *title = NULL, *values = NULL;
  const char *transform = lens_transform_to_string (inv->transform);

  for (int l = 0; l <= inv->n_layers; l++)
    {
      LensCliPanel *p = &panels[l];
      LensCliSeries *s = series + (gsize) l * inv->n_images;

      p->n = inv->n_values;
      p->x = inv->values;
      p->x_label = x_labels[inv->transform];
      p->series = s;
      p->n_series = inv->n_images;
      for (int i = 0; i < inv->n_images; i++)
        {
          s[i].label = names[i];
          s[i].y = l < inv->n_layers ? inv->relative + lens_invariance_index (inv, i, l, 0)
                                     : inv->probability + (gsize) i * inv->n_values;
        }
      if (l < inv->n_layers)
        {
          char *t = g_strdup_printf ("%s: distance to the original / norm of the original",
                                     inv->layers[l]);

          g_ptr_array_add (strings, t);
          p->title = t;
          p->y_label = "relative distance";
          p->y_min = 0;
          p->y_max = NAN;
        }
      else
        {
          p->title = "probability of the true class";
          p->y_label = "probability";
          p->y_min = 0;
          p->y_max = 1;
        }
    }
  title = g_strdup_printf ("Invariance (%s), %d image%s", transform, inv->n_images,
                           inv->n_images == 1 ? "" : "s");
  values = g_strdup_printf ("%g:%g (%d values)", inv->values[0], inv->values[inv->n_values - 1],
                            inv->n_values);
  {
    g_autofree char *layers = g_strjoinv (",", inv->layers);
    const char *kv[] = { "Software", LENS_CLI_NAME " invariance", "Title", title,
                         "convlens:analysis", "invariance", "Model file", model,
                         "convlens:transform", transform, "convlens:values", values,
                         "convlens:layers", layers, NULL };

    return lens_cli_plot_save (path, title, panels, n_panels, kv, error);
  }
}

int
lens_cli_invariance (int    argc,
                     char **argv)
{
  LensCliCommon common = LENS_CLI_COMMON_INIT;
  g_autofree char *transform_text = NULL, *range = NULL, *layers_text = NULL, *output = NULL;
  g_autofree char *labels_text = NULL, *fill_text = NULL, *profile_path = NULL;
  gboolean json = FALSE, quiet = FALSE;
  int batch = 0;
  const GOptionEntry entries[] = {
    { "transform", 't', 0, G_OPTION_ARG_STRING, &transform_text,
      "translate (vertical, pixels), scale (factor) or rotate (degrees)", "T" },
    { "range", 'r', 0, G_OPTION_ARG_STRING, &range, "Transform values A, A+STEP, ... B",
      "A:B:STEP" },
    { "layers", 'l', 0, G_OPTION_ARG_STRING, &layers_text,
      "Layers to compare, comma-separated (names from 'info')", "L1,L2" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      "Write PREFIX.csv and PREFIX.png", "PREFIX" },
    { "labels", 0, 0, G_OPTION_ARG_STRING, &labels_text,
      "True class per image (index or label; one for all), default: the original's top class",
      "C1,C2" },
    { "fill", 0, 0, G_OPTION_ARG_STRING, &fill_text,
      "Background uncovered by the transform: mean (the model's, default), GRAY or R,G,B in "
      "[0,1]", "FILL" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Inputs per forward pass (16)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the results as JSON", NULL },
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile_path, "Preprocessing profile (JSON)",
      "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress on stderr", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(LensNet) net = NULL;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensInvariance) inv = NULL;
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func ((GDestroyNotify) lens_image_free);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree double *values = NULL;
  g_autofree int *classes = NULL;
  g_auto(GStrv) layers = NULL;
  LensInvarianceOptions opts;
  LensCliProgress progress = { 0 };
  int status = LENS_CLI_EXIT_OK, n_images;

  context = lens_cli_context_new ("invariance", "MODEL IMAGE...",
                                  "Translate, scale or rotate each IMAGE over a range and report "
                                  "the distance of the chosen layers' feature vectors to the "
                                  "original's and the probability and rank of the true class "
                                  "(Zeiler & Fergus, Fig. 5).",
                                  entries, &common);
  if (!lens_cli_parse (context, "invariance", &common, &argc, &argv))
    return LENS_CLI_EXIT_USAGE;
  if (argc < 3)
    return lens_cli_usage_error ("invariance", "expected MODEL and at least one IMAGE");
  if (transform_text == NULL || range == NULL || layers_text == NULL)
    return lens_cli_usage_error ("invariance", "--transform, --range and --layers are required");
  if (output == NULL && !json)
    return lens_cli_usage_error ("invariance", "give --output PREFIX, --json or both");

  lens_invariance_options_init (&opts);
  if (!lens_transform_from_string (transform_text, &opts.transform))
    return lens_cli_usage_error ("invariance", "--transform must be translate, scale or rotate, "
                                 "not '%s'", transform_text);
  if (!lens_invariance_parse_range (range, &values, &opts.n_values, &error))
    {
      g_autofree char *text = lens_cli_error_text (error);

      return lens_cli_usage_error ("invariance", "--range: %s", text);
    }
  opts.values = values;
  if (fill_text != NULL && !parse_fill (fill_text, &opts))
    return lens_cli_usage_error ("invariance", "--fill must be mean, a gray level or R,G,B in "
                                 "[0,1], not '%s'", fill_text);
  if (batch < 0)
    return lens_cli_usage_error ("invariance", "--batch must not be negative");
  opts.batch = batch;
  layers = g_strsplit (layers_text, ",", -1);
  for (char **l = layers; *l != NULL; l++)
    g_strstrip (*l);

  lens_cli_apply_threads (&common);
  net = lens_cli_load_net (argv[1], &common, &status);
  if (net == NULL)
    return status;
  profile = lens_cli_analysis_profile (net, argv[1], profile_path, &status);
  if (profile == NULL)
    return status;

  n_images = argc - 2;
  for (int i = 0; i < n_images; i++)
    {
      LensImage *image = lens_image_load (argv[2 + i], &error);

      if (image == NULL)
        return lens_cli_fail_file ("cannot read the image", argv[2 + i], error, NULL);
      g_ptr_array_add (images, image);
      g_ptr_array_add (names, image_label (argv[2 + i]));
    }
  if (labels_text != NULL)
    {
      int n_classes = (int) lens_analysis_value_size (net, lens_net_get_output_value (net));

      classes = parse_classes (labels_text, n_images, profile, n_classes);
      if (classes == NULL)
        return LENS_CLI_EXIT_USAGE;
    }

  lens_cli_progress_begin (&progress, "invariance", quiet);
  opts.progress = lens_cli_progress_cb;
  opts.user_data = &progress;
  inv = lens_invariance_run (net, &profile->pre, (LensImage * const *) images->pdata, n_images,
                             classes, (const char * const *) layers, &opts, progress.cancellable,
                             &error);
  lens_cli_progress_end (&progress);
  if (inv == NULL)
    {
      g_autofree char *text = lens_cli_error_text (error);

      if (g_error_matches (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_LAYER))
        return lens_cli_usage_error ("invariance", "%s", text);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return lens_cli_fail ("interrupted; nothing was written.");
      return lens_cli_fail ("%s.", text);
    }

  if (output != NULL)
    {
      g_autofree char *csv_path = g_strconcat (output, ".csv", NULL);
      g_autofree char *png_path = g_strconcat (output, ".png", NULL);
      g_autofree char *csv = to_csv (inv, (char **) names->pdata);

      if (!lens_cli_save_text (csv_path, csv, &error))
        return lens_cli_fail_file ("cannot write", csv_path, error, NULL);
      if (!write_figure (inv, png_path, argv[1], (char **) names->pdata, &error))
        return lens_cli_fail_file ("cannot write", png_path, error, NULL);
    }
  if (json)
    print_json (inv, argv[1], (char **) names->pdata);
  else
    for (int i = 0; i < n_images; i++)
      {
        printf ("%s (true class %d):\n%10s", (char *) names->pdata[i], inv->true_class[i],
                lens_transform_to_string (inv->transform));
        for (int l = 0; l < inv->n_layers; l++)
          printf (" %12.12s", inv->layers[l]);
        printf (" %11s %5s\n", "probability", "rank");
        for (int v = 0; v < inv->n_values; v++)
          {
            gsize pv = (gsize) i * inv->n_values + v;

            printf ("%10g", inv->values[v]);
            for (int l = 0; l < inv->n_layers; l++)
              printf (" %12.5g", inv->relative[lens_invariance_index (inv, i, l, v)]);
            printf (" %11.5f %5d\n", inv->probability[pv], inv->rank[pv]);
          }
      }
  return LENS_CLI_EXIT_OK;
}
