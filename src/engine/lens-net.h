/* lens-net.h: an imported network (immutable, reference-counted) and its traces */
#pragma once

#include <gio/gio.h>

#include "lens-tensor.h"

G_BEGIN_DECLS

#define LENS_NET_ERROR (lens_net_error_quark ())

typedef enum
{
  LENS_NET_ERROR_IO,               /* file cannot be read */
  LENS_NET_ERROR_PARSE,            /* not an ONNX model / corrupt protobuf */
  LENS_NET_ERROR_TRUNCATED,        /* the file ends in the middle of a message */
  LENS_NET_ERROR_UNSUPPORTED_OP,   /* op type not implemented (names op + node) */
  LENS_NET_ERROR_UNSUPPORTED_ATTR, /* attribute value we do not handle */
  LENS_NET_ERROR_UNSUPPORTED_TYPE, /* element type other than float32 (int64 for shapes) */
  LENS_NET_ERROR_SHAPE,            /* shapes do not fit together */
  LENS_NET_ERROR_DYNAMIC_SHAPE,    /* a dimension cannot be made static */
  LENS_NET_ERROR_TOO_LARGE,        /* would exceed the memory budget */
  LENS_NET_ERROR_EXTERNAL_DATA,    /* external tensor data missing or invalid */
  LENS_NET_ERROR_INVALID,          /* malformed graph (dangling input, cycle...) */
  LENS_NET_ERROR_CANCELLED,
} LensNetError;

typedef struct _LensNet   LensNet;
typedef struct _LensTrace LensTrace;

typedef struct
{
  /* Spatial size to use for an input whose H/W are dynamic (0 = none). */
  int   input_height;
  int   input_width;
  /* Activations + parameters must fit in this many bytes (0 = default:
   * half the physical memory). */
  gsize memory_budget;
  /* Graph inputs to freeze as constants: name -> LensTensor* (borrowed;
   * copied at load).  Lets a node test feed shape/index inputs. */
  GHashTable *bindings;
} LensLoadOptions;

GQuark           lens_net_error_quark       (void);

LensNet         *lens_net_load_onnx         (const char            *path,
                                             const LensLoadOptions *options,
                                             GError               **error);
LensNet         *lens_net_load_onnx_data    (const guint8          *data,
                                             gsize                  length,
                                             const char            *base_dir,
                                             const LensLoadOptions *options,
                                             GError               **error);
LensNet         *lens_net_ref               (LensNet *net);
void             lens_net_unref             (LensNet *net);

/* The model's name (graph name or file stem). */
const char      *lens_net_get_name          (const LensNet *net);
const LensShape *lens_net_get_input_shape   (const LensNet *net);
const char      *lens_net_get_input_name    (const LensNet *net);
/* Index of the value that is the (first) graph output. */
int              lens_net_get_output_value  (const LensNet *net);
guint            lens_net_get_n_outputs     (const LensNet *net);
int              lens_net_get_output        (const LensNet *net,
                                             guint          i);
/* Index of the runtime input value, -1 if every input was bound. */
int              lens_net_get_input_value   (const LensNet *net);
gint64           lens_net_get_opset         (const LensNet *net);

/* Reads a serialized onnx TensorProto (.pb file), as the ONNX test data
 * stores inputs and expected outputs.  *out_name (optional) gets its name. */
LensTensor      *lens_onnx_load_tensor_file (const char  *path,
                                             char       **out_name,
                                             GError     **error);

/* Layers are the nodes that run at inference time (after folding). */
guint            lens_net_get_n_layers      (const LensNet *net);
const char      *lens_net_layer_get_name    (const LensNet *net,
                                             guint          layer);
const char      *lens_net_layer_get_op      (const LensNet *net,
                                             guint          layer);
/* Value index of the layer's first output. */
int              lens_net_layer_get_output  (const LensNet *net,
                                             guint          layer);
guint            lens_net_layer_get_n_inputs (const LensNet *net,
                                              guint          layer);
int              lens_net_layer_get_input   (const LensNet *net,
                                             guint          layer,
                                             guint          i);
gsize            lens_net_layer_get_n_params (const LensNet *net,
                                              guint          layer);
/* Multiply-accumulates x2 for batch 1. */
guint64          lens_net_layer_get_flops   (const LensNet *net,
                                             guint          layer);
/* Layer index by node name or output value name, -1 if none. */
int              lens_net_find_layer        (const LensNet *net,
                                             const char    *name);

guint            lens_net_get_n_values      (const LensNet *net);
const char      *lens_net_value_get_name    (const LensNet *net,
                                             int            value);
const LensShape *lens_net_value_get_shape   (const LensNet *net,
                                             int            value);
/* Non-NULL for initializers and folded constants. */
const LensTensor *lens_net_value_get_constant (const LensNet *net,
                                               int            value);
int              lens_net_find_value        (const LensNet *net,
                                             const char    *name);
/* Bytes the trace of batch 1 needs (activations, switches, workspace). */
gsize            lens_net_get_trace_bytes   (const LensNet *net);

/* Traces: one forward pass that keeps every activation and every max-pool
 * switch.  A trace belongs to one thread at a time. */
LensTrace       *lens_trace_new             (LensNet   *net,
                                             int        batch,
                                             GError   **error);
void             lens_trace_free            (LensTrace *trace);
LensNet         *lens_trace_get_net         (LensTrace *trace);
int              lens_trace_get_batch       (LensTrace *trace);
/* Copies the input (shape must be [batch, C, H, W] of the net). */
gboolean         lens_trace_set_input       (LensTrace        *trace,
                                             const LensTensor *input,
                                             GError          **error);
/* The input buffer, to fill in place. */
LensTensor      *lens_trace_get_input       (LensTrace *trace);
/* Runs every layer; checks cancellable between layers. */
gboolean         lens_trace_run             (LensTrace    *trace,
                                             GCancellable *cancellable,
                                             GError      **error);
/* The same, adding each layer's wall time in seconds to layer_seconds
 * (lens_net_get_n_layers () entries), for a per-layer profile. */
gboolean         lens_trace_run_timed       (LensTrace    *trace,
                                             double       *layer_seconds,
                                             GCancellable *cancellable,
                                             GError      **error);
/* Activation (or constant) of a value after a run. */
const LensTensor *lens_trace_get_value      (LensTrace *trace,
                                             int        value);
const LensTensor *lens_trace_get_output     (LensTrace *trace);
/* Max-pool switches of a MaxPool layer: for each output element the flat
 * index (within its N,C plane) of the input element that won; NULL for
 * other layers. */
const int32_t   *lens_trace_get_switches    (LensTrace *trace,
                                             guint      layer);

/* OpenBLAS threads for the whole process (0 = all cores). */
void             lens_set_threads           (int n_threads);
int              lens_get_threads           (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensNet, lens_net_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensTrace, lens_trace_free)

G_END_DECLS
