/* cli-analysis.h: what the analysis verbs (invariance, correspondence,
 * probe) share: figures (lens-plot.h) written as PNG through the engine's
 * atomic PNG writer, the model's profile, progress on stderr and
 * Ctrl-C as cancellation
 */
#pragma once

#include <gio/gio.h>

#include "lens-net.h"
#include "lens-plot.h"
#include "lens-profile.h"

G_BEGIN_DECLS

/* The figures are drawn by the engine's lens-plot (shared with the GUI). */
typedef LensPlotSeries LensCliSeries;
typedef LensPlotPanel  LensCliPanel;

/* The panels stacked vertically under a title; text_kv as for
 * lens_png_save_rgb(). */
gboolean lens_cli_plot_save (const char         *path,
                             const char         *title,
                             const LensCliPanel *panels,
                             int                 n_panels,
                             const char * const *text_kv,
                             GError            **error);

/* --profile, or the profile beside the model, or a guess from the input
 * shape; checked against the model's input.  NULL after printing the
 * error (*status gets the exit code). */
LensProfile *lens_cli_analysis_profile (LensNet    *net,
                                        const char *model_path,
                                        const char *profile_path,
                                        int        *status);

/* Progress on stderr ("WHAT: done/total") and SIGINT/SIGTERM turned into
 * cancelling progress->cancellable (at the next progress report). */
typedef struct
{
  GCancellable *cancellable;   /* owned */
  const char   *what;
  gint64        started;
  gint64        last_print;
  gboolean      tty;
  gboolean      quiet;
} LensCliProgress;

void     lens_cli_progress_begin (LensCliProgress *progress,
                                  const char      *what,
                                  gboolean         quiet);
void     lens_cli_progress_end   (LensCliProgress *progress);
/* A LensAnalysisProgress; user_data is the LensCliProgress. */
void     lens_cli_progress_cb    (gint64           done,
                                  gint64           total,
                                  gpointer         user_data);

/* Writes text atomically (temporary file + rename). */
gboolean lens_cli_save_text      (const char      *path,
                                  const char      *text,
                                  GError         **error);

G_END_DECLS
