/* lens-trace.c: a forward pass that keeps every activation and switch */
#define G_LOG_DOMAIN "lens-trace"

#include "lens-net-private.h"
#include "lens-trace-private.h"

#include <string.h>

struct _LensTrace
{
  LensNet     *net;        /* owned ref */
  int          batch;
  LensTensor **values;     /* per value: owned activation or borrowed constant view */
  int32_t    **switches;   /* per layer: MaxPool switches (owned) or NULL */
  float       *workspace;
  /* per layer: the output value of the ReLU layer that follows and reads
   * this Conv's output, which the Conv writes as well; -1 otherwise */
  int         *fused_relu;
};

static LensShape
batched (const LensShape *shape,
         int              batch)
{
  LensShape s = *shape;

  if (s.ndim > 0)
    s.dims[0] *= batch;
  return s;
}

/* LENS_FUSE_RELU=0 runs every ReLU layer on its own (for comparison) */
static gboolean
fuse_relu_enabled (void)
{
  const char *env = g_getenv ("LENS_FUSE_RELU");

  return env == NULL || !g_str_equal (env, "0");
}

LensTrace *
lens_trace_new (LensNet  *net,
                int       batch,
                GError  **error)
{
  g_autoptr (LensTrace) trace = NULL;
  gsize need;

  g_return_val_if_fail (net != NULL, NULL);
  g_return_val_if_fail (batch >= 1, NULL);

  if (!lens_size_mul (net->trace_bytes, (gsize) batch, &need))
    need = G_MAXSIZE;
  if (need > lens_default_memory_budget ())
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_TOO_LARGE,
                   "A trace of batch %d would need %" G_GSIZE_FORMAT " MiB of activations, over "
                   "the memory budget of %" G_GSIZE_FORMAT " MiB", batch, need >> 20,
                   lens_default_memory_budget () >> 20);
      return NULL;
    }

  trace = g_new0 (LensTrace, 1);
  trace->net = lens_net_ref (net);
  trace->batch = batch;
  trace->values = g_new0 (LensTensor *, net->values->len);
  trace->switches = g_new0 (int32_t *, MAX (1, net->layers->len));
  trace->fused_relu = g_new (int, MAX (1, net->layers->len));

  for (guint i = 0; i < net->values->len; i++)
    {
      LensValue *v = lens_net_value (net, (int) i);

      if (v->constant != NULL)
        trace->values[i] = lens_tensor_new_view (v->constant->dtype, &v->constant->shape,
                                                 v->constant->data);
      else
        {
          LensShape s = batched (&v->shape, batch);
          trace->values[i] = lens_tensor_new (v->dtype, &s, error);
          if (trace->values[i] == NULL)
            return NULL;
        }
    }
  for (guint l = 0; l < net->layers->len; l++)
    {
      LensNode *node = lens_net_layer_node (net, l);
      LensNode *next = l + 1 < net->layers->len ? lens_net_layer_node (net, l + 1) : NULL;

      trace->fused_relu[l] = -1;
      if (node->op == LENS_OP_CONV && next != NULL && next->op == LENS_OP_RELU &&
          next->n_inputs == 1 && next->inputs[0] == node->outputs[0] && fuse_relu_enabled ())
        trace->fused_relu[l] = next->outputs[0];
      if (node->op == LENS_OP_MAXPOOL)
        {
          gsize n = lens_tensor_numel (trace->values[node->outputs[0]]);
          trace->switches[l] = lens_aligned_alloc0 (n * sizeof (int32_t));
          if (trace->switches[l] == NULL)
            {
              g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_TOO_LARGE,
                           "Out of memory allocating max-pool switches");
              return NULL;
            }
        }
    }
  trace->workspace = lens_aligned_alloc0 (MAX (1, net->workspace_floats) * sizeof (float));
  if (trace->workspace == NULL)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_TOO_LARGE,
                   "Out of memory allocating the trace workspace");
      return NULL;
    }
  return g_steal_pointer (&trace);
}

