/* lens-analysis-invariance.c: the Invariance page — images (the current
 * one and more), a transform over a range and layers in; curves of the
 * feature distance per layer, the true class's probability and its rank
 * out, from lens_invariance_run() on a worker thread */
#define G_LOG_DOMAIN "lens-analyses"

#include "lens-config.h"

#include <math.h>
#include <glib/gi18n.h>

#include "lens-analysis-invariance.h"
#include "lens-analysis-layers.h"
#include "lens-file.h"
#include "lens-plot.h"

struct _LensAnalysisInvariance
{
  GtkBox            parent_instance;

  LensAnalysesView *view;

  GtkLabel         *images_label;
  GtkButton        *images_button;
  GtkButton        *clear_button;
  GtkDropDown      *transform_drop;
  GtkSpinButton    *from_spin;
  GtkSpinButton    *to_spin;
  GtkSpinButton    *step_spin;
  GtkWidget        *layers;
  GtkButton        *run_button;
  GtkButton        *cancel_button;
  GtkProgressBar   *progress;
  GtkButton        *png_button;
  GtkButton        *csv_button;
  GtkStack         *content;
  GtkDrawingArea   *plot;

  GPtrArray        *extra_images;    /* char* paths besides the current image */
  GPtrArray        *names;           /* char* basenames of the result's images */
  LensInvariance   *result;
  double           *ranks;           /* [n_images][n_values] as doubles */
  GCancellable     *cancellable;
};

G_DEFINE_FINAL_TYPE (LensAnalysisInvariance, lens_analysis_invariance, GTK_TYPE_BOX)

enum { PROP_0, PROP_BUSY, N_PROPS };
static GParamSpec *properties[N_PROPS];

static const char * const default_ops[] = { "Conv", NULL };

/* -- the figure ------------------------------------------------------------ */

static const char *
x_label (LensTransform transform)
{
  switch (transform)
    {
    case LENS_TRANSFORM_TRANSLATE:
      return _("vertical translation (pixels)");
    case LENS_TRANSFORM_SCALE:
      return _("scale factor");
    case LENS_TRANSFORM_ROTATE:
    default:
      return _("rotation (degrees)");
    }
}

/* One panel per layer (relative distance per image), then the true class's
 * probability and its rank.  strings keeps the titles alive. */
static LensPlotPanel *
build_panels (LensAnalysisInvariance *self,
              int                    *n_panels,
              LensPlotSeries        **series_out,
              GPtrArray              *strings)
{
  const LensInvariance *inv = self->result;
  int n = inv->n_layers + 2;
  LensPlotPanel *panels = g_new0 (LensPlotPanel, n);
  LensPlotSeries *series = g_new0 (LensPlotSeries, (gsize) n * inv->n_images);

  for (int l = 0; l < n; l++)
    {
      LensPlotPanel *p = &panels[l];
      LensPlotSeries *s = series + (gsize) l * inv->n_images;

      p->n = inv->n_values;
      p->x = inv->values;
      p->x_label = x_label (inv->transform);
      p->series = s;
      p->n_series = inv->n_images;
      p->y_min = 0;
      p->y_max = NAN;
      for (int i = 0; i < inv->n_images; i++)
        {
          gsize pv = (gsize) i * inv->n_values;

          s[i].label = g_ptr_array_index (self->names, i);
          s[i].y = l < inv->n_layers ? inv->relative + lens_invariance_index (inv, i, l, 0)
                   : l == inv->n_layers ? inv->probability + pv : self->ranks + pv;
        }
      if (l < inv->n_layers)
        {
          char *t = g_strdup_printf (_("%s: distance to the original / its norm"),
                                     inv->layers[l]);

          g_ptr_array_add (strings, t);
          p->title = t;
          p->y_label = _("relative distance");
        }
      else if (l == inv->n_layers)
        {
          p->title = _("probability of the true class");
          p->y_label = _("probability");
          p->y_max = 1;
        }
      else
        {
          p->title = _("rank of the true class (1 = top)");
          p->y_label = _("rank");
          p->y_min = 1;
        }
    }
  *n_panels = n;
  *series_out = series;
  return panels;
}

static char *
figure_title (const LensInvariance *inv)
{
  return g_strdup_printf (ngettext ("Invariance (%s), %d image", "Invariance (%s), %d images",
                                    inv->n_images),
                          lens_transform_to_string (inv->transform), inv->n_images);
}

