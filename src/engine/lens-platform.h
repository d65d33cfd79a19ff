/* lens-platform.h: the CPU's vector units and the calling thread's
 * priority, in one place for the kernels and the window's engine thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether the CPU has AVX-512F and the environment variable `switch_env`
 * (e.g. "LENS_CONV_DIRECT") is not "0".  Not cached. */
gboolean lens_cpu_avx512      (const char *switch_env);
/* The same, asked once: *cache starts at -1 and keeps the answer (1 or 0);
 * safe to call from any thread. */
gboolean lens_cpu_avx512_once (gint       *cache,
                               const char *switch_env);

/* The calling thread's nice value (Linux keeps one per thread); 0 where it
 * cannot be read or threads have none. */
int      lens_thread_get_nice (void);

/* Sets the calling thread's nice value; FALSE (errno set) when refused:
 * without privilege a thread can only lower its priority. */
gboolean lens_thread_set_nice (int nice);

G_END_DECLS
