/* lens-analysis-invariance.h: the Invariance page of the Analyses view
 * (Fig. 5): feature distance, true-class probability and rank of images
 * translated, scaled or rotated over a range */
#pragma once

#include "lens-analyses-view.h"
#include "lens-invariance.h"

G_BEGIN_DECLS

#define LENS_TYPE_ANALYSIS_INVARIANCE (lens_analysis_invariance_get_type ())
G_DECLARE_FINAL_TYPE (LensAnalysisInvariance, lens_analysis_invariance, LENS,
                      ANALYSIS_INVARIANCE, GtkBox)

GtkWidget            *lens_analysis_invariance_new        (LensAnalysesView       *view);
/* Sets the controls: images besides the current one (NULL: none), the
 * transform, the range and the layers (NULL: keep). */
void                  lens_analysis_invariance_configure  (LensAnalysisInvariance *self,
                                                           const char * const     *images,
                                                           LensTransform           transform,
                                                           double                  from,
                                                           double                  to,
                                                           double                  step,
                                                           const char * const     *layers);
/* Runs with the controls' settings on the current model (off the main
 * thread); "busy" turns FALSE when it is done. */
void                  lens_analysis_invariance_run        (LensAnalysisInvariance *self);
void                  lens_analysis_invariance_cancel     (LensAnalysisInvariance *self);
gboolean              lens_analysis_invariance_get_busy   (LensAnalysisInvariance *self);
/* The result shown, or NULL. */
const LensInvariance *lens_analysis_invariance_get_result (LensAnalysisInvariance *self);
gboolean              lens_analysis_invariance_export_png (LensAnalysisInvariance *self,
                                                           const char             *path,
                                                           GError                **error);
gboolean              lens_analysis_invariance_export_csv (LensAnalysisInvariance *self,
                                                           const char             *path,
                                                           GError                **error);

G_END_DECLS
