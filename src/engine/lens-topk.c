/* lens-topk.c: the strongest activations of every channel over a data set
 *
 * See lens-topk.h for the ordering of candidates and docs/analyses.md for
 * the file format.  In this file: the bounded heaps, the scan and the
 * Fig. 2 rendering; the data sources are in lens-scan-source.c, the JSON
 * file and merging in lens-topk-file.c.
 */
#define G_LOG_DOMAIN "lens-topk"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "lens-dataset.h"
#include "lens-file.h"
#include "lens-project.h"
#include "lens-topk-private.h"


G_DEFINE_QUARK (lens-topk-error-quark, lens_topk_error)

/* Default trace memory for a scan batch (activations of every layer are
 * kept by a trace, so big models get small batches). */
#define SCAN_TRACE_BUDGET ((gsize) 256 * 1024 * 1024)
#define SCAN_MAX_BATCH    32

/* -- results and heaps --------------------------------------------------- */

void
lens_topk_options_init (LensTopkOptions *options)
{
  memset (options, 0, sizeof *options);
  options->k = 9;
  options->shard_count = 1;
  options->checkpoint_seconds = 30;
}

static void
layer_clear (LensTopkLayer *layer)
{
  g_free (layer->name);
  g_free (layer->counts);
  g_free (layer->entries);
}

void
lens_topk_free (LensTopk *topk)
{
  if (topk == NULL)
    return;
  g_atomic_int_set (&topk->hash_cancel, 1);
  lens_topk_join_hash (topk, NULL);
  g_clear_error (&topk->hash_error);
  g_free (topk->model_path);
  g_free (topk->model_sha256);
  g_free (topk->dataset_spec);
  g_free (topk->dataset_kind);
  g_free (topk->dataset_sha256);
  g_clear_pointer (&topk->shards, g_array_unref);
  for (guint i = 0; i < topk->n_layers; i++)
    layer_clear (&topk->layers[i]);
  g_free (topk->layers);
  g_free (topk);
}

LensTopk *
lens_topk_alloc (guint n_layers)
{
  LensTopk *topk = g_new0 (LensTopk, 1);

  topk->shards = g_array_new (FALSE, FALSE, sizeof (int));
  topk->n_layers = n_layers;
  topk->layers = g_new0 (LensTopkLayer, n_layers);
  return topk;
}

gboolean
lens_topk_layer_init (LensTopkLayer *layer,
                      const char    *name,
                      int            channels,
                      int            height,
                      int            width,
                      int            k,
                      GError       **error)
{
  gsize n;

  if (channels <= 0 || height <= 0 || width <= 0 ||
      !lens_size_mul ((gsize) channels, (gsize) k, &n) || n > G_MAXINT / 4)
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_FORMAT,
                   "Layer '%s' has an invalid size %dx%dx%d", name, channels, height, width);
      return FALSE;
    }
  layer->name = g_strdup (name);
  layer->channels = channels;
  layer->height = height;
  layer->width = width;
  layer->counts = g_new0 (int, channels);
  layer->entries = g_new0 (LensTopkEntry, n);
  return TRUE;
}

/* TRUE if a ranks strictly before b. */
int
lens_topk_entry_compare (gconstpointer pa,
                         gconstpointer pb)
{
  const LensTopkEntry *a = pa, *b = pb;

  if (lens_topk_entry_better (a, b))
    return -1;
  if (lens_topk_entry_better (b, a))
    return 1;
  return 0;
}

/* The heap keeps its worst entry at index 0: every parent ranks after (or
 * equal to) its children. */
static void
heap_sift_down (LensTopkEntry *heap,
                int            n,
                int            i)
{
  for (;;)
    {
      int l = 2 * i + 1, r = l + 1, worst = i;
      LensTopkEntry tmp;

      if (l < n && lens_topk_entry_better (&heap[worst], &heap[l]))
        worst = l;
      if (r < n && lens_topk_entry_better (&heap[worst], &heap[r]))
        worst = r;
      if (worst == i)
        return;
      tmp = heap[i];
      heap[i] = heap[worst];
      heap[worst] = tmp;
      i = worst;
    }
}

