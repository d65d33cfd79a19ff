/* lens-blas.c: the only file that calls BLAS.
 *
 * OpenBLAS is opened at run time (dlopen) rather than linked, so that we
 * can pick its kernel before its constructor runs: Debian's DYNAMIC_ARCH
 * build of 0.3.21 does not recognise some virtualised CPUs (they report a
 * generic model name) and falls back to its Prescott (SSE3) kernels, about
 * 2x slower than the AVX-512 ones the CPU supports.  When the user has not
 * chosen a core with OPENBLAS_CORETYPE, we choose from the CPU's feature
 * flags.  The golden tests (PyTorch references) check the result.
 *
 * For the same reason (its environment is read by its constructor) we set
 * how long OpenBLAS's threads spin after a call before they sleep:
 * by default 2^28 cycles, about a tenth of a second, during which an
 * idle OpenBLAS thread keeps a core busy.  On 2 cores that core is the one
 * our own helpers (the direct convolution's pool, the occlusion workers)
 * need right after a BLAS call: alexnet's forward pass at 2 threads took
 * 25-31 ms with the spinning and 18-23 ms without (bench/README.md).  Unless
 * the user has set OPENBLAS_THREAD_TIMEOUT, it is 4 (2^4 cycles: sleep at
 * once). */
#define G_LOG_DOMAIN "lens-blas"

#include "lens-blas.h"
#include "lens-net.h"

#include <cblas.h>
#include <dlfcn.h>
#include <stdlib.h>

typedef void (*SgemmFn) (enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE,
                         blasint, blasint, blasint, float, const float *, blasint,
                         const float *, blasint, float, float *, blasint);
typedef void (*SgemvFn) (enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, blasint, blasint, float,
                         const float *, blasint, const float *, blasint, float, float *,
                         blasint);
typedef void (*SetThreadsFn) (int);
typedef int (*GetThreadsFn) (void);
typedef char *(*CoreNameFn) (void);

static struct
{
  SgemmFn      sgemm;
  SgemvFn      sgemv;
  SetThreadsFn set_threads;
  GetThreadsFn get_threads;
  CoreNameFn   corename;
  gint         threads;      /* atomic */
} blas;

static const char *
pick_core (void)
{
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512vl") &&
      __builtin_cpu_supports ("avx512bw") && __builtin_cpu_supports ("avx512dq"))
    return __builtin_cpu_supports ("avx512bf16") ? "Cooperlake" : "SkylakeX";
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return "Haswell";
  return NULL;
}

static gpointer
blas_open (gpointer data)
{
  void *lib;
  const char *core;

  if (g_getenv ("OPENBLAS_CORETYPE") == NULL && (core = pick_core ()) != NULL)
    g_setenv ("OPENBLAS_CORETYPE", core, FALSE);
  g_setenv ("OPENBLAS_THREAD_TIMEOUT", "4", FALSE);
  lib = dlopen ("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL)
    lib = dlopen ("libopenblas.so", RTLD_NOW | RTLD_LOCAL);
  if (lib != NULL)
    {
      blas.sgemm = (SgemmFn) dlsym (lib, "cblas_sgemm");
      blas.sgemv = (SgemvFn) dlsym (lib, "cblas_sgemv");
      blas.set_threads = (SetThreadsFn) dlsym (lib, "openblas_set_num_threads");
      blas.get_threads = (GetThreadsFn) dlsym (lib, "openblas_get_num_threads");
      blas.corename = (CoreNameFn) dlsym (lib, "openblas_get_corename");
    }
  if (blas.sgemm == NULL || blas.sgemv == NULL)
    {
      /* fall back to the plain loops below: slow, still correct */
      blas.sgemm = NULL;
      blas.sgemv = NULL;
    }
  if (g_atomic_int_get (&blas.threads) > 0 && blas.set_threads != NULL)
    blas.set_threads (g_atomic_int_get (&blas.threads));
  return NULL;
}

static inline void
blas_init (void)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, blas_open, NULL);
}

/* Plain loops, used only when OpenBLAS cannot be opened. */
static void
naive_sgemm (gboolean ta, gboolean tb, int m, int n, int k, float alpha, const float *a, int lda,
             const float *b, int ldb, float beta, float *c, int ldc)
{
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      {
        float acc = 0.0f;
        for (int t = 0; t < k; t++)
          acc += (ta ? a[t * lda + i] : a[i * lda + t]) * (tb ? b[j * ldb + t] : b[t * ldb + j]);
        c[i * ldc + j] = alpha * acc + (beta != 0.0f ? beta * c[i * ldc + j] : 0.0f);
      }
}

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
  blas_init ();
  if (blas.sgemm == NULL)
    {
      naive_sgemm (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    }
  if (n == 1)
    {
      /* c[m] = op(A)[m,k] . b[k] ; b is a column (stride ldb) or a row (stride 1) */
      blas.sgemv (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                  trans_a ? k : m, trans_a ? m : k, alpha, a, lda,
                  b, trans_b ? 1 : ldb, beta, c, ldc);
      return;
    }
  if (m == 1)
    {
      /* c[n] = a[k] . op(B)[k,n] */
      blas.sgemv (CblasRowMajor, trans_b ? CblasNoTrans : CblasTrans,
                  trans_b ? n : k, trans_b ? k : n, alpha, b, ldb,
                  a, trans_a ? lda : 1, beta, c, 1);
      return;
    }
  blas.sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
              beta, c, ldc);
}

void
lens_blas_set_threads (int n)
{
  if (n <= 0)
    n = (int) g_get_num_processors ();
  /* atomic: each window's engine thread may set it */
  g_atomic_int_set (&blas.threads, n);
  blas_init ();
  if (blas.set_threads != NULL)
    blas.set_threads (n);
}

int
lens_blas_get_threads (void)
{
  int n;

  blas_init ();
  n = g_atomic_int_get (&blas.threads);
  if (n > 0)
    return n;
  return blas.get_threads != NULL ? blas.get_threads () : 1;
}

const char *
lens_blas_get_core (void)
{
  blas_init ();
  return blas.corename != NULL ? blas.corename () : "none (built-in loops)";
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
