/* conv-direct.h: convolution without im2col (AVX-512) */
#pragma once

#include "ops-common.h"

G_BEGIN_DECLS

/* Whether the direct kernel can run this node on this CPU: strides of 1
 * to 4 (a stride above 1 without dilation and with the kernel at least
 * as large as it) and AVX-512F at run time.  LENS_CONV_DIRECT=0 in the
 * environment turns it off (to compare with im2col + sgemm). */
gboolean lens_conv_direct_usable    (const LensOpParams *p);

/* Workspace floats the direct kernel needs for input [N,C,H,W] and M
 * output channels (the padded copy of one image, and for a stride above
 * 1 the weights regrouped by phase); 0 when the size overflows. */
gsize    lens_conv_direct_workspace (const LensOpParams *p,
                                     int64_t             c,
                                     int64_t             h,
                                     int64_t             w,
                                     int64_t             m);

/* x [N,C,H,W] w [M,C/g,KH,KW] b [M] -> y [N,M,OH,OW] for a node the
 * kernel can run (lens_conv_direct_usable), with a workspace of
 * lens_conv_direct_workspace () floats; relu_y (may be NULL) gets
 * lens_relu_floats () of y as well.  Splits the work over
 * lens_get_threads () threads. */
void     lens_conv_direct_forward   (const LensOpParams *p,
                                     const float        *x,
                                     const float        *wt,
                                     const float        *bias,
                                     float              *y,
                                     float              *relu_y,
                                     int64_t             n,
                                     int64_t             c,
                                     int64_t             h,
                                     int64_t             w,
                                     int64_t             m,
                                     int64_t             oh,
                                     int64_t             ow,
                                     float              *workspace);

G_END_DECLS
