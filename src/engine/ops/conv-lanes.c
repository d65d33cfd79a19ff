/* conv-lanes.c: convolution with output channels in the vector lanes
 * (AVX-512), for layers whose groups have a multiple of 16 output
 * channels.
 *
 * conv-direct.c puts 16 neighbouring output pixels in a vector and
 * broadcasts the weights.  On small maps (13x13 in alexnet's last three
 * layers) that wastes lanes: a row of 13 pixels fills a vector and a
 * bit, and the padding columns are computed and dropped.  Here the
 * roles swap: a vector holds 16 output channels of one pixel, the
 * weights of those channels for one (input channel, tap) are one aligned
 * load, and each input pixel is broadcast.  A tile is NB vectors of
 * channels x NP pixels (24 accumulators); pixels are consecutive flat
 * output positions, so a tile may run across the end of a row and no
 * lane or column is wasted whatever the map's width.  Strides and
 * dilations are only address arithmetic: a pixel's taps start at its
 * strided place in the padded input.
 *
 * The weights must be in the kernel's own order, [group][block of up to
 * NB*16 channels][input channel][tap][channel in block]; repacking them
 * on every call would cost as much as the layer saves, so a node keeps
 * its packed copy in a LensPackCache (lens-ops.h) and repacks only when
 * the weights change.  The input is copied into a padded workspace as
 * in conv-direct.c. */
#define G_LOG_DOMAIN "conv"

#include "conv-lanes.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "lens-platform.h"
#include "parallel.h"

#define VEC      16     /* floats per zmm */
#define NB       4      /* vectors of output channels per tile */
#define NP       6      /* pixels per tile */
#define BLOCK    (NB * VEC)
#define MAX_TAPS 256

typedef struct
{
  /* shapes */
  int64_t c, h, w, m, oh, ow, g, cg, mg;
  int64_t hp, wp, pplane;       /* padded input plane */
  int64_t plane;                /* oh * ow */
  int64_t n_blocks;             /* channel blocks per group */
  int64_t band, n_bands;        /* flat output positions per work item */
  int64_t stage_chunk;
  int     n_taps;
  int64_t toffs[MAX_TAPS];
  /* data */
  const LensOpParams *p;
  const float *x, *wt, *bias;
  float *y, *ry, *ws;
} Lanes;

gboolean
lens_conv_lanes_usable (const LensOpParams *p,
                        int64_t             m)
{
  static gint enabled = -1;

  if (p->group < 1 || m % p->group != 0 || (m / p->group) % VEC != 0)
    return FALSE;
  if (p->kernel[0] * p->kernel[1] > MAX_TAPS)
    return FALSE;
  for (int d = 0; d < 2; d++)
    if (p->strides[d] < 1 || p->dilations[d] < 1)
      return FALSE;
  return lens_cpu_avx512_once (&enabled, "LENS_CONV_LANES");
}

gsize
lens_conv_lanes_workspace (const LensOpParams *p,
                           int64_t             c,
                           int64_t             h,
                           int64_t             w)
{
  gsize plane, total;

  if (!lens_size_mul ((gsize) (h + p->pads[0] + p->pads[2]),
                      (gsize) (w + p->pads[1] + p->pads[3]), &plane) ||
      !lens_size_mul (plane, (gsize) c, &total) || total > G_MAXSIZE / 8)
    return 0;
  return total;
}

/* ---- packed weights ---- */

void
lens_conv_lanes_pack (const LensOpParams *p,
                      const float        *wt,
                      int64_t             m,
                      int64_t             cg,
                      float              *dst)
{
  int64_t g = p->group, mg = m / g;
  int64_t taps = (int64_t) p->kernel[0] * p->kernel[1], per_oc = cg * taps;

  for (int64_t gi = 0; gi < g; gi++)
    for (int64_t o0 = 0; o0 < mg; o0 += BLOCK)
      {
        int64_t nb = MIN ((int64_t) BLOCK, mg - o0);
        const float *src = wt + (gi * mg + o0) * per_oc;
        float *out = dst + (gi * mg + o0) * per_oc;

        for (int64_t ic = 0; ic < cg; ic++)
          for (int64_t t = 0; t < taps; t++)
            for (int64_t o = 0; o < nb; o++)
              out[(ic * taps + t) * nb + o] = src[o * per_oc + ic * taps + t];
      }
}

