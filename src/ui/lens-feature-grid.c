/* lens-feature-grid.c: the selected layer's feature maps in a virtualised
 * grid; the thumbnails come finished from the engine thread
 *
 * The grid shows the document's channels through a GtkSortListModel (by
 * index, or by max activation, strongest first) with its own selection,
 * kept in step with the document's selected channel both ways.
 *
 * A channel selected from elsewhere (keys, actions, another view, the
 * sort) is scrolled into view.  GTK 4.8's GridView cannot scroll to an
 * item, so the grid does it with the vertical adjustment: the item's row
 * is the position divided by the columns, and the columns and the row
 * height are read off the cells that exist (after a frame's layout). */
#define G_LOG_DOMAIN "lens-feature-grid"

#include "lens-config.h"

#include <glib/gi18n.h>
#include <math.h>

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

  /* scrolling the selection into view */
  gboolean            scroll_pending;
  guint               scroll_tick_id;
  guint               scroll_frames;    /* frames tried so far */
};

/* Frames to wait for cells (a layer just arrived, the view is shown). */
#define SCROLL_MAX_FRAMES 30

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
  GtkWidget *cell = lens_channel_cell_new ();

  /* borrowed: the list item owns the cell; tells a cell's position */
  g_object_set_data (G_OBJECT (cell), "lens-list-item", list_item);
  gtk_list_item_set_child (list_item, cell);
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
  /* chosen elsewhere (keys, another view, a new layer): bring it into view */
  lens_feature_grid_scroll_to_selected (self);
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

typedef struct
{
  guint  position;
  double x, y, width, height;   /* y in content coordinates (adjustment's) */
} CellBox;

/* The cells GridView has made, with their positions and where they are. */
static GArray *
collect_cells (LensFeatureGrid *self,
               double           offset)
{
  GArray *cells = g_array_new (FALSE, FALSE, sizeof (CellBox));
  GtkWidget *view = GTK_WIDGET (self->grid_view);

  for (GtkWidget *child = gtk_widget_get_first_child (view); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *cell = gtk_widget_get_first_child (child);
      GtkListItem *item;
      graphene_rect_t bounds;

      if (!LENS_IS_CHANNEL_CELL (cell) || !gtk_widget_get_child_visible (child))
        continue;
      item = g_object_get_data (G_OBJECT (cell), "lens-list-item");
      if (item == NULL || gtk_list_item_get_position (item) == GTK_INVALID_LIST_POSITION ||
          !gtk_widget_compute_bounds (child, view, &bounds) || bounds.size.height <= 0)
        continue;
      g_array_append_val (cells, ((CellBox) { gtk_list_item_get_position (item),
                                              bounds.origin.x, bounds.origin.y + offset,
                                              bounds.size.width, bounds.size.height }));
    }
  return cells;
}

/* Where the cell at `pos` is (content coordinates), from the cells there
 * are: its own if it exists, else worked out from the columns and the row
 * height.  FALSE while there are no cells. */
static gboolean
locate (GArray   *cells,
        guint     pos,
        double   *top,
        double   *height,
        gboolean *exact)
{
  const CellBox *ref;
  double min_x = G_MAXDOUBLE, row_h;
  guint columns = 1;

  if (cells->len == 0)
    return FALSE;
  for (guint i = 0; i < cells->len; i++)
    {
      const CellBox *c = &g_array_index (cells, CellBox, i);

      if (c->position == pos)
        {
          *top = c->y;
          *height = c->height;
          *exact = TRUE;
          return TRUE;
        }
      min_x = MIN (min_x, c->x);
    }
  ref = &g_array_index (cells, CellBox, 0);
  /* cells are all as wide; the right-most says how many columns */
  for (guint i = 0; i < cells->len; i++)
    {
      const CellBox *c = &g_array_index (cells, CellBox, i);

      columns = MAX (columns, (guint) round ((c->x - min_x) / MAX (c->width, 1.0)) + 1);
    }
  /* rows are evenly spaced: any cell in another row gives the spacing */
  row_h = ref->height;
  for (guint i = 0; i < cells->len; i++)
    {
      const CellBox *c = &g_array_index (cells, CellBox, i);
      int apart = (int) (c->position / columns) - (int) (ref->position / columns);

      if (apart != 0)
        {
          row_h = (c->y - ref->y) / apart;
          break;
        }
    }
  *top = ref->y + ((double) (pos / columns) - (double) (ref->position / columns)) * row_h;
  *height = ref->height;
  *exact = FALSE;
  return TRUE;
}

/* One attempt; TRUE when the selected cell is known to be in view. */
static gboolean
scroll_step (LensFeatureGrid *self)
{
  GtkAdjustment *vadj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->grid_view));
  g_autoptr(GArray) cells = NULL;
  double value, page, top, height, target;
  gboolean exact = FALSE;
  int pos = lens_feature_grid_get_position (self);

  if (pos < 0 || vadj == NULL)
    return TRUE;
  value = gtk_adjustment_get_value (vadj);
  page = gtk_adjustment_get_page_size (vadj);
  if (page <= 0)
    return FALSE;
  cells = collect_cells (self, value);
  if (!locate (cells, (guint) pos, &top, &height, &exact))
    return FALSE;

  target = value;
  if (top < value)
    target = top;
  else if (top + height > value + page)
    target = MIN (top, top + height - page);
  if (target != value)
    gtk_adjustment_set_value (vadj, target);
  /* an estimate is checked against the real cell once it exists */
  return exact && top >= gtk_adjustment_get_value (vadj) - 0.5;
}

static gboolean
scroll_tick (GtkWidget     *widget,
             GdkFrameClock *clock,
             gpointer       user_data)
{
  LensFeatureGrid *self = user_data;

  if (scroll_step (self) || ++self->scroll_frames >= SCROLL_MAX_FRAMES)
    {
      self->scroll_pending = FALSE;
      self->scroll_tick_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
start_scrolling (LensFeatureGrid *self)
{
  self->scroll_frames = 0;
  /* ticks come once the grid is laid out; a hidden grid waits for "map" */
  if (self->scroll_tick_id == 0 && gtk_widget_get_mapped (GTK_WIDGET (self->grid_view)))
    self->scroll_tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self->grid_view),
                                                         scroll_tick, self, NULL);
}

static void
on_grid_mapped (LensFeatureGrid *self)
{
  if (self->scroll_pending)
    start_scrolling (self);
}

static void
on_grid_unmapped (LensFeatureGrid *self)
{
  /* tick callbacks stop with the frame clock; start again on "map" */
  if (self->scroll_tick_id != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self->grid_view), self->scroll_tick_id);
  self->scroll_tick_id = 0;
}

void
lens_feature_grid_scroll_to_selected (LensFeatureGrid *self)
{
  g_return_if_fail (LENS_IS_FEATURE_GRID (self));

  if (lens_feature_grid_get_position (self) < 0)
    return;
  self->scroll_pending = TRUE;
  start_scrolling (self);
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

  if (self->scroll_tick_id != 0 && self->grid_view != NULL)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self->grid_view), self->scroll_tick_id);
  self->scroll_tick_id = 0;
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
  g_signal_connect_swapped (self->grid_view, "map", G_CALLBACK (on_grid_mapped), self);
  g_signal_connect_swapped (self->grid_view, "unmap", G_CALLBACK (on_grid_unmapped), self);
  g_object_bind_property (self, "sort-by-activation", self->sort_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
}
