/* lens-window-occlusion.c: the Occlusion view — a gray square dragged over
 * the input, live predictions, and the heat map of a full sweep
 *
 * Every position goes to the engine thread as a query; the document keeps
 * only the newest one while another runs, so dragging never queues up
 * work.  Heat maps are coloured here (they are small: one cell a
 * position) and drawn over the input by the canvas. */
#define G_LOG_DOMAIN "lens-window-occlusion"

#include "lens-config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "lens-colormap.h"
#include "lens-frame-trace.h"
#include "lens-window-private.h"

typedef enum
{
  HEAT_PROBABILITY,
  HEAT_CLASS,
  HEAT_FEATURE,
} HeatKind;

/* Distinct colours for the most-probable-class map (Adwaita palette). */
static const guint32 class_colors[] = {
  0x3584e4, 0xe66100, 0x2ec27e, 0xc01c28, 0x9141ac,
  0xf5c211, 0x865e3c, 0x1c71d8, 0x63452c, 0xdc8add,
  0x26a269, 0xff7800, 0x813d9c, 0x99c1f1, 0x5e5c64,
};

guint32
lens_window_class_color (int klass)
{
  return class_colors[(guint) klass % G_N_ELEMENTS (class_colors)];
}

/* Input side lengths, or FALSE without an image. */
static gboolean
input_size (LensWindow *self,
            int        *width,
            int        *height)
{
  LensTraceInfo *trace = lens_document_get_trace (self->document);

  if (trace == NULL || trace->input == NULL)
    return FALSE;
  *width = lens_pixels_get_width (trace->input);
  *height = lens_pixels_get_height (trace->input);
  return TRUE;
}

/* Puts the square at (x, y) (clamped), shows it and asks the engine. */
static void
place_square (LensWindow *self,
              double      x,
              double      y)
{
  int size = lens_document_get_occluder_size (self->document);
  graphene_rect_t square;
  int width, height;

  if (!input_size (self, &width, &height))
    {
      /* no image yet (a model is loading): the document keeps the newest
       * position for the trace to come */
      lens_image_canvas_set_square (self->occlusion_canvas, NULL);
      self->occ_x = round (x);
      self->occ_y = round (y);
      lens_document_occlude_at (self->document, (int) self->occ_x, (int) self->occ_y);
      return;
    }
  self->occ_x = CLAMP (round (x), 0, MAX (width - size, 0));
  self->occ_y = CLAMP (round (y), 0, MAX (height - size, 0));
  graphene_rect_init (&square, self->occ_x, self->occ_y, size, size);
  lens_image_canvas_set_square (self->occlusion_canvas, &square);
  lens_document_occlude_at (self->document, (int) self->occ_x, (int) self->occ_y);
}

void
lens_window_set_occluder (LensWindow *self,
                          double      x,
                          double      y)
{
  g_return_if_fail (LENS_IS_WINDOW (self));
  place_square (self, x, y);
}

void
lens_window_move_occluder (LensWindow *self,
                           double      dx,
                           double      dy)
{
  g_return_if_fail (LENS_IS_WINDOW (self));
  place_square (self, self->occ_x + dx, self->occ_y + dy);
}

static void
on_drag_begin (LensWindow     *self,
               double          x,
               double          y,
               GtkGestureDrag *gesture)
{
  int size = lens_document_get_occluder_size (self->document);
  double ix, iy;

  gtk_widget_grab_focus (GTK_WIDGET (self->occlusion_canvas));
  if (!lens_image_canvas_to_image (self->occlusion_canvas, x, y, &ix, &iy))
    return;
  /* grabbing the square keeps the offset; elsewhere it jumps under the
   * pointer */
  if (ix < self->occ_x || iy < self->occ_y || ix >= self->occ_x + size || iy >= self->occ_y + size)
    place_square (self, ix - size / 2.0, iy - size / 2.0);
  self->drag_x = self->occ_x;
  self->drag_y = self->occ_y;
}

static void
on_drag_update (LensWindow     *self,
                double          dx,
                double          dy,
                GtkGestureDrag *gesture)
{
  gint64 start = g_get_monotonic_time ();
  double x0, y0, x1, y1;

  if (!lens_image_canvas_to_image (self->occlusion_canvas, 0, 0, &x0, &y0) ||
      !lens_image_canvas_to_image (self->occlusion_canvas, dx, dy, &x1, &y1))
    return;
  place_square (self, self->drag_x + (x1 - x0), self->drag_y + (y1 - y0));
  lens_frame_trace_mark (self, "drag", start);
}

