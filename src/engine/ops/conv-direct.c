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
 * output-channel chunks are shared out by lens_parallel_run ().
 *
 * A stride s > 1 (without dilation) becomes stride 1 by splitting each
 * padded plane into its s x s phases: phase (ri, rj) holds the pixels
 * at rows s*i + ri and columns s*j + rj.  Kernel tap (ki, kj) with
 * ki = s*qi + ri, kj = s*qj + rj reads phase (ri, rj) at (y + qi, x + qj),
 * so the strided convolution is a stride-1 one over the phases, each
 * phase with its own (smaller) set of taps and its slice of the
 * weights.  The kernel walks a list of such segments (one for stride 1)
 * and keeps its accumulators across them. */
#define G_LOG_DOMAIN "conv"

#include "conv-direct.h"

#include <immintrin.h>
#include <string.h>

#include "lens-platform.h"
#include "parallel.h"

#define VEC        16              /* floats per zmm */
#define NV         3               /* zmm per channel in a tile */
#define TILE       (NV * VEC)      /* flat positions per tile */
#define OCB        8               /* output channels per tile */
#define OC_CHUNK   (2 * OCB)       /* output channels per work item */
#define BAND_BYTES (512 * 1024)    /* input read by one band, to stay in L2 */
#define PREFETCH_AHEAD 2           /* channels */
#define MAX_TAPS   256             /* larger kernels use im2col */
#define MAX_STRIDE 4               /* larger strides use im2col */
#define MAX_SEGS   (MAX_STRIDE * MAX_STRIDE)
#define MAX_FLAT_TAPS 1024         /* see flatten_taps () */
#define FLAT_MAX_CHANNELS 4

/* ---- geometry ---- */

/* One phase of the input (all of it for stride 1): its planes start
 * x_off floats into a group's block of the workspace, its taps read at
 * offs[0 .. n_taps) in rows of row_step taps, and its weights for one
 * output channel start w_off floats into that channel's weights. */
typedef struct
{
  int64_t        x_off;
  const int64_t *offs;
  int            n_taps;
  int            n_rows, row_step;
  int64_t        w_off;
} Segment;

typedef struct
{
  /* shapes */
  int64_t c, h, w, m, oh, ow, g, cg, mg;
  int     sh, sw;               /* strides: the number of phases per direction */
  int64_t hp, wp;               /* padded input plane */
  int64_t hq, wq, plane;        /* one phase of it (hp x wp for stride 1) */
  int64_t flat;                 /* oh * wq: flat output positions per plane */
  int64_t band;                 /* flat positions per band (multiple of TILE) */
  int64_t n_bands, n_chunks, stage_chunk;
  int64_t stage_units;          /* channels (stride 1) or (phase, channel) planes */
  int     n_taps;               /* taps of the original kernel */
  int     row_extra;            /* cache lines a row of taps reads past the tile */
  int     n_segs;
  Segment segs[MAX_SEGS];
  int64_t offs[MAX_TAPS];       /* the segments' taps, one after the other */
  int64_t cg_loop;              /* channels the kernel loops over (1 when flat) */
  int64_t flat_offs[MAX_FLAT_TAPS];
  /* data */
  const LensOpParams *p;
  const float *x, *wt, *bias;
  float *y, *ry, *ws;           /* ry: ReLU of y, or NULL */
  float *rw;                    /* strided: the regrouped weights */
} Conv;

gboolean
lens_conv_direct_usable (const LensOpParams *p)
{
  static gint enabled = -1;

  for (int d = 0; d < 2; d++)
    if (p->strides[d] < 1 || p->strides[d] > MAX_STRIDE ||
        (p->strides[d] > 1 && (p->dilations[d] != 1 || p->kernel[d] < p->strides[d])))
      return FALSE;
  if (p->kernel[0] * p->kernel[1] > MAX_TAPS)
    return FALSE;
  return lens_cpu_avx512_once (&enabled, "LENS_CONV_DIRECT");
}

static inline int64_t
slack_floats (const LensOpParams *p)
{
  return TILE + (int64_t) (p->kernel[1] - 1) * p->dilations[1] + 2 * VEC;
}

