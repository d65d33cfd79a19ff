/* lens-occlude-sweep.c: the whole occlusion sweep, its positions split
 * over threads.
 *
 * An incremental batch is a chain of small products (the changed boxes of
 * each layer), which OpenBLAS does not split well over threads: on two
 * cores a sweep ran only 1.4 times faster with two BLAS threads than with
 * one.  So the batches are handed out to workers instead, one per thread
 * allowed, each with its own workspace and buffer pool and BLAS kept to
 * one thread meanwhile (as the projection walks do).  The calling thread
 * only hands out batches, reports progress after each finished batch and
 * checks for cancellation; a batch computes the same sums whichever worker
 * runs it, so the map does not depend on the thread count.
 * The full-recomputation baseline keeps BLAS's own threading unless a
 * thread count is asked for: its large products thread well. */
#define G_LOG_DOMAIN "lens-occlude"

#include "lens-occlude-private.h"

#include <gio/gio.h>
#include <string.h>

#define MAX_WORKERS 16

LensOccluder *
lens_occluder_worker_new (LensOccluder *occ,
                          GError      **error)
{
  LensOccluder *w = g_new0 (LensOccluder, 1);

  /* everything read-only is borrowed; the weights are shared under the lock */
  *w = *occ;
  w->worker = TRUE;
  w->split = FALSE;
  w->helper = NULL;
  w->workspace = lens_aligned_alloc0 (MAX (1, occ->net->workspace_floats) * sizeof (float));
  w->free_blocks = g_ptr_array_new ();
  w->block_caps = g_hash_table_new (NULL, NULL);
  if (w->workspace == NULL)
    {
      g_set_error (error, LENS_OCCLUDE_ERROR, LENS_OCCLUDE_ERROR_ARGS,
                   "Out of memory for an occlusion worker's workspace");
      lens_occluder_worker_free (w);
      return NULL;
    }
  return w;
}

void
lens_occluder_worker_free (LensOccluder *w)
{
  if (w == NULL)
    return;
  g_return_if_fail (w->worker);
  lens_aligned_free (w->workspace);
  lens_occluder_free_blocks (w);
  g_free (w);
}

void
lens_occlusion_map_free (LensOcclusionMap *map)
{
  if (map == NULL)
    return;
  g_free (map->ys);
  g_free (map->xs);
  g_free (map->prob);
  g_free (map->top_class);
  g_free (map->top_prob);
  g_free (map->feature);
  g_free (map);
}

static int
grid (int      extent,
      int      size,
      int      stride,
      gboolean partial,
      int    **out)
{
  int n = 0;
  int *v = g_new (int, extent + 1);

  for (int p = 0; partial ? p < extent : p + size <= extent; p += stride)
    v[n++] = p;
  if (n == 0)
    v[n++] = 0;
  *out = v;
  return n;
}

typedef struct
{
  LensOccluder     *occ;
  LensOcclusionMap *map;
  int               total, batch;
  pthread_mutex_t   lock;
  pthread_cond_t    cond;
  int               next;       /* first position not handed out */
  int               n_done;     /* finished batches */
  int              *done_sizes; /* their sizes, in order of finishing */
  int               running;    /* workers that have not returned */
  gboolean          stop;
  GError           *error;      /* the first worker's error */
} Sweep;

/* Runs positions [start, start + n) with occ and stores them in the map. */
static gboolean
sweep_batch (LensOccluder       *occ,
             LensOcclusionMap   *map,
             int                 start,
             int                 n,
             int                *bx,
             int                *by,
             LensOcclusionPoint *pts,
             GError            **error)
{
  for (int i = 0; i < n; i++)
    {
      by[i] = map->ys[(start + i) / map->n_x];
      bx[i] = map->xs[(start + i) % map->n_x];
    }
  if (!lens_occlude_run_batch (occ, bx, by, n, pts, error))
    return FALSE;
  for (int i = 0; i < n; i++)
    {
      map->prob[start + i] = pts[i].prob;
      map->top_class[start + i] = pts[i].top_class[0];
      map->top_prob[start + i] = pts[i].top_prob[0];
      map->feature[start + i] = pts[i].feature;
    }
  return TRUE;
}

static gpointer
sweep_worker (gpointer data)
{
  Sweep *s = data;
  g_autoptr (GError) error = NULL;
  LensOccluder *w = lens_occluder_worker_new (s->occ, &error);
  g_autofree int *bx = g_new (int, s->batch), *by = g_new (int, s->batch);
  g_autofree LensOcclusionPoint *pts = g_new0 (LensOcclusionPoint, s->batch);

  pthread_mutex_lock (&s->lock);
  while (w != NULL && !s->stop && s->next < s->total)
    {
      int start = s->next, n = MIN (s->batch, s->total - start);
      gboolean ok;

      s->next += n;
      pthread_mutex_unlock (&s->lock);
      ok = sweep_batch (w, s->map, start, n, bx, by, pts, &error);
      pthread_mutex_lock (&s->lock);
      if (!ok)
        break;
      s->done_sizes[s->n_done++] = n;
      pthread_cond_signal (&s->cond);
    }
  if (error != NULL)
    {
      s->stop = TRUE;
      if (s->error == NULL)
        s->error = g_steal_pointer (&error);
    }
  s->running--;
  pthread_cond_signal (&s->cond);
  pthread_mutex_unlock (&s->lock);
  lens_occluder_worker_free (w);
  return NULL;
}

