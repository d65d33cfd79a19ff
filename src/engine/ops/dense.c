/* dense.c: Gemm and MatMul through BLAS, and the batch-1 Gemm of a
 * classifier (one input row against a weight matrix stored [N,K], as
 * torch.onnx.export writes Linear layers) with its own AVX-512 kernel */
#define G_LOG_DOMAIN "dense"

#include "ops-common.h"
#include "lens-blas.h"
#include "lens-platform.h"
#include "parallel.h"

#include <immintrin.h>
#include <string.h>

gboolean
lens_gemm_setup (LensNode          *node,
                 const LensAttrs   *attrs,
                 const LensOpInput *in,
                 LensOpOutput      *out,
                 GError           **error)
{
  LensOpParams *p = &node->p;
  const LensShape *a = &in[0].shape, *b = &in[1].shape;
  int64_t m, k, k2, n;

  p->alpha = lens_attrs_get_float (attrs, "alpha", 1.0f);
  p->beta = lens_attrs_get_float (attrs, "beta", 1.0f);
  p->trans_a = (int) lens_attrs_get_int (attrs, "transA", 0);
  p->trans_b = (int) lens_attrs_get_int (attrs, "transB", 0);
  if (a->ndim != 2 || b->ndim != 2 || in[0].dtype != LENS_DTYPE_FLOAT32 ||
      in[1].dtype != LENS_DTYPE_FLOAT32)
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node,
                         "A and B must be 2-D float matrices (got ranks %d and %d)",
                         a->ndim, b->ndim);
      return FALSE;
    }
  m = p->trans_a ? a->dims[1] : a->dims[0];
  k = p->trans_a ? a->dims[0] : a->dims[1];
  k2 = p->trans_b ? b->dims[1] : b->dims[0];
  n = p->trans_b ? b->dims[0] : b->dims[1];
  if (k != k2)
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node,
                         "inner dimensions differ: A gives %" G_GINT64_FORMAT ", B %"
                         G_GINT64_FORMAT, k, k2);
      return FALSE;
    }
  if (k > G_MAXINT || m > G_MAXINT || n > G_MAXINT)
    {
      lens_op_set_error (error, LENS_NET_ERROR_TOO_LARGE, node, "matrix too large");
      return FALSE;
    }
  out[0].dtype = LENS_DTYPE_FLOAT32;
  out[0].shape = lens_shape_make (2, (int64_t[]) { m, n });
  if (node->n_inputs > 2 && in[2].present)
    {
      LensShape bs;
      if (!lens_shape_broadcast (&out[0].shape, &in[2].shape, &bs) ||
          !lens_shape_equal (&bs, &out[0].shape))
        {
          lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node,
                             "C does not broadcast to [%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
                             "]", m, n);
          return FALSE;
        }
    }
  node->n_params = lens_shape_numel (b) +
                   (node->n_inputs > 2 && in[2].present ? lens_shape_numel (&in[2].shape) : 0);
  node->flops = 2ull * (guint64) m * (guint64) n * (guint64) k;
  return TRUE;
}

/* Fills y [M,N] with beta * C broadcast (C may be scalar, [N], [M,1], [M,N]). */
static void
fill_bias (const LensTensor *c,
           float             beta,
           float            *y,
           int64_t           m,
           int64_t           n)
{
  const float *cv = c->data;
  int64_t cm = c->shape.ndim == 2 ? c->shape.dims[0] : 1;
  int64_t cn = c->shape.ndim >= 1 ? c->shape.dims[c->shape.ndim - 1] : 1;

  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++)
      y[i * n + j] = beta * cv[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
}

/* ---- batch 1, B stored [N,K]: y[j] = alpha x . B[j] + y[j] ----
 *
 * Memory-bound: each weight is read once (AlexNet's first dense layer is
 * 151 MB).  Eight rows of B are streamed side by side against the same
 * run of x, which keeps more loads in flight than OpenBLAS's sgemv does
 * (about 8% faster on one core here, bench/README.md), and the rows are
 * shared out over the threads in blocks of ROW_BLOCK by
 * lens_parallel_run (), without waking OpenBLAS's threads. */

#define ROW_BLOCK 32

typedef struct
{
  const float *x, *b;
  float       *y;
  int64_t      n, k, ldb;
  float        alpha;
} RowDot;

__attribute__ ((target ("avx512f"))) static inline __m512
row_load (const float *p,
          int64_t      left)
{
  return left >= 16 ? _mm512_loadu_ps (p)
                    : _mm512_maskz_loadu_ps ((__mmask16) ((1u << left) - 1), p);
}

