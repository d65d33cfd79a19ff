/* lens-onnx.c: ONNX import through protobuf-c.
 *
 * The generated Onnx__* types appear in this file only.  The loader turns
 * the ModelProto into a LensNet: initializers become constant values, each
 * node is set up through the op table (attributes parsed, shapes inferred),
 * and nodes whose inputs are all constant are computed right away (constant
 * folding), so every value has a static shape before anything runs.  The
 * protobuf message is freed when loading ends. */
#define G_LOG_DOMAIN "lens-onnx"

#include "lens-net-private.h"
#include "onnx.pb-c.h"

#include <stdlib.h>
#include <string.h>

/* ONNX TensorProto.DataType values we read */
enum { DT_FLOAT = 1, DT_INT32 = 6, DT_INT64 = 7, DT_BOOL = 9, DT_DOUBLE = 11 };

static const char *
dtype_name (int dt)
{
  static const char *names[] = {
    "undefined", "float32", "uint8", "int8", "uint16", "int16", "int32", "int64",
    "string", "bool", "float16", "float64", "uint32", "uint64", "complex64",
    "complex128", "bfloat16"
  };
  return dt >= 0 && dt < (int) G_N_ELEMENTS (names) ? names[dt] : "unknown";
}

/* Walks the top-level fields of the message without decoding them, only to
 * tell a truncated file from one that is not protobuf at all (protobuf-c
 * reports both as the same failure). */
static gboolean
check_framing (const guint8 *data,
               gsize         len,
               const char   *what,
               GError      **error)
{
  gsize pos = 0;

  while (pos < len)
    {
      guint64 key = 0, v = 0;
      int shift = 0;

      /* key varint */
      for (;;)
        {
          if (pos >= len)
            goto truncated;
          if (shift > 63)
            goto garbage;
          key |= (guint64) (data[pos] & 0x7f) << shift;
          shift += 7;
          if (!(data[pos++] & 0x80))
            break;
        }
      if ((key >> 3) == 0)
        goto garbage;
      switch (key & 7)
        {
        case 0:
          do
            if (pos >= len)
              goto truncated;
          while (data[pos++] & 0x80);
          break;
        case 1:
          if (len - pos < 8)
            goto truncated;
          pos += 8;
          break;
        case 5:
          if (len - pos < 4)
            goto truncated;
          pos += 4;
          break;
        case 2:
          shift = 0;
          for (;;)
            {
              if (pos >= len)
                goto truncated;
              if (shift > 63)
                goto garbage;
              v |= (guint64) (data[pos] & 0x7f) << shift;
              shift += 7;
              if (!(data[pos++] & 0x80))
                break;
            }
          if (v > len - pos)
            goto truncated;
          pos += v;
          break;
        default:
          goto garbage;
        }
    }
  return TRUE;

truncated:
  g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_TRUNCATED,
               "%s is truncated: it ends in the middle of a protobuf field", what);
  return FALSE;
garbage:
  g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_PARSE,
               "%s is not an ONNX model (not a protobuf message)", what);
  return FALSE;
}

/* Deepest nesting of messages accepted in a model (graphs in attributes
 * in nodes in graphs ...).  protobuf-c decodes sub-messages recursively
 * with no limit of its own, so a small hostile file could exhaust the
 * stack; real models nest fewer than 20 levels. */
#define MAX_MESSAGE_DEPTH 64

static gboolean
read_varint (const guint8 *data,
             gsize         len,
             gsize        *pos,
             guint64      *out)
{
  guint64 v = 0;

  for (int shift = 0; shift <= 63; shift += 7)
    {
      if (*pos >= len)
        return FALSE;
      v |= (guint64) (data[*pos] & 0x7f) << shift;
      if (!(data[(*pos)++] & 0x80))
        {
          *out = v;
          return TRUE;
        }
    }
  return FALSE;
}

/* Returns the nesting depth of sub-messages under desc, walking only the
 * fields the schema declares as messages; stops counting at limit (and
 * at malformed data, which protobuf-c then reports). */
