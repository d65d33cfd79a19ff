/* shape.c: ops that move data without arithmetic: Concat, Reshape, Flatten,
 * Unsqueeze, Squeeze, Transpose, Constant, ConstantOfShape, Shape, Gather,
 * Pad, Cast, Slice.  Most of them fold at load time in exported models. */
#define G_LOG_DOMAIN "shape"

#include "ops-common.h"

#include <string.h>

/* Reads a constant int64 vector input (shape/axes/pads...). */
static gboolean
const_ints (LensNode          *node,
            const LensOpInput *in,
            const char        *what,
            gint64            *out,
            int                max,
            int               *n_out,
            GError           **error)
{
  gsize n;

  if (in->constant == NULL)
    {
      lens_op_set_error (error, LENS_NET_ERROR_DYNAMIC_SHAPE, node,
                         "%s ('%s') is computed at run time; ConvLens needs it constant "
                         "(give a fixed input size with --input-size)", what, in->name);
      return FALSE;
    }
  if (in->constant->dtype != LENS_DTYPE_INT64 || in->constant->shape.ndim > 1)
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_TYPE, node,
                         "%s must be a 1-D integer tensor", what);
      return FALSE;
    }
  n = lens_tensor_numel (in->constant);
  if (n > (gsize) max)
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "%s has too many values", what);
      return FALSE;
    }
  memcpy (out, in->constant->data, n * sizeof (gint64));
  *n_out = (int) n;
  return TRUE;
}

gboolean
lens_concat_setup (LensNode          *node,
                   const LensAttrs   *attrs,
                   const LensOpInput *in,
                   LensOpOutput      *out,
                   GError           **error)
{
  LensShape s = in[0].shape;
  gint64 axis = lens_attrs_get_int (attrs, "axis", 1);

  if (!lens_axis_normalize (axis, s.ndim, &node->p.axis))
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "axis %" G_GINT64_FORMAT
                         " out of range", axis);
      return FALSE;
    }
  for (int i = 1; i < node->n_inputs; i++)
    {
      const LensShape *t = &in[i].shape;
      gboolean ok = in[i].present && t->ndim == s.ndim && in[i].dtype == in[0].dtype;
      for (int d = 0; ok && d < s.ndim; d++)
        if (d != node->p.axis && t->dims[d] != s.dims[d])
          ok = FALSE;
      if (!ok)
        {
          g_autofree char *a = lens_shape_to_string (&in[0].shape);
          g_autofree char *b = lens_shape_to_string (t);
          lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node,
                             "input %d has shape %s, which does not join %s on axis %d",
                             i, b, a, node->p.axis);
          return FALSE;
        }
      s.dims[node->p.axis] += t->dims[node->p.axis];
    }
  out[0].shape = s;
  out[0].dtype = in[0].dtype;
  return TRUE;
}

/* x0..xk -> y, joined along axis */
void
lens_concat_forward (const LensNode    *node,
                     const LensTensor **in,
                     LensTensor       **out,
                     const LensExec    *exec)
{
  const LensShape *s = &out[0]->shape;
  gsize esize = lens_dtype_size (out[0]->dtype);
  gsize outer = 1, inner = esize, offset = 0;
  guint8 *y = out[0]->data;

  for (int i = 0; i < node->p.axis; i++)
    outer *= (gsize) s->dims[i];
  for (int i = node->p.axis + 1; i < s->ndim; i++)
    inner *= (gsize) s->dims[i];
  for (int k = 0; k < node->n_inputs; k++)
    {
      gsize chunk = (gsize) in[k]->shape.dims[node->p.axis] * inner;
      const guint8 *x = in[k]->data;
      for (gsize o = 0; o < outer; o++)
        memcpy (y + o * (gsize) s->dims[node->p.axis] * inner + offset, x + o * chunk, chunk);
      offset += chunk;
    }
}

