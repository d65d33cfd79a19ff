/* lens-onnx-write.h: writing ONNX models (protobuf-c packing)
 *
 * Two ways in:
 *   - a builder, for a graph made from scratch (the trainer's
 *     architectures): add the input, nodes with attributes, initializers
 *     and outputs, then pack;
 *   - lens_onnx_net_to_bytes(), which writes a loaded LensNet back
 *     (its runtime layers, the constants they read as initializers, the
 *     attributes rebuilt from the parsed parameters).
 * The dimension 0 of the input and outputs is written as the symbolic
 * batch "N", so any batch size can run the file.
 */
#pragma once

#include <gio/gio.h>

#include "lens-net.h"

G_BEGIN_DECLS

#define LENS_ONNX_WRITE_ERROR (lens_onnx_write_error_quark ())

typedef enum
{
  LENS_ONNX_WRITE_ERROR_UNSUPPORTED, /* an op or attribute we cannot write back */
  LENS_ONNX_WRITE_ERROR_INVALID,     /* the graph given to the builder is malformed */
  LENS_ONNX_WRITE_ERROR_IO,
} LensOnnxWriteError;

typedef struct _LensOnnxBuilder LensOnnxBuilder;

GQuark           lens_onnx_write_error_quark      (void);

LensOnnxBuilder *lens_onnx_builder_new            (const char *graph_name,
                                                   gint64      opset);
void             lens_onnx_builder_free           (LensOnnxBuilder *builder);
/* A float32 graph input / output; dims[0] is written as the symbolic "N". */
void             lens_onnx_builder_add_input      (LensOnnxBuilder *builder,
                                                   const char      *name,
                                                   const LensShape *shape);
void             lens_onnx_builder_add_output     (LensOnnxBuilder *builder,
                                                   const char      *name,
                                                   const LensShape *shape);
/* Copies the tensor (float32 or int64). */
void             lens_onnx_builder_add_initializer (LensOnnxBuilder  *builder,
                                                    const char       *name,
                                                    const LensTensor *tensor);
/* inputs / outputs: comma-separated value names ("x,conv1.W,conv1.b"); an
 * empty item is an absent optional input.  Returns the node index for
 * the attribute setters. */
int              lens_onnx_builder_add_node       (LensOnnxBuilder *builder,
                                                   const char      *op_type,
                                                   const char      *name,
                                                   const char      *inputs,
                                                   const char      *outputs);
void             lens_onnx_builder_set_int        (LensOnnxBuilder *builder,
                                                   int              node,
                                                   const char      *attr,
                                                   gint64           value);
void             lens_onnx_builder_set_float      (LensOnnxBuilder *builder,
                                                   int              node,
                                                   const char      *attr,
                                                   float            value);
void             lens_onnx_builder_set_ints       (LensOnnxBuilder *builder,
                                                   int              node,
                                                   const char      *attr,
                                                   int              n,
                                                   const gint64    *values);
/* A model property (metadata_props), e.g. training provenance. */
void             lens_onnx_builder_set_metadata   (LensOnnxBuilder *builder,
                                                   const char      *key,
                                                   const char      *value);
/* Packs the ModelProto. */
GBytes          *lens_onnx_builder_to_bytes       (LensOnnxBuilder *builder,
                                                   GError         **error);

/* Writes a loaded network back as ONNX (opset of the net, at least 7).
 * metadata: optional NULL-terminated key, value, key, value... list. */
GBytes          *lens_onnx_net_to_bytes           (LensNet            *net,
                                                   const char * const *metadata,
                                                   GError            **error);
/* Same, to a file (written atomically). */
gboolean         lens_onnx_net_save               (LensNet            *net,
                                                   const char         *path,
                                                   const char * const *metadata,
                                                   GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensOnnxBuilder, lens_onnx_builder_free)

G_END_DECLS