static int
message_depth (const guint8                     *data,
               gsize                             len,
               const ProtobufCMessageDescriptor *desc,
               int                               limit)
{
  gsize pos = 0;
  int deepest = 0;

  while (pos < len && deepest < limit)
    {
      guint64 key, v;
      const ProtobufCFieldDescriptor *field;

      if (!read_varint (data, len, &pos, &key))
        break;
      switch (key & 7)
        {
        case 0:
          if (!read_varint (data, len, &pos, &v))
            return deepest;
          continue;
        case 1:
          pos += 8;
          continue;
        case 5:
          pos += 4;
          continue;
        case 2:
          if (!read_varint (data, len, &pos, &v) || v > len - pos)
            return deepest;
          field = protobuf_c_message_descriptor_get_field (desc, (unsigned) MIN (key >> 3, G_MAXUINT));
          if (field != NULL && field->type == PROTOBUF_C_TYPE_MESSAGE)
            {
              int sub = 1 + message_depth (data + pos, (gsize) v, field->descriptor, limit - 1);

              deepest = MAX (deepest, sub);
            }
          pos += (gsize) v;
          continue;
        default:
          return deepest;
        }
    }
  return deepest;
}

/* Resolves an external-data location under base_dir; refuses anything
 * that could leave that folder. */
static char *
resolve_external_path (const char *base_dir,
                       const char *location,
                       GError    **error)
{
  g_auto (GStrv) parts = NULL;
  g_autofree char *path = NULL;
  g_autofree char *real_base = NULL;
  g_autofree char *real_path = NULL;

  if (base_dir == NULL)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_EXTERNAL_DATA,
                   "Tensor data is stored in external file '%s' but the model was not "
                   "loaded from a folder", location);
      return NULL;
    }
  if (location[0] == '\0' || g_path_is_absolute (location) || strchr (location, '\\'))
    goto bad;
  parts = g_strsplit (location, "/", -1);
  for (int i = 0; parts[i]; i++)
    if (strcmp (parts[i], "..") == 0)
      goto bad;
  path = g_build_filename (base_dir, location, NULL);

  /* a symbolic link inside the folder may still point out of it: compare
   * the resolved paths (a file that does not exist fails when read) */
  real_base = realpath (base_dir, NULL);
  real_path = realpath (path, NULL);
  if (real_base != NULL && real_path != NULL &&
      !(g_str_has_prefix (real_path, real_base) &&
        (real_path[strlen (real_base)] == G_DIR_SEPARATOR || strcmp (real_base, "/") == 0)))
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_EXTERNAL_DATA,
                   "External data location '%s' leads out of the model's folder "
                   "(through a symbolic link)", location);
      return NULL;
    }
  return g_steal_pointer (&path);

bad:
  g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_EXTERNAL_DATA,
               "External data location '%s' must be a relative path inside the model's folder",
               location);
  return NULL;
}

static gboolean
read_external (const Onnx__TensorProto *tp,
               const char              *base_dir,
               guint8                  *dest,
               gsize                    nbytes,
               GError                 **error)
{
  const char *location = NULL;
  guint64 offset = 0, length = nbytes;
  g_autofree char *path = NULL;
  g_autoptr (GMappedFile) map = NULL;
  g_autoptr (GError) local = NULL;
  gsize size;

  for (gsize i = 0; i < tp->n_external_data; i++)
    {
      const Onnx__StringStringEntryProto *e = tp->external_data[i];
      if (e->key == NULL || e->value == NULL)
        continue;
      if (strcmp (e->key, "location") == 0)
        location = e->value;
      else if (strcmp (e->key, "offset") == 0)
        offset = g_ascii_strtoull (e->value, NULL, 10);
      else if (strcmp (e->key, "length") == 0)
        length = g_ascii_strtoull (e->value, NULL, 10);
    }
  if (location == NULL)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_EXTERNAL_DATA,
                   "Tensor '%s' is marked as external data but names no location",
                   tp->name ? tp->name : "");
      return FALSE;
    }
  path = resolve_external_path (base_dir, location, error);
  if (path == NULL)
    return FALSE;
  map = g_mapped_file_new (path, FALSE, &local);
  if (map == NULL)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_EXTERNAL_DATA,
                   "External data file '%s' of tensor '%s' cannot be read: %s",
                   location, tp->name ? tp->name : "", local->message);
      return FALSE;
    }
  size = g_mapped_file_get_length (map);
  if (length != nbytes || offset > size || nbytes > size - offset)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_EXTERNAL_DATA,
                   "External data of tensor '%s' in '%s' does not fit: needs %" G_GSIZE_FORMAT
                   " bytes at offset %" G_GUINT64_FORMAT ", the file has %" G_GSIZE_FORMAT,
                   tp->name ? tp->name : "", location, nbytes, offset, size);
      return FALSE;
    }
  memcpy (dest, g_mapped_file_get_contents (map) + offset, nbytes);
  return TRUE;
}

