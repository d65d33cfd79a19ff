/* test-analyses.c: engine tests of the invariance, correspondence and
 * probe analyses that need no fixtures: the probe's trainer on synthetic
 * data with a known answer, hostile correspondence specs, image transforms
 * by hand, and cancellation. */
#include <math.h>
#include <string.h>

#include "lens-correspondence.h"
#include "lens-invariance.h"
#include "lens-probe.h"

static double
gaussian (GRand *rand)
{
  double u = g_rand_double_range (rand, 1e-12, 1), v = g_rand_double (rand);

  return sqrt (-2 * log (u)) * cos (2 * G_PI * v);
}

/* Three well separated blobs in 4-D: a linear classifier is ~100% right. */
static void
test_probe_separable (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  const int n = 600, d = 4, k = 3;
  g_autofree float *x = g_new (float, n * d);
  g_autofree int *y = g_new (int, n);
  g_autoptr(LensProbeClassifier) p = NULL;
  g_autoptr(GError) error = NULL;
  LensProbeOptions opts;

  for (int i = 0; i < n; i++)
    {
      y[i] = i % k;
      for (int j = 0; j < d; j++)
        x[i * d + j] = (float) ((j == y[i] ? 6.0 : 0.0) + 100.0 * (j == 3) + gaussian (rand));
    }
  lens_probe_options_init (&opts);
  p = lens_probe_train (x, y, n / 2, d, k, &opts, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);
  g_assert_cmpfloat (lens_probe_accuracy (p, x, y, n / 2), >=, 0.99);
  g_assert_cmpfloat (lens_probe_accuracy (p, x + (n / 2) * d, y + n / 2, n / 2), >=, 0.99);
  /* the constant-ish feature 3 (mean 100) is standardised, not a problem */
  g_assert_cmpfloat (fabs (p->mean[3] - 100.0), <, 0.5);
}

/* Random labels: memorised on the training set, chance on new data. */
static void
test_probe_random_labels (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (4);
  const int n_train = 120, n_test = 4000, d = 30, k = 4;
  g_autofree float *x = g_new (float, (n_train + n_test) * d);
  g_autofree int *y = g_new (int, n_train + n_test);
  g_autoptr(LensProbeClassifier) p = NULL;
  g_autoptr(GError) error = NULL;
  LensProbeOptions opts;
  double test_acc;

  for (int i = 0; i < n_train + n_test; i++)
    {
      y[i] = g_rand_int_range (rand, 0, k);
      for (int j = 0; j < d; j++)
        x[i * d + j] = (float) gaussian (rand);
    }
  lens_probe_options_init (&opts);
  opts.epochs = 100;
  p = lens_probe_train (x, y, n_train, d, k, &opts, NULL, &error);
  g_assert_no_error (error);
  test_acc = lens_probe_accuracy (p, x + n_train * d, y + n_train, n_test);
  /* chance is 0.25; 4000 draws have a standard deviation of 0.007 */
  g_assert_cmpfloat (fabs (test_acc - 0.25), <, 0.04);
  g_assert_cmpfloat (lens_probe_accuracy (p, x, y, n_train), >, 0.6);
}

static void
test_probe_bad_input (void)
{
  float x[4] = { 0, 1, 2, 3 };
  int y[4] = { 0, 1, 5, 0 };
  g_autoptr(GError) error = NULL;
  LensProbeOptions opts;

  lens_probe_options_init (&opts);
  g_assert_null (lens_probe_train (x, y, 4, 1, 2, &opts, NULL, &error));
  g_assert_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_DATA);
  g_clear_error (&error);
  g_assert_null (lens_probe_train (x, y, 4, 1, 1, &opts, NULL, &error));
  g_assert_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_INVALID);
}

