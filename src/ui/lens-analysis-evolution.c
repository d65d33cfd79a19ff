/* lens-analysis-evolution.c: the Evolution page — for a series of
 * checkpoints (a training run's snapshots folder or ONNX files) and one
 * layer, the deconvnet projection of every shown channel's strongest
 * activation over a set of images, at each checkpoint; a slider steps
 * through them.  The strongest activation comes from the top-k scan
 * (k = 1), the projection from lens_project_channel (max start), as in
 * `convlens-cli evolution`. */
#define G_LOG_DOMAIN "lens-analyses"

#include "lens-config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "lens-analysis-evolution.h"
#include "lens-image.h"
#include "lens-project.h"
#include "lens-topk.h"

#define N_CHANNELS 16
#define GAP 2

typedef struct
{
  char   *name;      /* file name of the checkpoint */
  guint8 *rgb;       /* grid of the channels' projections */
  int     width, height;
} Snapshot;

struct _LensAnalysisEvolution
{
  GtkBox            parent_instance;

  LensAnalysesView *view;

  GtkButton        *folder_button;
  GtkButton        *files_button;
  GtkDropDown      *layer_drop;
  GtkStringList    *layers;
  GtkDropDown      *dataset_drop;    /* Fashion-MNIST | image folder */
  GtkButton        *data_folder_button;
  GtkSpinButton    *limit_spin;
  GtkButton        *run_button;
  GtkButton        *cancel_button;
  GtkProgressBar   *progress;
  GtkButton        *export_button;
  GtkScale         *slider;
  GtkLabel         *caption;
  GtkPicture       *picture;
  GtkStack         *content;

  GStrv             checkpoints;
  char             *data_folder;     /* the image folder searched, if chosen */
  GPtrArray        *snapshots;       /* Snapshot* */
  guint8           *cells;           /* [snapshot][channel] cells, for the export */
  int               cell_w, cell_h, n_shown;
  GdkTexture       *figure;
  GCancellable     *cancellable;
};

G_DEFINE_FINAL_TYPE (LensAnalysisEvolution, lens_analysis_evolution, GTK_TYPE_BOX)

static void
snapshot_free (Snapshot *s)
{
  g_free (s->name);
  g_free (s->rgb);
  g_free (s);
}

static void
update_sensitivity (LensAnalysisEvolution *self)
{
  gboolean running = self->cancellable != NULL;

  gtk_widget_set_sensitive (GTK_WIDGET (self->run_button), !running && self->checkpoints != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), running);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), running);
  gtk_widget_set_visible (GTK_WIDGET (self->data_folder_button),
                          gtk_drop_down_get_selected (self->dataset_drop) == 1);
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_button), self->snapshots->len > 0);
  gtk_widget_set_sensitive (GTK_WIDGET (self->slider), self->snapshots->len > 1);
}

static void
refresh_layers (LensAnalysisEvolution *self)
{
  LensModelInfo *model = lens_document_get_model (lens_analyses_view_get_document (self->view));
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  guint selected = 0;

  if (model != NULL)
    for (guint i = 0; i < model->n_layers; i++)
      if (model->layers[i].shape.ndim == 4)
        {
          if (selected == 0 && names->len > 0 && g_strcmp0 (model->layers[i].op, "Relu") == 0)
            selected = names->len;
          g_ptr_array_add (names, model->layers[i].name);
        }
  g_ptr_array_add (names, NULL);
  gtk_string_list_splice (self->layers, 0, g_list_model_get_n_items (G_LIST_MODEL (self->layers)),
                          (const char * const *) names->pdata);
  gtk_drop_down_set_selected (self->layer_drop, selected);
}

static void
show_snapshot (LensAnalysisEvolution *self)
{
  guint i = lens_analysis_evolution_get_snapshot (self);
  Snapshot *s;
  g_autofree char *text = NULL;

  if (i >= self->snapshots->len)
    return;
  s = g_ptr_array_index (self->snapshots, i);
  g_clear_object (&self->figure);
  self->figure = lens_analyses_texture_new (s->rgb, s->width, s->height);
  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (self->figure));
  /* TRANSLATORS: evolution caption: snapshot number, count, file name */
  text = g_strdup_printf (_("Snapshot %u of %u · %s"), i + 1, self->snapshots->len, s->name);
  gtk_label_set_text (self->caption, text);
}

