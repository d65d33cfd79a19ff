/* test-kernels.c: the fast kernels against the naive reference ones.
 *
 * Nodes are built by hand and driven through the op table (setup, then
 * forward and reference).  Small cases with hand-computed results check
 * the reference kernels themselves; seeded random configurations then
 * compare the fast path (im2col / direct 1x1 + sgemm, sgemv for M or N = 1)
 * with them.  MaxPool has a single naive kernel: its values and switches
 * are checked against a window scan written here. */
#include <math.h>
#include <string.h>

#include "engine-test.h"
#include "kernel-util.h"

/* ---- Conv ---- */

static void
test_conv_hand (void)
{
  const float x9[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  const float w4[] = { 1, 2, 3, 4 }, ones9[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 }, half[] = { 0.5f };
  g_autoptr (LensTensor) x = tensor (4, (int64_t[]) { 1, 1, 3, 3 }, x9);
  g_autoptr (LensTensor) w2 = tensor (4, (int64_t[]) { 1, 1, 2, 2 }, w4);
  g_autoptr (LensTensor) w3 = tensor (4, (int64_t[]) { 1, 1, 3, 3 }, ones9);
  g_autoptr (LensTensor) wd = tensor (4, (int64_t[]) { 1, 1, 2, 2 }, ones9);
  g_autoptr (LensTensor) b = tensor (1, (int64_t[]) { 1 }, half);
  const float xg[] = { 1, 2, 3, 4, 10, 20, 30, 40 }, wgv[] = { 2, -1 };
  g_autoptr (LensTensor) x2 = tensor (4, (int64_t[]) { 1, 2, 2, 2 }, xg);
  g_autoptr (LensTensor) wg = tensor (4, (int64_t[]) { 2, 1, 1, 1 }, wgv);
  Run r;
  Attrs a = { 0 };

  /* 2x2 kernel, valid: x[i][j] + 2x[i][j+1] + 3x[i+1][j] + 4x[i+1][j+1] + 0.5 */
  g_assert_true (run_op (&r, LENS_OP_CONV, &a, (LensTensor *[]) { x, w2, b }, 3, NULL));
  assert_values (r.fast, (float[]) { 37.5f, 47.5f, 67.5f, 77.5f }, "conv 2x2 fast");
  assert_values (r.ref, (float[]) { 37.5f, 47.5f, 67.5f, 77.5f }, "conv 2x2 ref");
  g_assert_cmpuint (r.node.n_params, ==, 5);
  g_assert_cmpuint (r.node.flops, ==, 2 * 4 * 4);
  run_clear (&r);

  /* 3x3 box, pad 1, stride 2: sums of the 2x2 corners */
  attr_ints (&a, "pads", 4, (int[]) { 1, 1, 1, 1 });
  attr_ints (&a, "strides", 2, (int[]) { 2, 2 });
  g_assert_true (run_op (&r, LENS_OP_CONV, &a, (LensTensor *[]) { x, w3 }, 2, NULL));
  assert_values (r.fast, (float[]) { 12, 16, 24, 28 }, "conv pad/stride fast");
  assert_values (r.ref, (float[]) { 12, 16, 24, 28 }, "conv pad/stride ref");
  run_clear (&r);

  /* 2x2 ones dilated by 2: the four corners */
  a.n = 0;
  attr_ints (&a, "dilations", 2, (int[]) { 2, 2 });
  g_assert_true (run_op (&r, LENS_OP_CONV, &a, (LensTensor *[]) { x, wd }, 2, NULL));
  g_assert_cmpint (r.fast->shape.dims[2], ==, 1);
  assert_values (r.fast, (float[]) { 20 }, "conv dilation fast");
  assert_values (r.ref, (float[]) { 20 }, "conv dilation ref");
  run_clear (&r);

  /* two groups of one channel: 2 * ch0, -1 * ch1 */
  a.n = 0;
  attr_int (&a, "group", 2);
  g_assert_true (run_op (&r, LENS_OP_CONV, &a, (LensTensor *[]) { x2, wg }, 2, NULL));
  assert_values (r.fast, (float[]) { 2, 4, 6, 8, -10, -20, -30, -40 }, "conv groups fast");
  assert_values (r.ref, (float[]) { 2, 4, 6, 8, -10, -20, -30, -40 }, "conv groups ref");
  run_clear (&r);
}

static void
test_conv_random (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (20240611);
  const int kernels[] = { 1, 1, 3, 3, 5, 7, 11 };
  const char *auto_pads[] = { "SAME_UPPER", "SAME_LOWER", "VALID" };
  int done = 0, n_1d = 0, n_depthwise = 0, n_direct = 0;

  while (done < 400)
    {
      gboolean one_d = g_rand_int_range (rand, 0, 6) == 0;
      int sp = one_d ? 1 : 2, kind = g_rand_int_range (rand, 0, 3);
      int n = g_rand_int_range (rand, 1, 3), g, cg, mg, k[2], s[2], d[2], p[4], in[2];
      int auto_pad = g_rand_int_range (rand, 0, 8) == 0 ? g_rand_int_range (rand, 0, 3) : -1;
      int64_t xd[4], wd[4];
      g_autoptr (LensTensor) x = NULL, w = NULL, b = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *what = NULL;
      Attrs a = { 0 };
      Run r;
      double work;

      /* groups: 1, a few, or depthwise (with channel multiplier 1 or 2) */
      g = kind == 0 ? 1 : g_rand_int_range (rand, 2, 5);
      cg = kind == 2 ? 1 : g_rand_int_range (rand, 1, 5);
      mg = kind == 2 ? g_rand_int_range (rand, 1, 3) : g_rand_int_range (rand, 1, 5);
      for (int i = 0; i < 2; i++)
        {
          k[i] = kernels[g_rand_int_range (rand, 0, G_N_ELEMENTS (kernels))];
          s[i] = g_rand_int_range (rand, 1, 5);
          d[i] = g_rand_int_range (rand, 1, 3);
          p[i] = g_rand_int_range (rand, 0, MIN (k[i], 4));
          p[i + 2] = g_rand_int_range (rand, 0, MIN (k[i], 4));
          in[i] = MAX (1, (k[i] - 1) * d[i] + 1 - p[i] - p[i + 2]) + g_rand_int_range (rand, 0, 14);
        }
      if (g_rand_int_range (rand, 0, 5) == 0)
        k[0] = k[1] = 1, s[0] = s[1] = 1, p[0] = p[1] = p[2] = p[3] = 0; /* direct GEMM */
      if (one_d)
        k[0] = 1, s[0] = 1, d[0] = 1, p[0] = p[2] = 0, in[0] = 1;
      if (auto_pad >= 0)   /* VALID has no padding to make the window fit */
        for (int i = 0; i < 2; i++)
          in[i] = MAX (in[i], (k[i] - 1) * d[i] + 1);
      work = (double) n * g * mg * cg * k[0] * k[1] * in[0] * in[1];
      if (work > 400000)
        continue;

      xd[0] = n, xd[1] = g * cg, xd[2] = in[0], xd[3] = in[1];
      wd[0] = g * mg, wd[1] = cg, wd[2] = k[0], wd[3] = k[1];
      if (one_d)
        xd[2] = in[1], wd[2] = k[1];
      x = random_tensor (rand, sp + 2, xd);
      w = random_tensor (rand, sp + 2, wd);
      if (g_rand_boolean (rand))
        b = random_tensor (rand, 1, (int64_t[]) { g * mg });

      if (g_rand_boolean (rand))
        attr_ints (&a, "kernel_shape", sp, k + 2 - sp);
      attr_ints (&a, "strides", sp, s + 2 - sp);
      attr_ints (&a, "dilations", sp, d + 2 - sp);
      if (auto_pad >= 0)
        attr_string (&a, "auto_pad", auto_pads[auto_pad]);
      else
        attr_ints (&a, "pads", 2 * sp,
                   one_d ? (int[]) { p[1], p[3] } : (int[]) { p[0], p[1], p[2], p[3] });
      attr_int (&a, "group", g);

      what = g_strdup_printf ("conv #%d: n=%d g=%d cg=%d mg=%d k=%dx%d s=%dx%d d=%dx%d "
                              "pads=%d,%d,%d,%d auto_pad=%s in=%dx%d %s%s", done, n, g, cg, mg,
                              k[0], k[1], s[0], s[1], d[0], d[1], p[0], p[1], p[2], p[3],
                              auto_pad >= 0 ? auto_pads[auto_pad] : "-", in[0], in[1],
                              one_d ? "1-D " : "", b ? "bias" : "");
      if (!run_op (&r, LENS_OP_CONV, &a, (LensTensor *[]) { x, w, b }, 3, &error))
        g_error ("%s: setup failed: %s", what, error->message);
      g_assert_cmpint (r.fast->shape.ndim, ==, sp + 2);
      assert_close (r.fast, r.ref, what);
      n_1d += one_d;
      n_depthwise += kind == 2;
      n_direct += r.node.workspace_floats == 0;
      run_clear (&r);
      done++;
    }
  g_test_message ("%d conv configurations: %d 1-D, %d depthwise, %d direct 1x1", done, n_1d,
                  n_depthwise, n_direct);
  g_assert_cmpint (n_1d, >, 20);
  g_assert_cmpint (n_depthwise, >, 20);
  g_assert_cmpint (n_direct, >, 20);
}

/* ---- Gemm ---- */

static void
test_gemm_hand (void)
{
  /* A = [[1,2,3],[4,5,6]], B = [[1,0],[0,1],[1,1]]: AB = [[4,5],[10,11]];
   * 2 AB + 0.5 [10,20] = [[13,20],[25,32]] */
  const float av[] = { 1, 2, 3, 4, 5, 6 }, atv[] = { 1, 4, 2, 5, 3, 6 };
  const float bv[] = { 1, 0, 0, 1, 1, 1 }, btv[] = { 1, 0, 1, 0, 1, 1 }, cv[] = { 10, 20 };
  const float want[] = { 13, 20, 25, 32 };
  g_autoptr (LensTensor) A = tensor (2, (int64_t[]) { 2, 3 }, av);
  g_autoptr (LensTensor) At = tensor (2, (int64_t[]) { 3, 2 }, atv);
  g_autoptr (LensTensor) B = tensor (2, (int64_t[]) { 3, 2 }, bv);
  g_autoptr (LensTensor) Bt = tensor (2, (int64_t[]) { 2, 3 }, btv);
  g_autoptr (LensTensor) C = tensor (1, (int64_t[]) { 2 }, cv);

  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      {
        Attrs a = { 0 };
        Run r;

        attr_float (&a, "alpha", 2.0f);
        attr_float (&a, "beta", 0.5f);
        attr_int (&a, "transA", ta);
        attr_int (&a, "transB", tb);
        g_assert_true (run_op (&r, LENS_OP_GEMM, &a,
                               (LensTensor *[]) { ta ? At : A, tb ? Bt : B, C }, 3, NULL));
        assert_values (r.fast, want, "gemm fast");
        assert_values (r.ref, want, "gemm ref");
        g_assert_cmpuint (r.node.flops, ==, 2 * 2 * 2 * 3);
        g_assert_cmpuint (r.node.n_params, ==, 6 + 2);
        run_clear (&r);
      }
}

static void
test_gemm_random (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (77);
  const float alphas[] = { 1.0f, 0.5f, -1.25f }, betas[] = { 1.0f, 0.0f, 0.75f };
  int n_gemv = 0;

  for (int t = 0; t < 600; t++)
    {
      int64_t m = g_rand_int_range (rand, 1, 40), n = g_rand_int_range (rand, 1, 40);
      int64_t k = g_rand_int_range (rand, 1, 70);
      int ta = g_rand_int_range (rand, 0, 2), tb = g_rand_int_range (rand, 0, 2);
      int c_kind = t % 8;
      g_autoptr (LensTensor) A = NULL, B = NULL, C = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *what = NULL;
      Attrs a = { 0 };
      Run r;

      switch (t % 5)
        {
        case 0: m = 1; break;             /* a batch-1 dense layer: sgemv */
        case 1: n = 1; break;
        case 2: m = n = 1; break;
        default: break;
        }
      if (t % 11 == 0)
        k = 300 + g_rand_int_range (rand, 0, 300);
      A = random_tensor (rand, 2, ta ? (int64_t[]) { k, m } : (int64_t[]) { m, k });
      B = random_tensor (rand, 2, tb ? (int64_t[]) { n, k } : (int64_t[]) { k, n });
      switch (c_kind)
        {
        case 1: C = random_tensor (rand, 0, NULL); break;
        case 2: C = random_tensor (rand, 1, (int64_t[]) { 1 }); break;
        case 3: C = random_tensor (rand, 1, (int64_t[]) { n }); break;
        case 4: C = random_tensor (rand, 2, (int64_t[]) { 1, n }); break;
        case 5: C = random_tensor (rand, 2, (int64_t[]) { m, 1 }); break;
        case 6: case 7: C = random_tensor (rand, 2, (int64_t[]) { m, n }); break;
        default: break;
        }
      attr_float (&a, "alpha", alphas[t % 3]);
      attr_float (&a, "beta", betas[(t / 3) % 3]);
      attr_int (&a, "transA", ta);
      attr_int (&a, "transB", tb);
      what = g_strdup_printf ("gemm #%d: M=%" G_GINT64_FORMAT " N=%" G_GINT64_FORMAT
                              " K=%" G_GINT64_FORMAT " transA=%d transB=%d C kind %d "
                              "alpha=%g beta=%g", t, m, n, k, ta, tb, c_kind,
                              alphas[t % 3], betas[(t / 3) % 3]);
      if (!run_op (&r, LENS_OP_GEMM, &a, (LensTensor *[]) { A, B, C }, C ? 3 : 2, &error))
        g_error ("%s: setup failed: %s", what, error->message);
      g_assert_cmpint (r.fast->shape.dims[0], ==, m);
      g_assert_cmpint (r.fast->shape.dims[1], ==, n);
      assert_close (r.fast, r.ref, what);
      n_gemv += m == 1 || n == 1;
      run_clear (&r);
    }
  g_assert_cmpint (n_gemv, >, 300);
}

/* ---- MaxPool ---- */

static void
assert_pool (const Run *r, const float *values, const int32_t *switches, const char *what)
{
  gsize n = lens_tensor_numel (r->fast);

  assert_values (r->fast, values, what);
  for (gsize i = 0; i < n; i++)
    if (r->switches[i] != switches[i])
      g_error ("%s: switch %" G_GSIZE_FORMAT " is %d, expected %d", what, i, r->switches[i],
               switches[i]);
}

static void
test_maxpool_hand (void)
{
  const float zeros[16] = { 0 };
  const float ties[16] = { 1, 5, 5, 0,
                           5, 2, 0, 5,
                           0, 5, 3, 3,
                           4, 4, 3, 3 };
  float neg[16], neg25[25];
  g_autoptr (LensTensor) xz = tensor (4, (int64_t[]) { 1, 1, 4, 4 }, zeros);
  g_autoptr (LensTensor) xt = tensor (4, (int64_t[]) { 1, 1, 4, 4 }, ties);
  g_autoptr (LensTensor) xn = NULL, x5 = NULL;
  Attrs k3 = { 0 }, k2 = { 0 }, ceil = { 0 };
  Run r;

  for (int i = 0; i < 16; i++)
    neg[i] = -(float) (i + 1);
  for (int i = 0; i < 25; i++)
    neg25[i] = -3.0f;
  xn = tensor (4, (int64_t[]) { 1, 1, 4, 4 }, neg);
  x5 = tensor (4, (int64_t[]) { 1, 1, 5, 5 }, neg25);

  /* kernel 3, stride 2, pad 1 on 4x4: windows start at -1 and 1; the
   * first in-bounds cell of each window is (0,0) (0,1) (1,0) (1,1) */
  attr_ints (&k3, "kernel_shape", 2, (int[]) { 3, 3 });
  attr_ints (&k3, "strides", 2, (int[]) { 2, 2 });
  attr_ints (&k3, "pads", 4, (int[]) { 1, 1, 1, 1 });
  g_assert_true (run_op (&r, LENS_OP_MAXPOOL, &k3, (LensTensor *[]) { xz }, 1, NULL));
  assert_pool (&r, (float[]) { 0, 0, 0, 0 }, (int32_t[]) { 0, 1, 4, 5 }, "zeros");
  run_clear (&r);

  /* all negative: the padding (which would be 0) never wins */
  g_assert_true (run_op (&r, LENS_OP_MAXPOOL, &k3, (LensTensor *[]) { xn }, 1, NULL));
  assert_pool (&r, (float[]) { -1, -2, -5, -6 }, (int32_t[]) { 0, 1, 4, 5 }, "negative");
  run_clear (&r);

  /* 2x2 / 2 with ties: the first maximum in row-major order */
  attr_ints (&k2, "kernel_shape", 2, (int[]) { 2, 2 });
  attr_ints (&k2, "strides", 2, (int[]) { 2, 2 });
  g_assert_true (run_op (&r, LENS_OP_MAXPOOL, &k2, (LensTensor *[]) { xt }, 1, NULL));
  assert_pool (&r, (float[]) { 5, 5, 5, 3 }, (int32_t[]) { 1, 2, 9, 10 }, "ties");
  run_clear (&r);

  /* ceil_mode on 5x5, 2x2 / 2: 3x3 outputs, the last row and column of
   * windows hang over the edge and hold only real cells 4, 20-24 */
  ceil = k2;
  attr_int (&ceil, "ceil_mode", 1);
  g_assert_true (run_op (&r, LENS_OP_MAXPOOL, &ceil, (LensTensor *[]) { x5 }, 1, NULL));
  g_assert_cmpint (r.fast->shape.dims[2], ==, 3);
  g_assert_cmpint (r.fast->shape.dims[3], ==, 3);
  assert_pool (&r, (float[]) { -3, -3, -3, -3, -3, -3, -3, -3, -3 },
               (int32_t[]) { 0, 2, 4, 10, 12, 14, 20, 22, 24 }, "ceil");
  run_clear (&r);
}

/* Output size by the ONNX rule, for the random test. */
static int
pool_out (int in, int k, int s, int d, int pb, int pe, int ceil_mode)
{
  int span = in + pb + pe - ((k - 1) * d + 1);
  int out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;

  if (ceil_mode && (out - 1) * s >= in + pb)
    out--;
  return out;
}

static void
test_maxpool_random (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (9);

  for (int t = 0; t < 300; t++)
    {
      int n = g_rand_int_range (rand, 1, 3), c = g_rand_int_range (rand, 1, 4);
      int k[2], s[2], d[2], p[4], in[2], oh, ow, ceil_mode = g_rand_boolean (rand);
      g_autoptr (LensTensor) x = NULL;
      g_autoptr (GError) error = NULL;
      Attrs a = { 0 };
      Run r;
      const float *xv, *yv;

      for (int i = 0; i < 2; i++)
        {
          k[i] = g_rand_int_range (rand, 1, 6);
          s[i] = g_rand_int_range (rand, 1, 4);
          d[i] = g_rand_int_range (rand, 1, 3);
          p[i] = g_rand_int_range (rand, 0, (k[i] + 1) / 2);
          p[i + 2] = g_rand_int_range (rand, 0, (k[i] + 1) / 2);
          in[i] = MAX (1, (k[i] - 1) * d[i] + 1 - p[i] - p[i + 2]) + g_rand_int_range (rand, 0, 9);
        }
      x = tensor (4, (int64_t[]) { n, c, in[0], in[1] }, NULL);
      /* few distinct levels, ReLU'd: many ties, many zeros */
      for (gsize i = 0; i < lens_tensor_numel (x); i++)
        ((float *) x->data)[i] = MAX (0, g_rand_int_range (rand, -2, 3));
      attr_ints (&a, "kernel_shape", 2, k);
      attr_ints (&a, "strides", 2, s);
      attr_ints (&a, "dilations", 2, d);
      attr_ints (&a, "pads", 4, p);
      attr_int (&a, "ceil_mode", ceil_mode);
      if (!run_op (&r, LENS_OP_MAXPOOL, &a, (LensTensor *[]) { x }, 1, &error))
        g_error ("maxpool #%d: %s", t, error->message);
      oh = pool_out (in[0], k[0], s[0], d[0], p[0], p[2], ceil_mode);
      ow = pool_out (in[1], k[1], s[1], d[1], p[1], p[3], ceil_mode);
      g_assert_cmpint (r.fast->shape.dims[2], ==, oh);
      g_assert_cmpint (r.fast->shape.dims[3], ==, ow);
      xv = x->data;
      yv = r.fast->data;
      for (int nc = 0; nc < n * c; nc++)
        for (int yy = 0; yy < oh; yy++)
          for (int xx = 0; xx < ow; xx++)
            {
              int o = (nc * oh + yy) * ow + xx, arg = -1;
              float best = 0;

              for (int ki = 0; ki < k[0]; ki++)
                for (int kj = 0; kj < k[1]; kj++)
                  {
                    int iy = yy * s[0] - p[0] + ki * d[0], ix = xx * s[1] - p[1] + kj * d[1];
                    float v;

                    if (iy < 0 || iy >= in[0] || ix < 0 || ix >= in[1])
                      continue;
                    v = xv[nc * in[0] * in[1] + iy * in[1] + ix];
                    if (arg < 0 || v > best)
                      best = v, arg = iy * in[1] + ix;
                  }
              g_assert_cmpint (arg, >=, 0);  /* every window holds a real cell */
              if (r.switches[o] != arg || yv[o] != best)
                g_error ("maxpool #%d (k %dx%d s %dx%d d %dx%d pads %d,%d,%d,%d ceil %d): "
                         "output %d is %g at %d, expected %g at %d", t, k[0], k[1], s[0], s[1],
                         d[0], d[1], p[0], p[1], p[2], p[3], ceil_mode, o, yv[o],
                         r.switches[o], best, arg);
            }
      run_clear (&r);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  lens_set_threads (2);

  g_test_add_func ("/engine/kernels/conv/hand", test_conv_hand);
  g_test_add_func ("/engine/kernels/conv/random", test_conv_random);
  g_test_add_func ("/engine/kernels/gemm/hand", test_gemm_hand);
  g_test_add_func ("/engine/kernels/gemm/random", test_gemm_random);
  g_test_add_func ("/engine/kernels/maxpool/hand", test_maxpool_hand);
  g_test_add_func ("/engine/kernels/maxpool/random", test_maxpool_random);
  return g_test_run ();
}
