/* lens-document.c: the window's state and the engine requests behind it
 *
 * Requests go out in dependency order (model -> trace -> layer maps); each
 * answer updates one part of the state and asks for the next.  Obsolete
 * answers come back as G_IO_ERROR_CANCELLED and are ignored. */
#define G_LOG_DOMAIN "lens-document"

#include "lens-config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "lens-document.h"

struct _LensDocument
{
  GObject             parent_instance;

  /* owned */
  LensEngineClient   *client;
  GListStore         *layers;
  GListStore         *channels;
  GtkSingleSelection *layer_selection;
  GtkSingleSelection *channel_selection;
  LensModelInfo      *model;
  LensTraceInfo      *trace;
  LensLayerMaps      *maps;
  char               *image_path;

  /* jobs */
  guint               n_pending;
  guint               n_loading;   /* model and image requests on their way */
  gboolean            closing;     /* lens_document_cancel (): ask for nothing more */
  gint64              render_started;
  gboolean            shared_norm;

  /* projections */
  char               *projection_mode;    /* "deconv", "guided", "gradient" */
  char               *projection_start;   /* "max", "map" */
  LensProjection     *projection;
  GCancellable       *project_cancellable;

  /* occlusion */
  int                 occluder_size;
  int                 occluder_stride;
  LensOcclusionQuery *query;
  gboolean            query_in_flight;
  gboolean            query_pending;
  gboolean            has_position;  /* pending_x/y hold a position */
  int                 pending_x, pending_y;
  LensOcclusionSweep *sweep;
  GCancellable       *sweep_cancellable;
  double              sweep_progress;
};

enum {
  PROP_0,
  PROP_MODEL,
  PROP_TRACE,
  PROP_MAPS,
  PROP_BUSY,
  PROP_SELECTED_LAYER,
  PROP_SELECTED_CHANNEL,
  PROP_SHARED_NORM,
  PROP_PROJECTION_MODE,
  PROP_PROJECTION_START,
  PROP_PROJECTION,
  PROP_OCCLUDER_SIZE,
  PROP_OCCLUDER_STRIDE,
  PROP_QUERY,
  PROP_SWEEP,
  PROP_SWEEP_PROGRESS,
  PROP_SWEEPING,
  N_PROPS
};

enum {
  ERROR,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (LensDocument, lens_document, G_TYPE_OBJECT)

static void lens_document_request_trace (LensDocument *self);
static void lens_document_request_maps  (LensDocument *self);
static void lens_document_request_projection (LensDocument  *self,
                                              LensStartKind  start,
                                              int            x,
                                              int            y);
static void lens_document_clear_results (LensDocument *self);

static void
lens_document_job_started (LensDocument *self)
{
  if (self->n_pending++ == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
lens_document_job_done (LensDocument *self)
{
  g_assert (self->n_pending > 0);
  if (--self->n_pending == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

/* Shows `what` + the engine's own words, unless the job was superseded. */
static gboolean
lens_document_report (LensDocument *self,
                      const GError *error,
                      const char   *what)
{
  g_autofree char *message = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return FALSE;

  /* TRANSLATORS: "Could not open the model: <reason from the engine>" */
  message = g_strdup_printf (_("%s: %s"), what, error->message);
  g_signal_emit (self, signals[ERROR], 0, message);
  return TRUE;
}

static void on_channel_selected (LensDocument *self);

static void
lens_document_set_maps (LensDocument  *self,
                        LensLayerMaps *maps)
{
  int channel = lens_document_get_selected_channel (self);
  guint n_old = g_list_model_get_n_items (G_LIST_MODEL (self->channels));
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);

  if (maps != NULL)
    for (guint c = 0; c < maps->n_channels; c++)
      g_ptr_array_add (items, lens_channel_item_new (maps, c));

  g_clear_pointer (&self->maps, lens_layer_maps_unref);
  self->maps = maps != NULL ? lens_layer_maps_ref (maps) : NULL;
  /* Views over the channel list see the splice after the selection does:
   * tell them about the selection once the splice is over (below). */
  g_signal_handlers_block_by_func (self->channel_selection, on_channel_selected, self);
  g_list_store_splice (self->channels, 0, n_old, items->pdata, items->len);
  g_signal_handlers_unblock_by_func (self->channel_selection, on_channel_selected, self);

  /* stay on the same channel index when the new layer has it */
  if (maps != NULL && maps->n_channels > 0)
    gtk_single_selection_set_selected (self->channel_selection,
                                       (guint) CLAMP (channel, 0, (int) maps->n_channels - 1));

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAPS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_CHANNEL]);
  lens_document_project (self);
}

static void
render_done (LensDocument *self,
             GAsyncResult *result)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LensLayerMaps) maps = NULL;

