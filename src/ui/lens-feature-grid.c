/* lens-feature-grid.c: the selected layer's feature maps in a virtualised
 * grid; the thumbnails come finished from the engine thread
 *
 * The grid shows the document's channels through a GtkSortListModel (by
 * index, or by max activation, strongest first) with its own selection,
 * kept in step with the document's selected channel both ways. */
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
  GtkToggleButton *sort_button;

  /* owned */
  LensDocument       *document;
  GtkSortListModel   *sorted;
  GtkSingleSelection *selection;
  GtkSorter          *by_activation;

  gboolean            sort_by_activation;
  gboolean            syncing;
};

enum {
  PROP_0,
  PROP_DOCUMENT,
  PROP_SORT_BY_ACTIVATION,
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

/* Strongest first; equal maxima keep the index order. */
static int
compare_max (gconstpointer a,
             gconstpointer b,
             gpointer      user_data)
{
  float ma = lens_channel_item_get_max ((LensChannelItem *) a);
  float mb = lens_channel_item_get_max ((LensChannelItem *) b);
  guint ia = lens_channel_item_get_index ((LensChannelItem *) a);
  guint ib = lens_channel_item_get_index ((LensChannelItem *) b);

  if (ma != mb)
    return ma > mb ? GTK_ORDERING_SMALLER : GTK_ORDERING_LARGER;
  return ia < ib ? GTK_ORDERING_SMALLER : ia > ib ? GTK_ORDERING_LARGER : GTK_ORDERING_EQUAL;
}

/* The grid position of `channel` (-1: none). */
static int
lens_feature_grid_find (LensFeatureGrid *self,
                        int              channel)
{
  GListModel *model = G_LIST_MODEL (self->sorted);
  guint n = g_list_model_get_n_items (model);

  if (channel < 0)
    return -1;
  /* by index: the position is the channel */
  if (!self->sort_by_activation && (guint) channel < n)
    return channel;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LensChannelItem) item = g_list_model_get_item (model, i);

      if (lens_channel_item_get_index (item) == (guint) channel)
        return (int) i;
    }
  return -1;
}

static void
on_document_channel_selected (LensFeatureGrid *self)
{
  int pos;

  if (self->syncing || self->document == NULL)
    return;
  self->syncing = TRUE;
  pos = lens_feature_grid_find (self, lens_document_get_selected_channel (self->document));
  gtk_single_selection_set_selected (self->selection,
                                     pos >= 0 ? (guint) pos : GTK_INVALID_LIST_POSITION);
  self->syncing = FALSE;
}

static void
on_cell_selected (LensFeatureGrid *self)
{
  LensChannelItem *item;

  if (self->syncing || self->document == NULL)
    return;
  item = gtk_single_selection_get_selected_item (self->selection);
  if (item == NULL)
    return;
  self->syncing = TRUE;
  lens_document_select_channel (self->document, (int) lens_channel_item_get_index (item));
  self->syncing = FALSE;
}

gboolean
lens_feature_grid_get_sort_by_activation (LensFeatureGrid *self)
{
  g_return_val_if_fail (LENS_IS_FEATURE_GRID (self), FALSE);
  return self->sort_by_activation;
}

void
lens_feature_grid_set_sort_by_activation (LensFeatureGrid *self,
                                          gboolean         by_activation)
{
  g_return_if_fail (LENS_IS_FEATURE_GRID (self));

  by_activation = !!by_activation;
  if (self->sort_by_activation == by_activation)
    return;
  self->sort_by_activation = by_activation;
  self->syncing = TRUE;
  gtk_sort_list_model_set_sorter (self->sorted, by_activation ? self->by_activation : NULL);
  self->syncing = FALSE;
  on_document_channel_selected (self);
  lens_feature_grid_scroll_to_selected (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SORT_BY_ACTIVATION]);
}

