/* lens-analysis-filters.c: the Filters page — the first layer's filters as
 * tiles, with RMS, dead and dominating filters and the high-frequency
 * share, from lens_filters_analyse() (optionally over a data set); with a
 * data set also the layer-2 top-1 projections (lens_filters_layer2_scan),
 * on a second page of the picture stack.  The exported PNG is the whole
 * figure (tiles, caption, projections), as convlens-cli filters writes it. */
#define G_LOG_DOMAIN "lens-analyses"

#include "lens-config.h"

#include <glib/gi18n.h>

#include "lens-analysis-filters.h"
#include "lens-file.h"
#include "lens-image.h"

enum { COL_FILTER, COL_RMS, COL_HIGH, COL_WEIGHT_SHARE, COL_MAX, COL_POSITIVE, COL_ENERGY,
       COL_FLAGS, N_COLS };

struct _LensAnalysisFilters
{
  GtkBox            parent_instance;

  LensAnalysesView *view;

  GtkDropDown      *dataset_drop;    /* none | Fashion-MNIST | folder */
  GtkButton        *folder_button;
  GtkSpinButton    *limit_spin;
  GtkButton        *run_button;
  GtkButton        *cancel_button;
  GtkProgressBar   *progress;
  GtkButton        *png_button;
  GtkButton        *csv_button;
  GtkStack         *content;
  GtkStackSwitcher *figure_switcher;
  GtkStack         *figures;         /* "layer1" | "layer2" */
  GtkPicture       *picture;
  GtkPicture       *layer2_picture;
  GtkLabel         *summary;
  GtkGrid          *table;

  /* owned */
  char             *folder;
  LensFilterStats  *stats;
  LensTopk         *layer2;          /* top-1 of the layer-2 Conv, or NULL */
  GPtrArray        *cells;           /* char*, N_COLS per filter */
  guint8           *rgb;             /* the exported figure */
  int               width, height;

  /* jobs */
  GCancellable     *cancellable;
  guint             pulse_id;
  gint             *job_phase;       /* borrowed from the running job: 1 once layer 2 scans */
};

G_DEFINE_FINAL_TYPE (LensAnalysisFilters, lens_analysis_filters, GTK_TYPE_BOX)

static void
update_sensitivity (LensAnalysisFilters *self)
{
  gboolean running = self->cancellable != NULL;
  gboolean has_model = lens_document_get_model (lens_analyses_view_get_document (self->view)) != NULL;

  gtk_widget_set_sensitive (GTK_WIDGET (self->run_button), !running && has_model);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), running);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), running);
  gtk_widget_set_visible (GTK_WIDGET (self->folder_button),
                          gtk_drop_down_get_selected (self->dataset_drop) == 2);
  gtk_widget_set_visible (GTK_WIDGET (self->limit_spin),
                          gtk_drop_down_get_selected (self->dataset_drop) != 0);
  gtk_widget_set_sensitive (GTK_WIDGET (self->png_button), self->stats != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->csv_button), self->stats != NULL);
}

static char *
number (double value)
{
  return g_strdup_printf ("%.4g", value);
}

