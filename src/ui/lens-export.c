/* lens-export.c: PNG figures (input, projection, heat map with its legend,
 * feature grid) and CSV numbers (predictions, occlusion grid) */
#define G_LOG_DOMAIN "lens-export"

#include "lens-config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "lens-export.h"
#include "lens-file.h"

static const char * const kind_names[] = {
  [LENS_EXPORT_INPUT] = "input",
  [LENS_EXPORT_PROJECTION] = "projection",
  [LENS_EXPORT_HEAT_MAP] = "heat-map",
  [LENS_EXPORT_GRID] = "grid",
  [LENS_EXPORT_PREDICTIONS] = "predictions",
  [LENS_EXPORT_OCCLUSION] = "occlusion",
};
G_STATIC_ASSERT (G_N_ELEMENTS (kind_names) == LENS_EXPORT_N_KINDS);

const char *
lens_export_kind_to_string (LensExportKind kind)
{
  g_return_val_if_fail (kind < LENS_EXPORT_N_KINDS, NULL);
  return kind_names[kind];
}

gboolean
lens_export_kind_from_string (const char     *name,
                              LensExportKind *kind)
{
  for (guint i = 0; i < LENS_EXPORT_N_KINDS; i++)
    if (g_strcmp0 (name, kind_names[i]) == 0)
      {
        *kind = (LensExportKind) i;
        return TRUE;
      }
  return FALSE;
}

gboolean
lens_export_kind_is_csv (LensExportKind kind)
{
  return kind == LENS_EXPORT_PREDICTIONS || kind == LENS_EXPORT_OCCLUSION;
}

const char *
lens_export_kind_get_suffix (LensExportKind kind)
{
  return lens_export_kind_is_csv (kind) ? ".csv" : ".png";
}

static void
legend_entry_clear (gpointer data)
{
  LensLegendEntry *e = data;

  g_free (e->name);
}

LensExportRequest *
lens_export_request_new (LensExportKind kind)
{
  LensExportRequest *request = g_new0 (LensExportRequest, 1);

  g_return_val_if_fail (kind < LENS_EXPORT_N_KINDS, NULL);

  request->kind = kind;
  request->classes = g_array_new (FALSE, TRUE, sizeof (LensLegendEntry));
  g_array_set_clear_func (request->classes, legend_entry_clear);
  return request;
}

void
lens_export_request_free (LensExportRequest *request)
{
  if (request == NULL)
    return;
  g_clear_pointer (&request->input, lens_pixels_unref);
  g_clear_pointer (&request->projection, lens_pixels_unref);
  g_clear_pointer (&request->heat, lens_pixels_unref);
  g_clear_pointer (&request->maps, lens_layer_maps_unref);
  g_clear_pointer (&request->trace, lens_trace_info_unref);
  g_clear_pointer (&request->sweep, lens_occlusion_sweep_unref);
  g_clear_pointer (&request->classes, g_array_unref);
  g_free (request->caption);
  g_strfreev (request->text_kv);
  g_free (request);
}

void
lens_export_request_add_class (LensExportRequest *request,
                               guint32            color,
                               const char        *name)
{
  LensLegendEntry e = { color, g_strdup (name) };

  g_array_append_val (request->classes, e);
}

/* The source image of a picture kind (borrowed), or NULL. */
static LensPixels *
source_pixels (const LensExportRequest *request)
{
  switch (request->kind)
    {
    case LENS_EXPORT_INPUT:
    case LENS_EXPORT_HEAT_MAP:
      return request->input;
    case LENS_EXPORT_PROJECTION:
      return request->projection;
    default:
      return NULL;
    }
}

int
lens_export_request_get_scale (const LensExportRequest *request)
{
  LensPixels *pixels = source_pixels (request);
  int side;

  if (request->scale > 0)
    return MIN (request->scale, LENS_EXPORT_MAX_SCALE);
  if (pixels == NULL)
    return 1;
  /* small inputs (28x28) become readable figures */
  side = MAX (lens_pixels_get_width (pixels), lens_pixels_get_height (pixels));
  return CLAMP ((LENS_EXPORT_MIN_SIZE + side - 1) / side, 1, LENS_EXPORT_MAX_SCALE);
}

/* src enlarged `scale` times with crisp pixels, at (x, y) of cr. */
static void
paint_scaled (cairo_t         *cr,
              cairo_surface_t *src,
              double           x,
              double           y,
              int              scale,
              double           alpha)
{
  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, scale, scale);
  cairo_set_source_surface (cr, src, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint_with_alpha (cr, alpha);
  cairo_restore (cr);
}

