/* lens-analyses-view.h: the "Analyses" view — a sidebar of dataset
 * analyses (top-9, filters, evolution, ...) beside the page of the chosen
 * one.  Pages are plain widgets added by the window after construction. */
#pragma once

#include <adwaita.h>

#include "lens-document.h"
#include "lens-net.h"
#include "lens-profile.h"

G_BEGIN_DECLS

#define LENS_TYPE_ANALYSES_VIEW (lens_analyses_view_get_type ())
G_DECLARE_FINAL_TYPE (LensAnalysesView, lens_analyses_view, LENS, ANALYSES_VIEW, GtkWidget)

LensAnalysesView *lens_analyses_view_new          (LensDocument     *document);

/* Adds `page` under the (translated) `title`; `name` identifies it
 * ("topk", "filters", ...) for lens_analyses_view_set_visible_page(). */
void              lens_analyses_view_add_page     (LensAnalysesView *self,
                                                   const char       *name,
                                                   const char       *title,
                                                   GtkWidget        *page);
/* The window's document: the current model path / net and image. */
LensDocument     *lens_analyses_view_get_document (LensAnalysesView *self);

void              lens_analyses_view_set_visible_page (LensAnalysesView *self,
                                                       const char       *name);
/* The page added under `name`, or NULL. */
GtkWidget        *lens_analyses_view_get_page     (LensAnalysesView *self,
                                                   const char       *name);
/* Shows `message` as a toast in the window (for errors of the pages). */
void              lens_analyses_show_toast        (GtkWidget        *widget,
                                                   const char       *message);
/* The toast for a run that failed: "Analysis cancelled" or the error. */
void              lens_analyses_show_run_error    (GtkWidget        *widget,
                                                   const GError     *error);
/* At the end of a run: update (page) hides the Cancel button; if it had
 * the keyboard focus, `run` gets it, so a keyboard user is not left on a
 * hidden button. */
typedef void (*LensAnalysesPageUpdate) (gpointer page);
void              lens_analyses_end_run_focus     (gpointer                page,
                                                   LensAnalysesPageUpdate  update,
                                                   GtkWidget              *cancel,
                                                   GtkWidget              *run);

/* -- helpers shared by the analysis pages -------------------------------- */

/* Loads the model at `path` for a worker thread, with its preprocessing
 * profile (beside the model, else guessed from the input shape). */
LensNet          *lens_analyses_load_net          (const char       *path,
                                                   LensProfile     **profile,
                                                   GError          **error);
/* A texture of width*height*3 RGB bytes. */
GdkTexture       *lens_analyses_texture_new       (const guint8     *rgb,
                                                   int               width,
                                                   int               height);
/* Sets `bar`'s fraction (0..1) from any thread, in the main context. */
void              lens_analyses_post_progress     (GtkProgressBar   *bar,
                                                   double            fraction);
/* A small labelled row: "Label" and a control, for the pages' option bars. */
GtkWidget        *lens_analyses_labelled          (const char       *label,
                                                   GtkWidget        *control);
/* Escape in `page` runs `callback (page)`. */
void              lens_analyses_add_escape        (GtkWidget        *page,
                                                   GCallback         callback);
/* Asks for a PNG (or other) file name to save to; calls done (page, path)
 * with NULL when cancelled. */
void              lens_analyses_choose_save       (GtkWidget        *page,
                                                   const char       *title,
                                                   const char       *suggested,
                                                   void            (*done) (GtkWidget  *page,
                                                                            const char *path));
/* Asks for a folder (folder TRUE) or files (ONNX when onnx) to open; calls
 * done (page, paths) with NULL when cancelled. */
void              lens_analyses_choose_open       (GtkWidget        *page,
                                                   const char       *title,
                                                   gboolean          folder,
                                                   gboolean          multiple,
                                                   const char       *pattern,
                                                   void            (*done) (GtkWidget  *page,
                                                                            GStrv       paths));

G_END_DECLS
