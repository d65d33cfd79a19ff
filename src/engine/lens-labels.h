/* lens-labels.h: class label files (one UTF-8 label per line) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LENS_LABELS_ERROR (lens_labels_error_quark ())

typedef enum
{
  LENS_LABELS_ERROR_IO,     /* cannot read the file */
  LENS_LABELS_ERROR_FORMAT, /* empty, not UTF-8, or contains NUL bytes */
} LensLabelsError;

GQuark  lens_labels_error_quark (void);

/* Line i (from 0) is the label of class i.  A trailing "\r" is removed from
 * each line, a UTF-8 byte-order mark at the start is ignored, and nothing
 * else is skipped: an empty line is an empty label.  A final newline does
 * not start another label.  Returns a NULL-terminated array (g_strfreev). */
char  **lens_labels_load        (const char *path,
                                 guint      *n_labels,
                                 GError    **error);
/* The same from memory; name is used in error messages only. */
char  **lens_labels_load_data   (const char *data,
                                 gsize       length,
                                 const char *name,
                                 guint      *n_labels,
                                 GError    **error);

G_END_DECLS
