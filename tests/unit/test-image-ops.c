/* test-image-ops.c: resizing, preprocessing to tensors and back, PNG export
 *
 * Expected values are worked out by hand (comments show the arithmetic) or
 * come from PyTorch via make-fixtures.py.
 */
#include <math.h>
#include <setjmp.h>
#include <string.h>

#include <png.h>

#include "lens-image.h"
#include "lens-npy.h"
#include "unit-util.h"

static char *tmpdir;

/* PyTorch's reference files, made once (NULL and the test skipped if
 * torch is missing). */
static const char *
torch_fixtures (void)
{
  static char *dir;
  static gboolean tried;

  if (!tried)
    {
      g_autofree char *path = g_build_filename (tmpdir, "torch", NULL);

      tried = TRUE;
      g_mkdir_with_parents (path, 0755);
      if (unit_run_fixtures ("torch", path, NULL))
        dir = g_steal_pointer (&path);
    }
  else if (dir == NULL)
    g_test_skip ("PyTorch fixtures unavailable");
  return dir;
}

/* One value per pixel, copied to all three channels. */
static LensImage *
image_from_values (int          width,
                   int          height,
                   const float *values)
{
  LensImage *img = lens_image_new (width, height);

  for (int i = 0; i < width * height; i++)
    for (int c = 0; c < 3; c++)
      img->rgb[i * 3 + c] = values[i];
  return img;
}

/* The pattern of make-fixtures.py: channel c of pixel (x, y) is
 * ((3x + 5y + 7c) mod 11) / 10. */
static LensImage *
make_pattern (int width,
              int height)
{
  LensImage *img = lens_image_new (width, height);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      for (int c = 0; c < 3; c++)
        img->rgb[(y * width + x) * 3 + c] = ((x * 3 + y * 5 + c * 7) % 11) / 10.0f;
  return img;
}

/* Resize */

static void
test_resize_up_2x2_to_4x4 (void)
{
  /* v(x, y) = x + 2y on 2x2.  Source coordinate for output i with
   * in/out = 1/2: (i + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped
   * at 0 and at the last pixel, so the weight of the second pixel is
   * 0, 0.25, 0.75, 1 and out(x, y) = w[x] + 2 w[y]. */
  static const float src[] = { 0, 1, 2, 3 };
  static const float expect[16] = {
    0.00f, 0.25f, 0.75f, 1.00f,
    0.50f, 0.75f, 1.25f, 1.50f,
    1.50f, 1.75f, 2.25f, 2.50f,
    2.00f, 2.25f, 2.75f, 3.00f,
  };
  g_autoptr(LensImage) in = image_from_values (2, 2, src);
  g_autoptr(LensImage) out = lens_image_resize (in, 4, 4);

  g_assert_cmpint (out->width, ==, 4);
  g_assert_cmpint (out->height, ==, 4);
  for (int i = 0; i < 16; i++)
    for (int c = 0; c < 3; c++)
      unit_assert_close (out->rgb[i * 3 + c], expect[i], 1e-6);
}

static void
test_resize_down_4x4_to_2x2 (void)
{
  /* in/out = 2: source coordinates 0.5 and 2.5, i.e. the mean of each
   * 2x2 block.  v = x + 4y: block means 2.5, 4.5, 10.5, 12.5. */
  float src[16];
  static const float expect[4] = { 2.5f, 4.5f, 10.5f, 12.5f };
  g_autoptr(LensImage) in = NULL;
  g_autoptr(LensImage) out = NULL;

  for (int i = 0; i < 16; i++)
    src[i] = i;
  in = image_from_values (4, 4, src);
  out = lens_image_resize (in, 2, 2);
  for (int i = 0; i < 4; i++)
    unit_assert_close (out->rgb[i * 3], expect[i], 1e-6);
}

static void
test_resize_nonuniform (void)
{
  /* 3 wide -> 2 wide, 1 row: in/out = 1.5, sources 0.25 and 1.75:
   * 10 + 0.25 * (20 - 10) = 12.5 and 20 + 0.75 * (40 - 20) = 35. */
  static const float src[] = { 10, 20, 40 };
  g_autoptr(LensImage) in = image_from_values (3, 1, src);
  g_autoptr(LensImage) out = lens_image_resize (in, 2, 1);

  unit_assert_close (out->rgb[0], 12.5, 1e-5);
  unit_assert_close (out->rgb[3], 35.0, 1e-5);
}

