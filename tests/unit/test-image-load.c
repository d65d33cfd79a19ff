/* test-image-load.c: PNG and JPEG decoding, and refusal of bad files
 *
 * Fixtures are written here with libpng / libjpeg directly (not through
 * the code under test), with pixel values chosen by hand.
 */
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <jpeglib.h>
#include <zlib.h>

#include "lens-image.h"
#include "lens-npy.h"
#include "unit-util.h"

static char *tmpdir;

/* Fixture writers */

typedef struct
{
  int                 width, height;
  int                 color_type, bit_depth;
  int                 interlace;
  const png_color    *palette;
  int                 n_palette;
  const png_byte     *trns_alpha;   /* palette transparency */
  int                 n_trns;
  const png_color_16 *trns_color;   /* gray / RGB transparency */
} PngSpec;

static void
append_data (png_structp png,
             png_bytep   data,
             size_t      n)
{
  g_byte_array_append (png_get_io_ptr (png), data, n);
}

static void
flush_nothing (png_structp png)
{
}

/* rows: height rows of tightly packed samples (16-bit big-endian) */
static GBytes *
make_png (const PngSpec *spec,
          const guint8  *rows)
{
  GByteArray *out = g_byte_array_new ();
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  gsize rowbytes;
  int channels;

  g_assert_nonnull (info);
  if (setjmp (png_jmpbuf (png)))
    g_error ("libpng failed writing a fixture");

  png_set_write_fn (png, out, append_data, flush_nothing);
  png_set_IHDR (png, info, spec->width, spec->height, spec->bit_depth, spec->color_type,
                spec->interlace, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (spec->palette != NULL)
    png_set_PLTE (png, info, spec->palette, spec->n_palette);
  if (spec->trns_alpha != NULL || spec->trns_color != NULL)
    png_set_tRNS (png, info, spec->trns_alpha, spec->n_trns, spec->trns_color);
  png_write_info (png, info);

  switch (spec->color_type)
    {
    case PNG_COLOR_TYPE_GRAY: case PNG_COLOR_TYPE_PALETTE: channels = 1; break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: channels = 2; break;
    case PNG_COLOR_TYPE_RGB: channels = 3; break;
    default: channels = 4; break;
    }
  rowbytes = ((gsize) spec->width * channels * spec->bit_depth + 7) / 8;
  {
    int passes = png_set_interlace_handling (png);

    for (int pass = 0; pass < passes; pass++)
      for (int y = 0; y < spec->height; y++)
        png_write_row (png, rows + y * rowbytes);
  }
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  return g_byte_array_free_to_bytes (out);
}

/* pixels: width*height*components bytes; caller frees with g_bytes_unref */
static GBytes *
make_jpeg (int            width,
           int            height,
           J_COLOR_SPACE  space,
           int            components,
           const guint8  *pixels,
           int            quality)
{
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr jerr;
  unsigned char *buffer = NULL;
  unsigned long size = 0;
  GBytes *bytes;

  cinfo.err = jpeg_std_error (&jerr);
  jpeg_create_compress (&cinfo);
  jpeg_mem_dest (&cinfo, &buffer, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = components;
  cinfo.in_color_space = space;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, quality, TRUE);
  jpeg_start_compress (&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height)
    {
      JSAMPROW row = (JSAMPROW) pixels + (gsize) cinfo.next_scanline * width * components;
      jpeg_write_scanlines (&cinfo, &row, 1);
    }
  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);
  bytes = g_bytes_new (buffer, size);
  free (buffer);
  return bytes;
}

static LensImage *
load_bytes (GBytes     *bytes,
            const char *name,
            GError    **error)
{
  g_autofree char *path = unit_write_file (tmpdir, name, g_bytes_get_data (bytes, NULL),
                                           g_bytes_get_size (bytes));
  return lens_image_load (path, error);
}