/* -- the work ------------------------------------------------------------ */

typedef struct
{
  GStrv           checkpoints;
  char           *layer;
  char           *dataset;
  int             limit;
  GtkProgressBar *progress;
  GPtrArray      *snapshots;
  guint8         *cells;
  int             cell_w, cell_h, n_shown;
} Job;

static void
job_free (Job *job)
{
  g_strfreev (job->checkpoints);
  g_free (job->layer);
  g_free (job->dataset);
  g_clear_object (&job->progress);
  g_clear_pointer (&job->snapshots, g_ptr_array_unref);
  g_free (job->cells);
  g_free (job);
}

/* One checkpoint: the cells of the shown channels. */
static gboolean
run_one (Job            *job,
         guint           s,
         LensScanSource *source,
         GCancellable   *cancellable,
         GError        **error)
{
  const char *path = job->checkpoints[s];
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensNet) net = lens_analyses_load_net (path, &profile, error);
  g_autoptr(LensTopk) topk = NULL;
  g_autoptr(LensTrace) trace = NULL;
  const char *layers[] = { job->layer, NULL };
  const LensTopkLayer *tl;
  LensTopkOptions opts;
  guint n_cp = g_strv_length (job->checkpoints);
  int value, layer;

  if (net == NULL)
    return FALSE;
  layer = lens_net_find_layer (net, job->layer);
  if (layer < 0)
    {
      g_autofree char *name = g_path_get_basename (path);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("“%s” has no layer “%s”"), name,
                   job->layer);
      return FALSE;
    }
  value = lens_net_layer_get_output (net, (guint) layer);
  lens_topk_options_init (&opts);
  opts.k = 1;
  opts.limit = job->limit;
  topk = lens_topk_new (net, path, source, layers, &opts, error);
  if (topk == NULL || !lens_topk_scan (topk, net, source, &profile->pre, &opts, cancellable, error))
    return FALSE;
  tl = lens_topk_get_layer (topk, 0);
  if (s == 0)
    {
      job->n_shown = MIN (N_CHANNELS, tl->channels);
      job->cell_w = profile->pre.width;
      job->cell_h = profile->pre.height;
      job->cells = g_malloc0 ((gsize) n_cp * job->n_shown * job->cell_w * job->cell_h * 3);
    }
  else if (tl->channels < job->n_shown || profile->pre.width != job->cell_w ||
           profile->pre.height != job->cell_h)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The checkpoints do not share one architecture"));
      return FALSE;
    }
  trace = lens_trace_new (net, 1, error);
  if (trace == NULL)
    return FALSE;
  for (int k = 0; k < job->n_shown; k++)
    {
      int channel = (int) ((gint64) k * tl->channels / job->n_shown);
      LensProjectOptions po = { LENS_PROJECT_DECONV, LENS_START_MAX, 0, 0, LENS_LRN_DEFAULT };
      g_autoptr(LensTensor) proj = NULL;
      g_autofree guint8 *rgb = NULL;
      guint8 *cell;
      int w, h;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (tl->counts[channel] == 0)
        continue;   /* never finite: left blank */
      if (!lens_scan_source_load_input (source, tl->entries[channel].image, &profile->pre,
                                        lens_trace_get_input (trace)->data, error) ||
          !lens_trace_run (trace, NULL, error))
        return FALSE;
      proj = lens_project_channel (trace, value, channel, &po, NULL, NULL, error);
      if (proj == NULL)
        return FALSE;
      rgb = lens_projection_to_rgb (proj, profile->pre.bgr, &w, &h);
      if (w != job->cell_w || h != job->cell_h)
        continue;
      cell = job->cells + ((gsize) s * job->n_shown + k) * job->cell_w * job->cell_h * 3;
      memcpy (cell, rgb, (gsize) w * h * 3);
    }
  return TRUE;
}