gboolean
lens_reshape_setup (LensNode          *node,
                    const LensAttrs   *attrs,
                    const LensOpInput *in,
                    LensOpOutput      *out,
                    GError           **error)
{
  const LensShape *x = &in[0].shape;
  LensShape s = { 0 };
  gint64 v[LENS_MAX_DIMS];
  int n = 0;
  gsize numel = lens_shape_numel (x);

  switch (node->op)
    {
    case LENS_OP_RESHAPE:
      {
        int infer = -1;
        gsize known = 1;
        gboolean allowzero = lens_attrs_get_int (attrs, "allowzero", 0) != 0;

        if (node->n_inputs > 1)
          {
            if (!const_ints (node, &in[1], "the target shape", v, LENS_MAX_DIMS, &n, error))
              return FALSE;
          }
        else if ((n = lens_attrs_get_ints (attrs, "shape", v, LENS_MAX_DIMS)) <= 0)
          {
            lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "no target shape");
            return FALSE;
          }
        s.ndim = n;
        for (int i = 0; i < n; i++)
          {
            if (v[i] == 0 && !allowzero)
              {
                if (i >= x->ndim)
                  goto bad;
                v[i] = x->dims[i];
              }
            if (v[i] == -1)
              {
                if (infer >= 0)
                  goto bad;
                infer = i;
                continue;
              }
            if (v[i] < 0)
              goto bad;
            s.dims[i] = v[i];
            if (!lens_size_mul (known, (gsize) v[i], &known))
              goto bad;
          }
        if (infer >= 0)
          {
            if (known == 0 || numel % known != 0)
              goto bad;
            s.dims[infer] = (int64_t) (numel / known);
          }
        else if (known != numel)
          goto bad;
      }
      break;

    case LENS_OP_FLATTEN:
      {
        gint64 axis = lens_attrs_get_int (attrs, "axis", 1);
        int a;
        gsize outer = 1;
        if (axis == x->ndim)
          a = x->ndim;
        else if (!lens_axis_normalize (axis, x->ndim, &a))
          goto bad;
        node->p.axis = a;   /* normalised, for the ONNX writer */
        for (int i = 0; i < a; i++)
          outer *= (gsize) x->dims[i];
        s.ndim = 2;
        s.dims[0] = (int64_t) outer;
        s.dims[1] = outer ? (int64_t) (numel / outer) : 0;
      }
      break;

    case LENS_OP_UNSQUEEZE:
    case LENS_OP_SQUEEZE:
      {
        gboolean mark[LENS_MAX_DIMS] = { 0 };
        gboolean squeeze = node->op == LENS_OP_SQUEEZE;
        int rank;

        if (node->n_inputs > 1 && in[1].present)
          {
            if (!const_ints (node, &in[1], "axes", v, LENS_MAX_DIMS, &n, error))
              return FALSE;
          }
        else
          n = lens_attrs_get_ints (attrs, "axes", v, LENS_MAX_DIMS);
        if (n < 0)
          goto bad;
        rank = squeeze ? x->ndim : x->ndim + n;
        if (rank > LENS_MAX_DIMS)
          goto bad;
        for (int i = 0; i < n; i++)
          {
            int a;
            if (!lens_axis_normalize (v[i], rank, &a) || mark[a])
              goto bad;
            if (squeeze && x->dims[a] != 1)
              goto bad;
            mark[a] = TRUE;
          }
        if (squeeze)
          {
            for (int i = 0; i < x->ndim; i++)
              if (!(n == 0 ? x->dims[i] == 1 : mark[i]))
                s.dims[s.ndim++] = x->dims[i];
          }
        else
          {
            int j = 0;
            for (int i = 0; i < rank; i++)
              s.dims[s.ndim++] = mark[i] ? 1 : x->dims[j++];
          }
      }
      break;

    default:
      g_assert_not_reached ();
    }
  out[0].shape = s;
  out[0].dtype = in[0].dtype;
  return TRUE;

bad:
  {
    g_autofree char *xs = lens_shape_to_string (x);
    lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node,
                       "cannot reshape an input of shape %s as asked", xs);
  }
  return FALSE;
}

/* x [...] -> y [same elements, new shape] */
void
lens_reshape_forward (const LensNode    *node,
                      const LensTensor **in,
                      LensTensor       **out,
                      const LensExec    *exec)
{
  if (out[0]->data != in[0]->data)
    memcpy (out[0]->data, in[0]->data, lens_tensor_nbytes (in[0]));
}

gboolean
lens_transpose_setup (LensNode          *node,
                      const LensAttrs   *attrs,
                      const LensOpInput *in,
                      LensOpOutput      *out,
                      GError           **error)
{
  const LensShape *x = &in[0].shape;
  gint64 v[LENS_MAX_DIMS];
  gboolean seen[LENS_MAX_DIMS] = { 0 };
  int n = lens_attrs_get_ints (attrs, "perm", v, LENS_MAX_DIMS);

  if (n == 0)
    {
      n = x->ndim;
      for (int i = 0; i < n; i++)
        v[i] = n - 1 - i;
    }
  if (n != x->ndim)
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "perm has %d values for rank %d",
                         n, x->ndim);
      return FALSE;
    }
  out[0].shape.ndim = n;
  for (int i = 0; i < n; i++)
    {
      if (v[i] < 0 || v[i] >= n || seen[v[i]])
        {
          lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                             "perm is not a permutation");
          return FALSE;
        }
      seen[v[i]] = TRUE;
      node->p.perm[i] = (int) v[i];
      out[0].shape.dims[i] = x->dims[v[i]];
    }
  out[0].dtype = in[0].dtype;
  return TRUE;
}

