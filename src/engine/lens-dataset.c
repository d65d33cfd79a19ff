/* lens-dataset.c: Fashion-MNIST (idx, gzip) and image-folder data sets */
#define G_LOG_DOMAIN "lens-dataset"

#include "lens-dataset.h"
#include "lens-image.h"

#include <string.h>

G_DEFINE_QUARK (lens-dataset-error-quark, lens_dataset_error)

static const char * const fashion_classes[] = {
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot", NULL
};

const char * const *
lens_fashion_mnist_classes (void)
{
  return fashion_classes;
}

void
lens_dataset_free (LensDataset *ds)
{
  if (ds == NULL)
    return;
  g_free (ds->pixels);
  g_free (ds->labels);
  g_strfreev (ds->class_names);
  g_free (ds->name);
  g_free (ds);
}

static GBytes *gunzip_stream (GInputStream *raw,
                              const char   *path,
                              GError      **error);

/* The whole decompressed content of a .gz file. */
static GBytes *
read_gz (const char *path,
         GError    **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) local = NULL;
  g_autoptr (GFileInputStream) raw = g_file_read (file, NULL, &local);

  if (raw == NULL)
    {
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        g_set_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_MISSING,
                     "Fashion-MNIST file '%s' is missing; install the Debian package "
                     "dataset-fashion-mnist (apt install dataset-fashion-mnist)", path);
      else
        g_set_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_IO,
                     "Cannot read '%s': %s", path, local->message);
      return NULL;
    }
  return gunzip_stream (G_INPUT_STREAM (raw), path, error);
}

/* The whole decompressed content of a gzip stream (at most 1 GiB). */
static GBytes *
gunzip_stream (GInputStream *raw,
               const char   *path,
               GError      **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GZlibDecompressor) dec = NULL;
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  guint8 chunk[65536];

  dec = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  in = g_converter_input_stream_new (raw, G_CONVERTER (dec));
  for (;;)
    {
      gssize n = g_input_stream_read (in, chunk, sizeof chunk, NULL, &local);
      if (n < 0)
        {
          g_set_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_FORMAT,
                       "Cannot decompress '%s': %s", path, local->message);
          return NULL;
        }
      if (n == 0)
        break;
      if (buf->len > (1u << 30))
        {
          g_set_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_FORMAT,
                       "'%s' decompresses to more than 1 GiB", path);
          return NULL;
        }
      g_byte_array_append (buf, chunk, (guint) n);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&buf));
}

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

/* idx: magic 0x00 0x00 0x08 ndims, then ndims big-endian sizes, then bytes. */
static const guint8 *
parse_idx (GBytes     *bytes,
           const char *path,
           int         want_ndim,
           guint32    *dims,
           GError    **error)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (bytes, &len);
  guint64 total = 1;
  gsize header = 4 + 4 * (gsize) want_ndim;

  if (len < header || d[0] != 0 || d[1] != 0 || d[2] != 0x08 || d[3] != want_ndim)
    {
      g_set_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_FORMAT,
                   "'%s' is not an idx file of unsigned bytes with %d dimensions", path,
                   want_ndim);
      return NULL;
    }
  for (int i = 0; i < want_ndim; i++)
    {
      dims[i] = be32 (d + 4 + 4 * i);
      /* total <= len after each step, so the product cannot overflow */
      total *= dims[i];
      if (total > len)
        break;
    }
  if (total == 0 || total > len - header)
    {
      g_set_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_FORMAT,
                   "'%s' is truncated or empty", path);
      return NULL;
    }
  return d + header;
}

static LensDataset *dataset_from_idx (GBytes     *img,
                                      const char *img_path,
                                      GBytes     *lab,
                                      const char *lab_path,
                                      const char *name,
                                      GError    **error);

LensDataset *
lens_dataset_load_fashion_mnist (const char *dir,
                                 const char *split,
                                 GError    **error)
{
  gboolean test = g_strcmp0 (split, "test") == 0;
  const char *prefix = test ? "t10k" : "train";
  g_autofree char *img_path = NULL, *lab_path = NULL, *name = NULL;
  g_autoptr (GBytes) img = NULL, lab = NULL;

  if (split != NULL && !test && g_strcmp0 (split, "train") != 0)
    {
      g_set_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_MISSING,
                   "Unknown split '%s' (use train or test)", split);
      return NULL;
    }
  if (dir == NULL)
    dir = g_getenv ("CONVLENS_FASHION_MNIST_DIR");
  if (dir == NULL)
    dir = LENS_FASHION_MNIST_DIR;
  img_path = g_strdup_printf ("%s/%s-images-idx3-ubyte.gz", dir, prefix);
  lab_path = g_strdup_printf ("%s/%s-labels-idx1-ubyte.gz", dir, prefix);
  img = read_gz (img_path, error);
  if (img == NULL)
    return NULL;
  lab = read_gz (lab_path, error);
  if (lab == NULL)
    return NULL;
  name = g_strdup_printf ("fashion-mnist (%s)", test ? "test" : "train");
  return dataset_from_idx (img, img_path, lab, lab_path, name, error);
}

