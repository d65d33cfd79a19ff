/* engine-test.h: shared by the engine test programs (include once each) */
#pragma once

#include <glib.h>

/* In a -Db_sanitize=address,undefined build, make undefined behaviour fail
 * the test instead of printing a line that nobody reads. */
const char *__ubsan_default_options (void);

const char *
__ubsan_default_options (void)
{
  return "halt_on_error=1:print_stacktrace=1";
}
