/* fuzz-common.h: shared helpers of the libFuzzer targets (header only).
 *
 * Every target checks its parser's contract, not only that nothing
 * crashes; a violation calls fuzz_fail(), which aborts, and libFuzzer (or
 * the replay driver fuzz-replay.c) reports it like a crash. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

G_GNUC_NORETURN static inline void
fuzz_fail (const char *what,
           const char *detail)
{
  fprintf (stderr, "%s: contract violated: %s%s%s\n", g_get_prgname () ? g_get_prgname () : "fuzz",
           what, detail != NULL ? ": " : "", detail != NULL ? detail : "");
  abort ();
}

/* Every log message at warning level or above is a finding: a failed
 * g_return_if_fail reached from file contents is a bug. */
static inline GLogWriterOutput
fuzz_log_writer (GLogLevelFlags   level,
                 const GLogField *fields,
                 gsize            n_fields,
                 gpointer         user_data)
{
  const char *message = NULL;

  if (!(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)))
    return G_LOG_WRITER_HANDLED;
  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
      message = fields[i].value;
  fuzz_fail ("the engine logged a warning or critical", message);
}

static inline void
fuzz_init_logging (const char *name)
{
  g_set_prgname (name);
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
}

/* A failure sets a GError in the expected domain with a message; a
 * success sets none. */
static inline void
fuzz_check_error (gboolean    ok,
                  GError     *error,
                  GQuark      domain,
                  const char *what)
{
  if (ok && error != NULL)
    fuzz_fail (what, "succeeded but set a GError");
  if (!ok && error == NULL)
    fuzz_fail (what, "failed without setting a GError");
  if (!ok && (error->message == NULL || error->message[0] == '\0'))
    fuzz_fail (what, "failed with an empty GError message");
  if (!ok && domain != 0 && error->domain != domain)
    fuzz_fail (what, "failed with a GError in an unexpected domain");
  /* FUZZ_VERBOSE=1: say what each input produced (for README tables) */
  if (g_getenv ("FUZZ_VERBOSE") != NULL)
    fprintf (stderr, "%s: %s\n", what, ok ? "loaded" : error->message);
}

/* A private folder for the files a target reads besides its input (ONNX
 * external data, profile labels), removed at exit.  Filled by the
 * target's init function. */
static char *fuzz_sandbox_dir;

static inline void
fuzz_remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
              !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            fuzz_remove_tree (child);
          else
            g_remove (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static inline void
fuzz_sandbox_remove (void)
{
  if (fuzz_sandbox_dir == NULL)
    return;
  fuzz_remove_tree (fuzz_sandbox_dir);
  g_clear_pointer (&fuzz_sandbox_dir, g_free);
}

static inline const char *
fuzz_sandbox_new (void)
{
  g_autoptr(GError) error = NULL;

  fuzz_sandbox_dir = g_dir_make_tmp ("convlens-fuzz-XXXXXX", &error);
  if (fuzz_sandbox_dir == NULL)
    fuzz_fail ("cannot create the sandbox folder", error->message);
  atexit (fuzz_sandbox_remove);
  return fuzz_sandbox_dir;
}

static inline void
fuzz_sandbox_write (const char   *name,
                    const void   *data,
                    gsize         length)
{
  g_autofree char *path = g_build_filename (fuzz_sandbox_dir, name, NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_mkdir_with_parents (dir, 0700);
  if (!g_file_set_contents (path, data, (gssize) length, &error))
    fuzz_fail ("cannot fill the sandbox folder", error->message);
}
