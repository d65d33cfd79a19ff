/* lens-project.c: projections over a trace (the walk: lens-project-walk.c).
 *
 * A projection starts from a signal at one value (a layer's output) in which
 * every activation is zero except the chosen ones, and walks the layers in
 * reverse, asking each op for the signal of its inputs (lens-ops.h,
 * backward).  The modes differ only at ReLU / Clip; max pooling always
 * unpools through the switches of the forward pass. */
#define G_LOG_DOMAIN "lens-project"

#include "lens-project-private.h"
#include "lens-net-private.h"
#include "lens-trace-private.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (lens-project-error-quark, lens_project_error)

/* Keeps batch item 0 of a tensor (a copy with batch 1). */
static LensTensor *
first_item (LensTensor *t,
            GError    **error)
{
  LensShape s = t->shape;
  LensTensor *one;

  if (s.ndim == 0 || s.dims[0] <= 1)
    return t;
  s.dims[0] = 1;
  one = lens_tensor_new (t->dtype, &s, error);
  if (one != NULL)
    memcpy (one->data, t->data, lens_tensor_nbytes (one));
  lens_tensor_free (t);
  return one;
}

static LensBackMode
back_mode (LensProjectMode mode)
{
  return mode == LENS_PROJECT_GUIDED ? LENS_BACK_GUIDED
         : mode == LENS_PROJECT_GRADIENT ? LENS_BACK_GRADIENT : LENS_BACK_DECONV;
}

LensTensor *
lens_project_signal (LensTrace                *trace,
                     int                       value,
                     const LensTensor         *signal,
                     const LensProjectOptions *options,
                     GError                  **error)
{
  LensNet *net = lens_trace_get_net (trace);
  LensTensor *res;

  if (value < 0 || (guint) value >= net->values->len)
    {
      g_set_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_VALUE, "No such value");
      return NULL;
    }
  res = lens_project_walk (trace, value, signal, back_mode (options->mode), options->lrn, -1,
                           lens_trace_get_workspace (trace), error);
  return res ? first_item (res, error) : NULL;
}

static void
value_hw (const LensShape *s,
          int64_t         *c,
          int64_t         *h,
          int64_t         *w)
{
  *c = s->ndim > 1 ? s->dims[1] : 1;
  *h = s->ndim >= 4 ? s->dims[s->ndim - 2] : 1;
  *w = s->ndim >= 3 ? s->dims[s->ndim - 1] : 1;
}

static GString *
list_layers (const LensNet *net)
{
  GString *s = g_string_new (NULL);

  for (guint l = 0; l < net->layers->len; l++)
    g_string_append_printf (s, "%s%s", l ? ", " : "", lens_net_layer_get_name (net, l));
  return s;
}

/* Checks that value is a layer output with channels; returns it. */
static const LensTensor *
channel_value (LensTrace *trace,
               int        value,
               GError   **error)
{
  LensNet *net = lens_trace_get_net (trace);
  const LensTensor *act;

  if (value < 0 || (guint) value >= net->values->len || lens_net_value (net, value)->constant)
    {
      g_autoptr (GString) names = list_layers (net);
      g_set_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_VALUE,
                   "Unknown layer; the layers are: %s", names->str);
      return NULL;
    }
  act = lens_trace_get_value (trace, value);
  if (act->dtype != LENS_DTYPE_FLOAT32 || act->shape.ndim < 2)
    {
      g_set_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_VALUE,
                   "Layer output '%s' has no channels to project", lens_net_value (net, value)->name);
      return NULL;
    }
  return act;
}

/* The start signal of one channel (shaped like value, all zero but the
 * start), its receptive field and start position (both optional). */
