/* test-project.c: projections (lens-project.h) against PyTorch, by hand and
 * on bad requests.
 *
 * The networks and the reference projections are written by
 * make-oracle.py into PROJECT_ORACLE_DIR (one folder per network, listed in
 * index.txt): model.onnx, input.npy, cases.json and one ref-NNN.npy per
 * case, computed with PyTorch's autograd (see the script for how each mode
 * is defined there).  A projection passes when every element is within
 * 1e-4 of the reference's range (max - min).
 *
 * The other tests need no PyTorch to be right:
 *   - analytic: a network of one convolution and nothing else projects a
 *     'max' start to that filter's weights times the activation, placed
 *     at the argmax's window (read from the model's weights here);
 *   - receptive field: boxes worked out by hand for the small AlexNet;
 *   - display: lens_projection_to_rgb on values whose bytes are known;
 *   - errors: unknown layer, channel or position out of range. */
#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "lens-net.h"
#include "lens-npy.h"
#include "lens-project.h"

#define TOLERANCE 1e-4

/* The references: LENS_PROJECT_ORACLE overrides the build folder's (to
 * check that the test fails on altered references, or to use another set). */
static const char *
oracle_dir (void)
{
  const char *dir = g_getenv ("LENS_PROJECT_ORACLE");

  return dir != NULL && *dir != '\0' ? dir : PROJECT_ORACLE_DIR;
}

static char *
oracle_path (const char *net,
             const char *file)
{
  return g_build_filename (oracle_dir (), net, file, NULL);
}

/* Loads NET's model, or marks the test skipped and returns NULL when the
 * oracle was not generated. */
