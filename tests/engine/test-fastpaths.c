/* test-fastpaths.c: the branch-free and vector fast paths against plain
 * loops written here.
 *
 * ReLU / LeakyReLU (forward, and the backward pass of the three
 * projection modes) run four floats at a time; max pooling has a
 * branch-free scan for 2x2 and 3x3 windows with stride 2.  Each must
 * give the same bits as the one-element-at-a-time rule: values compared
 * as bit patterns (so -0 vs +0 and NaN show), switches and indices
 * exactly.  Inputs have many ties (integers 0..3), negative zeros, NaNs
 * and infinities.  Max pooling's AVX-512 scan takes sixteen windows at
 * a time (masked for the last few of a row); an average over a 1 x 1
 * window is a copy.  The kernels' runner takes jobs from several threads
 * at once and from inside its own items.  The direct convolution runs with output channel counts
 * that leave partial tiles, with strides 2 to 4 (split into phases) and
 * with rows that share their padding,
 * and its helper threads take the priority of the thread that asks (the
 * window lowers its engine thread's).  The batch-1 Gemm against weights
 * stored [N,K] (the classifier layers) runs its own row kernel: row
 * counts and lengths that leave partial blocks, alpha, beta and every
 * bias shape. */
#include <math.h>
#include <string.h>
#ifdef __linux__
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "engine-test.h"
#include "kernel-util.h"
#include "ops/conv-direct.h"
#include "ops/parallel.h"

static guint32
bits (float v)
{
  guint32 u;

  memcpy (&u, &v, sizeof u);
  return u;
}

/* A value of the kinds the fast paths must treat as the scalar code does. */
static float
awkward_value (GRand *rand)
{
  switch (g_rand_int_range (rand, 0, 12))
    {
    case 0: return NAN;
    case 1: return -NAN;
    case 2: return -0.0f;
    case 3: return 0.0f;
    case 4: return INFINITY;
    case 5: return -INFINITY;
    case 6: case 7: return (float) g_rand_double_range (rand, -2.0, 2.0);
    default: return (float) g_rand_int_range (rand, -3, 4);
    }
}

static void
assert_same_bits (const float *got, const float *want, gsize n, const char *what, int a, int b)
{
  for (gsize i = 0; i < n; i++)
    if (bits (got[i]) != bits (want[i]))
      g_error ("%s (%d, %d): element %" G_GSIZE_FORMAT " is %g (0x%08x), expected %g (0x%08x)",
               what, a, b, i, got[i], bits (got[i]), want[i], bits (want[i]));
}

/* A 1-D float tensor over someone else's memory (any alignment). */
static LensTensor
view (float *data, gsize n)
{
  LensTensor t = { 0 };

  t.dtype = LENS_DTYPE_FLOAT32;
  t.shape.ndim = 1;
  t.shape.dims[0] = (int64_t) n;
  t.data = data;
  t.owns_data = FALSE;
  return t;
}

/* ---- ReLU / LeakyReLU forward ---- */