static void
blit (guint8       *canvas,
      int           canvas_w,
      const guint8 *rgb,
      int           w,
      int           h,
      int           x0,
      int           y0,
      int           scale)
{
  for (int y = 0; y < h * scale; y++)
    for (int x = 0; x < w * scale; x++)
      memcpy (canvas + ((gsize) (y0 + y) * canvas_w + x0 + x) * 3,
              rgb + ((gsize) (y / scale) * w + x / scale) * 3, 3);
}

/* A snapshot's channels as a 4-column grid, 2x zoom. */
static Snapshot *
snapshot_grid (Job  *job,
               guint s)
{
  Snapshot *snap = g_new0 (Snapshot, 1);
  int cols = MIN (4, job->n_shown), rows = (job->n_shown + cols - 1) / cols, scale = 2;
  gsize cell = (gsize) job->cell_w * job->cell_h * 3;

  snap->name = g_path_get_basename (job->checkpoints[s]);
  snap->width = cols * (job->cell_w * scale + GAP) + GAP;
  snap->height = rows * (job->cell_h * scale + GAP) + GAP;
  snap->rgb = g_malloc ((gsize) snap->width * snap->height * 3);
  memset (snap->rgb, 255, (gsize) snap->width * snap->height * 3);
  for (int k = 0; k < job->n_shown; k++)
    blit (snap->rgb, snap->width, job->cells + ((gsize) s * job->n_shown + k) * cell,
          job->cell_w, job->cell_h, GAP + (k % cols) * (job->cell_w * scale + GAP),
          GAP + (k / cols) * (job->cell_h * scale + GAP), scale);
  return snap;
}

static void
run_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  Job *job = task_data;
  g_autoptr(LensScanSource) source = NULL;
  guint n = g_strv_length (job->checkpoints);
  GError *error = NULL;

  source = lens_scan_source_open (job->dataset, &error);
  if (source == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  for (guint s = 0; s < n; s++)
    {
      if (!run_one (job, s, source, cancellable, &error))
        {
          g_task_return_error (task, error);
          return;
        }
      lens_analyses_post_progress (job->progress, (double) (s + 1) / n);
    }
  for (guint s = 0; s < n; s++)
    g_ptr_array_add (job->snapshots, snapshot_grid (job, s));
  g_task_return_boolean (task, TRUE);
}

static void
on_run_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  LensAnalysisEvolution *self = LENS_ANALYSIS_EVOLUTION (object);
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  g_clear_object (&self->cancellable);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    lens_analyses_show_toast (GTK_WIDGET (self),
                              g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                                ? _("Evolution cancelled") : error->message);
  else
    {
      g_ptr_array_unref (self->snapshots);
      self->snapshots = g_steal_pointer (&job->snapshots);
      g_free (self->cells);
      self->cells = g_steal_pointer (&job->cells);
      self->cell_w = job->cell_w;
      self->cell_h = job->cell_h;
      self->n_shown = job->n_shown;
      gtk_range_set_range (GTK_RANGE (self->slider), 0, MAX (self->snapshots->len - 1, 1));
      gtk_range_set_value (GTK_RANGE (self->slider), self->snapshots->len - 1);
      show_snapshot (self);
      gtk_stack_set_visible_child_name (self->content, "figure");
    }
  lens_analyses_end_run_focus (self, (LensAnalysesPageUpdate) update_sensitivity,
                               GTK_WIDGET (self->cancel_button), GTK_WIDGET (self->run_button));
}

