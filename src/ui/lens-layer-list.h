/* lens-layer-list.h: the model's layers (left pane) */
#pragma once

#include <gtk/gtk.h>

#include "lens-document.h"

G_BEGIN_DECLS

#define LENS_TYPE_LAYER_LIST (lens_layer_list_get_type ())
G_DECLARE_FINAL_TYPE (LensLayerList, lens_layer_list, LENS, LAYER_LIST, GtkWidget)

LensDocument *lens_layer_list_get_document (LensLayerList *self);
void          lens_layer_list_set_document (LensLayerList *self,
                                            LensDocument  *document);
GtkListView  *lens_layer_list_get_list_view (LensLayerList *self);

G_END_DECLS
