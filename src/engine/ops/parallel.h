/* parallel.h: share a kernel's independent items out over the threads */
#pragma once

#include "ops-common.h"

G_BEGIN_DECLS

typedef void (*LensItemFunc) (gpointer data,
                              int64_t  item);

/* Runs func (data, i) for every i in [0, n_items) on up to
 * lens_get_threads () threads, this one included, in no set order;
 * returns when all are done. */
void lens_parallel_run   (LensItemFunc func,
                          gpointer     data,
                          int64_t      n_items);
/* The same on up to `threads` threads (<= 0: lens_get_threads ()). */
void lens_parallel_run_n (LensItemFunc func,
                          gpointer     data,
                          int64_t      n_items,
                          int          threads);

G_END_DECLS
