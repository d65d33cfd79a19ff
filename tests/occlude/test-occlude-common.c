/* test-occlude-common.c: models, occluders and map comparisons shared by
 * the occlusion tests (test-occlude.c, test-occlude-threads.c). */
#include "test-occlude-common.h"

#include <math.h>
#include <string.h>

#include "lens-npy.h"

void
model_clear (Model *m)
{
  g_clear_pointer (&m->net, lens_net_unref);
  g_clear_pointer (&m->input, lens_tensor_free);
}

char *
small_path (const char *name,
            const char *file)
{
  return g_build_filename (OCC_MODELS_DIR, name, file, NULL);
}

/* Loads a case's model and input; FALSE (test skipped) when the fixtures
 * were not generated. */
gboolean
model_load (const char *name,
            gboolean    torchvision,
            Model      *m)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *onnx = NULL;
  g_autofree char *input = NULL;
  const LensShape *s;

  memset (m, 0, sizeof *m);
  if (torchvision)
    {
      if (TORCHVISION_DIR[0] == '\0')
        {
          g_test_skip ("torchvision fixtures unavailable (need /usr/bin/python3 with torch)");
          return FALSE;
        }
      onnx = g_build_filename (TORCHVISION_DIR, name, "model.onnx", NULL);
      input = g_build_filename (TORCHVISION_DIR, name, "test_data_set_0", "input_0.pb", NULL);
    }
  else
    {
      onnx = small_path (name, "model.onnx");
      input = small_path (name, "input.npy");
    }
  if (!g_file_test (onnx, G_FILE_TEST_EXISTS))
    {
      g_autofree char *msg = g_strdup_printf ("%s not generated", onnx);
      g_test_skip (msg);
      return FALSE;
    }
  m->net = lens_net_load_onnx (onnx, NULL, &error);
  g_assert_no_error (error);
  m->input = torchvision ? lens_onnx_load_tensor_file (input, NULL, &error)
                         : lens_npy_load (input, &error);
  g_assert_no_error (error);
  s = &m->input->shape;
  g_assert_cmpint (s->ndim, ==, 4);
  g_assert_cmpint (s->dims[0], ==, 1);
  m->C = (int) s->dims[1];
  m->H = (int) s->dims[2];
  m->W = (int) s->dims[3];
  return TRUE;
}

LensOccluder *
occluder_new (Model *m,
              int    size,
              int    stride,
              gboolean partial,
              gboolean full,
              int    batch)
{
  g_autoptr (GError) error = NULL;
  LensOccludeOptions o;
  LensOccluder *occ;

  lens_occlude_options_init (&o);
  o.size = size;
  o.stride = stride;
  o.partial = partial;
  o.full = full;
  o.batch = batch;
  occ = lens_occluder_new (m->net, m->input, &o, &error);
  g_assert_no_error (error);
  g_assert_nonnull (occ);
  return occ;
}

/* Expected grid, counted here: corners 0, T, 2T, ... while the square fits
 * (or, with partial, while the corner is inside the image). */
int
expected_steps (int extent,
                int size,
                int stride,
                gboolean partial)
{
  int n = 0;

  for (int p = 0; partial ? p < extent : p + size <= extent; p += stride)
    n++;
  return n;
}

double
feature_scale (const LensOcclusionMap *map,
               const LensOcclusionPoint *clean)
{
  float lo = clean->feature, hi = clean->feature;

  for (int i = 0; i < map->n_y * map->n_x; i++)
    {
      lo = MIN (lo, map->feature[i]);
      hi = MAX (hi, map->feature[i]);
    }
  /* a map that does not vary (the tracked layer out of reach) is compared
   * against the feature's own magnitude */
  return MAX ((double) hi - lo, 1e-3 * fabs (clean->feature) + 1e-6);
}

/* Random-weight ImageNet nets give nearly uniform probabilities (about
 * 1e-3) that a square changes by 1e-6 or so: there an absolute 1e-5 says
 * nothing.  So the difference must also stay below 1% of the occlusion
 * effect (the spread of b's probabilities), plus float32 rounding. */
double
prob_tolerance (const LensOcclusionMap *b)
{
  float lo = b->prob[0], hi = b->prob[0];

  for (int i = 1; i < b->n_y * b->n_x; i++)
    {
      lo = MIN (lo, b->prob[i]);
      hi = MAX (hi, b->prob[i]);
    }
  return MIN (PROB_TOL, 1e-2 * ((double) hi - lo) + 2e-7);
}

void
compare_maps (const char             *what,
              const LensOcclusionMap *a,
              const LensOcclusionMap *b,
              double                  fscale)
{
  double dp = 0.0, df = 0.0, ptol = prob_tolerance (b);

  g_assert_cmpint (a->n_y, ==, b->n_y);
  g_assert_cmpint (a->n_x, ==, b->n_x);
  for (int i = 0; i < a->n_y; i++)
    g_assert_cmpint (a->ys[i], ==, b->ys[i]);
  for (int i = 0; i < a->n_x; i++)
    g_assert_cmpint (a->xs[i], ==, b->xs[i]);
  for (int i = 0; i < a->n_y * a->n_x; i++)
    {
      dp = MAX (dp, fabs ((double) a->prob[i] - b->prob[i]));
      df = MAX (df, fabs ((double) a->feature[i] - b->feature[i]));
      if (a->top_class[i] != b->top_class[i])
        g_error ("%s: position %d: top class %d vs %d (p %g vs %g)", what, i,
                 a->top_class[i], b->top_class[i], a->top_prob[i], b->top_prob[i]);
    }
  g_test_message ("%s: %d x %d positions, max |dprob| %.2e (tolerance %.2e), "
                  "max |dfeature| %.2e (feature range %.3g)", what, a->n_y, a->n_x, dp, ptol,
                  df, fscale);
  if (dp >= ptol)
    g_error ("%s: max |dprob| %g >= %g", what, dp, ptol);
  if (df >= FEATURE_RTOL * fscale)
    g_error ("%s: max |dfeature| %g >= %g x range %g", what, df, FEATURE_RTOL, fscale);
}
