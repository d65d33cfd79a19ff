/* lens-scan-source.c: the images a scan reads: an idx data set such as
 * Fashion-MNIST, or a folder of PNG/JPEG images (recursive, sorted) */
#define G_LOG_DOMAIN "lens-topk"

#include <string.h>

#include "lens-dataset.h"
#include "lens-topk.h"

/* Folders deeper than this are not followed (symlink loops). */
#define MAX_FOLDER_DEPTH  32

struct _LensScanSource
{
  char        *spec;
  char        *kind;
  char        *digest;
  int          n_images;
  /* fashion-mnist */
  LensDataset *dataset;
  char        *split;
  /* folder */
  char        *root;
  GPtrArray   *files;    /* relative paths, sorted */
};

void
lens_scan_source_free (LensScanSource *source)
{
  if (source == NULL)
    return;
  g_free (source->spec);
  g_free (source->kind);
  g_free (source->digest);
  g_clear_pointer (&source->dataset, lens_dataset_free);
  g_free (source->split);
  g_free (source->root);
  g_clear_pointer (&source->files, g_ptr_array_unref);
  g_free (source);
}

static gboolean
is_image_name (const char *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);

  return g_str_has_suffix (lower, ".png") || g_str_has_suffix (lower, ".jpg") ||
         g_str_has_suffix (lower, ".jpeg");
}

static gboolean
collect_files (const char *root,
               const char *rel,
               int         depth,
               GPtrArray  *files,
               GError    **error)
{
  g_autofree char *dir_path = rel ? g_build_filename (root, rel, NULL) : g_strdup (root);
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (depth > MAX_FOLDER_DEPTH)
    return TRUE;
  dir = g_dir_open (dir_path, 0, error);
  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child_rel = rel ? g_build_filename (rel, name, NULL) : g_strdup (name);
      g_autofree char *child = g_build_filename (root, child_rel, NULL);

      if (name[0] == '.')
        continue;
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        {
          if (!collect_files (root, child_rel, depth + 1, files, error))
            return FALSE;
        }
      else if (is_image_name (name))
        g_ptr_array_add (files, g_steal_pointer (&child_rel));
    }
  return TRUE;
}

static int
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

LensScanSource *
lens_scan_source_open (const char *spec,
                       GError    **error)
{
  g_autoptr(LensScanSource) source = NULL;

  g_return_val_if_fail (spec != NULL, NULL);

  source = g_new0 (LensScanSource, 1);
  source->spec = g_strdup (spec);

  if (g_strcmp0 (spec, "fashion-mnist") == 0 || g_str_has_prefix (spec, "fashion-mnist:"))
    {
      g_autoptr(GError) local = NULL;
      const char *split = spec[strlen ("fashion-mnist")] == ':' ? spec + strlen ("fashion-mnist:")
                                                               : "test";
      gsize n_bytes;

      source->kind = g_strdup ("fashion-mnist");
      source->split = g_strdup (split);
      source->dataset = lens_dataset_load_fashion_mnist (NULL, split, &local);
      if (source->dataset == NULL)
        {
          g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_DATASET, "%s", local->message);
          return NULL;
        }
      source->n_images = source->dataset->n;
      n_bytes = (gsize) source->dataset->n * source->dataset->channels *
                source->dataset->height * source->dataset->width;
      source->digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                                    source->dataset->pixels, n_bytes);
    }
  else
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

      source->kind = g_strdup ("folder");
      source->root = g_strdup (spec);
      source->files = g_ptr_array_new_with_free_func (g_free);
      if (!g_file_test (spec, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_DATASET,
                       "'%s' is neither a folder of images nor 'fashion-mnist[:test|:train]'",
                       spec);
          return NULL;
        }
      if (!collect_files (spec, NULL, 0, source->files, &local))
        {
          g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_DATASET, "'%s': %s", spec,
                       local->message);
          return NULL;
        }
      g_ptr_array_sort (source->files, compare_paths);
      if (source->files->len == 0 || source->files->len > G_MAXINT)
        {
          g_set_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_DATASET,
                       "No PNG or JPEG images found below '%s'", spec);
          return NULL;
        }
      for (guint i = 0; i < source->files->len; i++)
        {
          const char *name = g_ptr_array_index (source->files, i);

          g_checksum_update (sum, (const guchar *) name, strlen (name));
          g_checksum_update (sum, (const guchar *) "\n", 1);
        }
      source->n_images = (int) source->files->len;
      source->digest = g_strdup (g_checksum_get_string (sum));
    }
  return g_steal_pointer (&source);
}

