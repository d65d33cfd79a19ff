/* cli-probe.c: `convlens-cli probe`, the paper's section 5.3: how linearly
 * separable the classes are in each layer's features, measured with a
 * softmax classifier trained on them.
 */
#define G_LOG_DOMAIN "cli-probe"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli-analysis.h"
#include "cli-common.h"
#include "lens-probe.h"

int lens_cli_probe (int argc, char **argv);

/* The first n images (all when n is 0 or larger than the set). */
static LensDataset *
take_first (LensDataset *ds,
            int          n)
{
  g_autofree int *idx = NULL;

  if (n <= 0 || n >= ds->n)
    return ds;
  idx = g_new (int, n);
  for (int i = 0; i < n; i++)
    idx[i] = i;
  {
    LensDataset *sub = lens_dataset_subset (ds, idx, n);

    lens_dataset_free (ds);
    return sub;
  }
}

static int
compare_int (gconstpointer a,
             gconstpointer b)
{
  return *(const int *) a - *(const int *) b;
}

/* A seeded split of a folder data set: within each class, a shuffled
 * fraction goes to the test set (at least one image per class when the
 * class has two or more). */
static void
split_folder (const LensDataset *ds,
              double             fraction,
              guint32            seed,
              LensDataset      **train,
              LensDataset      **test)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GArray) tr = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GArray) te = g_array_new (FALSE, FALSE, sizeof (int));

  for (int c = 0; c < ds->n_classes; c++)
    {
      g_autoptr(GArray) members = g_array_new (FALSE, FALSE, sizeof (int));
      int n_test;

      for (int i = 0; i < ds->n; i++)
        if (ds->labels[i] == c)
          g_array_append_val (members, i);
      for (int i = (int) members->len - 1; i > 0; i--)
        {
          int j = g_rand_int_range (rand, 0, i + 1);
          int t = g_array_index (members, int, i);

          g_array_index (members, int, i) = g_array_index (members, int, j);
          g_array_index (members, int, j) = t;
        }
      n_test = (int) lround (fraction * members->len);
      if (members->len >= 2)
        n_test = CLAMP (n_test, 1, (int) members->len - 1);
      for (guint k = 0; k < members->len; k++)
        g_array_append_val ((int) k < n_test ? te : tr, g_array_index (members, int, k));
    }
  /* Keep the data set's order inside each part. */
  g_array_sort (tr, compare_int);
  g_array_sort (te, compare_int);
  *train = lens_dataset_subset (ds, (int *) tr->data, (int) tr->len);
  *test = lens_dataset_subset (ds, (int *) te->data, (int) te->len);
}

static void
print_json (const LensProbeResult  *r,
            const LensProbeOptions *o,
            const char             *model,
            const char             *dataset)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  lens_cli_json_add_string (b, model);
  json_builder_set_member_name (b, "dataset");
  lens_cli_json_add_string (b, dataset);
  json_builder_set_member_name (b, "train_images");
  json_builder_add_int_value (b, r->n_train);
  json_builder_set_member_name (b, "test_images");
  json_builder_add_int_value (b, r->n_test);
  json_builder_set_member_name (b, "classes");
  json_builder_add_int_value (b, r->n_classes);
  json_builder_set_member_name (b, "pool");
  json_builder_add_string_value (b, lens_probe_pool_to_string (o->pool));
  json_builder_set_member_name (b, "epochs");
  json_builder_add_int_value (b, o->epochs);
  json_builder_set_member_name (b, "learning_rate");
  json_builder_add_double_value (b, o->learning_rate);
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, o->seed);
  json_builder_set_member_name (b, "model_accuracy");
  if (isfinite (r->model_accuracy))
    json_builder_add_double_value (b, r->model_accuracy);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "layers");
  json_builder_begin_array (b);
  for (int l = 0; l < r->n_layers; l++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      lens_cli_json_add_string (b, r->layers[l]);
      json_builder_set_member_name (b, "features");
      json_builder_add_int_value (b, r->n_features[l]);
      json_builder_set_member_name (b, "train_accuracy");
      json_builder_add_double_value (b, r->train_accuracy[l]);
      json_builder_set_member_name (b, "test_accuracy");
      json_builder_add_double_value (b, r->test_accuracy[l]);
      json_builder_set_member_name (b, "loss");
      json_builder_add_double_value (b, r->loss[l]);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  lens_cli_json_print (b, TRUE);
}

