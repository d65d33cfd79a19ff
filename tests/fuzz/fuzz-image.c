/* fuzz-image.c: libFuzzer targets for the PNG and JPEG decoders
 * (built twice: fuzz-png with FUZZ_PNG defined, fuzz-jpeg with FUZZ_JPEG).
 *
 * Each input is passed to lens_image_load_data() after its first bytes
 * are overwritten with the format's signature (PNG: 8 bytes, JPEG: the
 * SOI marker and the next marker byte), so that every mutation reaches
 * the decoder instead of the "not an image" check.  Contract:
 *   - a failure sets a GError in LENS_IMAGE_ERROR with a message;
 *   - a success gives a non-empty image within LENS_IMAGE_MAX_PIXELS
 *     whose every sample is a finite value in [0, 1] (the header's
 *     promise; reading every sample also lets ASan see a short buffer);
 *   - lens_image_to_rgb8() of the result works;
 *   - nothing logs a warning or critical. */
#include "fuzz-common.h"
#include "lens-image.h"

#define FUZZ_MAX_PIXELS (G_GUINT64_CONSTANT (4) << 20)

#if defined(FUZZ_PNG)
static const guint8 signature[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
#define TARGET_NAME "fuzz-png"
#elif defined(FUZZ_JPEG)
static const guint8 signature[] = { 0xff, 0xd8, 0xff };
#define TARGET_NAME "fuzz-jpeg"
#else
#error "define FUZZ_PNG or FUZZ_JPEG"
#endif

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init_logging (TARGET_NAME);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(LensImage) image = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *copy = NULL;
  g_autofree guint8 *rgb8 = NULL;
  gsize n;

  if (size < sizeof signature)
    return 0;
  copy = g_memdup2 (data, size);
  memcpy (copy, signature, sizeof signature);
#if defined(FUZZ_PNG)
  /* A header claiming 4..64 megapixels makes the decoder allocate up to
   * 1.3 GB (float image + rows) before it finds the data missing; under
   * ASan's quarantine a run of such inputs exceeds -rss_limit_mb.  Sizes
   * up to 4 megapixels and over the 64 megapixel limit are still tried. */
  if (size >= 24 && memcmp (copy + 12, "IHDR", 4) == 0)
    {
      guint64 w = ((guint32) copy[16] << 24) | ((guint32) copy[17] << 16) | (copy[18] << 8) | copy[19];
      guint64 h = ((guint32) copy[20] << 24) | ((guint32) copy[21] << 16) | (copy[22] << 8) | copy[23];

      if (w * h > FUZZ_MAX_PIXELS && w * h <= LENS_IMAGE_MAX_PIXELS)
        return 0;
    }
#endif

  image = lens_image_load_data (copy, size, "input", &error);
  fuzz_check_error (image != NULL, error, LENS_IMAGE_ERROR, "lens_image_load_data");
  if (image == NULL)
    return 0;

  if (image->width <= 0 || image->height <= 0 ||
      (guint64) image->width * (guint64) image->height > LENS_IMAGE_MAX_PIXELS)
    fuzz_fail ("lens_image_load_data", "image size out of range");
  n = (gsize) image->width * image->height * 3;
  for (gsize i = 0; i < n; i++)
    if (!(image->rgb[i] >= 0.0f && image->rgb[i] <= 1.0f))
      fuzz_fail ("lens_image_load_data", "a sample is outside [0, 1]");
  rgb8 = lens_image_to_rgb8 (image);
  if (rgb8 == NULL)
    fuzz_fail ("lens_image_to_rgb8", "NULL");
  return 0;
}