/* The table and the summary from self->stats. */
static void
show_stats (LensAnalysisFilters *self)
{
  LensFilterStats *st = self->stats;
  GtkWidget *child;
  const char *heads[N_COLS] = {
    N_("Filter"), N_("RMS"), N_("High frequency"), N_("Weight share"), N_("Max"),
    N_("Positive"), N_("Energy share"), N_("Flags"),
  };
  g_autoptr(GString) dead = g_string_new (NULL);
  g_autoptr(GString) dominating = g_string_new (NULL);
  g_autofree char *summary = NULL;
  g_autofree char *n_images = NULL;
  int n_cols = st->n_images > 0 ? N_COLS : 4;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->table))) != NULL)
    gtk_grid_remove (self->table, child);
  g_ptr_array_set_size (self->cells, 0);

  for (int c = 0; c < N_COLS; c++)
    if (c < n_cols || c == COL_FLAGS)
      {
        GtkWidget *label = gtk_label_new (_(heads[c]));

        gtk_widget_add_css_class (label, "heading");
        gtk_label_set_xalign (GTK_LABEL (label), 1);
        gtk_grid_attach (self->table, label, c, 0, 1, 1);
      }
  for (int f = 0; f < st->n_filters; f++)
    {
      GString *flags = g_string_new (NULL);
      char *cells[N_COLS] = { NULL };

      if (st->dead != NULL && st->dead[f])
        {
          g_string_append (flags, _("dead"));
          g_string_append_printf (dead, "%s%d", dead->len ? ", " : "", f);
        }
      if (st->dominating != NULL && st->dominating[f])
        {
          g_string_append_printf (flags, "%s%s", flags->len ? ", " : "", _("dominating"));
          g_string_append_printf (dominating, "%s%d", dominating->len ? ", " : "", f);
        }
      cells[COL_FILTER] = g_strdup_printf ("%d", f);
      cells[COL_RMS] = number (st->rms[f]);
      cells[COL_HIGH] = number (st->high_share[f]);
      cells[COL_WEIGHT_SHARE] = number (st->weight_share[f]);
      cells[COL_MAX] = st->n_images > 0 ? number (st->max[f]) : g_strdup ("");
      cells[COL_POSITIVE] = st->n_images > 0 ? number (st->positive_fraction[f]) : g_strdup ("");
      cells[COL_ENERGY] = st->n_images > 0 ? number (st->energy_share[f]) : g_strdup ("");
      cells[COL_FLAGS] = g_string_free (flags, FALSE);
      for (int c = 0; c < N_COLS; c++)
        {
          if (c < n_cols || c == COL_FLAGS)
            {
              GtkWidget *label = gtk_label_new (cells[c]);

              gtk_label_set_xalign (GTK_LABEL (label), 1);
              gtk_grid_attach (self->table, label, c, f + 1, 1, 1);
            }
          g_ptr_array_add (self->cells, cells[c]);
        }
    }

  n_images = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) st->n_images);
  /* TRANSLATORS: filter summary: layer, filters, size, images, dead list, dominating list */
  summary = g_strdup_printf (_("%s: %d filters of %d×%d×%d · %s images · "
                               "dead: %s · dominating: %s"),
                             st->layer, st->n_filters, st->channels, st->kh, st->kw, n_images,
                             st->n_images > 0 ? (dead->len ? dead->str : _("none"))
                                              : _("needs a data set"),
                             dominating->len ? dominating->str : _("none"));
  gtk_label_set_text (self->summary, summary);
}

typedef struct
{
  char            *model_path;
  char            *dataset;
  int              limit;
  GtkProgressBar  *progress;
  gint             phase;          /* atomic: 0 layer 1 (pulsing), 1 layer 2 (fractions) */
  LensFilterStats *stats;
  LensTopk        *layer2;
  char            *layer2_note;    /* why there is no layer 2, or NULL */
  guint8          *tiles;          /* layer 1 */
  int              tiles_width, tiles_height;
  guint8          *layer2_rgb;
  int              layer2_width, layer2_height;
  guint8          *rgb;            /* the whole figure */
  int              width, height;
} Job;

static void
job_free (Job *job)
{
  g_free (job->model_path);
  g_free (job->dataset);
  g_clear_object (&job->progress);
  g_clear_pointer (&job->stats, lens_filter_stats_free);
  g_clear_pointer (&job->layer2, lens_topk_free);
  g_free (job->layer2_note);
  g_free (job->tiles);
  g_free (job->layer2_rgb);
  g_free (job->rgb);
  g_free (job);
}

static void
on_layer2_progress (gint64   done,
                    gint64   total,
                    gpointer user_data)
{
  Job *job = user_data;

  g_atomic_int_set (&job->phase, 1);
  lens_analyses_post_progress (job->progress, total > 0 ? (double) done / total : 0.0);
}

/* The layer-2 part of a job with a data set: the scan, its blocks and the
 * whole figure.  A model without a second Conv is not an error (the
 * layer-1 analysis stands on its own): job->layer2_note says why. */
