/* lens-blas.c: the only file that calls BLAS */
#define G_LOG_DOMAIN "lens-blas"

#include "lens-blas.h"
#include "lens-net.h"

#include <cblas.h>

static int blas_threads = 0;

void
lens_blas_sgemm (gboolean     trans_a,
                 gboolean     trans_b,
                 int          m,
                 int          n,
                 int          k,
                 float        alpha,
                 const float *a,
                 int          lda,
                 const float *b,
                 int          ldb,
                 float        beta,
                 float       *c,
                 int          ldc)
{
  if (m == 0 || n == 0)
    return;
  if (n == 1)
    {
      /* c[m] = op(A)[m,k] . b[k] ; b is a column (stride ldb) or a row (stride 1) */
      cblas_sgemv (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                   trans_a ? k : m, trans_a ? m : k, alpha, a, lda,
                   b, trans_b ? 1 : ldb, beta, c, ldc);
      return;
    }
  if (m == 1)
    {
      /* c[n] = a[k] . op(B)[k,n] */
      cblas_sgemv (CblasRowMajor, trans_b ? CblasNoTrans : CblasTrans,
                   trans_b ? n : k, trans_b ? k : n, alpha, b, ldb,
                   a, trans_a ? lda : 1, beta, c, 1);
      return;
    }
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
               trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
               beta, c, ldc);
}

void
lens_blas_set_threads (int n)
{
  if (n <= 0)
    n = (int) g_get_num_processors ();
  blas_threads = n;
  openblas_set_num_threads (n);
}

int
lens_blas_get_threads (void)
{
  return blas_threads > 0 ? blas_threads : openblas_get_num_threads ();
}

void
lens_set_threads (int n_threads)
{
  lens_blas_set_threads (n_threads);
}

int
lens_get_threads (void)
{
  return lens_blas_get_threads ();
}
