/* test-occlude-threads.c: occlusion sweeps whose batches run side by side
 * on worker threads (lens-occlude-sweep.c).
 *
 *   threads/CASE   the sweep on 2 and 3 threads equals the same sweep on
 *                  one thread (to float rounding) and the full
 *                  recomputation, with odd position counts and odd batch
 *                  sizes (a last batch of one position), inside and
 *                  crossing the border; BLAS's thread count is restored;
 *   threads/progress  one report per batch, increasing, each a whole
 *                  number of finished positions, the last exactly 1.0;
 *   threads/cancel    a cancel from the third report stops the sweep with
 *                  G_IO_ERROR_CANCELLED and no further report; the
 *                  occluder still sweeps correctly afterwards;
 *   threads/split/CASE  single queries whose large layers are split over two
 *                  threads (lens-occlude-split.c) equal unsplit queries and
 *                  full recomputation, and BLAS's thread count is restored.
 */
#include <math.h>
#include <string.h>

#include "test-occlude-common.h"

/* threaded vs one thread: the same sums per batch, so only BLAS's blocking
 * may differ */
#define SAME_PROB_TOL     1e-6
#define SAME_FEATURE_RTOL 1e-5

typedef struct
{
  const char *name;
  gboolean    torchvision;
  int         size, stride, stride_partial;
  int         batches[2];
} ThreadCase;

static const ThreadCase thread_cases[] = {
  /* stack: 9 x 11 = 99 positions inside; batch 7 leaves a last batch of 1 */
  { "stack",        FALSE, 11, 4, 7,  { 7, 4 } },
  { "resconcat",    FALSE, 10, 3, 5,  { 7, 3 } },
  { "mobile",       FALSE,  9, 3, 6,  { 5, 2 } },
  /* the incremental first dense layer, its reordered weights shared */
  { "dense",        FALSE,  6, 3, 5,  { 7, 3 } },
  { "dense_mm",     FALSE,  6, 3, 5,  { 7, 3 } },
  { "alexnet_op11", TRUE,  64, 32, 48, { 5, 0 } },
};

static LensOccluder *
occluder_threads (Model   *m,
                  int      size,
                  int      stride,
                  gboolean partial,
                  gboolean full,
                  int      batch,
                  int      threads)
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
  o.threads = threads;
  occ = lens_occluder_new (m->net, m->input, &o, &error);
  g_assert_no_error (error);
  g_assert_nonnull (occ);
  return occ;
}

