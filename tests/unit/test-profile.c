/* test-profile.c: *.convlens.json profiles and guessed defaults */
#include <math.h>
#include <string.h>

#include "lens-profile.h"
#include "unit-util.h"

static char *tmpdir;

static char *
write_text (const char *name,
            const char *text)
{
  return unit_write_file (tmpdir, name, text, strlen (text));
}

static void
test_load_full (void)
{
  g_autofree char *labels = write_text ("my-labels.txt", "zero\none\r\ntwo\n");
  g_autofree char *path = write_text ("full.convlens.json",
    "{\n"
    "  \"name\": \"Caffe AlexNet\",\n"
    "  \"description\": \"BGR, 0-255 input\",\n"
    "  \"input\": {\n"
    "    \"channels\": 3, \"height\": 227, \"width\": 227, \"resize\": 256,\n"
    "    \"scale\": 255, \"mean\": [104.0, 117, 123.5], \"std\": [1, 1, 1],\n"
    "    \"channel_order\": \"BGR\"\n"
    "  },\n"
    "  \"labels\": \"my-labels.txt\"\n"
    "}\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(LensProfile) p = lens_profile_load (path, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (p->name, ==, "Caffe AlexNet");
  g_assert_cmpint (p->pre.channels, ==, 3);
  g_assert_cmpint (p->pre.height, ==, 227);
  g_assert_cmpint (p->pre.width, ==, 227);
  g_assert_cmpint (p->pre.resize_shorter, ==, 256);
  g_assert_cmpfloat (p->pre.scale, ==, 255.0f);
  g_assert_cmpfloat (p->pre.mean[0], ==, 104.0f);
  g_assert_cmpfloat (p->pre.mean[1], ==, 117.0f);
  g_assert_cmpfloat (p->pre.mean[2], ==, 123.5f);
  g_assert_cmpfloat (p->pre.std[2], ==, 1.0f);
  g_assert_true (p->pre.bgr);
  /* relative to the profile's folder */
  g_assert_cmpstr (p->labels_path, ==, labels);
  g_assert_cmpuint (p->n_labels, ==, 3);
  g_assert_cmpstr (lens_profile_get_label (p, 1), ==, "one");
  g_assert_null (lens_profile_get_label (p, 3));
}

static void
test_load_minimal (void)
{
  g_autofree char *path = write_text ("mnist-net.convlens.json",
    "{\"input\": {\"channels\": 1, \"height\": 28, \"width\": 28}}");
  g_autoptr(GError) error = NULL;
  g_autoptr(LensProfile) p = lens_profile_load (path, &error);

  g_assert_no_error (error);
  /* the name defaults to the file name without .convlens.json */
  g_assert_cmpstr (p->name, ==, "mnist-net");
  g_assert_cmpint (p->pre.channels, ==, 1);
  g_assert_cmpint (p->pre.resize_shorter, ==, 0);
  g_assert_cmpfloat (p->pre.scale, ==, 1.0f);
  g_assert_cmpfloat (p->pre.mean[0], ==, 0.0f);
  g_assert_cmpfloat (p->pre.std[0], ==, 1.0f);
  g_assert_false (p->pre.bgr);
  g_assert_null (p->labels);
  g_assert_null (p->labels_path);
  g_assert_cmpuint (p->n_labels, ==, 0);
  g_assert_null (lens_profile_get_label (p, 0));
}

static void
test_load_absolute_labels (void)
{
  g_autofree char *labels = write_text ("abs.txt", "a\nb\n");
  g_autofree char *json = g_strdup_printf (
    "{\"input\": {\"channels\": 3, \"height\": 32, \"width\": 32}, \"labels\": \"%s\"}", labels);
  g_autofree char *path = write_text ("abs.json", json);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensProfile) p = lens_profile_load (path, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (p->name, ==, "abs");
  g_assert_cmpstr (p->labels_path, ==, labels);
  g_assert_cmpuint (p->n_labels, ==, 2);
}

typedef struct
{
  const char *json;
  int         code;
  const char *field;   /* must appear in the message */
} BadCase;

#define IN(rest) "{\"input\": {\"channels\": 3, \"height\": 224, \"width\": 224" rest "}}"

static void
test_invalid (void)
{
  static const BadCase cases[] = {
    { "{\"input\": ", LENS_PROFILE_ERROR_PARSE, NULL },
    { "", LENS_PROFILE_ERROR_PARSE, NULL },
    { "[1, 2]", LENS_PROFILE_ERROR_INVALID, NULL },
    { "{}", LENS_PROFILE_ERROR_INVALID, "“input”" },
    { "{\"input\": 3}", LENS_PROFILE_ERROR_INVALID, "“input”" },
    { "{\"inptu\": {}}", LENS_PROFILE_ERROR_INVALID, "“inptu”" },
    { "{\"input\": {\"height\": 224, \"width\": 224}}", LENS_PROFILE_ERROR_INVALID,
      "“input.channels”" },
    { "{\"input\": {\"channels\": 2, \"height\": 224, \"width\": 224}}",
      LENS_PROFILE_ERROR_INVALID, "“input.channels”" },
    { "{\"input\": {\"channels\": \"3\", \"height\": 224, \"width\": 224}}",
      LENS_PROFILE_ERROR_INVALID, "“input.channels”" },
    { "{\"input\": {\"channels\": 3, \"height\": 0, \"width\": 224}}",
      LENS_PROFILE_ERROR_INVALID, "“input.height”" },
    { "{\"input\": {\"channels\": 3, \"height\": 224.5, \"width\": 224}}",
      LENS_PROFILE_ERROR_INVALID, "“input.height”" },
    { "{\"input\": {\"channels\": 3, \"height\": 224}}", LENS_PROFILE_ERROR_INVALID,
      "“input.width”" },
    { "{\"input\": {\"channels\": 3, \"height\": 224, \"width\": 100000}}",
      LENS_PROFILE_ERROR_INVALID, "“input.width”" },
    { "{\"input\": {\"channels\": 3, \"height\": 224, \"width\": -5}}",
      LENS_PROFILE_ERROR_INVALID, "“input.width”" },
    { IN (", \"resize\": 100"), LENS_PROFILE_ERROR_INVALID, "“input.resize”" },
    { IN (", \"resize\": -1"), LENS_PROFILE_ERROR_INVALID, "“input.resize”" },
    { IN (", \"resize\": true"), LENS_PROFILE_ERROR_INVALID, "“input.resize”" },
    { IN (", \"scale\": 0"), LENS_PROFILE_ERROR_INVALID, "“input.scale”" },
    { IN (", \"scale\": -1.5"), LENS_PROFILE_ERROR_INVALID, "“input.scale”" },
    { IN (", \"scale\": \"255\""), LENS_PROFILE_ERROR_INVALID, "“input.scale”" },
    { IN (", \"scale\": 1e300"), LENS_PROFILE_ERROR_INVALID, "“input.scale”" },
    { IN (", \"mean\": [0.5, 0.5]"), LENS_PROFILE_ERROR_INVALID, "“input.mean”" },
    { IN (", \"mean\": 0.5"), LENS_PROFILE_ERROR_INVALID, "“input.mean”" },
    { IN (", \"mean\": [0.5, \"x\", 0.5]"), LENS_PROFILE_ERROR_INVALID, "“input.mean”" },
    { IN (", \"mean\": [0.5, null, 0.5]"), LENS_PROFILE_ERROR_INVALID, "“input.mean”" },
    { IN (", \"std\": [1, 0, 1]"), LENS_PROFILE_ERROR_INVALID, "“input.std”" },
    { IN (", \"std\": [1, -2, 1]"), LENS_PROFILE_ERROR_INVALID, "“input.std”" },
    { IN (", \"std\": [1, 1, 1, 1]"), LENS_PROFILE_ERROR_INVALID, "“input.std”" },
    { "{\"input\": {\"channels\": 1, \"height\": 28, \"width\": 28, \"mean\": [0, 0, 0]}}",
      LENS_PROFILE_ERROR_INVALID, "“input.mean”" },
    { IN (", \"channel_order\": \"RGBA\""), LENS_PROFILE_ERROR_INVALID,
      "“input.channel_order”" },
    { IN (", \"channel_order\": 3"), LENS_PROFILE_ERROR_INVALID, "“input.channel_order”" },
    { IN (", \"chanels\": 3"), LENS_PROFILE_ERROR_INVALID, "“input.chanels”" },
    { "{\"name\": 5, \"input\": {\"channels\": 3, \"height\": 1, \"width\": 1}}",
      LENS_PROFILE_ERROR_INVALID, "“name”" },
    { "{\"name\": \"\", \"input\": {\"channels\": 3, \"height\": 1, \"width\": 1}}",
      LENS_PROFILE_ERROR_INVALID, "“name”" },
    { "{\"labels\": 7, \"input\": {\"channels\": 3, \"height\": 1, \"width\": 1}}",
      LENS_PROFILE_ERROR_INVALID, "“labels”" },
    { "{\"description\": [], \"input\": {\"channels\": 3, \"height\": 1, \"width\": 1}}",
      LENS_PROFILE_ERROR_INVALID, "“description”" },
    { "{\"labels\": \"no-such-labels.txt\", "
      "\"input\": {\"channels\": 3, \"height\": 1, \"width\": 1}}",
      LENS_PROFILE_ERROR_LABELS, "no-such-labels.txt" },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_autofree char *name = g_strdup_printf ("bad-%u.convlens.json", k);
      g_autofree char *path = write_text (name, cases[k].json);
      g_autoptr(GError) error = NULL;
      g_autoptr(LensProfile) p = lens_profile_load (path, &error);

      if (p != NULL || error == NULL || error->domain != LENS_PROFILE_ERROR ||
          error->code != cases[k].code)
        g_error ("case %u (%s): expected code %d, got %s", k, cases[k].json, cases[k].code,
                 error != NULL ? error->message : "success");
      /* every message names the file, and the field when there is one */
      g_assert_nonnull (strstr (error->message, name));
      if (cases[k].field != NULL && strstr (error->message, cases[k].field) == NULL)
        g_error ("case %u: message “%s” does not name %s", k, error->message, cases[k].field);
    }
}

static void
test_missing_file (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "none.convlens.json", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_null (lens_profile_load (path, &error));
  g_assert_error (error, LENS_PROFILE_ERROR, LENS_PROFILE_ERROR_IO);
}

static void
test_path_for_model (void)
{
  g_autofree char *a = lens_profile_path_for_model ("/models/alexnet.onnx");
  g_autofree char *b = lens_profile_path_for_model ("/models/net.v2.onnx");
  g_autofree char *c = lens_profile_path_for_model ("/models/plain");

  g_assert_cmpstr (a, ==, "/models/alexnet.convlens.json");
  g_assert_cmpstr (b, ==, "/models/net.v2.convlens.json");
  g_assert_cmpstr (c, ==, "/models/plain.convlens.json");
}

static void
test_guess_sibling_profile (void)
{
  g_autofree char *model = write_text ("sib.onnx", "not really onnx");
  g_autofree char *json = write_text ("sib.convlens.json",
    "{\"name\": \"from json\", \"input\": {\"channels\": 1, \"height\": 5, \"width\": 6}}");
  g_autoptr(GError) error = NULL;
  g_autoptr(LensProfile) p = lens_profile_guess (model, 3, 224, 224, &error);

  g_assert_true (g_file_test (json, G_FILE_TEST_IS_REGULAR));
  g_assert_no_error (error);
  g_assert_cmpstr (p->name, ==, "from json");
  g_assert_cmpint (p->pre.channels, ==, 1);
  g_assert_cmpint (p->pre.width, ==, 6);
}

static void
test_guess_broken_sibling (void)
{
  g_autofree char *model = g_build_filename (tmpdir, "broken.onnx", NULL);
  g_autofree char *json = write_text ("broken.convlens.json", "{\"input\": {}}");
  g_autoptr(GError) error = NULL;

  /* a profile that exists but is wrong is reported, not ignored */
  g_assert_true (g_file_test (json, G_FILE_TEST_IS_REGULAR));
  g_assert_null (lens_profile_guess (model, 3, 224, 224, &error));
  g_assert_error (error, LENS_PROFILE_ERROR, LENS_PROFILE_ERROR_INVALID);
}

static void
test_guess_imagenet (void)
{
  g_autofree char *datadir = g_build_filename (tmpdir, "data", NULL);
  g_autofree char *labels = NULL;
  g_autofree char *model = g_build_filename (tmpdir, "resnet18.onnx", NULL);
  g_autofree char *old_datadir = g_strdup (g_getenv ("CONVLENS_DATADIR"));
  g_autoptr(GError) error = NULL;
  g_autoptr(LensProfile) p = NULL;
  g_autoptr(LensProfile) p299 = NULL;

  g_mkdir_with_parents (datadir, 0755);
  labels = unit_write_file (datadir, "imagenet-labels.txt", "tench\ngoldfish\n", 15);
  g_setenv ("CONVLENS_DATADIR", datadir, TRUE);

  p = lens_profile_guess (model, 3, 224, 224, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p->name, ==, "resnet18");
  g_assert_cmpint (p->pre.channels, ==, 3);
  g_assert_cmpint (p->pre.height, ==, 224);
  g_assert_cmpint (p->pre.resize_shorter, ==, 256);
  g_assert_cmpfloat (p->pre.scale, ==, 1.0f);
  g_assert_cmpfloat_with_epsilon (p->pre.mean[0], 0.485, 1e-7);
  g_assert_cmpfloat_with_epsilon (p->pre.std[2], 0.225, 1e-7);
  g_assert_false (p->pre.bgr);
  g_assert_cmpstr (p->labels_path, ==, labels);
  g_assert_cmpuint (p->n_labels, ==, 2);
  g_assert_cmpstr (lens_profile_get_label (p, 0), ==, "tench");

  /* Inception's 299: torchvision resizes to 342 (299 / 0.875 = 341.7) */
  p299 = lens_profile_guess (model, 3, 299, 299, &error);
  g_assert_no_error (error);
  g_assert_cmpint (p299->pre.resize_shorter, ==, 342);
  g_assert_cmpint (p299->pre.width, ==, 299);

  if (old_datadir != NULL)
    g_setenv ("CONVLENS_DATADIR", old_datadir, TRUE);
  else
    g_unsetenv ("CONVLENS_DATADIR");
}

static void
test_guess_without_labels (void)
{
  g_autofree char *empty = g_build_filename (tmpdir, "empty-data", NULL);
  g_autofree char *model = g_build_filename (tmpdir, "vgg.onnx", NULL);
  g_autofree char *old_datadir = g_strdup (g_getenv ("CONVLENS_DATADIR"));
  g_autofree char *old_source = g_strdup (g_getenv ("CONVLENS_SOURCE_DIR"));
  g_autofree char *found = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LensProfile) p = NULL;

  g_mkdir_with_parents (empty, 0755);
  g_setenv ("CONVLENS_DATADIR", empty, TRUE);
  g_unsetenv ("CONVLENS_SOURCE_DIR");

  /* labels may still come from an installed LENS_DATADIR; either way the
   * guess succeeds */
  found = lens_profile_find_imagenet_labels ();
  p = lens_profile_guess (model, 3, 224, 224, &error);
  g_assert_no_error (error);
  g_assert_cmpint (p->pre.resize_shorter, ==, 256);
  if (found == NULL)
    {
      g_assert_null (p->labels);
      g_assert_cmpuint (p->n_labels, ==, 0);
    }

  if (old_datadir != NULL)
    g_setenv ("CONVLENS_DATADIR", old_datadir, TRUE);
  else
    g_unsetenv ("CONVLENS_DATADIR");
  if (old_source != NULL)
    g_setenv ("CONVLENS_SOURCE_DIR", old_source, TRUE);
}

