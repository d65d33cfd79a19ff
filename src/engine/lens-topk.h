/* lens-topk.h: the strongest activations of every channel over a data set
 * (Zeiler & Fergus, Fig. 2), in shards that merge exactly
 *
 *   g_autoptr(LensScanSource) src = lens_scan_source_open ("fashion-mnist:test", &error);
 *   g_autoptr(LensTopk) topk = lens_topk_new (net, model_path, src, layers, &opts, &error);
 *   lens_topk_scan (topk, net, src, &pre, &opts, cancellable, &error);
 *   lens_topk_save (topk, "conv.topk.json", &error);
 *
 * For every channel of each chosen layer, the K best candidates are kept in
 * a bounded min-heap.  By default a candidate is one image's maximum over
 * the positions of the channel (so the K entries come from K different
 * images); with all_positions every position is a candidate.  Candidates
 * are ordered totally: value descending, then image index ascending, then
 * position (y * width + x) ascending.  Because the order is total, the kept
 * set does not depend on the order images are seen in, which is what makes
 * shards merge to exactly the unsharded result.  Non-finite activations are
 * never candidates.
 *
 * The result file format is described in docs/analyses.md.
 */
#pragma once

#include <gio/gio.h>

#include "lens-image.h"
#include "lens-net.h"

G_BEGIN_DECLS

#define LENS_TOPK_ERROR (lens_topk_error_quark ())

typedef enum
{
  LENS_TOPK_ERROR_IO,        /* a file cannot be read or written */
  LENS_TOPK_ERROR_FORMAT,    /* not a top-k result file, or a corrupt one */
  LENS_TOPK_ERROR_MISMATCH,  /* files / model / data set do not belong together */
  LENS_TOPK_ERROR_LAYER,     /* unknown layer, or one without channels */
  LENS_TOPK_ERROR_DATASET,   /* the data set cannot be opened or is empty */
  LENS_TOPK_ERROR_INVALID,   /* bad option value (k, shard...) */
} LensTopkError;

/* -- image sources ------------------------------------------------------ */

/* A data set read image by image:
 *   "fashion-mnist" / "fashion-mnist:test" / "fashion-mnist:train"
 *       Debian's dataset-fashion-mnist (see lens-dataset.h; test is the
 *       default split);
 *   a folder
 *       every PNG/JPEG file below it (recursively, by extension), in
 *       byte order of the relative path; loaded only when needed. */
typedef struct _LensScanSource LensScanSource;

LensScanSource *lens_scan_source_open       (const char     *spec,
                                             GError        **error);
void            lens_scan_source_free       (LensScanSource *source);
int             lens_scan_source_get_n_images (const LensScanSource *source);
/* "fashion-mnist" or "folder". */
const char     *lens_scan_source_get_kind   (const LensScanSource *source);
const char     *lens_scan_source_get_spec   (const LensScanSource *source);
/* SHA-256 of the content that identifies the set: the pixels of an idx
 * set, the list of relative file names of a folder. */
const char     *lens_scan_source_get_digest (const LensScanSource *source);
/* "t10k #12" or the relative path of image i (owned). */
char           *lens_scan_source_dup_name   (const LensScanSource *source,
                                             int                   i);
/* Image i as decoded (RGB floats in [0,1]). */
LensImage      *lens_scan_source_load_image (LensScanSource *source,
                                             int             i,
                                             GError        **error);
/* Image i preprocessed into out [C,H,W] (C, H, W from pre). */
gboolean        lens_scan_source_load_input (LensScanSource       *source,
                                             int                   i,
                                             const LensPreprocess *pre,
                                             float                *out,
                                             GError              **error);

/* -- top-k results ------------------------------------------------------ */

typedef struct
{
  int   image;    /* index in the data set */
  int   y, x;     /* position in the feature map */
  float value;
} LensTopkEntry;

typedef struct
{
  char          *name;       /* layer (node) name */
  int            channels;
  int            height;     /* 1 for [N, C] values */
  int            width;
  int           *counts;     /* [channels]: entries kept (<= k) */
  LensTopkEntry *entries;    /* [channels * k], best first; valid up to counts[c] */
} LensTopkLayer;

typedef struct _LensTopk LensTopk;

/* Called after every batch, on the scanning thread. */
typedef void (*LensTopkProgress) (gint64   done,
                                  gint64   total,
                                  gpointer user_data);