static void
assert_pixel (const LensImage *img,
              int              x,
              int              y,
              double           r,
              double           g,
              double           b,
              double           tol)
{
  const float *p = img->rgb + ((gsize) y * img->width + x) * 3;

  if (fabs (p[0] - r) > tol || fabs (p[1] - g) > tol || fabs (p[2] - b) > tol)
    g_error ("pixel (%d,%d) = (%.6f, %.6f, %.6f), expected (%.6f, %.6f, %.6f)",
             x, y, p[0], p[1], p[2], r, g, b);
}

#define EXACT 1e-6

/* PNG decoding */

static void
test_png_gray8 (void)
{
  static const guint8 rows[] = { 0, 128, 255 };
  PngSpec spec = { 3, 1, PNG_COLOR_TYPE_GRAY, 8 };
  g_autoptr(GBytes) png = make_png (&spec, rows);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = load_bytes (png, "gray8.png", &error);

  g_assert_no_error (error);
  g_assert_cmpint (img->width, ==, 3);
  g_assert_cmpint (img->height, ==, 1);
  assert_pixel (img, 0, 0, 0, 0, 0, EXACT);
  assert_pixel (img, 1, 0, 128 / 255.0, 128 / 255.0, 128 / 255.0, EXACT);
  assert_pixel (img, 2, 0, 1, 1, 1, EXACT);
}

static void
test_png_gray1 (void)
{
  /* 8 pixels in one byte: 1 0 1 1 0 0 0 1 */
  static const guint8 rows[] = { 0xb1 };
  static const int expect[8] = { 1, 0, 1, 1, 0, 0, 0, 1 };
  PngSpec spec = { 8, 1, PNG_COLOR_TYPE_GRAY, 1 };
  g_autoptr(GBytes) png = make_png (&spec, rows);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = load_bytes (png, "gray1.png", &error);

  g_assert_no_error (error);
  for (int x = 0; x < 8; x++)
    assert_pixel (img, x, 0, expect[x], expect[x], expect[x], EXACT);
}

static void
test_png_gray_trns (void)
{
  /* Gray 40 is transparent: composited over white. */
  static const guint8 rows[] = { 40, 41 };
  static const png_color_16 trns = { .gray = 40 };
  PngSpec spec = { 2, 1, PNG_COLOR_TYPE_GRAY, 8, .trns_color = &trns };
  g_autoptr(GBytes) png = make_png (&spec, rows);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = load_bytes (png, "graytrns.png", &error);

  g_assert_no_error (error);
  assert_pixel (img, 0, 0, 1, 1, 1, EXACT);
  assert_pixel (img, 1, 0, 41 / 255.0, 41 / 255.0, 41 / 255.0, EXACT);
}

static void
test_png_gray_alpha (void)
{
  /* (gray 0, alpha 51): 0 * 0.2 + 1 * 0.8 = 0.8 */
  static const guint8 rows[] = { 0, 51, 200, 255 };
  PngSpec spec = { 2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8 };
  g_autoptr(GBytes) png = make_png (&spec, rows);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = load_bytes (png, "grayalpha.png", &error);

  g_assert_no_error (error);
  assert_pixel (img, 0, 0, 0.8, 0.8, 0.8, EXACT);
  assert_pixel (img, 1, 0, 200 / 255.0, 200 / 255.0, 200 / 255.0, EXACT);
}

static void
test_png_gray16 (void)
{
  static const guint8 rows[] = { 0x12, 0x34, 0xff, 0xff };
  PngSpec spec = { 2, 1, PNG_COLOR_TYPE_GRAY, 16 };
  g_autoptr(GBytes) png = make_png (&spec, rows);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = load_bytes (png, "gray16.png", &error);

  g_assert_no_error (error);
  assert_pixel (img, 0, 0, 4660 / 65535.0, 4660 / 65535.0, 4660 / 65535.0, EXACT);
  assert_pixel (img, 1, 0, 1, 1, 1, EXACT);
}

