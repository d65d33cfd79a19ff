/* norm.c: LRN, BatchNormalization (inference; trains scale and bias), Softmax */
#define G_LOG_DOMAIN "norm"

#include "ops-common.h"

#include <math.h>

gboolean
lens_lrn_setup (LensNode          *node,
                const LensAttrs   *attrs,
                const LensOpInput *in,
                LensOpOutput      *out,
                GError           **error)
{
  LensOpParams *p = &node->p;

  p->size = (int) lens_attrs_get_int (attrs, "size", 0);
  p->alpha = lens_attrs_get_float (attrs, "alpha", 1e-4f);
  p->beta = lens_attrs_get_float (attrs, "beta", 0.75f);
  p->bias = lens_attrs_get_float (attrs, "bias", 1.0f);
  if (p->size < 1 || p->size > 1024)
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                         "size must be between 1 and 1024 (got %d)", p->size);
      return FALSE;
    }
  if (in[0].shape.ndim < 2 || in[0].dtype != LENS_DTYPE_FLOAT32)
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "input must be float32 [N,C,...]");
      return FALSE;
    }
  out[0].shape = in[0].shape;
  out[0].dtype = LENS_DTYPE_FLOAT32;
  node->flops = lens_shape_numel (&in[0].shape) * (guint64) (p->size + 3);
  return TRUE;
}

/* x [N,C,H,W] -> y [N,C,H,W]: y = x / (bias + alpha/size * sum of x^2 over nearby channels)^beta */
void
lens_lrn_forward (const LensNode    *node,
                  const LensTensor **in,
                  LensTensor       **out,
                  const LensExec    *exec)
{
  const LensOpParams *p = &node->p;
  const float *x = in[0]->data;
  float *y = out[0]->data;
  int64_t n = in[0]->shape.dims[0], c = in[0]->shape.dims[1];
  gsize plane = lens_tensor_numel (in[0]) / (gsize) MAX (n * c, 1);
  int before = (p->size - 1) / 2, after = p->size - 1 - before;
  float scale = p->alpha / (float) p->size;

  for (int64_t b = 0; b < n; b++)
    for (int64_t ch = 0; ch < c; ch++)
      {
        int64_t lo = MAX (0, ch - before), hi = MIN (c - 1, ch + after);
        const float *xc = x + (b * c + ch) * plane;
        float *yc = y + (b * c + ch) * plane;

        for (gsize i = 0; i < plane; i++)
          {
            float sq = 0.0f;
            for (int64_t k = lo; k <= hi; k++)
              {
                float v = x[(b * c + k) * plane + i];
                sq += v * v;
              }
            yc[i] = xc[i] / powf (p->bias + scale * sq, p->beta);
          }
      }
}

gboolean
lens_batchnorm_setup (LensNode          *node,
                      const LensAttrs   *attrs,
                      const LensOpInput *in,
                      LensOpOutput      *out,
                      GError           **error)
{
  int64_t c;

  if (lens_attrs_get_int (attrs, "training_mode", 0) != 0)
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                         "training_mode=1 is not supported (inference only)");
      return FALSE;
    }
  if (lens_attrs_get_int (attrs, "spatial", 1) != 1)
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                         "spatial=0 is not supported");
      return FALSE;
    }
  node->p.epsilon = lens_attrs_get_float (attrs, "epsilon", 1e-5f);
  if (in[0].shape.ndim < 2)
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "input must be [N,C,...]");
      return FALSE;
    }
  c = in[0].shape.dims[1];
  for (int i = 1; i < 5; i++)
    if (in[i].dtype != LENS_DTYPE_FLOAT32 || in[i].shape.ndim != 1 || in[i].shape.dims[0] != c)
      {
        lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node,
                           "input %d ('%s') must be a float vector of %" G_GINT64_FORMAT
                           " values", i, in[i].name, c);
        return FALSE;
      }
  out[0].shape = in[0].shape;
  out[0].dtype = LENS_DTYPE_FLOAT32;
  node->n_params = 4 * (gsize) c;
  node->flops = 2 * lens_shape_numel (&in[0].shape);
  return TRUE;
}

/* x [N,C,...] -> y [N,C,...]: y = scale * (x - mean) / sqrt(var + eps) + bias */
void
lens_batchnorm_forward (const LensNode    *node,
                        const LensTensor **in,
                        LensTensor       **out,
                        const LensExec    *exec)
{
  const float *x = in[0]->data, *scale = in[1]->data, *bias = in[2]->data;
  const float *mean = in[3]->data, *var = in[4]->data;
  float *y = out[0]->data;
  int64_t n = in[0]->shape.dims[0], c = in[0]->shape.dims[1];
  gsize plane = lens_tensor_numel (in[0]) / (gsize) MAX (n * c, 1);

  for (int64_t b = 0; b < n; b++)
    for (int64_t ch = 0; ch < c; ch++)
      {
        float a = scale[ch] / sqrtf (var[ch] + node->p.epsilon);
        float s = bias[ch] - a * mean[ch];
        const float *xc = x + (b * c + ch) * plane;
        float *yc = y + (b * c + ch) * plane;

        for (gsize i = 0; i < plane; i++)
          yc[i] = a * xc[i] + s;
      }
}

