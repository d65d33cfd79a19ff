/* conv-lanes.h: convolution with output channels in the vector lanes
 * (AVX-512) */
#pragma once

#include "ops-common.h"

G_BEGIN_DECLS

/* Whether the kernel can run this node (m output channels) on this CPU:
 * a multiple of 16 output channels per group, at most 256 taps, and
 * AVX-512F at run time.  LENS_CONV_LANES=0 in the environment turns it
 * off. */
gboolean lens_conv_lanes_usable   (const LensOpParams *p,
                                   int64_t             m);

/* Workspace floats for input [N,C,H,W]: the padded copy of one image;
 * 0 when the size overflows. */
gsize    lens_conv_lanes_workspace (const LensOpParams *p,
                                    int64_t             c,
                                    int64_t             h,
                                    int64_t             w);

/* The weights w [M,C/g,KH,KW] in the kernel's order (as many floats). */
void     lens_conv_lanes_pack      (const LensOpParams *p,
                                    const float        *wt,
                                    int64_t             m,
                                    int64_t             cg,
                                    float              *dst);

/* x [N,C,H,W] w [M,C/g,KH,KW] b [M] -> y [N,M,OH,OW], and its ReLU into
 * relu_y (may be NULL), on up to `threads` threads (<= 0: all).  The
 * packed weights come from cache, packed on the first call and again
 * after lens_ops_weights_changed ().  FALSE when there is no memory for
 * them (nothing written). */
gboolean lens_conv_lanes_forward   (const LensOpParams *p,
                                    LensPackCache      *cache,
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
                                    float              *workspace,
                                    int                 threads);

G_END_DECLS
