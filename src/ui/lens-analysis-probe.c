/* lens-analysis-probe.c: the Linear Probes page — a labelled data set
 * (Fashion-MNIST or an image folder) and layers in; a table and a bar plot
 * of the probes' train/test accuracy per layer out, from lens_probe_run()
 * on a worker thread */
#define G_LOG_DOMAIN "lens-analyses"

#include "lens-config.h"

#include <math.h>
#include <glib/gi18n.h>

#include "lens-analysis-layers.h"
#include "lens-analysis-probe.h"
#include "lens-file.h"
#include "lens-plot.h"

#define N_COLS LENS_PROBE_N_COLS

struct _LensAnalysisProbe
{
  GtkBox            parent_instance;

  LensAnalysesView *view;

  GtkDropDown      *dataset_drop;    /* Fashion-MNIST | folder */
  GtkButton        *folder_button;
  GtkSpinButton    *train_spin;
  GtkSpinButton    *test_spin;
  GtkSpinButton    *epochs_spin;
  GtkWidget        *layers;
  GtkButton        *run_button;
  GtkButton        *cancel_button;
  GtkProgressBar   *progress;
  GtkButton        *png_button;
  GtkButton        *csv_button;
  GtkStack         *content;
  GtkLabel         *summary;
  GtkColumnView    *table;
  GtkStringList    *rows;
  GtkDrawingArea   *plot;

  char             *folder;
  LensProbeResult  *result;
  GPtrArray        *cells;           /* char*, N_COLS per layer */
  GCancellable     *cancellable;
};

G_DEFINE_FINAL_TYPE (LensAnalysisProbe, lens_analysis_probe, GTK_TYPE_BOX)

enum { PROP_0, PROP_BUSY, N_PROPS };
static GParamSpec *properties[N_PROPS];

static const char * const default_ops[] = { "Relu", NULL };

static void
update_sensitivity (LensAnalysisProbe *self)
{
  LensDocument *doc = lens_analyses_view_get_document (self->view);
  gboolean running = self->cancellable != NULL;
  gboolean folder = gtk_drop_down_get_selected (self->dataset_drop) == 1;

  gtk_widget_set_sensitive (GTK_WIDGET (self->run_button),
                            !running && lens_document_get_model (doc) != NULL &&
                            (!folder || self->folder != NULL));
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), running);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), running);
  gtk_widget_set_visible (GTK_WIDGET (self->folder_button), folder);
  gtk_widget_set_sensitive (GTK_WIDGET (self->train_spin), !folder);
  gtk_widget_set_sensitive (GTK_WIDGET (self->test_spin), !folder);
  gtk_widget_set_sensitive (GTK_WIDGET (self->png_button), self->result != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->csv_button), self->result != NULL);
  if (self->folder != NULL)
    {
      g_autofree char *base = g_path_get_basename (self->folder);

      gtk_button_set_label (self->folder_button, base);
    }
}

static void
on_model_changed (LensAnalysisProbe *self)
{
  LensDocument *doc = lens_analyses_view_get_document (self->view);

  lens_analysis_layers_set_model (self->layers, lens_document_get_model (doc), default_ops);
  update_sensitivity (self);
}

void
lens_analysis_probe_configure (LensAnalysisProbe  *self,
                               const char         *dataset,
                               int                 n_train,
                               int                 n_test,
                               int                 epochs,
                               const char * const *layers)
{
  gboolean fmnist;

  g_return_if_fail (LENS_IS_ANALYSIS_PROBE (self));
  g_return_if_fail (dataset != NULL);

  fmnist = g_strcmp0 (dataset, "fashion-mnist") == 0;
  if (!fmnist)
    {
      g_free (self->folder);
      self->folder = g_strdup (dataset);
    }
  gtk_drop_down_set_selected (self->dataset_drop, fmnist ? 0 : 1);
  gtk_spin_button_set_value (self->train_spin, n_train);
  gtk_spin_button_set_value (self->test_spin, n_test);
  gtk_spin_button_set_value (self->epochs_spin, epochs);
  if (layers != NULL)
    lens_analysis_layers_set (self->layers, layers);
  update_sensitivity (self);
}

