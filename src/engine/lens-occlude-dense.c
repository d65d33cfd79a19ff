/* lens-occlude-dense.c: the first dense layer updated incrementally, and
 * the occluder's reusable buffers.
 *
 * After the last convolution the changed values are still a box of a
 * [C,h,w] map; Flatten only reinterprets it as part of a vector.  A dense
 * layer y = alpha x W + b is linear in x, so
 *     y_occluded = y_clean + alpha (x_occluded - x_clean)[changed] W[changed, :]
 * which reads only the rows of W (as [K,N]) of the changed inputs.  A box
 * row of width bw is bw consecutive rows of W; whole-width boxes merge into
 * longer runs.  Positions of a batch whose boxes coincide share those rows:
 * one sgemm per run for the group.  For a single query this reads a
 * fraction of the weights (the layer is memory-bound); for large batches a
 * whole GEMM may be cheaper, so a cost model picks. */
#define G_LOG_DOMAIN "lens-occlude"

#include "lens-occlude-private.h"
#include "lens-blas.h"
#include "lens-platform.h"

#include <immintrin.h>
#include <string.h>

LensTensor *
lens_occluder_buffer (LensOccluder    *occ,
                      const LensShape *shape,
                      GError         **error)
{
  gsize need, best_cap = G_MAXSIZE;
  int best = -1;
  float *block;

  if (!lens_shape_numel_checked (shape, &need) || need > G_MAXSIZE / sizeof (float))
    {
      g_set_error (error, LENS_OCCLUDE_ERROR, LENS_OCCLUDE_ERROR_ARGS,
                   "Occlusion buffer too large to address");
      return NULL;
    }
  need = MAX (need, 1);
  for (guint i = 0; i < occ->free_blocks->len; i++)
    {
      gsize cap = GPOINTER_TO_SIZE (g_hash_table_lookup (occ->block_caps,
                                                         g_ptr_array_index (occ->free_blocks, i)));
      if (cap >= need && cap < best_cap)
        {
          best = (int) i;
          best_cap = cap;
        }
    }
  if (best >= 0)
    block = g_ptr_array_steal_index_fast (occ->free_blocks, best);
  else
    {
      block = lens_aligned_alloc0 (need * sizeof (float));
      if (block == NULL)
        {
          g_set_error (error, LENS_OCCLUDE_ERROR, LENS_OCCLUDE_ERROR_ARGS,
                       "Out of memory for an occlusion buffer of %" G_GSIZE_FORMAT " values",
                       need);
          return NULL;
        }
      g_hash_table_insert (occ->block_caps, block, GSIZE_TO_POINTER (need));
    }
  return lens_tensor_new_view (LENS_DTYPE_FLOAT32, shape, block);
}

void
lens_occluder_release (LensOccluder *occ,
                       LensTensor   *t)
{
  if (t == NULL)
    return;
  if (!t->owns_data && g_hash_table_contains (occ->block_caps, t->data))
    g_ptr_array_add (occ->free_blocks, t->data);
  lens_tensor_free (t);
}

void
lens_occluder_free_blocks (LensOccluder *occ)
{
  GHashTableIter it;
  gpointer block;

  if (occ->block_caps == NULL)
    return;
  g_hash_table_iter_init (&it, occ->block_caps);
  while (g_hash_table_iter_next (&it, &block, NULL))
    lens_aligned_free (block);
  g_clear_pointer (&occ->block_caps, g_hash_table_destroy);
  g_clear_pointer (&occ->free_blocks, g_ptr_array_unref);
}

static gboolean
is_const (const LensNet *net,
          int            v)
{
  return v >= 0 && lens_net_value (net, v)->constant != NULL;
}

