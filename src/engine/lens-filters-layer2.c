/* lens-filters-layer2.c: the layer-2 top-1 projections of the filters
 * figure (Zeiler & Fergus, Fig. 6 (c)/(e); see lens-filters.h)
 *
 * The scan and the drawing are the top-k analysis's (lens-topk.c) with
 * k = 1; this file picks the layer, and stacks the two parts of the figure.
 */
#define G_LOG_DOMAIN "lens-filters-layer2"

#include <string.h>

#include <pango/pangocairo.h>

#include "lens-filters.h"

/* Above this many pixels a figure is refused rather than allocated. */
#define MAX_FIGURE_PIXELS ((gsize) 1 << 27)
#define BACKGROUND        24
#define CAPTION_FONT_PX   14
#define CAPTION_MARGIN    8

static gboolean
is_conv (LensNet *net,
         int      layer)
{
  return g_strcmp0 (lens_net_layer_get_op (net, layer), "Conv") == 0;
}

/* The index of the named Conv, or -1 (with error). */
static int
named_conv (LensNet    *net,
            const char *name,
            const char *role,
            GError    **error)
{
  int layer = lens_net_find_layer (net, name);

  if (layer < 0 || !is_conv (net, layer))
    {
      g_set_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_LAYER,
                   "The model has no Conv layer '%s' (for the %s)", name, role);
      return -1;
    }
  return layer;
}

int
lens_filters_find_layer2 (LensNet    *net,
                          const char *layer1,
                          const char *layer2,
                          GError    **error)
{
  guint n;
  int first = -1;

  g_return_val_if_fail (net != NULL, -1);

  if (layer2 != NULL)
    return named_conv (net, layer2, "layer-2 projections", error);

  n = lens_net_get_n_layers (net);
  if (layer1 != NULL)
    {
      first = named_conv (net, layer1, "layer-1 filters", error);
      if (first < 0)
        return -1;
    }
  else
    for (guint l = 0; l < n && first < 0; l++)
      if (is_conv (net, (int) l))
        first = (int) l;
  if (first < 0)
    {
      g_set_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_LAYER,
                   "The model has no Conv layer");
      return -1;
    }
  for (guint l = (guint) first + 1; l < n; l++)
    if (is_conv (net, (int) l))
      return (int) l;
  g_set_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_LAYER,
               "The model has no second Conv layer after '%s' for layer-2 projections",
               lens_net_layer_get_name (net, first));
  return -1;
}

LensTopk *
lens_filters_layer2_scan (LensNet              *net,
                          const char           *model_path,
                          const char           *layer1,
                          const char           *layer2,
                          LensScanSource       *source,
                          const LensPreprocess *pre,
                          int                   limit,
                          LensTopkProgress      progress,
                          gpointer              user_data,
                          GCancellable         *cancellable,
                          GError              **error)
{
  g_autoptr(LensTopk) top1 = NULL;
  LensTopkOptions opts;
  const char *layers[2] = { NULL, NULL };
  int layer;

  g_return_val_if_fail (net != NULL && model_path != NULL, NULL);

  if (source == NULL || pre == NULL)
    {
      g_set_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_DATASET,
                   "Layer-2 projections need a data set");
      return NULL;
    }
  if (limit < 0)
    {
      g_set_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_DATASET,
                   "The image limit %d is negative", limit);
      return NULL;
    }
  layer = lens_filters_find_layer2 (net, layer1, layer2, error);
  if (layer < 0)
    return NULL;
  layers[0] = lens_net_layer_get_name (net, layer);

  lens_topk_options_init (&opts);
  opts.k = 1;
  opts.limit = limit;
  opts.progress = progress;
  opts.user_data = user_data;
  top1 = lens_topk_new (net, model_path, source, layers, &opts, error);
  if (top1 == NULL)
    return NULL;
  if (!lens_topk_scan (top1, net, source, pre, &opts, cancellable, error))
    {
      /* a scan stops early only on error or cancellation, which set error */
      if (error != NULL && *error == NULL)
        g_set_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_DATASET,
                     "The layer-2 scan did not finish");
      return NULL;
    }
  return g_steal_pointer (&top1);
}