static void
test_resize_torch (void)
{
  static const int sizes[][2] = { { 3, 4 }, { 9, 11 }, { 5, 2 }, { 12, 7 } };
  const char *dir = torch_fixtures ();
  g_autoptr(LensImage) src = make_pattern (7, 5);

  if (dir == NULL)
    return;

  for (guint k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      int oh = sizes[k][0], ow = sizes[k][1];
      g_autofree char *name = g_strdup_printf ("resize_5x7_to_%dx%d.npy", oh, ow);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(LensTensor) ref = lens_npy_load (path, &error);
      g_autoptr(LensImage) out = lens_image_resize (src, ow, oh);
      const float *r;

      g_assert_no_error (error);
      g_assert_cmpint (ref->shape.dims[2], ==, oh);
      g_assert_cmpint (ref->shape.dims[3], ==, ow);
      r = lens_tensor_get_floats (ref);
      for (int c = 0; c < 3; c++)
        for (int i = 0; i < oh * ow; i++)
          unit_assert_close (out->rgb[i * 3 + c], r[c * oh * ow + i], 1e-5);
    }
}

static void
test_crop (void)
{
  float src[12];
  g_autoptr(LensImage) in = NULL;
  g_autoptr(LensImage) out = NULL;

  for (int i = 0; i < 12; i++)
    src[i] = i;
  in = image_from_values (4, 3, src);
  out = lens_image_crop (in, 1, 1, 2, 2);
  /* rows 1-2, columns 1-2 of a 4-wide grid: 5 6 / 9 10 */
  unit_assert_close (out->rgb[0], 5, 0);
  unit_assert_close (out->rgb[3], 6, 0);
  unit_assert_close (out->rgb[6], 9, 0);
  unit_assert_close (out->rgb[9], 10, 0);
}

/* Preprocessing */

static void
test_to_tensor_arithmetic (void)
{
  /* scale 255, mean (10, 20, 30), std (2, 4, 5).  Pixel (0.2, 0.4, 0.6):
   * (51 - 10) / 2 = 20.5, (102 - 20) / 4 = 20.5, (153 - 30) / 5 = 24.6.
   * Pixel (1, 0, 0.5): 122.5, -5, (127.5 - 30) / 5 = 19.5. */
  LensPreprocess pre = { .channels = 3, .height = 1, .width = 2, .scale = 255.0f,
                         .mean = { 10, 20, 30 }, .std = { 2, 4, 5 } };
  g_autoptr(LensImage) img = lens_image_new (2, 1);
  g_autoptr(LensTensor) t = NULL;
  g_autoptr(GError) error = NULL;
  const float *v;

  img->rgb[0] = 0.2f, img->rgb[1] = 0.4f, img->rgb[2] = 0.6f;
  img->rgb[3] = 1.0f, img->rgb[4] = 0.0f, img->rgb[5] = 0.5f;
  t = lens_image_to_tensor (img, &pre, &error);
  g_assert_no_error (error);
  g_assert_cmpint (t->shape.ndim, ==, 4);
  g_assert_cmpint (t->shape.dims[0], ==, 1);
  g_assert_cmpint (t->shape.dims[1], ==, 3);
  g_assert_cmpint (t->shape.dims[2], ==, 1);
  g_assert_cmpint (t->shape.dims[3], ==, 2);
  v = lens_tensor_get_floats (t);
  /* planar: [c][y][x] */
  unit_assert_close (v[0], 20.5, 1e-4);
  unit_assert_close (v[1], 122.5, 1e-4);
  unit_assert_close (v[2], 20.5, 1e-4);
  unit_assert_close (v[3], -5.0, 1e-4);
  unit_assert_close (v[4], 24.6, 1e-4);
  unit_assert_close (v[5], 19.5, 1e-4);

  /* BGR: tensor channel 0 is blue, normalised with mean[0] / std[0]:
   * (153 - 10) / 2 = 71.5; channel 2 is red: (51 - 30) / 5 = 4.2 */
  pre.bgr = TRUE;
  g_clear_pointer (&t, lens_tensor_free);
  t = lens_image_to_tensor (img, &pre, &error);
  g_assert_no_error (error);
  v = lens_tensor_get_floats (t);
  unit_assert_close (v[0], 71.5, 1e-4);
  unit_assert_close (v[4], 4.2, 1e-4);
}