  maps = lens_engine_client_render_layer_finish (self->client, result, &error);
  g_debug ("layer maps %s after %.1f ms", maps ? "arrived" : "dropped",
           (g_get_monotonic_time () - self->render_started) / 1000.0);
  if (maps == NULL)
    {
      lens_document_report (self, error, _("Could not show the feature maps"));
      return;
    }
  lens_document_set_maps (self, maps);
  g_debug ("layer maps shown after %.1f ms",
           (g_get_monotonic_time () - self->render_started) / 1000.0);
}

/* Each answer updates the state first and only then ends "busy", so that
 * views never see an idle document without its results. */
static void
on_render_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LensDocument) self = user_data;

  if (self->client != NULL) /* NULL: disposed while the job ran */
    render_done (self, result);
  lens_document_job_done (self);
}

static void
lens_document_request_maps (LensDocument *self)
{
  int layer = lens_document_get_selected_layer (self);

  if (self->trace == NULL || layer < 0)
    {
      if (self->maps != NULL)
        lens_document_set_maps (self, NULL);
      return;
    }

  self->render_started = g_get_monotonic_time ();
  lens_document_job_started (self);
  lens_engine_client_render_layer_async (self->client, (guint) layer, LENS_THUMB_SIZE,
                                         self->shared_norm ? LENS_NORM_SHARED
                                                           : LENS_NORM_PER_CHANNEL,
                                         NULL, on_render_done, g_object_ref (self));
}

static void
trace_done (LensDocument *self,
            GAsyncResult *result)
{
  g_autoptr(GError) error = NULL;
  LensTraceInfo *trace;

  trace = lens_engine_client_run_image_finish (self->client, result, &error);
  if (trace == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      self->n_loading == 0 && !self->closing)
    {
      /* Cancelled (Escape) with nothing newer on its way: the worker may
       * have dropped the activations of the image still shown, so run
       * that one again and the window stays true to the worker. */
      if (self->trace != NULL)
        {
          g_free (self->image_path);
          self->image_path = g_strdup (self->trace->image_path);
          lens_document_request_trace (self);
        }
      return;
    }
  if (trace == NULL)
    {
      if (lens_document_report (self, error, _("Could not run the image through the model")))
        {
          /* the engine keeps no activations after a failed run, and the
           * image is not worth trying again on the next model */
          g_clear_pointer (&self->image_path, g_free);
          g_clear_pointer (&self->trace, lens_trace_info_unref);
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRACE]);
          lens_document_set_maps (self, NULL);
        }
      return;
    }

  g_clear_pointer (&self->trace, lens_trace_info_unref);
  self->trace = trace;
  lens_document_clear_results (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRACE]);
  lens_document_request_maps (self);
}

static void lens_document_flush_query (LensDocument *self);

static void
on_trace_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(LensDocument) self = user_data;

  self->n_loading--;
  if (self->client != NULL)
    {
      trace_done (self, result);
      lens_document_flush_query (self);
    }
  lens_document_job_done (self);
}