static LensOcclusionMap *
sweep (LensOccluder *occ)
{
  g_autoptr (GError) error = NULL;
  LensOcclusionMap *map = lens_occluder_sweep (occ, NULL, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (map);
  return map;
}

static void
compare_same (const char             *what,
              const LensOcclusionMap *a,
              const LensOcclusionMap *b,
              double                  fscale)
{
  double dp = 0.0, df = 0.0;

  g_assert_cmpint (a->n_y, ==, b->n_y);
  g_assert_cmpint (a->n_x, ==, b->n_x);
  for (int i = 0; i < a->n_y * a->n_x; i++)
    {
      g_assert_cmpint (a->top_class[i], ==, b->top_class[i]);
      dp = MAX (dp, fabs ((double) a->prob[i] - b->prob[i]));
      df = MAX (df, fabs ((double) a->feature[i] - b->feature[i]));
    }
  g_test_message ("%s: max |dprob| %.2e, max |dfeature| %.2e vs one thread", what, dp, df);
  if (dp > SAME_PROB_TOL)
    g_error ("%s: threaded sweep differs from one thread: |dprob| %g", what, dp);
  if (df > SAME_FEATURE_RTOL * fscale)
    g_error ("%s: threaded sweep differs from one thread: |dfeature| %g (range %g)", what, df,
             fscale);
}

static void
test_threads (gconstpointer data)
{
  const ThreadCase *c = data;
  Model m;
  int blas = lens_get_threads ();

  if (!model_load (c->name, c->torchvision, &m))
    return;
  for (int partial = 0; partial <= 1; partial++)
    {
      int stride = partial ? c->stride_partial : c->stride;
      g_autoptr (LensOccluder) full = occluder_threads (&m, c->size, stride, partial, TRUE, 0, 0);
      g_autoptr (LensOcclusionMap) mf = sweep (full);
      double fscale = feature_scale (mf, lens_occluder_get_clean (full));
      int total = mf->n_y * mf->n_x;

      g_assert_cmpint (mf->n_y, ==, expected_steps (m.H, c->size, stride, partial));
      g_assert_cmpint (mf->n_x, ==, expected_steps (m.W, c->size, stride, partial));
      for (guint k = 0; k < G_N_ELEMENTS (c->batches) && c->batches[k] > 0; k++)
        {
          int batch = c->batches[k];
          g_autoptr (LensOccluder) one = occluder_threads (&m, c->size, stride, partial, FALSE,
                                                           batch, 1);
          g_autoptr (LensOcclusionMap) m1 = sweep (one);

          /* at least two batches, or the threads have nothing to share */
          g_assert_cmpint (total, >, batch);
          for (int t = 2; t <= 3; t++)
            {
              g_autoptr (LensOccluder) occ = occluder_threads (&m, c->size, stride, partial,
                                                               FALSE, batch, t);
              g_autoptr (LensOcclusionMap) mt = sweep (occ);
              g_autofree char *what = g_strdup_printf ("%s %s S=%d T=%d batch %d, %d threads "
                                                       "(%d positions)", c->name,
                                                       partial ? "partial" : "inside", c->size,
                                                       stride, batch, t, total);

              g_assert_cmpint (lens_get_threads (), ==, blas);
              compare_same (what, mt, m1, fscale);
              compare_maps (what, mt, mf, fscale);
            }
        }
    }
  model_clear (&m);
}

typedef struct
{
  GArray       *fractions;
  GCancellable *cancel;
  guint         cancel_at;   /* cancel from this report (1-based; 0: never) */
  GThread      *caller;
} Reports;

static void
on_report (double   fraction,
           gpointer user_data)
{
  Reports *r = user_data;

  /* reports come from the thread that called the sweep */
  g_assert_true (g_thread_self () == r->caller);
  g_array_append_val (r->fractions, fraction);
  if (r->cancel != NULL && r->fractions->len == r->cancel_at)
    g_cancellable_cancel (r->cancel);
}

static void
test_progress (void)
{
  Model m;

  if (!model_load ("stack", FALSE, &m))
    return;
  for (int t = 2; t <= 3; t++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (LensOccluder) occ = occluder_threads (&m, 11, 4, FALSE, FALSE, 4, t);
      g_autoptr (LensOcclusionMap) map = NULL;
      Reports r = { g_array_new (FALSE, FALSE, sizeof (double)), NULL, 0, g_thread_self () };
      int total;

      map = lens_occluder_sweep (occ, on_report, &r, NULL, &error);
      g_assert_no_error (error);
      total = map->n_y * map->n_x;
      g_assert_cmpint (total, ==, 9 * 11);
      /* 99 positions in batches of 4: 24 full batches and one of 3 */
      g_assert_cmpuint (r.fractions->len, ==, 25);
      for (guint i = 0; i < r.fractions->len; i++)
        {
          double f = g_array_index (r.fractions, double, i), n = f * total;
          g_assert_cmpfloat (f, >, 0.0);
          g_assert_cmpfloat (f, <=, 1.0);
          g_assert_cmpfloat (fabs (n - round (n)), <, 1e-9);
          if (i > 0)
            g_assert_cmpfloat (f, >, g_array_index (r.fractions, double, i - 1));
        }
      g_assert_cmpfloat (g_array_index (r.fractions, double, r.fractions->len - 1), ==, 1.0);
      g_array_unref (r.fractions);
    }
  model_clear (&m);
}

static void
test_cancel (void)
{
  Model m;
  g_autoptr (LensOccluder) occ = NULL, ref = NULL;
  g_autoptr (LensOcclusionMap) mref = NULL;
  int blas = lens_get_threads ();

  if (!model_load ("stack", FALSE, &m))
    return;
  occ = occluder_threads (&m, 11, 4, FALSE, FALSE, 4, 2);
  ref = occluder_threads (&m, 11, 4, FALSE, FALSE, 4, 1);
  mref = sweep (ref);

  for (guint at = 1; at <= 3; at += 2)
    {
      g_autoptr (GCancellable) cancel = g_cancellable_new ();
      g_autoptr (GError) error = NULL;
      Reports r = { g_array_new (FALSE, FALSE, sizeof (double)), cancel, at, g_thread_self () };
      LensOcclusionMap *map;

      map = lens_occluder_sweep (occ, on_report, &r, cancel, &error);
      g_assert_null (map);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpuint (r.fractions->len, ==, at);
      g_assert_cmpint (lens_get_threads (), ==, blas);
      g_array_unref (r.fractions);
    }

  /* cancelled from the last report: nothing was left, the map is whole */
  {
    g_autoptr (GCancellable) cancel = g_cancellable_new ();
    g_autoptr (GError) error = NULL;
    Reports r = { g_array_new (FALSE, FALSE, sizeof (double)), cancel, 25, g_thread_self () };
    g_autoptr (LensOcclusionMap) map = lens_occluder_sweep (occ, on_report, &r, cancel, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (r.fractions->len, ==, 25);
    compare_same ("cancelled at the end", map, mref,
                  feature_scale (mref, lens_occluder_get_clean (ref)));
    g_array_unref (r.fractions);
  }

  /* the occluder still works afterwards, and gives the same map */
  {
    g_autoptr (LensOcclusionMap) map = sweep (occ);
    compare_same ("after cancelling", map, mref,
                  feature_scale (mref, lens_occluder_get_clean (ref)));
  }
  model_clear (&m);
}

static LensOccluder *
occluder_split (Model   *m,
                int      size,
                gboolean full,
                int      split)
{
  g_autoptr (GError) error = NULL;
  LensOccludeOptions o;
  LensOccluder *occ;

  lens_occlude_options_init (&o);
  o.size = size;
  o.full = full;
  o.split = split;
  occ = lens_occluder_new (m->net, m->input, &o, &error);
  g_assert_no_error (error);
  return occ;
}

static void
test_split (gconstpointer data)
{
  const char *name = data;
  Model m;
  g_autoptr (LensOccluder) split = NULL, unsplit = NULL, full = NULL;
  int S;

  if (!model_load (name, TRUE, &m))
    return;
  S = m.W / 7;
  split = occluder_split (&m, S, FALSE, 0);
  unsplit = occluder_split (&m, S, FALSE, -1);
  full = occluder_split (&m, S, TRUE, 0);
  {
    /* corners, the middle, and squares crossing the right and bottom borders */
    const int pos[][2] = { { 0, 0 }, { m.W - S, m.H - S }, { m.W / 2, m.H / 3 },
                           { m.W - S / 2, 5 }, { 17, m.H - S / 3 } };
    LensOcclusionPoint f[G_N_ELEMENTS (pos)];
    double fs = MAX (fabs (lens_occluder_get_clean (full)->feature), 1e-3);
    float lo = G_MAXFLOAT, hi = -G_MAXFLOAT;
    double ptol;

    for (guint i = 0; i < G_N_ELEMENTS (pos); i++)
      {
        g_autoptr (GError) error = NULL;
        g_assert_true (lens_occluder_query (full, pos[i][0], pos[i][1], &f[i], &error));
        g_assert_no_error (error);
        lo = MIN (lo, f[i].prob);
        hi = MAX (hi, f[i].prob);
      }
    /* random-weight nets move the probability by little: as in compare_maps,
     * the error must also stay below 1% of the occlusion effect */
    ptol = MIN (PROB_TOL, 1e-2 * ((double) hi - lo) + 2e-7);
    for (guint i = 0; i < G_N_ELEMENTS (pos); i++)
      {
        g_autoptr (GError) error = NULL;
        LensOcclusionPoint a, b;

        g_assert_true (lens_occluder_query (split, pos[i][0], pos[i][1], &a, &error));
        g_assert_no_error (error);
        g_assert_cmpint (lens_get_threads (), ==, 2);
        g_assert_true (lens_occluder_query (unsplit, pos[i][0], pos[i][1], &b, &error));
        g_assert_no_error (error);
        g_test_message ("%s (%d, %d): p %.7g split, %.7g unsplit, %.7g full (tolerance %.2g); "
                        "feature %.7g, %.7g, %.7g", name, pos[i][0], pos[i][1], a.prob, b.prob,
                        f[i].prob, ptol, a.feature, b.feature, f[i].feature);
        g_assert_cmpfloat (fabs ((double) a.prob - b.prob), <=, MIN (SAME_PROB_TOL, ptol));
        g_assert_cmpfloat (fabs ((double) a.prob - f[i].prob), <, ptol);
        g_assert_cmpfloat (fabs ((double) a.feature - b.feature), <=, SAME_FEATURE_RTOL * fs);
        g_assert_cmpfloat (fabs ((double) a.feature - f[i].feature), <, FEATURE_RTOL * fs);
        for (int k = 0; k < LENS_OCCLUDE_TOP; k++)
          {
            g_assert_cmpint (a.top_class[k], ==, f[i].top_class[k]);
            g_assert_cmpfloat (fabs ((double) a.top_prob[k] - f[i].top_prob[k]), <, ptol);
          }
      }
  }
  model_clear (&m);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  lens_set_threads (2);

  for (guint i = 0; i < G_N_ELEMENTS (thread_cases); i++)
    {
      g_autofree char *s = g_strdup_printf ("/occlude/threads/%s", thread_cases[i].name);
      g_test_add_data_func (s, &thread_cases[i], test_threads);
    }
  g_test_add_func ("/occlude/threads/progress", test_progress);
  g_test_add_func ("/occlude/threads/cancel", test_cancel);
  g_test_add_data_func ("/occlude/threads/split/alexnet_op11", "alexnet_op11", test_split);
  g_test_add_data_func ("/occlude/threads/split/resnet18_op13_bn", "resnet18_op13_bn", test_split);
  return g_test_run ();
}
