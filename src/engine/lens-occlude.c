/* lens-occlude.c: occlusion sweeps by incremental inference.
 *
 * A gray square changes only part of the input, and through a convolution
 * or pooling layer only the outputs whose window meets the changed part can
 * change.  For each occluder position the engine therefore carries, per
 * value, a "patch": a box of the activation map (same size for every
 * position of a batch, so positions stack along the batch dimension) that
 * holds the changed values; everything outside the box is the unoccluded
 * trace's.  Per layer kind:
 *   window  (Conv, MaxPool, AveragePool without padding): the output box is
 *           the set of outputs whose window meets the input box; its input
 *           is cut from the unoccluded map plus the patch, with the op's
 *           padding materialised (zeros, or -inf for max pooling), and the
 *           op runs with no padding on that crop: exactly the same sums.
 *   channel (ReLU, BatchNorm, LRN, Add, Concat on channels, ...): the
 *           output box is the union of the input boxes.
 *   flatten (Flatten or Reshape of [1,C,h,w] to [1,C*h*w]): the box is
 *           kept, seen as part of the flat vector;
 *   dense   (Gemm or MatMul with constant weights on such a vector): only
 *           the changed inputs' weights are read (lens-occlude-dense.c);
 *   full    (other dense layers, global pooling, or a box that has grown to
 *           the whole map): whole tensors of the batch are computed.
 * Buffers come from a pool kept by the occluder, so a query allocates
 * almost nothing after the first one.  The sweep hands its batches to
 * worker threads (lens-occlude-sweep.c); a single query splits its large
 * layers over two threads (lens-occlude-split.c).
 * The result equals a full recomputation up to float rounding (the sums
 * are the same; BLAS may block them differently); tests check this. */
#define G_LOG_DOMAIN "lens-occlude"

#include "lens-occlude-private.h"
#include "lens-trace-private.h"

#include <float.h>
#include <math.h>
#include <string.h>

G_DEFINE_QUARK (lens-occlude-error-quark, lens_occlude_error)

void
lens_occlude_options_init (LensOccludeOptions *o)
{
  memset (o, 0, sizeof *o);
  o->target_class = -1;
  o->layer_value = -1;
  o->channel = -1;
}

static gboolean
is_spatial (const LensShape *s)
{
  return s->ndim == 4;
}

static Kind
classify (const LensNet *net,
          LensNode      *node)
{
  const LensShape *out = &lens_net_value (net, node->outputs[0])->shape;

  if (!is_spatial (out))
    return lens_occlude_classify_dense (net, node);
  switch (node->op)
    {
    case LENS_OP_CONV:
    case LENS_OP_MAXPOOL:
      return node->p.spatial == 2 ? KIND_WINDOW : KIND_FULL;
    case LENS_OP_AVERAGEPOOL:
      /* padded or ceil-mode windows divide by a count that depends on the
       * border: recompute those whole */
      for (int i = 0; i < 4; i++)
        if (node->p.pads[i] != 0)
          return KIND_FULL;
      return node->p.ceil_mode ? KIND_FULL : KIND_WINDOW;
    case LENS_OP_CONCAT:
      if (node->p.axis != 1)
        return KIND_FULL;
      G_GNUC_FALLTHROUGH;
    case LENS_OP_RELU:
    case LENS_OP_LEAKYRELU:
    case LENS_OP_SIGMOID:
    case LENS_OP_TANH:
    case LENS_OP_CLIP:
    case LENS_OP_DROPOUT:
    case LENS_OP_IDENTITY:
    case LENS_OP_BATCHNORM:
    case LENS_OP_LRN:
    case LENS_OP_ADD:
    case LENS_OP_SUB:
    case LENS_OP_MUL:
    case LENS_OP_DIV:
    case LENS_OP_SUM:
      /* every input must be a map of the same size, or a constant that
       * has no spatial extent */
      for (int i = 0; i < node->n_inputs; i++)
        {
          LensValue *v;
          if (node->inputs[i] < 0)
            continue;
          v = lens_net_value (net, node->inputs[i]);
          if (v->constant != NULL)
            {
              /* BatchNorm indexes its vectors by channel; other ops
               * broadcast, so the constant must not vary over H or W */
              const LensShape *s = &v->shape;
              gboolean flat = s->ndim == 0 || (s->ndim == 1 && s->dims[0] == 1) ||
                              (s->ndim >= 2 && s->dims[s->ndim - 1] == 1 &&
                               s->dims[s->ndim - 2] == 1);
              if (node->op != LENS_OP_BATCHNORM && !flat)
                return KIND_FULL;
              continue;
            }
          if (!is_spatial (&v->shape) || v->shape.dims[2] != out->dims[2] ||
              v->shape.dims[3] != out->dims[3])
            return KIND_FULL;
        }
      return KIND_CHANNEL;
    default:
      return KIND_FULL;
    }
}

