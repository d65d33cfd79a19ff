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

/* The newest generation of each kind, shared by the client (writes) and
 * the worker and pending tasks (read); atomic. */
typedef struct
{
  int latest[LENS_N_JOB_KINDS];
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
};

/* Everything here belongs to the worker thread, except queue and gens. */
struct _LensWorker
{
  GAsyncQueue     *queue;
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