static void
heap_sift_up (LensTopkEntry *heap,
              int            i)
{
  while (i > 0)
    {
      int parent = (i - 1) / 2;
      LensTopkEntry tmp;

      if (!lens_topk_entry_better (&heap[parent], &heap[i]))
        return;
      tmp = heap[i];
      heap[i] = heap[parent];
      heap[parent] = tmp;
      i = parent;
    }
}

static void
lens_topk_heap_push (LensTopkEntry       *heap,
                     int                 *count,
                     int                  k,
                     const LensTopkEntry *candidate)
{
  if (*count < k)
    {
      heap[*count] = *candidate;
      (*count)++;
      heap_sift_up (heap, *count - 1);
    }
  else if (k > 0 && lens_topk_entry_better (candidate, &heap[0]))
    {
      heap[0] = *candidate;
      heap_sift_down (heap, k, 0);
    }
}

static void
layers_to_heaps (LensTopk *topk)
{
  for (guint l = 0; l < topk->n_layers; l++)
    {
      LensTopkLayer *layer = &topk->layers[l];

      for (int c = 0; c < layer->channels; c++)
        {
          LensTopkEntry *heap = layer->entries + (gsize) c * topk->k;

          for (int i = layer->counts[c] / 2 - 1; i >= 0; i--)
            heap_sift_down (heap, layer->counts[c], i);
        }
    }
}

static void
layers_to_sorted (LensTopk *topk)
{
  for (guint l = 0; l < topk->n_layers; l++)
    {
      LensTopkLayer *layer = &topk->layers[l];

      for (int c = 0; c < layer->channels; c++)
        qsort (layer->entries + (gsize) c * topk->k, layer->counts[c], sizeof (LensTopkEntry),
               lens_topk_entry_compare);
    }
}

/* -- creating and scanning ----------------------------------------------- */

static gboolean
check_options (const LensTopkOptions *options,
               GError               **error)
{
  if (options->k < 1 || options->k > 4096)
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_INVALID,
                   "k must be between 1 and 4096, not %d", options->k);
      return FALSE;
    }
  if (options->shard_count < 1 || options->shard_index < 0 ||
      options->shard_index >= options->shard_count)
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_INVALID,
                   "Shard %d/%d does not exist (use i/n with 0 <= i < n)",
                   options->shard_index, options->shard_count);
      return FALSE;
    }
  if (options->limit < 0 || options->batch < 0 || options->stop_after < 0)
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_INVALID,
                   "limit, batch and stop_after must not be negative");
      return FALSE;
    }
  return TRUE;
}

/* The value a layer name stands for, with its channel layout. */
static int
resolve_layer (LensNet    *net,
               const char *name,
               int        *channels,
               int        *height,
               int        *width,
               GError    **error)
{
  int layer = lens_net_find_layer (net, name);
  int value;
  const LensShape *shape;

  if (layer < 0)
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_LAYER,
                   "The model has no layer '%s' (see convlens-cli info)", name);
      return -1;
    }
  value = lens_net_layer_get_output (net, layer);
  shape = lens_net_value_get_shape (net, value);
  if (shape->ndim == 4)
    {
      *channels = (int) shape->dims[1];
      *height = (int) shape->dims[2];
      *width = (int) shape->dims[3];
    }
  else if (shape->ndim == 2)
    {
      *channels = (int) shape->dims[1];
      *height = *width = 1;
    }
  else
    {
      g_autofree char *text = lens_shape_to_string (shape);

      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_LAYER,
                   "Layer '%s' has output shape %s; top-k needs [N,C,H,W] or [N,C]", name,
                   text);
      return -1;
    }
  return value;
}

#define HASH_CHUNK ((gsize) 4 * 1024 * 1024)

static gpointer
hash_thread (gpointer data)
{
  LensTopk *topk = data;
  const guchar *bytes = (const guchar *) g_mapped_file_get_contents (topk->hash_file);
  gsize len = g_mapped_file_get_length (topk->hash_file);
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  for (gsize off = 0; off < len; off += HASH_CHUNK)
    {
      if (g_atomic_int_get (&topk->hash_cancel))
        return NULL;
      g_checksum_update (sum, bytes + off, MIN (HASH_CHUNK, len - off));
    }
  topk->model_sha256 = g_strdup (g_checksum_get_string (sum));
  return NULL;
}

