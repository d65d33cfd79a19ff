/* pool.c: MaxPool (with switches), AveragePool, GlobalAveragePool/GlobalMaxPool */
#define G_LOG_DOMAIN "pool"

#include "ops-common.h"
#include "lens-vec4.h"
#include "parallel.h"

#include <float.h>
#include <string.h>
#include <immintrin.h>

#include "lens-platform.h"

static gboolean
pool_setup (LensNode          *node,
            const LensAttrs   *attrs,
            const LensOpInput *in,
            LensOpOutput      *out,
            GError           **error)
{
  int oh, ow;
  const LensShape *x = &in[0].shape;

  if (in[0].dtype != LENS_DTYPE_FLOAT32)
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_TYPE, node, "input must be float32");
      return FALSE;
    }
  if (lens_attrs_get_int (attrs, "storage_order", 0) != 0)
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                         "storage_order=1 (column-major indices) is not supported");
      return FALSE;
    }
  if (!lens_window_setup (node, attrs, x, NULL, TRUE, &oh, &ow, error))
    return FALSE;
  for (int i = 0; i < 2; i++)
    if (node->p.pads[i] >= node->p.kernel[i] || node->p.pads[i + 2] >= node->p.kernel[i])
      {
        /* a window lying wholly in the padding has no input to pool */
        lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                           "padding must be smaller than the window");
        return FALSE;
      }
  out[0].dtype = LENS_DTYPE_FLOAT32;
  out[0].shape = *x;
  if (x->ndim == 4)
    {
      out[0].shape.dims[2] = oh;
      out[0].shape.dims[3] = ow;
    }
  else
    out[0].shape.dims[2] = ow;
  out[1].dtype = LENS_DTYPE_INT64;
  out[1].shape = out[0].shape;
  node->flops = lens_shape_numel (&out[0].shape) * (guint64) node->p.kernel[0] * node->p.kernel[1];
  return TRUE;
}

gboolean
lens_maxpool_setup (LensNode          *node,
                    const LensAttrs   *attrs,
                    const LensOpInput *in,
                    LensOpOutput      *out,
                    GError           **error)
{
  return pool_setup (node, attrs, in, out, error);
}

gboolean
lens_averagepool_setup (LensNode          *node,
                        const LensAttrs   *attrs,
                        const LensOpInput *in,
                        LensOpOutput      *out,
                        GError           **error)
{
  if (lens_attrs_find (attrs, "dilations") != NULL)
    {
      gint64 d[4];
      int n = lens_attrs_get_ints (attrs, "dilations", d, 4);
      for (int i = 0; i < n; i++)
        if (d[i] != 1)
          {
            lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                               "dilated average pooling is not supported");
            return FALSE;
          }
    }
  node->p.count_include_pad = (int) lens_attrs_get_int (attrs, "count_include_pad", 0);
  return pool_setup (node, attrs, in, out, error);
}

/* One output of max pooling, any window: the first maximum in row-major
 * order wins, padding never does.  The first cell of the window is taken
 * whatever it holds (so a NaN there stays: nothing compares greater);
 * a later cell replaces it only when strictly greater (a later NaN never
 * does).  Returns the flat index in the H*W plane, or -1 when the window
 * holds no input cell. */
