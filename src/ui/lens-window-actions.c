/* lens-window-actions.c: the win.* actions, their keys and enabled state */
#define G_LOG_DOMAIN "lens-window-actions"

#include "lens-config.h"

#include <glib/gi18n.h>

#include "lens-export.h"
#include "lens-window-private.h"

static void
set_enabled (LensWindow *self,
             const char *name,
             gboolean    enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

/* The one place that decides what can be done now. */
void
lens_window_update_actions (LensWindow *self)
{
  LensModelInfo *model = lens_document_get_model (self->document);
  LensTraceInfo *trace = lens_document_get_trace (self->document);
  LensLayerMaps *maps = lens_document_get_maps (self->document);
  int layer = lens_document_get_selected_layer (self->document);
  int channel = lens_document_get_selected_channel (self->document);
  gboolean exporting = self->export_cancellable != NULL;

  set_enabled (self, "open-image", model != NULL);
  set_enabled (self, "export", !exporting && (maps != NULL || (trace != NULL && trace->input)));
  set_enabled (self, "previous-layer", model != NULL && layer > 0);
  set_enabled (self, "next-layer", model != NULL && layer + 1 < (int) model->n_layers);
  set_enabled (self, "previous-channel", maps != NULL && channel > 0);
  set_enabled (self, "next-channel", maps != NULL && channel + 1 < (int) maps->n_channels);
  set_enabled (self, "focus-channels", maps != NULL);
  set_enabled (self, "sweep", trace != NULL && !lens_document_get_sweeping (self->document));
  set_enabled (self, "cancel-sweep", lens_document_get_sweeping (self->document));
}

static void
add_filter (GtkFileChooser     *chooser,
            const char         *name,
            const char * const *mime_types,
            const char * const *patterns)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, name);
  for (guint i = 0; mime_types != NULL && mime_types[i] != NULL; i++)
    gtk_file_filter_add_mime_type (filter, mime_types[i]);
  for (guint i = 0; patterns != NULL && patterns[i] != NULL; i++)
    gtk_file_filter_add_pattern (filter, patterns[i]);
  gtk_file_chooser_add_filter (chooser, filter);
}

/* Starts the dialog in the folder of the file last opened for `key`. */
static void
start_in_folder_of (LensWindow     *self,
                    GtkFileChooser *chooser,
                    const char     *key)
{
  g_autofree char *last = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(GFile) folder = NULL;

  if (self->settings == NULL)
    return;
  last = g_settings_get_string (self->settings, key);
  if (last == NULL || last[0] == '\0')
    return;
  dir = g_path_get_dirname (last);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return;
  folder = g_file_new_for_path (dir);
  gtk_file_chooser_set_current_folder (chooser, folder, NULL);
}

static GtkFileChooser *
lens_window_new_chooser (LensWindow           *self,
                         const char           *title,
                         GtkFileChooserAction  action,
                         const char           *accept,
                         GCallback             on_response)
{
  GtkFileChooserNative *native;

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);

  native = gtk_file_chooser_native_new (title, GTK_WINDOW (self), action, accept, _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  g_signal_connect_object (native, "response", on_response, self, G_CONNECT_SWAPPED);
  self->chooser = GTK_NATIVE_DIALOG (native);
  return GTK_FILE_CHOOSER (native);
}

static GFile *
take_chooser_file (LensWindow *self,
                   int         response)
{
  GFile *file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (self->chooser));
  gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  return file;
}

static void
on_open_model_response (LensWindow *self,
                        int         response)
{
  g_autoptr(GFile) file = take_chooser_file (self, response);

  if (file != NULL)
    lens_window_open_model (self, file);
}