/* Row length of the staged planes for stride 1.  A row's right padding
 * and the next row's left padding are both zeros, so rows can share them:
 * a row of w + max (left, right) floats, whose reads past its end land in
 * the next row's left padding (or the zeros below the last row).  Fewer
 * columns means fewer computed and dropped outputs per row (13x13 maps
 * with 3x3 kernels compute 14 columns a row instead of 15).  The output
 * row (ow = w + left + right - span + 1) must still fit in it. */
static inline int64_t
shared_pad_width (const LensOpParams *p,
                  int64_t             w)
{
  int64_t pl = p->pads[1], pr = p->pads[3];
  int64_t span = (int64_t) (p->kernel[1] - 1) * p->dilations[1] + 1;

  return MIN (pl, pr) < span ? w + MAX (pl, pr) : w + pl + pr;
}

/* rows (or columns) of one phase of a padded side of n */
static inline int64_t
phase_side (int64_t n,
            int     s)
{
  return (n + s - 1) / s;
}

gsize
lens_conv_direct_workspace (const LensOpParams *p,
                            int64_t             c,
                            int64_t             h,
                            int64_t             w,
                            int64_t             m)
{
  int sh = p->strides[0], sw = p->strides[1];
  gsize plane, total, weights = 0;

  if (!lens_size_mul ((gsize) phase_side (h + p->pads[0] + p->pads[2], sh),
                      (gsize) phase_side (w + p->pads[1] + p->pads[3], sw), &plane) ||
      !lens_size_mul (plane, (gsize) c * (gsize) (sh * sw), &total) ||
      total > G_MAXSIZE / 4)
    return 0;
  /* a strided kernel's weights, regrouped by phase */
  if ((sh > 1 || sw > 1) &&
      (!lens_size_mul ((gsize) m * (gsize) c, (gsize) (p->kernel[0] * p->kernel[1]), &weights) ||
       weights > G_MAXSIZE / 4))
    return 0;
  return total + weights + (gsize) slack_floats (p);
}

/* ---- stage: copy planes [c0, c1) into the padded workspace ---- */

static void
stage_item (gpointer data,
            int64_t  item)
{
  Conv *cv = data;
  const LensOpParams *p = cv->p;
  int64_t c0 = item * cv->stage_chunk, c1 = MIN (cv->stage_units, c0 + cv->stage_chunk);
  /* stride 1: the zeros right of a row, up to the next row's left
   * padding (see shared_pad_width ()) */
  int64_t pt = p->pads[0], pl = p->pads[1], pr = cv->wq - pl - cv->w;

  for (int64_t ch = c0; ch < c1 && cv->sh == 1 && cv->sw == 1; ch++)
    {
      const float *src = cv->x + ch * cv->h * cv->w;
      float *dst = cv->ws + ch * cv->plane;

      memset (dst, 0, sizeof (float) * pt * cv->wq);
      for (int64_t r = 0; r < cv->h; r++)
        {
          float *row = dst + (pt + r) * cv->wq;

          if (pl > 0)
            memset (row, 0, sizeof (float) * pl);
          memcpy (row + pl, src + r * cv->w, sizeof (float) * cv->w);
          if (pr > 0)
            memset (row + pl + cv->w, 0, sizeof (float) * pr);
        }
      memset (dst + (pt + cv->h) * cv->wq, 0, sizeof (float) * (cv->hq - pt - cv->h) * cv->wq);
    }
  /* strided: phase (ri, rj) of channel ch is plane (ri * sw + rj) * c + ch;
   * its pixel (i, j) is the padded input's (s*i + ri, s*j + rj).  Units
   * are (phase, channel) planes here, c0/c1 count them. */
  for (int64_t u = c0; u < c1 && (cv->sh > 1 || cv->sw > 1); u++)
    {
      int64_t ch = u % cv->c, ph = u / cv->c;
      int ri = (int) (ph / cv->sw), rj = (int) (ph % cv->sw);
      const float *src = cv->x + ch * cv->h * cv->w;
      float *dst = cv->ws + u * cv->plane;
      /* columns j whose x = s*j + rj - pl lies in [0, w): [j0, j1) */
      int64_t last = cv->w - 1 + pl - rj;   /* s*j <= last */
      int64_t j0 = MIN (cv->wq, MAX ((int64_t) 0, (pl - rj + cv->sw - 1) / cv->sw));
      int64_t j1 = MAX (j0, MIN (cv->wq, last < 0 ? 0 : last / cv->sw + 1));

      for (int64_t i = 0; i < cv->hq; i++)
        {
          int64_t y = i * cv->sh + ri - pt;
          float *row = dst + i * cv->wq;
          const float *in;

          if (y < 0 || y >= cv->h)
            {
              memset (row, 0, sizeof (float) * cv->wq);
              continue;
            }
          in = src + y * cv->w + rj - pl;
          for (int64_t j = 0; j < j0; j++)
            row[j] = 0.0f;
          for (int64_t j = j0; j < j1; j++)
            row[j] = in[j * cv->sw];
          for (int64_t j = j1; j < cv->wq; j++)
            row[j] = 0.0f;
        }
    }
  if (c1 == cv->stage_units)
    memset (cv->ws + cv->c * cv->sh * cv->sw * cv->plane, 0, sizeof (float) * slack_floats (p));
}

