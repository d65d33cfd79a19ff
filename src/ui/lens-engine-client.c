/* lens-engine-client.c: one worker thread, a queue of requests, GTask answers */
#define G_LOG_DOMAIN "lens-engine-client"

#include "lens-config.h"

#include <errno.h>

#include "lens-platform.h"
#include "lens-engine-client.h"
#include "lens-engine-private.h"

/* Which kinds a kind depends on: a newer request of any of them makes an
 * older request of this kind obsolete. */
static const guint job_depends[LENS_N_JOB_KINDS] = {
  [LENS_JOB_MODEL] = 1u << LENS_JOB_MODEL,
  [LENS_JOB_TRACE] = (1u << LENS_JOB_MODEL) | (1u << LENS_JOB_TRACE),
  [LENS_JOB_RENDER] = (1u << LENS_JOB_MODEL) | (1u << LENS_JOB_TRACE) | (1u << LENS_JOB_RENDER),
  [LENS_JOB_PROJECT] = (1u << LENS_JOB_MODEL) | (1u << LENS_JOB_TRACE) | (1u << LENS_JOB_PROJECT),
  [LENS_JOB_OCCLUDE] = (1u << LENS_JOB_MODEL) | (1u << LENS_JOB_TRACE) | (1u << LENS_JOB_OCCLUDE),
  [LENS_JOB_SWEEP] = (1u << LENS_JOB_MODEL) | (1u << LENS_JOB_TRACE) | (1u << LENS_JOB_SWEEP),
};

/* The kinds whose result is the worker's new state: once the worker has
 * installed such a result, the window must learn of it even when a newer
 * request of the kind is on its way (it may fail and leave this one in
 * place) or everything was cancelled meanwhile. */
#define JOB_IS_STATE(kind) ((kind) == LENS_JOB_MODEL || (kind) == LENS_JOB_TRACE)

/* Pushed to make the worker leave its loop. */
static char quit_marker;

struct _LensEngineClient
{
  GObject       parent_instance;

  /* owned */
  LensWorker   *worker;
  GThread      *thread;
  /* cancellable of the newest request of each kind */
  GCancellable *newest[LENS_N_JOB_KINDS];
};

G_DEFINE_FINAL_TYPE (LensEngineClient, lens_engine_client, G_TYPE_OBJECT)

G_DEFINE_QUARK (lens-engine-client-error-quark, lens_engine_client_error)

static LensGenerations *
lens_generations_ref (LensGenerations *gens)
{
  return g_atomic_rc_box_acquire (gens);
}

static void
lens_generations_unref (LensGenerations *gens)
{
  g_atomic_rc_box_release (gens);
}

void
lens_request_hand_over (LensRequest *req)
{
  g_atomic_int_inc (&req->handoffs);
}

void
lens_request_take_over (LensRequest *req)
{
  (void) g_atomic_int_get (&req->handoffs);
}

/* The last reference to the task may be dropped on either thread. */
static void
lens_request_free (gpointer data)
{
  LensRequest *req = data;

  lens_request_take_over (req);
  g_atomic_int_add (&req->gens->n_jobs, -1);
  if (req->caller != NULL)
    g_cancellable_disconnect (req->caller, req->caller_handler);
  g_clear_object (&req->caller);
  g_clear_object (&req->cancellable);
  g_clear_pointer (&req->gens, lens_generations_unref);
  g_weak_ref_clear (&req->target);
  g_free (req->path);
  g_free (req);
}

gboolean
lens_request_is_stale (const LensRequest *req)
{
  for (guint k = 0; k < LENS_N_JOB_KINDS; k++)
    if ((job_depends[req->kind] & (1u << k)) != 0 &&
        req->generation[k] != (guint) g_atomic_int_get (&req->gens->latest[k]))
      return TRUE;
  return FALSE;
}

void
lens_job_return_pointer (GTask          *task,
                         gpointer        value,
                         GDestroyNotify  value_free)
{
  lens_request_hand_over (g_task_get_task_data (task));
  g_task_return_pointer (task, value, value_free);
}

void
lens_job_return_error (GTask  *task,
                       GError *error)
{
  lens_request_hand_over (g_task_get_task_data (task));
  g_task_return_error (task, error);
}

void
lens_job_return_new_error (GTask      *task,
                           GQuark      domain,
                           int         code,
                           const char *format,
                           ...)
{
  GError *error;
  va_list args;

  va_start (args, format);
  error = g_error_new_valist (domain, code, format, args);
  va_end (args);
  lens_job_return_error (task, error);
}

void
lens_worker_set_installed (LensWorker  *worker,
                           LensJobKind  kind,
                           guint        generation)
{
  g_atomic_int_set (&worker->gens->installed[kind], (int) generation);
  /* a new model has no activations yet */
  if (kind == LENS_JOB_MODEL)
    g_atomic_int_set (&worker->gens->installed[LENS_JOB_TRACE], 0);
}