static gboolean
on_scroll (LensWindow               *self,
           double                    dx,
           double                    dy,
           GtkEventControllerScroll *controller)
{
  double size = gtk_adjustment_get_value (self->size_adjustment);

  if (dy == 0)
    return FALSE;
  gtk_adjustment_set_value (self->size_adjustment, size + (dy < 0 ? 1 : -1));
  return TRUE;
}

static void
on_size_changed (LensWindow    *self,
                 GtkAdjustment *adjustment)
{
  if (self->updating_spins)
    return;
  g_object_set (self->document, "occluder-size", (int) gtk_adjustment_get_value (adjustment),
                NULL);
}

static void
on_stride_changed (LensWindow    *self,
                   GtkAdjustment *adjustment)
{
  if (self->updating_spins)
    return;
  g_object_set (self->document, "occluder-stride", (int) gtk_adjustment_get_value (adjustment),
                NULL);
}

/* The spin buttons show the sizes in use (the defaults depend on the
 * model's input). */
static void
update_spins (LensWindow *self)
{
  int width = 1, height = 1, stride, size;

  input_size (self, &width, &height);
  size = lens_document_get_occluder_size (self->document);
  g_object_get (self->document, "occluder-stride", &stride, NULL);
  if (stride <= 0)
    stride = MAX (1, size / 4);

  self->updating_spins = TRUE;
  gtk_adjustment_set_upper (self->size_adjustment, MAX (MIN (width, height), 1));
  gtk_adjustment_set_upper (self->stride_adjustment, MAX (MAX (width, height), 1));
  gtk_adjustment_set_value (self->size_adjustment, size);
  gtk_adjustment_set_value (self->stride_adjustment, stride);
  self->updating_spins = FALSE;
}

static void
update_query (LensWindow *self)
{
  LensOcclusionQuery *q = lens_document_get_query (self->document);
  g_autofree char *target = NULL;
  g_autofree char *feature = NULL;
  g_autofree char *name = NULL;
  LensModelInfo *model = lens_document_get_model (self->document);
  gint64 start;

  if (q == NULL)
    {
      lens_predictions_show (self->occlusion_predictions, NULL, 0,
                             _("Drag the gray square over the image to see how the prediction changes."));
      gtk_label_set_text (self->target_label, "");
      gtk_label_set_text (self->feature_label, "");
      return;
    }

  start = g_get_monotonic_time ();
  lens_predictions_show (self->occlusion_predictions, q->predictions, q->n_predictions, NULL);
  lens_frame_trace_mark (self, "query-predictions", start);
  name = q->target_label != NULL ? g_strdup (q->target_label)
                                 : g_strdup_printf (_("class %u"), (guint) q->target_class);
  /* TRANSLATORS: target class, its probability now and without the occluder */
  target = g_strdup_printf (_("Target %s: %.1f %% (%.1f %% unoccluded)"), name,
                            100.0 * q->point.prob, 100.0 * q->clean.prob);
  gtk_label_set_text (self->target_label, target);

  if (q->layer_value >= 0 && model != NULL)
    {
      double change = q->clean.feature != 0
                        ? 100.0 * (q->point.feature - q->clean.feature) / fabs (q->clean.feature)
                        : 0.0;

      /* TRANSLATORS: tracked feature map: channel, total activation, change */
      feature = g_strdup_printf (_("Feature map %d: total activation %.4g (%+.1f %%)"),
                                 q->channel, q->point.feature, change);
    }
  gtk_label_set_text (self->feature_label, feature != NULL ? feature : "");
}

static float *
sweep_values (LensOcclusionSweep *sweep,
              HeatKind            kind)
{
  return kind == HEAT_FEATURE ? sweep->map->feature : sweep->map->prob;
}

LensPixels *
lens_window_get_heat_map (LensWindow *self)
{
  g_return_val_if_fail (LENS_IS_WINDOW (self), NULL);
  return lens_image_canvas_get_overlay (self->occlusion_canvas);
}

