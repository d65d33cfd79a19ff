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

/* An outline in image pixels [x0, x1) x [y0, y1); NULL hides it. */
void        lens_image_canvas_set_box    (LensImageCanvas *self,
                                          const graphene_rect_t *box);
/* A filled gray square in image pixels; NULL hides it. */
void        lens_image_canvas_set_square (LensImageCanvas *self,
                                          const graphene_rect_t *square);
gboolean    lens_image_canvas_get_square (LensImageCanvas *self,
                                          graphene_rect_t *square);
/* An image drawn over `area` (image pixels) with `alpha`; NULL hides it. */
void        lens_image_canvas_set_overlay (LensImageCanvas       *self,
                                           LensPixels            *overlay,
                                           const graphene_rect_t *area,
                                           double                 alpha);
LensPixels *lens_image_canvas_get_overlay (LensImageCanvas *self);
/* Widget coordinates -> image pixels (FALSE without an image). */
gboolean    lens_image_canvas_to_image   (LensImageCanvas *self,
                                          double           wx,
                                          double           wy,
                                          double          *ix,
                                          double          *iy);

G_END_DECLS
