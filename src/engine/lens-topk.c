/* lens-topk.c: the strongest activations of every channel over a data set
 *
 * See lens-topk.h for the ordering of candidates and docs/analyses.md for
 * the file format.  In this file: image sources, the bounded heaps and the
 * scan, the JSON file and merging, and the Fig. 2 rendering.
 */
#define G_LOG_DOMAIN "lens-topk"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "lens-dataset.h"
#include "lens-file.h"
#include "lens-project.h"
#include "lens-topk.h"

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

static gboolean lens_topk_same_scan (const LensTopk *a,
                                     const LensTopk *b,
                                     GError        **error);

G_DEFINE_QUARK (lens-topk-error-quark, lens_topk_error)

/* Default trace memory for a scan batch (activations of every layer are
 * kept by a trace, so big models get small batches). */
#define SCAN_TRACE_BUDGET ((gsize) 256 * 1024 * 1024)
#define SCAN_MAX_BATCH    32
/* Folders deeper than this are not followed (symlink loops). */
#define MAX_FOLDER_DEPTH  32

/* -- image sources ------------------------------------------------------ */

struct _LensScanSource
{
  char        *spec;
  char        *kind;
  char        *digest;
  int          n_images;
  /* fashion-mnist */
  LensDataset *dataset;
  char        *split;
  /* folder */
  char        *root;
  GPtrArray   *files;    /* relative paths, sorted */
};

void
lens_scan_source_free (LensScanSource *source)
{
  if (source == NULL)
    return;
  g_free (source->spec);
  g_free (source->kind);
  g_free (source->digest);
  g_clear_pointer (&source->dataset, lens_dataset_free);
  g_free (source->split);
  g_free (source->root);
  g_clear_pointer (&source->files, g_ptr_array_unref);
  g_free (source);
}

static gboolean
is_image_name (const char *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);

  return g_str_has_suffix (lower, ".png") || g_str_has_suffix (lower, ".jpg") ||
         g_str_has_suffix (lower, ".jpeg");
}

static gboolean
collect_files (const char *root,
               const char *rel,
               int         depth,
               GPtrArray  *files,
               GError    **error)
{
  g_autofree char *dir_path = rel ? g_build_filename (root, rel, NULL) : g_strdup (root);
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (depth > MAX_FOLDER_DEPTH)
    return TRUE;
  dir = g_dir_open (dir_path, 0, error);
  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child_rel = rel ? g_build_filename (rel, name, NULL) : g_strdup (name);
      g_autofree char *child = g_build_filename (root, child_rel, NULL);

      if (name[0] == '.')
        continue;
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        {
          if (!collect_files (root, child_rel, depth + 1, files, error))
            return FALSE;
        }
      else if (is_image_name (name))
        g_ptr_array_add (files, g_steal_pointer (&child_rel));
    }
  return TRUE;
}

static int
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

LensScanSource *
lens_scan_source_open (const char *spec,
                       GError    **error)
{
  g_autoptr(LensScanSource) source = NULL;

  g_return_val_if_fail (spec != NULL, NULL);

  source = g_new0 (LensScanSource, 1);
  source->spec = g_strdup (spec);

  if (g_strcmp0 (spec, "fashion-mnist") == 0 || g_str_has_prefix (spec, "fashion-mnist:"))
    {
      g_autoptr(GError) local = NULL;
      const char *split = spec[strlen ("fashion-mnist")] == ':' ? spec + strlen ("fashion-mnist:")
                                                               : "test";
      gsize n_bytes;

      source->kind = g_strdup ("fashion-mnist");
      source->split = g_strdup (split);
      source->dataset = lens_dataset_load_fashion_mnist (NULL, split, &local);
      if (source->dataset == NULL)
        {
          g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_DATASET, "%s", local->message);
          return NULL;
        }
      source->n_images = source->dataset->n;
      n_bytes = (gsize) source->dataset->n * source->dataset->channels *
                source->dataset->height * source->dataset->width;
      source->digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                                    source->dataset->pixels, n_bytes);
    }
  else
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

      source->kind = g_strdup ("folder");
      source->root = g_strdup (spec);
      source->files = g_ptr_array_new_with_free_func (g_free);
      if (!g_file_test (spec, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_DATASET,
                       "'%s' is neither a folder of images nor 'fashion-mnist[:test|:train]'",
                       spec);
          return NULL;
        }
      if (!collect_files (spec, NULL, 0, source->files, &local))
        {
          g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_DATASET, "'%s': %s", spec,
                       local->message);
          return NULL;
        }
      g_ptr_array_sort (source->files, compare_paths);
      if (source->files->len == 0 || source->files->len > G_MAXINT)
        {
          g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_DATASET,
                       "No PNG or JPEG images found below '%s'", spec);
          return NULL;
        }
      for (guint i = 0; i < source->files->len; i++)
        {
          const char *name = g_ptr_array_index (source->files, i);

          g_checksum_update (sum, (const guchar *) name, strlen (name));
          g_checksum_update (sum, (const guchar *) "\n", 1);
        }
      source->n_images = (int) source->files->len;
      source->digest = g_strdup (g_checksum_get_string (sum));
    }
  return g_steal_pointer (&source);
}