static void
test_to_tensor_gray (void)
{
  /* luma of (0.2, 0.4, 0.6) = 0.0598 + 0.2348 + 0.0684 = 0.363;
   * (0.363 - 0.5) / 0.25 = -0.548 */
  LensPreprocess pre = { .channels = 1, .height = 1, .width = 1, .scale = 1.0f,
                         .mean = { 0.5f }, .std = { 0.25f } };
  g_autoptr(LensImage) img = lens_image_new (1, 1);
  g_autoptr(LensTensor) t = NULL;
  g_autoptr(GError) error = NULL;

  img->rgb[0] = 0.2f, img->rgb[1] = 0.4f, img->rgb[2] = 0.6f;
  t = lens_image_to_tensor (img, &pre, &error);
  g_assert_no_error (error);
  g_assert_cmpint (t->shape.dims[1], ==, 1);
  unit_assert_close (lens_tensor_get_floats (t)[0], -0.548, 1e-5);
}

static void
test_to_tensor_imagenet_flat (void)
{
  /* A flat image stays flat through any resize and crop:
   * (0.5 - 0.485) / 0.229, (0.5 - 0.456) / 0.224, (0.5 - 0.406) / 0.225 */
  LensPreprocess pre;
  g_autoptr(LensImage) img = lens_image_new (300, 170);
  g_autoptr(LensTensor) t = NULL;
  g_autoptr(GError) error = NULL;
  const double expect[3] = { 0.015 / 0.229, 0.044 / 0.224, 0.094 / 0.225 };
  const float *v;

  lens_preprocess_init_imagenet (&pre);
  g_assert_cmpint (pre.resize_shorter, ==, 256);
  for (int i = 0; i < 300 * 170 * 3; i++)
    img->rgb[i] = 0.5f;
  t = lens_image_to_tensor (img, &pre, &error);
  g_assert_no_error (error);
  g_assert_cmpint (t->shape.dims[1], ==, 3);
  g_assert_cmpint (t->shape.dims[2], ==, 224);
  g_assert_cmpint (t->shape.dims[3], ==, 224);
  v = lens_tensor_get_floats (t);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 224 * 224; i += 997)
      unit_assert_close (v[c * 224 * 224 + i], expect[c], 1e-5);
}

static void
test_prepare_geometry (void)
{
  /* 640 x 480, shorter side to 256: 256 x int(256 * 640 / 480) = 341 x 256;
   * centre crop 224: left round(117 / 2) = 58 (half to even), top 16. */
  LensPreprocess pre;
  g_autoptr(LensImage) img = lens_image_new (640, 480);
  g_autoptr(LensImage) prepared = NULL;
  g_autoptr(GError) error = NULL;

  /* R = x and G = y ramps survive bilinear resizing exactly, so the crop's
   * first pixel tells where it was taken: resized column 58 comes from
   * source x = (58 + 0.5) * 640 / 341 - 0.5, row 16 from
   * (16 + 0.5) * 480 / 256 - 0.5. */
  for (int y = 0; y < 480; y++)
    for (int x = 0; x < 640; x++)
      {
        img->rgb[(y * 640 + x) * 3 + 0] = x;
        img->rgb[(y * 640 + x) * 3 + 1] = y;
      }
  lens_preprocess_init_imagenet (&pre);
  prepared = lens_image_prepare (img, &pre, &error);
  g_assert_no_error (error);
  g_assert_cmpint (prepared->width, ==, 224);
  g_assert_cmpint (prepared->height, ==, 224);
  unit_assert_close (prepared->rgb[0], (58 + 0.5) * 640.0 / 341 - 0.5, 1e-3);
  unit_assert_close (prepared->rgb[1], (16 + 0.5) * 480.0 / 256 - 0.5, 1e-3);

  /* a long thin image: resized by its shorter side it would be
   * 256 x 5120000; only the crop is made */
  {
    g_autoptr(LensImage) thin = lens_image_new (2, 40000);
    g_autoptr(LensImage) crop = NULL;

    for (int i = 0; i < 2 * 40000 * 3; i++)
      thin->rgb[i] = 0.25f;
    crop = lens_image_prepare (thin, &pre, &error);
    g_assert_no_error (error);
    g_assert_cmpint (crop->width, ==, 224);
    g_assert_cmpint (crop->height, ==, 224);
    for (int i = 0; i < 224 * 224 * 3; i += 101)
      unit_assert_close (crop->rgb[i], 0.25, 1e-6);
  }

  /* resize smaller than the crop is refused */
  pre.resize_shorter = 100;
  g_clear_pointer (&prepared, lens_image_free);
  prepared = lens_image_prepare (img, &pre, &error);
  g_assert_null (prepared);
  g_assert_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_UNSUPPORTED);
}

