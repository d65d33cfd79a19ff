/* lens-analyses-view.c: a sidebar list of analyses and a stack of their pages */
#define G_LOG_DOMAIN "lens-analyses"

#include "lens-config.h"

#include <glib/gi18n.h>

#include "lens-analyses-view.h"

struct _LensAnalysesView
{
  GtkWidget     parent_instance;

  GtkWidget    *paned;
  GtkStack     *stack;
  GtkWidget    *sidebar;
  LensDocument *document;
};

G_DEFINE_FINAL_TYPE (LensAnalysesView, lens_analyses_view, GTK_TYPE_WIDGET)

void
lens_analyses_view_add_page (LensAnalysesView *self,
                             const char       *name,
                             const char       *title,
                             GtkWidget        *page)
{
  GtkStackPage *stack_page;

  g_return_if_fail (LENS_IS_ANALYSES_VIEW (self));
  g_return_if_fail (name != NULL && title != NULL);
  g_return_if_fail (GTK_IS_WIDGET (page));

  GtkWidget *scrolled;

  /* narrow windows scroll the page sideways instead of clipping it */
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_AUTOMATIC,
                                  GTK_POLICY_NEVER);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), page);
  stack_page = gtk_stack_add_titled (self->stack, scrolled, name, title);
  /* the sidebar row reads the title; the page itself is named after it */
  gtk_accessible_update_property (GTK_ACCESSIBLE (page),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  (void) stack_page;
}

LensDocument *
lens_analyses_view_get_document (LensAnalysesView *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSES_VIEW (self), NULL);
  return self->document;
}

void
lens_analyses_view_set_visible_page (LensAnalysesView *self,
                                     const char       *name)
{
  g_return_if_fail (LENS_IS_ANALYSES_VIEW (self));
  if (gtk_stack_get_child_by_name (self->stack, name) != NULL)
    gtk_stack_set_visible_child_name (self->stack, name);
}

GtkWidget *
lens_analyses_view_get_page (LensAnalysesView *self,
                             const char       *name)
{
  GtkWidget *scrolled;

  g_return_val_if_fail (LENS_IS_ANALYSES_VIEW (self), NULL);
  scrolled = gtk_stack_get_child_by_name (self->stack, name);
  if (scrolled == NULL)
    return NULL;
  /* the scrolled window holds the page in a viewport */
  return gtk_viewport_get_child (GTK_VIEWPORT (gtk_scrolled_window_get_child (
                                   GTK_SCROLLED_WINDOW (scrolled))));
}

void
lens_analyses_show_run_error (GtkWidget    *widget,
                              const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    lens_analyses_show_toast (widget, _("Analysis cancelled"));
  else
    lens_analyses_show_toast (widget, error->message);
}

void
lens_analyses_show_toast (GtkWidget  *widget,
                          const char *message)
{
  GtkWidget *overlay;
  AdwToast *toast;

  g_return_if_fail (GTK_IS_WIDGET (widget));

  overlay = gtk_widget_get_ancestor (widget, ADW_TYPE_TOAST_OVERLAY);
  if (overlay == NULL)
    {
      g_message ("%s", message);
      return;
    }
  toast = adw_toast_new (message);
  adw_toast_set_timeout (toast, 6);
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), toast);
}

/* -- helpers ------------------------------------------------------------- */

LensNet *
lens_analyses_load_net (const char   *path,
                        LensProfile **profile,
                        GError      **error)
{
  LensLoadOptions options = { 0 };
  g_autoptr(LensNet) net = NULL;
  const LensShape *in;

  net = lens_net_load_onnx (path, &options, error);
  if (net == NULL)
    return NULL;
  in = lens_net_get_input_shape (net);
  if (in == NULL || in->ndim != 4)
    {
      g_autofree char *name = g_path_get_basename (path);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The model “%s” does not take an image"), name);
      return NULL;
    }
  if (profile != NULL)
    {
      *profile = lens_profile_guess (path, (int) in->dims[1], (int) in->dims[2],
                                     (int) in->dims[3], error);
      if (*profile == NULL)
        return NULL;
    }
  return g_steal_pointer (&net);
}

GdkTexture *
lens_analyses_texture_new (const guint8 *rgb,
                           int           width,
                           int           height)
{
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (rgb != NULL && width > 0 && height > 0, NULL);

  bytes = g_bytes_new (rgb, (gsize) width * height * 3);
  return gdk_memory_texture_new (width, height, GDK_MEMORY_R8G8B8, bytes, (gsize) width * 3);
}

typedef struct
{
  GtkProgressBar *bar;
  double          fraction;
} ProgressUpdate;

static gboolean
apply_progress (gpointer data)
{
  ProgressUpdate *update = data;

  gtk_progress_bar_set_fraction (update->bar, CLAMP (update->fraction, 0.0, 1.0));
  return G_SOURCE_REMOVE;
}

static void
free_progress (gpointer data)
{
  ProgressUpdate *update = data;

  g_object_unref (update->bar);
  g_free (update);
}

void
lens_analyses_post_progress (GtkProgressBar *bar,
                             double          fraction)
{
  ProgressUpdate *update = g_new (ProgressUpdate, 1);

  update->bar = g_object_ref (bar);
  update->fraction = fraction;
  g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, apply_progress, update, free_progress);
}

GtkWidget *
lens_analyses_labelled (const char *label,
                        GtkWidget  *control)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *text = gtk_label_new_with_mnemonic (label);

  gtk_label_set_mnemonic_widget (GTK_LABEL (text), control);
  gtk_widget_add_css_class (text, "dim-label");
  gtk_box_append (GTK_BOX (box), text);
  gtk_box_append (GTK_BOX (box), control);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (control),
                                  GTK_ACCESSIBLE_RELATION_LABELLED_BY, text, NULL, -1);
  return box;
}