gboolean
lens_softmax_setup (LensNode          *node,
                    const LensAttrs   *attrs,
                    const LensOpInput *in,
                    LensOpOutput      *out,
                    GError           **error)
{
  int rank = in[0].shape.ndim;
  gint64 axis = lens_attrs_get_int (attrs, "axis", node->opset >= 13 ? -1 : 1);

  if (in[0].dtype != LENS_DTYPE_FLOAT32 || rank < 1 ||
      !lens_axis_normalize (axis, rank, &node->p.axis))
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node,
                         "axis %" G_GINT64_FORMAT " is out of range for a rank-%d float input",
                         axis, rank);
      return FALSE;
    }
  out[0].shape = in[0].shape;
  out[0].dtype = LENS_DTYPE_FLOAT32;
  node->flops = 3 * lens_shape_numel (&in[0].shape);
  return TRUE;
}

/* Softmax groups: [outer, len, inner] with the softmax over len.  Before
 * opset 13 the input is seen as 2-D [outer, inner] split at axis; from 13
 * on, softmax runs along the one axis. */
static void
softmax_groups (const LensNode  *node,
                const LensShape *s,
                gsize           *outer,
                gsize           *len,
                gsize           *inner)
{
  *outer = *len = *inner = 1;
  for (int i = 0; i < node->p.axis; i++)
    *outer *= (gsize) s->dims[i];
  if (node->opset >= 13)
    {
      *len = (gsize) s->dims[node->p.axis];
      for (int i = node->p.axis + 1; i < s->ndim; i++)
        *inner *= (gsize) s->dims[i];
    }
  else
    for (int i = node->p.axis; i < s->ndim; i++)
      *len *= (gsize) s->dims[i];
}

/* Before opset 13 the input is seen as 2-D [outer, inner] split at axis;
 * from 13 on, softmax runs along the one axis. */
void
lens_softmax_forward (const LensNode    *node,
                      const LensTensor **in,
                      LensTensor       **out,
                      const LensExec    *exec)
{
  const LensShape *s = &in[0]->shape;
  const float *x = in[0]->data;
  float *y = out[0]->data;
  gsize outer = 1, len = 1, inner = 1;

  softmax_groups (node, s, &outer, &len, &inner);

  for (gsize o = 0; o < outer; o++)
    for (gsize k = 0; k < inner; k++)
      {
        const float *src = x + o * len * inner + k;
        float *dst = y + o * len * inner + k;
        float mx = -INFINITY;
        double sum = 0.0;

        for (gsize i = 0; i < len; i++)
          mx = MAX (mx, src[i * inner]);
        for (gsize i = 0; i < len; i++)
          {
            float e = expf (src[i * inner] - mx);
            dst[i * inner] = e;
            sum += e;
          }
        for (gsize i = 0; i < len; i++)
          dst[i * inner] = (float) (dst[i * inner] / sum);
      }
}

/* With lrn_jacobian the true local derivative:
 *   gx_k = g_k D_k^-b - (2 a b / n) x_k sum_{i : k in window(i)} g_i x_i D_i^(-b-1),
 * with D_i = bias + a/n sum_{j in window(i)} x_j^2.  Otherwise the signal
 * passes unchanged (the paper's deconvnet has no normalisation on the way
 * back). */
