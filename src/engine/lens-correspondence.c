/* lens-correspondence.c: consistency of the feature change when the same
 * object part is masked in several images (see lens-correspondence.h) */
#define G_LOG_DOMAIN "lens-correspondence"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "lens-correspondence.h"
#include "lens-file.h"

#define DEFAULT_TRIALS 10
#define DEFAULT_SEED   1
#define BATCH          16
#define MAX_NAME       200

/* -- the spec ------------------------------------------------------------ */

void
lens_correspondence_spec_free (LensCorrespondenceSpec *spec)
{
  if (spec == NULL)
    return;
  for (int i = 0; i < spec->n_images; i++)
    {
      LensCorrespondenceImage *im = &spec->images[i];

      g_free (im->file);
      g_free (im->path);
      for (int p = 0; im->boxes != NULL && p < spec->n_parts; p++)
        g_free (im->boxes[p]);
      g_free (im->boxes);
      g_free (im->n_boxes);
    }
  g_free (spec->images);
  g_strfreev (spec->parts);
  g_free (spec);
}

static gboolean
spec_error (GError    **error,
            const char *format,
            ...) G_GNUC_PRINTF (2, 3);

static gboolean
spec_error (GError    **error,
            const char *format,
            ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_SPEC,
               "Correspondence spec: %s", text);
  return FALSE;
}

static gboolean
get_int (JsonNode *node,
         gint64    lo,
         gint64    hi,
         gint64   *out)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return *out >= lo && *out <= hi;
}

static gboolean
parse_box (JsonNode              *node,
           LensCorrespondenceBox *box,
           const char            *where,
           GError               **error)
{
  JsonArray *a;
  gint64 v[4];

  if (!JSON_NODE_HOLDS_ARRAY (node) || json_array_get_length (a = json_node_get_array (node)) != 4)
    return spec_error (error, "%s: a box is [x, y, width, height]", where);
  for (int k = 0; k < 4; k++)
    if (!get_int (json_array_get_element (a, k), k < 2 ? 0 : 1, LENS_CORRESPONDENCE_MAX_COORD,
                  &v[k]))
      return spec_error (error, "%s: box values must be integers, x and y from 0 and width and "
                         "height from 1, at most %d", where, LENS_CORRESPONDENCE_MAX_COORD);
  box->x = (int) v[0];
  box->y = (int) v[1];
  box->width = (int) v[2];
  box->height = (int) v[3];
  return TRUE;
}

/* A part is one box [x,y,w,h] or a list of boxes. */
static gboolean
parse_boxes (JsonNode               *node,
             LensCorrespondenceBox **boxes,
             int                    *n_boxes,
             const char             *where,
             GError                **error)
{
  JsonArray *a;
  guint n;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return spec_error (error, "%s: expected a box [x, y, width, height] or a list of boxes", where);
  a = json_node_get_array (node);
  n = json_array_get_length (a);
  if (n > 0 && JSON_NODE_HOLDS_VALUE (json_array_get_element (a, 0)))
    {
      *boxes = g_new (LensCorrespondenceBox, 1);
      *n_boxes = 1;
      return parse_box (node, *boxes, where, error);
    }
  if (n < 1 || n > LENS_CORRESPONDENCE_MAX_BOXES)
    return spec_error (error, "%s: 1 to %d boxes per part, not %u", where,
                       LENS_CORRESPONDENCE_MAX_BOXES, n);
  *boxes = g_new (LensCorrespondenceBox, n);
  *n_boxes = (int) n;
  for (guint k = 0; k < n; k++)
    if (!parse_box (json_array_get_element (a, k), &(*boxes)[k], where, error))
      return FALSE;
  return TRUE;
}

