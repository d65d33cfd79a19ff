/* lens-window-export.h: what the window can export, and the Export dialog */
#pragma once

#include "lens-export.h"
#include "lens-window.h"

G_BEGIN_DECLS

/* Whether the window shows what `kind` exports. */
gboolean           lens_window_can_export        (LensWindow     *self,
                                                  LensExportKind  kind);
/* The kind exported when none is chosen: the grid, else the input. */
LensExportKind     lens_window_default_export    (LensWindow     *self);
/* A request for what the window shows now (NULL when it shows nothing of
 * the kind), with model, layer, channel, mode and settings as text. */
LensExportRequest *lens_window_new_export_request (LensWindow     *self,
                                                   LensExportKind  kind,
                                                   int             scale);
/* A file name for the export (owned), e.g. "zf-mini-conv1-grid.png". */
char              *lens_window_export_name       (LensWindow     *self,
                                                  LensExportKind  kind);
/* Writes on a worker thread; a toast tells how it went. */
void               lens_window_export_to         (LensWindow     *self,
                                                  LensExportKind  kind,
                                                  int             scale,
                                                  const char     *path);
/* The Export dialog: what, scale, then a file chooser. */
GtkWindow         *lens_window_show_export_dialog (LensWindow    *self);

G_END_DECLS
