/* gui-wait.c: see gui-wait.h */
#include "gui-wait.h"

/* A 10 ms timeout keeps g_main_context_iteration () from blocking longer
 * than that, so the deadlines below are checked often enough. */
static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
gui_wait_for_ms (Condition cond,
                 gpointer  data,
                 int       timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint id = g_timeout_add (10, tick, NULL);
  gboolean ok;

  while (!(ok = cond (data)) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
  return ok;
}

void
gui_spin (int ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;
  guint id = g_timeout_add (10, tick, NULL);

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (id);
}
