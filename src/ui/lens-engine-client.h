/* lens-engine-client.h: the one engine thread, seen from the main thread
 *
 * The client owns a worker thread that owns the loaded LensNet and its
 * LensTrace.  Every call is a small request queued to that thread; the
 * answer comes back through a GTask in the caller's main context.  Each
 * request kind has a generation number: a newer request of a kind makes
 * older ones of that kind (and of the kinds that depend on it) obsolete,
 * and obsolete ones finish with G_IO_ERROR_CANCELLED, unseen.
 *
 *   model ──> trace (image) ──> layer maps
 */
#pragma once

#include <gio/gio.h>

#include "lens-render.h"
#include "lens-tensor.h"

G_BEGIN_DECLS

#define LENS_ENGINE_CLIENT_ERROR (lens_engine_client_error_quark ())

typedef enum
{
  LENS_ENGINE_CLIENT_ERROR_NO_MODEL,   /* a request needs a model first */
  LENS_ENGINE_CLIENT_ERROR_NO_TRACE,   /* a request needs an image first */
  LENS_ENGINE_CLIENT_ERROR_INPUT,      /* the model's input is not an image */
  LENS_ENGINE_CLIENT_ERROR_LAYER,      /* no such layer */
} LensEngineClientError;

typedef struct
{
  char      *name;
  char      *op;
  LensShape  shape;     /* of the layer's first output */
} LensLayerInfo;

/* What the window needs to know about a loaded model (immutable). */
typedef struct
{
  char          *path;
  char          *name;
  LensShape      input_shape;
  guint          n_layers;
  LensLayerInfo *layers;
  char          *profile;   /* preprocessing profile name, or NULL */
} LensModelInfo;

typedef struct
{
  guint  index;
  float  probability;
  char  *label;             /* NULL when the model has no labels */
} LensPrediction;

#define LENS_MAX_PREDICTIONS 5

/* The result of running one image through the model (immutable). */
typedef struct
{
  char           *image_path;
  int             image_width;   /* of the file */
  int             image_height;
  LensPixels     *input;         /* the network input, un-normalised */
  guint           n_classes;
  gboolean        was_probability;
  guint           n_predictions;
  LensPrediction  predictions[LENS_MAX_PREDICTIONS];
} LensTraceInfo;

GQuark         lens_engine_client_error_quark (void);

LensModelInfo *lens_model_info_ref            (LensModelInfo *info);
void           lens_model_info_unref          (LensModelInfo *info);
LensTraceInfo *lens_trace_info_ref            (LensTraceInfo *info);
void           lens_trace_info_unref          (LensTraceInfo *info);

#define LENS_TYPE_ENGINE_CLIENT (lens_engine_client_get_type ())
G_DECLARE_FINAL_TYPE (LensEngineClient, lens_engine_client, LENS, ENGINE_CLIENT, GObject)

LensEngineClient *lens_engine_client_new                (void);

/* Loads an ONNX model on the worker; it replaces the current one only on
 * success (on failure the previous model and trace stay usable). */
void           lens_engine_client_load_model_async   (LensEngineClient    *self,
                                                      const char          *path,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
LensModelInfo *lens_engine_client_load_model_finish  (LensEngineClient  *self,
                                                      GAsyncResult      *result,
                                                      GError           **error);

/* Decodes an image, preprocesses it for the model and runs a trace. */
void           lens_engine_client_run_image_async    (LensEngineClient    *self,
                                                      const char          *path,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
LensTraceInfo *lens_engine_client_run_image_finish   (LensEngineClient  *self,
                                                      GAsyncResult      *result,
                                                      GError           **error);

/* Thumbnails of every channel of a layer's activation in the last trace. */
void           lens_engine_client_render_layer_async (LensEngineClient    *self,
                                                      guint                layer,
                                                      int                  thumb_size,
                                                      LensNormMode         norm,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
LensLayerMaps *lens_engine_client_render_layer_finish (LensEngineClient  *self,
                                                       GAsyncResult      *result,
                                                       GError           **error);

/* Makes every queued or running request obsolete. */
void           lens_engine_client_cancel_all         (LensEngineClient *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensModelInfo, lens_model_info_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensTraceInfo, lens_trace_info_unref)

G_END_DECLS