/* Maps the model file (errors at once) and starts hashing it. */
static gboolean
start_hash (LensTopk   *topk,
            const char *path,
            GError    **error)
{
  g_autoptr(GError) local = NULL;

  topk->hash_file = g_mapped_file_new (path, FALSE, &local);
  if (topk->hash_file == NULL)
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_IO, "%s", local->message);
      return FALSE;
    }
  topk->model_size = (gint64) g_mapped_file_get_length (topk->hash_file);
  topk->hash_thread = g_thread_try_new ("lens-topk-hash", hash_thread, topk, &local);
  if (topk->hash_thread == NULL)
    {
      /* no thread: hash here */
      hash_thread (topk);
      g_clear_pointer (&topk->hash_file, g_mapped_file_unref);
    }
  return TRUE;
}

/* Waits for the model's hash; FALSE (and error) if there is none. */
gboolean
lens_topk_join_hash (const LensTopk *ctopk,
                     GError        **error)
{
  LensTopk *topk = (LensTopk *) ctopk;   /* the hash is filled in lazily */

  if (topk->hash_thread != NULL)
    {
      g_thread_join (topk->hash_thread);
      topk->hash_thread = NULL;
      g_clear_pointer (&topk->hash_file, g_mapped_file_unref);
      if (topk->model_sha256 == NULL && topk->hash_error == NULL)
        g_set_error_literal (&topk->hash_error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_IO,
                             "The model file's hash was not computed");
    }
  if (topk->model_sha256 != NULL)
    return TRUE;
  if (topk->hash_error != NULL)
    g_propagate_error (error, g_error_copy (topk->hash_error));
  return FALSE;
}

static int
effective_limit (const LensTopkOptions *options,
                 int                    n_images)
{
  return options->limit > 0 && options->limit < n_images ? options->limit : n_images;
}

LensTopk *
lens_topk_new (LensNet               *net,
               const char            *model_path,
               LensScanSource        *source,
               const char * const    *layers,
               const LensTopkOptions *options,
               GError               **error)
{
  g_autoptr(LensTopk) topk = NULL;
  guint n_layers;

  g_return_val_if_fail (net != NULL && model_path != NULL && source != NULL, NULL);
  g_return_val_if_fail (layers != NULL && options != NULL, NULL);

  if (!check_options (options, error))
    return NULL;
  n_layers = g_strv_length ((char **) layers);
  if (n_layers == 0)
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_LAYER, "No layers given");
      return NULL;
    }

  topk = lens_topk_alloc (n_layers);
  if (!start_hash (topk, model_path, error))
    return NULL;
  topk->model_path = g_strdup (model_path);
  topk->dataset_spec = g_strdup (lens_scan_source_get_spec (source));
  topk->dataset_kind = g_strdup (lens_scan_source_get_kind (source));
  topk->dataset_sha256 = g_strdup (lens_scan_source_get_digest (source));
  topk->n_images = lens_scan_source_get_n_images (source);
  topk->k = options->k;
  topk->all_positions = options->all_positions;
  topk->limit = effective_limit (options, topk->n_images);
  topk->shard_count = options->shard_count;
  g_array_append_val (topk->shards, options->shard_index);

  for (guint l = 0; l < n_layers; l++)
    {
      int channels, height, width, layer;

      if (resolve_layer (net, layers[l], &channels, &height, &width, error) < 0)
        return NULL;
      for (guint m = 0; m < l; m++)
        if (g_strcmp0 (topk->layers[m].name, layers[l]) == 0)
          {
            g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_LAYER,
                         "Layer '%s' is given twice", layers[l]);
            return NULL;
          }
      layer = lens_net_find_layer (net, layers[l]);
      if (!lens_topk_layer_init (&topk->layers[l], lens_net_layer_get_name (net, layer),
                                 channels, height, width, topk->k, error))
        return NULL;
    }
  return g_steal_pointer (&topk);
}

