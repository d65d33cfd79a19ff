/* lens-export.h: PNG figures of what the window shows, written off the
 * main thread */
#pragma once

#include <gio/gio.h>

#include "lens-render.h"

G_BEGIN_DECLS

/* Writes the whole feature grid of `maps` (if not NULL), else `image`
 * (enlarged with crisp pixels to at least 256 pixels), to path as PNG;
 * text_kv (key, value, ..., NULL) become PNG text chunks. */
void     lens_export_png_async  (LensLayerMaps       *maps,
                                 LensPixels          *image,
                                 const char          *path,
                                 const char * const  *text_kv,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data);
gboolean lens_export_png_finish (GAsyncResult  *result,
                                 GError       **error);

/* The same, synchronously (for tests and the worker). */
gboolean lens_export_png        (LensLayerMaps       *maps,
                                 LensPixels          *image,
                                 const char          *path,
                                 const char * const  *text_kv,
                                 GError             **error);

G_END_DECLS
