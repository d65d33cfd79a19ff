/* lens-feature-grid.h: every channel of the selected layer as a thumbnail */
#pragma once

#include <gtk/gtk.h>

#include "lens-document.h"

G_BEGIN_DECLS

#define LENS_TYPE_FEATURE_GRID (lens_feature_grid_get_type ())
G_DECLARE_FINAL_TYPE (LensFeatureGrid, lens_feature_grid, LENS, FEATURE_GRID, GtkWidget)

LensDocument *lens_feature_grid_get_document  (LensFeatureGrid *self);
void          lens_feature_grid_set_document  (LensFeatureGrid *self,
                                               LensDocument    *document);
GtkGridView  *lens_feature_grid_get_grid_view (LensFeatureGrid *self);
/* "grid", "loading" or "no-image" */
const char   *lens_feature_grid_get_page      (LensFeatureGrid *self);

G_END_DECLS
