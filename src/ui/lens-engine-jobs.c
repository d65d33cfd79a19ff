/* lens-engine-jobs.c: what the engine thread does for each request
 *
 * Everything in this file runs on the worker thread and touches only the
 * LensWorker and the request's (immutable) inputs. */
#define G_LOG_DOMAIN "lens-engine-jobs"

#include "lens-config.h"

#include <math.h>
#include <string.h>

#include "lens-engine-private.h"

/* Size for a model input whose height/width are symbolic. */
#define DYNAMIC_INPUT_SIZE 224

static void
lens_model_info_clear (gpointer data)
{
  LensModelInfo *info = data;

  for (guint i = 0; i < info->n_layers; i++)
    {
      g_free (info->layers[i].name);
      g_free (info->layers[i].op);
    }
  g_free (info->layers);
  g_free (info->path);
  g_free (info->name);
  g_free (info->profile);
}

LensModelInfo *
lens_model_info_ref (LensModelInfo *info)
{
  return g_atomic_rc_box_acquire (info);
}

void
lens_model_info_unref (LensModelInfo *info)
{
  g_atomic_rc_box_release_full (info, lens_model_info_clear);
}

static void
lens_trace_info_clear (gpointer data)
{
  LensTraceInfo *info = data;

  for (guint i = 0; i < info->n_predictions; i++)
    g_free (info->predictions[i].label);
  g_clear_pointer (&info->input, lens_pixels_unref);
  g_free (info->layer_means);
  g_free (info->image_path);
}

LensTraceInfo *
lens_trace_info_ref (LensTraceInfo *info)
{
  return g_atomic_rc_box_acquire (info);
}

void
lens_trace_info_unref (LensTraceInfo *info)
{
  g_atomic_rc_box_release_full (info, lens_trace_info_clear);
}

static void
lens_projection_clear (gpointer data)
{
  LensProjection *proj = data;

  g_clear_pointer (&proj->pixels, lens_pixels_unref);
  g_clear_pointer (&proj->values, lens_tensor_free);
}

LensProjection *
lens_projection_ref (LensProjection *proj)
{
  return g_atomic_rc_box_acquire (proj);
}

void
lens_projection_unref (LensProjection *proj)
{
  g_atomic_rc_box_release_full (proj, lens_projection_clear);
}

static void
lens_occlusion_query_clear (gpointer data)
{
  LensOcclusionQuery *query = data;

  for (guint i = 0; i < query->n_predictions; i++)
    g_free (query->predictions[i].label);
  g_free (query->target_label);
}

LensOcclusionQuery *
lens_occlusion_query_ref (LensOcclusionQuery *query)
{
  return g_atomic_rc_box_acquire (query);
}

void
lens_occlusion_query_unref (LensOcclusionQuery *query)
{
  g_atomic_rc_box_release_full (query, lens_occlusion_query_clear);
}

static void
lens_occlusion_sweep_clear (gpointer data)
{
  LensOcclusionSweep *sweep = data;

  g_clear_pointer (&sweep->map, lens_occlusion_map_free);
  g_free (sweep->target_label);
  g_strfreev (sweep->labels);
}

LensOcclusionSweep *
lens_occlusion_sweep_ref (LensOcclusionSweep *sweep)
{
  return g_atomic_rc_box_acquire (sweep);
}

void
lens_occlusion_sweep_unref (LensOcclusionSweep *sweep)
{
  g_atomic_rc_box_release_full (sweep, lens_occlusion_sweep_clear);
}

LensWorker *
lens_worker_new (void)
{
  LensWorker *worker = g_new0 (LensWorker, 1);

  worker->queue = g_async_queue_new ();
  return worker;
}

void
lens_worker_free (LensWorker *worker)
{
  g_async_queue_unref (worker->queue);
  g_clear_pointer (&worker->started, g_async_queue_unref);
  g_atomic_rc_box_release (worker->gens);
  g_clear_pointer (&worker->occluder, lens_occluder_free);
  g_clear_pointer (&worker->trace, lens_trace_free);
  g_clear_pointer (&worker->net, lens_net_unref);
  g_free (worker->model_path);
#if HAVE_LENS_IMAGE
  g_free (worker->image_path);
  g_clear_pointer (&worker->image, lens_image_free);
#endif
#if HAVE_LENS_PROFILE
  g_clear_pointer (&worker->profile, lens_profile_free);
#endif
  g_free (worker);
}