static void
lens_document_request_trace (LensDocument *self)
{
  if (self->model == NULL || self->image_path == NULL)
    return;

  self->n_loading++;
  lens_document_job_started (self);
  lens_engine_client_run_image_async (self->client, self->image_path, NULL,
                                      on_trace_done, g_object_ref (self));
}

static void
model_loaded (LensDocument *self,
              GAsyncResult *result)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  LensModelInfo *model;

  model = lens_engine_client_load_model_finish (self->client, result, &error);
  if (model == NULL)
    {
      /* The engine kept the previous model, but the request made the work
       * queued for it obsolete: ask again. */
      if (lens_document_report (self, error, _("Could not open the model")))
        {
          if (self->trace != NULL)
            lens_document_request_maps (self);
          else
            lens_document_request_trace (self);
        }
      return;
    }

  g_clear_pointer (&self->model, lens_model_info_unref);
  self->model = model;
  g_clear_pointer (&self->trace, lens_trace_info_unref);
  lens_document_clear_results (self);
  lens_document_set_maps (self, NULL);

  for (guint i = 0; i < model->n_layers; i++)
    g_ptr_array_add (items, lens_layer_item_new (i, &model->layers[i]));
  g_list_store_splice (self->layers, 0, g_list_model_get_n_items (G_LIST_MODEL (self->layers)),
                       items->pdata, items->len);
  if (model->n_layers > 0)
    gtk_single_selection_set_selected (self->layer_selection, 0);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRACE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_LAYER]);
  lens_document_request_trace (self);
}

static void
on_model_loaded (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(LensDocument) self = user_data;

  self->n_loading--;
  if (self->client != NULL)
    {
      model_loaded (self, result);
      lens_document_flush_query (self);
    }
  lens_document_job_done (self);
}

void
lens_document_open_model (LensDocument *self,
                          const char   *path)
{
  g_return_if_fail (LENS_IS_DOCUMENT (self));
  g_return_if_fail (path != NULL);

  self->n_loading++;
  lens_document_job_started (self);
  lens_engine_client_load_model_async (self->client, path, NULL, on_model_loaded,
                                       g_object_ref (self));
}

void
lens_document_open_image (LensDocument *self,
                          const char   *path)
{
  g_return_if_fail (LENS_IS_DOCUMENT (self));
  g_return_if_fail (path != NULL);

  g_free (self->image_path);
  self->image_path = g_strdup (path);
  lens_document_request_trace (self);
}

static void
on_layer_selected (LensDocument *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_LAYER]);
  lens_document_request_maps (self);
}

static void
on_channel_selected (LensDocument *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_CHANNEL]);
  lens_document_project (self);
}

/* ---- projections ---- */

static LensProjectMode
parse_mode (const char *mode)
{
  if (g_strcmp0 (mode, "guided") == 0)
    return LENS_PROJECT_GUIDED;
  if (g_strcmp0 (mode, "gradient") == 0)
    return LENS_PROJECT_GRADIENT;
  return LENS_PROJECT_DECONV;
}

static void
lens_document_set_projection (LensDocument   *self,
                              LensProjection *proj)
{
  if (self->projection == proj)
    return;
  g_clear_pointer (&self->projection, lens_projection_unref);
  self->projection = proj != NULL ? lens_projection_ref (proj) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROJECTION]);
}

static void
on_project_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(LensDocument) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(LensProjection) proj = NULL;

  if (self->client != NULL)
    {
      proj = lens_engine_client_project_finish (self->client, result, &error);
      if (proj != NULL)
        lens_document_set_projection (self, proj);
      else
        lens_document_report (self, error, _("Could not project the channel"));
    }
  lens_document_job_done (self);
}