/* -- the table and the figure -------------------------------------------- */

static char *
percent (double value)
{
  return isfinite (value) ? g_strdup_printf ("%.2f %%", 100 * value) : g_strdup ("—");
}

static void
show_result (LensAnalysisProbe *self)
{
  const LensProbeResult *r = self->result;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *model = percent (r->model_accuracy);
  g_autofree char *summary = NULL;

  g_ptr_array_set_size (self->cells, 0);
  for (int l = 0; l < r->n_layers; l++)
    {
      g_ptr_array_add (self->cells, g_strdup (r->layers[l]));
      g_ptr_array_add (self->cells, g_strdup_printf ("%d", r->n_features[l]));
      g_ptr_array_add (self->cells, percent (r->train_accuracy[l]));
      g_ptr_array_add (self->cells, percent (r->test_accuracy[l]));
      g_ptr_array_add (self->cells, g_strdup_printf ("%.4f", r->loss[l]));
      g_ptr_array_add (items, g_strdup_printf ("%d", l));
    }
  g_ptr_array_add (items, NULL);
  gtk_string_list_splice (self->rows, 0, g_list_model_get_n_items (G_LIST_MODEL (self->rows)),
                          (const char * const *) items->pdata);
  summary = g_strdup_printf (_("%d training and %d test images, %d classes; the model's own "
                               "test accuracy: %s"), r->n_train, r->n_test, r->n_classes, model);
  gtk_label_set_text (self->summary, summary);
  gtk_drawing_area_set_content_height (self->plot, 0);
  gtk_widget_queue_draw (GTK_WIDGET (self->plot));
}

const char *
lens_analysis_probe_get_cell (LensAnalysisProbe *self,
                              guint              row,
                              guint              column)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_PROBE (self), NULL);
  if (column >= N_COLS || (row + 1) * N_COLS > self->cells->len)
    return NULL;
  return g_ptr_array_index (self->cells, row * N_COLS + column);
}

static void
setup_cell (GtkSignalListItemFactory *factory,
            GtkListItem              *item,
            gpointer                  data)
{
  GtkWidget *label = gtk_label_new ("");

  gtk_label_set_xalign (GTK_LABEL (label),
                        GPOINTER_TO_INT (g_object_get_data (G_OBJECT (factory), "column")) >= 1
                        ? 1 : 0);
  gtk_widget_add_css_class (label, "numeric");
  gtk_list_item_set_child (item, label);
}

static void
bind_cell (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  data)
{
  GtkStringObject *obj = gtk_list_item_get_item (item);
  guint row = (guint) g_ascii_strtoull (gtk_string_object_get_string (obj), NULL, 10);
  guint column = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (factory), "column"));
  const char *text = lens_analysis_probe_get_cell (LENS_ANALYSIS_PROBE (data), row, column);

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)), text ? text : "");
}

/* Train and test accuracy as grouped bars over the layers; *values and
 * *series must be freed. */
static void
build_panel (LensAnalysisProbe *self,
             LensPlotPanel     *panel,
             LensPlotSeries    *series,
             double           **values)
{
  const LensProbeResult *r = self->result;
  double *v = g_new (double, 2 * r->n_layers);

  for (int l = 0; l < r->n_layers; l++)
    {
      v[l] = r->train_accuracy[l];
      v[r->n_layers + l] = r->test_accuracy[l];
    }
  series[0].label = _("train");
  series[0].y = v;
  series[1].label = _("test");
  series[1].y = v + r->n_layers;
  *panel = (LensPlotPanel) {
    .title = _("accuracy of a softmax classifier on each layer's features"),
    .x_label = _("layer"), .y_label = _("accuracy"),
    .n = r->n_layers, .x = NULL, .x_names = (const char * const *) r->layers,
    .y_min = 0, .y_max = 1, .series = series, .n_series = 2, .bars = TRUE,
  };
  *values = v;
}

