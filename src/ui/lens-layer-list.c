/* lens-layer-list.c: the model's layers, one row each (name, op, shape) */
#define G_LOG_DOMAIN "lens-layer-list"

#include "lens-config.h"

#include <glib/gi18n.h>

#include "lens-layer-list.h"

struct _LensLayerList
{
  GtkWidget     parent_instance;

  /* template widgets */
  GtkListView  *list_view;
  GtkLabel     *model_label;
  GtkLabel     *count_label;

  /* owned */
  LensDocument *document;
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

static void
on_layer_activated (LensLayerList *self,
                    guint          position)
{
  /* Enter on a row: hand the keyboard to the feature maps next door */
  gtk_widget_activate_action (GTK_WIDGET (self), "win.focus-channels", NULL);
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
  g_set_object (&self->document, document);
  gtk_list_view_set_model (self->list_view,
                           document ? GTK_SELECTION_MODEL (lens_document_get_layer_selection (document))
                                    : NULL);
  if (document != NULL)
    g_signal_connect_object (document, "notify::model", G_CALLBACK (lens_layer_list_update),
                             self, G_CONNECT_SWAPPED);
  lens_layer_list_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
}

GtkListView *
lens_layer_list_get_list_view (LensLayerList *self)
{
  g_return_val_if_fail (LENS_IS_LAYER_LIST (self), NULL);
  return self->list_view;
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

  gtk_widget_dispose_template (GTK_WIDGET (self), LENS_TYPE_LAYER_LIST);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->document);

  G_OBJECT_CLASS (lens_layer_list_parent_class)->dispose (object);
}

static void
lens_layer_list_class_init (LensLayerListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lens_layer_list_dispose;
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
}