/* The engine reports cancellation in its own domain; the UI only knows
 * G_IO_ERROR_CANCELLED (and never shows it). */
static void
return_error (GTask  *task,
              GError *error)
{
  if (g_error_matches (error, LENS_NET_ERROR, LENS_NET_ERROR_CANCELLED))
    {
      g_error_free (error);
      lens_job_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
      return;
    }
  lens_job_return_error (task, error);
}

static LensModelInfo *
model_info_new (LensNet    *net,
                const char *path)
{
  LensModelInfo *info = g_atomic_rc_box_new0 (LensModelInfo);

  info->path = g_strdup (path);
  info->name = g_strdup (lens_net_get_name (net));
  info->input_shape = *lens_net_get_input_shape (net);
  info->n_layers = lens_net_get_n_layers (net);
  info->layers = g_new0 (LensLayerInfo, MAX (info->n_layers, 1));
  for (guint i = 0; i < info->n_layers; i++)
    {
      int value = lens_net_layer_get_output (net, i);

      info->layers[i].name = g_strdup (lens_net_layer_get_name (net, i));
      info->layers[i].op = g_strdup (lens_net_layer_get_op (net, i));
      info->layers[i].shape = *lens_net_value_get_shape (net, value);
    }
  return info;
}

/* An input of [1, 1 or 3, H, W] is an image; anything else is not. */
static gboolean
input_is_image (const LensShape *shape)
{
  return shape->ndim == 4 && (shape->dims[1] == 1 || shape->dims[1] == 3) &&
         shape->dims[2] > 0 && shape->dims[3] > 0;
}

void
lens_job_load_model (LensWorker  *worker,
                     GTask       *task,
                     LensRequest *req)
{
  LensLoadOptions options = { DYNAMIC_INPUT_SIZE, DYNAMIC_INPUT_SIZE, 0 };
  g_autoptr(LensNet) net = NULL;
  g_autoptr(LensTrace) trace = NULL;
  g_autoptr(GError) error = NULL;
  LensModelInfo *info;
  const LensShape *in;

  net = lens_net_load_onnx (req->path, &options, &error);
  if (net == NULL)
    {
      return_error (task, g_steal_pointer (&error));
      return;
    }
  trace = lens_trace_new (net, 1, &error);
  if (trace == NULL)
    {
      return_error (task, g_steal_pointer (&error));
      return;
    }

  /* A newer model was asked for while this one loaded: installing it now
   * would leave the worker on a model the window never shows if that
   * newer one fails to load. */
  if (lens_request_is_stale (req))
    {
      lens_job_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Superseded");
      return;
    }

  info = model_info_new (net, req->path);
  in = lens_net_get_input_shape (net);

#if HAVE_LENS_PROFILE
  if (input_is_image (in))
    {
      LensProfile *profile = lens_profile_guess (req->path, (int) in->dims[1], (int) in->dims[2],
                                                 (int) in->dims[3], &error);

      if (profile == NULL)
        {
          lens_model_info_unref (info);
          lens_job_return_error (task, g_steal_pointer (&error));
          return;
        }
      g_clear_pointer (&worker->profile, lens_profile_free);
      worker->profile = profile;
      worker->pre = profile->pre;
      info->profile = g_strdup (profile->name);
    }
#elif HAVE_LENS_IMAGE
  if (input_is_image (in))
    {
      /* No profiles yet: the image goes in as [0,1], resized directly. */
      worker->pre = (LensPreprocess) {
        .channels = (int) in->dims[1], .height = (int) in->dims[2], .width = (int) in->dims[3],
        .scale = 1.f, .mean = { 0.f, 0.f, 0.f }, .std = { 1.f, 1.f, 1.f },
      };
    }
#endif

  /* Only now, with nothing left to fail, does the new model replace the
   * old one. */
  g_clear_pointer (&worker->occluder, lens_occluder_free);
  g_clear_pointer (&worker->trace, lens_trace_free);
  g_clear_pointer (&worker->net, lens_net_unref);
  worker->trace_serial++;
  worker->net = g_steal_pointer (&net);
  worker->trace = g_steal_pointer (&trace);
  worker->trace_ready = FALSE;
  g_free (worker->model_path);
  worker->model_path = g_strdup (req->path);
  lens_worker_set_installed (worker, LENS_JOB_MODEL, req->generation[LENS_JOB_MODEL]);

  lens_job_return_pointer (task, info, (GDestroyNotify) lens_model_info_unref);
}

