/* stress-client.c: hundreds of rapid requests to the engine client
 *
 * A seeded random storm of layer switches, channel clicks, occluder moves,
 * sweeps, image and model reloads (good and broken ones), caller cancels
 * and cancel-alls, issued from a GMainLoop without waiting for answers,
 * the way a fast user drives the window.  Checked on every callback:
 *
 *   - it arrives exactly once, in the main thread;
 *   - an answer to a request that a newer one (of its kind or of a kind
 *     it depends on) made obsolete, or that its caller cancelled, is
 *     G_IO_ERROR_CANCELLED -- except a model or an image run that the
 *     worker installed, which must still be the newest of its kind
 *     delivered so far (the window always learns what the worker holds);
 *   - a result echoes the request's parameters (layer, channel, position,
 *     path);
 *   - sweep progress never arrives after the sweep's callback.
 *
 * At the end, the last request of every kind is delivered with its own
 * parameters, no job is outstanding, every GTask and the client itself
 * are freed (weak pointers), and the worker thread was joined.  A second
 * test drops the client in the middle of a storm: every callback still
 * arrives once, CANCELLED or delivered before the end.
 *
 * The figures (requests issued, completed, cancelled, dropped, wall time,
 * peak outstanding jobs) are printed as TAP comments. */
#include <glib/gstdio.h>
#include <string.h>

#include "lens-engine-client.h"
#include "stress-common.h"

enum { MODEL, TRACE, RENDER, PROJECT, OCCLUDE, SWEEP, N_KINDS };

static const char *const kind_names[N_KINDS] = {
  "model", "trace", "render", "project", "occlude", "sweep",
};

/* The kinds whose newer request makes an older request of `kind` obsolete
 * (independently of the engine's own table). */
static gboolean
depends_on (int kind,
            int other)
{
  return other == kind || other == MODEL || (other == TRACE && kind != MODEL);
}

static char *source_dir;
static char *tmp_dir;
static char *model_paths[3];  /* zf-mini, a copy of it, a broken file */
static char *image_paths[3];  /* two samples, a broken file */

typedef struct _Stress Stress;

typedef struct
{
  Stress       *stress;
  int           kind;
  guint         id;          /* order of issue, from 1 */
  int           layer, channel, x, y;
  const char   *path;
  GCancellable *cancellable;
  GObject      *target;      /* sweeps: progress target */
  gpointer      task;        /* weak pointer, set in the callback */
  guint         n_callbacks;
  gboolean      succeeded;
  gboolean      cancelled;
  guint         n_progress;
} Call;

struct _Stress
{
  LensEngineClient *client;
  GRand            *rand;
  GPtrArray        *calls;
  guint             seq;
  guint             newest[N_KINDS];     /* id of the newest request */
  guint             cancel_all_after;    /* requests with id <= this were cancelled */
  guint             delivered[N_KINDS];  /* id of the last delivered result */
  guint             n_layers;
  guint             n_outstanding;       /* issued and not called back */
  guint             budget;              /* requests left to issue */
  gboolean          client_gone;
  /* figures */
  guint             n_completed, n_cancelled, n_failed;
  guint             n_caller_cancels, n_cancel_alls;
  guint             peak_jobs;
};

static void
call_free (gpointer data)
{
  Call *call = data;

  g_clear_object (&call->cancellable);
  g_clear_object (&call->target);
  if (call->task != NULL)
    g_object_remove_weak_pointer (call->task, &call->task);
  g_free (call);
}

static gboolean
superseded (Stress *s,
            Call   *call)
{
  for (int k = 0; k < N_KINDS; k++)
    if (depends_on (call->kind, k) && s->newest[k] > call->id)
      return TRUE;
  return call->id <= s->cancel_all_after || s->client_gone;
}

