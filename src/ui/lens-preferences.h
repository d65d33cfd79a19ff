/* lens-preferences.h: the Preferences window — occluder size and stride,
 * projection mode, colour map, threads — bound to GSettings, so every
 * change takes effect at once */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

GtkWindow *lens_preferences_new         (GtkWindow  *parent,
                                         GSettings  *settings);
/* The control bound to the settings key (for tests). */
GtkWidget *lens_preferences_get_control (GtkWindow  *preferences,
                                         const char *key);

G_END_DECLS