void
lens_trace_free (LensTrace *trace)
{
  if (trace == NULL)
    return;
  if (trace->net != NULL)
    {
      if (trace->values != NULL)
        for (guint i = 0; i < trace->net->values->len; i++)
          lens_tensor_free (trace->values[i]);
      if (trace->switches != NULL)
        for (guint l = 0; l < trace->net->layers->len; l++)
          lens_aligned_free (trace->switches[l]);
      lens_net_unref (trace->net);
    }
  g_free (trace->values);
  g_free (trace->switches);
  g_free (trace->fused_relu);
  lens_aligned_free (trace->workspace);
  g_free (trace);
}

LensNet *
lens_trace_get_net (LensTrace *trace)
{
  return trace->net;
}

int
lens_trace_get_batch (LensTrace *trace)
{
  return trace->batch;
}

LensTensor *
lens_trace_get_input (LensTrace *trace)
{
  return trace->net->input >= 0 ? trace->values[trace->net->input] : NULL;
}

gboolean
lens_trace_set_input (LensTrace        *trace,
                      const LensTensor *input,
                      GError          **error)
{
  LensTensor *dest = lens_trace_get_input (trace);

  if (dest == NULL)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_INVALID,
                   "The model has no runtime input");
      return FALSE;
    }
  if (input->dtype != LENS_DTYPE_FLOAT32 || !lens_shape_equal (&input->shape, &dest->shape))
    {
      g_autofree char *want = lens_shape_to_string (&dest->shape);
      g_autofree char *got = lens_shape_to_string (&input->shape);
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_SHAPE,
                   "The input has shape %s but the model expects %s", got, want);
      return FALSE;
    }
  memcpy (dest->data, input->data, lens_tensor_nbytes (dest));
  return TRUE;
}

gboolean
lens_trace_run (LensTrace    *trace,
                GCancellable *cancellable,
                GError      **error)
{
  return lens_trace_run_timed (trace, NULL, cancellable, error);
}

gboolean
lens_trace_run_timed (LensTrace    *trace,
                      double       *layer_seconds,
                      GCancellable *cancellable,
                      GError      **error)
{
  LensNet *net = trace->net;
  const LensTensor *ins[256];
  LensTensor *outs[4];

  for (guint l = 0; l < net->layers->len; l++)
    {
      LensNode *node = lens_net_layer_node (net, l);
      const LensOpClass *klass = lens_op_class (node->op);
      LensExec exec = { trace->workspace, trace->switches[l], NULL };

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (node->n_inputs > (int) G_N_ELEMENTS (ins))
        {
          lens_op_set_error (error, LENS_NET_ERROR_INVALID, node, "too many inputs");
          return FALSE;
        }
      for (int i = 0; i < node->n_inputs; i++)
        ins[i] = node->inputs[i] >= 0 ? trace->values[node->inputs[i]] : NULL;
      for (int o = 0; o < node->n_outputs; o++)
        outs[o] = trace->values[node->outputs[o]];
      if (trace->fused_relu[l] >= 0)
        exec.relu_out = trace->values[trace->fused_relu[l]]->data;
      if (layer_seconds != NULL)
        {
          gint64 start = g_get_monotonic_time ();

          klass->forward (node, ins, outs, &exec);
          layer_seconds[l] += (double) (g_get_monotonic_time () - start) * 1e-6;
        }
      else
        klass->forward (node, ins, outs, &exec);
      /* the ReLU that follows is done */
      if (trace->fused_relu[l] >= 0)
        l++;
    }
  return TRUE;
}

const LensTensor *
lens_trace_get_value (LensTrace *trace,
                      int        value)
{
  g_return_val_if_fail (value >= 0 && (guint) value < trace->net->values->len, NULL);
  return trace->values[value];
}

const LensTensor *
lens_trace_get_output (LensTrace *trace)
{
  return lens_trace_get_value (trace, lens_net_get_output_value (trace->net));
}

const int32_t *
lens_trace_get_switches (LensTrace *trace,
                         guint      layer)
{
  g_return_val_if_fail (layer < trace->net->layers->len, NULL);
  return trace->switches[layer];
}

float *
lens_trace_get_workspace (LensTrace *trace)
{
  return trace->workspace;
}