static void
test_spec_valid (void)
{
  const char *text = "{\"fill\": [0.5, 0, 1], \"trials\": 3, \"seed\": 9, \"images\": ["
                     "{\"file\": \"a.png\", \"parts\": {\"eye\": [1, 2, 3, 4], "
                     "\"nose\": [[0, 0, 1, 1], [5, 5, 2, 2]]}},"
                     "{\"file\": \"b.png\", \"parts\": {\"nose\": [1, 1, 1, 1], "
                     "\"eye\": [0, 0, 2, 2]}}]}";
  g_autoptr(GError) error = NULL;
  /* not NUL-terminated: the parser must respect the length */
  g_autofree char *copy = g_memdup2 (text, strlen (text));
  g_autoptr(LensCorrespondenceSpec) spec = lens_correspondence_spec_parse (copy, strlen (text),
                                                                          &error);

  g_assert_no_error (error);
  g_assert_cmpint (spec->n_images, ==, 2);
  g_assert_cmpint (spec->n_parts, ==, 2);
  g_assert_cmpstr (spec->parts[0], ==, "eye");
  g_assert_cmpstr (spec->parts[1], ==, "nose");
  g_assert_false (spec->fill_mean);
  g_assert_cmpfloat (spec->fill[0], ==, 0.5f);
  g_assert_cmpint (spec->trials, ==, 3);
  g_assert_cmpuint (spec->seed, ==, 9);
  g_assert_cmpint (spec->images[0].n_boxes[1], ==, 2);
  g_assert_cmpint (spec->images[0].boxes[1][1].x, ==, 5);
  g_assert_cmpint (spec->images[1].boxes[0][0].width, ==, 2);   /* eye of b, reordered */
  g_assert_cmpstr (spec->images[1].path, ==, "b.png");
}

static void
test_spec_hostile (void)
{
  static const struct
  {
    const char *text;
    const char *needle;
  } cases[] = {
    { "", "top level" },
    { "[]", "top level" },
    { "{}", "\"images\"" },
    { "{\"images\": 5}", "\"images\"" },
    { "{\"images\": [1, 2]}", "image 1" },
    { "{\"images\": [{\"file\": \"a\", \"parts\": {\"e\": [0,0,1,1]}}]}", "2 to 1000" },
    { "{\"images\": [{\"file\": \"a\", \"parts\": {\"e\": [0,0,1,1]}},"
      "{\"file\": \"b\", \"parts\": {\"e\": [0,0,1,1.5]}}]}", "integers" },
    { "{\"images\": [{\"file\": \"a\", \"parts\": {\"e\": [0,0,1,1]}},"
      "{\"file\": \"b\", \"parts\": {\"e\": [0,0,1,9999999999]}}]}", "at most" },
    { "{\"images\": [{\"file\": \"a\", \"parts\": {\"e\": [0,0,1]}},"
      "{\"file\": \"b\", \"parts\": {\"e\": [0,0,1,1]}}]}", "[x, y, width, height]" },
    { "{\"images\": [{\"file\": \"a\", \"parts\": {\"e\": []}},"
      "{\"file\": \"b\", \"parts\": {\"e\": [0,0,1,1]}}]}", "1 to 64 boxes" },
    { "{\"images\": [{\"file\": \"a\", \"parts\": {}},"
      "{\"file\": \"b\", \"parts\": {\"e\": [0,0,1,1]}}]}", "1 to 64 named parts" },
    { "{\"images\": [{\"file\": \"\", \"parts\": {\"e\": [0,0,1,1]}},"
      "{\"file\": \"b\", \"parts\": {\"e\": [0,0,1,1]}}]}", "\"file\"" },
    { "{\"images\": [{\"file\": \"a\", \"parts\": {\"\": [0,0,1,1]}},"
      "{\"file\": \"b\", \"parts\": {\"e\": [0,0,1,1]}}]}", "part names" },
    { "{\"trials\": -1, \"images\": []}", "\"trials\"" },
    { "{\"seed\": 1e3, \"images\": []}", "\"seed\"" },
    { "{\"fill\": 2, \"images\": []}", "\"fill\"" },
    { "{\"fill\": \"black\", \"images\": []}", "\"fill\"" },
    { "{\"fill\": [0, 0], \"images\": []}", "\"fill\"" },
    { "{\"extra\": 1, \"images\": []}", "unknown member" },
    { "{\"images\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", "levels deep" },
    { "{\"images\": \"\xff\xfe\"}", "UTF-8" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      LensCorrespondenceSpec *spec = lens_correspondence_spec_parse (cases[i].text,
                                                                     strlen (cases[i].text),
                                                                     &error);

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, cases[i].text);
      g_assert_null (spec);
      g_assert_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_SPEC);
      g_test_message ("-> %s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i].needle));
    }
  /* An embedded NUL byte is not JSON text. */
  {
    g_autoptr(GError) error = NULL;

    g_assert_null (lens_correspondence_spec_parse ("{\"images\"\0: []}", 15, &error));
    g_assert_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_SPEC);
  }
  /* 300 part names: more than 64 */
  {
    GString *s = g_string_new ("{\"images\": [{\"file\": \"a\", \"parts\": {");
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;

    for (int i = 0; i < 300; i++)
      g_string_append_printf (s, "%s\"p%d\": [0,0,1,1]", i ? "," : "", i);
    g_string_append (s, "}}, {\"file\": \"b\", \"parts\": {\"p0\": [0,0,1,1]}}]}");
    text = g_string_free (s, FALSE);
    g_assert_null (lens_correspondence_spec_parse (text, strlen (text), &error));
    g_assert_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_SPEC);
  }
}

