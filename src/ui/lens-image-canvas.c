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
