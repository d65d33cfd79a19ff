/* test-run.c: training end to end on a small Fashion-MNIST subset
 *
 *   - two epochs on 2,000 images lower the loss and reach a validation
 *     accuracy of at least 60% (chance is 10%; the full model reaches 92%);
 *   - the exported model loads back and predicts exactly what the
 *     in-memory network predicts;
 *   - the same seed gives the same weights, with the batch split over one
 *     or two workers alike in outcome for a fixed worker count;
 *   - the profile and labels files are written beside the model.
 * Skips when Debian's dataset-fashion-mnist is not installed.
 */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "lens-dataset.h"
#include "lens-net.h"
#include "lens-onnx-write.h"
#include "lens-profile.h"
#include "lens-train.h"

#define LIMIT        2000
#define ACCURACY_MIN 0.60

static LensDataset *train_data;
static LensDataset *test_data;

typedef struct
{
  double first_loss;
  double last_loss;
  int    reports;
} Progress;

static void
on_progress (const LensTrainProgress *p,
             gpointer                 user_data)
{
  Progress *pr = user_data;

  if (!p->epoch_done)
    return;
  if (pr->reports == 0)
    pr->first_loss = p->loss;
  pr->last_loss = p->loss;
  pr->reports++;
}

static LensTrainer *
train_small (const char *dir,
             int         workers,
             Progress   *progress)
{
  g_autoptr (GError) error = NULL;
  LensTrainOptions opt;
  LensTrainer *t;

  lens_train_options_init (&opt);
  opt.epochs = 2;
  opt.limit = LIMIT;
  opt.val_size = 500;
  opt.batch = 50;
  opt.lr = 0.02;
  opt.seed = 42;
  opt.workers = workers;
  opt.output_dir = dir;
  opt.dataset_label = "fashion-mnist";
  t = lens_trainer_new (&opt, train_data, &error);
  g_assert_no_error (error);
  lens_trainer_run (t, NULL, on_progress, progress, &error);
  g_assert_no_error (error);
  return t;
}

