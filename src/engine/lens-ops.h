/* lens-ops.h: the op table.
 *
 * Adding an op = one enum value, one row in lens-ops.c, its functions in
 * the family file under ops/, one test.  Each row gives:
 *   - setup: parse attributes, check inputs and infer output shapes/dtypes
 *     (may fail with a GError naming the node); also fills the node's
 *     workspace need, parameter count and FLOPs;
 *   - forward: compute outputs from inputs (cannot fail, never allocates:
 *     it gets a workspace sized by setup);
 *   - reference: a naive kernel for ops with a fast path (tests compare).
 */
#pragma once

#include <gio/gio.h>

#include "lens-tensor.h"

G_BEGIN_DECLS

typedef enum
{
  LENS_OP_CONV,
  LENS_OP_MAXPOOL,
  LENS_OP_AVERAGEPOOL,
  LENS_OP_GLOBALAVERAGEPOOL,
  LENS_OP_GLOBALMAXPOOL,
  LENS_OP_LRN,
  LENS_OP_BATCHNORM,
  LENS_OP_RELU,
  LENS_OP_LEAKYRELU,
  LENS_OP_SIGMOID,
  LENS_OP_TANH,
  LENS_OP_CLIP,
  LENS_OP_DROPOUT,
  LENS_OP_IDENTITY,
  LENS_OP_SOFTMAX,
  LENS_OP_ADD,
  LENS_OP_SUB,
  LENS_OP_MUL,
  LENS_OP_DIV,
  LENS_OP_SUM,
  LENS_OP_GEMM,
  LENS_OP_MATMUL,
  LENS_OP_CONCAT,
  LENS_OP_RESHAPE,
  LENS_OP_FLATTEN,
  LENS_OP_TRANSPOSE,
  LENS_OP_UNSQUEEZE,
  LENS_OP_SQUEEZE,
  LENS_OP_CONSTANT,
  LENS_OP_CONSTANTOFSHAPE,
  LENS_OP_SHAPE,
  LENS_OP_GATHER,
  LENS_OP_PAD,
  LENS_OP_CAST,
  LENS_OP_SLICE,
  LENS_OP_COUNT
} LensOpType;

/* Attributes, decoupled from the protobuf types (the loader converts). */
typedef enum
{
  LENS_ATTR_INT,
  LENS_ATTR_FLOAT,
  LENS_ATTR_STRING,
  LENS_ATTR_INTS,
  LENS_ATTR_FLOATS,
  LENS_ATTR_TENSOR,
  LENS_ATTR_OTHER,
} LensAttrType;

typedef struct
{
  const char       *name;
  LensAttrType      type;
  gint64            i;
  float             f;
  const char       *s;
  gsize             n;        /* count of ints / floats */
  const gint64     *ints;
  const float      *floats;
  const LensTensor *t;
} LensAttr;

typedef struct
{
  const LensAttr *items;
  int             n;
} LensAttrs;

#define LENS_MAX_SPATIAL 2

/* Parsed parameters; each op uses the fields it needs. */
typedef struct
{
  /* conv / pool */
  int     kernel[LENS_MAX_SPATIAL];
  int     strides[LENS_MAX_SPATIAL];
  int     dilations[LENS_MAX_SPATIAL];
  int     pads[2 * LENS_MAX_SPATIAL];   /* begin h, begin w, end h, end w */
  int     group;
  int     ceil_mode;
  int     count_include_pad;
  int     spatial;                      /* 1 or 2 (1-D runs as H = 1) */
  /* LRN / BN / Gemm / Clip / activations */
  int     size;
  float   alpha, beta, bias, epsilon;
  float   clip_min, clip_max;
  int     trans_a, trans_b;
  /* axis-based ops */
  int     axis;
  int     perm[LENS_MAX_DIMS];
  int     pad_mode;                     /* 0 constant, 1 reflect, 2 edge */
  float   pad_value;
  gint64  pad_amounts[2 * LENS_MAX_DIMS];
  gint64  slice_start[LENS_MAX_DIMS];
  gint64  slice_step[LENS_MAX_DIMS];
  LensDType cast_to;
  /* the node's own constant (Constant / ConstantOfShape), owned */
  LensTensor *value;
} LensOpParams;

