/* lens-labels.c: class label files */
#define G_LOG_DOMAIN "lens-labels"

#include "lens-labels.h"

#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

/* Label files are small text files; anything else (a device such as
 * /dev/zero named by a hostile profile, a huge file) is refused before it
 * is read. */
#define LABELS_MAX_BYTES ((goffset) 16 << 20)

G_DEFINE_QUARK (lens-labels-error-quark, lens_labels_error)

char **
lens_labels_load_data (const char *data,
                       gsize       length,
                       const char *name,
                       guint      *n_labels,
                       GError    **error)
{
  g_autoptr(GPtrArray) labels = NULL;
  const char *p, *end;

  g_return_val_if_fail (data != NULL || length == 0, NULL);

  if (name == NULL)
    name = "labels";

  if (length >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
    data += 3, length -= 3;
  if (length == 0)
    {
      g_set_error (error, LENS_LABELS_ERROR, LENS_LABELS_ERROR_FORMAT,
                   "Label file “%s” is empty", name);
      return NULL;
    }
  if (memchr (data, '\0', length) != NULL)
    {
      g_set_error (error, LENS_LABELS_ERROR, LENS_LABELS_ERROR_FORMAT,
                   "Label file “%s” contains NUL bytes (not a text file?)", name);
      return NULL;
    }
  if (!g_utf8_validate_len (data, length, &end))
    {
      g_set_error (error, LENS_LABELS_ERROR, LENS_LABELS_ERROR_FORMAT,
                   "Label file “%s” is not valid UTF-8 (byte %" G_GSIZE_FORMAT ")",
                   name, (gsize) (end - data));
      return NULL;
    }
  if (length > G_MAXUINT)
    {
      g_set_error (error, LENS_LABELS_ERROR, LENS_LABELS_ERROR_FORMAT,
                   "Label file “%s” is too large", name);
      return NULL;
    }

  labels = g_ptr_array_new_with_free_func (g_free);
  p = data;
  end = data + length;
  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *line_end = nl != NULL ? nl : end;
      gsize len = line_end - p;

      if (len > 0 && p[len - 1] == '\r')
        len--;
      g_ptr_array_add (labels, g_strndup (p, len));
      p = nl != NULL ? nl + 1 : end;
    }

  if (n_labels != NULL)
    *n_labels = labels->len;
  g_ptr_array_add (labels, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&labels), FALSE);
}

char **
lens_labels_load (const char *path,
                  guint      *n_labels,
                  GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *display = NULL;
  gsize length;

  g_return_val_if_fail (path != NULL, NULL);

  display = g_filename_display_name (path);
  {
    GStatBuf st;
    if (g_stat (path, &st) == 0 && !S_ISREG (st.st_mode))
      {
        g_set_error (error, LENS_LABELS_ERROR, LENS_LABELS_ERROR_IO,
                     "Cannot read label file “%s”: it is not a regular file", display);
        return NULL;
      }
    if (g_stat (path, &st) == 0 && (goffset) st.st_size > LABELS_MAX_BYTES)
      {
        g_set_error (error, LENS_LABELS_ERROR, LENS_LABELS_ERROR_IO,
                     "Label file “%s” is %.1f MiB; label files larger than %d MiB are refused",
                     display, st.st_size / 1048576.0, (int) (LABELS_MAX_BYTES >> 20));
        return NULL;
      }
  }
  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, LENS_LABELS_ERROR, LENS_LABELS_ERROR_IO,
                   "Cannot read label file “%s”: %s", display, local_error->message);
      return NULL;
    }
  return lens_labels_load_data (contents, length, display, n_labels, error);
}
