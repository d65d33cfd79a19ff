/* train-util.h: small helpers shared by the training tests */
#pragma once

#include <glib.h>

#include "lens-net.h"
#include "lens-onnx-write.h"

/* Packs and loads the builder's model; fails the test on error. */
static inline LensNet *
train_util_load (LensOnnxBuilder *b)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = lens_onnx_builder_to_bytes (b, &error);
  LensNet *net;

  g_assert_no_error (error);
  net = lens_net_load_onnx_data (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL,
                                 NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (net);
  return net;
}

/* A float initializer with values uniform in [lo, hi). */
static inline void
train_util_add_range (LensOnnxBuilder *b,
                      GRand           *r,
                      const char      *name,
                      int              ndim,
                      const int64_t   *dims,
                      double           lo,
                      double           hi)
{
  LensShape s = lens_shape_make (ndim, dims);
  g_autoptr (LensTensor) t = lens_tensor_new_float (&s, NULL);
  float *d = t->data;

  for (gsize i = 0; i < lens_tensor_numel (t); i++)
    d[i] = (float) g_rand_double_range (r, lo, hi);
  lens_onnx_builder_add_initializer (b, name, t);
}

/* A float initializer with values uniform in [-scale, scale). */
static inline void
train_util_add_random (LensOnnxBuilder *b,
                       GRand           *r,
                       const char      *name,
                       int              ndim,
                       const int64_t   *dims,
                       double           scale)
{
  train_util_add_range (b, r, name, ndim, dims, -scale, scale);
}