/* The sweep on n_threads workers; this thread reports and cancels. */
static gboolean
sweep_threaded (LensOccluder     *occ,
                LensOcclusionMap *map,
                int               total,
                int               B,
                int               n_threads,
                LensProgressFunc  progress,
                gpointer          user_data,
                GCancellable     *cancellable,
                GError          **error)
{
  Sweep s = { occ, map, total, B };
  GThread *threads[MAX_WORKERS];
  int blas_threads = lens_get_threads (), n_batches = (total + B - 1) / B;
  int started = 0, reported = 0, done_positions = 0;
  gboolean cancelled = FALSE;

  s.done_sizes = g_new0 (int, n_batches);
  pthread_mutex_init (&s.lock, NULL);
  pthread_cond_init (&s.cond, NULL);
  lens_set_threads (1);
  pthread_mutex_lock (&s.lock);
  for (int t = 0; t < n_threads; t++)
    {
      threads[t] = g_thread_try_new ("lens-occlude", sweep_worker, &s,
                                     started == 0 ? &s.error : NULL);
      if (threads[t] == NULL)
        break;   /* go on with the ones that started, if any */
      started++;
    }
  s.running = started;

  /* report finished batches one by one, from this thread */
  while (reported < n_batches)
    {
      while (reported == s.n_done && s.error == NULL && s.running > 0)
        pthread_cond_wait (&s.cond, &s.lock);
      if (s.error != NULL || reported == s.n_done)
        break;
      done_positions += s.done_sizes[reported++];
      pthread_mutex_unlock (&s.lock);
      if (progress != NULL)
        progress ((double) done_positions / total, user_data);
      cancelled = g_cancellable_is_cancelled (cancellable);
      pthread_mutex_lock (&s.lock);
      if (cancelled)
        {
          s.stop = TRUE;
          break;
        }
    }
  pthread_mutex_unlock (&s.lock);
  for (int t = 0; t < started; t++)
    g_thread_join (threads[t]);
  lens_set_threads (blas_threads);

  g_free (s.done_sizes);
  pthread_mutex_destroy (&s.lock);
  pthread_cond_destroy (&s.cond);
  if (s.error != NULL)
    {
      g_propagate_error (error, s.error);
      return FALSE;
    }
  /* cancelled with batches left (a cancel after the last one keeps the map) */
  if (reported < n_batches)
    {
      if (!g_cancellable_set_error_if_cancelled (cancellable, error))
        g_set_error (error, LENS_OCCLUDE_ERROR, LENS_OCCLUDE_ERROR_ARGS,
                     "The occlusion sweep stopped before its end");
      return FALSE;
    }
  return TRUE;
}

LensOcclusionMap *
lens_occluder_sweep (LensOccluder     *occ,
                     LensProgressFunc  progress,
                     gpointer          user_data,
                     GCancellable     *cancellable,
                     GError          **error)
{
  g_autoptr (LensOcclusionMap) map = g_new0 (LensOcclusionMap, 1);
  int stride = occ->opts.stride > 0 ? occ->opts.stride : MAX (1, occ->opts.size / 4);
  int total, n_batches, n_threads, B = occ->opts.batch > 0 ? occ->opts.batch : 32;
  g_autofree int *bx = NULL, *by = NULL;
  g_autofree LensOcclusionPoint *pts = NULL;

  g_return_val_if_fail (!occ->worker, NULL);
  map->size = occ->opts.size;
  map->stride = stride;
  map->n_y = grid (occ->H, occ->opts.size, stride, occ->opts.partial, &map->ys);
  map->n_x = grid (occ->W, occ->opts.size, stride, occ->opts.partial, &map->xs);
  total = map->n_y * map->n_x;
  map->prob = g_new (float, total);
  map->top_class = g_new (int, total);
  map->top_prob = g_new (float, total);
  map->feature = g_new (float, total);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  n_batches = (total + B - 1) / B;
  if (occ->opts.threads > 0)
    n_threads = occ->opts.threads;
  else
    n_threads = occ->opts.full ? 1 : lens_get_threads ();
  n_threads = MIN (MIN (n_threads, n_batches), MAX_WORKERS);
  if (n_threads > 1)
    {
      if (!sweep_threaded (occ, map, total, B, n_threads, progress, user_data, cancellable,
                           error))
        return NULL;
      return g_steal_pointer (&map);
    }

  bx = g_new (int, B);
  by = g_new (int, B);
  pts = g_new0 (LensOcclusionPoint, B);
  for (int start = 0; start < total; start += B)
    {
      int n = MIN (B, total - start);

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      if (!sweep_batch (occ, map, start, n, bx, by, pts, error))
        return NULL;
      if (progress != NULL)
        progress ((double) (start + n) / total, user_data);
    }
  return g_steal_pointer (&map);
}