/* A data set of the images in the idx buffer img and the labels in lab
 * (paths for messages). */
static LensDataset *
dataset_from_idx (GBytes     *img,
                  const char *img_path,
                  GBytes     *lab,
                  const char *lab_path,
                  const char *name,
                  GError    **error)
{
  g_autoptr (LensDataset) ds = NULL;
  guint32 idims[3], ldims[1];
  const guint8 *ip, *lp;

  ip = parse_idx (img, img_path, 3, idims, error);
  if (ip == NULL)
    return NULL;
  lp = parse_idx (lab, lab_path, 1, ldims, error);
  if (lp == NULL)
    return NULL;
  if (idims[1] > 4096 || idims[2] > 4096)
    {
      g_set_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_FORMAT,
                   "'%s' has images of %u x %u pixels; at most 4096 x 4096 are read",
                   img_path, idims[2], idims[1]);
      return NULL;
    }
  if (idims[0] != ldims[0] || idims[0] > G_MAXINT)
    {
      g_set_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_FORMAT,
                   "'%s' has %u images but '%s' %u labels", img_path, idims[0], lab_path,
                   ldims[0]);
      return NULL;
    }
  ds = g_new0 (LensDataset, 1);
  ds->n = (int) idims[0];
  ds->channels = 1;
  ds->height = (int) idims[1];
  ds->width = (int) idims[2];
  ds->n_classes = 10;
  ds->pixels = g_memdup2 (ip, (gsize) idims[0] * idims[1] * idims[2]);
  ds->labels = g_memdup2 (lp, ldims[0]);
  ds->class_names = g_strdupv ((char **) fashion_classes);
  ds->name = g_strdup (name);
  for (int i = 0; i < ds->n; i++)
    if (ds->labels[i] >= 10)
      {
        g_set_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_FORMAT,
                     "'%s': label %d of image %d is out of range", lab_path, ds->labels[i], i);
        return NULL;
      }
  return g_steal_pointer (&ds);
}

/* An idx buffer as is, or decompressed when it starts with the gzip
 * magic bytes. */
static GBytes *
maybe_gunzip (GBytes     *bytes,
              const char *what,
              GError    **error)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (bytes, &len);
  g_autoptr (GInputStream) raw = NULL;

  if (len < 2 || d[0] != 0x1f || d[1] != 0x8b)
    return g_bytes_ref (bytes);
  raw = g_memory_input_stream_new_from_bytes (bytes);
  return gunzip_stream (raw, what, error);
}

