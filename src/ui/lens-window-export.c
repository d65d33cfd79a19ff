/* lens-window-export.c: Export… — the dialog (what, scale, format), the
 * file chooser, and the request built from what the window shows */
#define G_LOG_DOMAIN "lens-window-export"

#include "lens-config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "lens-window-export.h"
#include "lens-window-private.h"

static const char *
kind_title (LensExportKind kind)
{
  switch (kind)
    {
    case LENS_EXPORT_INPUT:
      return _("Input image (PNG)");
    case LENS_EXPORT_PROJECTION:
      return _("Projection (PNG)");
    case LENS_EXPORT_HEAT_MAP:
      return _("Heat map with colour bar (PNG)");
    case LENS_EXPORT_GRID:
      return _("Feature maps of the layer (PNG)");
    case LENS_EXPORT_PREDICTIONS:
      return _("Top-5 predictions (CSV)");
    case LENS_EXPORT_OCCLUSION:
      return _("Occlusion grid (CSV)");
    case LENS_EXPORT_N_KINDS:
    default:
      return "";
    }
}

gboolean
lens_window_can_export (LensWindow     *self,
                        LensExportKind  kind)
{
  LensTraceInfo *trace = lens_document_get_trace (self->document);

  switch (kind)
    {
    case LENS_EXPORT_INPUT:
      return trace != NULL && trace->input != NULL;
    case LENS_EXPORT_PROJECTION:
      return lens_document_get_projection (self->document) != NULL;
    case LENS_EXPORT_HEAT_MAP:
      return trace != NULL && trace->input != NULL &&
             lens_document_get_sweep (self->document) != NULL &&
             lens_window_get_heat_map (self) != NULL;
    case LENS_EXPORT_GRID:
      return lens_document_get_maps (self->document) != NULL;
    case LENS_EXPORT_PREDICTIONS:
      return trace != NULL && trace->n_predictions > 0;
    case LENS_EXPORT_OCCLUSION:
      return lens_document_get_sweep (self->document) != NULL;
    case LENS_EXPORT_N_KINDS:
    default:
      return FALSE;
    }
}

LensExportKind
lens_window_default_export (LensWindow *self)
{
  if (g_strcmp0 (adw_view_stack_get_visible_child_name (self->view_stack), "occlusion") == 0 &&
      lens_window_can_export (self, LENS_EXPORT_HEAT_MAP))
    return LENS_EXPORT_HEAT_MAP;
  if (lens_window_can_export (self, LENS_EXPORT_GRID))
    return LENS_EXPORT_GRID;
  return LENS_EXPORT_INPUT;
}

static const char *
mode_key (LensProjectMode mode)
{
  switch (mode)
    {
    case LENS_PROJECT_GUIDED:
      return "guided";
    case LENS_PROJECT_GRADIENT:
      return "gradient";
    case LENS_PROJECT_DECONV:
    default:
      return "deconv";
    }
}

static void
add_int (GStrvBuilder *kv,
         const char   *key,
         int           value)
{
  g_autofree char *text = g_strdup_printf ("%d", value);

  g_strv_builder_add_many (kv, key, text, NULL);
}

static LensColormap
window_colormap (LensWindow *self)
{
  g_autofree char *name = NULL;

  if (self->settings == NULL)
    return LENS_COLORMAP_VIRIDIS;
  name = g_settings_get_string (self->settings, "colour-map");
  return lens_colormap_from_name (name);
}

/* Model, image, layer, channel, mode and settings: the PNG text chunks
 * (keys in English, as PNG readers show them). */
