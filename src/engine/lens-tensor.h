/* lens-tensor.h: dense NCHW tensors (float32, or int64 for shape values) */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define LENS_MAX_DIMS 8
#define LENS_TENSOR_ALIGN 64

#define LENS_TENSOR_ERROR (lens_tensor_error_quark ())

typedef enum
{
  LENS_TENSOR_ERROR_TOO_LARGE,
  LENS_TENSOR_ERROR_NO_MEMORY,
} LensTensorError;

typedef enum
{
  LENS_DTYPE_FLOAT32,
  LENS_DTYPE_INT64,
} LensDType;

typedef struct
{
  int     ndim;
  int64_t dims[LENS_MAX_DIMS];
} LensShape;

/* A tensor is always contiguous (row-major); strides are implied by the
 * shape.  owns_data says whether lens_tensor_free() releases data. */
typedef struct
{
  LensDType dtype;
  LensShape shape;
  void     *data;
  gboolean  owns_data;
} LensTensor;

GQuark      lens_tensor_error_quark  (void);

/* Shapes */
LensShape   lens_shape_make          (int            ndim,
                                      const int64_t *dims);
LensShape   lens_shape_4d            (int64_t        n,
                                      int64_t        c,
                                      int64_t        h,
                                      int64_t        w);
gboolean    lens_shape_equal         (const LensShape *a,
                                      const LensShape *b);
/* Element count with overflow check; FALSE on overflow or negative dims. */
gboolean    lens_shape_numel_checked (const LensShape *shape,
                                      gsize           *out_numel);
/* Element count of a shape already known to be valid. */
gsize       lens_shape_numel         (const LensShape *shape);
/* "1x3x224x224" (owned string). */
char       *lens_shape_to_string     (const LensShape *shape);
gsize       lens_dtype_size          (LensDType dtype);

/* Checked multiplication a*b into *out; FALSE on overflow. */
gboolean    lens_size_mul            (gsize  a,
                                      gsize  b,
                                      gsize *out);

/* Tensors */
LensTensor *lens_tensor_new          (LensDType        dtype,
                                      const LensShape *shape,
                                      GError         **error);
LensTensor *lens_tensor_new_float    (const LensShape *shape,
                                      GError         **error);
/* A tensor that borrows data (not freed with the tensor). */
LensTensor *lens_tensor_new_view     (LensDType        dtype,
                                      const LensShape *shape,
                                      void            *data);
LensTensor *lens_tensor_dup          (const LensTensor *tensor,
                                      GError          **error);
void        lens_tensor_free         (LensTensor *tensor);
gsize       lens_tensor_numel        (const LensTensor *tensor);
gsize       lens_tensor_nbytes       (const LensTensor *tensor);
float      *lens_tensor_get_floats   (const LensTensor *tensor);
int64_t    *lens_tensor_get_int64s   (const LensTensor *tensor);

/* 64-byte aligned allocation helpers (NULL on failure, never abort). */
void       *lens_aligned_alloc0      (gsize nbytes);
void        lens_aligned_free        (void *ptr);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensTensor, lens_tensor_free)

G_END_DECLS