static LensTensor *
channel_signal (LensTrace                *trace,
                int                       value,
                int                       channel,
                const LensProjectOptions *options,
                LensBox                  *rf,
                int                      *start_pos,
                GError                  **error)
{
  LensNet *net = lens_trace_get_net (trace);
  const LensTensor *act = channel_value (trace, value, error);
  g_autoptr (LensTensor) signal = NULL;
  int64_t c, h, w, px = 0, py = 0;
  const float *a;
  float *s;

  if (act == NULL)
    return NULL;
  value_hw (&act->shape, &c, &h, &w);
  if (channel < 0 || channel >= c)
    {
      g_set_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_CHANNEL,
                   "Channel %d is out of range: '%s' has channels 0 to %" G_GINT64_FORMAT,
                   channel, lens_net_value (net, value)->name, c - 1);
      return NULL;
    }
  signal = lens_tensor_new (LENS_DTYPE_FLOAT32, &act->shape, error);
  if (signal == NULL)
    return NULL;
  a = (const float *) act->data + (gsize) channel * h * w;
  s = (float *) signal->data + (gsize) channel * h * w;
  switch (options->start)
    {
    case LENS_START_MAP:
      memcpy (s, a, sizeof (float) * h * w);
      break;
    case LENS_START_MAX:
      {
        /* the first strongest activation in row-major order */
        int64_t best = 0;
        for (int64_t i = 1; i < h * w; i++)
          if (a[i] > a[best])
            best = i;
        s[best] = a[best];
        py = best / w;
        px = best % w;
      }
      break;
    case LENS_START_POINT:
      if (options->x < 0 || options->x >= w || options->y < 0 || options->y >= h)
        {
          g_set_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_CHANNEL,
                       "Position %d,%d is outside the %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                       " feature map", options->x, options->y, w, h);
          return NULL;
        }
      px = options->x;
      py = options->y;
      s[py * w + px] = a[py * w + px];
      break;
    }
  if (start_pos != NULL)
    {
      start_pos[0] = (int) px;
      start_pos[1] = (int) py;
    }
  if (rf != NULL)
    *rf = options->start == LENS_START_MAP
            ? lens_net_receptive_field (net, value, 0, (int) h, 0, (int) w)
            : lens_net_receptive_field (net, value, (int) py, (int) py + 1, (int) px, (int) px + 1);
  return g_steal_pointer (&signal);
}

LensTensor *
lens_project_channel (LensTrace                *trace,
                      int                       value,
                      int                       channel,
                      const LensProjectOptions *options,
                      LensBox                  *rf,
                      int                      *start_pos,
                      GError                  **error)
{
  g_autoptr (LensTensor) signal = channel_signal (trace, value, channel, options, rf, start_pos,
                                                  error);
  LensTensor *res;

  if (signal == NULL)
    return NULL;
  res = lens_project_walk (trace, value, signal, back_mode (options->mode), options->lrn, -1,
                           lens_trace_get_workspace (trace), error);
  return res ? first_item (res, error) : NULL;
}

/* ---------------------------------------------------------------- many channels */

typedef struct
{
  float v;
  int   channel;
} Ranked;

static int
compare_ranked (const void *a,
                const void *b)
{
  const Ranked *ra = a, *rb = b;

  if (ra->v != rb->v)
    return ra->v > rb->v ? -1 : 1;
  return ra->channel - rb->channel;
}

int
lens_project_rank_channels (LensTrace *trace,
                            int        value,
                            int        n,
                            int       *channels,
                            GError   **error)
{
  const LensTensor *act = channel_value (trace, value, error);
  g_autofree Ranked *ranked = NULL;
  int64_t c, h, w;

  if (act == NULL)
    return -1;
  value_hw (&act->shape, &c, &h, &w);
  ranked = g_new (Ranked, c);
  for (int64_t k = 0; k < c; k++)
    {
      const float *v = (const float *) act->data + k * h * w;
      ranked[k] = (Ranked) { v[0], (int) k };
      for (int64_t i = 1; i < h * w; i++)
        ranked[k].v = MAX (ranked[k].v, v[i]);
    }
  qsort (ranked, c, sizeof *ranked, compare_ranked);
  n = (int) MIN (MAX (n, 0), c);
  for (int i = 0; i < n; i++)
    channels[i] = ranked[i].channel;
  return n;
}