static LensNet *
load_net (const char *name)
{
  g_autofree char *path = oracle_path (name, "model.onnx");
  g_autoptr (GError) error = NULL;
  LensNet *net;

  if (!PROJECT_ORACLE_OK || !g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("reference projections not generated (needs /usr/bin/python3 with torch, "
                   "torchvision and onnx)");
      return NULL;
    }
  net = lens_net_load_onnx (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (net);
  return net;
}

static LensTensor *
load_npy (const char *net,
          const char *file)
{
  g_autofree char *path = oracle_path (net, file);
  g_autoptr (GError) error = NULL;
  LensTensor *t = lens_npy_load (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (t);
  g_assert_cmpint (t->dtype, ==, LENS_DTYPE_FLOAT32);
  return t;
}

/* A trace of `net` run on NET/input.npy (batch 1, or 2 for the nets
 * exported with a dynamic batch: projections use item 0). */
static LensTrace *
run_trace (LensNet    *net,
           const char *name)
{
  g_autoptr (LensTensor) input = load_npy (name, "input.npy");
  g_autoptr (GError) error = NULL;
  LensTrace *trace = lens_trace_new (net, (int) input->shape.dims[0], &error);

  g_assert_no_error (error);
  g_assert_true (lens_trace_set_input (trace, input, &error));
  g_assert_no_error (error);
  g_assert_true (lens_trace_run (trace, NULL, &error));
  g_assert_no_error (error);
  return trace;
}

/* The largest |ours - ref| in units of ref's range; G_MAXDOUBLE when the
 * sizes differ. */
static double
range_error (const LensTensor *ours,
             const LensTensor *ref)
{
  gsize n = lens_tensor_numel (ref);
  const float *a = ours->data, *b = ref->data;
  double lo = INFINITY, hi = -INFINITY, worst = 0.0;

  if (lens_tensor_numel (ours) != n)
    return G_MAXDOUBLE;
  for (gsize i = 0; i < n; i++)
    {
      lo = MIN (lo, b[i]);
      hi = MAX (hi, b[i]);
    }
  for (gsize i = 0; i < n; i++)
    {
      double d = fabs ((double) a[i] - b[i]);
      if (!(d == d))
        return G_MAXDOUBLE;
      worst = MAX (worst, d);
    }
  return hi > lo ? worst / (hi - lo) : (worst > 0 ? G_MAXDOUBLE : 0.0);
}

/* Every non-zero element of a [1,C,H,W] map lies inside the box. */
static gboolean
support_inside (const LensTensor *map,
                const LensBox    *box)
{
  int64_t c = map->shape.dims[1], h = map->shape.dims[2], w = map->shape.dims[3];
  const float *v = map->data;

  for (int64_t ch = 0; ch < c; ch++)
    for (int64_t y = 0; y < h; y++)
      for (int64_t x = 0; x < w; x++)
        if (v[(ch * h + y) * w + x] != 0.0f
            && (x < box->x0 || x >= box->x1 || y < box->y0 || y >= box->y1))
          return FALSE;
  return TRUE;
}

static LensProjectMode
parse_mode (const char *text)
{
  if (g_strcmp0 (text, "deconv") == 0)
    return LENS_PROJECT_DECONV;
  if (g_strcmp0 (text, "guided") == 0)
    return LENS_PROJECT_GUIDED;
  g_assert_cmpstr (text, ==, "gradient");
  return LENS_PROJECT_GRADIENT;
}

static LensStartKind
parse_start (const char *text)
{
  if (g_strcmp0 (text, "map") == 0)
    return LENS_START_MAP;
  if (g_strcmp0 (text, "max") == 0)
    return LENS_START_MAX;
  g_assert_cmpstr (text, ==, "point");
  return LENS_START_POINT;
}

static LensLrnMode
parse_lrn (const char *text)
{
  if (text == NULL || g_strcmp0 (text, "default") == 0)
    return LENS_LRN_DEFAULT;
  if (g_strcmp0 (text, "skip") == 0)
    return LENS_LRN_SKIP;
  g_assert_cmpstr (text, ==, "jacobian");
  return LENS_LRN_JACOBIAN;
}

/* Runs one case; returns FALSE (after a g_test_message saying why) when
 * it does not match. */
static gboolean
run_case (LensTrace  *trace,
          const char *name,
          guint       index,
          JsonObject *c)
{
  LensNet *net = lens_trace_get_net (trace);
  const char *kind = json_object_get_string_member (c, "kind");
  const char *file = json_object_get_string_member (c, "file");
  const char *value_name = json_object_get_string_member_with_default (c, "value", NULL);
  g_autoptr (LensTensor) ref = load_npy (name, file);
  g_autoptr (LensTensor) ours = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *what = NULL;
  int value = -1;
  double err;

  if (value_name != NULL)
    {
      value = lens_net_find_value (net, value_name);
      if (value < 0)
        {
          g_test_message ("%s case %u: the model has no value '%s'", name, index, value_name);
          return FALSE;
        }
    }

  if (g_str_equal (kind, "channel"))
    {
      LensProjectOptions opt = {
        .mode = parse_mode (json_object_get_string_member (c, "mode")),
        .start = parse_start (json_object_get_string_member (c, "start")),
        .x = (int) json_object_get_int_member (c, "x"),
        .y = (int) json_object_get_int_member (c, "y"),
        .lrn = parse_lrn (json_object_get_string_member (c, "lrn")),
      };
      int channel = (int) json_object_get_int_member (c, "channel");
      int pos[2] = { -1, -1 };
      LensBox rf;

      what = g_strdup_printf ("%s case %u (%s, %s channel %d, %s start %s, lrn %s)", name, index,
                              file, value_name, channel,
                              json_object_get_string_member (c, "mode"),
                              json_object_get_string_member (c, "start"),
                              json_object_get_string_member (c, "lrn"));
      ours = lens_project_channel (trace, value, channel, &opt, &rf, pos, &error);
      if (ours != NULL && json_object_has_member (c, "argmax"))
        {
          JsonArray *am = json_object_get_array_member (c, "argmax");
          int ax = (int) json_array_get_int_element (am, 0);
          int ay = (int) json_array_get_int_element (am, 1);
          if (pos[0] != ax || pos[1] != ay)
            {
              g_test_message ("%s: start at %d,%d, PyTorch's argmax is %d,%d", what, pos[0],
                              pos[1], ax, ay);
              return FALSE;
            }
        }
      if (ours != NULL && opt.start == LENS_START_POINT && (pos[0] != opt.x || pos[1] != opt.y))
        {
          g_test_message ("%s: start reported at %d,%d", what, pos[0], pos[1]);
          return FALSE;
        }
      if (ours != NULL && !support_inside (ref, &rf))
        {
          g_test_message ("%s: PyTorch's projection reaches outside the receptive field "
                          "x %d-%d, y %d-%d", what, rf.x0, rf.x1, rf.y0, rf.y1);
          return FALSE;
        }
    }
  else if (g_str_equal (kind, "class"))
    {
      LensProjectOptions opt = {
        .mode = parse_mode (json_object_get_string_member (c, "mode")),
        .lrn = parse_lrn (json_object_get_string_member (c, "lrn")),
      };
      int klass = (int) json_object_get_int_member (c, "class");

      what = g_strdup_printf ("%s case %u (%s, class %d, %s)", name, index, file, klass,
                              json_object_get_string_member (c, "mode"));
      ours = lens_project_class (trace, klass, &opt, &error);
    }
  else
    {
      int klass = (int) json_object_get_int_member (c, "class");

      g_assert_cmpstr (kind, ==, "gradcam");
      what = g_strdup_printf ("%s case %u (%s, Grad-CAM at %s, class %d)", name, index, file,
                              value_name, klass);
      ours = lens_gradcam (trace, value, klass, &error);
    }

  if (ours == NULL)
    {
      g_test_message ("%s: %s", what, error ? error->message : "no result");
      return FALSE;
    }
  if (lens_tensor_numel (ours) != lens_tensor_numel (ref))
    {
      g_autofree char *a = lens_shape_to_string (&ours->shape);
      g_autofree char *b = lens_shape_to_string (&ref->shape);
      g_test_message ("%s: shape %s, reference %s", what, a, b);
      return FALSE;
    }
  err = range_error (ours, ref);
  if (!(err <= TOLERANCE))
    {
      g_test_message ("%s: max error %.3g of the range (tolerance %g)", what, err, TOLERANCE);
      return FALSE;
    }
  return TRUE;
}

static void
test_oracle (gconstpointer data)
{
  const char *name = data;
  g_autoptr (LensNet) net = load_net (name);
  g_autoptr (LensTrace) trace = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *cases_path = NULL;
  g_autoptr (GError) error = NULL;
  JsonArray *cases;
  guint failed = 0;

  if (net == NULL)
    return;
  trace = run_trace (net, name);
  cases_path = oracle_path (name, "cases.json");
  g_assert_true (json_parser_load_from_file (parser, cases_path, &error));
  g_assert_no_error (error);
  cases = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                        "cases");
  g_assert_nonnull (cases);
  g_assert_cmpuint (json_array_get_length (cases), >, 0);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    if (!run_case (trace, name, i, json_array_get_object_element (cases, i)))
      failed++;
  if (failed > 0)
    {
      g_test_message ("%s: %u of %u cases differ from PyTorch", name, failed,
                      json_array_get_length (cases));
      g_test_fail ();
    }
}

/* ---------------------------------------------------------------- analytic */

/* oneconv-op13: x [1,3,15,15] -> Conv (4 filters 3x5x5, stride 2, pad 2,
 * bias) -> y [1,4,8,8], and nothing else.  Without any non-linearity every
 * mode is the plain transpose of the convolution: a start of value a at
 * output (py, px) of channel k lands on the input as a * W[k] with its
 * corner at (py*2 - 2, px*2 - 2), cut at the borders. */
#define ONE_STRIDE 2
#define ONE_PAD    2

static void
check_filter_placement (LensTrace                *trace,
                        int                       k,
                        const LensProjectOptions *opt)
{
  LensNet *net = lens_trace_get_net (trace);
  int wv = lens_net_layer_get_input (net, 0, 1);
  const LensTensor *w = lens_net_value_get_constant (net, wv);
  int out = lens_net_layer_get_output (net, 0);
  const LensTensor *y = lens_trace_get_value (trace, out);
  const LensShape *xs = lens_net_get_input_shape (net);
  int64_t c = w->shape.dims[1], kh = w->shape.dims[2], kw = w->shape.dims[3];
  int64_t oh = y->shape.dims[2], ow = y->shape.dims[3], H = xs->dims[2], W = xs->dims[3];
  const float *plane = (const float *) y->data + k * oh * ow;
  const float *wk = (const float *) w->data + k * c * kh * kw;
  g_autoptr (LensTensor) proj = NULL;
  g_autoptr (GError) error = NULL;
  int64_t px, py, best = 0;
  int pos[2];
  LensBox rf;
  double a, scale = 0.0, worst = 0.0;
  const float *p;

  g_assert_nonnull (w);
  g_assert_cmpint (w->shape.ndim, ==, 4);
  if (opt->start == LENS_START_MAX)
    {
      for (int64_t i = 1; i < oh * ow; i++)
        if (plane[i] > plane[best])
          best = i;
      py = best / ow;
      px = best % ow;
    }
  else
    {
      py = opt->y;
      px = opt->x;
    }
  a = plane[py * ow + px];

  proj = lens_project_channel (trace, out, k, opt, &rf, pos, &error);
  g_assert_no_error (error);
  g_assert_nonnull (proj);
  g_assert_cmpint (pos[0], ==, px);
  g_assert_cmpint (pos[1], ==, py);
  g_assert_cmpuint (lens_tensor_numel (proj), ==, (gsize) (c * H * W));
  /* the receptive field is the filter's window, cut at the borders */
  g_assert_cmpint (rf.x0, ==, MAX (0, px * ONE_STRIDE - ONE_PAD));
  g_assert_cmpint (rf.y0, ==, MAX (0, py * ONE_STRIDE - ONE_PAD));
  g_assert_cmpint (rf.x1, ==, MIN (W, px * ONE_STRIDE - ONE_PAD + kw));
  g_assert_cmpint (rf.y1, ==, MIN (H, py * ONE_STRIDE - ONE_PAD + kh));

  p = proj->data;
  for (int64_t i = 0; i < c * kh * kw; i++)
    scale = MAX (scale, fabs (a * wk[i]));
  g_assert_cmpfloat (scale, >, 0.0);
  for (int64_t ch = 0; ch < c; ch++)
    for (int64_t iy = 0; iy < H; iy++)
      for (int64_t ix = 0; ix < W; ix++)
        {
          int64_t ky = iy - (py * ONE_STRIDE - ONE_PAD), kx = ix - (px * ONE_STRIDE - ONE_PAD);
          double want = 0.0;
          if (ky >= 0 && ky < kh && kx >= 0 && kx < kw)
            want = a * wk[(ch * kh + ky) * kw + kx];
          worst = MAX (worst, fabs (p[(ch * H + iy) * W + ix] - want));
        }
  g_assert_cmpfloat (worst, <=, 1e-6 * scale);
}

static void
test_analytic (void)
{
  g_autoptr (LensNet) net = load_net ("oneconv-op13");
  g_autoptr (LensTrace) trace = NULL;

  if (net == NULL)
    return;
  g_assert_cmpuint (lens_net_get_n_layers (net), ==, 1);
  g_assert_cmpstr (lens_net_layer_get_op (net, 0), ==, "Conv");
  trace = run_trace (net, "oneconv-op13");
  for (int k = 0; k < 4; k++)
    for (LensProjectMode m = LENS_PROJECT_DECONV; m <= LENS_PROJECT_GRADIENT; m++)
      {
        LensProjectOptions opt = { .mode = m, .start = LENS_START_MAX };
        check_filter_placement (trace, k, &opt);
      }
  /* corners: the filter is cut by the padding */
  for (int k = 0; k < 4; k++)
    {
      LensProjectOptions opt = { .mode = LENS_PROJECT_DECONV, .start = LENS_START_POINT };
      check_filter_placement (trace, k, &opt);
      opt.x = opt.y = 7;
      check_filter_placement (trace, k, &opt);
    }
}

/* ---------------------------------------------------------------- receptive field */

/* The small AlexNet of make-oracle.py, input 67x67:
 *   conv1 7x7 stride 2 pad 1 -> 32, maxpool 3x3 stride 2 ceil -> 16, LRN,
 *   conv2 3x3 pad 1 -> 16, maxpool 3x3 stride 2 ceil -> 8.
 * The rows [y0, y1) of pool2 come from, going down (each cut to its map):
 *   conv2 rows [2 y0, 2 (y1 - 1) + 3)        in [0, 16)
 *   pool1 rows [r0 - 1, r1 + 1)              in [0, 16)
 *   conv1 rows [2 r0, 2 (r1 - 1) + 3)        in [0, 32)
 *   input rows [2 r0 - 1, 2 (r1 - 1) - 1 + 7) in [0, 67)
 * (and the same for columns). */
static void
hand_rf (int  p0,
         int *lo,
         int *hi)
{
  int a = 2 * p0, b = 2 * p0 + 3;

  a = CLAMP (a, 0, 16), b = CLAMP (b, 0, 16);
  a = CLAMP (a - 1, 0, 16), b = CLAMP (b + 1, 0, 16);
  a = CLAMP (2 * a, 0, 32), b = CLAMP (2 * (b - 1) + 3, 0, 32);
  *lo = CLAMP (2 * a - 1, 0, 67);
  *hi = CLAMP (2 * (b - 1) - 1 + 7, 0, 67);
}

static void
test_receptive_field (void)
{
  g_autoptr (LensNet) net = load_net ("alex-op13");
  g_autoptr (LensTrace) trace = NULL;
  int pool2, n_checked = 0;

  if (net == NULL)
    return;
  trace = run_trace (net, "alex-op13");
  /* the second MaxPool layer */
  pool2 = -1;
  for (guint l = 0, seen = 0; l < lens_net_get_n_layers (net); l++)
    if (g_str_equal (lens_net_layer_get_op (net, l), "MaxPool") && ++seen == 2)
      pool2 = lens_net_layer_get_output (net, l);
  g_assert_cmpint (pool2, >=, 0);

  /* worked out above: the corners of the 8x8 map */
  {
    LensBox b = lens_net_receptive_field (net, pool2, 0, 1, 0, 1);
    g_assert_cmpint (b.x0, ==, 0);
    g_assert_cmpint (b.y0, ==, 0);
    g_assert_cmpint (b.x1, ==, 22);
    g_assert_cmpint (b.y1, ==, 22);
    b = lens_net_receptive_field (net, pool2, 7, 8, 7, 8);
    g_assert_cmpint (b.x0, ==, 51);
    g_assert_cmpint (b.y0, ==, 51);
    g_assert_cmpint (b.x1, ==, 67);
    g_assert_cmpint (b.y1, ==, 67);
  }

  /* 'max' starts of every channel: the box of the start, and nothing of
   * the projection outside it */
  for (int ch = 0; ch < 12; ch++)
    {
      LensProjectOptions opt = { .mode = LENS_PROJECT_DECONV, .start = LENS_START_MAX };
      g_autoptr (LensTensor) proj = NULL;
      g_autoptr (GError) error = NULL;
      const float *p;
      int pos[2], x0, x1, y0, y1;
      LensBox rf;

      proj = lens_project_channel (trace, pool2, ch, &opt, &rf, pos, &error);
      g_assert_no_error (error);
      hand_rf (pos[0], &x0, &x1);
      hand_rf (pos[1], &y0, &y1);
      g_assert_cmpint (rf.x0, ==, x0);
      g_assert_cmpint (rf.x1, ==, x1);
      g_assert_cmpint (rf.y0, ==, y0);
      g_assert_cmpint (rf.y1, ==, y1);
      p = proj->data;
      for (int c = 0; c < 3; c++)
        for (int y = 0; y < 67; y++)
          for (int x = 0; x < 67; x++)
            if (x < x0 || x >= x1 || y < y0 || y >= y1)
              g_assert_cmpfloat (p[(c * 67 + y) * 67 + x], ==, 0.0f);
      n_checked++;
    }
  g_assert_cmpint (n_checked, ==, 12);

  /* a 'map' start: the whole map, i.e. the whole input here */
  {
    LensProjectOptions opt = { .mode = LENS_PROJECT_DECONV, .start = LENS_START_MAP };
    g_autoptr (LensTensor) proj = NULL;
    g_autoptr (GError) error = NULL;
    LensBox rf;

    proj = lens_project_channel (trace, pool2, 0, &opt, &rf, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (rf.x0, ==, 0);
    g_assert_cmpint (rf.y0, ==, 0);
    g_assert_cmpint (rf.x1, ==, 67);
    g_assert_cmpint (rf.y1, ==, 67);
  }
}

/* ---------------------------------------------------------------- display */

/* p = 0.5 + 0.5 v / max|v|, clipped, x255, rounded: worked out by hand for
 * v = {-2, 0, 1, 2} (max|v| = 2) in each of R, G, B. */
static void
test_display (void)
{
  static const float values[3][4] = {
    { -2, 0, 1, 2 },
    { 2, 1, 0, -2 },
    { 0, 0, -1, 1 },
  };
  static const guint8 want_r[4] = { 0, 128, 191, 255 };
  static const guint8 want_g[4] = { 255, 191, 128, 0 };
  static const guint8 want_b[4] = { 128, 128, 64, 191 };
  g_autoptr (LensTensor) t = lens_tensor_new (LENS_DTYPE_FLOAT32,
                                              &(LensShape) { 4, { 1, 3, 2, 2 } }, NULL);
  g_autofree guint8 *rgb = NULL;
  g_autofree guint8 *bgr = NULL;
  int w = 0, h = 0;

  memcpy (t->data, values, sizeof values);
  rgb = lens_projection_to_rgb (t, FALSE, &w, &h);
  g_assert_cmpint (w, ==, 2);
  g_assert_cmpint (h, ==, 2);
  for (int i = 0; i < 4; i++)
    {
      g_assert_cmpuint (rgb[i * 3 + 0], ==, want_r[i]);
      g_assert_cmpuint (rgb[i * 3 + 1], ==, want_g[i]);
      g_assert_cmpuint (rgb[i * 3 + 2], ==, want_b[i]);
    }
  /* a B,G,R input: tensor channel 0 is shown as blue */
  bgr = lens_projection_to_rgb (t, TRUE, &w, &h);
  for (int i = 0; i < 4; i++)
    {
      g_assert_cmpuint (bgr[i * 3 + 0], ==, want_b[i]);
      g_assert_cmpuint (bgr[i * 3 + 2], ==, want_r[i]);
    }
}

/* ---------------------------------------------------------------- errors */

static void
test_errors (void)
{
  g_autoptr (LensNet) net = load_net ("alex-op13");
  g_autoptr (LensTrace) trace = NULL;
  LensProjectOptions opt = { .mode = LENS_PROJECT_DECONV, .start = LENS_START_MAX };
  int conv1;

  if (net == NULL)
    return;
  trace = run_trace (net, "alex-op13");
  conv1 = lens_net_layer_get_output (net, 0);

  /* unknown layer: the message lists every layer */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (LensTensor) t = NULL;
    int value = lens_net_find_layer (net, "no-such-layer");

    g_assert_cmpint (value, ==, -1);
    t = lens_project_channel (trace, value, 0, &opt, NULL, NULL, &error);
    g_assert_null (t);
    g_assert_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_VALUE);
    for (guint l = 0; l < lens_net_get_n_layers (net); l++)
      if (strstr (error->message, lens_net_layer_get_name (net, l)) == NULL)
        g_error ("the message '%s' does not name layer '%s'", error->message,
                 lens_net_layer_get_name (net, l));
  }
  /* a weight is not a layer */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (LensTensor) t = NULL;
    int weight = lens_net_layer_get_input (net, 0, 1);

    t = lens_project_channel (trace, weight, 0, &opt, NULL, NULL, &error);
    g_assert_null (t);
    g_assert_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_VALUE);
  }
  /* channel out of range: conv1 has 8 */
  for (int ch = -1; ch <= 8; ch += 9)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (LensTensor) t = lens_project_channel (trace, conv1, ch, &opt, NULL, NULL,
                                                       &error);
      g_assert_null (t);
      g_assert_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_CHANNEL);
      g_assert_nonnull (strstr (error->message, "0 to 7"));
    }
  /* position outside the 32x32 map */
  {
    static const int bad[][2] = { { 32, 0 }, { 0, 32 }, { -1, 5 }, { 5, -1 } };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        LensProjectOptions p = { .mode = LENS_PROJECT_GUIDED, .start = LENS_START_POINT,
                                 .x = bad[i][0], .y = bad[i][1] };
        g_autoptr (GError) error = NULL;
        g_autoptr (LensTensor) t = lens_project_channel (trace, conv1, 0, &p, NULL, NULL,
                                                         &error);
        g_assert_null (t);
        g_assert_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_CHANNEL);
      }
  }
  /* class out of range: 10 classes */
  for (int k = -1; k <= 10; k += 11)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (LensTensor) t = lens_project_class (trace, k, &opt, &error);
      g_assert_null (t);
      g_assert_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_CHANNEL);
    }
  /* Grad-CAM needs a map: not the [1,32] dense layer, not a bad index */
  {
    int fc1 = -1;
    for (guint l = 0; l < lens_net_get_n_layers (net); l++)
      if (g_str_equal (lens_net_layer_get_op (net, l), "Gemm"))
        {
          fc1 = lens_net_layer_get_output (net, l);
          break;
        }
    g_assert_cmpint (fc1, >=, 0);
    for (int i = 0; i < 2; i++)
      {
        g_autoptr (GError) error = NULL;
        g_autoptr (LensTensor) t = lens_gradcam (trace, i == 0 ? fc1 : -1, 0, &error);
        g_assert_null (t);
        g_assert_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_VALUE);
      }
  }
}