static gboolean
parse_fill (JsonNode               *node,
            LensCorrespondenceSpec *spec,
            GError                **error)
{
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING &&
      g_strcmp0 (json_node_get_string (node), "mean") == 0)
    {
      spec->fill_mean = TRUE;
      return TRUE;
    }
  spec->fill_mean = FALSE;
  if (JSON_NODE_HOLDS_VALUE (node) && (json_node_get_value_type (node) == G_TYPE_DOUBLE ||
                                       json_node_get_value_type (node) == G_TYPE_INT64))
    {
      double v = json_node_get_double (node);

      if (!(v >= 0 && v <= 1))
        return spec_error (error, "\"fill\" must lie in [0, 1]");
      spec->fill[0] = spec->fill[1] = spec->fill[2] = (float) v;
      return TRUE;
    }
  if (JSON_NODE_HOLDS_ARRAY (node) && json_array_get_length (json_node_get_array (node)) == 3)
    {
      JsonArray *a = json_node_get_array (node);

      for (int c = 0; c < 3; c++)
        {
          JsonNode *e = json_array_get_element (a, c);
          double v;

          if (!JSON_NODE_HOLDS_VALUE (e) || (json_node_get_value_type (e) != G_TYPE_DOUBLE &&
                                             json_node_get_value_type (e) != G_TYPE_INT64))
            return spec_error (error, "\"fill\" must be \"mean\", a number or [r, g, b]");
          v = json_node_get_double (e);
          if (!(v >= 0 && v <= 1))
            return spec_error (error, "\"fill\" values must lie in [0, 1]");
          spec->fill[c] = (float) v;
        }
      return TRUE;
    }
  return spec_error (error, "\"fill\" must be \"mean\", a number or [r, g, b] in [0, 1]");
}

static int
part_index (GPtrArray  *names,
            const char *name)
{
  for (guint i = 0; i < names->len; i++)
    if (strcmp (names->pdata[i], name) == 0)
      return (int) i;
  return -1;
}