static void
test_preprocess_torchvision (void)
{
  /* torchvision Resize(8, antialias=False) + CenterCrop(6) + Normalize on
   * the 14 x 10 pattern (see make-fixtures.py). */
  const char *dir = torch_fixtures ();
  g_autofree char *path = NULL;
  g_autoptr(LensImage) src = make_pattern (14, 10);
  g_autoptr(LensTensor) ref = NULL;
  g_autoptr(LensTensor) t = NULL;
  g_autoptr(GError) error = NULL;
  LensPreprocess pre;
  const float *a, *b;

  if (dir == NULL)
    return;
  path = g_build_filename (dir, "preprocess_10x14.npy", NULL);
  ref = lens_npy_load (path, &error);
  g_assert_no_error (error);

  lens_preprocess_init_imagenet (&pre);
  pre.resize_shorter = 8;
  pre.height = pre.width = 6;
  t = lens_image_to_tensor (src, &pre, &error);
  g_assert_no_error (error);
  g_assert_true (lens_shape_equal (&t->shape, &ref->shape));
  a = lens_tensor_get_floats (t);
  b = lens_tensor_get_floats (ref);
  for (gsize i = 0; i < lens_tensor_numel (t); i++)
    unit_assert_close (a[i], b[i], 1e-5);
}

static void
test_from_tensor (void)
{
  LensPreprocess pre;
  g_autoptr(LensImage) img = make_pattern (5, 4);
  g_autoptr(LensImage) back = NULL;
  g_autoptr(LensTensor) t = NULL;
  g_autoptr(GError) error = NULL;
  float *v;

  lens_preprocess_init_imagenet (&pre);
  pre.resize_shorter = 0;
  pre.width = 5;
  pre.height = 4;
  pre.bgr = TRUE;
  t = lens_image_to_tensor (img, &pre, &error);
  g_assert_no_error (error);
  back = lens_image_from_tensor (t, &pre);
  g_assert_cmpint (back->width, ==, 5);
  g_assert_cmpint (back->height, ==, 4);
  for (int i = 0; i < 5 * 4 * 3; i++)
    unit_assert_close (back->rgb[i], img->rgb[i], 1e-6);

  /* clamping: tensor channel 0 (blue, as bgr) pixel 0 set to 100 -> 1;
   * channel 1 pixel 0 set to -100 -> 0 */
  v = lens_tensor_get_floats (t);
  v[0] = 100.0f;
  v[20] = -100.0f;
  g_clear_pointer (&back, lens_image_free);
  back = lens_image_from_tensor (t, &pre);
  unit_assert_close (back->rgb[2], 1.0, 0);
  unit_assert_close (back->rgb[1], 0.0, 0);
}

static void
test_from_tensor_gray (void)
{
  /* scale 255, mean 10, std 2: value 20 -> (20 * 2 + 10) / 255 */
  LensPreprocess pre = { .channels = 1, .height = 1, .width = 1, .scale = 255.0f,
                         .mean = { 10 }, .std = { 2 } };
  LensShape shape = lens_shape_4d (2, 1, 1, 1);
  g_autoptr(LensTensor) t = lens_tensor_new_float (&shape, NULL);
  g_autoptr(LensImage) img = NULL;

  lens_tensor_get_floats (t)[0] = 20.0f;
  lens_tensor_get_floats (t)[1] = 99.0f; /* batch item 1 is ignored */
  img = lens_image_from_tensor (t, &pre);
  for (int c = 0; c < 3; c++)
    unit_assert_close (img->rgb[c], 50.0 / 255.0, 1e-6);
}

