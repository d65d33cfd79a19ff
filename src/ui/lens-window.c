/* lens-window.c: the main window — layers, feature maps, input, predictions */
#define G_LOG_DOMAIN "lens-window"

#include "lens-config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "lens-analysis-correspondence.h"
#include "lens-analysis-evolution.h"
#include "lens-analysis-filters.h"
#include "lens-analysis-invariance.h"
#include "lens-analysis-probe.h"
#include "lens-analysis-topk.h"
#include "lens-frame-trace.h"
#include "lens-window-private.h"

G_DEFINE_FINAL_TYPE (LensWindow, lens_window, ADW_TYPE_APPLICATION_WINDOW)

void
lens_window_show_message (LensWindow *self,
                          const char *message)
{
  AdwToast *toast;

  g_return_if_fail (LENS_IS_WINDOW (self));

  toast = adw_toast_new (message);
  adw_toast_set_timeout (toast, 6);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
on_document_error (LensWindow *self,
                   const char *message)
{
  lens_window_show_message (self, message);
}

static void
lens_window_update_title (LensWindow *self)
{
  LensModelInfo *model = lens_document_get_model (self->document);
  g_autofree char *file_name = NULL;
  g_autofree char *title = NULL;

  if (model == NULL)
    {
      gtk_window_set_title (GTK_WINDOW (self), _("ConvLens"));
      adw_view_switcher_title_set_subtitle (self->window_title, NULL);
      adw_view_switcher_title_set_view_switcher_enabled (self->window_title, FALSE);
      gtk_stack_set_visible_child_name (self->main_stack, "empty");
      return;
    }

  file_name = g_path_get_basename (model->path);
  /* TRANSLATORS: the window title with the open model's file name */
  title = g_strdup_printf (_("ConvLens — %s"), file_name);
  gtk_window_set_title (GTK_WINDOW (self), title);
  adw_view_switcher_title_set_subtitle (self->window_title, file_name);
  adw_view_switcher_title_set_view_switcher_enabled (self->window_title, TRUE);
  gtk_stack_set_visible_child_name (self->main_stack, "model");

  if (self->settings != NULL)
    g_settings_set_string (self->settings, "last-model", model->path);
  lens_window_add_recent (self, "recent-models", model->path);
}

static void
lens_window_update_input (LensWindow *self)
{
  LensTraceInfo *trace = lens_document_get_trace (self->document);
  g_autofree char *caption = NULL;

  lens_image_canvas_set_pixels (self->input_canvas, trace ? trace->input : NULL);
  if (trace == NULL || trace->input == NULL)
    {
      gtk_label_set_text (self->input_caption, _("No image"));
      return;
    }

  {
    g_autofree char *file_name = g_path_get_basename (trace->image_path);

    /* TRANSLATORS: caption of the input image: file name, network input
     * size, size of the file's image */
    caption = g_strdup_printf (_("%s · %d×%d (from %d×%d)"), file_name,
                               lens_pixels_get_width (trace->input),
                               lens_pixels_get_height (trace->input),
                               trace->image_width, trace->image_height);
  }
  gtk_label_set_text (self->input_caption, caption);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->input_caption), trace->image_path);

  if (self->settings != NULL)
    g_settings_set_string (self->settings, "last-image", trace->image_path);
  lens_window_add_recent (self, "recent-images", trace->image_path);
}

static void
lens_window_update_channel (LensWindow *self)
{
  LensLayerMaps *maps = lens_document_get_maps (self->document);
  int channel = lens_document_get_selected_channel (self->document);
  g_autofree char *caption = NULL;

  lens_image_canvas_set_pixels (self->channel_canvas,
                                lens_document_get_channel_pixels (self->document));
  if (maps == NULL || channel < 0 || (guint) channel >= maps->n_channels)
    {
      gtk_label_set_text (self->channel_caption, _("No channel selected"));
      return;
    }

  /* TRANSLATORS: caption of the selected feature map: index, size, max */
  caption = g_strdup_printf (_("Channel %d · %d×%d · max %.4g"), channel,
                             maps->map_width, maps->map_height, maps->max[channel]);
  gtk_label_set_text (self->channel_caption, caption);
}