static inline int64_t
pool_window (const LensOpParams *p,
             const float        *plane,
             int64_t             h,
             int64_t             w,
             int64_t             yy,
             int64_t             xx,
             float              *value)
{
  int64_t y0 = yy * p->strides[0] - p->pads[0];
  int64_t x0 = xx * p->strides[1] - p->pads[1];
  int ky0 = 0, ky1 = p->kernel[0], kx0 = 0, kx1 = p->kernel[1];
  float best = -FLT_MAX;
  int64_t arg = -1;

  /* rows and columns of the window inside the input: [k0, k1) */
  while (ky0 < ky1 && y0 + (int64_t) ky0 * p->dilations[0] < 0)
    ky0++;
  while (ky1 > ky0 && y0 + (int64_t) (ky1 - 1) * p->dilations[0] >= h)
    ky1--;
  while (kx0 < kx1 && x0 + (int64_t) kx0 * p->dilations[1] < 0)
    kx0++;
  while (kx1 > kx0 && x0 + (int64_t) (kx1 - 1) * p->dilations[1] >= w)
    kx1--;
  for (int ki = ky0; ki < ky1; ki++)
    {
      int64_t iy = y0 + (int64_t) ki * p->dilations[0];
      const float *row = plane + iy * w + x0;
      for (int kj = kx0; kj < kx1; kj++)
        {
          float v = row[(int64_t) kj * p->dilations[1]];
          if (arg < 0 || v > best)
            {
              best = v;
              arg = iy * w + x0 + (int64_t) kj * p->dilations[1];
            }
        }
    }
  *value = arg >= 0 ? best : 0.0f;
  return arg;
}

/* The same rule for a K x K window wholly inside the plane at flat index
 * base: a compare, then two selects (GCC turns most into maxss and cmov,
 * some into short branches).  K is a constant after inlining.  Used for
 * the last few windows of a row, after pool_window_inside4 (). */
static inline __attribute__ ((always_inline)) int64_t
pool_window_inside (const float *plane,
                    int64_t      w,
                    int64_t      base,
                    int          k,
                    float       *value)
{
  float best = plane[base];
  int64_t arg = base;

#pragma GCC unroll 4
  for (int ki = 0; ki < k; ki++)
#pragma GCC unroll 4
    for (int kj = 0; kj < k; kj++)
      {
        int64_t at = base + ki * w + kj;
        float v = plane[at];
        gboolean greater = v > best;

        best = greater ? v : best;
        arg = greater ? at : arg;
      }
  *value = best;
  return arg;
}

/* Four K x K windows side by side (stride 2), wholly inside the plane,
 * one per lane: the same rule as pool_window_inside (), with compares
 * and masks.  base is the flat index of the first window's top-left
 * cell (the plane must have fewer than 2^31 cells).  Each window row is
 * read from row[0] to row[2 * 3 + K - 1], the last cell of the fourth
 * window, never further. */
static inline __attribute__ ((always_inline)) void
pool_window_inside4 (const float *plane,
                     int64_t      w,
                     int64_t      base,
                     int          k,
                     LensV4f     *value,
                     LensV4i     *arg)
{
  const LensV4i lane = { 0, 2, 4, 6 };
  LensV4f best = { 0 };
  LensV4i best_at = { 0 };

#pragma GCC unroll 4
  for (int ki = 0; ki < k; ki++)
    {
      const float *row = plane + base + (int64_t) ki * w;
      LensV4f r0 = v4_load (row), r1 = v4_load (row + 4);
      LensV4f cell[3];

      /* cell[kj] lane t = row[2 t + kj] */
      cell[0] = V4_SHUFFLE2 (r0, r1, 0, 2, 4, 6);
      cell[1] = V4_SHUFFLE2 (r0, r1, 1, 3, 5, 7);
      if (k == 3)
        {
          LensV4f r2 = v4_load (row + 5);  /* row[5..8] */
          LensV4f t = V4_SHUFFLE2 (r0, r1, 2, 4, 6, 7);
          cell[2] = V4_SHUFFLE2 (t, r2, 0, 1, 2, 7);
        }
#pragma GCC unroll 4
      for (int kj = 0; kj < k; kj++)
        {
          LensV4i at = lane + (int32_t) (base + (int64_t) ki * w + kj);
          LensV4i greater;

          if (ki == 0 && kj == 0)
            {
              /* the first cell is taken whatever it holds */
              best = cell[0];
              best_at = at;
              continue;
            }
          greater = cell[kj] > best;
          best = v4_select (greater, cell[kj], best);
          best_at = v4i_select (greater, at, best_at);
        }
    }
  *value = best;
  *arg = best_at;
}