LensCorrespondenceSpec *
lens_correspondence_spec_parse (const char *data,
                                gsize       length,
                                GError    **error)
{
  g_autoptr(LensCorrespondenceSpec) spec = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  JsonObject *root;
  JsonArray *images;
  GList *members;
  gboolean ok = TRUE;
  guint n;

  g_return_val_if_fail (data != NULL || length == 0, NULL);

  if (length > LENS_CORRESPONDENCE_MAX_BYTES)
    {
      spec_error (error, "larger than %d bytes", LENS_CORRESPONDENCE_MAX_BYTES);
      return NULL;
    }
  if (!g_utf8_validate_len (data, length, NULL))
    {
      spec_error (error, "not UTF-8 text");
      return NULL;
    }
  /* json-glib's parser recurses: refuse deep nesting before it runs. */
  if (!lens_file_check_json_depth (data, length, LENS_CORRESPONDENCE_MAX_DEPTH,
                                   "The correspondence spec", &local))
    {
      g_set_error_literal (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_SPEC, local->message);
      return NULL;
    }
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, (gssize) length, &local))
    {
      spec_error (error, "not JSON (%s)", local->message);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      spec_error (error, "the top level must be an object");
      return NULL;
    }
  root = json_node_get_object (json_parser_get_root (parser));

  spec = g_new0 (LensCorrespondenceSpec, 1);
  spec->fill_mean = TRUE;
  spec->trials = DEFAULT_TRIALS;
  spec->seed = DEFAULT_SEED;

  members = json_object_get_members (root);
  for (GList *m = members; m != NULL; m = m->next)
    {
      const char *key = m->data;
      JsonNode *node = json_object_get_member (root, key);
      gint64 v;

      if (strcmp (key, "images") == 0)
        continue;
      else if (strcmp (key, "fill") == 0)
        {
          if (!parse_fill (node, spec, error))
            {
              ok = FALSE;
              break;
            }
        }
      else if (strcmp (key, "trials") == 0)
        {
          if (!get_int (node, 0, LENS_CORRESPONDENCE_MAX_TRIALS, &v))
            {
              spec_error (error, "\"trials\" must be an integer from 0 to %d",
                          LENS_CORRESPONDENCE_MAX_TRIALS);
              ok = FALSE;
              break;
            }
          spec->trials = (int) v;
        }
      else if (strcmp (key, "seed") == 0)
        {
          if (!get_int (node, 0, G_MAXUINT32, &v))
            {
              spec_error (error, "\"seed\" must be an integer from 0 to %u", G_MAXUINT32);
              ok = FALSE;
              break;
            }
          spec->seed = (guint32) v;
        }
      else
        {
          g_autofree char *shown = g_utf8_substring (key, 0, MIN (g_utf8_strlen (key, -1), 40));

          spec_error (error, "unknown member \"%s\" (expected images, fill, trials, seed)", shown);
          ok = FALSE;
          break;
        }
    }
  g_list_free (members);
  if (!ok)
    return NULL;

  if (!json_object_has_member (root, "images") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (root, "images")))
    {
      spec_error (error, "\"images\" must be a list of images");
      return NULL;
    }
  images = json_object_get_array_member (root, "images");
  n = json_array_get_length (images);
  if (n < 2 || n > LENS_CORRESPONDENCE_MAX_IMAGES)
    {
      spec_error (error, "2 to %d images are needed, not %u", LENS_CORRESPONDENCE_MAX_IMAGES, n);
      return NULL;
    }

  /* First pass: the part names, in order of first appearance. */
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (images, i);
      JsonObject *obj;
      JsonNode *parts;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          spec_error (error, "image %u must be an object with \"file\" and \"parts\"", i + 1);
          return NULL;
        }
      obj = json_node_get_object (node);
      parts = json_object_get_member (obj, "parts");
      if (parts == NULL || !JSON_NODE_HOLDS_OBJECT (parts) ||
          json_object_get_size (json_node_get_object (parts)) < 1 ||
          json_object_get_size (json_node_get_object (parts)) > LENS_CORRESPONDENCE_MAX_PARTS)
        {
          spec_error (error, "image %u: \"parts\" must be an object of 1 to %d named parts",
                      i + 1, LENS_CORRESPONDENCE_MAX_PARTS);
          return NULL;
        }
      members = json_object_get_members (json_node_get_object (parts));
      for (GList *m = members; m != NULL; m = m->next)
        {
          const char *name = m->data;

          if (*name == '\0' || strlen (name) > MAX_NAME)
            {
              g_list_free (members);
              spec_error (error, "image %u: part names must have 1 to %d bytes", i + 1, MAX_NAME);
              return NULL;
            }
          if (part_index (names, name) < 0)
            {
              if (names->len >= LENS_CORRESPONDENCE_MAX_PARTS)
                {
                  g_list_free (members);
                  spec_error (error, "more than %d different part names",
                              LENS_CORRESPONDENCE_MAX_PARTS);
                  return NULL;
                }
              g_ptr_array_add (names, g_strdup (name));
            }
        }
      g_list_free (members);
    }
  spec->n_parts = (int) names->len;
  g_ptr_array_add (names, NULL);
  spec->parts = (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);

  spec->images = g_new0 (LensCorrespondenceImage, n);
  spec->n_images = (int) n;
  for (guint i = 0; i < n; i++)
    {
      JsonObject *obj = json_node_get_object (json_array_get_element (images, i));
      JsonObject *parts = json_object_get_object_member (obj, "parts");
      LensCorrespondenceImage *im = &spec->images[i];
      JsonNode *file = json_object_get_member (obj, "file");

      if (file == NULL || !JSON_NODE_HOLDS_VALUE (file) ||
          json_node_get_value_type (file) != G_TYPE_STRING || *json_node_get_string (file) == '\0')
        {
          spec_error (error, "image %u: \"file\" must be a non-empty string", i + 1);
          return NULL;
        }
      for (GList *m = members = json_object_get_members (obj); m != NULL; m = m->next)
        if (strcmp (m->data, "file") != 0 && strcmp (m->data, "parts") != 0)
          {
            g_list_free (members);
            spec_error (error, "image %u: unknown member (expected file, parts)", i + 1);
            return NULL;
          }
      g_list_free (members);
      im->file = g_strdup (json_node_get_string (file));
      im->path = g_strdup (im->file);
      im->boxes = g_new0 (LensCorrespondenceBox *, spec->n_parts);
      im->n_boxes = g_new0 (int, spec->n_parts);
      for (int p = 0; p < spec->n_parts; p++)
        {
          JsonNode *node = json_object_get_member (parts, spec->parts[p]);
          g_autofree char *where = g_strdup_printf ("image %u ('%s'), part '%s'", i + 1,
                                                    im->file, spec->parts[p]);

          if (node == NULL)
            {
              spec_error (error, "image %u ('%s') has no part '%s'; every image needs every "
                          "part", i + 1, im->file, spec->parts[p]);
              return NULL;
            }
          if (!parse_boxes (node, &im->boxes[p], &im->n_boxes[p], where, error))
            return NULL;
        }
    }
  return g_steal_pointer (&spec);
}

