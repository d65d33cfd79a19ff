/* lens-image-canvas.c: an image scaled to fit, drawn with cairo
 *
 * Network inputs are often tiny (28x28, 32x32): those are enlarged with
 * nearest-neighbour sampling so that every input pixel stays a crisp
 * square; larger images are filtered.
 *
 * Zoom multiplies the fitted scale (1 = the whole image fits) around a
 * centre point in image pixels; overlays, the occluder and the box are
 * drawn in image pixels under the same transform, so they stay aligned
 * at any zoom.  Ctrl+scroll zooms around the pointer, a middle-button
 * drag pans, and optional buttons (zoom out, fit, zoom in) float in the
 * top-right corner.  Like an image viewer's overlay controls they only
 * show while the pointer moves over the canvas (not while a button is
 * held, which would be a drag of the occluder) or while they have the
 * keyboard focus, so they never cover the picture being looked at;
 * hidden, they are transparent and let the pointer through but stay in
 * the focus chain and the accessibility tree.  The canvas has no
 * template. */
#define G_LOG_DOMAIN "lens-image-canvas"

#include "lens-config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "lens-image-canvas.h"
#include "lens-items.h"

/* Enlarged by this much or more, an image is drawn with crisp squares. */
#define NEAREST_FROM_SCALE 1.5
#define ZOOM_STEP 1.25
#define ZOOM_MAX 32.0
#define CONTROLS_MARGIN 6
/* how long the controls stay after the pointer stopped, ms */
#define CONTROLS_LINGER_MS 2000

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
  GskRenderNode   *image_node;      /* image + overlay as last drawn */
  graphene_rect_t  node_rect, node_visible;   /* ... for this rect */
  double           overlay_alpha;

  /* zoom */
  double           zoom;            /* 1: fit */
  double           cx, cy;          /* the centre shown, image pixels; NAN: the middle */
  double           pan_cx, pan_cy;  /* the centre when a pan began */
  GtkWidget       *controls;        /* zoom buttons, NULL unless shown */
  gboolean         controls_shown;  /* revealed (else transparent) */
  gboolean         pointer_inside;  /* over the canvas, no button held */
  gboolean         pointer_on_controls;
  gboolean         focus_on_controls;
  guint            linger_id;       /* hides the controls when it fires */
};