static void
update_sweep (LensWindow *self)
{
  LensOcclusionSweep *sweep = lens_document_get_sweep (self->document);
  HeatKind kind = (HeatKind) gtk_drop_down_get_selected (self->heat_kind);
  g_autoptr(LensPixels) pixels = NULL;
  g_autofree guint8 *rgb = NULL;
  graphene_rect_t area;
  LensOcclusionMap *map;
  int n;

  g_array_set_size (self->legend_classes, 0);
  if (sweep == NULL)
    {
      lens_image_canvas_set_overlay (self->occlusion_canvas, NULL, NULL, 0);
      gtk_widget_queue_draw (GTK_WIDGET (self->legend_area));
      return;
    }

  map = sweep->map;
  n = map->n_x * map->n_y;
  if (kind == HEAT_CLASS)
    {
      rgb = g_malloc ((gsize) n * 3);
      for (int i = 0; i < n; i++)
        {
          guint32 c = lens_window_class_color (map->top_class[i]);
          gboolean seen = FALSE;

          rgb[i * 3] = c >> 16;
          rgb[i * 3 + 1] = (c >> 8) & 0xff;
          rgb[i * 3 + 2] = c & 0xff;
          for (guint k = 0; k < self->legend_classes->len && !seen; k++)
            seen = g_array_index (self->legend_classes, int, k) == map->top_class[i];
          if (!seen)
            g_array_append_val (self->legend_classes, map->top_class[i]);
        }
    }
  else
    {
      float *v = sweep_values (sweep, kind);
      float lo, hi;

      /* the "colour-map" setting; viridis is the engine's */
      rgb = lens_colormap_apply (lens_window_get_colormap (self), v, n, &lo, &hi);
      self->heat_lo = lo;
      self->heat_hi = hi;
    }
  pixels = lens_pixels_new_from_rgb8 (rgb, map->n_x, map->n_y);

  /* each cell is centred on its square's centre, one stride wide */
  graphene_rect_init (&area, map->xs[0] + map->size / 2.0 - map->stride / 2.0,
                      map->ys[0] + map->size / 2.0 - map->stride / 2.0,
                      (double) map->n_x * map->stride, (double) map->n_y * map->stride);
  lens_image_canvas_set_overlay (self->occlusion_canvas, pixels, &area, 0.7);
  gtk_widget_queue_draw (GTK_WIDGET (self->legend_area));
}

static void
set_source_rgb (cairo_t *cr,
                guint32  c)
{
  cairo_set_source_rgb (cr, (c >> 16) / 255.0, ((c >> 8) & 0xff) / 255.0, (c & 0xff) / 255.0);
}

static void
draw_text (GtkWidget  *widget,
           cairo_t    *cr,
           double      x,
           double      y,
           const char *text,
           double      align)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, text);
  GdkRGBA fg;
  int w, h;

  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x - align * w, y);
  gdk_cairo_set_source_rgba (cr, &fg);
  pango_cairo_show_layout (cr, layout);
}

/* The colour bar (probability, feature) or the class legend. */
static void
draw_legend (GtkDrawingArea *area,
             cairo_t        *cr,
             int             width,
             int             height,
             gpointer        user_data)
{
  LensWindow *self = user_data;
  LensOcclusionSweep *sweep = lens_document_get_sweep (self->document);
  HeatKind kind = (HeatKind) gtk_drop_down_get_selected (self->heat_kind);
  GtkWidget *widget = GTK_WIDGET (area);

  if (sweep == NULL)
    {
      draw_text (widget, cr, width / 2.0, 12,
                 _("Press Sweep to map the whole image"), 0.5);
      return;
    }

  if (kind == HEAT_CLASS)
    {
      double x = 0;

      for (guint i = 0; i < self->legend_classes->len; i++)
        {
          int klass = g_array_index (self->legend_classes, int, i);
          g_autofree char *name = sweep->labels != NULL && (guint) klass < sweep->n_classes
                                    ? g_strdup (sweep->labels[klass])
                                    : g_strdup_printf (_("class %d"), klass);
          g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, name);
          int w, h;

          pango_layout_get_pixel_size (layout, &w, &h);
          if (x + 18 + w > width)
            break;
          cairo_rectangle (cr, x, 4, 14, 14);
          set_source_rgb (cr, lens_window_class_color (klass));
          cairo_fill (cr);
          draw_text (widget, cr, x + 18, 2, name, 0);
          x += 18 + w + 14;
        }
      return;
    }

  {
    /* the colour map from the lowest to the highest value of the map */
    float ramp[256];
    g_autofree guint8 *rgb = NULL;
    g_autofree char *lo = NULL;
    g_autofree char *hi = NULL;
    double bar_w = MAX (width - 2, 1);

    for (int i = 0; i < 256; i++)
      ramp[i] = (float) i;
    rgb = lens_colormap_apply (lens_window_get_colormap (self), ramp, 256, NULL, NULL);
    for (int i = 0; i < 256; i++)
      {
        cairo_rectangle (cr, 1 + bar_w * i / 256.0, 2, bar_w / 256.0 + 0.5, 14);
        cairo_set_source_rgb (cr, rgb[i * 3] / 255.0, rgb[i * 3 + 1] / 255.0,
                              rgb[i * 3 + 2] / 255.0);
        cairo_fill (cr);
      }
    if (kind == HEAT_PROBABILITY)
      {
        lo = g_strdup_printf (_("%.1f %%"), 100.0 * self->heat_lo);
        hi = g_strdup_printf (_("%.1f %%"), 100.0 * self->heat_hi);
      }
    else
      {
        lo = g_strdup_printf ("%.4g", self->heat_lo);
        hi = g_strdup_printf ("%.4g", self->heat_hi);
      }
    draw_text (widget, cr, 1, 20, lo, 0);
    draw_text (widget, cr, width - 1, 20, hi, 1);
    draw_text (widget, cr, width / 2.0, 20,
               kind == HEAT_PROBABILITY ? _("probability of the target class")
                                        : _("total activation of the feature map"), 0.5);
  }
}