/* Up to sixteen K x K windows side by side (stride 2), n of them, wholly
 * inside the plane, with AVX-512: the same rule again, one window a lane.
 * Each window row is read from row[0] to row[2 (n - 1) + K - 1], the
 * last cell of the last window, never further: the loads are masked, and
 * the cell past two vectors (row[32], for sixteen 3 x 3 windows) comes in
 * alone. */
__attribute__ ((target ("avx512f"), always_inline)) static inline void
pool_window_inside16 (const float *plane,
                      int64_t      w,
                      int64_t      base,
                      int          k,
                      int          n,
                      float       *value,
                      int32_t     *arg)
{
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14,
                                          16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i one = _mm512_set1_epi32 (1), two = _mm512_set1_epi32 (2);
  int cells = MIN (2 * (n - 1) + k, 32);   /* in the two vectors */
  __mmask16 m0 = (__mmask16) (cells >= 16 ? 0xffff : (1u << cells) - 1);
  __mmask16 m1 = (__mmask16) (cells <= 16 ? 0 : cells == 32 ? 0xffff : (1u << (cells - 16)) - 1);
  __mmask16 out = (__mmask16) (n == 16 ? 0xffff : (1u << n) - 1);
  __m512 best = _mm512_setzero_ps ();
  __m512i best_at = _mm512_setzero_si512 ();

#pragma GCC unroll 4
  for (int ki = 0; ki < k; ki++)
    {
      const float *row = plane + base + (int64_t) ki * w;
      __m512 r0 = _mm512_maskz_loadu_ps (m0, row), r1 = _mm512_maskz_loadu_ps (m1, row + 16);
      __m512 cell[3];

      /* cell[kj] lane t = row[2 t + kj] */
      cell[0] = _mm512_permutex2var_ps (r0, even, r1);
      cell[1] = _mm512_permutex2var_ps (r0, _mm512_add_epi32 (even, one), r1);
      if (k == 3)
        {
          cell[2] = _mm512_permutex2var_ps (r0, _mm512_add_epi32 (even, two), r1);
          if (n == 16)
            cell[2] = _mm512_mask_broadcastss_ps (cell[2], (__mmask16) 0x8000,
                                                  _mm_load_ss (row + 32));
        }
#pragma GCC unroll 4
      for (int kj = 0; kj < k; kj++)
        {
          __m512i at = _mm512_add_epi32 (even,
                                         _mm512_set1_epi32 ((int32_t) (base + (int64_t) ki * w + kj)));
          __mmask16 greater;

          if (ki == 0 && kj == 0)
            {
              /* the first cell is taken whatever it holds */
              best = cell[0];
              best_at = at;
              continue;
            }
          greater = _mm512_cmp_ps_mask (cell[kj], best, _CMP_GT_OQ);
          best = _mm512_mask_mov_ps (best, greater, cell[kj]);
          best_at = _mm512_mask_mov_epi32 (best_at, greater, at);
        }
    }
  _mm512_mask_storeu_ps (value, out, best);
  _mm512_mask_storeu_epi32 (arg, out, best_at);
}

/* n windows of an output row starting at flat index base, sixteen at a
 * time: y gets their values, at their switches (flat in the plane). */
__attribute__ ((target ("avx512f"))) static void
pool_row16 (const float *plane,
            int64_t      w,
            int64_t      base,
            int          k,
            int64_t      n,
            float       *y,
            int32_t     *at)
{
  int64_t i = 0;

  /* k and, for whole runs, the count are constants in each call, so the
   * window loops unroll and the masks fold */
  for (; i + 16 <= n; i += 16)
    if (k == 2)
      pool_window_inside16 (plane, w, base + 2 * i, 2, 16, y + i, at + i);
    else
      pool_window_inside16 (plane, w, base + 2 * i, 3, 16, y + i, at + i);
  if (i < n && k == 2)
    pool_window_inside16 (plane, w, base + 2 * i, 2, (int) (n - i), y + i, at + i);
  else if (i < n)
    pool_window_inside16 (plane, w, base + 2 * i, 3, (int) (n - i), y + i, at + i);
}

