/* lens-render.c: feature-map thumbnails, input pixels, top-k, PNG figures */
#define G_LOG_DOMAIN "lens-render"

#include "lens-config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "lens-file.h"
#include "lens-render.h"

#if HAVE_LENS_IMAGE
#include "lens-image.h"
#endif

struct _LensPixels
{
  int     width;
  int     height;
  int     stride;
  GBytes *bytes;
};

LensPixels *
lens_pixels_new_for_bytes (int     width,
                           int     height,
                           int     stride,
                           GBytes *bytes)
{
  LensPixels *self;

  g_return_val_if_fail (width > 0 && height > 0 && stride >= width * 4, NULL);
  g_return_val_if_fail (g_bytes_get_size (bytes) >= (gsize) stride * height, NULL);

  self = g_atomic_rc_box_new0 (LensPixels);
  self->width = width;
  self->height = height;
  self->stride = stride;
  self->bytes = g_bytes_ref (bytes);

  return self;
}

LensPixels *
lens_pixels_new_take (int     width,
                      int     height,
                      int     stride,
                      guint8 *data)
{
  g_autoptr(GBytes) bytes = g_bytes_new_take (data, (gsize) stride * height);

  return lens_pixels_new_for_bytes (width, height, stride, bytes);
}

static void
lens_pixels_clear (gpointer data)
{
  LensPixels *self = data;

  g_bytes_unref (self->bytes);
}

LensPixels *
lens_pixels_ref (LensPixels *pixels)
{
  return g_atomic_rc_box_acquire (pixels);
}

void
lens_pixels_unref (LensPixels *pixels)
{
  g_atomic_rc_box_release_full (pixels, lens_pixels_clear);
}

int
lens_pixels_get_width (const LensPixels *pixels)
{
  return pixels->width;
}

int
lens_pixels_get_height (const LensPixels *pixels)
{
  return pixels->height;
}

int
lens_pixels_get_stride (const LensPixels *pixels)
{
  return pixels->stride;
}

GBytes *
lens_pixels_get_bytes (const LensPixels *pixels)
{
  return pixels->bytes;
}

cairo_surface_t *
lens_pixels_create_surface (LensPixels *pixels)
{
  static const cairo_user_data_key_t key;
  cairo_surface_t *surface;

  /* cairo never writes to a surface we only use as a source */
  surface = cairo_image_surface_create_for_data ((guint8 *) g_bytes_get_data (pixels->bytes, NULL),
                                                 CAIRO_FORMAT_ARGB32,
                                                 pixels->width, pixels->height,
                                                 pixels->stride);
  cairo_surface_set_user_data (surface, &key, lens_pixels_ref (pixels),
                               (cairo_destroy_func_t) lens_pixels_unref);
  return surface;
}

guint32
lens_pixels_get_rgb (const LensPixels *pixels,
                     int               x,
                     int               y)
{
  const guint8 *data = g_bytes_get_data (pixels->bytes, NULL);
  guint32 word;

  g_return_val_if_fail (x >= 0 && x < pixels->width && y >= 0 && y < pixels->height, 0);

  memcpy (&word, data + (gsize) y * pixels->stride + (gsize) x * 4, 4);
  return word & 0xffffff;
}

static inline guint32
gray_word (float v)
{
  guint32 g = (guint32) lrintf (CLAMP (v, 0.f, 1.f) * 255.f);

  return 0xff000000u | (g << 16) | (g << 8) | g;
}

LensPixels *
lens_pixels_new_from_rgb (const float *rgb,
                          int          width,
                          int          height)
{
  int stride = cairo_format_stride_for_width (CAIRO_FORMAT_ARGB32, width);
  guint8 *data = g_malloc ((gsize) stride * height);

  for (int y = 0; y < height; y++)
    {
      guint32 *row = (guint32 *) (data + (gsize) y * stride);

      for (int x = 0; x < width; x++)
        {
          const float *p = rgb + ((gsize) y * width + x) * 3;
          guint32 r = (guint32) lrintf (CLAMP (p[0], 0.f, 1.f) * 255.f);
          guint32 g = (guint32) lrintf (CLAMP (p[1], 0.f, 1.f) * 255.f);
          guint32 b = (guint32) lrintf (CLAMP (p[2], 0.f, 1.f) * 255.f);

          row[x] = 0xff000000u | (r << 16) | (g << 8) | b;
        }
    }

  return lens_pixels_new_take (width, height, stride, data);
}

