/* lens-dataset.h: labelled image sets for training and evaluation
 *
 * Two sources:
 *   - Fashion-MNIST in the idx format (gzip-compressed), as Debian's
 *     dataset-fashion-mnist package installs it;
 *   - a folder with one sub-folder per class holding PNG/JPEG images
 *     (class names are the sub-folder names, sorted).
 * Images are kept as 8-bit planes [N, C, H, W]; lens_dataset_get_floats()
 * turns one into a normalised float tensor.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define LENS_DATASET_ERROR (lens_dataset_error_quark ())

typedef enum
{
  LENS_DATASET_ERROR_MISSING,  /* the data set is not installed / the folder does not exist */
  LENS_DATASET_ERROR_IO,
  LENS_DATASET_ERROR_FORMAT,   /* corrupt idx file, unreadable image, inconsistent sizes */
  LENS_DATASET_ERROR_EMPTY,    /* no classes or no images */
} LensDatasetError;

/* Where Debian's dataset-fashion-mnist puts its files. */
#define LENS_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

typedef struct
{
  int      n;            /* images */
  int      channels;     /* 1 or 3 */
  int      height;
  int      width;
  int      n_classes;
  guint8  *pixels;       /* n * channels * height * width, owned */
  guint8  *labels;       /* n, owned; class index < n_classes (at most 256 classes) */
  char   **class_names;  /* NULL-terminated, n_classes entries */
  char    *name;         /* "fashion-mnist (train)", the folder... */
} LensDataset;

GQuark       lens_dataset_error_quark        (void);

/* split: "train" or "test".  dir NULL: LENS_FASHION_MNIST_DIR (or
 * $CONVLENS_FASHION_MNIST_DIR when set).  A missing file is
 * LENS_DATASET_ERROR_MISSING with a message naming the package. */
LensDataset *lens_dataset_load_fashion_mnist (const char *dir,
                                              const char *split,
                                              GError    **error);
/* One sub-folder per class; every image is converted to `channels`
 * (luma for 1) and resized (bilinear) to height x width. */
LensDataset *lens_dataset_load_folder        (const char *dir,
                                              int         channels,
                                              int         height,
                                              int         width,
                                              GError    **error);
/* "fashion-mnist" (with split) or a folder (split ignored, 1x28x28 unless
 * channels/height/width > 0 are given). */
LensDataset *lens_dataset_load               (const char *spec,
                                              const char *split,
                                              int         channels,
                                              int         height,
                                              int         width,
                                              GError    **error);
/* Images and labels in the idx format (each raw or gzip-compressed,
 * detected by its magic bytes): unsigned bytes, images [N, H, W] (1
 * channel, sides up to 4096), labels [N] below 10 (Fashion-MNIST's
 * classes).  name is the data set's name and is used in messages. */
LensDataset *lens_dataset_load_idx_data      (GBytes     *images,
                                              GBytes     *labels,
                                              const char *name,
                                              GError    **error);
/* A new data set of the images at the given indices (copied). */
LensDataset *lens_dataset_subset             (const LensDataset *dataset,
                                              const int         *indices,
                                              int                n);
void         lens_dataset_free               (LensDataset *dataset);

/* Image i as floats (pixel / 255 - mean[c]) / std[c] into out [C,H,W]. */
void         lens_dataset_get_floats         (const LensDataset *dataset,
                                              int                i,
                                              const float       *mean,
                                              const float       *std,
                                              float             *out);

/* Fashion-MNIST's class names, in label order (static). */
const char * const *lens_fashion_mnist_classes (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensDataset, lens_dataset_free)

G_END_DECLS