static void
open_model_activated (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  LensWindow *self = user_data;
  static const char * const mime[] = { "application/onnx", NULL };
  static const char * const patterns[] = { "*.onnx", "*.ONNX", NULL };
  GtkFileChooser *chooser;

  chooser = lens_window_new_chooser (self, _("Open Model"), GTK_FILE_CHOOSER_ACTION_OPEN,
                                     _("_Open"), G_CALLBACK (on_open_model_response));
  add_filter (chooser, _("ONNX Models"), mime, patterns);
  add_filter (chooser, _("All Files"), NULL, (const char * const []) { "*", NULL });
  start_in_folder_of (self, chooser, "last-model");
  gtk_native_dialog_show (self->chooser);
}

static void
on_open_image_response (LensWindow *self,
                        int         response)
{
  g_autoptr(GFile) file = take_chooser_file (self, response);

  if (file != NULL)
    lens_window_open_image (self, file);
}

static void
open_image_activated (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  LensWindow *self = user_data;
  static const char * const mime[] = { "image/png", "image/jpeg", NULL };
  static const char * const patterns[] = { "*.png", "*.jpg", "*.jpeg", NULL };
  GtkFileChooser *chooser;

  chooser = lens_window_new_chooser (self, _("Open Image"), GTK_FILE_CHOOSER_ACTION_OPEN,
                                     _("_Open"), G_CALLBACK (on_open_image_response));
  add_filter (chooser, _("PNG and JPEG Images"), mime, patterns);
  add_filter (chooser, _("All Files"), NULL, (const char * const []) { "*", NULL });
  start_in_folder_of (self, chooser, "last-image");
  gtk_native_dialog_show (self->chooser);
}

