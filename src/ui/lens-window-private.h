/* lens-window-private.h: LensWindow's fields, for its own files and tests */
#pragma once

#include "lens-analyses-view.h"
#include "lens-colormap.h"
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
  AdwViewSwitcherTitle *window_title;
  AdwViewStack         *view_stack;
  GtkStack             *main_stack;
  GtkSpinner           *spinner;
  LensLayerList        *layer_list;
  LensFeatureGrid      *feature_grid;
  LensImageCanvas      *input_canvas;
  GtkLabel             *input_caption;
  LensImageCanvas      *channel_canvas;
  GtkLabel             *channel_caption;
  LensPredictions      *predictions;
  LensImageCanvas      *projection_canvas;
  GtkLabel             *projection_caption;
  LensImageCanvas      *occlusion_canvas;
  GtkDrawingArea       *legend_area;
  GtkSpinButton        *size_spin;
  GtkSpinButton        *stride_spin;
  GtkAdjustment        *size_adjustment;
  GtkAdjustment        *stride_adjustment;
  GtkDropDown          *heat_kind;
  GtkButton            *sweep_button;
  GtkButton            *cancel_button;
  GtkProgressBar       *sweep_progress;
  GtkLabel             *target_label;
  GtkLabel             *feature_label;
  LensPredictions      *occlusion_predictions;

  /* the Analyses view (built in code, pages added in lens-window.c) */
  LensAnalysesView     *analyses_view;

  /* occlusion */
  double                occ_x, occ_y;       /* the square's corner, input pixels */
  double                drag_x, drag_y;     /* the corner when the drag began */
  gboolean              updating_spins;
  double                heat_lo, heat_hi;   /* the colour bar's range */
  GArray               *legend_classes;     /* int: classes in the class map */

  /* owned */
  LensDocument         *document;
  GSettings            *settings;       /* NULL when the schema is not installed */

  /* recent files (lens-window-settings.c) */
  GMenu                *recent_menu;    /* template: the Open Recent submenu */

  /* jobs */
  GtkNativeDialog      *chooser;        /* the open/save dialog being shown */
  GCancellable         *export_cancellable;
  char                 *export_path;
};

void lens_window_actions_init   (LensWindow *self);
void lens_window_occlusion_init (LensWindow *self);
/* Reacts to a change of the document's property `name`. */
void lens_window_occlusion_update (LensWindow *self,
                                   const char *name);
/* Puts the occluder's corner at (x, y) input pixels (clamped). */
void lens_window_set_occluder   (LensWindow *self,
                                 double      x,
                                 double      y);
/* Moves the occluder by (dx, dy) input pixels. */
void lens_window_move_occluder  (LensWindow *self,
                                 double      dx,
                                 double      dy);
/* The heat map overlay's colours, for the kind shown (tests). */
LensPixels *lens_window_get_heat_map (LensWindow *self);
void lens_window_update_actions (LensWindow *self);
void lens_window_show_message   (LensWindow *self,
                                 const char *message);
/* The colour of class `klass` in the most-probable-class map. */
guint32 lens_window_class_color (int klass);

/* lens-window-settings.c: GSettings glue beyond the bindings — recent
 * models and images, the colour map, the number of threads. */
void lens_window_settings_init  (LensWindow *self);
/* Puts path first in the recent list `key` ("recent-models",
 * "recent-images"). */
void lens_window_add_recent     (LensWindow *self,
                                 const char *key,
                                 const char *path);
/* The "colour-map" setting (viridis without settings). */
LensColormap lens_window_get_colormap (LensWindow *self);

/* A file name for an export of what the window shows (owned). */
char *lens_window_suggest_export_name (LensWindow *self);

G_END_DECLS