Kind
lens_occlude_classify_dense (const LensNet *net,
                             LensNode      *node)
{
  const LensShape *out = &lens_net_value (net, node->outputs[0])->shape;
  const LensShape *a, *w;

  if (node->n_inputs < 1 || node->inputs[0] < 0 || is_const (net, node->inputs[0]))
    return KIND_FULL;
  a = &lens_net_value (net, node->inputs[0])->shape;
  switch (node->op)
    {
    case LENS_OP_FLATTEN:
    case LENS_OP_RESHAPE:
      /* [1,C,h,w] -> [1,C*h*w] keeps the memory layout */
      if (a->ndim == 4 && a->dims[0] == 1 && out->ndim == 2 && out->dims[0] == 1 &&
          out->dims[1] == a->dims[1] * a->dims[2] * a->dims[3])
        return KIND_FLATTEN;
      return KIND_FULL;
    case LENS_OP_GEMM:
    case LENS_OP_MATMUL:
      if (node->n_inputs < 2 || !is_const (net, node->inputs[1]) || a->ndim != 2 ||
          a->dims[0] != 1 || out->ndim != 2)
        return KIND_FULL;
      w = &lens_net_value (net, node->inputs[1])->shape;
      if (w->ndim != 2 || lens_net_value (net, node->inputs[1])->dtype != LENS_DTYPE_FLOAT32)
        return KIND_FULL;
      if (node->op == LENS_OP_GEMM &&
          (node->p.trans_a || (node->n_inputs > 2 && node->inputs[2] >= 0 &&
                               !is_const (net, node->inputs[2]))))
        return KIND_FULL;
      return KIND_DENSE;
    default:
      return KIND_FULL;
    }
}

void
lens_occlude_plan_dense (LensOccluder *occ)
{
  const LensNet *net = occ->net;

  for (guint l = 0; l < net->layers->len; l++)
    {
      LensNode *node = lens_net_layer_node (net, l);
      const LensValue *in;
      LensNode *producer;

      occ->weights_plane[l] = 1;
      if (occ->kinds[l] != KIND_DENSE)
        continue;
      in = lens_net_value (net, node->inputs[0]);
      if (in->producer < 0)
        continue;
      producer = lens_net_node (net, in->producer);
      if (lens_occlude_classify_dense (net, producer) == KIND_FLATTEN)
        {
          const LensShape *a = &lens_net_value (net, producer->inputs[0])->shape;
          occ->weights_plane[l] = (int) (a->dims[2] * a->dims[3]);
        }
    }
}

/* The weights as [K,N] with K reordered from (c, y, x) to (y, x, c): the
 * weights of one input are one contiguous row, and a row of a box covers
 * bw * C consecutive rows (whole-width boxes one stretch).  The order is
 * fixed when the occluder is made (lens_occlude_plan_dense), so a single
 * query whose change covers the whole map and one that is a box use the
 * same copy.  Made on first use and kept for the occluder's life; sweep
 * workers share them, so the first one to need them makes them under the
 * lock.  NULL without an error for another geometry (not expected). */
static const float *
weights_kn_locked (LensOccluder *occ,
                   guint         l,
                   LensNode     *node,
                   int64_t       C,
                   int64_t       plane,
                   int64_t       N,
                   GError      **error)
{
  const LensTensor *w = lens_trace_get_value (occ->trace, node->inputs[1]);
  const float *src = w->data;
  gboolean nk = node->op == LENS_OP_GEMM && node->p.trans_b;   /* src is [N,K] */
  int64_t K = C * plane;
  float *t;

  if (occ->weights_plane[l] != plane || K % plane != 0)
    return NULL;
  if (occ->weights_kn[l] != NULL)
    return occ->weights_kn[l];
  t = lens_aligned_alloc0 ((gsize) K * N * sizeof (float));
  if (t == NULL)
    {
      g_set_error (error, LENS_OCCLUDE_ERROR, LENS_OCCLUDE_ERROR_ARGS,
                   "Out of memory for the reordered weights of '%s'", node->name);
      return NULL;
    }
  if (nk)
    {
      /* blocked transpose: t[(s, c), n] = src[n, (c, s)] */
      for (int64_t n0 = 0; n0 < N; n0 += 16)
        for (int64_t k0 = 0; k0 < K; k0 += 64)
          for (int64_t k = k0; k < MIN (K, k0 + 64); k++)
            {
              float *dst = t + ((k % plane) * C + k / plane) * N;
              for (int64_t n = n0; n < MIN (N, n0 + 16); n++)
                dst[n] = src[n * K + k];
            }
    }
  else
    for (int64_t k = 0; k < K; k++)
      memcpy (t + ((k % plane) * C + k / plane) * N, src + k * N, sizeof (float) * N);
  occ->weights_kn[l] = t;
  return t;
}

static const float *
weights_kn (LensOccluder *occ,
            guint         l,
            LensNode     *node,
            int64_t       C,
            int64_t       plane,
            int64_t       N,
            GError      **error)
{
  const float *t;

  pthread_mutex_lock (occ->weights_lock);
  t = weights_kn_locked (occ, l, node, C, plane, N, error);
  pthread_mutex_unlock (occ->weights_lock);
  return t;
}