static void
softmax_row (const float *z,
             float       *p,
             gsize        n)
{
  float mx = -INFINITY;
  double sum = 0.0;

  for (gsize i = 0; i < n; i++)
    mx = MAX (mx, z[i]);
  for (gsize i = 0; i < n; i++)
    {
      p[i] = expf (z[i] - mx);
      sum += p[i];
    }
  for (gsize i = 0; i < n; i++)
    p[i] = (float) (p[i] / sum);
}

static void
fill_point (const float        *probs,
            gsize               n,
            int                 target,
            LensOcclusionPoint *pt)
{
  pt->prob = target >= 0 && (gsize) target < n ? probs[target] : 0.0f;
  for (int k = 0; k < LENS_OCCLUDE_TOP; k++)
    {
      pt->top_class[k] = -1;
      pt->top_prob[k] = 0.0f;
    }
  for (gsize i = 0; i < n; i++)
    for (int k = 0; k < LENS_OCCLUDE_TOP; k++)
      if (pt->top_class[k] < 0 || probs[i] > pt->top_prob[k])
        {
          memmove (pt->top_class + k + 1, pt->top_class + k,
                   sizeof (int) * (LENS_OCCLUDE_TOP - 1 - k));
          memmove (pt->top_prob + k + 1, pt->top_prob + k,
                   sizeof (float) * (LENS_OCCLUDE_TOP - 1 - k));
          pt->top_class[k] = (int) i;
          pt->top_prob[k] = probs[i];
          break;
        }
}

static int
default_layer (const LensNet *net)
{
  int best = -1;

  /* the last conv layer's output, or the ReLU right after it */
  for (guint l = 0; l < net->layers->len; l++)
    {
      LensNode *node = lens_net_layer_node (net, l);
      if (node->op == LENS_OP_CONV && is_spatial (&lens_net_value (net, node->outputs[0])->shape))
        {
          best = node->outputs[0];
          if (l + 1 < net->layers->len)
            {
              LensNode *next = lens_net_layer_node (net, l + 1);
              if ((next->op == LENS_OP_RELU || next->op == LENS_OP_CLIP) &&
                  next->inputs[0] == best)
                best = next->outputs[0];
            }
        }
    }
  return best;
}

