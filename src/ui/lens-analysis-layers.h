/* lens-analysis-layers.h: the "Layers" chooser of the invariance,
 * correspondence and probe pages: a menu button whose popover lists the
 * current model's layers as check buttons */
#pragma once

#include <gtk/gtk.h>

#include "lens-engine-client.h"

G_BEGIN_DECLS

GtkWidget  *lens_analysis_layers_new       (void);
/* Lists model's layers (none for NULL); with no layer checked yet, the
 * layers whose op is one of default_ops (NULL-terminated) get checked. */
void        lens_analysis_layers_set_model (GtkWidget           *chooser,
                                            LensModelInfo       *model,
                                            const char * const  *default_ops);
/* The checked layer names in model order (NULL-terminated, owned; empty
 * when none). */
char      **lens_analysis_layers_get       (GtkWidget           *chooser);
/* Checks exactly the named layers. */
void        lens_analysis_layers_set       (GtkWidget           *chooser,
                                            const char * const  *names);

G_END_DECLS