/* y[N] += sum over the listed rows of d[i] w[rows[i], :] (a single
 * position: the inputs that did not change, often half of them after
 * ReLU and max pooling, are skipped).  Memory-bound: four rows at a time,
 * so that y goes through the registers once per four rows of weights.
 * The plain loops are the reference and the fallback; GCC does not
 * vectorise them at -O2, which made this layer compute-bound. */
static void
accumulate_rows_plain (float       *restrict y,
                       const float *restrict d,
                       const int   *restrict rows,
                       int                   n_rows,
                       const float *restrict w,
                       int64_t               ld,
                       int64_t               N)
{
  int i = 0;

  for (; i + 4 <= n_rows; i += 4)
    {
      const float *restrict w0 = w + rows[i] * ld, *restrict w1 = w + rows[i + 1] * ld;
      const float *restrict w2 = w + rows[i + 2] * ld, *restrict w3 = w + rows[i + 3] * ld;
      float a0 = d[i], a1 = d[i + 1], a2 = d[i + 2], a3 = d[i + 3];
      for (int64_t n = 0; n < N; n++)
        y[n] += a0 * w0[n] + a1 * w1[n] + a2 * w2[n] + a3 * w3[n];
    }
  for (; i < n_rows; i++)
    {
      const float *restrict w0 = w + rows[i] * ld;
      float a0 = d[i];
      for (int64_t n = 0; n < N; n++)
        y[n] += a0 * w0[n];
    }
}

/* The same with AVX-512: 16 outputs per step, the row tails masked.
 * LENS_OCCLUDE_AVX512=0 in the environment keeps the plain loops (the
 * tests run both). */
__attribute__ ((target ("avx512f")))
static void
accumulate_rows_avx512 (float       *restrict y,
                        const float *restrict d,
                        const int   *restrict rows,
                        int                   n_rows,
                        const float *restrict w,
                        int64_t               ld,
                        int64_t               N)
{
  int64_t full = N / 16 * 16;
  __mmask16 tail = (__mmask16) ((1u << (N - full)) - 1u);
  int i = 0;

  for (; i + 4 <= n_rows; i += 4)
    {
      const float *w0 = w + rows[i] * ld, *w1 = w + rows[i + 1] * ld;
      const float *w2 = w + rows[i + 2] * ld, *w3 = w + rows[i + 3] * ld;
      __m512 a0 = _mm512_set1_ps (d[i]), a1 = _mm512_set1_ps (d[i + 1]);
      __m512 a2 = _mm512_set1_ps (d[i + 2]), a3 = _mm512_set1_ps (d[i + 3]);
      int64_t n = 0;

      for (; n < full; n += 16)
        {
          __m512 s = _mm512_mul_ps (a0, _mm512_loadu_ps (w0 + n));
          s = _mm512_fmadd_ps (a1, _mm512_loadu_ps (w1 + n), s);
          s = _mm512_fmadd_ps (a2, _mm512_loadu_ps (w2 + n), s);
          s = _mm512_fmadd_ps (a3, _mm512_loadu_ps (w3 + n), s);
          _mm512_storeu_ps (y + n, _mm512_add_ps (_mm512_loadu_ps (y + n), s));
        }
      if (tail != 0)
        {
          __m512 s = _mm512_mul_ps (a0, _mm512_maskz_loadu_ps (tail, w0 + n));
          s = _mm512_fmadd_ps (a1, _mm512_maskz_loadu_ps (tail, w1 + n), s);
          s = _mm512_fmadd_ps (a2, _mm512_maskz_loadu_ps (tail, w2 + n), s);
          s = _mm512_fmadd_ps (a3, _mm512_maskz_loadu_ps (tail, w3 + n), s);
          _mm512_mask_storeu_ps (y + n, tail, _mm512_add_ps (_mm512_maskz_loadu_ps (tail, y + n), s));
        }
    }
  for (; i < n_rows; i++)
    {
      const float *w0 = w + rows[i] * ld;
      __m512 a0 = _mm512_set1_ps (d[i]);
      int64_t n = 0;

      for (; n < full; n += 16)
        _mm512_storeu_ps (y + n, _mm512_fmadd_ps (a0, _mm512_loadu_ps (w0 + n),
                                                  _mm512_loadu_ps (y + n)));
      if (tail != 0)
        _mm512_mask_storeu_ps (y + n, tail,
                               _mm512_fmadd_ps (a0, _mm512_maskz_loadu_ps (tail, w0 + n),
                                                _mm512_maskz_loadu_ps (tail, y + n)));
    }
}

