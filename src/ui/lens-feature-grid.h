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

/* FALSE: channels in index order; TRUE: strongest max activation first. */
gboolean      lens_feature_grid_get_sort_by_activation (LensFeatureGrid *self);
void          lens_feature_grid_set_sort_by_activation (LensFeatureGrid *self,
                                                        gboolean         by_activation);
/* The selected cell's position in the grid as sorted (-1: none), and the
 * channel shown at a position (-1: none). */
int           lens_feature_grid_get_position   (LensFeatureGrid *self);
int           lens_feature_grid_get_channel_at (LensFeatureGrid *self,
                                                guint            position);
/* Moves the selection by delta cells in the order shown. */
void          lens_feature_grid_step           (LensFeatureGrid *self,
                                                int              delta);
void          lens_feature_grid_scroll_to_selected (LensFeatureGrid *self);

G_END_DECLS