/* Images of the shard: shard_index, shard_index + count, ... below limit. */
static gint64
shard_total (const LensTopk *topk)
{
  int index = g_array_index (topk->shards, int, 0);

  if (topk->limit <= index)
    return 0;
  return (topk->limit - index + topk->shard_count - 1) / topk->shard_count;
}

static void
collect_batch (LensTopk         *topk,
               LensTopkLayer    *layer,
               const LensTensor *act,
               const int        *images,
               int               n_images)
{
  gsize plane = (gsize) layer->height * layer->width;
  const float *data = lens_tensor_get_floats (act);

  for (int b = 0; b < n_images; b++)
    for (int c = 0; c < layer->channels; c++)
      {
        const float *map = data + ((gsize) b * layer->channels + c) * plane;
        LensTopkEntry *heap = layer->entries + (gsize) c * topk->k;
        LensTopkEntry cand;

        cand.image = images[b];
        if (!topk->all_positions)
          {
            gssize best = -1;

            for (gsize p = 0; p < plane; p++)
              if (isfinite (map[p]) && (best < 0 || map[p] > map[best]))
                best = (gssize) p;
            if (best < 0)
              continue;
            cand.value = map[best];
            cand.y = (int) (best / layer->width);
            cand.x = (int) (best % layer->width);
            lens_topk_heap_push (heap, &layer->counts[c], topk->k, &cand);
          }
        else
          for (gsize p = 0; p < plane; p++)
            {
              if (!isfinite (map[p]))
                continue;
              cand.value = map[p];
              cand.y = (int) (p / layer->width);
              cand.x = (int) (p % layer->width);
              lens_topk_heap_push (heap, &layer->counts[c], topk->k, &cand);
            }
      }
}

static gboolean
save_checkpoint (LensTopk   *topk,
                 const char *path,
                 GError    **error)
{
  gboolean ok;

  layers_to_sorted (topk);
  ok = lens_topk_save (topk, path, error);
  layers_to_heaps (topk);
  return ok;
}