static void
fill_predictions (LensWorker    *worker,
                  LensTraceInfo *info)
{
  const LensTensor *out = lens_trace_get_output (worker->trace);
  guint index[LENS_MAX_PREDICTIONS];
  float prob[LENS_MAX_PREDICTIONS];
  gsize n;

  if (out == NULL || out->dtype != LENS_DTYPE_FLOAT32)
    return;

  /* batch 1: every element of the output is a class score */
  n = lens_tensor_numel (out);
  info->n_classes = (guint) n;
  info->n_predictions = lens_top_k (lens_tensor_get_floats (out), n, LENS_MAX_PREDICTIONS,
                                    index, prob, &info->was_probability);
  for (guint i = 0; i < info->n_predictions; i++)
    {
      info->predictions[i].index = index[i];
      info->predictions[i].probability = prob[i];
#if HAVE_LENS_PROFILE
      if (worker->profile != NULL && worker->profile->n_labels == n)
        info->predictions[i].label = g_strdup (lens_profile_get_label (worker->profile, index[i]));
#endif
    }
}

/* The mean activation of every layer, computed while the trace is fresh
 * in the worker's hands (one pass over each output). */
static void
fill_layer_means (LensWorker    *worker,
                  LensTraceInfo *info)
{
  guint n = lens_net_get_n_layers (worker->net);

  info->n_layers = n;
  info->layer_means = g_new (double, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      int value = lens_net_layer_get_output (worker->net, i);
      const LensTensor *t = value >= 0 ? lens_trace_get_value (worker->trace, value) : NULL;
      gsize numel;
      const float *v;
      double sum = 0.0;

      info->layer_means[i] = NAN;
      if (t == NULL || t->dtype != LENS_DTYPE_FLOAT32)
        continue;
      numel = lens_tensor_numel (t);
      if (numel == 0)
        continue;
      v = lens_tensor_get_floats (t);
      for (gsize k = 0; k < numel; k++)
        sum += v[k];
      info->layer_means[i] = sum / (double) numel;
    }
}

void
lens_job_run_image (LensWorker  *worker,
                    GTask       *task,
                    LensRequest *req)
{
#if HAVE_LENS_IMAGE
  g_autoptr(GError) error = NULL;
  g_autoptr(LensTensor) input = NULL;
  g_autoptr(LensImage) shown = NULL;
  LensTraceInfo *info;

  if (worker->net == NULL)
    {
      lens_job_return_new_error (task, LENS_ENGINE_CLIENT_ERROR, LENS_ENGINE_CLIENT_ERROR_NO_MODEL,
                               "No model is open");
      return;
    }
  if (!input_is_image (lens_net_get_input_shape (worker->net)))
    {
      g_autofree char *s = lens_shape_to_string (lens_net_get_input_shape (worker->net));

      lens_job_return_new_error (task, LENS_ENGINE_CLIENT_ERROR, LENS_ENGINE_CLIENT_ERROR_INPUT,
                               "The model’s input (%s) is not an image", s);
      return;
    }

  /* From here on the old activations are gone, whatever happens: after a
   * failed run the worker holds none (as the window believes). */
  worker->trace_ready = FALSE;
  worker->trace_serial++;
  g_clear_pointer (&worker->occluder, lens_occluder_free);
  lens_worker_set_installed (worker, LENS_JOB_TRACE, 0);

  if (worker->image == NULL || g_strcmp0 (worker->image_path, req->path) != 0)
    {
      LensImage *image = lens_image_load (req->path, &error);

      if (image == NULL)
        {
          lens_job_return_error (task, g_steal_pointer (&error));
          return;
        }
      g_clear_pointer (&worker->image, lens_image_free);
      worker->image = image;
      g_free (worker->image_path);
      worker->image_path = g_strdup (req->path);
    }

  input = lens_image_to_tensor (worker->image, &worker->pre, &error);
  if (input == NULL)
    {
      lens_job_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (!lens_trace_set_input (worker->trace, input, &error) ||
      !lens_trace_run (worker->trace, req->cancellable, &error))
    {
      return_error (task, g_steal_pointer (&error));
      return;
    }
  worker->trace_ready = TRUE;
  lens_worker_set_installed (worker, LENS_JOB_TRACE, req->generation[LENS_JOB_TRACE]);

  info = g_atomic_rc_box_new0 (LensTraceInfo);
  info->image_path = g_strdup (req->path);
  info->image_width = worker->image->width;
  info->image_height = worker->image->height;
  shown = lens_image_from_tensor (lens_trace_get_input (worker->trace), &worker->pre);
  if (shown != NULL)
    info->input = lens_pixels_new_from_rgb (shown->rgb, shown->width, shown->height);
  fill_predictions (worker, info);
  fill_layer_means (worker, info);

  lens_job_return_pointer (task, info, (GDestroyNotify) lens_trace_info_unref);
#else
  lens_job_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "This build cannot read images");
#endif
}

