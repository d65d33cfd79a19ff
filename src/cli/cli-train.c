/* cli-train.c: `convlens-cli train`, `evaluate` and `evolution`
 *
 *   train --dataset fashion-mnist|FOLDER --arch zf-mini|alex-mini --epochs N
 *         --seed S --output DIR [--snapshots 1,2,5] [--resume] [--batch 128] [--lr 0.01]
 *   evaluate MODEL --dataset fashion-mnist|FOLDER [--split test] [--json]
 *   evolution (DIR | CHECKPOINT.onnx...) --layer NAME --output OUT.png
 */
#define G_LOG_DOMAIN "cli-train"

#include <glib-unix.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-common.h"
#include "cli-train.h"
#include "lens-dataset.h"
#include "lens-train.h"

/* ---- train ------------------------------------------------------------ */

typedef struct
{
  LensTrainer  *trainer;
  GCancellable *cancellable;
  GMainLoop    *loop;
  GError       *error;
  gboolean      ok;
  gboolean      interrupted;
} TrainJob;

static void
format_duration (char   *buf,
                 gsize   size,
                 double  secs)
{
  int s = (int) (secs + 0.5);

  if (s >= 3600)
    g_snprintf (buf, size, "%dh%02dm", s / 3600, (s / 60) % 60);
  else
    g_snprintf (buf, size, "%dm%02ds", s / 60, s % 60);
}

static void
on_progress (const LensTrainProgress *p,
             gpointer                 user_data)
{
  char eta[32];

  format_duration (eta, sizeof eta, p->eta_seconds);
  if (p->epoch_done)
    {
      fprintf (stderr, "\repoch %d/%d done: loss %.4f, train acc %.2f%%, val acc %.2f%%, "
               "lr %.2g, %.0f img/s, ETA %s%s%s\n",
               p->epoch, p->epochs, p->loss, 100.0 * p->train_accuracy,
               100.0 * p->val_accuracy, p->lr, p->images_per_second, eta,
               p->snapshot ? ", snapshot " : "", p->snapshot ? p->snapshot : "");
    }
  else
    fprintf (stderr, "\repoch %d/%d batch %d/%d: loss %.4f, acc %.2f%%, %.0f img/s, ETA %s   ",
             p->epoch, p->epochs, p->batch_index, p->n_batches, p->loss,
             100.0 * p->train_accuracy, p->images_per_second, eta);
  fflush (stderr);
}

static gpointer
train_thread (gpointer data)
{
  TrainJob *job = data;

  job->ok = lens_trainer_run (job->trainer, job->cancellable, on_progress, NULL, &job->error);
  g_main_loop_quit (job->loop);
  return NULL;
}

static gboolean
on_sigint (gpointer data)
{
  TrainJob *job = data;

  if (job->interrupted)
    return G_SOURCE_CONTINUE;
  job->interrupted = TRUE;
  fprintf (stderr, "\nStopping after this batch; saving a snapshot...\n");
  g_cancellable_cancel (job->cancellable);
  return G_SOURCE_CONTINUE;
}

static gboolean
parse_snapshots (const char *text,
                 GArray     *out)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);

  for (int i = 0; parts[i] != NULL; i++)
    {
      gint64 v;
      if (!g_ascii_string_to_signed (g_strstrip (parts[i]), 10, 1, 1000000, &v, NULL))
        return FALSE;
      g_array_append_val (out, (int) { (int) v });
    }
  return out->len > 0;
}

