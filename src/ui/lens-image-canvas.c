/* lens-image-canvas.c: an image scaled to fit, drawn with cairo
 *
 * Network inputs are often tiny (28x28, 32x32): those are enlarged with
 * nearest-neighbour sampling so that every input pixel stays a crisp
 * square; larger images are filtered.  The canvas has no template: it
 * has no children, only drawing. */
#define G_LOG_DOMAIN "lens-image-canvas"

#include "lens-config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "lens-image-canvas.h"
#include "lens-items.h"

/* Enlarged by this much or more, an image is drawn with crisp squares. */
#define NEAREST_FROM_SCALE 1.5

struct _LensImageCanvas
{
  GtkWidget        parent_instance;

  /* owned */
  LensPixels      *pixels;
  cairo_surface_t *surface;
  gboolean         has_box, has_square;
  graphene_rect_t  box, square, overlay_area;
  LensPixels      *overlay;
  cairo_surface_t *overlay_surface;
  double           overlay_alpha;
};

enum {
  PROP_0,
  PROP_PIXELS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (LensImageCanvas, lens_image_canvas, GTK_TYPE_WIDGET)

gboolean
lens_image_canvas_get_image_rect (LensImageCanvas *self,
                                  graphene_rect_t *rect)
{
  int width, height, iw, ih;
  double scale;

  g_return_val_if_fail (LENS_IS_IMAGE_CANVAS (self), FALSE);

  if (self->pixels == NULL)
    return FALSE;

  width = gtk_widget_get_width (GTK_WIDGET (self));
  height = gtk_widget_get_height (GTK_WIDGET (self));
  iw = lens_pixels_get_width (self->pixels);
  ih = lens_pixels_get_height (self->pixels);
  scale = MIN ((double) width / iw, (double) height / ih);
  /* whole-pixel squares read better than 2.37-pixel ones */
  if (scale >= 2.0)
    scale = floor (scale);

  graphene_rect_init (rect, floor ((width - iw * scale) / 2), floor ((height - ih * scale) / 2),
                      iw * scale, ih * scale);
  return TRUE;
}

static void
lens_image_canvas_snapshot (GtkWidget   *widget,
                            GtkSnapshot *snapshot)
{
  LensImageCanvas *self = LENS_IMAGE_CANVAS (widget);
  graphene_rect_t rect;
  cairo_t *cr;
  double scale;

  if (!lens_image_canvas_get_image_rect (self, &rect) || rect.size.width < 1)
    return;

  scale = rect.size.width / lens_pixels_get_width (self->pixels);
  cr = gtk_snapshot_append_cairo (snapshot, &rect);
  cairo_translate (cr, rect.origin.x, rect.origin.y);
  cairo_scale (cr, scale, scale);
  cairo_set_source_surface (cr, self->surface, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr),
                            scale >= NEAREST_FROM_SCALE ? CAIRO_FILTER_NEAREST
                                                        : CAIRO_FILTER_GOOD);
  cairo_paint (cr);

  if (self->overlay_surface != NULL && self->overlay_area.size.width > 0)
    {
      graphene_rect_t *a = &self->overlay_area;

      cairo_save (cr);
      cairo_rectangle (cr, 0, 0, lens_pixels_get_width (self->pixels),
                       lens_pixels_get_height (self->pixels));
      cairo_clip (cr);
      cairo_translate (cr, a->origin.x, a->origin.y);
      cairo_scale (cr, a->size.width / lens_pixels_get_width (self->overlay),
                   a->size.height / lens_pixels_get_height (self->overlay));
      cairo_set_source_surface (cr, self->overlay_surface, 0, 0);
      cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
      cairo_paint_with_alpha (cr, self->overlay_alpha);
      cairo_restore (cr);
    }

  if (self->has_square)
    {
      /* the occluder, as the network sees it: a flat gray patch */
      cairo_rectangle (cr, self->square.origin.x, self->square.origin.y,
                       self->square.size.width, self->square.size.height);
      cairo_set_source_rgb (cr, 0.5, 0.5, 0.5);
      cairo_fill_preserve (cr);
      cairo_set_line_width (cr, 1.0 / scale);
      cairo_set_source_rgba (cr, 1, 1, 1, 0.8);
      cairo_stroke (cr);
    }

  if (self->has_box)
    {
      /* the receptive field, drawn just inside its pixels */
      double lw = 2.0 / scale;

      cairo_rectangle (cr, self->box.origin.x + lw / 2, self->box.origin.y + lw / 2,
                       MAX (self->box.size.width - lw, 0), MAX (self->box.size.height - lw, 0));
      cairo_set_line_width (cr, lw);
      cairo_set_source_rgb (cr, 0.96, 0.76, 0.07);   /* Adwaita yellow 3 */
      cairo_stroke (cr);
    }
  cairo_destroy (cr);
}

static void
lens_image_canvas_measure (GtkWidget      *widget,
                           GtkOrientation  orientation,
                           int             for_size,
                           int            *minimum,
                           int            *natural,
                           int            *minimum_baseline,
                           int            *natural_baseline)
{
  /* any size will do; the image follows the allocation */
  *minimum = 32;
  *natural = 200;
}

