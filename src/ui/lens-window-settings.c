/* lens-window-settings.c: the settings that are more than a property
 * binding — recent models and images (the Open Recent menu), the colour
 * map of heat maps, the engine's threads — and the Preferences action */
#define G_LOG_DOMAIN "lens-window-settings"

#include "lens-config.h"

#include <glib/gi18n.h>

#include "lens-net.h"
#include "lens-preferences.h"
#include "lens-window-private.h"

#define MAX_RECENT 10

LensColormap
lens_window_get_colormap (LensWindow *self)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (LENS_IS_WINDOW (self), LENS_COLORMAP_VIRIDIS);

  if (self->settings == NULL)
    return LENS_COLORMAP_VIRIDIS;
  name = g_settings_get_string (self->settings, "colour-map");
  return lens_colormap_from_name (name);
}

void
lens_window_add_recent (LensWindow *self,
                        const char *key,
                        const char *path)
{
  g_auto(GStrv) old = NULL;
  g_autoptr(GStrvBuilder) list = NULL;
  g_auto(GStrv) updated = NULL;
  guint n = 1;

  g_return_if_fail (LENS_IS_WINDOW (self));

  if (self->settings == NULL || path == NULL || path[0] == '\0')
    return;
  old = g_settings_get_strv (self->settings, key);
  if (old[0] != NULL && g_str_equal (old[0], path))
    return;   /* already first: no write, no menu rebuild */
  list = g_strv_builder_new ();
  g_strv_builder_add (list, path);
  for (guint i = 0; old[i] != NULL && n < MAX_RECENT; i++)
    if (!g_str_equal (old[i], path))
      {
        g_strv_builder_add (list, old[i]);
        n++;
      }
  updated = g_strv_builder_end (list);
  g_settings_set_strv (self->settings, key, (const char * const *) updated);
}

static void
remove_recent (LensWindow *self,
               const char *key,
               const char *path)
{
  g_auto(GStrv) old = g_settings_get_strv (self->settings, key);
  g_autoptr(GStrvBuilder) list = g_strv_builder_new ();
  g_auto(GStrv) updated = NULL;

  for (guint i = 0; old[i] != NULL; i++)
    if (!g_str_equal (old[i], path))
      g_strv_builder_add (list, old[i]);
  updated = g_strv_builder_end (list);
  g_settings_set_strv (self->settings, key, (const char * const *) updated);
}

/* A menu label shows "_" as a mnemonic: double it. */
static char *
menu_label (const char *path)
{
  g_autofree char *name = g_path_get_basename (path);
  g_auto(GStrv) parts = g_strsplit (name, "_", -1);

  return g_strjoinv ("__", parts);
}

static void
fill_section (GMenu      *section,
              GSettings  *settings,
              const char *key,
              const char *action)
{
  g_auto(GStrv) paths = g_settings_get_strv (settings, key);

  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autofree char *label = menu_label (paths[i]);
      g_autoptr(GMenuItem) item = g_menu_item_new (label, NULL);

      g_menu_item_set_action_and_target_value (item, action, g_variant_new_string (paths[i]));
      g_menu_append_item (section, item);
    }
}

static void
rebuild_recent_menu (LensWindow *self)
{
  g_autoptr(GMenu) models = g_menu_new ();
  g_autoptr(GMenu) images = g_menu_new ();

  if (self->recent_menu == NULL || self->settings == NULL)
    return;
  g_menu_remove_all (self->recent_menu);
  fill_section (models, self->settings, "recent-models", "win.open-recent-model");
  fill_section (images, self->settings, "recent-images", "win.open-recent-image");
  if (g_menu_model_get_n_items (G_MENU_MODEL (models)) == 0 &&
      g_menu_model_get_n_items (G_MENU_MODEL (images)) == 0)
    {
      /* an item without an action is shown insensitive */
      g_menu_append (self->recent_menu, _("No Recent Files"), "win.no-recent");
      return;
    }
  g_menu_append_section (self->recent_menu, _("Models"), G_MENU_MODEL (models));
  g_menu_append_section (self->recent_menu, _("Images"), G_MENU_MODEL (images));
}

static void
open_recent (LensWindow *self,
             const char *key,
             const char *path,
             gboolean    model)
{
  g_autoptr(GFile) file = NULL;

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *name = g_path_get_basename (path);
      g_autofree char *message = NULL;

      /* TRANSLATORS: a file of the Open Recent menu is gone */
      message = g_strdup_printf (_("“%s” no longer exists and was removed from the recent files"),
                                 name);
      if (self->settings != NULL)
        remove_recent (self, key, path);
      lens_window_show_message (self, message);
      return;
    }
  file = g_file_new_for_path (path);
  if (model)
    lens_window_open_model (self, file);
  else
    lens_window_open_image (self, file);
}

static void
open_recent_model_activated (GSimpleAction *action,
                             GVariant      *param,
                             gpointer       self)
{
  open_recent (self, "recent-models", g_variant_get_string (param, NULL), TRUE);
}

static void
open_recent_image_activated (GSimpleAction *action,
                             GVariant      *param,
                             gpointer       self)
{
  open_recent (self, "recent-images", g_variant_get_string (param, NULL), FALSE);
}

static void
preferences_activated (GSimpleAction *action,
                       GVariant      *param,
                       gpointer       user_data)
{
  LensWindow *self = user_data;
  GtkWindow *prefs;

  if (self->settings == NULL)
    {
      lens_window_show_message (self, _("Preferences cannot be saved: the settings schema is not installed"));
      return;
    }
  prefs = lens_preferences_new (GTK_WINDOW (self), self->settings);
  gtk_window_present (prefs);
}

/* OpenBLAS must not be resized under a running computation: wait until
 * the engine is idle. */
static void
apply_threads (LensWindow *self)
{
  int n;

  if (self->settings == NULL)
    return;
  if (lens_document_get_busy (self->document) || lens_document_get_sweeping (self->document))
    return;   /* retried on notify::busy / notify::sweeping */
  n = g_settings_get_int (self->settings, "threads");
  /* stored + 1, so that "never applied" is NULL */
  if (GPOINTER_TO_INT (g_object_get_data (G_OBJECT (self), "lens-threads")) == n + 1)
    return;
  lens_set_threads (n);
  g_object_set_data (G_OBJECT (self), "lens-threads", GINT_TO_POINTER (n + 1));
}

static void
on_settings_changed (LensWindow *self,
                     const char *key,
                     GSettings  *settings)
{
  if (g_str_equal (key, "recent-models") || g_str_equal (key, "recent-images"))
    rebuild_recent_menu (self);
  else if (g_str_equal (key, "colour-map"))
    lens_window_occlusion_update (self, "sweep");
  else if (g_str_equal (key, "threads"))
    apply_threads (self);
}

void
lens_window_settings_init (LensWindow *self)
{
  static const GActionEntry entries[] = {
    { "open-recent-model", open_recent_model_activated, "s" },
    { "open-recent-image", open_recent_image_activated, "s" },
    { "preferences", preferences_activated },
  };

  g_action_map_add_action_entries (G_ACTION_MAP (self), entries, G_N_ELEMENTS (entries), self);
  if (self->settings == NULL)
    return;

  g_signal_connect_object (self->settings, "changed", G_CALLBACK (on_settings_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "notify::busy", G_CALLBACK (apply_threads), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "notify::sweeping", G_CALLBACK (apply_threads), self,
                           G_CONNECT_SWAPPED);
  /* the engine starts with all cores */
  if (g_settings_get_int (self->settings, "threads") != 0)
    apply_threads (self);
  rebuild_recent_menu (self);
}