static gboolean
have_avx512 (void)
{
  static gint known = -1;

  return lens_cpu_avx512_once (&known, "LENS_OCCLUDE_AVX512");
}

static void
accumulate_rows (float       *y,
                 const float *d,
                 const int   *rows,
                 int          n_rows,
                 const float *w,
                 int64_t      ld,
                 int64_t      N)
{
  if (have_avx512 ())
    accumulate_rows_avx512 (y, d, rows, n_rows, w, ld, N);
  else
    accumulate_rows_plain (y, d, rows, n_rows, w, ld, N);
}

typedef struct
{
  float       *y;
  const float *d, *w;
  const int   *rows;
  int          n_rows;
  int64_t      ld, N, half;
} RowsSplit;

static void
rows_part (gpointer data,
           int      part,
           float   *workspace)
{
  RowsSplit *rs = data;
  int64_t n0 = part == 0 ? 0 : rs->half, n1 = part == 0 ? rs->half : rs->N;

  accumulate_rows (rs->y + n0, rs->d, rs->rows, rs->n_rows, rs->w + n0, rs->ld, n1 - n0);
}

/* accumulate_rows, for a single query split by output columns over two
 * threads when the rows are many (lens-occlude-split.c): each thread
 * streams its half of every row, and more of the memory bandwidth is used. */
static void
accumulate_rows_split (LensOccluder *occ,
                       float        *y,
                       const float  *d,
                       const int    *rows,
                       int           n_rows,
                       const float  *w,
                       int64_t       ld,
                       int64_t       N)
{
  /* half a row must be at least a few cache lines, and the whole worth a hand-over */
  RowsSplit rs = { y, d, w, rows, n_rows, ld, N, (N / 2 + 15) / 16 * 16 };

  if (N < 256 || (int64_t) n_rows * N < (1 << 20) || !lens_occlude_split (occ, rows_part, &rs))
    accumulate_rows (y, d, rows, n_rows, w, ld, N);
}

static gboolean
run_flatten (LensOccluder *occ,
             LensNode     *node,
             Patch        *patches,
             int           B,
             gboolean     *fallback)
{
  const Patch *pi = &patches[node->inputs[0]];
  const LensTensor *clean = lens_trace_get_value (occ->trace, node->inputs[0]);
  Patch *po = &patches[node->outputs[0]];

  if (pi->full || pi->flat)
    {
      *fallback = TRUE;
      return FALSE;
    }
  po->flat = TRUE;
  po->borrowed = TRUE;
  po->fc = (int) clean->shape.dims[1];
  po->fh = (int) clean->shape.dims[2];
  po->fw = (int) clean->shape.dims[3];
  po->bh = pi->bh;
  po->bw = pi->bw;
  memcpy (po->oy, pi->oy, sizeof (int) * B);
  memcpy (po->ox, pi->ox, sizeof (int) * B);
  po->data = pi->data;
  return TRUE;
}

/* Cost model in units of "one weight read": a product of G rows by a
 * [k,N] block reads k*N weights and does 2*G*k*N flops; up to about
 * ROWS_PER_READ rows it is bound by the reads, above by the flops. */
#define ROWS_PER_READ 16.0

static double
block_cost (double k,
            double rows)
{
  return k * MAX (1.0, rows / ROWS_PER_READ);
}

/* A single position whose input vector changed as a whole (a dense layer
 * after another one, or a box that covered the whole map): only the inputs
 * that differ from the unoccluded ones are read, often half of them after
 * a ReLU; when most differ the layer is recomputed whole. */
