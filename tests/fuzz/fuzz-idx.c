/* fuzz-idx.c: libFuzzer target for idx data sets (Fashion-MNIST's
 * format, raw or gzip-compressed; lens_dataset_load_idx_data).
 *
 * An input holds both files of a data set: a 2-byte little-endian length
 * L, then L bytes of the images file, then the labels file (L is clamped
 * to what is there).  Each file may be raw idx or gzip, as the loader
 * detects by the magic bytes.  Contract:
 *   - a failure sets a GError in LENS_DATASET_ERROR with a message;
 *   - a success gives n >= 1 one-channel images of 1..4096 pixels a side,
 *     ten class names and every label below 10; the first and last
 *     images convert to floats in [0, 1] (ASan sees a short pixel
 *     buffer);
 *   - nothing logs a warning or critical. */
#include "fuzz-common.h"
#include "lens-dataset.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init_logging ("fuzz-idx");
  return 0;
}

static void
check_image (const LensDataset *ds,
             int                i)
{
  static const float mean[3] = { 0.0f, 0.0f, 0.0f };
  static const float std[3] = { 1.0f, 1.0f, 1.0f };
  gsize n = (gsize) ds->height * ds->width;
  g_autofree float *out = g_new (float, n);

  lens_dataset_get_floats (ds, i, mean, std, out);
  for (gsize j = 0; j < n; j++)
    if (!(out[j] >= 0.0f && out[j] <= 1.000001f))
      fuzz_fail ("lens_dataset_get_floats", "a pixel is outside [0, 1]");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(LensDataset) ds = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) images = NULL;
  g_autoptr(GBytes) labels = NULL;
  gsize split;

  if (size < 2)
    return 0;
  split = MIN ((gsize) (data[0] | (data[1] << 8)), size - 2);
  images = g_bytes_new (data + 2, split);
  labels = g_bytes_new (data + 2 + split, size - 2 - split);

  ds = lens_dataset_load_idx_data (images, labels, "input", &error);
  fuzz_check_error (ds != NULL, error, LENS_DATASET_ERROR, "lens_dataset_load_idx_data");
  if (ds == NULL)
    return 0;

  if (ds->n < 1 || ds->channels != 1 || ds->height < 1 || ds->height > 4096 ||
      ds->width < 1 || ds->width > 4096 || ds->n_classes != 10 || ds->class_names == NULL ||
      g_strv_length (ds->class_names) != 10)
    fuzz_fail ("lens_dataset_load_idx_data", "sizes out of range");
  for (int i = 0; i < ds->n; i++)
    if (ds->labels[i] >= ds->n_classes)
      fuzz_fail ("lens_dataset_load_idx_data", "a label is out of range");
  check_image (ds, 0);
  check_image (ds, ds->n - 1);
  return 0;
}