static void
test_relu_forward (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (4711);
  float xb[80], yb[80], want[80];

  for (int leaky = 0; leaky < 2; leaky++)
    for (int len = 0; len <= 70; len++)
      for (int off = 0; off < 4; off++)
        {
          LensNode node = { 0 };
          LensExec exec = { 0 };
          LensTensor x, y;
          const LensTensor *ins[1];
          LensTensor *outs[1];
          float alpha = 0.1f;

          for (int i = 0; i < 80; i++)
            {
              xb[i] = awkward_value (rand);
              yb[i] = 12345.0f;  /* sentinel: must survive outside the run */
            }
          memcpy (want, yb, sizeof want);
          for (int i = 0; i < len; i++)
            {
              float v = xb[off + i];
              if (leaky)
                want[off + i] = v >= 0.0f ? v : alpha * v;
              else
                want[off + i] = v > 0.0f ? v : 0.0f;
            }
          node.op = leaky ? LENS_OP_LEAKYRELU : LENS_OP_RELU;
          node.p.alpha = alpha;
          x = view (xb + off, (gsize) len);
          y = view (yb + off, (gsize) len);
          ins[0] = &x;
          outs[0] = &y;
          lens_op_class (node.op)->forward (&node, ins, outs, &exec);
          assert_same_bits (yb, want, 80, leaky ? "leaky relu" : "relu", len, off);

          /* in place (the executor may reuse a buffer) */
          if (!leaky)
            {
              y = view (xb + off, (gsize) len);
              outs[0] = &y;
              lens_op_class (node.op)->forward (&node, ins, outs, &exec);
              for (int i = 0; i < len; i++)
                g_assert_cmphex (bits (xb[off + i]), ==, bits (want[off + i]));
            }
        }

  /* the rule itself, by hand: NaN and -0 give +0 */
  {
    float x[] = { NAN, -0.0f, 0.0f, -1.0f, 2.5f, INFINITY, -INFINITY, 1e-40f, -1e-40f };
    float y[9];
    const float want[] = { 0.0f, 0.0f, 0.0f, 0.0f, 2.5f, INFINITY, 0.0f, 1e-40f, 0.0f };
    LensNode node = { 0 };
    LensExec exec = { 0 };
    LensTensor tx = view (x, 9), ty = view (y, 9);
    const LensTensor *ins[1] = { &tx };
    LensTensor *outs[1] = { &ty };

    node.op = LENS_OP_RELU;
    lens_op_class (node.op)->forward (&node, ins, outs, &exec);
    assert_same_bits (y, want, 9, "relu by hand", 0, 0);
  }
}

/* ---- ReLU backward, three modes ---- */

static float
back_one (LensBackMode mode, float slope, float x, float g)
{
  if (mode == LENS_BACK_DECONV)
    return g > 0.0f ? g : 0.0f;
  if (mode == LENS_BACK_GUIDED)
    return g > 0.0f && x > 0.0f ? g : 0.0f;
  return x > 0.0f ? g : slope * g;
}

static void
test_relu_backward (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (1234);
  float xb[80], gb[80], gxb[80], want[80];
  const LensBackMode modes[] = { LENS_BACK_DECONV, LENS_BACK_GUIDED, LENS_BACK_GRADIENT };

  for (int leaky = 0; leaky < 2; leaky++)
    for (int m = 0; m < 3; m++)
      for (int len = 0; len <= 70; len++)
        for (int off = 0; off < 4; off++)
          {
            LensNode node = { 0 };
            LensBackCtx ctx = { 0 };
            LensTensor x, gout, gx;
            const LensTensor *ins[1], *outs[1];
            LensTensor *gins[1];
            float slope = leaky ? 0.2f : 0.0f;

            for (int i = 0; i < 80; i++)
              {
                xb[i] = awkward_value (rand);
                gb[i] = awkward_value (rand);
                /* the signal accumulates: start from values incl. -0 */
                gxb[i] = g_rand_int_range (rand, 0, 4) == 0 ? -0.0f : (float) g_rand_int_range (rand, -2, 3);
              }
            memcpy (want, gxb, sizeof want);
            for (int i = 0; i < len; i++)
              want[off + i] += back_one (modes[m], slope, xb[off + i], gb[off + i]);
            node.op = leaky ? LENS_OP_LEAKYRELU : LENS_OP_RELU;
            node.p.alpha = slope;
            ctx.mode = modes[m];
            x = view (xb + off, (gsize) len);
            gout = view (gb + off, (gsize) len);
            gx = view (gxb + off, (gsize) len);
            ins[0] = &x;
            outs[0] = &x;  /* not read by ReLU */
            gins[0] = &gx;
            lens_op_class (node.op)->backward (&node, ins, outs, &gout, gins, &ctx);
            assert_same_bits (gxb, want, 80, leaky ? "leaky relu backward" : "relu backward",
                              m * 100 + len, off);
          }
}

