/* lens-layer-list.c: the model's layers as a tree (blocks fold), each row
 * with its op, output shape and a bar of its mean activation
 *
 * The document owns the flat list of layers and which one is selected;
 * this widget shows the same items in a GtkTreeListModel and keeps its
 * own selection in step with the document's in both directions. */
#define G_LOG_DOMAIN "lens-layer-list"

#include "lens-config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "lens-layer-blocks.h"
#include "lens-layer-list.h"

struct _LensLayerList
{
  GtkWidget           parent_instance;

  /* template widgets */
  GtkListView        *list_view;
  GtkLabel           *model_label;
  GtkLabel           *count_label;

  /* owned */
  LensDocument       *document;
  GtkTreeListModel   *tree;
  GtkSingleSelection *selection;
  GArray             *means;       /* double per layer, NAN: not known */

  /* borrowed */
  GListModel         *layers;      /* the document's flat list */

  gboolean            syncing;
};

enum {
  PROP_0,
  PROP_DOCUMENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (LensLayerList, lens_layer_list, GTK_TYPE_WIDGET)

static void
lens_layer_list_update (LensLayerList *self)
{
  LensModelInfo *model = self->document ? lens_document_get_model (self->document) : NULL;
  g_autofree char *count = NULL;
  g_autofree char *file_name = NULL;

  if (model == NULL)
    {
      gtk_label_set_text (self->model_label, _("No Model"));
      gtk_label_set_text (self->count_label, "");
      return;
    }
  count = g_strdup_printf (ngettext ("%u layer", "%u layers", model->n_layers),
                           model->n_layers);
  /* exporters name every graph alike ("main_graph"): the file says more */
  file_name = g_path_get_basename (model->path);
  gtk_label_set_text (self->model_label, file_name);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->model_label), model->path);
  gtk_label_set_text (self->count_label, count);
}

static GListModel *
create_children (gpointer item,
                 gpointer user_data)
{
  GListModel *children = lens_layer_item_get_children (item);

  return children ? g_object_ref (children) : NULL;
}

/* The bars are relative to the largest |mean| known for this image. */
static void
lens_layer_list_apply_means (LensLayerList *self)
{
  double top = 0.0;
  guint n;

  if (self->layers == NULL)
    return;
  n = g_list_model_get_n_items (self->layers);
  g_array_set_size (self->means, MAX (self->means->len, n));
  for (guint i = 0; i < n; i++)
    if (!isnan (g_array_index (self->means, double, i)))
      top = MAX (top, fabs (g_array_index (self->means, double, i)));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LensLayerItem) item = g_list_model_get_item (self->layers, i);
      double mean = g_array_index (self->means, double, i);

      lens_layer_item_set_mean (item, mean, top > 0 ? fabs (mean) / top : 0.0);
    }
}

static void
lens_layer_list_forget_means (LensLayerList *self)
{
  for (guint i = 0; i < self->means->len; i++)
    g_array_index (self->means, double, i) = NAN;
  lens_layer_list_apply_means (self);
}

/* A new image: the worker measured every layer during the run, so every
 * row gets its bar at once (none while no image has been run). */
static void
on_trace_changed (LensLayerList *self)
{
  LensTraceInfo *trace = self->document ? lens_document_get_trace (self->document) : NULL;
  guint n = self->layers ? g_list_model_get_n_items (self->layers) : 0;

  /* a trace of another model may linger while a new model loads */
  if (trace == NULL || trace->layer_means == NULL || trace->n_layers != n)
    {
      lens_layer_list_forget_means (self);
      return;
    }
  /* all at once: one pass over the rows, not one per layer */
  g_array_set_size (self->means, MAX (self->means->len, n));
  for (guint i = 0; i < self->means->len; i++)
    g_array_index (self->means, double, i) = i < n ? trace->layer_means[i] : NAN;
  lens_layer_list_apply_means (self);
}

void
lens_layer_list_set_layer_mean (LensLayerList *self,
                                guint          layer,
                                double         mean)
{
  g_return_if_fail (LENS_IS_LAYER_LIST (self));

  if (layer >= self->means->len)
    {
      guint old = self->means->len;

      g_array_set_size (self->means, layer + 1);
      for (guint i = old; i < self->means->len; i++)
        g_array_index (self->means, double, i) = NAN;
    }
  g_array_index (self->means, double, layer) = mean;
  lens_layer_list_apply_means (self);
}

