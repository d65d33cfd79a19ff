/* cli-analysis.c: what the analysis verbs (invariance, correspondence,
 * probe) share: the figures (drawn by lens-plot), the profile, progress on
 * stderr and Ctrl-C (see cli-analysis.h) */
#define G_LOG_DOMAIN "cli-analysis"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli-analysis.h"
#include "cli-common.h"
#include "lens-file.h"
#include "lens-image.h"
#include "lens-plot.h"

gboolean
lens_cli_plot_save (const char         *path,
                    const char         *title,
                    const LensCliPanel *panels,
                    int                 n_panels,
                    const char * const *text_kv,
                    GError            **error)
{
  return lens_plot_save (path, title, panels, n_panels, text_kv, error);
}

/* -- profile -------------------------------------------------------------- */

LensProfile *
lens_cli_analysis_profile (LensNet    *net,
                           const char *model_path,
                           const char *profile_path,
                           int        *status)
{
  const LensShape *in = lens_net_get_input_shape (net);
  g_autoptr(GError) error = NULL;
  g_autoptr(LensProfile) profile = NULL;

  if (in == NULL || in->ndim != 4)
    {
      *status = lens_cli_fail ("model '%s' does not take an image ([N,C,H,W] input).",
                               model_path);
      return NULL;
    }
  if (profile_path != NULL)
    profile = lens_profile_load (profile_path, &error);
  else
    profile = lens_profile_guess (model_path, (int) in->dims[1], (int) in->dims[2],
                                  (int) in->dims[3], &error);
  if (profile == NULL)
    {
      *status = lens_cli_fail_file ("cannot use the profile for", model_path, error,
                                    "Give one with --profile FILE");
      return NULL;
    }
  if (profile->pre.channels != in->dims[1] || profile->pre.height != in->dims[2] ||
      profile->pre.width != in->dims[3])
    {
      *status = lens_cli_fail ("the profile's input size %dx%dx%d does not match the model's "
                               "input.", profile->pre.channels, profile->pre.height,
                               profile->pre.width);
      return NULL;
    }
  return g_steal_pointer (&profile);
}

/* -- progress and Ctrl-C -------------------------------------------------- */

static volatile sig_atomic_t interrupted;
static struct sigaction old_int, old_term;

static void
on_signal (int signum)
{
  interrupted = 1;
}

void
lens_cli_progress_begin (LensCliProgress *progress,
                         const char      *what,
                         gboolean         quiet)
{
  struct sigaction sa = { 0 };

  progress->cancellable = g_cancellable_new ();
  progress->what = what;
  progress->quiet = quiet;
  progress->tty = isatty (STDERR_FILENO);
  progress->started = progress->last_print = g_get_monotonic_time ();
  interrupted = 0;
  sa.sa_handler = on_signal;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, &old_int);
  sigaction (SIGTERM, &sa, &old_term);
}

void
lens_cli_progress_end (LensCliProgress *progress)
{
  sigaction (SIGINT, &old_int, NULL);
  sigaction (SIGTERM, &old_term, NULL);
  g_clear_object (&progress->cancellable);
}

void
lens_cli_progress_cb (gint64   done,
                      gint64   total,
                      gpointer user_data)
{
  LensCliProgress *p = user_data;
  gint64 now = g_get_monotonic_time ();

  if (interrupted)
    g_cancellable_cancel (p->cancellable);
  if (p->quiet || (done < total && now - p->last_print < (p->tty ? 200000 : 2000000)))
    return;
  p->last_print = now;
  fprintf (stderr, "%s%s: %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " (%.0f%%), %.1f s%s",
           p->tty ? "\r" : "", p->what, done, total, total > 0 ? 100.0 * done / total : 100.0,
           (now - p->started) / 1e6, p->tty && done < total ? "" : "\n");
  fflush (stderr);
}

gboolean
lens_cli_save_text (const char *path,
                    const char *text,
                    GError    **error)
{
  return lens_file_write_atomic (path, text, strlen (text), error);
}
