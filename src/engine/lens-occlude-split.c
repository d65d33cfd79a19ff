/* lens-occlude-split.c: a single query's large layers split over two
 * threads.
 *
 * A query is one position: each layer's changed box is one small product
 * (a convolution over a crop, or the rows of the first dense layers' weights
 * that the change touches), and OpenBLAS threads those poorly.  So a
 * query on a net with more than one thread allowed keeps BLAS to one
 * thread and splits each large enough layer itself: a convolution by output
 * channels (each half a product over half of the filters, into its half
 * of the output), a dense update by output columns (each half streams half
 * of every changed row of the weights).  The second half runs on a helper
 * thread that the occluder keeps for its life, with its own workspace, so
 * a split costs two thread hand-overs rather than a thread start.  Each
 * output value is computed by exactly the same sums as unsplit. */
#define G_LOG_DOMAIN "lens-occlude"

#include "lens-occlude-private.h"

#include <string.h>

struct _LensOccludeHelper
{
  GThread        *thread;
  pthread_mutex_t lock;
  pthread_cond_t  cond;
  LensSplitFunc   func;     /* the job, NULL when idle */
  gpointer        data;
  gboolean        done;
  gboolean        quit;
  float          *workspace;
};

static gpointer
helper_main (gpointer user_data)
{
  LensOccludeHelper *h = user_data;

  pthread_mutex_lock (&h->lock);
  for (;;)
    {
      while (h->func == NULL && !h->quit)
        pthread_cond_wait (&h->cond, &h->lock);
      if (h->quit)
        break;
      pthread_mutex_unlock (&h->lock);
      h->func (h->data, 1, h->workspace);
      pthread_mutex_lock (&h->lock);
      h->func = NULL;
      h->done = TRUE;
      pthread_cond_broadcast (&h->cond);
    }
  pthread_mutex_unlock (&h->lock);
  return NULL;
}

void
lens_occlude_helper_free (LensOccludeHelper *h)
{
  if (h == NULL)
    return;
  if (h->thread != NULL)
    {
      pthread_mutex_lock (&h->lock);
      h->quit = TRUE;
      pthread_cond_broadcast (&h->cond);
      pthread_mutex_unlock (&h->lock);
      g_thread_join (h->thread);
    }
  pthread_mutex_destroy (&h->lock);
  pthread_cond_destroy (&h->cond);
  lens_aligned_free (h->workspace);
  g_free (h);
}

/* The helper, started on first use; NULL (run unsplit) when it cannot be. */
static LensOccludeHelper *
helper_get (LensOccluder *occ)
{
  LensOccludeHelper *h;

  if (occ->helper != NULL || occ->helper_failed)
    return occ->helper;
  h = g_new0 (LensOccludeHelper, 1);
  pthread_mutex_init (&h->lock, NULL);
  pthread_cond_init (&h->cond, NULL);
  h->workspace = lens_aligned_alloc0 (MAX (1, occ->net->workspace_floats) * sizeof (float));
  if (h->workspace != NULL)
    h->thread = g_thread_try_new ("lens-occlude-split", helper_main, h, NULL);
  if (h->thread == NULL)
    {
      lens_occlude_helper_free (h);
      occ->helper_failed = TRUE;
      return NULL;
    }
  occ->helper = h;
  return h;
}

gboolean
lens_occlude_split (LensOccluder *occ,
                    LensSplitFunc func,
                    gpointer      data)
{
  LensOccludeHelper *h;

  if (!occ->split || (h = helper_get (occ)) == NULL)
    return FALSE;
  pthread_mutex_lock (&h->lock);
  h->done = FALSE;
  h->data = data;
  h->func = func;
  pthread_cond_broadcast (&h->cond);
  pthread_mutex_unlock (&h->lock);

  func (data, 0, occ->workspace);

  pthread_mutex_lock (&h->lock);
  while (!h->done)
    pthread_cond_wait (&h->cond, &h->lock);
  pthread_mutex_unlock (&h->lock);
  return TRUE;
}

/* ---- convolution by output channels -------------------------------------- */

/* Below this many multiply-adds a hand-over costs more than it saves. */
#define SPLIT_MIN_MACS (1 << 20)

typedef struct
{
  const LensNode    *node;
  const LensTensor **ins;
  LensTensor        *out;
  int64_t            half;    /* output channels of the first part */
} ConvSplit;

static void
conv_part (gpointer data,
           int      part,
           float   *workspace)
{
  ConvSplit *cs = data;
  const LensTensor *w = cs->ins[1], *bias = cs->node->n_inputs > 2 ? cs->ins[2] : NULL;
  int64_t M = w->shape.dims[0], m0 = part == 0 ? 0 : cs->half, m1 = part == 0 ? cs->half : M;
  int64_t per_filter = lens_tensor_numel (w) / M;
  int64_t plane = cs->out->shape.dims[2] * cs->out->shape.dims[3];
  LensShape ws = w->shape, os = cs->out->shape, bs = { 1, { m1 - m0 } };
  LensTensor wv, bv, ov;
  const LensTensor *ins[3] = { cs->ins[0], &wv, NULL };
  LensTensor *outs[1] = { &ov };
  LensExec exec = { workspace, NULL };

  /* views on the stack (a tensor is shape + data, always contiguous) */
  ws.dims[0] = m1 - m0;
  os.dims[1] = m1 - m0;
  wv = (LensTensor) { LENS_DTYPE_FLOAT32, ws, (float *) w->data + m0 * per_filter, FALSE };
  ov = (LensTensor) { LENS_DTYPE_FLOAT32, os, (float *) cs->out->data + m0 * plane, FALSE };
  if (bias != NULL)
    {
      bv = (LensTensor) { LENS_DTYPE_FLOAT32, bs, (float *) bias->data + m0, FALSE };
      ins[2] = &bv;
    }
  lens_op_class (cs->node->op)->forward (cs->node, ins, outs, &exec);
}

gboolean
lens_occlude_split_conv (LensOccluder      *occ,
                         const LensNode    *node,
                         const LensTensor **ins,
                         LensTensor        *out)
{
  ConvSplit cs = { node, ins, out, 0 };
  int64_t M, macs;

  if (!occ->split || node->op != LENS_OP_CONV || node->p.group != 1 || node->n_inputs > 3 ||
      out->shape.ndim != 4 || out->shape.dims[0] != 1 || ins[1] == NULL ||
      ins[1]->dtype != LENS_DTYPE_FLOAT32 || ins[1]->shape.ndim != 4)
    return FALSE;
  M = ins[1]->shape.dims[0];
  macs = (int64_t) lens_tensor_numel (out) * (int64_t) (lens_tensor_numel (ins[1]) / MAX (M, 1));
  if (M < 16 || M != out->shape.dims[1] || macs < SPLIT_MIN_MACS)
    return FALSE;
  /* a multiple of 8 filters for the first half keeps the kernel's blocks whole */
  cs.half = MAX (8, (M / 2) / 8 * 8);
  return lens_occlude_split (occ, conv_part, &cs);
}
