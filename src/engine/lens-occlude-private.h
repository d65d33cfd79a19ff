/* lens-occlude-private.h: what lens-occlude.c and lens-occlude-dense.c share */
#pragma once

#include <pthread.h>

#include "lens-occlude.h"
#include "lens-net-private.h"

G_BEGIN_DECLS

typedef enum
{
  KIND_WINDOW,
  KIND_CHANNEL,
  KIND_FLATTEN,   /* [1,C,h,w] -> [1,C*h*w]: the box is kept, seen flat */
  KIND_DENSE,     /* Gemm / MatMul with constant weights on a flat input */
  KIND_FULL,
} Kind;

typedef struct
{
  gboolean    changed;
  gboolean    full;
  gboolean    flat;       /* a box of a [B,fc,fh,fw] map, the value being [B,fc*fh*fw] */
  gboolean    borrowed;   /* data belongs to another patch */
  int         fc, fh, fw; /* the map's geometry when flat */
  int         bh, bw;     /* box size */
  int        *oy, *ox;    /* box origin per position */
  LensTensor *data;       /* [B, C, bh, bw], or the whole [B, ...] when full */
} Patch;

typedef struct _LensOccludeHelper LensOccludeHelper;

/* One half of a split layer: part 0 on the calling thread, part 1 on the
 * helper, each with its own workspace. */
typedef void (*LensSplitFunc) (gpointer data,
                               int      part,
                               float   *workspace);

struct _LensOccluder
{
  LensNet           *net;
  LensTrace         *trace;      /* the unoccluded pass, batch 1 */
  LensOccludeOptions opts;
  int                C, H, W;
  int                output;
  gboolean           need_softmax;
  int                target;
  int                layer_value;
  int                channel;
  double             clean_feature;
  LensOcclusionPoint clean;
  Kind              *kinds;      /* per layer */
  float             *workspace;
  float            **weights_kn; /* per layer: dense weights as [K,N], inputs in (y,x,c) order (a
                                  * reordered copy, made on first use) */
  int               *weights_plane; /* per layer: h*w of that order (1: as stored); fixed
                                     * by lens_occlude_plan_dense () */
  GPtrArray         *free_blocks; /* reusable buffers (float *) */
  GHashTable        *block_caps;  /* buffer -> capacity in floats */
  /* guards making weights_kn (shared by workers); pthread's own mutexes
   * here and in the other worker code, since ThreadSanitizer cannot see
   * GMutex (raw futexes) */
  pthread_mutex_t   *weights_lock;
  pthread_mutex_t    weights_lock_storage;
  gboolean           worker;     /* a sweep worker's view: net, trace, kinds and the
                                  * weights are borrowed from the occluder */
  gboolean           split;      /* a query in progress may split layers (BLAS is
                                  * on one thread meanwhile) */
  int                split_threads; /* the thread count before, for the kernels
                                     * that share work themselves (whole layers) */
  gboolean           helper_failed;
  LensOccludeHelper *helper;     /* the second thread of split queries, or NULL */
};

/* Buffers reused from batch to batch (contents undefined). */
LensTensor *lens_occluder_buffer      (LensOccluder    *occ,
                                       const LensShape *shape,
                                       GError         **error);
void        lens_occluder_release     (LensOccluder    *occ,
                                       LensTensor      *t);
void        lens_occluder_free_blocks (LensOccluder    *occ);

/* A sweep worker: borrows everything read-only from `occ` and has its
 * own workspace and buffer pool, so several run batches side by side. */
LensOccluder *lens_occluder_worker_new  (LensOccluder *occ,
                                         GError      **error);
void          lens_occluder_worker_free (LensOccluder *worker);

/* Runs B positions (top-left corners xs, ys) and fills points[B]. */
gboolean    lens_occlude_run_batch    (LensOccluder       *occ,
                                       const int          *xs,
                                       const int          *ys,
                                       int                 B,
                                       LensOcclusionPoint *points,
                                       GError            **error);

/* Fixes the input order of each dense layer's reordered weights. */
void        lens_occlude_plan_dense   (LensOccluder *occ);
/* Runs func's two parts side by side when occ->split is set and the
 * helper thread runs; FALSE (nothing done) otherwise. */
gboolean    lens_occlude_split        (LensOccluder *occ,
                                       LensSplitFunc func,
                                       gpointer      data);
/* A convolution on a single position split by output channels; FALSE
 * (nothing done) when it is too small or not splittable. */
gboolean    lens_occlude_split_conv   (LensOccluder      *occ,
                                       const LensNode    *node,
                                       const LensTensor **ins,
                                       LensTensor        *out);
void        lens_occlude_helper_free  (LensOccludeHelper *helper);

Kind        lens_occlude_classify_dense (const LensNet *net,
                                         LensNode      *node);
/* Runs a KIND_FLATTEN or KIND_DENSE layer whose changed input is a box
 * (not full).  Returns FALSE with *fallback set when the layer must be
 * computed whole instead (then nothing was done). */
gboolean    lens_occlude_run_dense    (LensOccluder *occ,
                                       guint         l,
                                       Kind          kind,
                                       Patch        *patches,
                                       int           B,
                                       gboolean     *fallback,
                                       GError      **error);

G_END_DECLS
