/* lens-profile.h: how to feed a model and name its classes
 *
 * A profile is MODEL_STEM.convlens.json beside the .onnx file (format in
 * docs/profile.md), or a guess from the model's input shape.
 */
#pragma once

#include <glib.h>

#include "lens-image.h"

G_BEGIN_DECLS

#define LENS_PROFILE_ERROR (lens_profile_error_quark ())

typedef enum
{
  LENS_PROFILE_ERROR_IO,          /* cannot read the profile */
  LENS_PROFILE_ERROR_PARSE,       /* not JSON */
  LENS_PROFILE_ERROR_INVALID,     /* a field is missing, of the wrong type or out of range */
  LENS_PROFILE_ERROR_LABELS,      /* the labels file named by the profile cannot be loaded */
  LENS_PROFILE_ERROR_UNSUPPORTED, /* no profile can be guessed for this input shape */
} LensProfileError;

typedef struct
{
  char          *name;
  LensPreprocess pre;
  char          *labels_path;  /* absolute, or NULL when there are no labels */
  char         **labels;       /* NULL-terminated, or NULL */
  guint          n_labels;
} LensProfile;

GQuark       lens_profile_error_quark (void);

LensProfile *lens_profile_load        (const char *json_path,
                                       GError    **error);
/* The same from memory: json_path names the profile in messages, gives
 * the default name and the folder a relative "labels" path is read from
 * (the file itself is not read). */
LensProfile *lens_profile_load_data   (const char *contents,
                                       gsize       length,
                                       const char *json_path,
                                       GError    **error);
/* 1) MODEL_STEM.convlens.json beside the model, if it exists (and its
 *    errors are reported);
 * 2) otherwise defaults from the input shape: 3 channels of at least
 *    224x224 get ImageNet preprocessing (resize shorter side to size/0.875,
 *    centre crop) and the installed ImageNet labels if they are found;
 *    other 1- or 3-channel inputs get scale 1, mean 0, std 1, a direct
 *    resize and no labels.  Missing labels are never an error; the caller
 *    should check n_labels against the model's number of classes. */
LensProfile *lens_profile_guess       (const char *model_path,
                                       int         channels,
                                       int         height,
                                       int         width,
                                       GError    **error);
/* Where MODEL_STEM.convlens.json would be for a model (owned string). */
char        *lens_profile_path_for_model (const char *model_path);
/* The installed ImageNet labels file, or NULL: $CONVLENS_DATADIR, then the
 * compiled-in LENS_DATADIR, then $CONVLENS_SOURCE_DIR (owned string). */
char        *lens_profile_find_imagenet_labels (void);
/* The label of a class, or NULL if the profile has none for it. */
const char  *lens_profile_get_label   (const LensProfile *profile,
                                       guint              index);
void         lens_profile_free        (LensProfile *profile);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LensProfile, lens_profile_free)

G_END_DECLS