LensOccluder *
lens_occluder_new (LensNet                  *net,
                   const LensTensor         *input,
                   const LensOccludeOptions *options,
                   GError                  **error)
{
  g_autoptr (LensOccluder) occ = g_new0 (LensOccluder, 1);
  const LensShape *in = lens_net_get_input_shape (net);
  const LensTensor *out;
  g_autofree float *probs = NULL;
  gsize n_classes;

  pthread_mutex_init (&occ->weights_lock_storage, NULL);
  occ->weights_lock = &occ->weights_lock_storage;
  occ->net = lens_net_ref (net);
  occ->opts = *options;
  if (in == NULL || in->ndim != 4 || in->dims[0] != 1)
    {
      g_set_error (error, LENS_OCCLUDE_ERROR, LENS_OCCLUDE_ERROR_INPUT,
                   "Occlusion needs a model with one [1,C,H,W] image input");
      return NULL;
    }
  occ->C = (int) in->dims[1];
  occ->H = (int) in->dims[2];
  occ->W = (int) in->dims[3];
  if (options->size < 1 || options->size > MAX (occ->H, occ->W))
    {
      g_set_error (error, LENS_OCCLUDE_ERROR, LENS_OCCLUDE_ERROR_ARGS,
                   "The occluder size must be between 1 and %d pixels (got %d)",
                   MAX (occ->H, occ->W), options->size);
      return NULL;
    }
  if (options->stride < 0 || options->target_class < -1 || options->channel < -1 ||
      options->layer_value < -1 || options->layer_value >= (int) net->values->len)
    {
      g_set_error (error, LENS_OCCLUDE_ERROR, LENS_OCCLUDE_ERROR_ARGS,
                   "Invalid occlusion settings: the stride, class, layer and channel must be "
                   "in range (-1 chooses the default)");
      return NULL;
    }
  occ->trace = lens_trace_new (net, 1, error);
  if (occ->trace == NULL || !lens_trace_set_input (occ->trace, input, error) ||
      !lens_trace_run (occ->trace, NULL, error))
    return NULL;

  occ->output = lens_net_get_output_value (net);
  {
    LensValue *ov = lens_net_value (net, occ->output);
    LensNode *pn = ov->producer >= 0 ? lens_net_node (net, ov->producer) : NULL;
    occ->need_softmax = pn == NULL || pn->op != LENS_OP_SOFTMAX;
  }
  out = lens_trace_get_value (occ->trace, occ->output);
  n_classes = lens_tensor_numel (out);
  probs = g_new (float, n_classes);
  if (occ->need_softmax)
    softmax_row (out->data, probs, n_classes);
  else
    memcpy (probs, out->data, n_classes * sizeof (float));

  occ->target = options->target_class;
  if (occ->target < 0)
    {
      occ->target = 0;
      for (gsize i = 1; i < n_classes; i++)
        if (probs[i] > probs[occ->target])
          occ->target = (int) i;
    }
  if ((gsize) occ->target >= n_classes)
    {
      g_set_error (error, LENS_OCCLUDE_ERROR, LENS_OCCLUDE_ERROR_ARGS,
                   "Class %d is out of range: the model has classes 0 to %" G_GSIZE_FORMAT,
                   occ->target, n_classes - 1);
      return NULL;
    }

  occ->layer_value = options->layer_value >= 0 ? options->layer_value : default_layer (net);
  if (occ->layer_value >= 0)
    {
      const LensTensor *a = lens_trace_get_value (occ->trace, occ->layer_value);
      int64_t c = a->shape.ndim > 1 ? a->shape.dims[1] : 1;
      gsize plane = lens_tensor_numel (a) / (gsize) MAX (c, 1);
      const float *v = a->data;

      if (!is_spatial (&a->shape))
        {
          g_set_error (error, LENS_OCCLUDE_ERROR, LENS_OCCLUDE_ERROR_ARGS,
                       "The tracked layer must have feature maps ([N,C,H,W] output)");
          return NULL;
        }
      occ->channel = options->channel;
      if (occ->channel < 0)
        {
          float best = -INFINITY;
          for (int64_t ch = 0; ch < c; ch++)
            for (gsize i = 0; i < plane; i++)
              if (v[ch * plane + i] > best)
                {
                  best = v[ch * plane + i];
                  occ->channel = (int) ch;
                }
        }
      if (occ->channel >= c)
        {
          g_set_error (error, LENS_OCCLUDE_ERROR, LENS_OCCLUDE_ERROR_ARGS,
                       "Channel %d is out of range: the layer has channels 0 to %" G_GINT64_FORMAT,
                       occ->channel, c - 1);
          return NULL;
        }
      for (gsize i = 0; i < plane; i++)
        occ->clean_feature += v[(gsize) occ->channel * plane + i];
    }
  fill_point (probs, n_classes, occ->target, &occ->clean);
  occ->clean.feature = (float) occ->clean_feature;

  occ->kinds = g_new0 (Kind, net->layers->len);
  for (guint l = 0; l < net->layers->len; l++)
    occ->kinds[l] = options->full ? KIND_FULL : classify (net, lens_net_layer_node (net, l));
  occ->workspace = lens_aligned_alloc0 (MAX (1, net->workspace_floats) * sizeof (float));
  occ->weights_kn = g_new0 (float *, net->layers->len);
  occ->weights_plane = g_new0 (int, net->layers->len);
  lens_occlude_plan_dense (occ);
  occ->free_blocks = g_ptr_array_new ();
  occ->block_caps = g_hash_table_new (NULL, NULL);
  if (occ->workspace == NULL)
    {
      g_set_error (error, LENS_OCCLUDE_ERROR, LENS_OCCLUDE_ERROR_ARGS, "Out of memory");
      return NULL;
    }
  return g_steal_pointer (&occ);
}

