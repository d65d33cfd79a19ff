/* lens-profile.c: model profiles (*.convlens.json) and guessed defaults */
#define G_LOG_DOMAIN "lens-profile"

#include "lens-profile.h"

#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "lens-file.h"
#include "lens-labels.h"

G_DEFINE_QUARK (lens-profile-error-quark, lens_profile_error)

#define PROFILE_SUFFIX ".convlens.json"
#define MAX_SIDE 16384
#define IMAGENET_LABELS "imagenet-labels.txt"

/* Fields in reading order; anything else is refused so that a misspelt
 * field is not silently ignored. */
static const char * const top_fields[] = { "name", "description", "input", "labels", NULL };
static const char * const input_fields[] = {
  "channels", "height", "width", "resize", "scale", "mean", "std", "channel_order", NULL
};

typedef struct
{
  const char *display;  /* the profile's file name for messages */
  GError    **error;
} Ctx;

static gboolean G_GNUC_PRINTF (3, 4)
invalid (Ctx        *ctx,
         const char *field,
         const char *format,
         ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (ctx->error, LENS_PROFILE_ERROR, LENS_PROFILE_ERROR_INVALID,
               "Profile “%s”: field “%s” %s", ctx->display, field, msg);
  return FALSE;
}

static gboolean
check_members (Ctx               *ctx,
               JsonObject        *object,
               const char        *prefix,
               const char * const *allowed)
{
  g_autoptr(GList) members = json_object_get_members (object);

  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      {
        g_autofree char *field = g_strconcat (prefix, l->data, NULL);
        g_autofree char *list = g_strjoinv (", ", (char **) allowed);

        return invalid (ctx, field, "is not a known field (known: %s)", list);
      }
  return TRUE;
}

static gboolean
is_number (JsonNode *node)
{
  GType type;

  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

/* An integer member in [min, max]; *out keeps its default when absent and
 * not required. */
static gboolean
read_int (Ctx        *ctx,
          JsonObject *object,
          const char *member,
          const char *field,
          gboolean    required,
          gint64      min,
          gint64      max,
          int        *out)
{
  JsonNode *node = json_object_get_member (object, member);
  gint64 v;

  if (node == NULL)
    return required ? invalid (ctx, field, "is missing") : TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return invalid (ctx, field, "must be an integer");
  v = json_node_get_int (node);
  if (v < min || v > max)
    return invalid (ctx, field, "must be between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT
                    " (it is %" G_GINT64_FORMAT ")", min, max, v);
  *out = (int) v;
  return TRUE;
}

static gboolean
read_string (Ctx         *ctx,
             JsonObject  *object,
             const char  *member,
             const char  *field,
             const char **out)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return invalid (ctx, field, "must be a string");
  *out = json_node_get_string (node);
  if (**out == '\0')
    return invalid (ctx, field, "must not be empty");
  return TRUE;
}

/* mean / std: an array of exactly `channels` finite numbers. */
static gboolean
read_vector (Ctx        *ctx,
             JsonObject *object,
             const char *member,
             const char *field,
             int         channels,
             gboolean    positive,
             float      *out)
{
  JsonNode *node = json_object_get_member (object, member);
  JsonArray *array;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node) ||
      json_array_get_length (array = json_node_get_array (node)) != (guint) channels)
    return invalid (ctx, field, "must be an array of %d number%s (one per channel)",
                    channels, channels == 1 ? "" : "s");
  for (int c = 0; c < channels; c++)
    {
      JsonNode *item = json_array_get_element (array, c);
      double v;

      if (!is_number (item))
        return invalid (ctx, field, "must be an array of %d numbers; item %d is not a number",
                        channels, c);
      v = json_node_get_double (item);
      if (!isfinite (v) || fabs (v) > G_MAXFLOAT)
        return invalid (ctx, field, "item %d is out of range", c);
      if (positive && !(v > 0.0))
        return invalid (ctx, field, "item %d must be greater than 0 (it is %g)", c, v);
      out[c] = (float) v;
    }
  return TRUE;
}