enum {
  PROP_0,
  PROP_PIXELS,
  PROP_ZOOM,
  PROP_SHOW_ZOOM_CONTROLS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (LensImageCanvas, lens_image_canvas, GTK_TYPE_WIDGET)

static void lens_image_canvas_update_zoom_actions (LensImageCanvas *self);

/* The image's rectangle in a widget of width x height. */
static gboolean
compute_rect (LensImageCanvas *self,
              int              width,
              int              height,
              graphene_rect_t *rect)
{
  int iw, ih;
  double scale, cx, cy, ox, oy, w, h;

  if (self->pixels == NULL)
    return FALSE;

  iw = lens_pixels_get_width (self->pixels);
  ih = lens_pixels_get_height (self->pixels);
  scale = MIN ((double) width / iw, (double) height / ih);
  /* whole-pixel squares read better than 2.37-pixel ones */
  if (scale >= 2.0)
    scale = floor (scale);
  scale *= self->zoom;
  if (scale >= 2.0)
    scale = floor (scale);

  w = iw * scale;
  h = ih * scale;
  cx = isnan (self->cx) ? iw / 2.0 : self->cx;
  cy = isnan (self->cy) ? ih / 2.0 : self->cy;
  /* centred while it fits, otherwise never showing more than its edge */
  if (w <= width)
    ox = floor ((width - w) / 2);
  else
    ox = floor (CLAMP (width / 2.0 - cx * scale, width - w, 0));
  if (h <= height)
    oy = floor ((height - h) / 2);
  else
    oy = floor (CLAMP (height / 2.0 - cy * scale, height - h, 0));

  graphene_rect_init (rect, ox, oy, w, h);
  return TRUE;
}

gboolean
lens_image_canvas_get_image_rect (LensImageCanvas *self,
                                  graphene_rect_t *rect)
{
  g_return_val_if_fail (LENS_IS_IMAGE_CANVAS (self), FALSE);

  return compute_rect (self, gtk_widget_get_width (GTK_WIDGET (self)),
                       gtk_widget_get_height (GTK_WIDGET (self)), rect);
}

double
lens_image_canvas_get_scale (LensImageCanvas *self)
{
  graphene_rect_t rect;

  g_return_val_if_fail (LENS_IS_IMAGE_CANVAS (self), 0.0);

  if (!lens_image_canvas_get_image_rect (self, &rect))
    return 0.0;
  return rect.size.width / lens_pixels_get_width (self->pixels);
}

double
lens_image_canvas_get_zoom (LensImageCanvas *self)
{
  g_return_val_if_fail (LENS_IS_IMAGE_CANVAS (self), 1.0);
  return self->zoom;
}

/* Stores the centre the clamped rectangle really shows, so that the next
 * zoom starts from what is on screen. */
static void
settle_center (LensImageCanvas *self)
{
  graphene_rect_t rect;
  double scale;

  if (!lens_image_canvas_get_image_rect (self, &rect) || rect.size.width <= 0)
    return;
  scale = rect.size.width / lens_pixels_get_width (self->pixels);
  self->cx = (gtk_widget_get_width (GTK_WIDGET (self)) / 2.0 - rect.origin.x) / scale;
  self->cy = (gtk_widget_get_height (GTK_WIDGET (self)) / 2.0 - rect.origin.y) / scale;
}

void
lens_image_canvas_zoom_at (LensImageCanvas *self,
                           double           zoom,
                           double           wx,
                           double           wy)
{
  graphene_rect_t before;
  double ix = 0, iy = 0, scale;
  int width, height;

  g_return_if_fail (LENS_IS_IMAGE_CANVAS (self));

  zoom = CLAMP (zoom, 1.0, ZOOM_MAX);
  if (zoom == self->zoom)
    return;
  width = gtk_widget_get_width (GTK_WIDGET (self));
  height = gtk_widget_get_height (GTK_WIDGET (self));
  if (lens_image_canvas_get_image_rect (self, &before) && before.size.width > 0)
    {
      scale = before.size.width / lens_pixels_get_width (self->pixels);
      ix = (wx - before.origin.x) / scale;
      iy = (wy - before.origin.y) / scale;
    }
  self->zoom = zoom;
  if (zoom == 1.0)
    self->cx = self->cy = NAN;
  else if (self->pixels != NULL)
    {
      graphene_rect_t after;

      /* keep the image pixel under (wx, wy) where it is */
      compute_rect (self, width, height, &after);
      scale = after.size.width / lens_pixels_get_width (self->pixels);
      self->cx = ix + (width / 2.0 - wx) / scale;
      self->cy = iy + (height / 2.0 - wy) / scale;
      settle_center (self);
    }
  lens_image_canvas_update_zoom_actions (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
}

void
lens_image_canvas_set_zoom (LensImageCanvas *self,
                            double           zoom)
{
  g_return_if_fail (LENS_IS_IMAGE_CANVAS (self));

  lens_image_canvas_zoom_at (self, zoom, gtk_widget_get_width (GTK_WIDGET (self)) / 2.0,
                             gtk_widget_get_height (GTK_WIDGET (self)) / 2.0);
}

static void
zoom_in_activated (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  LensImageCanvas *self = LENS_IMAGE_CANVAS (widget);

  lens_image_canvas_set_zoom (self, self->zoom * ZOOM_STEP);
}

static void
zoom_out_activated (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  LensImageCanvas *self = LENS_IMAGE_CANVAS (widget);

  lens_image_canvas_set_zoom (self, self->zoom / ZOOM_STEP);
}

static void
zoom_reset_activated (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  lens_image_canvas_set_zoom (LENS_IMAGE_CANVAS (widget), 1.0);
}

static gboolean
on_scroll (LensImageCanvas          *self,
           double                    dx,
           double                    dy,
           GtkEventControllerScroll *controller)
{
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  GdkEvent *event = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (controller));
  double x, y;

  /* plain scrolling belongs to whoever else listens (occluder size) */
  if ((mods & GDK_CONTROL_MASK) == 0 || self->pixels == NULL || dy == 0)
    return FALSE;
  if (event == NULL || !gdk_event_get_position (event, &x, &y))
    {
      x = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
      y = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
    }
  else
    {
      graphene_point_t p;

      /* the event is in the surface's coordinates */
      if (!gtk_widget_compute_point (GTK_WIDGET (gtk_widget_get_native (GTK_WIDGET (self))),
                                     GTK_WIDGET (self), &GRAPHENE_POINT_INIT (x, y), &p))
        p = GRAPHENE_POINT_INIT (x, y);
      x = p.x;
      y = p.y;
    }
  lens_image_canvas_zoom_at (self, self->zoom * pow (ZOOM_STEP, -dy), x, y);
  return TRUE;
}

static void
on_pan_begin (LensImageCanvas *self,
              double           x,
              double           y)
{
  settle_center (self);
  self->pan_cx = self->cx;
  self->pan_cy = self->cy;
}

static void
on_pan_update (LensImageCanvas *self,
               double           dx,
               double           dy)
{
  double scale = lens_image_canvas_get_scale (self);

  if (scale <= 0 || self->zoom == 1.0)
    return;
  self->cx = self->pan_cx - dx / scale;
  self->cy = self->pan_cy - dy / scale;
  settle_center (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* The image and its overlay, drawn once per size, zoom and content: the
 * node is kept, so a frame in which only the occluder moved neither
 * redraws the picture nor (the renderer diffs the node trees) repaints
 * it on screen. */
static GskRenderNode *
image_node (LensImageCanvas       *self,
            const graphene_rect_t *rect,
            const graphene_rect_t *visible,
            double                 scale)
{
  GtkSnapshot *snapshot;
  cairo_t *cr;

  if (self->image_node != NULL && graphene_rect_equal (&self->node_rect, rect) &&
      graphene_rect_equal (&self->node_visible, visible))
    return self->image_node;

  g_clear_pointer (&self->image_node, gsk_render_node_unref);
  snapshot = gtk_snapshot_new ();
  cr = gtk_snapshot_append_cairo (snapshot, visible);
  cairo_translate (cr, rect->origin.x, rect->origin.y);
  cairo_scale (cr, scale, scale);
  cairo_set_source_surface (cr, self->surface, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr),
                            scale >= NEAREST_FROM_SCALE ? CAIRO_FILTER_NEAREST
                                                        : CAIRO_FILTER_GOOD);
  cairo_paint (cr);

  if (self->overlay_surface != NULL && self->overlay_area.size.width > 0)
    {
      graphene_rect_t *a = &self->overlay_area;

      cairo_rectangle (cr, 0, 0, lens_pixels_get_width (self->pixels),
                       lens_pixels_get_height (self->pixels));
      cairo_clip (cr);
      cairo_translate (cr, a->origin.x, a->origin.y);
      cairo_scale (cr, a->size.width / lens_pixels_get_width (self->overlay),
                   a->size.height / lens_pixels_get_height (self->overlay));
      cairo_set_source_surface (cr, self->overlay_surface, 0, 0);
      cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
      cairo_paint_with_alpha (cr, self->overlay_alpha);
    }
  cairo_destroy (cr);

  self->image_node = gtk_snapshot_free_to_node (snapshot);
  self->node_rect = *rect;
  self->node_visible = *visible;
  return self->image_node;
}

/* A cairo context for drawing in image pixels over `area` (image pixels,
 * grown by `pad` screen pixels), clipped to what is on screen; NULL when
 * none of it is. */
static cairo_t *
begin_mark (GtkSnapshot           *snapshot,
            const graphene_rect_t *rect,
            const graphene_rect_t *visible,
            double                 scale,
            const graphene_rect_t *area,
            double                 pad)
{
  graphene_rect_t bounds, clipped;
  cairo_t *cr;

  graphene_rect_init (&bounds, floor (rect->origin.x + area->origin.x * scale - pad),
                      floor (rect->origin.y + area->origin.y * scale - pad),
                      ceil (area->size.width * scale + 2 * pad + 1),
                      ceil (area->size.height * scale + 2 * pad + 1));
  if (!graphene_rect_intersection (&bounds, visible, &clipped))
    return NULL;
  cr = gtk_snapshot_append_cairo (snapshot, &clipped);
  cairo_translate (cr, rect->origin.x, rect->origin.y);
  cairo_scale (cr, scale, scale);
  return cr;
}

static void
lens_image_canvas_snapshot (GtkWidget   *widget,
                            GtkSnapshot *snapshot)
{
  LensImageCanvas *self = LENS_IMAGE_CANVAS (widget);
  graphene_rect_t rect, visible;
  cairo_t *cr;
  double scale;

  if (!lens_image_canvas_get_image_rect (self, &rect) || rect.size.width < 1)
    return;

  scale = rect.size.width / lens_pixels_get_width (self->pixels);
  /* only the part on screen: a zoomed image can be far larger */
  if (!graphene_rect_intersection (&rect,
                                   &GRAPHENE_RECT_INIT (0, 0, gtk_widget_get_width (widget),
                                                        gtk_widget_get_height (widget)),
                                   &visible))
    return;
  gtk_snapshot_append_node (snapshot, image_node (self, &rect, &visible, scale));

  /* the occluder, as the network sees it: a flat gray patch */
  if (self->has_square &&
      (cr = begin_mark (snapshot, &rect, &visible, scale, &self->square, 1)) != NULL)
    {
      cairo_rectangle (cr, self->square.origin.x, self->square.origin.y,
                       self->square.size.width, self->square.size.height);
      cairo_set_source_rgb (cr, 0.5, 0.5, 0.5);
      cairo_fill_preserve (cr);
      cairo_set_line_width (cr, 1.0 / scale);
      cairo_set_source_rgba (cr, 1, 1, 1, 0.8);
      cairo_stroke (cr);
      cairo_destroy (cr);
    }

  /* the receptive field, drawn just inside its pixels */
  if (self->has_box && (cr = begin_mark (snapshot, &rect, &visible, scale, &self->box, 1)) != NULL)
    {
      double lw = 2.0 / scale;

      cairo_rectangle (cr, self->box.origin.x + lw / 2, self->box.origin.y + lw / 2,
                       MAX (self->box.size.width - lw, 0), MAX (self->box.size.height - lw, 0));
      cairo_set_line_width (cr, lw);
      cairo_set_source_rgb (cr, 0.96, 0.76, 0.07);   /* Adwaita yellow 3 */
      cairo_stroke (cr);
      cairo_destroy (cr);
    }

  if (self->controls != NULL)
    gtk_widget_snapshot_child (widget, self->controls, snapshot);
}

static void
lens_image_canvas_size_allocate (GtkWidget *widget,
                                 int        width,
                                 int        height,
                                 int        baseline)
{
  LensImageCanvas *self = LENS_IMAGE_CANVAS (widget);
  int cw, ch;

  if (self->controls == NULL)
    return;
  gtk_widget_measure (self->controls, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &cw, NULL, NULL);
  gtk_widget_measure (self->controls, GTK_ORIENTATION_VERTICAL, cw, NULL, &ch, NULL, NULL);
  cw = MIN (cw, width);
  ch = MIN (ch, height);
  gtk_widget_size_allocate (self->controls,
                            &(GtkAllocation) { MAX (0, width - cw - CONTROLS_MARGIN),
                                               MIN (CONTROLS_MARGIN, height - ch), cw, ch },
                            -1);
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
  LensImageCanvas *self = LENS_IMAGE_CANVAS (widget);
  int cmin = 0;

  if (self->controls != NULL)
    gtk_widget_measure (self->controls, orientation, -1, &cmin, NULL, NULL, NULL);
  /* any size will do; the image follows the allocation */
  *minimum = MAX (32, cmin);
  *natural = MAX (200, cmin);
}

/* Revealed or not; transparent controls let the pointer through. */
static void
update_controls (LensImageCanvas *self)
{
  gboolean show;

  if (self->controls == NULL)
    return;
  gtk_widget_set_visible (self->controls, self->pixels != NULL);
  show = self->pixels != NULL &&
         (self->pointer_inside || self->pointer_on_controls || self->focus_on_controls);
  if (show == self->controls_shown)
    return;
  self->controls_shown = show;
  gtk_widget_set_opacity (self->controls, show ? 1.0 : 0.0);
  gtk_widget_set_can_target (self->controls, show);
}

static gboolean
on_linger_done (gpointer user_data)
{
  LensImageCanvas *self = user_data;

  self->linger_id = 0;
  self->pointer_inside = FALSE;
  update_controls (self);
  return G_SOURCE_REMOVE;
}

static void
on_pointer_motion (LensImageCanvas          *self,
                   double                    x,
                   double                    y,
                   GtkEventControllerMotion *motion)
{
  GdkModifierType mods;

  if (self->controls == NULL)
    return;
  mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (motion));
  g_clear_handle_id (&self->linger_id, g_source_remove);
  /* a held button is a drag of the occluder or a pan: the whole picture
   * matters then */
  self->pointer_inside = (mods & (GDK_BUTTON1_MASK | GDK_BUTTON2_MASK | GDK_BUTTON3_MASK)) == 0;
  if (self->pointer_inside)
    self->linger_id = g_timeout_add (CONTROLS_LINGER_MS, on_linger_done, self);
  update_controls (self);
}

static void
on_pointer_leave (LensImageCanvas          *self,
                  GtkEventControllerMotion *motion)
{
  g_clear_handle_id (&self->linger_id, g_source_remove);
  self->pointer_inside = FALSE;
  update_controls (self);
}

static void
on_controls_enter (LensImageCanvas          *self,
                   double                    x,
                   double                    y,
                   GtkEventControllerMotion *motion)
{
  self->pointer_on_controls = TRUE;
  update_controls (self);
}

static void
on_controls_leave (LensImageCanvas          *self,
                   GtkEventControllerMotion *motion)
{
  self->pointer_on_controls = FALSE;
  update_controls (self);
}

static void
on_controls_focus (LensImageCanvas         *self,
                   GParamSpec              *pspec,
                   GtkEventControllerFocus *focus)
{
  self->focus_on_controls = gtk_event_controller_focus_contains_focus (focus);
  update_controls (self);
}

gboolean
lens_image_canvas_get_zoom_controls_revealed (LensImageCanvas *self)
{
  g_return_val_if_fail (LENS_IS_IMAGE_CANVAS (self), FALSE);
  return self->controls != NULL && self->controls_shown && gtk_widget_get_visible (self->controls);
}

GtkWidget *
lens_image_canvas_get_zoom_controls (LensImageCanvas *self)
{
  g_return_val_if_fail (LENS_IS_IMAGE_CANVAS (self), NULL);
  return self->controls;
}

static GtkWidget *
zoom_button (const char *icon,
             const char *action,
             const char *tooltip)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_widget_set_focus_on_click (button, FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  tooltip, -1);
  return button;
}

