/* lens-onnx-write.c: ONNX models out (protobuf-c packing)
 *
 * The builder keeps the graph in plain GLib structures; the generated
 * Onnx__* messages exist only inside lens_onnx_builder_to_bytes(), built
 * over an arena of allocations that is freed once packed.
 */
#define G_LOG_DOMAIN "lens-onnx-write"

#include "lens-onnx-write.h"
#include "lens-file.h"
#include "lens-net-private.h"

#include <string.h>

#include "onnx.pb-c.h"

G_DEFINE_QUARK (lens-onnx-write-error-quark, lens_onnx_write_error)

typedef struct
{
  char        *name;
  LensAttrType type;
  gint64       i;
  float        f;
  GArray      *ints;   /* gint64 */
} WAttr;

typedef struct
{
  char      *op_type;
  char      *name;
  GStrv      inputs;
  GStrv      outputs;
  GPtrArray *attrs;    /* WAttr* */
} WNode;

typedef struct
{
  char      *name;
  LensShape  shape;
} WValueInfo;

struct _LensOnnxBuilder
{
  char       *graph_name;
  gint64      opset;
  GPtrArray  *nodes;        /* WNode* */
  GPtrArray  *inits;        /* LensTensor* (owned) */
  GPtrArray  *init_names;   /* char* */
  GArray     *inputs;       /* WValueInfo */
  GArray     *outputs;      /* WValueInfo */
  GPtrArray  *meta;         /* key, value, key, value... */
};

static void
wattr_free (WAttr *a)
{
  g_free (a->name);
  if (a->ints)
    g_array_unref (a->ints);
  g_free (a);
}

static void
wnode_free (WNode *n)
{
  g_free (n->op_type);
  g_free (n->name);
  g_strfreev (n->inputs);
  g_strfreev (n->outputs);
  g_ptr_array_unref (n->attrs);
  g_free (n);
}

static void
value_info_clear (WValueInfo *v)
{
  g_free (v->name);
}

LensOnnxBuilder *
lens_onnx_builder_new (const char *graph_name,
                       gint64      opset)
{
  LensOnnxBuilder *b = g_new0 (LensOnnxBuilder, 1);

  b->graph_name = g_strdup (graph_name ? graph_name : "graph");
  b->opset = opset;
  b->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) wnode_free);
  b->inits = g_ptr_array_new_with_free_func ((GDestroyNotify) lens_tensor_free);
  b->init_names = g_ptr_array_new_with_free_func (g_free);
  b->inputs = g_array_new (FALSE, TRUE, sizeof (WValueInfo));
  g_array_set_clear_func (b->inputs, (GDestroyNotify) value_info_clear);
  b->outputs = g_array_new (FALSE, TRUE, sizeof (WValueInfo));
  g_array_set_clear_func (b->outputs, (GDestroyNotify) value_info_clear);
  b->meta = g_ptr_array_new_with_free_func (g_free);
  return b;
}

void
lens_onnx_builder_free (LensOnnxBuilder *b)
{
  if (b == NULL)
    return;
  g_free (b->graph_name);
  g_ptr_array_unref (b->nodes);
  g_ptr_array_unref (b->inits);
  g_ptr_array_unref (b->init_names);
  g_array_unref (b->inputs);
  g_array_unref (b->outputs);
  g_ptr_array_unref (b->meta);
  g_free (b);
}

void
lens_onnx_builder_add_input (LensOnnxBuilder *b,
                             const char      *name,
                             const LensShape *shape)
{
  WValueInfo v = { g_strdup (name), *shape };

  g_array_append_val (b->inputs, v);
}

void
lens_onnx_builder_add_output (LensOnnxBuilder *b,
                              const char      *name,
                              const LensShape *shape)
{
  WValueInfo v = { g_strdup (name), *shape };

  g_array_append_val (b->outputs, v);
}

void
lens_onnx_builder_add_initializer (LensOnnxBuilder  *b,
                                   const char       *name,
                                   const LensTensor *tensor)
{
  LensTensor *copy = lens_tensor_dup (tensor, NULL);

  g_return_if_fail (copy != NULL);
  g_ptr_array_add (b->inits, copy);
  g_ptr_array_add (b->init_names, g_strdup (name));
}

static GStrv
split_names (const char *list)
{
  if (list == NULL || *list == '\0')
    return g_new0 (char *, 1);
  return g_strsplit (list, ",", -1);
}

