/* lens-export.h: figures (PNG) and numbers (CSV) of what the window shows,
 * written off the main thread
 *
 * The window fills a LensExportRequest with references to the immutable
 * results it shows (pixels, maps, trace, sweep) and the words that go into
 * the PNG's text chunks; the worker draws and writes it atomically. */
#pragma once

#include <gio/gio.h>

#include "lens-colormap.h"
#include "lens-engine-client.h"
#include "lens-render.h"

G_BEGIN_DECLS

typedef enum
{
  LENS_EXPORT_INPUT,            /* the network input (PNG) */
  LENS_EXPORT_PROJECTION,       /* the selected channel's projection (PNG) */
  LENS_EXPORT_HEAT_MAP,         /* the input under the occlusion heat map, with its
                                 * colour bar or class legend (PNG) */
  LENS_EXPORT_GRID,             /* every feature map of the layer (PNG) */
  LENS_EXPORT_PREDICTIONS,      /* the top-5 predictions (CSV) */
  LENS_EXPORT_OCCLUSION,        /* one row per occluder position of the sweep (CSV) */
  LENS_EXPORT_N_KINDS
} LensExportKind;

/* Largest scale factor offered. */
#define LENS_EXPORT_MAX_SCALE 16
/* Scale 0 ("automatic") enlarges images to at least this many pixels on
 * their longer side; the grid stays at 1. */
#define LENS_EXPORT_MIN_SIZE 256

/* One class of the most-probable-class map's legend. */
typedef struct
{
  guint32  color;   /* 0xRRGGBB */
  char    *name;
} LensLegendEntry;

typedef struct
{
  LensExportKind       kind;
  int                  scale;        /* 1..LENS_EXPORT_MAX_SCALE, 0: automatic */

  /* what is drawn or written (owned references; only the kind's are needed) */
  LensPixels          *input;        /* INPUT, HEAT_MAP */
  LensPixels          *projection;   /* PROJECTION */
  LensPixels          *heat;         /* HEAT_MAP: one pixel a position of the sweep */
  LensLayerMaps       *maps;         /* GRID */
  LensTraceInfo       *trace;        /* PREDICTIONS */
  LensOcclusionSweep  *sweep;        /* HEAT_MAP (its geometry), OCCLUSION */

  /* HEAT_MAP legend: a colour bar from lo to hi through colormap, or the
   * class swatches when classes is not empty */
  LensColormap         colormap;
  double               lo, hi;
  gboolean             percent;      /* lo, hi are probabilities */
  char                *caption;      /* under the bar */
  GArray              *classes;      /* LensLegendEntry */

  char               **text_kv;      /* key, value, ..., NULL: PNG text chunks */
} LensExportRequest;

LensExportRequest *lens_export_request_new   (LensExportKind     kind);
void               lens_export_request_free  (LensExportRequest *request);
void               lens_export_request_add_class (LensExportRequest *request,
                                                  guint32            color,
                                                  const char        *name);

/* "input", "projection", "heat-map", "grid", "predictions", "occlusion" */
const char *lens_export_kind_to_string   (LensExportKind  kind);
gboolean    lens_export_kind_from_string (const char     *name,
                                          LensExportKind *kind);
/* TRUE for the kinds written as CSV. */
gboolean    lens_export_kind_is_csv      (LensExportKind  kind);
/* The file name suffix: ".png" or ".csv". */
const char *lens_export_kind_get_suffix  (LensExportKind  kind);

/* The scale that `automatic` means for the request. */
int         lens_export_request_get_scale (const LensExportRequest *request);

/* The figure's size in pixels without drawing it (FALSE for CSV kinds
 * and incomplete requests). */
gboolean         lens_export_get_size    (const LensExportRequest  *request,
                                          int                      *width,
                                          int                      *height);
/* The figure (not for CSV kinds), or NULL with error. */
cairo_surface_t *lens_export_draw        (const LensExportRequest  *request,
                                          GError                  **error);
/* The CSV text (CSV kinds only), or NULL with error. */
char            *lens_export_format_csv  (const LensExportRequest  *request,
                                          GError                  **error);

/* Draws or formats the request and writes it atomically to path. */
gboolean    lens_export_write            (const LensExportRequest  *request,
                                          const char               *path,
                                          GError                  **error);
/* The same on a worker thread; takes the request. */
void        lens_export_write_async      (LensExportRequest    *request,
                                          const char           *path,
                                          GCancellable         *cancellable,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
gboolean    lens_export_write_finish     (GAsyncResult  *result,
                                          GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensExportRequest, lens_export_request_free)

G_END_DECLS
