/* unit-util.c: small helpers shared by the engine unit tests */
#include "unit-util.h"

#include <sys/wait.h>

#include <glib/gstdio.h>

#ifndef UNIT_PYTHON
#define UNIT_PYTHON "/usr/bin/python3"
#endif

char *
unit_make_tmpdir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("convlens-unit-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

void
unit_rm_rf (const char *path)
{
  GDir *dir;
  const char *name;

  if (path == NULL)
    return;
  if (!g_file_test (path, G_FILE_TEST_IS_DIR) || g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_unlink (path);
      return;
    }
  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          unit_rm_rf (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

char *
unit_write_file (const char *dir,
                 const char *name,
                 const void *data,
                 gsize       length)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  g_file_set_contents (path, data, (gssize) length, &error);
  g_assert_no_error (error);
  return path;
}

gboolean
unit_run_fixtures (const char *mode,
                   const char *arg,
                   char      **stdout_out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *script = g_build_filename (UNIT_SRCDIR, "make-fixtures.py", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *argv[] = { UNIT_PYTHON, script, mode, arg, NULL };
  int status = 0;

  if (!g_file_test (UNIT_PYTHON, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("Debian's python3 is not installed");
      return FALSE;
    }
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     &out, &err, &status, &error))
    g_error ("cannot run %s: %s", script, error->message);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 77)
    {
      g_autofree char *msg = g_strdup_printf ("make-fixtures.py %s: %s", mode, g_strstrip (err));
      g_test_skip (msg);
      return FALSE;
    }
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("make-fixtures.py %s %s failed: %s\n%s", mode, arg, error->message, err);
  if (stdout_out != NULL)
    *stdout_out = g_steal_pointer (&out);
  return TRUE;
}
