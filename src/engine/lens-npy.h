/* lens-npy.h: NumPy .npy files (float32 tensors in, float32/int64 out)
 *
 * Reads format versions 1.0, 2.0 and 3.0 with dtype '<f4' (kept),
 * '<f8' (converted to float32) or '<i8' (an int64 tensor), C order, up to
 * LENS_MAX_DIMS dimensions.  Writes version 1.0 with the header padded to
 * a multiple of 64 bytes, as numpy does.
 */
#pragma once

#include <glib.h>

#include "lens-tensor.h"

G_BEGIN_DECLS

#define LENS_NPY_ERROR (lens_npy_error_quark ())

typedef enum
{
  LENS_NPY_ERROR_IO,          /* cannot read or write the file */
  LENS_NPY_ERROR_FORMAT,      /* not .npy, malformed header, size mismatch */
  LENS_NPY_ERROR_UNSUPPORTED, /* valid .npy we do not read (dtype, Fortran order, > 8 dims) */
} LensNpyError;

GQuark      lens_npy_error_quark (void);

LensTensor *lens_npy_load        (const char *path,
                                  GError    **error);
/* The same from memory; name is used in error messages only. */
LensTensor *lens_npy_load_data   (const guint8 *data,
                                  gsize         length,
                                  const char   *name,
                                  GError      **error);
/* Writes atomically: if writing fails the old file is kept. */
gboolean    lens_npy_save        (const char       *path,
                                  const LensTensor *tensor,
                                  GError          **error);

G_END_DECLS
