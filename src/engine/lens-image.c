/* lens-image.c: PNG/JPEG decoding, bilinear resizing, preprocessing into
 * input tensors and back, PNG export
 *
 * Both codec libraries report errors by longjmp.  Every decoder keeps the
 * memory it allocates in volatile locals (so that it is still known after
 * the jump), releases it in the one setjmp branch, and turns the library's
 * message into a GError.  Nothing is ever printed.
 */
#define G_LOG_DOMAIN "lens-image"

#include "lens-image.h"
#include "lens-file.h"

#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <png.h>
#include <jpeglib.h>
#include <jerror.h>

G_DEFINE_QUARK (lens-image-error-quark, lens_image_error)

static const guint8 png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

/* Basic image objects */

static LensImage *
lens_image_try_new (int width,
                    int height)
{
  LensImage *image;
  gsize n;

  if (width <= 0 || height <= 0 ||
      !lens_size_mul ((gsize) width, (gsize) height, &n) ||
      !lens_size_mul (n, 3 * sizeof (float), &n))
    return NULL;

  image = g_new0 (LensImage, 1);
  image->width = width;
  image->height = height;
  image->rgb = g_try_malloc0 (n);
  if (image->rgb == NULL)
    {
      g_free (image);
      return NULL;
    }
  return image;
}

LensImage *
lens_image_new (int width,
                int height)
{
  LensImage *image;

  g_return_val_if_fail (width > 0 && height > 0, NULL);

  image = lens_image_try_new (width, height);
  if (image == NULL)
    g_error ("Cannot allocate a %d x %d image", width, height);
  return image;
}

LensImage *
lens_image_copy (const LensImage *image)
{
  LensImage *copy;

  g_return_val_if_fail (image != NULL, NULL);

  copy = lens_image_new (image->width, image->height);
  memcpy (copy->rgb, image->rgb, (gsize) image->width * image->height * 3 * sizeof (float));
  return copy;
}

void
lens_image_free (LensImage *image)
{
  if (image == NULL)
    return;
  g_free (image->rgb);
  g_free (image);
}

static gboolean
check_size (const char *name,
            guint64     width,
            guint64     height,
            GError    **error)
{
  if (width == 0 || height == 0)
    {
      g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_FORMAT,
                   "“%s” has an empty size (%" G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT ")",
                   name, width, height);
      return FALSE;
    }
  if (width > G_MAXINT || height > G_MAXINT || width * height > LENS_IMAGE_MAX_PIXELS)
    {
      g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_TOO_LARGE,
                   "“%s” is %" G_GUINT64_FORMAT " x %" G_GUINT64_FORMAT
                   " pixels (%.1f megapixels); the limit is %d megapixels",
                   name, width, height, (double) width * (double) height / (1024.0 * 1024.0),
                   (int) (LENS_IMAGE_MAX_PIXELS / (1024 * 1024)));
      return FALSE;
    }
  return TRUE;
}

static void
set_no_memory (GError    **error,
               const char *name,
               int         width,
               int         height)
{
  g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_TOO_LARGE,
               "Out of memory decoding “%s” (%d x %d pixels)", name, width, height);
}

/* PNG decoding */

typedef struct
{
  const guint8 *data;
  gsize         length;
  gsize         pos;
  char          message[256];
} PngReader;

static void
png_reader_read (png_structp png,
                 png_bytep   out,
                 size_t      n)
{
  PngReader *reader = png_get_io_ptr (png);

  if (n > reader->length - reader->pos)
    png_error (png, "unexpected end of file");
  memcpy (out, reader->data + reader->pos, n);
  reader->pos += n;
}

static void
png_on_error (png_structp     png,
              png_const_charp message)
{
  PngReader *reader = png_get_error_ptr (png);

  g_strlcpy (reader->message, message, sizeof reader->message);
  png_longjmp (png, 1);
}

static void
png_on_warning (png_structp     png,
                png_const_charp message)
{
  /* The engine never prints; warnings do not change the pixels we get. */
}

static guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

/* IHDR must be the first chunk: look at its size before libpng allocates
 * anything, so that a huge header is TOO_LARGE even if the file is cut
 * short right after it. */
static gboolean
png_precheck_size (const guint8 *data,
                   gsize         length,
                   const char   *name,
                   GError      **error)
{
  if (length >= 8 + 8 + 8 && memcmp (data + 12, "IHDR", 4) == 0)
    {
      guint32 width = read_be32 (data + 16);
      guint32 height = read_be32 (data + 20);

      if (width > 0 && height > 0 && !check_size (name, width, height, error))
        return FALSE;
    }
  return TRUE;
}

static LensImage *
decode_png (const guint8 *data,
            gsize         length,
            const char   *name,
            GError      **error)
{
  PngReader reader = { data, length, 0, "" };
  png_structp png;
  png_infop info;
  LensImage *volatile image = NULL;
  guint8 *volatile pixels = NULL;
  png_bytep *volatile rows = NULL;
  guint32 width, height;
  int color_type, bit_depth, channels, depth;
  gsize rowbytes, total;

  if (!png_precheck_size (data, length, name, error))
    return NULL;

  png = png_create_read_struct (PNG_LIBPNG_VER_STRING, &reader, png_on_error, png_on_warning);
  if (png == NULL)
    {
      set_no_memory (error, name, 0, 0);
      return NULL;
    }
  info = png_create_info_struct (png);
  if (info == NULL)
    {
      png_destroy_read_struct (&png, NULL, NULL);
      set_no_memory (error, name, 0, 0);
      return NULL;
    }

  if (setjmp (png_jmpbuf (png)))
    {
      png_destroy_read_struct (&png, &info, NULL);
      g_free (rows);
      g_free (pixels);
      lens_image_free (image);
      g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_FORMAT,
                   "“%s” is a corrupt or truncated PNG file (%s)", name, reader.message);
      return NULL;
    }

  png_set_read_fn (png, &reader, png_reader_read);
  /* Our own pixel limit applies, not libpng's default of 1e6 per side. */
  png_set_user_limits (png, 0x7fffffff, 0x7fffffff);
  png_read_info (png, info);

  width = png_get_image_width (png, info);
  height = png_get_image_height (png, info);
  if (!check_size (name, width, height, error))
    goto out;

  color_type = png_get_color_type (png, info);
  bit_depth = png_get_bit_depth (png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb (png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
    png_set_expand_gray_1_2_4_to_8 (png);
  if (png_get_valid (png, info, PNG_INFO_tRNS))
    png_set_tRNS_to_alpha (png);
  if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA)
    png_set_gray_to_rgb (png);
  png_set_interlace_handling (png);
  png_read_update_info (png, info);

  channels = png_get_channels (png, info);
  depth = png_get_bit_depth (png, info);
  rowbytes = png_get_rowbytes (png, info);
  if ((channels != 3 && channels != 4) || (depth != 8 && depth != 16) ||
      rowbytes < (gsize) width * channels * (depth / 8))
    {
      g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_UNSUPPORTED,
                   "“%s”: unsupported PNG pixel layout (%d channels, %d bits)",
                   name, channels, depth);
      goto out;
    }

  image = lens_image_try_new (width, height);
  rows = g_try_new (png_bytep, height);
  if (image == NULL || rows == NULL || !lens_size_mul (rowbytes, height, &total) ||
      (pixels = g_try_malloc (total)) == NULL)
    {
      set_no_memory (error, name, width, height);
      goto out;
    }
  for (guint32 y = 0; y < height; y++)
    rows[y] = pixels + (gsize) y * rowbytes;
  png_read_image (png, rows);
  png_read_end (png, NULL);

  {
    const float maxval = depth == 16 ? 65535.0f : 255.0f;
    float *dst = image->rgb;

    for (guint32 y = 0; y < height; y++)
      {
        const guint8 *src = rows[y];

        for (guint32 x = 0; x < width; x++)
          {
            float v[4];

            for (int c = 0; c < channels; c++)
              {
                if (depth == 16)
                  v[c] = ((src[0] << 8) | src[1]) / maxval, src += 2;
                else
                  v[c] = src[0] / maxval, src += 1;
              }
            /* Composite over white: c * a + 1 * (1 - a) */
            if (channels == 4)
              for (int c = 0; c < 3; c++)
                v[c] = v[c] * v[3] + (1.0f - v[3]);
            *dst++ = v[0];
            *dst++ = v[1];
            *dst++ = v[2];
          }
      }
  }

  png_destroy_read_struct (&png, &info, NULL);
  g_free (rows);
  g_free (pixels);
  return image;

