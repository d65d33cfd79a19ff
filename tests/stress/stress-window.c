/* stress-window.c: the real window under a fast user, and closed mid-work
 *
 * The window is built in-process (as tests/gui/test-window.c does) on the
 * default model models/zf-mini.onnx and two of resources/samples.  A
 * seeded random storm of layer switches, channel clicks, occluder moves,
 * sweeps and cancels, image and model reloads goes through the window's
 * document without waiting; then the last layer, channel and occluder
 * position must be the ones shown.  The window is also closed during an
 * occlusion sweep and during a stream of occluder moves: the document and
 * the engine client must be freed (weak pointers), the worker joined, and
 * nothing may arrive afterwards.  Needs a display (Xvfb in CI). */
#include <gtk/gtk.h>

#include "lens-document.h"
#include "lens-window.h"
#include "stress-common.h"

static char *model_paths[2];
static char *image_paths[2];

static LensWindow *
new_window (void)
{
  LensWindow *win = lens_window_new (NULL);

  gtk_window_present (GTK_WINDOW (win));
  return win;
}

static gboolean
has_maps (gpointer doc)
{
  return lens_document_get_maps (doc) != NULL && !lens_document_get_busy (doc);
}

static void
open_paths (LensWindow *win,
            const char *model,
            const char *image)
{
  g_autoptr(GFile) model_file = g_file_new_for_path (model);
  g_autoptr(GFile) image_file = g_file_new_for_path (image);

  lens_window_open_model (win, model_file);
  lens_window_open_image (win, image_file);
}

static LensWindow *
new_window_with_maps (void)
{
  LensWindow *win = new_window ();

  open_paths (win, model_paths[0], image_paths[0]);
  g_assert_true (stress_wait (has_maps, lens_window_get_document (win), STRESS_TIMEOUT_MS));
  return win;
}

typedef struct
{
  LensDocument *doc;
  int           layer, channel, x, y;
} Final;

static gboolean
settled (gpointer data)
{
  Final *f = data;
  LensLayerMaps *maps = lens_document_get_maps (f->doc);
  LensOcclusionQuery *query = lens_document_get_query (f->doc);

  return !lens_document_get_busy (f->doc) && !lens_document_get_sweeping (f->doc) &&
         maps != NULL && (int) maps->layer == f->layer &&
         query != NULL && query->x == f->x && query->y == f->y;
}

static gboolean
projected (gpointer data)
{
  Final *f = data;
  LensProjection *proj = lens_document_get_projection (f->doc);

  return !lens_document_get_busy (f->doc) && proj != NULL &&
         (int) proj->layer == f->layer && proj->channel == f->channel;
}

static void
test_storm (void)
{
  LensWindow *win = new_window_with_maps ();
  LensDocument *doc = lens_window_get_document (win);
  LensEngineClient *client = lens_document_get_client (doc);
  g_autoptr(GRand) r = g_rand_new_with_seed (4242);
  int n_layers = (int) lens_document_get_model (doc)->n_layers;
  const char *last_model = model_paths[0], *last_image = image_paths[0];
  gint64 start = g_get_monotonic_time ();
  guint peak = 0, n_actions = 0;
  Final f = { doc, 0, 0, 0, 0 };

  for (int i = 0; i < 400; i++)
    {
      int roll = g_rand_int_range (r, 0, 100);

      if (roll < 30)
        lens_document_select_layer (doc, g_rand_int_range (r, 0, n_layers));
      else if (roll < 50)
        lens_document_select_channel (doc, g_rand_int_range (r, 0, 8));
      else if (roll < 85)
        lens_document_occlude_at (doc, g_rand_int_range (r, 0, 24), g_rand_int_range (r, 0, 24));
      else if (roll < 90)
        lens_document_sweep (doc);
      else if (roll < 93)
        lens_document_cancel_sweep (doc);
      else if (roll < 97)
        {
          g_autoptr(GFile) file = NULL;

          last_image = image_paths[g_rand_int_range (r, 0, 2)];
          file = g_file_new_for_path (last_image);
          lens_window_open_image (win, file);
        }
      else
        {
          g_autoptr(GFile) file = NULL;

          last_model = model_paths[g_rand_int_range (r, 0, 2)];
          file = g_file_new_for_path (last_model);
          lens_window_open_model (win, file);
        }
      n_actions++;
      peak = MAX (peak, lens_engine_client_get_n_jobs (client));
      /* the window paints and handles answers between some events */
      if (g_rand_int_range (r, 0, 3) == 0)
        stress_drain ();
    }

  /* A model that arrives resets the layer, and an occluder position asked
   * for while a model or image loads is sent only once it has run (the
   * document's rules), so the storm's own answers come in first.  Then
   * the last word, without waiting: a layer, then a stream of occluder
   * positions. */
  g_assert_true (stress_wait (has_maps, doc, STRESS_TIMEOUT_MS));
  f.layer = 2;
  f.x = 13;
  f.y = 5;
  lens_document_select_layer (doc, 4);
  lens_document_select_layer (doc, f.layer);
  for (int i = 0; i < 30; i++)
    lens_document_occlude_at (doc, i % 20, (3 * i) % 20);
  lens_document_occlude_at (doc, f.x, f.y);
  if (!stress_wait (settled, &f, STRESS_TIMEOUT_MS))
    {
      LensLayerMaps *maps = lens_document_get_maps (doc);
      LensOcclusionQuery *query = lens_document_get_query (doc);

      g_test_message ("not settled: busy %d, sweeping %d, maps of layer %d, query at %d,%d, "
                      "%u jobs", lens_document_get_busy (doc), lens_document_get_sweeping (doc),
                      maps ? (int) maps->layer : -1, query ? query->x : -1, query ? query->y : -1,
                      lens_engine_client_get_n_jobs (client));
      g_assert_not_reached ();
    }

  /* what is shown is what was asked for last */
  g_assert_cmpstr (lens_document_get_model (doc)->path, ==, last_model);
  g_assert_nonnull (lens_document_get_trace (doc));
  g_assert_cmpstr (lens_document_get_trace (doc)->image_path, ==, last_image);
  g_assert_cmpint (lens_document_get_selected_layer (doc), ==, f.layer);
  g_assert_cmpint (lens_document_get_query (doc)->size, ==, lens_document_get_occluder_size (doc));

  /* a channel click after all that */
  f.channel = 3;
  lens_document_select_channel (doc, 1);
  lens_document_select_channel (doc, f.channel);
  g_assert_true (stress_wait (projected, &f, STRESS_TIMEOUT_MS));
  g_assert_cmpint (lens_document_get_selected_channel (doc), ==, f.channel);

  g_test_message ("window storm: %u user actions (+33 final), peak %u outstanding jobs, "
                  "%u results dropped, %.2f s",
                  n_actions, peak, lens_engine_client_get_n_dropped (client),
                  (g_get_monotonic_time () - start) / 1e6);
  gtk_window_destroy (GTK_WINDOW (win));
  stress_drain ();
}