static void
draw_plot (GtkDrawingArea *area,
           cairo_t        *cr,
           int             width,
           int             height,
           gpointer        data)
{
  LensAnalysisInvariance *self = data;
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  g_autofree LensPlotPanel *panels = NULL;
  g_autofree LensPlotSeries *series = NULL;
  g_autofree char *title = NULL;
  int n, fw, fh;

  if (self->result == NULL)
    return;
  panels = build_panels (self, &n, &series, strings);
  title = figure_title (self->result);
  lens_plot_get_size (n, &fw, &fh);
  /* the figure keeps its proportions; it fills the width */
  cairo_scale (cr, (double) width / fw, (double) width / fw);
  lens_plot_draw (cr, title, panels, n);
}

/* The figure fills the page's width; its height follows (scrolled). */
static void
update_plot_size (LensAnalysisInvariance *self)
{
  int fw = 1, fh = 0, width = gtk_widget_get_width (GTK_WIDGET (self->plot));

  if (self->result != NULL)
    lens_plot_get_size (self->result->n_layers + 2, &fw, &fh);
  if (width <= 0)
    width = fw;
  if (gtk_drawing_area_get_content_height (self->plot) != fh * width / fw)
    gtk_drawing_area_set_content_height (self->plot, fh * width / fw);
  gtk_widget_queue_draw (GTK_WIDGET (self->plot));
}

/* -- controls ------------------------------------------------------------ */

static void
update_images_label (LensAnalysisInvariance *self)
{
  const char *current = lens_document_get_image_path (lens_analyses_view_get_document (self->view));
  GString *text = g_string_new (NULL);

  if (current != NULL)
    {
      g_autofree char *base = g_path_get_basename (current);

      g_string_append_printf (text, _("Current image (%s)"), base);
    }
  else
    g_string_append (text, _("No current image"));
  if (self->extra_images->len > 0)
    g_string_append_printf (text, ngettext (" + %u more", " + %u more", self->extra_images->len),
                            self->extra_images->len);
  gtk_label_set_text (self->images_label, text->str);
  g_string_free (text, TRUE);
}

static void
update_sensitivity (LensAnalysisInvariance *self)
{
  LensDocument *doc = lens_analyses_view_get_document (self->view);
  gboolean running = self->cancellable != NULL;

  gtk_widget_set_sensitive (GTK_WIDGET (self->run_button),
                            !running && lens_document_get_model (doc) != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), running);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->png_button), self->result != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->csv_button), self->result != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->clear_button), self->extra_images->len > 0);
  update_images_label (self);
}

static void
on_model_changed (LensAnalysisInvariance *self)
{
  LensDocument *doc = lens_analyses_view_get_document (self->view);

  lens_analysis_layers_set_model (self->layers, lens_document_get_model (doc), default_ops);
  update_sensitivity (self);
}

/* Sensible ranges when the transform changes. */
static void
on_transform_changed (LensAnalysisInvariance *self)
{
  static const double presets[][3] = { { -6, 6, 1 }, { 0.5, 1.5, 0.1 }, { 0, 360, 15 } };
  guint t = gtk_drop_down_get_selected (self->transform_drop);

  if (t >= G_N_ELEMENTS (presets))
    return;
  gtk_spin_button_set_value (self->from_spin, presets[t][0]);
  gtk_spin_button_set_value (self->to_spin, presets[t][1]);
  gtk_spin_button_set_value (self->step_spin, presets[t][2]);
}

void
lens_analysis_invariance_configure (LensAnalysisInvariance *self,
                                    const char * const     *images,
                                    LensTransform           transform,
                                    double                  from,
                                    double                  to,
                                    double                  step,
                                    const char * const     *layers)
{
  g_return_if_fail (LENS_IS_ANALYSIS_INVARIANCE (self));

  g_ptr_array_set_size (self->extra_images, 0);
  for (int i = 0; images != NULL && images[i] != NULL; i++)
    g_ptr_array_add (self->extra_images, g_strdup (images[i]));
  gtk_drop_down_set_selected (self->transform_drop, transform);
  gtk_spin_button_set_value (self->from_spin, from);
  gtk_spin_button_set_value (self->to_spin, to);
  gtk_spin_button_set_value (self->step_spin, step);
  if (layers != NULL)
    lens_analysis_layers_set (self->layers, layers);
  update_sensitivity (self);
}

