/* conv-direct.c: stride-1 convolution straight from a padded copy of the
 * input, with AVX-512 (no im2col).
 *
 * Each input plane is copied once into the workspace with its padding
 * made explicit, Hp x Wp.  With stride 1, output pixel (y, x) reads the
 * padded input at (y + ki*dh) * Wp + (x + kj*dw): the same flat offset
 * for every pixel, so a run of consecutive flat positions is one
 * contiguous vector load per tap.  The kernel computes outputs over
 * flat positions y * Wp + x (including Wp - OW garbage columns per row,
 * which are computed and dropped) in tiles of 8 output channels x 48
 * positions held in 24 zmm registers, summing over input channels and
 * taps with one load per 16 positions and one broadcast per weight.
 * The rows the next channels will read are prefetched: consecutive
 * channels are a plane apart, too far for the hardware prefetcher, and
 * without this the kernel ran at about half its speed.  Tiles are
 * grouped into bands whose input fits in L2, and the bands x
 * output-channel chunks are handed out to the threads
 * (lens_get_threads ()) from a shared counter, so a busy core does not
 * hold the others up.  Threads wait on a condition, never spin, and run
 * at the priority of the thread that asked (the window lowers its
 * engine thread's). */
#define G_LOG_DOMAIN "conv"

#include "conv-direct.h"

#include <immintrin.h>
#include <pthread.h>
#include <string.h>

#include "lens-platform.h"

#define VEC        16              /* floats per zmm */
#define NV         3               /* zmm per channel in a tile */
#define TILE       (NV * VEC)      /* flat positions per tile */
#define OCB        8               /* output channels per tile */
#define OC_CHUNK   (2 * OCB)       /* output channels per work item */
#define BAND_BYTES (512 * 1024)    /* input read by one band, to stay in L2 */
#define PREFETCH_AHEAD 2           /* channels */
#define MAX_TAPS   256             /* larger kernels use im2col */

/* ---- a small work-sharing runner (no spinning) ---- */

typedef void (*ItemFunc) (gpointer data, int64_t item);

typedef struct
{
  ItemFunc        func;
  gpointer        data;
  gint64          n_items;
  gssize          next;       /* atomic */
  int             pending;    /* helper tasks not finished, under lock */
  /* pthread's own (GLib's GMutex is raw futexes, which ThreadSanitizer
   * cannot see) */
  pthread_mutex_t lock;
  pthread_cond_t  done;
  int             nice;       /* of the thread that runs the job */
} Job;

/* Linux keeps a nice value per thread.  The pool's threads are started by
 * GLib, not by the thread that asks, so they would not inherit a lowered
 * priority: each helper takes the asking thread's before it works.  The
 * value is cached per thread (nobody else changes it); without privilege
 * a thread can only lower its priority, and a failed raise is left be. */
#define NICE_UNKNOWN (-1000)

static __thread int thread_nice = NICE_UNKNOWN;

static int
current_nice (void)
{
  if (thread_nice == NICE_UNKNOWN)
    thread_nice = lens_thread_get_nice ();
  return thread_nice;
}

static void
follow_nice (int nice)
{
  if (nice != current_nice () && lens_thread_set_nice (nice))
    thread_nice = nice;
}

static void
job_work (Job *job)
{
  for (;;)
    {
      gssize i = g_atomic_pointer_add (&job->next, 1);

      if (i >= job->n_items)
        break;
      job->func (job->data, i);
    }
}

static void
helper_func (gpointer task,
             gpointer user_data)
{
  Job *job = task;

  /* The job came through GLib's queue, which ThreadSanitizer cannot see;
   * taking its lock once orders this thread after the fields were set. */
  pthread_mutex_lock (&job->lock);
  pthread_mutex_unlock (&job->lock);
  follow_nice (job->nice);
  job_work (job);
  pthread_mutex_lock (&job->lock);
  if (--job->pending == 0)
    pthread_cond_signal (&job->done);
  pthread_mutex_unlock (&job->lock);
}

static gpointer
pool_new (gpointer data)
{
  int n = MAX (1, (int) g_get_num_processors () - 1);

  return g_thread_pool_new (helper_func, NULL, MAX (n, 7), FALSE, NULL);
}

/* Runs func (data, i) for i in [0, n_items) on up to lens_get_threads ()
 * threads, this one included; returns when all are done. */
