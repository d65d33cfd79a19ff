/* fuzz-npy.c: libFuzzer target for the .npy reader (lens_npy_load_data).
 *
 * Contract:
 *   - a failure sets a GError in LENS_NPY_ERROR with a message;
 *   - a success gives a float32 or int64 tensor of rank <= LENS_MAX_DIMS
 *     with non-negative dimensions whose data (numel * element size
 *     bytes) fits in the input after the 10-byte preamble; every element
 *     is read so that ASan sees a short buffer;
 *   - nothing logs a warning or critical. */
#include "fuzz-common.h"
#include "lens-npy.h"

static volatile guint64 fuzz_sink;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init_logging ("fuzz-npy");
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(LensTensor) tensor = NULL;
  g_autoptr(GError) error = NULL;
  gsize numel, nbytes;
  guint64 sum = 0;

  tensor = lens_npy_load_data (data, size, "input", &error);
  fuzz_check_error (tensor != NULL, error, LENS_NPY_ERROR, "lens_npy_load_data");
  if (tensor == NULL)
    return 0;

  if (tensor->dtype != LENS_DTYPE_FLOAT32 && tensor->dtype != LENS_DTYPE_INT64)
    fuzz_fail ("lens_npy_load_data", "unexpected dtype");
  if (tensor->shape.ndim < 0 || tensor->shape.ndim > LENS_MAX_DIMS)
    fuzz_fail ("lens_npy_load_data", "rank out of range");
  for (int i = 0; i < tensor->shape.ndim; i++)
    if (tensor->shape.dims[i] < 0)
      fuzz_fail ("lens_npy_load_data", "negative dimension");
  numel = lens_shape_numel (&tensor->shape);
  nbytes = lens_tensor_nbytes (tensor);
  if (nbytes != numel * lens_dtype_size (tensor->dtype) || nbytes > size - 10)
    fuzz_fail ("lens_npy_load_data", "the tensor holds more data than the file");
  for (gsize i = 0; i < nbytes; i++)
    sum += ((const guint8 *) tensor->data)[i];
  fuzz_sink = sum;
  return 0;
}
