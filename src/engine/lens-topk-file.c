/* lens-topk-file.c: the top-k result file (JSON, see docs/analyses.md)
 * and the merging of shards */
#define G_LOG_DOMAIN "lens-topk"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "lens-file.h"
#include "lens-topk-private.h"

/* -- the result file ----------------------------------------------------- */

#define FORMAT_NAME    "convlens-topk"
#define FORMAT_VERSION 1

static void
append_json_string (GString    *out,
                    const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      guchar ch = (guchar) *p;

      if (ch == '"' || ch == '\\')
        g_string_append_printf (out, "\\%c", ch);
      else if (ch < 0x20)
        g_string_append_printf (out, "\\u%04x", ch);
      else
        g_string_append_c (out, (char) ch);
    }
  g_string_append_c (out, '"');
}

/* Valid UTF-8 for the JSON file (paths may be anything). */
static void
append_json_path (GString    *out,
                  const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  append_json_string (out, valid);
}

static void
append_float (GString *out,
              float    value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* Nine significant digits identify a float exactly. */
  g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.9g", (double) value));
}

char *
lens_topk_to_json (LensTopk *topk)
{
  GString *out = g_string_new (NULL);

  lens_topk_join_hash (topk, NULL);
  g_string_append_printf (out, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n",
                          FORMAT_NAME, FORMAT_VERSION);
  g_string_append (out, "  \"model\": {\"path\": ");
  append_json_path (out, topk->model_path);
  g_string_append_printf (out, ", \"size\": %" G_GINT64_FORMAT ", \"sha256\": ",
                          topk->model_size);
  append_json_string (out, topk->model_sha256 != NULL ? topk->model_sha256 : "");
  g_string_append (out, "},\n");
  g_string_append (out, "  \"dataset\": {\"spec\": ");
  append_json_path (out, topk->dataset_spec);
  g_string_append (out, ", \"kind\": ");
  append_json_string (out, topk->dataset_kind);
  g_string_append_printf (out, ", \"n_images\": %d, \"sha256\": ", topk->n_images);
  append_json_string (out, topk->dataset_sha256);
  g_string_append (out, "},\n");
  g_string_append_printf (out, "  \"k\": %d,\n  \"all_positions\": %s,\n  \"limit\": %d,\n",
                          topk->k, topk->all_positions ? "true" : "false", topk->limit);
  g_string_append_printf (out, "  \"shard_count\": %d,\n  \"shards\": [", topk->shard_count);
  for (guint i = 0; i < topk->shards->len; i++)
    g_string_append_printf (out, "%s%d", i ? ", " : "", g_array_index (topk->shards, int, i));
  g_string_append_printf (out, "],\n  \"scanned\": %" G_GINT64_FORMAT ",\n  \"complete\": %s,\n",
                          topk->scanned, topk->complete ? "true" : "false");
  g_string_append (out, "  \"layers\": [");
  for (guint l = 0; l < topk->n_layers; l++)
    {
      const LensTopkLayer *layer = &topk->layers[l];

      g_string_append (out, l ? ",\n    {\"name\": " : "\n    {\"name\": ");
      append_json_string (out, layer->name);
      g_string_append_printf (out, ", \"channels\": %d, \"height\": %d, \"width\": %d,\n"
                              "     \"top\": [", layer->channels, layer->height, layer->width);
      for (int c = 0; c < layer->channels; c++)
        {
          const LensTopkEntry *e = layer->entries + (gsize) c * topk->k;

          g_string_append (out, c ? ",\n       [" : "\n       [");
          for (int i = 0; i < layer->counts[c]; i++)
            {
              g_string_append_printf (out, "%s[%d, %d, %d, ", i ? ", " : "", e[i].image, e[i].y,
                                      e[i].x);
              append_float (out, e[i].value);
              g_string_append_c (out, ']');
            }
          g_string_append_c (out, ']');
        }
      g_string_append (out, "]}");
    }
  g_string_append (out, "\n  ]\n}\n");
  return g_string_free (out, FALSE);
}