/* x [d0..dn] -> y [d_perm0..d_permn] */
void
lens_transpose_forward (const LensNode    *node,
                        const LensTensor **in,
                        LensTensor       **out,
                        const LensExec    *exec)
{
  const LensShape *x = &in[0]->shape;
  int rank = x->ndim;
  int64_t in_stride[LENS_MAX_DIMS], st[LENS_MAX_DIMS], idx[LENS_MAX_DIMS] = { 0 };
  gsize esize = lens_dtype_size (in[0]->dtype), total = lens_tensor_numel (in[0]);
  const guint8 *src = in[0]->data;
  guint8 *dst = out[0]->data;
  int64_t off = 0;

  if (rank == 0)
    {
      memcpy (dst, src, esize);
      return;
    }
  in_stride[rank - 1] = 1;
  for (int i = rank - 2; i >= 0; i--)
    in_stride[i] = in_stride[i + 1] * x->dims[i + 1];
  for (int i = 0; i < rank; i++)
    st[i] = in_stride[node->p.perm[i]];
  /* walk the output in order, advancing an odometer over its dims */
  for (gsize o = 0; o < total; o++)
    {
      memcpy (dst + o * esize, src + off * esize, esize);
      for (int d = rank - 1; d >= 0; d--)
        {
          idx[d]++;
          off += st[d];
          if (idx[d] < out[0]->shape.dims[d])
            break;
          off -= st[d] * idx[d];
          idx[d] = 0;
        }
    }
}

gboolean
lens_constant_setup (LensNode          *node,
                     const LensAttrs   *attrs,
                     const LensOpInput *in,
                     LensOpOutput      *out,
                     GError           **error)
{
  const LensAttr *a;
  g_autoptr (GError) local = NULL;

  if ((a = lens_attrs_find (attrs, "value")) != NULL && a->type == LENS_ATTR_TENSOR)
    node->p.value = lens_tensor_dup (a->t, &local);
  else if ((a = lens_attrs_find (attrs, "value_float")) != NULL)
    {
      node->p.value = lens_tensor_new_float (&(LensShape) { 0 }, &local);
      ((float *) node->p.value->data)[0] = a->f;
    }
  else if ((a = lens_attrs_find (attrs, "value_int")) != NULL)
    {
      node->p.value = lens_tensor_new (LENS_DTYPE_INT64, &(LensShape) { 0 }, &local);
      ((int64_t *) node->p.value->data)[0] = a->i;
    }
  else if ((a = lens_attrs_find (attrs, "value_floats")) != NULL && a->type == LENS_ATTR_FLOATS)
    {
      LensShape s = lens_shape_make (1, (int64_t[]) { (int64_t) a->n });
      node->p.value = lens_tensor_new_float (&s, &local);
      if (node->p.value)
        memcpy (node->p.value->data, a->floats, a->n * sizeof (float));
    }
  else if ((a = lens_attrs_find (attrs, "value_ints")) != NULL && a->type == LENS_ATTR_INTS)
    {
      LensShape s = lens_shape_make (1, (int64_t[]) { (int64_t) a->n });
      node->p.value = lens_tensor_new (LENS_DTYPE_INT64, &s, &local);
      if (node->p.value)
        memcpy (node->p.value->data, a->ints, a->n * sizeof (int64_t));
    }
  else
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                         "no supported value attribute (value, value_float(s), value_int(s))");
      return FALSE;
    }
  if (node->p.value == NULL)
    {
      lens_op_set_error (error, LENS_NET_ERROR_TOO_LARGE, node, "%s", local->message);
      return FALSE;
    }
  out[0].shape = node->p.value->shape;
  out[0].dtype = node->p.value->dtype;
  return TRUE;
}

void
lens_constant_forward (const LensNode    *node,
                       const LensTensor **in,
                       LensTensor       **out,
                       const LensExec    *exec)
{
  memcpy (out[0]->data, node->p.value->data, lens_tensor_nbytes (node->p.value));
}