static void
on_export_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LensWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  g_autofree char *path = g_steal_pointer (&self->export_path);

  /* cancelled only when the window went away: nothing left to update */
  if (!lens_export_png_finish (result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_clear_object (&self->export_cancellable);
  if (error != NULL)
    message = g_strdup_printf (_("Could not export the figure: %s"), error->message);
  else
    {
      g_autofree char *name = g_path_get_basename (path);

      message = g_strdup_printf (_("Exported “%s”"), name);
    }
  lens_window_show_message (self, message);
  lens_window_update_actions (self);
}

static void
lens_window_export_to (LensWindow *self,
                       const char *path)
{
  LensModelInfo *model = lens_document_get_model (self->document);
  LensTraceInfo *trace = lens_document_get_trace (self->document);
  LensLayerMaps *maps = lens_document_get_maps (self->document);
  g_autoptr(GStrvBuilder) kv = g_strv_builder_new ();
  g_auto(GStrv) text = NULL;

  g_strv_builder_add_many (kv, "Software", "ConvLens " PACKAGE_VERSION, NULL);
  if (model != NULL)
    {
      g_autofree char *name = g_path_get_basename (model->path);

      g_strv_builder_add_many (kv, "Model", name, NULL);
    }
  if (trace != NULL && trace->image_path != NULL)
    {
      g_autofree char *name = g_path_get_basename (trace->image_path);

      g_strv_builder_add_many (kv, "Image", name, NULL);
    }
  if (maps != NULL && model != NULL)
    g_strv_builder_add_many (kv, "Layer", model->layers[maps->layer].name,
                             "Op", model->layers[maps->layer].op,
                             "Normalisation",
                             maps->norm == LENS_NORM_SHARED ? "shared" : "per channel", NULL);
  text = g_strv_builder_end (kv);

  g_free (self->export_path);
  self->export_path = g_strdup (path);
  self->export_cancellable = g_cancellable_new ();
  lens_export_png_async (maps, trace ? trace->input : NULL, path, (const char * const *) text,
                         self->export_cancellable, on_export_done, g_object_ref (self));
  lens_window_update_actions (self);
}

static void
on_export_response (LensWindow *self,
                    int         response)
{
  g_autoptr(GFile) file = take_chooser_file (self, response);
  g_autofree char *path = NULL;

  if (file == NULL)
    return;
  path = g_file_get_path (file);
  if (path == NULL)
    {
      lens_window_show_message (self, _("Only local files can be written"));
      return;
    }
  lens_window_export_to (self, path);
}

static void
export_activated (GSimpleAction *action,
                  GVariant      *param,
                  gpointer       user_data)
{
  LensWindow *self = user_data;
  static const char * const mime[] = { "image/png", NULL };
  g_autofree char *name = lens_window_suggest_export_name (self);
  GtkFileChooser *chooser;

  /* a string parameter is the target path (tests, scripts) */
  if (param != NULL && g_variant_get_string (param, NULL)[0] != '\0')
    {
      lens_window_export_to (self, g_variant_get_string (param, NULL));
      return;
    }

  chooser = lens_window_new_chooser (self, _("Export Figure"), GTK_FILE_CHOOSER_ACTION_SAVE,
                                     _("_Export"), G_CALLBACK (on_export_response));
  add_filter (chooser, _("PNG Images"), mime, NULL);
  gtk_file_chooser_set_current_name (chooser, name);
  gtk_native_dialog_show (self->chooser);
}

static void
step_layer (LensWindow *self,
            int         delta)
{
  int layer = lens_document_get_selected_layer (self->document);

  lens_document_select_layer (self->document, MAX (0, layer + delta));
  layer = lens_document_get_selected_layer (self->document);
  if (layer >= 0)
    gtk_widget_activate_action (GTK_WIDGET (lens_layer_list_get_list_view (self->layer_list)),
                                "list.scroll-to-item", "u", (guint) layer);
}

static void
step_channel (LensWindow *self,
              int         delta)
{
  int channel = lens_document_get_selected_channel (self->document);

  lens_document_select_channel (self->document, MAX (0, channel + delta));
  channel = lens_document_get_selected_channel (self->document);
  if (channel >= 0)
    gtk_widget_activate_action (GTK_WIDGET (lens_feature_grid_get_grid_view (self->feature_grid)),
                                "list.scroll-to-item", "u", (guint) channel);
}

static void
next_layer_activated (GSimpleAction *a, GVariant *p, gpointer self)
{
  step_layer (self, +1);
}

static void
previous_layer_activated (GSimpleAction *a, GVariant *p, gpointer self)
{
  step_layer (self, -1);
}

static void
next_channel_activated (GSimpleAction *a, GVariant *p, gpointer self)
{
  step_channel (self, +1);
}

static void
previous_channel_activated (GSimpleAction *a, GVariant *p, gpointer self)
{
  step_channel (self, -1);
}

static void
sweep_activated (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  LensWindow *self = user_data;

  lens_document_sweep (self->document);
}

static void
cancel_sweep_activated (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  LensWindow *self = user_data;

  lens_document_cancel_sweep (self->document);
}

static void
cancel_job_activated (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  LensWindow *self = user_data;

  lens_document_cancel_jobs (self->document);
}

static void
focus_channels_activated (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  LensWindow *self = user_data;

  gtk_widget_grab_focus (GTK_WIDGET (lens_feature_grid_get_grid_view (self->feature_grid)));
}

/* Arrow keys step through channels, unless a list that moves its own
 * cursor with them has the focus. */
static gboolean
on_arrow_key (GtkWidget *widget,
              GVariant  *args,
              gpointer   user_data)
{
  LensWindow *self = LENS_WINDOW (widget);
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));
  int dx, dy;

  g_variant_get (args, "(ii)", &dx, &dy);
  if (focus != NULL && GTK_IS_EDITABLE (focus))
    return FALSE;
  if (g_strcmp0 (adw_view_stack_get_visible_child_name (self->view_stack), "occlusion") == 0 &&
      gtk_stack_get_visible_child_name (self->main_stack) != NULL &&
      g_str_equal (gtk_stack_get_visible_child_name (self->main_stack), "model"))
    {
      if (focus != NULL && gtk_widget_is_ancestor (focus, GTK_WIDGET (self->layer_list)))
        return FALSE;
      lens_window_move_occluder (self, dx, dy);
      return TRUE;
    }

  if (focus != NULL &&
      (gtk_widget_is_ancestor (focus, GTK_WIDGET (self->layer_list)) ||
       gtk_widget_is_ancestor (focus, GTK_WIDGET (self->feature_grid)) ||
       GTK_IS_EDITABLE (focus)))
    return FALSE;
  if (lens_document_get_maps (self->document) == NULL)
    return FALSE;

  step_channel (self, dx + dy);
  return TRUE;
}