/* A 3x4 image moved down by one row and rotated by 180 degrees, by hand. */
static void
test_transform_by_hand (void)
{
  g_autoptr(LensImage) im = lens_image_new (3, 4);
  g_autoptr(LensImage) down = NULL, turned = NULL, half = NULL;
  g_autoptr(GError) error = NULL;
  const float fill[3] = { 0.25f, 0.5f, 0.75f };

  for (int p = 0; p < 12; p++)
    for (int c = 0; c < 3; c++)
      im->rgb[p * 3 + c] = (float) (p + 1) / 16;
  down = lens_image_transform (im, LENS_TRANSFORM_TRANSLATE, 1, fill, &error);
  g_assert_no_error (error);
  for (int x = 0; x < 3; x++)
    g_assert_cmpfloat (down->rgb[x * 3 + 1], ==, 0.5f);
  for (int p = 3; p < 12; p++)
    g_assert_cmpfloat (down->rgb[p * 3], ==, (float) (p - 3 + 1) / 16);
  turned = lens_image_transform (im, LENS_TRANSFORM_ROTATE, 180, fill, &error);
  for (int p = 0; p < 12; p++)
    g_assert_cmpfloat (turned->rgb[p * 3], ==, (float) (12 - p) / 16);
  /* half a row down: every row is the mean of two neighbours, the top one
   * half fill */
  half = lens_image_transform (im, LENS_TRANSFORM_TRANSLATE, 0.5, fill, &error);
  g_assert_cmpfloat_with_epsilon (half->rgb[0], 0.5f * 0.25f + 0.5f * 1 / 16.0f, 1e-6);
  g_assert_cmpfloat_with_epsilon (half->rgb[3 * 3], 0.5f * (1 + 4) / 16.0f, 1e-6);
  g_assert_null (lens_image_transform (im, LENS_TRANSFORM_SCALE, 0, fill, &error));
  g_assert_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_INVALID);
}

static void
cancel_after_first (gint64   done,
                    gint64   total,
                    gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

static void
test_cancel (void)
{
  g_autofree char *path = g_build_filename (SOURCE_DIR, "models", "zf-mini.onnx", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensNet) net = lens_net_load_onnx (path, NULL, &error);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(LensImage) im = lens_image_new (28, 28);
  LensImage *images[1] = { im };
  const char *layers[] = { "conv1", NULL };
  double values[40];
  LensInvarianceOptions opts;
  LensPreprocess pre = { .channels = 1, .height = 28, .width = 28, .scale = 1,
                         .mean = { 0 }, .std = { 1, 1, 1 } };

  g_assert_no_error (error);
  for (int i = 0; i < 40; i++)
    values[i] = i;
  lens_invariance_options_init (&opts);
  opts.values = values;
  opts.n_values = 40;
  opts.batch = 4;
  opts.progress = cancel_after_first;
  opts.user_data = cancellable;
  g_assert_null (lens_invariance_run (net, &pre, images, 1, NULL, layers, &opts, cancellable,
                                      &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/analyses/probe/separable", test_probe_separable);
  g_test_add_func ("/analyses/probe/random-labels", test_probe_random_labels);
  g_test_add_func ("/analyses/probe/bad-input", test_probe_bad_input);
  g_test_add_func ("/analyses/correspondence/spec-valid", test_spec_valid);
  g_test_add_func ("/analyses/correspondence/spec-hostile", test_spec_hostile);
  g_test_add_func ("/analyses/invariance/transform-by-hand", test_transform_by_hand);
  g_test_add_func ("/analyses/invariance/cancel", test_cancel);
  return g_test_run ();
}