static void
test_png_rgb8 (void)
{
  static const guint8 rows[] = {
    255, 0, 0,    0, 255, 0,
    0, 0, 255,    10, 20, 30,
  };
  PngSpec spec = { 2, 2, PNG_COLOR_TYPE_RGB, 8 };
  g_autoptr(GBytes) png = make_png (&spec, rows);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = load_bytes (png, "rgb8.png", &error);

  g_assert_no_error (error);
  g_assert_cmpint (img->width, ==, 2);
  g_assert_cmpint (img->height, ==, 2);
  assert_pixel (img, 0, 0, 1, 0, 0, EXACT);
  assert_pixel (img, 1, 0, 0, 1, 0, EXACT);
  assert_pixel (img, 0, 1, 0, 0, 1, EXACT);
  assert_pixel (img, 1, 1, 10 / 255.0, 20 / 255.0, 30 / 255.0, EXACT);
}

static void
test_png_rgba8 (void)
{
  /* red at alpha 128: R = 1, G = B = 1 - 128/255; alpha 0 is white;
   * alpha 255 keeps the colour. */
  static const guint8 rows[] = {
    255, 0, 0, 128,    0, 0, 0, 0,    10, 20, 30, 255,
  };
  PngSpec spec = { 3, 1, PNG_COLOR_TYPE_RGB_ALPHA, 8 };
  g_autoptr(GBytes) png = make_png (&spec, rows);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = load_bytes (png, "rgba8.png", &error);

  g_assert_no_error (error);
  assert_pixel (img, 0, 0, 1, 1 - 128 / 255.0, 1 - 128 / 255.0, EXACT);
  assert_pixel (img, 1, 0, 1, 1, 1, EXACT);
  assert_pixel (img, 2, 0, 10 / 255.0, 20 / 255.0, 30 / 255.0, EXACT);
}

static void
test_png_rgba16 (void)
{
  /* R = 0x8000, G = 0, B = 0xffff, A = 0x4000:
   * c * a + (1 - a) with a = 16384/65535 */
  static const guint8 rows[] = { 0x80, 0x00, 0x00, 0x00, 0xff, 0xff, 0x40, 0x00 };
  PngSpec spec = { 1, 1, PNG_COLOR_TYPE_RGB_ALPHA, 16 };
  g_autoptr(GBytes) png = make_png (&spec, rows);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = load_bytes (png, "rgba16.png", &error);
  double a = 16384 / 65535.0;

  g_assert_no_error (error);
  assert_pixel (img, 0, 0, 32768 / 65535.0 * a + (1 - a), 1 - a, 1, EXACT);
}

static void
test_png_palette (void)
{
  static const png_color palette[] = { { 255, 0, 0 }, { 0, 255, 0 }, { 10, 20, 30 } };
  static const png_byte alpha[] = { 255, 0 };  /* entry 1 transparent, 2 opaque */
  static const guint8 rows[] = { 2, 0, 1 };
  PngSpec spec = { 3, 1, PNG_COLOR_TYPE_PALETTE, 8, .palette = palette, .n_palette = 3 };
  g_autoptr(GBytes) png = make_png (&spec, rows);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = load_bytes (png, "palette.png", &error);
  g_autoptr(GBytes) png2 = NULL;
  g_autoptr(LensImage) img2 = NULL;

  g_assert_no_error (error);
  assert_pixel (img, 0, 0, 10 / 255.0, 20 / 255.0, 30 / 255.0, EXACT);
  assert_pixel (img, 1, 0, 1, 0, 0, EXACT);
  assert_pixel (img, 2, 0, 0, 1, 0, EXACT);

  spec.trns_alpha = alpha;
  spec.n_trns = 2;
  png2 = make_png (&spec, rows);
  img2 = load_bytes (png2, "palette-trns.png", &error);
  g_assert_no_error (error);
  assert_pixel (img2, 0, 0, 10 / 255.0, 20 / 255.0, 30 / 255.0, EXACT);
  assert_pixel (img2, 1, 0, 1, 0, 0, EXACT);
  assert_pixel (img2, 2, 0, 1, 1, 1, EXACT);
}