gboolean
lens_topk_save (LensTopk    *topk,
                const char  *path,
                GError     **error)
{
  g_autofree char *json = NULL;
  g_autoptr(GError) local = NULL;

  if (!lens_topk_join_hash (topk, error))
    return FALSE;
  json = lens_topk_to_json (topk);
  if (!lens_file_write_atomic (path, json, strlen (json), &local))
    {
      g_set_error_literal (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_IO, local->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
format_error (GError    **error,
              const char *what)
{
  g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_FORMAT,
               "Not a valid top-k result: %s", what);
  return FALSE;
}

static JsonNode *
member (JsonObject *object,
        const char *name,
        GType       type)
{
  JsonNode *node = object ? json_object_get_member (object, name) : NULL;

  if (node == NULL)
    return NULL;
  if (type == JSON_TYPE_OBJECT)
    return JSON_NODE_HOLDS_OBJECT (node) ? node : NULL;
  if (type == JSON_TYPE_ARRAY)
    return JSON_NODE_HOLDS_ARRAY (node) ? node : NULL;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != type)
    return NULL;
  return node;
}

static gboolean
get_int (JsonObject *object,
         const char *name,
         gint64      min,
         gint64      max,
         gint64     *out)
{
  JsonNode *node = member (object, name, G_TYPE_INT64);

  if (node == NULL)
    return FALSE;
  *out = json_node_get_int (node);
  return *out >= min && *out <= max;
}

static char *
dup_string (JsonObject *object,
            const char *name)
{
  JsonNode *node = member (object, name, G_TYPE_STRING);

  return node ? g_strdup (json_node_get_string (node)) : NULL;
}

static gboolean
parse_entry (JsonNode            *node,
             const LensTopkLayer *layer,
             int                  n_images,
             LensTopkEntry       *entry)
{
  JsonArray *a;
  gint64 v[3];

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;
  a = json_node_get_array (node);
  if (json_array_get_length (a) != 4)
    return FALSE;
  for (int i = 0; i < 3; i++)
    {
      JsonNode *n = json_array_get_element (a, i);

      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
        return FALSE;
      v[i] = json_node_get_int (n);
    }
  node = json_array_get_element (a, 3);
  if (!JSON_NODE_HOLDS_VALUE (node) || (json_node_get_value_type (node) != G_TYPE_DOUBLE &&
                                        json_node_get_value_type (node) != G_TYPE_INT64))
    return FALSE;
  if (v[0] < 0 || v[0] >= n_images || v[1] < 0 || v[1] >= layer->height || v[2] < 0 ||
      v[2] >= layer->width)
    return FALSE;
  entry->image = (int) v[0];
  entry->y = (int) v[1];
  entry->x = (int) v[2];
  entry->value = (float) json_node_get_double (node);
  return isfinite (entry->value);
}

static gboolean
parse_layer (JsonNode      *node,
             LensTopk      *topk,
             LensTopkLayer *layer,
             GError       **error)
{
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  g_autofree char *name = dup_string (o, "name");
  gint64 c, h, w;
  JsonNode *top = member (o, "top", JSON_TYPE_ARRAY);
  JsonArray *channels;

  if (name == NULL || !get_int (o, "channels", 1, G_MAXINT, &c) ||
      !get_int (o, "height", 1, G_MAXINT, &h) || !get_int (o, "width", 1, G_MAXINT, &w) ||
      top == NULL)
    return format_error (error, "a layer lacks name, channels, height, width or top");
  if (!lens_topk_layer_init (layer, name, (int) c, (int) h, (int) w, topk->k, error))
    return FALSE;
  channels = json_node_get_array (top);
  if (json_array_get_length (channels) != (guint) c)
    return format_error (error, "the number of channels does not match 'top'");
  for (int ch = 0; ch < c; ch++)
    {
      JsonNode *list = json_array_get_element (channels, ch);
      JsonArray *entries;
      LensTopkEntry *e = layer->entries + (gsize) ch * topk->k;
      guint n;

      if (!JSON_NODE_HOLDS_ARRAY (list))
        return format_error (error, "a channel's entries are not a list");
      entries = json_node_get_array (list);
      n = json_array_get_length (entries);
      if (n > (guint) topk->k)
        return format_error (error, "a channel has more than k entries");
      for (guint i = 0; i < n; i++)
        if (!parse_entry (json_array_get_element (entries, i), layer, topk->n_images, &e[i]))
          return format_error (error, "an entry is not [image, y, x, value] in range");
      layer->counts[ch] = (int) n;
      for (guint i = 1; i < n; i++)
        if (!lens_topk_entry_better (&e[i - 1], &e[i]))
          return format_error (error, "a channel's entries are not in order");
    }
  return TRUE;
}

LensTopk *
lens_topk_load_data (const char *json,
                     gssize      length,
                     GError    **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local = NULL;
  g_autoptr(LensTopk) topk = NULL;
  JsonObject *root, *model, *dataset;
  JsonNode *node, *shards, *layers, *all, *complete;
  g_autofree char *format = NULL;
  gint64 version = 0, v;

  /* json-glib recurses per nesting level: refuse deep nesting first */
  if (!lens_file_check_json_depth (json, length < 0 ? strlen (json) : (gsize) length,
                                   LENS_FILE_MAX_JSON_DEPTH, "The top-k result", &local) ||
      !json_parser_load_from_data (parser, json, length, &local))
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_FORMAT,
                   "Not a valid top-k result: %s", local->message);
      return NULL;
    }
  node = json_parser_get_root (parser);
  root = node && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  format = dup_string (root, "format");
  if (g_strcmp0 (format, FORMAT_NAME) != 0)
    {
      format_error (error, "the 'format' member is not \"" FORMAT_NAME "\"");
      return NULL;
    }
  if (!get_int (root, "version", 1, G_MAXINT, &version) || version != FORMAT_VERSION)
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_FORMAT,
                   "Top-k result format version %" G_GINT64_FORMAT " is not supported",
                   version);
      return NULL;
    }
  node = member (root, "model", JSON_TYPE_OBJECT);
  model = node ? json_node_get_object (node) : NULL;
  node = member (root, "dataset", JSON_TYPE_OBJECT);
  dataset = node ? json_node_get_object (node) : NULL;
  layers = member (root, "layers", JSON_TYPE_ARRAY);
  shards = member (root, "shards", JSON_TYPE_ARRAY);
  all = member (root, "all_positions", G_TYPE_BOOLEAN);
  complete = member (root, "complete", G_TYPE_BOOLEAN);
  if (model == NULL || dataset == NULL || layers == NULL || shards == NULL || all == NULL ||
      complete == NULL)
    {
      format_error (error, "model, dataset, layers, shards, all_positions or complete is missing");
      return NULL;
    }

  topk = lens_topk_alloc (json_array_get_length (json_node_get_array (layers)));
  topk->model_path = dup_string (model, "path");
  topk->model_sha256 = dup_string (model, "sha256");
  topk->dataset_spec = dup_string (dataset, "spec");
  topk->dataset_kind = dup_string (dataset, "kind");
  topk->dataset_sha256 = dup_string (dataset, "sha256");
  if (topk->model_path == NULL || topk->model_sha256 == NULL || topk->dataset_spec == NULL ||
      topk->dataset_kind == NULL || topk->dataset_sha256 == NULL ||
      !get_int (model, "size", 0, G_MAXINT64, &topk->model_size))
    {
      format_error (error, "the model or dataset description is incomplete");
      return NULL;
    }
  if (!get_int (dataset, "n_images", 1, G_MAXINT, &v))
    {
      format_error (error, "dataset.n_images is missing or out of range");
      return NULL;
    }
  topk->n_images = (int) v;
  if (!get_int (root, "k", 1, 4096, &v))
    {
      format_error (error, "k is missing or out of range");
      return NULL;
    }
  topk->k = (int) v;
  if (!get_int (root, "limit", 0, topk->n_images, &v))
    {
      format_error (error, "limit is missing or out of range");
      return NULL;
    }
  topk->limit = (int) v;
  if (!get_int (root, "shard_count", 1, G_MAXINT, &v))
    {
      format_error (error, "shard_count is missing or out of range");
      return NULL;
    }
  topk->shard_count = (int) v;
  if (!get_int (root, "scanned", 0, topk->limit, &topk->scanned))
    {
      format_error (error, "scanned is missing or out of range");
      return NULL;
    }
  topk->all_positions = json_node_get_boolean (all);
  topk->complete = json_node_get_boolean (complete);

  {
    JsonArray *a = json_node_get_array (shards);
    guint n = json_array_get_length (a);

    for (guint i = 0; i < n; i++)
      {
        JsonNode *s = json_array_get_element (a, i);
        int index;

        if (!JSON_NODE_HOLDS_VALUE (s) || json_node_get_value_type (s) != G_TYPE_INT64 ||
            json_node_get_int (s) < 0 || json_node_get_int (s) >= topk->shard_count ||
            (i > 0 && json_node_get_int (s) <= g_array_index (topk->shards, int, i - 1)))
          {
            format_error (error, "shards must be ascending indices below shard_count");
            return NULL;
          }
        index = (int) json_node_get_int (s);
        g_array_append_val (topk->shards, index);
      }
    if (n == 0)
      {
        format_error (error, "the list of shards is empty");
        return NULL;
      }
  }

  for (guint l = 0; l < topk->n_layers; l++)
    if (!parse_layer (json_array_get_element (json_node_get_array (layers), l), topk,
                      &topk->layers[l], error))
      return NULL;
  if (topk->n_layers == 0)
    {
      format_error (error, "there are no layers");
      return NULL;
    }
  return g_steal_pointer (&topk);
}

