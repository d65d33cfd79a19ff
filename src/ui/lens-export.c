/* lens-export.c: PNG figures of the feature grid or the input */
#define G_LOG_DOMAIN "lens-export"

#include "lens-config.h"

#include "lens-export.h"

/* A small input is enlarged to at least this many pixels on its longer
 * side, so that a 28x28 digit is a readable figure. */
#define MIN_EXPORT_SIZE 256

typedef struct
{
  LensLayerMaps *maps;
  LensPixels    *image;
  char          *path;
  char         **text_kv;
} ExportData;

static void
export_data_free (gpointer data)
{
  ExportData *d = data;

  g_clear_pointer (&d->maps, lens_layer_maps_unref);
  g_clear_pointer (&d->image, lens_pixels_unref);
  g_free (d->path);
  g_strfreev (d->text_kv);
  g_free (d);
}

static cairo_surface_t *
draw_image (LensPixels *image)
{
  int w = lens_pixels_get_width (image);
  int h = lens_pixels_get_height (image);
  int scale = MAX (1, (MIN_EXPORT_SIZE + MAX (w, h) - 1) / MAX (w, h));
  cairo_surface_t *src = lens_pixels_create_surface (image);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w * scale, h * scale);
  cairo_t *cr = cairo_create (surface);

  cairo_scale (cr, scale, scale);
  cairo_set_source_surface (cr, src, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint (cr);
  cairo_destroy (cr);
  cairo_surface_destroy (src);
  return surface;
}

gboolean
lens_export_png (LensLayerMaps       *maps,
                 LensPixels          *image,
                 const char          *path,
                 const char * const  *text_kv,
                 GError             **error)
{
  cairo_surface_t *surface;
  gboolean ok;

  g_return_val_if_fail (maps != NULL || image != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  surface = maps != NULL ? lens_layer_maps_draw_grid (maps, 0, 4) : draw_image (image);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                           "The figure is too large to draw");
      cairo_surface_destroy (surface);
      return FALSE;
    }
  ok = lens_surface_save_png (surface, path, text_kv, error);
  cairo_surface_destroy (surface);
  return ok;
}

static void
export_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  ExportData *d = task_data;
  GError *error = NULL;

  if (!lens_export_png (d->maps, d->image, d->path, (const char * const *) d->text_kv, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
lens_export_png_async (LensLayerMaps       *maps,
                       LensPixels          *image,
                       const char          *path,
                       const char * const  *text_kv,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ExportData *d;

  g_return_if_fail (maps != NULL || image != NULL);
  g_return_if_fail (path != NULL);

  d = g_new0 (ExportData, 1);
  d->maps = maps ? lens_layer_maps_ref (maps) : NULL;
  d->image = image ? lens_pixels_ref (image) : NULL;
  d->path = g_strdup (path);
  d->text_kv = g_strdupv ((char **) text_kv);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, lens_export_png_async);
  g_task_set_task_data (task, d, export_data_free);
  g_task_run_in_thread (task, export_thread);
}

gboolean
lens_export_png_finish (GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
