/* lens-project-private.h: the backward walk shared by the projection
 * entry points (lens-project.c) */
#pragma once

#include "lens-project.h"
#include "lens-ops.h"

G_BEGIN_DECLS

/* Walks back from `value` carrying `signal` (shaped like value) and returns
 * the signal at `stop` (the network input when stop < 0).  workspace holds
 * at least the net's forward workspace (a trace's, or one per thread when
 * walks run in parallel: a walk only reads the trace).  Where the signal
 * starts in a box of the feature map (a 'max' or point start), each
 * convolution on the way back works only on the box the signal can have
 * reached (lens-project-walk.c). */
LensTensor *lens_project_walk (LensTrace        *trace,
                               int               value,
                               const LensTensor *signal,
                               LensBackMode      mode,
                               LensLrnMode       lrn,
                               int               stop,
                               float            *workspace,
                               GError          **error);

int         lens_project_producer_layer (const LensNet *net,
                                         int            value);

G_END_DECLS