static char **
describe (LensWindow        *self,
          LensExportRequest *request)
{
  LensModelInfo *model = lens_document_get_model (self->document);
  LensTraceInfo *trace = lens_document_get_trace (self->document);
  LensLayerMaps *maps = lens_document_get_maps (self->document);
  LensProjection *proj = lens_document_get_projection (self->document);
  LensOcclusionSweep *sweep = lens_document_get_sweep (self->document);
  g_autoptr(GStrvBuilder) kv = g_strv_builder_new ();
  int channel = lens_document_get_selected_channel (self->document);

  g_strv_builder_add_many (kv, "Software", "ConvLens " PACKAGE_VERSION,
                           "Kind", lens_export_kind_to_string (request->kind), NULL);
  add_int (kv, "Scale", lens_export_request_get_scale (request));
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

  if (request->kind == LENS_EXPORT_PROJECTION && proj != NULL && model != NULL)
    {
      g_strv_builder_add_many (kv, "Layer", model->layers[proj->layer].name,
                               "Op", model->layers[proj->layer].op,
                               "Mode", mode_key (proj->mode),
                               "Start", proj->start == LENS_START_MAP ? "map" : "max", NULL);
      add_int (kv, "Channel", proj->channel);
      if (proj->start != LENS_START_MAP)
        {
          g_autofree char *pos = g_strdup_printf ("%d,%d", proj->start_x, proj->start_y);

          g_strv_builder_add_many (kv, "Position", pos, NULL);
        }
    }
  else if (request->kind == LENS_EXPORT_GRID && maps != NULL && model != NULL)
    {
      g_strv_builder_add_many (kv, "Layer", model->layers[maps->layer].name,
                               "Op", model->layers[maps->layer].op,
                               "Normalisation",
                               maps->norm == LENS_NORM_SHARED ? "shared" : "per channel", NULL);
      if (channel >= 0)
        add_int (kv, "Channel", channel);
    }
  else if (request->kind == LENS_EXPORT_HEAT_MAP && sweep != NULL)
    {
      static const char * const heat_names[] = { "target probability", "most probable class",
                                                 "feature activation" };
      guint heat = gtk_drop_down_get_selected (self->heat_kind);

      add_int (kv, "Occluder size", sweep->map->size);
      add_int (kv, "Stride", sweep->map->stride);
      add_int (kv, "Target class", sweep->target_class);
      if (sweep->target_label != NULL)
        g_strv_builder_add_many (kv, "Target label", sweep->target_label, NULL);
      /* the tracked feature map follows the selected layer */
      if (model != NULL && sweep->layer_value >= 0 &&
          lens_document_get_selected_layer (self->document) >= 0)
        g_strv_builder_add_many (kv, "Layer",
                                 model->layers[lens_document_get_selected_layer (self->document)].name,
                                 NULL);
      add_int (kv, "Channel", sweep->channel);
      g_strv_builder_add_many (kv, "Heat map", heat_names[MIN (heat, 2)],
                               "Colour map", lens_colormap_to_name (request->colormap), NULL);
    }
  return g_strv_builder_end (kv);
}

LensExportRequest *
lens_window_new_export_request (LensWindow     *self,
                                LensExportKind  kind,
                                int             scale)
{
  LensTraceInfo *trace = lens_document_get_trace (self->document);
  LensProjection *proj = lens_document_get_projection (self->document);
  LensOcclusionSweep *sweep = lens_document_get_sweep (self->document);
  LensLayerMaps *maps = lens_document_get_maps (self->document);
  LensPixels *heat = lens_window_get_heat_map (self);
  g_autoptr(LensExportRequest) request = NULL;

  g_return_val_if_fail (LENS_IS_WINDOW (self), NULL);

  if (!lens_window_can_export (self, kind))
    return NULL;
  request = lens_export_request_new (kind);
  request->scale = CLAMP (scale, 0, LENS_EXPORT_MAX_SCALE);
  request->colormap = window_colormap (self);
  if (trace != NULL)
    {
      request->trace = lens_trace_info_ref (trace);
      request->input = trace->input ? lens_pixels_ref (trace->input) : NULL;
    }
  if (proj != NULL && proj->pixels != NULL)
    request->projection = lens_pixels_ref (proj->pixels);
  if (maps != NULL)
    request->maps = lens_layer_maps_ref (maps);
  if (sweep != NULL)
    request->sweep = lens_occlusion_sweep_ref (sweep);
  if (heat != NULL)
    request->heat = lens_pixels_ref (heat);

  if (kind == LENS_EXPORT_HEAT_MAP && sweep != NULL)
    {
      guint heat_kind = gtk_drop_down_get_selected (self->heat_kind);

      request->lo = self->heat_lo;
      request->hi = self->heat_hi;
      request->percent = heat_kind == 0;
      request->caption = g_strdup (heat_kind == 0 ? _("probability of the target class")
                                                  : _("total activation of the feature map"));
      if (heat_kind == 1)
        for (guint i = 0; i < self->legend_classes->len; i++)
          {
            int klass = g_array_index (self->legend_classes, int, i);
            g_autofree char *name = sweep->labels != NULL && (guint) klass < sweep->n_classes
                                      ? g_strdup (sweep->labels[klass])
                                      : g_strdup_printf (_("class %d"), klass);

            lens_export_request_add_class (request, lens_window_class_color (klass), name);
          }
    }
  request->text_kv = describe (self, request);
  return g_steal_pointer (&request);
}

