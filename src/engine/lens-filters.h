/* lens-filters.h: diagnostics of a network's first filters (Zeiler &
 * Fergus, Fig. 6)
 *
 *   g_autoptr(LensFilterStats) st = lens_filters_analyse (net, NULL, source, &pre, 0,
 *                                                         NULL, &error);
 *
 * For every filter of a convolution (by default the first Conv layer):
 *   - rms: sqrt of the mean of its squared weights;
 *   - weight_share: its share of the sum over filters of the squared weights;
 *   - high_share: the share of its spectral energy above half the Nyquist
 *     frequency.  Each input channel's kh x kw kernel gets a 2-D DFT; a bin
 *     (u, v) has the frequency sqrt (fu^2 + fv^2) with fu = min (u, kh-u)/kh
 *     cycles per pixel (numpy.fft.fftfreq), and counts as high when that is
 *     above 0.25 (Nyquist is 0.5).  A filter near 1 is a checkerboard-like
 *     pattern, the aliasing the paper blames on a large stride; 0 when the
 *     filter is all zero;
 * and with a data set, over every position of every image, of the layer's
 * output (before any ReLU):
 *   - max, positive_fraction: how often the filter fires;
 *   - dead: never positive (max <= 0);
 *   - energy_share: its share of the sum over filters of the squared
 *     positive outputs.
 * A filter dominates when its share (energy_share with a data set,
 * weight_share without) is above LENS_FILTERS_DOMINANT_FACTOR times the
 * uniform share 1/n.
 */
#pragma once

#include "lens-topk.h"

G_BEGIN_DECLS

#define LENS_FILTERS_ERROR (lens_filters_error_quark ())
#define LENS_FILTERS_DOMINANT_FACTOR 3.0
#define LENS_FILTERS_HIGH_FREQUENCY  0.25

typedef enum
{
  LENS_FILTERS_ERROR_LAYER,     /* no such layer, or not a Conv with constant weights */
  LENS_FILTERS_ERROR_DATASET,   /* the data set does not fit the model, or is missing */
  LENS_FILTERS_ERROR_SIZE,      /* a figure would be too large */
} LensFiltersError;

typedef struct
{
  char     *layer;            /* the Conv layer's name */
  int       n_filters;
  int       channels;         /* input channels per filter */
  int       kh, kw;
  float    *weights;          /* [n_filters, channels, kh, kw] (a copy) */
  double   *rms;              /* [n_filters] */
  double   *weight_share;
  double   *high_share;
  /* with a data set (n_images > 0) */
  gint64    n_images;
  double   *max;
  double   *positive_fraction;
  double   *energy_share;
  gboolean *dead;
  gboolean *dominating;
} LensFilterStats;

GQuark           lens_filters_error_quark       (void);

/* layer NULL: the first Conv layer.  source NULL: weights only; else the
 * first `limit` images (0: all) are run through the net (pre must fit its
 * input). */
LensFilterStats *lens_filters_analyse           (LensNet              *net,
                                                 const char           *layer,
                                                 LensScanSource       *source,
                                                 const LensPreprocess *pre,
                                                 int                   limit,
                                                 GCancellable         *cancellable,
                                                 GError              **error);
void             lens_filter_stats_free         (LensFilterStats *stats);

/* The spectral share above half Nyquist of one filter [channels, kh, kw]. */
double           lens_filter_high_share         (const float *weights,
                                                 int          channels,
                                                 int          kh,
                                                 int          kw);

/* Fig. 6 (a)/(c): every filter as a colour tile (scaled to its own
 * min..max; 3-channel filters as RGB, in the input's order unless bgr,
 * others as the mean over channels in gray), framed red when dead and
 * orange when dominating, with a bar for its RMS (relative to the largest)
 * and one for its high-frequency share below.  Returns width*height*3 RGB
 * bytes (owned). */
guint8          *lens_filters_render            (const LensFilterStats *stats,
                                                 gboolean               bgr,
                                                 int                   *width,
                                                 int                   *height);

/* -- layer-2 top-1 projections (Fig. 6 (c)/(e); lens-filters-layer2.c) --
 *
 *   g_autoptr(LensTopk) top1 = lens_filters_layer2_scan (net, model_path, NULL, NULL, source,
 *                                                        &pre, 0, NULL, NULL, NULL, &error);
 *   rgb = lens_filters_layer2_render (top1, net, source, &pre, &w, &h, NULL, &error);
 *
 * The layer-2 Conv is `layer2` when given, else the first Conv after the
 * layer-1 Conv (`layer1`, NULL: the first Conv) in the graph's order.  Its
 * output (before any ReLU) is scanned with lens_topk_scan() at k = 1: per
 * channel the single strongest activation over the data set (ties: lowest
 * image index, then lowest position), as a one-layer LensTopk. */

/* The layer index of the layer-2 Conv, or -1 and LENS_FILTERS_ERROR_LAYER. */
int              lens_filters_find_layer2       (LensNet              *net,
                                                 const char           *layer1,
                                                 const char           *layer2,
                                                 GError              **error);
/* source is required (LENS_FILTERS_ERROR_DATASET without one); the first
 * `limit` images (0: all); model_path is the net's file (hashed into the
 * result, see lens_topk_new()); progress (may be NULL) after every batch. */
LensTopk        *lens_filters_layer2_scan       (LensNet              *net,
                                                 const char           *model_path,
                                                 const char           *layer1,
                                                 const char           *layer2,
                                                 LensScanSource       *source,
                                                 const LensPreprocess *pre,
                                                 int                   limit,
                                                 LensTopkProgress      progress,
                                                 gpointer              user_data,
                                                 GCancellable         *cancellable,
                                                 GError              **error);
/* One block per layer-2 channel, in channel order (rows of ceil(sqrt n)):
 * the deconvnet projection (LENS_PROJECT_DECONV started at the recorded
 * position alone) cropped to the receptive field, beside the input patch
 * under it; small fields are scaled up (lens_topk_render() with k = 1).
 * Returns width*height*3 RGB bytes (owned). */
guint8          *lens_filters_layer2_render     (LensTopk             *top1,
                                                 LensNet              *net,
                                                 LensScanSource       *source,
                                                 const LensPreprocess *pre,
                                                 int                  *width,
                                                 int                  *height,
                                                 GCancellable         *cancellable,
                                                 GError              **error);
/* The whole figure: the layer-1 tiles (lens_filters_render()) at the top
 * left, unchanged, then a caption strip of LENS_FILTERS_CAPTION_HEIGHT
 * pixels with `caption`, then the layer-2 blocks.  Returns RGB (owned), or
 * NULL and LENS_FILTERS_ERROR_SIZE if the figure would be too large. */
#define LENS_FILTERS_CAPTION_HEIGHT 32
guint8          *lens_filters_figure_stack      (const guint8         *tiles,
                                                 int                   tiles_width,
                                                 int                   tiles_height,
                                                 const char           *caption,
                                                 const guint8         *layer2,
                                                 int                   layer2_width,
                                                 int                   layer2_height,
                                                 int                  *width,
                                                 int                  *height,
                                                 GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensFilterStats, lens_filter_stats_free)

G_END_DECLS