static void
check_result (Call     *call,
              gpointer  value)
{
  Stress *s = call->stress;

  switch (call->kind)
    {
    case MODEL:
      {
        LensModelInfo *info = value;

        g_assert_cmpstr (info->path, ==, call->path);
        g_assert_cmpint (info->input_shape.dims[2], ==, 28);
        s->n_layers = info->n_layers;
        lens_model_info_unref (info);
      }
      break;
    case TRACE:
      {
        LensTraceInfo *info = value;

        g_assert_cmpstr (info->image_path, ==, call->path);
        g_assert_cmpint (info->image_width, ==, 28);
        g_assert_cmpuint (info->n_classes, ==, 10);
        lens_trace_info_unref (info);
      }
      break;
    case RENDER:
      {
        LensLayerMaps *maps = value;

        g_assert_cmpuint (maps->layer, ==, (guint) call->layer);
        g_assert_cmpuint (maps->n_channels, >, 0);
        lens_layer_maps_unref (maps);
      }
      break;
    case PROJECT:
      {
        LensProjection *proj = value;

        g_assert_cmpuint (proj->layer, ==, (guint) call->layer);
        g_assert_cmpint (proj->channel, ==, call->channel);
        g_assert_nonnull (proj->pixels);
        lens_projection_unref (proj);
      }
      break;
    case OCCLUDE:
      {
        LensOcclusionQuery *query = value;

        g_assert_cmpint (query->x, ==, call->x);
        g_assert_cmpint (query->y, ==, call->y);
        g_assert_cmpint (query->size, ==, call->channel);  /* size rides in channel */
        lens_occlusion_query_unref (query);
      }
      break;
    case SWEEP:
      {
        LensOcclusionSweep *sweep = value;
        int size = call->channel, stride = call->layer;

        /* positions 0, stride, ... up to 28 - size: hand arithmetic */
        g_assert_cmpint (sweep->map->n_x, ==, (28 - size) / stride + 1);
        g_assert_cmpint (sweep->map->n_y, ==, (28 - size) / stride + 1);
        lens_occlusion_sweep_unref (sweep);
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

static Call *issue (Stress *s, int kind, int layer, int channel, int x, int y,
                    const char *path, gboolean with_cancellable);

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Call *call = user_data;
  Stress *s = call->stress;
  LensEngineClient *client = s->client;
  g_autoptr(GError) error = NULL;
  gpointer value = NULL;
  gboolean obsolete = superseded (s, call) ||
                      (call->cancellable != NULL && g_cancellable_is_cancelled (call->cancellable));

  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  g_assert_cmpuint (++call->n_callbacks, ==, 1);
  s->n_outstanding--;
  call->task = result;
  g_object_add_weak_pointer (G_OBJECT (result), &call->task);

  switch (call->kind)
    {
    case MODEL: value = lens_engine_client_load_model_finish (client, result, &error); break;
    case TRACE: value = lens_engine_client_run_image_finish (client, result, &error); break;
    case RENDER: value = lens_engine_client_render_layer_finish (client, result, &error); break;
    case PROJECT: value = lens_engine_client_project_finish (client, result, &error); break;
    case OCCLUDE: value = lens_engine_client_occlude_finish (client, result, &error); break;
    case SWEEP: value = lens_engine_client_sweep_finish (client, result, &error); break;
    default: g_assert_not_reached ();
    }
  g_assert_true ((value == NULL) != (error == NULL));

  if (value != NULL)
    {
      /* obsolete answers are dropped, except an installed state, which
       * must be newer than anything of its kind shown before */
      if (obsolete)
        g_assert_true (call->kind == MODEL || call->kind == TRACE);
      g_assert_cmpuint (call->id, >, s->delivered[call->kind]);
      if (call->kind == TRACE)
        g_assert_cmpuint (s->delivered[MODEL], <, call->id);
      s->delivered[call->kind] = call->id;
      call->succeeded = TRUE;
      s->n_completed++;
      check_result (call, value);
      /* the window asks for what depends on a new state at once */
      if (s->budget > 0 && !s->client_gone && (call->kind == MODEL || call->kind == TRACE))
        {
          s->budget--;
          if (call->kind == MODEL)
            issue (s, TRACE, 0, 0, 0, 0, image_paths[call->id % 2], FALSE);
          else
            issue (s, RENDER, (int) (call->id % s->n_layers), 0, 0, 0, NULL, FALSE);
        }
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      call->cancelled = TRUE;
      s->n_cancelled++;
    }
  else
    {
      /* a real failure is never reported for an obsolete request */
      g_assert_false (obsolete);
      if (g_test_verbose ())
        g_test_message ("%s %u failed: %s", kind_names[call->kind], call->id, error->message);
      s->n_failed++;
    }
}

static void
on_progress (GObject *target,
             double   fraction)
{
  Call *call = g_object_get_data (target, "call");

  g_assert_nonnull (call);
  g_assert_cmpuint (call->n_callbacks, ==, 0);  /* never after the answer */
  g_assert_cmpfloat (fraction, >=, 0.0);
  g_assert_cmpfloat (fraction, <=, 1.0);
  call->n_progress++;
}

static Call *
new_call (Stress *s,
          int     kind)
{
  Call *call = g_new0 (Call, 1);

  call->stress = s;
  call->kind = kind;
  call->id = ++s->seq;
  s->newest[kind] = call->id;
  s->n_outstanding++;
  g_ptr_array_add (s->calls, call);
  return call;
}

static void
note_jobs (Stress *s)
{
  s->peak_jobs = MAX (s->peak_jobs, lens_engine_client_get_n_jobs (s->client));
}

static Call *
issue (Stress     *s,
       int         kind,
       int         layer,
       int         channel,
       int         x,
       int         y,
       const char *path,
       gboolean    with_cancellable)
{
  Call *call = new_call (s, kind);
  LensOcclusionSettings occ = { 0, 0, -1, -1, -1 };

  call->layer = layer;
  call->channel = channel;
  call->x = x;
  call->y = y;
  call->path = path;
  if (with_cancellable)
    call->cancellable = g_cancellable_new ();

  switch (kind)
    {
    case MODEL:
      lens_engine_client_load_model_async (s->client, path, call->cancellable, on_done, call);
      break;
    case TRACE:
      lens_engine_client_run_image_async (s->client, path, call->cancellable, on_done, call);
      break;
    case RENDER:
      lens_engine_client_render_layer_async (s->client, (guint) layer, 24, LENS_NORM_PER_CHANNEL,
                                             call->cancellable, on_done, call);
      break;
    case PROJECT:
      lens_engine_client_project_async (s->client, (guint) layer, channel, LENS_PROJECT_DECONV,
                                        LENS_START_MAX, 0, 0, call->cancellable, on_done, call);
      break;
    case OCCLUDE:
      occ.size = channel;
      occ.stride = 1;
      lens_engine_client_occlude_async (s->client, &occ, x, y, call->cancellable, on_done, call);
      break;
    case SWEEP:
      occ.size = channel;
      occ.stride = layer;
      call->target = g_object_new (G_TYPE_OBJECT, NULL);
      g_object_set_data (call->target, "call", call);
      lens_engine_client_sweep_async (s->client, &occ, on_progress, call->target,
                                      call->cancellable, on_done, call);
      break;
    default:
      g_assert_not_reached ();
    }
  note_jobs (s);
  return call;
}

/* One random user action; returns FALSE when the budget is spent. */
static gboolean
random_action (Stress *s)
{
  GRand *r = s->rand;
  int roll = g_rand_int_range (r, 0, 100);
  int n_layers = MAX ((int) s->n_layers, 1);
  gboolean cancellable = g_rand_int_range (r, 0, 4) == 0;

  if (s->budget == 0)
    return FALSE;

  if (roll < 6 && s->calls->len > 0)
    {
      /* the caller cancels one of its recent requests */
      Call *call = g_ptr_array_index (s->calls, g_rand_int_range (r, MAX (0, (int) s->calls->len - 20),
                                                                  (int) s->calls->len));
      if (call->cancellable != NULL)
        {
          g_cancellable_cancel (call->cancellable);
          s->n_caller_cancels++;
        }
      return TRUE;
    }
  if (roll < 8)
    {
      lens_engine_client_cancel_all (s->client);
      s->cancel_all_after = s->seq;
      s->n_cancel_alls++;
      return TRUE;
    }

  s->budget--;
  if (roll < 12)
    issue (s, MODEL, 0, 0, 0, 0, model_paths[g_rand_int_range (r, 0, 6) == 0 ? 2 : g_rand_int_range (r, 0, 2)],
           cancellable);
  else if (roll < 20)
    issue (s, TRACE, 0, 0, 0, 0, image_paths[g_rand_int_range (r, 0, 8) == 0 ? 2 : g_rand_int_range (r, 0, 2)],
           cancellable);
  else if (roll < 45)
    issue (s, RENDER, g_rand_int_range (r, 0, n_layers + 1), 0, 0, 0, NULL, cancellable);
  else if (roll < 62)
    issue (s, PROJECT, g_rand_int_range (r, 0, MIN (n_layers, 4)), g_rand_int_range (r, 0, 8),
           0, 0, NULL, cancellable);
  else if (roll < 95)
    issue (s, OCCLUDE, 0, g_rand_int_range (r, 2, 9), g_rand_int_range (r, -2, 28),
           g_rand_int_range (r, -2, 28), NULL, cancellable);
  else
    issue (s, SWEEP, g_rand_int_range (r, 3, 7), g_rand_int_range (r, 4, 9), 0, 0, NULL, cancellable);
  return TRUE;
}

/* A burst of actions every millisecond, as long as fewer than 40 answers
 * are awaited (a fast user does not wait; the window does not queue more
 * than a screenful of work). */
static gboolean
storm_tick (gpointer data)
{
  Stress *s = data;
  int burst = g_rand_int_range (s->rand, 1, 9);

  if (s->n_outstanding > 40)
    return s->budget > 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;

  for (int i = 0; i < burst; i++)
    if (!random_action (s))
      return G_SOURCE_REMOVE;
  return G_SOURCE_CONTINUE;
}

static gboolean
all_called_back (gpointer data)
{
  return ((Stress *) data)->n_outstanding == 0;
}

static gboolean
storm_over (gpointer data)
{
  Stress *s = data;

  return s->budget == 0 && s->n_outstanding == 0;
}

static gboolean
no_jobs (gpointer data)
{
  return lens_engine_client_get_n_jobs (((Stress *) data)->client) == 0;
}

static gboolean
all_tasks_freed (gpointer data)
{
  Stress *s = data;

  for (guint i = 0; i < s->calls->len; i++)
    if (((Call *) g_ptr_array_index (s->calls, i))->task != NULL)
      return FALSE;
  return TRUE;
}

static Stress *
stress_new (guint32 seed)
{
  Stress *s = g_new0 (Stress, 1);

  s->client = lens_engine_client_new ();
  s->rand = g_rand_new_with_seed (seed);
  s->calls = g_ptr_array_new_with_free_func (call_free);
  return s;
}

static void
stress_free (Stress *s)
{
  g_ptr_array_unref (s->calls);
  g_rand_free (s->rand);
  g_free (s);
}

static void
print_figures (Stress     *s,
               const char *name,
               gint64      start,
               guint       n_dropped)
{
  guint n_issued = s->calls->len;

  g_test_message ("%s: %u requests issued, %u completed, %u cancelled (%u dropped after the "
                  "worker had computed them), %u failed, %u caller cancels, %u cancel-alls, "
                  "peak %u outstanding jobs, %.2f s",
                  name, n_issued, s->n_completed, s->n_cancelled, n_dropped, s->n_failed,
                  s->n_caller_cancels, s->n_cancel_alls, s->peak_jobs,
                  (g_get_monotonic_time () - start) / 1e6);
  for (int k = 0; k < N_KINDS; k++)
    {
      guint n = 0, ok = 0;

      for (guint i = 0; i < n_issued; i++)
        {
          Call *call = g_ptr_array_index (s->calls, i);

          n += call->kind == k;
          ok += call->kind == k && call->succeeded;
        }
      g_test_message ("  %-8s %4u issued, %4u delivered", kind_names[k], n, ok);
    }
}

static void
test_storm (void)
{
  Stress *s = stress_new (20261128);
  gpointer client = s->client;
  gint64 start = g_get_monotonic_time ();
  Call *last[N_KINDS];
  guint n_dropped, progress = 0;

  g_object_add_weak_pointer (client, &client);

  /* a model and an image to begin with */
  issue (s, MODEL, 0, 0, 0, 0, model_paths[0], FALSE);
  issue (s, TRACE, 0, 0, 0, 0, image_paths[0], FALSE);
  g_assert_true (stress_wait (all_called_back, s, STRESS_TIMEOUT_MS));
  g_assert_cmpuint (s->delivered[TRACE], ==, 2);
  g_assert_cmpuint (s->n_layers, >, 4);

  /* the storm: 600 requests in bursts, answers handled as they come */
  s->budget = 600;
  g_timeout_add (1, storm_tick, s);
  g_assert_true (stress_wait (storm_over, s, STRESS_TIMEOUT_MS));
  g_assert_cmpuint (s->budget, ==, 0);

  /* the last word, all at once: each must be the one delivered */
  last[MODEL] = issue (s, MODEL, 0, 0, 0, 0, model_paths[1], FALSE);
  last[TRACE] = issue (s, TRACE, 0, 0, 0, 0, image_paths[1], FALSE);
  last[RENDER] = issue (s, RENDER, 2, 0, 0, 0, NULL, FALSE);
  last[PROJECT] = issue (s, PROJECT, 1, 3, 0, 0, NULL, FALSE);
  last[OCCLUDE] = issue (s, OCCLUDE, 0, 5, 11, 7, NULL, FALSE);
  last[SWEEP] = issue (s, SWEEP, 4, 6, 0, 0, NULL, FALSE);
  g_assert_true (stress_wait (all_called_back, s, STRESS_TIMEOUT_MS));
  for (int k = 0; k < N_KINDS; k++)
    {
      g_assert_true (last[k]->succeeded);
      g_assert_cmpuint (s->delivered[k], ==, last[k]->id);
    }
  g_assert_cmpuint (last[SWEEP]->n_progress, >, 0);

  /* nothing left behind: no job, no task, and then no client */
  g_assert_true (stress_wait (no_jobs, s, STRESS_TIMEOUT_MS));
  g_assert_true (stress_wait (all_tasks_freed, s, STRESS_TIMEOUT_MS));
  n_dropped = lens_engine_client_get_n_dropped (s->client);
  print_figures (s, "storm", start, n_dropped);

  /* the counts add up, and the storm did exercise every path */
  g_assert_cmpuint (s->n_completed + s->n_cancelled + s->n_failed, ==, s->calls->len);
  g_assert_cmpuint (s->calls->len, >=, 600);
  g_assert_cmpuint (s->n_completed, >, 6);   /* the last six, and some of the storm */
  g_assert_cmpuint (s->n_cancelled, >, 50);
  g_assert_cmpuint (s->n_caller_cancels, >, 0);
  g_assert_cmpuint (s->n_cancel_alls, >, 0);
  g_assert_cmpuint (s->peak_jobs, >, 10);
  for (guint i = 0; i < s->calls->len; i++)
    progress += ((Call *) g_ptr_array_index (s->calls, i))->n_progress;
  g_assert_cmpuint (progress, >, 0);

  g_object_unref (s->client);
  g_assert_null (client);
  s->client = NULL;
  stress_free (s);
}

static gboolean
drop_client (gpointer data)
{
  Stress *s = data;

  s->client_gone = TRUE;
  g_clear_object (&s->client);
  return G_SOURCE_REMOVE;
}

static gboolean
progressed (gpointer data)
{
  return ((Call *) data)->n_progress > 0;
}

/* The window closes: the client goes away with requests queued and a
 * long sweep running. */
static void
test_drop_client (void)
{
  for (guint round = 0; round < 8; round++)
    {
      Stress *s = stress_new (7000 + round);
      gpointer client = s->client;
      Call *sweep;

      g_object_add_weak_pointer (client, &client);
      issue (s, MODEL, 0, 0, 0, 0, model_paths[0], FALSE);
      issue (s, TRACE, 0, 0, 0, 0, image_paths[round % 2], FALSE);
      /* every position at stride 1: hundreds of forward passes */
      sweep = issue (s, SWEEP, 1, 2, 0, 0, NULL, FALSE);
      if (round % 2 == 0)
        g_assert_true (stress_wait (progressed, sweep, STRESS_TIMEOUT_MS));
      s->n_layers = 6;
      s->budget = 40 + 10 * round;
      while (random_action (s))
        ;
      if (round % 4 == 3)
        {
          g_idle_add (drop_client, s);  /* from a main-loop callback */
          g_assert_true (stress_wait (stress_is_null, &client, STRESS_TIMEOUT_MS));
        }
      else
        drop_client (s);
      g_assert_null (client);

      /* every callback still comes, once */
      g_assert_true (stress_wait (all_called_back, s, STRESS_TIMEOUT_MS));
      g_assert_true (stress_wait (all_tasks_freed, s, STRESS_TIMEOUT_MS));
      g_assert_true (sweep->cancelled || sweep->succeeded);
      stress_free (s);
    }
}

static void
write_broken_files (void)
{
  static const char junk[] = "\x08\x07\x12\x04junk not a protobuf nor a PNG";
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (model_paths[2], junk, sizeof junk - 1, &error));
  g_assert_true (g_file_set_contents (image_paths[2], junk, sizeof junk - 1, &error));
}

static void
copy_file (const char *from,
           const char *to)
{
  g_autofree char *data = NULL;
  gsize len;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_get_contents (from, &data, &len, &error));
  g_assert_true (g_file_set_contents (to, data, (gssize) len, &error));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int rc;

  g_test_init (&argc, &argv, NULL);
  source_dir = g_strdup (argc > 1 ? argv[1] : ".");
  tmp_dir = g_dir_make_tmp ("convlens-stress-XXXXXX", &error);
  g_assert_no_error (error);

  /* two paths to the same model (reloads must tell them apart), with its
   * profile and labels beside each */
  model_paths[0] = g_build_filename (source_dir, "models", "zf-mini.onnx", NULL);
  model_paths[1] = g_build_filename (tmp_dir, "copy.onnx", NULL);
  model_paths[2] = g_build_filename (tmp_dir, "broken.onnx", NULL);
  {
    g_autofree char *profile = g_build_filename (source_dir, "models", "zf-mini.convlens.json", NULL);
    g_autofree char *labels = g_build_filename (source_dir, "models", "fashion-mnist-labels.txt", NULL);
    g_autofree char *profile_copy = g_build_filename (tmp_dir, "copy.convlens.json", NULL);
    g_autofree char *labels_copy = g_build_filename (tmp_dir, "fashion-mnist-labels.txt", NULL);

    copy_file (model_paths[0], model_paths[1]);
    copy_file (profile, profile_copy);
    copy_file (labels, labels_copy);
  }
  image_paths[0] = g_build_filename (source_dir, "resources", "samples", "test-00000-ankle-boot.png", NULL);
  image_paths[1] = g_build_filename (source_dir, "resources", "samples", "test-00001-pullover.png", NULL);
  image_paths[2] = g_build_filename (tmp_dir, "broken.png", NULL);
  write_broken_files ();

  g_test_add_func ("/stress/client/storm", test_storm);
  g_test_add_func ("/stress/client/drop-client", test_drop_client);
  rc = g_test_run ();

  {
    g_autoptr(GDir) dir = g_dir_open (tmp_dir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = g_build_filename (tmp_dir, name, NULL);

        g_unlink (path);
      }
    g_rmdir (tmp_dir);
  }
  return rc;
}