/* ---------------------------------------------------------------- many channels */

/* The largest |a - b| of two same-sized float arrays, in units of b's
 * range (1 when b is all zero and a is not). */
static double
array_error (const float *a,
             const float *b,
             gsize        n)
{
  double lo = INFINITY, hi = -INFINITY, worst = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      lo = MIN (lo, b[i]);
      hi = MAX (hi, b[i]);
      worst = MAX (worst, fabs ((double) a[i] - b[i]));
    }
  if (!(worst == worst))
    return G_MAXDOUBLE;
  return hi > lo ? worst / (hi - lo) : (worst > 0 ? 1.0 : 0.0);
}

/* The layers to test on: the last Conv's output and the output of the
 * layer half-way, when it is a feature map. */
static int
pick_layers (LensNet *net,
             int     *values)
{
  guint n = lens_net_get_n_layers (net);
  int count = 0, conv = -1;

  for (guint l = 0; l < n; l++)
    if (g_str_equal (lens_net_layer_get_op (net, l), "Conv"))
      conv = lens_net_layer_get_output (net, l);
  if (conv >= 0)
    values[count++] = conv;
  for (guint l = n / 2; l < n; l++)
    {
      int v = lens_net_layer_get_output (net, l);
      if (lens_net_value_get_shape (net, v)->ndim == 4 && v != conv)
        {
          values[count++] = v;
          break;
        }
    }
  return count;
}