static gboolean
run_layer2 (Job                  *job,
            LensNet              *net,
            LensScanSource       *source,
            const LensPreprocess *pre,
            GCancellable         *cancellable,
            GError              **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *caption = NULL;

  job->layer2 = lens_filters_layer2_scan (net, job->model_path, job->stats->layer, NULL, source,
                                          pre, job->limit, on_layer2_progress, job, cancellable,
                                          &local);
  if (job->layer2 == NULL)
    {
      if (!g_error_matches (local, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_LAYER))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      job->layer2_note = g_strdup (local->message);
      return TRUE;
    }
  job->layer2_rgb = lens_filters_layer2_render (job->layer2, net, source, pre,
                                                &job->layer2_width, &job->layer2_height,
                                                cancellable, error);
  if (job->layer2_rgb == NULL)
    return FALSE;
  /* TRANSLATORS: caption of the layer-2 part of the filters figure; %s is a layer,
   * the number counts images */
  caption = g_strdup_printf (_("Layer 2 (%s): strongest activation of each channel over %lld "
                               "images, deconvnet projection | input patch, channels in "
                               "reading order"),
                             lens_topk_get_layer (job->layer2, 0)->name,
                             (long long) lens_topk_get_scanned (job->layer2));
  job->rgb = lens_filters_figure_stack (job->tiles, job->tiles_width, job->tiles_height, caption,
                                        job->layer2_rgb, job->layer2_width, job->layer2_height,
                                        &job->width, &job->height, error);
  return job->rgb != NULL;
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
  g_autoptr(LensScanSource) source = NULL;
  GError *error = NULL;

  net = lens_analyses_load_net (job->model_path, &profile, &error);
  if (net != NULL && job->dataset != NULL)
    source = lens_scan_source_open (job->dataset, &error);
  if (net != NULL && (job->dataset == NULL || source != NULL))
    job->stats = lens_filters_analyse (net, NULL, source, &profile->pre, job->limit, cancellable,
                                       &error);
  if (job->stats == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  job->tiles = lens_filters_render (job->stats, profile->pre.bgr, &job->tiles_width,
                                    &job->tiles_height);
  if (source != NULL && !run_layer2 (job, net, source, &profile->pre, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (job->rgb == NULL)
    {
      /* layer 1 only: the figure is the tiles */
      job->rgb = g_memdup2 (job->tiles, (gsize) job->tiles_width * job->tiles_height * 3);
      job->width = job->tiles_width;
      job->height = job->tiles_height;
    }
  g_task_return_boolean (task, TRUE);
}

static void
on_run_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  LensAnalysisFilters *self = LENS_ANALYSIS_FILTERS (object);
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GdkTexture) layer2_texture = NULL;

  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->pulse_id, g_source_remove);
  self->job_phase = NULL;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      lens_analyses_show_run_error (GTK_WIDGET (self), error);
    }
  else
    {
      g_clear_pointer (&self->stats, lens_filter_stats_free);
      self->stats = g_steal_pointer (&job->stats);
      g_free (self->rgb);
      self->rgb = g_steal_pointer (&job->rgb);
      self->width = job->width;
      self->height = job->height;
      g_clear_pointer (&self->layer2, lens_topk_free);
      self->layer2 = g_steal_pointer (&job->layer2);
      texture = lens_analyses_texture_new (job->tiles, job->tiles_width, job->tiles_height);
      gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (texture));
      if (job->layer2_rgb != NULL)
        layer2_texture = lens_analyses_texture_new (job->layer2_rgb, job->layer2_width,
                                                    job->layer2_height);
      gtk_picture_set_paintable (self->layer2_picture, GDK_PAINTABLE (layer2_texture));
      gtk_widget_set_visible (GTK_WIDGET (self->figure_switcher), self->layer2 != NULL);
      if (self->layer2 == NULL)
        gtk_stack_set_visible_child_name (self->figures, "layer1");
      show_stats (self);
      if (self->layer2 != NULL)
        {
          const LensTopkLayer *l2 = lens_topk_get_layer (self->layer2, 0);
          g_autofree char *text = NULL;
          int silent = 0;

          for (int c = 0; c < l2->channels; c++)
            silent += l2->counts[c] < 1 || !(l2->entries[c].value > 0);
          /* TRANSLATORS: appended to the filter summary: layer, channels, how many of them
           * never have a positive activation */
          text = g_strdup_printf (_("%s · layer 2: %s, %d channels, %d never positive"),
                                  gtk_label_get_text (self->summary), l2->name, l2->channels,
                                  silent);
          gtk_label_set_text (self->summary, text);
        }
      else if (job->layer2_note != NULL)
        {
          g_autofree char *text = g_strdup_printf ("%s · %s",
                                                   gtk_label_get_text (self->summary),
                                                   job->layer2_note);

          gtk_label_set_text (self->summary, text);
        }
      gtk_stack_set_visible_child_name (self->content, "result");
    }
  lens_analyses_end_run_focus (self, (LensAnalysesPageUpdate) update_sensitivity,
                               GTK_WIDGET (self->cancel_button), GTK_WIDGET (self->run_button));
  g_object_notify (G_OBJECT (self), "busy");
}