static void
test_png_palette2 (void)
{
  /* 2-bit indices 3 1 0 2 packed into one byte: 11 01 00 10 */
  static const png_color palette[] = { { 0, 0, 0 }, { 50, 60, 70 }, { 255, 255, 255 }, { 1, 2, 3 } };
  static const guint8 rows[] = { 0xd2 };
  PngSpec spec = { 4, 1, PNG_COLOR_TYPE_PALETTE, 2, .palette = palette, .n_palette = 4 };
  g_autoptr(GBytes) png = make_png (&spec, rows);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = load_bytes (png, "palette2.png", &error);

  g_assert_no_error (error);
  assert_pixel (img, 0, 0, 1 / 255.0, 2 / 255.0, 3 / 255.0, EXACT);
  assert_pixel (img, 1, 0, 50 / 255.0, 60 / 255.0, 70 / 255.0, EXACT);
  assert_pixel (img, 2, 0, 0, 0, 0, EXACT);
  assert_pixel (img, 3, 0, 1, 1, 1, EXACT);
}

static void
test_png_interlaced (void)
{
  /* Adam7 with 9x9 pixels exercises all seven passes. */
  enum { W = 9, H = 9 };
  guint8 rows[W * H * 3];
  PngSpec spec = { W, H, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7 };
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = NULL;

  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        rows[(y * W + x) * 3 + 0] = x * 20;
        rows[(y * W + x) * 3 + 1] = y * 25;
        rows[(y * W + x) * 3 + 2] = 255 - x - y;
      }
  png = make_png (&spec, rows);
  img = load_bytes (png, "adam7.png", &error);
  g_assert_no_error (error);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      assert_pixel (img, x, y, x * 20 / 255.0, y * 25 / 255.0, (255 - x - y) / 255.0, EXACT);
}

/* JPEG decoding */

static void
test_jpeg_rgb_flat (void)
{
  enum { W = 16, H = 8 };
  guint8 pixels[W * H * 3];
  g_autoptr(GBytes) jpeg = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = NULL;

  for (int i = 0; i < W * H; i++)
    pixels[i * 3] = 200, pixels[i * 3 + 1] = 100, pixels[i * 3 + 2] = 50;
  jpeg = make_jpeg (W, H, JCS_RGB, 3, pixels, 100);
  img = load_bytes (jpeg, "flat.jpg", &error);
  g_assert_no_error (error);
  g_assert_cmpint (img->width, ==, W);
  g_assert_cmpint (img->height, ==, H);
  /* YCbCr rounding at quality 100 stays within 2 levels */
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      assert_pixel (img, x, y, 200 / 255.0, 100 / 255.0, 50 / 255.0, 2.5 / 255.0);
}

static void
test_jpeg_gray (void)
{
  enum { W = 8, H = 8 };
  guint8 pixels[W * H];
  g_autoptr(GBytes) jpeg = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = NULL;

  memset (pixels, 77, sizeof pixels);
  jpeg = make_jpeg (W, H, JCS_GRAYSCALE, 1, pixels, 100);
  img = load_bytes (jpeg, "gray.jpg", &error);
  g_assert_no_error (error);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      assert_pixel (img, x, y, 77 / 255.0, 77 / 255.0, 77 / 255.0, 1.5 / 255.0);
}