gboolean
lens_image_canvas_get_show_zoom_controls (LensImageCanvas *self)
{
  g_return_val_if_fail (LENS_IS_IMAGE_CANVAS (self), FALSE);
  return self->controls != NULL;
}

void
lens_image_canvas_set_show_zoom_controls (LensImageCanvas *self,
                                          gboolean         show)
{
  g_return_if_fail (LENS_IS_IMAGE_CANVAS (self));

  if (show == (self->controls != NULL))
    return;
  if (show)
    {
      GtkEventController *hover, *focus;

      self->controls = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
      gtk_widget_add_css_class (self->controls, "linked");
      gtk_widget_add_css_class (self->controls, "osd");
      gtk_widget_add_css_class (self->controls, "lens-zoom-controls");
      gtk_box_append (GTK_BOX (self->controls),
                      zoom_button ("zoom-out-symbolic", "canvas.zoom-out", _("Zoom Out")));
      gtk_box_append (GTK_BOX (self->controls),
                      zoom_button ("zoom-fit-best-symbolic", "canvas.zoom-reset", _("Fit to View")));
      gtk_box_append (GTK_BOX (self->controls),
                      zoom_button ("zoom-in-symbolic", "canvas.zoom-in", _("Zoom In")));
      hover = gtk_event_controller_motion_new ();
      g_signal_connect_swapped (hover, "enter", G_CALLBACK (on_controls_enter), self);
      g_signal_connect_swapped (hover, "leave", G_CALLBACK (on_controls_leave), self);
      gtk_widget_add_controller (self->controls, hover);
      focus = gtk_event_controller_focus_new ();
      g_signal_connect_swapped (focus, "notify::contains-focus", G_CALLBACK (on_controls_focus),
                                self);
      gtk_widget_add_controller (self->controls, focus);
      gtk_widget_set_parent (self->controls, GTK_WIDGET (self));
      /* hidden until the pointer comes */
      self->controls_shown = TRUE;
      self->pointer_on_controls = self->focus_on_controls = FALSE;
      update_controls (self);
    }
  else
    {
      g_clear_handle_id (&self->linger_id, g_source_remove);
      g_clear_pointer (&self->controls, gtk_widget_unparent);
    }
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_ZOOM_CONTROLS]);
}