LensPixels *
lens_pixels_new_from_rgb8 (const guint8 *rgb,
                           int           width,
                           int           height)
{
  int stride = cairo_format_stride_for_width (CAIRO_FORMAT_ARGB32, width);
  guint8 *data = g_malloc ((gsize) stride * height);

  for (int y = 0; y < height; y++)
    {
      guint32 *row = (guint32 *) (data + (gsize) y * stride);

      for (int x = 0; x < width; x++)
        {
          const guint8 *p = rgb + ((gsize) y * width + x) * 3;

          row[x] = 0xff000000u | ((guint32) p[0] << 16) | ((guint32) p[1] << 8) | p[2];
        }
    }

  return lens_pixels_new_take (width, height, stride, data);
}

/* One map of h x w floats -> a tw x th gray thumbnail at dst.  Enlarging
 * picks the nearest source element so that single activations stay
 * visible as squares; shrinking averages the source box under each
 * target pixel. */
static void
draw_thumb (const float *map,
            int          w,
            int          h,
            float        lo,
            float        hi,
            guint8      *dst,
            int          tw,
            int          th,
            int          stride)
{
  float range = hi - lo;
  float flat = hi > 0.f ? 0.5f : 0.f;

  for (int ty = 0; ty < th; ty++)
    {
      guint32 *row = (guint32 *) (dst + (gsize) ty * stride);
      int y0 = (int) ((gint64) ty * h / th);
      int y1 = MAX (y0 + 1, (int) (((gint64) ty + 1) * h / th));

      for (int tx = 0; tx < tw; tx++)
        {
          int x0 = (int) ((gint64) tx * w / tw);
          int x1 = MAX (x0 + 1, (int) (((gint64) tx + 1) * w / tw));
          double sum = 0.0;
          float v;

          for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
              sum += map[(gsize) y * w + x];
          v = (float) (sum / ((y1 - y0) * (x1 - x0)));
          row[tx] = gray_word (range > 1e-20f ? (v - lo) / range : flat);
        }
    }
}

static void
lens_layer_maps_clear (gpointer data)
{
  LensLayerMaps *self = data;

  if (self->thumbs != NULL)
    for (guint i = 0; i < self->n_channels; i++)
      g_clear_pointer (&self->thumbs[i], lens_pixels_unref);
  if (self->full != NULL)
    for (guint i = 0; i < self->n_channels; i++)
      g_clear_pointer (&self->full[i], lens_pixels_unref);
  g_free (self->thumbs);
  g_free (self->full);
  g_free (self->min);
  g_free (self->max);
  g_free (self->mean);
}

LensLayerMaps *
lens_layer_maps_ref (LensLayerMaps *maps)
{
  return g_atomic_rc_box_acquire (maps);
}

void
lens_layer_maps_unref (LensLayerMaps *maps)
{
  g_atomic_rc_box_release_full (maps, lens_layer_maps_clear);
}

/* Every channel drawn at width x height, in one buffer; NULL on failure. */
static LensPixels **
render_all (const LensLayerMaps *self,
            const float         *data,
            gsize                plane,
            int                  width,
            int                  height,
            float                shared_lo,
            float                shared_hi,
            GError             **error)
{
  g_autoptr(GBytes) all = NULL;
  int stride = cairo_format_stride_for_width (CAIRO_FORMAT_ARGB32, width);
  gsize per_map = (gsize) stride * height;
  gsize total;
  LensPixels **out;
  guint8 *buf;

  if (stride <= 0 || !lens_size_mul (per_map, self->n_channels, &total) ||
      (buf = g_try_malloc (total)) == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                           "Not enough memory for the feature maps");
      return NULL;
    }

  for (guint c = 0; c < self->n_channels; c++)
    {
      /* a map of one value says nothing on its own scale */
      gboolean shared = self->norm == LENS_NORM_SHARED || plane == 1;

      draw_thumb (data + c * plane, self->map_width, self->map_height,
                  shared ? shared_lo : self->min[c], shared ? shared_hi : self->max[c],
                  buf + c * per_map, width, height, stride);
    }

  all = g_bytes_new_take (buf, total);
  out = g_new0 (LensPixels *, self->n_channels);
  for (guint c = 0; c < self->n_channels; c++)
    {
      g_autoptr(GBytes) slice = g_bytes_new_from_bytes (all, c * per_map, per_map);

      out[c] = lens_pixels_new_for_bytes (width, height, stride, slice);
    }
  return out;
}