char *
lens_window_export_name (LensWindow     *self,
                         LensExportKind  kind)
{
  LensModelInfo *model = lens_document_get_model (self->document);
  LensLayerMaps *maps = lens_document_get_maps (self->document);
  LensProjection *proj = lens_document_get_projection (self->document);
  g_autofree char *stem = NULL;
  g_autofree char *layer = NULL;
  const char *suffix = lens_export_kind_get_suffix (kind);

  if (model == NULL)
    return g_strconcat ("convlens", suffix, NULL);
  stem = g_path_get_basename (model->path);
  if (g_str_has_suffix (stem, ".onnx"))
    stem[strlen (stem) - 5] = '\0';

  switch (kind)
    {
    case LENS_EXPORT_GRID:
      if (maps == NULL)
        break;
      layer = g_strdup (model->layers[maps->layer].name);
      g_strdelimit (layer, "/\\:*?\"<>| ", '_');
      return g_strdup_printf ("%s-%s%s", stem, layer, suffix);
    case LENS_EXPORT_PROJECTION:
      if (proj == NULL)
        break;
      layer = g_strdup (model->layers[proj->layer].name);
      g_strdelimit (layer, "/\\:*?\"<>| ", '_');
      return g_strdup_printf ("%s-%s-c%d-%s%s", stem, layer, proj->channel,
                              mode_key (proj->mode), suffix);
    default:
      break;
    }
  return g_strdup_printf ("%s-%s%s", stem, lens_export_kind_to_string (kind), suffix);
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
  if (!lens_export_write_finish (result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_clear_object (&self->export_cancellable);
  if (error != NULL)
    message = g_strdup_printf (_("Could not export: %s"), error->message);
  else
    {
      g_autofree char *name = g_path_get_basename (path);

      message = g_strdup_printf (_("Exported “%s”"), name);
    }
  lens_window_show_message (self, message);
  lens_window_update_actions (self);
}

void
lens_window_export_to (LensWindow     *self,
                       LensExportKind  kind,
                       int             scale,
                       const char     *path)
{
  LensExportRequest *request;

  g_return_if_fail (LENS_IS_WINDOW (self));
  g_return_if_fail (path != NULL);

  if (self->export_cancellable != NULL)
    return;   /* one at a time: the action is disabled meanwhile */
  request = lens_window_new_export_request (self, kind, scale);
  if (request == NULL)
    {
      lens_window_show_message (self, _("There is nothing of that kind to export yet"));
      return;
    }
  g_free (self->export_path);
  self->export_path = g_strdup (path);
  self->export_cancellable = g_cancellable_new ();
  lens_export_write_async (request, path, self->export_cancellable, on_export_done,
                           g_object_ref (self));
  lens_window_update_actions (self);
}

/* The dialog --------------------------------------------------------- */

static void
label_widget (GtkWidget  *widget,
              const char *label)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
}

typedef struct
{
  LensWindow     *window;     /* borrowed: the dialog is destroyed with it */
  AdwComboRow    *what;
  GtkSpinButton  *scale;
  AdwActionRow   *format_row;
  AdwActionRow   *size_row;
  LensExportKind  kinds[LENS_EXPORT_N_KINDS];
  guint           n_kinds;
} ExportDialog;

static LensExportKind
dialog_kind (ExportDialog *d)
{
  guint i = adw_combo_row_get_selected (d->what);

  return d->kinds[MIN (i, d->n_kinds - 1)];
}

/* The scale that fits the kind, and the figure's size in pixels. */
static void
dialog_update (ExportDialog *d,
               gboolean      reset_scale)
{
  LensExportKind kind = dialog_kind (d);
  gboolean csv = lens_export_kind_is_csv (kind);
  g_autoptr(LensExportRequest) request = NULL;
  g_autofree char *size = NULL;

  adw_action_row_set_subtitle (d->format_row, csv ? _("CSV, numbers with a header row")
                                                  : _("PNG figure, settings in its text chunks"));
  gtk_widget_set_sensitive (GTK_WIDGET (d->scale), !csv);
  if (csv)
    {
      adw_action_row_set_subtitle (d->size_row, "");
      return;
    }
  request = lens_window_new_export_request (d->window, kind, 0);
  if (request == NULL)
    return;
  if (reset_scale)
    gtk_spin_button_set_value (d->scale, lens_export_request_get_scale (request));
  request->scale = gtk_spin_button_get_value_as_int (d->scale);
  {
    int width, height;

    if (lens_export_get_size (request, &width, &height))
      /* TRANSLATORS: the size of the exported figure */
      size = g_strdup_printf (_("%d × %d pixels"), width, height);
  }
  adw_action_row_set_subtitle (d->size_row, size ? size : "");
}

static void
on_what_changed (ExportDialog *d)
{
  dialog_update (d, TRUE);
}

static void
on_scale_changed (ExportDialog *d)
{
  dialog_update (d, FALSE);
}

static void
on_save_response (LensWindow *self,
                  int         response)
{
  GtkFileChooser *chooser = GTK_FILE_CHOOSER (self->chooser);
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;
  LensExportKind kind = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (chooser), "kind"));
  int scale = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "scale"));

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (chooser);
  gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  if (file == NULL)
    return;
  path = g_file_get_path (file);
  if (path == NULL)
    {
      lens_window_show_message (self, _("Only local files can be written"));
      return;
    }
  lens_window_export_to (self, kind, scale, path);
}

