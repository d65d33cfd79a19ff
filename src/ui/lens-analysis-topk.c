/* lens-analysis-topk.c: the Top-9 page — scan a data set for the strongest
 * activations of every channel (or open a saved result) and show, per
 * channel, the paper's Fig. 2 as drawn by lens_topk_render() */
#define G_LOG_DOMAIN "lens-analyses"

#include "lens-config.h"

#include <glib/gi18n.h>

#include "lens-analysis-topk.h"
#include "lens-image.h"

struct _LensAnalysisTopk
{
  GtkBox            parent_instance;

  LensAnalysesView *view;            /* weak: it owns us */

  GtkDropDown      *dataset_drop;    /* Fashion-MNIST | image folder */
  GtkButton        *folder_button;
  GtkDropDown      *scan_layer_drop;
  GtkStringList    *scan_layers;
  GtkSpinButton    *limit_spin;
  GtkButton        *scan_button;
  GtkButton        *cancel_button;
  GtkProgressBar   *progress;
  GtkDropDown      *layer_drop;      /* layers of the result */
  GtkStringList    *layers;
  GtkSpinButton    *channel_spin;
  GtkButton        *export_button;
  GtkStack         *content;
  GtkPicture       *picture;
  GtkLabel         *caption;

  char             *folder;
  LensTopk         *topk;
  char             *result_path;
  GdkTexture       *figure;
  guint8           *figure_rgb;
  int               figure_w, figure_h;

  GCancellable     *cancellable;     /* the running scan */
  GCancellable     *render_cancellable;
  gboolean          rendering;
  gboolean          render_again;
};

G_DEFINE_FINAL_TYPE (LensAnalysisTopk, lens_analysis_topk, GTK_TYPE_BOX)

static void start_render (LensAnalysisTopk *self);

static void
update_sensitivity (LensAnalysisTopk *self)
{
  gboolean scanning = self->cancellable != NULL;
  gboolean has_model = lens_document_get_model (lens_analyses_view_get_document (self->view)) != NULL;

  gtk_widget_set_sensitive (GTK_WIDGET (self->scan_button), !scanning && has_model);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), scanning);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), scanning);
  gtk_widget_set_visible (GTK_WIDGET (self->folder_button),
                          gtk_drop_down_get_selected (self->dataset_drop) == 1);
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_button), self->figure != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->layer_drop), self->topk != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->channel_spin), self->topk != NULL);
}

/* -- the current model's layers ------------------------------------------ */

static void
refresh_scan_layers (LensAnalysisTopk *self)
{
  LensModelInfo *model = lens_document_get_model (lens_analyses_view_get_document (self->view));
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  guint selected = 0;

  if (model != NULL)
    for (guint i = 0; i < model->n_layers; i++)
      if (model->layers[i].shape.ndim == 4)
        {
          /* default: the first ReLU (or conv) after the first layer */
          if (selected == 0 && names->len > 0 && g_strcmp0 (model->layers[i].op, "Relu") == 0)
            selected = names->len;
          g_ptr_array_add (names, model->layers[i].name);
        }
  g_ptr_array_add (names, NULL);
  gtk_string_list_splice (self->scan_layers, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->scan_layers)),
                          (const char * const *) names->pdata);
  gtk_drop_down_set_selected (self->scan_layer_drop, selected);
  update_sensitivity (self);
}

/* -- showing a result ---------------------------------------------------- */

static const LensTopkLayer *
shown_layer (LensAnalysisTopk *self)
{
  guint i = gtk_drop_down_get_selected (self->layer_drop);

  if (self->topk == NULL || i >= lens_topk_get_n_layers (self->topk))
    return NULL;
  return lens_topk_get_layer (self->topk, i);
}