gboolean
lens_constantofshape_setup (LensNode          *node,
                            const LensAttrs   *attrs,
                            const LensOpInput *in,
                            LensOpOutput      *out,
                            GError           **error)
{
  gint64 v[LENS_MAX_DIMS];
  int n;
  const LensAttr *a = lens_attrs_find (attrs, "value");
  g_autoptr (GError) local = NULL;

  if (!const_ints (node, &in[0], "the shape", v, LENS_MAX_DIMS, &n, error))
    return FALSE;
  out[0].shape.ndim = n;
  for (int i = 0; i < n; i++)
    {
      if (v[i] < 0)
        {
          lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "negative dimension");
          return FALSE;
        }
      out[0].shape.dims[i] = v[i];
    }
  if (a != NULL && a->type == LENS_ATTR_TENSOR)
    {
      if (lens_tensor_numel (a->t) != 1)
        {
          lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                             "value must hold exactly one element");
          return FALSE;
        }
      node->p.value = lens_tensor_dup (a->t, &local);
    }
  else
    node->p.value = lens_tensor_new_float (&(LensShape) { 0 }, &local);
  if (node->p.value == NULL)
    {
      lens_op_set_error (error, LENS_NET_ERROR_TOO_LARGE, node, "%s", local->message);
      return FALSE;
    }
  out[0].dtype = node->p.value->dtype;
  return TRUE;
}

void
lens_constantofshape_forward (const LensNode    *node,
                              const LensTensor **in,
                              LensTensor       **out,
                              const LensExec    *exec)
{
  gsize n = lens_tensor_numel (out[0]);

  if (out[0]->dtype == LENS_DTYPE_FLOAT32)
    {
      float v = ((const float *) node->p.value->data)[0], *y = out[0]->data;
      for (gsize i = 0; i < n; i++)
        y[i] = v;
    }
  else
    {
      int64_t v = ((const int64_t *) node->p.value->data)[0], *y = out[0]->data;
      for (gsize i = 0; i < n; i++)
        y[i] = v;
    }
}

gboolean
lens_shape_setup (LensNode          *node,
                  const LensAttrs   *attrs,
                  const LensOpInput *in,
                  LensOpOutput      *out,
                  GError           **error)
{
  int rank = in[0].shape.ndim;
  gint64 start = lens_attrs_get_int (attrs, "start", 0);
  gint64 end = lens_attrs_get_int (attrs, "end", rank);

  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = CLAMP (start, 0, rank);
  end = CLAMP (end, 0, rank);
  node->p.slice_start[0] = start;
  out[0].shape = lens_shape_make (1, (int64_t[]) { MAX (0, end - start) });
  out[0].dtype = LENS_DTYPE_INT64;
  return TRUE;
}

/* x [d0..dn] -> y [n] int64: the dimensions (of the batch-1 plan) */
void
lens_shape_forward (const LensNode    *node,
                    const LensTensor **in,
                    LensTensor       **out,
                    const LensExec    *exec)
{
  int64_t *y = out[0]->data;
  int64_t n = out[0]->shape.dims[0];

  for (int64_t i = 0; i < n; i++)
    y[i] = in[0]->shape.dims[node->p.slice_start[0] + i];
}

gboolean
lens_gather_setup (LensNode          *node,
                   const LensAttrs   *attrs,
                   const LensOpInput *in,
                   LensOpOutput      *out,
                   GError           **error)
{
  const LensShape *x = &in[0].shape, *ix = &in[1].shape;
  gint64 axis = lens_attrs_get_int (attrs, "axis", 0);
  int a;
  const LensTensor *idx = in[1].constant;

  if (!lens_axis_normalize (axis, x->ndim, &a))
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "axis out of range");
      return FALSE;
    }
  if (idx == NULL || idx->dtype != LENS_DTYPE_INT64)
    {
      lens_op_set_error (error, LENS_NET_ERROR_DYNAMIC_SHAPE, node,
                         "indices must be a constant integer tensor");
      return FALSE;
    }
  for (gsize i = 0; i < lens_tensor_numel (idx); i++)
    {
      int64_t v = ((const int64_t *) idx->data)[i];
      if (v < -x->dims[a] || v >= x->dims[a])
        {
          lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "index %" G_GINT64_FORMAT
                             " out of range", v);
          return FALSE;
        }
    }
  if (x->ndim - 1 + ix->ndim > LENS_MAX_DIMS)
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "result has too many dimensions");
      return FALSE;
    }
  node->p.axis = a;
  out[0].shape.ndim = 0;
  for (int i = 0; i < a; i++)
    out[0].shape.dims[out[0].shape.ndim++] = x->dims[i];
  for (int i = 0; i < ix->ndim; i++)
    out[0].shape.dims[out[0].shape.ndim++] = ix->dims[i];
  for (int i = a + 1; i < x->ndim; i++)
    out[0].shape.dims[out[0].shape.ndim++] = x->dims[i];
  out[0].dtype = in[0].dtype;
  return TRUE;
}