double
lens_layer_list_get_layer_mean (LensLayerList *self,
                                guint          layer)
{
  g_return_val_if_fail (LENS_IS_LAYER_LIST (self), NAN);

  if (layer >= self->means->len)
    return NAN;
  return g_array_index (self->means, double, layer);
}

/* The row of `layer`, unfolding the blocks on the way (-1: none). */
static int
lens_layer_list_find_row (LensLayerList *self,
                          int            layer)
{
  GListModel *rows = G_LIST_MODEL (self->tree);

  if (layer < 0)
    return -1;
  /* rows unfolded inside the loop appear right after their block */
  for (guint i = 0; i < g_list_model_get_n_items (rows); i++)
    {
      g_autoptr(GtkTreeListRow) row = g_list_model_get_item (rows, i);
      LensLayerItem *item = gtk_tree_list_row_get_item (row);
      guint first = lens_layer_item_get_index (item);

      if (!lens_layer_item_is_block (item))
        {
          g_object_unref (item);
          if (first == (guint) layer)
            return (int) i;
          continue;
        }
      if ((guint) layer >= first && (guint) layer < first + lens_layer_item_get_n_layers (item))
        gtk_tree_list_row_set_expanded (row, TRUE);
      g_object_unref (item);
    }
  return -1;
}

static void
on_document_layer_selected (LensLayerList *self)
{
  int layer = lens_document_get_selected_layer (self->document);
  int row;

  if (self->syncing)
    return;
  self->syncing = TRUE;
  row = lens_layer_list_find_row (self, layer);
  gtk_single_selection_set_selected (self->selection,
                                     row >= 0 ? (guint) row : GTK_INVALID_LIST_POSITION);
  if (row >= 0 && gtk_widget_get_mapped (GTK_WIDGET (self->list_view)))
    gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u",
                                (guint) row);
  self->syncing = FALSE;
}

static void
on_row_selected (LensLayerList *self)
{
  g_autoptr(LensLayerItem) item = NULL;
  GtkTreeListRow *row;

  if (self->syncing || self->document == NULL)
    return;
  row = gtk_single_selection_get_selected_item (self->selection);
  if (row == NULL)
    return;
  item = gtk_tree_list_row_get_item (row);
  /* a block row is only a place to fold; the layer stays as it was */
  if (lens_layer_item_is_block (item))
    return;
  self->syncing = TRUE;
  lens_document_select_layer (self->document, (int) lens_layer_item_get_index (item));
  self->syncing = FALSE;
}

static void
lens_layer_list_rebuild (LensLayerList *self)
{
  g_autoptr(GListStore) root = NULL;

  root = self->layers ? lens_layer_blocks_build (self->layers)
                      : g_list_store_new (LENS_TYPE_LAYER_ITEM);
  self->syncing = TRUE;
  gtk_single_selection_set_model (self->selection, NULL);
  g_clear_object (&self->tree);
  self->tree = gtk_tree_list_model_new (G_LIST_MODEL (g_steal_pointer (&root)), FALSE, FALSE,
                                        create_children, NULL, NULL);
  gtk_single_selection_set_model (self->selection, G_LIST_MODEL (self->tree));
  self->syncing = FALSE;

  /* a new model: only a trace of this model tells its activations */
  g_array_set_size (self->means, self->layers ? g_list_model_get_n_items (self->layers) : 0);
  on_trace_changed (self);
  if (self->document != NULL)
    on_document_layer_selected (self);
}

static void
on_layer_activated (LensLayerList *self,
                    guint          position)
{
  g_autoptr(GtkTreeListRow) row = g_list_model_get_item (G_LIST_MODEL (self->tree), position);
  g_autoptr(LensLayerItem) item = row ? gtk_tree_list_row_get_item (row) : NULL;

  if (item == NULL)
    return;
  /* Enter on a block folds or unfolds it; on a layer it projects the
   * selected channel and hands the keyboard to the feature maps */
  if (lens_layer_item_is_block (item))
    gtk_tree_list_row_set_expanded (row, !gtk_tree_list_row_get_expanded (row));
  else
    {
      gtk_widget_activate_action (GTK_WIDGET (self), "win.project", NULL);
      gtk_widget_activate_action (GTK_WIDGET (self), "win.focus-channels", NULL);
    }
}

