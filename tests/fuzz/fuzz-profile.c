/* fuzz-profile.c: libFuzzer target for model profiles (*.convlens.json,
 * lens_profile_load_data).
 *
 * The profile is read as SANDBOX/model.convlens.json; the sandbox holds
 * a "labels.txt" that a "labels" field may name.  Inputs containing '/'
 * or '\' are skipped so that a "labels" path (even a JSON-escaped one)
 * can only name something inside the sandbox: the fuzzer never reads the
 * machine's files.  Contract:
 *   - a failure sets a GError in LENS_PROFILE_ERROR with a message;
 *   - a success gives a non-empty UTF-8 name and preprocessing within the
 *     documented ranges (1 or 3 channels, sides in [1, 16384], a resize
 *     of 0 or at least the larger side, finite positive scale and std,
 *     finite mean), and labels only when asked for, NULL-terminated
 *     with n_labels entries;
 *   - nothing logs a warning or critical. */
#include <math.h>

#include "fuzz-common.h"
#include "lens-profile.h"

static char *profile_path;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  static const char labels[] = "\xef\xbb\xbf" "cat\r\ndog\n\nbird";

  fuzz_init_logging ("fuzz-profile");
  fuzz_sandbox_new ();
  fuzz_sandbox_write ("labels.txt", labels, sizeof labels - 1);
  profile_path = g_build_filename (fuzz_sandbox_dir, "model.convlens.json", NULL);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(LensProfile) profile = NULL;
  g_autoptr(GError) error = NULL;
  const LensPreprocess *pre;

  if (memchr (data, '/', size) != NULL || memchr (data, '\\', size) != NULL)
    return 0;

  profile = lens_profile_load_data ((const char *) data, size, profile_path, &error);
  fuzz_check_error (profile != NULL, error, LENS_PROFILE_ERROR, "lens_profile_load_data");
  if (profile == NULL)
    return 0;

  if (profile->name == NULL || profile->name[0] == '\0' ||
      !g_utf8_validate (profile->name, -1, NULL))
    fuzz_fail ("lens_profile_load_data", "empty or invalid name");
  pre = &profile->pre;
  if ((pre->channels != 1 && pre->channels != 3) || pre->height < 1 || pre->height > 16384 ||
      pre->width < 1 || pre->width > 16384)
    fuzz_fail ("lens_profile_load_data", "input size out of range");
  if (pre->resize_shorter != 0 && pre->resize_shorter < MAX (pre->height, pre->width))
    fuzz_fail ("lens_profile_load_data", "resize smaller than the crop");
  if (!isfinite (pre->scale) || !(pre->scale > 0.0f))
    fuzz_fail ("lens_profile_load_data", "scale not finite and positive");
  for (int c = 0; c < pre->channels; c++)
    if (!isfinite (pre->mean[c]) || !isfinite (pre->std[c]) || !(pre->std[c] > 0.0f))
      fuzz_fail ("lens_profile_load_data", "mean or std out of range");
  if ((profile->labels == NULL) != (profile->labels_path == NULL))
    fuzz_fail ("lens_profile_load_data", "labels without a path or a path without labels");
  if (profile->labels != NULL)
    {
      if (g_strv_length (profile->labels) != profile->n_labels)
        fuzz_fail ("lens_profile_load_data", "n_labels does not match the labels");
      if (lens_profile_get_label (profile, profile->n_labels) != NULL)
        fuzz_fail ("lens_profile_get_label", "a label past the end");
    }
  return 0;
}