static char *
figure_title (const LensProbeResult *r)
{
  return g_strdup_printf (_("Linear probes, %d training and %d test images"), r->n_train,
                          r->n_test);
}

static void
draw_plot (GtkDrawingArea *area,
           cairo_t        *cr,
           int             width,
           int             height,
           gpointer        data)
{
  LensAnalysisProbe *self = data;
  LensPlotPanel panel;
  LensPlotSeries series[2];
  g_autofree double *values = NULL;
  g_autofree char *title = NULL;
  int fw, fh;
  double s;

  if (self->result == NULL)
    return;
  build_panel (self, &panel, series, &values);
  title = figure_title (self->result);
  lens_plot_get_size (1, &fw, &fh);
  s = MIN ((double) width / fw, (double) height / fh);
  cairo_translate (cr, (width - s * fw) / 2, 0);
  cairo_scale (cr, s, s);
  lens_plot_draw (cr, title, &panel, 1);
}

/* -- running ------------------------------------------------------------- */

typedef struct
{
  char             *model_path;
  char             *folder;          /* NULL: Fashion-MNIST */
  int               n_train, n_test;
  char            **layers;
  LensProbeOptions  opts;
  GtkProgressBar   *progress;
  LensProbeResult  *result;
} Job;

static void
job_free (Job *job)
{
  g_free (job->model_path);
  g_free (job->folder);
  g_strfreev (job->layers);
  g_object_unref (job->progress);
  g_clear_pointer (&job->result, lens_probe_result_free);
  g_free (job);
}

static void
on_progress (gint64   done,
             gint64   total,
             gpointer data)
{
  Job *job = data;

  lens_analyses_post_progress (job->progress, total > 0 ? (double) done / total : 0);
}

/* The first n images of ds (all for n <= 0); takes ds. */
static LensDataset *
take_first (LensDataset *ds,
            int          n)
{
  g_autofree int *idx = NULL;
  LensDataset *sub;

  if (ds == NULL || n <= 0 || n >= ds->n)
    return ds;
  idx = g_new (int, n);
  for (int i = 0; i < n; i++)
    idx[i] = i;
  sub = lens_dataset_subset (ds, idx, n);
  lens_dataset_free (ds);
  return sub;
}

static void
run_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  Job *job = task_data;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensNet) net = NULL;
  LensDataset *train = NULL, *test = NULL;
  GError *error = NULL;

  net = lens_analyses_load_net (job->model_path, &profile, &error);
  if (net != NULL && job->folder == NULL)
    {
      train = take_first (lens_dataset_load_fashion_mnist (NULL, "train", &error), job->n_train);
      if (train != NULL)
        test = take_first (lens_dataset_load_fashion_mnist (NULL, "test", &error), job->n_test);
    }
  else if (net != NULL)
    {
      LensDataset *all = lens_dataset_load_folder (job->folder, profile->pre.channels,
                                                   profile->pre.height, profile->pre.width,
                                                   &error);

      if (all != NULL)
        {
          g_autoptr(GArray) tr = g_array_new (FALSE, FALSE, sizeof (int));
          g_autoptr(GArray) te = g_array_new (FALSE, FALSE, sizeof (int));
          g_autofree int *seen = g_new0 (int, MAX (all->n_classes, 1));

          /* every fifth image of each class is a test image */
          for (int i = 0; i < all->n; i++)
            g_array_append_val (seen[all->labels[i]]++ % 5 == 4 ? te : tr, i);
          train = lens_dataset_subset (all, (int *) tr->data, (int) tr->len);
          test = lens_dataset_subset (all, (int *) te->data, (int) te->len);
          lens_dataset_free (all);
          if (train->n < 1 || test->n < 1)
            g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         _("The folder “%s” has too few images for training and test images"),
                         job->folder);
        }
    }
  if (error == NULL)
    {
      job->opts.progress = on_progress;
      job->opts.user_data = job;
      job->result = lens_probe_run (net, &profile->pre, train, test,
                                    (const char * const *) job->layers, &job->opts, cancellable,
                                    &error);
    }
  g_clear_pointer (&train, lens_dataset_free);
  g_clear_pointer (&test, lens_dataset_free);
  if (job->result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_run_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  LensAnalysisProbe *self = LENS_ANALYSIS_PROBE (object);
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  g_clear_object (&self->cancellable);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      lens_analyses_show_run_error (GTK_WIDGET (self), error);
    }
  else
    {
      g_clear_pointer (&self->result, lens_probe_result_free);
      self->result = g_steal_pointer (&job->result);
      show_result (self);
      gtk_stack_set_visible_child_name (self->content, "result");
    }
  lens_analyses_end_run_focus (self, (LensAnalysesPageUpdate) update_sensitivity,
                               GTK_WIDGET (self->cancel_button), GTK_WIDGET (self->run_button));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