LensDocument *
lens_layer_list_get_document (LensLayerList *self)
{
  g_return_val_if_fail (LENS_IS_LAYER_LIST (self), NULL);
  return self->document;
}

void
lens_layer_list_set_document (LensLayerList *self,
                              LensDocument  *document)
{
  g_return_if_fail (LENS_IS_LAYER_LIST (self));

  if (self->document == document)
    return;

  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  if (self->layers != NULL)
    g_signal_handlers_disconnect_by_data (self->layers, self);
  g_set_object (&self->document, document);
  self->layers = document
    ? gtk_single_selection_get_model (lens_document_get_layer_selection (document)) : NULL;

  if (document != NULL)
    {
      g_signal_connect_object (document, "notify::model", G_CALLBACK (lens_layer_list_update),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (document, "notify::selected-layer",
                               G_CALLBACK (on_document_layer_selected), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (document, "notify::trace",
                               G_CALLBACK (on_trace_changed), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->layers, "items-changed",
                               G_CALLBACK (lens_layer_list_rebuild), self, G_CONNECT_SWAPPED);
    }
  lens_layer_list_rebuild (self);
  lens_layer_list_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
}

GtkListView *
lens_layer_list_get_list_view (LensLayerList *self)
{
  g_return_val_if_fail (LENS_IS_LAYER_LIST (self), NULL);
  return self->list_view;
}

GtkTreeListModel *
lens_layer_list_get_tree (LensLayerList *self)
{
  g_return_val_if_fail (LENS_IS_LAYER_LIST (self), NULL);
  return self->tree;
}

static void
lens_layer_list_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  LensLayerList *self = LENS_LAYER_LIST (object);

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
lens_layer_list_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  LensLayerList *self = LENS_LAYER_LIST (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      lens_layer_list_set_document (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lens_layer_list_dispose (GObject *object)
{
  LensLayerList *self = LENS_LAYER_LIST (object);
  GtkWidget *child;

  if (self->layers != NULL)
    g_signal_handlers_disconnect_by_data (self->layers, self);
  self->layers = NULL;
  gtk_widget_dispose_template (GTK_WIDGET (self), LENS_TYPE_LAYER_LIST);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->selection);
  g_clear_object (&self->tree);
  g_clear_object (&self->document);

  G_OBJECT_CLASS (lens_layer_list_parent_class)->dispose (object);
}

static void
lens_layer_list_finalize (GObject *object)
{
  LensLayerList *self = LENS_LAYER_LIST (object);

  g_array_unref (self->means);

  G_OBJECT_CLASS (lens_layer_list_parent_class)->finalize (object);
}

static void
lens_layer_list_class_init (LensLayerListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lens_layer_list_dispose;
  object_class->finalize = lens_layer_list_finalize;
  object_class->get_property = lens_layer_list_get_property;
  object_class->set_property = lens_layer_list_set_property;

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL, LENS_TYPE_DOCUMENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/convlens/ConvLens/ui/lens-layer-list.ui");
  gtk_widget_class_bind_template_child (widget_class, LensLayerList, list_view);
  gtk_widget_class_bind_template_child (widget_class, LensLayerList, model_label);
  gtk_widget_class_bind_template_child (widget_class, LensLayerList, count_label);
  gtk_widget_class_bind_template_callback (widget_class, on_layer_activated);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "lens-layer-list");
}

static void
lens_layer_list_init (LensLayerList *self)
{
  g_type_ensure (LENS_TYPE_LAYER_ITEM);
  gtk_widget_init_template (GTK_WIDGET (self));

  self->means = g_array_new (FALSE, FALSE, sizeof (double));
  self->selection = gtk_single_selection_new (NULL);
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  g_signal_connect_swapped (self->selection, "notify::selected", G_CALLBACK (on_row_selected),
                            self);
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (self->selection));
  lens_layer_list_rebuild (self);
}