/* -- running ------------------------------------------------------------- */

typedef struct
{
  char           *model_path;
  GPtrArray      *paths;
  char          **layers;
  LensTransform   transform;
  double         *values;
  int             n_values;
  GtkProgressBar *progress;
  LensInvariance *result;
} Job;

static void
job_free (Job *job)
{
  g_free (job->model_path);
  g_ptr_array_unref (job->paths);
  g_strfreev (job->layers);
  g_free (job->values);
  g_object_unref (job->progress);
  g_clear_pointer (&job->result, lens_invariance_free);
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

static void
run_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  Job *job = task_data;
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(LensNet) net = NULL;
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func ((GDestroyNotify) lens_image_free);
  LensInvarianceOptions opts;
  GError *error = NULL;

  net = lens_analyses_load_net (job->model_path, &profile, &error);
  for (guint i = 0; net != NULL && i < job->paths->len; i++)
    {
      LensImage *image = lens_image_load (g_ptr_array_index (job->paths, i), &error);

      if (image == NULL)
        break;
      g_ptr_array_add (images, image);
    }
  if (error == NULL)
    {
      lens_invariance_options_init (&opts);
      opts.transform = job->transform;
      opts.values = job->values;
      opts.n_values = job->n_values;
      opts.progress = on_progress;
      opts.user_data = job;
      job->result = lens_invariance_run (net, &profile->pre, (LensImage * const *) images->pdata,
                                         (int) images->len, NULL,
                                         (const char * const *) job->layers, &opts, cancellable,
                                         &error);
    }
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
  LensAnalysisInvariance *self = LENS_ANALYSIS_INVARIANCE (object);
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  g_clear_object (&self->cancellable);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      lens_analyses_show_run_error (GTK_WIDGET (self), error);
    }
  else
    {
      LensInvariance *inv;

      g_clear_pointer (&self->result, lens_invariance_free);
      inv = self->result = g_steal_pointer (&job->result);
      g_ptr_array_set_size (self->names, 0);
      for (guint i = 0; i < job->paths->len; i++)
        g_ptr_array_add (self->names, g_path_get_basename (g_ptr_array_index (job->paths, i)));
      g_free (self->ranks);
      self->ranks = g_new (double, (gsize) inv->n_images * inv->n_values);
      for (gsize k = 0; k < (gsize) inv->n_images * inv->n_values; k++)
        self->ranks[k] = inv->rank[k];
      update_plot_size (self);
      gtk_stack_set_visible_child_name (self->content, "result");
    }
  lens_analyses_end_run_focus (self, (LensAnalysesPageUpdate) update_sensitivity,
                               GTK_WIDGET (self->cancel_button), GTK_WIDGET (self->run_button));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

void
lens_analysis_invariance_run (LensAnalysisInvariance *self)
{
  LensDocument *doc;
  LensModelInfo *model;
  const char *current;
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *range = NULL;
  char from[G_ASCII_DTOSTR_BUF_SIZE], to[G_ASCII_DTOSTR_BUF_SIZE], step[G_ASCII_DTOSTR_BUF_SIZE];
  Job *job;

  g_return_if_fail (LENS_IS_ANALYSIS_INVARIANCE (self));
  if (self->cancellable != NULL)
    return;
  doc = lens_analyses_view_get_document (self->view);
  model = lens_document_get_model (doc);
  if (model == NULL)
    {
      lens_analyses_show_toast (GTK_WIDGET (self), _("Open a model first"));
      return;
    }
  job = g_new0 (Job, 1);
  job->model_path = g_strdup (model->path);
  job->paths = g_ptr_array_new_with_free_func (g_free);
  current = lens_document_get_image_path (doc);
  if (current != NULL)
    g_ptr_array_add (job->paths, g_strdup (current));
  for (guint i = 0; i < self->extra_images->len; i++)
    g_ptr_array_add (job->paths, g_strdup (g_ptr_array_index (self->extra_images, i)));
  job->layers = lens_analysis_layers_get (self->layers);
  job->transform = gtk_drop_down_get_selected (self->transform_drop);
  job->progress = g_object_ref (self->progress);
  range = g_strdup_printf ("%s:%s:%s",
                           g_ascii_dtostr (from, sizeof from,
                                           gtk_spin_button_get_value (self->from_spin)),
                           g_ascii_dtostr (to, sizeof to, gtk_spin_button_get_value (self->to_spin)),
                           g_ascii_dtostr (step, sizeof step,
                                           gtk_spin_button_get_value (self->step_spin)));
  if (job->paths->len == 0)
    g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         _("Open an image or add images first"));
  else if (job->layers[0] == NULL)
    g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         _("Choose at least one layer"));
  else
    lens_invariance_parse_range (range, &job->values, &job->n_values, &error);
  if (error != NULL)
    {
      lens_analyses_show_toast (GTK_WIDGET (self), error->message);
      job_free (job);
      return;
    }
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
lens_analysis_invariance_cancel (LensAnalysisInvariance *self)
{
  g_return_if_fail (LENS_IS_ANALYSIS_INVARIANCE (self));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

gboolean
lens_analysis_invariance_get_busy (LensAnalysisInvariance *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_INVARIANCE (self), FALSE);
  return self->cancellable != NULL;
}

