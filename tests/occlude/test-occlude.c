/* test-occlude.c: occlusion sweeps and single-position queries (issue 4).
 *
 * For every model (small nets from make-occlude-models.py, and the
 * torchvision exports of tests/models):
 *   sweep/CASE    the incremental sweep equals the full-recomputation sweep
 *                 (|dprob| < 1e-5, same top class, feature within 1e-4 of
 *                 the feature's range), also with the square crossing the
 *                 border and, for the small nets, with odd batch sizes;
 *   layers/CASE   the same with every feature-map layer as the tracked one
 *                 (small nets);
 *   query/CASE    single queries (corners, middle, border, outside) equal a
 *                 plain forward pass of an input that this file occludes
 *                 itself, and the sweep at the same positions;
 *   pytorch/CASE  the occluded probabilities and tracked feature of a few
 *                 positions equal PyTorch's (float64, occluded by PyTorch);
 * plus argument errors, cancellation and progress.
 */
#include <math.h>
#include <string.h>

#include <gio/gio.h>

#include "lens-npy.h"
#include "test-occlude-common.h"

typedef struct
{
  const char *name;
  gboolean    torchvision;  /* in TORCHVISION_DIR (input_0.pb), else OCC_MODELS_DIR */
  int         size, stride; /* the sweep (stride 0: no sweep of inside squares only) */
  int         stride_partial;
} Case;

static const Case cases[] = {
  { "stack",                     FALSE, 11, 4, 7 },
  { "resconcat",                 FALSE, 10, 3, 5 },
  { "mobile",                    FALSE,  9, 3, 6 },
  /* Flatten + Gemm (transB=1), Gemm transB=0, MatMul, Reshape + Gemm */
  { "dense",                     FALSE,  6, 3, 5 },
  { "dense_t0",                  FALSE,  6, 3, 5 },
  { "dense_mm",                  FALSE,  6, 3, 5 },
  { "dense_reshape",             FALSE,  6, 3, 5 },
  /* the big nets: one coarse partial grid (the last row and column cross
   * the border), to stay within a few minutes on two busy cores */
  { "alexnet_op11",              TRUE,  64, 0, 64 },
  { "resnet18_op13_bn",          TRUE,  64, 0, 64 },
  { "googlenet_op11",            TRUE,  64, 0, 64 },
  { "mobilenet_v2_op11_bn",      TRUE,  64, 0, 64 },
  { "squeezenet1_1_op11_nofold", TRUE,  64, 0, 64 },
};


/* ---- sweep: incremental == full ------------------------------------------ */