static void
lens_document_request_projection (LensDocument  *self,
                                  LensStartKind  start,
                                  int            x,
                                  int            y)
{
  int channel = lens_document_get_selected_channel (self);

  if (self->maps == NULL || channel < 0 || (guint) channel >= self->maps->n_channels ||
      (int) self->maps->layer != lens_document_get_selected_layer (self))
    return;

  if (self->project_cancellable != NULL)
    g_cancellable_cancel (self->project_cancellable);
  g_clear_object (&self->project_cancellable);
  self->project_cancellable = g_cancellable_new ();

  lens_document_job_started (self);
  lens_engine_client_project_async (self->client, self->maps->layer, channel,
                                    parse_mode (self->projection_mode), start, x, y,
                                    self->project_cancellable, on_project_done,
                                    g_object_ref (self));
}

void
lens_document_project (LensDocument *self)
{
  g_return_if_fail (LENS_IS_DOCUMENT (self));
  lens_document_request_projection (self,
                                    g_strcmp0 (self->projection_start, "map") == 0
                                      ? LENS_START_MAP : LENS_START_MAX, 0, 0);
}

void
lens_document_project_point (LensDocument *self,
                             int           x,
                             int           y)
{
  g_return_if_fail (LENS_IS_DOCUMENT (self));
  lens_document_request_projection (self, LENS_START_POINT, x, y);
}

LensProjection *
lens_document_get_projection (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), NULL);
  return self->projection;
}

static void
set_string (LensDocument *self,
            char        **field,
            const char   *value,
            int           prop)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
  lens_document_project (self);
}

/* ---- occlusion ---- */

static void
lens_document_get_occlusion_settings (LensDocument          *self,
                                      LensOcclusionSettings *settings)
{
  int layer = lens_document_get_selected_layer (self);

  memset (settings, 0, sizeof *settings);
  settings->size = lens_document_get_occluder_size (self);
  settings->stride = self->occluder_stride > 0 ? self->occluder_stride
                                               : MAX (1, self->occluder_size / 4);
  settings->target_class = -1;
  settings->layer = -1;
  settings->channel = -1;
  if (self->model != NULL && layer >= 0 && (guint) layer < self->model->n_layers &&
      self->model->layers[layer].shape.ndim == 4)
    {
      settings->layer = layer;
      settings->channel = self->maps != NULL && (int) self->maps->layer == layer
                            ? lens_document_get_selected_channel (self) : -1;
    }
}

static void lens_document_send_query (LensDocument *self);

static void
on_occlude_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(LensDocument) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(LensOcclusionQuery) query = NULL;

  if (self->client == NULL)
    return;
  self->query_in_flight = FALSE;
  query = lens_engine_client_occlude_finish (self->client, result, &error);
  g_debug ("occlusion query %s%s", query ? "arrived" : "failed: ", query ? "" : error->message);
  if (query != NULL)
    {
      g_clear_pointer (&self->query, lens_occlusion_query_unref);
      self->query = g_steal_pointer (&query);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QUERY]);
    }
  else if (lens_document_report (self, error, _("Could not occlude the image")))
    self->query_pending = FALSE;
  /* only the newest position matters */
  if (self->query_pending)
    lens_document_send_query (self);
}

/* While a model or an image is on its way, the position waits for the
 * new trace (the worker has no activations to occlude meanwhile). */
static void
lens_document_send_query (LensDocument *self)
{
  LensOcclusionSettings settings;
  int width, height;

  if (self->trace == NULL || self->trace->input == NULL || self->n_loading > 0)
    return;
  lens_document_get_occlusion_settings (self, &settings);
  /* asked for on another image (or model) than the one now run */
  width = lens_pixels_get_width (self->trace->input);
  height = lens_pixels_get_height (self->trace->input);
  self->pending_x = CLAMP (self->pending_x, 0, MAX (width - settings.size, 0));
  self->pending_y = CLAMP (self->pending_y, 0, MAX (height - settings.size, 0));
  self->query_pending = FALSE;
  self->query_in_flight = TRUE;
  lens_engine_client_occlude_async (self->client, &settings, self->pending_x, self->pending_y,
                                    NULL, on_occlude_done, g_object_ref (self));
}