out:
  png_destroy_read_struct (&png, &info, NULL);
  g_free (rows);
  g_free (pixels);
  lens_image_free (image);
  return NULL;
}

/* JPEG decoding */

typedef struct
{
  struct jpeg_error_mgr pub;
  jmp_buf               jump;
  char                  message[JMSG_LENGTH_MAX];
} JpegErrors;

static void
jpeg_on_error_exit (j_common_ptr cinfo)
{
  JpegErrors *errors = (JpegErrors *) cinfo->err;

  errors->pub.format_message (cinfo, errors->message);
  longjmp (errors->jump, 1);
}

/* libjpeg reports missing or undecodable data as warnings and goes on with
 * gray blocks; we refuse such images like a truncated PNG. */
static void
jpeg_on_emit_message (j_common_ptr cinfo,
                      int          level)
{
  JpegErrors *errors = (JpegErrors *) cinfo->err;

  if (level >= 0)
    return;
  errors->pub.num_warnings++;
  switch (errors->pub.msg_code)
    {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
      jpeg_on_error_exit (cinfo);
      break;
    default:
      break;
    }
}

static void
jpeg_on_output_message (j_common_ptr cinfo)
{
}

static LensImage *
decode_jpeg (const guint8 *data,
             gsize         length,
             const char   *name,
             GError      **error)
{
  struct jpeg_decompress_struct cinfo;
  JpegErrors errors;
  LensImage *volatile image = NULL;
  JSAMPLE *volatile row = NULL;
  gboolean adobe_cmyk;
  int components;

  if (length > G_MAXULONG)
    {
      g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_TOO_LARGE,
                   "“%s” is too large a file", name);
      return NULL;
    }

  memset (&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error (&errors.pub);
  errors.pub.error_exit = jpeg_on_error_exit;
  errors.pub.emit_message = jpeg_on_emit_message;
  errors.pub.output_message = jpeg_on_output_message;
  errors.message[0] = '\0';

  if (setjmp (errors.jump))
    {
      jpeg_destroy_decompress (&cinfo);
      g_free (row);
      lens_image_free (image);
      g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_FORMAT,
                   "“%s” is a corrupt or truncated JPEG file (%s)", name, errors.message);
      return NULL;
    }

  jpeg_create_decompress (&cinfo);
  jpeg_mem_src (&cinfo, data, (unsigned long) length);
  jpeg_read_header (&cinfo, TRUE);

  if (!check_size (name, cinfo.image_width, cinfo.image_height, error))
    goto out;

  switch (cinfo.jpeg_color_space)
    {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB:
      cinfo.out_color_space = JCS_RGB;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo.out_color_space = JCS_CMYK;
      break;
    default:
      g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_UNSUPPORTED,
                   "“%s”: unsupported JPEG colour space (%d components)",
                   name, cinfo.num_components);
      goto out;
    }
  /* Photoshop writes CMYK JPEGs with inverted samples. */
  adobe_cmyk = cinfo.saw_Adobe_marker;

  jpeg_start_decompress (&cinfo);
  components = cinfo.output_components;
  if ((components != 3 && components != 4) ||
      cinfo.output_width != cinfo.image_width || cinfo.output_height != cinfo.image_height)
    {
      g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_UNSUPPORTED,
                   "“%s”: unsupported JPEG output layout", name);
      goto out;
    }

  image = lens_image_try_new (cinfo.output_width, cinfo.output_height);
  row = g_try_malloc ((gsize) cinfo.output_width * components);
  if (image == NULL || row == NULL)
    {
      set_no_memory (error, name, cinfo.output_width, cinfo.output_height);
      goto out;
    }

  while (cinfo.output_scanline < cinfo.output_height)
    {
      JSAMPROW rows[1] = { row };
      float *dst = image->rgb + (gsize) cinfo.output_scanline * cinfo.output_width * 3;

      if (jpeg_read_scanlines (&cinfo, rows, 1) != 1)
        {
          g_strlcpy (errors.message, "no scanline decoded", sizeof errors.message);
          longjmp (errors.jump, 1);
        }
      for (JDIMENSION x = 0; x < cinfo.output_width; x++)
        {
          const JSAMPLE *s = row + (gsize) x * components;

          if (components == 3)
            {
              dst[0] = s[0] / 255.0f;
              dst[1] = s[1] / 255.0f;
              dst[2] = s[2] / 255.0f;
            }
          else
            {
              /* Naive CMYK -> RGB: R = (1 - C)(1 - K) */
              for (int c = 0; c < 3; c++)
                {
                  float ink = adobe_cmyk ? 1.0f - s[c] / 255.0f : s[c] / 255.0f;
                  float black = adobe_cmyk ? 1.0f - s[3] / 255.0f : s[3] / 255.0f;

                  dst[c] = (1.0f - ink) * (1.0f - black);
                }
            }
          dst += 3;
        }
    }
  jpeg_finish_decompress (&cinfo);
  jpeg_destroy_decompress (&cinfo);
  g_free (row);
  return image;