/* rows [j0, j0 + R) of B, R = 8 or 1 */
#define ROW_DOT(R)                                                              \
__attribute__ ((target ("avx512f"))) static void                                \
row_dot##R (const RowDot *d,                                                    \
            int64_t       j0)                                                   \
{                                                                               \
  __m512 acc[R];                                                                \
  const float *rows = d->b + j0 * d->ldb;                                       \
                                                                                \
  for (int r = 0; r < (R); r++)                                                 \
    acc[r] = _mm512_setzero_ps ();                                              \
  for (int64_t t = 0; t < d->k; t += 16)                                        \
    {                                                                           \
      __m512 xv = row_load (d->x + t, d->k - t);                                \
      _Pragma ("GCC unroll 8")                                                  \
      for (int r = 0; r < (R); r++)                                             \
        acc[r] = _mm512_fmadd_ps (row_load (rows + r * d->ldb + t, d->k - t), xv, acc[r]); \
    }                                                                           \
  for (int r = 0; r < (R); r++)                                                 \
    d->y[j0 + r] += d->alpha * _mm512_reduce_add_ps (acc[r]);                   \
}
ROW_DOT (8)
ROW_DOT (1)

static void
row_dot_block (gpointer data,
               int64_t  item)
{
  const RowDot *d = data;
  int64_t j = item * ROW_BLOCK, end = MIN (d->n, j + ROW_BLOCK);

  for (; j + 8 <= end; j += 8)
    row_dot8 (d, j);
  for (; j < end; j++)
    row_dot1 (d, j);
}

/* LENS_GEMV_AVX512=0 keeps OpenBLAS's sgemv (for comparison) */
static gboolean
row_dot_usable (void)
{
  static gint enabled = -1;

  return lens_cpu_avx512_once (&enabled, "LENS_GEMV_AVX512");
}

/* a [M,K] b [K,N] c [M,N]~ -> y [M,N] */
void
lens_gemm_forward (const LensNode    *node,
                   const LensTensor **in,
                   LensTensor       **out,
                   const LensExec    *exec)
{
  const LensOpParams *p = &node->p;
  int64_t m = out[0]->shape.dims[0], n = out[0]->shape.dims[1];
  int64_t k = p->trans_a ? in[0]->shape.dims[0] : in[0]->shape.dims[1];
  gboolean has_c = node->n_inputs > 2 && in[2] != NULL && p->beta != 0.0f;
  float *y = out[0]->data;

  if (has_c)
    fill_bias (in[2], p->beta, y, m, n);
  if (m == 1 && p->trans_b && k > 0 && row_dot_usable ())
    {
      RowDot d = { in[0]->data, in[1]->data, y, n, k, in[1]->shape.dims[1], p->alpha };

      /* one row of A: its elements are contiguous whether or not transA */
      if (!has_c)
        memset (y, 0, sizeof (float) * (gsize) n);
      lens_parallel_run_n (row_dot_block, &d, (n + ROW_BLOCK - 1) / ROW_BLOCK, exec->threads);
      return;
    }
  lens_blas_sgemm (p->trans_a, p->trans_b, (int) m, (int) n, (int) k, p->alpha,
                   in[0]->data, (int) in[0]->shape.dims[1], in[1]->data,
                   (int) in[1]->shape.dims[1], has_c ? 1.0f : 0.0f, y, (int) n);
}

void
lens_gemm_reference (const LensNode    *node,
                     const LensTensor **in,
                     LensTensor       **out,
                     const LensExec    *exec)
{
  const LensOpParams *p = &node->p;
  int64_t m = out[0]->shape.dims[0], n = out[0]->shape.dims[1];
  int64_t k = p->trans_a ? in[0]->shape.dims[0] : in[0]->shape.dims[1];
  int64_t lda = in[0]->shape.dims[1], ldb = in[1]->shape.dims[1];
  const float *a = in[0]->data, *b = in[1]->data;
  float *y = out[0]->data;

  if (node->n_inputs > 2 && in[2] != NULL)
    fill_bias (in[2], p->beta, y, m, n);
  else
    memset (y, 0, sizeof (float) * m * n);
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++)
      {
        double acc = 0.0;
        for (int64_t t = 0; t < k; t++)
          acc += (double) (p->trans_a ? a[t * lda + i] : a[i * lda + t]) *
                 (p->trans_b ? b[j * ldb + t] : b[t * ldb + j]);
        y[i * n + j] += (float) (p->alpha * acc);
      }
}

/* MatMul's batch walk: a [...,M,K] times b [...,K,N] with numpy
 * broadcasting over the leading dimensions. */
typedef struct
{
  int64_t m, k, n;
  int     rank;
  int64_t dims[LENS_MAX_DIMS], sa[LENS_MAX_DIMS], sb[LENS_MAX_DIMS];
  gsize   batches;
} MatmulWalk;

