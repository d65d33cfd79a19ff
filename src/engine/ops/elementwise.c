/* elementwise.c: Relu, LeakyRelu, Sigmoid, Tanh, Clip, Dropout/Identity,
 * Add/Sub/Mul/Div (numpy broadcasting, float and int64), Sum */
#define G_LOG_DOMAIN "elementwise"

#include "ops-common.h"
#include "lens-vec4.h"

#include <math.h>
#include <string.h>

static gboolean
same_as_input (LensNode          *node,
               const LensOpInput *in,
               LensOpOutput      *out,
               gboolean           float_only,
               GError           **error)
{
  if (float_only && in[0].dtype != LENS_DTYPE_FLOAT32)
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_TYPE, node, "input must be float32");
      return FALSE;
    }
  out[0].shape = in[0].shape;
  out[0].dtype = in[0].dtype;
  node->flops = lens_shape_numel (&in[0].shape);
  return TRUE;
}

gboolean
lens_unary_setup (LensNode          *node,
                  const LensAttrs   *attrs,
                  const LensOpInput *in,
                  LensOpOutput      *out,
                  GError           **error)
{
  node->p.alpha = lens_attrs_get_float (attrs, "alpha", 0.01f);
  return same_as_input (node, in, out, TRUE, error);
}

/* y = x > 0 ? x : +0, so NaN and -0 both give +0 (the compare is false
 * for them) -- the same as the scalar form, bit for bit.  x == y is fine. */
void
lens_relu_floats (const float *x,
                  float       *y,
                  gsize        n)
{
  const LensV4f zero = { 0 };
  gsize i = 0;

  for (; i + V4 <= n; i += V4)
    {
      LensV4f v = v4_load (x + i);
      v4_store (y + i, (LensV4f) ((LensV4i) v & (v > zero)));
    }
  for (; i < n; i++)
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* y = x >= 0 ? x : alpha * x, as the scalar form (NaN takes alpha * x) */
static void
leaky_relu_forward (float        alpha,
                    const float *x,
                    float       *y,
                    gsize        n)
{
  const LensV4f zero = { 0 };
  const LensV4f va = zero + alpha;
  gsize i = 0;

  for (; i + V4 <= n; i += V4)
    {
      LensV4f v = v4_load (x + i);
      v4_store (y + i, v4_select (v >= zero, v, va * v));
    }
  for (; i < n; i++)
    y[i] = x[i] >= 0.0f ? x[i] : alpha * x[i];
}

/* x [...] -> y [...] */
void
lens_unary_forward (const LensNode    *node,
                    const LensTensor **in,
                    LensTensor       **out,
                    const LensExec    *exec)
{
  const float *x = in[0]->data;
  float *y = out[0]->data;
  gsize n = lens_tensor_numel (in[0]);

  switch (node->op)
    {
    case LENS_OP_RELU:
      lens_relu_floats (x, y, n);
      break;
    case LENS_OP_LEAKYRELU:
      leaky_relu_forward (node->p.alpha, x, y, n);
      break;
    case LENS_OP_SIGMOID:
      for (gsize i = 0; i < n; i++)
        y[i] = 1.0f / (1.0f + expf (-x[i]));
      break;
    case LENS_OP_TANH:
      for (gsize i = 0; i < n; i++)
        y[i] = tanhf (x[i]);
      break;
    default:
      g_assert_not_reached ();
    }
}

gboolean
lens_clip_setup (LensNode          *node,
                 const LensAttrs   *attrs,
                 const LensOpInput *in,
                 LensOpOutput      *out,
                 GError           **error)
{
  node->p.clip_min = lens_attrs_get_float (attrs, "min", -INFINITY);
  node->p.clip_max = lens_attrs_get_float (attrs, "max", INFINITY);
  for (int i = 1; i < node->n_inputs && i < 3; i++)
    {
      const LensTensor *t = in[i].constant;
      if (!in[i].present)
        continue;
      if (t == NULL || t->dtype != LENS_DTYPE_FLOAT32 || lens_tensor_numel (t) != 1)
        {
          lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                             "the %s bound must be a constant float scalar",
                             i == 1 ? "min" : "max");
          return FALSE;
        }
      if (i == 1)
        node->p.clip_min = ((const float *) t->data)[0];
      else
        node->p.clip_max = ((const float *) t->data)[0];
    }
  return same_as_input (node, in, out, TRUE, error);
}

