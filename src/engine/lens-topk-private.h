/* lens-topk-private.h: what lens-topk.c and lens-topk-file.c share */
#pragma once

#include "lens-topk.h"

G_BEGIN_DECLS

struct _LensTopk
{
  char          *model_path;
  char          *model_sha256;   /* NULL while hash_thread runs */
  gint64         model_size;
  /* The model file's SHA-256 is computed on this thread while the scan
   * runs; everything that reads model_sha256 joins it first. */
  GThread       *hash_thread;
  GMappedFile   *hash_file;
  GError        *hash_error;
  gint           hash_cancel;     /* atomic: lens_topk_free() stops it */
  char          *dataset_spec;
  char          *dataset_kind;
  char          *dataset_sha256;
  int            n_images;
  int            k;
  gboolean       all_positions;
  int            limit;         /* images [0, limit) */
  int            shard_count;
  GArray        *shards;        /* int, ascending */
  gint64         scanned;
  gboolean       complete;
  guint          n_layers;
  LensTopkLayer *layers;
};

/* The order of candidates (see lens-topk.h): larger value, then smaller
 * image index, row, column. */
static inline gboolean
lens_topk_entry_better (const LensTopkEntry *a,
                        const LensTopkEntry *b)
{
  if (a->value != b->value)
    return a->value > b->value;
  if (a->image != b->image)
    return a->image < b->image;
  if (a->y != b->y)
    return a->y < b->y;
  return a->x < b->x;
}

G_GNUC_INTERNAL LensTopk *lens_topk_alloc      (guint           n_layers);
G_GNUC_INTERNAL gboolean  lens_topk_layer_init (LensTopkLayer  *layer,
                                                const char     *name,
                                                int             channels,
                                                int             height,
                                                int             width,
                                                int             k,
                                                GError        **error);
/* qsort order of LensTopkEntry: best first. */
G_GNUC_INTERNAL int       lens_topk_entry_compare (gconstpointer a,
                                                   gconstpointer b);
/* Waits for the model's hash thread; FALSE (error set) if hashing failed. */
G_GNUC_INTERNAL gboolean  lens_topk_join_hash  (const LensTopk *topk,
                                                GError        **error);
/* TRUE if a and b are results of the same scan (model, data set, layers,
 * k, limit, shard count). */
G_GNUC_INTERNAL gboolean  lens_topk_same_scan  (const LensTopk *a,
                                                const LensTopk *b,
                                                GError        **error);

G_END_DECLS