void
lens_job_render_layer (LensWorker  *worker,
                       GTask       *task,
                       LensRequest *req)
{
  g_autoptr(GError) error = NULL;
  const LensTensor *activation;
  LensLayerMaps *maps;
  int value;

  if (worker->net == NULL || !worker->trace_ready)
    {
      lens_job_return_new_error (task, LENS_ENGINE_CLIENT_ERROR, LENS_ENGINE_CLIENT_ERROR_NO_TRACE,
                               "No image has been run through the model");
      return;
    }
  if (req->layer >= lens_net_get_n_layers (worker->net))
    {
      lens_job_return_new_error (task, LENS_ENGINE_CLIENT_ERROR, LENS_ENGINE_CLIENT_ERROR_LAYER,
                               "The model has no layer %u", req->layer);
      return;
    }

  value = lens_net_layer_get_output (worker->net, req->layer);
  activation = lens_trace_get_value (worker->trace, value);
  if (activation == NULL)
    {
      lens_job_return_new_error (task, LENS_ENGINE_CLIENT_ERROR, LENS_ENGINE_CLIENT_ERROR_LAYER,
                               "Layer “%s” has no activation in the trace",
                               lens_net_layer_get_name (worker->net, req->layer));
      return;
    }

  maps = lens_layer_maps_new (activation, req->layer, req->thumb_size, req->norm, &error);
  if (maps == NULL)
    {
      lens_job_return_error (task, g_steal_pointer (&error));
      return;
    }
  lens_job_return_pointer (task, maps, (GDestroyNotify) lens_layer_maps_unref);
}

/* The label of class `klass`, or NULL (owned). */
static char *
class_label (LensWorker *worker,
             int         klass)
{
#if HAVE_LENS_PROFILE
  const LensTensor *out = worker->trace ? lens_trace_get_output (worker->trace) : NULL;

  if (worker->profile != NULL && out != NULL && klass >= 0 &&
      worker->profile->n_labels == lens_tensor_numel (out))
    return g_strdup (lens_profile_get_label (worker->profile, (guint) klass));
#endif
  return NULL;
}

static gboolean
worker_has_labels (LensWorker *worker)
{
  g_autofree char *first = class_label (worker, 0);

  return first != NULL;
}

static gboolean
check_trace (LensWorker *worker,
             GTask      *task)
{
  if (worker->net == NULL || !worker->trace_ready)
    {
      lens_job_return_new_error (task, LENS_ENGINE_CLIENT_ERROR, LENS_ENGINE_CLIENT_ERROR_NO_TRACE,
                               "No image has been run through the model");
      return FALSE;
    }
  return TRUE;
}

static gboolean
input_is_bgr (LensWorker *worker)
{
#if HAVE_LENS_IMAGE
  return worker->pre.bgr;
#else
  return FALSE;
#endif
}