/* PNG export */

typedef struct
{
  int       width, height, channels;
  guint8   *pixels;
  png_textp texts;
  int       n_texts;
  char    **keys, **values;
  int      *compression;
} ReadBack;

/* Read a PNG with libpng's plain API (not through lens_image_load). */
static void
read_back (const char *path,
           ReadBack   *rb)
{
  FILE *fp = fopen (path, "rb");
  png_structp png = png_create_read_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  gsize rowbytes;

  g_assert_nonnull (fp);
  if (setjmp (png_jmpbuf (png)))
    g_error ("libpng could not read back %s", path);
  png_init_io (png, fp);
  png_read_info (png, info);
  rb->width = png_get_image_width (png, info);
  rb->height = png_get_image_height (png, info);
  rb->channels = png_get_channels (png, info);
  g_assert_cmpint (png_get_bit_depth (png, info), ==, 8);
  rowbytes = png_get_rowbytes (png, info);
  rb->pixels = g_malloc (rowbytes * rb->height);
  for (int y = 0; y < rb->height; y++)
    png_read_row (png, rb->pixels + y * rowbytes, NULL);
  png_read_end (png, info);
  png_get_text (png, info, &rb->texts, &rb->n_texts);
  rb->keys = g_new0 (char *, rb->n_texts + 1);
  rb->values = g_new0 (char *, rb->n_texts + 1);
  rb->compression = g_new0 (int, rb->n_texts);
  for (int i = 0; i < rb->n_texts; i++)
    {
      rb->keys[i] = g_strdup (rb->texts[i].key);
      rb->values[i] = g_strdup (rb->texts[i].text);
      rb->compression[i] = rb->texts[i].compression;
    }
  rb->texts = NULL;
  png_destroy_read_struct (&png, &info, NULL);
  fclose (fp);
}

static void
read_back_clear (ReadBack *rb)
{
  g_free (rb->pixels);
  g_strfreev (rb->keys);
  g_strfreev (rb->values);
  g_free (rb->compression);
}