static void
set_result (LensAnalysisTopk *self,
            LensTopk         *topk)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();

  g_clear_pointer (&self->topk, lens_topk_free);
  self->topk = topk;
  for (guint i = 0; topk != NULL && i < lens_topk_get_n_layers (topk); i++)
    g_ptr_array_add (names, lens_topk_get_layer (topk, i)->name);
  g_ptr_array_add (names, NULL);
  gtk_string_list_splice (self->layers, 0, g_list_model_get_n_items (G_LIST_MODEL (self->layers)),
                          (const char * const *) names->pdata);
  gtk_drop_down_set_selected (self->layer_drop, 0);
  gtk_spin_button_set_value (self->channel_spin, 0);
  start_render (self);
  update_sensitivity (self);
}

typedef struct
{
  char     *json;        /* a copy of the result, for the thread */
  char     *model_path;
  char     *layer;
  int       channel;
  guint8   *rgb;
  int       width, height;
} RenderJob;

static void
render_job_free (RenderJob *job)
{
  g_free (job->json);
  g_free (job->model_path);
  g_free (job->layer);
  g_free (job->rgb);
  g_free (job);
}

static void
render_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  RenderJob *job = task_data;
  g_autoptr(LensTopk) topk = NULL;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensNet) net = NULL;
  g_autoptr(LensScanSource) source = NULL;
  GError *error = NULL;

  topk = lens_topk_load_data (job->json, -1, &error);
  if (topk != NULL)
    net = lens_analyses_load_net (job->model_path, &profile, &error);
  if (net != NULL)
    source = lens_scan_source_open (lens_topk_get_dataset_spec (topk), &error);
  if (source != NULL)
    job->rgb = lens_topk_render (topk, net, source, &profile->pre, job->layer, job->channel,
                                 job->channel, &job->width, &job->height, cancellable, &error);
  if (job->rgb == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_render_done (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  LensAnalysisTopk *self = LENS_ANALYSIS_TOPK (object);
  RenderJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  self->rendering = FALSE;
  g_clear_object (&self->render_cancellable);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        lens_analyses_show_toast (GTK_WIDGET (self), error->message);
    }
  else if (!self->render_again)
    {
      g_autofree char *caption = NULL;
      g_autofree char *scanned = g_strdup_printf ("%" G_GINT64_FORMAT,
                                                  lens_topk_get_scanned (self->topk));

      g_clear_object (&self->figure);
      g_free (self->figure_rgb);
      self->figure_rgb = g_steal_pointer (&job->rgb);
      self->figure_w = job->width;
      self->figure_h = job->height;
      self->figure = lens_analyses_texture_new (self->figure_rgb, job->width, job->height);
      gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (self->figure));
      gtk_stack_set_visible_child_name (self->content, "figure");
      /* TRANSLATORS: under the top-9 figure: layer, channel, images scanned */
      caption = g_strdup_printf (_("%s · channel %d · %s images scanned · "
                                   "projections (left) and input patches (right)"),
                                 job->layer, job->channel, scanned);
      gtk_label_set_text (self->caption, caption);
    }
  if (self->render_again)
    start_render (self);
  update_sensitivity (self);
  g_object_notify (G_OBJECT (self), "busy");
}

static void
start_render (LensAnalysisTopk *self)
{
  const LensTopkLayer *layer = shown_layer (self);
  g_autoptr(GTask) task = NULL;
  RenderJob *job;
  const char *model_path;
  LensModelInfo *model;

  if (self->rendering)
    {
      self->render_again = TRUE;
      g_cancellable_cancel (self->render_cancellable);
      return;
    }
  self->render_again = FALSE;
  if (layer == NULL || layer->channels == 0)
    {
      g_clear_object (&self->figure);
      gtk_picture_set_paintable (self->picture, NULL);
      gtk_stack_set_visible_child_name (self->content, "empty");
      return;
    }

  gtk_spin_button_set_range (self->channel_spin, 0, layer->channels - 1);
  /* the model the result was made with, if it is still there */
  model_path = lens_topk_get_model_path (self->topk);
  model = lens_document_get_model (lens_analyses_view_get_document (self->view));
  if (!g_file_test (model_path, G_FILE_TEST_IS_REGULAR) && model != NULL)
    model_path = model->path;

  job = g_new0 (RenderJob, 1);
  job->json = lens_topk_to_json (self->topk);
  job->model_path = g_strdup (model_path);
  job->layer = g_strdup (layer->name);
  job->channel = gtk_spin_button_get_value_as_int (self->channel_spin);
  self->rendering = TRUE;
  self->render_cancellable = g_cancellable_new ();
  task = g_task_new (self, self->render_cancellable, on_render_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) render_job_free);
  g_task_run_in_thread (task, render_thread);
  g_object_notify (G_OBJECT (self), "busy");
}

