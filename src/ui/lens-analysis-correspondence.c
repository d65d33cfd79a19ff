/* lens-analysis-correspondence.c: the Correspondence page — a SPEC.json of
 * images and part boxes and layers in; per part and layer the consistency
 * delta, its mean and spread, and the random-mask control out, in a
 * GtkColumnView, from lens_correspondence_run() on a worker thread */
#define G_LOG_DOMAIN "lens-analyses"

#include "lens-config.h"

#include <math.h>
#include <json-glib/json-glib.h>
#include <glib/gi18n.h>

#include "lens-analysis-correspondence.h"
#include "lens-analysis-layers.h"
#include "lens-file.h"

#define N_COLS LENS_CORRESPONDENCE_N_COLS

struct _LensAnalysisCorrespondence
{
  GtkBox              parent_instance;

  LensAnalysesView   *view;

  GtkLabel           *spec_label;
  GtkButton          *spec_button;
  GtkWidget          *layers;
  GtkButton          *run_button;
  GtkButton          *cancel_button;
  GtkProgressBar     *progress;
  GtkButton          *csv_button;
  GtkButton          *json_button;
  GtkStack           *content;
  GtkColumnView      *table;
  GtkStringList      *rows;        /* one item per row: its index */
  GtkLabel           *summary;

  char               *spec_path;
  LensCorrespondence *result;
  GPtrArray          *cells;       /* char*, N_COLS per row */
  GCancellable       *cancellable;
};

G_DEFINE_FINAL_TYPE (LensAnalysisCorrespondence, lens_analysis_correspondence, GTK_TYPE_BOX)

enum { PROP_0, PROP_BUSY, N_PROPS };
static GParamSpec *properties[N_PROPS];

static const char * const default_ops[] = { "Conv", NULL };

static void
update_sensitivity (LensAnalysisCorrespondence *self)
{
  LensDocument *doc = lens_analyses_view_get_document (self->view);
  gboolean running = self->cancellable != NULL;

  gtk_widget_set_sensitive (GTK_WIDGET (self->run_button),
                            !running && self->spec_path != NULL &&
                            lens_document_get_model (doc) != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), running);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->csv_button), self->result != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->json_button), self->result != NULL);
  if (self->spec_path != NULL)
    {
      g_autofree char *base = g_path_get_basename (self->spec_path);

      gtk_label_set_text (self->spec_label, base);
    }
  else
    gtk_label_set_text (self->spec_label, _("No spec chosen"));
}

static void
on_model_changed (LensAnalysisCorrespondence *self)
{
  LensDocument *doc = lens_analyses_view_get_document (self->view);

  lens_analysis_layers_set_model (self->layers, lens_document_get_model (doc), default_ops);
  update_sensitivity (self);
}

void
lens_analysis_correspondence_configure (LensAnalysisCorrespondence *self,
                                        const char                 *spec,
                                        const char * const         *layers)
{
  g_return_if_fail (LENS_IS_ANALYSIS_CORRESPONDENCE (self));

  g_free (self->spec_path);
  self->spec_path = g_strdup (spec);
  if (layers != NULL)
    lens_analysis_layers_set (self->layers, layers);
  update_sensitivity (self);
}

/* -- the table ----------------------------------------------------------- */

static char *
number (double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (value))
    return g_strdup ("—");
  return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.6g", value));
}

static void
show_result (LensAnalysisCorrespondence *self)
{
  const LensCorrespondence *c = self->result;
  guint n_rows = (guint) c->n_parts * c->n_layers;
  g_autofree char *summary = NULL;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_set_size (self->cells, 0);
  for (int p = 0; p < c->n_parts; p++)
    for (int l = 0; l < c->n_layers; l++)
      {
        gsize k = (gsize) p * c->n_layers + l;

        g_ptr_array_add (self->cells, g_strdup (c->parts[p]));
        g_ptr_array_add (self->cells, g_strdup (c->layers[l]));
        g_ptr_array_add (self->cells, number (c->delta[k]));
        g_ptr_array_add (self->cells, number (c->mean[k]));
        g_ptr_array_add (self->cells, number (c->std[k]));
        g_ptr_array_add (self->cells, number (c->random_delta[k]));
        g_ptr_array_add (self->cells, number (c->random_mean[k]));
        g_ptr_array_add (self->cells, number (c->random_std[k]));
        g_ptr_array_add (items, g_strdup_printf ("%" G_GSIZE_FORMAT, k));
      }
  g_ptr_array_add (items, NULL);
  gtk_string_list_splice (self->rows, 0, g_list_model_get_n_items (G_LIST_MODEL (self->rows)),
                          (const char * const *) items->pdata);
  summary = g_strdup_printf (_("%d images, %d image pairs, %d random trials per part. Delta sums "
                               "the Hamming distances between the signs of the feature changes "
                               "over the image pairs; mean and spread are per pair, as a fraction "
                               "of the layer's size. Lower than the random control means the part "
                               "is encoded consistently."),
                             c->n_images, c->n_images * (c->n_images - 1) / 2, c->trials);
  gtk_label_set_text (self->summary, summary);
  (void) n_rows;
}