int
lens_scan_source_get_n_images (const LensScanSource *source)
{
  return source->n_images;
}

const char *
lens_scan_source_get_kind (const LensScanSource *source)
{
  return source->kind;
}

const char *
lens_scan_source_get_spec (const LensScanSource *source)
{
  return source->spec;
}

const char *
lens_scan_source_get_digest (const LensScanSource *source)
{
  return source->digest;
}

char *
lens_scan_source_dup_name (const LensScanSource *source,
                           int                   i)
{
  g_return_val_if_fail (i >= 0 && i < source->n_images, NULL);

  if (source->dataset != NULL)
    return g_strdup_printf ("%s #%d", source->split, i);
  return g_strdup (g_ptr_array_index (source->files, i));
}

LensImage *
lens_scan_source_load_image (LensScanSource *source,
                             int             i,
                             GError        **error)
{
  g_return_val_if_fail (i >= 0 && i < source->n_images, NULL);

  if (source->dataset != NULL)
    {
      const LensDataset *ds = source->dataset;
      gsize plane = (gsize) ds->height * ds->width;
      const guint8 *px = ds->pixels + (gsize) i * ds->channels * plane;
      LensImage *image = lens_image_new (ds->width, ds->height);

      for (gsize p = 0; p < plane; p++)
        for (int c = 0; c < 3; c++)
          image->rgb[p * 3 + c] = px[(ds->channels == 3 ? c : 0) * plane + p] / 255.0f;
      return image;
    }
  else
    {
      g_autofree char *path = g_build_filename (source->root,
                                                g_ptr_array_index (source->files, i), NULL);

      return lens_image_load (path, error);
    }
}

gboolean
lens_scan_source_load_input (LensScanSource       *source,
                             int                   i,
                             const LensPreprocess *pre,
                             float                *out,
                             GError              **error)
{
  g_autoptr(LensImage) image = NULL;
  g_autoptr(LensTensor) tensor = NULL;
  const LensDataset *ds = source->dataset;
  gsize plane = (gsize) pre->height * pre->width;

  /* An idx image that already has the input's size: straight from the
   * bytes, (p / 255 * scale - mean) / std, with no colour round trip. */
  if (ds != NULL && ds->height == pre->height && ds->width == pre->width &&
      (ds->channels == pre->channels || ds->channels == 1) && pre->resize_shorter == 0)
    {
      const guint8 *px = ds->pixels + (gsize) i * ds->channels * plane;

      for (int c = 0; c < pre->channels; c++)
        {
          int sc = pre->bgr ? 2 - c : c;
          const guint8 *src = px + (ds->channels == 1 ? 0 : (gsize) sc * plane);
          for (gsize p = 0; p < plane; p++)
            out[c * plane + p] = ((float) src[p] / 255.0f * pre->scale - pre->mean[c]) /
                                 pre->std[c];
        }
      return TRUE;
    }

  image = lens_scan_source_load_image (source, i, error);
  if (image == NULL)
    return FALSE;
  tensor = lens_image_to_tensor (image, pre, error);
  if (tensor == NULL)
    return FALSE;
  memcpy (out, lens_tensor_get_floats (tensor), plane * pre->channels * sizeof (float));
  return TRUE;
}