static gboolean
on_escape (GtkWidget *page,
           GVariant  *args,
           gpointer   data)
{
  void (*callback) (GtkWidget *) = data;

  callback (page);
  return TRUE;
}

void
lens_analyses_add_escape (GtkWidget *page,
                          GCallback  callback)
{
  GtkEventController *controller = gtk_shortcut_controller_new ();
  GtkShortcut *shortcut;

  shortcut = gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                               gtk_callback_action_new ((GtkShortcutFunc) on_escape,
                                                        (gpointer) callback, NULL));
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller), shortcut);
  gtk_widget_add_controller (page, controller);
}

typedef struct
{
  GtkWidget *page;
  gboolean   save;
  void     (*save_done) (GtkWidget *page, const char *path);
  void     (*open_done) (GtkWidget *page, GStrv paths);
} ChooserData;

static void
on_chooser_response (GtkNativeDialog *dialog,
                     int              response,
                     ChooserData     *data)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));

      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        {
          g_autoptr(GFile) file = g_list_model_get_item (files, i);
          char *path = g_file_get_path (file);

          if (path != NULL)
            g_ptr_array_add (paths, path);
        }
    }
  g_ptr_array_add (paths, NULL);
  if (data->save)
    data->save_done (data->page, paths->len > 1 ? g_ptr_array_index (paths, 0) : NULL);
  else
    data->open_done (data->page, paths->len > 1 ? (GStrv) paths->pdata : NULL);

  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (data->page);
  g_free (data);
}

static void
run_chooser (GtkWidget            *page,
             GtkFileChooserNative *native,
             ChooserData          *data)
{
  data->page = g_object_ref (page);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  g_signal_connect (native, "response", G_CALLBACK (on_chooser_response), data);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

void
lens_analyses_choose_save (GtkWidget  *page,
                           const char *title,
                           const char *suggested,
                           void      (*done) (GtkWidget *page, const char *path))
{
  GtkRoot *root = gtk_widget_get_root (page);
  GtkFileChooserNative *native;
  ChooserData *data = g_new0 (ChooserData, 1);

  native = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  if (suggested != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), suggested);
  data->save = TRUE;
  data->save_done = done;
  run_chooser (page, native, data);
}

void
lens_analyses_choose_open (GtkWidget  *page,
                           const char *title,
                           gboolean    folder,
                           gboolean    multiple,
                           const char *pattern,
                           void      (*done) (GtkWidget *page, GStrv paths))
{
  GtkRoot *root = gtk_widget_get_root (page);
  GtkFileChooserNative *native;
  ChooserData *data = g_new0 (ChooserData, 1);

  native = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                        folder ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER
                                               : GTK_FILE_CHOOSER_ACTION_OPEN,
                                        _("_Open"), _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (native), multiple);
  if (pattern != NULL)
    {
      g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

      gtk_file_filter_add_pattern (filter, pattern);
      gtk_file_filter_set_name (filter, pattern);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
    }
  data->open_done = done;
  run_chooser (page, native, data);
}

static void
lens_analyses_view_dispose (GObject *object)
{
  LensAnalysesView *self = LENS_ANALYSES_VIEW (object);

  g_clear_pointer (&self->paned, gtk_widget_unparent);
  g_clear_object (&self->document);

  G_OBJECT_CLASS (lens_analyses_view_parent_class)->dispose (object);
}

static void
lens_analyses_view_class_init (LensAnalysesViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lens_analyses_view_dispose;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "analyses-view");
}

static void
lens_analyses_view_init (LensAnalysesView *self)
{
  GtkWidget *scrolled;

  self->stack = GTK_STACK (gtk_stack_new ());
  gtk_stack_set_transition_type (self->stack, GTK_STACK_TRANSITION_TYPE_CROSSFADE);
  gtk_widget_set_hexpand (GTK_WIDGET (self->stack), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self->stack), TRUE);

  self->sidebar = gtk_stack_sidebar_new ();
  gtk_stack_sidebar_set_stack (GTK_STACK_SIDEBAR (self->sidebar), self->stack);
  gtk_widget_set_size_request (self->sidebar, 150, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->sidebar),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Analyses"), -1);

  self->paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  gtk_paned_set_start_child (GTK_PANED (self->paned), self->sidebar);
  gtk_paned_set_resize_start_child (GTK_PANED (self->paned), FALSE);
  gtk_paned_set_shrink_start_child (GTK_PANED (self->paned), FALSE);
  scrolled = GTK_WIDGET (self->stack);
  gtk_paned_set_end_child (GTK_PANED (self->paned), scrolled);
  gtk_paned_set_shrink_end_child (GTK_PANED (self->paned), FALSE);
  gtk_widget_set_parent (self->paned, GTK_WIDGET (self));
}

LensAnalysesView *
lens_analyses_view_new (LensDocument *document)
{
  LensAnalysesView *self;

  g_return_val_if_fail (LENS_IS_DOCUMENT (document), NULL);

  self = g_object_new (LENS_TYPE_ANALYSES_VIEW, NULL);
  self->document = g_object_ref (document);
  return self;
}

void
lens_analyses_end_run_focus (gpointer               page,
                             LensAnalysesPageUpdate update,
                             GtkWidget             *cancel,
                             GtkWidget             *run)
{
  gboolean had_focus = gtk_widget_has_focus (cancel);

  update (page);
  if (had_focus)
    gtk_widget_grab_focus (run);
}
