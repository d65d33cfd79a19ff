/* lens-file.c: atomic file writes, guards for file parsers */
#define G_LOG_DOMAIN "lens-file"

#include "lens-file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

/* The reason in words a user can act on, with the system's own text. */
static char *
describe_errno (int         saved_errno,
                const char *dir_display)
{
  const char *sys = g_strerror (saved_errno);

  switch (saved_errno)
    {
    case EACCES:
    case EPERM:
    case EROFS:
      return g_strdup_printf ("the folder “%s” cannot be written to (%s)", dir_display, sys);
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
      return g_strdup_printf ("the disk is full (%s)", sys);
    case EFBIG:
      return g_strdup_printf ("the file would exceed the allowed file size (%s)", sys);
    case ENOENT:
      return g_strdup_printf ("the folder “%s” does not exist", dir_display);
    case ENOTDIR:
      return g_strdup_printf ("“%s” is not a folder", dir_display);
    default:
      return g_strdup (sys);
    }
}

static gboolean
write_all (int          fd,
           const guint8 *data,
           gsize         len)
{
  while (len > 0)
    {
      gssize n = write (fd, data, MIN (len, (gsize) G_MAXSSIZE));

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return FALSE;
        }
      if (n == 0)
        {
          errno = ENOSPC;
          return FALSE;
        }
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

gboolean
lens_file_write_atomic (const char  *path,
                        const void  *data,
                        gsize        len,
                        GError     **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *display = NULL;
  g_autofree char *dir_display = NULL;
  g_autofree char *reason = NULL;
  gboolean existed;
  int fd, saved_errno;

  g_return_val_if_fail (path != NULL && path[0] != '\0', FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  dir = g_path_get_dirname (path);
  base = g_path_get_basename (path);
  tmp = g_strdup_printf ("%s%c.%s.XXXXXX", dir, G_DIR_SEPARATOR, base);
  existed = g_file_test (path, G_FILE_TEST_EXISTS);

  /* mode 0666 minus the umask, as for any new file */
  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      saved_errno = errno;
      goto fail_no_tmp;
    }
  if (!write_all (fd, data, len) || fsync (fd) != 0)
    {
      saved_errno = errno;
      close (fd);
      goto fail;
    }
  if (close (fd) != 0)
    {
      saved_errno = errno;
      goto fail;
    }
  if (g_rename (tmp, path) != 0)
    {
      saved_errno = errno;
      goto fail;
    }

  /* make the rename itself durable; failing here loses nothing */
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0)
    {
      (void) fsync (fd);
      close (fd);
    }
  return TRUE;

fail:
  g_unlink (tmp);
fail_no_tmp:
  display = g_filename_display_name (path);
  dir_display = g_filename_display_name (dir);
  reason = describe_errno (saved_errno, dir_display);
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
               "Cannot write “%s”: %s%s", display, reason,
               existed ? "; the old file is kept" : "");
  return FALSE;
}

gboolean
lens_file_check_json_depth (const char  *text,
                            gsize        len,
                            int          max_depth,
                            const char  *what,
                            GError     **error)
{
  int depth = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > max_depth)
            {
              g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                           "%s nests arrays and objects more than %d levels deep",
                           what, max_depth);
              return FALSE;
            }
        }
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }
  return TRUE;
}
