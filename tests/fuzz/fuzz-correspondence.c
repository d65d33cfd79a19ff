/* fuzz-correspondence.c: libFuzzer target for correspondence specs
 * (the JSON of `convlens-cli correspondence`, lens_correspondence_spec_parse).
 *
 * Contract (docs/analyses.md, "Spec format"):
 *   - a failure sets a GError in LENS_ANALYSIS_ERROR with a message;
 *   - a success gives 2 to 1000 images, 1 to 64 parts (a NULL-terminated
 *     list of n_parts non-empty names), for every image a file name and
 *     for every part 1 to 64 boxes with x, y >= 0, width, height >= 1 and
 *     every value at most 1000000, trials in [0, 1000] and, unless the
 *     fill is "mean", a fill colour in [0, 1];
 *   - nothing logs a warning or critical. */
#include "fuzz-common.h"
#include "lens-correspondence.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init_logging ("fuzz-correspondence");
  return 0;
}

static gboolean
box_ok (const LensCorrespondenceBox *b)
{
  return b->x >= 0 && b->y >= 0 && b->width >= 1 && b->height >= 1 &&
         b->x <= LENS_CORRESPONDENCE_MAX_COORD && b->y <= LENS_CORRESPONDENCE_MAX_COORD &&
         b->width <= LENS_CORRESPONDENCE_MAX_COORD && b->height <= LENS_CORRESPONDENCE_MAX_COORD;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(LensCorrespondenceSpec) spec = NULL;
  g_autoptr(GError) error = NULL;

  spec = lens_correspondence_spec_parse ((const char *) data, size, &error);
  fuzz_check_error (spec != NULL, error, LENS_ANALYSIS_ERROR, "lens_correspondence_spec_parse");
  if (spec == NULL)
    return 0;

  if (spec->n_images < 2 || spec->n_images > LENS_CORRESPONDENCE_MAX_IMAGES ||
      spec->n_parts < 1 || spec->n_parts > LENS_CORRESPONDENCE_MAX_PARTS ||
      spec->parts == NULL || g_strv_length (spec->parts) != (guint) spec->n_parts)
    fuzz_fail ("lens_correspondence_spec_parse", "image or part count out of range");
  if (spec->trials < 0 || spec->trials > LENS_CORRESPONDENCE_MAX_TRIALS)
    fuzz_fail ("lens_correspondence_spec_parse", "trials out of range");
  if (!spec->fill_mean)
    for (int c = 0; c < 3; c++)
      if (!(spec->fill[c] >= 0.0f && spec->fill[c] <= 1.0f))
        fuzz_fail ("lens_correspondence_spec_parse", "fill out of [0, 1]");
  for (int p = 0; p < spec->n_parts; p++)
    if (spec->parts[p][0] == '\0')
      fuzz_fail ("lens_correspondence_spec_parse", "an empty part name");
  for (int i = 0; i < spec->n_images; i++)
    {
      const LensCorrespondenceImage *im = &spec->images[i];

      if (im->file == NULL || im->path == NULL || im->boxes == NULL || im->n_boxes == NULL)
        fuzz_fail ("lens_correspondence_spec_parse", "an image without a file or boxes");
      for (int p = 0; p < spec->n_parts; p++)
        {
          if (im->n_boxes[p] < 1 || im->n_boxes[p] > LENS_CORRESPONDENCE_MAX_BOXES)
            fuzz_fail ("lens_correspondence_spec_parse", "box count out of range");
          for (int b = 0; b < im->n_boxes[p]; b++)
            if (!box_ok (&im->boxes[p][b]))
              fuzz_fail ("lens_correspondence_spec_parse", "a box out of range");
        }
    }
  return 0;
}