int
lens_scan_source_get_n_images (const LensScanSource *source)
{
  return source->n_images;
}

const char *
lens_scan_source_get_kind (const LensScanSource *source)
{
  return source->kind;
}

const char *
lens_scan_source_get_spec (const LensScanSource *source)
{
  return source->spec;
}

const char *
lens_scan_source_get_digest (const LensScanSource *source)
{
  return source->digest;
}

char *
lens_scan_source_dup_name (const LensScanSource *source,
                           int                   i)
{
  g_return_val_if_fail (i >= 0 && i < source->n_images, NULL);

  if (source->dataset != NULL)
    return g_strdup_printf ("%s #%d", source->split, i);
  return g_strdup (g_ptr_array_index (source->files, i));
}

LensImage *
lens_scan_source_load_image (LensScanSource *source,
                             int             i,
                             GError        **error)
{
  g_return_val_if_fail (i >= 0 && i < source->n_images, NULL);

  if (source->dataset != NULL)
    {
      const LensDataset *ds = source->dataset;
      gsize plane = (gsize) ds->height * ds->width;
      const guint8 *px = ds->pixels + (gsize) i * ds->channels * plane;
      LensImage *image = lens_image_new (ds->width, ds->height);

      for (gsize p = 0; p < plane; p++)
        for (int c = 0; c < 3; c++)
          image->rgb[p * 3 + c] = px[(ds->channels == 3 ? c : 0) * plane + p] / 255.0f;
      return image;
    }
  else
    {
      g_autofree char *path = g_build_filename (source->root,
                                                g_ptr_array_index (source->files, i), NULL);

      return lens_image_load (path, error);
    }
}

gboolean
lens_scan_source_load_input (LensScanSource       *source,
                             int                   i,
                             const LensPreprocess *pre,
                             float                *out,
                             GError              **error)
{
  g_autoptr(LensImage) image = NULL;
  g_autoptr(LensTensor) tensor = NULL;
  const LensDataset *ds = source->dataset;
  gsize plane = (gsize) pre->height * pre->width;

  /* An idx image that already has the input's size: straight from the
   * bytes, (p / 255 * scale - mean) / std, with no colour round trip. */
  if (ds != NULL && ds->height == pre->height && ds->width == pre->width &&
      (ds->channels == pre->channels || ds->channels == 1) && pre->resize_shorter == 0)
    {
      const guint8 *px = ds->pixels + (gsize) i * ds->channels * plane;

      for (int c = 0; c < pre->channels; c++)
        {
          int sc = pre->bgr ? 2 - c : c;
          const guint8 *src = px + (ds->channels == 1 ? 0 : (gsize) sc * plane);
          for (gsize p = 0; p < plane; p++)
            out[c * plane + p] = ((float) src[p] / 255.0f * pre->scale - pre->mean[c]) /
                                 pre->std[c];
        }
      return TRUE;
    }

  image = lens_scan_source_load_image (source, i, error);
  if (image == NULL)
    return FALSE;
  tensor = lens_image_to_tensor (image, pre, error);
  if (tensor == NULL)
    return FALSE;
  memcpy (out, lens_tensor_get_floats (tensor), plane * pre->channels * sizeof (float));
  return TRUE;
}

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

