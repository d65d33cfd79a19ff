/* lens-net.c: the imported graph, its queries and its memory plan */
#define G_LOG_DOMAIN "lens-net"

#include "lens-net-private.h"

#include <string.h>
#include <unistd.h>

G_DEFINE_QUARK (lens-net-error-quark, lens_net_error)

void
lens_value_free (LensValue *value)
{
  if (value == NULL)
    return;
  g_free (value->name);
  lens_tensor_free (value->constant);
  g_free (value);
}

static void
node_free (LensNode *node)
{
  if (node == NULL)
    return;
  g_free (node->name);
  g_free (node->inputs);
  g_free (node->outputs);
  lens_tensor_free (node->p.value);
  g_free (node);
}

LensNet *
lens_net_new_empty (void)
{
  LensNet *net = g_new0 (LensNet, 1);

  net->ref_count = 1;
  net->values = g_ptr_array_new_with_free_func ((GDestroyNotify) lens_value_free);
  net->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) node_free);
  net->layers = g_array_new (FALSE, FALSE, sizeof (int));
  net->outputs = g_array_new (FALSE, FALSE, sizeof (int));
  net->input = -1;
  return net;
}

LensNet *
lens_net_ref (LensNet *net)
{
  g_return_val_if_fail (net != NULL, NULL);
  g_atomic_int_inc (&net->ref_count);
  return net;
}

void
lens_net_unref (LensNet *net)
{
  if (net == NULL || !g_atomic_int_dec_and_test (&net->ref_count))
    return;
  g_ptr_array_unref (net->values);
  g_ptr_array_unref (net->nodes);
  g_array_unref (net->layers);
  g_array_unref (net->outputs);
  g_free (net->name);
  g_free (net);
}

gsize
lens_default_memory_budget (void)
{
  long pages = sysconf (_SC_PHYS_PAGES);
  long page = sysconf (_SC_PAGESIZE);

  if (pages <= 0 || page <= 0)
    return (gsize) 4 << 30;
  return (gsize) pages * (gsize) page / 2;
}

LensValue *
lens_net_value (const LensNet *net,
                int            value)
{
  g_return_val_if_fail (value >= 0 && (guint) value < net->values->len, NULL);
  return g_ptr_array_index (net->values, value);
}

LensNode *
lens_net_node (const LensNet *net,
               int            node)
{
  g_return_val_if_fail (node >= 0 && (guint) node < net->nodes->len, NULL);
  return g_ptr_array_index (net->nodes, node);
}

LensNode *
lens_net_layer_node (const LensNet *net,
                     guint          layer)
{
  g_return_val_if_fail (layer < net->layers->len, NULL);
  return lens_net_node (net, g_array_index (net->layers, int, layer));
}

gboolean
lens_net_finish_plan (LensNet *net,
                      gsize    budget,
                      GError **error)
{
  gsize total = 0, ws = 0;

  for (guint i = 0; i < net->values->len; i++)
    {
      LensValue *v = lens_net_value (net, (int) i);
      gsize n;

      if (v->constant != NULL)
        continue;
      if (!lens_shape_numel_checked (&v->shape, &n) ||
          !lens_size_mul (n, lens_dtype_size (v->dtype), &n) ||
          __builtin_add_overflow (total, n, &total))
        goto too_large;
    }
  for (guint l = 0; l < net->layers->len; l++)
    {
      LensNode *node = lens_net_layer_node (net, l);

      ws = MAX (ws, node->workspace_floats);
      if (node->op == LENS_OP_MAXPOOL)
        {
          gsize n = lens_shape_numel (&lens_net_value (net, node->outputs[0])->shape);
          if (!lens_size_mul (n, sizeof (int32_t), &n) ||
              __builtin_add_overflow (total, n, &total))
            goto too_large;
        }
    }
  net->workspace_floats = ws;
  if (!lens_size_mul (ws, sizeof (float), &ws) || __builtin_add_overflow (total, ws, &total))
    goto too_large;
  net->trace_bytes = total;
  if (total > budget)
    goto too_large;
  return TRUE;

too_large:
  if (total <= budget)
    g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_TOO_LARGE,
                 "The model's activations are too large to address (a size overflows)");
  else
    g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_TOO_LARGE,
                 "The model's activations would need %" G_GSIZE_FORMAT " MiB, over the memory "
                 "budget (%" G_GSIZE_FORMAT " MiB left after the weights)",
                 total >> 20, budget >> 20);
  return FALSE;
}