static void
test_jpeg_cmyk (void)
{
  /* libjpeg writes an Adobe marker for CMYK, and by Photoshop's
   * convention such samples are inverted: stored 255 = no ink.  Stored
   * (255, 127, 255, 255) = magenta ink 128/255 only: R = B = 1,
   * G = 1 - 128/255. */
  enum { W = 8, H = 8 };
  guint8 pixels[W * H * 4];
  g_autoptr(GBytes) jpeg = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = NULL;

  for (int i = 0; i < W * H; i++)
    pixels[i * 4] = 255, pixels[i * 4 + 1] = 127, pixels[i * 4 + 2] = 255, pixels[i * 4 + 3] = 255;
  jpeg = make_jpeg (W, H, JCS_CMYK, 4, pixels, 100);
  img = load_bytes (jpeg, "cmyk.jpg", &error);
  g_assert_no_error (error);
  assert_pixel (img, 3, 3, 1, 127 / 255.0, 1, 2.5 / 255.0);
}

static void
test_load_data (void)
{
  static const guint8 rows[] = { 1, 2, 3 };
  PngSpec spec = { 1, 1, PNG_COLOR_TYPE_RGB, 8 };
  g_autoptr(GBytes) png = make_png (&spec, rows);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = lens_image_load_data (g_bytes_get_data (png, NULL),
                                                   g_bytes_get_size (png), "mem", &error);

  g_assert_no_error (error);
  assert_pixel (img, 0, 0, 1 / 255.0, 2 / 255.0, 3 / 255.0, EXACT);
}

/* Files written and decoded by Pillow (PIL), which links the same
 * libjpeg-turbo: the pixels must agree. */
static void
test_pil_reference (void)
{
  static const char *names[] = {
    "pil-rgba.png", "pil-q90.jpg", "pil-progressive.jpg", "pil-palette.png", "pil-gray.jpg",
  };
  g_autofree char *dir = g_build_filename (tmpdir, "pil", NULL);

  g_mkdir_with_parents (dir, 0755);
  if (!unit_run_fixtures ("pil", dir, NULL))
    return;

  for (guint k = 0; k < G_N_ELEMENTS (names); k++)
    {
      g_autofree char *path = g_build_filename (dir, names[k], NULL);
      g_autofree char *ref_path = g_strconcat (path, ".npy", NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(LensImage) img = lens_image_load (path, &error);
      g_autoptr(LensTensor) ref = NULL;
      const float *r;

      g_assert_no_error (error);
      ref = lens_npy_load (ref_path, &error);
      g_assert_no_error (error);
      g_assert_cmpint (ref->shape.dims[0], ==, img->height);
      g_assert_cmpint (ref->shape.dims[1], ==, img->width);
      r = lens_tensor_get_floats (ref);
      for (int i = 0; i < img->width * img->height * 3; i++)
        unit_assert_close (img->rgb[i], r[i], 1e-5);
    }
}

/* Bad files */

static void
expect_error (const void *data,
              gsize       length,
              const char *name,
              int         code,
              const char *in_message)
{
  g_autofree char *path = unit_write_file (tmpdir, name, data, length);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = lens_image_load (path, &error);

  g_assert_null (img);
  g_assert_error (error, LENS_IMAGE_ERROR, code);
  g_assert_nonnull (strstr (error->message, name));
  if (in_message != NULL && strstr (error->message, in_message) == NULL)
    g_error ("message “%s” lacks “%s”", error->message, in_message);
}

static GBytes *
noise_png (int size)
{
  g_autofree guint8 *rows = g_malloc ((gsize) size * size * 3);
  GRand *rand = g_rand_new_with_seed (7);
  PngSpec spec = { size, size, PNG_COLOR_TYPE_RGB, 8 };
  GBytes *png;

  for (int i = 0; i < size * size * 3; i++)
    rows[i] = g_rand_int_range (rand, 0, 256);
  g_rand_free (rand);
  png = make_png (&spec, rows);
  return png;
}

static GBytes *
noise_jpeg (int size)
{
  g_autofree guint8 *pixels = g_malloc ((gsize) size * size * 3);
  GRand *rand = g_rand_new_with_seed (11);

  for (int i = 0; i < size * size * 3; i++)
    pixels[i] = g_rand_int_range (rand, 0, 256);
  g_rand_free (rand);
  return make_jpeg (size, size, JCS_RGB, 3, pixels, 90);
}

static void
test_error_truncated_png (void)
{
  g_autoptr(GBytes) png = noise_png (32);
  gsize n = g_bytes_get_size (png);

  expect_error (g_bytes_get_data (png, NULL), n / 2, "half.png", LENS_IMAGE_ERROR_FORMAT, NULL);
  /* signature + part of IHDR only */
  expect_error (g_bytes_get_data (png, NULL), 20, "head.png", LENS_IMAGE_ERROR_FORMAT, NULL);
  /* everything but IEND: the pixels are complete, the file is not */
  expect_error (g_bytes_get_data (png, NULL), n - 12, "noend.png", LENS_IMAGE_ERROR_FORMAT, NULL);
}

static void
test_error_corrupt_png (void)
{
  g_autoptr(GBytes) png = noise_png (32);
  gsize n = g_bytes_get_size (png);
  g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (png, NULL), n);

  /* a byte in the middle of IDAT: its CRC no longer matches */
  copy[n / 2] ^= 0x55;
  expect_error (copy, n, "flipped.png", LENS_IMAGE_ERROR_FORMAT, NULL);
}