/* allow_bool: read bool tensors as float 0/1 (test data only; a model
 * with bool tensors is refused). */
static LensTensor *
tensor_from_proto_full (const Onnx__TensorProto *tp,
                        const char              *base_dir,
                        gsize                    budget,
                        gboolean                 allow_bool,
                        GError                 **error)
{
  const char *name = tp->name ? tp->name : "(unnamed)";
  LensShape shape = { 0 };
  gsize numel, nbytes, esize;
  LensDType dtype;
  g_autoptr (LensTensor) t = NULL;
  gboolean external = tp->has_data_location &&
                      tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;

  if (tp->n_dims > LENS_MAX_DIMS)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_SHAPE,
                   "Tensor '%s' has %" G_GSIZE_FORMAT " dimensions; at most %d are supported",
                   name, tp->n_dims, LENS_MAX_DIMS);
      return NULL;
    }
  shape.ndim = (int) tp->n_dims;
  for (gsize i = 0; i < tp->n_dims; i++)
    shape.dims[i] = tp->dims[i];
  if (!lens_shape_numel_checked (&shape, &numel))
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_SHAPE,
                   "Tensor '%s' has an invalid or overflowing shape", name);
      return NULL;
    }

  switch (tp->data_type)
    {
    case DT_FLOAT:
    case DT_DOUBLE:
      dtype = LENS_DTYPE_FLOAT32;
      break;
    case DT_INT64:
    case DT_INT32:
      dtype = LENS_DTYPE_INT64;
      break;
    case DT_BOOL:
      if (allow_bool)
        {
          dtype = LENS_DTYPE_FLOAT32;
          break;
        }
      G_GNUC_FALLTHROUGH;
    default:
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_UNSUPPORTED_TYPE,
                   "Tensor '%s' has element type %s; ConvLens supports float32 models "
                   "(and int64/int32 shape values)", name, dtype_name (tp->data_type));
      return NULL;
    }
  esize = tp->data_type == DT_DOUBLE || tp->data_type == DT_INT64 ? 8
          : tp->data_type == DT_BOOL ? 1 : 4;
  if (!lens_size_mul (numel, esize, &nbytes) || nbytes > budget)
    {
      g_autofree char *dims = lens_shape_to_string (&shape);

      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_TOO_LARGE,
                   "Tensor '%s' (%s, %" G_GSIZE_FORMAT " elements) would need %" G_GSIZE_FORMAT
                   " MiB, over the memory budget of %" G_GSIZE_FORMAT " MiB",
                   name, dims, numel, (numel > G_MAXSIZE / esize ? G_MAXSIZE : numel * esize) >> 20,
                   budget >> 20);
      return NULL;
    }
  t = lens_tensor_new (dtype, &shape, error);
  if (t == NULL)
    return NULL;

  if (external || tp->has_raw_data)
    {
      g_autofree guint8 *raw = NULL;
      const guint8 *src;

      if (external)
        {
          raw = g_try_malloc (MAX (nbytes, 1));
          if (raw == NULL || !read_external (tp, base_dir, raw, nbytes, error))
            {
              if (raw == NULL)
                g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_TOO_LARGE,
                             "Out of memory reading tensor '%s'", name);
              return NULL;
            }
          src = raw;
        }
      else
        {
          if (tp->raw_data.len != nbytes)
            {
              g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_SHAPE,
                           "Tensor '%s' holds %" G_GSIZE_FORMAT " bytes of data but its shape "
                           "needs %" G_GSIZE_FORMAT, name, tp->raw_data.len, nbytes);
              return NULL;
            }
          src = tp->raw_data.data;
        }
      /* raw data is little-endian; so is every machine we build for */
      for (gsize i = 0; i < numel; i++)
        switch (tp->data_type)
          {
          case DT_FLOAT:
            memcpy ((float *) t->data + i, src + 4 * i, 4);
            break;
          case DT_DOUBLE:
            {
              double d;
              memcpy (&d, src + 8 * i, 8);
              ((float *) t->data)[i] = (float) d;
            }
            break;
          case DT_INT64:
            memcpy ((int64_t *) t->data + i, src + 8 * i, 8);
            break;
          case DT_INT32:
            {
              int32_t v;
              memcpy (&v, src + 4 * i, 4);
              ((int64_t *) t->data)[i] = v;
            }
            break;
          case DT_BOOL:
            ((float *) t->data)[i] = src[i] ? 1.0f : 0.0f;
            break;
          }
      return g_steal_pointer (&t);
    }

  {
    gsize have;

    switch (tp->data_type)
      {
      case DT_FLOAT: have = tp->n_float_data; break;
      case DT_DOUBLE: have = tp->n_double_data; break;
      case DT_INT64: have = tp->n_int64_data; break;
      default: have = tp->n_int32_data; break; /* int32 and bool */
      }
    if (have != numel)
      {
        g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_SHAPE,
                     "Tensor '%s' holds %" G_GSIZE_FORMAT " values but its shape needs %"
                     G_GSIZE_FORMAT, name, have, numel);
        return NULL;
      }
    for (gsize i = 0; i < numel; i++)
      switch (tp->data_type)
        {
        case DT_FLOAT: ((float *) t->data)[i] = tp->float_data[i]; break;
        case DT_DOUBLE: ((float *) t->data)[i] = (float) tp->double_data[i]; break;
        case DT_INT64: ((int64_t *) t->data)[i] = tp->int64_data[i]; break;
        case DT_BOOL: ((float *) t->data)[i] = tp->int32_data[i] ? 1.0f : 0.0f; break;
        default: ((int64_t *) t->data)[i] = tp->int32_data[i]; break;
        }
  }
  return g_steal_pointer (&t);
}