static void
matmul_walk_init (MatmulWalk      *mw,
                  const LensShape *a,
                  const LensShape *b)
{
  gboolean a_vec = a->ndim == 1, b_vec = b->ndim == 1;
  int ra = MAX (0, a->ndim - 2), rb = MAX (0, b->ndim - 2);
  int64_t stride_a, stride_b;

  mw->m = a_vec ? 1 : a->dims[a->ndim - 2];
  mw->k = a->dims[a->ndim - 1];
  mw->n = b_vec ? 1 : b->dims[b->ndim - 1];
  mw->rank = MAX (ra, rb);
  mw->batches = 1;
  stride_a = mw->m * mw->k;
  stride_b = mw->k * mw->n;
  for (int i = mw->rank - 1; i >= 0; i--)
    {
      int ia = ra - mw->rank + i, ib = rb - mw->rank + i;
      int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
      mw->dims[i] = MAX (da, db);
      mw->sa[i] = da == 1 ? 0 : stride_a;
      mw->sb[i] = db == 1 ? 0 : stride_b;
      stride_a *= da;
      stride_b *= db;
      mw->batches *= (gsize) mw->dims[i];
    }
}

/* Element offsets into a and b of batch t. */
static void
matmul_walk_offsets (const MatmulWalk *mw,
                     gsize             t,
                     int64_t          *oa,
                     int64_t          *ob)
{
  *oa = *ob = 0;
  for (int i = mw->rank - 1; i >= 0; i--)
    {
      int64_t idx = (int64_t) (t % (gsize) mw->dims[i]);
      t /= (gsize) mw->dims[i];
      *oa += idx * mw->sa[i];
      *ob += idx * mw->sb[i];
    }
}

gboolean
lens_matmul_setup (LensNode          *node,
                   const LensAttrs   *attrs,
                   const LensOpInput *in,
                   LensOpOutput      *out,
                   GError           **error)
{
  LensShape a = in[0].shape, b = in[1].shape, ba = { 0 }, bb = { 0 }, batch;
  int64_t m, k, n;
  gboolean a_vec = a.ndim == 1, b_vec = b.ndim == 1;

  if (in[0].dtype != LENS_DTYPE_FLOAT32 || in[1].dtype != LENS_DTYPE_FLOAT32 ||
      a.ndim < 1 || b.ndim < 1)
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "inputs must be float tensors");
      return FALSE;
    }
  m = a_vec ? 1 : a.dims[a.ndim - 2];
  k = a.dims[a.ndim - 1];
  n = b_vec ? 1 : b.dims[b.ndim - 1];
  if ((b_vec ? b.dims[0] : b.dims[b.ndim - 2]) != k)
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "inner dimensions differ");
      return FALSE;
    }
  ba.ndim = MAX (0, a.ndim - 2);
  memcpy (ba.dims, a.dims, sizeof (int64_t) * ba.ndim);
  bb.ndim = MAX (0, b.ndim - 2);
  memcpy (bb.dims, b.dims, sizeof (int64_t) * bb.ndim);
  if (!lens_shape_broadcast (&ba, &bb, &batch))
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "batch dimensions do not broadcast");
      return FALSE;
    }
  out[0].dtype = LENS_DTYPE_FLOAT32;
  out[0].shape = batch;
  if (!a_vec)
    out[0].shape.dims[out[0].shape.ndim++] = m;
  if (!b_vec)
    out[0].shape.dims[out[0].shape.ndim++] = n;
  if (out[0].shape.ndim > LENS_MAX_DIMS)
    {
      lens_op_set_error (error, LENS_NET_ERROR_SHAPE, node, "too many dimensions");
      return FALSE;
    }
  node->n_params = in[1].constant ? lens_shape_numel (&in[1].shape) : 0;
  node->flops = 2ull * lens_shape_numel (&batch) * (guint64) m * (guint64) n * (guint64) k;
  return TRUE;
}

/* a [...,M,K] b [...,K,N] -> y [...,M,N] */
void
lens_matmul_forward (const LensNode    *node,
                     const LensTensor **in,
                     LensTensor       **out,
                     const LensExec    *exec)
{
  MatmulWalk mw;

  matmul_walk_init (&mw, &in[0]->shape, &in[1]->shape);
  for (gsize t = 0; t < mw.batches; t++)
    {
      int64_t oa, ob;
      matmul_walk_offsets (&mw, t, &oa, &ob);
      lens_blas_sgemm (FALSE, FALSE, (int) mw.m, (int) mw.n, (int) mw.k, 1.0f,
                       (const float *) in[0]->data + oa, (int) mw.k,
                       (const float *) in[1]->data + ob, (int) mw.n, 0.0f,
                       (float *) out[0]->data + t * mw.m * mw.n, (int) mw.n);
    }
}

