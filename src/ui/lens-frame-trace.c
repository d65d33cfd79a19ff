/* lens-frame-trace.c: CONVLENS_TRACE_FRAMES (see the header) */
#define G_LOG_DOMAIN "lens-frame-trace"

#include "lens-config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "lens-frame-trace.h"
#include "lens-window-private.h"

typedef struct
{
  FILE          *out;
  GdkFrameClock *clock;
  gulong         paint_id;
} FrameTrace;

static void
frame_trace_free (gpointer data)
{
  FrameTrace *t = data;

  /* a disposed clock has dropped its handlers already */
  if (t->clock != NULL && t->paint_id != 0 && g_signal_handler_is_connected (t->clock, t->paint_id))
    g_signal_handler_disconnect (t->clock, t->paint_id);
  g_clear_object (&t->clock);
  if (t->out != NULL)
    fclose (t->out);
  g_free (t);
}

static void
on_after_paint (GdkFrameClock *clock,
                FrameTrace    *t)
{
  fprintf (t->out, "frame %" G_GINT64_FORMAT "\n", g_get_monotonic_time ());
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
  if (t->clock != NULL && t->paint_id != 0 && g_signal_handler_is_connected (t->clock, t->paint_id))
    g_signal_handler_disconnect (t->clock, t->paint_id);
  t->paint_id = 0;
  g_set_object (&t->clock, clock);
  t->paint_id = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), t);
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

  motion = gtk_event_controller_motion_new ();
  gtk_event_controller_set_propagation_phase (motion, GTK_PHASE_CAPTURE);
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), t);
  gtk_widget_add_controller (GTK_WIDGET (window), motion);

  /* disconnected when the window goes */
  g_signal_connect_object (window->document, "notify::query", G_CALLBACK (on_query), window, 0);
}
