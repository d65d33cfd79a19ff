/* lens-occlude.h: occlusion sensitivity (Zeiler & Fergus, section 4.2) */
#pragma once

#include "lens-net.h"

G_BEGIN_DECLS

#define LENS_OCCLUDE_ERROR (lens_occlude_error_quark ())

typedef enum
{
  LENS_OCCLUDE_ERROR_ARGS,      /* size/stride/class/channel out of range */
  LENS_OCCLUDE_ERROR_INPUT,     /* the net's input is not [1,C,H,W] */
} LensOccludeError;

typedef struct
{
  int      size;          /* side of the square in input pixels */
  int      stride;        /* step between positions (sweep only) */
  float    fill[3];       /* value written into each input channel (normalised space;
                           * zero is the dataset mean) */
  int      target_class;  /* -1: the top class of the unoccluded image */
  int      layer_value;   /* value whose feature map is tracked; -1: last conv */
  int      channel;       /* -1: the strongest map of that layer, unoccluded */
  gboolean partial;       /* also positions whose square crosses the border */
  gboolean full;          /* recompute whole layers (the baseline) */
  int      batch;         /* positions per batch; 0: automatic */
  int      dense;         /* the first dense layer after the feature maps (Gemm or
                           * MatMul on their flattened values): 0 updated only
                           * by its changed inputs when a cost model expects a
                           * gain (always for a single query), 1 always, -1
                           * never (recomputed whole) */
  int      threads;       /* sweep: batches run side by side on this many threads,
                           * each with one BLAS thread; 1: one batch at a time with
                           * BLAS's own threading; 0: lens_get_threads () for
                           * incremental sweeps, 1 for `full` */
  int      split;         /* single query: 0 splits its large layers over two threads
                           * (by output channels or columns, BLAS on one thread) when
                           * lens_get_threads () > 1; -1 never (BLAS threads them) */
} LensOccludeOptions;

typedef struct _LensOccluder LensOccluder;

#define LENS_OCCLUDE_TOP 5

typedef struct
{
  float prob;                       /* probability of the target class */
  int   top_class[LENS_OCCLUDE_TOP];
  float top_prob[LENS_OCCLUDE_TOP];
  float feature;                    /* total activation of the tracked map */
} LensOcclusionPoint;

typedef struct
{
  int    n_y, n_x;          /* grid of positions, row-major */
  int   *ys, *xs;           /* top-left corner of each row / column */
  float *prob;              /* [n_y * n_x] target-class probability */
  int   *top_class;         /* most probable class */
  float *top_prob;
  float *feature;           /* tracked feature map's total activation */
  int    size, stride;
} LensOcclusionMap;

typedef void (*LensProgressFunc) (double fraction, gpointer user_data);

GQuark            lens_occlude_error_quark (void);

void              lens_occlude_options_init (LensOccludeOptions *options);

/* Plans occlusion over `net` for one image (a [1,C,H,W] input); runs the
 * unoccluded pass itself.  The occluder keeps its own trace. */
LensOccluder     *lens_occluder_new        (LensNet                  *net,
                                            const LensTensor         *input,
                                            const LensOccludeOptions *options,
                                            GError                  **error);
void              lens_occluder_free       (LensOccluder *occ);

/* The chosen target class, tracked value and channel (after defaults). */
int               lens_occluder_get_target_class (LensOccluder *occ);
int               lens_occluder_get_layer_value  (LensOccluder *occ);
int               lens_occluder_get_channel      (LensOccluder *occ);
/* The unoccluded result (for comparison). */
const LensOcclusionPoint *lens_occluder_get_clean (LensOccluder *occ);
LensTrace        *lens_occluder_get_trace  (LensOccluder *occ);

/* One square at (x, y) (top-left corner, input pixels). */
gboolean          lens_occluder_query      (LensOccluder       *occ,
                                            int                 x,
                                            int                 y,
                                            LensOcclusionPoint *out,
                                            GError            **error);
/* The whole sweep; progress (may be NULL) is called from this thread
 * after each batch; cancellable is checked between batches. */
LensOcclusionMap *lens_occluder_sweep      (LensOccluder     *occ,
                                            LensProgressFunc  progress,
                                            gpointer          user_data,
                                            GCancellable     *cancellable,
                                            GError          **error);
void              lens_occlusion_map_free  (LensOcclusionMap *map);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensOccluder, lens_occluder_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensOcclusionMap, lens_occlusion_map_free)

G_END_DECLS