static void
setup_cell (GtkSignalListItemFactory *factory,
            GtkListItem              *item,
            gpointer                  data)
{
  GtkWidget *label = gtk_label_new ("");

  gtk_label_set_xalign (GTK_LABEL (label),
                        GPOINTER_TO_INT (g_object_get_data (G_OBJECT (factory), "column")) >= 2
                        ? 1 : 0);
  gtk_widget_add_css_class (label, "numeric");
  gtk_list_item_set_child (item, label);
}

static void
bind_cell (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  data)
{
  LensAnalysisCorrespondence *self = data;
  GtkStringObject *obj = gtk_list_item_get_item (item);
  guint row = (guint) g_ascii_strtoull (gtk_string_object_get_string (obj), NULL, 10);
  guint column = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (factory), "column"));
  const char *text = lens_analysis_correspondence_get_cell (self, row, column);

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)), text ? text : "");
}

guint
lens_analysis_correspondence_get_n_rows (LensAnalysisCorrespondence *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_CORRESPONDENCE (self), 0);
  return self->cells->len / N_COLS;
}

const char *
lens_analysis_correspondence_get_cell (LensAnalysisCorrespondence *self,
                                       guint                       row,
                                       guint                       column)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_CORRESPONDENCE (self), NULL);
  if (column >= N_COLS || (row + 1) * N_COLS > self->cells->len)
    return NULL;
  return g_ptr_array_index (self->cells, row * N_COLS + column);
}

/* -- running ------------------------------------------------------------- */

typedef struct
{
  char               *model_path;
  char               *spec_path;
  char              **layers;
  GtkProgressBar     *progress;
  LensCorrespondence *result;
} Job;

static void
job_free (Job *job)
{
  g_free (job->model_path);
  g_free (job->spec_path);
  g_strfreev (job->layers);
  g_object_unref (job->progress);
  g_clear_pointer (&job->result, lens_correspondence_free);
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
  g_autoptr(LensCorrespondenceSpec) spec = NULL;
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func ((GDestroyNotify) lens_image_free);
  GError *error = NULL;

  net = lens_analyses_load_net (job->model_path, &profile, &error);
  if (net != NULL)
    spec = lens_correspondence_spec_load (job->spec_path, &error);
  for (int i = 0; spec != NULL && i < spec->n_images; i++)
    {
      LensImage *image = lens_image_load (spec->images[i].path, &error);

      if (image == NULL)
        break;
      g_ptr_array_add (images, image);
    }
  if (error == NULL)
    job->result = lens_correspondence_run (net, &profile->pre, spec,
                                           (LensImage * const *) images->pdata,
                                           (const char * const *) job->layers, on_progress, job,
                                           cancellable, &error);
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
  LensAnalysisCorrespondence *self = LENS_ANALYSIS_CORRESPONDENCE (object);
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  g_clear_object (&self->cancellable);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      lens_analyses_show_run_error (GTK_WIDGET (self), error);
    }
  else
    {
      g_clear_pointer (&self->result, lens_correspondence_free);
      self->result = g_steal_pointer (&job->result);
      show_result (self);
      gtk_stack_set_visible_child_name (self->content, "result");
    }
  lens_analyses_end_run_focus (self, (LensAnalysesPageUpdate) update_sensitivity,
                               GTK_WIDGET (self->cancel_button), GTK_WIDGET (self->run_button));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

