/* lens-analysis-correspondence.h: the Correspondence page of the Analyses
 * view (Table 1): how consistently masking the same object part changes
 * each layer's features across images, against random masks */
#pragma once

#include "lens-analyses-view.h"
#include "lens-correspondence.h"

G_BEGIN_DECLS

#define LENS_TYPE_ANALYSIS_CORRESPONDENCE (lens_analysis_correspondence_get_type ())
G_DECLARE_FINAL_TYPE (LensAnalysisCorrespondence, lens_analysis_correspondence, LENS,
                      ANALYSIS_CORRESPONDENCE, GtkBox)

/* Table columns: part, layer, delta, mean, spread, then the random
 * control's delta, mean and spread. */
enum
{
  LENS_CORRESPONDENCE_COL_PART,
  LENS_CORRESPONDENCE_COL_LAYER,
  LENS_CORRESPONDENCE_COL_DELTA,
  LENS_CORRESPONDENCE_COL_MEAN,
  LENS_CORRESPONDENCE_COL_STD,
  LENS_CORRESPONDENCE_COL_RANDOM_DELTA,
  LENS_CORRESPONDENCE_COL_RANDOM_MEAN,
  LENS_CORRESPONDENCE_COL_RANDOM_STD,
  LENS_CORRESPONDENCE_N_COLS
};

GtkWidget                *lens_analysis_correspondence_new        (LensAnalysesView *view);
/* The spec file (SPEC.json, see docs/analyses.md) and the layers (NULL:
 * keep). */
void                      lens_analysis_correspondence_configure  (LensAnalysisCorrespondence *self,
                                                                   const char                 *spec,
                                                                   const char * const         *layers);
void                      lens_analysis_correspondence_run        (LensAnalysisCorrespondence *self);
void                      lens_analysis_correspondence_cancel     (LensAnalysisCorrespondence *self);
gboolean                  lens_analysis_correspondence_get_busy   (LensAnalysisCorrespondence *self);
const LensCorrespondence *lens_analysis_correspondence_get_result (LensAnalysisCorrespondence *self);
/* Rows: part-major (row = part * n_layers + layer); the text shown. */
guint                     lens_analysis_correspondence_get_n_rows (LensAnalysisCorrespondence *self);
const char               *lens_analysis_correspondence_get_cell   (LensAnalysisCorrespondence *self,
                                                                   guint                       row,
                                                                   guint                       column);
gboolean                  lens_analysis_correspondence_export_csv (LensAnalysisCorrespondence *self,
                                                                   const char                 *path,
                                                                   GError                    **error);
gboolean                  lens_analysis_correspondence_export_json (LensAnalysisCorrespondence *self,
                                                                    const char                 *path,
                                                                    GError                    **error);

G_END_DECLS