const LensInvariance *
lens_analysis_invariance_get_result (LensAnalysisInvariance *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_INVARIANCE (self), NULL);
  return self->result;
}

/* -- export -------------------------------------------------------------- */

static gboolean
no_result (LensAnalysisInvariance *self,
           GError                **error)
{
  if (self->result != NULL)
    return FALSE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                       _("Run the analysis before exporting"));
  return TRUE;
}

gboolean
lens_analysis_invariance_export_png (LensAnalysisInvariance *self,
                                     const char             *path,
                                     GError                **error)
{
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  g_autofree LensPlotPanel *panels = NULL;
  g_autofree LensPlotSeries *series = NULL;
  g_autofree char *title = NULL, *layers = NULL;
  LensModelInfo *model;
  int n;

  g_return_val_if_fail (LENS_IS_ANALYSIS_INVARIANCE (self), FALSE);
  if (no_result (self, error))
    return FALSE;
  model = lens_document_get_model (lens_analyses_view_get_document (self->view));
  panels = build_panels (self, &n, &series, strings);
  title = figure_title (self->result);
  layers = g_strjoinv (",", self->result->layers);
  {
    const char *kv[] = { "Software", "ConvLens", "Title", title,
                         "convlens:analysis", "invariance",
                         "Model file", model != NULL ? model->path : "",
                         "convlens:transform", lens_transform_to_string (self->result->transform),
                         "convlens:layers", layers, NULL };

    return lens_plot_save (path, title, panels, n, kv, error);
  }
}

gboolean
lens_analysis_invariance_export_csv (LensAnalysisInvariance *self,
                                     const char             *path,
                                     GError                **error)
{
  const LensInvariance *inv;
  g_autoptr(GString) csv = NULL;

  g_return_val_if_fail (LENS_IS_ANALYSIS_INVARIANCE (self), FALSE);
  if (no_result (self, error))
    return FALSE;
  inv = self->result;
  /* the same columns as `convlens-cli invariance --output` */
  csv = g_string_new ("image,file,transform,value,layer,distance,relative_distance,"
                      "true_class,probability,rank\n");
  for (int i = 0; i < inv->n_images; i++)
    for (int l = 0; l < inv->n_layers; l++)
      for (int v = 0; v < inv->n_values; v++)
        {
          gsize at = lens_invariance_index (inv, i, l, v), pv = (gsize) i * inv->n_values + v;
          char value[G_ASCII_DTOSTR_BUF_SIZE], d[G_ASCII_DTOSTR_BUF_SIZE];
          char r[G_ASCII_DTOSTR_BUF_SIZE], p[G_ASCII_DTOSTR_BUF_SIZE];
          g_autofree char *file = g_strdup (g_ptr_array_index (self->names, i));

          g_strdelimit (file, ",\"\n\r", '_');
          g_string_append_printf (csv, "%d,%s,%s,%s,%s,%s,%s,%d,%s,%d\n", i, file,
                                  lens_transform_to_string (inv->transform),
                                  g_ascii_formatd (value, sizeof value, "%.9g", inv->values[v]),
                                  inv->layers[l],
                                  g_ascii_formatd (d, sizeof d, "%.9g", inv->distance[at]),
                                  isnan (inv->relative[at]) ? "nan"
                                  : g_ascii_formatd (r, sizeof r, "%.9g", inv->relative[at]),
                                  inv->true_class[i],
                                  g_ascii_formatd (p, sizeof p, "%.9g", inv->probability[pv]),
                                  inv->rank[pv]);
        }
  return lens_file_write_atomic (path, csv->str, csv->len, error);
}

