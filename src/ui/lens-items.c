/* lens-items.c: list rows for layers and channels; boxed result types */
#define G_LOG_DOMAIN "lens-items"

#include "lens-config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "lens-items.h"

G_DEFINE_BOXED_TYPE (LensModelInfo, lens_model_info, lens_model_info_ref, lens_model_info_unref)
G_DEFINE_BOXED_TYPE (LensTraceInfo, lens_trace_info, lens_trace_info_ref, lens_trace_info_unref)
G_DEFINE_BOXED_TYPE (LensLayerMaps, lens_layer_maps, lens_layer_maps_ref, lens_layer_maps_unref)
G_DEFINE_BOXED_TYPE (LensPixels, lens_pixels, lens_pixels_ref, lens_pixels_unref)

char *
lens_format_shape (const LensShape *shape)
{
  GString *s = g_string_new (NULL);

  for (int i = 1; i < shape->ndim; i++)
    g_string_append_printf (s, i > 1 ? "×%" G_GINT64_FORMAT : "%" G_GINT64_FORMAT,
                            shape->dims[i]);
  if (s->len == 0 && shape->ndim == 1)
    g_string_append_printf (s, "%" G_GINT64_FORMAT, shape->dims[0]);
  return g_string_free (s, FALSE);
}

GdkTexture *
lens_pixels_to_texture (LensPixels *pixels)
{
  /* cairo's ARGB32 is GDK_MEMORY_DEFAULT: the bytes are shared as they are */
  return gdk_memory_texture_new (lens_pixels_get_width (pixels),
                                 lens_pixels_get_height (pixels),
                                 GDK_MEMORY_DEFAULT,
                                 lens_pixels_get_bytes (pixels),
                                 lens_pixels_get_stride (pixels));
}

/* LensLayerItem */

struct _LensLayerItem
{
  GObject  parent_instance;

  guint       index;
  char       *name;
  char       *label;          /* the name as the tree shows it */
  char       *op;
  char       *shape;
  double      mean;           /* NAN until known */
  double      mean_fraction;  /* of the largest |mean| shown, for the bar */
  GListStore *children;       /* a block's rows; NULL for a layer */
  guint       n_layers;       /* a block's layers, nested ones included */
};

enum {
  LAYER_PROP_0,
  LAYER_PROP_INDEX,
  LAYER_PROP_NAME,
  LAYER_PROP_OP,
  LAYER_PROP_SHAPE,
  LAYER_PROP_DETAILS,
  LAYER_PROP_MEAN,
  LAYER_PROP_MEAN_FRACTION,
  LAYER_PROP_HAS_MEAN,
  LAYER_PROP_TOOLTIP,
  LAYER_PROP_IS_BLOCK,
  LAYER_PROP_LABEL,
  LAYER_N_PROPS
};

static GParamSpec *layer_props[LAYER_N_PROPS];

G_DEFINE_FINAL_TYPE (LensLayerItem, lens_layer_item, G_TYPE_OBJECT)

static void
lens_layer_item_finalize (GObject *object)
{
  LensLayerItem *self = LENS_LAYER_ITEM (object);

  g_free (self->name);
  g_free (self->label);
  g_free (self->op);
  g_free (self->shape);
  g_clear_object (&self->children);

  G_OBJECT_CLASS (lens_layer_item_parent_class)->finalize (object);
}

