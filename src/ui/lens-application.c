/* lens-application.c: startup, command line, app.* actions */
#define G_LOG_DOMAIN "lens-application"

#include "lens-config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "lens-application.h"
#include "lens-window.h"

struct _LensApplication
{
  AdwApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (LensApplication, lens_application, ADW_TYPE_APPLICATION)

void
lens_i18n_init (void)
{
  const char *dir = g_getenv ("CONVLENS_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, dir != NULL && dir[0] != '\0' ? dir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

static LensWindow *
lens_application_get_window (LensApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (LENS_IS_WINDOW (window))
    return LENS_WINDOW (window);
  return lens_window_new (GTK_APPLICATION (self));
}

static void
lens_application_activate (GApplication *app)
{
  GtkWindow *active = gtk_application_get_active_window (GTK_APPLICATION (app));
  LensWindow *window = lens_application_get_window (LENS_APPLICATION (app));

  /* a new window without files: what was open last time, or the default
   * model */
  if (active == NULL)
    lens_window_open_default (window);
  gtk_window_present (GTK_WINDOW (window));
}

/* convlens [MODEL.onnx [IMAGE]] */
static void
lens_application_open (GApplication  *app,
                       GFile        **files,
                       int            n_files,
                       const char    *hint)
{
  LensWindow *window = lens_application_get_window (LENS_APPLICATION (app));

  if (n_files > 0)
    lens_window_open_model (window, files[0]);
  if (n_files > 1)
    lens_window_open_image (window, files[1]);
  if (n_files > 2)
    g_warning ("Only a model and an image can be opened; ignoring %d more file(s)", n_files - 2);
  gtk_window_present (GTK_WINDOW (window));
}

static int
lens_application_handle_local_options (GApplication *app,
                                       GVariantDict *options)
{
  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("convlens %s\n", PACKAGE_VERSION);
      return 0;
    }
  return -1;
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *param,
                gpointer       user_data)
{
  GApplication *app = user_data;
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (app)));

  /* closing the windows lets each one stop its jobs first */
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_destroy (l->data);
  g_list_free (windows);
  g_application_quit (app);
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *param,
                 gpointer       user_data)
{
  GtkApplication *app = user_data;
  static const char * const developers[] = { "The ConvLens authors", NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", gtk_application_get_active_window (app),
                        "application-name", _("ConvLens"),
                        "application-icon", APP_ID,
                        "developer-name", _("The ConvLens authors"),
                        "developers", developers,
                        "version", PACKAGE_VERSION,
                        "comments", _("See what a convolutional network has learned: feature maps "
                                      "of every layer for your own images, after Zeiler and "
                                      "Fergus, “Visualizing and Understanding Convolutional "
                                      "Networks” (2014)."),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        /* TRANSLATORS: your name(s), one per line */
                        "translator-credits", _("translator-credits"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
shortcuts_activated (GSimpleAction *action,
                     GVariant      *param,
                     gpointer       user_data)
{
  GtkApplication *app = user_data;
  g_autoptr(GtkBuilder) builder = NULL;
  GtkWindow *shortcuts;

  builder = gtk_builder_new_from_resource ("/org/convlens/ConvLens/ui/lens-shortcuts-window.ui");
  shortcuts = GTK_WINDOW (gtk_builder_get_object (builder, "shortcuts_window"));
  gtk_window_set_transient_for (shortcuts, gtk_application_get_active_window (app));
  gtk_window_set_application (shortcuts, app);
  gtk_window_present (shortcuts);
}

static void
lens_application_startup (GApplication *app)
{
  static const GActionEntry entries[] = {
    { "quit", quit_activated },
    { "about", about_activated },
    { "shortcuts", shortcuts_activated },
  };
  static const struct {
    const char *action;
    const char *accels[3];
  } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "app.shortcuts", { "<Control>question", NULL } },
    { "win.open-model", { "<Control>o", NULL } },
    { "win.open-image", { "<Control><Shift>o", NULL } },
    { "win.export('')", { "<Control>e", NULL } },
  };

  G_APPLICATION_CLASS (lens_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action,
                                           accels[i].accels);
}

static void
lens_application_class_init (LensApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->startup = lens_application_startup;
  app_class->activate = lens_application_activate;
  app_class->open = lens_application_open;
  app_class->handle_local_options = lens_application_handle_local_options;
}

static void
lens_application_init (LensApplication *self)
{
  static const GOptionEntry options[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
    { NULL }
  };

  g_application_add_main_option_entries (G_APPLICATION (self), options);
  g_application_set_option_context_parameter_string (G_APPLICATION (self),
                                                     _("[MODEL.onnx [IMAGE]]"));
}

LensApplication *
lens_application_new (void)
{
  return g_object_new (LENS_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/org/convlens/ConvLens",
                       NULL);
}
