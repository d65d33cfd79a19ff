/* fuzz-replay.c: runs a fuzz target's checks on saved inputs, without
 * libFuzzer (for the ordinary gcc build and scripts/test).
 *
 *   fuzz-png-replay FILE-OR-FOLDER...
 *
 * Each file (and each file directly inside a folder, in name order) is
 * passed once to LLVMFuzzerTestOneInput(); a contract violation or crash
 * aborts, so the meson test fails.  Prints one TAP line per input. */
#include "fuzz-common.h"

static int n_run;

static void
replay_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize length;

  if (!g_file_get_contents (path, &data, &length, &error))
    {
      fprintf (stderr, "cannot read %s: %s\n", path, error->message);
      exit (1);
    }
  /* A copy of exactly the input's size, so that ASan sees an overread. */
  {
    g_autofree guint8 *copy = g_memdup2 (data, length);

    LLVMFuzzerTestOneInput (copy, length);
  }
  printf ("ok %d - %s\n", ++n_run, path);
  fflush (stdout);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

static void
replay_dir (const char *dir_path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GDir *dir = g_dir_open (dir_path, 0, &error);
  const char *name;

  if (dir == NULL)
    {
      fprintf (stderr, "cannot open %s: %s\n", dir_path, error->message);
      exit (1);
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_build_filename (dir_path, name, NULL));
  g_dir_close (dir);
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    if (!g_file_test (names->pdata[i], G_FILE_TEST_IS_DIR))
      replay_file (names->pdata[i]);
}

int
main (int    argc,
      char **argv)
{
  LLVMFuzzerInitialize (&argc, &argv);
  for (int i = 1; i < argc; i++)
    {
      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        replay_dir (argv[i]);
      else
        replay_file (argv[i]);
    }
  if (n_run == 0)
    {
      fprintf (stderr, "no input replayed\n");
      return 1;
    }
  printf ("1..%d\n", n_run);
  return 0;
}
