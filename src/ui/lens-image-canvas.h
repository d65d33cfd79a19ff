/* lens-image-canvas.h: an image scaled to fit, drawn with cairo */
#pragma once

#include <gtk/gtk.h>

#include "lens-render.h"

G_BEGIN_DECLS

#define LENS_TYPE_IMAGE_CANVAS (lens_image_canvas_get_type ())
G_DECLARE_FINAL_TYPE (LensImageCanvas, lens_image_canvas, LENS, IMAGE_CANVAS, GtkWidget)

GtkWidget  *lens_image_canvas_new        (void);
LensPixels *lens_image_canvas_get_pixels (LensImageCanvas *self);
void        lens_image_canvas_set_pixels (LensImageCanvas *self,
                                          LensPixels      *pixels);
/* Where the image is drawn inside the widget (FALSE when there is none). */
gboolean    lens_image_canvas_get_image_rect (LensImageCanvas *self,
                                              graphene_rect_t *rect);

G_END_DECLS