LensTopk *
lens_topk_load (const char  *path,
                GError     **error)
{
  g_autofree char *data = NULL;
  g_autoptr(GError) local = NULL;
  LensTopk *topk;
  gsize length;

  if (!g_file_get_contents (path, &data, &length, &local))
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_IO, "%s", local->message);
      return NULL;
    }
  topk = lens_topk_load_data (data, (gssize) length, error);
  if (topk == NULL)
    g_prefix_error (error, "'%s': ", path);
  return topk;
}

/* -- merging ------------------------------------------------------------- */

gboolean
lens_topk_same_scan (const LensTopk *a,
                     const LensTopk *b,
                     GError        **error)
{
  const char *what = NULL;

  if (!lens_topk_join_hash (a, error) || !lens_topk_join_hash (b, error))
    return FALSE;
  if (g_strcmp0 (a->model_sha256, b->model_sha256) != 0 || a->model_size != b->model_size)
    what = "the model files differ";
  else if (g_strcmp0 (a->dataset_sha256, b->dataset_sha256) != 0 ||
           g_strcmp0 (a->dataset_kind, b->dataset_kind) != 0 || a->n_images != b->n_images)
    what = "the data sets differ";
  else if (a->k != b->k || a->all_positions != b->all_positions)
    what = "k or all_positions differ";
  else if (a->limit != b->limit)
    what = "the scanned image ranges (--limit) differ";
  else if (a->shard_count != b->shard_count)
    what = "the numbers of shards differ";
  else if (a->n_layers != b->n_layers)
    what = "the layers differ";
  else
    for (guint l = 0; l < a->n_layers && what == NULL; l++)
      if (g_strcmp0 (a->layers[l].name, b->layers[l].name) != 0 ||
          a->layers[l].channels != b->layers[l].channels ||
          a->layers[l].height != b->layers[l].height || a->layers[l].width != b->layers[l].width)
        what = "the layers differ";
  if (what != NULL)
    {
      g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_MISMATCH,
                   "The results are not of the same scan: %s", what);
      return FALSE;
    }
  return TRUE;
}