void
lens_analysis_correspondence_run (LensAnalysisCorrespondence *self)
{
  LensModelInfo *model;
  g_autoptr(GTask) task = NULL;
  Job *job;

  g_return_if_fail (LENS_IS_ANALYSIS_CORRESPONDENCE (self));
  if (self->cancellable != NULL)
    return;
  model = lens_document_get_model (lens_analyses_view_get_document (self->view));
  if (model == NULL)
    {
      lens_analyses_show_toast (GTK_WIDGET (self), _("Open a model first"));
      return;
    }
  if (self->spec_path == NULL)
    {
      lens_analyses_show_toast (GTK_WIDGET (self), _("Open a correspondence spec first"));
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
  job->model_path = g_strdup (model->path);
  job->spec_path = g_strdup (self->spec_path);
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
lens_analysis_correspondence_cancel (LensAnalysisCorrespondence *self)
{
  g_return_if_fail (LENS_IS_ANALYSIS_CORRESPONDENCE (self));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

gboolean
lens_analysis_correspondence_get_busy (LensAnalysisCorrespondence *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_CORRESPONDENCE (self), FALSE);
  return self->cancellable != NULL;
}

const LensCorrespondence *
lens_analysis_correspondence_get_result (LensAnalysisCorrespondence *self)
{
  g_return_val_if_fail (LENS_IS_ANALYSIS_CORRESPONDENCE (self), NULL);
  return self->result;
}

/* -- export -------------------------------------------------------------- */

static gboolean
no_result (LensAnalysisCorrespondence *self,
           GError                    **error)
{
  if (self->result != NULL)
    return FALSE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                       _("Run the analysis before exporting"));
  return TRUE;
}

static void
csv_number (GString *s,
            double   v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_c (s, ',');
  g_string_append (s, isfinite (v) ? g_ascii_formatd (buf, sizeof buf, "%.9g", v) : "nan");
}

gboolean
lens_analysis_correspondence_export_csv (LensAnalysisCorrespondence *self,
                                         const char                 *path,
                                         GError                    **error)
{
  const LensCorrespondence *c;
  g_autoptr(GString) csv = NULL;

  g_return_val_if_fail (LENS_IS_ANALYSIS_CORRESPONDENCE (self), FALSE);
  if (no_result (self, error))
    return FALSE;
  c = self->result;
  csv = g_string_new ("part,layer,size,delta,mean,std,random_delta,random_mean,random_std\n");
  for (int p = 0; p < c->n_parts; p++)
    for (int l = 0; l < c->n_layers; l++)
      {
        gsize k = (gsize) p * c->n_layers + l;
        g_autofree char *part = g_strdup (c->parts[p]);

        g_strdelimit (part, ",\"\n\r", '_');
        g_string_append_printf (csv, "%s,%s,%" G_GSIZE_FORMAT, part, c->layers[l], c->size[l]);
        csv_number (csv, c->delta[k]);
        csv_number (csv, c->mean[k]);
        csv_number (csv, c->std[k]);
        csv_number (csv, c->random_delta[k]);
        csv_number (csv, c->random_mean[k]);
        csv_number (csv, c->random_std[k]);
        g_string_append_c (csv, '\n');
      }
  return lens_file_write_atomic (path, csv->str, csv->len, error);
}

static void
json_number (JsonBuilder *b,
             const char  *name,
             double       v)
{
  json_builder_set_member_name (b, name);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

/* The layout of `convlens-cli correspondence --json` (docs/analyses.md). */
gboolean
lens_analysis_correspondence_export_json (LensAnalysisCorrespondence *self,
                                          const char                 *path,
                                          GError                    **error)
{
  const LensCorrespondence *c;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  LensModelInfo *model;
  gsize len;

  g_return_val_if_fail (LENS_IS_ANALYSIS_CORRESPONDENCE (self), FALSE);
  if (no_result (self, error))
    return FALSE;
  c = self->result;
  model = lens_document_get_model (lens_analyses_view_get_document (self->view));
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model != NULL ? model->path : "");
  json_builder_set_member_name (b, "spec");
  json_builder_add_string_value (b, self->spec_path != NULL ? self->spec_path : "");
  json_builder_set_member_name (b, "images");
  json_builder_add_int_value (b, c->n_images);
  json_builder_set_member_name (b, "pairs");
  json_builder_add_int_value (b, (gint64) c->n_images * (c->n_images - 1) / 2);
  json_builder_set_member_name (b, "trials");
  json_builder_add_int_value (b, c->trials);
  json_builder_set_member_name (b, "layers");
  json_builder_begin_array (b);
  for (int l = 0; l < c->n_layers; l++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, c->layers[l]);
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, (gint64) c->size[l]);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "parts");
  json_builder_begin_array (b);
  for (int p = 0; p < c->n_parts; p++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, c->parts[p]);
      json_builder_set_member_name (b, "layers");
      json_builder_begin_object (b);
      for (int l = 0; l < c->n_layers; l++)
        {
          gsize k = (gsize) p * c->n_layers + l;

          json_builder_set_member_name (b, c->layers[l]);
          json_builder_begin_object (b);
          json_number (b, "delta", c->delta[k]);
          json_number (b, "mean", c->mean[k]);
          json_number (b, "std", c->std[k]);
          json_number (b, "random_delta", c->random_delta[k]);
          json_number (b, "random_mean", c->random_mean[k]);
          json_number (b, "random_std", c->random_std[k]);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, &len);
  return lens_file_write_atomic (path, text, len, error);
}

