/* lens-net-private.h: the graph behind LensNet, shared by the loader, the
 * op table and the trace.  Not installed; nothing outside src/engine uses it. */
#pragma once

#include "lens-net.h"
#include "lens-ops.h"

G_BEGIN_DECLS

typedef struct
{
  char       *name;
  LensShape   shape;
  LensDType   dtype;
  LensTensor *constant;   /* owned; initializers and folded values */
  int         producer;   /* node index, -1 for graph inputs and constants */
} LensValue;

struct _LensNet
{
  gint       ref_count;
  char      *name;
  GPtrArray *values;      /* LensValue*, owned */
  GPtrArray *nodes;       /* LensNode*, owned, in execution order (folded ones kept) */
  GArray    *layers;      /* int node indices that run at inference time */
  int        input;       /* value index of the single runtime input, -1 if none */
  GArray    *outputs;     /* int value indices of the graph outputs */
  gsize      trace_bytes; /* activations + switches + workspace for batch 1 */
  gsize      workspace_floats;
  gint64     opset;
};

LensValue *lens_net_value                (const LensNet *net,
                                          int            value);
LensNode  *lens_net_node                 (const LensNet *net,
                                          int            node);
LensNode  *lens_net_layer_node           (const LensNet *net,
                                          guint          layer);
/* Computes trace_bytes / workspace and checks the budget. */
gboolean   lens_net_finish_plan          (LensNet       *net,
                                          gsize          budget,
                                          GError       **error);
LensNet   *lens_net_new_empty            (void);
void       lens_value_free               (LensValue *value);

/* Default memory budget: half the physical memory. */
gsize      lens_default_memory_budget    (void);

G_END_DECLS
