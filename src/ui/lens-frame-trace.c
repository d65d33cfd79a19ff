/* lens-frame-trace.c: CONVLENS_TRACE_FRAMES (see the header) */
#define G_LOG_DOMAIN "lens-frame-trace"

#include "lens-config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <time.h>

#include "lens-frame-trace.h"
#include "lens-window-private.h"

typedef struct
{
  FILE          *out;
  GdkFrameClock *clock;
  gulong         paint_id;
  gulong         tick_id;
  gulong         layout_id;
  gulong         draw_id;
  guint          probe_id;
  gint64         probe_last;   /* when the probe last ran */
} FrameTrace;

static void
disconnect_clock (FrameTrace *t)
{
  /* a disposed clock has dropped its handlers already */
  if (t->clock == NULL)
    return;
  if (t->paint_id != 0 && g_signal_handler_is_connected (t->clock, t->paint_id))
    g_signal_handler_disconnect (t->clock, t->paint_id);
  if (t->tick_id != 0 && g_signal_handler_is_connected (t->clock, t->tick_id))
    g_signal_handler_disconnect (t->clock, t->tick_id);
  if (t->layout_id != 0 && g_signal_handler_is_connected (t->clock, t->layout_id))
    g_signal_handler_disconnect (t->clock, t->layout_id);
  if (t->draw_id != 0 && g_signal_handler_is_connected (t->clock, t->draw_id))
    g_signal_handler_disconnect (t->clock, t->draw_id);
  t->paint_id = t->tick_id = t->layout_id = t->draw_id = 0;
}

static void
frame_trace_free (gpointer data)
{
  FrameTrace *t = data;

  disconnect_clock (t);
  g_clear_object (&t->clock);
  g_clear_handle_id (&t->probe_id, g_source_remove);
  if (t->out != NULL)
    fclose (t->out);
  g_free (t);
}

/* The calling (main) thread's CPU time in µs: it tells a busy main loop
 * from one that was not scheduled (a loaded machine). */
static gint64
thread_cpu_us (void)
{
  struct timespec cpu = { 0, 0 };

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &cpu);
  return (gint64) cpu.tv_sec * G_USEC_PER_SEC + cpu.tv_nsec / 1000;
}

static void
log_phase (FrameTrace *t,
           const char *phase)
{
  fprintf (t->out, "%s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", phase,
           g_get_monotonic_time (), thread_cpu_us ());
}

static void
on_after_paint (GdkFrameClock *clock,
                FrameTrace    *t)
{
  log_phase (t, "frame");
}

/* Connected after GTK's own handlers: the end of the layout and of the
 * paint phase, so a slow frame tells which phase took the time. */
static void
on_tick (GdkFrameClock *clock,
         FrameTrace    *t)
{
  log_phase (t, "tick");
}

static void
on_layout (GdkFrameClock *clock,
           FrameTrace    *t)
{
  log_phase (t, "layout");
}

static void
on_paint (GdkFrameClock *clock,
          FrameTrace    *t)
{
  log_phase (t, "paint");
}

/* A high-priority timeout every PROBE_MS: how much later than asked it
 * runs is how long the main loop was kept from coming back to it (busy
 * in a handler, or its thread not scheduled), whatever the frame clock's
 * own pacing does. */
#define PROBE_MS 2

static gboolean
probe (gpointer data)
{
  FrameTrace *t = data;
  gint64 now = g_get_monotonic_time ();

  if (t->probe_last != 0)
    fprintf (t->out, "late %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", now,
             MAX (0, now - t->probe_last - PROBE_MS * 1000));
  t->probe_last = now;
  return G_SOURCE_CONTINUE;
}

/* Asking for the next frame on every frame keeps the clock running, so a
 * long gap between frames can only be a blocked main loop. */
static gboolean
keep_ticking (GtkWidget     *widget,
              GdkFrameClock *clock,
              gpointer       user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
on_realize (GtkWidget  *widget,
            FrameTrace *t)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);

  if (clock == NULL || clock == t->clock)
    return;
  disconnect_clock (t);
  g_set_object (&t->clock, clock);
  t->paint_id = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), t);
  t->tick_id = g_signal_connect_after (clock, "update", G_CALLBACK (on_tick), t);
  t->layout_id = g_signal_connect_after (clock, "layout", G_CALLBACK (on_layout), t);
  t->draw_id = g_signal_connect_after (clock, "paint", G_CALLBACK (on_paint), t);
}

static void
on_motion (GtkEventControllerMotion *motion,
           double                    x,
           double                    y,
           FrameTrace               *t)
{
  fprintf (t->out, "motion %" G_GINT64_FORMAT " %.1f %.1f\n", g_get_monotonic_time (), x, y);
}

static void
on_query (LensDocument *document,
          GParamSpec   *pspec,
          LensWindow   *window)
{
  FrameTrace *t = g_object_get_data (G_OBJECT (window), "lens-frame-trace");
  LensOcclusionQuery *q = lens_document_get_query (document);

  if (q != NULL && t != NULL)
    fprintf (t->out, "update %" G_GINT64_FORMAT " %d %d\n", g_get_monotonic_time (), q->x, q->y);
}

void
lens_frame_trace_mark (LensWindow *window,
                       const char *what,
                       gint64      start)
{
  FrameTrace *t;

  g_return_if_fail (LENS_IS_WINDOW (window));

  t = g_object_get_data (G_OBJECT (window), "lens-frame-trace");
  if (t != NULL)
    fprintf (t->out, "busy %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %s\n", start,
             g_get_monotonic_time () - start, what);
}

void
lens_frame_trace_attach (LensWindow *window)
{
  const char *path = g_getenv ("CONVLENS_TRACE_FRAMES");
  GtkEventController *motion;
  FrameTrace *t;
  FILE *out;

  g_return_if_fail (LENS_IS_WINDOW (window));

  if (path == NULL || path[0] == '\0')
    return;
  out = g_fopen (path, "w");
  if (out == NULL)
    {
      g_warning ("Cannot write the frame trace “%s”: %s", path, g_strerror (errno));
      return;
    }

  t = g_new0 (FrameTrace, 1);
  t->out = out;
  g_object_set_data_full (G_OBJECT (window), "lens-frame-trace", t, frame_trace_free);

  g_signal_connect (window, "realize", G_CALLBACK (on_realize), t);
  if (gtk_widget_get_realized (GTK_WIDGET (window)))
    on_realize (GTK_WIDGET (window), t);
  gtk_widget_add_tick_callback (GTK_WIDGET (window), keep_ticking, NULL, NULL);
  t->probe_id = g_timeout_add_full (G_PRIORITY_HIGH, PROBE_MS, probe, t, NULL);

  motion = gtk_event_controller_motion_new ();
  gtk_event_controller_set_propagation_phase (motion, GTK_PHASE_CAPTURE);
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), t);
  gtk_widget_add_controller (GTK_WIDGET (window), motion);

  /* disconnected when the window goes */
  g_signal_connect_object (window->document, "notify::query", G_CALLBACK (on_query), window, 0);
}