static void
test_error_truncated_jpeg (void)
{
  g_autoptr(GBytes) jpeg = noise_jpeg (64);
  gsize n = g_bytes_get_size (jpeg);

  expect_error (g_bytes_get_data (jpeg, NULL), n / 2, "half.jpg", LENS_IMAGE_ERROR_FORMAT, NULL);
  expect_error (g_bytes_get_data (jpeg, NULL), 40, "head.jpg", LENS_IMAGE_ERROR_FORMAT, NULL);
  expect_error (g_bytes_get_data (jpeg, NULL), 3, "magic.jpg", LENS_IMAGE_ERROR_FORMAT, NULL);
}

static void
test_error_random (void)
{
  guint8 bytes[1000];
  GRand *rand = g_rand_new_with_seed (42);

  for (gsize i = 0; i < sizeof bytes; i++)
    bytes[i] = g_rand_int_range (rand, 0, 256);
  g_rand_free (rand);
  bytes[0] = 'x';
  expect_error (bytes, sizeof bytes, "random.png", LENS_IMAGE_ERROR_FORMAT, "not a PNG or JPEG");

  /* the right magic bytes followed by noise */
  memcpy (bytes, "\x89PNG\r\n\x1a\n", 8);
  expect_error (bytes, sizeof bytes, "noise.png", LENS_IMAGE_ERROR_FORMAT, NULL);
  memcpy (bytes, "\xff\xd8\xff", 3);
  expect_error (bytes, sizeof bytes, "noise.jpg", LENS_IMAGE_ERROR_FORMAT, NULL);
}

static void
test_error_empty (void)
{
  expect_error ("", 0, "empty.png", LENS_IMAGE_ERROR_FORMAT, "empty");
}

static void
test_error_missing (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "does-not-exist.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = lens_image_load (path, &error);

  g_assert_null (img);
  g_assert_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "does-not-exist.png"));
}

static void
put_be32 (guint8  *p,
          guint32  v)
{
  p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

/* signature + IHDR (RGB 8-bit) with a valid CRC + IEND */
static gsize
png_header_only (guint8  *buf,
                 guint32  width,
                 guint32  height)
{
  static const guint8 iend[12] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82 };

  memcpy (buf, "\x89PNG\r\n\x1a\n", 8);
  put_be32 (buf + 8, 13);
  memcpy (buf + 12, "IHDR", 4);
  put_be32 (buf + 16, width);
  put_be32 (buf + 20, height);
  buf[24] = 8, buf[25] = 2, buf[26] = 0, buf[27] = 0, buf[28] = 0;
  put_be32 (buf + 29, crc32 (0, buf + 12, 17));
  memcpy (buf + 33, iend, sizeof iend);
  return 33 + sizeof iend;
}

