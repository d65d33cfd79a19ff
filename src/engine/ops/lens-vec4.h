/* lens-vec4.h: four-float vectors for the branch-free element loops of
 * the ops (elementwise.c, pool.c).
 *
 * GCC's generic vector extension: the compiler lowers these to whatever
 * the target has (one SSE register on plain x86-64) with no per-element
 * branch, at -O2.  Compares give lanes of all ones (true) or all zeros,
 * which v4_select () uses as a mask; like the scalar compares, every
 * compare with a NaN is false.  Loads and stores go through memcpy, so
 * any alignment is fine. */
#pragma once

#include <stdint.h>
#include <string.h>

typedef float   LensV4f __attribute__ ((vector_size (16)));
typedef int32_t LensV4i __attribute__ ((vector_size (16)));

#define V4 4

/* Lanes i0..i3 of the eight lanes of a and b (constant indices). */
#if defined(__clang__)
#define V4_SHUFFLE2(a, b, i0, i1, i2, i3) __builtin_shufflevector ((a), (b), i0, i1, i2, i3)
#else
#define V4_SHUFFLE2(a, b, i0, i1, i2, i3) \
  __builtin_shuffle ((a), (b), (LensV4i) { i0, i1, i2, i3 })
#endif

static inline LensV4f
v4_load (const float *p)
{
  LensV4f v;
  memcpy (&v, p, sizeof v);
  return v;
}

static inline void
v4_store (float  *p,
          LensV4f v)
{
  memcpy (p, &v, sizeof v);
}

static inline void
v4i_store (int32_t *p,
           LensV4i  v)
{
  memcpy (p, &v, sizeof v);
}

/* mask ? a : b, lane by lane (mask lanes all ones or all zeros) */
static inline LensV4f
v4_select (LensV4i mask,
           LensV4f a,
           LensV4f b)
{
  return (LensV4f) (((LensV4i) a & mask) | ((LensV4i) b & ~mask));
}

static inline LensV4i
v4i_select (LensV4i mask,
            LensV4i a,
            LensV4i b)
{
  return (a & mask) | (b & ~mask);
}