void
lens_image_canvas_set_pixels (LensImageCanvas *self,
                              LensPixels      *pixels)
{
  g_return_if_fail (LENS_IS_IMAGE_CANVAS (self));

  if (self->pixels == pixels)
    return;

  g_clear_pointer (&self->surface, cairo_surface_destroy);
  g_clear_pointer (&self->pixels, lens_pixels_unref);
  if (pixels != NULL)
    {
      self->pixels = lens_pixels_ref (pixels);
      self->surface = lens_pixels_create_surface (pixels);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PIXELS]);
}

void
lens_image_canvas_set_box (LensImageCanvas       *self,
                           const graphene_rect_t *box)
{
  g_return_if_fail (LENS_IS_IMAGE_CANVAS (self));

  self->has_box = box != NULL;
  if (box != NULL)
    self->box = *box;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
lens_image_canvas_set_square (LensImageCanvas       *self,
                              const graphene_rect_t *square)
{
  g_return_if_fail (LENS_IS_IMAGE_CANVAS (self));

  self->has_square = square != NULL;
  if (square != NULL)
    self->square = *square;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
lens_image_canvas_get_square (LensImageCanvas *self,
                              graphene_rect_t *square)
{
  g_return_val_if_fail (LENS_IS_IMAGE_CANVAS (self), FALSE);

  if (self->has_square && square != NULL)
    *square = self->square;
  return self->has_square;
}

void
lens_image_canvas_set_overlay (LensImageCanvas       *self,
                               LensPixels            *overlay,
                               const graphene_rect_t *area,
                               double                 alpha)
{
  g_return_if_fail (LENS_IS_IMAGE_CANVAS (self));

  g_clear_pointer (&self->overlay_surface, cairo_surface_destroy);
  g_clear_pointer (&self->overlay, lens_pixels_unref);
  if (overlay != NULL && area != NULL)
    {
      self->overlay = lens_pixels_ref (overlay);
      self->overlay_surface = lens_pixels_create_surface (overlay);
      self->overlay_area = *area;
      self->overlay_alpha = alpha;
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

LensPixels *
lens_image_canvas_get_overlay (LensImageCanvas *self)
{
  g_return_val_if_fail (LENS_IS_IMAGE_CANVAS (self), NULL);
  return self->overlay;
}

gboolean
lens_image_canvas_to_image (LensImageCanvas *self,
                            double           wx,
                            double           wy,
                            double          *ix,
                            double          *iy)
{
  graphene_rect_t rect;
  double scale;

  g_return_val_if_fail (LENS_IS_IMAGE_CANVAS (self), FALSE);

  if (!lens_image_canvas_get_image_rect (self, &rect) || rect.size.width < 1)
    return FALSE;
  scale = rect.size.width / lens_pixels_get_width (self->pixels);
  *ix = (wx - rect.origin.x) / scale;
  *iy = (wy - rect.origin.y) / scale;
  return TRUE;
}

LensPixels *
lens_image_canvas_get_pixels (LensImageCanvas *self)
{
  g_return_val_if_fail (LENS_IS_IMAGE_CANVAS (self), NULL);
  return self->pixels;
}

static void
lens_image_canvas_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  LensImageCanvas *self = LENS_IMAGE_CANVAS (object);

  switch (prop_id)
    {
    case PROP_PIXELS:
      g_value_set_boxed (value, self->pixels);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lens_image_canvas_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  LensImageCanvas *self = LENS_IMAGE_CANVAS (object);

  switch (prop_id)
    {
    case PROP_PIXELS:
      lens_image_canvas_set_pixels (self, g_value_get_boxed (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lens_image_canvas_finalize (GObject *object)
{
  LensImageCanvas *self = LENS_IMAGE_CANVAS (object);

  g_clear_pointer (&self->surface, cairo_surface_destroy);
  g_clear_pointer (&self->pixels, lens_pixels_unref);
  g_clear_pointer (&self->overlay_surface, cairo_surface_destroy);
  g_clear_pointer (&self->overlay, lens_pixels_unref);

  G_OBJECT_CLASS (lens_image_canvas_parent_class)->finalize (object);
}

static void
lens_image_canvas_class_init (LensImageCanvasClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = lens_image_canvas_finalize;
  object_class->get_property = lens_image_canvas_get_property;
  object_class->set_property = lens_image_canvas_set_property;
  widget_class->snapshot = lens_image_canvas_snapshot;
  widget_class->measure = lens_image_canvas_measure;

  properties[PROP_PIXELS] =
    g_param_spec_boxed ("pixels", NULL, NULL, LENS_TYPE_PIXELS,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "lens-image-canvas");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
lens_image_canvas_init (LensImageCanvas *self)
{
}

GtkWidget *
lens_image_canvas_new (void)
{
  return g_object_new (LENS_TYPE_IMAGE_CANVAS, NULL);
}