static inline void
pool_store (float   *y,
            int32_t *sw,
            int64_t *indices,
            int64_t  o,
            int64_t  plane_base,
            float    value,
            int64_t  arg)
{
  y[o] = value;
  if (sw != NULL)
    sw[o] = (int32_t) arg;
  if (indices != NULL)
    indices[o] = arg >= 0 ? plane_base + arg : -1;
}

/* Square K x K windows with stride 2 and no dilation (2x2 and 3x3 cover
 * the pooling of the usual CNNs): windows wholly inside the plane take
 * the branch-free scans, four outputs at a time and then one by one, the
 * border ones (padding, ceil_mode) the general one.  Values and switches
 * are the same as pool_window ()'s, bit for bit (test-fastpaths.c).
 * Planes [0, nc_count) of x are planes nc0 + ... of the whole input, which
 * the optional Indices count over. */
static inline __attribute__ ((always_inline)) void
maxpool_stride2 (const LensOpParams *p,
                 int                 k,
                 const float        *x,
                 float              *y,
                 int32_t            *sw,
                 int64_t            *indices,
                 int64_t             nc0,
                 int64_t             nc_count,
                 int64_t             h,
                 int64_t             w,
                 int64_t             oh,
                 int64_t             ow)
{
  int64_t pad_l = p->pads[1];
  /* columns xx whose window lies inside: 0 <= 2 xx - pad_l <= w - k */
  int64_t x_lo = (pad_l + 1) / 2;
  int64_t x_hi = w - k + pad_l >= 0 ? MIN ((w - k + pad_l) / 2 + 1, ow) : 0;

  static gint avx512 = -1;
  gboolean wide = lens_cpu_avx512_once (&avx512, "LENS_POOL_AVX512");

  x_lo = MIN (x_lo, ow);
  x_hi = MAX (x_hi, x_lo);
  for (int64_t nc = 0; nc < nc_count; nc++)
    {
      const float *plane = x + nc * h * w;
      int64_t first = (nc0 + nc) * h * w;   /* the plane's first cell, for Indices */

      for (int64_t yy = 0; yy < oh; yy++)
        {
          int64_t y0 = yy * 2 - p->pads[0];
          int64_t o = (nc * oh + yy) * ow;
          float v;
          int64_t arg, xx;

          if (y0 < 0 || y0 + k > h)
            {
              for (xx = 0; xx < ow; xx++)
                {
                  arg = pool_window (p, plane, h, w, yy, xx, &v);
                  pool_store (y, sw, indices, o + xx, first, v, arg);
                }
              continue;
            }
          for (xx = 0; xx < x_lo; xx++)
            {
              arg = pool_window (p, plane, h, w, yy, xx, &v);
              pool_store (y, sw, indices, o + xx, first, v, arg);
            }
          xx = x_lo;
          if (h * w <= G_MAXINT32 && wide && x_hi - xx >= 4)
            {
              int32_t at[16 * 8];

              /* 128 windows at a time, their switches straight into sw or
               * through at */
              while (xx < x_hi)
                {
                  int64_t nr = MIN ((int64_t) 16 * 8, x_hi - xx);
                  int32_t *to = sw != NULL ? sw + o + xx : at;

                  pool_row16 (plane, w, y0 * w + xx * 2 - pad_l, k, nr, y + o + xx, to);
                  if (indices != NULL)
                    for (int64_t t = 0; t < nr; t++)
                      indices[o + xx + t] = first + to[t];
                  xx += nr;
                }
            }
          if (h * w <= G_MAXINT32)
            for (; xx + V4 <= x_hi; xx += V4)
              {
                LensV4f v4;
                LensV4i arg4;

                pool_window_inside4 (plane, w, y0 * w + xx * 2 - pad_l, k, &v4, &arg4);
                v4_store (y + o + xx, v4);
                if (sw != NULL)
                  v4i_store (sw + o + xx, arg4);
                if (indices != NULL)
                  for (int t = 0; t < V4; t++)
                    indices[o + xx + t] = first + arg4[t];
              }
          for (; xx < x_hi; xx++)
            {
              arg = pool_window_inside (plane, w, y0 * w + xx * 2 - pad_l, k, &v);
              pool_store (y, sw, indices, o + xx, first, v, arg);
            }
          for (xx = x_hi; xx < ow; xx++)
            {
              arg = pool_window (p, plane, h, w, yy, xx, &v);
              pool_store (y, sw, indices, o + xx, first, v, arg);
            }
        }
    }
}

