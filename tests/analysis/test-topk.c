/* test-topk.c: the top-k engine: cancellation through GCancellable leaves a
 * resumable result, and the result file round-trips exactly. */
#include <math.h>
#include <string.h>

#include "lens-topk.h"

static const char *fixtures;

typedef struct
{
  GCancellable *cancellable;
  int           calls;
} CancelAfterFirst;

static void
cancel_after_first (gint64   done,
                    gint64   total,
                    gpointer user_data)
{
  CancelAfterFirst *c = user_data;

  if (c->calls++ == 0)
    g_cancellable_cancel (c->cancellable);
}

static void
test_cancel_resume (void)
{
  g_autofree char *model = g_build_filename (fixtures, "topk.onnx", NULL);
  g_autofree char *folder = g_build_filename (fixtures, "folder", NULL);
  const char *layers[] = { "conv1", "relu2", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(LensNet) net = NULL;
  g_autoptr(LensScanSource) source = NULL;
  g_autoptr(LensTopk) full = NULL, part = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *a = NULL, *b = NULL;
  CancelAfterFirst cancel = { cancellable, 0 };
  LensPreprocess pre = { 1, 28, 28, 0, 1.0f, { 0 }, { 1, 1, 1 }, FALSE };
  LensTopkOptions opts;

  if (!g_file_test (model, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("fixtures missing");
      return;
    }
  net = lens_net_load_onnx (model, NULL, &error);
  g_assert_no_error (error);
  source = lens_scan_source_open (folder, &error);
  g_assert_no_error (error);
  g_assert_cmpint (lens_scan_source_get_n_images (source), ==, 37);

  lens_topk_options_init (&opts);
  opts.batch = 8;
  full = lens_topk_new (net, model, source, layers, &opts, &error);
  g_assert_no_error (error);
  g_assert_true (lens_topk_scan (full, net, source, &pre, &opts, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lens_topk_get_scanned (full), ==, 37);

  opts.progress = cancel_after_first;
  opts.user_data = &cancel;
  part = lens_topk_new (net, model, source, layers, &opts, &error);
  g_assert_no_error (error);
  g_assert_false (lens_topk_scan (part, net, source, &pre, &opts, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  /* the batch that was running when cancel came is kept whole */
  g_assert_cmpint (lens_topk_get_scanned (part), ==, 8);
  g_assert_false (lens_topk_get_complete (part));

  opts.progress = NULL;
  g_assert_true (lens_topk_scan (part, net, source, &pre, &opts, NULL, &error));
  g_assert_no_error (error);
  a = lens_topk_to_json (full);
  b = lens_topk_to_json (part);
  g_assert_cmpstr (a, ==, b);
}

static void
test_round_trip (void)
{
  /* floats that need all nine digits, a denormal and extremes */
  const float values[] = { 3.40282347e38f, 16777216.0f, 0.333333343f, 0.1f, 1.17549435e-38f,
                           1.0e-45f, -2.5f, -1.0e30f };  /* best first */
  GString *json = g_string_new ("{\"format\": \"convlens-topk\", \"version\": 1, "
                                "\"model\": {\"path\": \"m\", \"size\": 1, \"sha256\": \"x\"}, "
                                "\"dataset\": {\"spec\": \"d\", \"kind\": \"folder\", "
                                "\"n_images\": 100, \"sha256\": \"y\"}, \"k\": 9, "
                                "\"all_positions\": false, \"limit\": 100, \"shard_count\": 1, "
                                "\"shards\": [0], \"scanned\": 100, \"complete\": true, "
                                "\"layers\": [{\"name\": \"L\", \"channels\": 1, \"height\": 2, "
                                "\"width\": 2, \"top\": [[");
  g_autoptr(GError) error = NULL;
  g_autoptr(LensTopk) topk = NULL, again = NULL;
  g_autofree char *text = NULL, *text2 = NULL;
  g_autofree char *input = NULL;
  const LensTopkLayer *layer;

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    g_string_append_printf (json, "%s[%u, 1, 0, %.17g]", i ? ", " : "", i, (double) values[i]);
  g_string_append (json, "]]}]}");
  input = g_string_free (json, FALSE);

  topk = lens_topk_load_data (input, -1, &error);
  g_assert_no_error (error);
  layer = lens_topk_get_layer (topk, 0);
  g_assert_cmpint (layer->counts[0], ==, G_N_ELEMENTS (values));
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    g_assert_true (memcmp (&layer->entries[i].value, &values[i], sizeof (float)) == 0);

  text = lens_topk_to_json (topk);
  again = lens_topk_load_data (text, -1, &error);
  g_assert_no_error (error);
  layer = lens_topk_get_layer (again, 0);
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    g_assert_true (memcmp (&layer->entries[i].value, &values[i], sizeof (float)) == 0);
  text2 = lens_topk_to_json (again);
  g_assert_cmpstr (text, ==, text2);

  /* out of order entries are a format error */
  {
    g_autoptr(GString) swapped = g_string_new (input);
    const char *head = "[[[0, 1, 0, ";
    gssize at = strstr (swapped->str, head) - swapped->str + (gssize) strlen (head);
    gsize len = strcspn (swapped->str + at, "]");

    /* the best entry's value becomes 0.2: now worse than the second */
    g_string_erase (swapped, at, (gssize) len);
    g_string_insert (swapped, at, "0.2");
    g_clear_pointer (&again, lens_topk_free);
    again = lens_topk_load_data (swapped->str, -1, &error);
    g_assert_null (again);
    g_assert_error (error, LENS_TOPK_ERROR, LENS_TOPK_ERROR_FORMAT);
    g_assert_nonnull (strstr (error->message, "not in order"));
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  fixtures = argc > 1 ? argv[1] : ANALYSIS_FIXTURES;
  g_test_add_func ("/topk/cancel-resume", test_cancel_resume);
  g_test_add_func ("/topk/round-trip", test_round_trip);
  return g_test_run ();
}