/* ---- MaxPool ---- */

/* The rule of DESIGN.md, written out: the first cell of the window inside
 * the input is taken, a later one only when strictly greater; a window
 * with no cell gives 0 and switch -1. */
static void
pool_reference (const float *x, int64_t nc_count, int64_t h, int64_t w, int k, int s,
                const int *pads, int64_t oh, int64_t ow, float *y, int32_t *sw)
{
  for (int64_t nc = 0; nc < nc_count; nc++)
    for (int64_t oy = 0; oy < oh; oy++)
      for (int64_t ox = 0; ox < ow; ox++)
        {
          float best = 0.0f;
          int32_t arg = -1;

          for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++)
              {
                int64_t iy = oy * s - pads[0] + ki, ix = ox * s - pads[1] + kj;
                float v;

                if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                  continue;
                v = x[nc * h * w + iy * w + ix];
                if (arg == -1 || v > best)
                  {
                    best = v;
                    arg = (int32_t) (iy * w + ix);
                  }
              }
          y[(nc * oh + oy) * ow + ox] = best;
          sw[(nc * oh + oy) * ow + ox] = arg;
        }
}

static int64_t
pool_out (int64_t in, int k, int s, int pad_sum, gboolean ceil_mode)
{
  int64_t span = in + pad_sum - k;

  return (ceil_mode ? (span + s - 1) / s : span / s) + 1;
}