static void
print_table (const LensProbeResult *r)
{
  printf ("linear probes: %d training and %d test images, %d classes\n", r->n_train, r->n_test,
          r->n_classes);
  printf ("%-16s %9s %10s %10s %8s\n", "layer", "features", "train acc", "test acc", "loss");
  for (int l = 0; l < r->n_layers; l++)
    printf ("%-16.16s %9d %9.2f%% %9.2f%% %8.4f\n", r->layers[l], r->n_features[l],
            100 * r->train_accuracy[l], 100 * r->test_accuracy[l], r->loss[l]);
  if (isfinite (r->model_accuracy))
    printf ("the model itself: %.2f%% on the test images\n", 100 * r->model_accuracy);
}

static gboolean
write_figure (const LensProbeResult  *r,
              const LensProbeOptions *o,
              const char             *path,
              const char             *model,
              const char             *dataset,
              GError                **error)
{
  g_autofree double *model_line = g_new (double, r->n_layers);
  g_autofree char *title = NULL, *n_text = NULL;
  g_autofree char *layers = g_strjoinv (",", r->layers);
  LensCliSeries series[3] = {
    { "train accuracy", r->train_accuracy },
    { "test accuracy", r->test_accuracy },
    { "the model (test)", model_line },
  };
  LensCliPanel panel = {
    .title = "accuracy of a softmax classifier on each layer's features",
    .x_label = "layer",
    .y_label = "accuracy",
    .n = r->n_layers,
    .x_names = (const char * const *) r->layers,
    .y_min = 0,
    .y_max = 1,
    .series = series,
    .n_series = isfinite (r->model_accuracy) ? 3 : 2,
  };

  for (int l = 0; l < r->n_layers; l++)
    model_line[l] = r->model_accuracy;
  title = g_strdup_printf ("Linear probes (%s pooling), %d training / %d test images",
                           lens_probe_pool_to_string (o->pool), r->n_train, r->n_test);
  n_text = g_strdup_printf ("%d/%d", r->n_train, r->n_test);
  {
    const char *kv[] = { "Software", LENS_CLI_NAME " probe", "Title", title,
                         "convlens:analysis", "probe", "Model file", model,
                         "convlens:dataset", dataset, "convlens:layers", layers,
                         "convlens:images", n_text, NULL };

    return lens_cli_plot_save (path, title, &panel, 1, kv, error);
  }
}