int
lens_onnx_builder_add_node (LensOnnxBuilder *b,
                            const char      *op_type,
                            const char      *name,
                            const char      *inputs,
                            const char      *outputs)
{
  WNode *n = g_new0 (WNode, 1);

  n->op_type = g_strdup (op_type);
  n->name = g_strdup (name);
  n->inputs = split_names (inputs);
  n->outputs = split_names (outputs);
  n->attrs = g_ptr_array_new_with_free_func ((GDestroyNotify) wattr_free);
  g_ptr_array_add (b->nodes, n);
  return (int) b->nodes->len - 1;
}

static WAttr *
add_attr (LensOnnxBuilder *b,
          int              node,
          const char      *attr,
          LensAttrType     type)
{
  WNode *n;
  WAttr *a;

  g_return_val_if_fail (node >= 0 && (guint) node < b->nodes->len, NULL);
  n = g_ptr_array_index (b->nodes, node);
  a = g_new0 (WAttr, 1);
  a->name = g_strdup (attr);
  a->type = type;
  g_ptr_array_add (n->attrs, a);
  return a;
}

void
lens_onnx_builder_set_int (LensOnnxBuilder *b,
                           int              node,
                           const char      *attr,
                           gint64           value)
{
  WAttr *a = add_attr (b, node, attr, LENS_ATTR_INT);

  if (a)
    a->i = value;
}

void
lens_onnx_builder_set_float (LensOnnxBuilder *b,
                             int              node,
                             const char      *attr,
                             float            value)
{
  WAttr *a = add_attr (b, node, attr, LENS_ATTR_FLOAT);

  if (a)
    a->f = value;
}

void
lens_onnx_builder_set_ints (LensOnnxBuilder *b,
                            int              node,
                            const char      *attr,
                            int              n,
                            const gint64    *values)
{
  WAttr *a = add_attr (b, node, attr, LENS_ATTR_INTS);

  if (a == NULL)
    return;
  a->ints = g_array_sized_new (FALSE, FALSE, sizeof (gint64), (guint) n);
  g_array_append_vals (a->ints, values, (guint) n);
}

void
lens_onnx_builder_set_metadata (LensOnnxBuilder *b,
                                const char      *key,
                                const char      *value)
{
  g_ptr_array_add (b->meta, g_strdup (key));
  g_ptr_array_add (b->meta, g_strdup (value));
}

/* ---- packing ---------------------------------------------------------- */

/* Every allocation of the message tree goes into the arena. */
static gpointer
arena_alloc (GPtrArray *arena,
             gsize      size)
{
  gpointer p = g_malloc0 (MAX (size, 1));

  g_ptr_array_add (arena, p);
  return p;
}

#define ARENA_NEW(arena, type) ((type *) arena_alloc ((arena), sizeof (type)))
#define ARENA_ARRAY(arena, type, n) ((type *) arena_alloc ((arena), sizeof (type) * (gsize) (n)))

static Onnx__ValueInfoProto *
pack_value_info (GPtrArray        *arena,
                 const WValueInfo *v)
{
  Onnx__ValueInfoProto *vi = ARENA_NEW (arena, Onnx__ValueInfoProto);
  Onnx__TypeProto *tp = ARENA_NEW (arena, Onnx__TypeProto);
  Onnx__TypeProto__Tensor *tt = ARENA_NEW (arena, Onnx__TypeProto__Tensor);
  Onnx__TensorShapeProto *sp = ARENA_NEW (arena, Onnx__TensorShapeProto);

  onnx__value_info_proto__init (vi);
  onnx__type_proto__init (tp);
  onnx__type_proto__tensor__init (tt);
  onnx__tensor_shape_proto__init (sp);
  vi->name = v->name;
  vi->type = tp;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  tt->has_elem_type = TRUE;
  tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tt->shape = sp;
  sp->n_dim = (size_t) v->shape.ndim;
  sp->dim = ARENA_ARRAY (arena, Onnx__TensorShapeProto__Dimension *, v->shape.ndim);
  for (int d = 0; d < v->shape.ndim; d++)
    {
      Onnx__TensorShapeProto__Dimension *dim = ARENA_NEW (arena, Onnx__TensorShapeProto__Dimension);

      onnx__tensor_shape_proto__dimension__init (dim);
      if (d == 0)
        {
          dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
          dim->dim_param = (char *) "N";
        }
      else
        {
          dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
          dim->dim_value = v->shape.dims[d];
        }
      sp->dim[d] = dim;
    }
  return vi;
}