static void
check_pool (GRand *rand, int k, int s, const int *p, gboolean ceil_mode, int n, int c,
            int h, int w, int kind)
{
  g_autoptr (LensTensor) x = tensor (4, (int64_t[]) { n, c, h, w }, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (LensTensor) idx = NULL;
  g_autofree float *want = NULL;
  g_autofree int32_t *want_sw = NULL;
  Attrs a = { 0 };
  Run r;
  int64_t oh, ow;
  gsize no;
  float *xv = x->data;

  for (gsize i = 0; i < lens_tensor_numel (x); i++)
    switch (kind)
      {
      case 0:  /* ties everywhere */
        xv[i] = (float) g_rand_int_range (rand, 0, 4);
        break;
      case 1:  /* ReLU'd: mostly zeros, some -0 */
        xv[i] = g_rand_int_range (rand, 0, 3) == 0 ? -0.0f : MAX (0, g_rand_int_range (rand, -3, 3));
        break;
      default:
        xv[i] = awkward_value (rand);
        break;
      }
  attr_ints (&a, "kernel_shape", 2, (int[]) { k, k });
  attr_ints (&a, "strides", 2, (int[]) { s, s });
  attr_ints (&a, "pads", 4, p);
  attr_int (&a, "ceil_mode", ceil_mode);
  if (!run_op (&r, LENS_OP_MAXPOOL, &a, (LensTensor *[]) { x }, 1, &error))
    g_error ("maxpool k%d s%d %dx%d: %s", k, s, h, w, error->message);

  oh = pool_out (h, k, s, p[0] + p[2], ceil_mode);
  ow = pool_out (w, k, s, p[1] + p[3], ceil_mode);
  /* ONNX: with ceil_mode, a last window that starts in the end padding is dropped */
  if (ceil_mode && (oh - 1) * s >= h + p[0])
    oh--;
  if (ceil_mode && (ow - 1) * s >= w + p[1])
    ow--;
  g_assert_cmpint (r.fast->shape.dims[2], ==, oh);
  g_assert_cmpint (r.fast->shape.dims[3], ==, ow);
  no = (gsize) (n * c * oh * ow);
  want = g_new (float, MAX (no, 1));
  want_sw = g_new (int32_t, MAX (no, 1));
  pool_reference (xv, n * c, h, w, k, s, p, oh, ow, want, want_sw);
  assert_same_bits (r.fast->data, want, no, "maxpool", k * 10 + s, h * 100 + w);
  for (gsize i = 0; i < no; i++)
    if (r.switches[i] != want_sw[i])
      g_error ("maxpool k%d s%d pads %d,%d,%d,%d ceil %d %dx%d: switch %" G_GSIZE_FORMAT
               " is %d, expected %d", k, s, p[0], p[1], p[2], p[3], ceil_mode, h, w, i,
               r.switches[i], want_sw[i]);

  /* the optional Indices output: flat over N*C*H*W */
  {
    LensTensor *outs[2];
    const LensTensor *ins[1] = { x };
    LensExec exec = { 0 };
    const int64_t *iv;

    idx = lens_tensor_new (LENS_DTYPE_INT64, &r.fast->shape, NULL);
    outs[0] = r.fast;
    outs[1] = idx;
    r.node.n_outputs = 2;
    lens_op_class (LENS_OP_MAXPOOL)->forward (&r.node, ins, outs, &exec);
    iv = idx->data;
    for (gsize i = 0; i < no; i++)
      {
        int64_t plane = (int64_t) i / (oh * ow);
        int64_t expect = want_sw[i] >= 0 ? plane * h * w + want_sw[i] : -1;
        g_assert_cmpint (iv[i], ==, expect);
      }
  }
  run_clear (&r);
}

static void
test_maxpool (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (77);
  int cases = 0;

  for (int k = 2; k <= 3; k++)
    for (int ceil_mode = 0; ceil_mode < 2; ceil_mode++)
      for (int pad = 0; pad < 8; pad++)
        {
          /* each side 0 or 1 (pads must stay below the window) */
          int p[4] = { pad & 1, (pad >> 1) & 1, (pad >> 2) & 1, (pad >> 2) & 1 };

          for (int h = 1; h <= 11; h++)
            for (int w = 1; w <= 13; w += 1 + (h & 1))
              for (int kind = 0; kind < 3; kind++)
                {
                  if (h + p[0] + p[2] < k || w + p[1] + p[3] < k)
                    continue;
                  check_pool (rand, k, 2, p, ceil_mode, 1 + (kind == 2), 1 + kind, h, w, kind);
                  cases++;
                }
        }
  /* the general path still holds the same rule */
  for (int kind = 0; kind < 3; kind++)
    {
      check_pool (rand, 3, 1, (int[]) { 1, 1, 1, 1 }, FALSE, 1, 2, 9, 10, kind);
      check_pool (rand, 2, 3, (int[]) { 0, 1, 1, 0 }, TRUE, 1, 2, 10, 9, kind);
      check_pool (rand, 3, 2, (int[]) { 2, 2, 2, 2 }, FALSE, 1, 2, 7, 8, kind);
      check_pool (rand, 2, 2, (int[]) { 0, 0, 0, 0 }, FALSE, 1, 3, 224, 224, kind);
      /* rows of one or more runs of sixteen windows (the AVX-512 scan),
       * with padding and a remainder */
      for (int w = 31; w <= 75; w += 11)
        {
          check_pool (rand, 3, 2, (int[]) { 0, 0, 0, 0 }, FALSE, 1, 2, 7, w, kind);
          check_pool (rand, 3, 2, (int[]) { 1, 1, 1, 1 }, TRUE, 1, 2, 8, w, kind);
          check_pool (rand, 2, 2, (int[]) { 0, 1, 1, 0 }, FALSE, 1, 2, 6, w, kind);
          check_pool (rand, 2, 2, (int[]) { 0, 0, 0, 0 }, TRUE, 2, 3, 5, w + 256, kind);
        }
      check_pool (rand, 3, 2, (int[]) { 0, 0, 0, 0 }, TRUE, 1, 3, 55, 55, kind);
      /* many small planes: shared out over the threads in chunks of planes */
      check_pool (rand, 3, 2, (int[]) { 0, 0, 0, 0 }, FALSE, 2, 40, 27, 27, kind);
      check_pool (rand, 2, 3, (int[]) { 0, 1, 1, 0 }, TRUE, 3, 50, 20, 19, kind);
    }
  g_assert_cmpint (cases, >, 500);
}

/* ---- AveragePool with a 1 x 1 window: each output is its cell ---- */

static void
test_avgpool_one (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (606);
  g_autoptr (LensTensor) x = random_tensor (rand, 4, (int64_t[]) { 2, 3, 6, 7 });
  float *xv = x->data;
  g_autoptr (GError) error = NULL;
  Attrs a = { 0 };
  Run r;

  for (gsize i = 0; i < lens_tensor_numel (x); i += 5)
    xv[i] = awkward_value (rand);
  attr_ints (&a, "kernel_shape", 2, (int[]) { 1, 1 });
  if (!run_op (&r, LENS_OP_AVERAGEPOOL, &a, (LensTensor *[]) { x }, 1, &error))
    g_error ("averagepool 1x1: %s", error->message);
  g_assert_true (lens_shape_equal (&r.fast->shape, &x->shape));
  for (gsize i = 0; i < lens_tensor_numel (x); i++)
    if (!isnan (xv[i]))
      g_assert_cmpuint (bits (((float *) r.fast->data)[i]), ==, bits (xv[i]));
    else
      g_assert_true (isnan (((float *) r.fast->data)[i]));
  run_clear (&r);
}

/* ---- Conv with partial output-channel tiles (direct kernel) ---- */

static void
test_conv_partial_tiles (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (31337);
  /* output channels per group: a full tile of 8 plus 5, and 8 * 8 + 6 */
  const int per_group[] = { 13, 70 };

  for (int t = 0; t < 2; t++)
    for (int groups = 1; groups <= 2; groups++)
      for (int k = 3; k <= 5; k += 2)
        {
          int cg = 3, m = per_group[t] * groups;
          g_autoptr (LensTensor) x = random_tensor (rand, 4, (int64_t[]) { 2, cg * groups, 9, 11 });
          g_autoptr (LensTensor) wt = random_tensor (rand, 4, (int64_t[]) { m, cg, k, k });
          g_autoptr (LensTensor) b = random_tensor (rand, 1, (int64_t[]) { m });
          g_autoptr (GError) error = NULL;
          Attrs a = { 0 };
          Run r;

          attr_ints (&a, "pads", 4, (int[]) { k / 2, k / 2, k / 2, k / 2 });
          attr_int (&a, "group", groups);
          if (!run_op (&r, LENS_OP_CONV, &a, (LensTensor *[]) { x, wt, b }, 3, &error))
            g_error ("conv m=%d groups=%d k=%d: %s", m, groups, k, error->message);
          g_assert_cmpint (r.fast->shape.dims[1], ==, m);
          g_assert_cmpint (r.fast->shape.dims[2], ==, 9);
          g_assert_cmpint (r.fast->shape.dims[3], ==, 11);
          assert_close (r.fast, r.ref, "conv partial tiles");
          run_clear (&r);
        }
}

/* ---- Conv layouts of the direct kernel: strides (over the input's
 * phases) and stride-1 rows that share their padding ---- */

static void
test_conv_layouts (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (4242);
  /* stride (h, w), kernel (h, w), pads (top, left, bottom, right), groups,
   * dilation */
  const struct { int sh, sw, kh, kw, pads[4], groups, dil; } cases[] = {
    { 1, 1, 3, 3, { 0, 2, 1, 0 }, 1 },     /* padding only on the left */
    { 1, 1, 3, 3, { 1, 0, 1, 3 }, 1 },     /* only on the right, wider than the kernel */
    { 1, 1, 3, 3, { 2, 4, 2, 4 }, 2 },
    { 1, 1, 2, 2, { 3, 3, 3, 3 }, 1 },     /* padding wider than the kernel on both sides */
    { 1, 1, 3, 3, { 2, 2, 2, 2 }, 1, 2 },  /* dilated */
    { 1, 1, 5, 5, { 2, 2, 2, 2 }, 1 },
    { 4, 4, 11, 11, { 2, 2, 2, 2 }, 1 },   /* AlexNet's first layer */
    { 2, 2, 7, 7, { 3, 3, 3, 3 }, 1 },     /* ResNet's */
    { 2, 2, 3, 3, { 1, 1, 1, 1 }, 2 },
    { 2, 2, 2, 2, { 0, 0, 0, 0 }, 1 },
    { 3, 3, 5, 4, { 0, 2, 1, 0 }, 1 },
    { 2, 1, 3, 3, { 1, 0, 1, 2 }, 3 },
    { 1, 3, 4, 3, { 2, 1, 0, 1 }, 1 },
    { 4, 2, 4, 5, { 3, 0, 3, 4 }, 1 },
  };
  int checked = 0;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int h = 17; h <= 20; h += 3)
      {
        /* 3 input channels a group: every (phase, channel, tap) becomes one
         * tap of a flat list; 6: the kernel loops over phases and channels */
        int cg = h == 17 ? 3 : 6, groups = cases[i].groups, m = 13 * groups;
        g_autoptr (LensTensor) x = random_tensor (rand, 4, (int64_t[]) { 2, cg * groups, h, h + 5 });
        g_autoptr (LensTensor) wt = random_tensor (rand, 4, (int64_t[]) { m, cg, cases[i].kh,
                                                                          cases[i].kw });
        g_autoptr (LensTensor) b = random_tensor (rand, 1, (int64_t[]) { m });
        g_autoptr (GError) error = NULL;
        Attrs a = { 0 };
        Run r;

        attr_ints (&a, "strides", 2, (int[]) { cases[i].sh, cases[i].sw });
        attr_ints (&a, "kernel_shape", 2, (int[]) { cases[i].kh, cases[i].kw });
        attr_ints (&a, "pads", 4, (int[]) { cases[i].pads[0], cases[i].pads[1], cases[i].pads[2],
                                            cases[i].pads[3] });
        attr_int (&a, "group", groups);
        if (cases[i].dil > 1)
          attr_ints (&a, "dilations", 2, (int[]) { cases[i].dil, cases[i].dil });
        if (!run_op (&r, LENS_OP_CONV, &a, (LensTensor *[]) { x, wt, b }, 3, &error))
          g_error ("conv layout case %u: %s", i, error->message);
        /* the direct kernel (not im2col) computed the fast output */
        if (lens_conv_direct_usable (&r.node.p))
          checked++;
        assert_close (r.fast, r.ref, "conv layout");
        run_clear (&r);
      }
  /* inputs narrower or shorter than a stride: whole phases of padding */
  for (int w = 1; w <= 3; w++)
    {
      g_autoptr (LensTensor) x = random_tensor (rand, 4, (int64_t[]) { 1, 2, 2, w });
      g_autoptr (LensTensor) wt = random_tensor (rand, 4, (int64_t[]) { 5, 2, 4, 4 });
      g_autoptr (GError) error = NULL;
      Attrs a = { 0 };
      Run r;

      attr_ints (&a, "strides", 2, (int[]) { 4, 4 });
      attr_ints (&a, "pads", 4, (int[]) { 1, 2, 3, 3 });
      if (!run_op (&r, LENS_OP_CONV, &a, (LensTensor *[]) { x, wt, NULL }, 3, &error))
        g_error ("conv narrow w=%d: %s", w, error->message);
      assert_close (r.fast, r.ref, "conv narrow");
      run_clear (&r);
    }
  if (lens_conv_direct_usable (&(LensOpParams) { .strides = { 1, 1 }, .kernel = { 3, 3 } }))
    g_assert_cmpint (checked, ==, 2 * (int) G_N_ELEMENTS (cases));
}