static void
test_short_run (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (LensTrainer) t = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LensNet) back = NULL;
  g_autoptr (LensDataset) sub = NULL;
  g_autoptr (LensProfile) profile = NULL;
  g_autofree int *idx = g_new (int, 500);
  g_autofree char *snapshot = NULL, *profile_path = NULL;
  Progress pr = { 0 };
  float mean[3], std[3];
  double acc_mem, acc_back;
  gint64 start = g_get_monotonic_time ();

  if (train_data == NULL)
    {
      g_test_skip ("dataset-fashion-mnist is not installed");
      return;
    }
  dir = g_dir_make_tmp ("convlens-train-XXXXXX", &error);
  g_assert_no_error (error);
  t = train_small (dir, 2, &pr);
  g_test_message ("2 epochs on %d images in %.1f s: loss %.3f -> %.3f, val %.3f", LIMIT,
                  (g_get_monotonic_time () - start) / 1e6, pr.first_loss, pr.last_loss,
                  lens_trainer_get_val_accuracy (t));
  g_assert_cmpint (pr.reports, ==, 2);
  /* the loss falls below chance level (ln 10 = 2.30) and keeps falling */
  g_assert_cmpfloat (pr.first_loss, <, 2.3);
  g_assert_cmpfloat (pr.last_loss, <, pr.first_loss);
  g_assert_cmpfloat (lens_trainer_get_val_accuracy (t), >=, ACCURACY_MIN);

  /* files: the model, its profile and labels, the snapshots */
  snapshot = g_build_filename (dir, "snapshots", "zf-mini-epoch-001.onnx", NULL);
  g_assert_true (g_file_test (snapshot, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpstr (lens_trainer_get_model_path (t), !=, NULL);
  profile_path = g_build_filename (dir, "zf-mini.convlens.json", NULL);
  profile = lens_profile_load (profile_path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (profile->pre.channels, ==, 1);
  g_assert_cmpuint (profile->n_labels, ==, 10);
  g_assert_cmpstr (profile->labels[0], ==, "T-shirt/top");
  g_assert_cmpstr (profile->labels[9], ==, "Ankle boot");

  /* the exported file predicts what the in-memory net predicts */
  back = lens_net_load_onnx (lens_trainer_get_model_path (t), NULL, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 500; i++)
    idx[i] = i;
  sub = lens_dataset_subset (test_data, idx, 500);
  lens_trainer_get_norm (t, mean, std);
  {
    g_autofree int *conf_mem = g_new0 (int, 100), *conf_back = g_new0 (int, 100);
    lens_train_evaluate (lens_trainer_get_net (t), sub, mean, std, 64, conf_mem, &acc_mem, NULL,
                         &error);
    g_assert_no_error (error);
    lens_train_evaluate (back, sub, mean, std, 64, conf_back, &acc_back, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (conf_mem, 100 * sizeof (int), conf_back, 100 * sizeof (int));
  }
  g_assert_cmpfloat (acc_mem, ==, acc_back);
  g_assert_cmpfloat (acc_back, >=, ACCURACY_MIN - 0.05);
  {
    /* and the probabilities themselves are identical */
    g_autoptr (LensTrace) a = lens_trace_new (lens_trainer_get_net (t), 4, &error);
    g_autoptr (LensTrace) b = lens_trace_new (back, 4, &error);
    gsize per = 28 * 28;
    for (int i = 0; i < 4; i++)
      {
        lens_dataset_get_floats (sub, i, mean, std, (float *) lens_trace_get_input (a)->data + per * i);
        lens_dataset_get_floats (sub, i, mean, std, (float *) lens_trace_get_input (b)->data + per * i);
      }
    g_assert_true (lens_trace_run (a, NULL, &error));
    g_assert_true (lens_trace_run (b, NULL, &error));
    g_assert_cmpmem (lens_trace_get_output (a)->data, lens_tensor_nbytes (lens_trace_get_output (a)),
                     lens_trace_get_output (b)->data, lens_tensor_nbytes (lens_trace_get_output (b)));
  }
  lens_trainer_free (g_steal_pointer (&t));
}

/* Same seed, same workers: bit-identical weights. */
static void
test_deterministic (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *d1 = NULL, *d2 = NULL, *m1 = NULL, *m2 = NULL;
  g_autofree char *c1 = NULL, *c2 = NULL;
  gsize l1, l2;
  Progress p1 = { 0 }, p2 = { 0 };
  LensTrainer *t;

  if (train_data == NULL)
    {
      g_test_skip ("dataset-fashion-mnist is not installed");
      return;
    }
  d1 = g_dir_make_tmp ("convlens-det-XXXXXX", &error);
  d2 = g_dir_make_tmp ("convlens-det-XXXXXX", &error);
  t = train_small (d1, 2, &p1);
  lens_trainer_free (t);
  t = train_small (d2, 2, &p2);
  lens_trainer_free (t);
  m1 = g_build_filename (d1, "zf-mini.onnx", NULL);
  m2 = g_build_filename (d2, "zf-mini.onnx", NULL);
  g_assert_true (g_file_get_contents (m1, &c1, &l1, NULL));
  g_assert_true (g_file_get_contents (m2, &c2, &l2, NULL));
  g_assert_cmpmem (c1, l1, c2, l2);
}

static void
test_missing_dataset (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LensDataset) d = lens_dataset_load_fashion_mnist ("/nonexistent-convlens", "train",
                                                               &error);

  g_assert_null (d);
  g_assert_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_MISSING);
  g_assert_nonnull (strstr (error->message, "dataset-fashion-mnist"));
}

int
main (int    argc,
      char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  train_data = lens_dataset_load_fashion_mnist (NULL, "train", &error);
  if (train_data != NULL)
    test_data = lens_dataset_load_fashion_mnist (NULL, "test", NULL);
  g_test_add_func ("/train/run/short", test_short_run);
  g_test_add_func ("/train/run/deterministic", test_deterministic);
  g_test_add_func ("/train/run/missing-dataset", test_missing_dataset);
  status = g_test_run ();
  lens_dataset_free (train_data);
  lens_dataset_free (test_data);
  return status;
}