/* One call's shared state: the walks are handed out one at a time. */
typedef struct
{
  LensTrace     *trace;
  int            value;
  LensTensor   **signals;
  int            n;
  LensBackMode   mode;
  LensLrnMode    lrn;
  LensTensor    *result;
  gint           next;
  GMutex         lock;
  GError        *error;    /* the first failure (under lock) */
} Batch;

static void
batch_work (Batch *b,
            float *workspace)
{
  gsize item = lens_tensor_nbytes (b->result) / (gsize) b->n;

  for (;;)
    {
      int i = g_atomic_int_add (&b->next, 1);
      g_autoptr (GError) error = NULL;
      LensTensor *res;

      if (i >= b->n)
        return;
      res = lens_project_walk (b->trace, b->value, b->signals[i], b->mode, b->lrn, -1, workspace,
                               &error);
      if (res == NULL)
        {
          g_mutex_lock (&b->lock);
          if (b->error == NULL)
            b->error = g_steal_pointer (&error);
          g_mutex_unlock (&b->lock);
          g_atomic_int_set (&b->next, b->n);   /* no more walks */
          return;
        }
      memcpy ((char *) b->result->data + (gsize) i * item, res->data, item);
      lens_tensor_free (res);
    }
}

static gpointer
batch_thread (gpointer data)
{
  Batch *b = data;
  LensNet *net = lens_trace_get_net (b->trace);
  float *workspace = lens_aligned_alloc0 (MAX (1, net->workspace_floats) * sizeof (float));

  /* without a workspace this thread leaves the walks to the others */
  if (workspace != NULL)
    batch_work (b, workspace);
  lens_aligned_free (workspace);
  return NULL;
}

LensTensor *
lens_project_channels (LensTrace                *trace,
                       int                       value,
                       const int                *channels,
                       int                       n,
                       const LensProjectOptions *options,
                       LensBox                  *rf,
                       int                      *start_pos,
                       GError                  **error)
{
  LensNet *net = lens_trace_get_net (trace);
  g_autoptr (GError) local = NULL;
  LensShape shape;
  Batch b = { 0 };
  GThread *threads[8];
  int n_threads = 0, blas_threads = 1;

  g_return_val_if_fail (n >= 1 && channels != NULL && options != NULL, NULL);
  if (net->input < 0)
    {
      g_set_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_NO_INPUT,
                   "The model has no runtime input to project onto");
      return NULL;
    }
  shape = lens_trace_get_value (trace, net->input)->shape;
  shape.dims[0] = n;
  b.result = lens_tensor_new (LENS_DTYPE_FLOAT32, &shape, error);
  if (b.result == NULL)
    return NULL;
  b.signals = g_new0 (LensTensor *, n);
  for (int i = 0; i < n; i++)
    {
      b.signals[i] = channel_signal (trace, value, channels[i], options, rf ? rf + i : NULL,
                                     start_pos ? start_pos + 2 * i : NULL, &local);
      if (b.signals[i] == NULL)
        goto out;
    }
  b.trace = trace;
  b.value = value;
  b.n = n;
  b.mode = back_mode (options->mode);
  b.lrn = options->lrn;
  g_mutex_init (&b.lock);

  /* A walk from a box is a chain of small products that one BLAS thread
   * runs about as fast as several, so the walks run side by side, one per
   * BLAS thread allowed, with BLAS single-threaded meanwhile. */
  blas_threads = lens_get_threads ();
  n_threads = MIN (MIN (blas_threads, n) - 1, (int) G_N_ELEMENTS (threads));
  if (n_threads > 0)
    lens_set_threads (1);
  for (int t = 0; t < n_threads; t++)
    {
      threads[t] = g_thread_try_new ("lens-project", batch_thread, &b, NULL);
      if (threads[t] == NULL)
        {
          n_threads = t;
          break;
        }
    }
  batch_work (&b, lens_trace_get_workspace (trace));
  for (int t = 0; t < n_threads; t++)
    g_thread_join (threads[t]);
  if (blas_threads > 1)
    lens_set_threads (blas_threads);
  g_mutex_clear (&b.lock);
  if (b.error != NULL)
    g_propagate_error (&local, b.error);