static const char *
mode_name (LensProjectMode mode)
{
  switch (mode)
    {
    case LENS_PROJECT_GUIDED:
      return _("Guided backprop");
    case LENS_PROJECT_GRADIENT:
      return _("Gradient");
    case LENS_PROJECT_DECONV:
    default:
      return _("Deconvnet");
    }
}

static void
lens_window_update_projection (LensWindow *self)
{
  LensProjection *proj = lens_document_get_projection (self->document);
  g_autofree char *caption = NULL;
  graphene_rect_t box;

  lens_image_canvas_set_pixels (self->projection_canvas, proj ? proj->pixels : NULL);
  if (proj == NULL)
    {
      lens_image_canvas_set_box (self->input_canvas, NULL);
      gtk_label_set_text (self->projection_caption,
                          lens_document_get_maps (self->document) != NULL
                            ? _("Click a channel to project it") : "");
      return;
    }

  graphene_rect_init (&box, proj->rf.x0, proj->rf.y0, proj->rf.x1 - proj->rf.x0,
                      proj->rf.y1 - proj->rf.y0);
  lens_image_canvas_set_box (self->input_canvas, proj->start == LENS_START_MAP ? NULL : &box);
  if (proj->start == LENS_START_MAP)
    /* TRANSLATORS: projection caption: mode, channel */
    caption = g_strdup_printf (_("%s · channel %d · whole map"), mode_name (proj->mode),
                               proj->channel);
  else
    /* TRANSLATORS: projection caption: mode, channel, start position in the map */
    caption = g_strdup_printf (_("%s · channel %d at (%d, %d)"), mode_name (proj->mode),
                               proj->channel, proj->start_x, proj->start_y);
  gtk_label_set_text (self->projection_caption, caption);
}

static void
on_channel_canvas_pressed (LensWindow      *self,
                           int              n_press,
                           double           x,
                           double           y,
                           GtkGestureClick *gesture)
{
  LensPixels *pixels = lens_image_canvas_get_pixels (self->channel_canvas);
  double ix, iy;

  if (pixels == NULL || !lens_image_canvas_to_image (self->channel_canvas, x, y, &ix, &iy))
    return;
  if (ix < 0 || iy < 0 || ix >= lens_pixels_get_width (pixels) ||
      iy >= lens_pixels_get_height (pixels))
    return;
  lens_document_project_point (self->document, (int) ix, (int) iy);
}

static void
on_channel_activated (LensWindow  *self,
                      guint        position,
                      GtkGridView *view)
{
  /* the grid may be sorted: the position is not the channel */
  lens_document_select_channel (self->document,
                                lens_feature_grid_get_channel_at (self->feature_grid, position));
  lens_document_project (self->document);
}

/* GTK gives the first focusable widget the focus when the window opens:
 * a header bar button (or the empty page's button, soon hidden), where
 * Enter would open a file chooser.  Once there are feature maps to look
 * at, the keyboard belongs to them, unless the user put it elsewhere. */
static void
lens_window_place_focus (LensWindow *self)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));
  GtkWidget *grid = GTK_WIDGET (lens_feature_grid_get_grid_view (self->feature_grid));

  if (lens_document_get_maps (self->document) == NULL || !gtk_widget_get_mapped (grid))
    return;
  if (focus == NULL || !gtk_widget_get_mapped (focus) ||
      gtk_widget_get_ancestor (focus, ADW_TYPE_HEADER_BAR) != NULL)
    gtk_widget_grab_focus (grid);
}