LensTopk *
lens_topk_merge (LensTopk **parts,
                 guint      n_parts,
                 GError   **error)
{
  g_autoptr(LensTopk) out = NULL;
  g_autofree gboolean *seen = NULL;
  const LensTopk *first;
  guint n_seen = 0;

  g_return_val_if_fail (parts != NULL && n_parts > 0, NULL);

  first = parts[0];
  seen = g_new0 (gboolean, first->shard_count);
  for (guint p = 0; p < n_parts; p++)
    {
      if (!lens_topk_same_scan (first, parts[p], error))
        return NULL;
      if (!parts[p]->complete)
        {
          g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_MISMATCH,
                       "Part %u is an unfinished scan (resume it first)", p + 1);
          return NULL;
        }
      for (guint s = 0; s < parts[p]->shards->len; s++)
        {
          int index = g_array_index (parts[p]->shards, int, s);

          if (seen[index])
            {
              g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_MISMATCH,
                           "Shard %d/%d is given more than once", index, first->shard_count);
              return NULL;
            }
          seen[index] = TRUE;
          n_seen++;
        }
    }

  out = lens_topk_alloc (first->n_layers);
  out->model_path = g_strdup (first->model_path);
  out->model_sha256 = g_strdup (first->model_sha256);
  out->model_size = first->model_size;
  out->dataset_spec = g_strdup (first->dataset_spec);
  out->dataset_kind = g_strdup (first->dataset_kind);
  out->dataset_sha256 = g_strdup (first->dataset_sha256);
  out->n_images = first->n_images;
  out->k = first->k;
  out->all_positions = first->all_positions;
  out->limit = first->limit;
  out->complete = TRUE;
  if (n_seen == (guint) first->shard_count)
    {
      /* Every shard: exactly the unsharded scan. */
      int zero = 0;

      out->shard_count = 1;
      g_array_append_val (out->shards, zero);
    }
  else
    {
      out->shard_count = first->shard_count;
      for (int s = 0; s < first->shard_count; s++)
        if (seen[s])
          g_array_append_val (out->shards, s);
    }

  for (guint l = 0; l < out->n_layers; l++)
    {
      const LensTopkLayer *fl = &first->layers[l];
      LensTopkLayer *layer = &out->layers[l];
      g_autofree LensTopkEntry *pool = g_new (LensTopkEntry, (gsize) n_parts * out->k);

      if (!lens_topk_layer_init (layer, fl->name, fl->channels, fl->height, fl->width, out->k,
                                 error))
        return NULL;
      for (int c = 0; c < layer->channels; c++)
        {
          int n = 0;

          for (guint p = 0; p < n_parts; p++)
            {
              const LensTopkLayer *pl = &parts[p]->layers[l];

              memcpy (pool + n, pl->entries + (gsize) c * out->k,
                      pl->counts[c] * sizeof (LensTopkEntry));
              n += pl->counts[c];
            }
          qsort (pool, n, sizeof (LensTopkEntry), lens_topk_entry_compare);
          layer->counts[c] = MIN (n, out->k);
          memcpy (layer->entries + (gsize) c * out->k, pool,
                  layer->counts[c] * sizeof (LensTopkEntry));
        }
    }
  for (guint p = 0; p < n_parts; p++)
    out->scanned += parts[p]->scanned;
  return g_steal_pointer (&out);
}
