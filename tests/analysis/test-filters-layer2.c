/* test-filters-layer2.c: the layer-2 top-1 projections of the filters
 * analysis (lens-filters-layer2.c): which layer is layer 2, the top-1 per
 * channel against a brute force over the public forward API, bad input,
 * cancellation, and the stacked figure. */
#include <math.h>
#include <string.h>

#include "lens-filters.h"

static const char *fixtures;

typedef struct
{
  LensNet        *net;
  LensScanSource *source;
  char           *model;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *folder = g_build_filename (fixtures, "folder", NULL);
  g_autoptr(GError) error = NULL;

  f->model = g_build_filename (fixtures, "topk.onnx", NULL);
  /* the fixtures are a build dependency of this test */
  g_assert_true (g_file_test (f->model, G_FILE_TEST_EXISTS));
  f->net = lens_net_load_onnx (f->model, NULL, &error);
  g_assert_no_error (error);
  f->source = lens_scan_source_open (folder, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_pointer (&f->net, lens_net_unref);
  g_clear_pointer (&f->source, lens_scan_source_free);
  g_free (f->model);
}

/* topk.onnx's input: 1x28x28, pixels / 255 */
static const LensPreprocess pre = { 1, 28, 28, 0, 1.0f, { 0 }, { 1, 1, 1 }, FALSE };

static void
test_find_layer2 (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  int l;

  l = lens_filters_find_layer2 (f->net, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (lens_net_layer_get_name (f->net, l), ==, "conv2");
  l = lens_filters_find_layer2 (f->net, "conv1", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (lens_net_layer_get_name (f->net, l), ==, "conv2");
  l = lens_filters_find_layer2 (f->net, NULL, "conv1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (lens_net_layer_get_name (f->net, l), ==, "conv1");

  /* nothing after conv2 is a Conv */
  g_assert_cmpint (lens_filters_find_layer2 (f->net, "conv2", NULL, &error), ==, -1);
  g_assert_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_LAYER);
  g_assert_nonnull (strstr (error->message, "no second Conv layer after 'conv2'"));
  g_clear_error (&error);
  g_assert_cmpint (lens_filters_find_layer2 (f->net, NULL, "relu2", &error), ==, -1);
  g_assert_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_LAYER);
  g_assert_nonnull (strstr (error->message, "relu2"));
  g_clear_error (&error);
  g_assert_cmpint (lens_filters_find_layer2 (f->net, "nope", NULL, &error), ==, -1);
  g_assert_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_LAYER);
  g_assert_nonnull (strstr (error->message, "nope"));
}

/* Per channel the largest conv2 output over images [0, n), found by
 * running the net one image at a time and looking at every value. */
static void
brute_force (Fixture *f,
             int      n,
             float   *best,
             int     *image,
             int     *pos)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LensTrace) trace = lens_trace_new (f->net, 1, &error);
  int layer = lens_net_find_layer (f->net, "conv2");
  int value = lens_net_layer_get_output (f->net, layer);
  const LensShape *shape = lens_net_value_get_shape (f->net, value);
  int channels = (int) shape->dims[1];
  gsize plane = (gsize) shape->dims[2] * shape->dims[3];

  g_assert_no_error (error);
  for (int c = 0; c < channels; c++)
    best[c] = -INFINITY;
  for (int i = 0; i < n; i++)
    {
      const float *y;

      g_assert_true (lens_scan_source_load_input (f->source, i, &pre,
                                                  lens_tensor_get_floats (lens_trace_get_input (trace)),
                                                  &error));
      g_assert_no_error (error);
      g_assert_true (lens_trace_run (trace, NULL, &error));
      g_assert_no_error (error);
      y = lens_tensor_get_floats (lens_trace_get_value (trace, value));
      for (int c = 0; c < channels; c++)
        for (gsize p = 0; p < plane; p++)
          if (y[c * plane + p] > best[c])
            {
              /* strictly greater: ties stay with the first image and position */
              best[c] = y[c * plane + p];
              image[c] = i;
              pos[c] = (int) p;
            }
    }
}

static void
test_top1 (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LensTopk) top1 = NULL;
  const LensTopkLayer *l;
  float best[6];
  int image[6], pos[6];

  top1 = lens_filters_layer2_scan (f->net, f->model, NULL, NULL, f->source, &pre, 20, NULL, NULL,
                                   NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (lens_topk_get_k (top1), ==, 1);
  g_assert_cmpint (lens_topk_get_scanned (top1), ==, 20);
  l = lens_topk_get_layer (top1, 0);
  g_assert_cmpstr (l->name, ==, "conv2");
  g_assert_cmpint (l->channels, ==, 6);
  g_assert_cmpint (l->height, ==, 12);
  g_assert_cmpint (l->width, ==, 12);

  brute_force (f, 20, best, image, pos);
  for (int c = 0; c < 6; c++)
    {
      g_assert_cmpint (l->counts[c], ==, 1);
      /* batches of several images may round differently from one */
      g_assert_cmpfloat_with_epsilon (l->entries[c].value, best[c], 1e-5 * MAX (1, fabsf (best[c])));
      g_assert_cmpint (l->entries[c].image, ==, image[c]);
      g_assert_cmpint (l->entries[c].y * l->width + l->entries[c].x, ==, pos[c]);
    }
}

