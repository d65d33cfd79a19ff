/* lens-colormap.c: viridis (through the engine), inferno and gray */
#define G_LOG_DOMAIN "lens-colormap"

#include "lens-config.h"

#include <math.h>

#include "lens-colormap.h"
#include "lens-project.h"

/* inferno at nine evenly spaced points; linear in between */
static const guint32 inferno_stops[] = {
  0x000004, 0x1f0c48, 0x550f6d, 0x88226a, 0xba3655,
  0xe35933, 0xf98e09, 0xf9cb35, 0xfcffa4,
};

LensColormap
lens_colormap_from_name (const char *name)
{
  if (g_strcmp0 (name, "inferno") == 0)
    return LENS_COLORMAP_INFERNO;
  if (g_strcmp0 (name, "gray") == 0)
    return LENS_COLORMAP_GRAY;
  return LENS_COLORMAP_VIRIDIS;
}

const char *
lens_colormap_to_name (LensColormap map)
{
  switch (map)
    {
    case LENS_COLORMAP_INFERNO:
      return "inferno";
    case LENS_COLORMAP_GRAY:
      return "gray";
    case LENS_COLORMAP_VIRIDIS:
    default:
      return "viridis";
    }
}

/* The engine owns viridis: one 1 x n ramp through it. */
static guint8 *
viridis_rgb (const float *values,
             int          n)
{
  LensShape shape = { 0 };
  g_autoptr(LensTensor) view = NULL;
  int w, h;

  shape.ndim = 2;
  shape.dims[0] = 1;
  shape.dims[1] = n;
  view = lens_tensor_new_view (LENS_DTYPE_FLOAT32, &shape, (float *) values);
  return lens_heatmap_to_rgb (view, &w, &h);
}

guint32
lens_colormap_color (LensColormap map,
                     double       t)
{
  t = isnan (t) ? 0.0 : CLAMP (t, 0.0, 1.0);

  switch (map)
    {
    case LENS_COLORMAP_GRAY:
      {
        guint32 g = (guint32) lrint (t * 255.0);

        return (g << 16) | (g << 8) | g;
      }
    case LENS_COLORMAP_INFERNO:
      {
        double pos = t * (G_N_ELEMENTS (inferno_stops) - 1);
        guint i = MIN ((guint) pos, G_N_ELEMENTS (inferno_stops) - 2);
        double f = pos - i;
        guint32 a = inferno_stops[i], b = inferno_stops[i + 1], out = 0;

        for (int shift = 16; shift >= 0; shift -= 8)
          {
            double ca = (a >> shift) & 0xff, cb = (b >> shift) & 0xff;

            out |= (guint32) lrint (ca + f * (cb - ca)) << shift;
          }
        return out;
      }
    case LENS_COLORMAP_VIRIDIS:
    default:
      {
        /* two points 0 and t of a ramp from 0 to 1 */
        float ramp[3] = { 0.f, (float) t, 1.f };
        g_autofree guint8 *rgb = viridis_rgb (ramp, 3);

        return ((guint32) rgb[3] << 16) | ((guint32) rgb[4] << 8) | rgb[5];
      }
    }
}

guint8 *
lens_colormap_apply (LensColormap  map,
                     const float  *values,
                     int           n,
                     float        *lo,
                     float        *hi)
{
  float min = INFINITY, max = -INFINITY;
  guint8 *rgb;

  g_return_val_if_fail (values != NULL && n > 0, NULL);

  for (int i = 0; i < n; i++)
    {
      min = MIN (min, values[i]);
      max = MAX (max, values[i]);
    }
  if (lo != NULL)
    *lo = min;
  if (hi != NULL)
    *hi = max;

  if (map == LENS_COLORMAP_VIRIDIS)
    return viridis_rgb (values, n);

  rgb = g_malloc ((gsize) n * 3);
  for (int i = 0; i < n; i++)
    {
      guint32 c = lens_colormap_color (map, max > min ? (values[i] - min) / (max - min) : 0.0);

      rgb[3 * i] = c >> 16;
      rgb[3 * i + 1] = (c >> 8) & 0xff;
      rgb[3 * i + 2] = c & 0xff;
    }
  return rgb;
}