/* The packed copy is shared by the threads that run the node; a repack
 * replaces it while older users may still hold the previous one. */
typedef struct
{
  gint   ref;
  gsize  n;
  float *data;    /* 64-byte aligned: a block's loads never split lines */
} Packed;

struct _LensPackCache
{
  GMutex      lock;
  Packed     *packed;
  const void *source;
  guint       generation;
};

static gint weights_generation;

void
lens_ops_weights_changed (void)
{
  g_atomic_int_inc (&weights_generation);
}

LensPackCache *
lens_pack_cache_new (void)
{
  LensPackCache *cache = g_new0 (LensPackCache, 1);

  g_mutex_init (&cache->lock);
  return cache;
}

static void
packed_unref (Packed *packed)
{
  if (packed != NULL && g_atomic_int_dec_and_test (&packed->ref))
    {
      free (packed->data);
      g_free (packed);
    }
}

void
lens_pack_cache_free (LensPackCache *cache)
{
  if (cache == NULL)
    return;
  packed_unref (cache->packed);
  g_mutex_clear (&cache->lock);
  g_free (cache);
}

/* The packed weights for wt (n floats), packed now if the cache holds
 * none or an older state; NULL when out of memory.  Release with
 * packed_unref (). */
static Packed *
pack_cache_get (LensPackCache      *cache,
                const LensOpParams *p,
                const float        *wt,
                int64_t             m,
                int64_t             cg,
                gsize               n)
{
  guint generation = (guint) g_atomic_int_get (&weights_generation);
  Packed *packed;

  g_mutex_lock (&cache->lock);
  packed = cache->packed;
  if (packed == NULL || cache->source != wt || packed->n != n || cache->generation != generation)
    {
      void *data = NULL;

      /* posix_memalign, unlike g_aligned_alloc, fails instead of aborting */
      if (n > G_MAXSIZE / sizeof (float) || posix_memalign (&data, 64, n * sizeof (float)) != 0)
        {
          g_mutex_unlock (&cache->lock);
          return NULL;
        }
      packed = g_new (Packed, 1);
      packed->data = data;
      packed->ref = 1;
      packed->n = n;
      lens_conv_lanes_pack (p, wt, m, cg, packed->data);
      packed_unref (cache->packed);
      cache->packed = packed;
      cache->source = wt;
      cache->generation = generation;
    }
  g_atomic_int_inc (&packed->ref);
  g_mutex_unlock (&cache->lock);
  return packed;
}

/* ---- stage: copy planes [c0, c1) into the padded workspace ---- */

static void
stage_item (gpointer data,
            int64_t  item)
{
  Lanes *ln = data;
  const LensOpParams *p = ln->p;
  int64_t c0 = item * ln->stage_chunk, c1 = MIN (ln->c, c0 + ln->stage_chunk);
  int64_t pt = p->pads[0], pl = p->pads[1], pr = p->pads[3];

  for (int64_t ch = c0; ch < c1; ch++)
    {
      const float *src = ln->x + ch * ln->h * ln->w;
      float *dst = ln->ws + ch * ln->pplane;

      memset (dst, 0, sizeof (float) * pt * ln->wp);
      for (int64_t r = 0; r < ln->h; r++)
        {
          float *row = dst + (pt + r) * ln->wp;

          if (pl > 0)
            memset (row, 0, sizeof (float) * pl);
          memcpy (row + pl, src + r * ln->w, sizeof (float) * ln->w);
          if (pr > 0)
            memset (row + pl + ln->w, 0, sizeof (float) * pr);
        }
      memset (dst + (pt + ln->h) * ln->wp, 0, sizeof (float) * (ln->hp - pt - ln->h) * ln->wp);
    }
}

/* ---- compute ---- */

