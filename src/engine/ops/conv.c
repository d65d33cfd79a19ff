/* conv.c: Conv (1-D and 2-D, groups, dilations, pads / auto_pad) */
#define G_LOG_DOMAIN "conv"

#include "ops-common.h"
#include "lens-blas.h"
#include "conv-direct.h"

#include <string.h>

gboolean
lens_window_setup (LensNode        *node,
                   const LensAttrs *attrs,
                   const LensShape *x,
                   const int       *kernel_from_weights,
                   gboolean         allow_ceil,
                   int             *out_h,
                   int             *out_w,
                   GError         **error)
{
  LensOpParams *p = &node->p;
  int sp = x->ndim - 2;
  gint64 v[2 * LENS_MAX_SPATIAL];
  int n;
  const char *auto_pad = lens_attrs_get_string (attrs, "auto_pad", "NOTSET");
  int64_t in[2];

  if (sp < 1 || sp > 2)
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                         "input has %d dimensions; only 1-D and 2-D (3-D or 4-D tensors) "
                         "are supported", x->ndim);
      return FALSE;
    }
  p->spatial = sp;
  /* 1-D runs as 2-D with a height of 1: index 0 is H, 1 is W */
  in[0] = sp == 2 ? x->dims[2] : 1;
  in[1] = sp == 2 ? x->dims[3] : x->dims[2];
  for (int i = 0; i < 2; i++)
    {
      p->kernel[i] = 1;
      p->strides[i] = 1;
      p->dilations[i] = 1;
      p->pads[i] = p->pads[i + 2] = 0;
    }

#define SPATIAL_ATTR(attr_name, field, count)                                        \
  n = lens_attrs_get_ints (attrs, attr_name, v, 2 * LENS_MAX_SPATIAL);               \
  if (n != 0 && n != (count))                                                        \
    {                                                                                \
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,               \
                         "attribute %s has %d values, expected %d", attr_name, n,    \
                         (count));                                                   \
      return FALSE;                                                                  \
    }

  SPATIAL_ATTR ("kernel_shape", kernel, sp);
  if (n == sp)
    for (int i = 0; i < sp; i++)
      p->kernel[2 - sp + i] = (int) CLAMP (v[i], 0, G_MAXINT);
  else if (kernel_from_weights != NULL)
    for (int i = 0; i < sp; i++)
      p->kernel[2 - sp + i] = kernel_from_weights[i];
  else
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                         "attribute kernel_shape is missing");
      return FALSE;
    }
  SPATIAL_ATTR ("strides", strides, sp);
  for (int i = 0; i < n; i++)
    p->strides[2 - sp + i] = (int) CLAMP (v[i], 0, G_MAXINT);
  SPATIAL_ATTR ("dilations", dilations, sp);
  for (int i = 0; i < n; i++)
    p->dilations[2 - sp + i] = (int) CLAMP (v[i], 0, G_MAXINT);
  SPATIAL_ATTR ("pads", pads, 2 * sp);
  for (int i = 0; i < n / 2; i++)
    {
      p->pads[2 - sp + i] = (int) CLAMP (v[i], -1, G_MAXINT);
      p->pads[2 + 2 - sp + i] = (int) CLAMP (v[i + sp], -1, G_MAXINT);
    }