/* A position that waited for a model or an image goes out now. */
static void
lens_document_flush_query (LensDocument *self)
{
  if (self->query_pending && !self->query_in_flight)
    lens_document_send_query (self);
}

void
lens_document_occlude_at (LensDocument *self,
                          int           x,
                          int           y)
{
  g_return_if_fail (LENS_IS_DOCUMENT (self));

  self->pending_x = x;
  self->pending_y = y;
  self->has_position = TRUE;
  self->query_pending = TRUE;
  if (!self->query_in_flight)
    lens_document_send_query (self);
}

gboolean
lens_document_get_pending_occluder (LensDocument *self,
                                    int          *x,
                                    int          *y)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), FALSE);

  if (!self->query_pending)
    return FALSE;
  *x = self->pending_x;
  *y = self->pending_y;
  return TRUE;
}

gboolean
lens_document_get_occluder_position (LensDocument *self,
                                     int          *x,
                                     int          *y)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), FALSE);

  if (!self->has_position)
    return FALSE;
  *x = self->pending_x;
  *y = self->pending_y;
  return TRUE;
}

gboolean
lens_document_get_loading (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), FALSE);
  return self->n_loading > 0;
}

LensOcclusionQuery *
lens_document_get_query (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), NULL);
  return self->query;
}

static void
on_sweep_progress (GObject *target,
                   double   fraction)
{
  LensDocument *self = LENS_DOCUMENT (target);

  self->sweep_progress = fraction;
  g_object_notify_by_pspec (target, properties[PROP_SWEEP_PROGRESS]);
}

static void
on_sweep_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(LensDocument) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(LensOcclusionSweep) sweep = NULL;
  GCancellable *cancellable = g_task_get_cancellable (G_TASK (result));

  lens_document_job_done (self);
  if (self->client == NULL)
    return;
  sweep = lens_engine_client_sweep_finish (self->client, result, &error);
  /* a newer sweep owns the state now */
  if (cancellable != self->sweep_cancellable)
    return;
  g_clear_object (&self->sweep_cancellable);
  if (sweep != NULL)
    {
      g_clear_pointer (&self->sweep, lens_occlusion_sweep_unref);
      self->sweep = g_steal_pointer (&sweep);
      self->sweep_progress = 1.0;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SWEEP_PROGRESS]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SWEEP]);
    }
  else
    lens_document_report (self, error, _("Could not sweep the occluder"));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SWEEPING]);
}

void
lens_document_sweep (LensDocument *self)
{
  LensOcclusionSettings settings;

  g_return_if_fail (LENS_IS_DOCUMENT (self));

  if (self->trace == NULL)
    return;
  if (self->sweep_cancellable != NULL)
    g_cancellable_cancel (self->sweep_cancellable);
  g_clear_object (&self->sweep_cancellable);
  self->sweep_cancellable = g_cancellable_new ();
  self->sweep_progress = 0.0;
  lens_document_get_occlusion_settings (self, &settings);

  lens_document_job_started (self);
  lens_engine_client_sweep_async (self->client, &settings, on_sweep_progress, G_OBJECT (self),
                                  self->sweep_cancellable, on_sweep_done, g_object_ref (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SWEEP_PROGRESS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SWEEPING]);
}

void
lens_document_cancel_sweep (LensDocument *self)
{
  g_return_if_fail (LENS_IS_DOCUMENT (self));

  if (self->sweep_cancellable == NULL)
    return;
  g_cancellable_cancel (self->sweep_cancellable);
  g_clear_object (&self->sweep_cancellable);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SWEEPING]);
}

gboolean
lens_document_get_sweeping (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), FALSE);
  return self->sweep_cancellable != NULL;
}

double
lens_document_get_sweep_progress (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), 0.0);
  return self->sweep_progress;
}