void
lens_analysis_evolution_run (LensAnalysisEvolution *self,
                             const char * const    *checkpoints,
                             const char            *layer,
                             const char            *dataset,
                             int                    limit)
{
  g_autoptr(GTask) task = NULL;
  Job *job;

  g_return_if_fail (LENS_IS_ANALYSIS_EVOLUTION (self));
  g_return_if_fail (checkpoints != NULL && layer != NULL && dataset != NULL);

  if (self->cancellable != NULL || checkpoints[0] == NULL)
    return;
  job = g_new0 (Job, 1);
  job->checkpoints = g_strdupv ((char **) checkpoints);
  job->layer = g_strdup (layer);
  job->dataset = g_strdup (dataset);
  job->limit = limit;
  job->progress = g_object_ref (self->progress);
  job->snapshots = g_ptr_array_new_with_free_func ((GDestroyNotify) snapshot_free);
  gtk_progress_bar_set_fraction (self->progress, 0);
  self->cancellable = g_cancellable_new ();
  task = g_task_new (self, self->cancellable, on_run_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, run_thread);
  update_sensitivity (self);
  /* focus inside the page, so that Escape reaches its shortcut */
  gtk_widget_grab_focus (GTK_WIDGET (self->cancel_button));
}

void
lens_analysis_evolution_cancel (LensAnalysisEvolution *self)
{
  g_return_if_fail (LENS_IS_ANALYSIS_EVOLUTION (self));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

/* -- choosing ------------------------------------------------------------ */

static int
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

static void
set_checkpoints (LensAnalysisEvolution *self,
                 GPtrArray             *paths)
{
  g_autofree char *label = NULL;

  g_ptr_array_sort (paths, compare_paths);
  g_ptr_array_add (paths, NULL);
  g_strfreev (self->checkpoints);
  self->checkpoints = g_strdupv ((char **) paths->pdata);
  /* TRANSLATORS: how many checkpoints were chosen */
  label = g_strdup_printf (ngettext ("%u checkpoint", "%u checkpoints", paths->len - 1),
                           paths->len - 1);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->run_button), label);
  gtk_label_set_text (self->caption, label);
  update_sensitivity (self);
}

static void
on_folder_chosen (GtkWidget *page,
                  GStrv      paths)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  const char *subs[] = { "snapshots", "." };

  if (paths == NULL || paths[0] == NULL)
    return;
  /* DIR/snapshots/NAME-epoch-NNN.onnx, or DIR/NAME-epoch-NNN.onnx */
  for (gsize s = 0; s < G_N_ELEMENTS (subs) && found->len == 0; s++)
    {
      g_autofree char *sub = g_build_filename (paths[0], subs[s], NULL);
      g_autoptr(GDir) d = g_dir_open (sub, 0, NULL);
      const char *name;

      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        if (strstr (name, "-epoch-") != NULL && g_str_has_suffix (name, ".onnx"))
          g_ptr_array_add (found, g_build_filename (sub, name, NULL));
    }
  if (found->len == 0)
    {
      lens_analyses_show_toast (page, _("No snapshots (*-epoch-NNN.onnx) in that folder"));
      return;
    }
  set_checkpoints (LENS_ANALYSIS_EVOLUTION (page), found);
}

static void
on_files_chosen (GtkWidget *page,
                 GStrv      paths)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; paths != NULL && paths[i] != NULL; i++)
    g_ptr_array_add (found, g_strdup (paths[i]));
  if (found->len > 0)
    set_checkpoints (LENS_ANALYSIS_EVOLUTION (page), found);
}

static void
on_folder_clicked (LensAnalysisEvolution *self)
{
  lens_analyses_choose_open (GTK_WIDGET (self), _("Choose a Training Folder"), TRUE, FALSE, NULL,
                             on_folder_chosen);
}

static void
on_files_clicked (LensAnalysisEvolution *self)
{
  lens_analyses_choose_open (GTK_WIDGET (self), _("Choose ONNX Checkpoints"), FALSE, TRUE,
                             "*.onnx", on_files_chosen);
}

static void
on_data_folder_chosen (GtkWidget *page,
                       GStrv      paths)
{
  LensAnalysisEvolution *self = LENS_ANALYSIS_EVOLUTION (page);
  g_autofree char *name = NULL;

  if (paths == NULL || paths[0] == NULL)
    return;
  g_free (self->data_folder);
  self->data_folder = g_strdup (paths[0]);
  name = g_path_get_basename (self->data_folder);
  gtk_button_set_label (self->data_folder_button, name);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->data_folder_button), self->data_folder);
}