static void
lens_layer_item_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  LensLayerItem *self = LENS_LAYER_ITEM (object);

  switch (prop_id)
    {
    case LAYER_PROP_INDEX:
      g_value_set_uint (value, self->index);
      break;
    case LAYER_PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case LAYER_PROP_OP:
      g_value_set_string (value, self->op);
      break;
    case LAYER_PROP_SHAPE:
      g_value_set_string (value, self->shape);
      break;
    case LAYER_PROP_DETAILS:
      if (self->children != NULL)
        /* TRANSLATORS: a block of layers (e.g. a residual stage) and the
         * shape of its last output, e.g. "7 layers · 64×56×56" */
        g_value_take_string (value, g_strdup_printf (ngettext ("%u layer · %s", "%u layers · %s",
                                                               self->n_layers),
                                                     self->n_layers, self->shape));
      else
        /* TRANSLATORS: a layer's operator and output shape, e.g. "Conv · 64×55×55" */
        g_value_take_string (value, g_strdup_printf (_("%s · %s"), self->op, self->shape));
      break;
    case LAYER_PROP_MEAN:
      g_value_set_double (value, self->mean);
      break;
    case LAYER_PROP_MEAN_FRACTION:
      g_value_set_double (value, isnan (self->mean) ? 0.0 : self->mean_fraction);
      break;
    case LAYER_PROP_HAS_MEAN:
      g_value_set_boolean (value, !isnan (self->mean));
      break;
    case LAYER_PROP_TOOLTIP:
      if (isnan (self->mean))
        g_value_set_string (value, self->name);
      else
        /* TRANSLATORS: tooltip of a layer: its name, then the mean of its
         * output for the current image */
        g_value_take_string (value, g_strdup_printf (_("%s\nMean activation %.4g"),
                                                     self->name, self->mean));
      break;
    case LAYER_PROP_IS_BLOCK:
      g_value_set_boolean (value, self->children != NULL);
      break;
    case LAYER_PROP_LABEL:
      g_value_set_string (value, self->label ? self->label : self->name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lens_layer_item_class_init (LensLayerItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lens_layer_item_finalize;
  object_class->get_property = lens_layer_item_get_property;

  layer_props[LAYER_PROP_INDEX] =
    g_param_spec_uint ("index", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  layer_props[LAYER_PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  layer_props[LAYER_PROP_OP] =
    g_param_spec_string ("op", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  layer_props[LAYER_PROP_SHAPE] =
    g_param_spec_string ("shape", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  layer_props[LAYER_PROP_DETAILS] =
    g_param_spec_string ("details", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  layer_props[LAYER_PROP_MEAN] =
    g_param_spec_double ("mean", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0.0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  layer_props[LAYER_PROP_MEAN_FRACTION] =
    g_param_spec_double ("mean-fraction", NULL, NULL, 0.0, 1.0, 0.0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  layer_props[LAYER_PROP_HAS_MEAN] =
    g_param_spec_boolean ("has-mean", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  layer_props[LAYER_PROP_TOOLTIP] =
    g_param_spec_string ("tooltip", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  layer_props[LAYER_PROP_LABEL] =
    g_param_spec_string ("label", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  layer_props[LAYER_PROP_IS_BLOCK] =
    g_param_spec_boolean ("is-block", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, LAYER_N_PROPS, layer_props);
}

static void
lens_layer_item_init (LensLayerItem *self)
{
  self->mean = NAN;
}

LensLayerItem *
lens_layer_item_new (guint                index,
                     const LensLayerInfo *info)
{
  LensLayerItem *self = g_object_new (LENS_TYPE_LAYER_ITEM, NULL);

  self->index = index;
  self->name = g_strdup (info->name != NULL && info->name[0] != '\0' ? info->name : info->op);
  self->op = g_strdup (info->op);
  self->shape = lens_format_shape (&info->shape);
  return self;
}

guint
lens_layer_item_get_index (LensLayerItem *self)
{
  g_return_val_if_fail (LENS_IS_LAYER_ITEM (self), 0);
  return self->index;
}

const char *
lens_layer_item_get_name (LensLayerItem *self)
{
  g_return_val_if_fail (LENS_IS_LAYER_ITEM (self), NULL);
  return self->name;
}

const char *
lens_layer_item_get_op (LensLayerItem *self)
{
  g_return_val_if_fail (LENS_IS_LAYER_ITEM (self), NULL);
  return self->op;
}

const char *
lens_layer_item_get_shape (LensLayerItem *self)
{
  g_return_val_if_fail (LENS_IS_LAYER_ITEM (self), NULL);
  return self->shape;
}

LensLayerItem *
lens_layer_item_new_block (const char    *name,
                           LensLayerItem *first,
                           LensLayerItem *last,
                           guint          n_layers,
                           GListStore    *children)
{
  LensLayerItem *self;

  g_return_val_if_fail (LENS_IS_LAYER_ITEM (first) && LENS_IS_LAYER_ITEM (last), NULL);
  g_return_val_if_fail (G_IS_LIST_STORE (children), NULL);

  self = g_object_new (LENS_TYPE_LAYER_ITEM, NULL);
  self->index = first->index;
  self->name = g_strdup (name);
  self->op = g_strdup ("");
  self->shape = g_strdup (last->shape);
  self->n_layers = n_layers;
  self->children = g_object_ref (children);
  return self;
}

void
lens_layer_item_set_label (LensLayerItem *self,
                           const char    *label)
{
  g_return_if_fail (LENS_IS_LAYER_ITEM (self));

  if (g_strcmp0 (self->label, label) == 0)
    return;
  g_free (self->label);
  self->label = g_strdup (label);
  g_object_notify_by_pspec (G_OBJECT (self), layer_props[LAYER_PROP_LABEL]);
}

gboolean
lens_layer_item_is_block (LensLayerItem *self)
{
  g_return_val_if_fail (LENS_IS_LAYER_ITEM (self), FALSE);
  return self->children != NULL;
}

GListModel *
lens_layer_item_get_children (LensLayerItem *self)
{
  g_return_val_if_fail (LENS_IS_LAYER_ITEM (self), NULL);
  return self->children ? G_LIST_MODEL (self->children) : NULL;
}

guint
lens_layer_item_get_n_layers (LensLayerItem *self)
{
  g_return_val_if_fail (LENS_IS_LAYER_ITEM (self), 0);
  return self->children ? self->n_layers : 1;
}

double
lens_layer_item_get_mean (LensLayerItem *self)
{
  g_return_val_if_fail (LENS_IS_LAYER_ITEM (self), NAN);
  return self->mean;
}

double
lens_layer_item_get_mean_fraction (LensLayerItem *self)
{
  g_return_val_if_fail (LENS_IS_LAYER_ITEM (self), 0.0);
  return isnan (self->mean) ? 0.0 : self->mean_fraction;
}

void
lens_layer_item_set_mean (LensLayerItem *self,
                          double         mean,
                          double         fraction)
{
  gboolean had;

  g_return_if_fail (LENS_IS_LAYER_ITEM (self));

  fraction = isnan (fraction) ? 0.0 : CLAMP (fraction, 0.0, 1.0);
  if ((isnan (mean) && isnan (self->mean)) ||
      (mean == self->mean && fraction == self->mean_fraction))
    return;
  had = !isnan (self->mean);
  self->mean = mean;
  self->mean_fraction = fraction;
  g_object_notify_by_pspec (G_OBJECT (self), layer_props[LAYER_PROP_MEAN]);
  g_object_notify_by_pspec (G_OBJECT (self), layer_props[LAYER_PROP_MEAN_FRACTION]);
  g_object_notify_by_pspec (G_OBJECT (self), layer_props[LAYER_PROP_TOOLTIP]);
  if (had != !isnan (mean))
    g_object_notify_by_pspec (G_OBJECT (self), layer_props[LAYER_PROP_HAS_MEAN]);
}

/* LensChannelItem */

struct _LensChannelItem
{
  GObject        parent_instance;

  LensLayerMaps *maps;
  guint          channel;
  GdkTexture    *texture;
};

enum {
  CHANNEL_PROP_0,
  CHANNEL_PROP_INDEX,
  CHANNEL_PROP_LABEL,
  CHANNEL_PROP_TEXTURE,
  CHANNEL_PROP_TOOLTIP,
  CHANNEL_N_PROPS
};

static GParamSpec *channel_props[CHANNEL_N_PROPS];

G_DEFINE_FINAL_TYPE (LensChannelItem, lens_channel_item, G_TYPE_OBJECT)

static void
lens_channel_item_finalize (GObject *object)
{
  LensChannelItem *self = LENS_CHANNEL_ITEM (object);

  g_clear_object (&self->texture);
  g_clear_pointer (&self->maps, lens_layer_maps_unref);

  G_OBJECT_CLASS (lens_channel_item_parent_class)->finalize (object);
}

static void
lens_channel_item_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  LensChannelItem *self = LENS_CHANNEL_ITEM (object);

  switch (prop_id)
    {
    case CHANNEL_PROP_INDEX:
      g_value_set_uint (value, self->channel);
      break;
    case CHANNEL_PROP_LABEL:
      g_value_take_string (value, g_strdup_printf ("%u", self->channel));
      break;
    case CHANNEL_PROP_TEXTURE:
      g_value_set_object (value, lens_channel_item_get_texture (self));
      break;
    case CHANNEL_PROP_TOOLTIP:
      /* TRANSLATORS: tooltip of a feature map: channel index, max and mean activation */
      g_value_take_string (value, g_strdup_printf (_("Channel %u\nMax %.4g · mean %.4g"),
                                                   self->channel,
                                                   self->maps->max[self->channel],
                                                   self->maps->mean[self->channel]));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lens_channel_item_class_init (LensChannelItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lens_channel_item_finalize;
  object_class->get_property = lens_channel_item_get_property;

  channel_props[CHANNEL_PROP_INDEX] =
    g_param_spec_uint ("index", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  channel_props[CHANNEL_PROP_LABEL] =
    g_param_spec_string ("label", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  channel_props[CHANNEL_PROP_TEXTURE] =
    g_param_spec_object ("texture", NULL, NULL, GDK_TYPE_TEXTURE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  channel_props[CHANNEL_PROP_TOOLTIP] =
    g_param_spec_string ("tooltip", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, CHANNEL_N_PROPS, channel_props);
}

static void
lens_channel_item_init (LensChannelItem *self)
{
}

LensChannelItem *
lens_channel_item_new (LensLayerMaps *maps,
                       guint          channel)
{
  LensChannelItem *self;

  g_return_val_if_fail (maps != NULL && channel < maps->n_channels, NULL);

  self = g_object_new (LENS_TYPE_CHANNEL_ITEM, NULL);
  self->maps = lens_layer_maps_ref (maps);
  self->channel = channel;
  return self;
}

guint
lens_channel_item_get_index (LensChannelItem *self)
{
  g_return_val_if_fail (LENS_IS_CHANNEL_ITEM (self), 0);
  return self->channel;
}

float
lens_channel_item_get_max (LensChannelItem *self)
{
  g_return_val_if_fail (LENS_IS_CHANNEL_ITEM (self), 0.f);
  return self->maps->max[self->channel];
}

GdkTexture *
lens_channel_item_get_texture (LensChannelItem *self)
{
  g_return_val_if_fail (LENS_IS_CHANNEL_ITEM (self), NULL);

  /* made when first shown: the grid only binds the visible rows */
  if (self->texture == NULL)
    self->texture = lens_pixels_to_texture (self->maps->thumbs[self->channel]);
  return self->texture;
}

LensPixels *
lens_channel_item_get_pixels (LensChannelItem *self)
{
  g_return_val_if_fail (LENS_IS_CHANNEL_ITEM (self), NULL);
  return self->maps->thumbs[self->channel];
}
