/* lens-colormap.h: the colour maps a heat map can be drawn with (the
 * "colour-map" setting).  Plain GLib, no GTK: the exporter uses it on its
 * worker thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  LENS_COLORMAP_VIRIDIS,   /* the engine's perceptual map (the default) */
  LENS_COLORMAP_INFERNO,
  LENS_COLORMAP_GRAY,
} LensColormap;

/* "viridis", "inferno", "gray"; anything else is viridis. */
LensColormap  lens_colormap_from_name (const char *name);
const char   *lens_colormap_to_name   (LensColormap map);

/* The colour of t in [0,1] (clamped) as 0xRRGGBB. */
guint32       lens_colormap_color     (LensColormap map,
                                       double       t);

/* n values -> n*3 RGB bytes (owned), stretched from their min to their
 * max; *lo and *hi (may be NULL) receive that range. */
guint8       *lens_colormap_apply     (LensColormap  map,
                                       const float  *values,
                                       int           n,
                                       float        *lo,
                                       float        *hi);

G_END_DECLS