#undef SPATIAL_ATTR

  for (int i = 0; i < 2; i++)
    if (p->kernel[i] < 1 || p->kernel[i] > 4096 || p->strides[i] < 1 || p->strides[i] > 4096 ||
        p->dilations[i] < 1 || p->dilations[i] > 4096 || p->pads[i] < 0 || p->pads[i + 2] < 0 ||
        p->pads[i] > 65536 || p->pads[i + 2] > 65536)
      {
        lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                           "kernel, stride, dilation or pad value out of range");
        return FALSE;
      }

  p->ceil_mode = allow_ceil ? (int) lens_attrs_get_int (attrs, "ceil_mode", 0) : 0;

  if (strcmp (auto_pad, "SAME_UPPER") == 0 || strcmp (auto_pad, "SAME_LOWER") == 0)
    {
      for (int i = 0; i < 2; i++)
        {
          int64_t out = (in[i] + p->strides[i] - 1) / p->strides[i];
          int64_t ext = (int64_t) (p->kernel[i] - 1) * p->dilations[i] + 1;
          int64_t total = MAX (0, (out - 1) * p->strides[i] + ext - in[i]);
          int64_t small = total / 2;

          p->pads[i] = (int) (auto_pad[5] == 'U' ? small : total - small);
          p->pads[i + 2] = (int) (total - p->pads[i]);
        }
    }
  else if (strcmp (auto_pad, "VALID") == 0)
    {
      for (int i = 0; i < 4; i++)
        p->pads[i] = 0;
    }
  else if (strcmp (auto_pad, "NOTSET") != 0)
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                         "auto_pad value '%s' is not supported", auto_pad);
      return FALSE;
    }

  for (int i = 0; i < 2; i++)
    {
      int64_t ext = (int64_t) (p->kernel[i] - 1) * p->dilations[i] + 1;
      int64_t span = in[i] + p->pads[i] + p->pads[i + 2] - ext;
      int64_t out;

      if (span < 0)
        {
          lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node,
                             "the window (%" G_GINT64_FORMAT ") is larger than the padded input "
                             "(%" G_GINT64_FORMAT ")", ext, in[i] + p->pads[i] + p->pads[i + 2]);
          return FALSE;
        }
      if (p->ceil_mode)
        {
          out = (span + p->strides[i] - 1) / p->strides[i] + 1;
          /* the last window must start inside the input or the begin padding */
          if ((out - 1) * p->strides[i] >= in[i] + p->pads[i])
            out--;
        }
      else
        out = span / p->strides[i] + 1;
      if (i == 0)
        *out_h = (int) out;
      else
        *out_w = (int) out;
    }
  return TRUE;
}

gboolean
lens_conv_setup (LensNode          *node,
                 const LensAttrs   *attrs,
                 const LensOpInput *in,
                 LensOpOutput      *out,
                 GError           **error)
{
  const LensShape *x = &in[0].shape, *w = &in[1].shape;
  int kernel[2], oh, ow, group;
  int64_t n, c, h, wd, m, cg, k;

  if (in[0].dtype != LENS_DTYPE_FLOAT32 || in[1].dtype != LENS_DTYPE_FLOAT32)
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_TYPE, node, "inputs must be float32");
      return FALSE;
    }
  if (x->ndim != w->ndim || x->ndim < 3 || x->ndim > 4)
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node,
                         "input has %d dimensions and weights %d; expected 3-D or 4-D both",
                         x->ndim, w->ndim);
      return FALSE;
    }
  for (int i = 2; i < w->ndim; i++)
    kernel[i - 2] = (int) CLAMP (w->dims[i], 0, G_MAXINT);
  if (!lens_window_setup (node, attrs, x, kernel, FALSE, &oh, &ow, error))
    return FALSE;
  /* the weights' spatial size is authoritative */
  if (node->p.kernel[0] != (x->ndim == 4 ? kernel[0] : 1) ||
      node->p.kernel[1] != kernel[x->ndim - 3])
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node,
                         "kernel_shape does not match the weights' shape");
      return FALSE;
    }
  group = (int) lens_attrs_get_int (attrs, "group", 1);
  lens_nchw (x, &n, &c, &h, &wd);
  m = w->dims[0];
  cg = w->dims[1];
  if (group < 1 || c % group != 0 || m % group != 0 || cg * group != c)
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node,
                         "input has %" G_GINT64_FORMAT " channels, weights expect %"
                         G_GINT64_FORMAT " per group with group=%d", c, cg, group);
      return FALSE;
    }
  if (in[2].present && (in[2].shape.ndim != 1 || in[2].shape.dims[0] != m))
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "bias must have %" G_GINT64_FORMAT
                         " values", m);
      return FALSE;
    }
  node->p.group = group;

  out[0].dtype = LENS_DTYPE_FLOAT32;
  out[0].shape = *x;
  out[0].shape.dims[1] = m;
  if (x->ndim == 4)
    {
      out[0].shape.dims[2] = oh;
      out[0].shape.dims[3] = ow;
    }
  else
    out[0].shape.dims[2] = ow;

  k = cg * node->p.kernel[0] * node->p.kernel[1];
  {
    gboolean direct = node->p.kernel[0] == 1 && node->p.kernel[1] == 1 &&
                      node->p.strides[0] == 1 && node->p.strides[1] == 1 &&
                      node->p.pads[0] == 0 && node->p.pads[1] == 0 &&
                      node->p.pads[2] == 0 && node->p.pads[3] == 0;
    gsize ws;
    if (!lens_size_mul ((gsize) k, (gsize) oh * (gsize) ow, &ws))
      {
        lens_op_set_error (error, LENS_NET_ERROR_TOO_LARGE, node, "im2col buffer too large");
        return FALSE;
      }
    if (!direct && lens_conv_direct_usable (&node->p))
      {
        /* the direct kernel's padded copy of the input, unless absurd pads
         * make it much larger than the columns */
        gsize dws = lens_conv_direct_workspace (&node->p, c, h, wd, m);
        if (dws != 0 && dws / 4 <= ws + 65536)
          ws = MAX (ws, dws);
      }
    node->workspace_floats = direct ? 0 : ws;
  }
  node->n_params = lens_shape_numel (w) + (in[2].present ? (gsize) m : 0);
  node->flops = 2ull * (guint64) m * (guint64) k * (guint64) oh * (guint64) ow;
  return TRUE;
}