static Onnx__TensorProto *
pack_tensor (GPtrArray        *arena,
             const char       *name,
             const LensTensor *t)
{
  Onnx__TensorProto *tp = ARENA_NEW (arena, Onnx__TensorProto);

  onnx__tensor_proto__init (tp);
  tp->name = (char *) name;
  tp->n_dims = (size_t) t->shape.ndim;
  tp->dims = ARENA_ARRAY (arena, int64_t, t->shape.ndim);
  memcpy (tp->dims, t->shape.dims, sizeof (int64_t) * t->shape.ndim);
  tp->has_data_type = TRUE;
  tp->data_type = t->dtype == LENS_DTYPE_INT64 ? ONNX__TENSOR_PROTO__DATA_TYPE__INT64
                                               : ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  /* raw_data is little-endian; so is every machine we build for (checked
   * at compile time below) */
  tp->has_raw_data = TRUE;
  tp->raw_data.len = lens_tensor_nbytes (t);
  tp->raw_data.data = t->data;
  return tp;
}

G_STATIC_ASSERT (G_BYTE_ORDER == G_LITTLE_ENDIAN);

static Onnx__NodeProto *
pack_node (GPtrArray   *arena,
           const WNode *n)
{
  Onnx__NodeProto *np = ARENA_NEW (arena, Onnx__NodeProto);

  onnx__node_proto__init (np);
  np->op_type = n->op_type;
  np->name = n->name;
  np->n_input = g_strv_length (n->inputs);
  np->input = n->inputs;
  np->n_output = g_strv_length (n->outputs);
  np->output = n->outputs;
  np->n_attribute = n->attrs->len;
  np->attribute = ARENA_ARRAY (arena, Onnx__AttributeProto *, n->attrs->len);
  for (guint i = 0; i < n->attrs->len; i++)
    {
      const WAttr *a = g_ptr_array_index (n->attrs, i);
      Onnx__AttributeProto *ap = ARENA_NEW (arena, Onnx__AttributeProto);

      onnx__attribute_proto__init (ap);
      ap->name = a->name;
      ap->has_type = TRUE;
      switch (a->type)
        {
        case LENS_ATTR_INT:
          ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
          ap->has_i = TRUE;
          ap->i = a->i;
          break;
        case LENS_ATTR_FLOAT:
          ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
          ap->has_f = TRUE;
          ap->f = a->f;
          break;
        case LENS_ATTR_INTS:
          ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
          ap->n_ints = a->ints->len;
          ap->ints = (int64_t *) (void *) a->ints->data;
          break;
        default:
          g_assert_not_reached ();
        }
      np->attribute[i] = ap;
    }
  return np;
}

GBytes *
lens_onnx_builder_to_bytes (LensOnnxBuilder *b,
                            GError         **error)
{
  g_autoptr (GPtrArray) arena = g_ptr_array_new_with_free_func (g_free);
  Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
  Onnx__GraphProto graph = ONNX__GRAPH_PROTO__INIT;
  Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT;
  Onnx__OperatorSetIdProto *opsets[1] = { &opset };
  gsize size;
  guint8 *buf;
  guint n_meta = b->meta->len / 2;

  if (b->inputs->len == 0 || b->outputs->len == 0 || b->nodes->len == 0)
    {
      g_set_error (error, LENS_ONNX_WRITE_ERROR, LENS_ONNX_WRITE_ERROR_INVALID,
                   "The graph needs an input, an output and at least one node");
      return NULL;
    }
  /* IR version 7 goes with opsets up to 13; 8 with 14 and 15 */
  model.has_ir_version = TRUE;
  model.ir_version = b->opset <= 13 ? 7 : 8;
  model.producer_name = (char *) "ConvLens";
  model.producer_version = (char *) "1";
  model.n_opset_import = 1;
  model.opset_import = opsets;
  opset.domain = (char *) "";
  opset.has_version = TRUE;
  opset.version = b->opset;
  model.graph = &graph;
  model.n_metadata_props = n_meta;
  model.metadata_props = ARENA_ARRAY (arena, Onnx__StringStringEntryProto *, n_meta);
  for (guint i = 0; i < n_meta; i++)
    {
      Onnx__StringStringEntryProto *e = ARENA_NEW (arena, Onnx__StringStringEntryProto);

      onnx__string_string_entry_proto__init (e);
      e->key = g_ptr_array_index (b->meta, 2 * i);
      e->value = g_ptr_array_index (b->meta, 2 * i + 1);
      model.metadata_props[i] = e;
    }

  graph.name = b->graph_name;
  graph.n_node = b->nodes->len;
  graph.node = ARENA_ARRAY (arena, Onnx__NodeProto *, b->nodes->len);
  for (guint i = 0; i < b->nodes->len; i++)
    graph.node[i] = pack_node (arena, g_ptr_array_index (b->nodes, i));
  graph.n_initializer = b->inits->len;
  graph.initializer = ARENA_ARRAY (arena, Onnx__TensorProto *, b->inits->len);
  for (guint i = 0; i < b->inits->len; i++)
    graph.initializer[i] = pack_tensor (arena, g_ptr_array_index (b->init_names, i),
                                        g_ptr_array_index (b->inits, i));
  graph.n_input = b->inputs->len;
  graph.input = ARENA_ARRAY (arena, Onnx__ValueInfoProto *, b->inputs->len);
  for (guint i = 0; i < b->inputs->len; i++)
    graph.input[i] = pack_value_info (arena, &g_array_index (b->inputs, WValueInfo, i));
  graph.n_output = b->outputs->len;
  graph.output = ARENA_ARRAY (arena, Onnx__ValueInfoProto *, b->outputs->len);
  for (guint i = 0; i < b->outputs->len; i++)
    graph.output[i] = pack_value_info (arena, &g_array_index (b->outputs, WValueInfo, i));

  size = onnx__model_proto__get_packed_size (&model);
  buf = g_try_malloc (MAX (size, 1));
  if (buf == NULL)
    {
      g_set_error (error, LENS_ONNX_WRITE_ERROR, LENS_ONNX_WRITE_ERROR_IO,
                   "Out of memory packing a model of %" G_GSIZE_FORMAT " bytes", size);
      return NULL;
    }
  onnx__model_proto__pack (&model, buf);
  return g_bytes_new_take (buf, size);
}