/* ---- the runner: jobs from several threads at once, and nested ---- */

typedef struct
{
  gint  *hits;      /* one counter an item */
  gint64 n;
  int    nested;    /* items also run a job of their own */
} Count;

static void
count_inner (gpointer data,
             int64_t  item)
{
  g_atomic_int_inc ((gint *) data + item);
}

static void
count_item (gpointer data,
            int64_t  item)
{
  Count *c = data;

  g_atomic_int_inc (&c->hits[item]);
  if (c->nested)
    {
      gint inner[7] = { 0 };

      lens_parallel_run_n (count_inner, inner, 7, 2);
      for (int i = 0; i < 7; i++)
        g_assert_cmpint (inner[i], ==, 1);
    }
}

static gpointer
count_thread (gpointer data)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (GPOINTER_TO_UINT (data));

  for (int job = 0; job < 300; job++)
    {
      Count c = { NULL, g_rand_int_range (rand, 1, 60), job % 10 == 0 };

      c.hits = g_new0 (gint, c.n);
      lens_parallel_run_n (count_item, &c, c.n, g_rand_int_range (rand, 1, 5));
      /* every item ran once, and all of them before the call returned */
      for (gint64 i = 0; i < c.n; i++)
        g_assert_cmpint (g_atomic_int_get (&c.hits[i]), ==, 1);
      g_free (c.hits);
    }
  return NULL;
}

