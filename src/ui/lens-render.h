/* lens-render.h: the pixels and numbers the window shows, computed on the
 * engine thread.  Plain GLib + cairo, no GTK: the worker, the exporter and
 * the tests share it.
 *
 * Every pixel buffer is in cairo's ARGB32 layout (native-endian 32-bit
 * words, premultiplied), which is also GDK_MEMORY_DEFAULT, so one GBytes
 * can back both a cairo image surface and a GdkMemoryTexture. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "lens-tensor.h"

G_BEGIN_DECLS

/* An immutable, reference-counted ARGB32 image. */
typedef struct _LensPixels LensPixels;

LensPixels      *lens_pixels_new_take        (int     width,
                                              int     height,
                                              int     stride,
                                              guint8 *data);
LensPixels      *lens_pixels_new_for_bytes   (int     width,
                                              int     height,
                                              int     stride,
                                              GBytes *bytes);
LensPixels      *lens_pixels_ref             (LensPixels *pixels);
void             lens_pixels_unref           (LensPixels *pixels);
int              lens_pixels_get_width       (const LensPixels *pixels);
int              lens_pixels_get_height      (const LensPixels *pixels);
int              lens_pixels_get_stride      (const LensPixels *pixels);
GBytes          *lens_pixels_get_bytes       (const LensPixels *pixels);
/* A cairo surface that reads the pixels in place (keeps a reference). */
cairo_surface_t *lens_pixels_create_surface  (LensPixels *pixels);
/* 0xRRGGBB of one pixel (for tests). */
guint32          lens_pixels_get_rgb         (const LensPixels *pixels,
                                              int               x,
                                              int               y);

typedef enum
{
  LENS_NORM_PER_CHANNEL,  /* each map stretched to its own min..max */
  LENS_NORM_SHARED,       /* one min..max for the whole layer */
} LensNormMode;

/* The feature maps of one layer as thumbnails, all in one buffer. */
typedef struct
{
  guint         layer;
  guint         n_channels;
  int           map_width;     /* activation size */
  int           map_height;
  int           thumb_width;   /* every thumbnail has this size */
  int           thumb_height;
  LensNormMode  norm;
  LensPixels  **thumbs;        /* n_channels, sharing one GBytes */
  LensPixels  **full;          /* n_channels at the activation's size, ditto */
  float        *min;           /* n_channels */
  float        *max;           /* n_channels */
  float        *mean;          /* n_channels */
} LensLayerMaps;

/* Activation [1,C,H,W] ([1,C], [1,C,L] work too: maps of 1x1, 1xL) ->
 * thumbnails whose longer side is thumb_size (crisp nearest-neighbour
 * when enlarging, box filter when shrinking).  Maps of a single value use
 * the shared range whatever norm says (a flat tile says nothing). */
LensLayerMaps   *lens_layer_maps_new         (const LensTensor *activation,
                                              guint             layer,
                                              int               thumb_size,
                                              LensNormMode      norm,
                                              GError          **error);
LensLayerMaps   *lens_layer_maps_ref         (LensLayerMaps *maps);
void             lens_layer_maps_unref       (LensLayerMaps *maps);

/* A figure of all thumbnails in rows of `columns` (0 = about square),
 * separated by `gap` pixels of white: for export. */
cairo_surface_t *lens_layer_maps_draw_grid   (const LensLayerMaps *maps,
                                              int                  columns,
                                              int                  gap);

/* Values in [0,1] of an [H,W,3] float image -> ARGB32. */
LensPixels      *lens_pixels_new_from_rgb    (const float *rgb,
                                              int          width,
                                              int          height);

/* 8-bit RGB (3 bytes a pixel, no padding) -> ARGB32. */
LensPixels      *lens_pixels_new_from_rgb8   (const guint8 *rgb,
                                              int           width,
                                              int           height);

/* Top-k of a score vector.  If the scores are not already a probability
 * vector (all in [0,1], summing to 1 within 1e-3), a softmax is applied
 * first; *was_probability says which.  Returns how many were written
 * (min (k, n)); ties keep the lower index first. */
guint            lens_top_k                  (const float *scores,
                                              gsize        n,
                                              guint        k,
                                              guint       *out_index,
                                              float       *out_prob,
                                              gboolean    *was_probability);

/* Writes an ARGB32/RGB24 surface as an 8-bit RGB PNG (atomic). */
gboolean         lens_surface_save_png       (cairo_surface_t    *surface,
                                              const char         *path,
                                              const char * const *text_kv,
                                              GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensPixels, lens_pixels_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensLayerMaps, lens_layer_maps_unref)

G_END_DECLS
