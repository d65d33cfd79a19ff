/* lens-application.h: the ConvLens application (app.* actions, windows) */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define LENS_TYPE_APPLICATION (lens_application_get_type ())
G_DECLARE_FINAL_TYPE (LensApplication, lens_application, LENS, APPLICATION, AdwApplication)

LensApplication *lens_application_new (void);

/* setlocale + bindtextdomain; $CONVLENS_LOCALEDIR overrides the installed
 * catalogue folder (to run from the build tree). */
void             lens_i18n_init       (void);

G_END_DECLS