/* -- scanning ------------------------------------------------------------ */

typedef struct
{
  char           *model_path;
  char           *dataset;
  char           *layer;
  char           *output;
  int             limit;
  GtkProgressBar *progress;
  LensTopk       *topk;
} ScanJob;

static void
scan_job_free (ScanJob *job)
{
  g_free (job->model_path);
  g_free (job->dataset);
  g_free (job->layer);
  g_free (job->output);
  g_clear_object (&job->progress);
  g_clear_pointer (&job->topk, lens_topk_free);
  g_free (job);
}

static void
on_scan_progress (gint64   done,
                  gint64   total,
                  gpointer user_data)
{
  ScanJob *job = user_data;

  lens_analyses_post_progress (job->progress, total > 0 ? (double) done / total : 0.0);
}

static void
scan_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  ScanJob *job = task_data;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensNet) net = NULL;
  g_autoptr(LensScanSource) source = NULL;
  const char *layers[] = { job->layer, NULL };
  LensTopkOptions opts;
  GError *error = NULL;

  lens_topk_options_init (&opts);
  opts.limit = job->limit;
  opts.progress = on_scan_progress;
  opts.user_data = job;

  net = lens_analyses_load_net (job->model_path, &profile, &error);
  if (net != NULL)
    source = lens_scan_source_open (job->dataset, &error);
  if (source != NULL)
    job->topk = lens_topk_new (net, job->model_path, source, layers, &opts, &error);
  if (job->topk != NULL &&
      lens_topk_scan (job->topk, net, source, &profile->pre, &opts, cancellable, &error) &&
      lens_topk_save (job->topk, job->output, &error))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  g_task_return_error (task, error);
}

static void
on_scan_done (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  LensAnalysisTopk *self = LENS_ANALYSIS_TOPK (object);
  ScanJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  g_clear_object (&self->cancellable);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        lens_analyses_show_toast (GTK_WIDGET (self), _("Scan cancelled"));
      else
        {
          /* TRANSLATORS: a toast; %s is the engine's message */
          g_autofree char *text = g_strdup_printf (_("The scan failed: %s"), error->message);

          lens_analyses_show_toast (GTK_WIDGET (self), text);
        }
    }
  else
    {
      g_free (self->result_path);
      self->result_path = g_strdup (job->output);
      set_result (self, g_steal_pointer (&job->topk));
    }
  lens_analyses_end_run_focus (self, (LensAnalysesPageUpdate) update_sensitivity,
                               GTK_WIDGET (self->cancel_button), GTK_WIDGET (self->scan_button));
  g_object_notify (G_OBJECT (self), "busy");
}

/* The scan's result file: in the user's cache, per model and layer. */
static char *
result_path_for (const char *model_path,
                 const char *layer)
{
  g_autofree char *stem = g_path_get_basename (model_path);
  g_autofree char *safe_layer = g_strdup (layer);
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "convlens", "topk", NULL);
  g_autofree char *name = NULL;

  g_strdelimit (safe_layer, "/\\:*?\"<>| ", '_');
  if (g_str_has_suffix (stem, ".onnx"))
    stem[strlen (stem) - 5] = '\0';
  g_mkdir_with_parents (dir, 0755);
  name = g_strdup_printf ("%s-%s.topk.json", stem, safe_layer);
  return g_build_filename (dir, name, NULL);
}

