/* lens-project-walk.c: the backward walk over a trace, and where on each
 * feature map the walked signal can be non-zero.
 *
 * The walk starts from a signal at one value (a layer's output) and goes
 * through the layers in reverse, asking each op for the signal of its
 * inputs (lens-ops.h, backward).
 *
 * A 'max' or point start is a single activation.  Going back through a 3x3
 * convolution it spreads to a 3x3 box, through a pool to the pool's
 * windows, and so on: most of every deep feature map stays zero, and most
 * of a full backward convolution multiplies zeros.  So the walk first
 * works out, for every value, a box of the spatial plane outside which its
 * signal is surely zero (the op table's region functions, as for the
 * receptive field), and runs each convolution's backward on its box only,
 * as a smaller convolution: the box of the output signal, the box of the
 * input that it reads, and begin paddings shifted so that each output
 * position meets the same input pixels as before.  The other ops (ReLU,
 * pooling, LRN, ...) are cheap and run on whole tensors.  The boxes only
 * ever over-approximate where the signal is non-zero, so the result is
 * that of the full walk. */
#define G_LOG_DOMAIN "lens-project"

#include "lens-project-private.h"
#include "lens-net-private.h"

#include <string.h>

/* Where the signal at one value can be non-zero. */
typedef struct
{
  LensRegion box;   /* rows/columns of the plane (when !full; may be empty) */
  gboolean   set;   /* some signal arrives at this value */
  gboolean   full;  /* it can be anywhere */
} Reach;

int
lens_project_producer_layer (const LensNet *net,
                             int            value)
{
  int node = lens_net_value (net, value)->producer;

  if (node < 0)
    return -1;
  for (guint l = 0; l < net->layers->len; l++)
    if (g_array_index (net->layers, int, l) == node)
      return (int) l;
  return -1;
}

static gboolean
box_empty (const LensRegion *b)
{
  return b->y1 <= b->y0 || b->x1 <= b->x0;
}

/* The bounding box of the non-zero elements of a signal (all items and
 * channels); only [N,C,H,W] signals get a box. */
static Reach
signal_reach (const LensTensor *t)
{
  Reach r = { { 0, 0, 0, 0 }, TRUE, FALSE };
  int64_t planes, h, w;
  const float *v = t->data;

  if (t->shape.ndim != 4)
    {
      r.full = TRUE;
      return r;
    }
  planes = t->shape.dims[0] * t->shape.dims[1];
  h = t->shape.dims[2];
  w = t->shape.dims[3];
  r.box = (LensRegion) { h, 0, w, 0 };
  for (int64_t p = 0; p < planes; p++)
    for (int64_t y = 0; y < h; y++)
      for (int64_t x = 0; x < w; x++)
        if (v[(p * h + y) * w + x] != 0.0f)
          {
            r.box.y0 = MIN (r.box.y0, y);
            r.box.y1 = MAX (r.box.y1, y + 1);
            r.box.x0 = MIN (r.box.x0, x);
            r.box.x1 = MAX (r.box.x1, x + 1);
          }
  if (box_empty (&r.box))
    r.box = (LensRegion) { 0, 0, 0, 0 };
  return r;
}

/* Ops whose input signal at a position comes only from the output signal
 * at the same position (when the input has the output's spatial size). */
static gboolean
keeps_positions (const LensNode *node)
{
  switch (node->op)
    {
    case LENS_OP_LRN:
    case LENS_OP_BATCHNORM:
    case LENS_OP_RELU:
    case LENS_OP_LEAKYRELU:
    case LENS_OP_SIGMOID:
    case LENS_OP_TANH:
    case LENS_OP_CLIP:
    case LENS_OP_DROPOUT:
    case LENS_OP_IDENTITY:
    case LENS_OP_ADD:
    case LENS_OP_SUB:
    case LENS_OP_MUL:
    case LENS_OP_DIV:
    case LENS_OP_SUM:
    case LENS_OP_CAST:
      return TRUE;
    case LENS_OP_CONCAT:
      return node->p.axis < 2;   /* joined along batch or channels */
    default:
      return FALSE;
    }
}

static void
reach_merge (Reach       *dst,
             const Reach *r)
{
  if (!dst->set || (!dst->full && box_empty (&dst->box)))
    *dst = *r;
  else if (r->full || dst->full)
    dst->full = TRUE;
  else if (!box_empty (&r->box))
    {
      dst->box.y0 = MIN (dst->box.y0, r->box.y0);
      dst->box.y1 = MAX (dst->box.y1, r->box.y1);
      dst->box.x0 = MIN (dst->box.x0, r->box.x0);
      dst->box.x1 = MAX (dst->box.x1, r->box.x1);
    }
  dst->set = TRUE;
}

/* Fills reach[] for the values that the walk from `value` (layers first
 * down to, not including, last) reaches. */