void
lens_occluder_free (LensOccluder *occ)
{
  if (occ == NULL)
    return;
  g_return_if_fail (!occ->worker);
  lens_occlude_helper_free (occ->helper);
  lens_trace_free (occ->trace);
  g_free (occ->kinds);
  lens_aligned_free (occ->workspace);
  if (occ->weights_kn != NULL && occ->net != NULL)
    for (guint l = 0; l < occ->net->layers->len; l++)
      lens_aligned_free (occ->weights_kn[l]);
  g_free (occ->weights_kn);
  g_free (occ->weights_plane);
  lens_occluder_free_blocks (occ);
  if (occ->net != NULL)
    lens_net_unref (occ->net);
  pthread_mutex_destroy (&occ->weights_lock_storage);
  g_free (occ);
}

int lens_occluder_get_target_class (LensOccluder *occ) { return occ->target; }
int lens_occluder_get_layer_value (LensOccluder *occ) { return occ->layer_value; }
int lens_occluder_get_channel (LensOccluder *occ) { return occ->channel; }
const LensOcclusionPoint *lens_occluder_get_clean (LensOccluder *occ) { return &occ->clean; }
LensTrace *lens_occluder_get_trace (LensOccluder *occ) { return occ->trace; }

static void
patch_clear (LensOccluder *occ,
             Patch        *p)
{
  g_clear_pointer (&p->oy, g_free);
  g_clear_pointer (&p->ox, g_free);
  if (!p->borrowed)
    lens_occluder_release (occ, p->data);
  p->data = NULL;
  p->changed = p->full = p->flat = p->borrowed = FALSE;
}

/* Cuts [B, C, ch, cw] starting at (oy, ox) per position (may be outside
 * the map: `pad` there). */
static LensTensor *
cut (LensOccluder     *occ,
     const Patch      *p,
     const LensTensor *clean,
     int               B,
     const int        *oy,
     const int        *ox,
     int               ch,
     int               cw,
     float             pad,
     GError          **error)
{
  int64_t C = clean->shape.dims[1], h = clean->shape.dims[2], w = clean->shape.dims[3];
  LensTensor *t = lens_occluder_buffer (occ, &(LensShape) { 4, { B, C, ch, cw } }, error);
  float *d;

  if (t == NULL)
    return NULL;
  d = t->data;
  for (int b = 0; b < B; b++)
    for (int64_t c = 0; c < C; c++)
      for (int r = 0; r < ch; r++)
        {
          int64_t y = oy[b] + r;
          float *row = d + ((b * C + c) * ch + r) * cw;
          gboolean patch_row = p != NULL && p->changed && y >= p->oy[b] && y < p->oy[b] + p->bh;

          if (y < 0 || y >= h)
            {
              for (int q = 0; q < cw; q++)
                row[q] = pad;
              continue;
            }
          if (!patch_row && ox[b] >= 0 && ox[b] + cw <= w)
            {
              memcpy (row, (const float *) clean->data + (c * h + y) * w + ox[b],
                      sizeof (float) * cw);
              continue;
            }
          /* segments: padding, the unoccluded map, the patch */
          for (int q = 0; q < cw;)
            {
              int64_t x = ox[b] + q, n;
              if (x < 0 || x >= w)
                {
                  n = x < 0 ? MIN (cw - q, -x) : cw - q;
                  for (int64_t i = 0; i < n; i++)
                    row[q + i] = pad;
                }
              else if (patch_row && x >= p->ox[b] && x < p->ox[b] + p->bw)
                {
                  n = MIN (cw - q, p->ox[b] + p->bw - x);
                  memcpy (row + q, (const float *) p->data->data +
                          ((b * C + c) * p->bh + y - p->oy[b]) * p->bw + x - p->ox[b],
                          sizeof (float) * n);
                }
              else
                {
                  int64_t end = patch_row && x < p->ox[b] ? MIN (w, p->ox[b]) : w;
                  n = MIN (cw - q, end - x);
                  memcpy (row + q, (const float *) clean->data + (c * h + y) * w + x,
                          sizeof (float) * n);
                }
              q += (int) n;
            }
        }
  return t;
}

