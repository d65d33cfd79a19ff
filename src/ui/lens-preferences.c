/* lens-preferences.c: an AdwPreferencesWindow whose controls are bound to
 * the app's GSettings with g_settings_bind; the window's own bindings make
 * each change take effect at once */
#define G_LOG_DOMAIN "lens-preferences"

#include "lens-config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "lens-preferences.h"

/* A string key with choices <-> the selected index of a combo row whose
 * model lists the same choices in order. */
static gboolean
choice_to_index (GValue   *value,
                 GVariant *variant,
                 gpointer  user_data)
{
  const char * const *choices = user_data;
  const char *s = g_variant_get_string (variant, NULL);

  for (guint i = 0; choices[i] != NULL; i++)
    if (g_str_equal (choices[i], s))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
index_to_choice (const GValue       *value,
                 const GVariantType *type,
                 gpointer            user_data)
{
  const char * const *choices = user_data;
  guint i = g_value_get_uint (value);

  if (i >= g_strv_length ((char **) choices))
    return NULL;
  return g_variant_new_string (choices[i]);
}

static void
remember (GtkWindow  *window,
          const char *key,
          GtkWidget  *control)
{
  g_object_set_data (G_OBJECT (window), key, control);
}

static GtkWidget *
add_combo (GtkWindow          *window,
           AdwPreferencesGroup *group,
           GSettings          *settings,
           const char         *key,
           const char         *title,
           const char         *subtitle,
           const char * const *choices,
           const char * const *labels)
{
  GtkWidget *row = adw_combo_row_new ();
  g_autoptr(GtkStringList) model = gtk_string_list_new (labels);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_combo_row_set_model (ADW_COMBO_ROW (row), G_LIST_MODEL (model));
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  g_settings_bind_with_mapping (settings, key, row, "selected", G_SETTINGS_BIND_DEFAULT,
                                choice_to_index, index_to_choice, (gpointer) choices, NULL);
  adw_preferences_group_add (group, row);
  remember (window, key, row);
  return row;
}

static GtkWidget *
add_spin (GtkWindow           *window,
          AdwPreferencesGroup *group,
          GSettings           *settings,
          const char          *key,
          const char          *title,
          const char          *subtitle,
          int                  upper)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *spin = gtk_spin_button_new_with_range (0, upper, 1);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  gtk_accessible_update_property (GTK_ACCESSIBLE (spin), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), spin);
  g_settings_bind (settings, key, spin, "value", G_SETTINGS_BIND_DEFAULT);
  adw_preferences_group_add (group, row);
  remember (window, key, spin);
  return spin;
}

GtkWindow *
lens_preferences_new (GtkWindow *parent,
                      GSettings *settings)
{
  static const char * const modes[] = { "deconv", "guided", "gradient", NULL };
  static const char * const maps[] = { "viridis", "inferno", "gray", NULL };
  const char *mode_labels[] = { _("Deconvnet"), _("Guided backprop"), _("Gradient"), NULL };
  const char *map_labels[] = { _("Viridis"), _("Inferno"), _("Gray"), NULL };
  GtkWidget *window, *page, *group;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  window = adw_preferences_window_new ();
  gtk_window_set_title (GTK_WINDOW (window), _("Preferences"));
  gtk_window_set_transient_for (GTK_WINDOW (window), parent);
  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  gtk_window_set_destroy_with_parent (GTK_WINDOW (window), TRUE);
  adw_preferences_window_set_search_enabled (ADW_PREFERENCES_WINDOW (window), FALSE);
  /* the window holds the settings its bindings use */
  g_object_set_data_full (G_OBJECT (window), "lens-settings", g_object_ref (settings),
                          g_object_unref);

  page = adw_preferences_page_new ();
  adw_preferences_page_set_title (ADW_PREFERENCES_PAGE (page), _("General"));
  adw_preferences_page_set_icon_name (ADW_PREFERENCES_PAGE (page), "preferences-system-symbolic");
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (window), ADW_PREFERENCES_PAGE (page));

  group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Projections"));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));
  add_combo (GTK_WINDOW (window), ADW_PREFERENCES_GROUP (group), settings, "projection-mode",
             _("Projection mode"),
             _("How a feature map is projected back to the input"), modes, mode_labels);

  group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Occlusion"));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));
  add_spin (GTK_WINDOW (window), ADW_PREFERENCES_GROUP (group), settings, "occluder-size",
            _("Occluder size"),
            _("Side of the gray square in input pixels; 0 is a seventh of the input"), 4096);
  add_spin (GTK_WINDOW (window), ADW_PREFERENCES_GROUP (group), settings, "occluder-stride",
            _("Sweep stride"),
            _("Step between the positions of a sweep; 0 is a quarter of the square"), 4096);
  add_combo (GTK_WINDOW (window), ADW_PREFERENCES_GROUP (group), settings, "colour-map",
             _("Colour map"), _("The colours of heat maps and their colour bar"), maps,
             map_labels);

  group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Performance"));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));
  add_spin (GTK_WINDOW (window), ADW_PREFERENCES_GROUP (group), settings, "threads",
            _("Threads"), _("Threads the engine computes with; 0 is one per processor core"),
            256);

  return GTK_WINDOW (window);
}

GtkWidget *
lens_preferences_get_control (GtkWindow  *preferences,
                              const char *key)
{
  g_return_val_if_fail (GTK_IS_WINDOW (preferences), NULL);
  return g_object_get_data (G_OBJECT (preferences), key);
}
