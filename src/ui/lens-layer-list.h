/* lens-layer-list.h: the model's layers as a foldable tree (left pane) */
#pragma once

#include <gtk/gtk.h>

#include "lens-document.h"

G_BEGIN_DECLS

#define LENS_TYPE_LAYER_LIST (lens_layer_list_get_type ())
G_DECLARE_FINAL_TYPE (LensLayerList, lens_layer_list, LENS, LAYER_LIST, GtkWidget)

LensDocument     *lens_layer_list_get_document   (LensLayerList *self);
void              lens_layer_list_set_document   (LensLayerList *self,
                                                  LensDocument  *document);
GtkListView      *lens_layer_list_get_list_view  (LensLayerList *self);
/* The rows shown: GtkTreeListRows of LensLayerItems (layers and blocks). */
GtkTreeListModel *lens_layer_list_get_tree       (LensLayerList *self);
/* The mean activation of `layer` for the current image (NAN: no image
 * run, or the layer's output is not float); the list takes every layer's
 * mean from the trace as soon as the image has run. */
double            lens_layer_list_get_layer_mean (LensLayerList *self,
                                                  guint          layer);
void              lens_layer_list_set_layer_mean (LensLayerList *self,
                                                  guint          layer,
                                                  double         mean);

G_END_DECLS