static gboolean
read_input (Ctx            *ctx,
            JsonObject     *input,
            LensPreprocess *pre)
{
  const char *order = "RGB";
  JsonNode *node;

  if (!check_members (ctx, input, "input.", input_fields))
    return FALSE;

  memset (pre, 0, sizeof *pre);
  pre->scale = 1.0f;
  for (int c = 0; c < 3; c++)
    pre->std[c] = 1.0f;

  if (!read_int (ctx, input, "channels", "input.channels", TRUE, 1, 3, &pre->channels))
    return FALSE;
  if (pre->channels != 1 && pre->channels != 3)
    return invalid (ctx, "input.channels", "must be 1 or 3 (it is %d)", pre->channels);
  if (!read_int (ctx, input, "height", "input.height", TRUE, 1, MAX_SIDE, &pre->height) ||
      !read_int (ctx, input, "width", "input.width", TRUE, 1, MAX_SIDE, &pre->width) ||
      !read_int (ctx, input, "resize", "input.resize", FALSE, 0, 4 * MAX_SIDE,
                 &pre->resize_shorter))
    return FALSE;
  if (pre->resize_shorter != 0 && pre->resize_shorter < MAX (pre->height, pre->width))
    return invalid (ctx, "input.resize",
                    "must be 0 (direct resize) or at least %d so that the %d x %d crop fits "
                    "(it is %d)", MAX (pre->height, pre->width), pre->width, pre->height,
                    pre->resize_shorter);

  node = json_object_get_member (input, "scale");
  if (node != NULL)
    {
      double v;

      if (!is_number (node))
        return invalid (ctx, "input.scale", "must be a number");
      v = json_node_get_double (node);
      if (!isfinite (v) || !(v > 0.0) || v > G_MAXFLOAT)
        return invalid (ctx, "input.scale", "must be a positive number no larger than %g "
                        "(it is %g)", (double) G_MAXFLOAT, v);
      pre->scale = (float) v;
    }

  if (!read_vector (ctx, input, "mean", "input.mean", pre->channels, FALSE, pre->mean) ||
      !read_vector (ctx, input, "std", "input.std", pre->channels, TRUE, pre->std))
    return FALSE;

  if (!read_string (ctx, input, "channel_order", "input.channel_order", &order))
    return FALSE;
  if (g_str_equal (order, "RGB"))
    pre->bgr = FALSE;
  else if (g_str_equal (order, "BGR"))
    pre->bgr = TRUE;
  else
    return invalid (ctx, "input.channel_order", "must be \"RGB\" or \"BGR\" (it is \"%s\")",
                    order);
  return TRUE;
}

static char *
strip_suffix (const char *basename,
              const char *suffix)
{
  if (g_str_has_suffix (basename, suffix) && strlen (basename) > strlen (suffix))
    return g_strndup (basename, strlen (basename) - strlen (suffix));
  return NULL;
}

static char *
name_from_path (const char *json_path)
{
  g_autofree char *base = g_path_get_basename (json_path);
  char *name;

  if ((name = strip_suffix (base, PROFILE_SUFFIX)) != NULL ||
      (name = strip_suffix (base, ".json")) != NULL)
    return name;
  return g_steal_pointer (&base);
}

LensProfile *
lens_profile_load (const char *json_path,
                   GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  gsize length;

  g_return_val_if_fail (json_path != NULL, NULL);

  if (!g_file_get_contents (json_path, &contents, &length, &local_error))
    {
      g_autofree char *display = g_filename_display_name (json_path);

      g_set_error (error, LENS_PROFILE_ERROR, LENS_PROFILE_ERROR_IO,
                   "Cannot read profile “%s”: %s", display, local_error->message);
      return NULL;
    }
  return lens_profile_load_data (contents, length, json_path, error);
}

LensProfile *
lens_profile_load_data (const char *contents,
                        gsize       length,
                        const char *json_path,
                        GError    **error)
{
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *display = NULL;
  const char *name = NULL, *description = NULL, *labels = NULL;
  JsonNode *root, *input;
  JsonObject *object;
  Ctx ctx;

  g_return_val_if_fail (contents != NULL || length == 0, NULL);
  g_return_val_if_fail (json_path != NULL, NULL);

  display = g_filename_display_name (json_path);
  ctx.display = display;
  ctx.error = error;

  if (contents == NULL)
    contents = "";
  if (length > G_MAXSSIZE)
    length = G_MAXSSIZE;

  parser = json_parser_new ();
  /* json-glib recurses per nesting level: refuse deep nesting first */
  if (!lens_file_check_json_depth (contents, length, LENS_FILE_MAX_JSON_DEPTH, "The profile",
                                   &local_error) ||
      !json_parser_load_from_data (parser, contents, (gssize) length, &local_error))
    {
      g_set_error (error, LENS_PROFILE_ERROR, LENS_PROFILE_ERROR_PARSE,
                   "Profile “%s” is not valid JSON: %s", display, local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error (error, LENS_PROFILE_ERROR, LENS_PROFILE_ERROR_PARSE,
                   "Profile “%s” is empty", display);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, LENS_PROFILE_ERROR, LENS_PROFILE_ERROR_INVALID,
                   "Profile “%s” must be a JSON object", display);
      return NULL;
    }
  object = json_node_get_object (root);
  if (!check_members (&ctx, object, "", top_fields))
    return NULL;

  profile = g_new0 (LensProfile, 1);

  if (!read_string (&ctx, object, "name", "name", &name) ||
      !read_string (&ctx, object, "description", "description", &description) ||
      !read_string (&ctx, object, "labels", "labels", &labels))
    return NULL;
  if (name != NULL && !g_utf8_validate (name, -1, NULL))
    {
      invalid (&ctx, "name", "is not valid UTF-8");
      return NULL;
    }
  profile->name = name != NULL ? g_strdup (name) : name_from_path (json_path);

  input = json_object_get_member (object, "input");
  if (input == NULL)
    {
      invalid (&ctx, "input", "is missing");
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (input))
    {
      invalid (&ctx, "input", "must be an object");
      return NULL;
    }
  if (!read_input (&ctx, json_node_get_object (input), &profile->pre))
    return NULL;

  if (labels != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (json_path);

      if (g_path_is_absolute (labels))
        profile->labels_path = g_strdup (labels);
      else
        profile->labels_path = g_build_filename (dir, labels, NULL);

      profile->labels = lens_labels_load (profile->labels_path, &profile->n_labels, &local_error);
      if (profile->labels == NULL)
        {
          g_set_error (error, LENS_PROFILE_ERROR, LENS_PROFILE_ERROR_LABELS,
                       "Profile “%s”: field “labels”: %s", display, local_error->message);
          return NULL;
        }
    }

  return g_steal_pointer (&profile);
}