/* lens_project_channels equals one lens_project_channel per channel (to
 * 1e-6 of each projection's range), with the same boxes and start
 * positions, for every mode, start kind and LRN treatment. */
static void
test_batch (gconstpointer data)
{
  const char *name = data;
  g_autoptr (LensNet) net = load_net (name);
  g_autoptr (LensTrace) trace = NULL;
  int values[2], n_values, n_checked = 0;

  if (net == NULL)
    return;
  trace = run_trace (net, name);
  n_values = pick_layers (net, values);
  g_assert_cmpint (n_values, >=, 1);
  for (int vi = 0; vi < n_values; vi++)
    {
      int value = values[vi];
      const LensShape *vs = &lens_trace_get_value (trace, value)->shape;
      int channels[5], n;
      g_autoptr (GError) error = NULL;

      /* fewer channels on the torchvision networks, to keep the test short */
      int want = g_str_has_prefix (name, "tv-") ? 3 : (int) G_N_ELEMENTS (channels);

      n = lens_project_rank_channels (trace, value, want, channels, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n, ==, MIN (want, (int) vs->dims[1]));
      for (LensProjectMode m = LENS_PROJECT_DECONV; m <= LENS_PROJECT_GRADIENT; m++)
        for (LensStartKind st = LENS_START_MAP; st <= LENS_START_POINT; st++)
          for (LensLrnMode lrn = LENS_LRN_SKIP; lrn <= LENS_LRN_JACOBIAN; lrn++)
            {
              LensProjectOptions opt = { .mode = m, .start = st, .lrn = lrn,
                                         .x = (int) vs->dims[3] / 3, .y = (int) vs->dims[2] / 2 };
              g_autoptr (LensTensor) batch = NULL;
              LensBox rf[5];
              int pos[10];
              gsize item;

              batch = lens_project_channels (trace, value, channels, n, &opt, rf, pos, &error);
              g_assert_no_error (error);
              g_assert_nonnull (batch);
              g_assert_cmpint (batch->shape.dims[0], ==, n);
              item = lens_tensor_numel (batch) / (gsize) n;
              for (int i = 0; i < n; i++)
                {
                  g_autoptr (LensTensor) one = NULL;
                  LensBox rf1;
                  int pos1[2];
                  double err;

                  one = lens_project_channel (trace, value, channels[i], &opt, &rf1, pos1, &error);
                  g_assert_no_error (error);
                  g_assert_cmpuint (lens_tensor_numel (one), ==, item);
                  err = array_error ((const float *) batch->data + i * item, one->data, item);
                  if (!(err <= 1e-6))
                    g_error ("%s, %s channel %d, mode %d start %d lrn %d: batch item %d differs "
                             "from the single projection by %.3g of its range", name,
                             lens_net_value_get_name (net, value), channels[i], m, st, lrn, i,
                             err);
                  g_assert_cmpint (pos[2 * i], ==, pos1[0]);
                  g_assert_cmpint (pos[2 * i + 1], ==, pos1[1]);
                  g_assert_cmpint (rf[i].x0, ==, rf1.x0);
                  g_assert_cmpint (rf[i].y0, ==, rf1.y0);
                  g_assert_cmpint (rf[i].x1, ==, rf1.x1);
                  g_assert_cmpint (rf[i].y1, ==, rf1.y1);
                  n_checked++;
                }
            }
    }
  g_assert_cmpint (n_checked, >=, 3 * 3 * 2);
}

