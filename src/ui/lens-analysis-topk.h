/* lens-analysis-topk.h: the Top-9 page of the Analyses view (Fig. 2) */
#pragma once

#include "lens-analyses-view.h"
#include "lens-topk.h"

G_BEGIN_DECLS

#define LENS_TYPE_ANALYSIS_TOPK (lens_analysis_topk_get_type ())
G_DECLARE_FINAL_TYPE (LensAnalysisTopk, lens_analysis_topk, LENS, ANALYSIS_TOPK, GtkBox)

GtkWidget      *lens_analysis_topk_new          (LensAnalysesView *view);

/* Scans `dataset` (a folder or "fashion-mnist:test") through the current
 * model for `layer`, over the first `limit` images (0: all). */
void            lens_analysis_topk_scan         (LensAnalysisTopk *self,
                                                 const char       *dataset,
                                                 const char       *layer,
                                                 int               limit);
/* Opens a result file (lens_topk_load). */
gboolean        lens_analysis_topk_open         (LensAnalysisTopk *self,
                                                 const char       *path,
                                                 GError          **error);
void            lens_analysis_topk_cancel       (LensAnalysisTopk *self);
/* TRUE while a scan or a drawing runs. */
gboolean        lens_analysis_topk_get_busy     (LensAnalysisTopk *self);
/* The result shown, or NULL. */
LensTopk       *lens_analysis_topk_get_result   (LensAnalysisTopk *self);
/* Where the last scan's result was saved (owned by the page). */
const char     *lens_analysis_topk_get_result_path (LensAnalysisTopk *self);
void            lens_analysis_topk_set_channel  (LensAnalysisTopk *self,
                                                 int               channel);
/* The figure shown (channel's Fig. 2), or NULL. */
GdkTexture     *lens_analysis_topk_get_figure   (LensAnalysisTopk *self);
gboolean        lens_analysis_topk_export_png   (LensAnalysisTopk *self,
                                                 const char       *path,
                                                 GError          **error);

G_END_DECLS
