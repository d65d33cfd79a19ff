/* lens-plot.c: line and bar charts with cairo (see lens-plot.h) */
#define G_LOG_DOMAIN "lens-plot"

#include <math.h>
#include <string.h>

#include "lens-image.h"
#include "lens-plot.h"

#include <pango/pangocairo.h>

#define FIG_W     760
#define PANEL_H   280
#define TITLE_H   34
#define LEFT      70
#define RIGHT     190
#define TOP       28
#define BOTTOM    46

/* Colour-blind-safe (Okabe & Ito), then repeated. */
static const double palette[][3] = {
  { 0.00, 0.45, 0.70 }, { 0.90, 0.62, 0.00 }, { 0.00, 0.62, 0.45 }, { 0.80, 0.47, 0.65 },
  { 0.34, 0.71, 0.91 }, { 0.84, 0.37, 0.00 }, { 0.94, 0.89, 0.26 }, { 0.30, 0.30, 0.30 },
};

/* Text through Pango, so that any script (translated labels, file names)
 * finds a font; y is the baseline. */
static void
text_at (cairo_t    *cr,
         double      x,
         double      y,
         double      size,
         double      align,   /* 0 left, 0.5 centre, 1 right */
         const char *text)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string ("Sans");
  PangoRectangle logical;

  pango_font_description_set_absolute_size (font, size * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text, -1);
  pango_layout_get_extents (layout, NULL, &logical);
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  cairo_move_to (cr, x - align * logical.width / (double) PANGO_SCALE,
                 y - pango_layout_get_baseline (layout) / (double) PANGO_SCALE);
  pango_cairo_show_layout (cr, layout);
  pango_font_description_free (font);
  g_object_unref (layout);
}