LensCorrespondenceSpec *
lens_correspondence_spec_load (const char *path,
                               GError    **error)
{
  g_autofree char *data = NULL, *dir = NULL;
  g_autoptr(GError) local = NULL;
  LensCorrespondenceSpec *spec;
  gsize length;

  if (!g_file_get_contents (path, &data, &length, &local))
    {
      g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_SPEC, "%s", local->message);
      return NULL;
    }
  spec = lens_correspondence_spec_parse (data, length, error);
  if (spec == NULL)
    return NULL;
  dir = g_path_get_dirname (path);
  for (int i = 0; i < spec->n_images; i++)
    if (!g_path_is_absolute (spec->images[i].file))
      {
        g_free (spec->images[i].path);
        spec->images[i].path = g_build_filename (dir, spec->images[i].file, NULL);
      }
  return spec;
}

/* -- the analysis -------------------------------------------------------- */

void
lens_correspondence_free (LensCorrespondence *c)
{
  if (c == NULL)
    return;
  g_strfreev (c->parts);
  g_strfreev (c->layers);
  g_free (c->size);
  g_free (c->delta);
  g_free (c->mean);
  g_free (c->std);
  g_free (c->random_delta);
  g_free (c->random_mean);
  g_free (c->random_std);
  g_free (c);
}

static LensImage *
masked_copy (const LensImage             *image,
             const LensCorrespondenceBox *boxes,
             int                          n_boxes,
             const float                  fill[3])
{
  LensImage *out = lens_image_copy (image);

  for (int k = 0; k < n_boxes; k++)
    for (int y = boxes[k].y; y < boxes[k].y + boxes[k].height; y++)
      for (int x = boxes[k].x; x < boxes[k].x + boxes[k].width; x++)
        memcpy (out->rgb + ((gsize) y * image->width + x) * 3, fill, 3 * sizeof (float));
  return out;
}

typedef struct
{
  LensNet              *net;
  const LensPreprocess *pre;
  LensTrace            *trace;
  int                   batch;
  guint                 n_layers;
  const int            *values;
  const gsize          *size;
  gsize                 total_size;
  LensAnalysisProgress  progress;
  gpointer              user_data;
  gint64                done;
  gint64                total;
  GCancellable         *cancellable;
} Runner;

/* Runs images[0..n) (each masked with its boxes, or unmasked when boxes is
 * NULL) and stores into out[i] either the features (signs == NULL) or the
 * signs of reference[i] - features. */
static gboolean
run_set (Runner                        *r,
         LensImage * const             *images,
         int                            n,
         LensCorrespondenceBox * const *boxes,
         const int                     *n_boxes,
         const float                    fill[3],
         const float                   *reference,
         float                         *features,
         gint8                         *signs,
         GError                       **error)
{
  for (int start = 0; start < n; start += r->batch)
    {
      int nb = MIN (r->batch, n - start);

      if (g_cancellable_set_error_if_cancelled (r->cancellable, error))
        return FALSE;
      for (int b = 0; b < nb; b++)
        {
          int i = start + b;
          g_autoptr(LensImage) masked = boxes != NULL
                                        ? masked_copy (images[i], boxes[i], n_boxes[i], fill)
                                        : NULL;

          if (!lens_analysis_set_item (r->trace, b, masked ? masked : images[i], r->pre, error))
            {
              g_prefix_error (error, "Image %d: ", i + 1);
              return FALSE;
            }
        }
      if (!lens_trace_run (r->trace, r->cancellable, error))
        return FALSE;
      for (guint l = 0, off = 0; l < r->n_layers; off += r->size[l], l++)
        {
          const float *f = lens_tensor_get_floats (lens_trace_get_value (r->trace, r->values[l]));

          for (int b = 0; b < nb; b++)
            {
              gsize at = (gsize) (start + b) * r->total_size + off;
              const float *fb = f + (gsize) b * r->size[l];

              if (signs == NULL)
                memcpy (features + at, fb, r->size[l] * sizeof (float));
              else
                for (gsize e = 0; e < r->size[l]; e++)
                  {
                    float eps = reference[at + e] - fb[e];

                    signs[at + e] = (eps > 0) - (eps < 0);
                  }
            }
        }
      r->done += nb;
      if (r->progress != NULL)
        r->progress (r->done, r->total, r->user_data);
    }
  return TRUE;
}

