/* gui-wait.h: running the main loop in the in-process GUI tests until
 * something has happened */
#pragma once

#include <glib.h>

typedef gboolean (*Condition) (gpointer data);

/* Runs the main loop until cond (data) holds; FALSE after timeout_ms. */
gboolean gui_wait_for_ms (Condition cond,
                          gpointer  data,
                          int       timeout_ms);

/* Lets GTK run frames for ms milliseconds. */
void     gui_spin        (int ms);