void
lens_clip_forward (const LensNode    *node,
                   const LensTensor **in,
                   LensTensor       **out,
                   const LensExec    *exec)
{
  const float *x = in[0]->data;
  float *y = out[0]->data;
  gsize n = lens_tensor_numel (in[0]);

  for (gsize i = 0; i < n; i++)
    y[i] = CLAMP (x[i], node->p.clip_min, node->p.clip_max);
}

gboolean
lens_passthrough_setup (LensNode          *node,
                        const LensAttrs   *attrs,
                        const LensOpInput *in,
                        LensOpOutput      *out,
                        GError           **error)
{
  if (node->op == LENS_OP_DROPOUT && node->n_inputs > 2 && in[2].present)
    {
      const LensTensor *t = in[2].constant;
      /* training_mode arrives as a bool tensor, which the loader refuses;
       * a constant we could read would be int64 */
      if (t == NULL || (t->dtype == LENS_DTYPE_INT64 && ((int64_t *) t->data)[0] != 0))
        {
          lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                             "training mode is not supported (inference only)");
          return FALSE;
        }
    }
  node->flops = 0;
  /* the optional mask output of Dropout is all ones at inference */
  out[1].shape = in[0].shape;
  out[1].dtype = LENS_DTYPE_FLOAT32;
  return same_as_input (node, in, out, FALSE, error);
}

void
lens_passthrough_forward (const LensNode    *node,
                          const LensTensor **in,
                          LensTensor       **out,
                          const LensExec    *exec)
{
  if (out[0]->data != in[0]->data)
    memcpy (out[0]->data, in[0]->data, lens_tensor_nbytes (in[0]));
  if (node->n_outputs > 1)
    {
      float *m = out[1]->data;
      gsize n = lens_tensor_numel (out[1]);
      for (gsize i = 0; i < n; i++)
        m[i] = 1.0f;
    }
}

gboolean
lens_binary_setup (LensNode          *node,
                   const LensAttrs   *attrs,
                   const LensOpInput *in,
                   LensOpOutput      *out,
                   GError           **error)
{
  if (lens_attrs_get_int (attrs, "broadcast", 0) != 0 && node->opset < 7)
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                         "legacy broadcast attribute is not supported");
      return FALSE;
    }
  if (in[0].dtype != in[1].dtype)
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_TYPE, node,
                         "inputs have different element types");
      return FALSE;
    }
  if (!lens_shape_broadcast (&in[0].shape, &in[1].shape, &out[0].shape))
    {
      g_autofree char *a = lens_shape_to_string (&in[0].shape);
      g_autofree char *b = lens_shape_to_string (&in[1].shape);
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node,
                         "shapes %s and %s do not broadcast", a, b);
      return FALSE;
    }
  out[0].dtype = in[0].dtype;
  node->flops = lens_shape_numel (&out[0].shape);
  /* a learned scale or shift stored as a constant operand is a parameter */
  for (int i = 0; i < 2; i++)
    if (in[i].constant != NULL && in[i].dtype == LENS_DTYPE_FLOAT32)
      node->n_params += lens_shape_numel (&in[i].shape);
  return TRUE;
}

/* Element offset into a broadcast input for each output index, walked
 * with per-dimension counters. */
typedef struct
{
  int     rank;
  int64_t dims[LENS_MAX_DIMS];
  int64_t stride[LENS_MAX_DIMS];  /* 0 where the input broadcasts */
} Bcast;

static void
bcast_init (Bcast           *b,
            const LensShape *in,
            const LensShape *out)
{
  int64_t s = 1;

  b->rank = out->ndim;
  for (int i = out->ndim - 1; i >= 0; i--)
    {
      int ii = in->ndim - out->ndim + i;
      int64_t d = ii >= 0 ? in->dims[ii] : 1;

      b->dims[i] = out->dims[i];
      b->stride[i] = d == 1 ? 0 : s;
      s *= d;
    }
}