out:
  jpeg_destroy_decompress (&cinfo);
  g_free (row);
  lens_image_free (image);
  return NULL;
}

LensImage *
lens_image_load_data (const guint8 *data,
                      gsize         length,
                      const char   *name,
                      GError      **error)
{
  g_return_val_if_fail (data != NULL || length == 0, NULL);

  if (name == NULL)
    name = "image";

  if (length == 0)
    {
      g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_FORMAT, "“%s” is empty", name);
      return NULL;
    }
  if (length >= sizeof png_magic && memcmp (data, png_magic, sizeof png_magic) == 0)
    return decode_png (data, length, name, error);
  if (length >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
    return decode_jpeg (data, length, name, error);

  g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_FORMAT,
               "“%s” is not a PNG or JPEG image", name);
  return NULL;
}

LensImage *
lens_image_load (const char *path,
                 GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GMappedFile) file = NULL;
  g_autofree char *display = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  display = g_filename_display_name (path);
  file = g_mapped_file_new (path, FALSE, &local_error);
  if (file == NULL)
    {
      g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_IO,
                   "Cannot read “%s”: %s", display, local_error->message);
      return NULL;
    }
  return lens_image_load_data ((const guint8 *) g_mapped_file_get_contents (file),
                               g_mapped_file_get_length (file), display, error);
}

/* Geometry */

typedef struct
{
  int   i0;
  int   i1;
  float frac;
} Tap;

/* torch's area_pixel_compute_source_index (align_corners=false, not
 * cubic): src = (dst + 0.5) * in / out - 0.5, clamped below at 0.  Taps
 * for the output positions start .. start + count - 1 of an output of
 * size out. */
static Tap *
make_taps (int    in,
           gint64 out,
           gint64 start,
           int    count)
{
  Tap *taps = g_new (Tap, count);
  const double scale = (double) in / (double) out;

  for (int i = 0; i < count; i++)
    {
      double src = ((double) (start + i) + 0.5) * scale - 0.5;
      int i0;

      if (src < 0)
        src = 0;
      i0 = src < in - 1 ? (int) src : in - 1;
      taps[i].i0 = i0;
      taps[i].i1 = i0 < in - 1 ? i0 + 1 : i0;
      taps[i].frac = (float) (src - i0);
    }
  return taps;
}