/* The planes of a max pooling, shared out over the threads */
typedef struct
{
  const LensOpParams *p;
  const float        *x;
  float              *y;
  int32_t            *sw;
  int64_t            *indices;
  int64_t             nc, h, w, oh, ow, chunk;
} MaxPool;

#define MAXPOOL_CHUNK_OUTPUTS 8192   /* outputs per work item, at least */

/* planes [item * chunk, ...) */
static void
maxpool_item (gpointer data,
              int64_t  item)
{
  const MaxPool *mp = data;
  const LensOpParams *p = mp->p;
  int64_t nc0 = item * mp->chunk, count = MIN (mp->chunk, mp->nc - nc0);
  int64_t in_plane = mp->h * mp->w, out_plane = mp->oh * mp->ow;
  const float *x = mp->x + nc0 * in_plane;
  float *y = mp->y + nc0 * out_plane;
  int32_t *sw = mp->sw != NULL ? mp->sw + nc0 * out_plane : NULL;
  int64_t *indices = mp->indices != NULL ? mp->indices + nc0 * out_plane : NULL;
  int64_t h = mp->h, w = mp->w, oh = mp->oh, ow = mp->ow;
  gboolean square_s2;

  square_s2 = p->kernel[0] == p->kernel[1] && p->strides[0] == 2 && p->strides[1] == 2
              && p->dilations[0] == 1 && p->dilations[1] == 1;
  if (square_s2 && p->kernel[0] == 2)
    maxpool_stride2 (p, 2, x, y, sw, indices, nc0, count, h, w, oh, ow);
  else if (square_s2 && p->kernel[0] == 3)
    maxpool_stride2 (p, 3, x, y, sw, indices, nc0, count, h, w, oh, ow);
  else
    for (int64_t nc = 0; nc < count; nc++)
      {
        const float *plane = x + nc * in_plane;

        for (int64_t yy = 0; yy < oh; yy++)
          for (int64_t xx = 0; xx < ow; xx++)
            {
              float v;
              int64_t arg = pool_window (p, plane, h, w, yy, xx, &v);
              pool_store (y, sw, indices, (nc * oh + yy) * ow + xx, (nc0 + nc) * in_plane, v, arg);
            }
      }
}

/* x [N,C,H,W] -> y [N,C,OH,OW], switches [N,C,OH,OW] (flat index in the H*W plane) */
void
lens_maxpool_forward (const LensNode    *node,
                      const LensTensor **in,
                      LensTensor       **out,
                      const LensExec    *exec)
{
  MaxPool mp = { &node->p, in[0]->data, out[0]->data, exec->switches,
                 node->n_outputs > 1 ? out[1]->data : NULL };
  int64_t n, c;

  lens_nchw (&in[0]->shape, &n, &c, &mp.h, &mp.w);
  lens_nchw (&out[0]->shape, &n, &c, &mp.oh, &mp.ow);
  mp.nc = n * c;
  mp.chunk = MAX ((int64_t) 1, MAXPOOL_CHUNK_OUTPUTS / MAX ((int64_t) 1, mp.oh * mp.ow));
  lens_parallel_run (maxpool_item, &mp, (mp.nc + mp.chunk - 1) / mp.chunk);
}