/* The whole [B, ...] tensor of a value for every position (a pooled
 * buffer; not called for full patches, whose data is used as is). */
static LensTensor *
materialize (LensOccluder     *occ,
             const Patch      *p,
             const LensTensor *clean,
             int               B,
             GError          **error)
{
  LensShape s = clean->shape;
  LensTensor *t;
  gsize one = lens_tensor_numel (clean);

  g_return_val_if_fail (p == NULL || !p->full, NULL);
  s.dims[0] = B;
  if (clean->dtype != LENS_DTYPE_FLOAT32)
    t = lens_tensor_new (clean->dtype, &s, error);
  else
    t = lens_occluder_buffer (occ, &s, error);
  if (t == NULL)
    return NULL;
  for (int b = 0; b < B; b++)
    memcpy ((guint8 *) t->data + b * one * lens_dtype_size (clean->dtype), clean->data,
            one * lens_dtype_size (clean->dtype));
  if (p != NULL && p->changed)
    {
      int64_t C = p->flat ? p->fc : s.dims[1], h = p->flat ? p->fh : s.dims[2];
      int64_t w = p->flat ? p->fw : s.dims[3];
      float *d = t->data;
      for (int b = 0; b < B; b++)
        for (int64_t c = 0; c < C; c++)
          for (int r = 0; r < p->bh; r++)
            memcpy (d + ((b * C + c) * h + p->oy[b] + r) * w + p->ox[b],
                    (const float *) p->data->data + ((b * C + c) * p->bh + r) * p->bw,
                    sizeof (float) * p->bw);
    }
  return t;
}

