/* lens-analysis-filters.h: the Filters page of the Analyses view (Fig. 6) */
#pragma once

#include "lens-analyses-view.h"
#include "lens-filters.h"

G_BEGIN_DECLS

#define LENS_TYPE_ANALYSIS_FILTERS (lens_analysis_filters_get_type ())
G_DECLARE_FINAL_TYPE (LensAnalysisFilters, lens_analysis_filters, LENS, ANALYSIS_FILTERS, GtkBox)

GtkWidget       *lens_analysis_filters_new        (LensAnalysesView    *view);
/* Analyses the current model's first Conv layer; with `dataset` (a folder
 * or "fashion-mnist:test"; NULL: weights only) over `limit` images. */
void             lens_analysis_filters_run        (LensAnalysisFilters *self,
                                                   const char          *dataset,
                                                   int                  limit);
void             lens_analysis_filters_cancel     (LensAnalysisFilters *self);
gboolean         lens_analysis_filters_get_busy   (LensAnalysisFilters *self);
LensFilterStats *lens_analysis_filters_get_stats  (LensAnalysisFilters *self);
/* The layer-2 top-1 result of the last run with a data set, or NULL
 * (weights only, or no second Conv); and the picture showing it. */
LensTopk        *lens_analysis_filters_get_layer2 (LensAnalysisFilters *self);
GdkPaintable    *lens_analysis_filters_get_layer2_paintable (LensAnalysisFilters *self);
/* The text shown in the table's cell (row = filter, column 0..). */
const char      *lens_analysis_filters_get_cell   (LensAnalysisFilters *self,
                                                   int                  filter,
                                                   int                  column);
gboolean         lens_analysis_filters_export_png (LensAnalysisFilters *self,
                                                   const char          *path,
                                                   GError             **error);
gboolean         lens_analysis_filters_export_csv (LensAnalysisFilters *self,
                                                   const char          *path,
                                                   GError             **error);

G_END_DECLS