void
lens_job_project (LensWorker  *worker,
                  GTask       *task,
                  LensRequest *req)
{
  LensProjectOptions options = { req->mode, req->start, req->x, req->y, LENS_LRN_DEFAULT };
  g_autoptr(GError) error = NULL;
  g_autoptr(LensTensor) values = NULL;
  g_autofree guint8 *rgb = NULL;
  LensProjection *proj;
  LensBox rf = { 0, 0, 0, 0 };
  int start_pos[2] = { -1, -1 };
  int width, height;

  if (!check_trace (worker, task))
    return;
  if (req->layer >= lens_net_get_n_layers (worker->net))
    {
      lens_job_return_new_error (task, LENS_ENGINE_CLIENT_ERROR, LENS_ENGINE_CLIENT_ERROR_LAYER,
                               "The model has no layer %u", req->layer);
      return;
    }

  values = lens_project_channel (worker->trace, lens_net_layer_get_output (worker->net, req->layer),
                                 req->channel, &options, &rf, start_pos, &error);
  if (values == NULL)
    {
      return_error (task, g_steal_pointer (&error));
      return;
    }

  rgb = lens_projection_to_rgb (values, input_is_bgr (worker), &width, &height);
  proj = g_atomic_rc_box_new0 (LensProjection);
  proj->layer = req->layer;
  proj->channel = req->channel;
  proj->mode = req->mode;
  proj->start = req->start;
  proj->start_x = start_pos[0];
  proj->start_y = start_pos[1];
  proj->rf = rf;
  proj->pixels = lens_pixels_new_from_rgb8 (rgb, width, height);
  proj->values = g_steal_pointer (&values);
  lens_job_return_pointer (task, proj, (GDestroyNotify) lens_projection_unref);
}

/* The occluder for the current trace and these settings, planned anew
 * when either changed. */
static LensOccluder *
get_occluder (LensWorker                  *worker,
              const LensOcclusionSettings *settings,
              GError                     **error)
{
  LensOccludeOptions options;
  const LensShape *in = lens_net_get_input_shape (worker->net);
  int side = in->ndim == 4 ? (int) MAX (in->dims[2], in->dims[3]) : 1;

  if (worker->occluder != NULL && worker->occluder_serial == worker->trace_serial &&
      memcmp (&worker->occluder_settings, settings, sizeof *settings) == 0)
    return worker->occluder;

  g_clear_pointer (&worker->occluder, lens_occluder_free);
  lens_occlude_options_init (&options);
  options.size = CLAMP (settings->size, 1, side);
  options.stride = MAX (settings->stride, 1);
  options.fill[0] = options.fill[1] = options.fill[2] = 0.f;
  options.target_class = settings->target_class;
  options.layer_value = -1;
  options.channel = -1;
  if (settings->layer >= 0 && (guint) settings->layer < lens_net_get_n_layers (worker->net))
    {
      int value = lens_net_layer_get_output (worker->net, (guint) settings->layer);

      if (lens_net_value_get_shape (worker->net, value)->ndim == 4)
        {
          options.layer_value = value;
          options.channel = settings->channel;
        }
    }

  worker->occluder = lens_occluder_new (worker->net, lens_trace_get_input (worker->trace),
                                        &options, error);
  if (worker->occluder == NULL)
    return NULL;
  worker->occluder_settings = *settings;
  worker->occluder_serial = worker->trace_serial;
  return worker->occluder;
}

void
lens_job_occlude (LensWorker  *worker,
                  GTask       *task,
                  LensRequest *req)
{
  g_autoptr(GError) error = NULL;
  LensOcclusionQuery *query;
  LensOccluder *occ;
  LensOcclusionPoint point;

  if (!check_trace (worker, task))
    return;
  occ = get_occluder (worker, &req->occ, &error);
  if (occ == NULL || !lens_occluder_query (occ, req->x, req->y, &point, &error))
    {
      return_error (task, g_steal_pointer (&error));
      return;
    }

  query = g_atomic_rc_box_new0 (LensOcclusionQuery);
  query->x = req->x;
  query->y = req->y;
  query->size = req->occ.size;
  query->point = point;
  query->clean = *lens_occluder_get_clean (occ);
  query->target_class = lens_occluder_get_target_class (occ);
  query->target_label = class_label (worker, query->target_class);
  query->layer_value = lens_occluder_get_layer_value (occ);
  query->channel = lens_occluder_get_channel (occ);
  for (guint i = 0; i < LENS_OCCLUDE_TOP; i++)
    {
      if (point.top_class[i] < 0)
        break;
      query->predictions[i].index = (guint) point.top_class[i];
      query->predictions[i].probability = point.top_prob[i];
      query->predictions[i].label = class_label (worker, point.top_class[i]);
      query->n_predictions = i + 1;
    }
  lens_job_return_pointer (task, query, (GDestroyNotify) lens_occlusion_query_unref);
}