static void
run_items (ItemFunc func,
           gpointer data,
           int64_t  n_items)
{
  static GOnce once = G_ONCE_INIT;
  int threads = (int) MIN ((int64_t) lens_get_threads (), n_items);
  GThreadPool *pool;
  Job job = { func, data, n_items, 0, 0 };

  if (threads <= 1 || (pool = g_once (&once, pool_new, NULL)) == NULL)
    {
      for (int64_t i = 0; i < n_items; i++)
        func (data, i);
      return;
    }
  pthread_mutex_init (&job.lock, NULL);
  pthread_cond_init (&job.done, NULL);
  job.nice = current_nice ();
  /* counted before any helper can finish.  A push queues the task even
   * when it fails to start a new thread (the pool's other threads take
   * it), so its result does not change the count. */
  pthread_mutex_lock (&job.lock);
  job.pending = threads - 1;
  pthread_mutex_unlock (&job.lock);
  for (int t = 1; t < threads; t++)
    g_thread_pool_push (pool, &job, NULL);
  job_work (&job);
  pthread_mutex_lock (&job.lock);
  while (job.pending > 0)
    pthread_cond_wait (&job.done, &job.lock);
  pthread_mutex_unlock (&job.lock);
  pthread_mutex_destroy (&job.lock);
  pthread_cond_destroy (&job.done);
}

/* ---- geometry ---- */

typedef struct
{
  /* shapes */
  int64_t c, h, w, m, oh, ow, g, cg, mg;
  int64_t hp, wp, plane;        /* padded input plane */
  int64_t flat;                 /* oh * wp: flat output positions per plane */
  int64_t band;                 /* flat positions per band (multiple of TILE) */
  int64_t n_bands, n_chunks, stage_chunk;
  int     n_taps;
  int     row_extra;            /* cache lines a row of taps reads past the tile */
  int64_t offs[MAX_TAPS];
  /* data */
  const LensOpParams *p;
  const float *x, *wt, *bias;
  float *y, *ws;
} Conv;

gboolean
lens_conv_direct_usable (const LensOpParams *p)
{
  static gint enabled = -1;

  if (p->strides[0] != 1 || p->strides[1] != 1 || p->kernel[0] * p->kernel[1] > MAX_TAPS)
    return FALSE;
  if (g_atomic_int_get (&enabled) < 0)
    g_atomic_int_set (&enabled, lens_cpu_avx512 ("LENS_CONV_DIRECT") ? 1 : 0);
  return g_atomic_int_get (&enabled) == 1;
}

static inline int64_t
slack_floats (const LensOpParams *p)
{
  return TILE + (int64_t) (p->kernel[1] - 1) * p->dilations[1] + 2 * VEC;
}

gsize
lens_conv_direct_workspace (const LensOpParams *p,
                            int64_t             c,
                            int64_t             h,
                            int64_t             w)
{
  gsize plane, total;

  if (!lens_size_mul ((gsize) (h + p->pads[0] + p->pads[2]), (gsize) (w + p->pads[1] + p->pads[3]),
                      &plane) ||
      !lens_size_mul (plane, (gsize) c, &total) ||
      total > G_MAXSIZE / 2)
    return 0;
  return total + (gsize) slack_floats (p);
}

/* ---- stage: copy planes [c0, c1) into the padded workspace ---- */

static void
stage_item (gpointer data,
            int64_t  item)
{
  Conv *cv = data;
  const LensOpParams *p = cv->p;
  int64_t c0 = item * cv->stage_chunk, c1 = MIN (cv->c, c0 + cv->stage_chunk);
  int64_t pt = p->pads[0], pl = p->pads[1], pr = p->pads[3];

  for (int64_t ch = c0; ch < c1; ch++)
    {
      const float *src = cv->x + ch * cv->h * cv->w;
      float *dst = cv->ws + ch * cv->plane;

      memset (dst, 0, sizeof (float) * pt * cv->wp);
      for (int64_t r = 0; r < cv->h; r++)
        {
          float *row = dst + (pt + r) * cv->wp;

          if (pl > 0)
            memset (row, 0, sizeof (float) * pl);
          memcpy (row + pl, src + r * cv->w, sizeof (float) * cv->w);
          if (pr > 0)
            memset (row + pl + cv->w, 0, sizeof (float) * pr);
        }
      memset (dst + (pt + cv->h) * cv->wp, 0, sizeof (float) * (cv->hp - pt - cv->h) * cv->wp);
    }
  if (c1 == cv->c)
    memset (cv->ws + cv->c * cv->plane, 0, sizeof (float) * slack_floats (p));
}