/* Pulses while layer 1 is analysed (no progress from it); the layer-2
 * scan then reports fractions itself. */
static gboolean
pulse (gpointer data)
{
  LensAnalysisFilters *self = data;

  if (self->job_phase != NULL && g_atomic_int_get (self->job_phase) != 0)
    {
      self->pulse_id = 0;
      return G_SOURCE_REMOVE;
    }
  gtk_progress_bar_pulse (self->progress);
  return G_SOURCE_CONTINUE;
}

void
lens_analysis_filters_run (LensAnalysisFilters *self,
                           const char          *dataset,
                           int                  limit)
{
  LensModelInfo *model;
  g_autoptr(GTask) task = NULL;
  Job *job;

  g_return_if_fail (LENS_IS_ANALYSIS_FILTERS (self));

  model = lens_document_get_model (lens_analyses_view_get_document (self->view));
  if (model == NULL)
    {
      lens_analyses_show_toast (GTK_WIDGET (self), _("Open a model first"));
      return;
    }
  if (self->cancellable != NULL)
    return;
  job = g_new0 (Job, 1);
  job->model_path = g_strdup (model->path);
  job->dataset = g_strdup (dataset);
  job->limit = limit;
  job->progress = g_object_ref (self->progress);
  self->job_phase = &job->phase;
  self->cancellable = g_cancellable_new ();
  /* lens_filters_analyse() reports no progress: the bar pulses until the
   * layer-2 scan reports fractions */
  self->pulse_id = g_timeout_add (150, pulse, self);
  task = g_task_new (self, self->cancellable, on_run_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, run_thread);
  update_sensitivity (self);
  /* focus inside the page, so that Escape reaches its shortcut */
  gtk_widget_grab_focus (GTK_WIDGET (self->cancel_button));
  g_object_notify (G_OBJECT (self), "busy");
}

void
lens_analysis_filters_cancel (LensAnalysisFilters *self)
{
  g_return_if_fail (LENS_IS_ANALYSIS_FILTERS (self));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

static void
on_folder_chosen (GtkWidget *page,
                  GStrv      paths)
{
  LensAnalysisFilters *self = LENS_ANALYSIS_FILTERS (page);
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
on_folder_clicked (LensAnalysisFilters *self)
{
  lens_analyses_choose_open (GTK_WIDGET (self), _("Choose an Image Folder"), TRUE, FALSE, NULL,
                             on_folder_chosen);
}

static void
on_run_clicked (LensAnalysisFilters *self)
{
  guint which = gtk_drop_down_get_selected (self->dataset_drop);
  const char *dataset = which == 1 ? "fashion-mnist:test" : which == 2 ? self->folder : NULL;

  if (which == 2 && self->folder == NULL)
    {
      lens_analyses_show_toast (GTK_WIDGET (self), _("Choose an image folder first"));
      return;
    }
  lens_analysis_filters_run (self, dataset, gtk_spin_button_get_value_as_int (self->limit_spin));
}

/* -- export -------------------------------------------------------------- */

gboolean
lens_analysis_filters_export_png (LensAnalysisFilters *self,
                                  const char          *path,
                                  GError             **error)
{
  const char *kv[] = { "Software", "ConvLens", "convlens:analysis", "filters", NULL };

  g_return_val_if_fail (LENS_IS_ANALYSIS_FILTERS (self), FALSE);
  if (self->rgb == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("There is no figure to export"));
      return FALSE;
    }
  return lens_png_save_rgb (path, self->rgb, self->width, self->height, self->width * 3, kv,
                            error);
}

gboolean
lens_analysis_filters_export_csv (LensAnalysisFilters *self,
                                  const char          *path,
                                  GError             **error)
{
  LensFilterStats *st;
  g_autoptr(GString) csv = g_string_new (NULL);

  g_return_val_if_fail (LENS_IS_ANALYSIS_FILTERS (self), FALSE);
  st = self->stats;
  if (st == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("There are no numbers to export"));
      return FALSE;
    }
  g_string_append (csv, "filter,rms,high_share,weight_share,max,positive_fraction,energy_share,"
                   "dead,dominating\n");
  for (int f = 0; f < st->n_filters; f++)
    {
      char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE], c[G_ASCII_DTOSTR_BUF_SIZE];

      g_string_append_printf (csv, "%d,%s,%s,%s", f,
                              g_ascii_dtostr (a, sizeof a, st->rms[f]),
                              g_ascii_dtostr (b, sizeof b, st->high_share[f]),
                              g_ascii_dtostr (c, sizeof c, st->weight_share[f]));
      if (st->n_images > 0)
        g_string_append_printf (csv, ",%s,%s,%s,%d",
                                g_ascii_dtostr (a, sizeof a, st->max[f]),
                                g_ascii_dtostr (b, sizeof b, st->positive_fraction[f]),
                                g_ascii_dtostr (c, sizeof c, st->energy_share[f]),
                                st->dead[f] ? 1 : 0);
      else
        g_string_append (csv, ",,,,");
      g_string_append_printf (csv, ",%d\n", st->dominating != NULL && st->dominating[f] ? 1 : 0);
    }
  return lens_file_write_atomic (path, csv->str, csv->len, error);
}

