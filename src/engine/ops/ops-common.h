/* ops-common.h: helpers shared by the op family files */
#pragma once

#include "lens-ops.h"
#include "lens-net.h"

G_BEGIN_DECLS

/* Reads kernel_shape (or takes kernel from the weights), strides, pads,
 * dilations and auto_pad for a 1-D or 2-D window op on input x, and
 * computes the output spatial size.  ceil_mode rounds the output size up
 * (pooling), without letting a window start entirely in the end padding. */
gboolean lens_window_setup (LensNode          *node,
                            const LensAttrs   *attrs,
                            const LensShape   *x,
                            const int         *kernel_from_weights,
                            gboolean           allow_ceil,
                            int               *out_h,
                            int               *out_w,
                            GError           **error);

/* View an N-D activation as [N, C, H, W] with H = 1 for 1-D ops. */
static inline void
lens_nchw (const LensShape *s, int64_t *n, int64_t *c, int64_t *h, int64_t *w)
{
  *n = s->dims[0];
  *c = s->ndim > 1 ? s->dims[1] : 1;
  *h = s->ndim > 3 ? s->dims[2] : 1;
  *w = s->ndim > 3 ? s->dims[3] : (s->ndim > 2 ? s->dims[2] : 1);
}

G_END_DECLS