/* The window (left, top, width, height) of src resized to full_w x full_h,
 * without making the whole resized image (which, for a long thin image
 * resized by its shorter side, could be huge). */
static LensImage *
resize_window (const LensImage *src,
               gint64           full_w,
               gint64           full_h,
               gint64           left,
               gint64           top,
               int              width,
               int              height)
{
  g_autofree Tap *tx = make_taps (src->width, full_w, left, width);
  g_autofree Tap *ty = make_taps (src->height, full_h, top, height);
  LensImage *dst = lens_image_new (width, height);

  for (int y = 0; y < height; y++)
    {
      const float *r0 = src->rgb + (gsize) ty[y].i0 * src->width * 3;
      const float *r1 = src->rgb + (gsize) ty[y].i1 * src->width * 3;
      const float fy = ty[y].frac;
      float *out = dst->rgb + (gsize) y * width * 3;

      for (int x = 0; x < width; x++)
        {
          const int a = tx[x].i0 * 3, b = tx[x].i1 * 3;
          const float fx = tx[x].frac;

          for (int c = 0; c < 3; c++)
            {
              float top_v = (1.0f - fx) * r0[a + c] + fx * r0[b + c];
              float bottom_v = (1.0f - fx) * r1[a + c] + fx * r1[b + c];

              *out++ = (1.0f - fy) * top_v + fy * bottom_v;
            }
        }
    }
  return dst;
}

LensImage *
lens_image_resize (const LensImage *src,
                   int              width,
                   int              height)
{
  g_return_val_if_fail (src != NULL, NULL);
  g_return_val_if_fail (width > 0 && height > 0, NULL);

  if (width == src->width && height == src->height)
    return lens_image_copy (src);
  return resize_window (src, width, height, 0, 0, width, height);
}

LensImage *
lens_image_crop (const LensImage *src,
                 int              x,
                 int              y,
                 int              width,
                 int              height)
{
  LensImage *dst;

  g_return_val_if_fail (src != NULL, NULL);
  g_return_val_if_fail (width > 0 && height > 0 && x >= 0 && y >= 0, NULL);
  g_return_val_if_fail (x <= src->width - width && y <= src->height - height, NULL);

  dst = lens_image_new (width, height);
  for (int row = 0; row < height; row++)
    memcpy (dst->rgb + (gsize) row * width * 3,
            src->rgb + ((gsize) (y + row) * src->width + x) * 3,
            (gsize) width * 3 * sizeof (float));
  return dst;
}

/* Preprocessing */

void
lens_preprocess_init_imagenet (LensPreprocess *pre)
{
  static const float mean[3] = { 0.485f, 0.456f, 0.406f };
  static const float std[3] = { 0.229f, 0.224f, 0.225f };

  g_return_if_fail (pre != NULL);

  memset (pre, 0, sizeof *pre);
  pre->channels = 3;
  pre->height = 224;
  pre->width = 224;
  pre->resize_shorter = 256;
  pre->scale = 1.0f;
  memcpy (pre->mean, mean, sizeof mean);
  memcpy (pre->std, std, sizeof std);
  pre->bgr = FALSE;
}

static gboolean
preprocess_valid (const LensPreprocess *pre,
                  GError              **error)
{
  int n = pre->channels;

  if ((n != 1 && n != 3) || pre->height <= 0 || pre->width <= 0 || pre->resize_shorter < 0 ||
      !(pre->scale > 0.0f) || !isfinite (pre->scale))
    goto bad;
  for (int c = 0; c < n; c++)
    if (!isfinite (pre->mean[c]) || !(pre->std[c] > 0.0f) || !isfinite (pre->std[c]))
      goto bad;
  return TRUE;

bad:
  g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_UNSUPPORTED,
               "Invalid preprocessing: %d channels, %d x %d, resize %d, scale %g",
               pre->channels, pre->width, pre->height, pre->resize_shorter, pre->scale);
  return FALSE;
}