/* ---- compute ---- */

/* One tile: acc[o][j] = bias[o] + sum over channels and taps of
 * w[o][c][t] * xs[c * plane + offs[t] + 16 j ...], stored to tile [ocb][TILE]. */
__attribute__ ((target ("avx512f"), always_inline)) static inline void
tile_kernel (const float   *xs,
             int64_t        plane,
             int64_t        cg,
             const int64_t *offs,
             int            n_taps,
             const float   *w,
             int64_t        wstride,
             const float   *bias,
             const int      ocb,
             const int      nv,
             int            n_rows,
             int            row_step,
             int            row_lines,
             float         *tile)
{
  __m512 acc[OCB][NV];

#pragma GCC unroll 8
  for (int o = 0; o < ocb; o++)
    {
      __m512 b = _mm512_set1_ps (bias != NULL ? bias[o] : 0.0f);
#pragma GCC unroll 8
      for (int j = 0; j < nv; j++)
        acc[o][j] = b;
    }
  for (int64_t ch = 0; ch < cg; ch++)
    {
      const float *xc = xs + ch * plane;
      const float *wc = w + ch * n_taps;

      /* the next channel's planes are a page or more away, beyond what
       * the hardware prefetcher follows: fetch its rows into L1 now */
      for (int r = 0; r < n_rows; r++)
        for (int l = 0; l < row_lines; l++)
          _mm_prefetch ((const char *) (xc + PREFETCH_AHEAD * plane + offs[r * row_step]) + 64 * l,
                        _MM_HINT_T0);

      for (int t = 0; t < n_taps; t++)
        {
          const float *xp = xc + offs[t];
          __m512 v[NV];

#pragma GCC unroll 8
          for (int j = 0; j < nv; j++)
            v[j] = _mm512_loadu_ps (xp + j * VEC);
#pragma GCC unroll 8
          for (int o = 0; o < ocb; o++)
            {
              __m512 wb = _mm512_set1_ps (wc[o * wstride + t]);
#pragma GCC unroll 8
              for (int j = 0; j < nv; j++)
                acc[o][j] = _mm512_fmadd_ps (v[j], wb, acc[o][j]);
            }
        }
    }
#pragma GCC unroll 8
  for (int o = 0; o < ocb; o++)
#pragma GCC unroll 8
    for (int j = 0; j < nv; j++)
      _mm512_storeu_ps (tile + o * TILE + j * VEC, acc[o][j]);
}

/* The kernel for ocb output channels (1..OCB) and nv vectors (1..NV),
 * each combination compiled with its loops unrolled. */
#define TILE_CASE(o, v)                                                         \
  case (o) * 8 + (v):                                                           \
    tile_kernel (xs, cv->plane, cv->cg, cv->offs, cv->n_taps, w, ws, bias, (o), \
                 (v), cv->p->kernel[0], cv->p->kernel[1], (v) + 1 + cv->row_extra, \
                 tile);                                                         \
    break
#define TILE_CASES(o)                                                           \
  TILE_CASE (o, 1); TILE_CASE (o, 2); TILE_CASE (o, 3)

__attribute__ ((target ("avx512f"))) static void
tile_any (const Conv  *cv,
          const float *xs,
          const float *w,
          const float *bias,
          int          ocb,
          int          nv,
          float       *tile)
{
  int64_t ws = cv->cg * cv->n_taps;

  G_STATIC_ASSERT (OCB == 8 && NV == 3);
  switch (ocb * 8 + nv)
    {
      TILE_CASES (1);
      TILE_CASES (2);
      TILE_CASES (3);
      TILE_CASES (4);
      TILE_CASES (5);
      TILE_CASES (6);
      TILE_CASES (7);
      TILE_CASES (8);
    default:
      g_assert_not_reached ();
    }
}

/* Copies the real pixels of a tile (flat positions [p0, p1)) to the
 * output planes yo[o * oh * ow]. */
static void
tile_store (const Conv  *cv,
            const float *tile,
            int          ocb,
            int64_t      p0,
            int64_t      p1,
            float       *yo)
{
  int64_t plane_out = cv->oh * cv->ow;

  for (int64_t pos = p0; pos < p1;)
    {
      int64_t row = pos / cv->wp, col = pos % cv->wp;
      int64_t run = MIN (cv->wp - col, p1 - pos);

      if (col < cv->ow)
        {
          int64_t len = MIN (run, cv->ow - col);

          for (int o = 0; o < ocb; o++)
            memcpy (yo + o * plane_out + row * cv->ow + col, tile + o * TILE + (pos - p0),
                    sizeof (float) * len);
        }
      pos += run;
    }
}