/* One tile: nb vectors of channels x np pixels, whose taps start at
 * xs + po[j]; weights wb [cg][taps][nb * 16].  Stores the tile
 * transposed to y (and its ReLU to ry) at the pixels' flat positions
 * p0 .. p0 + np - 1 of the channels' planes. */
__attribute__ ((target ("avx512f"), always_inline)) static inline void
tile_kernel (const Lanes   *ln,
             const float   *xs,
             const int64_t *po,
             const float   *wb,
             const float   *bias,
             const int      nb,
             const int      np,
             float         *y,
             float         *ry,
             int64_t        p0)
{
  __m512 acc[NB][NP];
  float tmp[NB][NP][VEC] __attribute__ ((aligned (64)));
  const int64_t *toffs = ln->toffs;
  int n_taps = ln->n_taps;

#pragma GCC unroll 4
  for (int v = 0; v < nb; v++)
    {
      __m512 b = bias != NULL ? _mm512_loadu_ps (bias + v * VEC) : _mm512_setzero_ps ();
#pragma GCC unroll 6
      for (int j = 0; j < np; j++)
        acc[v][j] = b;
    }
  for (int64_t ic = 0; ic < ln->cg; ic++)
    {
      const float *xc = xs + ic * ln->pplane;

      for (int t = 0; t < n_taps; t++, wb += nb * VEC)
        {
          const float *xt = xc + toffs[t];
          __m512 wv[NB];

#pragma GCC unroll 4
          for (int v = 0; v < nb; v++)
            wv[v] = _mm512_load_ps (wb + v * VEC);
#pragma GCC unroll 6
          for (int j = 0; j < np; j++)
            {
              __m512 xb = _mm512_set1_ps (xt[po[j]]);
#pragma GCC unroll 4
              for (int v = 0; v < nb; v++)
                acc[v][j] = _mm512_fmadd_ps (wv[v], xb, acc[v][j]);
            }
        }
    }
#pragma GCC unroll 4
  for (int v = 0; v < nb; v++)
#pragma GCC unroll 6
    for (int j = 0; j < np; j++)
      _mm512_store_ps (tmp[v][j], acc[v][j]);
  for (int v = 0; v < nb; v++)
    for (int l = 0; l < VEC; l++)
      {
        float *yo = y + (int64_t) (v * VEC + l) * ln->plane + p0;

        for (int j = 0; j < np; j++)
          yo[j] = tmp[v][j][l];
        if (ry != NULL)
          {
            float *ro = ry + (int64_t) (v * VEC + l) * ln->plane + p0;

            /* as lens_relu_floats (): NaN and -0 give +0 */
            for (int j = 0; j < np; j++)
              ro[j] = tmp[v][j][l] > 0.0f ? tmp[v][j][l] : 0.0f;
          }
      }
}

#define TILE_CASE(b, n)                                                  \
  case (b) * 8 + (n):                                                    \
    tile_kernel (ln, xs, po, wb, bias, (b), (n), y, ry, p0);             \
    break
#define TILE_CASES(b)                                                    \
  TILE_CASE (b, 1); TILE_CASE (b, 2); TILE_CASE (b, 3);                  \
  TILE_CASE (b, 4); TILE_CASE (b, 5); TILE_CASE (b, 6)

__attribute__ ((target ("avx512f"))) static void
tile_any (const Lanes   *ln,
          const float   *xs,
          const int64_t *po,
          const float   *wb,
          const float   *bias,
          int            nb,
          int            np,
          float         *y,
          float         *ry,
          int64_t        p0)
{
  G_STATIC_ASSERT (NB == 4 && NP == 6);
  switch (nb * 8 + np)
    {
      TILE_CASES (1);
      TILE_CASES (2);
      TILE_CASES (3);
      TILE_CASES (4);
    default:
      g_assert_not_reached ();
    }
}