void
lens_analysis_topk_scan (LensAnalysisTopk *self,
                         const char       *dataset,
                         const char       *layer,
                         int               limit)
{
  LensModelInfo *model;
  g_autoptr(GTask) task = NULL;
  ScanJob *job;

  g_return_if_fail (LENS_IS_ANALYSIS_TOPK (self));
  g_return_if_fail (dataset != NULL && layer != NULL);

  model = lens_document_get_model (lens_analyses_view_get_document (self->view));
  if (model == NULL)
    {
      lens_analyses_show_toast (GTK_WIDGET (self), _("Open a model first"));
      return;
    }
  if (self->cancellable != NULL)
    return;

  job = g_new0 (ScanJob, 1);
  job->model_path = g_strdup (model->path);
  job->dataset = g_strdup (dataset);
  job->layer = g_strdup (layer);
  job->limit = limit;
  job->output = result_path_for (model->path, layer);
  job->progress = g_object_ref (self->progress);
  gtk_progress_bar_set_fraction (self->progress, 0);

  self->cancellable = g_cancellable_new ();
  task = g_task_new (self, self->cancellable, on_scan_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) scan_job_free);
  g_task_run_in_thread (task, scan_thread);
  update_sensitivity (self);
  /* focus inside the page, so that Escape reaches its shortcut */
  gtk_widget_grab_focus (GTK_WIDGET (self->cancel_button));
  g_object_notify (G_OBJECT (self), "busy");
}

void
lens_analysis_topk_cancel (LensAnalysisTopk *self)
{
  g_return_if_fail (LENS_IS_ANALYSIS_TOPK (self));

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (self->render_cancellable != NULL)
    g_cancellable_cancel (self->render_cancellable);
}

static void
on_folder_chosen (GtkWidget *page,
                  GStrv      paths)
{
  LensAnalysisTopk *self = LENS_ANALYSIS_TOPK (page);
  g_autofree char *name = NULL;

  if (paths == NULL || paths[0] == NULL)
    return;
  g_free (self->folder);
  self->folder = g_strdup (paths[0]);
  name = g_path_get_basename (self->folder);
  gtk_button_set_label (self->folder_button, name);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->folder_button), self->folder);
}

static void
on_folder_clicked (LensAnalysisTopk *self)
{
  lens_analyses_choose_open (GTK_WIDGET (self), _("Choose an Image Folder"), TRUE, FALSE, NULL,
                             on_folder_chosen);
}

static void
on_scan_clicked (LensAnalysisTopk *self)
{
  GtkStringObject *layer = gtk_drop_down_get_selected_item (self->scan_layer_drop);
  const char *dataset = "fashion-mnist:test";

  if (layer == NULL)
    return;
  if (gtk_drop_down_get_selected (self->dataset_drop) == 1)
    {
      if (self->folder == NULL)
        {
          lens_analyses_show_toast (GTK_WIDGET (self), _("Choose an image folder first"));
          return;
        }
      dataset = self->folder;
    }
  lens_analysis_topk_scan (self, dataset, gtk_string_object_get_string (layer),
                           gtk_spin_button_get_value_as_int (self->limit_spin));
}

/* -- opening and exporting ----------------------------------------------- */

gboolean
lens_analysis_topk_open (LensAnalysisTopk *self,
                         const char       *path,
                         GError          **error)
{
  LensTopk *topk;

  g_return_val_if_fail (LENS_IS_ANALYSIS_TOPK (self), FALSE);

  topk = lens_topk_load (path, error);
  if (topk == NULL)
    return FALSE;
  g_free (self->result_path);
  self->result_path = g_strdup (path);
  set_result (self, topk);
  return TRUE;
}

