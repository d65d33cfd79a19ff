/* stress-common.h: what the two stress programs share */
#pragma once

#include <gio/gio.h>

/* Runs the default main context until cond (data) holds, or timeout_ms
 * passed; returns whether it holds. */
typedef gboolean (*StressCondition) (gpointer data);

static G_GNUC_UNUSED gboolean
stress_tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static G_GNUC_UNUSED gboolean
stress_wait (StressCondition cond,
             gpointer        data,
             int             timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint id = g_timeout_add (5, stress_tick, NULL);
  gboolean ok;

  while (!(ok = cond (data)) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
  return ok;
}

static G_GNUC_UNUSED gboolean
stress_is_null (gpointer ptr)
{
  return *(gpointer *) ptr == NULL;
}

/* Dispatches whatever is ready without blocking. */
static G_GNUC_UNUSED void
stress_drain (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Long enough for a run under ThreadSanitizer (5-15 times slower). */
#ifndef STRESS_TIMEOUT_MS
#define STRESS_TIMEOUT_MS 180000
#endif
