/* cli-common.h: what the convlens-cli verbs share
 *
 * Every verb is one function `int lens_cli_VERB (int argc, char **argv)`
 * where argv[0] is the verb itself.  It returns one of the exit codes
 * below; it never calls exit() itself except through GOptionContext's
 * --help (which exits 0).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "lens-net.h"
#include "lens-profile.h"
#include "lens-tensor.h"

G_BEGIN_DECLS

#define LENS_CLI_NAME "convlens-cli"

typedef enum
{
  LENS_CLI_EXIT_OK      = 0,
  LENS_CLI_EXIT_RUNTIME = 1,  /* bad file, unsupported model, failed run... */
  LENS_CLI_EXIT_USAGE   = 2,  /* wrong options or arguments */
} LensCliExit;

/* Options that every verb takes.  Filled by the GOptionEntry array that
 * lens_cli_common_entries() returns; main.c may preset them from the
 * global options given before the verb. */
/* --threads not given: the engine default (all cores). */
#define LENS_CLI_THREADS_UNSET G_MININT

#define LENS_CLI_COMMON_INIT { LENS_CLI_THREADS_UNSET, NULL }

typedef struct
{
  int   threads;      /* LENS_CLI_THREADS_UNSET: not given */
  char *input_size;   /* "HxW" or NULL */
} LensCliCommon;

/* Set by main.c from `convlens-cli --threads N VERB ...`. */
extern int lens_cli_global_threads;

/* A NULL-terminated entry array (static storage) bound to @common. */
const GOptionEntry *lens_cli_common_entries  (LensCliCommon *common);
void                lens_cli_common_clear    (LensCliCommon *common);

/* A GOptionContext for @verb with the common entries and @entries (may
 * be NULL), parameter string @params and a one-line @summary. */
GOptionContext     *lens_cli_context_new     (const char         *verb,
                                              const char         *params,
                                              const char         *summary,
                                              const GOptionEntry *entries,
                                              LensCliCommon      *common);
/* Parses argv in place and checks the common option values.  On failure
 * prints the usage error and returns FALSE (the verb then returns
 * LENS_CLI_EXIT_USAGE). */
gboolean            lens_cli_parse           (GOptionContext *context,
                                              const char     *verb,
                                              LensCliCommon  *common,
                                              int            *argc,
                                              char         ***argv);

/* Prints "convlens-cli: MESSAGE" as one line on stderr (newlines in the
 * message become spaces) and returns LENS_CLI_EXIT_RUNTIME. */
int                 lens_cli_fail            (const char *format,
                                              ...) G_GNUC_PRINTF (1, 2);
/* A failure about @path: "convlens-cli: ACTION 'PATH': ERROR. HINT." on
 * one line of stderr; "ACTION 'PATH': " is left out when the error message
 * already names the file, and HINT (may be NULL) when the message already
 * contains it.  Returns LENS_CLI_EXIT_RUNTIME. */
int                 lens_cli_fail_file       (const char   *action,
                                              const char   *path,
                                              const GError *error,
                                              const char   *hint);
/* Prints "convlens-cli VERB: MESSAGE. Run 'convlens-cli VERB --help' for
 * usage." and returns LENS_CLI_EXIT_USAGE. */
int                 lens_cli_usage_error     (const char *verb,
                                              const char *format,
                                              ...) G_GNUC_PRINTF (2, 3);
/* The GError message without its trailing period, so that it can be
 * embedded in a sentence (owned string). */
char               *lens_cli_error_text      (const GError *error);

/* Applies --threads (verb option, else the global one). */
void                lens_cli_apply_threads   (const LensCliCommon *common);

/* Loads @path with --input-size applied; on failure prints a sentence
 * that names the file and says what to do, and returns NULL. */
LensNet            *lens_cli_load_net        (const char          *path,
                                              const LensCliCommon *common,
                                              int                 *exit_code);

/* Parses "HxW" (or "N" for a square) into positive integers. */
gboolean            lens_cli_parse_size      (const char *text,
                                              int        *height,
                                              int        *width);

/* Input of a run: an image preprocessed with the model's profile, or an
 * already preprocessed .npy tensor.  The profile (from --profile, or
 * guessed from the model) also gives the labels; with --input-npy and no
 * --profile a profile that cannot be guessed is not an error (no labels). */
typedef struct
{
  LensTensor  *tensor;    /* owned, [1,C,H,W] */
  LensProfile *profile;   /* owned, may be NULL */
  const char  *source;    /* borrowed: the image or .npy path */
} LensCliInput;

gboolean            lens_cli_load_input      (LensNet      *net,
                                              const char   *model_path,
                                              const char   *image_path,
                                              const char   *npy_path,
                                              const char   *profile_path,
                                              LensCliInput *input);
void                lens_cli_input_clear     (LensCliInput *input);

/* --dump-npy LAYER=FILE: the value to write and where. */
typedef struct
{
  char *name;
  char *file;
  int   value;
} LensCliDump;

/* Parses the LAYER=FILE specs (NULL @specs: no dumps).  Returns an array
 * of LensCliDump, or NULL after printing a usage error. */
GPtrArray          *lens_cli_dumps_parse     (const char         *verb,
                                              const char * const *specs);
/* Resolves each LAYER (a layer name, a layer's output value name, or any
 * value name such as the input) in @net; FALSE after printing the error
 * for a name the model does not have. */
gboolean            lens_cli_dumps_resolve   (GPtrArray *dumps,
                                              LensNet   *net);
/* Writes every dump of a finished trace; FALSE after printing the error. */
gboolean            lens_cli_dumps_write     (GPtrArray *dumps,
                                              LensTrace *trace);

/* JSON helpers */
/* Adds @text as a JSON string, with invalid UTF-8 (a file name, a name
 * from a malformed model) replaced by U+FFFD; NULL becomes null. */
void                lens_cli_json_add_string (JsonBuilder     *builder,
                                              const char      *text);
void                lens_cli_json_add_shape  (JsonBuilder     *builder,
                                              const LensShape *shape);
/* Adds the members "name" and "op" of layer @layer (in an open object). */
void                lens_cli_json_add_layer  (JsonBuilder     *builder,
                                              const LensNet   *net,
                                              guint            layer);
/* Prints the builder's root on stdout followed by a newline. */
void                lens_cli_json_print      (JsonBuilder *builder,
                                              gboolean     pretty);

/* Total FLOPs of all layers of @net. */
guint64             lens_cli_net_total_flops (const LensNet *net);

/* Verbs */
int                 lens_cli_info            (int    argc,
                                              char **argv);
int                 lens_cli_predict         (int    argc,
                                              char **argv);
int                 lens_cli_bench           (int    argc,
                                              char **argv);

G_END_DECLS