void
lens_analysis_probe_run (LensAnalysisProbe *self)
{
  LensModelInfo *model;
  g_autoptr(GTask) task = NULL;
  Job *job;

  g_return_if_fail (LENS_IS_ANALYSIS_PROBE (self));
  if (self->cancellable != NULL)
    return;
  model = lens_document_get_model (lens_analyses_view_get_document (self->view));
  if (model == NULL)
    {
      lens_analyses_show_toast (GTK_WIDGET (self), _("Open a model first"));
      return;
    }
  job = g_new0 (Job, 1);
  job->layers = lens_analysis_layers_get (self->layers);
  if (job->layers[0] == NULL)
    {
      lens_analyses_show_toast (GTK_WIDGET (self), _("Choose at least one layer"));
      g_strfreev (job->layers);
      g_free (job);
      return;
    }
  if (gtk_drop_down_get_selected (self->dataset_drop) == 1)
    {
      if (self->folder == NULL)
        {
          lens_analyses_show_toast (GTK_WIDGET (self), _("Choose an image folder first"));
          g_strfreev (job->layers);
          g_free (job);
          return;
        }
      job->folder = g_strdup (self->folder);
    }
  job->model_path = g_strdup (model->path);
  job->n_train = gtk_spin_button_get_value_as_int (self->train_spin);
  job->n_test = gtk_spin_button_get_value_as_int (self->test_spin);
  lens_probe_options_init (&job->opts);
  job->opts.epochs = gtk_spin_button_get_value_as_int (self->epochs_spin);
  job->progress = g_object_ref (self->progress);
  gtk_progress_bar_set_fraction (self->progress, 0);
  self->cancellable = g_cancellable_new ();
  task = g_task_new (self, self->cancellable, on_run_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, run_thread);
  update_sensitivity (self);
  /* focus inside the page, so that Escape reaches its shortcut */
  gtk_widget_grab_focus (GTK_WIDGET (self->cancel_button));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

void
lens_analysis_probe_cancel (LensAnalysisProbe *self)
{
  g_return_if_fail (LENS_IS_ANALYSIS_PROBE (self));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

gboolean
lens_analysis_probe_get_busy (LensAnalysisProbe *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_PROBE (self), FALSE);
  return self->cancellable != NULL;
}

const LensProbeResult *
lens_analysis_probe_get_result (LensAnalysisProbe *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_PROBE (self), NULL);
  return self->result;
}

/* -- export -------------------------------------------------------------- */

static gboolean
no_result (LensAnalysisProbe *self,
           GError           **error)
{
  if (self->result != NULL)
    return FALSE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                       _("Run the analysis before exporting"));
  return TRUE;
}

gboolean
lens_analysis_probe_export_png (LensAnalysisProbe *self,
                                const char        *path,
                                GError           **error)
{
  LensPlotPanel panel;
  LensPlotSeries series[2];
  g_autofree double *values = NULL;
  g_autofree char *title = NULL, *layers = NULL;
  LensModelInfo *model;

  g_return_val_if_fail (LENS_IS_ANALYSIS_PROBE (self), FALSE);
  if (no_result (self, error))
    return FALSE;
  model = lens_document_get_model (lens_analyses_view_get_document (self->view));
  build_panel (self, &panel, series, &values);
  title = figure_title (self->result);
  layers = g_strjoinv (",", self->result->layers);
  {
    const char *kv[] = { "Software", "ConvLens", "Title", title, "convlens:analysis", "probe",
                         "Model file", model != NULL ? model->path : "",
                         "convlens:layers", layers, NULL };

    return lens_plot_save (path, title, &panel, 1, kv, error);
  }
}

