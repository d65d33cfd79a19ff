/* lens-engine-jobs.c: what the engine thread does for each request
 *
 * Everything in this file runs on the worker thread and touches only the
 * LensWorker and the request's (immutable) inputs. */
#define G_LOG_DOMAIN "lens-engine-jobs"

#include "lens-config.h"

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
  g_atomic_rc_box_release (worker->gens);
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
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
      return;
    }
  g_task_return_error (task, error);
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
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Superseded");
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
          g_task_return_error (task, g_steal_pointer (&error));
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
  g_clear_pointer (&worker->trace, lens_trace_free);
  g_clear_pointer (&worker->net, lens_net_unref);
  worker->net = g_steal_pointer (&net);
  worker->trace = g_steal_pointer (&trace);
  worker->trace_ready = FALSE;
  g_free (worker->model_path);
  worker->model_path = g_strdup (req->path);

  g_task_return_pointer (task, info, (GDestroyNotify) lens_model_info_unref);
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
      g_task_return_new_error (task, LENS_ENGINE_CLIENT_ERROR, LENS_ENGINE_CLIENT_ERROR_NO_MODEL,
                               "No model is open");
      return;
    }
  if (!input_is_image (lens_net_get_input_shape (worker->net)))
    {
      g_autofree char *s = lens_shape_to_string (lens_net_get_input_shape (worker->net));

      g_task_return_new_error (task, LENS_ENGINE_CLIENT_ERROR, LENS_ENGINE_CLIENT_ERROR_INPUT,
                               "The model’s input (%s) is not an image", s);
      return;
    }

  if (worker->image == NULL || g_strcmp0 (worker->image_path, req->path) != 0)
    {
      LensImage *image = lens_image_load (req->path, &error);

      if (image == NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
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
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* From here on the old activations are gone, whatever happens. */
  worker->trace_ready = FALSE;
  if (!lens_trace_set_input (worker->trace, input, &error) ||
      !lens_trace_run (worker->trace, req->cancellable, &error))
    {
      return_error (task, g_steal_pointer (&error));
      return;
    }
  worker->trace_ready = TRUE;

  info = g_atomic_rc_box_new0 (LensTraceInfo);
  info->image_path = g_strdup (req->path);
  info->image_width = worker->image->width;
  info->image_height = worker->image->height;
  shown = lens_image_from_tensor (lens_trace_get_input (worker->trace), &worker->pre);
  if (shown != NULL)
    info->input = lens_pixels_new_from_rgb (shown->rgb, shown->width, shown->height);
  fill_predictions (worker, info);

  g_task_return_pointer (task, info, (GDestroyNotify) lens_trace_info_unref);
#else
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
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
      g_task_return_new_error (task, LENS_ENGINE_CLIENT_ERROR, LENS_ENGINE_CLIENT_ERROR_NO_TRACE,
                               "No image has been run through the model");
      return;
    }
  if (req->layer >= lens_net_get_n_layers (worker->net))
    {
      g_task_return_new_error (task, LENS_ENGINE_CLIENT_ERROR, LENS_ENGINE_CLIENT_ERROR_LAYER,
                               "The model has no layer %u", req->layer);
      return;
    }

  value = lens_net_layer_get_output (worker->net, req->layer);
  activation = lens_trace_get_value (worker->trace, value);
  if (activation == NULL)
    {
      g_task_return_new_error (task, LENS_ENGINE_CLIENT_ERROR, LENS_ENGINE_CLIENT_ERROR_LAYER,
                               "Layer “%s” has no activation in the trace",
                               lens_net_layer_get_name (worker->net, req->layer));
      return;
    }

  maps = lens_layer_maps_new (activation, req->layer, req->thumb_size, req->norm, &error);
  if (maps == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, maps, (GDestroyNotify) lens_layer_maps_unref);
}
