/* lens-analysis-probe.h: the Linear Probes page of the Analyses view
 * (section 5.3): train/test accuracy of a softmax classifier on each
 * chosen layer's features */
#pragma once

#include "lens-analyses-view.h"
#include "lens-probe.h"

G_BEGIN_DECLS

#define LENS_TYPE_ANALYSIS_PROBE (lens_analysis_probe_get_type ())
G_DECLARE_FINAL_TYPE (LensAnalysisProbe, lens_analysis_probe, LENS, ANALYSIS_PROBE, GtkBox)

enum
{
  LENS_PROBE_COL_LAYER,
  LENS_PROBE_COL_FEATURES,
  LENS_PROBE_COL_TRAIN,
  LENS_PROBE_COL_TEST,
  LENS_PROBE_COL_LOSS,
  LENS_PROBE_N_COLS
};

GtkWidget             *lens_analysis_probe_new        (LensAnalysesView  *view);
/* dataset: "fashion-mnist" or a folder with one sub-folder per class
 * (every fifth image of a class is a test image); n_train / n_test: the
 * first images of Fashion-MNIST's splits (0: all); layers NULL: keep. */
void                   lens_analysis_probe_configure  (LensAnalysisProbe  *self,
                                                       const char         *dataset,
                                                       int                 n_train,
                                                       int                 n_test,
                                                       int                 epochs,
                                                       const char * const *layers);
void                   lens_analysis_probe_run        (LensAnalysisProbe  *self);
void                   lens_analysis_probe_cancel     (LensAnalysisProbe  *self);
gboolean               lens_analysis_probe_get_busy   (LensAnalysisProbe  *self);
const LensProbeResult *lens_analysis_probe_get_result (LensAnalysisProbe  *self);
/* The text shown in the table (row = layer). */
const char            *lens_analysis_probe_get_cell   (LensAnalysisProbe  *self,
                                                       guint               row,
                                                       guint               column);
gboolean               lens_analysis_probe_export_png (LensAnalysisProbe  *self,
                                                       const char         *path,
                                                       GError            **error);
gboolean               lens_analysis_probe_export_csv (LensAnalysisProbe  *self,
                                                       const char         *path,
                                                       GError            **error);

G_END_DECLS