LensImage *
lens_image_prepare (const LensImage      *image,
                    const LensPreprocess *pre,
                    GError              **error)
{
  gint64 new_w, new_h, top, left;

  g_return_val_if_fail (image != NULL, NULL);
  g_return_val_if_fail (pre != NULL, NULL);

  if (!preprocess_valid (pre, error))
    return NULL;

  if (pre->resize_shorter == 0)
    return lens_image_resize (image, pre->width, pre->height);

  /* torchvision: the shorter side becomes resize_shorter, the longer one
   * int(resize_shorter * long / short). */
  if (image->width <= image->height)
    {
      new_w = pre->resize_shorter;
      new_h = (gint64) ((double) ((gint64) pre->resize_shorter * image->height) / image->width);
    }
  else
    {
      new_h = pre->resize_shorter;
      new_w = (gint64) ((double) ((gint64) pre->resize_shorter * image->width) / image->height);
    }
  if (new_w < pre->width || new_h < pre->height)
    {
      g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_UNSUPPORTED,
                   "Cannot crop %d x %d from an image resized to %" G_GINT64_FORMAT " x %"
                   G_GINT64_FORMAT, pre->width, pre->height, new_w, new_h);
      return NULL;
    }

  /* torchvision's center_crop rounds with Python's round(): half to even */
  top = (gint64) rint ((double) (new_h - pre->height) / 2.0);
  left = (gint64) rint ((double) (new_w - pre->width) / 2.0);
  return resize_window (image, new_w, new_h, left, top, pre->width, pre->height);
}

LensTensor *
lens_image_to_tensor (const LensImage      *image,
                      const LensPreprocess *pre,
                      GError              **error)
{
  g_autoptr(LensImage) prepared = NULL;
  LensTensor *tensor;
  LensShape shape;
  float *out;
  gsize plane;

  g_return_val_if_fail (image != NULL, NULL);
  g_return_val_if_fail (pre != NULL, NULL);

  prepared = lens_image_prepare (image, pre, error);
  if (prepared == NULL)
    return NULL;

  shape = lens_shape_4d (1, pre->channels, pre->height, pre->width);
  tensor = lens_tensor_new_float (&shape, error);
  if (tensor == NULL)
    return NULL;

  out = lens_tensor_get_floats (tensor);
  plane = (gsize) pre->height * pre->width;
  for (gsize i = 0; i < plane; i++)
    {
      const float *px = prepared->rgb + i * 3;

      if (pre->channels == 1)
        {
          float luma = 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2];

          out[i] = (luma * pre->scale - pre->mean[0]) / pre->std[0];
        }
      else
        {
          for (int c = 0; c < 3; c++)
            {
              float v = px[pre->bgr ? 2 - c : c];

              out[c * plane + i] = (v * pre->scale - pre->mean[c]) / pre->std[c];
            }
        }
    }
  return tensor;
}

