/* test-atomic-write.c: every engine writer replaces its file atomically.
 *
 * For each writer (the shared helper with CSV text, PNG, .npy, ONNX) the
 * test checks a normal write, then three failures: a full disk (a child
 * process with RLIMIT_FSIZE, so write() fails with EFBIG), a folder that
 * cannot be written to (chmod 0555; as root, where permissions do not stop
 * writes, a path whose parent is a regular file), and a rename that fails
 * after the data was written (the target is a non-empty folder).  Each
 * failure must give a GError naming the file and the reason, keep the old
 * file byte for byte and leave no temporary file behind. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "lens-file.h"
#include "lens-image.h"
#include "lens-net.h"
#include "lens-npy.h"
#include "lens-onnx-write.h"
#include "lens-tensor.h"

#define OLD_CONTENT "old content, must survive\n"

typedef gboolean (*WriteFunc) (const char *path, GError **error);

static gboolean
write_csv (const char *path,
           GError    **error)
{
  /* 200 rows: more than the 64-byte file size limit of the full-disk case */
  g_autoptr(GString) csv = g_string_new ("class,probability\n");

  for (int i = 0; i < 200; i++)
    g_string_append_printf (csv, "class %d,%.4f\n", i, 1.0 / (i + 1));
  return lens_file_write_atomic (path, csv->str, csv->len, error);
}

static gboolean
write_png (const char *path,
           GError    **error)
{
  guint8 rgb[16 * 16 * 3];

  for (guint i = 0; i < sizeof rgb; i++)
    rgb[i] = (guint8) (i * 7);
  return lens_png_save_rgb (path, rgb, 16, 16, 16 * 3, NULL, error);
}

static gboolean
write_npy (const char *path,
           GError    **error)
{
  LensShape shape = lens_shape_4d (1, 2, 3, 4);
  g_autoptr(LensTensor) t = lens_tensor_new_float (&shape, error);
  float *data;

  if (t == NULL)
    return FALSE;
  data = lens_tensor_get_floats (t);
  for (int i = 0; i < 24; i++)
    data[i] = (float) i / 4.0f;
  return lens_npy_save (path, t, error);
}

static gboolean
write_onnx (const char *path,
            GError    **error)
{
  g_autofree char *model = g_build_filename (g_getenv ("CONVLENS_SOURCE_DIR"), "zf-mini.onnx",
                                             NULL);
  g_autoptr(LensNet) net = lens_net_load_onnx (model, NULL, error);

  return net != NULL && lens_onnx_net_save (net, path, NULL, error);
}

static const struct
{
  const char *name;
  const char *file;
  WriteFunc   write;
  const char  magic[8];     /* how the new file starts */
} writers[] = {
  { "csv", "result.csv", write_csv, "class,p" },
  { "png", "figure.png", write_png, "\x89PNG\r\n\x1a" },
  { "npy", "tensor.npy", write_npy, "\x93NUMPY" },
  { "onnx", "model.onnx", write_onnx, "\x08" },
};

/* Files in dir other than keep (a temporary one would start with '.'). */
static guint
count_other_files (const char *dir,
                   const char *keep)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_strcmp0 (name, keep) != 0)
      {
        g_test_message ("left behind: %s", name);
        n++;
      }
  return n;
}

static void
assert_old_kept (const char *path)
{
  g_autofree char *text = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  g_assert_cmpuint (len, ==, strlen (OLD_CONTENT));
  g_assert_cmpmem (text, len, OLD_CONTENT, strlen (OLD_CONTENT));
}

static char *
make_dir_with_old (const char *file,
                   char      **out_path)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("convlens-files-XXXXXX", &error);

  g_assert_no_error (error);
  *out_path = g_build_filename (dir, file, NULL);
  g_assert_true (g_file_set_contents (*out_path, OLD_CONTENT, -1, NULL));
  return dir;
}

static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_chmod (dir, 0755);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);

      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        remove_tree (p);
      else
        g_unlink (p);
    }
  g_rmdir (dir);
}

static void
test_success (gconstpointer data)
{
  guint i = GPOINTER_TO_UINT (data);
  g_autofree char *path = NULL;
  g_autofree char *dir = make_dir_with_old (writers[i].file, &path);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  gsize len;
  GStatBuf st;
  mode_t mask = umask (022);

  g_assert_true (writers[i].write (path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &text, &len, NULL));
  g_assert_cmpuint (len, >, 64);
  g_assert_cmpmem (text, strlen (writers[i].magic), writers[i].magic, strlen (writers[i].magic));
  /* an ordinary file: 0666 minus the umask, not mkstemp's 0600 */
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0644);
  g_assert_cmpuint (count_other_files (dir, writers[i].file), ==, 0);
  umask (mask);
  remove_tree (dir);
}

/* Runs the writer in a child whose files may not grow past 64 bytes; the
 * child sends back the error message. */