guint8 *
lens_filters_layer2_render (LensTopk             *top1,
                            LensNet              *net,
                            LensScanSource       *source,
                            const LensPreprocess *pre,
                            int                  *width,
                            int                  *height,
                            GCancellable         *cancellable,
                            GError              **error)
{
  const LensTopkLayer *layer;

  g_return_val_if_fail (top1 != NULL && net != NULL && source != NULL && pre != NULL, NULL);

  if (lens_topk_get_n_layers (top1) != 1 || lens_topk_get_k (top1) != 1)
    {
      g_set_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_LAYER,
                   "Not a layer-2 top-1 result (one layer, k = 1)");
      return NULL;
    }
  layer = lens_topk_get_layer (top1, 0);
  if (layer->channels < 1)
    {
      g_set_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_LAYER,
                   "Layer '%s' has no channels", layer->name);
      return NULL;
    }
  return lens_topk_render (top1, net, source, pre, layer->name, 0, layer->channels - 1, width,
                           height, cancellable, error);
}

/* The caption, light on the figure's dark background, into rgb at row y0
 * (the strip is LENS_FILTERS_CAPTION_HEIGHT high and width wide). */
static void
draw_caption (guint8     *rgb,
              int         width,
              int         y0,
              const char *caption)
{
  cairo_surface_t *surface;
  cairo_t *cr;
  PangoLayout *layout;
  PangoFontDescription *font;
  const guint8 *data;
  int stride, h = LENS_FILTERS_CAPTION_HEIGHT;

  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, h);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      /* no caption rather than no figure */
      cairo_surface_destroy (surface);
      return;
    }
  cr = cairo_create (surface);
  cairo_set_source_rgb (cr, BACKGROUND / 255.0, BACKGROUND / 255.0, BACKGROUND / 255.0);
  cairo_paint (cr);
  layout = pango_cairo_create_layout (cr);
  /* Pango, so that a translated caption or any layer name finds a font */
  font = pango_font_description_from_string ("Sans");
  pango_font_description_set_absolute_size (font, CAPTION_FONT_PX * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, caption, -1);
  pango_layout_set_width (layout, (width - 2 * CAPTION_MARGIN) * PANGO_SCALE);
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  cairo_set_source_rgb (cr, 0.92, 0.92, 0.92);
  cairo_move_to (cr, CAPTION_MARGIN, (h - CAPTION_FONT_PX * 1.25) / 2);
  pango_cairo_show_layout (cr, layout);
  pango_font_description_free (font);
  g_object_unref (layout);
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  /* cairo's native-endian xRGB words to RGB bytes */
  data = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < width; x++)
      {
        guint32 px = ((const guint32 *) (data + (gsize) y * stride))[x];
        guint8 *o = rgb + ((gsize) (y0 + y) * width + x) * 3;

        o[0] = (px >> 16) & 0xff;
        o[1] = (px >> 8) & 0xff;
        o[2] = px & 0xff;
      }
  cairo_surface_destroy (surface);
}

static void
copy_block (guint8       *dst,
            int           dst_w,
            int           y0,
            const guint8 *src,
            int           src_w,
            int           src_h)
{
  for (int y = 0; y < src_h; y++)
    memcpy (dst + ((gsize) (y0 + y) * dst_w) * 3, src + (gsize) y * src_w * 3,
            (gsize) src_w * 3);
}

guint8 *
lens_filters_figure_stack (const guint8 *tiles,
                           int           tiles_width,
                           int           tiles_height,
                           const char   *caption,
                           const guint8 *layer2,
                           int           layer2_width,
                           int           layer2_height,
                           int          *width,
                           int          *height,
                           GError      **error)
{
  guint8 *rgb;
  gsize w, h;

  g_return_val_if_fail (tiles != NULL && layer2 != NULL && caption != NULL, NULL);
  g_return_val_if_fail (tiles_width > 0 && tiles_height > 0, NULL);
  g_return_val_if_fail (layer2_width > 0 && layer2_height > 0, NULL);

  w = (gsize) MAX (tiles_width, layer2_width);
  h = (gsize) tiles_height + LENS_FILTERS_CAPTION_HEIGHT + (gsize) layer2_height;
  if (h > G_MAXINT || w > MAX_FIGURE_PIXELS / h)
    {
      g_set_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_SIZE,
                   "The filters figure (%" G_GSIZE_FORMAT "x%" G_GSIZE_FORMAT
                   " pixels) is too large", w, h);
      return NULL;
    }
  rgb = g_malloc (w * h * 3);
  memset (rgb, BACKGROUND, w * h * 3);
  copy_block (rgb, (int) w, 0, tiles, tiles_width, tiles_height);
  draw_caption (rgb, (int) w, tiles_height, caption);
  copy_block (rgb, (int) w, tiles_height + LENS_FILTERS_CAPTION_HEIGHT, layer2, layer2_width,
              layer2_height);
  *width = (int) w;
  *height = (int) h;
  return rgb;
}