static void
on_document_changed (LensWindow *self,
                     GParamSpec *pspec)
{
  const char *name = g_param_spec_get_name (pspec);
  gint64 start = g_get_monotonic_time ();

  if (g_str_equal (name, "projection"))
    lens_window_update_projection (self);
  else if (g_str_equal (name, "maps"))
    lens_window_update_projection (self);
  lens_window_occlusion_update (self, name);

  if (g_str_equal (name, "model"))
    lens_window_update_title (self);
  else if (g_str_equal (name, "trace"))
    lens_window_update_input (self);
  else if (g_str_equal (name, "maps") || g_str_equal (name, "selected-channel"))
    lens_window_update_channel (self);
  if (g_str_equal (name, "maps"))
    lens_window_place_focus (self);
  else if (g_str_equal (name, "busy"))
    gtk_spinner_set_spinning (self->spinner, lens_document_get_busy (self->document));

  lens_window_update_actions (self);
  lens_frame_trace_mark (self, name, start);
}

LensDocument *
lens_window_get_document (LensWindow *self)
{
  g_return_val_if_fail (LENS_IS_WINDOW (self), NULL);
  return self->document;
}

void
lens_window_open_model (LensWindow *self,
                        GFile      *file)
{
  g_autofree char *path = NULL;

  g_return_if_fail (LENS_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  path = g_file_get_path (file);
  if (path == NULL)
    {
      lens_window_show_message (self, _("Only local files can be opened"));
      return;
    }
  lens_document_open_model (self->document, path);
}

void
lens_window_open_image (LensWindow *self,
                        GFile      *file)
{
  g_autofree char *path = NULL;

  g_return_if_fail (LENS_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  path = g_file_get_path (file);
  if (path == NULL)
    {
      lens_window_show_message (self, _("Only local files can be opened"));
      return;
    }
  lens_document_open_image (self->document, path);
}

static gboolean
on_drop (LensWindow   *self,
         const GValue *value,
         double        x,
         double        y)
{
  GSList *files;

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;

  /* a dropped .onnx is a model, anything else is taken for an image */
  files = gdk_file_list_get_files (g_value_get_boxed (value));
  for (GSList *l = files; l != NULL; l = l->next)
    {
      g_autofree char *name = g_file_get_basename (l->data);
      g_autofree char *lower = name ? g_ascii_strdown (name, -1) : NULL;

      if (lower != NULL && g_str_has_suffix (lower, ".onnx"))
        lens_window_open_model (self, l->data);
      else
        lens_window_open_image (self, l->data);
    }
  g_slist_free (files);
  return TRUE;
}

char *
lens_window_suggest_export_name (LensWindow *self)
{
  LensModelInfo *model = lens_document_get_model (self->document);
  LensLayerMaps *maps = lens_document_get_maps (self->document);
  g_autofree char *stem = NULL;
  g_autofree char *layer = NULL;

  if (model == NULL)
    return g_strdup ("convlens.png");

  stem = g_path_get_basename (model->path);
  if (g_str_has_suffix (stem, ".onnx"))
    stem[strlen (stem) - 5] = '\0';
  if (maps == NULL)
    return g_strdup_printf ("%s-input.png", stem);

  layer = g_strdup (model->layers[maps->layer].name);
  g_strdelimit (layer, "/\\:*?\"<>| ", '_');
  return g_strdup_printf ("%s-%s.png", stem, layer);
}

#define DEFAULT_MODEL "zf-mini.onnx"

/* The first PNG of dir (sorted by name), or NULL. */
static char *
first_png_in (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    return NULL;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".png"))
      g_ptr_array_add (names, g_strdup (name));
  if (names->len == 0)
    return NULL;
  {
    const char *best = g_ptr_array_index (names, 0);

    for (guint i = 1; i < names->len; i++)
      if (g_strcmp0 (g_ptr_array_index (names, i), best) < 0)
        best = g_ptr_array_index (names, i);
    return g_build_filename (dir, best, NULL);
  }
}