static LensTensor *
tensor_from_proto (const Onnx__TensorProto *tp,
                   const char              *base_dir,
                   gsize                    budget,
                   GError                 **error)
{
  return tensor_from_proto_full (tp, base_dir, budget, FALSE, error);
}

LensTensor *
lens_onnx_load_tensor_file (const char  *path,
                            char       **out_name,
                            GError     **error)
{
  g_autoptr (GMappedFile) map = NULL;
  Onnx__TensorProto *tp;
  LensTensor *t;
  g_autofree char *dir = NULL;

  map = g_mapped_file_new (path, FALSE, error);
  if (map == NULL)
    return NULL;
  tp = onnx__tensor_proto__unpack (NULL, g_mapped_file_get_length (map),
                                   (const guint8 *) g_mapped_file_get_contents (map));
  if (tp == NULL)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_PARSE,
                   "'%s' is not a serialized ONNX tensor", path);
      return NULL;
    }
  dir = g_path_get_dirname (path);
  t = tensor_from_proto_full (tp, dir, lens_default_memory_budget (), TRUE, error);
  if (t != NULL && out_name != NULL)
    *out_name = g_strdup (tp->name ? tp->name : "");
  onnx__tensor_proto__free_unpacked (tp, NULL);
  return t;
}

typedef struct
{
  LensNet         *net;
  GHashTable      *by_name;      /* value name -> index+1 */
  const char      *base_dir;
  gsize            budget;
  gsize            const_bytes;
  const LensLoadOptions *options;
} Loader;

static int
add_value (Loader     *ld,
           const char *name,
           LensValue **out)
{
  LensValue *v = g_new0 (LensValue, 1);
  int idx = (int) ld->net->values->len;

  v->name = g_strdup (name);
  v->producer = -1;
  g_ptr_array_add (ld->net->values, v);
  /* a later value of the same name shadows an earlier one (SSA is
   * required by ONNX, but be tolerant of re-used names) */
  g_hash_table_insert (ld->by_name, v->name, GINT_TO_POINTER (idx + 1));
  *out = v;
  return idx;
}

static int
find_value (Loader     *ld,
            const char *name)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (ld->by_name, name)) - 1;
}

