/* lens-analysis-layers.c: a checkable list of the model's layers in a
 * popover (see lens-analysis-layers.h) */
#define G_LOG_DOMAIN "lens-analyses"

#include "lens-config.h"

#include <glib/gi18n.h>

#include "lens-analysis-layers.h"

#define BOX_KEY "lens-layers-box"

static GtkWidget *
layers_box (GtkWidget *chooser)
{
  return g_object_get_data (G_OBJECT (chooser), BOX_KEY);
}

static void
update_label (GtkWidget *chooser)
{
  g_auto(GStrv) names = lens_analysis_layers_get (chooser);
  guint n = g_strv_length (names);
  g_autofree char *label = NULL;

  if (n == 0)
    label = g_strdup (_("No layers"));
  else if (n <= 2)
    {
      g_autofree char *joined = g_strjoinv (", ", names);

      label = g_strdup (joined);
    }
  else
    label = g_strdup_printf (ngettext ("%u layer", "%u layers", n), n);
  gtk_menu_button_set_label (GTK_MENU_BUTTON (chooser), label);
}

GtkWidget *
lens_analysis_layers_new (void)
{
  GtkWidget *button = gtk_menu_button_new ();
  GtkWidget *popover = gtk_popover_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);

  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), 360);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), box);
  gtk_popover_set_child (GTK_POPOVER (popover), scrolled);
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (button), popover);
  gtk_accessible_update_property (GTK_ACCESSIBLE (box), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Layers to analyse"), -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Choose the layers to analyse"), -1);
  gtk_widget_set_tooltip_text (button, _("Choose the layers to analyse"));
  g_object_set_data (G_OBJECT (button), BOX_KEY, box);
  update_label (button);
  return button;
}

void
lens_analysis_layers_set_model (GtkWidget          *chooser,
                                LensModelInfo      *model,
                                const char * const *default_ops)
{
  GtkWidget *box = layers_box (chooser), *child;
  g_auto(GStrv) checked = lens_analysis_layers_get (chooser);

  while ((child = gtk_widget_get_first_child (box)) != NULL)
    gtk_box_remove (GTK_BOX (box), child);
  for (guint i = 0; model != NULL && i < model->n_layers; i++)
    {
      const LensLayerInfo *layer = &model->layers[i];
      g_autofree char *label = g_strdup_printf ("%s (%s)", layer->name, layer->op);
      GtkWidget *check = gtk_check_button_new_with_label (label);
      gboolean on = checked[0] != NULL
                    ? g_strv_contains ((const char * const *) checked, layer->name)
                    : default_ops != NULL && g_strv_contains (default_ops, layer->op);

      g_object_set_data_full (G_OBJECT (check), "layer", g_strdup (layer->name), g_free);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check), on);
      g_signal_connect_swapped (check, "toggled", G_CALLBACK (update_label), chooser);
      gtk_box_append (GTK_BOX (box), check);
    }
  update_label (chooser);
}

char **
lens_analysis_layers_get (GtkWidget *chooser)
{
  GPtrArray *names = g_ptr_array_new ();

  for (GtkWidget *c = gtk_widget_get_first_child (layers_box (chooser)); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    if (gtk_check_button_get_active (GTK_CHECK_BUTTON (c)))
      g_ptr_array_add (names, g_strdup (g_object_get_data (G_OBJECT (c), "layer")));
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

void
lens_analysis_layers_set (GtkWidget          *chooser,
                          const char * const *names)
{
  for (GtkWidget *c = gtk_widget_get_first_child (layers_box (chooser)); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    gtk_check_button_set_active (GTK_CHECK_BUTTON (c),
                                 names != NULL &&
                                 g_strv_contains (names, g_object_get_data (G_OBJECT (c), "layer")));
  update_label (chooser);
}