int
lens_cli_train (int    argc,
                char **argv)
{
  LensCliCommon common = LENS_CLI_COMMON_INIT;
  g_autofree char *dataset = NULL, *arch = NULL, *output = NULL, *snapshots = NULL;
  g_autofree char *name = NULL, *lr_steps = NULL, *widths = NULL;
  int fc_units = 0;
  int epochs = 20, batch = 128, limit = 0, val_size = 5000, patience = 2, seed = 1;
  int crop_pad = 2;
  double lr = 0.01, wd = 5e-4, radius = 0.1;
  gboolean resume = FALSE, no_augment = FALSE;
  const GOptionEntry entries[] = {
    { "dataset", 0, 0, G_OPTION_ARG_STRING, &dataset,
      "'fashion-mnist' or a folder with one sub-folder of images per class", "DATA" },
    { "arch", 0, 0, G_OPTION_ARG_STRING, &arch, "zf-mini (default) or alex-mini", "ARCH" },
    { "widths", 0, 0, G_OPTION_ARG_STRING, &widths,
      "Filters of conv1, conv2, conv3 (default: 32,64,128)", "A,B,C" },
    { "fc-units", 0, 0, G_OPTION_ARG_INT, &fc_units, "Units of fc6 (default: 256)", "N" },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &epochs, "Epochs (default: 20)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Random seed (default: 1)", "S" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      "Folder for the model, its profile, labels and snapshots", "DIR" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Model file name stem (default: ARCH)", "NAME" },
    { "snapshots", 0, 0, G_OPTION_ARG_STRING, &snapshots,
      "Epochs to keep a snapshot of (default: 1,2,5,10,20,50,... and the last)", "LIST" },
    { "resume", 0, 0, G_OPTION_ARG_NONE, &resume, "Continue the run saved in DIR", NULL },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Mini-batch size (default: 128)", "N" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &lr, "Initial learning rate (default: 0.01)", "LR" },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &wd, "Weight decay (default: 5e-4)", "WD" },
    { "patience", 0, 0, G_OPTION_ARG_INT, &patience,
      "Epochs without better validation accuracy before the rate drops x0.1 (default: 2)", "N" },
    { "lr-drop-at", 0, 0, G_OPTION_ARG_STRING, &lr_steps,
      "Also drop the rate x0.1 after these epochs (e.g. 6,9)", "LIST" },
    { "filter-radius", 0, 0, G_OPTION_ARG_DOUBLE, &radius,
      "Renormalise conv filters whose RMS exceeds this (default: 0.1; 0: off)", "R" },
    { "val-size", 0, 0, G_OPTION_ARG_INT, &val_size,
      "Held-out validation images (default: 5000)", "N" },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, "Train on only N images (default: all)", "N" },
    { "crop-pad", 0, 0, G_OPTION_ARG_INT, &crop_pad,
      "Random crops shift by up to N pixels (default: 2; 0: no crops)", "N" },
    { "no-augment", 0, 0, G_OPTION_ARG_NONE, &no_augment,
      "No random crops or flips", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GArray) snaps = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GArray) steps = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GArray) width_list = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (LensDataset) data = NULL;
  g_autoptr (GError) error = NULL;
  LensTrainOptions opt;
  TrainJob job = { 0 };
  GThread *thread;
  guint sig;
  int status = LENS_CLI_EXIT_OK;

  context = lens_cli_context_new ("train", "",
                                  "Train a ZF-style network on Fashion-MNIST or an image "
                                  "folder, with snapshots for the feature evolution.",
                                  entries, &common);
  if (!lens_cli_parse (context, "train", &common, &argc, &argv))
    status = LENS_CLI_EXIT_USAGE;
  else if (argc != 1)
    status = lens_cli_usage_error ("train", "unexpected argument '%s'", argv[1]);
  else if (dataset == NULL)
    status = lens_cli_usage_error ("train", "missing --dataset");
  else if (output == NULL)
    status = lens_cli_usage_error ("train", "missing --output DIR");
  else if (epochs < 1 || batch < 1 || batch > 4096 || lr <= 0.0 || seed < 0)
    status = lens_cli_usage_error ("train", "--epochs, --batch, --lr must be positive and "
                                   "--seed at least 0");
  else if (snapshots != NULL && !parse_snapshots (snapshots, snaps))
    status = lens_cli_usage_error ("train", "--snapshots must be a list of epochs such as 1,2,5");
  else if (lr_steps != NULL && !parse_snapshots (lr_steps, steps))
    status = lens_cli_usage_error ("train", "--lr-drop-at must be a list of epochs such as 6,9");
  else if (widths != NULL && (!parse_snapshots (widths, width_list) || width_list->len != 3 ||
                              g_array_index (width_list, int, 0) > 1024 ||
                              g_array_index (width_list, int, 1) > 1024 ||
                              g_array_index (width_list, int, 2) > 1024))
    status = lens_cli_usage_error ("train", "--widths must be three filter counts (1 to 1024) "
                                   "such as 48,96,192");
  else if (fc_units < 0 || fc_units > 8192)
    status = lens_cli_usage_error ("train", "--fc-units must be between 1 and 8192");
  if (status != LENS_CLI_EXIT_OK)
    {
      lens_cli_common_clear (&common);
      return status;
    }

  lens_cli_apply_threads (&common);
  lens_cli_common_clear (&common);
  data = lens_dataset_load (dataset, "train", 0, 0, 0, &error);
  if (data == NULL)
    return lens_cli_fail_file ("cannot load data set", dataset, error, NULL);

  lens_train_options_init (&opt);
  opt.arch = arch ? arch : "zf-mini";
  opt.name = name;
  for (guint i = 0; i < width_list->len; i++)
    opt.conv_widths[i] = g_array_index (width_list, int, i);
  opt.fc_units = fc_units;
  opt.epochs = epochs;
  opt.batch = batch;
  opt.seed = (guint32) seed;
  opt.lr = lr;
  opt.weight_decay = wd;
  opt.patience = MAX (patience, 1);
  opt.filter_radius = radius;
  opt.val_size = MAX (val_size, 0);
  opt.limit = MAX (limit, 0);
  opt.output_dir = output;
  opt.resume = resume;
  opt.dataset_label = dataset;
  opt.crop_pad = CLAMP (crop_pad, 0, 8);
  if (no_augment)
    {
      opt.crop_pad = 0;
      opt.flip = FALSE;
    }
  if (snaps->len > 0)
    {
      opt.snapshots = (const int *) (void *) snaps->data;
      opt.n_snapshots = (int) snaps->len;
    }
  if (steps->len > 0)
    {
      opt.lr_steps = (const int *) (void *) steps->data;
      opt.n_lr_steps = (int) steps->len;
    }
  if (g_mkdir_with_parents (output, 0755) != 0)
    return lens_cli_fail ("cannot create the output folder '%s'", output);

  job.trainer = lens_trainer_new (&opt, data, &error);
  if (job.trainer == NULL)
    {
      g_autofree char *text = lens_cli_error_text (error);
      return lens_cli_fail ("cannot start training: %s", text);
    }
  g_clear_pointer (&data, lens_dataset_free);
  fprintf (stderr, "training %s on %s, %d epochs, batch %d, seed %d, %d thread(s)\n",
           opt.arch, dataset, epochs, batch, seed, lens_get_threads ());

  job.cancellable = g_cancellable_new ();
  job.loop = g_main_loop_new (NULL, FALSE);
  sig = g_unix_signal_add (SIGINT, on_sigint, &job);
  thread = g_thread_new ("train", train_thread, &job);
  g_main_loop_run (job.loop);
  g_thread_join (thread);
  g_source_remove (sig);

  if (!job.ok)
    {
      g_autofree char *text = lens_cli_error_text (job.error);
      status = lens_cli_fail ("%s", text);
      g_clear_error (&job.error);
    }
  else
    {
      fprintf (stderr, "model written to %s (validation accuracy %.2f%%)\n",
               lens_trainer_get_model_path (job.trainer),
               100.0 * lens_trainer_get_val_accuracy (job.trainer));
      printf ("%s\n", lens_trainer_get_model_path (job.trainer));
    }
  lens_trainer_free (job.trainer);
  g_object_unref (job.cancellable);
  g_main_loop_unref (job.loop);
  return status;
}