static void
lens_image_canvas_update_zoom_actions (LensImageCanvas *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "canvas.zoom-in",
                                 self->pixels != NULL && self->zoom < ZOOM_MAX);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "canvas.zoom-out",
                                 self->pixels != NULL && self->zoom > 1.0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "canvas.zoom-reset",
                                 self->pixels != NULL && self->zoom > 1.0);
  update_controls (self);
}

void
lens_image_canvas_set_pixels (LensImageCanvas *self,
                              LensPixels      *pixels)
{
  g_return_if_fail (LENS_IS_IMAGE_CANVAS (self));

  if (self->pixels == pixels)
    return;

  g_clear_pointer (&self->image_node, gsk_render_node_unref);
  g_clear_pointer (&self->surface, cairo_surface_destroy);
  g_clear_pointer (&self->pixels, lens_pixels_unref);
  if (pixels != NULL)
    {
      self->pixels = lens_pixels_ref (pixels);
      self->surface = lens_pixels_create_surface (pixels);
    }
  lens_image_canvas_update_zoom_actions (self);
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

  g_clear_pointer (&self->image_node, gsk_render_node_unref);
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
    case PROP_ZOOM:
      g_value_set_double (value, self->zoom);
      break;
    case PROP_SHOW_ZOOM_CONTROLS:
      g_value_set_boolean (value, self->controls != NULL);
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
    case PROP_ZOOM:
      lens_image_canvas_set_zoom (self, g_value_get_double (value));
      break;
    case PROP_SHOW_ZOOM_CONTROLS:
      lens_image_canvas_set_show_zoom_controls (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lens_image_canvas_dispose (GObject *object)
{
  LensImageCanvas *self = LENS_IMAGE_CANVAS (object);

  g_clear_handle_id (&self->linger_id, g_source_remove);
  g_clear_pointer (&self->controls, gtk_widget_unparent);

  G_OBJECT_CLASS (lens_image_canvas_parent_class)->dispose (object);
}

static void
lens_image_canvas_finalize (GObject *object)
{
  LensImageCanvas *self = LENS_IMAGE_CANVAS (object);

  g_clear_pointer (&self->image_node, gsk_render_node_unref);
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

  object_class->dispose = lens_image_canvas_dispose;
  object_class->finalize = lens_image_canvas_finalize;
  object_class->get_property = lens_image_canvas_get_property;
  object_class->set_property = lens_image_canvas_set_property;
  widget_class->snapshot = lens_image_canvas_snapshot;
  widget_class->measure = lens_image_canvas_measure;
  widget_class->size_allocate = lens_image_canvas_size_allocate;

  properties[PROP_PIXELS] =
    g_param_spec_boxed ("pixels", NULL, NULL, LENS_TYPE_PIXELS,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* 1: the image fits; 2: twice that */
  properties[PROP_ZOOM] =
    g_param_spec_double ("zoom", NULL, NULL, 1.0, ZOOM_MAX, 1.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_ZOOM_CONTROLS] =
    g_param_spec_boolean ("show-zoom-controls", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "canvas.zoom-in", NULL, zoom_in_activated);
  gtk_widget_class_install_action (widget_class, "canvas.zoom-out", NULL, zoom_out_activated);
  gtk_widget_class_install_action (widget_class, "canvas.zoom-reset", NULL, zoom_reset_activated);

  gtk_widget_class_set_css_name (widget_class, "lens-image-canvas");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
lens_image_canvas_init (LensImageCanvas *self)
{
  GtkEventController *scroll, *motion;
  GtkGesture *pan;

  self->zoom = 1.0;
  self->cx = self->cy = NAN;

  /* capture: Ctrl+scroll zooms before any handler of the plain wheel */
  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL |
                                            GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  gtk_event_controller_set_propagation_phase (scroll, GTK_PHASE_CAPTURE);
  g_signal_connect_swapped (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);

  pan = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (pan), GDK_BUTTON_MIDDLE);
  g_signal_connect_swapped (pan, "drag-begin", G_CALLBACK (on_pan_begin), self);
  g_signal_connect_swapped (pan, "drag-update", G_CALLBACK (on_pan_update), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (pan));

  motion = gtk_event_controller_motion_new ();
  g_signal_connect_swapped (motion, "motion", G_CALLBACK (on_pointer_motion), self);
  g_signal_connect_swapped (motion, "leave", G_CALLBACK (on_pointer_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  lens_image_canvas_update_zoom_actions (self);
}

GtkWidget *
lens_image_canvas_new (void)
{
  return g_object_new (LENS_TYPE_IMAGE_CANVAS, NULL);
}