static gboolean
add_graph_input (Loader                  *ld,
                 const Onnx__ValueInfoProto *vi,
                 GError                 **error)
{
  const char *name = vi->name ? vi->name : "";
  LensValue *v;
  int idx;
  const Onnx__TypeProto__Tensor *tt;
  LensTensor *bound = NULL;

  if (find_value (ld, name) >= 0)
    return TRUE; /* an initializer listed among the inputs (IR < 4) */

  if (ld->options != NULL && ld->options->bindings != NULL)
    bound = g_hash_table_lookup (ld->options->bindings, name);
  if (bound != NULL)
    {
      idx = add_value (ld, name, &v);
      v->constant = lens_tensor_dup (bound, error);
      if (v->constant == NULL)
        return FALSE;
      v->shape = bound->shape;
      v->dtype = bound->dtype;
      return TRUE;
    }

  if (vi->type == NULL || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
      vi->type->tensor_type == NULL)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_UNSUPPORTED_TYPE,
                   "Graph input '%s' is not a tensor", name);
      return FALSE;
    }
  tt = vi->type->tensor_type;
  if (tt->elem_type != DT_FLOAT)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_UNSUPPORTED_TYPE,
                   "Graph input '%s' has element type %s; ConvLens needs a float32 input",
                   name, dtype_name (tt->elem_type));
      return FALSE;
    }
  if (ld->net->input >= 0)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_INVALID,
                   "The model has more than one input ('%s' and '%s'); ConvLens needs a "
                   "model with one image input",
                   lens_net_value (ld->net, ld->net->input)->name, name);
      return FALSE;
    }
  idx = add_value (ld, name, &v);
  v->dtype = LENS_DTYPE_FLOAT32;
  if (tt->shape == NULL)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_DYNAMIC_SHAPE,
                   "Graph input '%s' has no shape; give one with --input-size", name);
      return FALSE;
    }
  if (tt->shape->n_dim > LENS_MAX_DIMS)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_SHAPE,
                   "Graph input '%s' has too many dimensions", name);
      return FALSE;
    }
  v->shape.ndim = (int) tt->shape->n_dim;
  for (gsize d = 0; d < tt->shape->n_dim; d++)
    {
      const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
      gint64 value = -1;

      if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
          dim->dim_value >= 0)
        value = dim->dim_value;
      else if (d == 0)
        value = 1; /* dynamic batch: traces run batch 1 (or their own batch) */
      else if (tt->shape->n_dim == 4 && d >= 2 && ld->options != NULL &&
               ld->options->input_height > 0 && ld->options->input_width > 0)
        value = d == 2 ? ld->options->input_height : ld->options->input_width;
      if (value < 0 || value > (1 << 24))
        {
          g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_DYNAMIC_SHAPE,
                       "Dimension %" G_GSIZE_FORMAT " of input '%s' is dynamic or invalid; "
                       "give the input size with --input-size HxW", d, name);
          return FALSE;
        }
      v->shape.dims[d] = value;
    }
  ld->net->input = idx;
  return TRUE;
}

/* Converts a node's attributes; strings and tensors are kept alive in
 * `keep` until setup has run. */
static gboolean
convert_attrs (const Onnx__NodeProto *np,
               Loader                *ld,
               LensAttr              *out,
               GPtrArray             *keep_strings,
               GPtrArray             *keep_tensors,
               GError               **error)
{
  for (gsize i = 0; i < np->n_attribute; i++)
    {
      const Onnx__AttributeProto *ap = np->attribute[i];
      LensAttr *a = &out[i];

      a->name = ap->name ? ap->name : "";
      switch (ap->type)
        {
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
          a->type = LENS_ATTR_INT;
          a->i = ap->i;
          break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
          a->type = LENS_ATTR_FLOAT;
          a->f = ap->f;
          break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
          {
            char *s = g_strndup (ap->s.data != NULL ? (const char *) ap->s.data : "", ap->s.len);
            g_ptr_array_add (keep_strings, s);
            a->type = LENS_ATTR_STRING;
            a->s = s;
          }
          break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
          a->type = LENS_ATTR_INTS;
          a->n = ap->n_ints;
          a->ints = ap->ints;
          break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
          a->type = LENS_ATTR_FLOATS;
          a->n = ap->n_floats;
          a->floats = ap->floats;
          break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
          {
            LensTensor *t;
            if (ap->t == NULL)
              {
                g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_INVALID,
                             "Attribute '%s' of node '%s' holds no tensor", a->name,
                             np->name ? np->name : "");
                return FALSE;
              }
            t = tensor_from_proto (ap->t, ld->base_dir, ld->budget, error);
            if (t == NULL)
              return FALSE;
            g_ptr_array_add (keep_tensors, t);
            a->type = LENS_ATTR_TENSOR;
            a->t = t;
          }
          break;
        default:
          a->type = LENS_ATTR_OTHER;
          break;
        }
    }
  return TRUE;
}

