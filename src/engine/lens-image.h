/* lens-image.h: decoded RGB images, preprocessing into network input
 * tensors and back, and PNG export
 *
 * An image is always 3 float channels in [0,1], interleaved (HWC), whatever
 * the file held: gray is replicated, alpha is composited over white,
 * palette and 16-bit samples are expanded.  Files are recognised by their
 * magic bytes (PNG or JPEG), never by their name.
 *
 *   g_autoptr(LensImage) img = lens_image_load ("cat.jpg", &error);
 *   LensPreprocess pre;
 *   lens_preprocess_init_imagenet (&pre);
 *   g_autoptr(LensTensor) x = lens_image_to_tensor (img, &pre, &error);
 */
#pragma once

#include <glib.h>

#include "lens-tensor.h"

G_BEGIN_DECLS

#define LENS_IMAGE_ERROR (lens_image_error_quark ())

typedef enum
{
  LENS_IMAGE_ERROR_IO,          /* the file cannot be read or written */
  LENS_IMAGE_ERROR_FORMAT,      /* not PNG/JPEG, or corrupt/truncated */
  LENS_IMAGE_ERROR_UNSUPPORTED, /* a valid file we cannot use (colour space...) */
  LENS_IMAGE_ERROR_TOO_LARGE,   /* more than LENS_IMAGE_MAX_PIXELS, or out of memory */
} LensImageError;

/* Images larger than this (64 megapixels) are refused before decoding. */
#define LENS_IMAGE_MAX_PIXELS (G_GUINT64_CONSTANT (64) * 1024 * 1024)

typedef struct
{
  int    width;
  int    height;
  float *rgb;   /* HWC: 3 floats per pixel in [0,1], row-major, no padding */
} LensImage;

typedef struct
{
  int      channels;       /* 1 or 3 */
  int      height;         /* network input size */
  int      width;
  /* 0: resize directly to height x width; > 0: resize the shorter side to
   * this, then take the centre height x width crop (torchvision's
   * Resize(resize) + CenterCrop((height, width))). */
  int      resize_shorter;
  /* Pixel range multiplier applied before mean/std: 1 for [0,1], 255 for
   * [0,255] (Caffe-style models). */
  float    scale;
  /* In tensor channel order (i.e. after bgr is applied); for 1 channel
   * only [0] is used. */
  float    mean[3];
  float    std[3];
  gboolean bgr;            /* tensor channel 0 is blue */
} LensPreprocess;

GQuark      lens_image_error_quark        (void);

LensImage  *lens_image_new                (int width,
                                           int height);
LensImage  *lens_image_copy               (const LensImage *image);
void        lens_image_free               (LensImage *image);

/* Decode a PNG or JPEG file (detected by magic bytes). */
LensImage  *lens_image_load               (const char *path,
                                           GError    **error);
/* The same from memory; name is used in error messages only. */
LensImage  *lens_image_load_data          (const guint8 *data,
                                           gsize         length,
                                           const char   *name,
                                           GError      **error);

/* Bilinear, align_corners=false (pixel centres), no antialiasing: the
 * formula of torch.nn.functional.interpolate (mode="bilinear"). */
LensImage  *lens_image_resize             (const LensImage *src,
                                           int              width,
                                           int              height);
/* A copy of the rectangle (x, y, width, height), which must lie inside. */
LensImage  *lens_image_crop               (const LensImage *src,
                                           int              x,
                                           int              y,
                                           int              width,
                                           int              height);

/* 224x224, resize 256 + centre crop, scale 1, torchvision's ImageNet
 * mean/std, RGB. */
void        lens_preprocess_init_imagenet (LensPreprocess *pre);
/* Resize (and crop) as pre says, without normalising. */
LensImage  *lens_image_prepare            (const LensImage      *image,
                                           const LensPreprocess *pre,
                                           GError              **error);
/* -> [1,C,H,W] float32, value = (pixel * scale - mean) / std; one channel
 * uses the luma 0.299 R + 0.587 G + 0.114 B. */
LensTensor *lens_image_to_tensor          (const LensImage      *image,
                                           const LensPreprocess *pre,
                                           GError              **error);
/* The inverse for display: batch item 0 of a [N,C,H,W] tensor (C 1 or 3),
 * un-normalised and clamped to [0,1].  NULL if the tensor is not of that
 * form. */
LensImage  *lens_image_from_tensor        (const LensTensor     *tensor,
                                           const LensPreprocess *pre);

/* 8-bit interleaved RGB (width*3 bytes per row, rounded). */
guint8     *lens_image_to_rgb8            (const LensImage *image);

/* PNG export.  text_kv is NULL or a NULL-terminated list key, value, key,
 * value...: each pair becomes a tEXt chunk (iTXt when the value is not
 * plain ASCII).  Keys are 1-79 printable ASCII characters.  The PNG is
 * encoded in memory and then written atomically: if writing fails the old
 * file is kept.  stride is the distance between rows in bytes. */
gboolean    lens_png_save_rgb             (const char         *path,
                                           const guint8       *rgb,
                                           int                 width,
                                           int                 height,
                                           int                 stride,
                                           const char * const *text_kv,
                                           GError            **error);
gboolean    lens_png_save_rgba            (const char         *path,
                                           const guint8       *rgba,
                                           int                 width,
                                           int                 height,
                                           int                 stride,
                                           const char * const *text_kv,
                                           GError            **error);
/* Saves a LensImage as an 8-bit RGB PNG. */
gboolean    lens_image_save_png           (const LensImage    *image,
                                           const char         *path,
                                           const char * const *text_kv,
                                           GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensImage, lens_image_free)

G_END_DECLS