/* Parameter gradients (training):
 *   gB += alpha op(A)^T gy   (B [K,N]),  or alpha gy^T op(A) when transB (B [N,K]);
 *   gC += beta gy, summed over the dimensions C is broadcast along. */
static void
gemm_param_grads (const LensNode    *node,
                  const LensTensor **in,
                  const LensTensor  *gout,
                  LensTensor        *gb,
                  LensTensor        *gc)
{
  const LensOpParams *p = &node->p;
  int64_t m = gout->shape.dims[0], n = gout->shape.dims[1];
  int64_t k = p->trans_a ? in[0]->shape.dims[0] : in[0]->shape.dims[1];
  int lda = (int) in[0]->shape.dims[1];
  const float *gy = gout->data;

  if (gb != NULL)
    {
      if (!p->trans_b)
        lens_blas_sgemm (!p->trans_a, FALSE, (int) k, (int) n, (int) m, p->alpha, in[0]->data,
                         lda, gy, (int) n, 1.0f, gb->data, (int) n);
      else
        lens_blas_sgemm (TRUE, p->trans_a, (int) n, (int) k, (int) m, p->alpha, gy, (int) n,
                         in[0]->data, lda, 1.0f, gb->data, (int) k);
    }
  if (gc != NULL)
    {
      int64_t cm = gc->shape.ndim == 2 ? gc->shape.dims[0] : 1;
      int64_t cn = gc->shape.ndim >= 1 ? gc->shape.dims[gc->shape.ndim - 1] : 1;
      float *g = gc->data;

      for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
          g[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)] += p->beta * gy[i * n + j];
    }
}

/* gy [M,N] -> gA [M,K] += alpha gy op(B)^T (or its transpose when transA).
 * B and C are weights: their gradients are added only when gin[1] / gin[2]
 * are given (training); the projections never ask for them. */
void
lens_gemm_backward (const LensNode    *node,
                    const LensTensor **in,
                    const LensTensor **out,
                    const LensTensor  *gout,
                    LensTensor       **gin,
                    const LensBackCtx *ctx)
{
  const LensOpParams *p = &node->p;
  int64_t m = gout->shape.dims[0], n = gout->shape.dims[1];
  int64_t k = p->trans_a ? in[0]->shape.dims[0] : in[0]->shape.dims[1];
  int ldb = (int) in[1]->shape.dims[1];
  gboolean has_c = node->n_inputs > 2 && in[2] != NULL;

  if (gin[1] != NULL || (has_c && gin[2] != NULL))
    gemm_param_grads (node, in, gout, gin[1], has_c ? gin[2] : NULL);
  if (gin[0] == NULL)
    return;
  if (!p->trans_a)
    lens_blas_sgemm (FALSE, !p->trans_b, (int) m, (int) k, (int) n, p->alpha, gout->data,
                     (int) n, in[1]->data, ldb, 1.0f, gin[0]->data, (int) k);
  else
    lens_blas_sgemm (p->trans_b, TRUE, (int) k, (int) m, (int) n, p->alpha, in[1]->data, ldb,
                     gout->data, (int) n, 1.0f, gin[0]->data, (int) m);
}

/* gy [...,M,N] -> gA [...,M,K] += gy B^T, and when gin[1] is given (a
 * trained weight, or a second activation) gB [...,K,N] += A^T gy; a side's
 * broadcast batch dimensions sum its gradients. */
void
lens_matmul_backward (const LensNode    *node,
                      const LensTensor **in,
                      const LensTensor **out,
                      const LensTensor  *gout,
                      LensTensor       **gin,
                      const LensBackCtx *ctx)
{
  MatmulWalk mw;

  if (gin[0] == NULL && gin[1] == NULL)
    return;
  matmul_walk_init (&mw, &in[0]->shape, &in[1]->shape);
  for (gsize t = 0; t < mw.batches; t++)
    {
      const float *gy = (const float *) gout->data + t * mw.m * mw.n;
      int64_t oa, ob;

      matmul_walk_offsets (&mw, t, &oa, &ob);
      if (gin[0] != NULL)
        lens_blas_sgemm (FALSE, TRUE, (int) mw.m, (int) mw.k, (int) mw.n, 1.0f, gy, (int) mw.n,
                         (const float *) in[1]->data + ob, (int) mw.n, 1.0f,
                         (float *) gin[0]->data + oa, (int) mw.k);
      if (gin[1] != NULL)
        lens_blas_sgemm (TRUE, FALSE, (int) mw.k, (int) mw.n, (int) mw.m, 1.0f,
                         (const float *) in[0]->data + oa, (int) mw.k, gy, (int) mw.n, 1.0f,
                         (float *) gin[1]->data + ob, (int) mw.n);
    }
}
