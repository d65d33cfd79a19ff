/* lens-backprop.c: forward in training mode and the gradient walk
 *
 * The walk mirrors walk_back() in lens-project.c (the same backward
 * functions of the op table, in reverse layer order) with the gradient
 * mode, the LRN Jacobian, and gradient buffers for the weights and biases
 * of Conv and Gemm.
 */
#define G_LOG_DOMAIN "lens-backprop"

#include "lens-train.h"
#include "lens-net-private.h"
#include "lens-trace-private.h"
#include "lens-project.h"

#include <math.h>
#include <string.h>

struct _LensBackprop
{
  LensTrace   *trace;       /* borrowed */
  LensNet     *net;         /* borrowed (the trace holds a ref) */
  LensTensor **grads;       /* per value: activation or parameter gradient, owned */
  gboolean    *is_param;    /* per value */
  GArray      *params;      /* int value indices */
  float      **masks;       /* per layer: Dropout mask, owned, or NULL */
  gboolean     want_input;
};

G_DEFINE_QUARK (lens-train-error-quark, lens_train_error)

/* Which initializer inputs of a node are trained: weights and biases of
 * Conv and Gemm, MatMul's second factor, BatchNormalization's scale and
 * bias (its running mean and variance stay frozen). */
static gboolean
input_is_param (const LensNode *node,
                int             i)
{
  switch (node->op)
    {
    case LENS_OP_CONV:
    case LENS_OP_GEMM:
    case LENS_OP_BATCHNORM:
      return i == 1 || i == 2;
    case LENS_OP_MATMUL:
      return i == 1;
    default:
      return FALSE;
    }
}

void
lens_backprop_free (LensBackprop *bp)
{
  if (bp == NULL)
    return;
  if (bp->grads)
    for (guint v = 0; v < bp->net->values->len; v++)
      lens_tensor_free (bp->grads[v]);
  if (bp->masks)
    for (guint l = 0; l < bp->net->layers->len; l++)
      lens_aligned_free (bp->masks[l]);
  g_free (bp->grads);
  g_free (bp->masks);
  g_free (bp->is_param);
  if (bp->params)
    g_array_unref (bp->params);
  g_free (bp);
}

LensBackprop *
lens_backprop_new (LensTrace *trace,
                   GError   **error)
{
  g_autoptr (LensBackprop) bp = g_new0 (LensBackprop, 1);
  LensNet *net = lens_trace_get_net (trace);
  guint nv = net->values->len;

  bp->trace = trace;
  bp->net = net;
  bp->grads = g_new0 (LensTensor *, nv);
  bp->is_param = g_new0 (gboolean, nv);
  bp->masks = g_new0 (float *, MAX (1, net->layers->len));
  bp->params = g_array_new (FALSE, FALSE, sizeof (int));

  for (guint l = 0; l < net->layers->len; l++)
    {
      LensNode *node = lens_net_layer_node (net, l);

      for (int i = 0; i < node->n_inputs; i++)
        {
          int v = node->inputs[i];
          LensValue *val;

          if (v < 0)
            continue;
          val = lens_net_value (net, v);
          if (val->constant != NULL)
            {
              if (!input_is_param (node, i) || bp->is_param[v] ||
                  val->constant->dtype != LENS_DTYPE_FLOAT32)
                continue;
              bp->is_param[v] = TRUE;
              g_array_append_val (bp->params, v);
            }
          if (bp->grads[v] == NULL)
            {
              const LensTensor *t = lens_trace_get_value (trace, v);

              if (t->dtype != LENS_DTYPE_FLOAT32)
                continue;
              bp->grads[v] = lens_tensor_new (LENS_DTYPE_FLOAT32, &t->shape, error);
              if (bp->grads[v] == NULL)
                return NULL;
            }
        }
      /* the output's own buffer, for the start of a walk */
      for (int o = 0; o < node->n_outputs; o++)
        {
          int v = node->outputs[o];
          const LensTensor *t;

          if (v < 0 || bp->grads[v] != NULL)
            continue;
          t = lens_trace_get_value (trace, v);
          if (t->dtype != LENS_DTYPE_FLOAT32)
            continue;
          bp->grads[v] = lens_tensor_new (LENS_DTYPE_FLOAT32, &t->shape, error);
          if (bp->grads[v] == NULL)
            return NULL;
        }
      if (node->op == LENS_OP_DROPOUT)
        {
          gsize n = lens_tensor_numel (lens_trace_get_value (trace, node->outputs[0]));
          bp->masks[l] = lens_aligned_alloc0 (MAX (n, 1) * sizeof (float));
          if (bp->masks[l] == NULL)
            {
              g_set_error (error, LENS_TRAIN_ERROR, LENS_TRAIN_ERROR_DATA,
                           "Out of memory allocating a dropout mask");
              return NULL;
            }
          for (gsize i = 0; i < n; i++)
            bp->masks[l][i] = 1.0f;
        }
    }
  return g_steal_pointer (&bp);
}