LensLayerMaps *
lens_layer_maps_new (const LensTensor *activation,
                     guint             layer,
                     int               thumb_size,
                     LensNormMode      norm,
                     GError          **error)
{
  g_autoptr(LensLayerMaps) self = NULL;
  const LensShape *shape;
  const float *data;
  gsize plane;
  float shared_lo = G_MAXFLOAT, shared_hi = -G_MAXFLOAT;

  g_return_val_if_fail (activation != NULL, NULL);
  g_return_val_if_fail (thumb_size > 0, NULL);

  shape = &activation->shape;
  if (activation->dtype != LENS_DTYPE_FLOAT32 || shape->ndim < 2 || shape->dims[1] < 1)
    {
      g_autofree char *s = lens_shape_to_string (shape);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "A value of shape %s has no feature maps", s);
      return NULL;
    }

  self = g_atomic_rc_box_new0 (LensLayerMaps);
  self->layer = layer;
  self->norm = norm;
  self->n_channels = (guint) shape->dims[1];
  /* [1,C,d2,...,dn]: everything between C and the last axis is rows */
  self->map_width = shape->ndim > 2 ? (int) shape->dims[shape->ndim - 1] : 1;
  self->map_height = 1;
  for (int i = 2; i < shape->ndim - 1; i++)
    self->map_height *= (int) shape->dims[i];
  plane = (gsize) self->map_width * self->map_height;
  if (plane == 0)
    {
      g_autofree char *s = lens_shape_to_string (shape);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "A value of shape %s is empty", s);
      return NULL;
    }

  /* a map of one value is a swatch: no need for a big tile */
  if (plane == 1)
    thumb_size = MAX (8, thumb_size / 3);

  if (self->map_width >= self->map_height)
    {
      self->thumb_width = thumb_size;
      self->thumb_height = MAX (1, (int) ((gint64) thumb_size * self->map_height / self->map_width));
    }
  else
    {
      self->thumb_height = thumb_size;
      self->thumb_width = MAX (1, (int) ((gint64) thumb_size * self->map_width / self->map_height));
    }

  data = lens_tensor_get_floats (activation);
  self->min = g_new (float, self->n_channels);
  self->max = g_new (float, self->n_channels);
  self->mean = g_new (float, self->n_channels);
  for (guint c = 0; c < self->n_channels; c++)
    {
      const float *map = data + c * plane;
      float lo = map[0], hi = map[0];
      double sum = 0.0;

      for (gsize i = 0; i < plane; i++)
        {
          lo = MIN (lo, map[i]);
          hi = MAX (hi, map[i]);
          sum += map[i];
        }
      self->min[c] = lo;
      self->max[c] = hi;
      self->mean[c] = (float) (sum / plane);
      shared_lo = MIN (shared_lo, lo);
      shared_hi = MAX (shared_hi, hi);
    }

  self->thumbs = render_all (self, data, plane, self->thumb_width, self->thumb_height,
                             shared_lo, shared_hi, error);
  if (self->thumbs == NULL)
    return NULL;
  self->full = render_all (self, data, plane, self->map_width, self->map_height,
                           shared_lo, shared_hi, error);
  if (self->full == NULL)
    return NULL;

  return g_steal_pointer (&self);
}

cairo_surface_t *
lens_layer_maps_draw_grid (const LensLayerMaps *maps,
                           int                  columns,
                           int                  gap)
{
  cairo_surface_t *surface;
  cairo_t *cr;
  int rows, width, height;

  g_return_val_if_fail (maps != NULL && maps->n_channels > 0, NULL);

  if (columns <= 0)
    columns = (int) ceil (sqrt ((double) maps->n_channels));
  columns = MIN (columns, (int) maps->n_channels);
  rows = ((int) maps->n_channels + columns - 1) / columns;
  width = columns * maps->thumb_width + (columns + 1) * gap;
  height = rows * maps->thumb_height + (rows + 1) * gap;

  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  for (guint c = 0; c < maps->n_channels; c++)
    {
      cairo_surface_t *thumb = lens_pixels_create_surface (maps->thumbs[c]);
      int x = gap + (int) (c % columns) * (maps->thumb_width + gap);
      int y = gap + (int) (c / columns) * (maps->thumb_height + gap);

      cairo_set_source_surface (cr, thumb, x, y);
      cairo_paint (cr);
      cairo_surface_destroy (thumb);
    }
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  return surface;
}

