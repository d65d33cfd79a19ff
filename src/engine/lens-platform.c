/* lens-platform.c: see the header */
#include "lens-platform.h"

#include <errno.h>
#include <string.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

gboolean
lens_cpu_avx512 (const char *switch_env)
{
  const char *env = switch_env != NULL ? g_getenv (switch_env) : NULL;

  __builtin_cpu_init ();
  return __builtin_cpu_supports ("avx512f") && !(env != NULL && strcmp (env, "0") == 0);
}

gboolean
lens_cpu_avx512_once (gint       *cache,
                      const char *switch_env)
{
  if (g_atomic_int_get (cache) < 0)
    g_atomic_int_set (cache, lens_cpu_avx512 (switch_env) ? 1 : 0);
  return g_atomic_int_get (cache) == 1;
}

int
lens_thread_get_nice (void)
{
#ifdef __linux__
  int v;

  errno = 0;
  v = getpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid));
  return errno == 0 ? v : 0;
#else
  return 0;
#endif
}

gboolean
lens_thread_set_nice (int nice)
{
#ifdef __linux__
  return setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), nice) == 0;
#else
  (void) nice;
  errno = ENOSYS;
  return FALSE;
#endif
}
