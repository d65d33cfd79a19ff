/* kernel-util.c: driving one op of the table by hand (test-kernels.c) */
#include <math.h>
#include <string.h>

#include "kernel-util.h"

void
attr_ints (Attrs *a, const char *name, int n, const int *v)
{
  LensAttr *it = &a->items[a->n];

  g_assert_cmpint (a->n, <, MAX_ATTRS);
  g_assert_cmpint (n, <=, 8);
  for (int i = 0; i < n; i++)
    a->ints[a->n][i] = v[i];
  *it = (LensAttr) { .name = name, .type = LENS_ATTR_INTS, .n = (gsize) n, .ints = a->ints[a->n] };
  a->n++;
}

void
attr_int (Attrs *a, const char *name, gint64 v)
{
  g_assert_cmpint (a->n, <, MAX_ATTRS);
  a->items[a->n++] = (LensAttr) { .name = name, .type = LENS_ATTR_INT, .i = v };
}

void
attr_float (Attrs *a, const char *name, float v)
{
  g_assert_cmpint (a->n, <, MAX_ATTRS);
  a->items[a->n++] = (LensAttr) { .name = name, .type = LENS_ATTR_FLOAT, .f = v };
}

void
attr_string (Attrs *a, const char *name, const char *v)
{
  g_assert_cmpint (a->n, <, MAX_ATTRS);
  a->items[a->n++] = (LensAttr) { .name = name, .type = LENS_ATTR_STRING, .s = v };
}

LensTensor *
tensor (int ndim, const int64_t *dims, const float *values)
{
  LensShape s = lens_shape_make (ndim, dims);
  LensTensor *t = lens_tensor_new_float (&s, NULL);

  g_assert_nonnull (t);
  if (values != NULL)
    memcpy (t->data, values, lens_tensor_nbytes (t));
  return t;
}

LensTensor *
random_tensor (GRand *rand, int ndim, const int64_t *dims)
{
  LensTensor *t = tensor (ndim, dims, NULL);
  float *v = t->data;

  for (gsize i = 0; i < lens_tensor_numel (t); i++)
    v[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  return t;
}

void
run_clear (Run *r)
{
  lens_tensor_free (r->fast);
  lens_tensor_free (r->ref);
  g_free (r->switches);
  memset (r, 0, sizeof *r);
}

LensTensor *
nan_output (const LensOpOutput *out)
{
  LensTensor *t = lens_tensor_new (out->dtype, &out->shape, NULL);

  g_assert_nonnull (t);
  if (t->dtype == LENS_DTYPE_FLOAT32)
    for (gsize i = 0; i < lens_tensor_numel (t); i++)
      ((float *) t->data)[i] = NAN;
  return t;
}

gboolean
run_op (Run *r, LensOpType op, const Attrs *attrs, LensTensor **ins, int n_ins, GError **error)
{
  const LensOpClass *klass = lens_op_class (op);
  LensOpInput in[3] = { 0 };
  LensOpOutput out[2] = { 0 };
  LensAttrs list = { attrs->items, attrs->n };
  const LensTensor *cins[3];
  LensExec exec = { 0 };
  float *ws;

  memset (r, 0, sizeof *r);
  r->node.name = (char *) "k";
  r->node.op = op;
  r->node.opset = 13;
  r->node.n_inputs = n_ins;
  r->node.inputs = r->input_ids;
  r->node.n_outputs = 1;
  r->node.outputs = r->output_ids;
  for (int i = 0; i < n_ins; i++)
    {
      r->input_ids[i] = ins[i] ? i : -1;
      in[i].name = "in";
      in[i].present = ins[i] != NULL;
      if (ins[i] != NULL)
        {
          in[i].shape = ins[i]->shape;
          in[i].dtype = ins[i]->dtype;
          in[i].constant = i > 0 ? ins[i] : NULL;
        }
      cins[i] = ins[i];
    }
  if (!klass->setup (&r->node, &list, in, out, error))
    return FALSE;

  r->fast = nan_output (&out[0]);
  r->ref = nan_output (&out[0]);
  /* exact sizes, so that ASan sees any write past them */
  ws = r->node.workspace_floats ? g_new (float, r->node.workspace_floats) : NULL;
  if (op == LENS_OP_MAXPOOL)
    r->switches = g_new (int32_t, lens_tensor_numel (r->fast));
  exec.workspace = ws;
  exec.switches = r->switches;
  klass->forward (&r->node, cins, &r->fast, &exec);
  g_free (ws);
  exec.workspace = NULL;
  if (klass->reference != NULL)
    klass->reference (&r->node, cins, &r->ref, &exec);
  else
    lens_tensor_free (g_steal_pointer (&r->ref));
  return TRUE;
}

/* |a - b| <= 1e-4 |b| + 1e-5 max(1, max |b|) */
void
assert_close (const LensTensor *got, const LensTensor *want, const char *what)
{
  const float *a = got->data, *b = want->data;
  gsize n = lens_tensor_numel (want);
  double scale = 1.0;

  g_assert_true (lens_shape_equal (&got->shape, &want->shape));
  for (gsize i = 0; i < n; i++)
    scale = MAX (scale, fabs (b[i]));
  for (gsize i = 0; i < n; i++)
    if (!(fabs (a[i] - b[i]) <= 1e-4 * fabs (b[i]) + 1e-5 * scale))
      g_error ("%s: element %" G_GSIZE_FORMAT " is %.8g, expected %.8g", what, i, a[i], b[i]);
}

void
assert_values (const LensTensor *got, const float *want, const char *what)
{
  g_autoptr (LensTensor) w = tensor (got->shape.ndim, got->shape.dims, want);

  assert_close (got, w, what);
}
