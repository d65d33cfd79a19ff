/* kernel-util.h: driving one op of the table by hand (test-kernels.c) */
#pragma once

#include "lens-ops.h"
#include "lens-net.h"

#define MAX_ATTRS 8

typedef struct
{
  LensAttr items[MAX_ATTRS];
  gint64   ints[MAX_ATTRS][8];
  int      n;
} Attrs;

void        attr_ints     (Attrs *a, const char *name, int n, const int *v);
void        attr_int      (Attrs *a, const char *name, gint64 v);
void        attr_float    (Attrs *a, const char *name, float v);
void        attr_string   (Attrs *a, const char *name, const char *v);

/* A float tensor of the given dims, filled from values (or left zero). */
LensTensor *tensor        (int ndim, const int64_t *dims, const float *values);
/* Uniform in [-1, 1). */
LensTensor *random_tensor (GRand *rand, int ndim, const int64_t *dims);

/* A node run through setup, then forward and reference into two outputs.
 * Outputs start as NaN so that a kernel that skips an element, or
 * accumulates into what it should overwrite, shows. */
typedef struct
{
  LensNode    node;
  int         input_ids[3];
  int         output_ids[2];
  LensTensor *fast, *ref;
  int32_t    *switches;
} Run;

/* Fills *r; ins[i] may be NULL for an absent optional input. */
gboolean    run_op        (Run *r, LensOpType op, const Attrs *attrs, LensTensor **ins,
                           int n_ins, GError **error);
void        run_clear     (Run *r);

/* |got - want| <= 1e-4 |want| + 1e-5 max(1, max |want|), element by element. */
void        assert_close  (const LensTensor *got, const LensTensor *want, const char *what);
void        assert_values (const LensTensor *got, const float *want, const char *what);