static inline int64_t
floor_div (int64_t a,
           int64_t b)
{
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static gboolean
run_layer (LensOccluder *occ,
           guint         l,
           Patch        *patches,
           int           B,
           GError      **error)
{
  LensNet *net = occ->net;
  LensNode *node = lens_net_layer_node (net, l);
  const LensOpClass *klass = lens_op_class (node->op);
  Kind kind = occ->kinds[l];
  int o = node->outputs[0];
  const LensTensor *clean_out = lens_trace_get_value (occ->trace, o);
  Patch *po = &patches[o];
  gboolean any = FALSE;
  const LensTensor *ins[256];
  LensTensor *owned[256] = { 0 };
  LensTensor *outs[4] = { 0 };
  LensExec exec = { occ->workspace, NULL };
  LensNode tmp = *node;
  gboolean ok = FALSE;

  if (node->n_inputs > 256)
    {
      g_set_error (error, LENS_OCCLUDE_ERROR, LENS_OCCLUDE_ERROR_ARGS,
                   "Node '%s' has too many inputs for occlusion", node->name);
      return FALSE;
    }
  for (int i = 0; i < node->n_inputs; i++)
    if (node->inputs[i] >= 0 && patches[node->inputs[i]].changed)
      {
        any = TRUE;
        /* a single position's dense layer may still read only the
         * changed inputs' weights */
        if (patches[node->inputs[i]].full &&
            !(kind == KIND_DENSE && i == 0 && B == 1 && occ->opts.dense >= 0))
          kind = KIND_FULL;
      }
  if (!any)
    return TRUE;
  tmp.n_outputs = 1;
  po->changed = TRUE;
  po->oy = g_new0 (int, B);
  po->ox = g_new0 (int, B);

  if (kind == KIND_FLATTEN || kind == KIND_DENSE)
    {
      gboolean fallback = FALSE;
      if (lens_occlude_run_dense (occ, l, kind, patches, B, &fallback, error))
        return TRUE;
      if (!fallback)
        return FALSE;
      kind = KIND_FULL;
    }

  if (kind == KIND_WINDOW)
    {
      const Patch *pi = &patches[node->inputs[0]];
      const LensOpParams *p = &node->p;
      int64_t OH = clean_out->shape.dims[2], OW = clean_out->shape.dims[3];
      int64_t eh = (int64_t) (p->kernel[0] - 1) * p->dilations[0] + 1;
      int64_t ew = (int64_t) (p->kernel[1] - 1) * p->dilations[1] + 1;
      g_autofree int *y1 = g_new (int, B), *x1 = g_new (int, B);
      g_autofree int *cy = g_new (int, B), *cx = g_new (int, B);
      int bh = 1, bw = 1;

      for (int b = 0; b < B; b++)
        {
          int64_t iy0 = pi->oy[b], iy1 = iy0 + pi->bh, ix0 = pi->ox[b], ix1 = ix0 + pi->bw;
          int64_t a0 = MAX (0, floor_div (iy0 + p->pads[0] - eh, p->strides[0]) + 1);
          int64_t a1 = MIN (OH, floor_div (iy1 - 1 + p->pads[0], p->strides[0]) + 1);
          int64_t c0 = MAX (0, floor_div (ix0 + p->pads[1] - ew, p->strides[1]) + 1);
          int64_t c1 = MIN (OW, floor_div (ix1 - 1 + p->pads[1], p->strides[1]) + 1);
          po->oy[b] = (int) a0;
          po->ox[b] = (int) c0;
          y1[b] = (int) MAX (a1, a0 + 1);
          x1[b] = (int) MAX (c1, c0 + 1);
          bh = MAX (bh, y1[b] - po->oy[b]);
          bw = MAX (bw, x1[b] - po->ox[b]);
        }
      if (bh >= OH && bw >= OW)
        kind = KIND_FULL;
      else
        {
          g_autoptr (LensTensor) crop = NULL;
          bh = (int) MIN (bh, OH);
          bw = (int) MIN (bw, OW);
          for (int b = 0; b < B; b++)
            {
              po->oy[b] = (int) MIN (po->oy[b], OH - bh);
              po->ox[b] = (int) MIN (po->ox[b], OW - bw);
              cy[b] = (int) (po->oy[b] * p->strides[0] - p->pads[0]);
              cx[b] = (int) (po->ox[b] * p->strides[1] - p->pads[1]);
            }
          po->bh = bh;
          po->bw = bw;
          crop = cut (occ, pi, lens_trace_get_value (occ->trace, node->inputs[0]), B, cy, cx,
                      (int) ((bh - 1) * p->strides[0] + eh), (int) ((bw - 1) * p->strides[1] + ew),
                      node->op == LENS_OP_MAXPOOL ? -FLT_MAX : 0.0f, error);
          if (crop == NULL)
            return FALSE;
          for (int i = 0; i < 4; i++)
            tmp.p.pads[i] = 0;
          tmp.p.ceil_mode = 0;
          ins[0] = crop;
          for (int i = 1; i < node->n_inputs; i++)
            ins[i] = node->inputs[i] >= 0 ? lens_trace_get_value (occ->trace, node->inputs[i]) : NULL;
          po->data = lens_occluder_buffer (occ, &(LensShape) { 4, { B, clean_out->shape.dims[1],
                                                                   bh, bw } }, error);
          if (po->data == NULL)
            return FALSE;
          outs[0] = po->data;
          if (!lens_occlude_split_conv (occ, &tmp, ins, po->data))
            klass->forward (&tmp, ins, outs, &exec);
          lens_occluder_release (occ, g_steal_pointer (&crop));
          return TRUE;
        }
    }

  if (kind == KIND_CHANNEL)
    {
      int64_t h = clean_out->shape.dims[2], w = clean_out->shape.dims[3];
      int bh = 1, bw = 1;
      g_autofree int *y1 = g_new0 (int, B), *x1 = g_new0 (int, B);

      for (int b = 0; b < B; b++)
        {
          gboolean first = TRUE;
          for (int i = 0; i < node->n_inputs; i++)
            {
              const Patch *pi;
              if (node->inputs[i] < 0 || !(pi = &patches[node->inputs[i]])->changed)
                continue;
              if (first)
                {
                  po->oy[b] = pi->oy[b];
                  po->ox[b] = pi->ox[b];
                  y1[b] = pi->oy[b] + pi->bh;
                  x1[b] = pi->ox[b] + pi->bw;
                  first = FALSE;
                }
              po->oy[b] = MIN (po->oy[b], pi->oy[b]);
              po->ox[b] = MIN (po->ox[b], pi->ox[b]);
              y1[b] = MAX (y1[b], pi->oy[b] + pi->bh);
              x1[b] = MAX (x1[b], pi->ox[b] + pi->bw);
            }
          bh = MAX (bh, y1[b] - po->oy[b]);
          bw = MAX (bw, x1[b] - po->ox[b]);
        }
      if (bh >= h && bw >= w)
        kind = KIND_FULL;
      else
        {
          bh = (int) MIN (bh, h);
          bw = (int) MIN (bw, w);
          for (int b = 0; b < B; b++)
            {
              po->oy[b] = (int) MIN (po->oy[b], h - bh);
              po->ox[b] = (int) MIN (po->ox[b], w - bw);
            }
          po->bh = bh;
          po->bw = bw;
          for (int i = 0; i < node->n_inputs; i++)
            {
              int v = node->inputs[i];
              gboolean same = TRUE;
              if (v < 0 || lens_net_value (net, v)->constant != NULL)
                {
                  ins[i] = v >= 0 ? lens_trace_get_value (occ->trace, v) : NULL;
                  continue;
                }
              /* an input whose patch is exactly the output box is used as is */
              if (patches[v].changed && patches[v].bh == bh && patches[v].bw == bw)
                {
                  for (int b = 0; b < B && same; b++)
                    same = patches[v].oy[b] == po->oy[b] && patches[v].ox[b] == po->ox[b];
                  if (same)
                    {
                      ins[i] = patches[v].data;
                      continue;
                    }
                }
              owned[i] = cut (occ, &patches[v], lens_trace_get_value (occ->trace, v), B, po->oy,
                              po->ox, bh, bw, 0.0f, error);
              if (owned[i] == NULL)
                goto out;
              ins[i] = owned[i];
            }
          po->data = lens_occluder_buffer (occ, &(LensShape) { 4, { B, clean_out->shape.dims[1],
                                                                   bh, bw } }, error);
          if (po->data == NULL)
            goto out;
          outs[0] = po->data;
          klass->forward (&tmp, ins, outs, &exec);
          ok = TRUE;
          goto out;
        }
    }

  /* whole tensors */
  po->full = TRUE;
  for (int i = 0; i < node->n_inputs; i++)
    {
      int v = node->inputs[i];
      if (v < 0 || lens_net_value (net, v)->constant != NULL)
        {
          ins[i] = v >= 0 ? lens_trace_get_value (occ->trace, v) : NULL;
          continue;
        }
      if (patches[v].full)
        {
          ins[i] = patches[v].data;
          continue;
        }
      owned[i] = materialize (occ, patches[v].changed ? &patches[v] : NULL,
                              lens_trace_get_value (occ->trace, v), B, error);
      if (owned[i] == NULL)
        goto out;
      ins[i] = owned[i];
    }
  {
    LensShape s = clean_out->shape;
    s.dims[0] = B;
    po->data = clean_out->dtype == LENS_DTYPE_FLOAT32 ? lens_occluder_buffer (occ, &s, error)
                                                      : lens_tensor_new (clean_out->dtype, &s, error);
    if (po->data == NULL)
      goto out;
  }
  outs[0] = po->data;
  /* a whole layer of a split query (the dense layers after the first):
   * BLAS stays on one thread, the engine's own kernels may use them all */
  exec.threads = occ->split ? occ->split_threads : 0;
  klass->forward (&tmp, ins, outs, &exec);
  ok = TRUE;

out:
  for (int i = 0; i < node->n_inputs; i++)
    lens_occluder_release (occ, owned[i]);
  return ok;
}

gboolean
lens_occlude_run_batch (LensOccluder       *occ,
                        const int          *xs,
                        const int          *ys,
                        int                 B,
                        LensOcclusionPoint *points,
                        GError            **error)
{
  LensNet *net = occ->net;
  guint nv = net->values->len;
  g_autofree Patch *patches = g_new0 (Patch, nv);
  int in = net->input, S = occ->opts.size;
  const LensTensor *clean_in = lens_trace_get_value (occ->trace, in);
  Patch *pi = &patches[in];
  gboolean ok = FALSE;
  int bh = MIN (S, occ->H), bw = MIN (S, occ->W);

  /* the input patch: the square (clipped to the image) filled */
  pi->changed = TRUE;
  pi->bh = bh;
  pi->bw = bw;
  pi->oy = g_new (int, B);
  pi->ox = g_new (int, B);
  for (int b = 0; b < B; b++)
    {
      pi->oy[b] = CLAMP (ys[b], 0, occ->H - bh);
      pi->ox[b] = CLAMP (xs[b], 0, occ->W - bw);
    }
  pi->data = cut (occ, NULL, clean_in, B, pi->oy, pi->ox, bh, bw, 0.0f, error);
  if (pi->data == NULL)
    goto out;
  for (int b = 0; b < B; b++)
    for (int c = 0; c < occ->C; c++)
      for (int r = 0; r < bh; r++)
        for (int q = 0; q < bw; q++)
          {
            int y = pi->oy[b] + r, x = pi->ox[b] + q;
            if (y >= ys[b] && y < ys[b] + S && x >= xs[b] && x < xs[b] + S)
              ((float *) pi->data->data)[((b * occ->C + c) * bh + r) * bw + q] =
                occ->opts.fill[MIN (c, 2)];
          }

  for (guint l = 0; l < net->layers->len; l++)
    if (!run_layer (occ, l, patches, B, error))
      goto out;

  {
    const LensTensor *clean_out = lens_trace_get_value (occ->trace, occ->output);
    gsize n = lens_tensor_numel (clean_out);
    const Patch *po = &patches[occ->output];
    LensTensor *all = po->full ? po->data
                               : materialize (occ, po->changed ? po : NULL, clean_out, B, error);
    g_autofree float *probs = g_new (float, n);

    if (all == NULL)
      goto out;
    for (int b = 0; b < B; b++)
      {
        const float *z = (const float *) all->data + (gsize) b * n;
        if (occ->need_softmax)
          softmax_row (z, probs, n);
        else
          memcpy (probs, z, n * sizeof (float));
        fill_point (probs, n, occ->target, &points[b]);
        points[b].feature = (float) occ->clean_feature;
      }
    if (all != po->data)
      lens_occluder_release (occ, all);
  }
  if (occ->layer_value >= 0 && patches[occ->layer_value].changed)
    {
      const Patch *pf = &patches[occ->layer_value];
      const LensTensor *clean = lens_trace_get_value (occ->trace, occ->layer_value);
      int64_t C = clean->shape.dims[1], h = clean->shape.dims[2], w = clean->shape.dims[3];
      const float *cv = (const float *) clean->data + (gsize) occ->channel * h * w;

      for (int b = 0; b < B; b++)
        {
          double sum;
          if (pf->full)
            {
              const float *v = (const float *) pf->data->data + ((gsize) b * C + occ->channel) * h * w;
              sum = 0.0;
              for (int64_t i = 0; i < h * w; i++)
                sum += v[i];
            }
          else
            {
              const float *v = (const float *) pf->data->data +
                               ((gsize) b * C + occ->channel) * pf->bh * pf->bw;
              sum = occ->clean_feature;
              for (int r = 0; r < pf->bh; r++)
                for (int q = 0; q < pf->bw; q++)
                  sum += v[r * pf->bw + q] - cv[(pf->oy[b] + r) * w + pf->ox[b] + q];
            }
          points[b].feature = (float) sum;
        }
    }
  ok = TRUE;

out:
  for (guint i = 0; i < nv; i++)
    patch_clear (occ, &patches[i]);
  return ok;
}

gboolean
lens_occluder_query (LensOccluder       *occ,
                     int                 x,
                     int                 y,
                     LensOcclusionPoint *out,
                     GError            **error)
{
  int blas_threads = lens_get_threads ();
  gboolean ok;

  g_return_val_if_fail (!occ->worker, FALSE);
  /* split the large layers over two threads ourselves (lens-occlude-split.c) */
  occ->split = blas_threads > 1 && !occ->opts.full && occ->opts.split >= 0;
  occ->split_threads = blas_threads;
  if (occ->split)
    lens_set_threads (1);
  ok = lens_occlude_run_batch (occ, &x, &y, 1, out, error);
  if (occ->split)
    lens_set_threads (blas_threads);
  occ->split = FALSE;
  return ok;
}