static void
test_sweep (gconstpointer data)
{
  const Case *c = data;
  Model m;

  if (!model_load (c->name, c->torchvision, &m))
    return;

  for (int partial = 0; partial <= 1; partial++)
    {
      int stride = partial ? c->stride_partial : c->stride;
      g_autoptr (GError) error = NULL;
      g_autoptr (LensOccluder) inc = NULL, full = NULL;
      g_autoptr (LensOcclusionMap) mi = NULL, mf = NULL;
      g_autofree char *what = g_strdup_printf ("%s %s S=%d T=%d", c->name,
                                               partial ? "partial" : "inside", c->size, stride);
      float pmin = G_MAXFLOAT, pmax = -G_MAXFLOAT;

      if (stride == 0)
        continue;
      inc = occluder_new (&m, c->size, stride, partial, FALSE, 0);
      full = occluder_new (&m, c->size, stride, partial, TRUE, 0);
      mi = lens_occluder_sweep (inc, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      mf = lens_occluder_sweep (full, NULL, NULL, NULL, &error);
      g_assert_no_error (error);

      g_assert_cmpint (lens_occluder_get_target_class (inc), ==,
                       lens_occluder_get_target_class (full));
      g_assert_cmpint (lens_occluder_get_layer_value (inc), ==,
                       lens_occluder_get_layer_value (full));
      g_assert_cmpint (lens_occluder_get_channel (inc), ==, lens_occluder_get_channel (full));
      g_assert_cmpint (mi->n_y, ==, expected_steps (m.H, c->size, stride, partial));
      g_assert_cmpint (mi->n_x, ==, expected_steps (m.W, c->size, stride, partial));
      for (int i = 0; i < mi->n_x; i++)
        g_assert_cmpint (mi->xs[i], ==, i * stride);
      for (int i = 0; i < mi->n_y; i++)
        g_assert_cmpint (mi->ys[i], ==, i * stride);
      g_assert_cmpint (mi->size, ==, c->size);
      g_assert_cmpint (mi->stride, ==, stride);

      compare_maps (what, mi, mf, feature_scale (mf, lens_occluder_get_clean (full)));

      /* the comparison means something only if occlusion changes the output */
      for (int i = 0; i < mf->n_y * mf->n_x; i++)
        {
          pmin = MIN (pmin, mf->prob[i]);
          pmax = MAX (pmax, mf->prob[i]);
        }
      g_test_message ("%s: target %d, clean p %.5f, map p %.5f .. %.5f", what,
                      lens_occluder_get_target_class (full),
                      lens_occluder_get_clean (full)->prob, pmin, pmax);
      g_assert_cmpfloat (pmax - pmin, >, 1e-4 * lens_occluder_get_clean (full)->prob);

      /* batching must not matter: odd batch sizes put positions with
       * different boxes together */
      if (!c->torchvision)
        for (int b = 1; b <= 7; b += 6)
          {
            g_autoptr (LensOccluder) ob = occluder_new (&m, c->size, stride, partial, FALSE, b);
            g_autoptr (LensOcclusionMap) mb = lens_occluder_sweep (ob, NULL, NULL, NULL, &error);
            g_autofree char *w = g_strdup_printf ("%s batch %d", what, b);

            g_assert_no_error (error);
            compare_maps (w, mb, mf, feature_scale (mf, lens_occluder_get_clean (full)));
          }
    }
  model_clear (&m);
}

/* ---- every feature-map layer as the tracked one ----------------------------- */

static void
test_layers (gconstpointer data)
{
  const char *name = data;
  Model m;
  int n_tracked = 0;

  if (!model_load (name, FALSE, &m))
    return;
  for (guint l = 0; l < lens_net_get_n_layers (m.net); l++)
    {
      int v = lens_net_layer_get_output (m.net, l);
      const LensShape *shape = lens_net_value_get_shape (m.net, v);
      g_autoptr (GError) error = NULL;
      g_autoptr (LensOccluder) inc = NULL, full = NULL;
      g_autoptr (LensOcclusionMap) mi = NULL, mf = NULL;
      g_autofree char *what = NULL;
      LensOccludeOptions o;
      int channel;

      if (shape->ndim != 4)
        continue;
      /* a channel other than 0 and the default, to catch indexing slips */
      channel = (int) (shape->dims[1] - 1) / 2;
      lens_occlude_options_init (&o);
      o.size = 9;
      o.stride = 7;
      o.partial = TRUE;
      o.layer_value = v;
      o.channel = channel;
      inc = lens_occluder_new (m.net, m.input, &o, &error);
      g_assert_no_error (error);
      o.full = TRUE;
      full = lens_occluder_new (m.net, m.input, &o, &error);
      g_assert_no_error (error);
      g_assert_cmpint (lens_occluder_get_layer_value (inc), ==, v);
      g_assert_cmpint (lens_occluder_get_channel (inc), ==, channel);
      mi = lens_occluder_sweep (inc, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      mf = lens_occluder_sweep (full, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      what = g_strdup_printf ("%s layer %s (%s) channel %d", name,
                              lens_net_layer_get_name (m.net, l),
                              lens_net_layer_get_op (m.net, l), channel);
      compare_maps (what, mi, mf, feature_scale (mf, lens_occluder_get_clean (full)));
      n_tracked++;
    }
  g_assert_cmpint (n_tracked, >, 5);
  model_clear (&m);
}

/* ---- query: incremental == a plain forward pass of an occluded input ----- */

typedef struct
{
  double prob[LENS_OCCLUDE_TOP];
  int    top[LENS_OCCLUDE_TOP];
  double target_prob;
  double feature;
} Direct;

/* Occludes a copy of the input here (square clipped to the image, each
 * channel set to fill) and runs an ordinary trace. */
static void
direct (Model       *m,
        int          x,
        int          y,
        int          size,
        const float *fill,
        int          target,
        int          layer_value,
        int          channel,
        Direct      *out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LensTensor) in = lens_tensor_dup (m->input, &error);
  g_autoptr (LensTrace) trace = lens_trace_new (m->net, 1, &error);
  const LensTensor *logits;
  const float *z;
  gsize n;
  g_autofree double *p = NULL;
  double mx = -INFINITY, sum = 0.0;
  float *d;

  g_assert_no_error (error);
  d = in->data;
  for (int c = 0; c < m->C; c++)
    for (int r = MAX (y, 0); r < MIN (y + size, m->H); r++)
      for (int q = MAX (x, 0); q < MIN (x + size, m->W); q++)
        d[((gsize) c * m->H + r) * m->W + q] = fill[MIN (c, 2)];
  g_assert_true (lens_trace_set_input (trace, in, &error));
  g_assert_true (lens_trace_run (trace, NULL, &error));
  g_assert_no_error (error);

  logits = lens_trace_get_output (trace);
  z = logits->data;
  n = lens_tensor_numel (logits);
  p = g_new (double, n);
  for (gsize i = 0; i < n; i++)
    mx = MAX (mx, z[i]);
  for (gsize i = 0; i < n; i++)
    sum += p[i] = exp ((double) z[i] - mx);
  for (gsize i = 0; i < n; i++)
    p[i] /= sum;
  out->target_prob = p[target];
  for (int k = 0; k < LENS_OCCLUDE_TOP; k++)
    {
      int best = -1;
      for (gsize i = 0; i < n; i++)
        {
          gboolean taken = FALSE;
          for (int j = 0; j < k; j++)
            taken |= out->top[j] == (int) i;
          if (!taken && (best < 0 || p[i] > p[best]))
            best = (int) i;
        }
      out->top[k] = best;
      out->prob[k] = best >= 0 ? p[best] : 0.0;
    }
  out->feature = 0.0;
  if (layer_value >= 0)
    {
      const LensTensor *a = lens_trace_get_value (trace, layer_value);
      gsize plane = (gsize) a->shape.dims[2] * a->shape.dims[3];
      const float *v = (const float *) a->data + (gsize) channel * plane;
      for (gsize i = 0; i < plane; i++)
        out->feature += v[i];
    }
}

static void
compare_point (const char               *what,
               const LensOcclusionPoint *pt,
               const Direct             *d,
               double                    fscale)
{
  if (fabs (pt->prob - d->target_prob) >= PROB_TOL)
    g_error ("%s: target prob %.8f, plain forward %.8f", what, pt->prob, d->target_prob);
  for (int k = 0; k < LENS_OCCLUDE_TOP; k++)
    {
      if (fabs (pt->top_prob[k] - d->prob[k]) >= PROB_TOL)
        g_error ("%s: top-%d prob %.8f, plain forward %.8f", what, k + 1, pt->top_prob[k],
                 d->prob[k]);
      /* classes may swap only where their probabilities tie */
      if (pt->top_class[k] != d->top[k] && fabs (d->prob[k] - d->prob[MIN (k + 1, 4)]) > 1e-6
          && (k == 0 || fabs (d->prob[k] - d->prob[k - 1]) > 1e-6))
        g_error ("%s: top-%d class %d, plain forward %d", what, k + 1, pt->top_class[k],
                 d->top[k]);
    }
  if (fabs (pt->feature - d->feature) >= FEATURE_RTOL * fscale)
    g_error ("%s: feature %.6g, plain forward %.6g (scale %.3g)", what, pt->feature,
             d->feature, fscale);
}

static void
test_query (gconstpointer data)
{
  const Case *c = data;
  const float fills[2][3] = { { 0.0f, 0.0f, 0.0f }, { 0.5f, -1.0f, 0.25f } };
  Model m;

  if (!model_load (c->name, c->torchvision, &m))
    return;

  /* the big nets: the non-zero fill only */
  for (int f = c->torchvision ? 1 : 0; f < 2; f++)
    {
      g_autoptr (GError) error = NULL;
      LensOccludeOptions o;
      g_autoptr (LensOccluder) occ = NULL;
      g_autoptr (LensOcclusionMap) map = NULL;
      int S = c->size, H = m.H, W = m.W;
      /* corners, middle, odd offsets, squares crossing every border, one
       * partly outside on the top-left */
      const int pos[][2] = {
        { 0, 0 }, { W - S, 0 }, { 0, H - S }, { W - S, H - S }, { (W - S) / 2, (H - S) / 3 },
        { 1, 3 }, { W - S / 2, H / 2 }, { W / 3, H - S / 2 }, { W - 2, H - 2 }, { -S / 2, -S / 3 },
      };
      /* for the big nets: a corner, the middle, odd offsets, both borders, outside */
      const int big[] = { 0, 4, 5, 6, 7, 9 };
      guint n_pos = c->torchvision ? G_N_ELEMENTS (big) : G_N_ELEMENTS (pos);
      double fscale;

      lens_occlude_options_init (&o);
      o.size = S;
      o.stride = c->stride_partial;
      o.partial = TRUE;
      memcpy (o.fill, fills[f], sizeof o.fill);
      occ = lens_occluder_new (m.net, m.input, &o, &error);
      g_assert_no_error (error);
      map = lens_occluder_sweep (occ, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      fscale = feature_scale (map, lens_occluder_get_clean (occ));

      for (guint j = 0; j < n_pos; j++)
        {
          guint i = c->torchvision ? (guint) big[j] : j;
          LensOcclusionPoint pt;
          Direct d;
          g_autofree char *what = g_strdup_printf ("%s query (%d,%d) fill %d", c->name,
                                                   pos[i][0], pos[i][1], f);

          g_assert_true (lens_occluder_query (occ, pos[i][0], pos[i][1], &pt, &error));
          g_assert_no_error (error);
          direct (&m, pos[i][0], pos[i][1], S, fills[f], lens_occluder_get_target_class (occ),
                  lens_occluder_get_layer_value (occ), lens_occluder_get_channel (occ), &d);
          compare_point (what, &pt, &d, fscale);
        }

      /* a query at a grid position gives the sweep's numbers */
      for (int iy = 0; iy < map->n_y; iy += MAX (1, map->n_y / 2))
        for (int ix = 0; ix < map->n_x; ix += MAX (1, map->n_x / 2))
          {
            LensOcclusionPoint pt;
            int k = iy * map->n_x + ix;

            g_assert_true (lens_occluder_query (occ, map->xs[ix], map->ys[iy], &pt, &error));
            g_assert_no_error (error);
            g_assert_cmpfloat (fabs (pt.prob - map->prob[k]), <, PROB_TOL);
            g_assert_cmpint (pt.top_class[0], ==, map->top_class[k]);
            g_assert_cmpfloat (fabs (pt.top_prob[0] - map->top_prob[k]), <, PROB_TOL);
            g_assert_cmpfloat (fabs (pt.feature - map->feature[k]), <, FEATURE_RTOL * fscale);
          }
    }
  model_clear (&m);
}

/* ---- against PyTorch ------------------------------------------------------ */

static LensTensor *
load_ref (const char *name,
          const char *file)
{
  g_autofree char *path = small_path (name, file);
  g_autoptr (GError) error = NULL;
  LensTensor *t = lens_npy_load (path, &error);

  g_assert_no_error (error);
  return t;
}

static void
test_pytorch (gconstpointer data)
{
  const char *name = data;
  g_autofree char *meta_path = small_path (name, "ref-meta.npy");
  g_autoptr (LensTensor) meta = NULL, pos = NULL, prob = NULL, feat = NULL;
  g_autoptr (LensOccluder) occ = NULL;
  g_autoptr (GError) error = NULL;
  const float *mv;
  LensOccludeOptions o;
  gsize n, K;
  Model m;

  if (!model_load (name, FALSE, &m))
    return;
  if (!g_file_test (meta_path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no PyTorch reference");
      model_clear (&m);
      return;
    }
  meta = load_ref (name, "ref-meta.npy");
  pos = load_ref (name, "ref-pos.npy");
  prob = load_ref (name, "ref-prob.npy");
  feat = load_ref (name, "ref-feature.npy");
  mv = meta->data;
  n = (gsize) pos->shape.dims[0];
  K = (gsize) prob->shape.dims[1];
  g_assert_cmpint (prob->shape.dims[0], ==, n);

  lens_occlude_options_init (&o);
  o.size = (int) mv[0];
  o.fill[0] = mv[1];
  o.fill[1] = mv[2];
  o.fill[2] = mv[3];
  o.partial = TRUE;
  occ = lens_occluder_new (m.net, m.input, &o, &error);
  g_assert_no_error (error);
  /* the documented defaults, chosen by PyTorch independently */
  g_assert_cmpint (lens_occluder_get_target_class (occ), ==, (int) mv[4]);
  g_assert_cmpint (lens_occluder_get_channel (occ), ==, (int) mv[5]);

  for (gsize i = 0; i < n; i++)
    {
      const float *pp = (const float *) prob->data + i * K;
      const float *xy = (const float *) pos->data + i * 2;
      double ref_f = ((const float *) feat->data)[i];
      LensOcclusionPoint pt;
      int order[LENS_OCCLUDE_TOP];

      g_assert_true (lens_occluder_query (occ, (int) xy[0], (int) xy[1], &pt, &error));
      g_assert_no_error (error);
      g_test_message ("%s (%g,%g): p %.6f torch %.6f; feature %.5f torch %.5f", name, xy[0],
                      xy[1], pt.prob, pp[(int) mv[4]], pt.feature, ref_f);
      g_assert_cmpfloat (fabs (pt.prob - pp[(int) mv[4]]), <, TORCH_TOL);
      for (int k = 0; k < LENS_OCCLUDE_TOP && (gsize) k < K; k++)
        {
          order[k] = -1;
          for (gsize j = 0; j < K; j++)
            {
              gboolean taken = FALSE;
              for (int q = 0; q < k; q++)
                taken |= order[q] == (int) j;
              if (!taken && (order[k] < 0 || pp[j] > pp[order[k]]))
                order[k] = (int) j;
            }
          g_assert_cmpint (pt.top_class[k], ==, order[k]);
          g_assert_cmpfloat (fabs (pt.top_prob[k] - pp[order[k]]), <, TORCH_TOL);
        }
      g_assert_cmpfloat (fabs (pt.feature - ref_f), <, TORCH_TOL * MAX (1.0, fabs (ref_f)));
    }
  model_clear (&m);
}

/* ---- the first dense layer, updated from its changed inputs --------------- */

/* With the incremental dense update forced on (every batch, whatever the
 * cost model says) and forced off, sweeps in odd batch sizes equal full
 * recomputation and queries equal plain forward passes, for squares from
 * small (a few changed inputs of the dense layer) to ones whose box covers
 * the whole last map or the whole image (the layer is then recomputed). */
static void
test_dense (gconstpointer data)
{
  const char *name = data;
  const float fill[3] = { 0.6f, -0.4f, 0.2f };
  const int sizes[] = { 3, 6, 11, 18, 30 };
  Model m;

  if (!model_load (name, FALSE, &m))
    return;
  for (guint si = 0; si < G_N_ELEMENTS (sizes); si++)
    for (int mode = -1; mode <= 1; mode += 2)
      {
        int S = sizes[si];
        g_autoptr (GError) error = NULL;
        g_autoptr (LensOccluder) full = NULL;
        g_autoptr (LensOcclusionMap) mf = NULL;
        LensOccludeOptions o;
        double fscale;
        const int pos[][2] = { { 0, 0 }, { m.W - S, m.H - S }, { m.W / 2 - 1, m.H / 3 },
                               { -S / 2, m.H - S / 2 }, { 3, 1 } };

        lens_occlude_options_init (&o);
        o.size = S;
        o.stride = 4;
        o.partial = TRUE;
        memcpy (o.fill, fill, sizeof o.fill);
        o.full = TRUE;
        full = lens_occluder_new (m.net, m.input, &o, &error);
        g_assert_no_error (error);
        mf = lens_occluder_sweep (full, NULL, NULL, NULL, &error);
        g_assert_no_error (error);
        fscale = feature_scale (mf, lens_occluder_get_clean (full));
        o.full = FALSE;
        o.dense = mode;
        for (int b = 1; b <= 9; b += 4)
          {
            g_autoptr (LensOccluder) inc = NULL;
            g_autoptr (LensOcclusionMap) mi = NULL;
            g_autofree char *what = g_strdup_printf ("%s S=%d dense %d batch %d", name, S,
                                                     mode, b);

            o.batch = b;
            inc = lens_occluder_new (m.net, m.input, &o, &error);
            g_assert_no_error (error);
            mi = lens_occluder_sweep (inc, NULL, NULL, NULL, &error);
            g_assert_no_error (error);
            compare_maps (what, mi, mf, fscale);
            if (b > 1)
              continue;
            for (guint i = 0; i < G_N_ELEMENTS (pos); i++)
              {
                LensOcclusionPoint pt;
                Direct d;
                g_autofree char *w = g_strdup_printf ("%s query (%d,%d)", what, pos[i][0],
                                                      pos[i][1]);

                g_assert_true (lens_occluder_query (inc, pos[i][0], pos[i][1], &pt, &error));
                g_assert_no_error (error);
                direct (&m, pos[i][0], pos[i][1], S, fill,
                        lens_occluder_get_target_class (inc),
                        lens_occluder_get_layer_value (inc), lens_occluder_get_channel (inc), &d);
                compare_point (w, &pt, &d, fscale);
                /* the same query again: buffers reused from the last one */
                g_assert_true (lens_occluder_query (inc, pos[i][0], pos[i][1], &pt, &error));
                compare_point (w, &pt, &d, fscale);
              }
          }
      }
  model_clear (&m);
}

/* ---- errors, cancellation, progress --------------------------------------- */

static void
expect_error (Model *m,
              int    size,
              int    klass,
              int    layer_value,
              int    channel,
              int    code)
{
  g_autoptr (GError) error = NULL;
  LensOccludeOptions o;
  LensOccluder *occ;

  lens_occlude_options_init (&o);
  o.size = size;
  o.stride = 2;
  o.target_class = klass;
  o.layer_value = layer_value;
  o.channel = channel;
  occ = lens_occluder_new (m->net, m->input, &o, &error);
  g_assert_null (occ);
  g_assert_error (error, LENS_OCCLUDE_ERROR, code);
  g_test_message ("expected error: %s", error->message);
}

static void
test_errors (void)
{
  Model m;
  int conv = -1, gemm = -1;
  g_autofree char *flat = small_path ("flat", "model.onnx");

  if (!model_load ("stack", FALSE, &m))
    return;
  for (guint l = 0; l < lens_net_get_n_layers (m.net); l++)
    {
      if (g_str_equal (lens_net_layer_get_op (m.net, l), "Conv"))
        conv = lens_net_layer_get_output (m.net, l);
      if (g_str_equal (lens_net_layer_get_op (m.net, l), "Gemm"))
        gemm = lens_net_layer_get_output (m.net, l);
    }
  g_assert_cmpint (conv, >=, 0);
  g_assert_cmpint (gemm, >=, 0);

  /* stack: 3 x 45 x 53, 10 classes, the last conv has 16 channels */
  expect_error (&m, 0, -1, -1, -1, LENS_OCCLUDE_ERROR_ARGS);
  expect_error (&m, -3, -1, -1, -1, LENS_OCCLUDE_ERROR_ARGS);
  expect_error (&m, 54, -1, -1, -1, LENS_OCCLUDE_ERROR_ARGS);
  expect_error (&m, 5, 10, -1, -1, LENS_OCCLUDE_ERROR_ARGS);
  expect_error (&m, 5, 1000, -1, -1, LENS_OCCLUDE_ERROR_ARGS);
  expect_error (&m, 5, -1, conv, 16, LENS_OCCLUDE_ERROR_ARGS);
  expect_error (&m, 5, -1, -1, 16, LENS_OCCLUDE_ERROR_ARGS);
  expect_error (&m, 5, -1, gemm, 0, LENS_OCCLUDE_ERROR_ARGS);

  /* the edge of each range is accepted */
  {
    g_autoptr (GError) error = NULL;
    LensOccludeOptions o;
    g_autoptr (LensOccluder) occ = NULL;
    LensOcclusionPoint pt;

    lens_occlude_options_init (&o);
    o.size = 53;
    o.target_class = 9;
    o.layer_value = conv;
    o.channel = 15;
    occ = lens_occluder_new (m.net, m.input, &o, &error);
    g_assert_no_error (error);
    g_assert_cmpint (lens_occluder_get_target_class (occ), ==, 9);
    g_assert_cmpint (lens_occluder_get_layer_value (occ), ==, conv);
    g_assert_cmpint (lens_occluder_get_channel (occ), ==, 15);
    g_assert_true (lens_occluder_query (occ, 0, 0, &pt, &error));
    g_assert_no_error (error);
  }

  /* a model without an image input */
  if (g_file_test (flat, G_FILE_TEST_EXISTS))
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (LensNet) net = lens_net_load_onnx (flat, NULL, &error);
      g_autoptr (LensTensor) x = NULL;
      LensOccludeOptions o;

      g_assert_no_error (error);
      x = lens_tensor_new_float (lens_net_get_input_shape (net), &error);
      g_assert_no_error (error);
      lens_occlude_options_init (&o);
      o.size = 1;
      g_assert_null (lens_occluder_new (net, x, &o, &error));
      g_assert_error (error, LENS_OCCLUDE_ERROR, LENS_OCCLUDE_ERROR_INPUT);
    }
  model_clear (&m);
}

typedef struct
{
  GArray       *fractions;
  GCancellable *cancel_after_first;
} Progress;

static void
on_progress (double   fraction,
             gpointer user_data)
{
  Progress *p = user_data;

  g_array_append_val (p->fractions, fraction);
  if (p->cancel_after_first != NULL)
    g_cancellable_cancel (p->cancel_after_first);
}

static void
test_progress (void)
{
  Model m;
  g_autoptr (GError) error = NULL;
  g_autoptr (LensOccluder) occ = NULL;
  g_autoptr (LensOcclusionMap) map = NULL;
  Progress p = { g_array_new (FALSE, FALSE, sizeof (double)), NULL };
  int total, batches;

  if (!model_load ("stack", FALSE, &m))
    {
      g_array_unref (p.fractions);
      return;
    }
  occ = occluder_new (&m, 11, 4, FALSE, FALSE, 5);
  map = lens_occluder_sweep (occ, on_progress, &p, NULL, &error);
  g_assert_no_error (error);
  total = map->n_y * map->n_x;
  batches = (total + 4) / 5;
  g_assert_cmpint (total, ==, 9 * 11);
  g_assert_cmpuint (p.fractions->len, ==, batches);
  for (guint i = 0; i < p.fractions->len; i++)
    {
      double f = g_array_index (p.fractions, double, i);
      g_assert_cmpfloat (f, >, 0.0);
      g_assert_cmpfloat (f, <=, 1.0);
      if (i > 0)
        g_assert_cmpfloat (f, >, g_array_index (p.fractions, double, i - 1));
    }
  g_assert_cmpfloat (g_array_index (p.fractions, double, p.fractions->len - 1), ==, 1.0);
  g_array_unref (p.fractions);
  model_clear (&m);
}

static void
test_cancel (void)
{
  Model m;
  g_autoptr (LensOccluder) occ = NULL;

  if (!model_load ("stack", FALSE, &m))
    return;
  occ = occluder_new (&m, 11, 4, FALSE, FALSE, 5);

  /* cancelled before it starts */
  {
    g_autoptr (GCancellable) cancel = g_cancellable_new ();
    g_autoptr (GError) error = NULL;
    Progress p = { g_array_new (FALSE, FALSE, sizeof (double)), NULL };
    LensOcclusionMap *map;

    g_cancellable_cancel (cancel);
    map = lens_occluder_sweep (occ, on_progress, &p, cancel, &error);
    g_assert_null (map);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_cmpuint (p.fractions->len, ==, 0);
    g_array_unref (p.fractions);
  }

  /* cancelled from the progress callback of the first batch: the sweep
   * stops before the second */
  {
    g_autoptr (GCancellable) cancel = g_cancellable_new ();
    g_autoptr (GError) error = NULL;
    Progress p = { g_array_new (FALSE, FALSE, sizeof (double)), cancel };
    LensOcclusionMap *map;

    map = lens_occluder_sweep (occ, on_progress, &p, cancel, &error);
    g_assert_null (map);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_cmpuint (p.fractions->len, ==, 1);
    g_array_unref (p.fractions);
  }

  /* the occluder still works afterwards */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (LensOcclusionMap) map = lens_occluder_sweep (occ, NULL, NULL, NULL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (map);
  }
  model_clear (&m);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  lens_set_threads (2);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *s = g_strdup_printf ("/occlude/sweep/%s", cases[i].name);
      g_autofree char *q = g_strdup_printf ("/occlude/query/%s", cases[i].name);

      g_test_add_data_func (s, &cases[i], test_sweep);
      g_test_add_data_func (q, &cases[i], test_query);
    }
  g_test_add_data_func ("/occlude/layers/stack", "stack", test_layers);
  g_test_add_data_func ("/occlude/layers/resconcat", "resconcat", test_layers);
  g_test_add_data_func ("/occlude/layers/mobile", "mobile", test_layers);
  g_test_add_data_func ("/occlude/pytorch/stack", "stack", test_pytorch);
  g_test_add_data_func ("/occlude/pytorch/mobile", "mobile", test_pytorch);
  {
    static const char *dense[] = { "dense", "dense_t0", "dense_mm", "dense_reshape" };
    for (guint i = 0; i < G_N_ELEMENTS (dense); i++)
      {
        g_autofree char *t = g_strdup_printf ("/occlude/pytorch/%s", dense[i]);
        g_autofree char *d = g_strdup_printf ("/occlude/dense/%s", dense[i]);
        g_test_add_data_func (t, dense[i], test_pytorch);
        g_test_add_data_func (d, dense[i], test_dense);
      }
  }
  g_test_add_func ("/occlude/errors", test_errors);
  g_test_add_func ("/occlude/progress", test_progress);
  g_test_add_func ("/occlude/cancel", test_cancel);
  return g_test_run ();
}