static void
on_caller_cancelled (GCancellable *caller,
                     gpointer      user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

/* How much lower than the window the engine's threads run.  On two cores
 * the engine (this thread, OpenBLAS's and the kernels' helpers, all busy
 * during a drag) would otherwise take turns with the main loop, which then
 * misses frames although its own work fits in one. */
#define ENGINE_NICE_STEP 10

static void
lower_thread_priority (void)
{
  /* On Linux the nice value belongs to the thread, and threads created
   * from here on (OpenBLAS's, opened below, and the kernels' helpers)
   * inherit it.  Raising one's own nice value needs no privilege. */
  if (!lens_thread_set_nice (MIN (lens_thread_get_nice () + ENGINE_NICE_STEP, 19)))
    g_debug ("cannot lower the engine thread's priority: %s", g_strerror (errno));
}

static gpointer
lens_worker_main (gpointer data)
{
  LensWorker *worker = data;
  gpointer item;

  lower_thread_priority ();
  /* opens OpenBLAS here, so that its threads start from this one */
  (void) lens_get_threads ();
  g_async_queue_push (worker->started, worker);

  while ((item = g_async_queue_pop (worker->queue)) != &quit_marker)
    {
      GTask *task = item;
      LensRequest *req = g_task_get_task_data (task);

      lens_request_take_over (req);
      if (lens_request_is_stale (req) || g_cancellable_is_cancelled (req->cancellable))
        lens_job_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Superseded");
      else
        req->func (worker, task, req);
      /* the task may be freed on the main thread from here on */
      lens_request_hand_over (req);
      g_object_unref (task);
    }

  /* Whatever is still queued will never run. */
  while ((item = g_async_queue_try_pop (worker->queue)) != NULL)
    {
      LensRequest *req;

      if (item == &quit_marker)
        continue;
      req = g_task_get_task_data (item);
      lens_request_take_over (req);
      lens_job_return_new_error (item, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Shut down");
      lens_request_hand_over (req);
      g_object_unref (item);
    }

  return NULL;
}

/* A new request of `kind` for the worker, not queued yet: the caller
 * fills in its inputs, then pushes *out_task. */
static LensRequest *
lens_engine_client_new_request (LensEngineClient    *self,
                                LensJobKind          kind,
                                LensJobFunc          func,
                                gpointer             source_tag,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data,
                                GTask              **out_task)
{
  LensRequest *req = g_new0 (LensRequest, 1);
  GTask *task;

  /* The task has no source object: a queued request must not keep the
   * client (and so the thread) alive. */
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_check_cancellable (task, FALSE);

  req->kind = kind;
  req->func = func;
  g_weak_ref_init (&req->target, NULL);
  req->gens = lens_generations_ref (self->worker->gens);
  req->cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    {
      req->caller = g_object_ref (cancellable);
      req->caller_handler = g_cancellable_connect (cancellable, G_CALLBACK (on_caller_cancelled),
                                                   req->cancellable, NULL);
    }

  /* This request supersedes older ones of its kind and of the kinds that
   * depend on it; stop those that are running. */
  g_atomic_int_inc (&self->worker->gens->latest[kind]);
  for (guint k = 0; k < LENS_N_JOB_KINDS; k++)
    {
      if ((job_depends[k] & (1u << kind)) != 0 && self->newest[k] != NULL)
        {
          g_cancellable_cancel (self->newest[k]);
          g_clear_object (&self->newest[k]);
        }
      req->generation[k] = (guint) g_atomic_int_get (&self->worker->gens->latest[k]);
    }
  g_set_object (&self->newest[kind], req->cancellable);

  g_atomic_int_inc (&self->worker->gens->n_jobs);
  g_task_set_task_data (task, req, lens_request_free);
  *out_task = task;
  return req;
}

static void
lens_engine_client_push (LensEngineClient *self,
                         GTask            *task)
{
  /* the queue owns the reference now */
  lens_request_hand_over (g_task_get_task_data (task));
  g_async_queue_push (self->worker->queue, task);
}

/* Whether an answer that arrived is still wanted.  A result that is
 * now the worker's state (model, trace) is, as long as the worker still
 * holds it; any other answer is not once a newer request of its kind (or
 * of a kind it depends on) was made, or once its caller cancelled it. */
static gboolean
lens_request_is_wanted (const LensRequest *req,
                        gboolean           succeeded)
{
  if (succeeded && JOB_IS_STATE (req->kind))
    return (guint) g_atomic_int_get (&req->gens->installed[req->kind]) ==
           req->generation[req->kind];
  if (req->caller != NULL && g_cancellable_is_cancelled (req->caller))
    return FALSE;
  return !lens_request_is_stale (req);
}

/* Results that became obsolete while waiting in the main loop are dropped
 * here too: a newer request was made after the worker had finished. */
static gpointer
lens_engine_client_finish (GAsyncResult  *result,
                           gpointer       source_tag,
                           GError       **error)
{
  GTask *task = G_TASK (result);
  LensRequest *req;
  gpointer value;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (task) == source_tag, NULL);

  req = g_task_get_task_data (task);
  lens_request_take_over (req);
  if (!lens_request_is_wanted (req, !g_task_had_error (task)))
    {
      g_autoptr(GError) ignored = NULL;

      value = g_task_propagate_pointer (task, &ignored);
      if (value != NULL)
        {
          g_atomic_int_inc (&req->gens->n_dropped);
          req->result_free (value);
        }
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Superseded");
      value = NULL;
    }
  else
    value = g_task_propagate_pointer (task, error);
  /* the worker may drop the last reference to the task (and free req) */
  lens_request_hand_over (req);
  return value;
}

void
lens_engine_client_load_model_async (LensEngineClient    *self,
                                     const char          *path,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  LensRequest *req;
  GTask *task;

  g_return_if_fail (LENS_IS_ENGINE_CLIENT (self));
  g_return_if_fail (path != NULL);

  req = lens_engine_client_new_request (self, LENS_JOB_MODEL, lens_job_load_model,
                                        lens_engine_client_load_model_async,
                                        cancellable, callback, user_data, &task);
  req->path = g_strdup (path);
  req->result_free = (GDestroyNotify) lens_model_info_unref;
  lens_engine_client_push (self, task);
}

LensModelInfo *
lens_engine_client_load_model_finish (LensEngineClient  *self,
                                      GAsyncResult      *result,
                                      GError           **error)
{
  return lens_engine_client_finish (result, lens_engine_client_load_model_async, error);
}

void
lens_engine_client_run_image_async (LensEngineClient    *self,
                                    const char          *path,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  LensRequest *req;
  GTask *task;

  g_return_if_fail (LENS_IS_ENGINE_CLIENT (self));
  g_return_if_fail (path != NULL);

  req = lens_engine_client_new_request (self, LENS_JOB_TRACE, lens_job_run_image,
                                        lens_engine_client_run_image_async,
                                        cancellable, callback, user_data, &task);
  req->path = g_strdup (path);
  req->result_free = (GDestroyNotify) lens_trace_info_unref;
  lens_engine_client_push (self, task);
}

LensTraceInfo *
lens_engine_client_run_image_finish (LensEngineClient  *self,
                                     GAsyncResult      *result,
                                     GError           **error)
{
  return lens_engine_client_finish (result, lens_engine_client_run_image_async, error);
}

void
lens_engine_client_render_layer_async (LensEngineClient    *self,
                                       guint                layer,
                                       int                  thumb_size,
                                       LensNormMode         norm,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  LensRequest *req;
  GTask *task;

  g_return_if_fail (LENS_IS_ENGINE_CLIENT (self));
  g_return_if_fail (thumb_size > 0);

  req = lens_engine_client_new_request (self, LENS_JOB_RENDER, lens_job_render_layer,
                                        lens_engine_client_render_layer_async,
                                        cancellable, callback, user_data, &task);
  req->layer = layer;
  req->thumb_size = thumb_size;
  req->norm = norm;
  req->result_free = (GDestroyNotify) lens_layer_maps_unref;
  lens_engine_client_push (self, task);
}

LensLayerMaps *
lens_engine_client_render_layer_finish (LensEngineClient  *self,
                                        GAsyncResult      *result,
                                        GError           **error)
{
  return lens_engine_client_finish (result, lens_engine_client_render_layer_async, error);
}

void
lens_engine_client_project_async (LensEngineClient    *self,
                                  guint                layer,
                                  int                  channel,
                                  LensProjectMode      mode,
                                  LensStartKind        start,
                                  int                  x,
                                  int                  y,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  LensRequest *req;
  GTask *task;

  g_return_if_fail (LENS_IS_ENGINE_CLIENT (self));

  req = lens_engine_client_new_request (self, LENS_JOB_PROJECT, lens_job_project,
                                        lens_engine_client_project_async,
                                        cancellable, callback, user_data, &task);
  req->layer = layer;
  req->channel = channel;
  req->mode = mode;
  req->start = start;
  req->x = x;
  req->y = y;
  req->result_free = (GDestroyNotify) lens_projection_unref;
  lens_engine_client_push (self, task);
}

LensProjection *
lens_engine_client_project_finish (LensEngineClient  *self,
                                   GAsyncResult      *result,
                                   GError           **error)
{
  return lens_engine_client_finish (result, lens_engine_client_project_async, error);
}

void
lens_engine_client_occlude_async (LensEngineClient            *self,
                                  const LensOcclusionSettings *settings,
                                  int                          x,
                                  int                          y,
                                  GCancellable                *cancellable,
                                  GAsyncReadyCallback          callback,
                                  gpointer                     user_data)
{
  LensRequest *req;
  GTask *task;

  g_return_if_fail (LENS_IS_ENGINE_CLIENT (self));
  g_return_if_fail (settings != NULL);

  req = lens_engine_client_new_request (self, LENS_JOB_OCCLUDE, lens_job_occlude,
                                        lens_engine_client_occlude_async,
                                        cancellable, callback, user_data, &task);
  req->occ = *settings;
  req->x = x;
  req->y = y;
  req->result_free = (GDestroyNotify) lens_occlusion_query_unref;
  lens_engine_client_push (self, task);
}

LensOcclusionQuery *
lens_engine_client_occlude_finish (LensEngineClient  *self,
                                   GAsyncResult      *result,
                                   GError           **error)
{
  return lens_engine_client_finish (result, lens_engine_client_occlude_async, error);
}

void
lens_engine_client_sweep_async (LensEngineClient            *self,
                                const LensOcclusionSettings *settings,
                                LensSweepProgressFunc        progress,
                                GObject                     *target,
                                GCancellable                *cancellable,
                                GAsyncReadyCallback          callback,
                                gpointer                     user_data)
{
  LensRequest *req;
  GTask *task;

  g_return_if_fail (LENS_IS_ENGINE_CLIENT (self));
  g_return_if_fail (settings != NULL);

  req = lens_engine_client_new_request (self, LENS_JOB_SWEEP, lens_job_sweep,
                                        lens_engine_client_sweep_async,
                                        cancellable, callback, user_data, &task);
  req->occ = *settings;
  req->progress = progress;
  g_weak_ref_set (&req->target, target);
  req->result_free = (GDestroyNotify) lens_occlusion_sweep_unref;
  lens_engine_client_push (self, task);
}

LensOcclusionSweep *
lens_engine_client_sweep_finish (LensEngineClient  *self,
                                 GAsyncResult      *result,
                                 GError           **error)
{
  return lens_engine_client_finish (result, lens_engine_client_sweep_async, error);
}

guint
lens_engine_client_get_n_dropped (LensEngineClient *self)
{
  g_return_val_if_fail (LENS_IS_ENGINE_CLIENT (self), 0);
  return (guint) g_atomic_int_get (&self->worker->gens->n_dropped);
}

guint
lens_engine_client_get_n_jobs (LensEngineClient *self)
{
  g_return_val_if_fail (LENS_IS_ENGINE_CLIENT (self), 0);
  return (guint) g_atomic_int_get (&self->worker->gens->n_jobs);
}

void
lens_engine_client_cancel_all (LensEngineClient *self)
{
  g_return_if_fail (LENS_IS_ENGINE_CLIENT (self));

  for (guint k = 0; k < LENS_N_JOB_KINDS; k++)
    {
      g_atomic_int_inc (&self->worker->gens->latest[k]);
      if (self->newest[k] != NULL)
        g_cancellable_cancel (self->newest[k]);
      g_clear_object (&self->newest[k]);
    }
}

static void
lens_engine_client_finalize (GObject *object)
{
  LensEngineClient *self = LENS_ENGINE_CLIENT (object);

  /* Stop the running job between layers, then wait for the thread; it
   * answers every queued request with CANCELLED on its way out. */
  lens_engine_client_cancel_all (self);
  g_async_queue_push (self->worker->queue, &quit_marker);
  g_thread_join (self->thread);
  /* Answers still on their way to the main loop are all obsolete now,
   * models and traces included: there is no worker state left. */
  for (guint k = 0; k < LENS_N_JOB_KINDS; k++)
    g_atomic_int_set (&self->worker->gens->installed[k], 0);

  lens_worker_free (self->worker);

  G_OBJECT_CLASS (lens_engine_client_parent_class)->finalize (object);
}

static void
lens_engine_client_class_init (LensEngineClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lens_engine_client_finalize;
}

static void
lens_engine_client_init (LensEngineClient *self)
{
  self->worker = lens_worker_new ();
  self->worker->gens = g_atomic_rc_box_new0 (LensGenerations);
  self->worker->started = g_async_queue_new ();
  self->thread = g_thread_new ("lens-engine", lens_worker_main, self->worker);
  /* nothing may open OpenBLAS from the main thread before the worker has */
  g_async_queue_pop (self->worker->started);
}

LensEngineClient *
lens_engine_client_new (void)
{
  return g_object_new (LENS_TYPE_ENGINE_CLIENT, NULL);
}