/* Ranking, checked against a scan of the activations here; and bad
 * requests. */
static void
test_batch_rank (void)
{
  g_autoptr (LensNet) net = load_net ("alex-op13");
  g_autoptr (LensTrace) trace = NULL;
  LensProjectOptions opt = { .mode = LENS_PROJECT_DECONV, .start = LENS_START_MAX };
  g_autoptr (GError) error = NULL;
  const LensTensor *act;
  int conv1, ranked[20], n;
  int64_t c, plane;

  if (net == NULL)
    return;
  trace = run_trace (net, "alex-op13");
  conv1 = lens_net_layer_get_output (net, 0);
  act = lens_trace_get_value (trace, conv1);
  c = act->shape.dims[1];
  plane = act->shape.dims[2] * act->shape.dims[3];
  /* asking for more than there are gives all 8, each max >= the next's */
  n = lens_project_rank_channels (trace, conv1, 20, ranked, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, c);
  for (int i = 0; i < n; i++)
    {
      const float *v = (const float *) act->data + ranked[i] * plane;
      float best = v[0];
      for (int64_t k = 1; k < plane; k++)
        best = MAX (best, v[k]);
      for (int64_t other = 0; other < c; other++)
        {
          const float *u = (const float *) act->data + other * plane;
          float m = u[0];
          gboolean later = TRUE;
          for (int64_t k = 1; k < plane; k++)
            m = MAX (m, u[k]);
          for (int j = 0; j < i; j++)
            later = later && ranked[j] != other;
          /* every channel not yet listed has a max no larger */
          if (later)
            g_assert_cmpfloat (m, <=, best);
        }
    }
  /* a channel out of range among good ones: the error names it */
  {
    int bad[3] = { 0, 8, 1 };
    g_autoptr (LensTensor) t = lens_project_channels (trace, conv1, bad, 3, &opt, NULL, NULL,
                                                      &error);
    g_assert_null (t);
    g_assert_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_CHANNEL);
    g_assert_nonnull (strstr (error->message, "Channel 8"));
    g_clear_error (&error);
  }
  /* a weight is not a layer */
  n = lens_project_rank_channels (trace, lens_net_layer_get_input (net, 0, 1), 3, ranked, &error);
  g_assert_cmpint (n, ==, -1);
  g_assert_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_VALUE);
}