static void
test_full_disk (gconstpointer data)
{
  guint i = GPOINTER_TO_UINT (data);
  g_autofree char *path = NULL;
  g_autofree char *dir = make_dir_with_old (writers[i].file, &path);
  g_autofree char *display = g_filename_display_name (path);
  char message[1024] = { 0 };
  int fds[2], status;
  gssize n;
  pid_t pid;

  g_assert_cmpint (pipe (fds), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      struct rlimit lim = { 64, 64 };
      GError *error = NULL;
      gboolean ok;

      close (fds[0]);
      signal (SIGXFSZ, SIG_IGN);
      setrlimit (RLIMIT_FSIZE, &lim);
      ok = writers[i].write (path, &error);
      if (error != NULL && write (fds[1], error->message, strlen (error->message)) < 0)
        _exit (3);
      _exit (ok ? 1 : error == NULL ? 2 : 0);
    }
  close (fds[1]);
  n = read (fds[0], message, sizeof message - 1);
  close (fds[0]);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_assert_cmpint (n, >, 0);
  g_test_message ("%s", message);
  g_assert_nonnull (strstr (message, "Cannot write"));
  g_assert_nonnull (strstr (message, display));
  g_assert_nonnull (strstr (message, "exceed the allowed file size"));
  g_assert_nonnull (strstr (message, "the old file is kept"));
  assert_old_kept (path);
  g_assert_cmpuint (count_other_files (dir, writers[i].file), ==, 0);
  remove_tree (dir);
}

/* The helper reports G_FILE_ERROR; the writers wrap it in their domain. */
static void
assert_file_error (guint         i,
                   const GError *error,
                   GFileError    code)
{
  if (writers[i].write == write_csv)
    g_assert_error (error, G_FILE_ERROR, (int) code);
  else
    g_assert_nonnull (error);
}

static void
test_read_only_folder (gconstpointer data)
{
  guint i = GPOINTER_TO_UINT (data);
  g_autofree char *path = NULL;
  g_autofree char *dir = make_dir_with_old (writers[i].file, &path);
  g_autoptr(GError) error = NULL;

  if (geteuid () != 0)
    {
      g_assert_cmpint (g_chmod (dir, 0555), ==, 0);
      g_assert_false (writers[i].write (path, &error));
      assert_file_error (i, error, G_FILE_ERROR_ACCES);
      g_assert_nonnull (strstr (error->message, "cannot be written to"));
      g_assert_nonnull (strstr (error->message, "the old file is kept"));
      g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
      assert_old_kept (path);
    }
  else
    {
      /* root writes anywhere: use a parent that is a regular file */
      g_autofree char *inside = g_build_filename (path, "out", NULL);

      g_test_message ("running as root: parent-is-a-file instead of chmod 0555");
      g_assert_false (writers[i].write (inside, &error));
      assert_file_error (i, error, G_FILE_ERROR_NOTDIR);
      g_assert_nonnull (strstr (error->message, "is not a folder"));
      assert_old_kept (path);
    }
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "Cannot write"));
  g_assert_cmpuint (count_other_files (dir, writers[i].file), ==, 0);
  remove_tree (dir);
}

/* The data reaches the temporary file, the rename fails: the temporary
 * file must go. */
static void
test_rename_fails (gconstpointer data)
{
  guint i = GPOINTER_TO_UINT (data);
  g_autofree char *path = NULL;
  g_autofree char *dir = make_dir_with_old ("keep.txt", &path);
  g_autofree char *target = g_build_filename (dir, writers[i].file, NULL);
  g_autofree char *inner = g_build_filename (target, "old.txt", NULL);
  g_autoptr(GError) error = NULL;
  guint n_before;

  g_assert_cmpint (g_mkdir (target, 0755), ==, 0);
  g_assert_true (g_file_set_contents (inner, OLD_CONTENT, -1, NULL));
  n_before = count_other_files (dir, "keep.txt");
  g_assert_false (writers[i].write (target, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "Cannot write"));
  g_assert_true (g_file_test (target, G_FILE_TEST_IS_DIR));
  assert_old_kept (inner);
  g_assert_cmpuint (count_other_files (dir, "keep.txt"), ==, n_before);
  remove_tree (dir);
}

static void
test_json_depth (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) deep = g_string_new (NULL);

  /* 64 levels pass, 65 do not; brackets inside strings do not count */
  for (int i = 0; i < 64; i++)
    g_string_append_c (deep, i % 2 ? '[' : '{');
  g_assert_true (lens_file_check_json_depth (deep->str, deep->len, 64, "x", &error));
  g_assert_no_error (error);
  g_assert_true (lens_file_check_json_depth ("[\"[[[[\\\"[[[[\"]", 14, 1, "x", &error));
  g_assert_no_error (error);
  g_string_append_c (deep, '[');
  g_assert_false (lens_file_check_json_depth (deep->str, deep->len, 64, "The file “a.json”",
                                              &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_assert_cmpstr (error->message, ==,
                   "The file “a.json” nests arrays and objects more than 64 levels deep");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
    {
      static const char *kinds[] = { "success", "full-disk", "read-only-folder", "rename-fails" };
      static const GTestDataFunc funcs[] = { test_success, test_full_disk, test_read_only_folder,
                                             test_rename_fails };

      for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
        {
          g_autofree char *name = g_strdup_printf ("/files/%s/%s", writers[i].name, kinds[k]);

          g_test_add_data_func (name, GUINT_TO_POINTER (i), funcs[k]);
        }
    }
  g_test_add_func ("/files/json-depth", test_json_depth);
  return g_test_run ();
}
