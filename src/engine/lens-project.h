/* lens-project.h: projections back to pixel space (Zeiler & Fergus's
 * deconvnet, guided backprop, gradient, Grad-CAM) over a trace */
#pragma once

#include "lens-net.h"

G_BEGIN_DECLS

#define LENS_PROJECT_ERROR (lens_project_error_quark ())

typedef enum
{
  LENS_PROJECT_ERROR_VALUE,        /* unknown layer / value */
  LENS_PROJECT_ERROR_CHANNEL,      /* channel or position out of range */
  LENS_PROJECT_ERROR_UNSUPPORTED,  /* an op on the path has no backward signal */
  LENS_PROJECT_ERROR_NO_INPUT,     /* the net has no runtime input */
} LensProjectError;

typedef enum
{
  LENS_PROJECT_DECONV,   /* the paper's deconvnet */
  LENS_PROJECT_GUIDED,   /* guided backprop */
  LENS_PROJECT_GRADIENT, /* gradient (saliency) */
} LensProjectMode;

typedef enum
{
  LENS_START_MAP,    /* the whole feature map */
  LENS_START_MAX,    /* only its strongest activation */
  LENS_START_POINT,  /* the activation at (x, y) */
} LensStartKind;

typedef enum
{
  LENS_LRN_DEFAULT,  /* skip in deconv mode, Jacobian in the gradient modes */
  LENS_LRN_SKIP,
  LENS_LRN_JACOBIAN,
} LensLrnMode;

typedef struct
{
  LensProjectMode mode;
  LensStartKind   start;
  int             x, y;     /* LENS_START_POINT, in the feature map */
  LensLrnMode     lrn;
} LensProjectOptions;

/* A box in input pixels: rows [y0, y1), columns [x0, x1). */
typedef struct
{
  int x0, y0, x1, y1;
} LensBox;

GQuark      lens_project_error_quark     (void);

/* Projects channel `channel` of value `value` (a layer's output, see
 * lens_net_layer_get_output) of batch item 0 back to the input.  Returns a
 * tensor shaped like the input with batch 1.  rf (optional) receives the
 * receptive field of the start position (the whole map for LENS_START_MAP).
 * start_pos (optional, [2] = x, y) receives the start position used. */
LensTensor *lens_project_channel         (LensTrace                *trace,
                                          int                       value,
                                          int                       channel,
                                          const LensProjectOptions *options,
                                          LensBox                  *rf,
                                          int                      *start_pos,
                                          GError                  **error);
/* The channels of value ranked by their strongest activation (batch item
 * 0), best first, ties to the lower index: writes the first n into
 * channels and returns how many were written (at most the number of
 * channels), or -1 with an error when value has no channels. */
int         lens_project_rank_channels   (LensTrace                *trace,
                                          int                       value,
                                          int                       n,
                                          int                      *channels,
                                          GError                  **error);
/* Projects channels[0..n) of value in one call (the "one image, many
 * features" grid): returns [n, ...] where item i equals what
 * lens_project_channel gives for channels[i] with the same options.  rf
 * and start_pos (optional) receive n boxes and n (x, y) pairs.  The
 * projections run side by side on up to lens_get_threads () threads (with
 * BLAS single-threaded meanwhile); the trace is only read. */
LensTensor *lens_project_channels        (LensTrace                *trace,
                                          int                       value,
                                          const int                *channels,
                                          int                       n,
                                          const LensProjectOptions *options,
                                          LensBox                  *rf,
                                          int                      *start_pos,
                                          GError                  **error);
/* Projects from any start signal shaped like value (batch item 0 used). */
LensTensor *lens_project_signal          (LensTrace                *trace,
                                          int                       value,
                                          const LensTensor         *signal,
                                          const LensProjectOptions *options,
                                          GError                  **error);
/* Projects the class logit `klass` (the input of a final Softmax, or the
 * output itself). */
LensTensor *lens_project_class           (LensTrace                *trace,
                                          int                       klass,
                                          const LensProjectOptions *options,
                                          GError                  **error);
/* Grad-CAM at value (a conv output [1,C,h,w]) for class `klass`: a
 * [1,1,H,W] map at the input's resolution (bilinear upsampling), >= 0. */
LensTensor *lens_gradcam                 (LensTrace *trace,
                                          int        value,
                                          int        klass,
                                          GError   **error);

/* The value holding the class scores before any final Softmax. */
int         lens_net_find_logits         (const LensNet *net);
/* Receptive field in input pixels of the box [y0,y1) x [x0,x1) of value. */
LensBox     lens_net_receptive_field     (const LensNet *net,
                                          int            value,
                                          int            y0,
                                          int            y1,
                                          int            x0,
                                          int            x1);

/* Display normalisation of a projection (see lens-project.c): returns
 * width*height*3 RGB bytes (owned).  bgr: the input's channels are B,G,R. */
guint8     *lens_projection_to_rgb       (const LensTensor *map,
                                          gboolean          bgr,
                                          int              *width,
                                          int              *height);
/* A heat map [.., H, W] as RGB through a perceptual colormap (owned). */
guint8     *lens_heatmap_to_rgb          (const LensTensor *map,
                                          int              *width,
                                          int              *height);

G_END_DECLS
