/* lens-window-private.h: LensWindow's fields, for its own files and tests */
#pragma once

#include "lens-feature-grid.h"
#include "lens-image-canvas.h"
#include "lens-layer-list.h"
#include "lens-predictions.h"
#include "lens-window.h"

G_BEGIN_DECLS

struct _LensWindow
{
  AdwApplicationWindow  parent_instance;

  /* template widgets */
  AdwToastOverlay      *toast_overlay;
  AdwWindowTitle       *window_title;
  GtkStack             *main_stack;
  GtkSpinner           *spinner;
  LensLayerList        *layer_list;
  LensFeatureGrid      *feature_grid;
  LensImageCanvas      *input_canvas;
  GtkLabel             *input_caption;
  LensImageCanvas      *channel_canvas;
  GtkLabel             *channel_caption;
  LensPredictions      *predictions;

  /* owned */
  LensDocument         *document;
  GSettings            *settings;       /* NULL when the schema is not installed */

  /* jobs */
  GtkNativeDialog      *chooser;        /* the open/save dialog being shown */
  GCancellable         *export_cancellable;
  char                 *export_path;
};

void lens_window_actions_init   (LensWindow *self);
void lens_window_update_actions (LensWindow *self);
void lens_window_show_message   (LensWindow *self,
                                 const char *message);
/* A file name for an export of what the window shows (owned). */
char *lens_window_suggest_export_name (LensWindow *self);

G_END_DECLS