static void
on_export_chosen (GtkWidget  *page,
                  const char *path)
{
  g_autoptr(GError) error = NULL;
  LensAnalysisFilters *self = LENS_ANALYSIS_FILTERS (page);
  gboolean ok;

  if (path == NULL)
    return;
  if (g_str_has_suffix (path, ".csv"))
    ok = lens_analysis_filters_export_csv (self, path, &error);
  else
    ok = lens_analysis_filters_export_png (self, path, &error);
  if (!ok)
    lens_analyses_show_toast (page, error->message);
}

static void
on_png_clicked (LensAnalysisFilters *self)
{
  lens_analyses_choose_save (GTK_WIDGET (self), _("Export the Filters Figure"), "filters.png",
                             on_export_chosen);
}

static void
on_csv_clicked (LensAnalysisFilters *self)
{
  lens_analyses_choose_save (GTK_WIDGET (self), _("Export the Filter Numbers"), "filters.csv",
                             on_export_chosen);
}

/* -- accessors and construction ------------------------------------------ */

gboolean
lens_analysis_filters_get_busy (LensAnalysisFilters *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_FILTERS (self), FALSE);
  return self->cancellable != NULL;
}

LensFilterStats *
lens_analysis_filters_get_stats (LensAnalysisFilters *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_FILTERS (self), NULL);
  return self->stats;
}

LensTopk *
lens_analysis_filters_get_layer2 (LensAnalysisFilters *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_FILTERS (self), NULL);
  return self->layer2;
}

GdkPaintable *
lens_analysis_filters_get_layer2_paintable (LensAnalysisFilters *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_FILTERS (self), NULL);
  return gtk_picture_get_paintable (self->layer2_picture);
}

const char *
lens_analysis_filters_get_cell (LensAnalysisFilters *self,
                                int                  filter,
                                int                  column)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_FILTERS (self), NULL);
  if (filter < 0 || column < 0 || column >= N_COLS ||
      (guint) ((filter + 1) * N_COLS) > self->cells->len)
    return NULL;
  return g_ptr_array_index (self->cells, filter * N_COLS + column);
}

enum { PROP_0, PROP_BUSY, N_PROPS };
static GParamSpec *properties[N_PROPS];

