/* lens-invariance.h: how feature vectors and the class probability change
 * when an image is translated, scaled or rotated (Zeiler & Fergus, Fig. 5)
 *
 *   LensInvarianceOptions opts;
 *   lens_invariance_options_init (&opts);
 *   opts.transform = LENS_TRANSFORM_ROTATE;
 *   lens_invariance_parse_range ("0:360:10", &opts.values, &opts.n_values, &error);
 *   g_autoptr(LensInvariance) inv = lens_invariance_run (net, &pre, images, n, NULL, layers,
 *                                                        &opts, cancellable, &error);
 *
 * Each image is transformed before preprocessing, at its own resolution, by
 * bilinear resampling (pixel centres at integer coordinates, the centre of
 * rotation and scaling at ((W-1)/2, (H-1)/2)); every source sample outside
 * the image takes the fill colour, so an integer translation moves whole
 * pixels and fills the uncovered rows with the fill.  For an output pixel
 * (x, y), with dx = x - cx and dy = y - cy, the source position is:
 *   translate t (pixels, positive = down):  (x, y - t)
 *   scale s (factor, > 0):                   (cx + dx / s, cy + dy / s)
 *   rotate a (degrees, counter-clockwise on screen):
 *       (cx + cos a dx - sin a dy, cy + sin a dx + cos a dy)
 * This is torch.nn.functional.grid_sample (bilinear, align_corners=False,
 * zero padding, for a fill of 0) over affine_grid's square grid.
 *
 * For every image, transform value and layer the result holds the Euclidean
 * distance between the layer's whole output (flattened) on the transformed
 * and on the original image, and that distance divided by the norm of the
 * original's output (the relative distance; NaN when that norm is 0); and
 * per image and value the probability of the true class and its rank (1 =
 * most probable).  The true class is given, or else the most probable class
 * of the original image.
 */
#pragma once

#include "lens-analysis.h"

G_BEGIN_DECLS

typedef enum
{
  LENS_TRANSFORM_TRANSLATE,  /* vertical, in pixels of the image */
  LENS_TRANSFORM_SCALE,      /* factor about the centre */
  LENS_TRANSFORM_ROTATE,     /* degrees counter-clockwise about the centre */
} LensTransform;

/* Transform values are refused beyond these. */
#define LENS_INVARIANCE_MAX_VALUES 10000

typedef struct
{
  LensTransform        transform;
  const double        *values;       /* n_values transform amounts (borrowed) */
  int                  n_values;
  gboolean             fill_mean;    /* TRUE (default): the preprocessing mean */
  float                fill[3];      /* RGB in [0,1] when !fill_mean */
  int                  batch;        /* inputs per forward pass; 0: 16 */
  LensAnalysisProgress progress;     /* done/total count forward-pass inputs */
  gpointer             user_data;
} LensInvarianceOptions;

typedef struct
{
  LensTransform transform;
  int      n_images;
  int      n_values;
  int      n_layers;
  int      n_classes;
  char   **layers;          /* [n_layers] names as given, NULL-terminated */
  double  *values;          /* [n_values] */
  float    fill[3];         /* the fill used (RGB in [0,1]) */
  /* [n_images][n_layers][n_values] */
  double  *distance;
  double  *relative;
  /* [n_images][n_layers] */
  double  *norm;            /* norm of the original's output */
  /* [n_images] */
  int     *true_class;
  /* [n_images][n_values] */
  double  *probability;     /* of the true class */
  int     *rank;
} LensInvariance;

void            lens_invariance_options_init (LensInvarianceOptions *options);
/* "translate", "scale", "rotate" (FALSE for anything else). */
gboolean        lens_transform_from_string   (const char    *text,
                                              LensTransform *transform);
const char     *lens_transform_to_string     (LensTransform  transform);
/* "A:B:STEP" with STEP > 0 and A <= B (or "A" alone): A, A+STEP, ... up to
 * B (B itself included when within STEP/1e6); at most
 * LENS_INVARIANCE_MAX_VALUES values.  *values is owned. */
gboolean        lens_invariance_parse_range  (const char  *text,
                                              double     **values,
                                              int         *n_values,
                                              GError     **error);

/* The transformed copy of an image (same size); fill is RGB in [0,1].
 * NULL (with LENS_ANALYSIS_ERROR_INVALID) for a scale <= 0 or a non-finite
 * amount. */
LensImage      *lens_image_transform         (const LensImage *image,
                                              LensTransform    transform,
                                              double           amount,
                                              const float      fill[3],
                                              GError         **error);

/* images: n_images decoded images; true_class: NULL or one class per image
 * (-1: the original's top class); layers: NULL-terminated names.
 * Cancellation gives G_IO_ERROR_CANCELLED. */
LensInvariance *lens_invariance_run          (LensNet                     *net,
                                              const LensPreprocess        *pre,
                                              LensImage * const           *images,
                                              int                          n_images,
                                              const int                   *true_class,
                                              const char * const          *layers,
                                              const LensInvarianceOptions *options,
                                              GCancellable                *cancellable,
                                              GError                     **error);
void            lens_invariance_free         (LensInvariance *inv);

/* Index helpers into the result arrays. */
static inline gsize
lens_invariance_index (const LensInvariance *inv,
                       int                   image,
                       int                   layer,
                       int                   value)
{
  return ((gsize) image * inv->n_layers + layer) * inv->n_values + value;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensInvariance, lens_invariance_free)

G_END_DECLS
