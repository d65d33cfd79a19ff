/* lens-feature-grid.c: the selected layer's feature maps in a virtualised
 * grid; the thumbnails come finished from the engine thread */
#define G_LOG_DOMAIN "lens-feature-grid"

#include "lens-config.h"

#include <glib/gi18n.h>

#include "lens-channel-cell.h"
#include "lens-feature-grid.h"

struct _LensFeatureGrid
{
  GtkWidget     parent_instance;

  /* template widgets */
  GtkStack     *stack;
  GtkGridView  *grid_view;
  GtkLabel     *title_label;
  GtkLabel     *subtitle_label;

  /* owned */
  LensDocument *document;
};

enum {
  PROP_0,
  PROP_DOCUMENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (LensFeatureGrid, lens_feature_grid, GTK_TYPE_WIDGET)

static void
lens_feature_grid_update (LensFeatureGrid *self)
{
  LensModelInfo *model = NULL;
  LensLayerMaps *maps = NULL;
  int layer = -1;
  const char *page;

  if (self->document != NULL)
    {
      model = lens_document_get_model (self->document);
      maps = lens_document_get_maps (self->document);
      layer = lens_document_get_selected_layer (self->document);
    }

  if (model != NULL && layer >= 0 && (guint) layer < model->n_layers)
    {
      const LensLayerInfo *info = &model->layers[layer];
      g_autofree char *shape = lens_format_shape (&info->shape);
      g_autofree char *subtitle = NULL;

      if (maps != NULL && maps->layer == (guint) layer)
        /* TRANSLATORS: op · shape · channel count, e.g. "Conv · 64×55×55 · 64 channels" */
        subtitle = g_strdup_printf (ngettext ("%s · %s · %u channel",
                                              "%s · %s · %u channels", maps->n_channels),
                                    info->op, shape, maps->n_channels);
      else
        subtitle = g_strdup_printf (_("%s · %s"), info->op, shape);
      gtk_label_set_text (self->title_label, info->name[0] ? info->name : info->op);
      gtk_label_set_text (self->subtitle_label, subtitle);
    }
  else
    {
      gtk_label_set_text (self->title_label, _("Feature Maps"));
      gtk_label_set_text (self->subtitle_label, "");
    }

  if (maps != NULL)
    page = "grid";
  else if (self->document != NULL && lens_document_get_busy (self->document))
    page = "loading";
  else
    page = "no-image";
  gtk_stack_set_visible_child_name (self->stack, page);
}

/* Cells are LensChannelCells made in code: GtkGridView 4.8 creates a cell
 * for hundreds of items at once when a layer arrives, and a cell parsed
 * from a builder template (box, picture, label) costs several times more. */
static void
setup_cell (GtkSignalListItemFactory *factory,
            GtkListItem              *list_item,
            gpointer                  user_data)
{
  gtk_list_item_set_child (list_item, lens_channel_cell_new ());
}

static void
bind_cell (GtkSignalListItemFactory *factory,
           GtkListItem              *list_item,
           gpointer                  user_data)
{
  LensChannelItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *cell = gtk_list_item_get_child (list_item);
  g_autofree char *label = g_strdup_printf ("%u", lens_channel_item_get_index (item));
  g_autofree char *tooltip = NULL;

  g_object_get (item, "tooltip", &tooltip, NULL);
  lens_channel_cell_set (LENS_CHANNEL_CELL (cell), lens_channel_item_get_texture (item), label);
  gtk_widget_set_tooltip_text (cell, tooltip);
}

static void
unbind_cell (GtkSignalListItemFactory *factory,
             GtkListItem              *list_item,
             gpointer                  user_data)
{
  lens_channel_cell_set (LENS_CHANNEL_CELL (gtk_list_item_get_child (list_item)), NULL, NULL);
}

const char *
lens_feature_grid_get_page (LensFeatureGrid *self)
{
  g_return_val_if_fail (LENS_IS_FEATURE_GRID (self), NULL);
  return gtk_stack_get_visible_child_name (self->stack);
}

LensDocument *
lens_feature_grid_get_document (LensFeatureGrid *self)
{
  g_return_val_if_fail (LENS_IS_FEATURE_GRID (self), NULL);
  return self->document;
}

void
lens_feature_grid_set_document (LensFeatureGrid *self,
                                LensDocument    *document)
{
  static const char * const watched[] = {
    "notify::model", "notify::maps", "notify::busy", "notify::selected-layer",
  };

  g_return_if_fail (LENS_IS_FEATURE_GRID (self));

  if (self->document == document)
    return;

  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_set_object (&self->document, document);
  gtk_grid_view_set_model (self->grid_view,
                           document ? GTK_SELECTION_MODEL (lens_document_get_channel_selection (document))
                                    : NULL);
  if (document != NULL)
    for (guint i = 0; i < G_N_ELEMENTS (watched); i++)
      g_signal_connect_object (document, watched[i], G_CALLBACK (lens_feature_grid_update),
                               self, G_CONNECT_SWAPPED);
  lens_feature_grid_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
}

GtkGridView *
lens_feature_grid_get_grid_view (LensFeatureGrid *self)
{
  g_return_val_if_fail (LENS_IS_FEATURE_GRID (self), NULL);
  return self->grid_view;
}

static void
lens_feature_grid_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  LensFeatureGrid *self = LENS_FEATURE_GRID (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      g_value_set_object (value, self->document);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lens_feature_grid_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  LensFeatureGrid *self = LENS_FEATURE_GRID (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      lens_feature_grid_set_document (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lens_feature_grid_dispose (GObject *object)
{
  LensFeatureGrid *self = LENS_FEATURE_GRID (object);
  GtkWidget *child;

  gtk_widget_dispose_template (GTK_WIDGET (self), LENS_TYPE_FEATURE_GRID);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->document);

  G_OBJECT_CLASS (lens_feature_grid_parent_class)->dispose (object);
}

static void
lens_feature_grid_class_init (LensFeatureGridClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lens_feature_grid_dispose;
  object_class->get_property = lens_feature_grid_get_property;
  object_class->set_property = lens_feature_grid_set_property;

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL, LENS_TYPE_DOCUMENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/convlens/ConvLens/ui/lens-feature-grid.ui");
  gtk_widget_class_bind_template_child (widget_class, LensFeatureGrid, stack);
  gtk_widget_class_bind_template_child (widget_class, LensFeatureGrid, grid_view);
  gtk_widget_class_bind_template_child (widget_class, LensFeatureGrid, title_label);
  gtk_widget_class_bind_template_child (widget_class, LensFeatureGrid, subtitle_label);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "lens-feature-grid");
}

static void
lens_feature_grid_init (LensFeatureGrid *self)
{
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect (factory, "setup", G_CALLBACK (setup_cell), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cell), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_cell), NULL);
  gtk_grid_view_set_factory (self->grid_view, factory);
}
