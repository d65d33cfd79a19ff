/* lens-channel-cell.c: one cell of the feature grid
 *
 * A single widget that draws the thumbnail and the channel index under it.
 * GtkGridView (4.8) creates the cells for hundreds of items at once when a
 * layer's channels arrive, and a box + picture + label per cell made that
 * take a quarter of a second for 1024 channels; one widget is a fraction. */
#define G_LOG_DOMAIN "lens-channel-cell"

#include "lens-config.h"

#include "lens-channel-cell.h"

#define LABEL_GAP 4

struct _LensChannelCell
{
  GtkWidget    parent_instance;

  /* owned */
  GdkTexture  *texture;
  char        *label;
  PangoLayout *layout;
};

G_DEFINE_FINAL_TYPE (LensChannelCell, lens_channel_cell, GTK_TYPE_WIDGET)

static void
lens_channel_cell_measure (GtkWidget      *widget,
                           GtkOrientation  orientation,
                           int             for_size,
                           int            *minimum,
                           int            *natural,
                           int            *minimum_baseline,
                           int            *natural_baseline)
{
  LensChannelCell *self = LENS_CHANNEL_CELL (widget);
  int tw = 0, th = 0, lw = 0, lh = 0;

  if (self->texture != NULL)
    {
      tw = gdk_texture_get_width (self->texture);
      th = gdk_texture_get_height (self->texture);
    }
  pango_layout_get_pixel_size (self->layout, &lw, &lh);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    *minimum = *natural = MAX (tw, lw);
  else
    *minimum = *natural = th + LABEL_GAP + lh;
}

static void
lens_channel_cell_snapshot (GtkWidget   *widget,
                            GtkSnapshot *snapshot)
{
  LensChannelCell *self = LENS_CHANNEL_CELL (widget);
  int width = gtk_widget_get_width (widget);
  int tw = 0, th = 0, lw, lh;
  GdkRGBA color;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &color);
  G_GNUC_END_IGNORE_DEPRECATIONS

  if (self->texture != NULL)
    {
      graphene_rect_t rect;
      GskRoundedRect frame;
      GdkRGBA line = color;
      float x;

      tw = gdk_texture_get_width (self->texture);
      th = gdk_texture_get_height (self->texture);
      x = (width - tw) / 2;
      graphene_rect_init (&rect, x, 0, tw, th);
      gtk_snapshot_append_texture (snapshot, self->texture, &rect);

      /* a hairline so that an all-black map is still seen as a map */
      line.alpha *= 0.15f;
      gsk_rounded_rect_init_from_rect (&frame, &GRAPHENE_RECT_INIT (x - 1, -1, tw + 2, th + 2), 0);
      gtk_snapshot_append_border (snapshot, &frame, (float[4]) { 1, 1, 1, 1 },
                                  (GdkRGBA[4]) { line, line, line, line });
    }

  pango_layout_get_pixel_size (self->layout, &lw, &lh);
  color.alpha *= 0.55f;
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT ((width - lw) / 2, th + LABEL_GAP));
  gtk_snapshot_append_layout (snapshot, self->layout, &color);
  gtk_snapshot_restore (snapshot);
}

static void
lens_channel_cell_css_changed (GtkWidget         *widget,
                               GtkCssStyleChange *change)
{
  LensChannelCell *self = LENS_CHANNEL_CELL (widget);

  GTK_WIDGET_CLASS (lens_channel_cell_parent_class)->css_changed (widget, change);
  /* the font may have changed */
  pango_layout_context_changed (self->layout);
  gtk_widget_queue_resize (widget);
}

void
lens_channel_cell_set (LensChannelCell *self,
                       GdkTexture      *texture,
                       const char      *label)
{
  g_return_if_fail (LENS_IS_CHANNEL_CELL (self));

  g_set_object (&self->texture, texture);
  g_free (self->label);
  self->label = g_strdup (label ? label : "");
  pango_layout_set_text (self->layout, self->label, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  self->label, -1);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

const char *
lens_channel_cell_get_label (LensChannelCell *self)
{
  g_return_val_if_fail (LENS_IS_CHANNEL_CELL (self), NULL);
  return self->label;
}

static void
lens_channel_cell_finalize (GObject *object)
{
  LensChannelCell *self = LENS_CHANNEL_CELL (object);

  g_clear_object (&self->texture);
  g_clear_object (&self->layout);
  g_free (self->label);

  G_OBJECT_CLASS (lens_channel_cell_parent_class)->finalize (object);
}

static void
lens_channel_cell_class_init (LensChannelCellClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = lens_channel_cell_finalize;
  widget_class->measure = lens_channel_cell_measure;
  widget_class->snapshot = lens_channel_cell_snapshot;
  widget_class->css_changed = lens_channel_cell_css_changed;

  gtk_widget_class_set_css_name (widget_class, "lens-channel-cell");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
lens_channel_cell_init (LensChannelCell *self)
{
  self->label = g_strdup ("");
  self->layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), NULL);
}

GtkWidget *
lens_channel_cell_new (void)
{
  return g_object_new (LENS_TYPE_CHANNEL_CELL, NULL);
}