char *
lens_profile_path_for_model (const char *model_path)
{
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;
  g_autofree char *file = NULL;
  char *dot;

  g_return_val_if_fail (model_path != NULL, NULL);

  dir = g_path_get_dirname (model_path);
  base = g_path_get_basename (model_path);
  dot = strrchr (base, '.');
  if (dot != NULL && dot != base)
    *dot = '\0';
  file = g_strconcat (base, PROFILE_SUFFIX, NULL);
  return g_build_filename (dir, file, NULL);
}

static char *
labels_in (const char *dir)
{
  g_autofree char *path = NULL;

  if (dir == NULL || *dir == '\0')
    return NULL;
  path = g_build_filename (dir, IMAGENET_LABELS, NULL);
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&path);
  return NULL;
}

char *
lens_profile_find_imagenet_labels (void)
{
  char *path;

  if ((path = labels_in (g_getenv ("CONVLENS_DATADIR"))) != NULL)
    return path;
#ifdef LENS_DATADIR
  if ((path = labels_in (LENS_DATADIR)) != NULL)
    return path;
#endif
  return labels_in (g_getenv ("CONVLENS_SOURCE_DIR"));
}

LensProfile *
lens_profile_guess (const char *model_path,
                    int         channels,
                    int         height,
                    int         width,
                    GError    **error)
{
  g_autofree char *json_path = NULL;
  g_autofree char *base = NULL;
  g_autofree char *labels_path = NULL;
  LensProfile *profile;
  char *dot;

  g_return_val_if_fail (model_path != NULL, NULL);

  json_path = lens_profile_path_for_model (model_path);
  if (g_file_test (json_path, G_FILE_TEST_EXISTS))
    return lens_profile_load (json_path, error);

  if ((channels != 1 && channels != 3) || height <= 0 || width <= 0 ||
      height > MAX_SIDE || width > MAX_SIDE)
    {
      g_set_error (error, LENS_PROFILE_ERROR, LENS_PROFILE_ERROR_UNSUPPORTED,
                   "No default preprocessing for an input of %d channels, %d x %d; "
                   "write a profile (%s)", channels, width, height, json_path);
      return NULL;
    }

  profile = g_new0 (LensProfile, 1);
  base = g_path_get_basename (model_path);
  dot = strrchr (base, '.');
  if (dot != NULL && dot != base)
    *dot = '\0';
  profile->name = g_steal_pointer (&base);

  if (channels == 3 && height >= 224 && width >= 224)
    {
      lens_preprocess_init_imagenet (&profile->pre);
      profile->pre.height = height;
      profile->pre.width = width;
      /* torchvision's evaluation ratio: 256 for 224, 342 for 299 */
      profile->pre.resize_shorter = (int) round (MAX (height, width) / 0.875);

      labels_path = lens_profile_find_imagenet_labels ();
      if (labels_path != NULL)
        {
          profile->labels = lens_labels_load (labels_path, &profile->n_labels, NULL);
          if (profile->labels != NULL)
            profile->labels_path = g_steal_pointer (&labels_path);
          else
            profile->n_labels = 0;
        }
    }
  else
    {
      profile->pre.channels = channels;
      profile->pre.height = height;
      profile->pre.width = width;
      profile->pre.resize_shorter = 0;
      profile->pre.scale = 1.0f;
      for (int c = 0; c < 3; c++)
        {
          profile->pre.mean[c] = 0.0f;
          profile->pre.std[c] = 1.0f;
        }
      profile->pre.bgr = FALSE;
    }
  return profile;
}

const char *
lens_profile_get_label (const LensProfile *profile,
                        guint              index)
{
  g_return_val_if_fail (profile != NULL, NULL);

  if (profile->labels == NULL || index >= profile->n_labels)
    return NULL;
  return profile->labels[index];
}

void
lens_profile_free (LensProfile *profile)
{
  if (profile == NULL)
    return;
  g_free (profile->name);
  g_free (profile->labels_path);
  g_strfreev (profile->labels);
  g_free (profile);
}