static cairo_surface_t *
draw_scaled_pixels (LensPixels *pixels,
                    int         scale)
{
  int w = lens_pixels_get_width (pixels), h = lens_pixels_get_height (pixels);
  cairo_surface_t *src = lens_pixels_create_surface (pixels);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w * scale,
                                                         h * scale);
  cairo_t *cr = cairo_create (surface);

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  paint_scaled (cr, src, 0, 0, scale, 1.0);
  cairo_destroy (cr);
  cairo_surface_destroy (src);
  return surface;
}

static cairo_surface_t *
draw_grid (const LensExportRequest *request,
           int                      scale)
{
  cairo_surface_t *grid = lens_layer_maps_draw_grid (request->maps, 0, 4);
  cairo_surface_t *surface;
  cairo_t *cr;

  if (scale == 1 || cairo_surface_status (grid) != CAIRO_STATUS_SUCCESS)
    return grid;
  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24,
                                        cairo_image_surface_get_width (grid) * scale,
                                        cairo_image_surface_get_height (grid) * scale);
  cr = cairo_create (surface);
  paint_scaled (cr, grid, 0, 0, scale, 1.0);
  cairo_destroy (cr);
  cairo_surface_destroy (grid);
  return surface;
}

static PangoLayout *
new_layout (cairo_t    *cr,
            const char *text,
            double      px)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string ("Sans");

  pango_font_description_set_absolute_size (font, px * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text, -1);
  pango_font_description_free (font);
  return layout;
}

/* Text at (x, y) (top), aligned by `align` (0 left, 0.5 centre, 1 right). */
static void
show_text (cairo_t    *cr,
           const char *text,
           double      px,
           double      x,
           double      y,
           double      align)
{
  g_autoptr(PangoLayout) layout = new_layout (cr, text, px);
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x - align * w, y);
  cairo_set_source_rgb (cr, 0, 0, 0);
  pango_cairo_show_layout (cr, layout);
}

static void
set_source_color (cairo_t *cr,
                  guint32  c)
{
  cairo_set_source_rgb (cr, (c >> 16) / 255.0, ((c >> 8) & 0xff) / 255.0, (c & 0xff) / 255.0);
}

static char *
format_bound (const LensExportRequest *request,
              double                   v)
{
  if (request->percent)
    return g_strdup_printf (_("%.1f %%"), 100.0 * v);
  return g_strdup_printf ("%.4g", v);
}

/* The legend below a heat map of `width` pixels: its height, and when cr
 * is not NULL, the legend drawn from y. */
static double
draw_legend (const LensExportRequest *request,
             cairo_t                 *cr,
             double                   y,
             double                   width,
             double                   unit)
{
  double pad = 6 * unit, px = 11 * unit, line = 15 * unit;

  if (request->classes->len > 0)
    {
      double x = pad, row = y + pad;

      for (guint i = 0; i < request->classes->len; i++)
        {
          LensLegendEntry *e = &g_array_index (request->classes, LensLegendEntry, i);
          g_autoptr(PangoLayout) layout = NULL;
          int tw, th;

          if (cr == NULL)
            {
              cairo_surface_t *dummy = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 1, 1);
              cairo_t *dcr = cairo_create (dummy);

              layout = new_layout (dcr, e->name, px);
              cairo_destroy (dcr);
              cairo_surface_destroy (dummy);
            }
          else
            layout = new_layout (cr, e->name, px);
          pango_layout_get_pixel_size (layout, &tw, &th);
          if (x > pad && x + px + 4 * unit + tw > width - pad)
            {
              x = pad;
              row += line;
            }
          if (cr != NULL)
            {
              cairo_rectangle (cr, x, row + 2 * unit, px, px);
              set_source_color (cr, e->color);
              cairo_fill (cr);
              show_text (cr, e->name, px, x + px + 4 * unit, row, 0);
            }
          x += px + 4 * unit + tw + 10 * unit;
        }
      return row + line + pad - y;
    }

  if (cr != NULL)
    {
      double bar_w = width - 2 * pad;
      g_autofree char *lo = format_bound (request, request->lo);
      g_autofree char *hi = format_bound (request, request->hi);
      int steps = MAX (2, (int) bar_w);

      for (int i = 0; i < steps; i++)
        {
          cairo_rectangle (cr, pad + bar_w * i / steps, y + pad, bar_w / steps + 0.5, 14 * unit);
          set_source_color (cr, lens_colormap_color (request->colormap, i / (double) (steps - 1)));
          cairo_fill (cr);
        }
      show_text (cr, lo, px, pad, y + pad + 16 * unit, 0);
      show_text (cr, hi, px, width - pad, y + pad + 16 * unit, 1);
      if (request->caption != NULL)
        show_text (cr, request->caption, px, width / 2, y + pad + 16 * unit + line, 0.5);
    }
  return pad + 16 * unit + 2 * line + pad;
}