/* Unfolds output rows [y0, y1) of one group of one image into columns:
 * x [Cg,H,W] -> cols [Cg*KH*KW, (y1-y0)*OW] */
static void
im2col (const float        *x,
        int64_t             cg,
        int64_t             h,
        int64_t             w,
        int64_t             y0,
        int64_t             y1,
        int64_t             ow,
        const LensOpParams *p,
        float              *cols)
{
  int64_t oh = y1 - y0;

  for (int64_t c = 0; c < cg; c++)
    for (int ki = 0; ki < p->kernel[0]; ki++)
      for (int kj = 0; kj < p->kernel[1]; kj++)
        {
          float *row = cols + ((c * p->kernel[0] + ki) * p->kernel[1] + kj) * oh * ow;
          const float *plane = x + c * h * w;

          for (int64_t y = 0; y < oh; y++)
            {
              int64_t iy = (y + y0) * p->strides[0] - p->pads[0] + (int64_t) ki * p->dilations[0];
              float *dst = row + y * ow;

              if (iy < 0 || iy >= h)
                {
                  memset (dst, 0, sizeof (float) * ow);
                  continue;
                }
              if (p->strides[1] == 1)
                {
                  /* contiguous run between the left and right padding */
                  int64_t off = (int64_t) kj * p->dilations[1] - p->pads[1];
                  int64_t lo = CLAMP (-off, 0, ow), hi = CLAMP (w - off, 0, ow);
                  if (lo > 0)
                    memset (dst, 0, sizeof (float) * lo);
                  if (hi > lo)
                    memcpy (dst + lo, plane + iy * w + lo + off, sizeof (float) * (hi - lo));
                  if (hi < ow)
                    memset (dst + MAX (hi, lo), 0, sizeof (float) * (ow - MAX (hi, lo)));
                  continue;
                }
              for (int64_t xo = 0; xo < ow; xo++)
                {
                  int64_t ix = xo * p->strides[1] - p->pads[1] + (int64_t) kj * p->dilations[1];
                  dst[xo] = ix >= 0 && ix < w ? plane[iy * w + ix] : 0.0f;
                }
            }
        }
}