int
lens_feature_grid_get_position (LensFeatureGrid *self)
{
  guint pos;

  g_return_val_if_fail (LENS_IS_FEATURE_GRID (self), -1);

  pos = gtk_single_selection_get_selected (self->selection);
  return pos == GTK_INVALID_LIST_POSITION ? -1 : (int) pos;
}

int
lens_feature_grid_get_channel_at (LensFeatureGrid *self,
                                  guint            position)
{
  g_autoptr(LensChannelItem) item = NULL;

  g_return_val_if_fail (LENS_IS_FEATURE_GRID (self), -1);

  item = g_list_model_get_item (G_LIST_MODEL (self->sorted), position);
  return item ? (int) lens_channel_item_get_index (item) : -1;
}

void
lens_feature_grid_step (LensFeatureGrid *self,
                        int              delta)
{
  guint n;
  int pos;

  g_return_if_fail (LENS_IS_FEATURE_GRID (self));

  n = g_list_model_get_n_items (G_LIST_MODEL (self->sorted));
  if (n == 0)
    return;
  pos = CLAMP (MAX (lens_feature_grid_get_position (self), 0) + delta, 0, (int) n - 1);
  gtk_single_selection_set_selected (self->selection, (guint) pos);
  lens_feature_grid_scroll_to_selected (self);
}

void
lens_feature_grid_scroll_to_selected (LensFeatureGrid *self)
{
  int pos;

  g_return_if_fail (LENS_IS_FEATURE_GRID (self));

  pos = lens_feature_grid_get_position (self);
  if (pos >= 0 && gtk_widget_get_mapped (GTK_WIDGET (self->grid_view)))
    gtk_widget_activate_action (GTK_WIDGET (self->grid_view), "list.scroll-to-item", "u",
                                (guint) pos);
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
  self->syncing = TRUE;
  gtk_sort_list_model_set_model (self->sorted,
                                 document ? gtk_single_selection_get_model (
                                              lens_document_get_channel_selection (document))
                                          : NULL);
  self->syncing = FALSE;
  if (document != NULL)
    {
      for (guint i = 0; i < G_N_ELEMENTS (watched); i++)
        g_signal_connect_object (document, watched[i], G_CALLBACK (lens_feature_grid_update),
                                 self, G_CONNECT_SWAPPED);
      /* after the store was refilled: the selection is in place by then */
      g_signal_connect_object (document, "notify::selected-channel",
                               G_CALLBACK (on_document_channel_selected), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (document, "notify::maps",
                               G_CALLBACK (on_document_channel_selected), self,
                               G_CONNECT_SWAPPED);
    }
  on_document_channel_selected (self);
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
    case PROP_SORT_BY_ACTIVATION:
      g_value_set_boolean (value, self->sort_by_activation);
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
    case PROP_SORT_BY_ACTIVATION:
      lens_feature_grid_set_sort_by_activation (self, g_value_get_boolean (value));
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
  g_clear_object (&self->selection);
  g_clear_object (&self->sorted);
  g_clear_object (&self->by_activation);
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
  properties[PROP_SORT_BY_ACTIVATION] =
    g_param_spec_boolean ("sort-by-activation", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/convlens/ConvLens/ui/lens-feature-grid.ui");
  gtk_widget_class_bind_template_child (widget_class, LensFeatureGrid, stack);
  gtk_widget_class_bind_template_child (widget_class, LensFeatureGrid, grid_view);
  gtk_widget_class_bind_template_child (widget_class, LensFeatureGrid, title_label);
  gtk_widget_class_bind_template_child (widget_class, LensFeatureGrid, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, LensFeatureGrid, sort_button);
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

  self->by_activation = GTK_SORTER (gtk_custom_sorter_new (compare_max, NULL, NULL));
  self->sorted = gtk_sort_list_model_new (NULL, NULL);
  self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->sorted)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  g_signal_connect_swapped (self->selection, "notify::selected", G_CALLBACK (on_cell_selected),
                            self);
  gtk_grid_view_set_model (self->grid_view, GTK_SELECTION_MODEL (self->selection));
  g_object_bind_property (self, "sort-by-activation", self->sort_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
}
