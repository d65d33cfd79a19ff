/* lens-correspondence.h: do masked object parts change the features of
 * different images in the same way? (Zeiler & Fergus, section 5.1, Table 1)
 *
 *   g_autoptr(LensCorrespondenceSpec) spec = lens_correspondence_spec_load ("eyes.json", &error);
 *   ... load spec->images[i].path into images[i] ...
 *   g_autoptr(LensCorrespondence) c = lens_correspondence_run (net, &pre, spec, images, layers,
 *                                                              progress, data, cancellable,
 *                                                              &error);
 *
 * For every image i, part p and layer l, eps = x_l - x~_l, the layer's
 * output on the original minus its output with the part's boxes filled.
 * Over the unordered image pairs i < j, H_ij is the Hamming distance
 * between sign(eps_i) and sign(eps_j) (sign is -1, 0 or +1; positions whose
 * signs differ are counted).  delta = sum over pairs of H_ij (the paper
 * sums over ordered pairs, i.e. twice this); mean and std (population)
 * are over the pairs of H_ij / D, D being the layer's size.  The control
 * does the same with every box moved to a uniformly random position of
 * the same image (same size), `trials` times from a seeded generator;
 * its delta is the mean over trials and its mean/std are over all trials'
 * pairs.  The spec format is in docs/analyses.md.
 */
#pragma once

#include "lens-analysis.h"

G_BEGIN_DECLS

/* Limits of a spec; larger values are refused with LENS_ANALYSIS_ERROR_SPEC. */
#define LENS_CORRESPONDENCE_MAX_BYTES    (16 * 1024 * 1024)
#define LENS_CORRESPONDENCE_MAX_IMAGES   1000
#define LENS_CORRESPONDENCE_MAX_PARTS    64    /* per image */
#define LENS_CORRESPONDENCE_MAX_BOXES    64    /* per part */
#define LENS_CORRESPONDENCE_MAX_TRIALS   1000
#define LENS_CORRESPONDENCE_MAX_COORD    1000000
#define LENS_CORRESPONDENCE_MAX_DEPTH    16    /* JSON nesting */

typedef struct
{
  int x, y, width, height;   /* pixels of the image as loaded */
} LensCorrespondenceBox;

typedef struct
{
  char    *file;       /* as written in the spec */
  char    *path;       /* resolved against the spec's folder (load) or = file */
  /* [n_parts of the spec], in the spec's part order */
  LensCorrespondenceBox **boxes;
  int      *n_boxes;
} LensCorrespondenceImage;

typedef struct
{
  int                      n_images;
  LensCorrespondenceImage *images;
  int                      n_parts;
  char                   **parts;      /* NULL-terminated, first appearance order */
  gboolean                 fill_mean;  /* "fill": "mean" (the default) */
  float                    fill[3];    /* RGB in [0,1] otherwise */
  int                      trials;     /* random controls per part (10) */
  guint32                  seed;       /* (1) */
} LensCorrespondenceSpec;

typedef struct
{
  int      n_parts;
  int      n_layers;
  int      n_images;
  int      trials;
  char   **parts;     /* NULL-terminated */
  char   **layers;    /* NULL-terminated */
  gsize   *size;      /* [n_layers] D */
  /* [n_parts][n_layers] */
  double  *delta;
  double  *mean;
  double  *std;
  double  *random_delta;
  double  *random_mean;
  double  *random_std;
} LensCorrespondence;

/* Parses a spec from memory (need not be NUL-terminated).  Image paths are
 * kept as written (path = file). */
LensCorrespondenceSpec *lens_correspondence_spec_parse (const char  *data,
                                                        gsize        length,
                                                        GError     **error);
/* Reads a spec file; relative image paths are taken from its folder. */
LensCorrespondenceSpec *lens_correspondence_spec_load  (const char  *path,
                                                        GError     **error);
void                    lens_correspondence_spec_free  (LensCorrespondenceSpec *spec);

/* images[i] is spec->images[i] decoded; every box must lie inside it
 * (LENS_ANALYSIS_ERROR_DATA otherwise).  progress counts forward-pass
 * inputs. */
LensCorrespondence     *lens_correspondence_run        (LensNet                      *net,
                                                        const LensPreprocess         *pre,
                                                        const LensCorrespondenceSpec *spec,
                                                        LensImage * const            *images,
                                                        const char * const           *layers,
                                                        LensAnalysisProgress          progress,
                                                        gpointer                      user_data,
                                                        GCancellable                 *cancellable,
                                                        GError                      **error);
void                    lens_correspondence_free       (LensCorrespondence *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensCorrespondenceSpec, lens_correspondence_spec_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensCorrespondence, lens_correspondence_free)

G_END_DECLS