LensImage *
lens_image_from_tensor (const LensTensor     *tensor,
                        const LensPreprocess *pre)
{
  LensImage *image;
  const float *in;
  gsize plane;
  int channels;

  g_return_val_if_fail (tensor != NULL && pre != NULL, NULL);
  g_return_val_if_fail (tensor->dtype == LENS_DTYPE_FLOAT32, NULL);
  g_return_val_if_fail (tensor->shape.ndim == 4 && tensor->shape.dims[0] >= 1, NULL);
  g_return_val_if_fail (tensor->shape.dims[1] == 1 || tensor->shape.dims[1] == 3, NULL);
  g_return_val_if_fail (tensor->shape.dims[2] > 0 && tensor->shape.dims[2] <= G_MAXINT, NULL);
  g_return_val_if_fail (tensor->shape.dims[3] > 0 && tensor->shape.dims[3] <= G_MAXINT, NULL);

  channels = (int) tensor->shape.dims[1];
  image = lens_image_try_new ((int) tensor->shape.dims[3], (int) tensor->shape.dims[2]);
  if (image == NULL)
    return NULL;

  in = lens_tensor_get_floats (tensor);
  plane = (gsize) image->width * image->height;
  for (gsize i = 0; i < plane; i++)
    {
      float *px = image->rgb + i * 3;

      for (int c = 0; c < channels; c++)
        {
          float std = pre->std[c] > 0.0f ? pre->std[c] : 1.0f;
          float scale = pre->scale > 0.0f ? pre->scale : 1.0f;
          float v = (in[c * plane + i] * std + pre->mean[c]) / scale;

          v = CLAMP (v, 0.0f, 1.0f);
          if (isnan (v))
            v = 0.0f;
          if (channels == 1)
            px[0] = px[1] = px[2] = v;
          else
            px[pre->bgr ? 2 - c : c] = v;
        }
    }
  return image;
}

guint8 *
lens_image_to_rgb8 (const LensImage *image)
{
  gsize n;
  guint8 *out;

  g_return_val_if_fail (image != NULL, NULL);

  n = (gsize) image->width * image->height * 3;
  out = g_malloc (n);
  for (gsize i = 0; i < n; i++)
    {
      float v = image->rgb[i];

      out[i] = v >= 1.0f ? 255 : v > 0.0f ? (guint8) (v * 255.0f + 0.5f) : 0;
    }
  return out;
}

/* PNG writing */

typedef struct
{
  GByteArray *buffer;
  char        message[256];
} PngWriter;

static void
png_writer_write (png_structp png,
                  png_bytep   data,
                  size_t      n)
{
  PngWriter *writer = png_get_io_ptr (png);

  g_byte_array_append (writer->buffer, data, n);
}

static void
png_writer_flush (png_structp png)
{
}

static void
png_writer_on_error (png_structp     png,
                     png_const_charp message)
{
  PngWriter *writer = png_get_error_ptr (png);

  g_strlcpy (writer->message, message, sizeof writer->message);
  png_longjmp (png, 1);
}

static gboolean
text_key_valid (const char *key)
{
  gsize len = strlen (key);

  if (len < 1 || len > 79 || key[0] == ' ' || key[len - 1] == ' ')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (key[i] < 32 || key[i] > 126 || (key[i] == ' ' && key[i + 1] == ' '))
      return FALSE;
  return TRUE;
}

static gboolean
is_ascii (const char *s)
{
  for (; *s; s++)
    if ((guchar) *s > 127)
      return FALSE;
  return TRUE;
}

/* Number of key/value pairs, or -1 (with error set) if one is invalid. */
static G_NO_INLINE int
count_texts (const char * const *text_kv,
             const char         *display,
             GError            **error)
{
  int n = 0;

  if (text_kv == NULL)
    return 0;
  for (; text_kv[n * 2] != NULL; n++)
    {
      if (text_kv[n * 2 + 1] == NULL)
        {
          g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_UNSUPPORTED,
                       "Cannot write “%s”: PNG text key “%s” has no value",
                       display, text_kv[n * 2]);
          return -1;
        }
      if (!text_key_valid (text_kv[n * 2]))
        {
          g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_UNSUPPORTED,
                       "Cannot write “%s”: “%s” is not a valid PNG text key",
                       display, text_kv[n * 2]);
          return -1;
        }
    }
  return n;
}