static gboolean
fold_node (Loader   *ld,
           LensNode *node,
           GError  **error)
{
  const LensOpClass *klass = lens_op_class (node->op);
  const LensTensor *ins[64];
  LensTensor *outs[4] = { 0 };
  LensExec exec = { 0 };
  g_autofree float *ws = NULL;
  g_autofree int32_t *sw = NULL;

  if (node->n_inputs > 64)
    return TRUE; /* too many to fold; runs at inference time */
  LensTensor shape_only[64];

  for (int i = 0; i < node->n_inputs; i++)
    {
      LensValue *v = node->inputs[i] >= 0 ? lens_net_value (ld->net, node->inputs[i]) : NULL;

      ins[i] = v != NULL ? v->constant : NULL;
      if (v != NULL && v->constant == NULL)
        {
          /* Shape folds from a runtime value: it only reads the shape */
          shape_only[i] = (LensTensor) { v->dtype, v->shape, NULL, FALSE };
          ins[i] = &shape_only[i];
        }
    }
  for (int o = 0; o < node->n_outputs; o++)
    {
      LensValue *v = lens_net_value (ld->net, node->outputs[o]);
      gsize bytes;

      if (!lens_shape_numel_checked (&v->shape, &bytes) ||
          !lens_size_mul (bytes, lens_dtype_size (v->dtype), &bytes) ||
          ld->const_bytes + bytes > ld->budget)
        {
          lens_op_set_error (error, LENS_NET_ERROR_TOO_LARGE, node,
                             "its constant output would exceed the memory budget");
          goto fail;
        }
      ld->const_bytes += bytes;
      outs[o] = lens_tensor_new (v->dtype, &v->shape, error);
      if (outs[o] == NULL)
        goto fail;
    }
  if (node->workspace_floats > 0)
    {
      ws = g_try_new0 (float, node->workspace_floats);
      if (ws == NULL)
        {
          lens_op_set_error (error, LENS_NET_ERROR_TOO_LARGE, node, "out of memory");
          goto fail;
        }
    }
  if (node->op == LENS_OP_MAXPOOL)
    {
      sw = g_try_new0 (int32_t, lens_tensor_numel (outs[0]) + 1);
      if (sw == NULL)
        {
          lens_op_set_error (error, LENS_NET_ERROR_TOO_LARGE, node, "out of memory");
          goto fail;
        }
      exec.switches = sw;
    }
  exec.workspace = ws;
  klass->forward (node, ins, outs, &exec);
  for (int o = 0; o < node->n_outputs; o++)
    lens_net_value (ld->net, node->outputs[o])->constant = outs[o];
  node->folded = TRUE;
  return TRUE;

fail:
  for (int o = 0; o < 4; o++)
    lens_tensor_free (outs[o]);
  return FALSE;
}