/* item = (group * n_blocks + block) * n_bands + band */
static void
compute_item (gpointer data,
              int64_t  item)
{
  const Lanes *ln = data;
  const LensOpParams *p = ln->p;
  int64_t band = item % ln->n_bands, rest = item / ln->n_bands;
  int64_t blk = rest % ln->n_blocks, gi = rest / ln->n_blocks;
  int64_t o0 = blk * BLOCK, nbc = MIN ((int64_t) BLOCK, ln->mg - o0);
  int64_t oc = gi * ln->mg + o0;
  int64_t f0 = band * ln->band, f1 = MIN (ln->plane, f0 + ln->band);
  const float *xs = ln->ws + gi * ln->cg * ln->pplane;
  const float *wb = ln->wt + oc * ln->cg * ln->n_taps;
  const float *bias = ln->bias != NULL ? ln->bias + oc : NULL;
  float *y = ln->y + oc * ln->plane;
  float *ry = ln->ry != NULL ? ln->ry + oc * ln->plane : NULL;

  for (int64_t f = f0; f < f1; f += NP)
    {
      int np = (int) MIN ((int64_t) NP, f1 - f);
      int64_t po[NP];

      for (int j = 0; j < np; j++)
        {
          int64_t oy = (f + j) / ln->ow, ox = (f + j) % ln->ow;

          po[j] = oy * p->strides[0] * ln->wp + ox * p->strides[1];
        }
      tile_any (ln, xs, po, wb, bias, (int) (nbc / VEC), np, y, ry, f);
    }
}

gboolean
lens_conv_lanes_forward (const LensOpParams *p,
                         LensPackCache      *cache,
                         const float        *x,
                         const float        *wt,
                         const float        *bias,
                         float              *y,
                         float              *relu_y,
                         int64_t             n,
                         int64_t             c,
                         int64_t             h,
                         int64_t             w,
                         int64_t             m,
                         int64_t             oh,
                         int64_t             ow,
                         float              *workspace,
                         int                 threads)
{
  Lanes lanes = { 0 }, *ln = &lanes;
  Packed *packed;
  int64_t items;

  ln->p = p;
  ln->c = c, ln->h = h, ln->w = w, ln->m = m, ln->oh = oh, ln->ow = ow;
  ln->g = p->group, ln->cg = c / ln->g, ln->mg = m / ln->g;
  ln->hp = h + p->pads[0] + p->pads[2];
  ln->wp = w + p->pads[1] + p->pads[3];
  ln->pplane = ln->hp * ln->wp;
  ln->plane = oh * ow;
  ln->n_taps = p->kernel[0] * p->kernel[1];
  for (int ki = 0, t = 0; ki < p->kernel[0]; ki++)
    for (int kj = 0; kj < p->kernel[1]; kj++, t++)
      ln->toffs[t] = (int64_t) ki * p->dilations[0] * ln->wp + (int64_t) kj * p->dilations[1];
  ln->n_blocks = (ln->mg + BLOCK - 1) / BLOCK;
  /* enough work items for the threads to share evenly, each a run of
   * whole tiles */
  if (threads <= 0)
    threads = lens_get_threads ();
  items = ln->g * ln->n_blocks;
  ln->n_bands = MAX ((int64_t) 1, (4 * threads + items - 1) / items);
  ln->band = (ln->plane + ln->n_bands - 1) / ln->n_bands;
  ln->band = MAX ((int64_t) 4 * NP, (ln->band + NP - 1) / NP * NP);
  ln->n_bands = (ln->plane + ln->band - 1) / ln->band;
  ln->stage_chunk = MAX ((int64_t) 1, ((int64_t) 1 << 16) / MAX ((int64_t) 1, ln->pplane));

  packed = pack_cache_get (cache, p, wt, m, ln->cg, (gsize) (m * ln->cg * ln->n_taps));
  if (packed == NULL)
    return FALSE;
  ln->wt = packed->data;
  ln->bias = bias;
  ln->ws = workspace;
  for (int64_t b = 0; b < n; b++)
    {
      ln->x = x + b * c * h * w;
      ln->y = y + b * m * ln->plane;
      ln->ry = relu_y != NULL ? relu_y + b * m * ln->plane : NULL;
      lens_parallel_run_n (stage_item, ln, (c + ln->stage_chunk - 1) / ln->stage_chunk, threads);
      lens_parallel_run_n (compute_item, ln, ln->g * ln->n_blocks * ln->n_bands, threads);
    }
  packed_unref (packed);
  return TRUE;
}