LensDataset *
lens_dataset_load_idx_data (GBytes     *images,
                            GBytes     *labels,
                            const char *name,
                            GError    **error)
{
  g_autofree char *img_what = NULL, *lab_what = NULL;
  g_autoptr (GBytes) img = NULL, lab = NULL;

  g_return_val_if_fail (images != NULL && labels != NULL, NULL);

  if (name == NULL)
    name = "idx";
  img_what = g_strdup_printf ("%s images", name);
  lab_what = g_strdup_printf ("%s labels", name);
  img = maybe_gunzip (images, img_what, error);
  if (img == NULL)
    return NULL;
  lab = maybe_gunzip (labels, lab_what, error);
  if (lab == NULL)
    return NULL;
  return dataset_from_idx (img, img_what, lab, lab_what, name, error);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

static GPtrArray *
sorted_entries (const char *dir,
                gboolean    want_dirs,
                GError    **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    return NULL;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (name[0] == '.')
        continue;
      if (g_file_test (path, G_FILE_TEST_IS_DIR) == want_dirs)
        g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_sort (names, compare_strings);
  return g_steal_pointer (&names);
}

LensDataset *
lens_dataset_load_folder (const char *dir,
                          int         channels,
                          int         height,
                          int         width,
                          GError    **error)
{
  g_autoptr (LensDataset) ds = NULL;
  g_autoptr (GPtrArray) classes = NULL;
  g_autoptr (GByteArray) pixels = g_byte_array_new ();
  g_autoptr (GByteArray) labels = g_byte_array_new ();
  g_autoptr (GError) local = NULL;
  gsize per = (gsize) channels * height * width;
  g_autofree guint8 *one = g_malloc (per);

  g_return_val_if_fail (channels == 1 || channels == 3, NULL);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_MISSING,
                   "Data set '%s' is neither 'fashion-mnist' nor a folder", dir);
      return NULL;
    }
  classes = sorted_entries (dir, TRUE, &local);
  if (classes == NULL)
    {
      g_set_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_IO,
                   "Cannot list '%s': %s", dir, local->message);
      return NULL;
    }
  if (classes->len < 2 || classes->len > 256)
    {
      g_set_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_EMPTY,
                   "Folder '%s' must hold one sub-folder per class (2 to 256), it has %u",
                   dir, classes->len);
      return NULL;
    }
  for (guint c = 0; c < classes->len; c++)
    {
      g_autofree char *cdir = g_build_filename (dir, g_ptr_array_index (classes, c), NULL);
      g_autoptr (GPtrArray) files = sorted_entries (cdir, FALSE, &local);

      if (files == NULL)
        {
          g_set_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_IO,
                       "Cannot list '%s': %s", cdir, local->message);
          return NULL;
        }
      for (guint f = 0; f < files->len; f++)
        {
          g_autofree char *path = g_build_filename (cdir, g_ptr_array_index (files, f), NULL);
          g_autoptr (LensImage) img = lens_image_load (path, &local);
          g_autoptr (LensImage) sized = NULL;
          guint8 cls = (guint8) c;

          if (img == NULL)
            {
              g_set_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_FORMAT,
                           "Cannot use '%s': %s", path, local->message);
              return NULL;
            }
          sized = img->width == width && img->height == height
                    ? g_steal_pointer (&img) : lens_image_resize (img, width, height);
          for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
              {
                const float *px = sized->rgb + ((gsize) y * width + x) * 3;
                for (int ch = 0; ch < channels; ch++)
                  {
                    float v = channels == 1
                                ? 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2]
                                : px[ch];
                    one[((gsize) ch * height + y) * width + x] =
                      (guint8) CLAMP ((int) (v * 255.0f + 0.5f), 0, 255);
                  }
              }
          g_byte_array_append (pixels, one, (guint) per);
          g_byte_array_append (labels, &cls, 1);
        }
    }
  if (labels->len == 0)
    {
      g_set_error (error, LENS_DATASET_ERROR, LENS_DATASET_ERROR_EMPTY,
                   "The class folders of '%s' hold no images", dir);
      return NULL;
    }
  ds = g_new0 (LensDataset, 1);
  ds->n = (int) labels->len;
  ds->channels = channels;
  ds->height = height;
  ds->width = width;
  ds->n_classes = (int) classes->len;
  ds->pixels = g_byte_array_steal (pixels, NULL);
  ds->labels = g_byte_array_steal (labels, NULL);
  ds->class_names = g_new0 (char *, classes->len + 1);
  for (guint c = 0; c < classes->len; c++)
    ds->class_names[c] = g_strdup (g_ptr_array_index (classes, c));
  ds->name = g_strdup (dir);
  return g_steal_pointer (&ds);
}

LensDataset *
lens_dataset_load (const char *spec,
                   const char *split,
                   int         channels,
                   int         height,
                   int         width,
                   GError    **error)
{
  if (g_strcmp0 (spec, "fashion-mnist") == 0)
    return lens_dataset_load_fashion_mnist (NULL, split, error);
  return lens_dataset_load_folder (spec, channels > 0 ? channels : 1, height > 0 ? height : 28,
                                   width > 0 ? width : 28, error);
}

LensDataset *
lens_dataset_subset (const LensDataset *ds,
                     const int         *indices,
                     int                n)
{
  LensDataset *sub = g_new0 (LensDataset, 1);
  gsize per = (gsize) ds->channels * ds->height * ds->width;

  *sub = *ds;
  sub->n = n;
  sub->pixels = g_malloc (MAX (per * (gsize) n, 1));
  sub->labels = g_malloc (MAX (n, 1));
  for (int i = 0; i < n; i++)
    {
      g_return_val_if_fail (indices[i] >= 0 && indices[i] < ds->n, sub);
      memcpy (sub->pixels + per * i, ds->pixels + per * indices[i], per);
      sub->labels[i] = ds->labels[indices[i]];
    }
  sub->class_names = g_strdupv (ds->class_names);
  sub->name = g_strdup (ds->name);
  return sub;
}

void
lens_dataset_get_floats (const LensDataset *ds,
                         int                i,
                         const float       *mean,
                         const float       *std,
                         float             *out)
{
  gsize plane = (gsize) ds->height * ds->width;
  const guint8 *src = ds->pixels + plane * ds->channels * i;

  for (int c = 0; c < ds->channels; c++)
    {
      float m = mean ? mean[c] : 0.0f, s = std ? 1.0f / std[c] : 1.0f;
      for (gsize j = 0; j < plane; j++)
        out[c * plane + j] = ((float) src[c * plane + j] * (1.0f / 255.0f) - m) * s;
    }
}
