/* main.c: convlens [MODEL.onnx [IMAGE]] */
#define G_LOG_DOMAIN "main"

#include "lens-config.h"

#include <glib/gi18n.h>

#include "lens-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(LensApplication) app = NULL;

  lens_i18n_init ();
  g_set_application_name (_("ConvLens"));
  app = lens_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