LensOcclusionSweep *
lens_document_get_sweep (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), NULL);
  return self->sweep;
}

void
lens_document_cancel_jobs (LensDocument *self)
{
  g_return_if_fail (LENS_IS_DOCUMENT (self));

  if (self->project_cancellable != NULL)
    g_cancellable_cancel (self->project_cancellable);
  g_clear_object (&self->project_cancellable);
  lens_document_cancel_sweep (self);
  /* a model or an image on its way: trace_done () puts back the image
   * still shown */
  if (self->n_loading > 0)
    lens_engine_client_cancel_all (self->client);
}

int
lens_document_get_occluder_size (LensDocument *self)
{
  const LensShape *in;
  int side;

  g_return_val_if_fail (LENS_IS_DOCUMENT (self), 0);

  if (self->model == NULL || self->model->input_shape.ndim != 4)
    return MAX (self->occluder_size, 1);
  in = &self->model->input_shape;
  side = (int) MIN (in->dims[2], in->dims[3]);
  /* 0: the default, a seventh of the input's side */
  if (self->occluder_size <= 0)
    return MAX (1, (side + 3) / 7);
  return CLAMP (self->occluder_size, 1, side);
}

static void
lens_document_clear_results (LensDocument *self)
{
  lens_document_cancel_sweep (self);
  lens_document_set_projection (self, NULL);
  if (self->query != NULL)
    {
      g_clear_pointer (&self->query, lens_occlusion_query_unref);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QUERY]);
    }
  if (self->sweep != NULL)
    {
      g_clear_pointer (&self->sweep, lens_occlusion_sweep_unref);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SWEEP]);
    }
}

LensEngineClient *
lens_document_get_client (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), NULL);
  return self->client;
}

LensModelInfo *
lens_document_get_model (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), NULL);
  return self->model;
}

LensTraceInfo *
lens_document_get_trace (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), NULL);
  return self->trace;
}

LensLayerMaps *
lens_document_get_maps (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), NULL);
  return self->maps;
}

const char *
lens_document_get_image_path (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), NULL);
  return self->image_path;
}

gboolean
lens_document_get_busy (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), FALSE);
  return self->n_pending > 0;
}

GtkSingleSelection *
lens_document_get_layer_selection (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), NULL);
  return self->layer_selection;
}

GtkSingleSelection *
lens_document_get_channel_selection (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), NULL);
  return self->channel_selection;
}

static int
selected_index (GtkSingleSelection *selection)
{
  guint pos = gtk_single_selection_get_selected (selection);

  return pos == GTK_INVALID_LIST_POSITION ? -1 : (int) pos;
}

int
lens_document_get_selected_layer (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), -1);
  return selected_index (self->layer_selection);
}

void
lens_document_select_layer (LensDocument *self,
                            int           layer)
{
  guint n;

  g_return_if_fail (LENS_IS_DOCUMENT (self));

  n = g_list_model_get_n_items (G_LIST_MODEL (self->layers));
  if (n > 0)
    gtk_single_selection_set_selected (self->layer_selection, (guint) CLAMP (layer, 0, (int) n - 1));
}

int
lens_document_get_selected_channel (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), -1);
  return selected_index (self->channel_selection);
}

void
lens_document_select_channel (LensDocument *self,
                              int           channel)
{
  guint n;

  g_return_if_fail (LENS_IS_DOCUMENT (self));

  n = g_list_model_get_n_items (G_LIST_MODEL (self->channels));
  if (n > 0)
    gtk_single_selection_set_selected (self->channel_selection,
                                       (guint) CLAMP (channel, 0, (int) n - 1));
}

LensPixels *
lens_document_get_channel_pixels (LensDocument *self)
{
  int channel;

  g_return_val_if_fail (LENS_IS_DOCUMENT (self), NULL);

  channel = lens_document_get_selected_channel (self);
  if (self->maps == NULL || channel < 0 || (guint) channel >= self->maps->n_channels)
    return NULL;
  return self->maps->full[channel];
}