/* ---- a loaded net back to ONNX --------------------------------------- */

static void
set_window_attrs (LensOnnxBuilder *b,
                  int              id,
                  const LensNode  *node,
                  gboolean         with_dilations)
{
  const LensOpParams *p = &node->p;
  int sp = p->spatial == 1 ? 1 : 2, first = 2 - sp;
  gint64 k[2], s[2], d[2], pads[4];

  for (int i = 0; i < sp; i++)
    {
      k[i] = p->kernel[first + i];
      s[i] = p->strides[first + i];
      d[i] = p->dilations[first + i];
      pads[i] = p->pads[first + i];
      pads[sp + i] = p->pads[2 + first + i];
    }
  lens_onnx_builder_set_ints (b, id, "kernel_shape", sp, k);
  lens_onnx_builder_set_ints (b, id, "strides", sp, s);
  lens_onnx_builder_set_ints (b, id, "pads", 2 * sp, pads);
  if (with_dilations)
    lens_onnx_builder_set_ints (b, id, "dilations", sp, d);
}

static gboolean
set_node_attrs (LensOnnxBuilder *b,
                int              id,
                const LensNode  *node,
                const LensNet   *net,
                GError         **error)
{
  const LensOpParams *p = &node->p;

  switch (node->op)
    {
    case LENS_OP_CONV:
      set_window_attrs (b, id, node, TRUE);
      lens_onnx_builder_set_int (b, id, "group", p->group);
      break;
    case LENS_OP_MAXPOOL:
      set_window_attrs (b, id, node, p->dilations[0] != 1 || p->dilations[1] != 1);
      if (p->ceil_mode)
        lens_onnx_builder_set_int (b, id, "ceil_mode", 1);
      break;
    case LENS_OP_AVERAGEPOOL:
      set_window_attrs (b, id, node, FALSE);
      if (p->ceil_mode)
        lens_onnx_builder_set_int (b, id, "ceil_mode", 1);
      lens_onnx_builder_set_int (b, id, "count_include_pad", p->count_include_pad);
      break;
    case LENS_OP_LRN:
      lens_onnx_builder_set_int (b, id, "size", p->size);
      lens_onnx_builder_set_float (b, id, "alpha", p->alpha);
      lens_onnx_builder_set_float (b, id, "beta", p->beta);
      lens_onnx_builder_set_float (b, id, "bias", p->bias);
      break;
    case LENS_OP_BATCHNORM:
      lens_onnx_builder_set_float (b, id, "epsilon", p->epsilon);
      break;
    case LENS_OP_LEAKYRELU:
      lens_onnx_builder_set_float (b, id, "alpha", p->alpha);
      break;
    case LENS_OP_GEMM:
      lens_onnx_builder_set_float (b, id, "alpha", p->alpha);
      lens_onnx_builder_set_float (b, id, "beta", p->beta);
      lens_onnx_builder_set_int (b, id, "transA", p->trans_a);
      lens_onnx_builder_set_int (b, id, "transB", p->trans_b);
      break;
    case LENS_OP_FLATTEN:
    case LENS_OP_SOFTMAX:
    case LENS_OP_CONCAT:
      lens_onnx_builder_set_int (b, id, "axis", p->axis);
      break;
    case LENS_OP_TRANSPOSE:
      {
        gint64 perm[LENS_MAX_DIMS];
        int rank = lens_net_value (net, node->inputs[0])->shape.ndim;
        for (int i = 0; i < rank; i++)
          perm[i] = p->perm[i];
        lens_onnx_builder_set_ints (b, id, "perm", rank, perm);
      }
      break;
    case LENS_OP_RELU:
    case LENS_OP_SIGMOID:
    case LENS_OP_TANH:
    case LENS_OP_DROPOUT:
    case LENS_OP_IDENTITY:
    case LENS_OP_ADD:
    case LENS_OP_SUB:
    case LENS_OP_MUL:
    case LENS_OP_DIV:
    case LENS_OP_SUM:
    case LENS_OP_MATMUL:
    case LENS_OP_RESHAPE:
    case LENS_OP_GLOBALAVERAGEPOOL:
    case LENS_OP_GLOBALMAXPOOL:
      break;
    default:
      g_set_error (error, LENS_ONNX_WRITE_ERROR, LENS_ONNX_WRITE_ERROR_UNSUPPORTED,
                   "Cannot write %s node '%s' back to ONNX", lens_op_name (node->op),
                   node->name);
      return FALSE;
    }
  return TRUE;
}

