/* lens-frame-trace.h: a timestamp log for the responsiveness benchmark
 *
 * With CONVLENS_TRACE_FRAMES=FILE in the environment, the window keeps its
 * frame clock running and appends one line per event to FILE:
 *
 *   frame  T C                after every painted frame; C is the main
 *                             thread's CPU time (µs)
 *   motion T X Y              pointer motion over the window
 *   update T X Y              an occlusion result arrived (its position)
 *   tick T C, layout T C,     the end of a frame's update (animations),
 *   paint T C                 layout and paint phases
 *   busy T D WHAT             a main-thread handler started at T, took D µs
 *   late T L                  a high-priority 2 ms timeout ran L µs later
 *                             than asked: the main loop was blocked (or
 *                             not scheduled) for about L µs
 *
 * T is g_get_monotonic_time() in microseconds.  bench/responsiveness.py
 * reads it: the largest gap between frames is the longest time the main
 * loop was blocked, or not scheduled: the CPU time tells which.  Without
 * the variable nothing is done. */
#pragma once

#include "lens-window.h"

G_BEGIN_DECLS

void lens_frame_trace_attach (LensWindow *window);
/* Logs a "busy" line for a handler that began at `start`
 * (g_get_monotonic_time()); nothing without the trace. */
void lens_frame_trace_mark   (LensWindow *window,
                              const char *what,
                              gint64      start);

G_END_DECLS
