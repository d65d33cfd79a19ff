/* lens-predictions.h: the top-5 classes of the current image */
#pragma once

#include <gtk/gtk.h>

#include "lens-document.h"

G_BEGIN_DECLS

#define LENS_TYPE_PREDICTIONS (lens_predictions_get_type ())
G_DECLARE_FINAL_TYPE (LensPredictions, lens_predictions, LENS, PREDICTIONS, GtkWidget)

LensDocument *lens_predictions_get_document (LensPredictions *self);
void          lens_predictions_set_document (LensPredictions *self,
                                             LensDocument    *document);
/* The text of row i ("label" or "class N"), NULL past the end. */
const char   *lens_predictions_get_row_label (LensPredictions *self,
                                              guint            i);

/* Shows these rows (without a document, or until the trace changes). */
void          lens_predictions_show          (LensPredictions      *self,
                                              const LensPrediction *predictions,
                                              guint                 n,
                                              const char           *note);

G_END_DECLS