typedef struct
{
  int              k;               /* 9 */
  gboolean         all_positions;   /* FALSE: one candidate per image and channel */
  int              batch;           /* images per trace; 0: chosen from the trace size */
  int              shard_index;     /* scan the images with index % shard_count == shard_index */
  int              shard_count;     /* 1: everything */
  int              limit;           /* only images [0, limit); 0: all */
  /* Stop (as if interrupted, result incomplete) after this many images in
   * one lens_topk_scan() call; 0: never.  For tests of resuming. */
  int              stop_after;
  /* When set, the partial result is saved there every checkpoint_seconds
   * (0: after every batch). */
  const char      *checkpoint_path;
  double           checkpoint_seconds;
  LensTopkProgress progress;
  gpointer         user_data;
} LensTopkOptions;

GQuark          lens_topk_error_quark      (void);
void            lens_topk_options_init     (LensTopkOptions *options);

/* An empty result for the given layers (layer names or output value
 * names, NULL-terminated); hashes the model file. */
LensTopk       *lens_topk_new              (LensNet               *net,
                                            const char            *model_path,
                                            LensScanSource        *source,
                                            const char * const    *layers,
                                            const LensTopkOptions *options,
                                            GError               **error);
void            lens_topk_free             (LensTopk *topk);

/* Scans the images this result's shard still lacks, continuing after
 * lens_topk_get_scanned().  On cancellation (G_IO_ERROR_CANCELLED) or
 * stop_after the result holds every whole batch scanned so far and can be
 * saved and resumed.  Returns TRUE when the shard is complete. */
gboolean        lens_topk_scan             (LensTopk              *topk,
                                            LensNet               *net,
                                            LensScanSource        *source,
                                            const LensPreprocess  *pre,
                                            const LensTopkOptions *options,
                                            GCancellable          *cancellable,
                                            GError               **error);
/* TRUE if a partial result loaded from a file was made with the same
 * model, data set, layers and options (k, shard, limit), so a scan may
 * resume it. */
gboolean        lens_topk_check_resume     (LensTopk              *topk,
                                            LensNet               *net,
                                            const char            *model_path,
                                            LensScanSource        *source,
                                            const char * const    *layers,
                                            const LensTopkOptions *options,
                                            GError               **error);

/* JSON, written atomically (temp file + rename). */
gboolean        lens_topk_save             (LensTopk    *topk,
                                            const char  *path,
                                            GError     **error);
char           *lens_topk_to_json          (LensTopk    *topk);
LensTopk       *lens_topk_load             (const char  *path,
                                            GError     **error);
LensTopk       *lens_topk_load_data        (const char  *json,
                                            gssize       length,
                                            GError     **error);

/* Merges complete results of distinct shards of the same scan.  When the
 * parts cover every shard the result is the unsharded scan's (shard 0/1). */
LensTopk       *lens_topk_merge            (LensTopk   **parts,
                                            guint        n_parts,
                                            GError     **error);

int             lens_topk_get_k            (const LensTopk *topk);
gboolean        lens_topk_get_complete     (const LensTopk *topk);
/* Images scanned (in this shard's order). */
gint64          lens_topk_get_scanned      (const LensTopk *topk);
guint           lens_topk_get_n_layers     (const LensTopk *topk);
const LensTopkLayer *lens_topk_get_layer   (const LensTopk *topk,
                                            guint           i);
const LensTopkLayer *lens_topk_find_layer  (const LensTopk *topk,
                                            const char     *name);
const char     *lens_topk_get_model_path   (const LensTopk *topk);
const char     *lens_topk_get_model_sha256 (const LensTopk *topk);
const char     *lens_topk_get_dataset_spec (const LensTopk *topk);

/* The paper's Fig. 2 for channels [first, last] of one layer: per channel
 * a 3x3 (for k = 9; ceil(sqrt k) in general) grid of deconvnet projections
 * started at each recorded position, each in its own image, cropped to the
 * receptive field, beside the grid of the input patches under the same
 * boxes.  Returns width*height*3 RGB bytes (owned). */
guint8         *lens_topk_render           (LensTopk             *topk,
                                            LensNet              *net,
                                            LensScanSource       *source,
                                            const LensPreprocess *pre,
                                            const char           *layer,
                                            int                   first,
                                            int                   last,
                                            int                  *width,
                                            int                  *height,
                                            GCancellable         *cancellable,
                                            GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensScanSource, lens_scan_source_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensTopk, lens_topk_free)

G_END_DECLS