/* x [..., D, ...] idx [I...] -> y [..., I..., ...] */
void
lens_gather_forward (const LensNode    *node,
                     const LensTensor **in,
                     LensTensor       **out,
                     const LensExec    *exec)
{
  const LensShape *x = &in[0]->shape;
  gsize esize = lens_dtype_size (in[0]->dtype);
  gsize outer = 1, inner = esize, nidx = lens_tensor_numel (in[1]);
  int64_t d = x->dims[node->p.axis];
  const int64_t *idx = in[1]->data;
  const guint8 *src = in[0]->data;
  guint8 *dst = out[0]->data;

  for (int i = 0; i < node->p.axis; i++)
    outer *= (gsize) x->dims[i];
  for (int i = node->p.axis + 1; i < x->ndim; i++)
    inner *= (gsize) x->dims[i];
  for (gsize o = 0; o < outer; o++)
    for (gsize j = 0; j < nidx; j++)
      {
        int64_t k = idx[j] < 0 ? idx[j] + d : idx[j];
        memcpy (dst + (o * nidx + j) * inner, src + (o * (gsize) d + (gsize) k) * inner, inner);
      }
}

gboolean
lens_pad_setup (LensNode          *node,
                const LensAttrs   *attrs,
                const LensOpInput *in,
                LensOpOutput      *out,
                GError           **error)
{
  const LensShape *x = &in[0].shape;
  const char *mode = lens_attrs_get_string (attrs, "mode", "constant");
  gint64 v[2 * LENS_MAX_DIMS];
  int n = 0;

  if (strcmp (mode, "constant") == 0)
    node->p.pad_mode = 0;
  else if (strcmp (mode, "reflect") == 0)
    node->p.pad_mode = 1;
  else if (strcmp (mode, "edge") == 0)
    node->p.pad_mode = 2;
  else
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                         "mode '%s' is not supported", mode);
      return FALSE;
    }
  if (node->n_inputs > 3 && in[3].present)
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                         "the axes input is not supported");
      return FALSE;
    }
  node->p.pad_value = lens_attrs_get_float (attrs, "value", 0.0f);
  if (node->n_inputs > 1)
    {
      if (!const_ints (node, &in[1], "pads", v, 2 * LENS_MAX_DIMS, &n, error))
        return FALSE;
      if (node->n_inputs > 2 && in[2].present)
        {
          const LensTensor *c = in[2].constant;
          if (c == NULL || lens_tensor_numel (c) != 1)
            {
              lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                                 "constant_value must be a constant scalar");
              return FALSE;
            }
          node->p.pad_value = c->dtype == LENS_DTYPE_FLOAT32 ? ((float *) c->data)[0]
                                                              : (float) ((int64_t *) c->data)[0];
        }
    }
  else
    n = lens_attrs_get_ints (attrs, "pads", v, 2 * LENS_MAX_DIMS);
  if (n != 2 * x->ndim)
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "pads has %d values for rank %d",
                         n, x->ndim);
      return FALSE;
    }
  out[0].shape = *x;
  for (int i = 0; i < x->ndim; i++)
    {
      int64_t d;
      /* bound the amounts before adding them: no overflow */
      if (v[i] > (1 << 24) || v[i] < -(1 << 24) || v[i + x->ndim] > (1 << 24) ||
          v[i + x->ndim] < -(1 << 24) || x->dims[i] > ((int64_t) 1 << 40))
        {
          lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node,
                             "pads of dimension %d are out of range", i);
          return FALSE;
        }
      d = x->dims[i] + v[i] + v[i + x->ndim];
      if (d < 0 ||
          (node->p.pad_mode == 1 && (v[i] >= x->dims[i] || v[i + x->ndim] >= x->dims[i])) ||
          (node->p.pad_mode != 0 && x->dims[i] == 0))
        {
          lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node,
                             "pads do not fit dimension %d of size %" G_GINT64_FORMAT, i,
                             x->dims[i]);
          return FALSE;
        }
      out[0].shape.dims[i] = d;
      node->p.pad_amounts[i] = v[i];
    }
  out[0].dtype = in[0].dtype;
  return TRUE;
}