static void
test_guess_small (void)
{
  g_autofree char *model = g_build_filename (tmpdir, "lenet.onnx", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensProfile) gray = lens_profile_guess (model, 1, 28, 28, &error);
  g_autoptr(LensProfile) cifar = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (gray->name, ==, "lenet");
  g_assert_cmpint (gray->pre.channels, ==, 1);
  g_assert_cmpint (gray->pre.height, ==, 28);
  g_assert_cmpint (gray->pre.resize_shorter, ==, 0);
  g_assert_cmpfloat (gray->pre.scale, ==, 1.0f);
  g_assert_cmpfloat (gray->pre.mean[0], ==, 0.0f);
  g_assert_cmpfloat (gray->pre.std[0], ==, 1.0f);
  g_assert_null (gray->labels);

  cifar = lens_profile_guess (model, 3, 32, 32, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cifar->pre.channels, ==, 3);
  g_assert_cmpint (cifar->pre.resize_shorter, ==, 0);
  g_assert_null (cifar->labels);
}

static void
test_guess_unsupported (void)
{
  g_autofree char *model = g_build_filename (tmpdir, "odd.onnx", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_null (lens_profile_guess (model, 4, 224, 224, &error));
  g_assert_error (error, LENS_PROFILE_ERROR, LENS_PROFILE_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_null (lens_profile_guess (model, 3, 0, 224, &error));
  g_assert_error (error, LENS_PROFILE_ERROR, LENS_PROFILE_ERROR_UNSUPPORTED);
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  tmpdir = unit_make_tmpdir ();

  g_test_add_func ("/profile/load/full", test_load_full);
  g_test_add_func ("/profile/load/minimal", test_load_minimal);
  g_test_add_func ("/profile/load/absolute-labels", test_load_absolute_labels);
  g_test_add_func ("/profile/load/invalid", test_invalid);
  g_test_add_func ("/profile/load/missing", test_missing_file);
  g_test_add_func ("/profile/path-for-model", test_path_for_model);
  g_test_add_func ("/profile/guess/sibling", test_guess_sibling_profile);
  g_test_add_func ("/profile/guess/broken-sibling", test_guess_broken_sibling);
  g_test_add_func ("/profile/guess/imagenet", test_guess_imagenet);
  g_test_add_func ("/profile/guess/without-labels", test_guess_without_labels);
  g_test_add_func ("/profile/guess/small", test_guess_small);
  g_test_add_func ("/profile/guess/unsupported", test_guess_unsupported);

  ret = g_test_run ();
  unit_rm_rf (tmpdir);
  g_free (tmpdir);
  return ret;
}