static cairo_surface_t *
draw_heat_map (const LensExportRequest *request,
               int                      scale)
{
  LensOcclusionMap *map = request->sweep->map;
  int w = lens_pixels_get_width (request->input), h = lens_pixels_get_height (request->input);
  double unit = MAX (1.0, w * scale / 256.0);
  double legend_h = draw_legend (request, NULL, 0, w * scale, unit);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w * scale,
                                                         h * scale + (int) ceil (legend_h));
  cairo_surface_t *input = lens_pixels_create_surface (request->input);
  cairo_surface_t *heat = lens_pixels_create_surface (request->heat);
  cairo_t *cr = cairo_create (surface);
  double x0, y0, sx, sy;

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  paint_scaled (cr, input, 0, 0, scale, 1.0);

  /* as on screen: each cell centred on its square's centre, one stride
   * wide, at 70 % over the input */
  x0 = map->xs[0] + map->size / 2.0 - map->stride / 2.0;
  y0 = map->ys[0] + map->size / 2.0 - map->stride / 2.0;
  sx = (double) map->n_x * map->stride / lens_pixels_get_width (request->heat);
  sy = (double) map->n_y * map->stride / lens_pixels_get_height (request->heat);
  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, w * scale, h * scale);
  cairo_clip (cr);
  cairo_scale (cr, scale, scale);
  cairo_translate (cr, x0, y0);
  cairo_scale (cr, sx, sy);
  cairo_set_source_surface (cr, heat, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint_with_alpha (cr, 0.7);
  cairo_restore (cr);

  draw_legend (request, cr, h * scale, w * scale, unit);
  cairo_destroy (cr);
  cairo_surface_destroy (heat);
  cairo_surface_destroy (input);
  return surface;
}

static gboolean
missing (GError     **error,
         const char  *what)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, what);
  return FALSE;
}

/* Whether the request holds what its kind needs. */
static gboolean
check_request (const LensExportRequest  *request,
               GError                  **error)
{
  switch (request->kind)
    {
    case LENS_EXPORT_INPUT:
      return request->input != NULL || missing (error, _("There is no image to export"));
    case LENS_EXPORT_PROJECTION:
      return request->projection != NULL ||
             missing (error, _("There is no projection to export: click a channel first"));
    case LENS_EXPORT_HEAT_MAP:
      return (request->input != NULL && request->heat != NULL && request->sweep != NULL) ||
             missing (error, _("There is no heat map to export: run a sweep first"));
    case LENS_EXPORT_GRID:
      return (request->maps != NULL && request->maps->n_channels > 0) ||
             missing (error, _("There are no feature maps to export"));
    case LENS_EXPORT_PREDICTIONS:
      return (request->trace != NULL && request->trace->n_predictions > 0) ||
             missing (error, _("There are no predictions to export"));
    case LENS_EXPORT_OCCLUSION:
      return request->sweep != NULL ||
             missing (error, _("There is no occlusion grid to export: run a sweep first"));
    case LENS_EXPORT_N_KINDS:
    default:
      return missing (error, _("Unknown kind of export"));
    }
}

gboolean
lens_export_get_size (const LensExportRequest *request,
                      int                     *width,
                      int                     *height)
{
  int scale;

  g_return_val_if_fail (request != NULL, FALSE);

  if (lens_export_kind_is_csv (request->kind) || !check_request (request, NULL))
    return FALSE;
  scale = lens_export_request_get_scale (request);
  if (request->kind == LENS_EXPORT_GRID)
    {
      /* as lens_layer_maps_draw_grid: about square, 4-pixel gaps */
      const LensLayerMaps *maps = request->maps;
      int columns = MIN ((int) ceil (sqrt ((double) maps->n_channels)), (int) maps->n_channels);
      int rows = ((int) maps->n_channels + columns - 1) / columns;

      *width = scale * (columns * maps->thumb_width + (columns + 1) * 4);
      *height = scale * (rows * maps->thumb_height + (rows + 1) * 4);
      return TRUE;
    }
  *width = lens_pixels_get_width (source_pixels (request)) * scale;
  *height = lens_pixels_get_height (source_pixels (request)) * scale;
  if (request->kind == LENS_EXPORT_HEAT_MAP)
    *height += (int) ceil (draw_legend (request, NULL, 0, *width, MAX (1.0, *width / 256.0)));
  return TRUE;
}