/* x [N,C,H,W] w [M,C/g,KH,KW] b [M] -> y [N,M,OH,OW] */
void
lens_conv_forward (const LensNode    *node,
                   const LensTensor **in,
                   LensTensor       **out,
                   const LensExec    *exec)
{
  const LensOpParams *p = &node->p;
  const float *x = in[0]->data, *wt = in[1]->data;
  const float *bias = node->n_inputs > 2 && in[2] != NULL ? in[2]->data : NULL;
  float *y = out[0]->data;
  int64_t n, c, h, w, m, oc, oh, ow;
  int64_t g = p->group, cg, mg, k, plane;

  lens_nchw (&in[0]->shape, &n, &c, &h, &w);
  lens_nchw (&out[0]->shape, &n, &m, &oh, &ow);
  cg = c / g;
  mg = m / g;
  k = cg * p->kernel[0] * p->kernel[1];
  plane = oh * ow;
  (void) oc;

  if (exec->workspace != NULL && node->workspace_floats > 0 && lens_conv_direct_usable (p))
    {
      gsize dws = lens_conv_direct_workspace (p, c, h, w, m);
      if (dws != 0 && dws <= node->workspace_floats)
        {
          lens_conv_direct_forward (p, x, wt, bias, y, exec->relu_out, n, c, h, w, m, oh, ow,
                                    exec->workspace);
          return;
        }
    }
  for (int64_t b = 0; b < n; b++)
    for (int64_t gi = 0; gi < g; gi++)
      {
        const float *xg = x + (b * c + gi * cg) * h * w;
        const float *wg = wt + gi * mg * k;
        float *yg = y + (b * m + gi * mg) * plane;
        const float *cols = xg;

        if (exec->workspace != NULL && node->workspace_floats > 0)
          {
            /* Unfold a band of output rows at a time, so the columns stay
             * in cache between im2col and the GEMM (a whole VGG layer's
             * columns are over 100 MB); bands keep at least 1024 columns
             * so the GEMM stays efficient. */
            int64_t band = MAX (1, MIN (oh, ((int64_t) 1 << 22) / MAX (1, k * ow)));
            band = MAX (band, MIN (oh, (1024 + ow - 1) / ow));
            for (int64_t y0 = 0; y0 < oh; y0 += band)
              {
                int64_t y1 = MIN (oh, y0 + band);
                im2col (xg, cg, h, w, y0, y1, ow, p, exec->workspace);
                lens_blas_sgemm (FALSE, FALSE, (int) mg, (int) ((y1 - y0) * ow), (int) k, 1.0f,
                                 wg, (int) k, exec->workspace, (int) ((y1 - y0) * ow), 0.0f,
                                 yg + y0 * ow, (int) plane);
              }
          }
        else
          lens_blas_sgemm (FALSE, FALSE, (int) mg, (int) plane, (int) k, 1.0f, wg, (int) k,
                           cols, (int) plane, 0.0f, yg, (int) plane);
        if (bias != NULL)
          for (int64_t j = 0; j < mg; j++)
            {
              float bv = bias[gi * mg + j];
              float *row = yg + j * plane;
              for (int64_t i = 0; i < plane; i++)
                row[i] += bv;
            }
      }
  if (exec->relu_out != NULL)
    lens_relu_floats (y, exec->relu_out, (gsize) (n * m * plane));
}