static gboolean
png_encode (GByteArray         *buffer,
            const guint8       *pixels,
            int                 width,
            int                 height,
            int                 stride,
            int                 channels,
            const char * const *text_kv,
            const char         *display,
            GError            **error)
{
  PngWriter writer = { buffer, "" };
  png_structp png;
  png_infop info;
  png_text *volatile texts = NULL;
  char **volatile values = NULL;
  const int n_texts = count_texts (text_kv, display, error);

  if (n_texts < 0)
    return FALSE;

  png = png_create_write_struct (PNG_LIBPNG_VER_STRING, &writer, png_writer_on_error,
                                 png_on_warning);
  if (png == NULL)
    goto no_memory;
  info = png_create_info_struct (png);
  if (info == NULL)
    {
      png_destroy_write_struct (&png, NULL);
      goto no_memory;
    }

  if (setjmp (png_jmpbuf (png)))
    {
      png_destroy_write_struct (&png, &info);
      g_free (texts);
      g_strfreev (values);
      g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_IO,
                   "Cannot encode “%s” as PNG: %s", display, writer.message);
      return FALSE;
    }

  png_set_write_fn (png, &writer, png_writer_write, png_writer_flush);
  png_set_IHDR (png, info, width, height, 8,
                channels == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
                PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);

  if (n_texts > 0)
    {
      texts = g_new0 (png_text, n_texts);
      values = g_new0 (char *, n_texts + 1);
      for (int i = 0; i < n_texts; i++)
        {
          const char *value = text_kv[i * 2 + 1];

          values[i] = g_utf8_make_valid (value, -1);
          texts[i].key = (char *) text_kv[i * 2];
          texts[i].text = values[i];
          texts[i].text_length = strlen (values[i]);
          if (is_ascii (values[i]))
            {
              texts[i].compression = PNG_TEXT_COMPRESSION_NONE;
            }
          else
            {
              texts[i].compression = PNG_ITXT_COMPRESSION_NONE;
              texts[i].lang = (char *) "";
              texts[i].lang_key = (char *) "";
              texts[i].itxt_length = texts[i].text_length;
              texts[i].text_length = 0;
            }
        }
      png_set_text (png, info, texts, n_texts);
    }

  png_write_info (png, info);
  for (int y = 0; y < height; y++)
    png_write_row (png, pixels + (gsize) y * stride);
  png_write_end (png, info);

  png_destroy_write_struct (&png, &info);
  g_free (texts);
  g_strfreev (values);
  return TRUE;

no_memory:
  g_set_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_TOO_LARGE,
               "Out of memory encoding “%s”", display);
  return FALSE;
}

static gboolean
png_save (const char         *path,
          const guint8       *pixels,
          int                 width,
          int                 height,
          int                 stride,
          int                 channels,
          const char * const *text_kv,
          GError            **error)
{
  g_autoptr(GByteArray) buffer = g_byte_array_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *display = NULL;

  g_return_val_if_fail (path != NULL && pixels != NULL, FALSE);
  g_return_val_if_fail (width > 0 && height > 0, FALSE);
  g_return_val_if_fail (stride >= width * channels, FALSE);

  display = g_filename_display_name (path);
  if (!png_encode (buffer, pixels, width, height, stride, channels, text_kv, display, error))
    return FALSE;

  if (!lens_file_write_atomic (path, buffer->data, buffer->len, &local_error))
    {
      g_set_error_literal (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_IO, local_error->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
lens_png_save_rgb (const char         *path,
                   const guint8       *rgb,
                   int                 width,
                   int                 height,
                   int                 stride,
                   const char * const *text_kv,
                   GError            **error)
{
  return png_save (path, rgb, width, height, stride, 3, text_kv, error);
}

gboolean
lens_png_save_rgba (const char         *path,
                    const guint8       *rgba,
                    int                 width,
                    int                 height,
                    int                 stride,
                    const char * const *text_kv,
                    GError            **error)
{
  return png_save (path, rgba, width, height, stride, 4, text_kv, error);
}

gboolean
lens_image_save_png (const LensImage    *image,
                     const char         *path,
                     const char * const *text_kv,
                     GError            **error)
{
  g_autofree guint8 *rgb = NULL;

  g_return_val_if_fail (image != NULL, FALSE);

  rgb = lens_image_to_rgb8 (image);
  return lens_png_save_rgb (path, rgb, image->width, image->height, image->width * 3,
                            text_kv, error);
}