static float
dropout_ratio (const LensNet  *net,
               const LensNode *node)
{
  if (node->n_inputs > 1 && node->inputs[1] >= 0)
    {
      const LensTensor *r = lens_net_value (net, node->inputs[1])->constant;
      if (r != NULL && r->dtype == LENS_DTYPE_FLOAT32 && lens_tensor_numel (r) == 1)
        return CLAMP (((float *) r->data)[0], 0.0f, 0.99f);
    }
  return 0.5f;
}

void
lens_backprop_forward (LensBackprop *bp,
                       GRand        *rand,
                       gboolean      keep_masks)
{
  LensNet *net = bp->net;
  const LensTensor *ins[256];
  LensTensor *outs[4];
  float *workspace = lens_trace_get_workspace (bp->trace);

  for (guint l = 0; l < net->layers->len; l++)
    {
      LensNode *node = lens_net_layer_node (net, l);
      const LensOpClass *klass = lens_op_class (node->op);
      /* the trace owns its activations and switches; only this walk writes them */
      LensExec exec = { workspace, (int32_t *) lens_trace_get_switches (bp->trace, l) };

      for (int i = 0; i < node->n_inputs && i < 256; i++)
        ins[i] = node->inputs[i] >= 0 ? lens_trace_get_value (bp->trace, node->inputs[i]) : NULL;
      for (int o = 0; o < node->n_outputs && o < 4; o++)
        outs[o] = (LensTensor *) lens_trace_get_value (bp->trace, node->outputs[o]);
      klass->forward (node, ins, outs, &exec);

      if (node->op == LENS_OP_DROPOUT && (rand != NULL || keep_masks))
        {
          float *y = outs[0]->data, *m = bp->masks[l];
          gsize n = lens_tensor_numel (outs[0]);

          if (rand != NULL)
            {
              float p = dropout_ratio (net, node), keep = 1.0f / (1.0f - p);
              for (gsize i = 0; i < n; i++)
                m[i] = g_rand_double (rand) < p ? 0.0f : keep;
            }
          for (gsize i = 0; i < n; i++)
            y[i] *= m[i];
        }
    }
}

static void
zero_tensor (LensTensor *t)
{
  memset (t->data, 0, lens_tensor_nbytes (t));
}

static int
producer_layer (const LensNet *net,
                int            value)
{
  for (int l = (int) net->layers->len - 1; l >= 0; l--)
    {
      LensNode *node = lens_net_layer_node (net, (guint) l);
      for (int o = 0; o < node->n_outputs; o++)
        if (node->outputs[o] == value)
          return l;
    }
  return -1;
}

void
lens_backprop_backward (LensBackprop     *bp,
                        int               value,
                        const LensTensor *signal)
{
  LensNet *net = bp->net;
  int first = producer_layer (net, value);
  gboolean *live = g_new0 (gboolean, net->values->len);
  LensBackCtx ctx = { 0 };

  ctx.mode = LENS_BACK_GRADIENT;
  ctx.lrn_jacobian = TRUE;
  ctx.workspace = lens_trace_get_workspace (bp->trace);

  for (guint v = 0; v < net->values->len; v++)
    if (bp->grads[v] != NULL && !bp->is_param[v])
      zero_tensor (bp->grads[v]);
  memcpy (bp->grads[value]->data, signal->data, lens_tensor_nbytes (bp->grads[value]));
  live[value] = TRUE;

  for (int l = first; l >= 0; l--)
    {
      LensNode *node = lens_net_layer_node (net, (guint) l);
      const LensOpClass *klass = lens_op_class (node->op);
      const LensTensor *ins[256], *outs[4];
      LensTensor *gin[256] = { 0 };
      LensTensor *g = bp->grads[node->outputs[0]];
      gboolean wanted = FALSE;

      if (g == NULL || !live[node->outputs[0]] || node->n_inputs > 256 || klass->backward == NULL)
        continue;
      for (int i = 0; i < node->n_inputs; i++)
        {
          int v = node->inputs[i];

          ins[i] = v >= 0 ? lens_trace_get_value (bp->trace, v) : NULL;
          if (v < 0 || bp->grads[v] == NULL)
            continue;
          if (lens_net_value (net, v)->constant != NULL && !bp->is_param[v])
            continue;
          if (v == net->input && !bp->want_input)
            continue;
          gin[i] = bp->grads[v];
          live[v] = TRUE;
          wanted = TRUE;
        }
      if (!wanted)
        continue;
      for (int o = 0; o < node->n_outputs && o < 4; o++)
        outs[o] = lens_trace_get_value (bp->trace, node->outputs[o]);
      if (node->op == LENS_OP_DROPOUT && bp->masks[l] != NULL)
        {
          float *gv = g->data;
          gsize n = lens_tensor_numel (g);
          for (gsize i = 0; i < n; i++)
            gv[i] *= bp->masks[l][i];
        }
      ctx.switches = lens_trace_get_switches (bp->trace, (guint) l);
      klass->backward (node, ins, outs, g, gin, &ctx);
    }
  g_free (live);
}