/* Maps an output coordinate to the input one for the pad mode; -1 when it
 * falls in constant padding. */
static inline int64_t
pad_source (int     mode,
            int64_t i,
            int64_t n)
{
  if (i >= 0 && i < n)
    return i;
  if (mode == 0)
    return -1;
  if (mode == 2)
    return CLAMP (i, 0, n - 1);
  {
    /* reflect without repeating the edge */
    int64_t period = 2 * (n - 1);
    i = period > 0 ? ((i % period) + period) % period : 0;
    return i >= n ? period - i : i;
  }
}

/* x [d...] -> y [d + pads...], one innermost row at a time */
void
lens_pad_forward (const LensNode    *node,
                  const LensTensor **in,
                  LensTensor       **out,
                  const LensExec    *exec)
{
  const LensShape *x = &in[0]->shape, *s = &out[0]->shape;
  int r = s->ndim;
  gsize esize = lens_dtype_size (in[0]->dtype);
  gsize total = lens_tensor_numel (out[0]);
  const guint8 *src = in[0]->data;
  guint8 *dst = out[0]->data;
  int64_t ow, iw, lead, rows;
  guint8 fill[8];

  if (out[0]->dtype == LENS_DTYPE_FLOAT32)
    memcpy (fill, &node->p.pad_value, 4);
  else
    {
      int64_t v = (int64_t) node->p.pad_value;
      memcpy (fill, &v, 8);
    }
  if (r == 0 || total == 0)
    {
      if (total > 0)
        memcpy (dst, src, esize);
      return;
    }
  ow = s->dims[r - 1];
  iw = x->dims[r - 1];
  lead = node->p.pad_amounts[r - 1];
  rows = (int64_t) (total / (gsize) ow);
  for (int64_t row = 0; row < rows; row++)
    {
      int64_t rest = row, off = 0, stride = iw;
      gboolean inside = TRUE;
      guint8 *d = dst + (gsize) row * ow * esize;

      for (int dim = r - 2; dim >= 0; dim--)
        {
          int64_t i = pad_source (node->p.pad_mode, rest % s->dims[dim] - node->p.pad_amounts[dim],
                                  x->dims[dim]);
          rest /= s->dims[dim];
          if (i < 0)
            inside = FALSE;
          else
            off += i * stride;
          stride *= x->dims[dim];
        }
      for (int64_t q = 0; q < ow; q++)
        {
          int64_t i = inside ? pad_source (node->p.pad_mode, q - lead, iw) : -1;
          if (inside && q - lead >= 0 && q - lead < iw)
            {
              /* the run of the row that comes straight from the input */
              int64_t run = MIN (ow - q, iw - (q - lead));
              memcpy (d + q * esize, src + (off + q - lead) * esize, run * esize);
              q += run - 1;
              continue;
            }
          if (i < 0)
            memcpy (d + q * esize, fill, esize);
          else
            memcpy (d + q * esize, src + (off + i) * esize, esize);
        }
    }
}

gboolean
lens_cast_setup (LensNode          *node,
                 const LensAttrs   *attrs,
                 const LensOpInput *in,
                 LensOpOutput      *out,
                 GError           **error)
{
  gint64 to = lens_attrs_get_int (attrs, "to", 0);

  if (to == 1)
    node->p.cast_to = LENS_DTYPE_FLOAT32;
  else if (to == 6 || to == 7)
    node->p.cast_to = LENS_DTYPE_INT64;
  else
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_TYPE, node,
                         "casting to ONNX type %" G_GINT64_FORMAT " is not supported", to);
      return FALSE;
    }
  out[0].shape = in[0].shape;
  out[0].dtype = node->p.cast_to;
  return TRUE;
}

void
lens_cast_forward (const LensNode    *node,
                   const LensTensor **in,
                   LensTensor       **out,
                   const LensExec    *exec)
{
  gsize n = lens_tensor_numel (in[0]);

  for (gsize i = 0; i < n; i++)
    {
      double v = in[0]->dtype == LENS_DTYPE_FLOAT32 ? ((const float *) in[0]->data)[i]
                                                    : (double) ((const int64_t *) in[0]->data)[i];
      if (out[0]->dtype == LENS_DTYPE_FLOAT32)
        ((float *) out[0]->data)[i] = (float) v;
      else
        ((int64_t *) out[0]->data)[i] = (int64_t) v;
    }
}

