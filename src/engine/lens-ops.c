/* lens-ops.c: the op table and helpers shared by the op families */
#define G_LOG_DOMAIN "lens-ops"

#include "lens-ops.h"
#include "lens-net.h"

#include <string.h>

#define ROW(type, onnx, mn, mx, mo, fam, ref, back, region) \
  [type] = { onnx, mn, mx, mo, lens_##fam##_setup, lens_##fam##_forward, ref, back, region }
#define B(name) lens_##name##_backward
#define R(name) lens_##name##_region

static const LensOpClass op_table[] = {
  ROW (LENS_OP_CONV,              "Conv",               2,  3, 1, conv, lens_conv_reference, B(conv), R(window)),
  ROW (LENS_OP_MAXPOOL,           "MaxPool",            1,  1, 2, maxpool, NULL, B(maxpool), R(window)),
  ROW (LENS_OP_AVERAGEPOOL,       "AveragePool",        1,  1, 1, averagepool, NULL, B(averagepool), R(window)),
  ROW (LENS_OP_GLOBALAVERAGEPOOL, "GlobalAveragePool",  1,  1, 1, globalpool, NULL, B(globalpool), R(global)),
  ROW (LENS_OP_GLOBALMAXPOOL,     "GlobalMaxPool",      1,  1, 1, globalpool, NULL, NULL, R(global)),
  ROW (LENS_OP_LRN,               "LRN",                1,  1, 1, lrn, NULL, B(lrn), NULL),
  ROW (LENS_OP_BATCHNORM,         "BatchNormalization", 5,  5, 1, batchnorm, NULL, B(batchnorm), NULL),
  ROW (LENS_OP_RELU,              "Relu",               1,  1, 1, unary, NULL, B(unary), NULL),
  ROW (LENS_OP_LEAKYRELU,         "LeakyRelu",          1,  1, 1, unary, NULL, B(unary), NULL),
  ROW (LENS_OP_SIGMOID,           "Sigmoid",            1,  1, 1, unary, NULL, B(unary), NULL),
  ROW (LENS_OP_TANH,              "Tanh",               1,  1, 1, unary, NULL, B(unary), NULL),
  ROW (LENS_OP_CLIP,              "Clip",               1,  3, 1, clip, NULL, B(clip), NULL),
  ROW (LENS_OP_DROPOUT,           "Dropout",            1,  3, 2, passthrough, NULL, B(passthrough), NULL),
  ROW (LENS_OP_IDENTITY,          "Identity",           1,  1, 1, passthrough, NULL, B(passthrough), NULL),
  ROW (LENS_OP_SOFTMAX,           "Softmax",            1,  1, 1, softmax, NULL, B(softmax), R(global)),
  ROW (LENS_OP_ADD,               "Add",                2,  2, 1, binary, NULL, B(binary), NULL),
  ROW (LENS_OP_SUB,               "Sub",                2,  2, 1, binary, NULL, B(binary), NULL),
  ROW (LENS_OP_MUL,               "Mul",                2,  2, 1, binary, NULL, B(binary), NULL),
  ROW (LENS_OP_DIV,               "Div",                2,  2, 1, binary, NULL, B(binary), NULL),
  ROW (LENS_OP_SUM,               "Sum",                1, -1, 1, sum, NULL, B(sum), NULL),
  ROW (LENS_OP_GEMM,              "Gemm",               2,  3, 1, gemm, lens_gemm_reference, B(gemm), R(global)),
  ROW (LENS_OP_MATMUL,            "MatMul",             2,  2, 1, matmul, NULL, B(matmul), R(global)),
  ROW (LENS_OP_CONCAT,            "Concat",             1, -1, 1, concat, NULL, B(concat), NULL),
  ROW (LENS_OP_RESHAPE,           "Reshape",            1,  2, 1, reshape, NULL, B(reshape), R(global)),
  ROW (LENS_OP_FLATTEN,           "Flatten",            1,  1, 1, reshape, NULL, B(reshape), R(global)),
  ROW (LENS_OP_TRANSPOSE,         "Transpose",          1,  1, 1, transpose, NULL, B(transpose), R(global)),
  ROW (LENS_OP_UNSQUEEZE,         "Unsqueeze",          1,  2, 1, reshape, NULL, B(reshape), R(global)),
  ROW (LENS_OP_SQUEEZE,           "Squeeze",            1,  2, 1, reshape, NULL, B(reshape), R(global)),
  ROW (LENS_OP_CONSTANT,          "Constant",           0,  0, 1, constant, NULL, NULL, NULL),
  ROW (LENS_OP_CONSTANTOFSHAPE,   "ConstantOfShape",    1,  1, 1, constantofshape, NULL, NULL, NULL),
  ROW (LENS_OP_SHAPE,             "Shape",              1,  1, 1, shape, NULL, NULL, NULL),
  ROW (LENS_OP_GATHER,            "Gather",             2,  2, 1, gather, NULL, NULL, R(global)),
  ROW (LENS_OP_PAD,               "Pad",                1,  3, 1, pad, NULL, B(pad), R(pad)),
  ROW (LENS_OP_CAST,              "Cast",               1,  1, 1, cast, NULL, NULL, NULL),
  ROW (LENS_OP_SLICE,             "Slice",              1,  5, 1, slice, NULL, NULL, R(global)),
};

G_STATIC_ASSERT (G_N_ELEMENTS (op_table) == LENS_OP_COUNT);

const LensOpClass *
lens_op_class (LensOpType type)
{
  g_return_val_if_fail (type < LENS_OP_COUNT, NULL);
  return &op_table[type];
}

const char *
lens_op_name (LensOpType type)
{
  g_return_val_if_fail (type < LENS_OP_COUNT, "?");
  return op_table[type].onnx_name;
}

gboolean
lens_op_lookup (const char *onnx_name,
                LensOpType *out_type)
{
  for (int i = 0; i < LENS_OP_COUNT; i++)
    if (op_table[i].onnx_name != NULL && strcmp (op_table[i].onnx_name, onnx_name) == 0)
      {
        *out_type = i;
        return TRUE;
      }
  return FALSE;
}

const LensAttr *
lens_attrs_find (const LensAttrs *attrs,
                 const char      *name)
{
  for (int i = 0; i < attrs->n; i++)
    if (strcmp (attrs->items[i].name, name) == 0)
      return &attrs->items[i];
  return NULL;
}

gint64
lens_attrs_get_int (const LensAttrs *attrs,
                    const char      *name,
                    gint64           fallback)
{
  const LensAttr *a = lens_attrs_find (attrs, name);

  return a != NULL && a->type == LENS_ATTR_INT ? a->i : fallback;
}

float
lens_attrs_get_float (const LensAttrs *attrs,
                      const char      *name,
                      float            fallback)
{
  const LensAttr *a = lens_attrs_find (attrs, name);

  if (a == NULL)
    return fallback;
  if (a->type == LENS_ATTR_FLOAT)
    return a->f;
  if (a->type == LENS_ATTR_INT)
    return (float) a->i;
  return fallback;
}

const char *
lens_attrs_get_string (const LensAttrs *attrs,
                       const char      *name,
                       const char      *fallback)
{
  const LensAttr *a = lens_attrs_find (attrs, name);

  return a != NULL && a->type == LENS_ATTR_STRING ? a->s : fallback;
}

int
lens_attrs_get_ints (const LensAttrs *attrs,
                     const char      *name,
                     gint64          *out,
                     int              max)
{
  const LensAttr *a = lens_attrs_find (attrs, name);

  if (a == NULL || a->type != LENS_ATTR_INTS)
    return 0;
  if (a->n > (gsize) max)
    return -1;
  for (gsize i = 0; i < a->n; i++)
    out[i] = a->ints[i];
  return (int) a->n;
}

void
lens_op_set_error (GError        **error,
                   int             code,
                   const LensNode *node,
                   const char     *format,
                   ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, LENS_NET_ERROR, code, "%s node '%s': %s",
               lens_op_name (node->op), node->name, msg);
}

gboolean
lens_shape_broadcast (const LensShape *a,
                      const LensShape *b,
                      LensShape       *out)
{
  int rank = MAX (a->ndim, b->ndim);

  out->ndim = rank;
  for (int i = 0; i < rank; i++)
    {
      int ia = a->ndim - rank + i;
      int ib = b->ndim - rank + i;
      int64_t da = ia >= 0 ? a->dims[ia] : 1;
      int64_t db = ib >= 0 ? b->dims[ib] : 1;

      if (da == db || db == 1)
        out->dims[i] = da;
      else if (da == 1)
        out->dims[i] = db;
      else
        return FALSE;
    }
  return TRUE;
}

gboolean
lens_axis_normalize (gint64  axis,
                     int     rank,
                     int    *out)
{
  if (axis < -rank || axis >= rank)
    return FALSE;
  *out = (int) (axis < 0 ? axis + rank : axis);
  return TRUE;
}