static void
on_result_chosen (GtkWidget *page,
                  GStrv      paths)
{
  g_autoptr(GError) error = NULL;

  if (paths == NULL || paths[0] == NULL)
    return;
  if (!lens_analysis_topk_open (LENS_ANALYSIS_TOPK (page), paths[0], &error))
    lens_analyses_show_toast (page, error->message);
}

static void
on_open_clicked (LensAnalysisTopk *self)
{
  lens_analyses_choose_open (GTK_WIDGET (self), _("Open a Top-k Result"), FALSE, FALSE,
                             "*.json", on_result_chosen);
}

gboolean
lens_analysis_topk_export_png (LensAnalysisTopk *self,
                               const char       *path,
                               GError          **error)
{
  const char *kv[] = { "Software", "ConvLens", "convlens:analysis", "topk", NULL };

  g_return_val_if_fail (LENS_IS_ANALYSIS_TOPK (self), FALSE);

  if (self->figure_rgb == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("There is no figure to export"));
      return FALSE;
    }
  return lens_png_save_rgb (path, self->figure_rgb, self->figure_w, self->figure_h,
                            self->figure_w * 3, kv, error);
}

static void
on_export_chosen (GtkWidget  *page,
                  const char *path)
{
  g_autoptr(GError) error = NULL;

  if (path == NULL)
    return;
  if (!lens_analysis_topk_export_png (LENS_ANALYSIS_TOPK (page), path, &error))
    lens_analyses_show_toast (page, error->message);
}

static void
on_export_clicked (LensAnalysisTopk *self)
{
  const LensTopkLayer *layer = shown_layer (self);
  g_autofree char *name = NULL;

  if (layer == NULL)
    return;
  name = g_strdup_printf ("topk-%s-%d.png", layer->name,
                          gtk_spin_button_get_value_as_int (self->channel_spin));
  g_strdelimit (name, "/\\:*?\"<>| ", '_');
  lens_analyses_choose_save (GTK_WIDGET (self), _("Export the Top-9 Figure"), name,
                             on_export_chosen);
}

/* -- accessors ----------------------------------------------------------- */

gboolean
lens_analysis_topk_get_busy (LensAnalysisTopk *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_TOPK (self), FALSE);
  return self->cancellable != NULL || self->rendering;
}

LensTopk *
lens_analysis_topk_get_result (LensAnalysisTopk *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_TOPK (self), NULL);
  return self->topk;
}

const char *
lens_analysis_topk_get_result_path (LensAnalysisTopk *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_TOPK (self), NULL);
  return self->result_path;
}

void
lens_analysis_topk_set_channel (LensAnalysisTopk *self,
                                int               channel)
{
  g_return_if_fail (LENS_IS_ANALYSIS_TOPK (self));
  gtk_spin_button_set_value (self->channel_spin, channel);
}

GdkTexture *
lens_analysis_topk_get_figure (LensAnalysisTopk *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_TOPK (self), NULL);
  return self->figure;
}

/* -- construction -------------------------------------------------------- */

