/* lens-items.h: the rows of the window's lists (layers, channels) and the
 * GTypes of the engine client's results */
#pragma once

#include <gtk/gtk.h>

#include "lens-engine-client.h"

G_BEGIN_DECLS

#define LENS_TYPE_MODEL_INFO (lens_model_info_get_type ())
#define LENS_TYPE_TRACE_INFO (lens_trace_info_get_type ())
#define LENS_TYPE_LAYER_MAPS (lens_layer_maps_get_type ())
#define LENS_TYPE_PIXELS     (lens_pixels_get_type ())

GType lens_model_info_get_type (void) G_GNUC_CONST;
GType lens_trace_info_get_type (void) G_GNUC_CONST;
GType lens_layer_maps_get_type (void) G_GNUC_CONST;
GType lens_pixels_get_type     (void) G_GNUC_CONST;

/* "64×55×55": the dims after the batch axis (owned string). */
char       *lens_format_shape        (const LensShape *shape);
/* A GdkTexture over the pixels, without copying them. */
GdkTexture *lens_pixels_to_texture   (LensPixels *pixels);

#define LENS_TYPE_LAYER_ITEM (lens_layer_item_get_type ())
G_DECLARE_FINAL_TYPE (LensLayerItem, lens_layer_item, LENS, LAYER_ITEM, GObject)

LensLayerItem *lens_layer_item_new       (guint                index,
                                          const LensLayerInfo *info);
guint          lens_layer_item_get_index (LensLayerItem *self);
const char    *lens_layer_item_get_name  (LensLayerItem *self);
const char    *lens_layer_item_get_op    (LensLayerItem *self);
const char    *lens_layer_item_get_shape (LensLayerItem *self);
/* A foldable block of rows (e.g. a residual stage): `children` holds
 * LensLayerItems (layers or nested blocks) from `first` to `last`. */
LensLayerItem *lens_layer_item_new_block (const char    *name,
                                          LensLayerItem *first,
                                          LensLayerItem *last,
                                          guint          n_layers,
                                          GListStore    *children);
gboolean       lens_layer_item_is_block  (LensLayerItem *self);
/* The text of the row (NULL: the name); inside a block, the name without
 * the block's prefix. */
void           lens_layer_item_set_label (LensLayerItem *self,
                                          const char    *label);
/* NULL for a layer. */
GListModel    *lens_layer_item_get_children (LensLayerItem *self);
guint          lens_layer_item_get_n_layers (LensLayerItem *self);
/* The mean of the layer's output for the current image (NAN: not known);
 * fraction (0..1) is the length of its bar. */
double         lens_layer_item_get_mean  (LensLayerItem *self);
double         lens_layer_item_get_mean_fraction (LensLayerItem *self);
void           lens_layer_item_set_mean  (LensLayerItem *self,
                                          double         mean,
                                          double         fraction);

#define LENS_TYPE_CHANNEL_ITEM (lens_channel_item_get_type ())
G_DECLARE_FINAL_TYPE (LensChannelItem, lens_channel_item, LENS, CHANNEL_ITEM, GObject)

LensChannelItem *lens_channel_item_new         (LensLayerMaps *maps,
                                                guint          channel);
guint            lens_channel_item_get_index   (LensChannelItem *self);
float            lens_channel_item_get_max     (LensChannelItem *self);
GdkTexture      *lens_channel_item_get_texture (LensChannelItem *self);
LensPixels      *lens_channel_item_get_pixels  (LensChannelItem *self);

G_END_DECLS