typedef struct
{
  int     ready;      /* set (atomically) last by the worker; see handoffs */
  GTask  *task;
  double  fraction;
} Progress;

static void
progress_free (gpointer data)
{
  Progress *p = data;

  (void) g_atomic_int_get (&p->ready);
  g_object_unref (p->task);
  g_free (p);
}

/* In the caller's main context. */
static gboolean
progress_idle (gpointer data)
{
  Progress *p = data;
  LensRequest *req;
  g_autoptr(GObject) target = NULL;

  (void) g_atomic_int_get (&p->ready);
  req = g_task_get_task_data (p->task);
  lens_request_take_over (req);
  if (lens_request_is_stale (req) || g_cancellable_is_cancelled (req->cancellable))
    {
      lens_request_hand_over (req);
      return G_SOURCE_REMOVE;
    }
  target = g_weak_ref_get (&req->target);
  if (target != NULL)
    req->progress (target, p->fraction);
  lens_request_hand_over (req);
  return G_SOURCE_REMOVE;
}

/* On the worker, between batches. */
static void
on_sweep_progress (double   fraction,
                   gpointer user_data)
{
  GTask *task = user_data;
  LensRequest *req = g_task_get_task_data (task);
  Progress *p;

  if (req->progress == NULL)
    return;
  p = g_new (Progress, 1);
  p->task = g_object_ref (task);
  p->fraction = fraction;
  lens_request_hand_over (req);
  g_atomic_int_set (&p->ready, 1);
  g_main_context_invoke_full (g_task_get_context (task), G_PRIORITY_DEFAULT, progress_idle, p,
                              progress_free);
}

void
lens_job_sweep (LensWorker  *worker,
                GTask       *task,
                LensRequest *req)
{
  g_autoptr(GError) error = NULL;
  LensOcclusionMap *map;
  LensOcclusionSweep *sweep;
  LensOccluder *occ;
  const LensShape *in;
  const LensTensor *out;

  if (!check_trace (worker, task))
    return;
  occ = get_occluder (worker, &req->occ, &error);
  if (occ == NULL)
    {
      return_error (task, g_steal_pointer (&error));
      return;
    }
  map = lens_occluder_sweep (occ, on_sweep_progress, task, req->cancellable, &error);
  if (map == NULL)
    {
      return_error (task, g_steal_pointer (&error));
      return;
    }

  in = lens_net_get_input_shape (worker->net);
  out = lens_trace_get_output (worker->trace);
  sweep = g_atomic_rc_box_new0 (LensOcclusionSweep);
  sweep->map = map;
  sweep->input_width = (int) in->dims[3];
  sweep->input_height = (int) in->dims[2];
  sweep->target_class = lens_occluder_get_target_class (occ);
  sweep->target_label = class_label (worker, sweep->target_class);
  sweep->layer_value = lens_occluder_get_layer_value (occ);
  sweep->channel = lens_occluder_get_channel (occ);
  sweep->clean = *lens_occluder_get_clean (occ);
  sweep->n_classes = out != NULL ? (guint) lens_tensor_numel (out) : 0;
  if (sweep->n_classes > 0 && worker_has_labels (worker))
    {
      sweep->labels = g_new0 (char *, sweep->n_classes + 1);
      for (guint i = 0; i < sweep->n_classes; i++)
        sweep->labels[i] = class_label (worker, (int) i);
    }
  lens_job_return_pointer (task, sweep, (GDestroyNotify) lens_occlusion_sweep_unref);
}