/* In gradient mode a projection is linear in its start signal, so the
 * 'map' start (the whole map: every convolution runs on whole planes)
 * equals the sum of the point starts at every position (each of which
 * runs the convolutions on the small boxes the point reaches): a check of
 * the boxes that needs no reference. */
static void
test_box_linearity (gconstpointer data)
{
  const char *name = data;
  g_autoptr (LensNet) net = load_net (name);
  g_autoptr (LensTrace) trace = NULL;
  int values[2];

  if (net == NULL)
    return;
  trace = run_trace (net, name);
  g_assert_cmpint (pick_layers (net, values), >=, 1);
  for (LensLrnMode lrn = LENS_LRN_SKIP; lrn <= LENS_LRN_JACOBIAN; lrn++)
    {
      const LensShape *vs = &lens_trace_get_value (trace, values[0])->shape;
      LensProjectOptions opt = { .mode = LENS_PROJECT_GRADIENT, .start = LENS_START_MAP,
                                 .lrn = lrn };
      g_autoptr (LensTensor) whole = NULL;
      g_autoptr (LensTensor) sum = NULL;
      g_autoptr (GError) error = NULL;
      int channel = (int) vs->dims[1] / 2;
      double err;

      whole = lens_project_channel (trace, values[0], channel, &opt, NULL, NULL, &error);
      g_assert_no_error (error);
      sum = lens_tensor_new (LENS_DTYPE_FLOAT32, &whole->shape, &error);
      g_assert_no_error (error);
      opt.start = LENS_START_POINT;
      for (opt.y = 0; opt.y < vs->dims[2]; opt.y++)
        for (opt.x = 0; opt.x < vs->dims[3]; opt.x++)
          {
            g_autoptr (LensTensor) one = lens_project_channel (trace, values[0], channel, &opt,
                                                               NULL, NULL, &error);
            g_assert_no_error (error);
            for (gsize i = 0; i < lens_tensor_numel (sum); i++)
              ((float *) sum->data)[i] += ((const float *) one->data)[i];
          }
      err = array_error (sum->data, whole->data, lens_tensor_numel (whole));
      if (!(err <= 1e-5))
        g_error ("%s: the point starts add up to the map start only within %.3g of its range",
                 name, err);
    }
}