gboolean
lens_topk_scan (LensTopk              *topk,
                LensNet               *net,
                LensScanSource        *source,
                const LensPreprocess  *pre,
                const LensTopkOptions *options,
                GCancellable          *cancellable,
                GError               **error)
{
  g_autoptr(LensTrace) trace = NULL;
  g_autofree int *values = NULL;
  g_autofree int *images = NULL;
  const LensShape *in_shape;
  gint64 total, done_here = 0;
  gsize plane, trace_bytes;
  int batch, shard_index;
  gint64 last_save;
  gboolean ok = FALSE;

  g_return_val_if_fail (topk != NULL && net != NULL && source != NULL, FALSE);
  g_return_val_if_fail (pre != NULL && options != NULL, FALSE);

  if (topk->shards->len != 1 || topk->n_images != lens_scan_source_get_n_images (source))
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_MISMATCH,
                   "This result does not belong to a single shard of this data set");
      return FALSE;
    }
  in_shape = lens_net_get_input_shape (net);
  if (in_shape->ndim != 4 || in_shape->dims[1] != pre->channels ||
      in_shape->dims[2] != pre->height || in_shape->dims[3] != pre->width)
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_MISMATCH,
                   "The preprocessing (%dx%dx%d) does not fit the model's input",
                   pre->channels, pre->height, pre->width);
      return FALSE;
    }

  values = g_new (int, topk->n_layers);
  for (guint l = 0; l < topk->n_layers; l++)
    {
      int c, h, w;

      values[l] = resolve_layer (net, topk->layers[l].name, &c, &h, &w, error);
      if (values[l] < 0)
        return FALSE;
      if (c != topk->layers[l].channels || h != topk->layers[l].height ||
          w != topk->layers[l].width)
        {
          g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_MISMATCH,
                       "Layer '%s' of the model does not have the result's shape",
                       topk->layers[l].name);
          return FALSE;
        }
    }

  total = shard_total (topk);
  shard_index = g_array_index (topk->shards, int, 0);
  topk->complete = topk->scanned >= total;
  if (topk->complete)
    return TRUE;

  batch = options->batch;
  if (batch <= 0)
    {
      trace_bytes = MAX (lens_net_get_trace_bytes (net), 1);
      batch = (int) CLAMP (SCAN_TRACE_BUDGET / trace_bytes, 1, SCAN_MAX_BATCH);
    }
  batch = (int) MIN ((gint64) batch, total - topk->scanned);
  trace = lens_trace_new (net, batch, error);
  if (trace == NULL)
    return FALSE;
  images = g_new (int, batch);
  plane = (gsize) pre->channels * pre->height * pre->width;

  layers_to_heaps (topk);
  last_save = g_get_monotonic_time ();
  while (topk->scanned < total)
    {
      LensTensor *input = lens_trace_get_input (trace);
      float *in = lens_tensor_get_floats (input);
      int n = (int) MIN ((gint64) batch, total - topk->scanned);

      if (options->stop_after > 0 && done_here >= options->stop_after)
        break;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto out;

      memset (in, 0, lens_tensor_nbytes (input));
      for (int b = 0; b < n; b++)
        {
          images[b] = shard_index + (int) ((topk->scanned + b) * topk->shard_count);
          if (!lens_scan_source_load_input (source, images[b], pre, in + b * plane, error))
            {
              g_autofree char *name = lens_scan_source_dup_name (source, images[b]);

              g_prefix_error (error, "Image %d (%s): ", images[b], name);
              goto out;
            }
        }
      if (!lens_trace_run (trace, cancellable, error))
        goto out;
      for (guint l = 0; l < topk->n_layers; l++)
        collect_batch (topk, &topk->layers[l], lens_trace_get_value (trace, values[l]), images, n);
      topk->scanned += n;
      done_here += n;

      if (options->progress != NULL)
        options->progress (topk->scanned, total, options->user_data);
      if (options->checkpoint_path != NULL && topk->scanned < total &&
          (g_get_monotonic_time () - last_save) / 1e6 >= options->checkpoint_seconds)
        {
          if (!save_checkpoint (topk, options->checkpoint_path, error))
            goto out;
          last_save = g_get_monotonic_time ();
        }
    }
  ok = TRUE;

out:
  layers_to_sorted (topk);
  topk->complete = topk->scanned >= total;
  return ok && topk->complete;
}

/* -- accessors ----------------------------------------------------------- */

int
lens_topk_get_k (const LensTopk *topk)
{
  return topk->k;
}

gboolean
lens_topk_get_complete (const LensTopk *topk)
{
  return topk->complete;
}

gint64
lens_topk_get_scanned (const LensTopk *topk)
{
  return topk->scanned;
}

guint
lens_topk_get_n_layers (const LensTopk *topk)
{
  return topk->n_layers;
}

const LensTopkLayer *
lens_topk_get_layer (const LensTopk *topk,
                     guint           i)
{
  g_return_val_if_fail (i < topk->n_layers, NULL);
  return &topk->layers[i];
}

const LensTopkLayer *
lens_topk_find_layer (const LensTopk *topk,
                      const char     *name)
{
  for (guint i = 0; i < topk->n_layers; i++)
    if (g_strcmp0 (topk->layers[i].name, name) == 0)
      return &topk->layers[i];
  return NULL;
}

const char *
lens_topk_get_model_path (const LensTopk *topk)
{
  return topk->model_path;
}

const char *
lens_topk_get_model_sha256 (const LensTopk *topk)
{
  lens_topk_join_hash (topk, NULL);
  return topk->model_sha256;
}

const char *
lens_topk_get_dataset_spec (const LensTopk *topk)
{
  return topk->dataset_spec;
}