gboolean
lens_analysis_probe_export_csv (LensAnalysisProbe *self,
                                const char        *path,
                                GError           **error)
{
  const LensProbeResult *r;
  g_autoptr(GString) csv = NULL;

  g_return_val_if_fail (LENS_IS_ANALYSIS_PROBE (self), FALSE);
  if (no_result (self, error))
    return FALSE;
  r = self->result;
  csv = g_string_new ("layer,features,train_accuracy,test_accuracy,loss,train_images,"
                      "test_images\n");
  for (int l = 0; l < r->n_layers; l++)
    {
      char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE], c[G_ASCII_DTOSTR_BUF_SIZE];

      g_string_append_printf (csv, "%s,%d,%s,%s,%s,%d,%d\n", r->layers[l], r->n_features[l],
                              g_ascii_formatd (a, sizeof a, "%.9g", r->train_accuracy[l]),
                              g_ascii_formatd (b, sizeof b, "%.9g", r->test_accuracy[l]),
                              g_ascii_formatd (c, sizeof c, "%.9g", r->loss[l]),
                              r->n_train, r->n_test);
    }
  return lens_file_write_atomic (path, csv->str, csv->len, error);
}

static void
on_export_chosen (GtkWidget  *page,
                  const char *path)
{
  LensAnalysisProbe *self = LENS_ANALYSIS_PROBE (page);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (path == NULL)
    return;
  if (g_str_has_suffix (path, ".csv") || g_str_has_suffix (path, ".CSV"))
    ok = lens_analysis_probe_export_csv (self, path, &error);
  else
    ok = lens_analysis_probe_export_png (self, path, &error);
  lens_analyses_show_toast (page, ok ? _("Exported") : error->message);
}

static void
on_png_clicked (LensAnalysisProbe *self)
{
  lens_analyses_choose_save (GTK_WIDGET (self), _("Export Probe Figure"), "probe.png",
                             on_export_chosen);
}

static void
on_csv_clicked (LensAnalysisProbe *self)
{
  lens_analyses_choose_save (GTK_WIDGET (self), _("Export Probe Numbers"), "probe.csv",
                             on_export_chosen);
}

static void
on_folder_chosen (GtkWidget *page,
                  GStrv      paths)
{
  LensAnalysisProbe *self = LENS_ANALYSIS_PROBE (page);

  if (paths == NULL || paths[0] == NULL)
    return;
  g_free (self->folder);
  self->folder = g_strdup (paths[0]);
  update_sensitivity (self);
}

static void
on_folder_clicked (LensAnalysisProbe *self)
{
  lens_analyses_choose_open (GTK_WIDGET (self), _("Choose Image Folder"), TRUE, FALSE, NULL,
                             on_folder_chosen);
}

/* -- object -------------------------------------------------------------- */

static void
lens_analysis_probe_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, lens_analysis_probe_get_busy (LENS_ANALYSIS_PROBE (object)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lens_analysis_probe_dispose (GObject *object)
{
  LensAnalysisProbe *self = LENS_ANALYSIS_PROBE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->result, lens_probe_result_free);
  g_clear_pointer (&self->cells, g_ptr_array_unref);
  g_clear_pointer (&self->folder, g_free);

  G_OBJECT_CLASS (lens_analysis_probe_parent_class)->dispose (object);
}