void
lens_averagepool_forward (const LensNode    *node,
                          const LensTensor **in,
                          LensTensor       **out,
                          const LensExec    *exec)
{
  const LensOpParams *p = &node->p;
  const float *x = in[0]->data;
  float *y = out[0]->data;
  int64_t n, c, h, w, oh, ow;

  lens_nchw (&in[0]->shape, &n, &c, &h, &w);
  lens_nchw (&out[0]->shape, &n, &c, &oh, &ow);
  if (p->kernel[0] == 1 && p->kernel[1] == 1 && p->strides[0] == 1 && p->strides[1] == 1 &&
      p->pads[0] == 0 && p->pads[1] == 0 && p->pads[2] == 0 && p->pads[3] == 0)
    {
      /* a 1 x 1 window (what torchvision's adaptive pooling exports when
       * the map already has the target size): the mean of one cell */
      memcpy (y, x, sizeof (float) * (gsize) (n * c * h * w));
      return;
    }
  for (int64_t nc = 0; nc < n * c; nc++)
    {
      const float *plane = x + nc * h * w;

      for (int64_t yy = 0; yy < oh; yy++)
        for (int64_t xx = 0; xx < ow; xx++)
          {
            int64_t y0 = yy * p->strides[0] - p->pads[0];
            int64_t x0 = xx * p->strides[1] - p->pads[1];
            int64_t y1 = y0 + p->kernel[0], x1 = x0 + p->kernel[1];
            /* the divisor counts padded cells (count_include_pad) but never
             * the overflow that ceil_mode adds past the end padding */
            int64_t py0 = MAX (y0, -p->pads[0]), py1 = MIN (y1, h + p->pads[2]);
            int64_t px0 = MAX (x0, -p->pads[1]), px1 = MIN (x1, w + p->pads[3]);
            int64_t vy0 = MAX (y0, 0), vy1 = MIN (y1, h);
            int64_t vx0 = MAX (x0, 0), vx1 = MIN (x1, w);
            double acc = 0.0;
            int64_t count;

            for (int64_t iy = vy0; iy < vy1; iy++)
              for (int64_t ix = vx0; ix < vx1; ix++)
                acc += plane[iy * w + ix];
            count = p->count_include_pad ? (py1 - py0) * (px1 - px0)
                                         : MAX (0, vy1 - vy0) * MAX (0, vx1 - vx0);
            y[(nc * oh + yy) * ow + xx] = count > 0 ? (float) (acc / (double) count) : 0.0f;
          }
    }
}

gboolean
lens_globalpool_setup (LensNode          *node,
                       const LensAttrs   *attrs,
                       const LensOpInput *in,
                       LensOpOutput      *out,
                       GError           **error)
{
  if (in[0].shape.ndim < 3 || in[0].dtype != LENS_DTYPE_FLOAT32)
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node,
                         "input must be a float32 tensor with spatial dimensions");
      return FALSE;
    }
  out[0].dtype = LENS_DTYPE_FLOAT32;
  out[0].shape = in[0].shape;
  for (int i = 2; i < out[0].shape.ndim; i++)
    out[0].shape.dims[i] = 1;
  node->flops = lens_shape_numel (&in[0].shape);
  return TRUE;
}

/* x [N,C,...] -> y [N,C,1,...] */
void
lens_globalpool_forward (const LensNode    *node,
                         const LensTensor **in,
                         LensTensor       **out,
                         const LensExec    *exec)
{
  const float *x = in[0]->data;
  float *y = out[0]->data;
  int64_t nc = in[0]->shape.dims[0] * in[0]->shape.dims[1];
  gsize plane = lens_tensor_numel (in[0]) / (gsize) MAX (nc, 1);

  for (int64_t i = 0; i < nc; i++)
    {
      const float *src = x + i * plane;
      double acc = 0.0;
      float best = plane > 0 ? src[0] : 0.0f;

      if (plane == 0)
        {
          y[i] = 0.0f;
          continue;
        }

      for (gsize j = 0; j < plane; j++)
        {
          acc += src[j];
          best = MAX (best, src[j]);
        }
      y[i] = node->op == LENS_OP_GLOBALMAXPOOL ? best : (float) (acc / (double) plane);
    }
}