typedef struct
{
  char         *name;
  LensOpType    op;
  int           n_inputs;
  int          *inputs;        /* value indices, -1 for an absent optional */
  int           n_outputs;
  int          *outputs;
  LensOpParams  p;
  gboolean      folded;        /* computed at load time */
  gsize         workspace_floats;
  gsize         n_params;
  guint64       flops;
  gint64        opset;
} LensNode;

/* What setup sees of each input. */
typedef struct
{
  const char       *name;
  LensShape         shape;
  LensDType         dtype;
  const LensTensor *constant;  /* NULL if computed at run time */
  gboolean          present;
} LensOpInput;

typedef struct
{
  LensShape shape;
  LensDType dtype;
} LensOpOutput;

typedef struct
{
  float   *workspace;
  int32_t *switches;           /* MaxPool only */
  /* Conv only, may be NULL: also write ReLU of the output here (the
   * trace fuses a Conv with the ReLU that follows it) */
  float   *relu_out;
  /* > 0: the kernels' own threads to use (lens_parallel_run_n) instead of
   * lens_get_threads (), e.g. while a query keeps BLAS on one thread */
  int      threads;
} LensExec;

/* y = x > 0 ? x : +0 for n floats (NaN and -0 give +0); x == y is fine */
void lens_relu_floats (const float *x,
                       float       *y,
                       gsize        n);

typedef gboolean (*LensOpSetup)    (LensNode          *node,
                                    const LensAttrs   *attrs,
                                    const LensOpInput *inputs,
                                    LensOpOutput      *outputs,
                                    GError           **error);
typedef void     (*LensOpForward)  (const LensNode    *node,
                                    const LensTensor **inputs,
                                    LensTensor       **outputs,
                                    const LensExec    *exec);

/* How a backward signal crosses the non-linearities (DESIGN.md,
 * "Projections"). */
typedef enum
{
  LENS_BACK_DECONV,    /* Zeiler & Fergus: ReLU rectifies the signal */
  LENS_BACK_GUIDED,    /* Springenberg: signal > 0 and forward input > 0 */
  LENS_BACK_GRADIENT,  /* plain gradient: forward input > 0 */
} LensBackMode;

typedef struct
{
  LensBackMode   mode;
  gboolean       lrn_jacobian;  /* FALSE: LRN passes the signal unchanged */
  float         *workspace;     /* as large as the forward workspace */
  const int32_t *switches;      /* MaxPool: the forward pass's switches */
} LensBackCtx;

/* Adds the backward signal of each input into gin[i] (gin[i] NULL: not
 * wanted).  in/out are the forward tensors; gout the signal at output 0. */
typedef void     (*LensOpBackward) (const LensNode    *node,
                                    const LensTensor **in,
                                    const LensTensor **out,
                                    const LensTensor  *gout,
                                    LensTensor       **gin,
                                    const LensBackCtx *ctx);

/* A box of one spatial plane: rows [y0, y1), columns [x0, x1). */
typedef struct
{
  int64_t y0, y1, x0, x1;
} LensRegion;

/* The region of input `i` that output region `out` depends on.
 * Returns FALSE when the op mixes all positions (dense, global pool):
 * then the whole input is needed. */
typedef gboolean (*LensOpRegion)   (const LensNode    *node,
                                    const LensShape   *in_shape,
                                    const LensRegion  *out,
                                    LensRegion        *in);

typedef struct
{
  const char    *onnx_name;
  int            min_inputs, max_inputs;  /* max -1: variadic */
  int            max_outputs;
  LensOpSetup    setup;
  LensOpForward  forward;
  LensOpForward  reference;               /* naive kernel; NULL = forward is naive */
  LensOpBackward backward;                /* NULL: projections cannot cross it */
  LensOpRegion   region;                  /* NULL: elementwise (same region) */
} LensOpClass;

const LensOpClass *lens_op_class      (LensOpType type);
gboolean           lens_op_lookup     (const char *onnx_name,
                                       LensOpType *out_type);
const char        *lens_op_name       (LensOpType type);

/* Attribute helpers for setup functions. */
const LensAttr *lens_attrs_find        (const LensAttrs *attrs,
                                        const char      *name);
