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
/* Zoom: 1 = the image fits the widget; the image pixel under (wx, wy)
 * stays there.  Overlays, box and square follow the same transform. */
double      lens_image_canvas_get_zoom   (LensImageCanvas *self);
void        lens_image_canvas_set_zoom   (LensImageCanvas *self,
                                          double           zoom);
void        lens_image_canvas_zoom_at    (LensImageCanvas *self,
                                          double           zoom,
                                          double           wx,
                                          double           wy);
/* Screen pixels per image pixel as drawn (0 without an image). */
double      lens_image_canvas_get_scale  (LensImageCanvas *self);
/* Zoom out / fit / zoom in buttons in the top-right corner (the actions
 * canvas.zoom-out, canvas.zoom-reset, canvas.zoom-in exist anyway).  They
 * are revealed only while the pointer moves over the canvas with no button
 * held, or while they have the keyboard focus. */
gboolean    lens_image_canvas_get_show_zoom_controls (LensImageCanvas *self);
void        lens_image_canvas_set_show_zoom_controls (LensImageCanvas *self,
                                                      gboolean         show);
gboolean    lens_image_canvas_get_zoom_controls_revealed (LensImageCanvas *self);
/* The box of buttons (borrowed; NULL unless shown) */
GtkWidget  *lens_image_canvas_get_zoom_controls (LensImageCanvas *self);
/* Widget coordinates -> image pixels (FALSE without an image). */
gboolean    lens_image_canvas_to_image   (LensImageCanvas *self,
                                          double           wx,
                                          double           wy,
                                          double          *ix,
                                          double          *iy);

G_END_DECLS