static void
reach_back (LensTrace        *trace,
            int               value,
            const LensTensor *signal,
            int               first,
            int               last,
            Reach            *reach)
{
  LensNet *net = lens_trace_get_net (trace);

  reach[value] = signal_reach (signal);
  for (int l = first; l > last && l >= 0; l--)
    {
      LensNode *node = lens_net_layer_node (net, (guint) l);
      const LensOpClass *klass = lens_op_class (node->op);
      const Reach *ro = &reach[node->outputs[0]];
      const LensShape *os = &lens_trace_get_value (trace, node->outputs[0])->shape;

      if (!ro->set)
        continue;
      for (int i = 0; i < node->n_inputs; i++)
        {
          int v = node->inputs[i];
          const LensShape *is;
          Reach r = { { 0, 0, 0, 0 }, TRUE, TRUE };

          if (v < 0 || lens_net_value (net, v)->constant != NULL)
            continue;
          is = &lens_trace_get_value (trace, v)->shape;
          if (!ro->full && is->ndim == 4 && os->ndim == 4)
            {
              if (box_empty (&ro->box))
                r.full = FALSE;
              else if (klass->region != NULL)
                r.full = !klass->region (node, is, &ro->box, &r.box);
              else if (keeps_positions (node) && is->dims[2] == os->dims[2]
                       && is->dims[3] == os->dims[3])
                {
                  r.box = ro->box;
                  r.full = FALSE;
                }
            }
          reach_merge (&reach[v], &r);
        }
    }
}

/* The backward of a convolution restricted to box ob of its output signal
 * g, added into gx.  The smaller convolution runs from box ob of g to box
 * ib of the input (what ob reads, cut at the map's edges); a begin padding
 * of pad + ib.y0 - ob.y0 * stride makes output row ob.y0 + r meet input
 * row ib.y0 + (r * stride - pad' + ki * dilation), the same pixels as
 * before (the backward kernel uses only the begin paddings and clips
 * at the edges).  Items whose box is all zero are skipped.  Returns FALSE
 * (nothing done) when out of memory: the caller runs the full backward. */
static gboolean
conv_back_box (const LensNode    *node,
               const LensTensor **in,
               const LensTensor **out,
               const LensTensor  *g,
               LensTensor        *gx,
               const LensBackCtx *ctx,
               const LensRegion  *ob)
{
  const LensOpClass *klass = lens_op_class (node->op);
  LensNode sub = *node;
  LensRegion ib;
  int64_t n = g->shape.dims[0], m = g->shape.dims[1], oh = g->shape.dims[2];
  int64_t ow = g->shape.dims[3], c = gx->shape.dims[1], h = gx->shape.dims[2];
  int64_t w = gx->shape.dims[3], rh, rw, ih, iw;
  g_autoptr (LensTensor) gs = NULL;
  g_autoptr (LensTensor) gxs = NULL;
  LensTensor x_view;
  const LensTensor *sub_in[3];
  LensTensor *sub_gin[3] = { NULL, NULL, NULL };

  if (!klass->region (node, &in[0]->shape, ob, &ib))
    return FALSE;
  rh = ob->y1 - ob->y0;
  rw = ob->x1 - ob->x0;
  ih = ib.y1 - ib.y0;
  iw = ib.x1 - ib.x0;
  if (rh <= 0 || rw <= 0 || ih <= 0 || iw <= 0)
    return TRUE;   /* no signal, or it reads only padding */
  gs = lens_tensor_new (LENS_DTYPE_FLOAT32, &(LensShape) { 4, { 1, m, rh, rw } }, NULL);
  gxs = lens_tensor_new (LENS_DTYPE_FLOAT32, &(LensShape) { 4, { 1, c, ih, iw } }, NULL);
  if (gs == NULL || gxs == NULL)
    return FALSE;
  sub.p.pads[0] = (int) (node->p.pads[0] + ib.y0 - ob->y0 * node->p.strides[0]);
  sub.p.pads[1] = (int) (node->p.pads[1] + ib.x0 - ob->x0 * node->p.strides[1]);
  /* only the input's shape is read (the weights come from in[1]) */
  x_view = *in[0];
  x_view.shape = gxs->shape;
  x_view.owns_data = FALSE;
  sub_in[0] = &x_view;
  sub_in[1] = in[1];
  sub_in[2] = node->n_inputs > 2 ? in[2] : NULL;
  sub_gin[0] = gxs;

  for (int64_t b = 0; b < n; b++)
    {
      const float *src = (const float *) g->data + b * m * oh * ow;
      float *gsd = gs->data, *gxd = gxs->data;
      float *dst = (float *) gx->data + b * c * h * w;
      gboolean any = FALSE;

      for (int64_t k = 0; k < m; k++)
        for (int64_t y = 0; y < rh; y++)
          {
            const float *row = src + (k * oh + ob->y0 + y) * ow + ob->x0;
            float *to = gsd + (k * rh + y) * rw;
            for (int64_t x = 0; x < rw; x++)
              {
                to[x] = row[x];
                any = any || row[x] != 0.0f;
              }
          }
      if (!any)
        continue;
      memset (gxd, 0, lens_tensor_nbytes (gxs));
      klass->backward (&sub, sub_in, out, gs, sub_gin, ctx);
      for (int64_t k = 0; k < c; k++)
        for (int64_t y = 0; y < ih; y++)
          {
            float *row = dst + (k * h + ib.y0 + y) * w + ib.x0;
            const float *from = gxd + (k * ih + y) * iw;
            for (int64_t x = 0; x < iw; x++)
              row[x] += from[x];
          }
    }
  return TRUE;
}