static double
nice_step (double span)
{
  double raw = span / 5, mag = pow (10, floor (log10 (raw))), f = raw / mag;

  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

static void
draw_panel (cairo_t            *cr,
            const LensPlotPanel *p,
            double              oy)
{
  double x0 = LEFT, x1 = FIG_W - RIGHT, y0 = oy + TOP, y1 = oy + PANEL_H - BOTTOM;
  double xmin = 0, xmax = MAX (p->n - 1, 1), ymin = p->y_min, ymax = p->y_max, step;
  gboolean auto_lo = isnan (ymin), auto_hi = isnan (ymax);

  if (p->x != NULL && p->n > 0)
    {
      xmin = xmax = p->x[0];
      for (int i = 1; i < p->n; i++)
        xmin = MIN (xmin, p->x[i]), xmax = MAX (xmax, p->x[i]);
    }
  if (xmax <= xmin)
    xmin -= 0.5, xmax += 0.5;
  if (p->x_names != NULL)
    xmin -= 0.5, xmax += 0.5;
  if (auto_lo || auto_hi)
    {
      double lo = INFINITY, hi = -INFINITY;

      for (int s = 0; s < p->n_series; s++)
        for (int i = 0; i < p->n; i++)
          if (isfinite (p->series[s].y[i]))
            lo = MIN (lo, p->series[s].y[i]), hi = MAX (hi, p->series[s].y[i]);
      if (!isfinite (lo))
        lo = 0, hi = 1;
      if (auto_lo)
        ymin = MIN (lo, 0);
      if (auto_hi)
        ymax = hi;
    }
  if (ymax <= ymin)
    ymax = ymin + 1;
  step = nice_step (ymax - ymin);
  if (auto_hi)
    ymax = ceil (ymax / step - 1e-9) * step;

#define PX(v) (x0 + ((v) - xmin) / (xmax - xmin) * (x1 - x0))
#define PY(v) (y1 - ((v) - ymin) / (ymax - ymin) * (y1 - y0))

  text_at (cr, x0, oy + 17, 13, 0, p->title ? p->title : "");
  cairo_set_line_width (cr, 1);
  /* grid and y ticks */
  for (double t = ceil (ymin / step - 1e-9) * step; t <= ymax + step * 1e-6; t += step)
    {
      g_autofree char *label = g_strdup_printf ("%.3g", fabs (t) < step * 1e-6 ? 0.0 : t);

      cairo_set_source_rgb (cr, 0.88, 0.88, 0.88);
      cairo_move_to (cr, x0, floor (PY (t)) + 0.5);
      cairo_line_to (cr, x1, floor (PY (t)) + 0.5);
      cairo_stroke (cr);
      text_at (cr, x0 - 6, PY (t) + 4, 10, 1, label);
    }
  /* x ticks */
  if (p->x_names != NULL)
    for (int i = 0; i < p->n; i++)
      text_at (cr, PX (p->x ? p->x[i] : i), y1 + 15, 10, 0.5, p->x_names[i]);
  else
    {
      double xs = nice_step (xmax - xmin);

      for (double t = ceil (xmin / xs - 1e-9) * xs; t <= xmax + xs * 1e-6; t += xs)
        {
          g_autofree char *label = g_strdup_printf ("%.3g", fabs (t) < xs * 1e-6 ? 0.0 : t);

          text_at (cr, PX (t), y1 + 15, 10, 0.5, label);
        }
    }
  cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
  cairo_rectangle (cr, x0 + 0.5, y0 + 0.5, x1 - x0, y1 - y0);
  cairo_stroke (cr);
  text_at (cr, (x0 + x1) / 2, y1 + 34, 11, 0.5, p->x_label ? p->x_label : "");
  cairo_save (cr);
  cairo_translate (cr, 16, (y0 + y1) / 2);
  cairo_rotate (cr, -G_PI / 2);
  text_at (cr, 0, 0, 11, 0.5, p->y_label ? p->y_label : "");
  cairo_restore (cr);

  /* series, clipped to the plot area */
  cairo_save (cr);
  cairo_rectangle (cr, x0, y0, x1 - x0, y1 - y0);
  cairo_clip (cr);
  cairo_set_line_width (cr, 1.8);
  for (int s = 0; s < p->n_series; s++)
    {
      const double *c = palette[s % G_N_ELEMENTS (palette)];
      gboolean pen = FALSE;

      cairo_set_source_rgb (cr, c[0], c[1], c[2]);
      if (p->bars)
        {
          /* grouped bars: one group per x, 80% of a unit wide */
          double unit = (x1 - x0) / (xmax - xmin), bw = 0.8 * unit / MAX (p->n_series, 1);

          for (int i = 0; i < p->n; i++)
            {
              double v = p->series[s].y[i], base = MAX (ymin, MIN (0, ymax));
              double left = PX (p->x ? p->x[i] : i) - 0.4 * unit + s * bw;

              if (!isfinite (v))
                continue;
              cairo_rectangle (cr, left, MIN (PY (v), PY (base)), bw * 0.9,
                               fabs (PY (v) - PY (base)));
              cairo_fill (cr);
            }
          continue;
        }
      for (int i = 0; i < p->n; i++)
        {
          double v = p->series[s].y[i], px = PX (p->x ? p->x[i] : i);

          if (!isfinite (v))
            {
              pen = FALSE;
              continue;
            }
          if (pen)
            cairo_line_to (cr, px, PY (v));
          else
            cairo_move_to (cr, px, PY (v));
          pen = TRUE;
        }
      cairo_stroke (cr);
      for (int i = 0; i < p->n; i++)
        if (isfinite (p->series[s].y[i]) && p->n <= 60)
          {
            cairo_arc (cr, PX (p->x ? p->x[i] : i), PY (p->series[s].y[i]), 2.5, 0, 2 * G_PI);
            cairo_fill (cr);
          }
    }
  cairo_restore (cr);

  /* legend */
  for (int s = 0; s < p->n_series && s < 14; s++)
    {
      const double *c = palette[s % G_N_ELEMENTS (palette)];
      double ly = y0 + 8 + s * 16;
      g_autofree char *label = g_utf8_make_valid (p->series[s].label ? p->series[s].label : "",
                                                  -1);

      cairo_set_source_rgb (cr, c[0], c[1], c[2]);
      cairo_rectangle (cr, x1 + 12, ly - 8, 14, 3);
      cairo_fill (cr);
      if (g_utf8_strlen (label, -1) > 24)
        {
          char *cut = g_utf8_substring (label, 0, 23);

          g_free (label);
          label = g_strconcat (cut, "…", NULL);
          g_free (cut);
        }
      text_at (cr, x1 + 32, ly - 2, 10, 0, label);
    }
  if (p->n_series > 14)
    {
      g_autofree char *more = g_strdup_printf ("... %d more", p->n_series - 14);

      text_at (cr, x1 + 32, y0 + 8 + 14 * 16 - 2, 10, 0, more);
    }
#undef PX
#undef PY
}

void
lens_plot_get_size (int  n_panels,
                    int *width,
                    int *height)
{
  *width = FIG_W;
  *height = TITLE_H + MAX (n_panels, 0) * PANEL_H;
}

void
lens_plot_draw (cairo_t             *cr,
                const char          *title,
                const LensPlotPanel *panels,
                int                  n_panels)
{
  int fw, fh;

  lens_plot_get_size (n_panels, &fw, &fh);
  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, fw, fh);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_fill (cr);
  {
    g_autofree char *t = g_utf8_make_valid (title ? title : "", -1);

    text_at (cr, 12, 22, 14, 0, t);
  }
  for (int i = 0; i < n_panels; i++)
    draw_panel (cr, &panels[i], TITLE_H + (double) i * PANEL_H);
  cairo_restore (cr);
}

gboolean
lens_plot_save (const char          *path,
                const char          *title,
                const LensPlotPanel *panels,
                int                  n_panels,
                const char * const  *text_kv,
                GError             **error)
{
  int fw, fh;
  cairo_surface_t *surface;
  cairo_t *cr;
  g_autofree guint8 *rgb = NULL;
  const guint8 *data;
  int stride;
  gboolean ok;

  lens_plot_get_size (n_panels, &fw, &fh);
  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, fw, fh);
  cr = cairo_create (surface);
  lens_plot_draw (cr, title, panels, n_panels);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  rgb = g_malloc ((gsize) fw * fh * 3);

  /* cairo's native-endian xRGB words to RGB bytes */
  data = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  for (int y = 0; y < fh; y++)
    for (int x = 0; x < fw; x++)
      {
        guint32 px = ((const guint32 *) (data + (gsize) y * stride))[x];
        guint8 *o = rgb + ((gsize) y * fw + x) * 3;

        o[0] = (px >> 16) & 0xff;
        o[1] = (px >> 8) & 0xff;
        o[2] = px & 0xff;
      }
  cairo_surface_destroy (surface);
  ok = lens_png_save_rgb (path, rgb, fw, fh, fw * 3, text_kv, error);
  return ok;
}