static gboolean
run_gemm_vector (LensOccluder *occ,
                 guint         l,
                 LensNode     *node,
                 Patch        *patches,
                 gboolean     *fallback,
                 GError      **error)
{
  const Patch *pi = &patches[node->inputs[0]];
  Patch *po = &patches[node->outputs[0]];
  const LensTensor *clean_in = lens_trace_get_value (occ->trace, node->inputs[0]);
  const LensTensor *clean_out = lens_trace_get_value (occ->trace, node->outputs[0]);
  const LensTensor *w = lens_trace_get_value (occ->trace, node->inputs[1]);
  int64_t K = lens_tensor_numel (clean_in), N = clean_out->shape.dims[1], plane;
  float alpha = node->op == LENS_OP_GEMM ? node->p.alpha : 1.0f;
  g_autofree float *d = NULL;
  g_autofree int *rows = NULL;
  const float *x, *cx = clean_in->data, *wkn;
  int nz = 0;

  if (!pi->full || lens_tensor_numel (pi->data) != (gsize) K ||
      lens_tensor_numel (w) != (gsize) (K * N) || clean_out->shape.dims[0] != 1)
    {
      *fallback = TRUE;
      return FALSE;
    }
  x = pi->data->data;
  d = g_new (float, K);
  rows = g_new (int, K);
  plane = occ->weights_plane[l];
  if (K % plane != 0)
    {
      *fallback = TRUE;
      return FALSE;
    }
  for (int64_t k = 0; k < K; k++)
    if (x[k] != cx[k])
      {
        d[nz] = alpha * (x[k] - cx[k]);
        rows[nz++] = (int) ((k % plane) * (K / plane) + k / plane);
      }
  /* the sparse walk streams rows on one thread, about 4/5 of the speed
   * of BLAS's gemv on two: a gain below about 70 % of the rows */
  if (occ->opts.dense == 0 && nz > K * 7 / 10)
    {
      *fallback = TRUE;
      return FALSE;
    }
  wkn = weights_kn (occ, l, node, K / plane, plane, N, error);
  if (wkn == NULL)
    {
      *fallback = error == NULL || *error == NULL;
      return FALSE;
    }
  po->full = TRUE;
  po->data = lens_occluder_buffer (occ, &(LensShape) { 2, { 1, N } }, error);
  if (po->data == NULL)
    return FALSE;
  memcpy (po->data->data, clean_out->data, sizeof (float) * N);
  accumulate_rows_split (occ, po->data->data, d, rows, nz, wkn, N, N);
  return TRUE;
}

