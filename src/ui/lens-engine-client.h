/* lens-engine-client.h: the one engine thread, seen from the main thread
 *
 * The client owns a worker thread that owns the loaded LensNet and its
 * LensTrace.  Every call is a small request queued to that thread; the
 * answer comes back through a GTask in the caller's main context.  Each
 * request kind has a generation number: a newer request of a kind makes
 * older ones of that kind (and of the kinds that depend on it) obsolete,
 * and obsolete ones finish with G_IO_ERROR_CANCELLED, unseen.  So does a
 * request whose cancellable was cancelled before its answer arrived.
 *
 * One exception: a model or an image run that the worker has already made
 * its current state is delivered as long as the worker still holds it,
 * even if a newer request of its kind is on its way (that one may fail
 * and leave this state in place) or lens_engine_client_cancel_all() came
 * too late to stop it.  The window always learns what the worker holds.
 *
 * Every request's callback is called exactly once, in the caller's main
 * context, even when the client is finalized first (then with
 * G_IO_ERROR_CANCELLED; the _finish functions do not use `self`, which
 * may then be NULL).
 *   model ──> trace (image) ──> layer maps
 */
#pragma once

#include <gio/gio.h>

#include "lens-occlude.h"
#include "lens-project.h"
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
  /* the mean of every layer's (first) output over all its elements, one
   * per layer; NAN for a layer whose output is not float */
  guint           n_layers;
  double         *layer_means;
} LensTraceInfo;

/* A channel projected back to the input (immutable). */
typedef struct
{
  guint            layer;
  int              channel;
  LensProjectMode  mode;
  LensStartKind    start;
  int              start_x;     /* the start position used, in the map */
  int              start_y;
  LensBox          rf;          /* its receptive field, in input pixels */
  LensPixels      *pixels;      /* lens_projection_to_rgb of values */
  LensTensor      *values;      /* the projection, shaped like the input */
} LensProjection;

/* What an occluder is asked for. */
typedef struct
{
  int size;
  int stride;
  int target_class;   /* -1: the top class */
  int layer;          /* tracked layer (index); -1: the last conv */
  int channel;        /* -1: the strongest map */
} LensOcclusionSettings;

/* The answer to one occluder position (immutable). */
typedef struct
{
  int                 x, y, size;
  int                 target_class;
  char               *target_label;       /* NULL without labels */
  int                 layer_value;
  int                 channel;
  LensOcclusionPoint  point;
  LensOcclusionPoint  clean;              /* no occluder */
  guint               n_predictions;
  LensPrediction      predictions[LENS_MAX_PREDICTIONS];
} LensOcclusionQuery;

/* The whole sweep (immutable). */
typedef struct
{
  LensOcclusionMap   *map;
  int                 input_width;
  int                 input_height;
  int                 target_class;
  char               *target_label;
  int                 layer_value;
  int                 channel;
  LensOcclusionPoint  clean;
  guint               n_classes;
  char              **labels;             /* n_classes, or NULL */
} LensOcclusionSweep;

typedef void (*LensSweepProgressFunc) (GObject *target,
                                       double   fraction);

GQuark         lens_engine_client_error_quark (void);

LensProjection     *lens_projection_ref          (LensProjection *proj);
void                lens_projection_unref        (LensProjection *proj);
LensOcclusionQuery *lens_occlusion_query_ref     (LensOcclusionQuery *query);
void                lens_occlusion_query_unref   (LensOcclusionQuery *query);
LensOcclusionSweep *lens_occlusion_sweep_ref     (LensOcclusionSweep *sweep);
void                lens_occlusion_sweep_unref   (LensOcclusionSweep *sweep);

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

/* Projects `channel` of `layer` of the last trace back to the input;
 * x, y: the start position for LENS_START_POINT. */
void            lens_engine_client_project_async   (LensEngineClient    *self,
                                                    guint                layer,
                                                    int                  channel,
                                                    LensProjectMode      mode,
                                                    LensStartKind        start,
                                                    int                  x,
                                                    int                  y,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
LensProjection *lens_engine_client_project_finish  (LensEngineClient  *self,
                                                    GAsyncResult      *result,
                                                    GError           **error);

/* The occluder at (x, y) (top-left corner, input pixels) over the last
 * trace's input.  The occluder is planned once per image and settings. */
void                lens_engine_client_occlude_async  (LensEngineClient            *self,
                                                       const LensOcclusionSettings *settings,
                                                       int                          x,
                                                       int                          y,
                                                       GCancellable                *cancellable,
                                                       GAsyncReadyCallback          callback,
                                                       gpointer                     user_data);
LensOcclusionQuery *lens_engine_client_occlude_finish (LensEngineClient  *self,
                                                       GAsyncResult      *result,
                                                       GError           **error);

/* The full occlusion map.  progress (may be NULL) is called in the
 * caller's main context with `target` (held by a weak reference). */
void                lens_engine_client_sweep_async    (LensEngineClient            *self,
                                                       const LensOcclusionSettings *settings,
                                                       LensSweepProgressFunc        progress,
                                                       GObject                     *target,
                                                       GCancellable                *cancellable,
                                                       GAsyncReadyCallback          callback,
                                                       gpointer                     user_data);
LensOcclusionSweep *lens_engine_client_sweep_finish   (LensEngineClient  *self,
                                                       GAsyncResult      *result,
                                                       GError           **error);

/* Makes every queued or running request obsolete. */
void           lens_engine_client_cancel_all         (LensEngineClient *self);

/* Requests made and not yet over (queued, running, or waiting for their
 * callback to be dispatched); for tests and debugging. */
guint          lens_engine_client_get_n_jobs         (LensEngineClient *self);
/* Results the worker computed that were thrown away on arrival because a
 * newer request had made them obsolete. */
guint          lens_engine_client_get_n_dropped      (LensEngineClient *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensModelInfo, lens_model_info_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensTraceInfo, lens_trace_info_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensProjection, lens_projection_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensOcclusionQuery, lens_occlusion_query_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensOcclusionSweep, lens_occlusion_sweep_unref)

G_END_DECLS
