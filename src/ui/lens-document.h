/* lens-document.h: what the window shows — model, image, selection and the
 * latest results — and the requests that keep them up to date */
#pragma once

#include <gtk/gtk.h>

#include "lens-engine-client.h"
#include "lens-items.h"

G_BEGIN_DECLS

/* Longer side of a feature-map thumbnail, in pixels. */
#define LENS_THUMB_SIZE 96

#define LENS_TYPE_DOCUMENT (lens_document_get_type ())
G_DECLARE_FINAL_TYPE (LensDocument, lens_document, LENS, DOCUMENT, GObject)

LensDocument       *lens_document_new                  (void);
LensEngineClient   *lens_document_get_client           (LensDocument *self);

void                lens_document_open_model           (LensDocument *self,
                                                        const char   *path);
void                lens_document_open_image           (LensDocument *self,
                                                        const char   *path);

/* NULL until a model / an image trace / a layer's maps have arrived. */
LensModelInfo      *lens_document_get_model            (LensDocument *self);
LensTraceInfo      *lens_document_get_trace            (LensDocument *self);
LensLayerMaps      *lens_document_get_maps             (LensDocument *self);
/* The image the user asked for (it may not have been run yet). */
const char         *lens_document_get_image_path       (LensDocument *self);
/* TRUE while the engine thread works on something we wait for. */
gboolean            lens_document_get_busy             (LensDocument *self);

/* Selections over GListStores of LensLayerItem / LensChannelItem. */
GtkSingleSelection *lens_document_get_layer_selection   (LensDocument *self);
GtkSingleSelection *lens_document_get_channel_selection (LensDocument *self);
/* -1 when there is none. */
int                 lens_document_get_selected_layer   (LensDocument *self);
void                lens_document_select_layer         (LensDocument *self,
                                                        int           layer);
int                 lens_document_get_selected_channel (LensDocument *self);
void                lens_document_select_channel       (LensDocument *self,
                                                        int           channel);
/* The selected channel's feature map at its own size, or NULL. */
LensPixels         *lens_document_get_channel_pixels   (LensDocument *self);

gboolean            lens_document_get_shared_norm      (LensDocument *self);
void                lens_document_set_shared_norm      (LensDocument *self,
                                                        gboolean      shared);

/* Projects the selected channel with the current mode and start
 * ("projection-mode", "projection-start" properties), or from (x, y) of
 * its feature map. */
void                lens_document_project              (LensDocument *self);
void                lens_document_project_point        (LensDocument *self,
                                                        int           x,
                                                        int           y);
LensProjection     *lens_document_get_projection       (LensDocument *self);

/* The occluder at (x, y) of the input; while a query runs, only the
 * newest position is kept and sent when it returns.  While a model or an
 * image is loading, the newest position waits and is sent (clamped to the
 * new input) once the trace has arrived. */
void                lens_document_occlude_at           (LensDocument *self,
                                                        int           x,
                                                        int           y);
/* The position asked for and not yet sent, if any. */
gboolean            lens_document_get_pending_occluder (LensDocument *self,
                                                        int          *x,
                                                        int          *y);
/* The occluder position asked for last (sent or not); FALSE before any. */
gboolean            lens_document_get_occluder_position (LensDocument *self,
                                                         int          *x,
                                                         int          *y);
/* TRUE while a model or an image run is on its way to the worker. */
gboolean            lens_document_get_loading          (LensDocument *self);
LensOcclusionQuery *lens_document_get_query            (LensDocument *self);
int                 lens_document_get_occluder_size    (LensDocument *self);
void                lens_document_sweep                (LensDocument *self);
void                lens_document_cancel_sweep         (LensDocument *self);
gboolean            lens_document_get_sweeping         (LensDocument *self);
double              lens_document_get_sweep_progress   (LensDocument *self);
LensOcclusionSweep *lens_document_get_sweep            (LensDocument *self);
/* Escape: stops the running projection and sweep, and an image run (the
 * image still shown is then run again: the window never shows an image
 * whose activations the worker has dropped). */
void                lens_document_cancel_jobs          (LensDocument *self);

/* Forgets pending work (the window is closing). */
void                lens_document_cancel               (LensDocument *self);

G_END_DECLS