gboolean
lens_slice_setup (LensNode          *node,
                  const LensAttrs   *attrs,
                  const LensOpInput *in,
                  LensOpOutput      *out,
                  GError           **error)
{
  const LensShape *x = &in[0].shape;
  gint64 starts[LENS_MAX_DIMS], ends[LENS_MAX_DIMS], axes[LENS_MAX_DIMS], steps[LENS_MAX_DIMS];
  int ns = 0, ne = 0, na = 0, nt = 0;

  if (node->n_inputs >= 3)
    {
      if (!const_ints (node, &in[1], "starts", starts, LENS_MAX_DIMS, &ns, error) ||
          !const_ints (node, &in[2], "ends", ends, LENS_MAX_DIMS, &ne, error))
        return FALSE;
      if (node->n_inputs > 3 && in[3].present &&
          !const_ints (node, &in[3], "axes", axes, LENS_MAX_DIMS, &na, error))
        return FALSE;
      if (node->n_inputs > 4 && in[4].present &&
          !const_ints (node, &in[4], "steps", steps, LENS_MAX_DIMS, &nt, error))
        return FALSE;
    }
  else
    {
      ns = lens_attrs_get_ints (attrs, "starts", starts, LENS_MAX_DIMS);
      ne = lens_attrs_get_ints (attrs, "ends", ends, LENS_MAX_DIMS);
      na = lens_attrs_get_ints (attrs, "axes", axes, LENS_MAX_DIMS);
    }
  if (ns <= 0 || ns != ne || (na && na != ns) || (nt && nt != ns))
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "starts/ends/axes/steps disagree");
      return FALSE;
    }
  out[0].shape = *x;
  out[0].dtype = in[0].dtype;
  for (int i = 0; i < x->ndim; i++)
    {
      node->p.slice_start[i] = 0;
      node->p.slice_step[i] = 1;
    }
  for (int i = 0; i < ns; i++)
    {
      int a;
      int64_t d, st = nt ? steps[i] : 1, s0 = starts[i], e0 = ends[i], len;
      if (!lens_axis_normalize (na ? axes[i] : i, x->ndim, &a) || st == 0)
        {
          lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "bad axis or step");
          return FALSE;
        }
      d = x->dims[a];
      if (s0 < 0)
        s0 += d;
      if (e0 < 0)
        e0 += d;
      if (st > 0)
        {
          s0 = CLAMP (s0, 0, d);
          e0 = CLAMP (e0, 0, d);
          len = e0 > s0 ? (e0 - s0 + st - 1) / st : 0;
        }
      else
        {
          s0 = CLAMP (s0, -1, d - 1);
          e0 = CLAMP (e0, -1, d - 1);
          len = s0 > e0 ? (s0 - e0 + (-st) - 1) / (-st) : 0;
        }
      node->p.slice_start[a] = s0;
      node->p.slice_step[a] = st;
      out[0].shape.dims[a] = len;
    }
  return TRUE;
}

void
lens_slice_forward (const LensNode    *node,
                    const LensTensor **in,
                    LensTensor       **out,
                    const LensExec    *exec)
{
  const LensShape *x = &in[0]->shape, *s = &out[0]->shape;
  gsize esize = lens_dtype_size (in[0]->dtype), total = lens_tensor_numel (out[0]);
  const guint8 *src = in[0]->data;
  guint8 *dst = out[0]->data;

  for (gsize o = 0; o < total; o++)
    {
      gsize rest = o;
      int64_t off = 0, stride = 1;
      for (int d = s->ndim - 1; d >= 0; d--)
        {
          int64_t i = (int64_t) (rest % (gsize) s->dims[d]);
          rest /= (gsize) s->dims[d];
          off += (node->p.slice_start[d] + i * node->p.slice_step[d]) * stride;
          stride *= x->dims[d];
        }
      memcpy (dst + o * esize, src + off * esize, esize);
    }
}

/* Splits the signal back into the joined inputs. */
void
lens_concat_backward (const LensNode    *node,
                      const LensTensor **in,
                      const LensTensor **out,
                      const LensTensor  *gout,
                      LensTensor       **gin,
                      const LensBackCtx *ctx)
{
  const LensShape *s = &gout->shape;
  gsize outer = 1, inner = 1, offset = 0;
  const float *g = gout->data;

  for (int i = 0; i < node->p.axis; i++)
    outer *= (gsize) s->dims[i];
  for (int i = node->p.axis + 1; i < s->ndim; i++)
    inner *= (gsize) s->dims[i];
  for (int k = 0; k < node->n_inputs; k++)
    {
      gsize chunk = (gsize) in[k]->shape.dims[node->p.axis] * inner;
      if (gin[k] != NULL)
        {
          float *gx = gin[k]->data;
          for (gsize o = 0; o < outer; o++)
            for (gsize j = 0; j < chunk; j++)
              gx[o * chunk + j] += g[o * (gsize) s->dims[node->p.axis] * inner + offset + j];
        }
      offset += chunk;
    }
}

