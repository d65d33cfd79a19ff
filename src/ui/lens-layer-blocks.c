/* lens-layer-blocks.c: foldable blocks of layers, derived from node names
 *
 * Exporters that keep the module hierarchy write it into node names:
 * torch.onnx names a node "/layer1/layer1.0/conv1/Conv", TensorFlow
 * converters "model/block1_conv1/Conv2D".  Consecutive layers that share
 * a prefix are one block (a residual stage, an inception module).  Names
 * without any hierarchy ("conv1", "n12", "Conv_0") give a flat list. */
#define G_LOG_DOMAIN "lens-layer-blocks"

#include "lens-config.h"

#include <string.h>

#include "lens-layer-blocks.h"

GStrv
lens_layer_name_path (const char *name)
{
  g_auto(GStrv) parts = NULL;
  g_autoptr(GStrvBuilder) path = g_strv_builder_new ();
  guint n = 0;

  if (name == NULL || strchr (name, '/') == NULL)
    return g_strv_builder_end (path);

  parts = g_strsplit (name, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      n++;
  /* every non-empty part but the last, which names the operator */
  for (guint i = 0; parts[i] != NULL && n > 1; i++)
    if (parts[i][0] != '\0')
      {
        g_strv_builder_add (path, parts[i]);
        n--;
      }
  return g_strv_builder_end (path);
}

typedef struct
{
  LensLayerItem *item;
  GStrv          path;
} Entry;

static const char *
component (const Entry *e,
           guint        depth)
{
  return depth < g_strv_length (e->path) ? e->path[depth] : NULL;
}

/* "/layer1/layer1.0/conv1/Conv" without its first `depth` parts:
 * "conv1/Conv" (owned). */
static char *
strip_path (LensLayerItem *item,
            guint          depth)
{
  const char *p = lens_layer_item_get_name (item);

  for (guint d = 0; d < depth; d++)
    {
      while (*p == '/')
        p++;
      p = strchr (p, '/');
      if (p == NULL)
        return NULL;
    }
  while (*p == '/')
    p++;
  return *p != '\0' ? g_strdup (p) : NULL;
}

static GListStore *
build_range (Entry *entries,
             guint  begin,
             guint  end,
             guint  depth)
{
  GListStore *store = g_list_store_new (LENS_TYPE_LAYER_ITEM);
  guint i = begin;

  while (i < end)
    {
      const char *key = component (&entries[i], depth);
      guint j = i + 1;

      if (key != NULL)
        while (j < end && g_strcmp0 (component (&entries[j], depth), key) == 0)
          j++;

      if (key != NULL && j - i >= 2)
        {
          g_autoptr(GListStore) children = build_range (entries, i, j, depth + 1);
          g_autoptr(LensLayerItem) block = NULL;

          block = lens_layer_item_new_block (key, entries[i].item, entries[j - 1].item, j - i,
                                             children);
          g_list_store_append (store, block);
        }
      else
        {
          for (guint k = i; k < j; k++)
            {
              g_autofree char *label = depth > 0 ? strip_path (entries[k].item, depth) : NULL;

              lens_layer_item_set_label (entries[k].item, label);
              g_list_store_append (store, entries[k].item);
            }
        }
      i = j;
    }
  return store;
}

GListStore *
lens_layer_blocks_build (GListModel *layers)
{
  guint n;
  Entry *entries;
  GListStore *store;

  g_return_val_if_fail (G_IS_LIST_MODEL (layers), NULL);

  n = g_list_model_get_n_items (layers);
  entries = g_new0 (Entry, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      entries[i].item = g_list_model_get_item (layers, i);
      entries[i].path = lens_layer_name_path (lens_layer_item_get_name (entries[i].item));
    }

  store = build_range (entries, 0, n, 0);

  /* one block around everything ("/model/...") only costs a click */
  while (g_list_model_get_n_items (G_LIST_MODEL (store)) == 1)
    {
      g_autoptr(LensLayerItem) only = g_list_model_get_item (G_LIST_MODEL (store), 0);
      GListModel *children;

      if (!lens_layer_item_is_block (only))
        break;
      children = lens_layer_item_get_children (only);
      g_clear_object (&store);
      store = g_list_store_new (LENS_TYPE_LAYER_ITEM);
      for (guint i = 0; i < g_list_model_get_n_items (children); i++)
        {
          g_autoptr(GObject) child = g_list_model_get_item (children, i);

          g_list_store_append (store, child);
        }
    }

  for (guint i = 0; i < n; i++)
    {
      g_object_unref (entries[i].item);
      g_strfreev (entries[i].path);
    }
  g_free (entries);
  return store;
}