static gboolean
sweep_progressed (gpointer doc)
{
  return lens_document_get_sweep_progress (doc) > 0.0;
}

typedef struct
{
  LensDocument *doc;
  GRand        *rand;
  guint         n_moves;
  guint         close_after;
  LensWindow   *win;
} Mover;

/* A drag: a new occluder position every millisecond; the window closes
 * in the middle of it. */
static gboolean
move_tick (gpointer data)
{
  Mover *m = data;

  if (m->n_moves++ == m->close_after)
    {
      gtk_window_destroy (GTK_WINDOW (m->win));
      m->win = NULL;
      return G_SOURCE_REMOVE;
    }
  lens_document_occlude_at (m->doc, g_rand_int_range (m->rand, 0, 24),
                            g_rand_int_range (m->rand, 0, 24));
  if (m->n_moves % 7 == 0)
    lens_document_select_layer (m->doc, (int) (m->n_moves / 7) % 4);
  return G_SOURCE_CONTINUE;
}

static void
close_while (gboolean sweep,
             guint    round)
{
  LensWindow *win = new_window_with_maps ();
  gpointer doc = lens_window_get_document (win);
  gpointer client = lens_document_get_client (doc);

  g_object_add_weak_pointer (doc, &doc);
  g_object_add_weak_pointer (client, &client);

  if (sweep)
    {
      /* a 1-pixel square at stride 1: 784 positions, many batches */
      g_object_set (doc, "occluder-size", 1, "occluder-stride", 1, NULL);
      lens_document_sweep (doc);
      /* more work queued behind it */
      for (int layer = 0; layer < 5; layer++)
        lens_document_select_layer (doc, layer);
      lens_document_occlude_at (doc, 3, 4);
      if (round % 2 == 0)
        g_assert_true (stress_wait (sweep_progressed, doc, STRESS_TIMEOUT_MS));
      gtk_window_destroy (GTK_WINDOW (win));
    }
  else
    {
      g_autoptr(GRand) r = g_rand_new_with_seed (round);
      Mover m = { doc, r, 0, 20 + 15 * round, win };

      g_timeout_add (1, move_tick, &m);
      g_assert_true (stress_wait (stress_is_null, &m.win, STRESS_TIMEOUT_MS));
    }

  /* the worker stops between batches; everything is freed */
  g_assert_true (stress_wait (stress_is_null, &doc, STRESS_TIMEOUT_MS));
  g_assert_true (stress_wait (stress_is_null, &client, STRESS_TIMEOUT_MS));
  stress_drain ();
}

static void
test_close_during_sweep (void)
{
  for (guint round = 0; round < 4; round++)
    close_while (TRUE, round);
}

static void
test_close_during_moves (void)
{
  for (guint round = 0; round < 4; round++)
    close_while (FALSE, round);
}

int
main (int   argc,
      char *argv[])
{
  const char *source_dir;

  g_test_init (&argc, &argv, NULL);
  source_dir = argc > 1 ? argv[1] : ".";
  model_paths[0] = g_build_filename (source_dir, "models", "zf-mini.onnx", NULL);
  image_paths[0] = g_build_filename (source_dir, "resources", "samples", "test-00000-ankle-boot.png", NULL);
  image_paths[1] = g_build_filename (source_dir, "resources", "samples", "test-00004-shirt.png", NULL);
  /* reloading the same model is still a new model for the engine */
  model_paths[1] = g_strdup (model_paths[0]);

  if (!gtk_init_check ())
    {
      /* tests/ci/tsan-check runs this under Xvfb and checks that the
       * window tests ran */
      g_test_message ("no display: the window stress tests are not run");
      return g_test_run ();
    }

  g_test_add_func ("/stress/window/storm", test_storm);
  g_test_add_func ("/stress/window/close-during-sweep", test_close_during_sweep);
  g_test_add_func ("/stress/window/close-during-occluder-moves", test_close_during_moves);
  return g_test_run ();
}