#define REGROUP_CHUNK 8   /* output channels per work item */

/* Strided: the weights regrouped per output channel as the segments read
 * them, [M][segment][C/g][segment's taps], from cv->wt into cv->rw;
 * output channels [item * REGROUP_CHUNK, ...). */
static void
regroup_item (gpointer data,
              int64_t  item)
{
  const Conv *cv = data;
  const LensOpParams *p = cv->p;
  int kh = p->kernel[0], kw = p->kernel[1];
  int64_t per_oc = cv->cg * kh * kw;
  int64_t o0 = item * REGROUP_CHUNK, o1 = MIN (cv->m, o0 + REGROUP_CHUNK);

  for (int64_t o = o0; o < o1; o++)
    {
      const float *src = cv->wt + o * per_oc;
      float *out = cv->rw + o * per_oc;

      for (int ri = 0, seg = 0; ri < cv->sh; ri++)
        for (int rj = 0; rj < cv->sw; rj++, seg++)
          for (int64_t ch = 0; ch < cv->cg; ch++)
            for (int ki = ri, t = 0; ki < kh; ki += cv->sh)
              for (int kj = rj; kj < kw; kj += cv->sw, t++)
                out[cv->segs[seg].w_off + ch * cv->segs[seg].n_taps + t] =
                  src[(ch * kh + ki) * kw + kj];
    }
}

/* ---- compute ---- */

/* One tile: acc[o][j] = bias[o] + sum over segments, their channels and
 * taps of w[o][seg][c][t] * xs[seg.x_off + c * plane + offs[t] + 16 j ...],
 * stored to tile [ocb][TILE]. */
