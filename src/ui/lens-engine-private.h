/* lens-engine-private.h: the worker side of LensEngineClient */
#pragma once

#include <gio/gio.h>

#include "lens-config.h"
#include "lens-engine-client.h"
#include "lens-net.h"

#if HAVE_LENS_IMAGE
#include "lens-image.h"
#endif
#if HAVE_LENS_PROFILE
#include "lens-profile.h"
#endif

G_BEGIN_DECLS

typedef enum
{
  LENS_JOB_MODEL,
  LENS_JOB_TRACE,
  LENS_JOB_RENDER,
  LENS_JOB_PROJECT,
  LENS_JOB_OCCLUDE,
  LENS_JOB_SWEEP,
  LENS_N_JOB_KINDS
} LensJobKind;

/* Shared by the client, the worker and pending tasks; every field is
 * read and written with g_atomic_int_*. */
typedef struct
{
  /* the newest generation of each kind (written by the client) */
  int latest[LENS_N_JOB_KINDS];
  /* for the kinds that change the worker's state (model, trace): the
   * generation of the request whose result the worker holds, 0 for none
   * (written by the worker) */
  int installed[LENS_N_JOB_KINDS];
  /* requests alive: queued, running, or waiting for their callback */
  int n_jobs;
  /* results computed but found obsolete when they arrived */
  int n_dropped;
} LensGenerations;

typedef struct _LensWorker  LensWorker;
typedef struct _LensRequest LensRequest;

typedef void (*LensJobFunc) (LensWorker  *worker,
                             GTask       *task,
                             LensRequest *req);

/* Immutable once queued, except for cancellable's state. */
struct _LensRequest
{
  LensJobKind      kind;
  LensJobFunc      func;
  guint            generation[LENS_N_JOB_KINDS];
  LensGenerations *gens;
  GCancellable    *cancellable;   /* cancelled when superseded */
  GCancellable    *caller;
  gulong           caller_handler;
  GDestroyNotify   result_free;

  /* inputs */
  char            *path;
  guint            layer;
  int              thumb_size;
  LensNormMode     norm;
  int              channel;
  LensProjectMode  mode;
  LensStartKind    start;
  int              x, y;
  LensOcclusionSettings occ;
  LensSweepProgressFunc progress;
  GWeakRef         target;

  /* Bumped by a thread before it hands the request (and what it wrote
   * into it or into its answer) to the other thread, read by the thread
   * that takes it over.  GLib's queue and main context already order the
   * two threads, but with futexes that ThreadSanitizer cannot see; this
   * C11 release/acquire pair says the same thing in our own code. */
  int              handoffs;
};

/* Everything here belongs to the worker thread, except queue and gens. */
struct _LensWorker
{
  GAsyncQueue     *queue;
  GAsyncQueue     *started;   /* the worker says once that it runs */
  LensGenerations *gens;

  LensNet         *net;
  LensTrace       *trace;
  gboolean         trace_ready;
  guint            trace_serial;   /* bumped by every new trace */
  LensOccluder    *occluder;
  LensOcclusionSettings occluder_settings;
  guint            occluder_serial;
  char            *model_path;
#if HAVE_LENS_IMAGE
  LensPreprocess   pre;
  /* the last decoded image, kept for re-running it on another model */
  char            *image_path;
  LensImage       *image;
#endif
#if HAVE_LENS_PROFILE
  LensProfile     *profile;
#endif
};

LensWorker *lens_worker_new          (void);
void        lens_worker_free         (LensWorker *worker);

gboolean    lens_request_is_stale    (const LensRequest *req);
void        lens_request_hand_over   (LensRequest *req);
void        lens_request_take_over   (LensRequest *req);

/* Every answer leaves the worker through these (never g_task_return_*
 * directly): the request is handed over after the answer is complete. */
void        lens_job_return_pointer  (GTask          *task,
                                      gpointer        value,
                                      GDestroyNotify  value_free);
void        lens_job_return_error    (GTask          *task,
                                      GError         *error);
void        lens_job_return_new_error (GTask         *task,
                                       GQuark         domain,
                                       int            code,
                                       const char    *format,
                                       ...) G_GNUC_PRINTF (4, 5);
/* On the worker: the state of `kind` (model or trace) is now the result
 * of the request of that generation (0: there is none). */
void        lens_worker_set_installed (LensWorker   *worker,
                                       LensJobKind   kind,
                                       guint         generation);

void        lens_job_load_model      (LensWorker  *worker,
                                      GTask       *task,
                                      LensRequest *req);
void        lens_job_run_image       (LensWorker  *worker,
                                      GTask       *task,
                                      LensRequest *req);
void        lens_job_render_layer    (LensWorker  *worker,
                                      GTask       *task,
                                      LensRequest *req);
void        lens_job_project         (LensWorker  *worker,
                                      GTask       *task,
                                      LensRequest *req);
void        lens_job_occlude         (LensWorker  *worker,
                                      GTask       *task,
                                      LensRequest *req);
void        lens_job_sweep           (LensWorker  *worker,
                                      GTask       *task,
                                      LensRequest *req);

G_END_DECLS