cairo_surface_t *
lens_export_draw (const LensExportRequest  *request,
                  GError                  **error)
{
  cairo_surface_t *surface = NULL;
  int scale;

  g_return_val_if_fail (request != NULL, NULL);
  g_return_val_if_fail (!lens_export_kind_is_csv (request->kind), NULL);

  if (!check_request (request, error))
    return NULL;
  scale = lens_export_request_get_scale (request);
  switch (request->kind)
    {
    case LENS_EXPORT_INPUT:
    case LENS_EXPORT_PROJECTION:
      surface = draw_scaled_pixels (source_pixels (request), scale);
      break;
    case LENS_EXPORT_HEAT_MAP:
      surface = draw_heat_map (request, scale);
      break;
    case LENS_EXPORT_GRID:
    default:
      surface = draw_grid (request, scale);
      break;
    }
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                           _("The figure is too large to draw: choose a smaller scale"));
      cairo_surface_destroy (surface);
      return NULL;
    }
  return surface;
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void
append_field (GString    *out,
              const char *text)
{
  if (text == NULL)
    return;
  if (strpbrk (text, ",\"\r\n") == NULL)
    {
      g_string_append (out, text);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

/* Floats in the C locale with enough digits to read back the same value. */
static void
append_float (GString *out,
              double   v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.9g", v));
}

static void
format_predictions (const LensTraceInfo *trace,
                    GString             *out)
{
  g_string_append (out, "rank,class,label,probability\n");
  for (guint i = 0; i < trace->n_predictions; i++)
    {
      const LensPrediction *p = &trace->predictions[i];

      g_string_append_printf (out, "%u,%u,", i + 1, p->index);
      append_field (out, p->label);
      g_string_append_c (out, ',');
      append_float (out, p->probability);
      g_string_append_c (out, '\n');
    }
}

static void
format_occlusion (const LensOcclusionSweep *sweep,
                  GString                  *out)
{
  const LensOcclusionMap *map = sweep->map;

  g_string_append (out, "x,y,target_probability,top_class,top_label,top_probability,"
                        "feature_activation\n");
  for (int i = 0; i < map->n_y; i++)
    for (int j = 0; j < map->n_x; j++)
      {
        int k = i * map->n_x + j;
        int klass = map->top_class[k];

        g_string_append_printf (out, "%d,%d,", map->xs[j], map->ys[i]);
        append_float (out, map->prob[k]);
        g_string_append_printf (out, ",%d,", klass);
        if (sweep->labels != NULL && klass >= 0 && (guint) klass < sweep->n_classes)
          append_field (out, sweep->labels[klass]);
        g_string_append_c (out, ',');
        append_float (out, map->top_prob[k]);
        g_string_append_c (out, ',');
        append_float (out, map->feature[k]);
        g_string_append_c (out, '\n');
      }
}

char *
lens_export_format_csv (const LensExportRequest  *request,
                        GError                  **error)
{
  GString *out;

  g_return_val_if_fail (request != NULL, NULL);
  g_return_val_if_fail (lens_export_kind_is_csv (request->kind), NULL);

  if (!check_request (request, error))
    return NULL;
  out = g_string_new (NULL);
  if (request->kind == LENS_EXPORT_PREDICTIONS)
    format_predictions (request->trace, out);
  else
    format_occlusion (request->sweep, out);
  return g_string_free (out, FALSE);
}

gboolean
lens_export_write (const LensExportRequest  *request,
                   const char               *path,
                   GError                  **error)
{
  g_return_val_if_fail (request != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (lens_export_kind_is_csv (request->kind))
    {
      g_autofree char *text = lens_export_format_csv (request, error);

      /* temporary file, fsync, rename: the old file survives a failure */
      return text != NULL && lens_file_write_atomic (path, text, strlen (text), error);
    }
  else
    {
      cairo_surface_t *surface = lens_export_draw (request, error);
      gboolean ok;

      if (surface == NULL)
        return FALSE;
      ok = lens_surface_save_png (surface, path, (const char * const *) request->text_kv, error);
      cairo_surface_destroy (surface);
      return ok;
    }
}

static void
export_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  LensExportRequest *request = task_data;
  const char *path = g_object_get_data (G_OBJECT (task), "lens-export-path");
  GError *error = NULL;

  if (!lens_export_write (request, path, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
lens_export_write_async (LensExportRequest   *request,
                         const char          *path,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (request != NULL);
  g_return_if_fail (path != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, lens_export_write_async);
  g_task_set_task_data (task, request, (GDestroyNotify) lens_export_request_free);
  g_object_set_data_full (G_OBJECT (task), "lens-export-path", g_strdup (path), g_free);
  g_task_run_in_thread (task, export_thread);
}

gboolean
lens_export_write_finish (GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