static gboolean join_hash (const LensTopk *topk,
                           GError        **error);

void
lens_topk_free (LensTopk *topk)
{
  if (topk == NULL)
    return;
  g_atomic_int_set (&topk->hash_cancel, 1);
  join_hash (topk, NULL);
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

static LensTopk *
lens_topk_alloc (guint n_layers)
{
  LensTopk *topk = g_new0 (LensTopk, 1);

  topk->shards = g_array_new (FALSE, FALSE, sizeof (int));
  topk->n_layers = n_layers;
  topk->layers = g_new0 (LensTopkLayer, n_layers);
  return topk;
}

static gboolean
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
static inline gboolean
entry_better (const LensTopkEntry *a,
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

static int
lens_topk_entry_compare (gconstpointer pa,
                         gconstpointer pb)
{
  const LensTopkEntry *a = pa, *b = pb;

  if (entry_better (a, b))
    return -1;
  if (entry_better (b, a))
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

      if (l < n && entry_better (&heap[worst], &heap[l]))
        worst = l;
      if (r < n && entry_better (&heap[worst], &heap[r]))
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

      if (!entry_better (&heap[parent], &heap[i]))
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
  else if (k > 0 && entry_better (candidate, &heap[0]))
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
static gboolean
join_hash (const LensTopk *ctopk,
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
  join_hash (topk, NULL);
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

/* -- the result file ----------------------------------------------------- */

#define FORMAT_NAME    "convlens-topk"
#define FORMAT_VERSION 1

static void
append_json_string (GString    *out,
                    const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      guchar ch = (guchar) *p;

      if (ch == '"' || ch == '\\')
        g_string_append_printf (out, "\\%c", ch);
      else if (ch < 0x20)
        g_string_append_printf (out, "\\u%04x", ch);
      else
        g_string_append_c (out, (char) ch);
    }
  g_string_append_c (out, '"');
}

/* Valid UTF-8 for the JSON file (paths may be anything). */
static void
append_json_path (GString    *out,
                  const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  append_json_string (out, valid);
}

static void
append_float (GString *out,
              float    value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* Nine significant digits identify a float exactly. */
  g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.9g", (double) value));
}

char *
lens_topk_to_json (LensTopk *topk)
{
  GString *out = g_string_new (NULL);

  join_hash (topk, NULL);
  g_string_append_printf (out, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n",
                          FORMAT_NAME, FORMAT_VERSION);
  g_string_append (out, "  \"model\": {\"path\": ");
  append_json_path (out, topk->model_path);
  g_string_append_printf (out, ", \"size\": %" G_GINT64_FORMAT ", \"sha256\": ",
                          topk->model_size);
  append_json_string (out, topk->model_sha256 != NULL ? topk->model_sha256 : "");
  g_string_append (out, "},\n");
  g_string_append (out, "  \"dataset\": {\"spec\": ");
  append_json_path (out, topk->dataset_spec);
  g_string_append (out, ", \"kind\": ");
  append_json_string (out, topk->dataset_kind);
  g_string_append_printf (out, ", \"n_images\": %d, \"sha256\": ", topk->n_images);
  append_json_string (out, topk->dataset_sha256);
  g_string_append (out, "},\n");
  g_string_append_printf (out, "  \"k\": %d,\n  \"all_positions\": %s,\n  \"limit\": %d,\n",
                          topk->k, topk->all_positions ? "true" : "false", topk->limit);
  g_string_append_printf (out, "  \"shard_count\": %d,\n  \"shards\": [", topk->shard_count);
  for (guint i = 0; i < topk->shards->len; i++)
    g_string_append_printf (out, "%s%d", i ? ", " : "", g_array_index (topk->shards, int, i));
  g_string_append_printf (out, "],\n  \"scanned\": %" G_GINT64_FORMAT ",\n  \"complete\": %s,\n",
                          topk->scanned, topk->complete ? "true" : "false");
  g_string_append (out, "  \"layers\": [");
  for (guint l = 0; l < topk->n_layers; l++)
    {
      const LensTopkLayer *layer = &topk->layers[l];

      g_string_append (out, l ? ",\n    {\"name\": " : "\n    {\"name\": ");
      append_json_string (out, layer->name);
      g_string_append_printf (out, ", \"channels\": %d, \"height\": %d, \"width\": %d,\n"
                              "     \"top\": [", layer->channels, layer->height, layer->width);
      for (int c = 0; c < layer->channels; c++)
        {
          const LensTopkEntry *e = layer->entries + (gsize) c * topk->k;

          g_string_append (out, c ? ",\n       [" : "\n       [");
          for (int i = 0; i < layer->counts[c]; i++)
            {
              g_string_append_printf (out, "%s[%d, %d, %d, ", i ? ", " : "", e[i].image, e[i].y,
                                      e[i].x);
              append_float (out, e[i].value);
              g_string_append_c (out, ']');
            }
          g_string_append_c (out, ']');
        }
      g_string_append (out, "]}");
    }
  g_string_append (out, "\n  ]\n}\n");
  return g_string_free (out, FALSE);
}

gboolean
lens_topk_save (LensTopk    *topk,
                const char  *path,
                GError     **error)
{
  g_autofree char *json = NULL;
  g_autoptr(GError) local = NULL;

  if (!join_hash (topk, error))
    return FALSE;
  json = lens_topk_to_json (topk);
  if (!lens_file_write_atomic (path, json, strlen (json), &local))
    {
      g_set_error_literal (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_IO, local->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
format_error (GError    **error,
              const char *what)
{
  g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_FORMAT,
               "Not a valid top-k result: %s", what);
  return FALSE;
}

static JsonNode *
member (JsonObject *object,
        const char *name,
        GType       type)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  if (node == NULL)
    return NULL;
  if (type == JSON_TYPE_OBJECT)
    return JSON_NODE_HOLDS_OBJECT (node) ? node : NULL;
  if (type == JSON_TYPE_ARRAY)
    return JSON_NODE_HOLDS_ARRAY (node) ? node : NULL;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != type)
    return NULL;
  return node;
}

static gboolean
get_int (JsonObject *object,
         const char *name,
         gint64      min,
         gint64      max,
         gint64     *out)
{
  JsonNode *node = member (object, name, G_TYPE_INT64);

  if (node == NULL)
    return FALSE;
  *out = json_node_get_int (node);
  return *out >= min && *out <= max;
}

static char *
dup_string (JsonObject *object,
            const char *name)
{
  JsonNode *node = member (object, name, G_TYPE_STRING);

  return node ? g_strdup (json_node_get_string (node)) : NULL;
}

static gboolean
parse_entry (JsonNode            *node,
             const LensTopkLayer *layer,
             int                  n_images,
             LensTopkEntry       *entry)
{
  JsonArray *a;
  gint64 v[3];

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;
  a = json_node_get_array (node);
  if (json_array_get_length (a) != 4)
    return FALSE;
  for (int i = 0; i < 3; i++)
    {
      JsonNode *n = json_array_get_element (a, i);

      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
        return FALSE;
      v[i] = json_node_get_int (n);
    }
  node = json_array_get_element (a, 3);
  if (!JSON_NODE_HOLDS_VALUE (node) || (json_node_get_value_type (node) != G_TYPE_DOUBLE &&
                                        json_node_get_value_type (node) != G_TYPE_INT64))
    return FALSE;
  if (v[0] < 0 || v[0] >= n_images || v[1] < 0 || v[1] >= layer->height || v[2] < 0 ||
      v[2] >= layer->width)
    return FALSE;
  entry->image = (int) v[0];
  entry->y = (int) v[1];
  entry->x = (int) v[2];
  entry->value = (float) json_node_get_double (node);
  return isfinite (entry->value);
}

static gboolean
parse_layer (JsonNode      *node,
             LensTopk      *topk,
             LensTopkLayer *layer,
             GError       **error)
{
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  g_autofree char *name = dup_string (o, "name");
  gint64 c, h, w;
  JsonNode *top = member (o, "top", JSON_TYPE_ARRAY);
  JsonArray *channels;

  if (name == NULL || !get_int (o, "channels", 1, G_MAXINT, &c) ||
      !get_int (o, "height", 1, G_MAXINT, &h) || !get_int (o, "width", 1, G_MAXINT, &w) ||
      top == NULL)
    return format_error (error, "a layer lacks name, channels, height, width or top");
  if (!lens_topk_layer_init (layer, name, (int) c, (int) h, (int) w, topk->k, error))
    return FALSE;
  channels = json_node_get_array (top);
  if (json_array_get_length (channels) != (guint) c)
    return format_error (error, "the number of channels does not match 'top'");
  for (int ch = 0; ch < c; ch++)
    {
      JsonNode *list = json_array_get_element (channels, ch);
      JsonArray *entries;
      LensTopkEntry *e = layer->entries + (gsize) ch * topk->k;
      guint n;

      if (!JSON_NODE_HOLDS_ARRAY (list))
        return format_error (error, "a channel's entries are not a list");
      entries = json_node_get_array (list);
      n = json_array_get_length (entries);
      if (n > (guint) topk->k)
        return format_error (error, "a channel has more than k entries");
      for (guint i = 0; i < n; i++)
        if (!parse_entry (json_array_get_element (entries, i), layer, topk->n_images, &e[i]))
          return format_error (error, "an entry is not [image, y, x, value] in range");
      layer->counts[ch] = (int) n;
      for (guint i = 1; i < n; i++)
        if (!entry_better (&e[i - 1], &e[i]))
          return format_error (error, "a channel's entries are not in order");
    }
  return TRUE;
}

LensTopk *
lens_topk_load_data (const char *json,
                     gssize      length,
                     GError    **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local = NULL;
  g_autoptr(LensTopk) topk = NULL;
  JsonObject *root, *model, *dataset;
  JsonNode *node, *shards, *layers, *all, *complete;
  g_autofree char *format = NULL;
  gint64 version = 0, v;

  /* json-glib recurses per nesting level: refuse deep nesting first */
  if (!lens_file_check_json_depth (json, length < 0 ? strlen (json) : (gsize) length,
                                   LENS_FILE_MAX_JSON_DEPTH, "The top-k result", &local) ||
      !json_parser_load_from_data (parser, json, length, &local))
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_FORMAT,
                   "Not a valid top-k result: %s", local->message);
      return NULL;
    }
  node = json_parser_get_root (parser);
  root = node && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  format = dup_string (root, "format");
  if (g_strcmp0 (format, FORMAT_NAME) != 0)
    {
      format_error (error, "the 'format' member is not \"" FORMAT_NAME "\"");
      return NULL;
    }
  if (!get_int (root, "version", 1, G_MAXINT, &version) || version != FORMAT_VERSION)
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_FORMAT,
                   "Top-k result format version %" G_GINT64_FORMAT " is not supported",
                   version);
      return NULL;
    }
  node = member (root, "model", JSON_TYPE_OBJECT);
  model = node ? json_node_get_object (node) : NULL;
  node = member (root, "dataset", JSON_TYPE_OBJECT);
  dataset = node ? json_node_get_object (node) : NULL;
  layers = member (root, "layers", JSON_TYPE_ARRAY);
  shards = member (root, "shards", JSON_TYPE_ARRAY);
  all = member (root, "all_positions", G_TYPE_BOOLEAN);
  complete = member (root, "complete", G_TYPE_BOOLEAN);
  if (model == NULL || dataset == NULL || layers == NULL || shards == NULL || all == NULL ||
      complete == NULL)
    {
      format_error (error, "model, dataset, layers, shards, all_positions or complete is missing");
      return NULL;
    }

  topk = lens_topk_alloc (json_array_get_length (json_node_get_array (layers)));
  topk->model_path = dup_string (model, "path");
  topk->model_sha256 = dup_string (model, "sha256");
  topk->dataset_spec = dup_string (dataset, "spec");
  topk->dataset_kind = dup_string (dataset, "kind");
  topk->dataset_sha256 = dup_string (dataset, "sha256");
  if (topk->model_path == NULL || topk->model_sha256 == NULL || topk->dataset_spec == NULL ||
      topk->dataset_kind == NULL || topk->dataset_sha256 == NULL ||
      !get_int (model, "size", 0, G_MAXINT64, &topk->model_size))
    {
      format_error (error, "the model or dataset description is incomplete");
      return NULL;
    }
  if (!get_int (dataset, "n_images", 1, G_MAXINT, &v))
    {
      format_error (error, "dataset.n_images is missing or out of range");
      return NULL;
    }
  topk->n_images = (int) v;
  if (!get_int (root, "k", 1, 4096, &v))
    {
      format_error (error, "k is missing or out of range");
      return NULL;
    }
  topk->k = (int) v;
  if (!get_int (root, "limit", 0, topk->n_images, &v))
    {
      format_error (error, "limit is missing or out of range");
      return NULL;
    }
  topk->limit = (int) v;
  if (!get_int (root, "shard_count", 1, G_MAXINT, &v))
    {
      format_error (error, "shard_count is missing or out of range");
      return NULL;
    }
  topk->shard_count = (int) v;
  if (!get_int (root, "scanned", 0, topk->limit, &topk->scanned))
    {
      format_error (error, "scanned is missing or out of range");
      return NULL;
    }
  topk->all_positions = json_node_get_boolean (all);
  topk->complete = json_node_get_boolean (complete);

  {
    JsonArray *a = json_node_get_array (shards);
    guint n = json_array_get_length (a);

    for (guint i = 0; i < n; i++)
      {
        JsonNode *s = json_array_get_element (a, i);
        int index;

        if (!JSON_NODE_HOLDS_VALUE (s) || json_node_get_value_type (s) != G_TYPE_INT64 ||
            json_node_get_int (s) < 0 || json_node_get_int (s) >= topk->shard_count ||
            (i > 0 && json_node_get_int (s) <= g_array_index (topk->shards, int, i - 1)))
          {
            format_error (error, "shards must be ascending indices below shard_count");
            return NULL;
          }
        index = (int) json_node_get_int (s);
        g_array_append_val (topk->shards, index);
      }
    if (n == 0)
      {
        format_error (error, "the list of shards is empty");
        return NULL;
      }
  }

  for (guint l = 0; l < topk->n_layers; l++)
    if (!parse_layer (json_array_get_element (json_node_get_array (layers), l), topk,
                      &topk->layers[l], error))
      return NULL;
  if (topk->n_layers == 0)
    {
      format_error (error, "there are no layers");
      return NULL;
    }
  return g_steal_pointer (&topk);
}