static void
test_parallel_runner (void)
{
  GThread *threads[4];

  for (int t = 0; t < 4; t++)
    threads[t] = g_thread_new ("counter", count_thread, GINT_TO_POINTER (t + 1));
  for (int t = 0; t < 4; t++)
    g_thread_join (threads[t]);
}

/* ---- batch-1 Gemm, B [N,K] (row kernel) ---- */

static void
test_gemm_rows (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (2718);
  /* K: below one vector, a vector and a bit, long; N: partial groups of 8
   * and partial blocks of rows */
  const int ks[] = { 5, 16, 37, 1000 };
  const int ns[] = { 1, 7, 8, 33, 70, 257 };
  int cases = 0;

  for (guint i = 0; i < G_N_ELEMENTS (ks); i++)
    for (guint j = 0; j < G_N_ELEMENTS (ns); j++)
      for (int variant = 0; variant < 4; variant++)
        {
          int k = ks[i], n = ns[j];
          /* variant 0: plain with a bias [N]; 1: alpha, beta, bias [1,N];
           * 2: no bias; 3: A stored transposed ([K,1], transA) */
          g_autoptr (LensTensor) a = random_tensor (rand, 2, variant == 3
                                                                ? (int64_t[]) { k, 1 }
                                                                : (int64_t[]) { 1, k });
          g_autoptr (LensTensor) b = random_tensor (rand, 2, (int64_t[]) { n, k });
          g_autoptr (LensTensor) c = random_tensor (rand, variant == 1 ? 2 : 1,
                                                    variant == 1 ? (int64_t[]) { 1, n }
                                                                 : (int64_t[]) { n });
          g_autoptr (GError) error = NULL;
          Attrs at = { 0 };
          Run r;

          attr_int (&at, "transB", 1);
          if (variant == 1)
            {
              attr_float (&at, "alpha", 0.75f);
              attr_float (&at, "beta", -1.5f);
            }
          if (variant == 3)
            attr_int (&at, "transA", 1);
          if (!run_op (&r, LENS_OP_GEMM, &at, (LensTensor *[]) { a, b, variant == 2 ? NULL : c },
                       variant == 2 ? 2 : 3, &error))
            g_error ("gemm k=%d n=%d variant %d: %s", k, n, variant, error->message);
          g_assert_cmpint (r.fast->shape.dims[0], ==, 1);
          g_assert_cmpint (r.fast->shape.dims[1], ==, n);
          assert_close (r.fast, r.ref, "batch-1 gemm");
          run_clear (&r);
          cases++;
        }
  g_assert_cmpint (cases, ==, 96);
}