static void
on_data_folder_clicked (LensAnalysisEvolution *self)
{
  lens_analyses_choose_open (GTK_WIDGET (self), _("Choose an Image Folder"), TRUE, FALSE, NULL,
                             on_data_folder_chosen);
}

static void
on_run_clicked (LensAnalysisEvolution *self)
{
  GtkStringObject *layer = gtk_drop_down_get_selected_item (self->layer_drop);
  const char *dataset = "fashion-mnist:test";

  if (layer == NULL || self->checkpoints == NULL)
    return;
  if (gtk_drop_down_get_selected (self->dataset_drop) == 1)
    {
      if (self->data_folder == NULL)
        {
          lens_analyses_show_toast (GTK_WIDGET (self), _("Choose an image folder first"));
          return;
        }
      dataset = self->data_folder;
    }
  lens_analysis_evolution_run (self, (const char * const *) self->checkpoints,
                               gtk_string_object_get_string (layer), dataset,
                               gtk_spin_button_get_value_as_int (self->limit_spin));
}

/* -- export and accessors ------------------------------------------------ */

gboolean
lens_analysis_evolution_export_png (LensAnalysisEvolution *self,
                                    const char            *path,
                                    GError               **error)
{
  const char *kv[] = { "Software", "ConvLens", "Title", "ConvLens feature evolution", NULL };
  guint n = self->snapshots->len;
  g_autofree guint8 *canvas = NULL;
  int scale = 2, w, h;

  g_return_val_if_fail (LENS_IS_ANALYSIS_EVOLUTION (self), FALSE);
  if (n == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("There is no figure to export"));
      return FALSE;
    }
  w = (int) n * (self->cell_w * scale + GAP) + GAP;
  h = self->n_shown * (self->cell_h * scale + GAP) + GAP;
  canvas = g_malloc ((gsize) w * h * 3);
  memset (canvas, 255, (gsize) w * h * 3);
  for (guint s = 0; s < n; s++)
    for (int k = 0; k < self->n_shown; k++)
      blit (canvas, w,
            self->cells + ((gsize) s * self->n_shown + k) * self->cell_w * self->cell_h * 3,
            self->cell_w, self->cell_h, GAP + (int) s * (self->cell_w * scale + GAP),
            GAP + k * (self->cell_h * scale + GAP), scale);
  return lens_png_save_rgb (path, canvas, w, h, w * 3, kv, error);
}

static void
on_export_chosen (GtkWidget  *page,
                  const char *path)
{
  g_autoptr(GError) error = NULL;

  if (path != NULL &&
      !lens_analysis_evolution_export_png (LENS_ANALYSIS_EVOLUTION (page), path, &error))
    lens_analyses_show_toast (page, error->message);
}

static void
on_export_clicked (LensAnalysisEvolution *self)
{
  lens_analyses_choose_save (GTK_WIDGET (self), _("Export the Evolution Figure"),
                             "evolution.png", on_export_chosen);
}

gboolean
lens_analysis_evolution_get_busy (LensAnalysisEvolution *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_EVOLUTION (self), FALSE);
  return self->cancellable != NULL;
}

guint
lens_analysis_evolution_get_n_snapshots (LensAnalysisEvolution *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_EVOLUTION (self), 0);
  return self->snapshots->len;
}

void
lens_analysis_evolution_set_snapshot (LensAnalysisEvolution *self,
                                      guint                  index)
{
  g_return_if_fail (LENS_IS_ANALYSIS_EVOLUTION (self));
  gtk_range_set_value (GTK_RANGE (self->slider), index);
}

guint
lens_analysis_evolution_get_snapshot (LensAnalysisEvolution *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_EVOLUTION (self), 0);
  return (guint) (gtk_range_get_value (GTK_RANGE (self->slider)) + 0.5);
}