/* gy [N,C,OH,OW] -> gx [N,C,H,W]: each signal goes back to the cell its
 * switch recorded; signals landing on the same cell add up (overlapping
 * windows), which makes this the exact transpose of max pooling. */
void
lens_maxpool_backward (const LensNode    *node,
                       const LensTensor **in,
                       const LensTensor **out,
                       const LensTensor  *gout,
                       LensTensor       **gin,
                       const LensBackCtx *ctx)
{
  int64_t n, c, h, w, oh, ow;
  const float *gy = gout->data;
  float *gx;

  if (gin[0] == NULL || ctx->switches == NULL)
    return;
  gx = gin[0]->data;
  lens_nchw (&in[0]->shape, &n, &c, &h, &w);
  lens_nchw (&gout->shape, &n, &c, &oh, &ow);
  for (int64_t nc = 0; nc < n * c; nc++)
    for (int64_t i = 0; i < oh * ow; i++)
      {
        int32_t s = ctx->switches[nc * oh * ow + i];
        if (s >= 0)
          gx[nc * h * w + s] += gy[nc * oh * ow + i];
      }
}

/* Spreads each signal evenly over its window (divided by the same count
 * the forward pass used). */
void
lens_averagepool_backward (const LensNode    *node,
                           const LensTensor **in,
                           const LensTensor **out,
                           const LensTensor  *gout,
                           LensTensor       **gin,
                           const LensBackCtx *ctx)
{
  const LensOpParams *p = &node->p;
  int64_t n, c, h, w, oh, ow;
  const float *gy = gout->data;
  float *gx;

  if (gin[0] == NULL)
    return;
  gx = gin[0]->data;
  lens_nchw (&in[0]->shape, &n, &c, &h, &w);
  lens_nchw (&gout->shape, &n, &c, &oh, &ow);
  for (int64_t nc = 0; nc < n * c; nc++)
    for (int64_t yy = 0; yy < oh; yy++)
      for (int64_t xx = 0; xx < ow; xx++)
        {
          int64_t y0 = yy * p->strides[0] - p->pads[0], x0 = xx * p->strides[1] - p->pads[1];
          int64_t y1 = y0 + p->kernel[0], x1 = x0 + p->kernel[1];
          int64_t py0 = MAX (y0, -p->pads[0]), py1 = MIN (y1, h + p->pads[2]);
          int64_t px0 = MAX (x0, -p->pads[1]), px1 = MIN (x1, w + p->pads[3]);
          int64_t vy0 = MAX (y0, 0), vy1 = MIN (y1, h), vx0 = MAX (x0, 0), vx1 = MIN (x1, w);
          int64_t count = p->count_include_pad ? (py1 - py0) * (px1 - px0)
                                               : MAX (0, vy1 - vy0) * MAX (0, vx1 - vx0);
          float v;

          if (count <= 0)
            continue;
          v = gy[(nc * oh + yy) * ow + xx] / (float) count;
          for (int64_t iy = vy0; iy < vy1; iy++)
            for (int64_t ix = vx0; ix < vx1; ix++)
              gx[nc * h * w + iy * w + ix] += v;
        }
}

void
lens_globalpool_backward (const LensNode    *node,
                          const LensTensor **in,
                          const LensTensor **out,
                          const LensTensor  *gout,
                          LensTensor       **gin,
                          const LensBackCtx *ctx)
{
  int64_t nc = in[0]->shape.dims[0] * in[0]->shape.dims[1];
  gsize plane = lens_tensor_numel (in[0]) / (gsize) MAX (nc, 1);
  const float *gy = gout->data;
  float *gx;

  if (gin[0] == NULL)
    return;
  gx = gin[0]->data;
  for (int64_t i = 0; i < nc; i++)
    for (gsize j = 0; j < plane; j++)
      gx[i * plane + j] += gy[i] / (float) plane;
}