static inline int64_t
bcast_offset (const Bcast *b,
              gsize        flat)
{
  int64_t off = 0;

  for (int i = b->rank - 1; i >= 0; i--)
    {
      int64_t d = b->dims[i];
      off += (int64_t) (flat % (gsize) d) * b->stride[i];
      flat /= (gsize) d;
    }
  return off;
}

static inline double
apply (LensOpType op,
       double     a,
       double     b)
{
  switch (op)
    {
    case LENS_OP_ADD:
    case LENS_OP_SUM:
      return a + b;
    case LENS_OP_SUB:
      return a - b;
    case LENS_OP_MUL:
      return a * b;
    case LENS_OP_DIV:
      return b != 0.0 ? a / b : (a == 0.0 ? NAN : (a > 0 ? INFINITY : -INFINITY));
    default:
      g_assert_not_reached ();
    }
}

static void
binary_into (LensOpType        op,
             const LensTensor *a,
             const LensTensor *b,
             LensTensor       *y)
{
  gsize n = lens_tensor_numel (y);
  gboolean same = lens_shape_equal (&a->shape, &y->shape) && lens_shape_equal (&b->shape, &y->shape);

  if (y->dtype == LENS_DTYPE_FLOAT32)
    {
      const float *x0 = a->data, *x1 = b->data;
      float *out = y->data;

      if (same && op == LENS_OP_ADD)
        {
          for (gsize i = 0; i < n; i++)
            out[i] = x0[i] + x1[i];
          return;
        }
      if (same && op == LENS_OP_MUL)
        {
          for (gsize i = 0; i < n; i++)
            out[i] = x0[i] * x1[i];
          return;
        }
      {
        Bcast ba, bb;
        bcast_init (&ba, &a->shape, &y->shape);
        bcast_init (&bb, &b->shape, &y->shape);
        for (gsize i = 0; i < n; i++)
          out[i] = (float) apply (op, x0[bcast_offset (&ba, i)], x1[bcast_offset (&bb, i)]);
      }
    }
  else
    {
      const int64_t *x0 = a->data, *x1 = b->data;
      int64_t *out = y->data;
      Bcast ba, bb;

      bcast_init (&ba, &a->shape, &y->shape);
      bcast_init (&bb, &b->shape, &y->shape);
      for (gsize i = 0; i < n; i++)
        {
          int64_t u = x0[bcast_offset (&ba, i)], v = x1[bcast_offset (&bb, i)];
          switch (op)
            {
            case LENS_OP_ADD: out[i] = u + v; break;
            case LENS_OP_SUB: out[i] = u - v; break;
            case LENS_OP_MUL: out[i] = u * v; break;
            default: out[i] = v != 0 ? u / v : 0; break;
            }
        }
    }
}

/* a [...], b [...] -> y [broadcast shape] */
void
lens_binary_forward (const LensNode    *node,
                     const LensTensor **in,
                     LensTensor       **out,
                     const LensExec    *exec)
{
  binary_into (node->op, in[0], in[1], out[0]);
}

gboolean
lens_sum_setup (LensNode          *node,
                const LensAttrs   *attrs,
                const LensOpInput *in,
                LensOpOutput      *out,
                GError           **error)
{
  LensShape s = in[0].shape;

  for (int i = 1; i < node->n_inputs; i++)
    {
      LensShape next;
      if (in[i].dtype != LENS_DTYPE_FLOAT32 || !lens_shape_broadcast (&s, &in[i].shape, &next))
        {
          lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node,
                             "input %d does not broadcast with the others", i);
          return FALSE;
        }
      s = next;
    }
  if (in[0].dtype != LENS_DTYPE_FLOAT32)
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_TYPE, node, "inputs must be float32");
      return FALSE;
    }
  out[0].shape = s;
  out[0].dtype = LENS_DTYPE_FLOAT32;
  node->flops = lens_shape_numel (&s) * (guint64) MAX (1, node->n_inputs - 1);
  for (int i = 0; i < node->n_inputs; i++)
    if (in[i].constant != NULL)
      node->n_params += lens_shape_numel (&in[i].shape);
  return TRUE;
}