gboolean
lens_topk_check_resume (LensTopk              *topk,
                        LensNet               *net,
                        const char            *model_path,
                        LensScanSource        *source,
                        const char * const    *layers,
                        const LensTopkOptions *options,
                        GError               **error)
{
  g_autoptr(LensTopk) fresh = NULL;

  fresh = lens_topk_new (net, model_path, source, layers, options, error);
  if (fresh == NULL)
    return FALSE;
  if (!lens_topk_same_scan (topk, fresh, error))
    return FALSE;
  if (topk->shards->len != 1 ||
      g_array_index (topk->shards, int, 0) != g_array_index (fresh->shards, int, 0))
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_MISMATCH,
                   "The saved result is of another shard");
      return FALSE;
    }
  return TRUE;
}

/* -- Fig. 2 -------------------------------------------------------------- */

#define RENDER_GAP        2    /* between cells */
#define RENDER_PAIR_GAP   6    /* between the projections and the patches */
#define RENDER_BLOCK_GAP  14   /* between channels */
#define RENDER_MIN_CELL   48
#define RENDER_MAX_CELL   128
#define RENDER_BACKGROUND 32
#define RENDER_EMPTY      72

/* Copies box of src (src_w wide) scaled by f, nearest neighbour, centred
 * in the cell at (cx, cy) of size cell. */
static void
blit_box (guint8       *dst,
          int           dst_w,
          int           cx,
          int           cy,
          int           cell,
          const guint8 *src,
          int           src_w,
          LensBox       box,
          double        f)
{
  int bw = box.x1 - box.x0, bh = box.y1 - box.y0;
  int w = MIN ((int) lround (bw * f), cell), h = MIN ((int) lround (bh * f), cell);
  int ox = cx + (cell - w) / 2, oy = cy + (cell - h) / 2;

  if (bw <= 0 || bh <= 0)
    return;
  for (int v = 0; v < h; v++)
    {
      int sy = box.y0 + MIN ((int) (v / f), bh - 1);

      for (int u = 0; u < w; u++)
        {
          int sx = box.x0 + MIN ((int) (u / f), bw - 1);

          memcpy (dst + ((gsize) (oy + v) * dst_w + ox + u) * 3,
                  src + ((gsize) sy * src_w + sx) * 3, 3);
        }
    }
}

static void
fill_rect (guint8 *dst,
           int     dst_w,
           int     x,
           int     y,
           int     w,
           int     h,
           guint8  level)
{
  for (int v = 0; v < h; v++)
    memset (dst + ((gsize) (y + v) * dst_w + x) * 3, level, (gsize) w * 3);
}

static LensBox
clip_box (LensBox box,
          int     width,
          int     height)
{
  box.x0 = CLAMP (box.x0, 0, width);
  box.x1 = CLAMP (box.x1, box.x0, width);
  box.y0 = CLAMP (box.y0, 0, height);
  box.y1 = CLAMP (box.y1, box.y0, height);
  return box;
}

