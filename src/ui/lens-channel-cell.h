/* lens-channel-cell.h: one cell of the feature grid (thumbnail + index) */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LENS_TYPE_CHANNEL_CELL (lens_channel_cell_get_type ())
G_DECLARE_FINAL_TYPE (LensChannelCell, lens_channel_cell, LENS, CHANNEL_CELL, GtkWidget)

GtkWidget  *lens_channel_cell_new       (void);
/* texture may be NULL (an unbound cell). */
void        lens_channel_cell_set       (LensChannelCell *self,
                                         GdkTexture      *texture,
                                         const char      *label);
const char *lens_channel_cell_get_label (LensChannelCell *self);

G_END_DECLS