#ifdef __linux__
/* The nice values of this process's GLib pool threads (not the spawner). */
static GArray *
pool_thread_nices (void)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;

  g_assert_nonnull (dir);
  while ((tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *comm_path = g_build_filename ("/proc/self/task", tid, "comm", NULL);
      g_autofree char *comm = NULL;
      int v;

      if (!g_file_get_contents (comm_path, &comm, NULL, NULL))
        continue;   /* the thread has just ended */
      g_strstrip (comm);
      if (!g_str_has_prefix (comm, "pool-") || g_str_equal (comm, "pool-spawner"))
        continue;
      errno = 0;
      v = getpriority (PRIO_PROCESS, (id_t) g_ascii_strtoll (tid, NULL, 10));
      if (errno == 0)
        g_array_append_val (out, v);
    }
  return out;
}

static void
checked_conv (GRand *rand)
{
  g_autoptr (LensTensor) x = random_tensor (rand, 4, (int64_t[]) { 1, 16, 40, 40 });
  g_autoptr (LensTensor) wt = random_tensor (rand, 4, (int64_t[]) { 64, 16, 3, 3 });
  g_autoptr (LensTensor) b = random_tensor (rand, 1, (int64_t[]) { 64 });
  g_autoptr (GError) error = NULL;
  Attrs a = { 0 };
  Run r;

  attr_ints (&a, "pads", 4, (int[]) { 1, 1, 1, 1 });
  if (!run_op (&r, LENS_OP_CONV, &a, (LensTensor *[]) { x, wt, b }, 3, &error))
    g_error ("conv: %s", error->message);
  assert_close (r.fast, r.ref, "conv at a lowered priority");
  run_clear (&r);
}

