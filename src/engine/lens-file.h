/* lens-file.h: safe file writing and guards for file parsers
 *
 * Every file ConvLens writes (figures, .npy, ONNX models, top-k results,
 * training state) goes through lens_file_write_atomic(): the bytes are
 * written to a temporary file in the target's folder, flushed to disk with
 * fsync() and renamed over the target.  If anything fails (a full disk, a
 * read-only folder, a file size limit) the temporary file is removed and
 * the old file, if any, is left exactly as it was.
 *
 *   if (!lens_file_write_atomic ("out.png", data, len, &error))
 *     g_printerr ("%s\n", error->message);   // "Cannot write “out.png”: ..."
 *
 * lens_file_check_json_depth() refuses JSON nested deeper than a fixed cap
 * before it reaches json-glib, whose recursive parser would otherwise run
 * out of stack on a hostile file. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Deepest JSON nesting accepted from a file (arrays and objects). */
#define LENS_FILE_MAX_JSON_DEPTH 64

/* Writes len bytes atomically (temp file + fsync + rename).  On failure
 * sets a G_FILE_ERROR whose message names path and the reason, and keeps
 * the old file. */
gboolean lens_file_write_atomic     (const char    *path,
                                     const void    *data,
                                     gsize          len,
                                     GError       **error);

/* FALSE with a G_FILE_ERROR_INVAL naming what (e.g. "The profile “x.json”")
 * when the JSON text nests arrays/objects deeper than max_depth. */
gboolean lens_file_check_json_depth (const char    *text,
                                     gsize          len,
                                     int            max_depth,
                                     const char    *what,
                                     GError       **error);

G_END_DECLS