/* Naive direct convolution, for tests against the fast path. */
void
lens_conv_reference (const LensNode    *node,
                     const LensTensor **in,
                     LensTensor       **out,
                     const LensExec    *exec)
{
  const LensOpParams *p = &node->p;
  const float *x = in[0]->data, *wt = in[1]->data;
  const float *bias = node->n_inputs > 2 && in[2] != NULL ? in[2]->data : NULL;
  float *y = out[0]->data;
  int64_t n, c, h, w, m, oh, ow, cg, mg;

  lens_nchw (&in[0]->shape, &n, &c, &h, &w);
  lens_nchw (&out[0]->shape, &n, &m, &oh, &ow);
  cg = c / p->group;
  mg = m / p->group;
  for (int64_t b = 0; b < n; b++)
    for (int64_t o = 0; o < m; o++)
      for (int64_t yy = 0; yy < oh; yy++)
        for (int64_t xx = 0; xx < ow; xx++)
          {
            double acc = bias ? bias[o] : 0.0;
            int64_t gi = o / mg;

            for (int64_t ci = 0; ci < cg; ci++)
              for (int ki = 0; ki < p->kernel[0]; ki++)
                for (int kj = 0; kj < p->kernel[1]; kj++)
                  {
                    int64_t iy = yy * p->strides[0] - p->pads[0] + (int64_t) ki * p->dilations[0];
                    int64_t ix = xx * p->strides[1] - p->pads[1] + (int64_t) kj * p->dilations[1];
                    if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                      continue;
                    acc += (double) x[((b * c + gi * cg + ci) * h + iy) * w + ix] *
                           wt[((o * cg + ci) * p->kernel[0] + ki) * p->kernel[1] + kj];
                  }
            y[((b * m + o) * oh + yy) * ow + xx] = (float) acc;
          }
}

/* Adds columns back into the image they were unfolded from (the transpose
 * of im2col): cols [Cg*KH*KW, OH*OW] -> x [Cg,H,W] (accumulating). */
static void
col2im_add (const float        *cols,
            int64_t             cg,
            int64_t             h,
            int64_t             w,
            int64_t             oh,
            int64_t             ow,
            const LensOpParams *p,
            float              *x)
{
  for (int64_t c = 0; c < cg; c++)
    for (int ki = 0; ki < p->kernel[0]; ki++)
      for (int kj = 0; kj < p->kernel[1]; kj++)
        {
          const float *row = cols + ((c * p->kernel[0] + ki) * p->kernel[1] + kj) * oh * ow;
          float *plane = x + c * h * w;

          for (int64_t y = 0; y < oh; y++)
            {
              int64_t iy = y * p->strides[0] - p->pads[0] + (int64_t) ki * p->dilations[0];
              if (iy < 0 || iy >= h)
                continue;
              for (int64_t xo = 0; xo < ow; xo++)
                {
                  int64_t ix = xo * p->strides[1] - p->pads[1] + (int64_t) kj * p->dilations[1];
                  if (ix >= 0 && ix < w)
                    plane[iy * w + ix] += row[y * ow + xo];
                }
            }
        }
}

/* Parameter gradients (training): for each image and group
 *   gW_g [Mg, Cg*KH*KW] += gy_g [Mg, OH*OW] x im2col(x_g)^T,
 *   gb [M] += sum of gy over the plane. */
static void
conv_param_grads (const LensNode    *node,
                  const LensTensor **in,
                  const LensTensor  *gout,
                  LensTensor        *gw,
                  LensTensor        *gb,
                  const LensBackCtx *ctx)
{
  const LensOpParams *p = &node->p;
  const float *x = in[0]->data, *gy = gout->data;
  int64_t n, c, h, w, m, oh, ow, cg, mg, k, plane, g = p->group;

  lens_nchw (&in[0]->shape, &n, &c, &h, &w);
  lens_nchw (&gout->shape, &n, &m, &oh, &ow);
  cg = c / g;
  mg = m / g;
  k = cg * p->kernel[0] * p->kernel[1];
  plane = oh * ow;
  for (int64_t b = 0; b < n; b++)
    for (int64_t gi = 0; gi < g; gi++)
      {
        const float *gyg = gy + (b * m + gi * mg) * plane;

        if (gw != NULL)
          {
            const float *xg = x + (b * c + gi * cg) * h * w;
            const float *cols = xg;

            if (node->workspace_floats > 0)
              {
                im2col (xg, cg, h, w, 0, oh, ow, p, ctx->workspace);
                cols = ctx->workspace;
              }
            lens_blas_sgemm (FALSE, TRUE, (int) mg, (int) k, (int) plane, 1.0f, gyg,
                             (int) plane, cols, (int) plane, 1.0f,
                             (float *) gw->data + gi * mg * k, (int) k);
          }
        if (gb != NULL)
          for (int64_t j = 0; j < mg; j++)
            {
              const float *row = gyg + j * plane;
              double acc = 0.0;

              for (int64_t i = 0; i < plane; i++)
                acc += row[i];
              ((float *) gb->data)[gi * mg + j] += (float) acc;
            }
      }
}