static gboolean
add_node (Loader                *ld,
          const Onnx__NodeProto *np,
          guint                  index,
          GError               **error)
{
  g_autofree char *name = NULL;
  LensNode *node;
  LensOpType type;
  const LensOpClass *klass;
  g_autofree LensAttr *attrs = NULL;
  g_autoptr (GPtrArray) keep_strings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) keep_tensors = NULL;
  LensAttrs attr_list;
  LensOpInput inputs[64] = { 0 };
  LensOpOutput outputs[4] = { 0 };
  gboolean all_const = TRUE;
  const char *op_type = np->op_type ? np->op_type : "";

  if (np->name != NULL && np->name[0] != '\0')
    name = g_strdup (np->name);
  else if (np->n_output > 0 && np->output[0] != NULL && np->output[0][0] != '\0')
    name = g_strdup (np->output[0]);
  else
    name = g_strdup_printf ("%s_%u", op_type, index);

  if (np->domain != NULL && np->domain[0] != '\0' && strcmp (np->domain, "ai.onnx") != 0)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_UNSUPPORTED_OP,
                   "Node '%s' uses op '%s' from domain '%s'; only standard ONNX ops are supported",
                   name, op_type, np->domain);
      return FALSE;
    }
  if (!lens_op_lookup (op_type, &type))
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_UNSUPPORTED_OP,
                   "Unsupported op '%s' in node '%s'", op_type, name);
      return FALSE;
    }
  klass = lens_op_class (type);

  node = g_new0 (LensNode, 1);
  node->name = g_steal_pointer (&name);
  node->op = type;
  node->opset = ld->net->opset;
  g_ptr_array_add (ld->net->nodes, node);

  if ((int) np->n_input < klass->min_inputs ||
      (klass->max_inputs >= 0 && (int) np->n_input > klass->max_inputs) ||
      np->n_input > G_N_ELEMENTS (inputs))
    {
      lens_op_set_error (error, LENS_NET_ERROR_INVALID, node, "has %" G_GSIZE_FORMAT
                         " inputs, which this op does not take", np->n_input);
      return FALSE;
    }
  if (np->n_output < 1 || (int) np->n_output > klass->max_outputs)
    {
      lens_op_set_error (error, LENS_NET_ERROR_UNSUPPORTED_ATTR, node,
                         "has %" G_GSIZE_FORMAT " outputs; ConvLens supports %d",
                         np->n_output, klass->max_outputs);
      return FALSE;
    }

  node->n_inputs = (int) np->n_input;
  node->inputs = g_new0 (int, MAX (1, np->n_input));
  for (gsize i = 0; i < np->n_input; i++)
    {
      const char *in = np->input[i] ? np->input[i] : "";
      LensOpInput *oi = &inputs[i];

      memset (oi, 0, sizeof *oi);
      oi->name = in;
      if (in[0] == '\0')
        {
          /* only optional inputs may be left out; kernels read required ones */
          if ((int) i < klass->min_inputs || klass->max_inputs < 0)
            {
              lens_op_set_error (error, LENS_NET_ERROR_INVALID, node,
                                 "required input %" G_GSIZE_FORMAT " has no name", i);
              return FALSE;
            }
          node->inputs[i] = -1;
          continue;
        }
      node->inputs[i] = find_value (ld, in);
      if (node->inputs[i] < 0)
        {
          lens_op_set_error (error, LENS_NET_ERROR_INVALID, node,
                             "input '%s' is not produced by any earlier node", in);
          return FALSE;
        }
      {
        LensValue *v = lens_net_value (ld->net, node->inputs[i]);
        oi->shape = v->shape;
        oi->dtype = v->dtype;
        oi->constant = v->constant;
        oi->present = TRUE;
        if (v->constant == NULL)
          all_const = FALSE;
      }
    }

  attrs = g_new0 (LensAttr, MAX (1, np->n_attribute));
  keep_tensors = g_ptr_array_new_with_free_func ((GDestroyNotify) lens_tensor_free);
  if (!convert_attrs (np, ld, attrs, keep_strings, keep_tensors, error))
    {
      g_prefix_error (error, "%s node '%s': ", op_type, node->name);
      return FALSE;
    }
  attr_list.items = attrs;
  attr_list.n = (int) np->n_attribute;

  /* defaults for outputs: float, filled by setup */
  if (!klass->setup (node, &attr_list, inputs, outputs, error))
    return FALSE;

  node->n_outputs = 0;
  node->outputs = g_new0 (int, np->n_output);
  for (gsize o = 0; o < np->n_output; o++)
    {
      const char *out = np->output[o] ? np->output[o] : "";
      LensValue *v;

      if (out[0] == '\0' && o > 0)
        break; /* optional trailing output not requested */
      node->outputs[o] = add_value (ld, out[0] ? out : node->name, &v);
      node->n_outputs++;
      v->shape = outputs[o].shape;
      v->dtype = outputs[o].dtype;
      v->producer = (int) ld->net->nodes->len - 1;
    }

  /* Shape only needs its input's static shape; everything else folds when
   * all its inputs are known. */
  if (type == LENS_OP_SHAPE || type == LENS_OP_CONSTANT ||
      (all_const && node->n_inputs > 0))
    return fold_node (ld, node, error);
  return TRUE;
}

/* The default-domain opset; -1 when the model imports none. */
static gint64
find_opset (const Onnx__ModelProto *mp)
{
  for (gsize i = 0; i < mp->n_opset_import; i++)
    {
      const Onnx__OperatorSetIdProto *op = mp->opset_import[i];
      if (op->domain == NULL || op->domain[0] == '\0' || strcmp (op->domain, "ai.onnx") == 0)
        return op->version;
    }
  /* IR version 1 and 2 files predate opset_import and mean opset 1 */
  return mp->ir_version < 3 ? 1 : -1;
}