int
lens_cli_probe (int    argc,
                char **argv)
{
  LensCliCommon common = LENS_CLI_COMMON_INIT;
  g_autofree char *layers_text = NULL, *output = NULL, *pool_text = NULL, *profile_path = NULL;
  gboolean json = FALSE, quiet = FALSE;
  int train_limit = 10000, test_limit = 0, epochs = 30, batch = 64;
  double lr = 0.1, test_fraction = 0.2, weight_decay = 1e-4;
  gint64 seed = 1;
  const GOptionEntry entries[] = {
    { "layers", 'l', 0, G_OPTION_ARG_STRING, &layers_text,
      "Layers to probe, comma-separated (names from 'info')", "L1,L2" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "PNG plot of the accuracies",
      "OUT.png" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the results as JSON", NULL },
    { "pool", 0, 0, G_OPTION_ARG_STRING, &pool_text,
      "Spatial pooling of [N,C,H,W] features: mean (default), max or none", "P" },
    { "train-limit", 0, 0, G_OPTION_ARG_INT, &train_limit,
      "Fashion-MNIST: the first N training images (10000; 0: all 60000)", "N" },
    { "test-limit", 0, 0, G_OPTION_ARG_INT, &test_limit,
      "Fashion-MNIST: the first N test images (0: all)", "N" },
    { "test-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &test_fraction,
      "Folder: the fraction of each class held out for testing (0.2)", "F" },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &epochs, "Training epochs (30)", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Mini-batch size (64)", "N" },
    { "learning-rate", 0, 0, G_OPTION_ARG_DOUBLE, &lr, "Initial learning rate (0.1)", "LR" },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &weight_decay, "L2 weight decay (1e-4)", "W" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of the shuffles and the split (1)", "S" },
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile_path, "Preprocessing profile (JSON)",
      "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress on stderr", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(LensNet) net = NULL;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensDataset) train = NULL;
  g_autoptr(LensDataset) test = NULL;
  g_autoptr(LensProbeResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) layers = NULL;
  LensProbeOptions opts;
  LensCliProgress progress = { 0 };
  const char *dataset;
  int status = LENS_CLI_EXIT_OK;

  context = lens_cli_context_new ("probe", "MODEL DATASET",
                                  "Train a softmax classifier on each chosen layer's (pooled) "
                                  "features and report its training and test accuracy "
                                  "(Zeiler & Fergus, section 5.3).  DATASET is fashion-mnist "
                                  "(trains on the training split, tests on the test split) or a "
                                  "folder with one sub-folder per class.",
                                  entries, &common);
  if (!lens_cli_parse (context, "probe", &common, &argc, &argv))
    return LENS_CLI_EXIT_USAGE;
  if (argc != 3)
    return lens_cli_usage_error ("probe", "expected MODEL and DATASET");
  if (layers_text == NULL)
    return lens_cli_usage_error ("probe", "--layers is required");

  lens_probe_options_init (&opts);
  if (pool_text != NULL && !lens_probe_pool_from_string (pool_text, &opts.pool))
    return lens_cli_usage_error ("probe", "--pool must be mean, max or none, not '%s'",
                                 pool_text);
  if (train_limit < 0 || test_limit < 0)
    return lens_cli_usage_error ("probe", "--train-limit and --test-limit must not be negative");
  if (!(test_fraction > 0 && test_fraction < 1))
    return lens_cli_usage_error ("probe", "--test-fraction must lie between 0 and 1");
  if (epochs < 1 || epochs > 100000 || batch < 1 || !(lr > 0 && lr < 1e3) ||
      !(weight_decay >= 0 && weight_decay < 1e3))
    return lens_cli_usage_error ("probe", "--epochs (1 to 100000), --batch and --learning-rate "
                                 "must be positive and --weight-decay not negative");
  if (seed < 0 || seed > G_MAXUINT32)
    return lens_cli_usage_error ("probe", "--seed must be 0 to %u", G_MAXUINT32);
  opts.epochs = epochs;
  opts.batch = batch;
  opts.learning_rate = lr;
  opts.weight_decay = weight_decay;
  opts.seed = (guint32) seed;
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

  dataset = argv[2];
  if (g_strcmp0 (dataset, "fashion-mnist") == 0)
    {
      train = lens_dataset_load_fashion_mnist (NULL, "train", &error);
      if (train != NULL)
        test = lens_dataset_load_fashion_mnist (NULL, "test", &error);
      if (train == NULL || test == NULL)
        return lens_cli_fail_file ("cannot open the data set", dataset, error, NULL);
      train = take_first (g_steal_pointer (&train), train_limit);
      test = take_first (g_steal_pointer (&test), test_limit);
    }
  else
    {
      g_autoptr(LensDataset) all = lens_dataset_load_folder (dataset, profile->pre.channels,
                                                             profile->pre.height,
                                                             profile->pre.width, &error);

      if (all == NULL)
        return lens_cli_fail_file ("cannot open the data set", dataset, error,
                                   "Give fashion-mnist or a folder with one sub-folder per class");
      split_folder (all, test_fraction, opts.seed, &train, &test);
      if (train->n < 1 || test->n < 1)
        return lens_cli_fail ("the data set '%s' has too few images to split into training and "
                              "test images.", dataset);
    }

  lens_cli_progress_begin (&progress, "probe", quiet);
  opts.progress = lens_cli_progress_cb;
  opts.user_data = &progress;
  result = lens_probe_run (net, &profile->pre, train, test, (const char * const *) layers, &opts,
                           progress.cancellable, &error);
  lens_cli_progress_end (&progress);
  if (result == NULL)
    {
      g_autofree char *text = lens_cli_error_text (error);

      if (g_error_matches (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_LAYER))
        return lens_cli_usage_error ("probe", "%s", text);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return lens_cli_fail ("interrupted; nothing was written.");
      return lens_cli_fail ("%s.", text);
    }
  if (output != NULL && !write_figure (result, &opts, output, argv[1], dataset, &error))
    return lens_cli_fail_file ("cannot write", output, error, NULL);
  if (json)
    print_json (result, &opts, argv[1], dataset);
  else
    print_table (result);
  return LENS_CLI_EXIT_OK;
}