static void
lens_analysis_probe_class_init (LensAnalysisProbeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lens_analysis_probe_dispose;
  object_class->get_property = lens_analysis_probe_get_property;
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

static GtkSpinButton *
spin (GtkWidget  *bar,
      const char *label,
      const char *name,
      double      lo,
      double      hi,
      double      value)
{
  GtkWidget *s = gtk_spin_button_new_with_range (lo, hi, 1);

  gtk_spin_button_set_value (GTK_SPIN_BUTTON (s), value);
  gtk_editable_set_width_chars (GTK_EDITABLE (s), 6);
  named (s, name);
  gtk_box_append (GTK_BOX (bar), lens_analyses_labelled (label, s));
  return GTK_SPIN_BUTTON (s);
}

static void
lens_analysis_probe_init (LensAnalysisProbe *self)
{
  GtkBox *box = GTK_BOX (self);
  GtkWidget *bar, *bar2, *status, *result, *scrolled, *pane;
  const char *datasets[] = { N_("Fashion-MNIST"), N_("Image folder"), NULL };
  const char *titles[N_COLS] = { N_("Layer"), N_("Features"), N_("Train accuracy"),
                                 N_("Test accuracy"), N_("Final loss") };
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);

  self->cells = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; datasets[i] != NULL; i++)
    gtk_string_list_append (names, _(datasets[i]));

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (box, 6);
  g_object_set (self, "margin-start", 12, "margin-end", 12, "margin-top", 12,
                "margin-bottom", 12, NULL);

  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->dataset_drop = GTK_DROP_DOWN (gtk_drop_down_new (G_LIST_MODEL (g_object_ref (names)),
                                                         NULL));
  named (GTK_WIDGET (self->dataset_drop), _("Labelled data set for the probes"));
  gtk_box_append (GTK_BOX (bar), lens_analyses_labelled (_("_Data set"),
                                                         GTK_WIDGET (self->dataset_drop)));
  self->folder_button = GTK_BUTTON (gtk_button_new_with_label (_("Choose Folder…")));
  named (GTK_WIDGET (self->folder_button),
         _("Choose an image folder with one sub-folder per class"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->folder_button));
  self->layers = lens_analysis_layers_new ();
  gtk_box_append (GTK_BOX (bar), lens_analyses_labelled (_("_Layers"), self->layers));
  gtk_box_append (box, bar);
  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->train_spin = spin (bar, _("_Training images"),
                           _("Fashion-MNIST training images to use (0: all)"), 0, 60000, 2000);
  self->test_spin = spin (bar, _("T_est images"),
                          _("Fashion-MNIST test images to use (0: all)"), 0, 10000, 1000);
  self->epochs_spin = spin (bar, _("E_pochs"), _("Training epochs of each probe"), 1, 1000, 30);
  gtk_box_append (box, bar);

  bar2 = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->run_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Run")));
  gtk_widget_add_css_class (GTK_WIDGET (self->run_button), "suggested-action");
  named (GTK_WIDGET (self->run_button), _("Train the linear probes"));
  gtk_box_append (GTK_BOX (bar2), GTK_WIDGET (self->run_button));
  self->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_widget_set_valign (GTK_WIDGET (self->progress), GTK_ALIGN_CENTER);
  gtk_widget_set_hexpand (GTK_WIDGET (self->progress), TRUE);
  named (GTK_WIDGET (self->progress), _("Analysis progress"));
  gtk_box_append (GTK_BOX (bar2), GTK_WIDGET (self->progress));
  self->cancel_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Cancel")));
  named (GTK_WIDGET (self->cancel_button), _("Stop the analysis (Escape)"));
  gtk_box_append (GTK_BOX (bar2), GTK_WIDGET (self->cancel_button));
  self->png_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Export PNG…")));
  named (GTK_WIDGET (self->png_button), _("Save the figure as a PNG file"));
  gtk_widget_set_hexpand (GTK_WIDGET (self->png_button), TRUE);
  gtk_widget_set_halign (GTK_WIDGET (self->png_button), GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (bar2), GTK_WIDGET (self->png_button));
  self->csv_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("Export C_SV…")));
  named (GTK_WIDGET (self->csv_button), _("Save the numbers as a CSV file"));
  gtk_box_append (GTK_BOX (bar2), GTK_WIDGET (self->csv_button));
  gtk_box_append (box, bar2);

  self->content = GTK_STACK (gtk_stack_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->content), TRUE);
  status = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "view-continuous-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (status), _("Linear Probes"));
  adw_status_page_set_description (ADW_STATUS_PAGE (status),
    _("Train a softmax classifier on each chosen layer's features and compare their accuracy: "
      "how linearly separable the classes are at each depth of the network."));
  gtk_stack_add_named (self->content, status, "empty");

  result = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  self->summary = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_wrap (self->summary, TRUE);
  gtk_label_set_xalign (self->summary, 0);
  gtk_box_append (GTK_BOX (result), GTK_WIDGET (self->summary));
  pane = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_vexpand (pane, TRUE);
  self->rows = gtk_string_list_new (NULL);
  self->table = GTK_COLUMN_VIEW (gtk_column_view_new (
    GTK_SELECTION_MODEL (gtk_no_selection_new (G_LIST_MODEL (g_object_ref (self->rows))))));
  gtk_column_view_set_show_column_separators (self->table, TRUE);
  gtk_column_view_set_show_row_separators (self->table, TRUE);
  named (GTK_WIDGET (self->table), _("Probe accuracy per layer"));
  for (int c = 0; c < N_COLS; c++)
    {
      GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
      GtkColumnViewColumn *column;

      g_object_set_data (G_OBJECT (factory), "column", GINT_TO_POINTER (c));
      g_signal_connect (factory, "setup", G_CALLBACK (setup_cell), self);
      g_signal_connect (factory, "bind", G_CALLBACK (bind_cell), self);
      column = gtk_column_view_column_new (_(titles[c]), factory);
      gtk_column_view_column_set_expand (column, TRUE);
      gtk_column_view_append_column (self->table, column);
      g_object_unref (column);
    }
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->table));
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), 240);
  gtk_box_append (GTK_BOX (pane), scrolled);
  self->plot = GTK_DRAWING_AREA (gtk_drawing_area_new ());
  gtk_drawing_area_set_draw_func (self->plot, draw_plot, self, NULL);
  gtk_widget_set_size_request (GTK_WIDGET (self->plot), 380, 200);
  named (GTK_WIDGET (self->plot), _("Probe accuracy plot"));
  gtk_widget_set_vexpand (GTK_WIDGET (self->plot), TRUE);
  gtk_box_append (GTK_BOX (pane), GTK_WIDGET (self->plot));
  gtk_box_append (GTK_BOX (result), pane);
  gtk_stack_add_named (self->content, result, "result");
  gtk_stack_set_visible_child_name (self->content, "empty");
  gtk_box_append (box, GTK_WIDGET (self->content));

  g_signal_connect_swapped (self->dataset_drop, "notify::selected",
                            G_CALLBACK (update_sensitivity), self);
  g_signal_connect_swapped (self->folder_button, "clicked", G_CALLBACK (on_folder_clicked), self);
  g_signal_connect_swapped (self->run_button, "clicked",
                            G_CALLBACK (lens_analysis_probe_run), self);
  g_signal_connect_swapped (self->cancel_button, "clicked",
                            G_CALLBACK (lens_analysis_probe_cancel), self);
  g_signal_connect_swapped (self->png_button, "clicked", G_CALLBACK (on_png_clicked), self);
  g_signal_connect_swapped (self->csv_button, "clicked", G_CALLBACK (on_csv_clicked), self);
  lens_analyses_add_escape (GTK_WIDGET (self), G_CALLBACK (lens_analysis_probe_cancel));
}

GtkWidget *
lens_analysis_probe_new (LensAnalysesView *view)
{
  LensAnalysisProbe *self;

  g_return_val_if_fail (LENS_IS_ANALYSES_VIEW (view), NULL);

  self = g_object_new (LENS_TYPE_ANALYSIS_PROBE, NULL);
  self->view = view;
  g_signal_connect_object (lens_analyses_view_get_document (view), "notify::model",
                           G_CALLBACK (on_model_changed), self, G_CONNECT_SWAPPED);
  on_model_changed (self);
  return GTK_WIDGET (self);
}
