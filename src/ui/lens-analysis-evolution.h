/* lens-analysis-evolution.h: the Evolution page of the Analyses view
 * (Fig. 4): the strongest activations' projections at every snapshot */
#pragma once

#include "lens-analyses-view.h"

G_BEGIN_DECLS

#define LENS_TYPE_ANALYSIS_EVOLUTION (lens_analysis_evolution_get_type ())
G_DECLARE_FINAL_TYPE (LensAnalysisEvolution, lens_analysis_evolution, LENS, ANALYSIS_EVOLUTION,
                      GtkBox)

GtkWidget  *lens_analysis_evolution_new          (LensAnalysesView      *view);
/* Runs over `checkpoints` (ONNX files in training order; NULL-terminated)
 * for `layer`, searching the first `limit` images of `dataset`. */
void        lens_analysis_evolution_run          (LensAnalysisEvolution *self,
                                                  const char * const    *checkpoints,
                                                  const char            *layer,
                                                  const char            *dataset,
                                                  int                    limit);
void        lens_analysis_evolution_cancel       (LensAnalysisEvolution *self);
gboolean    lens_analysis_evolution_get_busy     (LensAnalysisEvolution *self);
/* Snapshots in the result (0 before one). */
guint       lens_analysis_evolution_get_n_snapshots (LensAnalysisEvolution *self);
/* The slider. */
void        lens_analysis_evolution_set_snapshot (LensAnalysisEvolution *self,
                                                  guint                  index);
guint       lens_analysis_evolution_get_snapshot (LensAnalysisEvolution *self);
/* What is shown: the snapshot's figure and its caption. */
GdkTexture *lens_analysis_evolution_get_figure   (LensAnalysisEvolution *self);
const char *lens_analysis_evolution_get_caption  (LensAnalysisEvolution *self);
/* The whole figure: one row per channel, one column per snapshot. */
gboolean    lens_analysis_evolution_export_png   (LensAnalysisEvolution *self,
                                                  const char            *path,
                                                  GError               **error);

G_END_DECLS