out:
  for (int i = 0; i < n; i++)
    lens_tensor_free (b.signals[i]);
  g_free (b.signals);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      g_clear_pointer (&b.result, lens_tensor_free);
    }
  return b.result;
}

int
lens_net_find_logits (const LensNet *net)
{
  int out = lens_net_get_output_value (net);
  int node = lens_net_value (net, out)->producer;

  while (node >= 0)
    {
      LensNode *n = lens_net_node (net, node);
      if (n->op != LENS_OP_SOFTMAX && n->op != LENS_OP_IDENTITY && n->op != LENS_OP_DROPOUT &&
          n->op != LENS_OP_FLATTEN && n->op != LENS_OP_RESHAPE)
        break;
      if (n->op == LENS_OP_SOFTMAX)
        return n->inputs[0];
      out = n->inputs[0];
      node = lens_net_value (net, out)->producer;
    }
  return lens_net_get_output_value (net);
}

static LensTensor *
class_signal (LensTrace *trace,
              int        logits,
              int        klass,
              GError   **error)
{
  const LensTensor *z = lens_trace_get_value (trace, logits);
  gsize per_item = lens_tensor_numel (z) / (gsize) MAX (1, z->shape.dims[0]);
  LensTensor *signal;

  if (klass < 0 || (gsize) klass >= per_item)
    {
      g_set_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_CHANNEL,
                   "Class %d is out of range: the model has classes 0 to %" G_GSIZE_FORMAT,
                   klass, per_item - 1);
      return NULL;
    }
  signal = lens_tensor_new (LENS_DTYPE_FLOAT32, &z->shape, error);
  if (signal != NULL)
    ((float *) signal->data)[klass] = 1.0f;
  return signal;
}

LensTensor *
lens_project_class (LensTrace                *trace,
                    int                       klass,
                    const LensProjectOptions *options,
                    GError                  **error)
{
  int logits = lens_net_find_logits (lens_trace_get_net (trace));
  g_autoptr (LensTensor) signal = class_signal (trace, logits, klass, error);
  LensTensor *res;

  if (signal == NULL)
    return NULL;
  res = lens_project_walk (trace, logits, signal, back_mode (options->mode), options->lrn, -1,
                           lens_trace_get_workspace (trace), error);
  return res ? first_item (res, error) : NULL;
}