/* x0..xk [...] -> y [broadcast shape] */
void
lens_sum_forward (const LensNode    *node,
                  const LensTensor **in,
                  LensTensor       **out,
                  const LensExec    *exec)
{
  float *y = out[0]->data;
  gsize n = lens_tensor_numel (out[0]);

  memset (y, 0, n * sizeof (float));
  for (int k = 0; k < node->n_inputs; k++)
    {
      const float *x = in[k]->data;
      if (lens_shape_equal (&in[k]->shape, &out[0]->shape))
        for (gsize i = 0; i < n; i++)
          y[i] += x[i];
      else
        {
          Bcast b;
          bcast_init (&b, &in[k]->shape, &out[0]->shape);
          for (gsize i = 0; i < n; i++)
            y[i] += x[bcast_offset (&b, i)];
        }
    }
}

/* One element of the ReLU backward pass (see lens_unary_backward). */
static inline float
relu_back_one (LensBackMode mode,
               float        slope,
               float        x,
               float        g)
{
  gboolean sig_pos = g > 0.0f, in_pos = x > 0.0f;
  gboolean pass;

  switch (mode)
    {
    case LENS_BACK_DECONV: pass = sig_pos; break;
    case LENS_BACK_GUIDED: pass = sig_pos && in_pos; break;
    default: pass = in_pos; break;
    }
  return pass ? g : (mode == LENS_BACK_GRADIENT ? slope * g : 0.0f);
}

/* gx += relu_back_one () for each element, four at a time with masks:
 * the value added is the same float as in the scalar form (g, slope * g
 * or +0), so the sums are bit for bit the same. */
static void
relu_backward (LensBackMode mode,
               float        slope,
               const float *x,
               const float *g,
               float       *gx,
               gsize        n)
{
  const LensV4f zero = { 0 };
  const LensV4f vslope = zero + slope;
  gboolean gradient = mode == LENS_BACK_GRADIENT;
  gsize i = 0;

  for (; i + V4 <= n; i += V4)
    {
      LensV4f vg = v4_load (g + i), vx = v4_load (x + i);
      LensV4i sig_pos = vg > zero, in_pos = vx > zero, pass;
      LensV4f other = gradient ? vslope * vg : zero;

      switch (mode)
        {
        case LENS_BACK_DECONV: pass = sig_pos; break;
        case LENS_BACK_GUIDED: pass = sig_pos & in_pos; break;
        default: pass = in_pos; break;
        }
      v4_store (gx + i, v4_load (gx + i) + v4_select (pass, vg, other));
    }
  for (; i < n; i++)
    gx[i] += relu_back_one (mode, slope, x[i], g[i]);
}

/* ReLU is where the three projection modes differ:
 *   deconv:   gx = max(g, 0)            (rectify the signal)
 *   guided:   gx = g if g > 0 and x > 0
 *   gradient: gx = g if x > 0 */
