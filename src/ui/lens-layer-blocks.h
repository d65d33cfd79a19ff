/* lens-layer-blocks.h: foldable blocks of layers, derived from node names */
#pragma once

#include <gio/gio.h>

#include "lens-items.h"

G_BEGIN_DECLS

/* The module path of an ONNX node name, without the operator part:
 * "/layer1/layer1.0/conv1/Conv" -> { "layer1", "layer1.0", "conv1" };
 * names without slashes ("conv1", "n12") have an empty path. */
GStrv       lens_layer_name_path   (const char *name);

/* The rows of a layer tree for `layers` (a GListModel of LensLayerItem,
 * in graph order): runs of two or more consecutive layers that share a
 * path prefix become blocks (nested as deep as the names go); a single
 * block holding everything is unwrapped.  When the names carry no
 * hierarchy the result is the flat list of the same items. */
GListStore *lens_layer_blocks_build (GListModel *layers);

G_END_DECLS