double
lens_backprop_softmax_xent (LensBackprop *bp,
                            const guint8 *labels,
                            int           divisor,
                            int          *n_correct)
{
  int logits = lens_net_find_logits (bp->net);
  const LensTensor *z = lens_trace_get_value (bp->trace, logits);
  LensTensor *g = bp->grads[logits];
  g_autoptr (LensTensor) signal = lens_tensor_new (LENS_DTYPE_FLOAT32, &z->shape, NULL);
  int64_t b = z->shape.dims[0];
  int64_t k = (int64_t) (lens_tensor_numel (z) / (gsize) MAX (b, 1));
  const float *zv = z->data;
  float *s;
  double loss = 0.0;
  int n = 0, correct = 0;

  g_return_val_if_fail (g != NULL && signal != NULL, NAN);
  s = signal->data;
  for (int64_t i = 0; i < b; i++)
    if (labels[i] < k)
      n++;
  memset (s, 0, lens_tensor_nbytes (signal));
  if (divisor <= 0)
    divisor = MAX (n, 1);
  for (int64_t i = 0; i < b; i++)
    {
      const float *row = zv + i * k;
      float mx = row[0];
      int64_t best = 0;
      double sum = 0.0;

      if (labels[i] >= k)
        continue;
      for (int64_t j = 1; j < k; j++)
        if (row[j] > mx)
          {
            mx = row[j];
            best = j;
          }
      for (int64_t j = 0; j < k; j++)
        sum += exp ((double) row[j] - mx);
      loss += log (sum) - ((double) row[labels[i]] - mx);
      correct += best == labels[i];
      for (int64_t j = 0; j < k; j++)
        {
          double p = exp ((double) row[j] - mx) / sum;
          s[i * k + j] = (float) ((p - (j == labels[i] ? 1.0 : 0.0)) / divisor);
        }
    }
  if (n_correct)
    *n_correct = correct;
  lens_backprop_backward (bp, logits, signal);
  return loss;
}

void
lens_backprop_zero_params (LensBackprop *bp)
{
  for (guint i = 0; i < bp->params->len; i++)
    zero_tensor (bp->grads[g_array_index (bp->params, int, i)]);
}

guint
lens_backprop_get_n_params (LensBackprop *bp)
{
  return bp->params->len;
}

int
lens_backprop_get_param (LensBackprop *bp,
                         guint         i)
{
  g_return_val_if_fail (i < bp->params->len, -1);
  return g_array_index (bp->params, int, i);
}

LensTensor *
lens_backprop_get_param_grad (LensBackprop *bp,
                              guint         i)
{
  g_return_val_if_fail (i < bp->params->len, NULL);
  return bp->grads[g_array_index (bp->params, int, i)];
}

LensTensor *
lens_backprop_get_param_data (LensBackprop *bp,
                              guint         i)
{
  g_return_val_if_fail (i < bp->params->len, NULL);
  return lens_net_value (bp->net, g_array_index (bp->params, int, i))->constant;
}

void
lens_backprop_want_input_grad (LensBackprop *bp,
                               gboolean      want)
{
  bp->want_input = want;
}

const LensTensor *
lens_backprop_get_grad (LensBackprop *bp,
                        int           value)
{
  g_return_val_if_fail (value >= 0 && (guint) value < bp->net->values->len, NULL);
  return bp->grads[value];
}