__attribute__ ((target ("avx512f"), always_inline)) static inline void
tile_kernel (const float   *xs,
             int64_t        plane,
             int64_t        cg,
             const Segment *segs,
             int            n_segs,
             const float   *w0,
             int64_t        wstride,
             const float   *bias,
             const int      ocb,
             const int      nv,
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
  for (int sg = 0; sg < n_segs; sg++)
    for (int64_t ch = 0; ch < cg; ch++)
      {
        const int64_t *offs = segs[sg].offs;
        int n_taps = segs[sg].n_taps, n_rows = segs[sg].n_rows, row_step = segs[sg].row_step;
        const float *xc = xs + segs[sg].x_off + ch * plane;
        const float *wc = w0 + segs[sg].w_off + ch * n_taps;

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
    tile_kernel (xs, cv->plane, cv->cg_loop, cv->segs, cv->n_segs, w, ws, bias, (o), \
                 (v), (v) + 1 + cv->row_extra, tile);                           \
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

/* dst[i] = src[i] > 0 ? src[i] : +0, as lens_relu_floats () */
__attribute__ ((target ("avx512f"))) static void
relu_run (const float *src,
          float       *dst,
          int64_t      n)
{
  const __m512 zero = _mm512_setzero_ps ();
  int64_t i = 0;

  for (; i + VEC <= n; i += VEC)
    {
      __m512 v = _mm512_loadu_ps (src + i);
      _mm512_storeu_ps (dst + i, _mm512_maskz_mov_ps (_mm512_cmp_ps_mask (v, zero, _CMP_GT_OQ), v));
    }
  if (i < n)
    {
      __mmask16 tail = (__mmask16) ((1u << (n - i)) - 1);
      __m512 v = _mm512_maskz_loadu_ps (tail, src + i);
      _mm512_mask_storeu_ps (dst + i, tail,
                             _mm512_maskz_mov_ps (_mm512_cmp_ps_mask (v, zero, _CMP_GT_OQ), v));
    }
}

/* Copies the real pixels of a tile (flat positions [p0, p1)) to the
 * output planes yo[o * oh * ow], and their ReLU to ro (if not NULL). */
static void
tile_store (const Conv  *cv,
            const float *tile,
            int          ocb,
            int64_t      p0,
            int64_t      p1,
            float       *yo,
            float       *ro)
{
  int64_t plane_out = cv->oh * cv->ow;

  for (int64_t pos = p0; pos < p1;)
    {
      int64_t row = pos / cv->wq, col = pos % cv->wq;
      int64_t run = MIN (cv->wq - col, p1 - pos);

      if (col < cv->ow)
        {
          int64_t len = MIN (run, cv->ow - col);

          for (int o = 0; o < ocb; o++)
            memcpy (yo + o * plane_out + row * cv->ow + col, tile + o * TILE + (pos - p0),
                    sizeof (float) * len);
          if (ro != NULL)
            for (int o = 0; o < ocb; o++)
              relu_run (tile + o * TILE + (pos - p0), ro + o * plane_out + row * cv->ow + col, len);
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
      float *ro = cv->ry != NULL ? cv->ry + oc * cv->oh * cv->ow : NULL;

      for (int64_t f = f0; f < f1; f += TILE)
        {
          int64_t f_end = MIN (f + TILE, f1);

          tile_any (cv, xs + f, w, b, ocb, (int) ((f_end - f + VEC - 1) / VEC), tile);
          tile_store (cv, tile, ocb, f, f_end, yo, ro);
        }
    }
}

/* Lays out the segments: one for stride 1, else one per phase that
 * has taps. */
static void
plan_segments (Conv *cv)
{
  const LensOpParams *p = cv->p;
  int kh = p->kernel[0], kw = p->kernel[1], used = 0;
  int64_t w_off = 0;

  cv->n_segs = 0;
  for (int ri = 0; ri < cv->sh; ri++)
    for (int rj = 0; rj < cv->sw; rj++)
      {
        Segment *sg = &cv->segs[cv->n_segs++];
        int rows = 0, cols = 0;

        for (int ki = ri; ki < kh; ki += cv->sh)
          rows++;
        for (int kj = rj; kj < kw; kj += cv->sw)
          cols++;
        sg->x_off = (int64_t) (ri * cv->sw + rj) * cv->c * cv->plane;
        sg->offs = cv->offs + used;
        sg->n_taps = rows * cols;
        sg->n_rows = rows;
        sg->row_step = cols;
        sg->w_off = w_off;
        for (int qi = 0; qi < rows; qi++)
          for (int qj = 0; qj < cols; qj++)
            cv->offs[used++] = (int64_t) qi * p->dilations[0] * cv->wq +
                               (int64_t) qj * p->dilations[1];
        w_off += cv->cg * sg->n_taps;
      }
}

/* With few input channels (an RGB or gray first layer, whose strided
 * phases make up to 48 short channels of 2-9 taps), the loops over
 * segments and channels cost more than their few taps: every (segment,
 * channel, tap) becomes one tap of a single segment instead, its offset
 * taken from the start of the group's planes.  The weights are already in
 * that order ([segment][channel][tap] per output channel). */
static void
flatten_taps (Conv *cv)
{
  int64_t n = 0;

  cv->cg_loop = cv->cg;
  if (cv->cg > FLAT_MAX_CHANNELS || cv->cg * cv->n_taps > MAX_FLAT_TAPS)
    return;
  for (int sg = 0; sg < cv->n_segs; sg++)
    for (int64_t ch = 0; ch < cv->cg; ch++)
      for (int t = 0; t < cv->segs[sg].n_taps; t++)
        cv->flat_offs[n++] = cv->segs[sg].x_off + ch * cv->plane + cv->segs[sg].offs[t];
  cv->segs[0] = (Segment) { 0, cv->flat_offs, (int) n, 0, 1, 0 };
  cv->n_segs = 1;
  cv->cg_loop = 1;
}

/* x [N,C,H,W] w [M,C/g,KH,KW] b [M] -> y [N,M,OH,OW] */
void
lens_conv_direct_forward (const LensOpParams *p,
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
                          float              *workspace)
{
  Conv conv = { 0 }, *cv = &conv;
  int64_t reach, per_pos, max_off = 0;

  cv->p = p;
  cv->c = c, cv->h = h, cv->w = w, cv->m = m, cv->oh = oh, cv->ow = ow;
  cv->g = p->group, cv->cg = c / cv->g, cv->mg = m / cv->g;
  cv->sh = p->strides[0], cv->sw = p->strides[1];
  cv->hp = h + p->pads[0] + p->pads[2];
  cv->wp = w + p->pads[1] + p->pads[3];
  cv->hq = phase_side (cv->hp, cv->sh);
  cv->wq = cv->sw == 1 ? shared_pad_width (p, w) : phase_side (cv->wp, cv->sw);
  cv->plane = cv->hq * cv->wq;
  cv->flat = oh * cv->wq;
  cv->n_taps = p->kernel[0] * p->kernel[1];
  plan_segments (cv);
  for (int t = 0; t < cv->n_taps; t++)
    max_off = MAX (max_off, cv->offs[t]);
  for (int sg = 0; sg < cv->n_segs; sg++)
    cv->row_extra = MAX (cv->row_extra,
                         (int) ((cv->segs[sg].offs[cv->segs[sg].row_step - 1] + VEC - 1) / VEC));
  /* a band of f flat positions reads about cg * phases * (f + reach) floats */
  reach = max_off + VEC;
  per_pos = MAX ((int64_t) 1, cv->cg * cv->sh * cv->sw);
  cv->band = BAND_BYTES / (int64_t) sizeof (float) / per_pos - reach;
  cv->band = MAX ((int64_t) TILE, cv->band / TILE * TILE);
  cv->n_bands = (cv->flat + cv->band - 1) / cv->band;
  cv->n_chunks = (cv->mg + OC_CHUNK - 1) / OC_CHUNK;
  cv->stage_units = cv->sh == 1 && cv->sw == 1 ? c : c * cv->sh * cv->sw;
  cv->stage_chunk = MAX ((int64_t) 1, ((int64_t) 1 << 16) / MAX ((int64_t) 1, cv->plane));
  cv->wt = wt;
  cv->bias = bias;
  cv->ws = workspace;
  if (cv->sh > 1 || cv->sw > 1)
    {
      cv->rw = workspace + c * cv->sh * cv->sw * cv->plane + slack_floats (p);
      lens_parallel_run (regroup_item, cv, (m + REGROUP_CHUNK - 1) / REGROUP_CHUNK);
      cv->wt = cv->rw;
    }
  /* after the regrouping, which reads the segments' own taps */
  flatten_taps (cv);

  for (int64_t b = 0; b < n; b++)
    {
      cv->x = x + b * c * h * w;
      cv->y = y + b * m * oh * ow;
      cv->ry = relu_y != NULL ? relu_y + b * m * oh * ow : NULL;
      lens_parallel_run (stage_item, cv, (cv->stage_units + cv->stage_chunk - 1) / cv->stage_chunk);
      lens_parallel_run (compute_item, cv, cv->g * cv->n_bands * cv->n_chunks);
    }
}