LensTensor *
lens_project_walk (LensTrace        *trace,
                   int               value,
                   const LensTensor *signal,
                   LensBackMode      mode,
                   LensLrnMode       lrn,
                   int               stop,
                   float            *workspace,
                   GError          **error)
{
  LensNet *net = lens_trace_get_net (trace);
  guint nv = net->values->len;
  g_autofree LensTensor **grads = g_new0 (LensTensor *, nv);
  g_autofree Reach *reach = g_new0 (Reach, nv);
  int target = stop >= 0 ? stop : net->input;
  int first = lens_project_producer_layer (net, value);
  int last;
  LensTensor *result = NULL;
  LensBackCtx ctx = { 0 };

  if (target < 0)
    {
      g_set_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_NO_INPUT,
                   "The model has no runtime input to project onto");
      return NULL;
    }
  ctx.mode = mode;
  ctx.lrn_jacobian = lrn == LENS_LRN_JACOBIAN || (lrn == LENS_LRN_DEFAULT && mode != LENS_BACK_DECONV);
  ctx.workspace = workspace;

  grads[value] = lens_tensor_dup (signal, error);
  if (grads[value] == NULL)
    goto out;

  /* layers before the stop value's producer cannot reach it */
  last = stop >= 0 ? lens_project_producer_layer (net, target) : -1;
  reach_back (trace, value, signal, first, last, reach);

  for (int l = first; l > last && l >= 0 && value != target; l--)
    {
      LensNode *node = lens_net_layer_node (net, (guint) l);
      const LensOpClass *klass = lens_op_class (node->op);
      const LensTensor *ins[256], *outs[4];
      LensTensor *gin[256] = { 0 };
      LensTensor *g = grads[node->outputs[0]];
      const Reach *ro = &reach[node->outputs[0]];
      gboolean wanted = FALSE;

      if (g == NULL || node->n_inputs > 256)
        continue;
      for (int i = 0; i < node->n_inputs; i++)
        {
          int v = node->inputs[i];
          ins[i] = v >= 0 ? lens_trace_get_value (trace, v) : NULL;
          if (v < 0 || lens_net_value (net, v)->constant != NULL)
            continue;
          if (grads[v] == NULL)
            {
              grads[v] = lens_tensor_new (LENS_DTYPE_FLOAT32, &ins[i]->shape, error);
              if (grads[v] == NULL)
                goto out;
            }
          gin[i] = grads[v];
          wanted = TRUE;
        }
      if (!wanted)
        continue;
      if (klass->backward == NULL)
        {
          g_set_error (error, LENS_PROJECT_ERROR, LENS_PROJECT_ERROR_UNSUPPORTED,
                       "Cannot project through %s node '%s': the op has no backward signal",
                       lens_op_name (node->op), node->name);
          goto out;
        }
      for (int o = 0; o < node->n_outputs; o++)
        outs[o] = lens_trace_get_value (trace, node->outputs[o]);
      ctx.switches = lens_trace_get_switches (trace, (guint) l);
      /* a convolution whose signal lies in a smaller box of its output
       * (and that needs no weight gradient) works on that box */
      if (!(node->op == LENS_OP_CONV && !ro->full && g->shape.ndim == 4 && gin[0] != NULL
            && gin[1] == NULL && (node->n_inputs < 3 || gin[2] == NULL)
            && (ro->box.y1 - ro->box.y0) * (ro->box.x1 - ro->box.x0)
                 < g->shape.dims[2] * g->shape.dims[3]
            && conv_back_box (node, ins, outs, g, gin[0], &ctx, &ro->box)))
        klass->backward (node, ins, outs, g, gin, &ctx);
      /* this output's signal is complete and no longer needed */
      if (node->outputs[0] != target)
        g_clear_pointer (&grads[node->outputs[0]], lens_tensor_free);
    }

  if (grads[target] == NULL)
    grads[target] = lens_tensor_new (LENS_DTYPE_FLOAT32,
                                     &lens_trace_get_value (trace, target)->shape, error);
  result = g_steal_pointer (&grads[target]);

out:
  for (guint i = 0; i < nv; i++)
    lens_tensor_free (grads[i]);
  return result;
}
