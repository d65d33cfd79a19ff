/* test-labels.c: label files */
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "lens-labels.h"
#include "unit-util.h"

static char *tmpdir;

typedef struct
{
  const char *name;
  const char *data;
  gsize       length;
  const char *expect[6];  /* NULL-terminated; expect[0] == NULL and code >= 0: error */
  int         code;
} LabelCase;

static void
test_cases (void)
{
  static const LabelCase cases[] = {
    { "plain", "cat\ndog\n", 8, { "cat", "dog", NULL }, -1 },
    { "no-final-newline", "cat\ndog", 7, { "cat", "dog", NULL }, -1 },
    { "crlf", "cat\r\ndog\r\n", 10, { "cat", "dog", NULL }, -1 },
    { "empty-lines-kept", "a\n\nc\n\n", 6, { "a", "", "c", "", NULL }, -1 },
    { "only-newline", "\n", 1, { "", NULL }, -1 },
    { "spaces-kept", " x \ty\n", 6, { " x \ty", NULL }, -1 },
    { "inner-cr-kept", "a\rb\n", 4, { "a\rb", NULL }, -1 },
    { "bom", "\xef\xbb\xbf" "tench\ngoldfish\n", 18, { "tench", "goldfish", NULL }, -1 },
    { "utf8", "\xe7\x8c\xab\n\xc3\xa9t\xc3\xa9\n", 10, { "\xe7\x8c\xab", "\xc3\xa9t\xc3\xa9", NULL },
      -1 },
    { "empty", "", 0, { NULL }, LENS_LABELS_ERROR_FORMAT },
    { "bom-only", "\xef\xbb\xbf", 3, { NULL }, LENS_LABELS_ERROR_FORMAT },
    { "latin1", "caf\xe9\n", 5, { NULL }, LENS_LABELS_ERROR_FORMAT },
    { "nul", "a\0b\n", 4, { NULL }, LENS_LABELS_ERROR_FORMAT },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      const LabelCase *c = &cases[k];
      g_autofree char *file = g_strconcat (c->name, ".txt", NULL);
      g_autofree char *path = unit_write_file (tmpdir, file, c->data, c->length);
      g_autoptr(GError) error = NULL;
      g_auto(GStrv) labels = NULL;
      guint n = 12345;

      labels = lens_labels_load (path, &n, &error);
      if (c->code >= 0)
        {
          g_assert_null (labels);
          g_assert_error (error, LENS_LABELS_ERROR, c->code);
          g_assert_nonnull (strstr (error->message, file));
          continue;
        }
      g_assert_no_error (error);
      g_assert_cmpuint (n, ==, g_strv_length ((char **) c->expect));
      g_assert_cmpuint (g_strv_length (labels), ==, n);
      for (guint i = 0; i < n; i++)
        g_assert_cmpstr (labels[i], ==, c->expect[i]);
    }
}

static void
test_missing (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "nope.txt", NULL);
  g_autoptr(GError) error = NULL;
  guint n;

  g_assert_null (lens_labels_load (path, &n, &error));
  g_assert_error (error, LENS_LABELS_ERROR, LENS_LABELS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "nope.txt"));
}

/* models/imagenet-labels.txt, made from torchvision's category list:
 * the well-known ImageNet class indices. */
static void
test_imagenet_file (void)
{
  const char *dir = g_getenv ("CONVLENS_SOURCE_DIR");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) labels = NULL;
  guint n = 0;

  if (dir == NULL)
    {
      g_test_skip ("CONVLENS_SOURCE_DIR is not set");
      return;
    }
  path = g_build_filename (dir, "imagenet-labels.txt", NULL);
  labels = lens_labels_load (path, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 1000);
  g_assert_cmpstr (labels[0], ==, "tench");
  g_assert_cmpstr (labels[1], ==, "goldfish");
  g_assert_cmpstr (labels[281], ==, "tabby");
  g_assert_cmpstr (labels[285], ==, "Egyptian cat");
  g_assert_cmpstr (labels[999], ==, "toilet tissue");
}

/* A hostile profile may name a device or a huge file as its labels: refused
 * before reading, with the reason. */
static void
test_not_regular (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *big = g_build_filename (tmpdir, "big-labels.txt", NULL);
  g_auto(GStrv) labels = NULL;
  guint n = 0;
  FILE *f;

  labels = lens_labels_load ("/dev/zero", &n, &error);
  g_assert_null (labels);
  g_assert_error (error, LENS_LABELS_ERROR, LENS_LABELS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "not a regular file"));
  g_clear_error (&error);

  /* a sparse 17 MiB file */
  f = fopen (big, "w");
  g_assert_nonnull (f);
  g_assert_cmpint (fseek (f, (17L << 20) - 1, SEEK_SET), ==, 0);
  fputc ('x', f);
  fclose (f);
  labels = lens_labels_load (big, &n, &error);
  g_assert_null (labels);
  g_assert_error (error, LENS_LABELS_ERROR, LENS_LABELS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "17.0 MiB"));
  g_unlink (big);
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  tmpdir = unit_make_tmpdir ();

  g_test_add_func ("/labels/cases", test_cases);
  g_test_add_func ("/labels/missing", test_missing);
  g_test_add_func ("/labels/not-regular", test_not_regular);
  g_test_add_func ("/labels/imagenet-file", test_imagenet_file);

  ret = g_test_run ();
  unit_rm_rf (tmpdir);
  g_free (tmpdir);
  return ret;
}