LensTopk *
lens_topk_load (const char  *path,
                GError     **error)
{
  g_autofree char *data = NULL;
  g_autoptr(GError) local = NULL;
  LensTopk *topk;
  gsize length;

  if (!g_file_get_contents (path, &data, &length, &local))
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_IO, "%s", local->message);
      return NULL;
    }
  topk = lens_topk_load_data (data, (gssize) length, error);
  if (topk == NULL)
    g_prefix_error (error, "'%s': ", path);
  return topk;
}

/* -- merging ------------------------------------------------------------- */

static gboolean
lens_topk_same_scan (const LensTopk *a,
                     const LensTopk *b,
                     GError        **error)
{
  const char *what = NULL;

  if (!join_hash (a, error) || !join_hash (b, error))
    return FALSE;
  if (g_strcmp0 (a->model_sha256, b->model_sha256) != 0 || a->model_size != b->model_size)
    what = "the model files differ";
  else if (g_strcmp0 (a->dataset_sha256, b->dataset_sha256) != 0 ||
           g_strcmp0 (a->dataset_kind, b->dataset_kind) != 0 || a->n_images != b->n_images)
    what = "the data sets differ";
  else if (a->k != b->k || a->all_positions != b->all_positions)
    what = "k or all_positions differ";
  else if (a->limit != b->limit)
    what = "the scanned image ranges (--limit) differ";
  else if (a->shard_count != b->shard_count)
    what = "the numbers of shards differ";
  else if (a->n_layers != b->n_layers)
    what = "the layers differ";
  else
    for (guint l = 0; l < a->n_layers && what == NULL; l++)
      if (g_strcmp0 (a->layers[l].name, b->layers[l].name) != 0 ||
          a->layers[l].channels != b->layers[l].channels ||
          a->layers[l].height != b->layers[l].height || a->layers[l].width != b->layers[l].width)
        what = "the layers differ";
  if (what != NULL)
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_MISMATCH,
                   "The results are not of the same scan: %s", what);
      return FALSE;
    }
  return TRUE;
}

