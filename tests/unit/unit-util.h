/* unit-util.h: small helpers shared by the engine unit tests */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A fresh temporary directory, removed with its files by unit_rm_rf(). */
char    *unit_make_tmpdir  (void);
void     unit_rm_rf        (const char *path);
/* Writes bytes to dir/name and returns the path (owned). */
char    *unit_write_file   (const char   *dir,
                            const char   *name,
                            const void   *data,
                            gsize         length);
/* Runs make-fixtures.py MODE ARG with Debian's python; returns FALSE (and
 * marks the test skipped) if python or a module is missing.  stdout_out
 * may be NULL. */
gboolean unit_run_fixtures (const char *mode,
                            const char *arg,
                            char      **stdout_out);
/* Asserts |a - b| <= tol with a helpful message. */
#define unit_assert_close(a, b, tol) \
  G_STMT_START { \
    double _a = (a), _b = (b); \
    if (!(fabs (_a - _b) <= (tol))) \
      g_error ("%s:%d: %s = %.9g, expected %s = %.9g (tolerance %g)", \
               __FILE__, __LINE__, #a, _a, #b, _b, (double) (tol)); \
  } G_STMT_END

G_END_DECLS