guint
lens_top_k (const float *scores,
            gsize        n,
            guint        k,
            guint       *out_index,
            float       *out_prob,
            gboolean    *was_probability)
{
  g_autofree double *p = NULL;
  double sum = 0.0;
  gboolean is_prob = TRUE;
  guint found = 0;

  g_return_val_if_fail (scores != NULL || n == 0, 0);

  p = g_new (double, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    {
      if (!(scores[i] >= 0.f && scores[i] <= 1.f))
        is_prob = FALSE;
      sum += scores[i];
    }
  if (fabs (sum - 1.0) > 1e-3)
    is_prob = FALSE;

  if (is_prob)
    {
      for (gsize i = 0; i < n; i++)
        p[i] = scores[i];
    }
  else
    {
      double top = -INFINITY, total = 0.0;

      for (gsize i = 0; i < n; i++)
        top = MAX (top, (double) scores[i]);
      for (gsize i = 0; i < n; i++)
        total += p[i] = exp ((double) scores[i] - top);
      for (gsize i = 0; i < n; i++)
        p[i] /= total;
    }

  /* k is small (5): selection by repeated scans is plenty */
  while (found < k && found < n)
    {
      gsize best = G_MAXSIZE;

      for (gsize i = 0; i < n; i++)
        {
          gboolean taken = FALSE;

          for (guint j = 0; j < found && !taken; j++)
            taken = out_index[j] == i;
          if (!taken && !isnan (p[i]) && (best == G_MAXSIZE || p[i] > p[best]))
            best = i;
        }
      if (best == G_MAXSIZE)
        break;
      out_index[found] = (guint) best;
      out_prob[found] = (float) p[best];
      found++;
    }

  if (was_probability != NULL)
    *was_probability = is_prob;
  return found;
}

#if !HAVE_LENS_IMAGE
static cairo_status_t
append_png_bytes (void                *closure,
                  const unsigned char *data,
                  unsigned int         length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}
#endif

gboolean
lens_surface_save_png (cairo_surface_t    *surface,
                       const char         *path,
                       const char * const *text_kv,
                       GError            **error)
{
  int width, height, stride;
  g_autofree guint8 *rgb = NULL;
  const guint8 *data;

  g_return_val_if_fail (cairo_surface_get_type (surface) == CAIRO_SURFACE_TYPE_IMAGE, FALSE);

  cairo_surface_flush (surface);
  width = cairo_image_surface_get_width (surface);
  height = cairo_image_surface_get_height (surface);
  stride = cairo_image_surface_get_stride (surface);
  data = cairo_image_surface_get_data (surface);

  /* xRGB words -> R, G, B bytes (a figure is opaque) */
  rgb = g_malloc ((gsize) width * height * 3);
  for (int y = 0; y < height; y++)
    {
      const guint32 *src = (const guint32 *) (data + (gsize) y * stride);
      guint8 *dst = rgb + (gsize) y * width * 3;

      for (int x = 0; x < width; x++)
        {
          dst[3 * x + 0] = (src[x] >> 16) & 0xff;
          dst[3 * x + 1] = (src[x] >> 8) & 0xff;
          dst[3 * x + 2] = src[x] & 0xff;
        }
    }

#if HAVE_LENS_IMAGE
  return lens_png_save_rgb (path, rgb, width, height, width * 3, text_kv, error);
#else
  {
    /* Fallback until the engine's PNG writer exists: cairo encodes into
     * memory, the engine's atomic writer puts it on disk. */
    g_autoptr(GByteArray) png = g_byte_array_new ();

    if (cairo_surface_write_to_png_stream (surface, append_png_bytes, png) != CAIRO_STATUS_SUCCESS)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Could not encode “%s”", path);
        return FALSE;
      }
    return lens_file_write_atomic (path, png->data, png->len, error);
  }
#endif
}
