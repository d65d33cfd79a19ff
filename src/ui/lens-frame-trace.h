/* lens-frame-trace.h: a timestamp log for the responsiveness benchmark
 *
 * With CONVLENS_TRACE_FRAMES=FILE in the environment, the window keeps its
 * frame clock running and appends one line per event to FILE:
 *
 *   frame  T                  after every painted frame
 *   motion T X Y              pointer motion over the window
 *   update T X Y              an occlusion result arrived (its position)
 *
 * T is g_get_monotonic_time() in microseconds.  bench/responsiveness.py
 * reads it: the largest gap between frames is the longest time the main
 * loop was blocked.  Without the variable nothing is done. */
#pragma once

#include "lens-window.h"

G_BEGIN_DECLS

void lens_frame_trace_attach (LensWindow *window);

G_END_DECLS