static void
lens_analysis_filters_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, lens_analysis_filters_get_busy (LENS_ANALYSIS_FILTERS (object)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lens_analysis_filters_dispose (GObject *object)
{
  LensAnalysisFilters *self = LENS_ANALYSIS_FILTERS (object);

  lens_analysis_filters_cancel (self);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->pulse_id, g_source_remove);
  self->job_phase = NULL;
  g_clear_pointer (&self->stats, lens_filter_stats_free);
  g_clear_pointer (&self->layer2, lens_topk_free);
  g_clear_pointer (&self->cells, g_ptr_array_unref);
  g_clear_pointer (&self->rgb, g_free);
  g_clear_pointer (&self->folder, g_free);

  G_OBJECT_CLASS (lens_analysis_filters_parent_class)->dispose (object);
}

static void
lens_analysis_filters_class_init (LensAnalysisFiltersClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lens_analysis_filters_dispose;
  object_class->get_property = lens_analysis_filters_get_property;
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
lens_analysis_filters_init (LensAnalysisFilters *self)
{
  GtkBox *box = GTK_BOX (self);
  GtkWidget *bar, *status, *result, *scrolled, *pane, *figure_box;
  const char *datasets[] = { N_("Weights only"), N_("Fashion-MNIST (test)"), N_("Image folder"),
                             NULL };
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);

  self->cells = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; datasets[i] != NULL; i++)
    gtk_string_list_append (names, _(datasets[i]));

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (box, 6);
  g_object_set (self, "margin-start", 12, "margin-end", 12, "margin-top", 12,
                "margin-bottom", 12, NULL);

  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->dataset_drop = GTK_DROP_DOWN (gtk_drop_down_new (G_LIST_MODEL (g_object_ref (names)), NULL));
  named (GTK_WIDGET (self->dataset_drop), _("Data set for dead and dominating filters"));
  gtk_box_append (GTK_BOX (bar), lens_analyses_labelled (_("_Data set"),
                                                         GTK_WIDGET (self->dataset_drop)));
  self->folder_button = GTK_BUTTON (gtk_button_new_with_label (_("Choose Folder…")));
  named (GTK_WIDGET (self->folder_button), _("Choose the image folder to scan"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->folder_button));
  self->limit_spin = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (0, 1000000, 100));
  gtk_spin_button_set_value (self->limit_spin, 1000);
  named (GTK_WIDGET (self->limit_spin), _("Images to scan (0: all)"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->limit_spin));
  gtk_box_append (box, bar);

  /* a second row, so that nothing is cut off beside the sidebars */
  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->run_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Analyse")));
  gtk_widget_add_css_class (GTK_WIDGET (self->run_button), "suggested-action");
  named (GTK_WIDGET (self->run_button), _("Analyse the first layer's filters"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->run_button));
  self->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_widget_set_valign (GTK_WIDGET (self->progress), GTK_ALIGN_CENTER);
  gtk_widget_set_hexpand (GTK_WIDGET (self->progress), TRUE);
  named (GTK_WIDGET (self->progress), _("Analysis progress"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->progress));
  self->cancel_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Cancel")));
  named (GTK_WIDGET (self->cancel_button), _("Stop the analysis (Escape)"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->cancel_button));
  self->png_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Export PNG…")));
  named (GTK_WIDGET (self->png_button), _("Save the figure as a PNG file"));
  gtk_widget_set_hexpand (GTK_WIDGET (self->png_button), TRUE);
  gtk_widget_set_halign (GTK_WIDGET (self->png_button), GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->png_button));
  self->csv_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("Export C_SV…")));
  named (GTK_WIDGET (self->csv_button), _("Save the numbers as a CSV file"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->csv_button));
  gtk_box_append (box, bar);

  self->content = GTK_STACK (gtk_stack_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->content), TRUE);
  status = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "view-grid-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (status), _("First-Layer Filters"));
  adw_status_page_set_description (ADW_STATUS_PAGE (status),
    _("Analyse the model's first convolution: every filter as a tile, its RMS and "
      "high-frequency share, and with a data set the dead and dominating filters and, "
      "for every channel of the second convolution, the projection of its strongest "
      "activation."));
  gtk_stack_add_named (self->content, status, "empty");

  result = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  self->summary = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_wrap (self->summary, TRUE);
  gtk_label_set_xalign (self->summary, 0);
  gtk_label_set_selectable (self->summary, TRUE);
  gtk_box_append (GTK_BOX (result), GTK_WIDGET (self->summary));
  pane = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  gtk_widget_set_vexpand (pane, TRUE);
  self->picture = GTK_PICTURE (gtk_picture_new ());
  gtk_picture_set_can_shrink (self->picture, TRUE);
  gtk_picture_set_content_fit (self->picture, GTK_CONTENT_FIT_CONTAIN);
  gtk_widget_set_size_request (GTK_WIDGET (self->picture), 240, 240);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->picture), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Filter tiles"), -1);
  self->layer2_picture = GTK_PICTURE (gtk_picture_new ());
  gtk_picture_set_can_shrink (self->layer2_picture, TRUE);
  gtk_picture_set_content_fit (self->layer2_picture, GTK_CONTENT_FIT_CONTAIN);
  gtk_widget_set_size_request (GTK_WIDGET (self->layer2_picture), 240, 240);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->layer2_picture),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Layer-2 top-1 projections and input patches"), -1);
  self->figures = GTK_STACK (gtk_stack_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->figures), TRUE);
  gtk_stack_add_titled (self->figures, GTK_WIDGET (self->picture), "layer1",
                        _("Layer-1 Filters"));
  gtk_stack_add_titled (self->figures, GTK_WIDGET (self->layer2_picture), "layer2",
                        _("Layer-2 Projections"));
  self->figure_switcher = GTK_STACK_SWITCHER (gtk_stack_switcher_new ());
  gtk_stack_switcher_set_stack (self->figure_switcher, self->figures);
  gtk_widget_set_halign (GTK_WIDGET (self->figure_switcher), GTK_ALIGN_CENTER);
  gtk_widget_set_visible (GTK_WIDGET (self->figure_switcher), FALSE);
  figure_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_box_append (GTK_BOX (figure_box), GTK_WIDGET (self->figure_switcher));
  gtk_box_append (GTK_BOX (figure_box), GTK_WIDGET (self->figures));
  gtk_paned_set_start_child (GTK_PANED (pane), figure_box);
  self->table = GTK_GRID (gtk_grid_new ());
  gtk_grid_set_column_spacing (self->table, 18);
  gtk_grid_set_row_spacing (self->table, 2);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->table), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Filter statistics"), -1);
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->table));
  gtk_widget_set_size_request (scrolled, 300, -1);
  gtk_paned_set_end_child (GTK_PANED (pane), scrolled);
  gtk_paned_set_shrink_end_child (GTK_PANED (pane), FALSE);
  /* the table is wider than the space beside the tiles: show its scroll bars */
  gtk_scrolled_window_set_overlay_scrolling (GTK_SCROLLED_WINDOW (scrolled), FALSE);
  gtk_box_append (GTK_BOX (result), pane);
  gtk_stack_add_named (self->content, result, "result");
  gtk_stack_set_visible_child_name (self->content, "empty");
  gtk_box_append (box, GTK_WIDGET (self->content));

  g_signal_connect_swapped (self->dataset_drop, "notify::selected",
                            G_CALLBACK (update_sensitivity), self);
  g_signal_connect_swapped (self->folder_button, "clicked", G_CALLBACK (on_folder_clicked), self);
  g_signal_connect_swapped (self->run_button, "clicked", G_CALLBACK (on_run_clicked), self);
  g_signal_connect_swapped (self->cancel_button, "clicked",
                            G_CALLBACK (lens_analysis_filters_cancel), self);
  g_signal_connect_swapped (self->png_button, "clicked", G_CALLBACK (on_png_clicked), self);
  g_signal_connect_swapped (self->csv_button, "clicked", G_CALLBACK (on_csv_clicked), self);
  lens_analyses_add_escape (GTK_WIDGET (self), G_CALLBACK (lens_analysis_filters_cancel));
}

GtkWidget *
lens_analysis_filters_new (LensAnalysesView *view)
{
  LensAnalysisFilters *self;

  g_return_val_if_fail (LENS_IS_ANALYSES_VIEW (view), NULL);

  self = g_object_new (LENS_TYPE_ANALYSIS_FILTERS, NULL);
  self->view = view;
  g_signal_connect_object (lens_analyses_view_get_document (view), "notify::model",
                           G_CALLBACK (update_sensitivity), self, G_CONNECT_SWAPPED);
  update_sensitivity (self);
  return GTK_WIDGET (self);
}