static void
on_export_chosen (GtkWidget  *page,
                  const char *path)
{
  LensAnalysisInvariance *self = LENS_ANALYSIS_INVARIANCE (page);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (path == NULL)
    return;
  if (g_str_has_suffix (path, ".csv") || g_str_has_suffix (path, ".CSV"))
    ok = lens_analysis_invariance_export_csv (self, path, &error);
  else
    ok = lens_analysis_invariance_export_png (self, path, &error);
  lens_analyses_show_toast (page, ok ? _("Exported") : error->message);
}

static void
on_png_clicked (LensAnalysisInvariance *self)
{
  lens_analyses_choose_save (GTK_WIDGET (self), _("Export Invariance Figure"),
                             "invariance.png", on_export_chosen);
}

static void
on_csv_clicked (LensAnalysisInvariance *self)
{
  lens_analyses_choose_save (GTK_WIDGET (self), _("Export Invariance Numbers"),
                             "invariance.csv", on_export_chosen);
}

static void
on_images_chosen (GtkWidget *page,
                  GStrv      paths)
{
  LensAnalysisInvariance *self = LENS_ANALYSIS_INVARIANCE (page);

  for (int i = 0; paths != NULL && paths[i] != NULL; i++)
    g_ptr_array_add (self->extra_images, g_strdup (paths[i]));
  update_sensitivity (self);
}

static void
on_images_clicked (LensAnalysisInvariance *self)
{
  lens_analyses_choose_open (GTK_WIDGET (self), _("Add Images"), FALSE, TRUE, NULL,
                             on_images_chosen);
}

static void
on_clear_clicked (LensAnalysisInvariance *self)
{
  g_ptr_array_set_size (self->extra_images, 0);
  update_sensitivity (self);
}

/* -- object -------------------------------------------------------------- */

static void
lens_analysis_invariance_get_property (GObject    *object,
                                       guint       prop_id,
                                       GValue     *value,
                                       GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value,
                           lens_analysis_invariance_get_busy (LENS_ANALYSIS_INVARIANCE (object)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lens_analysis_invariance_dispose (GObject *object)
{
  LensAnalysisInvariance *self = LENS_ANALYSIS_INVARIANCE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->result, lens_invariance_free);
  g_clear_pointer (&self->ranks, g_free);
  g_clear_pointer (&self->names, g_ptr_array_unref);
  g_clear_pointer (&self->extra_images, g_ptr_array_unref);

  G_OBJECT_CLASS (lens_analysis_invariance_parent_class)->dispose (object);
}

static void
lens_analysis_invariance_class_init (LensAnalysisInvarianceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lens_analysis_invariance_dispose;
  object_class->get_property = lens_analysis_invariance_get_property;
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
      double      step)
{
  GtkWidget *s = gtk_spin_button_new_with_range (lo, hi, step);

  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (s), 2);
  gtk_editable_set_width_chars (GTK_EDITABLE (s), 6);
  named (s, name);
  gtk_box_append (GTK_BOX (bar), lens_analyses_labelled (label, s));
  return GTK_SPIN_BUTTON (s);
}