gboolean
lens_document_get_shared_norm (LensDocument *self)
{
  g_return_val_if_fail (LENS_IS_DOCUMENT (self), FALSE);
  return self->shared_norm;
}

void
lens_document_set_shared_norm (LensDocument *self,
                               gboolean      shared)
{
  g_return_if_fail (LENS_IS_DOCUMENT (self));

  shared = !!shared;
  if (self->shared_norm == shared)
    return;
  self->shared_norm = shared;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHARED_NORM]);
  lens_document_request_maps (self);
}

void
lens_document_cancel (LensDocument *self)
{
  g_return_if_fail (LENS_IS_DOCUMENT (self));
  self->closing = TRUE;
  self->query_pending = FALSE;
  lens_engine_client_cancel_all (self->client);
}

static void
lens_document_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  LensDocument *self = LENS_DOCUMENT (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      g_value_set_boxed (value, self->model);
      break;
    case PROP_TRACE:
      g_value_set_boxed (value, self->trace);
      break;
    case PROP_MAPS:
      g_value_set_boxed (value, self->maps);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, lens_document_get_busy (self));
      break;
    case PROP_SELECTED_LAYER:
      g_value_set_int (value, lens_document_get_selected_layer (self));
      break;
    case PROP_SELECTED_CHANNEL:
      g_value_set_int (value, lens_document_get_selected_channel (self));
      break;
    case PROP_SHARED_NORM:
      g_value_set_boolean (value, self->shared_norm);
      break;
    case PROP_PROJECTION_MODE:
      g_value_set_string (value, self->projection_mode);
      break;
    case PROP_PROJECTION_START:
      g_value_set_string (value, self->projection_start);
      break;
    case PROP_PROJECTION:
      g_value_set_pointer (value, self->projection);
      break;
    case PROP_OCCLUDER_SIZE:
      g_value_set_int (value, self->occluder_size);
      break;
    case PROP_OCCLUDER_STRIDE:
      g_value_set_int (value, self->occluder_stride);
      break;
    case PROP_QUERY:
      g_value_set_pointer (value, self->query);
      break;
    case PROP_SWEEP:
      g_value_set_pointer (value, self->sweep);
      break;
    case PROP_SWEEP_PROGRESS:
      g_value_set_double (value, self->sweep_progress);
      break;
    case PROP_SWEEPING:
      g_value_set_boolean (value, lens_document_get_sweeping (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lens_document_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  LensDocument *self = LENS_DOCUMENT (object);

  switch (prop_id)
    {
    case PROP_SELECTED_LAYER:
      lens_document_select_layer (self, g_value_get_int (value));
      break;
    case PROP_SELECTED_CHANNEL:
      lens_document_select_channel (self, g_value_get_int (value));
      break;
    case PROP_SHARED_NORM:
      lens_document_set_shared_norm (self, g_value_get_boolean (value));
      break;
    case PROP_PROJECTION_MODE:
      set_string (self, &self->projection_mode, g_value_get_string (value), prop_id);
      break;
    case PROP_PROJECTION_START:
      set_string (self, &self->projection_start, g_value_get_string (value), prop_id);
      break;
    case PROP_OCCLUDER_SIZE:
      if (self->occluder_size != g_value_get_int (value))
        {
          self->occluder_size = g_value_get_int (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_OCCLUDER_STRIDE:
      if (self->occluder_stride != g_value_get_int (value))
        {
          self->occluder_stride = g_value_get_int (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lens_document_dispose (GObject *object)
{
  LensDocument *self = LENS_DOCUMENT (object);

  if (self->layer_selection != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->layer_selection, self);
      g_signal_handlers_disconnect_by_data (self->channel_selection, self);
    }
  g_clear_object (&self->layer_selection);
  g_clear_object (&self->channel_selection);
  g_clear_object (&self->layers);
  g_clear_object (&self->channels);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (lens_document_parent_class)->dispose (object);
}

static void
lens_document_finalize (GObject *object)
{
  LensDocument *self = LENS_DOCUMENT (object);

  g_clear_pointer (&self->model, lens_model_info_unref);
  g_clear_pointer (&self->trace, lens_trace_info_unref);
  g_clear_pointer (&self->maps, lens_layer_maps_unref);
  g_clear_pointer (&self->projection, lens_projection_unref);
  g_clear_pointer (&self->query, lens_occlusion_query_unref);
  g_clear_pointer (&self->sweep, lens_occlusion_sweep_unref);
  g_clear_object (&self->project_cancellable);
  g_clear_object (&self->sweep_cancellable);
  g_free (self->projection_mode);
  g_free (self->projection_start);
  g_free (self->image_path);

  G_OBJECT_CLASS (lens_document_parent_class)->finalize (object);
}

static void
lens_document_class_init (LensDocumentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lens_document_dispose;
  object_class->finalize = lens_document_finalize;
  object_class->get_property = lens_document_get_property;
  object_class->set_property = lens_document_set_property;

  properties[PROP_MODEL] =
    g_param_spec_boxed ("model", NULL, NULL, LENS_TYPE_MODEL_INFO,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TRACE] =
    g_param_spec_boxed ("trace", NULL, NULL, LENS_TYPE_TRACE_INFO,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAPS] =
    g_param_spec_boxed ("maps", NULL, NULL, LENS_TYPE_LAYER_MAPS,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SELECTED_LAYER] =
    g_param_spec_int ("selected-layer", NULL, NULL, -1, G_MAXINT, -1,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SELECTED_CHANNEL] =
    g_param_spec_int ("selected-channel", NULL, NULL, -1, G_MAXINT, -1,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHARED_NORM] =
    g_param_spec_boolean ("shared-norm", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROJECTION_MODE] =
    g_param_spec_string ("projection-mode", NULL, NULL, "deconv",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROJECTION_START] =
    g_param_spec_string ("projection-start", NULL, NULL, "max",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROJECTION] =
    g_param_spec_pointer ("projection", NULL, NULL,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* 0: a seventh of the input's side */
  properties[PROP_OCCLUDER_SIZE] =
    g_param_spec_int ("occluder-size", NULL, NULL, 0, 4096, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* 0: a quarter of the size */
  properties[PROP_OCCLUDER_STRIDE] =
    g_param_spec_int ("occluder-stride", NULL, NULL, 0, 4096, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_QUERY] =
    g_param_spec_pointer ("query", NULL, NULL,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SWEEP] =
    g_param_spec_pointer ("sweep", NULL, NULL,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SWEEP_PROGRESS] =
    g_param_spec_double ("sweep-progress", NULL, NULL, 0.0, 1.0, 0.0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SWEEPING] =
    g_param_spec_boolean ("sweeping", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* A failure worth telling the user, in translated plain words. */
  signals[ERROR] = g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                 NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
lens_document_init (LensDocument *self)
{
  self->client = lens_engine_client_new ();
  self->projection_mode = g_strdup ("deconv");
  self->projection_start = g_strdup ("max");
  self->layers = g_list_store_new (LENS_TYPE_LAYER_ITEM);
  self->channels = g_list_store_new (LENS_TYPE_CHANNEL_ITEM);
  self->layer_selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->layers)));
  self->channel_selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->channels)));
  g_signal_connect_swapped (self->layer_selection, "notify::selected",
                            G_CALLBACK (on_layer_selected), self);
  g_signal_connect_swapped (self->channel_selection, "notify::selected",
                            G_CALLBACK (on_channel_selected), self);
}

LensDocument *
lens_document_new (void)
{
  return g_object_new (LENS_TYPE_DOCUMENT, NULL);
}
