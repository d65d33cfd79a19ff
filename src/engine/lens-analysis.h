/* lens-analysis.h: what the dataset analyses share (invariance,
 * correspondence, linear probes)
 *
 *   g_autofree int *values = lens_analysis_resolve_layers (net, names, &n, &error);
 *   lens_analysis_probabilities (logits, n_classes, p);
 *
 * Layers are named as everywhere else: a layer (node) name or the name of
 * its output value, as `convlens-cli info` lists them.
 */
#pragma once

#include <gio/gio.h>

#include "lens-image.h"
#include "lens-net.h"

G_BEGIN_DECLS

#define LENS_ANALYSIS_ERROR (lens_analysis_error_quark ())

typedef enum
{
  LENS_ANALYSIS_ERROR_LAYER,    /* no such layer */
  LENS_ANALYSIS_ERROR_INPUT,    /* the model does not take an image, or the
                                 * preprocessing does not fit it */
  LENS_ANALYSIS_ERROR_INVALID,  /* a bad option or argument value */
  LENS_ANALYSIS_ERROR_SPEC,     /* a malformed correspondence spec */
  LENS_ANALYSIS_ERROR_DATA,     /* an image, box or label that does not fit */
} LensAnalysisError;

/* Called after every batch, on the computing thread; done <= total. */
typedef void (*LensAnalysisProgress) (gint64   done,
                                      gint64   total,
                                      gpointer user_data);

GQuark   lens_analysis_error_quark    (void);

/* The output value of each named layer (NULL-terminated names); *n_layers
 * gets the count.  Owned array, NULL with LENS_ANALYSIS_ERROR_LAYER for an
 * unknown name or an empty list. */
int     *lens_analysis_resolve_layers (LensNet            *net,
                                       const char * const *names,
                                       guint              *n_layers,
                                       GError            **error);
/* Elements per batch item of a value. */
gsize    lens_analysis_value_size     (LensNet *net,
                                       int      value);
/* Checks that the net takes [N,C,H,W] with the sizes of pre. */
gboolean lens_analysis_check_input    (LensNet              *net,
                                       const LensPreprocess *pre,
                                       GError              **error);
/* A probability distribution from an output vector: the vector itself when
 * it already is one (every entry in [0,1], summing to 1 within 1e-3: the
 * model ends in Softmax), else its softmax (in double, max-shifted). */
void     lens_analysis_probabilities  (const float *x,
                                       gsize        n,
                                       double      *p);
/* 1 + the number of classes more probable than cls (ties: lower index
 * first, as a stable descending sort ranks them). */
int      lens_analysis_rank           (const double *p,
                                       gsize         n,
                                       int           cls);
/* The fill colour that becomes zero after preprocessing: the profile's
 * mean in [0,1] pixel units (gray for one channel), clamped to [0,1]. */
void     lens_analysis_mean_fill      (const LensPreprocess *pre,
                                       float                 rgb[3]);
/* Preprocesses image into item b of the trace's input. */
gboolean lens_analysis_set_item       (LensTrace            *trace,
                                       int                   b,
                                       const LensImage      *image,
                                       const LensPreprocess *pre,
                                       GError              **error);

G_END_DECLS