char *
lens_find_default_model (char **sample)
{
  const char *datadir = g_getenv ("CONVLENS_DATADIR");
  g_autofree char *model = NULL;
  g_autofree char *samples = NULL;

  /* the source tree: models/ and its sibling resources/samples/ */
  if (datadir != NULL && datadir[0] != '\0')
    {
      g_autofree char *parent = g_path_get_dirname (datadir);

      model = g_build_filename (datadir, DEFAULT_MODEL, NULL);
      samples = g_build_filename (parent, "resources", "samples", NULL);
      if (!g_file_test (model, G_FILE_TEST_IS_REGULAR))
        {
          g_clear_pointer (&model, g_free);
          g_clear_pointer (&samples, g_free);
        }
    }
  /* installed */
  if (model == NULL)
    {
      model = g_build_filename (PKGDATADIR, DEFAULT_MODEL, NULL);
      samples = g_build_filename (PKGDATADIR, "samples", NULL);
      if (!g_file_test (model, G_FILE_TEST_IS_REGULAR))
        return NULL;
    }
  if (sample != NULL)
    *sample = first_png_in (samples);
  return g_steal_pointer (&model);
}

gboolean
lens_window_open_default (LensWindow *self)
{
  g_autofree char *model = NULL;
  g_autofree char *image = NULL;

  g_return_val_if_fail (LENS_IS_WINDOW (self), FALSE);

  if (lens_document_get_model (self->document) != NULL)
    return FALSE;
  if (self->settings != NULL)
    {
      model = g_settings_get_string (self->settings, "last-model");
      image = g_settings_get_string (self->settings, "last-image");
      if (!g_file_test (model, G_FILE_TEST_IS_REGULAR))
        g_clear_pointer (&model, g_free);
      if (image != NULL && !g_file_test (image, G_FILE_TEST_IS_REGULAR))
        g_clear_pointer (&image, g_free);
    }
  if (model == NULL)
    {
      g_clear_pointer (&image, g_free);
      model = lens_find_default_model (&image);
    }
  if (model == NULL)
    return FALSE;   /* the empty state says what to open */

  lens_document_open_model (self->document, model);
  if (image != NULL)
    lens_document_open_image (self->document, image);
  return TRUE;
}

static void
lens_window_setup_settings (LensWindow *self)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  /* g_settings_new() aborts on a missing schema: run unsaved instead */
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema == NULL)
    {
      g_message ("GSettings schema %s not found; settings will not be saved", APP_ID);
      return;
    }

  self->settings = g_settings_new (APP_ID);
  g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-height", self, "default-height",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-maximized", self, "maximized",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "shared-normalisation", self->document, "shared-norm",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "projection-mode", self->document, "projection-mode",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "projection-start", self->document, "projection-start",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "occluder-size", self->document, "occluder-size",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "occluder-stride", self->document, "occluder-stride",
                   G_SETTINGS_BIND_DEFAULT);
}

/* The Analyses view: one page per dataset analysis. */
static void
lens_window_analyses_init (LensWindow *self)
{
  AdwViewStackPage *page;

  self->analyses_view = lens_analyses_view_new (self->document);
  page = adw_view_stack_add_titled (self->view_stack, GTK_WIDGET (self->analyses_view),
                                    "analyses", _("Analyses"));
  adw_view_stack_page_set_icon_name (page, "view-list-symbolic");

  /* pages, in sidebar order */
  lens_analyses_view_add_page (self->analyses_view, "topk", _("Top-9"),
                               lens_analysis_topk_new (self->analyses_view));
  lens_analyses_view_add_page (self->analyses_view, "filters", _("Filters"),
                               lens_analysis_filters_new (self->analyses_view));
  lens_analyses_view_add_page (self->analyses_view, "evolution", _("Evolution"),
                               lens_analysis_evolution_new (self->analyses_view));
  lens_analyses_view_add_page (self->analyses_view, "invariance", _("Invariance"),
                               lens_analysis_invariance_new (self->analyses_view));
  lens_analyses_view_add_page (self->analyses_view, "correspondence", _("Correspondence"),
                               lens_analysis_correspondence_new (self->analyses_view));
  lens_analyses_view_add_page (self->analyses_view, "probe", _("Linear Probes"),
                               lens_analysis_probe_new (self->analyses_view));
}