/* Reshape, Flatten, Squeeze, Unsqueeze: same elements, so the same signal. */
void
lens_reshape_backward (const LensNode    *node,
                       const LensTensor **in,
                       const LensTensor **out,
                       const LensTensor  *gout,
                       LensTensor       **gin,
                       const LensBackCtx *ctx)
{
  gsize n = lens_tensor_numel (gout);
  const float *g = gout->data;
  float *gx;

  if (gin[0] == NULL)
    return;
  gx = gin[0]->data;
  for (gsize i = 0; i < n; i++)
    gx[i] += g[i];
}

void
lens_transpose_backward (const LensNode    *node,
                         const LensTensor **in,
                         const LensTensor **out,
                         const LensTensor  *gout,
                         LensTensor       **gin,
                         const LensBackCtx *ctx)
{
  const LensShape *x = &in[0]->shape;
  int rank = x->ndim;
  int64_t in_stride[LENS_MAX_DIMS], st[LENS_MAX_DIMS], idx[LENS_MAX_DIMS] = { 0 };
  gsize total = lens_tensor_numel (gout);
  const float *g = gout->data;
  float *gx;
  int64_t off = 0;

  if (gin[0] == NULL || rank == 0)
    return;
  gx = gin[0]->data;
  in_stride[rank - 1] = 1;
  for (int i = rank - 2; i >= 0; i--)
    in_stride[i] = in_stride[i + 1] * x->dims[i + 1];
  for (int i = 0; i < rank; i++)
    st[i] = in_stride[node->p.perm[i]];
  for (gsize o = 0; o < total; o++)
    {
      gx[off] += g[o];
      for (int d = rank - 1; d >= 0; d--)
        {
          idx[d]++;
          off += st[d];
          if (idx[d] < gout->shape.dims[d])
            break;
          off -= st[d] * idx[d];
          idx[d] = 0;
        }
    }
}

/* Crops the padding away (edge / reflect padding add their copies back). */
void
lens_pad_backward (const LensNode    *node,
                   const LensTensor **in,
                   const LensTensor **out,
                   const LensTensor  *gout,
                   LensTensor       **gin,
                   const LensBackCtx *ctx)
{
  const LensShape *x = &in[0]->shape, *s = &gout->shape;
  gsize total = lens_tensor_numel (gout);
  const float *g = gout->data;
  float *gx;

  if (gin[0] == NULL)
    return;
  gx = gin[0]->data;
  for (gsize o = 0; o < total; o++)
    {
      gsize rest = o;
      int64_t off = 0, stride = 1;
      gboolean inside = TRUE;

      for (int d = s->ndim - 1; d >= 0; d--)
        {
          int64_t i = pad_source (node->p.pad_mode,
                                  (int64_t) (rest % (gsize) s->dims[d]) - node->p.pad_amounts[d],
                                  x->dims[d]);
          rest /= (gsize) s->dims[d];
          if (i < 0)
            inside = FALSE;
          else
            off += i * stride;
          stride *= x->dims[d];
        }
      if (inside)
        gx[off] += g[o];
    }
}

gboolean
lens_pad_region (const LensNode   *node,
                 const LensShape  *in_shape,
                 const LensRegion *out,
                 LensRegion       *in)
{
  int r = in_shape->ndim;
  int64_t h = r >= 4 ? in_shape->dims[r - 2] : 1, w = in_shape->dims[r - 1];

  if (node->p.pad_mode != 0 || r < 3)
    return FALSE;
  in->y0 = CLAMP (out->y0 - (r >= 4 ? node->p.pad_amounts[r - 2] : 0), 0, h);
  in->y1 = CLAMP (out->y1 - (r >= 4 ? node->p.pad_amounts[r - 2] : 0), 0, h);
  in->x0 = CLAMP (out->x0 - node->p.pad_amounts[r - 1], 0, w);
  in->x1 = CLAMP (out->x1 - node->p.pad_amounts[r - 1], 0, w);
  return TRUE;
}