static char *
join_values (const LensNet *net,
             const int     *values,
             int            n)
{
  GString *s = g_string_new (NULL);

  for (int i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (s, ',');
      if (values[i] >= 0)
        g_string_append (s, lens_net_value (net, values[i])->name);
    }
  return g_string_free (s, FALSE);
}

GBytes *
lens_onnx_net_to_bytes (LensNet            *net,
                        const char * const *metadata,
                        GError            **error)
{
  g_autoptr (LensOnnxBuilder) b = NULL;
  g_autofree gboolean *written = NULL;

  g_return_val_if_fail (net != NULL, NULL);
  if (net->input < 0)
    {
      g_set_error (error, LENS_ONNX_WRITE_ERROR, LENS_ONNX_WRITE_ERROR_UNSUPPORTED,
                   "The model has no runtime input");
      return NULL;
    }
  b = lens_onnx_builder_new (net->name, MAX (net->opset, 7));
  written = g_new0 (gboolean, net->values->len);
  lens_onnx_builder_add_input (b, lens_net_value (net, net->input)->name,
                               &lens_net_value (net, net->input)->shape);
  for (guint l = 0; l < net->layers->len; l++)
    {
      const LensNode *node = lens_net_layer_node (net, l);
      g_autofree char *ins = join_values (net, node->inputs, node->n_inputs);
      g_autofree char *outs = join_values (net, node->outputs, node->n_outputs);
      int id = lens_onnx_builder_add_node (b, lens_op_name (node->op), node->name, ins, outs);

      if (!set_node_attrs (b, id, node, net, error))
        return NULL;
      for (int i = 0; i < node->n_inputs; i++)
        {
          int v = node->inputs[i];
          LensValue *val = v >= 0 ? lens_net_value (net, v) : NULL;

          if (val == NULL || val->constant == NULL || written[v])
            continue;
          lens_onnx_builder_add_initializer (b, val->name, val->constant);
          written[v] = TRUE;
        }
    }
  for (guint i = 0; i < net->outputs->len; i++)
    {
      int v = g_array_index (net->outputs, int, i);
      lens_onnx_builder_add_output (b, lens_net_value (net, v)->name,
                                    &lens_net_value (net, v)->shape);
    }
  for (int i = 0; metadata != NULL && metadata[i] != NULL && metadata[i + 1] != NULL; i += 2)
    lens_onnx_builder_set_metadata (b, metadata[i], metadata[i + 1]);
  return lens_onnx_builder_to_bytes (b, error);
}

gboolean
lens_onnx_net_save (LensNet            *net,
                    const char         *path,
                    const char * const *metadata,
                    GError            **error)
{
  g_autoptr (GBytes) bytes = lens_onnx_net_to_bytes (net, metadata, error);
  g_autoptr (GError) local = NULL;

  if (bytes == NULL)
    return FALSE;
  if (!lens_file_write_atomic (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                               &local))
    {
      g_set_error_literal (error, LENS_ONNX_WRITE_ERROR, LENS_ONNX_WRITE_ERROR_IO, local->message);
      return FALSE;
    }
  return TRUE;
}