/* Hamming distances of every pair i < j into h[pair], per layer. */
static void
pair_distances (const Runner *r,
                const gint8  *signs,
                int           n,
                guint         layer,
                gsize         offset,
                double       *h)
{
  int k = 0;

  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++, k++)
      {
        const gint8 *a = signs + (gsize) i * r->total_size + offset;
        const gint8 *b = signs + (gsize) j * r->total_size + offset;
        gsize count = 0;

        for (gsize e = 0; e < r->size[layer]; e++)
          count += a[e] != b[e];
        h[k] = (double) count;
      }
}

LensCorrespondence *
lens_correspondence_run (LensNet                      *net,
                         const LensPreprocess         *pre,
                         const LensCorrespondenceSpec *spec,
                         LensImage * const            *images,
                         const char * const           *layers,
                         LensAnalysisProgress          progress,
                         gpointer                      user_data,
                         GCancellable                 *cancellable,
                         GError                      **error)
{
  g_autoptr(LensCorrespondence) c = NULL;
  g_autoptr(LensTrace) trace = NULL;
  g_autofree int *values = NULL;
  g_autofree float *reference = NULL;
  g_autofree gint8 *signs = NULL;
  g_autofree double *h = NULL;
  g_autofree LensCorrespondenceBox **boxes = NULL;
  g_autofree LensCorrespondenceBox *random_boxes = NULL;
  g_autoptr(GRand) rand = NULL;
  Runner r = { 0 };
  int n, n_pairs, max_boxes = 0;
  guint n_layers;

  g_return_val_if_fail (net != NULL && pre != NULL && spec != NULL && images != NULL, NULL);

  if (!lens_analysis_check_input (net, pre, error))
    return NULL;
  n = spec->n_images;
  for (int i = 0; i < n; i++)
    for (int p = 0; p < spec->n_parts; p++)
      for (int k = 0; k < spec->images[i].n_boxes[p]; k++)
        {
          const LensCorrespondenceBox *b = &spec->images[i].boxes[p][k];

          max_boxes = MAX (max_boxes, spec->images[i].n_boxes[p]);
          if (b->x + b->width > images[i]->width || b->y + b->height > images[i]->height)
            {
              g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_DATA,
                           "Image %d ('%s'), part '%s': the box [%d, %d, %d, %d] does not lie "
                           "inside the %dx%d image", i + 1, spec->images[i].file,
                           spec->parts[p], b->x, b->y, b->width, b->height, images[i]->width,
                           images[i]->height);
              return NULL;
            }
        }
  values = lens_analysis_resolve_layers (net, layers, &n_layers, error);
  if (values == NULL)
    return NULL;

  c = g_new0 (LensCorrespondence, 1);
  c->n_parts = spec->n_parts;
  c->n_layers = (int) n_layers;
  c->n_images = n;
  c->trials = spec->trials;
  c->parts = g_strdupv (spec->parts);
  c->layers = g_strdupv ((char **) layers);
  c->size = g_new (gsize, n_layers);
  c->delta = g_new0 (double, (gsize) spec->n_parts * n_layers);
  c->mean = g_new0 (double, (gsize) spec->n_parts * n_layers);
  c->std = g_new0 (double, (gsize) spec->n_parts * n_layers);
  c->random_delta = g_new0 (double, (gsize) spec->n_parts * n_layers);
  c->random_mean = g_new0 (double, (gsize) spec->n_parts * n_layers);
  c->random_std = g_new0 (double, (gsize) spec->n_parts * n_layers);

  r.net = net;
  r.pre = pre;
  r.n_layers = n_layers;
  r.values = values;
  r.size = c->size;
  for (guint l = 0; l < n_layers; l++)
    {
      c->size[l] = lens_analysis_value_size (net, values[l]);
      r.total_size += c->size[l];
    }
  r.batch = MIN (BATCH, n);
  r.progress = progress;
  r.user_data = user_data;
  r.cancellable = cancellable;
  r.total = (gint64) n * (1 + (gint64) spec->n_parts * (1 + spec->trials));
  trace = lens_trace_new (net, r.batch, error);
  if (trace == NULL)
    return NULL;
  r.trace = trace;

  {
    float fill[3];
    int nt = spec->trials;

    if (spec->fill_mean)
      lens_analysis_mean_fill (pre, fill);
    else
      memcpy (fill, spec->fill, sizeof fill);

    reference = g_try_malloc_n ((gsize) n, r.total_size * sizeof (float));
    signs = g_try_malloc_n ((gsize) n, r.total_size);
    if (reference == NULL || signs == NULL)
      {
        g_set_error (error, LENS_ANALYSIS_ERROR, LENS_ANALYSIS_ERROR_INVALID,
                     "Not enough memory for the features of %d images", n);
        return NULL;
      }
    n_pairs = n * (n - 1) / 2;
    h = g_new (double, (gsize) n_pairs * MAX (nt, 1));
    boxes = g_new (LensCorrespondenceBox *, n);
    random_boxes = g_new (LensCorrespondenceBox, (gsize) n * max_boxes);
    rand = g_rand_new_with_seed (spec->seed);

    if (!run_set (&r, images, n, NULL, NULL, fill, NULL, reference, NULL, error))
      return NULL;

    for (int p = 0; p < spec->n_parts; p++)
      {
        g_autofree int *n_boxes = g_new (int, n);

        for (int i = 0; i < n; i++)
          {
            boxes[i] = spec->images[i].boxes[p];
            n_boxes[i] = spec->images[i].n_boxes[p];
          }
        if (!run_set (&r, images, n, boxes, n_boxes, fill, reference, NULL, signs, error))
          return NULL;
        for (guint l = 0, off = 0; l < n_layers; off += c->size[l], l++)
          {
            gsize at = (gsize) p * n_layers + l;
            double sum = 0, sq = 0;

            pair_distances (&r, signs, n, l, off, h);
            for (int k = 0; k < n_pairs; k++)
              {
                double f = h[k] / c->size[l];

                c->delta[at] += h[k];
                sum += f;
                sq += f * f;
              }
            c->mean[at] = sum / n_pairs;
            c->std[at] = sqrt (MAX (sq / n_pairs - c->mean[at] * c->mean[at], 0));
          }

        /* The control: the same boxes at random places, trial after trial;
         * the per-layer pair distances of all trials are pooled. */
        {
          g_autofree double *pooled = g_new0 (double, (gsize) n_layers * n_pairs * MAX (nt, 1));

          for (int t = 0; t < nt; t++)
            {
              for (int i = 0; i < n; i++)
                {
                  boxes[i] = random_boxes + (gsize) i * max_boxes;
                  for (int k = 0; k < n_boxes[i]; k++)
                    {
                      LensCorrespondenceBox b = spec->images[i].boxes[p][k];

                      b.x = g_rand_int_range (rand, 0, images[i]->width - b.width + 1);
                      b.y = g_rand_int_range (rand, 0, images[i]->height - b.height + 1);
                      boxes[i][k] = b;
                    }
                }
              if (!run_set (&r, images, n, boxes, n_boxes, fill, reference, NULL, signs, error))
                return NULL;
              for (guint l = 0, off = 0; l < n_layers; off += c->size[l], l++)
                pair_distances (&r, signs, n, l, off,
                                pooled + ((gsize) l * nt + t) * n_pairs);
            }
          for (guint l = 0; l < n_layers && nt > 0; l++)
            {
              gsize at = (gsize) p * n_layers + l;
              double sum = 0, sq = 0, total = 0;
              gsize m = (gsize) nt * n_pairs;

              for (gsize k = 0; k < m; k++)
                {
                  double v = pooled[(gsize) l * nt * n_pairs + k], f = v / c->size[l];

                  total += v;
                  sum += f;
                  sq += f * f;
                }
              c->random_delta[at] = total / nt;
              c->random_mean[at] = sum / m;
              c->random_std[at] = sqrt (MAX (sq / m - c->random_mean[at] * c->random_mean[at], 0));
            }
          for (guint l = 0; l < n_layers && nt == 0; l++)
            {
              gsize at = (gsize) p * n_layers + l;

              c->random_delta[at] = c->random_mean[at] = c->random_std[at] = NAN;
            }
        }
      }
  }
  return g_steal_pointer (&c);
}