static void
choose_file (LensWindow     *self,
             LensExportKind  kind,
             int             scale)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_autofree char *name = lens_window_export_name (self, kind);
  GtkFileChooserNative *native;
  gboolean csv = lens_export_kind_is_csv (kind);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);

  native = gtk_file_chooser_native_new (csv ? _("Export Numbers") : _("Export Figure"),
                                        GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                        _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  gtk_file_filter_set_name (filter, csv ? _("CSV Files") : _("PNG Images"));
  gtk_file_filter_add_mime_type (filter, csv ? "text/csv" : "image/png");
  gtk_file_filter_add_pattern (filter, csv ? "*.csv" : "*.png");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), name);
  g_object_set_data (G_OBJECT (native), "kind", GUINT_TO_POINTER (kind));
  g_object_set_data (G_OBJECT (native), "scale", GINT_TO_POINTER (scale));
  g_signal_connect_object (native, "response", G_CALLBACK (on_save_response), self,
                           G_CONNECT_SWAPPED);
  self->chooser = GTK_NATIVE_DIALOG (native);
  gtk_native_dialog_show (self->chooser);
}

static void
on_export_clicked (GtkWindow *dialog)
{
  ExportDialog *d = g_object_get_data (G_OBJECT (dialog), "export-dialog");
  LensExportKind kind = dialog_kind (d);
  int scale = lens_export_kind_is_csv (kind) ? 0 : gtk_spin_button_get_value_as_int (d->scale);
  LensWindow *window = d->window;

  gtk_window_destroy (dialog);
  choose_file (window, kind, scale);
}

