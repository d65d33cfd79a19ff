/* fuzz-topk.c: libFuzzer target for the top-k result reader
 * (lens_topk_load_data, the JSON written by `convlens topk`).
 *
 * Contract:
 *   - a failure sets a GError in LENS_TOPK_ERROR with a message;
 *   - a success gives at least one layer, k in [1, 4096], every layer
 *     with positive sizes, at most k entries per channel, each entry's
 *     position inside the feature map, its image index non-negative and
 *     its value finite, entries best first;
 *   - the result written back with lens_topk_to_json() loads again with
 *     the same layers and entries (the writer and the reader agree);
 *   - nothing logs a warning or critical. */
#include <math.h>

#include "fuzz-common.h"
#include "lens-topk.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init_logging ("fuzz-topk");
  return 0;
}

static void
check_topk (const LensTopk *topk)
{
  int k = lens_topk_get_k (topk);
  guint n_layers = lens_topk_get_n_layers (topk);

  if (k < 1 || k > 4096)
    fuzz_fail ("lens_topk_load_data", "k out of range");
  if (n_layers == 0)
    fuzz_fail ("lens_topk_load_data", "no layers");
  for (guint l = 0; l < n_layers; l++)
    {
      const LensTopkLayer *layer = lens_topk_get_layer (topk, l);

      if (layer == NULL || layer->name == NULL || layer->channels <= 0 ||
          layer->height <= 0 || layer->width <= 0)
        fuzz_fail ("lens_topk_load_data", "a layer has no name or an invalid size");
      if (lens_topk_find_layer (topk, layer->name) == NULL)
        fuzz_fail ("lens_topk_find_layer", layer->name);
      for (int c = 0; c < layer->channels; c++)
        {
          const LensTopkEntry *e = layer->entries + (gsize) c * k;

          if (layer->counts[c] < 0 || layer->counts[c] > k)
            fuzz_fail ("lens_topk_load_data", "a channel's count is out of range");
          for (int i = 0; i < layer->counts[c]; i++)
            {
              if (e[i].image < 0 || e[i].y < 0 || e[i].y >= layer->height || e[i].x < 0 ||
                  e[i].x >= layer->width || !isfinite (e[i].value))
                fuzz_fail ("lens_topk_load_data", "an entry is out of range");
              if (i > 0 && e[i].value > e[i - 1].value)
                fuzz_fail ("lens_topk_load_data", "entries are not best first");
            }
        }
    }
}

static void
check_same (const LensTopk *a,
            const LensTopk *b)
{
  int k = lens_topk_get_k (a);

  if (lens_topk_get_k (b) != k || lens_topk_get_n_layers (b) != lens_topk_get_n_layers (a) ||
      lens_topk_get_scanned (b) != lens_topk_get_scanned (a) ||
      lens_topk_get_complete (b) != lens_topk_get_complete (a) ||
      g_strcmp0 (lens_topk_get_model_path (a), lens_topk_get_model_path (b)) != 0 ||
      g_strcmp0 (lens_topk_get_dataset_spec (a), lens_topk_get_dataset_spec (b)) != 0)
    fuzz_fail ("lens_topk_to_json", "the reloaded result differs");
  for (guint l = 0; l < lens_topk_get_n_layers (a); l++)
    {
      const LensTopkLayer *la = lens_topk_get_layer (a, l);
      const LensTopkLayer *lb = lens_topk_get_layer (b, l);

      if (strcmp (la->name, lb->name) != 0 || la->channels != lb->channels ||
          la->height != lb->height || la->width != lb->width)
        fuzz_fail ("lens_topk_to_json", "a reloaded layer differs");
      for (int c = 0; c < la->channels; c++)
        {
          if (la->counts[c] != lb->counts[c])
            fuzz_fail ("lens_topk_to_json", "a reloaded channel differs");
          for (int i = 0; i < la->counts[c]; i++)
            {
              const LensTopkEntry *ea = la->entries + (gsize) c * k + i;
              const LensTopkEntry *eb = lb->entries + (gsize) c * k + i;

              if (ea->image != eb->image || ea->y != eb->y || ea->x != eb->x ||
                  ea->value != eb->value)
                fuzz_fail ("lens_topk_to_json", "a reloaded entry differs");
            }
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(LensTopk) topk = NULL;
  g_autoptr(LensTopk) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;

  if (size > G_MAXSSIZE)
    return 0;
  topk = lens_topk_load_data ((const char *) data, (gssize) size, &error);
  fuzz_check_error (topk != NULL, error, LENS_TOPK_ERROR, "lens_topk_load_data");
  if (topk == NULL)
    return 0;
  check_topk (topk);

  json = lens_topk_to_json (topk);
  if (json == NULL)
    fuzz_fail ("lens_topk_to_json", "NULL");
  again = lens_topk_load_data (json, -1, &error);
  if (again == NULL)
    fuzz_fail ("lens_topk_to_json", error->message);
  check_same (topk, again);
  return 0;
}