enum { PROP_0, PROP_BUSY, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void
lens_analysis_topk_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  LensAnalysisTopk *self = LENS_ANALYSIS_TOPK (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, lens_analysis_topk_get_busy (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lens_analysis_topk_dispose (GObject *object)
{
  LensAnalysisTopk *self = LENS_ANALYSIS_TOPK (object);

  lens_analysis_topk_cancel (self);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->render_cancellable);
  g_clear_pointer (&self->topk, lens_topk_free);
  g_clear_object (&self->figure);
  g_clear_pointer (&self->figure_rgb, g_free);
  g_clear_pointer (&self->folder, g_free);
  g_clear_pointer (&self->result_path, g_free);

  G_OBJECT_CLASS (lens_analysis_topk_parent_class)->dispose (object);
}

static void
lens_analysis_topk_class_init (LensAnalysisTopkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lens_analysis_topk_dispose;
  object_class->get_property = lens_analysis_topk_get_property;
  properties[PROP_BUSY] = g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static GtkWidget *
named (GtkWidget  *widget,
       const char *name)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                  -1);
  gtk_widget_set_tooltip_text (widget, name);
  return widget;
}

static void
lens_analysis_topk_init (LensAnalysisTopk *self)
{
  GtkBox *box = GTK_BOX (self);
  GtkWidget *bar, *scrolled, *status;
  const char *datasets[] = { N_("Fashion-MNIST (test)"), N_("Image folder"), NULL };
  g_autoptr(GtkStringList) dataset_names = gtk_string_list_new (NULL);

  for (int i = 0; datasets[i] != NULL; i++)
    gtk_string_list_append (dataset_names, _(datasets[i]));

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (box, 6);
  gtk_widget_set_margin_start (GTK_WIDGET (self), 12);
  gtk_widget_set_margin_end (GTK_WIDGET (self), 12);
  gtk_widget_set_margin_top (GTK_WIDGET (self), 12);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self), 12);

  /* row 1: what to scan */
  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->dataset_drop = GTK_DROP_DOWN (gtk_drop_down_new (G_LIST_MODEL (g_object_ref (dataset_names)),
                                                         NULL));
  named (GTK_WIDGET (self->dataset_drop), _("Data set"));
  gtk_box_append (GTK_BOX (bar), lens_analyses_labelled (_("_Data set"),
                                                         GTK_WIDGET (self->dataset_drop)));
  self->folder_button = GTK_BUTTON (gtk_button_new_with_label (_("Choose Folder…")));
  named (GTK_WIDGET (self->folder_button), _("Choose the image folder to scan"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->folder_button));
  self->scan_layers = gtk_string_list_new (NULL);
  self->scan_layer_drop = GTK_DROP_DOWN (gtk_drop_down_new (G_LIST_MODEL (self->scan_layers),
                                                            NULL));
  named (GTK_WIDGET (self->scan_layer_drop), _("Layer to scan"));
  gtk_box_append (GTK_BOX (bar), lens_analyses_labelled (_("_Layer"),
                                                         GTK_WIDGET (self->scan_layer_drop)));
  self->limit_spin = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (0, 1000000, 100));
  gtk_spin_button_set_value (self->limit_spin, 1000);
  named (GTK_WIDGET (self->limit_spin), _("Images to scan (0: all)"));
  gtk_box_append (GTK_BOX (bar), lens_analyses_labelled (_("_Images"),
                                                         GTK_WIDGET (self->limit_spin)));
  gtk_box_append (box, bar);

  /* row 2: run it (narrow rows, so that nothing is cut off beside the sidebars) */
  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->scan_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Scan")));
  gtk_widget_add_css_class (GTK_WIDGET (self->scan_button), "suggested-action");
  named (GTK_WIDGET (self->scan_button), _("Scan the data set for the strongest activations"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->scan_button));
  self->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_widget_set_valign (GTK_WIDGET (self->progress), GTK_ALIGN_CENTER);
  gtk_widget_set_hexpand (GTK_WIDGET (self->progress), TRUE);
  named (GTK_WIDGET (self->progress), _("Scan progress"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->progress));
  self->cancel_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Cancel")));
  named (GTK_WIDGET (self->cancel_button), _("Stop the scan (Escape)"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->cancel_button));
  gtk_box_append (box, bar);

  /* row 3: what to show */
  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  {
    GtkWidget *open = gtk_button_new_with_mnemonic (_("_Open Result…"));

    named (open, _("Open a saved top-k result file"));
    g_signal_connect_swapped (open, "clicked", G_CALLBACK (on_open_clicked), self);
    gtk_box_append (GTK_BOX (bar), open);
  }
  self->layers = gtk_string_list_new (NULL);
  self->layer_drop = GTK_DROP_DOWN (gtk_drop_down_new (G_LIST_MODEL (self->layers), NULL));
  named (GTK_WIDGET (self->layer_drop), _("Layer shown"));
  gtk_box_append (GTK_BOX (bar), lens_analyses_labelled (_("S_how"),
                                                         GTK_WIDGET (self->layer_drop)));
  self->channel_spin = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (0, 0, 1));
  named (GTK_WIDGET (self->channel_spin), _("Channel shown"));
  gtk_box_append (GTK_BOX (bar), lens_analyses_labelled (_("C_hannel"),
                                                         GTK_WIDGET (self->channel_spin)));
  self->export_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Export PNG…")));
  named (GTK_WIDGET (self->export_button), _("Save the figure as a PNG file"));
  gtk_widget_set_hexpand (GTK_WIDGET (self->export_button), TRUE);
  gtk_widget_set_halign (GTK_WIDGET (self->export_button), GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->export_button));
  gtk_box_append (box, bar);

  /* the figure */
  self->content = GTK_STACK (gtk_stack_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->content), TRUE);
  status = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "view-grid-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (status), _("Top-9 per Channel"));
  adw_status_page_set_description (ADW_STATUS_PAGE (status),
    _("Scan a data set through the model, or open a saved result, to see for every channel the "
      "nine strongest activations: their projections back to pixels and the image patches "
      "under them."));
  gtk_stack_add_named (self->content, status, "empty");
  {
    GtkWidget *figure_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);

    self->picture = GTK_PICTURE (gtk_picture_new ());
    gtk_picture_set_can_shrink (self->picture, TRUE);
    gtk_picture_set_content_fit (self->picture, GTK_CONTENT_FIT_CONTAIN);
    gtk_widget_set_vexpand (GTK_WIDGET (self->picture), TRUE);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->picture),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, _("Top-9 figure"), -1);
    scrolled = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->picture));
    gtk_widget_set_vexpand (scrolled, TRUE);
    gtk_box_append (GTK_BOX (figure_box), scrolled);
    self->caption = GTK_LABEL (gtk_label_new (""));
    gtk_label_set_wrap (self->caption, TRUE);
    gtk_widget_add_css_class (GTK_WIDGET (self->caption), "dim-label");
    gtk_box_append (GTK_BOX (figure_box), GTK_WIDGET (self->caption));
    gtk_stack_add_named (self->content, figure_box, "figure");
  }
  gtk_stack_set_visible_child_name (self->content, "empty");
  gtk_box_append (box, GTK_WIDGET (self->content));

  g_signal_connect_swapped (self->dataset_drop, "notify::selected",
                            G_CALLBACK (update_sensitivity), self);
  g_signal_connect_swapped (self->folder_button, "clicked", G_CALLBACK (on_folder_clicked), self);
  g_signal_connect_swapped (self->scan_button, "clicked", G_CALLBACK (on_scan_clicked), self);
  g_signal_connect_swapped (self->cancel_button, "clicked",
                            G_CALLBACK (lens_analysis_topk_cancel), self);
  g_signal_connect_swapped (self->export_button, "clicked", G_CALLBACK (on_export_clicked), self);
  g_signal_connect_swapped (self->layer_drop, "notify::selected", G_CALLBACK (start_render), self);
  g_signal_connect_swapped (self->channel_spin, "value-changed", G_CALLBACK (start_render), self);
  lens_analyses_add_escape (GTK_WIDGET (self), G_CALLBACK (lens_analysis_topk_cancel));
}

GtkWidget *
lens_analysis_topk_new (LensAnalysesView *view)
{
  LensAnalysisTopk *self;

  g_return_val_if_fail (LENS_IS_ANALYSES_VIEW (view), NULL);

  self = g_object_new (LENS_TYPE_ANALYSIS_TOPK, NULL);
  self->view = view;
  g_signal_connect_object (lens_analyses_view_get_document (view), "notify::model",
                           G_CALLBACK (refresh_scan_layers), self, G_CONNECT_SWAPPED);
  refresh_scan_layers (self);
  return GTK_WIDGET (self);
}