static void
test_error_huge_png (void)
{
  guint8 buf[64];
  gsize n;

  n = png_header_only (buf, 20000, 20000);
  expect_error (buf, n, "huge.png", LENS_IMAGE_ERROR_TOO_LARGE, "20000 x 20000");

  /* the limit is 64 megapixels: 8192 x 8192 is allowed (this file then
   * fails for lack of pixel data), one more row is not */
  n = png_header_only (buf, 8192, 8192);
  expect_error (buf, n, "limit.png", LENS_IMAGE_ERROR_FORMAT, NULL);
  n = png_header_only (buf, 8192, 8193);
  expect_error (buf, n, "over.png", LENS_IMAGE_ERROR_TOO_LARGE, "8192 x 8193");
}

static void
test_error_huge_jpeg (void)
{
  guint8 pixels[8 * 8 * 3] = { 0 };
  g_autoptr(GBytes) jpeg = make_jpeg (8, 8, JCS_RGB, 3, pixels, 90);
  gsize n = g_bytes_get_size (jpeg);
  g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (jpeg, NULL), n);
  gboolean patched = FALSE;

  /* SOF0: FF C0, length (2), precision (1), height (2), width (2) */
  for (gsize i = 0; i + 9 < n; i++)
    if (copy[i] == 0xff && copy[i + 1] == 0xc0)
      {
        copy[i + 5] = 60000 >> 8, copy[i + 6] = 60000 & 0xff;
        copy[i + 7] = 50000 >> 8, copy[i + 8] = 50000 & 0xff;
        patched = TRUE;
        break;
      }
  g_assert_true (patched);
  expect_error (copy, n, "huge.jpg", LENS_IMAGE_ERROR_TOO_LARGE, "50000 x 60000");
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  tmpdir = unit_make_tmpdir ();

  g_test_add_func ("/image/png/gray8", test_png_gray8);
  g_test_add_func ("/image/png/gray1", test_png_gray1);
  g_test_add_func ("/image/png/gray-trns", test_png_gray_trns);
  g_test_add_func ("/image/png/gray-alpha", test_png_gray_alpha);
  g_test_add_func ("/image/png/gray16", test_png_gray16);
  g_test_add_func ("/image/png/rgb8", test_png_rgb8);
  g_test_add_func ("/image/png/rgba8", test_png_rgba8);
  g_test_add_func ("/image/png/rgba16", test_png_rgba16);
  g_test_add_func ("/image/png/palette", test_png_palette);
  g_test_add_func ("/image/png/palette2", test_png_palette2);
  g_test_add_func ("/image/png/interlaced", test_png_interlaced);
  g_test_add_func ("/image/jpeg/rgb-flat", test_jpeg_rgb_flat);
  g_test_add_func ("/image/jpeg/gray", test_jpeg_gray);
  g_test_add_func ("/image/jpeg/cmyk", test_jpeg_cmyk);
  g_test_add_func ("/image/load-data", test_load_data);
  g_test_add_func ("/image/pil-reference", test_pil_reference);
  g_test_add_func ("/image/error/truncated-png", test_error_truncated_png);
  g_test_add_func ("/image/error/corrupt-png", test_error_corrupt_png);
  g_test_add_func ("/image/error/truncated-jpeg", test_error_truncated_jpeg);
  g_test_add_func ("/image/error/random", test_error_random);
  g_test_add_func ("/image/error/empty", test_error_empty);
  g_test_add_func ("/image/error/missing", test_error_missing);
  g_test_add_func ("/image/error/huge-png", test_error_huge_png);
  g_test_add_func ("/image/error/huge-jpeg", test_error_huge_jpeg);

  ret = g_test_run ();
  unit_rm_rf (tmpdir);
  g_free (tmpdir);
  return ret;
}
