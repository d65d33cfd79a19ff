/* lens-predictions.c: top-5 labels with probability bars */
#define G_LOG_DOMAIN "lens-predictions"

#include "lens-config.h"

#include <glib/gi18n.h>

#include "lens-predictions.h"

struct _LensPredictions
{
  GtkWidget     parent_instance;

  /* template widgets */
  GtkListBox   *list_box;
  GtkLabel     *note_label;

  /* owned */
  LensDocument *document;
  GPtrArray    *row_labels;   /* GtkLabel *, borrowed from the rows */
};

enum {
  PROP_0,
  PROP_DOCUMENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (LensPredictions, lens_predictions, GTK_TYPE_WIDGET)

/* Sets a row's texts and bar; only what changed is touched, since every
 * change costs a relayout (and, with a screen reader, a D-Bus message)
 * while the occluder moves. */
static void
update_row (GtkWidget            *row,
            const LensPrediction *p)
{
  GtkLabel *label = g_object_get_data (G_OBJECT (row), "lens-label");
  GtkLabel *value = g_object_get_data (G_OBJECT (row), "lens-value");
  GtkProgressBar *bar = g_object_get_data (G_OBJECT (row), "lens-bar");
  g_autofree char *name = NULL;
  g_autofree char *percent = NULL;

  name = p->label != NULL ? g_strdup (p->label)
                          /* TRANSLATORS: a class of a model without labels */
                          : g_strdup_printf (_("class %u"), p->index);
  /* TRANSLATORS: a probability in percent, e.g. "93.1 %" */
  percent = g_strdup_printf (_("%.1f %%"), 100.0 * p->probability);

  if (g_strcmp0 (gtk_label_get_text (label), name) != 0)
    {
      gtk_label_set_text (label, name);
      gtk_widget_set_tooltip_text (GTK_WIDGET (label), name);
      gtk_accessible_update_property (GTK_ACCESSIBLE (bar), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      name, -1);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      name, -1);
    }
  if (g_strcmp0 (gtk_label_get_text (value), percent) != 0)
    gtk_label_set_text (value, percent);
  gtk_progress_bar_set_fraction (bar, CLAMP (p->probability, 0.f, 1.f));
}

static GtkWidget *
create_row (const LensPrediction *p)
{
  GtkWidget *row, *box, *top, *label, *value, *bar;

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (label, TRUE);
  value = gtk_label_new (NULL);
  gtk_widget_add_css_class (value, "numeric");
  gtk_widget_add_css_class (value, "dim-label");
  gtk_box_append (GTK_BOX (top), label);
  gtk_box_append (GTK_BOX (top), value);

  bar = gtk_progress_bar_new ();
  gtk_box_append (GTK_BOX (box), top);
  gtk_box_append (GTK_BOX (box), bar);

  row = gtk_list_box_row_new ();
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_widget_add_css_class (row, "lens-prediction");
  g_object_set_data (G_OBJECT (row), "lens-label", label);
  g_object_set_data (G_OBJECT (row), "lens-value", value);
  g_object_set_data (G_OBJECT (row), "lens-bar", bar);
  update_row (row, p);
  return row;
}

void
lens_predictions_show (LensPredictions      *self,
                       const LensPrediction *predictions,
                       guint                 n,
                       const char           *note)
{
  GtkWidget *child;
  guint i;

  g_return_if_fail (LENS_IS_PREDICTIONS (self));

  /* rows are updated in place while the occluder moves: no flicker, and
   * no widgets built on the main thread for every position */
  for (i = 0; i < n && i < self->row_labels->len; i++)
    update_row (GTK_WIDGET (gtk_list_box_get_row_at_index (self->list_box, (int) i)),
                &predictions[i]);
  while (self->row_labels->len > n)
    {
      child = GTK_WIDGET (gtk_list_box_get_row_at_index (self->list_box,
                                                        (int) self->row_labels->len - 1));
      gtk_list_box_remove (self->list_box, child);
      g_ptr_array_set_size (self->row_labels, self->row_labels->len - 1);
    }
  for (; i < n; i++)
    {
      GtkWidget *row = create_row (&predictions[i]);

      gtk_list_box_append (self->list_box, row);
      g_ptr_array_add (self->row_labels, g_object_get_data (G_OBJECT (row), "lens-label"));
    }
  if (g_strcmp0 (gtk_label_get_text (self->note_label), note != NULL ? note : "") != 0)
    gtk_label_set_text (self->note_label, note != NULL ? note : "");
  gtk_widget_set_visible (GTK_WIDGET (self->note_label), note != NULL && note[0] != '\0');
}

