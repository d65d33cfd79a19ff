/* test-occlude-common.h: what the occlusion tests share */
#pragma once

#include <gio/gio.h>

#include "lens-net.h"
#include "lens-occlude.h"

#define PROB_TOL      1e-5
#define FEATURE_RTOL  1e-4
#define TORCH_TOL     1e-4

typedef struct
{
  LensNet    *net;
  LensTensor *input;
  int         C, H, W;
} Model;

void          model_clear    (Model *m);
char         *small_path     (const char *name,
                              const char *file);
/* Loads a case's model and input; FALSE (test skipped) when the fixtures
 * were not generated. */
gboolean      model_load     (const char *name,
                              gboolean    torchvision,
                              Model      *m);
LensOccluder *occluder_new   (Model   *m,
                              int      size,
                              int      stride,
                              gboolean partial,
                              gboolean full,
                              int      batch);
/* Expected grid, counted here (not by the engine). */
int           expected_steps (int      extent,
                              int      size,
                              int      stride,
                              gboolean partial);
double        feature_scale  (const LensOcclusionMap   *map,
                              const LensOcclusionPoint *clean);
double        prob_tolerance (const LensOcclusionMap *b);
/* Same grid and top classes, probabilities and features within tolerance
 * (g_error otherwise). */
void          compare_maps   (const char             *what,
                              const LensOcclusionMap *a,
                              const LensOcclusionMap *b,
                              double                  fscale);