guint8 *
lens_topk_render (LensTopk             *topk,
                  LensNet              *net,
                  LensScanSource       *source,
                  const LensPreprocess *pre,
                  const char           *layer_name,
                  int                   first,
                  int                   last,
                  int                  *width,
                  int                  *height,
                  GCancellable         *cancellable,
                  GError              **error)
{
  g_autoptr(LensTrace) trace = NULL;
  g_autofree guint8 *out = NULL;
  const LensTopkLayer *layer;
  LensProjectOptions popt = { LENS_PROJECT_DECONV, LENS_START_POINT, 0, 0, LENS_LRN_DEFAULT };
  LensBox centre;
  int value, c, h, w, grid, cell, block_w, block_h, n_channels, cols, rows, img_w, img_h;
  double f;

  g_return_val_if_fail (topk != NULL && net != NULL && source != NULL && pre != NULL, NULL);

  layer = lens_topk_find_layer (topk, layer_name);
  if (layer == NULL)
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_LAYER,
                   "The result has no layer '%s'", layer_name);
      return NULL;
    }
  value = resolve_layer (net, layer->name, &c, &h, &w, error);
  if (value < 0)
    return NULL;
  if (c != layer->channels || h != layer->height || w != layer->width ||
      lens_scan_source_get_n_images (source) != topk->n_images ||
      g_strcmp0 (lens_scan_source_get_digest (source), topk->dataset_sha256) != 0)
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_MISMATCH,
                   "The model or data set is not the one the result was made with");
      return NULL;
    }
  if (first < 0 || last >= layer->channels || first > last)
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_INVALID,
                   "Channels %d-%d are not within 0-%d", first, last, layer->channels - 1);
      return NULL;
    }

  img_w = pre->width;
  img_h = pre->height;
  centre = clip_box (lens_net_receptive_field (net, value, h / 2, h / 2 + 1, w / 2, w / 2 + 1),
                     img_w, img_h);
  cell = MAX (MAX (centre.x1 - centre.x0, centre.y1 - centre.y0), 1);
  f = cell < RENDER_MIN_CELL ? ceil ((double) RENDER_MIN_CELL / cell)
                             : MIN (1.0, (double) RENDER_MAX_CELL / cell);
  cell = MAX ((int) lround (cell * f), 1);

  grid = (int) ceil (sqrt ((double) topk->k));
  n_channels = last - first + 1;
  cols = (int) ceil (sqrt ((double) n_channels));
  rows = (n_channels + cols - 1) / cols;
  block_w = 2 * (grid * cell + (grid - 1) * RENDER_GAP) + RENDER_PAIR_GAP;
  block_h = grid * cell + (grid - 1) * RENDER_GAP;
  *width = cols * block_w + (cols + 1) * RENDER_BLOCK_GAP;
  *height = rows * block_h + (rows + 1) * RENDER_BLOCK_GAP;
  out = g_malloc ((gsize) *width * *height * 3);
  memset (out, RENDER_BACKGROUND, (gsize) *width * *height * 3);

  trace = lens_trace_new (net, 1, error);
  if (trace == NULL)
    return NULL;

  for (int ch = first; ch <= last; ch++)
    {
      int bi = ch - first;
      int bx = RENDER_BLOCK_GAP + (bi % cols) * (block_w + RENDER_BLOCK_GAP);
      int by = RENDER_BLOCK_GAP + (bi / cols) * (block_h + RENDER_BLOCK_GAP);
      const LensTopkEntry *entries = layer->entries + (gsize) ch * topk->k;

      for (int i = 0; i < grid * grid; i++)
        {
          int cx = bx + (i % grid) * (cell + RENDER_GAP);
          int cy = by + (i / grid) * (cell + RENDER_GAP);
          int px = cx + grid * cell + (grid - 1) * RENDER_GAP + RENDER_PAIR_GAP;
          g_autoptr(LensTensor) proj = NULL;
          g_autoptr(LensImage) shown = NULL;
          g_autofree guint8 *proj_rgb = NULL;
          g_autofree guint8 *patch_rgb = NULL;
          LensBox box;
          int pw, ph;

          fill_rect (out, *width, cx, cy, cell, cell, RENDER_EMPTY);
          fill_rect (out, *width, px, cy, cell, cell, RENDER_EMPTY);
          if (i >= topk->k || i >= layer->counts[ch])
            continue;
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return NULL;

          if (!lens_scan_source_load_input (source, entries[i].image, pre,
                                            lens_tensor_get_floats (lens_trace_get_input (trace)),
                                            error) ||
              !lens_trace_run (trace, cancellable, error))
            return NULL;
          popt.x = entries[i].x;
          popt.y = entries[i].y;
          proj = lens_project_channel (trace, value, ch, &popt, &box, NULL, error);
          if (proj == NULL)
            return NULL;
          proj_rgb = lens_projection_to_rgb (proj, pre->bgr, &pw, &ph);
          shown = lens_image_from_tensor (lens_trace_get_input (trace), pre);
          if (proj_rgb == NULL || shown == NULL || pw != img_w || ph != img_h)
            {
              g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_INVALID,
                           "Cannot show the projection of channel %d", ch);
              return NULL;
            }
          patch_rgb = lens_image_to_rgb8 (shown);
          box = clip_box (box, img_w, img_h);
          blit_box (out, *width, cx, cy, cell, proj_rgb, img_w, box, f);
          blit_box (out, *width, px, cy, cell, patch_rgb, img_w, box, f);
        }
    }
  return g_steal_pointer (&out);
}