/* ---------------------------------------------------------------- main */

int
main (int    argc,
      char **argv)
{
  g_autofree char *index_path = NULL;
  g_autofree char *index = NULL;
  g_auto (GStrv) names = NULL;

  g_test_init (&argc, &argv, NULL);
  index_path = g_build_filename (oracle_dir (), "index.txt", NULL);

  if (PROJECT_ORACLE_OK && g_file_get_contents (index_path, &index, NULL, NULL))
    names = g_strsplit (g_strstrip (index), "\n", -1);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autofree char *path = NULL;

      if (*names[i] == '\0' || g_str_has_prefix (names[i], "oneconv"))
        continue;
      path = g_strconcat ("/project/pytorch/", names[i], NULL);
      g_test_add_data_func (path, names[i], test_oracle);
    }
  if (names == NULL)
    g_test_add_data_func ("/project/pytorch/missing", "missing", test_oracle);

  {
    static const char *batch_nets[] = { "alex-op13", "alex-op13-batch2", "inception-op13",
                                         "inception-op11-bn", "relu6-op13", "tv-alexnet-op11",
                                         "tv-resnet18-op13" };
    for (guint i = 0; i < G_N_ELEMENTS (batch_nets); i++)
      {
        g_autofree char *path = g_strconcat ("/project/batch/", batch_nets[i], NULL);
        g_test_add_data_func (path, batch_nets[i], test_batch);
      }
    g_test_add_data_func ("/project/box-linearity/alex-op13", "alex-op13", test_box_linearity);
    g_test_add_data_func ("/project/box-linearity/tv-alexnet-op11", "tv-alexnet-op11",
                          test_box_linearity);
    g_test_add_data_func ("/project/box-linearity/inception-op13", "inception-op13",
                          test_box_linearity);
    g_test_add_data_func ("/project/box-linearity/tv-resnet18-op13", "tv-resnet18-op13",
                          test_box_linearity);
  }
  g_test_add_func ("/project/batch-rank", test_batch_rank);
  g_test_add_func ("/project/analytic-conv", test_analytic);
  g_test_add_func ("/project/receptive-field", test_receptive_field);
  g_test_add_func ("/project/display", test_display);
  g_test_add_func ("/project/errors", test_errors);
  return g_test_run ();
}