LensTopk *
lens_topk_merge (LensTopk **parts,
                 guint      n_parts,
                 GError   **error)
{
  g_autoptr(LensTopk) out = NULL;
  g_autofree gboolean *seen = NULL;
  const LensTopk *first;
  guint n_seen = 0;

  g_return_val_if_fail (parts != NULL && n_parts > 0, NULL);

  first = parts[0];
  seen = g_new0 (gboolean, first->shard_count);
  for (guint p = 0; p < n_parts; p++)
    {
      if (!lens_topk_same_scan (first, parts[p], error))
        return NULL;
      if (!parts[p]->complete)
        {
          g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_MISMATCH,
                       "Part %u is an unfinished scan (resume it first)", p + 1);
          return NULL;
        }
      for (guint s = 0; s < parts[p]->shards->len; s++)
        {
          int index = g_array_index (parts[p]->shards, int, s);

          if (seen[index])
            {
              g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_MISMATCH,
                           "Shard %d/%d is given more than once", index, first->shard_count);
              return NULL;
            }
          seen[index] = TRUE;
          n_seen++;
        }
    }

  out = lens_topk_alloc (first->n_layers);
  out->model_path = g_strdup (first->model_path);
  out->model_sha256 = g_strdup (first->model_sha256);
  out->model_size = first->model_size;
  out->dataset_spec = g_strdup (first->dataset_spec);
  out->dataset_kind = g_strdup (first->dataset_kind);
  out->dataset_sha256 = g_strdup (first->dataset_sha256);
  out->n_images = first->n_images;
  out->k = first->k;
  out->all_positions = first->all_positions;
  out->limit = first->limit;
  out->complete = TRUE;
  if (n_seen == (guint) first->shard_count)
    {
      /* Every shard: exactly the unsharded scan. */
      int zero = 0;

      out->shard_count = 1;
      g_array_append_val (out->shards, zero);
    }
  else
    {
      out->shard_count = first->shard_count;
      for (int s = 0; s < first->shard_count; s++)
        if (seen[s])
          g_array_append_val (out->shards, s);
    }

  for (guint l = 0; l < out->n_layers; l++)
    {
      const LensTopkLayer *fl = &first->layers[l];
      LensTopkLayer *layer = &out->layers[l];
      g_autofree LensTopkEntry *pool = g_new (LensTopkEntry, (gsize) n_parts * out->k);

      if (!lens_topk_layer_init (layer, fl->name, fl->channels, fl->height, fl->width, out->k,
                                 error))
        return NULL;
      for (int c = 0; c < layer->channels; c++)
        {
          int n = 0;

          for (guint p = 0; p < n_parts; p++)
            {
              const LensTopkLayer *pl = &parts[p]->layers[l];

              memcpy (pool + n, pl->entries + (gsize) c * out->k,
                      pl->counts[c] * sizeof (LensTopkEntry));
              n += pl->counts[c];
            }
          qsort (pool, n, sizeof (LensTopkEntry), lens_topk_entry_compare);
          layer->counts[c] = MIN (n, out->k);
          memcpy (layer->entries + (gsize) c * out->k, pool,
                  layer->counts[c] * sizeof (LensTopkEntry));
        }
    }
  for (guint p = 0; p < n_parts; p++)
    out->scanned += parts[p]->scanned;
  return g_steal_pointer (&out);
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