static void
on_heat_kind_changed (LensWindow *self)
{
  update_sweep (self);
}

static void
on_view_changed (LensWindow *self)
{
  int width, height;

  if (g_strcmp0 (adw_view_stack_get_visible_child_name (self->view_stack), "occlusion") == 0 &&
      lens_document_get_query (self->document) == NULL && input_size (self, &width, &height) &&
      !lens_document_get_loading (self->document))
    place_square (self, self->occ_x, self->occ_y);
}

void
lens_window_occlusion_update (LensWindow *self,
                              const char *name)
{
  if (g_str_equal (name, "trace"))
    {
      int width, height, x, y, size = lens_document_get_occluder_size (self->document);

      lens_image_canvas_set_pixels (self->occlusion_canvas,
                                    lens_document_get_trace (self->document)
                                      ? lens_document_get_trace (self->document)->input : NULL);
      update_spins (self);
      /* a position asked for while the image loaded wins over the centre */
      if (!input_size (self, &width, &height))
        lens_image_canvas_set_square (self->occlusion_canvas, NULL);
      else if (lens_document_get_pending_occluder (self->document, &x, &y))
        place_square (self, x, y);
      else
        place_square (self, (width - size) / 2.0, (height - size) / 2.0);
    }
  else if (g_str_equal (name, "occluder-size") || g_str_equal (name, "occluder-stride"))
    {
      int width, height;

      update_spins (self);
      if (g_str_equal (name, "occluder-size") && input_size (self, &width, &height))
        place_square (self, self->occ_x, self->occ_y);
    }
  else if (g_str_equal (name, "selected-channel") || g_str_equal (name, "selected-layer"))
    {
      int x, y;

      /* the tracked feature map follows the selection, at the position
       * asked for last (which may have come from elsewhere than the
       * square, e.g. the keyboard or a caller of the document) */
      if (lens_document_get_query (self->document) != NULL)
        {
          if (lens_document_get_occluder_position (self->document, &x, &y))
            place_square (self, x, y);
          else
            place_square (self, self->occ_x, self->occ_y);
        }
    }
  else if (g_str_equal (name, "query"))
    update_query (self);
  else if (g_str_equal (name, "sweep"))
    update_sweep (self);
  else if (g_str_equal (name, "sweep-progress") || g_str_equal (name, "sweeping"))
    {
      gboolean sweeping = lens_document_get_sweeping (self->document);

      gtk_progress_bar_set_fraction (self->sweep_progress,
                                     lens_document_get_sweep_progress (self->document));
      gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), sweeping);
    }
}

void
lens_window_occlusion_init (LensWindow *self)
{
  GtkGesture *drag;
  GtkEventController *scroll;

  self->legend_classes = g_array_new (FALSE, FALSE, sizeof (int));

  drag = gtk_gesture_drag_new ();
  g_signal_connect_object (drag, "drag-begin", G_CALLBACK (on_drag_begin), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (drag, "drag-update", G_CALLBACK (on_drag_update), self,
                           G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->occlusion_canvas), GTK_EVENT_CONTROLLER (drag));

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL |
                                            GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  g_signal_connect_object (scroll, "scroll", G_CALLBACK (on_scroll), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->occlusion_canvas), scroll);

  g_signal_connect_object (self->size_adjustment, "value-changed", G_CALLBACK (on_size_changed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->stride_adjustment, "value-changed",
                           G_CALLBACK (on_stride_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->heat_kind, "notify::selected", G_CALLBACK (on_heat_kind_changed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->view_stack, "notify::visible-child",
                           G_CALLBACK (on_view_changed), self, G_CONNECT_SWAPPED);
  gtk_drawing_area_set_draw_func (self->legend_area, draw_legend, self, NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), FALSE);
  update_query (self);
}