GtkWindow *
lens_window_show_export_dialog (LensWindow *self)
{
  ExportDialog *d = g_new0 (ExportDialog, 1);
  g_autoptr(GtkStringList) titles = gtk_string_list_new (NULL);
  GtkWidget *dialog, *box, *header, *cancel, *export, *page, *group;
  LensExportKind preferred = lens_window_default_export (self);
  guint selected = 0;

  g_return_val_if_fail (LENS_IS_WINDOW (self), NULL);

  d->window = self;
  for (guint k = 0; k < LENS_EXPORT_N_KINDS; k++)
    if (lens_window_can_export (self, k))
      {
        if (k == preferred)
          selected = d->n_kinds;
        d->kinds[d->n_kinds++] = k;
        gtk_string_list_append (titles, kind_title (k));
      }
  if (d->n_kinds == 0)
    {
      g_free (d);
      lens_window_show_message (self, _("Open a model and an image first"));
      return NULL;
    }

  dialog = adw_window_new ();
  g_object_set_data_full (G_OBJECT (dialog), "export-dialog", d, g_free);
  gtk_window_set_title (GTK_WINDOW (dialog), _("Export"));
  gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (self));
  gtk_window_set_modal (GTK_WINDOW (dialog), TRUE);
  gtk_window_set_destroy_with_parent (GTK_WINDOW (dialog), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (dialog), 520, -1);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  header = adw_header_bar_new ();
  adw_header_bar_set_show_end_title_buttons (ADW_HEADER_BAR (header), FALSE);
  adw_header_bar_set_show_start_title_buttons (ADW_HEADER_BAR (header), FALSE);
  cancel = gtk_button_new_with_label (_("Cancel"));
  g_signal_connect_swapped (cancel, "clicked", G_CALLBACK (gtk_window_destroy), dialog);
  export = gtk_button_new_with_label (_("Export…"));
  gtk_widget_add_css_class (export, "suggested-action");
  gtk_widget_set_tooltip_text (export, _("Choose where to save it"));
  g_signal_connect_swapped (export, "clicked", G_CALLBACK (on_export_clicked), dialog);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), cancel);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), export);
  gtk_box_append (GTK_BOX (box), header);

  page = adw_preferences_page_new ();
  group = adw_preferences_group_new ();
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));

  d->what = ADW_COMBO_ROW (adw_combo_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (d->what), _("Content"));
  adw_combo_row_set_model (d->what, G_LIST_MODEL (titles));
  adw_combo_row_set_selected (d->what, selected);
  /* the choice as the subtitle: long titles are not cut */
  adw_combo_row_set_use_subtitle (d->what, TRUE);
  label_widget (GTK_WIDGET (d->what), _("What to export"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), GTK_WIDGET (d->what));

  d->scale = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (1, LENS_EXPORT_MAX_SCALE, 1));
  gtk_widget_set_valign (GTK_WIDGET (d->scale), GTK_ALIGN_CENTER);
  label_widget (GTK_WIDGET (d->scale), _("Scale factor"));
  {
    GtkWidget *row = adw_action_row_new ();

    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Scale"));
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                                 _("Every pixel becomes a square of this many pixels"));
    adw_action_row_add_suffix (ADW_ACTION_ROW (row), GTK_WIDGET (d->scale));
    adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), GTK_WIDGET (d->scale));
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  }
  d->size_row = ADW_ACTION_ROW (adw_action_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (d->size_row), _("Size"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), GTK_WIDGET (d->size_row));
  d->format_row = ADW_ACTION_ROW (adw_action_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (d->format_row), _("Format"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), GTK_WIDGET (d->format_row));

  gtk_box_append (GTK_BOX (box), page);
  adw_window_set_content (ADW_WINDOW (dialog), box);

  g_signal_connect_swapped (d->what, "notify::selected", G_CALLBACK (on_what_changed), d);
  g_signal_connect_swapped (d->scale, "value-changed", G_CALLBACK (on_scale_changed), d);
  dialog_update (d, TRUE);
  gtk_window_set_default_widget (GTK_WINDOW (dialog), export);
  {
    GtkEventController *keys = gtk_shortcut_controller_new ();

    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (keys),
                                          gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                            gtk_named_action_new ("window.close")));
    gtk_widget_add_controller (dialog, keys);
  }
  gtk_window_present (GTK_WINDOW (dialog));
  return GTK_WINDOW (dialog);
}