static void
lens_predictions_update (LensPredictions *self)
{
  LensTraceInfo *trace = self->document ? lens_document_get_trace (self->document) : NULL;
  g_autofree char *note = NULL;

  if (self->document == NULL)
    return;
  if (trace == NULL || trace->n_predictions == 0)
    {
      lens_predictions_show (self, NULL, 0,
                             _("Open a model and an image to see what the network predicts."));
      return;
    }

  /* TRANSLATORS: under the predictions: whether the model's output was
   * already a probability vector or went through a softmax here */
  note = trace->was_probability
           ? g_strdup_printf (ngettext ("Model output over %u class",
                                        "Model output over %u classes", trace->n_classes),
                              trace->n_classes)
           : g_strdup_printf (ngettext ("Softmax over %u class",
                                        "Softmax over %u classes", trace->n_classes),
                              trace->n_classes);
  lens_predictions_show (self, trace->predictions, trace->n_predictions, note);
}

const char *
lens_predictions_get_row_label (LensPredictions *self,
                                guint            i)
{
  g_return_val_if_fail (LENS_IS_PREDICTIONS (self), NULL);

  if (i >= self->row_labels->len)
    return NULL;
  return gtk_label_get_text (g_ptr_array_index (self->row_labels, i));
}

LensDocument *
lens_predictions_get_document (LensPredictions *self)
{
  g_return_val_if_fail (LENS_IS_PREDICTIONS (self), NULL);
  return self->document;
}

void
lens_predictions_set_document (LensPredictions *self,
                               LensDocument    *document)
{
  g_return_if_fail (LENS_IS_PREDICTIONS (self));

  if (self->document == document)
    return;

  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_set_object (&self->document, document);
  if (document != NULL)
    g_signal_connect_object (document, "notify::trace", G_CALLBACK (lens_predictions_update),
                             self, G_CONNECT_SWAPPED);
  lens_predictions_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
}

static void
lens_predictions_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  LensPredictions *self = LENS_PREDICTIONS (object);

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
lens_predictions_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  LensPredictions *self = LENS_PREDICTIONS (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      lens_predictions_set_document (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lens_predictions_dispose (GObject *object)
{
  LensPredictions *self = LENS_PREDICTIONS (object);
  GtkWidget *child;

  gtk_widget_dispose_template (GTK_WIDGET (self), LENS_TYPE_PREDICTIONS);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->document);
  g_clear_pointer (&self->row_labels, g_ptr_array_unref);

  G_OBJECT_CLASS (lens_predictions_parent_class)->dispose (object);
}

static void
lens_predictions_class_init (LensPredictionsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lens_predictions_dispose;
  object_class->get_property = lens_predictions_get_property;
  object_class->set_property = lens_predictions_set_property;

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL, LENS_TYPE_DOCUMENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/convlens/ConvLens/ui/lens-predictions.ui");
  gtk_widget_class_bind_template_child (widget_class, LensPredictions, list_box);
  gtk_widget_class_bind_template_child (widget_class, LensPredictions, note_label);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "lens-predictions");
}

static void
lens_predictions_init (LensPredictions *self)
{
  self->row_labels = g_ptr_array_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  lens_predictions_update (self);
}
