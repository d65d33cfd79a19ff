/* lens-tensor.c: tensor storage, checked size arithmetic */
#define G_LOG_DOMAIN "lens-tensor"

#include "lens-tensor.h"

#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (lens-tensor-error-quark, lens_tensor_error)

LensShape
lens_shape_make (int            ndim,
                 const int64_t *dims)
{
  LensShape s = { 0 };

  g_return_val_if_fail (ndim >= 0 && ndim <= LENS_MAX_DIMS, s);
  s.ndim = ndim;
  for (int i = 0; i < ndim; i++)
    s.dims[i] = dims[i];
  return s;
}

LensShape
lens_shape_4d (int64_t n,
               int64_t c,
               int64_t h,
               int64_t w)
{
  int64_t d[4] = { n, c, h, w };

  return lens_shape_make (4, d);
}

gboolean
lens_shape_equal (const LensShape *a,
                  const LensShape *b)
{
  if (a->ndim != b->ndim)
    return FALSE;
  for (int i = 0; i < a->ndim; i++)
    if (a->dims[i] != b->dims[i])
      return FALSE;
  return TRUE;
}

gboolean
lens_size_mul (gsize  a,
               gsize  b,
               gsize *out)
{
  return !__builtin_mul_overflow (a, b, out);
}

gboolean
lens_shape_numel_checked (const LensShape *shape,
                          gsize           *out_numel)
{
  gsize n = 1;

  if (shape->ndim < 0 || shape->ndim > LENS_MAX_DIMS)
    return FALSE;
  for (int i = 0; i < shape->ndim; i++)
    {
      if (shape->dims[i] < 0)
        return FALSE;
      if (!lens_size_mul (n, (gsize) shape->dims[i], &n))
        return FALSE;
    }
  *out_numel = n;
  return TRUE;
}

gsize
lens_shape_numel (const LensShape *shape)
{
  gsize n = 1;

  for (int i = 0; i < shape->ndim; i++)
    n *= (gsize) shape->dims[i];
  return n;
}

char *
lens_shape_to_string (const LensShape *shape)
{
  GString *s = g_string_new (NULL);

  if (shape->ndim == 0)
    g_string_append (s, "scalar");
  for (int i = 0; i < shape->ndim; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? "x" : "", shape->dims[i]);
  return g_string_free (s, FALSE);
}

gsize
lens_dtype_size (LensDType dtype)
{
  return dtype == LENS_DTYPE_INT64 ? sizeof (int64_t) : sizeof (float);
}

void *
lens_aligned_alloc0 (gsize nbytes)
{
  void *p = NULL;
  gsize rounded;

  /* aligned_alloc wants a multiple of the alignment */
  if (nbytes > G_MAXSIZE - LENS_TENSOR_ALIGN)
    return NULL;
  rounded = (nbytes + LENS_TENSOR_ALIGN - 1) / LENS_TENSOR_ALIGN * LENS_TENSOR_ALIGN;
  if (rounded == 0)
    rounded = LENS_TENSOR_ALIGN;
  if (posix_memalign (&p, LENS_TENSOR_ALIGN, rounded) != 0)
    return NULL;
  memset (p, 0, rounded);
  return p;
}

void
lens_aligned_free (void *ptr)
{
  free (ptr);
}

LensTensor *
lens_tensor_new (LensDType        dtype,
                 const LensShape *shape,
                 GError         **error)
{
  gsize numel, nbytes;
  LensTensor *t;

  if (!lens_shape_numel_checked (shape, &numel) ||
      !lens_size_mul (numel, lens_dtype_size (dtype), &nbytes))
    {
      g_autofree char *s = lens_shape_to_string (shape);
      g_set_error (error, LENS_TENSOR_ERROR, LENS_TENSOR_ERROR_TOO_LARGE,
                   "Tensor of shape %s is too large to address", s);
      return NULL;
    }

  t = g_new0 (LensTensor, 1);
  t->dtype = dtype;
  t->shape = *shape;
  t->owns_data = TRUE;
  t->data = lens_aligned_alloc0 (nbytes);
  if (t->data == NULL)
    {
      g_autofree char *s = lens_shape_to_string (shape);
      g_free (t);
      g_set_error (error, LENS_TENSOR_ERROR, LENS_TENSOR_ERROR_NO_MEMORY,
                   "Out of memory allocating a tensor of shape %s (%" G_GSIZE_FORMAT " bytes)",
                   s, nbytes);
      return NULL;
    }
  return t;
}

LensTensor *
lens_tensor_new_float (const LensShape *shape,
                       GError         **error)
{
  return lens_tensor_new (LENS_DTYPE_FLOAT32, shape, error);
}

LensTensor *
lens_tensor_new_view (LensDType        dtype,
                      const LensShape *shape,
                      void            *data)
{
  LensTensor *t = g_new0 (LensTensor, 1);

  t->dtype = dtype;
  t->shape = *shape;
  t->data = data;
  t->owns_data = FALSE;
  return t;
}

LensTensor *
lens_tensor_dup (const LensTensor *tensor,
                 GError          **error)
{
  LensTensor *t = lens_tensor_new (tensor->dtype, &tensor->shape, error);

  if (t != NULL)
    memcpy (t->data, tensor->data, lens_tensor_nbytes (tensor));
  return t;
}

void
lens_tensor_free (LensTensor *tensor)
{
  if (tensor == NULL)
    return;
  if (tensor->owns_data)
    lens_aligned_free (tensor->data);
  g_free (tensor);
}

gsize
lens_tensor_numel (const LensTensor *tensor)
{
  return lens_shape_numel (&tensor->shape);
}

gsize
lens_tensor_nbytes (const LensTensor *tensor)
{
  return lens_tensor_numel (tensor) * lens_dtype_size (tensor->dtype);
}

float *
lens_tensor_get_floats (const LensTensor *tensor)
{
  g_return_val_if_fail (tensor->dtype == LENS_DTYPE_FLOAT32, NULL);
  return tensor->data;
}

int64_t *
lens_tensor_get_int64s (const LensTensor *tensor)
{
  g_return_val_if_fail (tensor->dtype == LENS_DTYPE_INT64, NULL);
  return tensor->data;
}