LensTensor *
lens_gradcam (LensTrace *trace,
              int        value,
              int        klass,
              GError   **error)
{
  LensNet *net = lens_trace_get_net (trace);
  int logits = lens_net_find_logits (net);
  g_autoptr (LensTensor) signal = NULL;
  g_autoptr (LensTensor) grad = NULL;
  g_autofree float *cam = NULL;
  const LensTensor *act;
  const LensShape *in_shape = lens_net_get_input_shape (net);
  LensTensor *res;
  int64_t c, h, w, H, W;

  if (value < 0 || (guint) value >= net->values->len || in_shape == NULL)
    {
      g_set_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_VALUE, "Unknown layer");
      return NULL;
    }
  act = lens_trace_get_value (trace, value);
  if (act->shape.ndim != 4)
    {
      g_set_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_VALUE,
                   "Grad-CAM needs a convolutional layer with [N,C,H,W] output; '%s' is not",
                   lens_net_value (net, value)->name);
      return NULL;
    }
  signal = class_signal (trace, logits, klass, error);
  if (signal == NULL)
    return NULL;
  grad = lens_project_walk (trace, logits, signal, LENS_BACK_GRADIENT, LENS_LRN_JACOBIAN, value,
                            lens_trace_get_workspace (trace), error);
  if (grad == NULL)
    return NULL;
  value_hw (&act->shape, &c, &h, &w);
  cam = g_new0 (float, h * w);
  for (int64_t ch = 0; ch < c; ch++)
    {
      const float *g = (const float *) grad->data + ch * h * w;
      const float *a = (const float *) act->data + ch * h * w;
      double alpha = 0.0;
      for (int64_t i = 0; i < h * w; i++)
        alpha += g[i];
      alpha /= (double) (h * w);
      for (int64_t i = 0; i < h * w; i++)
        cam[i] += (float) (alpha * a[i]);
    }
  H = in_shape->dims[2];
  W = in_shape->dims[3];
  res = lens_tensor_new (LENS_DTYPE_FLOAT32, &(LensShape) { 4, { 1, 1, H, W } }, error);
  if (res == NULL)
    return NULL;
  /* ReLU, then bilinear upsampling with half-pixel centres */
  for (int64_t y = 0; y < H; y++)
    for (int64_t x = 0; x < W; x++)
      {
        double sy = CLAMP ((y + 0.5) * h / (double) H - 0.5, 0, h - 1);
        double sx = CLAMP ((x + 0.5) * w / (double) W - 0.5, 0, w - 1);
        int64_t y0 = (int64_t) sy, x0 = (int64_t) sx;
        int64_t y1 = MIN (y0 + 1, h - 1), x1 = MIN (x0 + 1, w - 1);
        double fy = sy - y0, fx = sx - x0;
        double v = (1 - fy) * ((1 - fx) * MAX (0, cam[y0 * w + x0]) + fx * MAX (0, cam[y0 * w + x1])) +
                   fy * ((1 - fx) * MAX (0, cam[y1 * w + x0]) + fx * MAX (0, cam[y1 * w + x1]));
        ((float *) res->data)[y * W + x] = (float) v;
      }
  return res;
}

LensBox
lens_net_receptive_field (const LensNet *net,
                          int            value,
                          int            y0,
                          int            y1,
                          int            x0,
                          int            x1)
{
  guint nv = net->values->len;
  g_autofree LensRegion *reg = g_new0 (LensRegion, nv);
  g_autofree gboolean *has = g_new0 (gboolean, nv);
  int first = lens_project_producer_layer (net, value);
  const LensShape *in = lens_net_get_input_shape (net);
  LensBox box = { 0, 0, 0, 0 };
  int64_t ic, ih, iw;

  if (in == NULL)
    return box;
  value_hw (in, &ic, &ih, &iw);
  reg[value] = (LensRegion) { y0, y1, x0, x1 };
  has[value] = TRUE;
  for (int l = first; l >= 0; l--)
    {
      LensNode *node = lens_net_layer_node (net, (guint) l);
      const LensOpClass *klass = lens_op_class (node->op);
      int o = node->outputs[0];

      if (!has[o])
        continue;
      for (int i = 0; i < node->n_inputs; i++)
        {
          int v = node->inputs[i];
          const LensShape *s;
          LensRegion r;
          int64_t c, h, w;

          if (v < 0 || lens_net_value (net, v)->constant)
            continue;
          s = &lens_net_value (net, v)->shape;
          value_hw (s, &c, &h, &w);
          if (klass->region == NULL)
            r = (LensRegion) { MIN (reg[o].y0, h), MIN (reg[o].y1, h),
                               MIN (reg[o].x0, w), MIN (reg[o].x1, w) };
          else if (!klass->region (node, s, &reg[o], &r))
            r = (LensRegion) { 0, h, 0, w };
          if (has[v])
            {
              reg[v].y0 = MIN (reg[v].y0, r.y0);
              reg[v].x0 = MIN (reg[v].x0, r.x0);
              reg[v].y1 = MAX (reg[v].y1, r.y1);
              reg[v].x1 = MAX (reg[v].x1, r.x1);
            }
          else
            reg[v] = r;
          has[v] = TRUE;
        }
    }
  if (net->input >= 0 && has[net->input])
    box = (LensBox) { (int) reg[net->input].x0, (int) reg[net->input].y0,
                      (int) reg[net->input].x1, (int) reg[net->input].y1 };
  else
    box = (LensBox) { 0, 0, (int) iw, (int) ih };
  return box;
}

