/* lens-window.h: the main window */
#pragma once

#include <adwaita.h>

#include "lens-document.h"

G_BEGIN_DECLS

#define LENS_TYPE_WINDOW (lens_window_get_type ())
G_DECLARE_FINAL_TYPE (LensWindow, lens_window, LENS, WINDOW, AdwApplicationWindow)

LensWindow   *lens_window_new          (GtkApplication *application);
LensDocument *lens_window_get_document (LensWindow *self);
void          lens_window_open_model   (LensWindow *self,
                                        GFile      *file);
void          lens_window_open_image   (LensWindow *self,
                                        GFile      *file);

/* First start: the remembered model and image, else the default model
 * (zf-mini.onnx) with one of its sample images when they are installed;
 * otherwise the window stays on its empty state.  FALSE if nothing was
 * opened. */
gboolean      lens_window_open_default  (LensWindow *self);
/* Where the default model and its samples are looked for (owned; tests). */
char         *lens_find_default_model   (char      **sample);

G_END_DECLS