const char *
lens_net_get_name (const LensNet *net)
{
  return net->name;
}

int
lens_net_get_input_value (const LensNet *net)
{
  return net->input;
}

const LensShape *
lens_net_get_input_shape (const LensNet *net)
{
  return net->input >= 0 ? &lens_net_value (net, net->input)->shape : NULL;
}

const char *
lens_net_get_input_name (const LensNet *net)
{
  return net->input >= 0 ? lens_net_value (net, net->input)->name : NULL;
}

gint64
lens_net_get_opset (const LensNet *net)
{
  return net->opset;
}

int
lens_net_get_output_value (const LensNet *net)
{
  return g_array_index (net->outputs, int, 0);
}

guint
lens_net_get_n_outputs (const LensNet *net)
{
  return net->outputs->len;
}

int
lens_net_get_output (const LensNet *net,
                     guint          i)
{
  g_return_val_if_fail (i < net->outputs->len, -1);
  return g_array_index (net->outputs, int, i);
}

guint
lens_net_get_n_layers (const LensNet *net)
{
  return net->layers->len;
}

const char *
lens_net_layer_get_name (const LensNet *net,
                         guint          layer)
{
  return lens_net_layer_node (net, layer)->name;
}

const char *
lens_net_layer_get_op (const LensNet *net,
                       guint          layer)
{
  return lens_op_name (lens_net_layer_node (net, layer)->op);
}

int
lens_net_layer_get_output (const LensNet *net,
                           guint          layer)
{
  return lens_net_layer_node (net, layer)->outputs[0];
}

guint
lens_net_layer_get_n_inputs (const LensNet *net,
                             guint          layer)
{
  return (guint) lens_net_layer_node (net, layer)->n_inputs;
}

int
lens_net_layer_get_input (const LensNet *net,
                          guint          layer,
                          guint          i)
{
  LensNode *node = lens_net_layer_node (net, layer);

  g_return_val_if_fail (i < (guint) node->n_inputs, -1);
  return node->inputs[i];
}

gsize
lens_net_layer_get_n_params (const LensNet *net,
                             guint          layer)
{
  return lens_net_layer_node (net, layer)->n_params;
}

guint64
lens_net_layer_get_flops (const LensNet *net,
                          guint          layer)
{
  return lens_net_layer_node (net, layer)->flops;
}

int
lens_net_find_layer (const LensNet *net,
                     const char    *name)
{
  for (guint l = 0; l < net->layers->len; l++)
    {
      LensNode *node = lens_net_layer_node (net, l);
      if (strcmp (node->name, name) == 0)
        return (int) l;
    }
  for (guint l = 0; l < net->layers->len; l++)
    {
      LensNode *node = lens_net_layer_node (net, l);
      for (int o = 0; o < node->n_outputs; o++)
        if (strcmp (lens_net_value (net, node->outputs[o])->name, name) == 0)
          return (int) l;
    }
  return -1;
}

guint
lens_net_get_n_values (const LensNet *net)
{
  return net->values->len;
}

const char *
lens_net_value_get_name (const LensNet *net,
                         int            value)
{
  return lens_net_value (net, value)->name;
}

const LensShape *
lens_net_value_get_shape (const LensNet *net,
                          int            value)
{
  return &lens_net_value (net, value)->shape;
}

const LensTensor *
lens_net_value_get_constant (const LensNet *net,
                             int            value)
{
  return lens_net_value (net, value)->constant;
}

int
lens_net_find_value (const LensNet *net,
                     const char    *name)
{
  /* the last value of a name wins, as in the loader */
  for (guint i = net->values->len; i > 0; i--)
    if (strcmp (lens_net_value (net, (int) i - 1)->name, name) == 0)
      return (int) i - 1;
  return -1;
}

gsize
lens_net_get_trace_bytes (const LensNet *net)
{
  return net->trace_bytes;
}
