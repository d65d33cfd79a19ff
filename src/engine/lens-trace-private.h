/* lens-trace-private.h: engine-internal access to a trace */
#pragma once

#include "lens-net.h"

G_BEGIN_DECLS

/* Scratch space as large as the largest layer's forward workspace. */
float *lens_trace_get_workspace (LensTrace *trace);

G_END_DECLS