static void
lens_analysis_invariance_init (LensAnalysisInvariance *self)
{
  GtkBox *box = GTK_BOX (self);
  GtkWidget *bar, *bar2, *status, *scrolled;
  const char *transforms[] = { N_("Translate"), N_("Scale"), N_("Rotate"), NULL };
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);

  self->extra_images = g_ptr_array_new_with_free_func (g_free);
  self->names = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; transforms[i] != NULL; i++)
    gtk_string_list_append (names, _(transforms[i]));

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (box, 6);
  g_object_set (self, "margin-start", 12, "margin-end", 12, "margin-top", 12,
                "margin-bottom", 12, NULL);

  /* images */
  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->images_label = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_ellipsize (self->images_label, PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_xalign (self->images_label, 0);
  gtk_widget_set_hexpand (GTK_WIDGET (self->images_label), TRUE);
  named (GTK_WIDGET (self->images_label), _("Images to transform"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->images_label));
  self->images_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("Add _Images…")));
  named (GTK_WIDGET (self->images_button), _("Add more images to transform"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->images_button));
  self->clear_button = GTK_BUTTON (gtk_button_new_with_label (_("Clear")));
  named (GTK_WIDGET (self->clear_button), _("Remove the added images"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->clear_button));
  self->layers = lens_analysis_layers_new ();
  gtk_box_append (GTK_BOX (bar), lens_analyses_labelled (_("_Layers"), self->layers));
  gtk_box_append (box, bar);

  /* transform, range, run */
  bar2 = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->transform_drop = GTK_DROP_DOWN (gtk_drop_down_new (G_LIST_MODEL (g_object_ref (names)),
                                                           NULL));
  named (GTK_WIDGET (self->transform_drop), _("Transform applied to the images"));
  gtk_box_append (GTK_BOX (bar2), lens_analyses_labelled (_("_Transform"),
                                                          GTK_WIDGET (self->transform_drop)));
  self->from_spin = spin (bar2, _("_From"), _("First transform value"), -100000, 100000, 1);
  self->to_spin = spin (bar2, _("T_o"), _("Last transform value"), -100000, 100000, 1);
  self->step_spin = spin (bar2, _("_Step"), _("Step between transform values"), 0.01, 100000, 1);
  gtk_box_append (box, bar2);
  bar2 = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->run_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Run")));
  gtk_widget_add_css_class (GTK_WIDGET (self->run_button), "suggested-action");
  named (GTK_WIDGET (self->run_button), _("Compute the invariance curves"));
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
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "object-rotate-right-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (status), _("Invariance"));
  adw_status_page_set_description (ADW_STATUS_PAGE (status),
    _("Translate, scale or rotate the current image (and any added ones) over a range and "
      "see how far each layer's features move, and what happens to the probability and rank "
      "of the true class."));
  gtk_stack_add_named (self->content, status, "empty");
  self->plot = GTK_DRAWING_AREA (gtk_drawing_area_new ());
  gtk_drawing_area_set_draw_func (self->plot, draw_plot, self, NULL);
  g_signal_connect_swapped (self->plot, "resize", G_CALLBACK (update_plot_size), self);
  gtk_widget_set_hexpand (GTK_WIDGET (self->plot), TRUE);
  named (GTK_WIDGET (self->plot), _("Invariance curves"));
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->plot));
  gtk_stack_add_named (self->content, scrolled, "result");
  gtk_stack_set_visible_child_name (self->content, "empty");
  gtk_box_append (box, GTK_WIDGET (self->content));

  on_transform_changed (self);
  g_signal_connect_swapped (self->transform_drop, "notify::selected",
                            G_CALLBACK (on_transform_changed), self);
  g_signal_connect_swapped (self->images_button, "clicked", G_CALLBACK (on_images_clicked), self);
  g_signal_connect_swapped (self->clear_button, "clicked", G_CALLBACK (on_clear_clicked), self);
  g_signal_connect_swapped (self->run_button, "clicked",
                            G_CALLBACK (lens_analysis_invariance_run), self);
  g_signal_connect_swapped (self->cancel_button, "clicked",
                            G_CALLBACK (lens_analysis_invariance_cancel), self);
  g_signal_connect_swapped (self->png_button, "clicked", G_CALLBACK (on_png_clicked), self);
  g_signal_connect_swapped (self->csv_button, "clicked", G_CALLBACK (on_csv_clicked), self);
  lens_analyses_add_escape (GTK_WIDGET (self), G_CALLBACK (lens_analysis_invariance_cancel));
}

GtkWidget *
lens_analysis_invariance_new (LensAnalysesView *view)
{
  LensAnalysisInvariance *self;
  LensDocument *doc;

  g_return_val_if_fail (LENS_IS_ANALYSES_VIEW (view), NULL);

  self = g_object_new (LENS_TYPE_ANALYSIS_INVARIANCE, NULL);
  self->view = view;
  doc = lens_analyses_view_get_document (view);
  g_signal_connect_object (doc, "notify::model", G_CALLBACK (on_model_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (doc, "notify::trace", G_CALLBACK (update_sensitivity), self,
                           G_CONNECT_SWAPPED);
  on_model_changed (self);
  return GTK_WIDGET (self);
}