/* ---- evaluate --------------------------------------------------------- */

int
lens_cli_evaluate (int    argc,
                   char **argv)
{
  LensCliCommon common = LENS_CLI_COMMON_INIT;
  g_autofree char *dataset = NULL, *split = NULL, *profile_path = NULL;
  gboolean json = FALSE;
  int batch = 128;
  const GOptionEntry entries[] = {
    { "dataset", 0, 0, G_OPTION_ARG_STRING, &dataset,
      "'fashion-mnist' or a folder with one sub-folder of images per class", "DATA" },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split, "train or test (default: test)", "SPLIT" },
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile_path,
      "Profile giving the input normalisation (default: the one beside MODEL)", "FILE" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Images per pass (default: 128)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (LensNet) net = NULL;
  g_autoptr (LensProfile) profile = NULL;
  g_autoptr (LensDataset) data = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree int *confusion = NULL;
  const LensShape *in;
  float mean[3] = { 0 }, std[3] = { 1, 1, 1 };
  double accuracy;
  int status = LENS_CLI_EXIT_OK, k;

  context = lens_cli_context_new ("evaluate", "MODEL",
                                  "Accuracy, per-class accuracy and confusion matrix of MODEL "
                                  "on a labelled data set.", entries, &common);
  if (!lens_cli_parse (context, "evaluate", &common, &argc, &argv))
    status = LENS_CLI_EXIT_USAGE;
  else if (argc != 2)
    status = lens_cli_usage_error ("evaluate", argc < 2 ? "missing MODEL"
                                   : "too many arguments (expected only MODEL)");
  else if (dataset == NULL)
    status = lens_cli_usage_error ("evaluate", "missing --dataset");
  else if (split != NULL && g_strcmp0 (split, "test") != 0 && g_strcmp0 (split, "train") != 0)
    status = lens_cli_usage_error ("evaluate", "--split must be train or test");
  if (status != LENS_CLI_EXIT_OK)
    {
      lens_cli_common_clear (&common);
      return status;
    }
  lens_cli_apply_threads (&common);
  net = lens_cli_load_net (argv[1], &common, &status);
  lens_cli_common_clear (&common);
  if (net == NULL)
    return status;
  in = lens_net_get_input_shape (net);
  if (in->ndim != 4)
    return lens_cli_fail ("model '%s' does not take images", argv[1]);

  profile = profile_path ? lens_profile_load (profile_path, &error)
                         : lens_profile_guess (argv[1], (int) in->dims[1], (int) in->dims[2],
                                              (int) in->dims[3], &error);
  if (profile == NULL)
    return lens_cli_fail_file ("cannot read the profile of", argv[1], error, NULL);
  for (int c = 0; c < 3; c++)
    {
      /* the profile's value = (pixel * scale - mean) / std */
      mean[c] = profile->pre.mean[c] / profile->pre.scale;
      std[c] = profile->pre.std[c] / profile->pre.scale;
    }
  data = lens_dataset_load (dataset, split ? split : "test", (int) in->dims[1], (int) in->dims[2],
                            (int) in->dims[3], &error);
  if (data == NULL)
    return lens_cli_fail_file ("cannot load data set", dataset, error, NULL);
  k = data->n_classes;
  confusion = g_new0 (int, k * k);
  if (!lens_train_evaluate (net, data, mean, std, batch, confusion, &accuracy, NULL, &error))
    {
      g_autofree char *text = lens_cli_error_text (error);
      return lens_cli_fail ("cannot evaluate '%s': %s", argv[1], text);
    }

  if (json)
    {
      g_autoptr (JsonBuilder) jb = json_builder_new ();

      json_builder_begin_object (jb);
      json_builder_set_member_name (jb, "model");
      lens_cli_json_add_string (jb, argv[1]);
      json_builder_set_member_name (jb, "dataset");
      lens_cli_json_add_string (jb, data->name);
      json_builder_set_member_name (jb, "images");
      json_builder_add_int_value (jb, data->n);
      json_builder_set_member_name (jb, "accuracy");
      json_builder_add_double_value (jb, accuracy);
      json_builder_set_member_name (jb, "classes");
      json_builder_begin_array (jb);
      for (int i = 0; i < k; i++)
        {
          int total = 0;
          for (int j = 0; j < k; j++)
            total += confusion[i * k + j];
          json_builder_begin_object (jb);
          json_builder_set_member_name (jb, "name");
          lens_cli_json_add_string (jb, data->class_names[i]);
          json_builder_set_member_name (jb, "images");
          json_builder_add_int_value (jb, total);
          json_builder_set_member_name (jb, "accuracy");
          json_builder_add_double_value (jb, total ? (double) confusion[i * k + i] / total : 0.0);
          json_builder_end_object (jb);
        }
      json_builder_end_array (jb);
      json_builder_set_member_name (jb, "confusion");
      json_builder_begin_array (jb);
      for (int i = 0; i < k; i++)
        {
          json_builder_begin_array (jb);
          for (int j = 0; j < k; j++)
            json_builder_add_int_value (jb, confusion[i * k + j]);
          json_builder_end_array (jb);
        }
      json_builder_end_array (jb);
      json_builder_end_object (jb);
      lens_cli_json_print (jb, FALSE);
      return LENS_CLI_EXIT_OK;
    }

  printf ("model:    %s\n", argv[1]);
  printf ("data:     %s, %d images\n", data->name, data->n);
  printf ("accuracy: %.2f%%\n\nper class:\n", 100.0 * accuracy);
  for (int i = 0; i < k; i++)
    {
      int total = 0;
      for (int j = 0; j < k; j++)
        total += confusion[i * k + j];
      printf ("  %2d %-16s %6.2f%%  (%d images)\n", i, data->class_names[i],
              total ? 100.0 * confusion[i * k + i] / total : 0.0, total);
    }
  printf ("\nconfusion (rows: true class, columns: predicted):\n    ");
  for (int j = 0; j < k; j++)
    printf ("%6d", j);
  printf ("\n");
  for (int i = 0; i < k; i++)
    {
      printf ("  %2d", i);
      for (int j = 0; j < k; j++)
        printf ("%6d", confusion[i * k + j]);
      printf ("\n");
    }
  return LENS_CLI_EXIT_OK;
}