void
lens_lrn_backward (const LensNode    *node,
                   const LensTensor **in,
                   const LensTensor **out,
                   const LensTensor  *gout,
                   LensTensor       **gin,
                   const LensBackCtx *ctx)
{
  const LensOpParams *p = &node->p;
  const float *x = in[0]->data, *g = gout->data;
  float *gx;
  int64_t n = in[0]->shape.dims[0], c = in[0]->shape.dims[1];
  gsize plane = lens_tensor_numel (in[0]) / (gsize) MAX (n * c, 1);
  int before = (p->size - 1) / 2, after = p->size - 1 - before;
  float scale = p->alpha / (float) p->size;

  if (gin[0] == NULL)
    return;
  gx = gin[0]->data;
  if (!ctx->lrn_jacobian)
    {
      gsize total = lens_tensor_numel (in[0]);
      for (gsize i = 0; i < total; i++)
        gx[i] += g[i];
      return;
    }
  {
    /* per position: D_i, D_i^-b and t_i = g_i x_i D_i^(-b-1) for every
     * channel, so each element needs one pow */
    g_autofree double *dpow = g_new (double, c);
    g_autofree double *t = g_new (double, c);

    for (int64_t b = 0; b < n; b++)
      for (gsize s = 0; s < plane; s++)
        {
          for (int64_t i = 0; i < c; i++)
            {
              int64_t lo = MAX (0, i - before), hi = MIN (c - 1, i + after);
              double sq = 0.0, d;
              for (int64_t j = lo; j <= hi; j++)
                {
                  double v = x[(b * c + j) * plane + s];
                  sq += v * v;
                }
              d = p->bias + scale * sq;
              dpow[i] = pow (d, -p->beta);
              t[i] = g[(b * c + i) * plane + s] * x[(b * c + i) * plane + s] * dpow[i] / d;
            }
          for (int64_t k = 0; k < c; k++)
            {
              double acc = g[(b * c + k) * plane + s] * dpow[k], sum = 0.0;
              /* channels i whose window contains k */
              for (int64_t i = MAX (0, k - after); i <= MIN (c - 1, k + before); i++)
                sum += t[i];
              acc -= 2.0 * scale * p->beta * x[(b * c + k) * plane + s] * sum;
              gx[(b * c + k) * plane + s] += (float) acc;
            }
        }
  }
}

/* The affine map of inference-time batch norm, y = scale * xhat + bias with
 * xhat = (x - mean) / sqrt(var + eps) from the running statistics:
 *   gx += g * scale / sqrt(var + eps);
 *   gscale += sum g * xhat, gbias += sum g (over batch and positions), when
 *   gin[1] / gin[2] are given (trained initializers, or activations).
 * The running mean and variance are treated as constants (frozen). */
void
lens_batchnorm_backward (const LensNode    *node,
                         const LensTensor **in,
                         const LensTensor **out,
                         const LensTensor  *gout,
                         LensTensor       **gin,
                         const LensBackCtx *ctx)
{
  const float *x = in[0]->data, *scale = in[1]->data, *mean = in[3]->data;
  const float *var = in[4]->data, *g = gout->data;
  int64_t n = in[0]->shape.dims[0], c = in[0]->shape.dims[1];
  gsize plane = lens_tensor_numel (in[0]) / (gsize) MAX (n * c, 1);
  float *gx = gin[0] ? gin[0]->data : NULL;
  float *gscale = gin[1] ? gin[1]->data : NULL;
  float *gbias = gin[2] ? gin[2]->data : NULL;

  for (int64_t ch = 0; ch < c; ch++)
    {
      float inv = 1.0f / sqrtf (var[ch] + node->p.epsilon), a = scale[ch] * inv;
      double sg = 0.0, sgx = 0.0;

      for (int64_t b = 0; b < n; b++)
        {
          const float *gc = g + (b * c + ch) * plane;
          const float *xc = x + (b * c + ch) * plane;

          if (gx != NULL)
            {
              float *gxc = gx + (b * c + ch) * plane;
              for (gsize i = 0; i < plane; i++)
                gxc[i] += a * gc[i];
            }
          if (gscale != NULL || gbias != NULL)
            for (gsize i = 0; i < plane; i++)
              {
                sg += gc[i];
                sgx += (double) gc[i] * (xc[i] - mean[ch]);
              }
        }
      if (gscale != NULL)
        gscale[ch] += (float) (sgx * inv);
      if (gbias != NULL)
        gbias[ch] += (float) sg;
    }
}

/* Softmax's Jacobian: gx = y * (g - sum(g * y)) over each softmax group. */
void
lens_softmax_backward (const LensNode    *node,
                       const LensTensor **in,
                       const LensTensor **out,
                       const LensTensor  *gout,
                       LensTensor       **gin,
                       const LensBackCtx *ctx)
{
  const LensShape *s = &in[0]->shape;
  const float *y = out[0]->data, *g = gout->data;
  float *gx;
  gsize outer = 1, len = 1, inner = 1;

  if (gin[0] == NULL)
    return;
  gx = gin[0]->data;
  softmax_groups (node, s, &outer, &len, &inner);
  for (gsize o = 0; o < outer; o++)
    for (gsize k = 0; k < inner; k++)
      {
        gsize base = o * len * inner + k;
        double dot = 0.0;
        for (gsize i = 0; i < len; i++)
          dot += (double) g[base + i * inner] * y[base + i * inner];
        for (gsize i = 0; i < len; i++)
          gx[base + i * inner] += (float) (y[base + i * inner] * (g[base + i * inner] - dot));
      }
}