void
lens_unary_backward (const LensNode    *node,
                     const LensTensor **in,
                     const LensTensor **out,
                     const LensTensor  *gout,
                     LensTensor       **gin,
                     const LensBackCtx *ctx)
{
  const float *x = in[0]->data, *y = out[0]->data, *g = gout->data;
  gsize n = lens_tensor_numel (in[0]);
  float *gx;

  if (gin[0] == NULL)
    return;
  gx = gin[0]->data;
  switch (node->op)
    {
    case LENS_OP_RELU:
    case LENS_OP_LEAKYRELU:
      relu_backward (ctx->mode, node->op == LENS_OP_LEAKYRELU ? node->p.alpha : 0.0f,
                     x, g, gx, n);
      break;
    case LENS_OP_SIGMOID:
      for (gsize i = 0; i < n; i++)
        gx[i] += g[i] * y[i] * (1.0f - y[i]);
      break;
    case LENS_OP_TANH:
      for (gsize i = 0; i < n; i++)
        gx[i] += g[i] * (1.0f - y[i] * y[i]);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* Clip is a ReLU with two bounds: the input test becomes min < x < max. */
void
lens_clip_backward (const LensNode    *node,
                    const LensTensor **in,
                    const LensTensor **out,
                    const LensTensor  *gout,
                    LensTensor       **gin,
                    const LensBackCtx *ctx)
{
  const float *x = in[0]->data, *g = gout->data;
  gsize n = lens_tensor_numel (in[0]);
  float *gx;

  if (gin[0] == NULL)
    return;
  gx = gin[0]->data;
  for (gsize i = 0; i < n; i++)
    {
      gboolean inside = x[i] > node->p.clip_min && x[i] < node->p.clip_max;
      gboolean pass;
      switch (ctx->mode)
        {
        case LENS_BACK_DECONV: pass = g[i] > 0.0f; break;
        case LENS_BACK_GUIDED: pass = g[i] > 0.0f && inside; break;
        default: pass = inside; break;
        }
      if (pass)
        gx[i] += g[i];
    }
}

void
lens_passthrough_backward (const LensNode    *node,
                           const LensTensor **in,
                           const LensTensor **out,
                           const LensTensor  *gout,
                           LensTensor       **gin,
                           const LensBackCtx *ctx)
{
  const float *g = gout->data;
  gsize n = lens_tensor_numel (gout);
  float *gx;

  if (gin[0] == NULL)
    return;
  gx = gin[0]->data;
  for (gsize i = 0; i < n; i++)
    gx[i] += g[i];
}

/* Adds the signal of a broadcast output back into an input of a smaller
 * shape (summing over the broadcast dimensions), times factor[i] when a
 * factor tensor is given (Mul) or divided by it (Div). */
static void
reduce_into (const LensTensor *g,
             LensTensor       *gx,
             const LensTensor *factor,
             gboolean          divide,
             float             sign)
{
  gsize n = lens_tensor_numel (g);
  Bcast bx, bf;
  const float *gv = g->data, *fv = factor ? factor->data : NULL;
  float *out = gx->data;

  bcast_init (&bx, &gx->shape, &g->shape);
  if (factor)
    bcast_init (&bf, &factor->shape, &g->shape);
  for (gsize i = 0; i < n; i++)
    {
      float v = gv[i] * sign;
      if (fv)
        {
          float f = fv[bcast_offset (&bf, i)];
          v = divide ? v / f : v * f;
        }
      out[bcast_offset (&bx, i)] += v;
    }
}

void
lens_binary_backward (const LensNode    *node,
                      const LensTensor **in,
                      const LensTensor **out,
                      const LensTensor  *gout,
                      LensTensor       **gin,
                      const LensBackCtx *ctx)
{
  switch (node->op)
    {
    case LENS_OP_ADD:
      for (int i = 0; i < 2; i++)
        if (gin[i])
          reduce_into (gout, gin[i], NULL, FALSE, 1.0f);
      break;
    case LENS_OP_SUB:
      if (gin[0])
        reduce_into (gout, gin[0], NULL, FALSE, 1.0f);
      if (gin[1])
        reduce_into (gout, gin[1], NULL, FALSE, -1.0f);
      break;
    case LENS_OP_MUL:
      if (gin[0])
        reduce_into (gout, gin[0], in[1], FALSE, 1.0f);
      if (gin[1])
        reduce_into (gout, gin[1], in[0], FALSE, 1.0f);
      break;
    case LENS_OP_DIV:
      /* only the numerator carries a signal in the networks we project */
      if (gin[0])
        reduce_into (gout, gin[0], in[1], TRUE, 1.0f);
      break;
    default:
      g_assert_not_reached ();
    }
}

void
lens_sum_backward (const LensNode    *node,
                   const LensTensor **in,
                   const LensTensor **out,
                   const LensTensor  *gout,
                   LensTensor       **gin,
                   const LensBackCtx *ctx)
{
  for (int i = 0; i < node->n_inputs; i++)
    if (gin[i])
      reduce_into (gout, gin[i], NULL, FALSE, 1.0f);
}