gint64          lens_attrs_get_int     (const LensAttrs *attrs,
                                        const char      *name,
                                        gint64           fallback);
float           lens_attrs_get_float   (const LensAttrs *attrs,
                                        const char      *name,
                                        float            fallback);
const char     *lens_attrs_get_string  (const LensAttrs *attrs,
                                        const char      *name,
                                        const char      *fallback);
/* Copies up to max ints; returns count found (0 if absent), -1 if more than max. */
int             lens_attrs_get_ints    (const LensAttrs *attrs,
                                        const char      *name,
                                        gint64          *out,
                                        int              max);

/* Error helpers: every message names the node and its op. */
void            lens_op_set_error      (GError        **error,
                                        int             code,
                                        const LensNode *node,
                                        const char     *format,
                                        ...) G_GNUC_PRINTF (4, 5);

/* Broadcast two shapes numpy-style; FALSE if incompatible. */
gboolean        lens_shape_broadcast   (const LensShape *a,
                                        const LensShape *b,
                                        LensShape       *out);
/* Normalises a possibly negative axis into [0, rank); FALSE if out of range. */
gboolean        lens_axis_normalize    (gint64  axis,
                                        int     rank,
                                        int    *out);

/* Family entry points (ops/...). */
#define LENS_DECLARE_OP(name) \
  gboolean lens_##name##_setup (LensNode *, const LensAttrs *, const LensOpInput *, \
                                LensOpOutput *, GError **); \
  void     lens_##name##_forward (const LensNode *, const LensTensor **, LensTensor **, \
                                  const LensExec *)

#define LENS_DECLARE_BACK(name) \
  void lens_##name##_backward (const LensNode *, const LensTensor **, const LensTensor **, \
                               const LensTensor *, LensTensor **, const LensBackCtx *)
#define LENS_DECLARE_REGION(name) \
  gboolean lens_##name##_region (const LensNode *, const LensShape *, const LensRegion *, \
                                 LensRegion *)

LENS_DECLARE_BACK (conv);
LENS_DECLARE_BACK (maxpool);
LENS_DECLARE_BACK (averagepool);
LENS_DECLARE_BACK (globalpool);
LENS_DECLARE_BACK (lrn);
LENS_DECLARE_BACK (batchnorm);
LENS_DECLARE_BACK (softmax);
LENS_DECLARE_BACK (unary);
LENS_DECLARE_BACK (clip);
LENS_DECLARE_BACK (passthrough);
LENS_DECLARE_BACK (binary);
LENS_DECLARE_BACK (sum);
LENS_DECLARE_BACK (gemm);
LENS_DECLARE_BACK (matmul);
LENS_DECLARE_BACK (concat);
LENS_DECLARE_BACK (reshape);
LENS_DECLARE_BACK (transpose);
LENS_DECLARE_BACK (pad);
LENS_DECLARE_REGION (window);
LENS_DECLARE_REGION (global);
LENS_DECLARE_REGION (pad);

LENS_DECLARE_OP (conv);
void lens_conv_reference (const LensNode *, const LensTensor **, LensTensor **, const LensExec *);
LENS_DECLARE_OP (maxpool);
LENS_DECLARE_OP (averagepool);
LENS_DECLARE_OP (globalpool);
LENS_DECLARE_OP (lrn);
LENS_DECLARE_OP (batchnorm);
LENS_DECLARE_OP (softmax);
LENS_DECLARE_OP (unary);
LENS_DECLARE_OP (clip);
LENS_DECLARE_OP (passthrough);
LENS_DECLARE_OP (binary);
LENS_DECLARE_OP (sum);
LENS_DECLARE_OP (gemm);
void lens_gemm_reference (const LensNode *, const LensTensor **, LensTensor **, const LensExec *);
LENS_DECLARE_OP (matmul);
LENS_DECLARE_OP (concat);
LENS_DECLARE_OP (reshape);
LENS_DECLARE_OP (transpose);
LENS_DECLARE_OP (constant);
LENS_DECLARE_OP (constantofshape);
LENS_DECLARE_OP (shape);
LENS_DECLARE_OP (gather);
LENS_DECLARE_OP (pad);
LENS_DECLARE_OP (cast);
LENS_DECLARE_OP (slice);

G_END_DECLS