static void
on_export_chosen (GtkWidget  *page,
                  const char *path)
{
  LensAnalysisCorrespondence *self = LENS_ANALYSIS_CORRESPONDENCE (page);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (path == NULL)
    return;
  if (g_str_has_suffix (path, ".json") || g_str_has_suffix (path, ".JSON"))
    ok = lens_analysis_correspondence_export_json (self, path, &error);
  else
    ok = lens_analysis_correspondence_export_csv (self, path, &error);
  lens_analyses_show_toast (page, ok ? _("Exported") : error->message);
}

static void
on_csv_clicked (LensAnalysisCorrespondence *self)
{
  lens_analyses_choose_save (GTK_WIDGET (self), _("Export Correspondence Table"),
                             "correspondence.csv", on_export_chosen);
}

static void
on_json_clicked (LensAnalysisCorrespondence *self)
{
  lens_analyses_choose_save (GTK_WIDGET (self), _("Export Correspondence Table"),
                             "correspondence.json", on_export_chosen);
}

static void
on_spec_chosen (GtkWidget *page,
                GStrv      paths)
{
  if (paths != NULL && paths[0] != NULL)
    lens_analysis_correspondence_configure (LENS_ANALYSIS_CORRESPONDENCE (page), paths[0], NULL);
}

static void
on_spec_clicked (LensAnalysisCorrespondence *self)
{
  lens_analyses_choose_open (GTK_WIDGET (self), _("Open Correspondence Spec"), FALSE, FALSE,
                             "*.json", on_spec_chosen);
}

/* -- object -------------------------------------------------------------- */