static void
lens_window_dispose (GObject *object)
{
  LensWindow *self = LENS_WINDOW (object);

  if (self->export_cancellable != NULL)
    g_cancellable_cancel (self->export_cancellable);
  g_clear_object (&self->export_cancellable);
  g_clear_pointer (&self->export_path, g_free);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);

  if (self->document != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->document, self);
      lens_document_cancel (self->document);
      /* the property actions hold the document */
      g_action_map_remove_action (G_ACTION_MAP (self), "shared-norm");
      g_action_map_remove_action (G_ACTION_MAP (self), "projection-mode");
      g_action_map_remove_action (G_ACTION_MAP (self), "projection-start");
    }

  gtk_widget_dispose_template (GTK_WIDGET (self), LENS_TYPE_WINDOW);
  g_clear_pointer (&self->legend_classes, g_array_unref);
  g_clear_object (&self->settings);
  g_clear_object (&self->document);

  G_OBJECT_CLASS (lens_window_parent_class)->dispose (object);
}

static void
lens_window_class_init (LensWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lens_window_dispose;

  g_type_ensure (LENS_TYPE_LAYER_LIST);
  g_type_ensure (LENS_TYPE_FEATURE_GRID);
  g_type_ensure (LENS_TYPE_IMAGE_CANVAS);
  g_type_ensure (LENS_TYPE_PREDICTIONS);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/convlens/ConvLens/ui/lens-window.ui");
  gtk_widget_class_bind_template_child (widget_class, LensWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, spinner);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, layer_list);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, feature_grid);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, input_canvas);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, input_caption);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, channel_canvas);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, channel_caption);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, predictions);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, projection_canvas);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, projection_caption);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, occlusion_canvas);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, legend_area);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, size_spin);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, stride_spin);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, size_adjustment);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, stride_adjustment);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, heat_kind);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, sweep_button);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, sweep_progress);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, target_label);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, feature_label);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, occlusion_predictions);
  gtk_widget_class_bind_template_child (widget_class, LensWindow, recent_menu);
}

static void
lens_window_init (LensWindow *self)
{
  static const char * const watched[] = {
    "notify::model", "notify::trace", "notify::maps", "notify::selected-channel",
    "notify::selected-layer", "notify::busy", "notify::projection", "notify::query",
    "notify::sweep", "notify::sweep-progress", "notify::sweeping", "notify::occluder-size",
    "notify::occluder-stride",
  };
  GtkDropTarget *drop;
  GtkGesture *click;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->document = lens_document_new ();
  lens_layer_list_set_document (self->layer_list, self->document);
  lens_feature_grid_set_document (self->feature_grid, self->document);
  lens_predictions_set_document (self->predictions, self->document);
  g_signal_connect_object (self->document, "error", G_CALLBACK (on_document_error), self,
                           G_CONNECT_SWAPPED);
  for (guint i = 0; i < G_N_ELEMENTS (watched); i++)
    g_signal_connect_object (self->document, watched[i], G_CALLBACK (on_document_changed), self,
                             G_CONNECT_SWAPPED);

  click = gtk_gesture_click_new ();
  g_signal_connect_object (click, "pressed", G_CALLBACK (on_channel_canvas_pressed), self,
                           G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->channel_canvas), GTK_EVENT_CONTROLLER (click));
  g_signal_connect_object (lens_feature_grid_get_grid_view (self->feature_grid), "activate",
                           G_CALLBACK (on_channel_activated), self, G_CONNECT_SWAPPED);

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect_swapped (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  lens_window_occlusion_init (self);
  lens_window_analyses_init (self);
  lens_window_actions_init (self);
  lens_window_setup_settings (self);
  lens_window_settings_init (self);
  lens_frame_trace_attach (self);
  lens_window_update_projection (self);
  lens_window_update_title (self);
  lens_window_update_input (self);
  lens_window_update_channel (self);
  lens_window_update_actions (self);
}

LensWindow *
lens_window_new (GtkApplication *application)
{
  return g_object_new (LENS_TYPE_WINDOW, "application", application, NULL);
}