/* Display normalisation.  A projection has no natural scale, so (as in the
 * paper's figures) each one is contrast-normalised on its own: with
 * s = max |v| over all pixels and channels, a value v is shown as
 *     p = 0.5 + 0.5 * v / s        (clipped to [0, 1], then x255)
 * so zero is mid-gray, the strongest positive value white (in its colour)
 * and the strongest negative one black.  All channels share one scale so
 * colours keep their balance.  A one-channel input is shown as gray. */
guint8 *
lens_projection_to_rgb (const LensTensor *map,
                        gboolean          bgr,
                        int              *width,
                        int              *height)
{
  int64_t c, h, w;
  const float *v = map->data;
  double s = 0.0;
  guint8 *rgb;

  value_hw (&map->shape, &c, &h, &w);
  for (int64_t i = 0; i < c * h * w; i++)
    s = MAX (s, fabs (v[i]));
  if (s <= 0.0)
    s = 1.0;
  rgb = g_malloc ((gsize) h * w * 3);
  for (int64_t y = 0; y < h; y++)
    for (int64_t x = 0; x < w; x++)
      for (int k = 0; k < 3; k++)
        {
          int64_t ch = c >= 3 ? (bgr ? 2 - k : k) : 0;
          double p = 0.5 + 0.5 * v[(ch * h + y) * w + x] / s;
          rgb[(y * w + x) * 3 + k] = (guint8) lround (CLAMP (p, 0.0, 1.0) * 255.0);
        }
  *width = (int) w;
  *height = (int) h;
  return rgb;
}

/* A perceptual colormap: a piecewise-linear approximation of viridis
 * through nine evenly spaced anchor colours. */
static void
viridis (double  t,
         guint8 *out)
{
  static const guint8 anchors[9][3] = {
    { 68, 1, 84 }, { 71, 44, 122 }, { 59, 81, 139 }, { 44, 113, 142 }, { 33, 144, 141 },
    { 39, 173, 129 }, { 92, 200, 99 }, { 170, 220, 50 }, { 253, 231, 37 }
  };
  double pos = CLAMP (t, 0.0, 1.0) * 8.0;
  int i = MIN ((int) pos, 7);
  double f = pos - i;

  for (int k = 0; k < 3; k++)
    out[k] = (guint8) lround (anchors[i][k] * (1 - f) + anchors[i + 1][k] * f);
}

guint8 *
lens_heatmap_to_rgb (const LensTensor *map,
                     int              *width,
                     int              *height)
{
  int64_t c, h, w;
  const float *v = map->data;
  double lo = INFINITY, hi = -INFINITY;
  guint8 *rgb;

  value_hw (&map->shape, &c, &h, &w);
  if (map->shape.ndim == 2)
    {
      h = map->shape.dims[0];
      w = map->shape.dims[1];
    }
  for (int64_t i = 0; i < h * w; i++)
    {
      lo = MIN (lo, v[i]);
      hi = MAX (hi, v[i]);
    }
  rgb = g_malloc ((gsize) h * w * 3);
  for (int64_t i = 0; i < h * w; i++)
    viridis (hi > lo ? (v[i] - lo) / (hi - lo) : 0.0, rgb + i * 3);
  *width = (int) w;
  *height = (int) h;
  return rgb;
}