static gboolean
run_gemm (LensOccluder *occ,
          guint         l,
          LensNode     *node,
          Patch        *patches,
          int           B,
          gboolean     *fallback,
          GError      **error)
{
  const Patch *pi = &patches[node->inputs[0]];
  Patch *po = &patches[node->outputs[0]];
  const LensTensor *clean_in = lens_trace_get_value (occ->trace, node->inputs[0]);
  const LensTensor *clean_out = lens_trace_get_value (occ->trace, node->outputs[0]);
  int64_t K = (int64_t) pi->fc * pi->fh * pi->fw, N = clean_out->shape.dims[1];
  int64_t Kc = (int64_t) pi->fc * pi->bh * pi->bw, plane = (int64_t) pi->fh * pi->fw;
  float alpha = node->op == LENS_OP_GEMM ? node->p.alpha : 1.0f;
  g_autofree int *group = g_new (int, B), *members = g_new (int, B);
  g_autofree int *rows = NULL;
  double incr = 0.0;
  int n_groups = 0;
  const float *wkn, *cin = clean_in->data;
  float *y;
  LensTensor *d = NULL, *acc = NULL;

  if (!pi->flat || pi->full || clean_in->shape.dims[1] != K ||
      lens_trace_get_value (occ->trace, node->inputs[1])->shape.dims[0] *
      lens_trace_get_value (occ->trace, node->inputs[1])->shape.dims[1] != K * N)
    {
      *fallback = TRUE;
      return FALSE;
    }
  /* positions whose boxes coincide form a group */
  for (int b = 0; b < B; b++)
    {
      group[b] = -1;
      for (int a = 0; a < b; a++)
        if (pi->oy[a] == pi->oy[b] && pi->ox[a] == pi->ox[b])
          {
            group[b] = group[a];
            break;
          }
      if (group[b] < 0)
        group[b] = n_groups++;
    }
  for (int g = 0; g < n_groups; g++)
    {
      int n = 0;
      for (int b = 0; b < B; b++)
        n += group[b] == g;
      incr += block_cost ((double) Kc, n);
    }
  /* gathering and short blocks cost extra: ask for a clear gain */
  if (occ->opts.dense < 0 ||
      (occ->opts.dense == 0 && B > 1 && 1.25 * incr >= block_cost ((double) K, B)))
    {
      *fallback = TRUE;
      return FALSE;
    }

  wkn = weights_kn (occ, l, node, pi->fc, (int64_t) pi->fh * pi->fw, N, error);
  if (wkn == NULL)
    {
      /* reordered for another geometry (not expected), or out of memory */
      *fallback = error == NULL || *error == NULL;
      return FALSE;
    }
  rows = g_new (int, Kc);
  po->full = TRUE;
  po->data = lens_occluder_buffer (occ, &(LensShape) { 2, { B, N } }, error);
  d = lens_occluder_buffer (occ, &(LensShape) { 2, { B, Kc } }, error);
  acc = lens_occluder_buffer (occ, &(LensShape) { 2, { B, N } }, error);
  if (po->data == NULL || d == NULL || acc == NULL)
    {
      lens_occluder_release (occ, d);
      lens_occluder_release (occ, acc);
      return FALSE;
    }
  y = po->data->data;
  for (int b = 0; b < B; b++)
    memcpy (y + b * N, clean_out->data, sizeof (float) * N);

  for (int g = 0; g < n_groups; g++)
    {
      int G = 0, oy, ox;
      float *dv = d->data, *av = acc->data;
      int64_t run_k = -1, run_d = 0, run_len = 0;

      for (int b = 0; b < B; b++)
        if (group[b] == g)
          members[G++] = b;
      oy = pi->oy[members[0]];
      ox = pi->ox[members[0]];
      /* the change of the flattened input, [G, Kc] in (y, x, c) order */
      for (int m = 0; m < G; m++)
        {
          const float *pv = (const float *) pi->data->data + (gsize) members[m] * Kc;
          float *row = dv + (gsize) m * Kc;
          for (int c = 0; c < pi->fc; c++)
            for (int r = 0; r < pi->bh; r++)
              {
                const float *cv = cin + c * plane + (int64_t) (oy + r) * pi->fw + ox;
                const float *pr = pv + ((gsize) c * pi->bh + r) * pi->bw;
                float *dr = row + (gsize) r * pi->bw * pi->fc + c;
                for (int q = 0; q < pi->bw; q++)
                  dr[(gsize) q * pi->fc] = pr[q] - cv[q];
              }
        }
      memset (av, 0, sizeof (float) * G * N);
      if (G == 1)
        {
          /* compact the nonzero changes (in place) with their rows of W */
          int nz = 0;
          for (int r = 0; r < pi->bh; r++)
            for (int64_t i = 0; i < (int64_t) pi->bw * pi->fc; i++)
              {
                int64_t di = (int64_t) r * pi->bw * pi->fc + i;
                if (dv[di] != 0.0f)
                  {
                    rows[nz] = (int) (((int64_t) (oy + r) * pi->fw + ox) * pi->fc + i);
                    dv[nz++] = dv[di];
                  }
              }
          accumulate_rows_split (occ, av, dv, rows, nz, wkn, N, N);
        }
      /* else one GEMM per run of rows of W (a box row, merged when they touch) */
      for (int r = 0; G > 1 && r <= pi->bh; r++)
        {
          int64_t k0 = ((int64_t) (oy + r) * pi->fw + ox) * pi->fc;
          int64_t d0 = (int64_t) r * pi->bw * pi->fc;
          gboolean last = r == pi->bh;

          if (!last && run_len > 0 && k0 == run_k + run_len && d0 == run_d + run_len)
            {
              run_len += (int64_t) pi->bw * pi->fc;
              continue;
            }
          if (run_len > 0)
            lens_blas_sgemm (FALSE, FALSE, G, (int) N, (int) run_len, 1.0f, dv + run_d,
                             (int) Kc, wkn + run_k * N, (int) N, 1.0f, av, (int) N);
          if (last)
            break;
          run_k = k0;
          run_d = d0;
          run_len = (int64_t) pi->bw * pi->fc;
        }
      for (int m = 0; m < G; m++)
        {
          float *yr = y + (gsize) members[m] * N;
          const float *ar = av + (gsize) m * N;
          for (int64_t n = 0; n < N; n++)
            yr[n] += alpha * ar[n];
        }
    }
  lens_occluder_release (occ, d);
  lens_occluder_release (occ, acc);
  return TRUE;
}

gboolean
lens_occlude_run_dense (LensOccluder *occ,
                        guint         l,
                        Kind          kind,
                        Patch        *patches,
                        int           B,
                        gboolean     *fallback,
                        GError      **error)
{
  LensNode *node = lens_net_layer_node (occ->net, l);

  *fallback = FALSE;
  if (kind == KIND_FLATTEN)
    return run_flatten (occ, node, patches, B, fallback);
  if (B == 1 && patches[node->inputs[0]].full)
    return run_gemm_vector (occ, l, node, patches, fallback, error);
  return run_gemm (occ, l, node, patches, B, fallback, error);
}