static void
lens_analysis_correspondence_get_property (GObject    *object,
                                           guint       prop_id,
                                           GValue     *value,
                                           GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, lens_analysis_correspondence_get_busy (
                                    LENS_ANALYSIS_CORRESPONDENCE (object)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lens_analysis_correspondence_dispose (GObject *object)
{
  LensAnalysisCorrespondence *self = LENS_ANALYSIS_CORRESPONDENCE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->result, lens_correspondence_free);
  g_clear_pointer (&self->cells, g_ptr_array_unref);
  g_clear_pointer (&self->spec_path, g_free);

  G_OBJECT_CLASS (lens_analysis_correspondence_parent_class)->dispose (object);
}

static void
lens_analysis_correspondence_class_init (LensAnalysisCorrespondenceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lens_analysis_correspondence_dispose;
  object_class->get_property = lens_analysis_correspondence_get_property;
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
lens_analysis_correspondence_init (LensAnalysisCorrespondence *self)
{
  GtkBox *box = GTK_BOX (self);
  GtkWidget *bar, *status, *result, *scrolled;
  const char *titles[N_COLS] = { N_("Part"), N_("Layer"), N_("Δ"), N_("Mean"), N_("Spread"),
                                 N_("Random Δ"), N_("Random mean"), N_("Random spread") };

  self->cells = g_ptr_array_new_with_free_func (g_free);
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (box, 6);
  g_object_set (self, "margin-start", 12, "margin-end", 12, "margin-top", 12,
                "margin-bottom", 12, NULL);

  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->spec_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Open Spec…")));
  named (GTK_WIDGET (self->spec_button), _("Open a SPEC.json of images and part boxes"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->spec_button));
  self->spec_label = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_ellipsize (self->spec_label, PANGO_ELLIPSIZE_MIDDLE);
  named (GTK_WIDGET (self->spec_label), _("Correspondence spec"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->spec_label));
  self->layers = lens_analysis_layers_new ();
  gtk_box_append (GTK_BOX (bar), lens_analyses_labelled (_("_Layers"), self->layers));
  self->run_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Run")));
  gtk_widget_add_css_class (GTK_WIDGET (self->run_button), "suggested-action");
  named (GTK_WIDGET (self->run_button), _("Compute the correspondence table"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->run_button));
  self->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_widget_set_valign (GTK_WIDGET (self->progress), GTK_ALIGN_CENTER);
  gtk_widget_set_hexpand (GTK_WIDGET (self->progress), TRUE);
  named (GTK_WIDGET (self->progress), _("Analysis progress"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->progress));
  self->cancel_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Cancel")));
  named (GTK_WIDGET (self->cancel_button), _("Stop the analysis (Escape)"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->cancel_button));
  self->csv_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("Export C_SV…")));
  named (GTK_WIDGET (self->csv_button), _("Save the table as a CSV file"));
  gtk_widget_set_hexpand (GTK_WIDGET (self->csv_button), TRUE);
  gtk_widget_set_halign (GTK_WIDGET (self->csv_button), GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->csv_button));
  self->json_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("Export _JSON…")));
  named (GTK_WIDGET (self->json_button), _("Save the table as a JSON file"));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->json_button));
  gtk_box_append (box, bar);

  self->content = GTK_STACK (gtk_stack_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->content), TRUE);
  status = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "view-list-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (status), _("Correspondence"));
  adw_status_page_set_description (ADW_STATUS_PAGE (status),
    _("Open a spec naming images and, in each, boxes over the same object part. Masking the "
      "part should change a layer's features the same way in every image; the table compares "
      "that consistency with masks at random places."));
  gtk_stack_add_named (self->content, status, "empty");

  result = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  self->summary = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_wrap (self->summary, TRUE);
  gtk_label_set_xalign (self->summary, 0);
  gtk_widget_add_css_class (GTK_WIDGET (self->summary), "dim-label");
  gtk_box_append (GTK_BOX (result), GTK_WIDGET (self->summary));
  self->rows = gtk_string_list_new (NULL);
  self->table = GTK_COLUMN_VIEW (gtk_column_view_new (
    GTK_SELECTION_MODEL (gtk_no_selection_new (G_LIST_MODEL (g_object_ref (self->rows))))));
  gtk_column_view_set_show_column_separators (self->table, TRUE);
  gtk_column_view_set_show_row_separators (self->table, TRUE);
  named (GTK_WIDGET (self->table), _("Correspondence table"));
  for (int c = 0; c < N_COLS; c++)
    {
      GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
      GtkColumnViewColumn *column;

      g_object_set_data (G_OBJECT (factory), "column", GINT_TO_POINTER (c));
      g_signal_connect (factory, "setup", G_CALLBACK (setup_cell), self);
      g_signal_connect (factory, "bind", G_CALLBACK (bind_cell), self);
      column = gtk_column_view_column_new (_(titles[c]), factory);
      gtk_column_view_column_set_resizable (column, TRUE);
      gtk_column_view_column_set_expand (column, c >= 2);
      gtk_column_view_append_column (self->table, column);
      g_object_unref (column);
    }
  scrolled = gtk_scrolled_window_new ();
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->table));
  gtk_box_append (GTK_BOX (result), scrolled);
  gtk_stack_add_named (self->content, result, "result");
  gtk_stack_set_visible_child_name (self->content, "empty");
  gtk_box_append (box, GTK_WIDGET (self->content));

  g_signal_connect_swapped (self->spec_button, "clicked", G_CALLBACK (on_spec_clicked), self);
  g_signal_connect_swapped (self->run_button, "clicked",
                            G_CALLBACK (lens_analysis_correspondence_run), self);
  g_signal_connect_swapped (self->cancel_button, "clicked",
                            G_CALLBACK (lens_analysis_correspondence_cancel), self);
  g_signal_connect_swapped (self->csv_button, "clicked", G_CALLBACK (on_csv_clicked), self);
  g_signal_connect_swapped (self->json_button, "clicked", G_CALLBACK (on_json_clicked), self);
  lens_analyses_add_escape (GTK_WIDGET (self), G_CALLBACK (lens_analysis_correspondence_cancel));
}

GtkWidget *
lens_analysis_correspondence_new (LensAnalysesView *view)
{
  LensAnalysisCorrespondence *self;

  g_return_val_if_fail (LENS_IS_ANALYSES_VIEW (view), NULL);

  self = g_object_new (LENS_TYPE_ANALYSIS_CORRESPONDENCE, NULL);
  self->view = view;
  g_signal_connect_object (lens_analyses_view_get_document (view), "notify::model",
                           G_CALLBACK (on_model_changed), self, G_CONNECT_SWAPPED);
  on_model_changed (self);
  return GTK_WIDGET (self);
}
