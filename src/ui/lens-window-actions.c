/* lens-window-actions.c: the win.* actions, their keys and enabled state */
#define G_LOG_DOMAIN "lens-window-actions"

#include "lens-config.h"

#include <glib/gi18n.h>

#include "lens-export.h"
#include "lens-window-export.h"
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
  /* channels step in the grid's order, which may be by activation */
  int channel = lens_feature_grid_get_position (self->feature_grid);
  gboolean exporting = self->export_cancellable != NULL;

  set_enabled (self, "open-image", model != NULL);
  set_enabled (self, "export", !exporting && (maps != NULL || (trace != NULL && trace->input)));
  set_enabled (self, "export-as", !exporting && trace != NULL);
  set_enabled (self, "previous-layer", model != NULL && layer > 0);
  set_enabled (self, "next-layer", model != NULL && layer + 1 < (int) model->n_layers);
  set_enabled (self, "previous-channel", maps != NULL && channel > 0);
  set_enabled (self, "next-channel", maps != NULL && channel + 1 < (int) maps->n_channels);
  set_enabled (self, "focus-channels", maps != NULL);
  set_enabled (self, "project", maps != NULL && lens_document_get_selected_channel (self->document) >= 0);
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

/* win.export(s): '' opens the Export dialog; a path exports what the
 * window shows (the grid, else the input) there (tests, scripts). */
static void
export_activated (GSimpleAction *action,
                  GVariant      *param,
                  gpointer       user_data)
{
  LensWindow *self = user_data;
  const char *path = param != NULL ? g_variant_get_string (param, NULL) : "";

  if (path[0] != '\0')
    lens_window_export_to (self, lens_window_default_export (self), 0, path);
  else
    lens_window_show_export_dialog (self);
}

/* win.export-as((sis)): kind name, scale (0: automatic), path. */
static void
export_as_activated (GSimpleAction *action,
                     GVariant      *param,
                     gpointer       user_data)
{
  LensWindow *self = user_data;
  const char *name, *path;
  LensExportKind kind;
  int scale;

  g_variant_get (param, "(&si&s)", &name, &scale, &path);
  if (!lens_export_kind_from_string (name, &kind))
    {
      g_autofree char *message = g_strdup_printf (_("Unknown kind of export “%s”"), name);

      lens_window_show_message (self, message);
      return;
    }
  lens_window_export_to (self, kind, scale, path);
}

static void
step_layer (LensWindow *self,
            int         delta)
{
  int layer = lens_document_get_selected_layer (self->document);

  /* the layer tree unfolds and scrolls to it */
  lens_document_select_layer (self->document, MAX (0, layer + delta));
}

static void
step_channel (LensWindow *self,
              int         delta)
{
  lens_feature_grid_step (self->feature_grid, delta);
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
project_activated (GSimpleAction *a, GVariant *p, gpointer user_data)
{
  LensWindow *self = user_data;

  lens_document_project (self->document);
}

/* Ctrl+plus/minus/0 zoom the image of the view shown. */
static gboolean
on_zoom_key (GtkWidget *widget,
             GVariant  *args,
             gpointer   user_data)
{
  LensWindow *self = LENS_WINDOW (widget);
  LensImageCanvas *canvas = self->input_canvas;

  if (g_strcmp0 (adw_view_stack_get_visible_child_name (self->view_stack), "occlusion") == 0)
    canvas = self->occlusion_canvas;
  return gtk_widget_activate_action (GTK_WIDGET (canvas), g_variant_get_string (args, NULL), NULL);
}

static void
add_zoom_shortcut (GtkShortcutController *controller,
                   const char            *triggers,
                   const char            *action)
{
  GtkShortcut *shortcut = gtk_shortcut_new (gtk_shortcut_trigger_parse_string (triggers),
                                            gtk_callback_action_new (on_zoom_key, NULL, NULL));

  gtk_shortcut_set_arguments (shortcut, g_variant_new_string (action));
  gtk_shortcut_controller_add_shortcut (controller, shortcut);
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
    { "export-as", export_as_activated, "(sis)" },
    { "next-layer", next_layer_activated },
    { "previous-layer", previous_layer_activated },
    { "next-channel", next_channel_activated },
    { "previous-channel", previous_channel_activated },
    { "focus-channels", focus_channels_activated },
    { "project", project_activated },
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
  /* Enter projects the selected channel when the focused widget has no
   * use for it (the grid and the layer tree project on their own) */
  add_shortcut (escape, GDK_KEY_Return, gtk_named_action_new ("win.project"), NULL);
  add_shortcut (escape, GDK_KEY_KP_Enter, gtk_named_action_new ("win.project"), NULL);
  add_zoom_shortcut (escape, "<Control>plus|<Control>equal|<Control>KP_Add", "canvas.zoom-in");
  add_zoom_shortcut (escape, "<Control>minus|<Control>KP_Subtract", "canvas.zoom-out");
  add_zoom_shortcut (escape, "<Control>0|<Control>KP_0", "canvas.zoom-reset");
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