static void
cancel_now (gint64   done,
            gint64   total,
            gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

static void
test_bad_input (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  LensTopk *top1;

  top1 = lens_filters_layer2_scan (f->net, f->model, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL,
                                   &error);
  g_assert_null (top1);
  g_assert_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_DATASET);
  g_assert_nonnull (strstr (error->message, "need a data set"));
  g_clear_error (&error);

  top1 = lens_filters_layer2_scan (f->net, f->model, NULL, NULL, f->source, &pre, -1, NULL, NULL,
                                   NULL, &error);
  g_assert_null (top1);
  g_assert_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_DATASET);
  g_clear_error (&error);

  top1 = lens_filters_layer2_scan (f->net, f->model, "conv2", NULL, f->source, &pre, 0, NULL,
                                   NULL, NULL, &error);
  g_assert_null (top1);
  g_assert_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_LAYER);
  g_clear_error (&error);

  /* cancelled from the progress callback after the first batch */
  top1 = lens_filters_layer2_scan (f->net, f->model, NULL, NULL, f->source, &pre, 0, cancel_now,
                                   cancellable, cancellable, &error);
  g_assert_null (top1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_figure (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LensTopk) top1 = NULL;
  g_autofree guint8 *blocks = NULL;
  g_autofree guint8 *figure = NULL;
  guint8 tiles[5 * 4 * 3];
  gboolean caption_drawn = FALSE;
  int bw, bh, w, h;

  top1 = lens_filters_layer2_scan (f->net, f->model, NULL, NULL, f->source, &pre, 10, NULL, NULL,
                                   NULL, &error);
  g_assert_no_error (error);
  blocks = lens_filters_layer2_render (top1, f->net, f->source, &pre, &bw, &bh, NULL, &error);
  g_assert_no_error (error);
  /* conv2's field is 8 px, shown x6 in 48 px cells: blocks of 2*48+6 = 102
   * x 48, 3 x 2 of them with 14 px gaps */
  g_assert_cmpint (bw, ==, 3 * 102 + 4 * 14);
  g_assert_cmpint (bh, ==, 2 * 48 + 3 * 14);

  for (gsize i = 0; i < sizeof tiles; i++)
    tiles[i] = (guint8) (i * 7 + 1);
  figure = lens_filters_figure_stack (tiles, 5, 4, "Layer 2", blocks, bw, bh, &w, &h, &error);
  g_assert_no_error (error);
  g_assert_cmpint (w, ==, bw);
  g_assert_cmpint (h, ==, 4 + LENS_FILTERS_CAPTION_HEIGHT + bh);
  for (int y = 0; y < 4; y++)
    g_assert_cmpmem (figure + (gsize) y * w * 3, 5 * 3, tiles + y * 5 * 3, 5 * 3);
  for (int y = 0; y < bh; y++)
    g_assert_cmpmem (figure + ((gsize) (4 + LENS_FILTERS_CAPTION_HEIGHT + y) * w) * 3,
                     (gsize) bw * 3, blocks + (gsize) y * bw * 3, (gsize) bw * 3);
  for (gsize i = (gsize) 4 * w * 3; i < (gsize) (4 + LENS_FILTERS_CAPTION_HEIGHT) * w * 3; i++)
    caption_drawn |= figure[i] > 128;
  g_assert_true (caption_drawn);

  /* a figure too large to allocate is an error, not an abort */
  g_clear_pointer (&figure, g_free);
  figure = lens_filters_figure_stack (tiles, 5, 4, "x", blocks, G_MAXINT / 2, 1 << 20, &w, &h,
                                      &error);
  g_assert_null (figure);
  g_assert_error (error, LENS_FILTERS_ERROR, LENS_FILTERS_ERROR_SIZE);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  fixtures = ANALYSIS_FIXTURES;
  g_test_add ("/filters-layer2/find", Fixture, NULL, fixture_set_up, test_find_layer2,
              fixture_tear_down);
  g_test_add ("/filters-layer2/top1-brute-force", Fixture, NULL, fixture_set_up, test_top1,
              fixture_tear_down);
  g_test_add ("/filters-layer2/bad-input", Fixture, NULL, fixture_set_up, test_bad_input,
              fixture_tear_down);
  g_test_add ("/filters-layer2/figure", Fixture, NULL, fixture_set_up, test_figure,
              fixture_tear_down);
  return g_test_run ();
}