static void
add_shortcut (GtkShortcutController *controller,
              guint                  keyval,
              GtkShortcutAction     *action,
              GVariant              *args)
{
  GtkShortcut *shortcut = gtk_shortcut_new (gtk_keyval_trigger_new (keyval, 0), action);

  if (args != NULL)
    gtk_shortcut_set_arguments (shortcut, args);
  gtk_shortcut_controller_add_shortcut (controller, shortcut);
}

void
lens_window_actions_init (LensWindow *self)
{
  static const GActionEntry entries[] = {
    { "open-model", open_model_activated },
    { "open-image", open_image_activated },
    { "export", export_activated, "s" },
    { "next-layer", next_layer_activated },
    { "previous-layer", previous_layer_activated },
    { "next-channel", next_channel_activated },
    { "previous-channel", previous_channel_activated },
    { "focus-channels", focus_channels_activated },
    { "sweep", sweep_activated },
    { "cancel-sweep", cancel_sweep_activated },
    { "cancel-job", cancel_job_activated },
  };
  g_autoptr(GPropertyAction) shared_norm = NULL;
  g_autoptr(GPropertyAction) mode = NULL;
  g_autoptr(GPropertyAction) start = NULL;
  GtkShortcutController *keys;
  GtkShortcutController *escape;

  g_action_map_add_action_entries (G_ACTION_MAP (self), entries, G_N_ELEMENTS (entries), self);
  shared_norm = g_property_action_new ("shared-norm", self->document, "shared-norm");
  g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (shared_norm));
  /* the document's properties are bound to GSettings (when installed) */
  mode = g_property_action_new ("projection-mode", self->document, "projection-mode");
  g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (mode));
  start = g_property_action_new ("projection-start", self->document, "projection-start");
  g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (start));

  /* Escape stops the running projection or sweep, after popovers and
   * dialogs had their turn */
  escape = GTK_SHORTCUT_CONTROLLER (gtk_shortcut_controller_new ());
  add_shortcut (escape, GDK_KEY_Escape, gtk_named_action_new ("win.cancel-job"), NULL);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (escape));

  /* Page Up/Down pick the layer wherever the focus is (the lists would
   * otherwise scroll with them), so this runs in the capture phase. */
  keys = GTK_SHORTCUT_CONTROLLER (gtk_shortcut_controller_new ());
  gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (keys), GTK_PHASE_CAPTURE);
  add_shortcut (keys, GDK_KEY_Page_Down, gtk_named_action_new ("win.next-layer"), NULL);
  add_shortcut (keys, GDK_KEY_KP_Page_Down, gtk_named_action_new ("win.next-layer"), NULL);
  add_shortcut (keys, GDK_KEY_Page_Up, gtk_named_action_new ("win.previous-layer"), NULL);
  add_shortcut (keys, GDK_KEY_KP_Page_Up, gtk_named_action_new ("win.previous-layer"), NULL);
  add_shortcut (keys, GDK_KEY_Left, gtk_callback_action_new (on_arrow_key, NULL, NULL),
                g_variant_new ("(ii)", -1, 0));
  add_shortcut (keys, GDK_KEY_Up, gtk_callback_action_new (on_arrow_key, NULL, NULL),
                g_variant_new ("(ii)", 0, -1));
  add_shortcut (keys, GDK_KEY_Right, gtk_callback_action_new (on_arrow_key, NULL, NULL),
                g_variant_new ("(ii)", 1, 0));
  add_shortcut (keys, GDK_KEY_Down, gtk_callback_action_new (on_arrow_key, NULL, NULL),
                g_variant_new ("(ii)", 0, 1));
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (keys));
}