GdkTexture *
lens_analysis_evolution_get_figure (LensAnalysisEvolution *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_EVOLUTION (self), NULL);
  return self->figure;
}

const char *
lens_analysis_evolution_get_caption (LensAnalysisEvolution *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_EVOLUTION (self), NULL);
  return gtk_label_get_text (self->caption);
}

/* -- construction -------------------------------------------------------- */

static void
lens_analysis_evolution_dispose (GObject *object)
{
  LensAnalysisEvolution *self = LENS_ANALYSIS_EVOLUTION (object);

  lens_analysis_evolution_cancel (self);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->checkpoints, g_strfreev);
  g_clear_pointer (&self->data_folder, g_free);
  g_clear_pointer (&self->snapshots, g_ptr_array_unref);
  g_clear_pointer (&self->cells, g_free);
  g_clear_object (&self->figure);

  G_OBJECT_CLASS (lens_analysis_evolution_parent_class)->dispose (object);
}

static void
lens_analysis_evolution_class_init (LensAnalysisEvolutionClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = lens_analysis_evolution_dispose;
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
lens_analysis_evolution_init (LensAnalysisEvolution *self)
{
  GtkBox *box = GTK_BOX (self);
  GtkWidget *bar, *status, *figure_box;
  const char *datasets[] = { N_("Fashion-MNIST (test)"), N_("Image folder"), NULL };
  g_autoptr(GtkStringList) dataset_names = gtk_string_list_new (NULL);

  for (int i = 0; datasets[i] != NULL; i++)
    gtk_string_list_append (dataset_names, _(datasets[i]));
  self->snapshots = g_ptr_array_new_with_free_func ((GDestroyNotify) snapshot_free);
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (box, 6);
  g_object_set (self, "margin-start", 12, "margin-end", 12, "margin-top", 12,
                "margin-bottom", 12, NULL);

  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->folder_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("Training _Folder…")));
  named (GTK_WIDGET (self->folder_button), _("Choose a training folder with snapshots"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->folder_button));
  self->files_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Checkpoints…")));
  named (GTK_WIDGET (self->files_button), _("Choose ONNX checkpoints in training order"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->files_button));
  self->layers = gtk_string_list_new (NULL);
  self->layer_drop = GTK_DROP_DOWN (gtk_drop_down_new (G_LIST_MODEL (self->layers), NULL));
  named (GTK_WIDGET (self->layer_drop), _("Layer"));
  gtk_box_append (GTK_BOX (bar), lens_analyses_labelled (_("_Layer"),
                                                         GTK_WIDGET (self->layer_drop)));
  gtk_box_append (box, bar);

  /* row 2: the images searched for each channel's strongest activation */
  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->dataset_drop = GTK_DROP_DOWN (gtk_drop_down_new (G_LIST_MODEL (g_object_ref (dataset_names)),
                                                         NULL));
  named (GTK_WIDGET (self->dataset_drop), _("Images searched for the strongest activations"));
  gtk_box_append (GTK_BOX (bar), lens_analyses_labelled (_("_Data set"),
                                                         GTK_WIDGET (self->dataset_drop)));
  self->data_folder_button = GTK_BUTTON (gtk_button_new_with_label (_("Choose Folder…")));
  named (GTK_WIDGET (self->data_folder_button), _("Choose the image folder to search"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->data_folder_button));
  self->limit_spin = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (1, 100000, 100));
  gtk_spin_button_set_value (self->limit_spin, 1000);
  named (GTK_WIDGET (self->limit_spin), _("Images to search"));
  gtk_box_append (GTK_BOX (bar), lens_analyses_labelled (_("_Images"),
                                                         GTK_WIDGET (self->limit_spin)));
  gtk_box_append (box, bar);

  /* row 3: run and export (narrow rows: nothing is cut off beside the sidebars) */
  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->run_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Run")));
  gtk_widget_add_css_class (GTK_WIDGET (self->run_button), "suggested-action");
  named (GTK_WIDGET (self->run_button), _("Project the strongest activations at every snapshot"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->run_button));
  self->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_widget_set_valign (GTK_WIDGET (self->progress), GTK_ALIGN_CENTER);
  gtk_widget_set_hexpand (GTK_WIDGET (self->progress), TRUE);
  named (GTK_WIDGET (self->progress), _("Evolution progress"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->progress));
  self->cancel_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Cancel")));
  named (GTK_WIDGET (self->cancel_button), _("Stop (Escape)"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->cancel_button));
  self->export_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Export PNG…")));
  named (GTK_WIDGET (self->export_button), _("Save the whole figure as a PNG file"));
  gtk_widget_set_hexpand (GTK_WIDGET (self->export_button), TRUE);
  gtk_widget_set_halign (GTK_WIDGET (self->export_button), GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->export_button));
  gtk_box_append (box, bar);

  self->slider = GTK_SCALE (gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 1, 1));
  gtk_scale_set_digits (self->slider, 0);
  gtk_range_set_round_digits (GTK_RANGE (self->slider), 0);
  named (GTK_WIDGET (self->slider), _("Snapshot shown"));
  gtk_box_append (box, GTK_WIDGET (self->slider));
  self->caption = GTK_LABEL (gtk_label_new (""));
  gtk_box_append (box, GTK_WIDGET (self->caption));

  self->content = GTK_STACK (gtk_stack_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->content), TRUE);
  status = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "document-open-recent-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (status), _("Feature Evolution"));
  adw_status_page_set_description (ADW_STATUS_PAGE (status),
    _("Choose a training folder or a series of ONNX checkpoints, then run to see how the "
      "layer's features change over training."));
  gtk_stack_add_named (self->content, status, "empty");
  figure_box = gtk_scrolled_window_new ();
  self->picture = GTK_PICTURE (gtk_picture_new ());
  gtk_picture_set_can_shrink (self->picture, TRUE);
  gtk_picture_set_content_fit (self->picture, GTK_CONTENT_FIT_CONTAIN);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->picture), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Projections at the snapshot"), -1);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (figure_box), GTK_WIDGET (self->picture));
  gtk_stack_add_named (self->content, figure_box, "figure");
  gtk_stack_set_visible_child_name (self->content, "empty");
  gtk_box_append (box, GTK_WIDGET (self->content));

  g_signal_connect_swapped (self->folder_button, "clicked", G_CALLBACK (on_folder_clicked), self);
  g_signal_connect_swapped (self->files_button, "clicked", G_CALLBACK (on_files_clicked), self);
  g_signal_connect_swapped (self->dataset_drop, "notify::selected",
                            G_CALLBACK (update_sensitivity), self);
  g_signal_connect_swapped (self->data_folder_button, "clicked",
                            G_CALLBACK (on_data_folder_clicked), self);
  g_signal_connect_swapped (self->run_button, "clicked", G_CALLBACK (on_run_clicked), self);
  g_signal_connect_swapped (self->cancel_button, "clicked",
                            G_CALLBACK (lens_analysis_evolution_cancel), self);
  g_signal_connect_swapped (self->export_button, "clicked", G_CALLBACK (on_export_clicked), self);
  g_signal_connect_swapped (self->slider, "value-changed", G_CALLBACK (show_snapshot), self);
  lens_analyses_add_escape (GTK_WIDGET (self), G_CALLBACK (lens_analysis_evolution_cancel));
}

GtkWidget *
lens_analysis_evolution_new (LensAnalysesView *view)
{
  LensAnalysisEvolution *self;

  g_return_val_if_fail (LENS_IS_ANALYSES_VIEW (view), NULL);

  self = g_object_new (LENS_TYPE_ANALYSIS_EVOLUTION, NULL);
  self->view = view;
  g_signal_connect_object (lens_analyses_view_get_document (view), "notify::model",
                           G_CALLBACK (refresh_layers), self, G_CONNECT_SWAPPED);
  refresh_layers (self);
  update_sensitivity (self);
  return GTK_WIDGET (self);
}
