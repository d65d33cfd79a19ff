/* lens-plot.h: the analyses' figures (line and bar charts) drawn with
 * cairo, shared by convlens-cli and the GUI's analysis pages
 *
 *   LensPlotSeries s = { "image.png", distances };
 *   LensPlotPanel p = { .title = "conv1", .n = n, .x = values, .y_min = 0, .y_max = NAN,
 *                       .series = &s, .n_series = 1 };
 *   lens_plot_draw (cr, "Invariance", &p, 1);      // at lens_plot_get_size()
 *   lens_plot_save ("out.png", "Invariance", &p, 1, NULL, &error);
 *
 * Panels are stacked vertically under a title, each with its own axes and
 * a legend on the right.  Non-finite values are gaps.  The figure has a
 * fixed natural size; a widget scales it to fit.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const char   *label;    /* legend text */
  const double *y;        /* [n] of the panel; NaN values are gaps */
} LensPlotSeries;

typedef struct
{
  const char           *title;
  const char           *x_label;
  const char           *y_label;
  int                   n;          /* points per series */
  const double         *x;          /* [n]; NULL: 0..n-1 */
  const char * const   *x_names;    /* [n] tick names for categorical x, or NULL */
  double                y_min;      /* NaN: from the data */
  double                y_max;
  const LensPlotSeries *series;
  int                   n_series;
  gboolean              bars;       /* grouped bars instead of lines (categorical x) */
} LensPlotPanel;

/* The natural size of a figure of n_panels panels, in pixels. */
void     lens_plot_get_size (int                  n_panels,
                             int                 *width,
                             int                 *height);
/* Draws the figure at its natural size from (0, 0) of cr (white
 * background included). */
void     lens_plot_draw     (cairo_t             *cr,
                             const char          *title,
                             const LensPlotPanel *panels,
                             int                  n_panels);
/* Renders the figure and writes it as an RGB PNG atomically; text_kv as
 * for lens_png_save_rgb(). */
gboolean lens_plot_save     (const char          *path,
                             const char          *title,
                             const LensPlotPanel *panels,
                             int                  n_panels,
                             const char * const  *text_kv,
                             GError             **error);

G_END_DECLS