/* gy [N,M,OH,OW] -> gx [N,C,H,W] += transposed convolution with the same
 * weights (no bias): the deconvnet's filtering step.  When gin[1] / gin[2]
 * are given (training), the weight and bias gradients are added too. */
void
lens_conv_backward (const LensNode    *node,
                    const LensTensor **in,
                    const LensTensor **out,
                    const LensTensor  *gout,
                    LensTensor       **gin,
                    const LensBackCtx *ctx)
{
  const LensOpParams *p = &node->p;
  const float *wt = in[1]->data, *gy = gout->data;
  float *gx;
  int64_t n, c, h, w, m, oh, ow, cg, mg, k, plane, g = p->group;

  if (gin[1] != NULL || (node->n_inputs > 2 && in[2] != NULL && gin[2] != NULL))
    conv_param_grads (node, in, gout, gin[1],
                      node->n_inputs > 2 && in[2] != NULL ? gin[2] : NULL, ctx);
  if (gin[0] == NULL)
    return;
  gx = gin[0]->data;
  lens_nchw (&in[0]->shape, &n, &c, &h, &w);
  lens_nchw (&gout->shape, &n, &m, &oh, &ow);
  cg = c / g;
  mg = m / g;
  k = cg * p->kernel[0] * p->kernel[1];
  plane = oh * ow;
  for (int64_t b = 0; b < n; b++)
    for (int64_t gi = 0; gi < g; gi++)
      {
        const float *wg = wt + gi * mg * k;
        const float *gyg = gy + (b * m + gi * mg) * plane;
        float *gxg = gx + (b * c + gi * cg) * h * w;

        if (node->workspace_floats == 0)
          {
            /* 1x1, stride 1, no padding: gx_g += W_g^T gy_g directly */
            lens_blas_sgemm (TRUE, FALSE, (int) k, (int) plane, (int) mg, 1.0f, wg, (int) k,
                             gyg, (int) plane, 1.0f, gxg, (int) plane);
            continue;
          }
        lens_blas_sgemm (TRUE, FALSE, (int) k, (int) plane, (int) mg, 1.0f, wg, (int) k,
                         gyg, (int) plane, 0.0f, ctx->workspace, (int) plane);
        col2im_add (ctx->workspace, cg, h, w, oh, ow, p, gxg);
      }
}

/* Output rows/columns [o0, o1) read input [o0*s - pad, (o1-1)*s - pad + (k-1)*d + 1). */
gboolean
lens_window_region (const LensNode   *node,
                    const LensShape  *in_shape,
                    const LensRegion *out,
                    LensRegion       *in)
{
  const LensOpParams *p = &node->p;
  int64_t n, c, h, w;

  lens_nchw (in_shape, &n, &c, &h, &w);
  in->y0 = out->y0 * p->strides[0] - p->pads[0];
  in->y1 = (out->y1 - 1) * p->strides[0] - p->pads[0] + (int64_t) (p->kernel[0] - 1) * p->dilations[0] + 1;
  in->x0 = out->x0 * p->strides[1] - p->pads[1];
  in->x1 = (out->x1 - 1) * p->strides[1] - p->pads[1] + (int64_t) (p->kernel[1] - 1) * p->dilations[1] + 1;
  in->y0 = CLAMP (in->y0, 0, h);
  in->y1 = CLAMP (in->y1, 0, h);
  in->x0 = CLAMP (in->x0, 0, w);
  in->x1 = CLAMP (in->x1, 0, w);
  return TRUE;
}

gboolean
lens_global_region (const LensNode   *node,
                    const LensShape  *in_shape,
                    const LensRegion *out,
                    LensRegion       *in)
{
  return FALSE;
}
