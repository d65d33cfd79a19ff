/* lens-blas.h: the one door to BLAS (OpenBLAS through cblas) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* C[M,N] = alpha * op(A) op(B) + beta * C, row-major.  Picks sgemv when
 * one side is a vector (batch-1 dense layers are memory-bound and sgemv is
 * much faster there than sgemm with N = 1). */
void lens_blas_sgemm (gboolean     trans_a,
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
                      int          ldc);

void lens_blas_set_threads (int n);
int  lens_blas_get_threads (void);
/* Name of the OpenBLAS kernel in use. */
const char *lens_blas_get_core (void);

G_END_DECLS