LensNet *
lens_net_load_onnx_data (const guint8          *data,
                         gsize                  length,
                         const char            *base_dir,
                         const LensLoadOptions *options,
                         GError               **error)
{
  Onnx__ModelProto *mp = NULL;
  g_autoptr (LensNet) net = NULL;
  g_autoptr (GHashTable) by_name = NULL;
  const Onnx__GraphProto *g;
  Loader ld = { 0 };
  gboolean ok = FALSE;

  if (length == 0)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_PARSE,
                   "The model file is empty");
      return NULL;
    }
  if (!check_framing (data, length, "The model file", error))
    return NULL;
  if (message_depth (data, length, &onnx__model_proto__descriptor, MAX_MESSAGE_DEPTH + 1) >
      MAX_MESSAGE_DEPTH)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_PARSE,
                   "The model file nests its messages (graphs, nodes, attributes) more than %d "
                   "levels deep", MAX_MESSAGE_DEPTH);
      return NULL;
    }
  mp = onnx__model_proto__unpack (NULL, length, data);
  if (mp == NULL)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_PARSE,
                   "The model file is not an ONNX model (protobuf decoding failed)");
      return NULL;
    }
  g = mp->graph;
  if (g == NULL || !mp->has_ir_version)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_PARSE,
                   "The file is not an ONNX model: it has no %s",
                   g == NULL ? "graph" : "IR version");
      goto out;
    }

  net = lens_net_new_empty ();
  net->opset = find_opset (mp);
  if (net->opset < 0)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_PARSE,
                   "The model declares no ONNX opset (opset_import is missing)");
      goto out;
    }
  if (net->opset < 1 || net->opset > 18)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_UNSUPPORTED_ATTR,
                   "The model uses ONNX opset %" G_GINT64_FORMAT "; ConvLens supports opsets up to 18",
                   net->opset);
      goto out;
    }
  net->name = g_strdup (g->name && g->name[0] ? g->name : "model");
  by_name = g_hash_table_new (g_str_hash, g_str_equal);
  ld.net = net;
  ld.by_name = by_name;
  ld.base_dir = base_dir;
  ld.options = options;
  ld.budget = options && options->memory_budget ? options->memory_budget
                                                 : lens_default_memory_budget ();

  for (gsize i = 0; i < g->n_initializer; i++)
    {
      LensValue *v;
      LensTensor *t = tensor_from_proto (g->initializer[i], base_dir, ld.budget, error);

      if (t == NULL)
        goto out;
      if (ld.const_bytes + lens_tensor_nbytes (t) > ld.budget)
        {
          lens_tensor_free (t);
          g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_TOO_LARGE,
                       "The model's weights exceed the memory budget of %" G_GSIZE_FORMAT " MiB",
                       ld.budget >> 20);
          goto out;
        }
      ld.const_bytes += lens_tensor_nbytes (t);
      add_value (&ld, g->initializer[i]->name ? g->initializer[i]->name : "", &v);
      v->constant = t;
      v->shape = t->shape;
      v->dtype = t->dtype;
    }
  for (gsize i = 0; i < g->n_input; i++)
    if (!add_graph_input (&ld, g->input[i], error))
      goto out;
  for (gsize i = 0; i < g->n_node; i++)
    if (!add_node (&ld, g->node[i], (guint) i, error))
      goto out;
  if (g->n_output == 0)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_INVALID, "The model has no outputs");
      goto out;
    }
  for (gsize i = 0; i < g->n_output; i++)
    {
      const char *name = g->output[i]->name ? g->output[i]->name : "";
      int v = find_value (&ld, name);
      if (v < 0)
        {
          g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_INVALID,
                       "Graph output '%s' is not produced by any node", name);
          goto out;
        }
      g_array_append_val (net->outputs, v);
    }
  for (guint i = 0; i < net->nodes->len; i++)
    if (!lens_net_node (net, (int) i)->folded)
      {
        int n = (int) i;
        g_array_append_val (net->layers, n);
      }
  if (!lens_net_finish_plan (net, ld.budget > ld.const_bytes ? ld.budget - ld.const_bytes : 0,
                             error))
    goto out;
  ok = TRUE;

out:
  onnx__model_proto__free_unpacked (mp, NULL);
  return ok ? g_steal_pointer (&net) : NULL;
}

LensNet *
lens_net_load_onnx (const char            *path,
                    const LensLoadOptions *options,
                    GError               **error)
{
  g_autoptr (GMappedFile) map = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;
  LensNet *net;

  map = g_mapped_file_new (path, FALSE, &local);
  if (map == NULL)
    {
      g_set_error (error, LENS_NET_ERROR, LENS_NET_ERROR_IO, "Cannot read model '%s': %s",
                   path, local->message);
      return NULL;
    }
  dir = g_path_get_dirname (path);
  net = lens_net_load_onnx_data ((const guint8 *) g_mapped_file_get_contents (map),
                                 g_mapped_file_get_length (map), dir, options, &local);
  if (net == NULL)
    {
      g_set_error (error, local->domain, local->code, "%s: %s", path, local->message);
      return NULL;
    }
  base = g_path_get_basename (path);
  if (g_str_has_suffix (base, ".onnx"))
    base[strlen (base) - 5] = '\0';
  g_free (net->name);
  net->name = g_steal_pointer (&base);
  return net;
}