static gpointer
lowered_conv_thread (gpointer data)
{
  pid_t me = (pid_t) syscall (SYS_gettid);
  int before, want;

  errno = 0;
  before = getpriority (PRIO_PROCESS, (id_t) me);
  g_assert_cmpint (errno, ==, 0);
  want = MIN (before + 5, 19);
  g_assert_cmpint (setpriority (PRIO_PROCESS, (id_t) me, want), ==, 0);
  checked_conv (data);
  return GINT_TO_POINTER (want);
}
#endif

static void
test_conv_helper_priority (void)
{
#ifdef __linux__
  g_autoptr (GRand) rand = g_rand_new_with_seed (99);
  g_autoptr (GArray) nices = NULL;
  int want, lowered = 0;

  if (!lens_conv_direct_usable (&(LensOpParams) { .strides = { 1, 1 }, .kernel = { 3, 3 } }))
    {
      g_test_skip ("the direct convolution needs AVX-512");
      return;
    }
  lens_set_threads (2);
  /* the pool's threads start at this thread's priority ... */
  checked_conv (rand);
  /* ... and take the lowered one when a lowered thread asks */
  want = GPOINTER_TO_INT (g_thread_join (g_thread_new ("lowered", lowered_conv_thread, rand)));
  nices = pool_thread_nices ();
  /* the helper that shared the convolution lives on in the pool (others,
   * idle since the earlier cases, may still run at the test's priority) */
  for (guint i = 0; i < nices->len; i++)
    lowered += g_array_index (nices, int, i) == want;
  g_assert_cmpint (lowered, >=, 1);
#else
  g_test_skip ("thread priorities are checked on Linux");
#endif
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/fastpaths/relu/forward", test_relu_forward);
  g_test_add_func ("/engine/fastpaths/relu/backward", test_relu_backward);
  g_test_add_func ("/engine/fastpaths/maxpool", test_maxpool);
  g_test_add_func ("/engine/fastpaths/avgpool-one", test_avgpool_one);
  g_test_add_func ("/engine/fastpaths/conv-partial-tiles", test_conv_partial_tiles);
  g_test_add_func ("/engine/fastpaths/conv-layouts", test_conv_layouts);
  g_test_add_func ("/engine/fastpaths/gemm-rows", test_gemm_rows);
  g_test_add_func ("/engine/fastpaths/parallel-runner", test_parallel_runner);
  g_test_add_func ("/engine/fastpaths/conv-helper-priority", test_conv_helper_priority);
  return g_test_run ();
}