static void
test_png_save_rgb (void)
{
  /* 3 x 2 pixels in rows of 14 bytes (5 bytes of padding per row) */
  static const guint8 rows[] = {
    1, 2, 3,  4, 5, 6,  7, 8, 9,          0xee, 0xee, 0xee, 0xee, 0xee,
    10, 11, 12,  13, 14, 15,  16, 17, 18,  0xee, 0xee, 0xee, 0xee, 0xee,
  };
  const char *text[] = {
    "Model", "alexnet",
    "Layer", "conv1 \xe2\x80\x94 \xe5\xb1\x82",  /* non-ASCII: iTXt */
    NULL,
  };
  g_autofree char *path = g_build_filename (tmpdir, "out.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensImage) img = NULL;
  ReadBack rb = { 0 };

  /* an old file at the path is replaced */
  g_file_set_contents (path, "old", -1, NULL);
  g_assert_true (lens_png_save_rgb (path, rows, 3, 2, 14, text, &error));
  g_assert_no_error (error);

  read_back (path, &rb);
  g_assert_cmpint (rb.width, ==, 3);
  g_assert_cmpint (rb.height, ==, 2);
  g_assert_cmpint (rb.channels, ==, 3);
  for (int i = 0; i < 18; i++)
    g_assert_cmpint (rb.pixels[i], ==, i + 1);
  g_assert_cmpint (rb.n_texts, ==, 2);
  g_assert_cmpstr (rb.keys[0], ==, "Model");
  g_assert_cmpstr (rb.values[0], ==, "alexnet");
  g_assert_cmpint (rb.compression[0], ==, PNG_TEXT_COMPRESSION_NONE);
  g_assert_cmpstr (rb.keys[1], ==, "Layer");
  g_assert_cmpstr (rb.values[1], ==, text[3]);
  g_assert_cmpint (rb.compression[1], ==, PNG_ITXT_COMPRESSION_NONE);
  read_back_clear (&rb);

  /* and our own loader agrees */
  img = lens_image_load (path, &error);
  g_assert_no_error (error);
  unit_assert_close (img->rgb[17], 18 / 255.0, 1e-6);
}

static void
test_png_save_rgba (void)
{
  static const guint8 rgba[] = { 255, 0, 0, 128,  0, 0, 255, 0 };
  g_autofree char *path = g_build_filename (tmpdir, "rgba.png", NULL);
  g_autoptr(GError) error = NULL;
  ReadBack rb = { 0 };

  g_assert_true (lens_png_save_rgba (path, rgba, 2, 1, 8, NULL, &error));
  g_assert_no_error (error);
  read_back (path, &rb);
  g_assert_cmpint (rb.channels, ==, 4);
  g_assert_cmpmem (rb.pixels, 8, rgba, 8);
  g_assert_cmpint (rb.n_texts, ==, 0);
  read_back_clear (&rb);
}

static void
test_png_save_image (void)
{
  /* float -> 8 bit rounds to nearest and clamps */
  g_autoptr(LensImage) img = lens_image_new (2, 1);
  g_autofree char *path = g_build_filename (tmpdir, "img.png", NULL);
  g_autoptr(GError) error = NULL;
  static const guint8 expect[6] = { 0, 128, 255, 255, 0, 1 };
  ReadBack rb = { 0 };

  img->rgb[0] = 0.0f, img->rgb[1] = 0.5f, img->rgb[2] = 1.0f;
  img->rgb[3] = 7.0f, img->rgb[4] = -3.0f, img->rgb[5] = 0.5f / 255.0f + 1e-4f;
  g_assert_true (lens_image_save_png (img, path, NULL, &error));
  g_assert_no_error (error);
  read_back (path, &rb);
  g_assert_cmpmem (rb.pixels, 6, expect, 6);
  read_back_clear (&rb);
}

static void
test_png_save_errors (void)
{
  static const guint8 rgb[3] = { 0 };
  const char *bad_key[] = { "bad\tkey", "x", NULL };
  const char *no_value[] = { "Key", NULL, NULL };
  g_autofree char *missing = g_build_filename (tmpdir, "no-such-dir", "x.png", NULL);
  g_autofree char *path = g_build_filename (tmpdir, "kept.png", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (lens_png_save_rgb (missing, rgb, 1, 1, 3, NULL, &error));
  g_assert_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "no-such-dir"));
  g_clear_error (&error);

  /* a failed save leaves the old file as it was */
  g_file_set_contents (path, "old", -1, NULL);
  g_assert_false (lens_png_save_rgb (path, rgb, 1, 1, 3, bad_key, &error));
  g_assert_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_false (lens_png_save_rgb (path, rgb, 1, 1, 3, no_value, &error));
  g_assert_error (error, LENS_IMAGE_ERROR, LENS_IMAGE_ERROR_UNSUPPORTED);
  g_file_get_contents (path, &contents, NULL, NULL);
  g_assert_cmpstr (contents, ==, "old");
}

int
main (int    argc,
      char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  tmpdir = unit_make_tmpdir ();

  g_test_add_func ("/image/resize/up-2x2-4x4", test_resize_up_2x2_to_4x4);
  g_test_add_func ("/image/resize/down-4x4-2x2", test_resize_down_4x4_to_2x2);
  g_test_add_func ("/image/resize/nonuniform", test_resize_nonuniform);
  g_test_add_func ("/image/resize/torch", test_resize_torch);
  g_test_add_func ("/image/crop", test_crop);
  g_test_add_func ("/image/tensor/arithmetic", test_to_tensor_arithmetic);
  g_test_add_func ("/image/tensor/gray", test_to_tensor_gray);
  g_test_add_func ("/image/tensor/imagenet-flat", test_to_tensor_imagenet_flat);
  g_test_add_func ("/image/tensor/prepare-geometry", test_prepare_geometry);
  g_test_add_func ("/image/tensor/torchvision", test_preprocess_torchvision);
  g_test_add_func ("/image/tensor/inverse", test_from_tensor);
  g_test_add_func ("/image/tensor/inverse-gray", test_from_tensor_gray);
  g_test_add_func ("/image/png-save/rgb", test_png_save_rgb);
  g_test_add_func ("/image/png-save/rgba", test_png_save_rgba);
  g_test_add_func ("/image/png-save/image", test_png_save_image);
  g_test_add_func ("/image/png-save/errors", test_png_save_errors);

  ret = g_test_run ();
  unit_rm_rf (tmpdir);
  g_free (tmpdir);
  return ret;
}