/* item = (group * n_bands + band) * n_chunks + chunk */
static void
compute_item (gpointer data,
              int64_t  item)
{
  const Conv *cv = data;
  int64_t chunk = item % cv->n_chunks, rest = item / cv->n_chunks;
  int64_t band = rest % cv->n_bands, gi = rest / cv->n_bands;
  int64_t o0 = chunk * OC_CHUNK, o1 = MIN (cv->mg, o0 + OC_CHUNK);
  int64_t f0 = band * cv->band, f1 = MIN (cv->flat, f0 + cv->band);
  const float *xs = cv->ws + gi * cv->cg * cv->plane;
  float tile[OCB * TILE] __attribute__ ((aligned (64)));

  for (int64_t o = o0; o < o1; o += OCB)
    {
      int ocb = (int) MIN ((int64_t) OCB, o1 - o);
      int64_t oc = gi * cv->mg + o;
      const float *w = cv->wt + oc * cv->cg * cv->n_taps;
      const float *b = cv->bias != NULL ? cv->bias + oc : NULL;
      float *yo = cv->y + oc * cv->oh * cv->ow;

      for (int64_t f = f0; f < f1; f += TILE)
        {
          int64_t f_end = MIN (f + TILE, f1);

          tile_any (cv, xs + f, w, b, ocb, (int) ((f_end - f + VEC - 1) / VEC), tile);
          tile_store (cv, tile, ocb, f, f_end, yo);
        }
    }
}

/* x [N,C,H,W] w [M,C/g,KH,KW] b [M] -> y [N,M,OH,OW], stride 1 */
void
lens_conv_direct_forward (const LensOpParams *p,
                          const float        *x,
                          const float        *wt,
                          const float        *bias,
                          float              *y,
                          int64_t             n,
                          int64_t             c,
                          int64_t             h,
                          int64_t             w,
                          int64_t             m,
                          int64_t             oh,
                          int64_t             ow,
                          float              *workspace)
{
  Conv conv = { 0 }, *cv = &conv;
  int64_t reach, per_pos;

  cv->p = p;
  cv->c = c, cv->h = h, cv->w = w, cv->m = m, cv->oh = oh, cv->ow = ow;
  cv->g = p->group, cv->cg = c / cv->g, cv->mg = m / cv->g;
  cv->hp = h + p->pads[0] + p->pads[2];
  cv->wp = w + p->pads[1] + p->pads[3];
  cv->plane = cv->hp * cv->wp;
  cv->flat = oh * cv->wp;
  cv->n_taps = p->kernel[0] * p->kernel[1];
  for (int ki = 0; ki < p->kernel[0]; ki++)
    for (int kj = 0; kj < p->kernel[1]; kj++)
      cv->offs[ki * p->kernel[1] + kj] = (int64_t) ki * p->dilations[0] * cv->wp +
                                         (int64_t) kj * p->dilations[1];
  cv->row_extra = (int) (((int64_t) (p->kernel[1] - 1) * p->dilations[1] + VEC - 1) / VEC);
  /* a band of f flat positions reads about cg * (f + reach) floats */
  reach = cv->offs[cv->n_taps - 1] + VEC;
  per_pos = MAX ((int64_t) 1, cv->cg);
  cv->band = BAND_BYTES / (int64_t) sizeof (float) / per_pos - reach;
  cv->band = MAX ((int64_t) TILE, cv->band / TILE * TILE);
  cv->n_bands = (cv->flat + cv->band - 1) / cv->band;
  cv->n_chunks = (cv->mg + OC_CHUNK - 1) / OC_CHUNK;
  cv->stage_chunk = MAX ((int64_t) 1, ((int64_t) 1 << 16) / MAX ((int64_t) 1, cv->plane));
  cv->wt = wt;
  cv->bias = bias;
  cv->ws = workspace;

  for (int64_t b = 0; b < n; b++)
    {
      cv->x = x + b * c * h * w;
      cv->y = y + b * m * oh * ow;
      run_items (stage_item, cv, (c + cv->stage_chunk - 1) / cv->stage_chunk);
      run_items (compute_item, cv, cv->g * cv->n_bands * cv->n_chunks);
    }
}
