/* cli-evolution.c: `convlens-cli evolution`, the paper's Fig. 4
 *
 * For each checkpoint (in training order) and each chosen channel of a
 * layer: the image of a fixed set that activates the channel most, and
 * the deconvnet projection of that strongest activation back to pixels.
 * Layout as in Fig. 4: one row per channel, one column per checkpoint.
 */
#define G_LOG_DOMAIN "cli-evolution"

#include <stdio.h>
#include <string.h>

#include "cli-common.h"
#include "cli-train.h"
#include "lens-dataset.h"
#include "lens-image.h"
#include "lens-project.h"

#define GAP 2

static int
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

/* The snapshots of a training folder: DIR/snapshots/NAME-epoch-NNN.onnx
 * (or DIR/NAME-epoch-NNN.onnx), by epoch (the zero-padded numbers sort). */
static GPtrArray *
list_snapshots (const char *dir)
{
  GPtrArray *found = g_ptr_array_new_with_free_func (g_free);
  const char *subs[] = { "snapshots", "." };

  for (gsize s = 0; s < G_N_ELEMENTS (subs) && found->len == 0; s++)
    {
      g_autofree char *sub = g_build_filename (dir, subs[s], NULL);
      g_autoptr (GDir) d = g_dir_open (sub, 0, NULL);
      const char *name;

      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        if (strstr (name, "-epoch-") != NULL && g_str_has_suffix (name, ".onnx"))
          g_ptr_array_add (found, g_build_filename (sub, name, NULL));
    }
  g_ptr_array_sort (found, compare_paths);
  return found;
}

/* A profile for normalising the images: --profile, else the one beside the
 * first checkpoint, else any *.convlens.json in the training folder. */
static LensProfile *
find_profile (const char      *explicit_path,
              const char      *dir,
              const char      *first,
              const LensShape *in,
              GError         **error)
{
  g_autofree char *beside = lens_profile_path_for_model (first);

  if (explicit_path != NULL)
    return lens_profile_load (explicit_path, error);
  if (!g_file_test (beside, G_FILE_TEST_EXISTS) && dir != NULL)
    {
      g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
      const char *name;

      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        if (g_str_has_suffix (name, ".convlens.json"))
          {
            g_autofree char *path = g_build_filename (dir, name, NULL);
            return lens_profile_load (path, error);
          }
    }
  return lens_profile_guess (first, (int) in->dims[1], (int) in->dims[2], (int) in->dims[3],
                             error);
}

/* For every channel of `value`: the index of the image with the strongest
 * activation (anywhere in the map). */
static gboolean
strongest_images (LensNet           *net,
                  int                value,
                  const LensDataset *data,
                  const float       *mean,
                  const float       *std,
                  int               *best_image,
                  GError           **error)
{
  const int batch = 50;
  g_autoptr (LensTrace) trace = lens_trace_new (net, batch, error);
  gsize per = (gsize) data->channels * data->height * data->width;
  const LensShape *vs = lens_net_value_get_shape (net, value);
  int64_t c = vs->dims[1];
  gsize plane = lens_shape_numel (vs) / (gsize) c;
  g_autofree float *best = g_new (float, c);

  if (trace == NULL)
    return FALSE;
  for (int64_t k = 0; k < c; k++)
    {
      best[k] = -G_MAXFLOAT;
      best_image[k] = 0;
    }
  for (int start = 0; start < data->n; start += batch)
    {
      int n = MIN (batch, data->n - start);
      const float *a;

      memset (lens_trace_get_input (trace)->data, 0, lens_tensor_nbytes (lens_trace_get_input (trace)));
      for (int i = 0; i < n; i++)
        lens_dataset_get_floats (data, start + i, mean, std,
                                 (float *) lens_trace_get_input (trace)->data + per * i);
      if (!lens_trace_run (trace, NULL, error))
        return FALSE;
      a = lens_trace_get_value (trace, value)->data;
      for (int i = 0; i < n; i++)
        for (int64_t k = 0; k < c; k++)
          {
            const float *m = a + ((gsize) i * c + k) * plane;
            for (gsize j = 0; j < plane; j++)
              if (m[j] > best[k])
                {
                  best[k] = m[j];
                  best_image[k] = start + i;
                }
          }
    }
  return TRUE;
}

static void
blit (guint8       *canvas,
      int           canvas_w,
      const guint8 *rgb,
      int           w,
      int           h,
      int           x0,
      int           y0,
      int           scale)
{
  for (int y = 0; y < h * scale; y++)
    for (int x = 0; x < w * scale; x++)
      memcpy (canvas + ((gsize) (y0 + y) * canvas_w + x0 + x) * 3,
              rgb + ((gsize) (y / scale) * w + x / scale) * 3, 3);
}

int
lens_cli_evolution (int    argc,
                    char **argv)
{
  LensCliCommon common = LENS_CLI_COMMON_INIT;
  g_autofree char *layer = NULL, *output = NULL, *dataset = NULL, *profile_path = NULL;
  int n_channels = 16, n_images = 1000, scale = 2;
  gboolean show_image = FALSE;
  const GOptionEntry entries[] = {
    { "layer", 0, 0, G_OPTION_ARG_STRING, &layer, "Layer (node or output name), e.g. conv2",
      "NAME" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "PNG file to write", "OUT.png" },
    { "channels", 0, 0, G_OPTION_ARG_INT, &n_channels,
      "Channels to show, evenly spread (default: 16; 0: all)", "N" },
    { "dataset", 0, 0, G_OPTION_ARG_STRING, &dataset,
      "Images to search: 'fashion-mnist' (test split, default) or a class folder", "DATA" },
    { "images", 0, 0, G_OPTION_ARG_INT, &n_images,
      "How many of them (default: 1000)", "N" },
    { "profile", 0, 0, G_OPTION_ARG_FILENAME, &profile_path,
      "Profile for the input normalisation (default: found beside the checkpoints)", "FILE" },
    { "scale", 0, 0, G_OPTION_ARG_INT, &scale, "Pixel zoom of each cell (default: 2)", "N" },
    { "with-image", 0, 0, G_OPTION_ARG_NONE, &show_image,
      "Also show the winning image of the last checkpoint at the end of each row", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GPtrArray) checkpoints = NULL;
  g_autoptr (LensProfile) profile = NULL;
  g_autoptr (LensDataset) all = NULL, data = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *canvas = NULL;
  g_autofree int *channels = NULL;
  const char *dir = NULL;
  float mean[3], std[3];
  int status = LENS_CLI_EXIT_OK, cell_w = 0, cell_h = 0, canvas_w = 0, canvas_h = 0, cols;
  int64_t n_total = 0;

  context = lens_cli_context_new ("evolution", "(DIR | CHECKPOINT.onnx...)",
                                  "Feature evolution during training (Zeiler & Fergus, Fig. 4): "
                                  "for each channel of a layer, the projection of its strongest "
                                  "activation at each snapshot.", entries, &common);
  if (!lens_cli_parse (context, "evolution", &common, &argc, &argv))
    status = LENS_CLI_EXIT_USAGE;
  else if (argc < 2)
    status = lens_cli_usage_error ("evolution", "missing DIR or checkpoints");
  else if (layer == NULL || output == NULL)
    status = lens_cli_usage_error ("evolution", "--layer and --output are required");
  else if (n_channels < 0 || n_images < 1 || scale < 1 || scale > 16)
    status = lens_cli_usage_error ("evolution", "--channels, --images or --scale out of range");
  if (status != LENS_CLI_EXIT_OK)
    {
      lens_cli_common_clear (&common);
      return status;
    }
  lens_cli_apply_threads (&common);

  if (argc == 2 && g_file_test (argv[1], G_FILE_TEST_IS_DIR))
    {
      dir = argv[1];
      checkpoints = list_snapshots (dir);
      if (checkpoints->len == 0)
        {
          lens_cli_common_clear (&common);
          return lens_cli_fail ("no snapshots (*-epoch-NNN.onnx) in '%s'", dir);
        }
    }
  else
    {
      checkpoints = g_ptr_array_new_with_free_func (g_free);
      for (int i = 1; i < argc; i++)
        g_ptr_array_add (checkpoints, g_strdup (argv[i]));
    }
  cols = (int) checkpoints->len + (show_image ? 1 : 0);

  for (guint s = 0; s < checkpoints->len; s++)
    {
      const char *path = g_ptr_array_index (checkpoints, s);
      g_autoptr (LensNet) net = lens_cli_load_net (path, &common, &status);
      g_autofree int *best = NULL;
      const LensShape *in;
      int l, value;
      int64_t c;

      if (net == NULL)
        break;
      in = lens_net_get_input_shape (net);
      l = lens_net_find_layer (net, layer);
      if (l < 0 || in->ndim != 4)
        {
          status = lens_cli_fail ("checkpoint '%s' has no layer '%s' (see '" LENS_CLI_NAME
                                  " info')", path, layer);
          break;
        }
      value = lens_net_layer_get_output (net, (guint) l);
      c = lens_net_value_get_shape (net, value)->dims[1];
      if (s == 0)
        {
          profile = find_profile (profile_path, dir, path, in, &error);
          if (profile == NULL)
            {
              status = lens_cli_fail_file ("cannot read the profile of", path, error, NULL);
              break;
            }
          for (int k = 0; k < 3; k++)
            {
              mean[k] = profile->pre.mean[k] / profile->pre.scale;
              std[k] = profile->pre.std[k] / profile->pre.scale;
            }
          all = lens_dataset_load (dataset ? dataset : "fashion-mnist", "test", (int) in->dims[1],
                                   (int) in->dims[2], (int) in->dims[3], &error);
          if (all == NULL)
            {
              status = lens_cli_fail_file ("cannot load the images", dataset ? dataset
                                           : "fashion-mnist", error, NULL);
              break;
            }
          {
            g_autofree int *idx = g_new (int, MIN (n_images, all->n));
            for (int i = 0; i < MIN (n_images, all->n); i++)
              idx[i] = (int) ((gint64) i * all->n / MIN (n_images, all->n));
            data = lens_dataset_subset (all, idx, MIN (n_images, all->n));
          }
          n_total = n_channels == 0 ? c : MIN (n_channels, c);
          channels = g_new (int, n_total);
          for (int64_t k = 0; k < n_total; k++)
            channels[k] = (int) (k * c / n_total);
          cell_w = (int) in->dims[3] * scale;
          cell_h = (int) in->dims[2] * scale;
          canvas_w = cols * (cell_w + GAP) + GAP;
          canvas_h = (int) n_total * (cell_h + GAP) + GAP;
          canvas = g_malloc ((gsize) canvas_w * canvas_h * 3);
          memset (canvas, 255, (gsize) canvas_w * canvas_h * 3);
        }
      else if (channels[n_total - 1] >= c)
        {
          status = lens_cli_fail ("checkpoint '%s' has fewer channels in '%s' than the first; "
                                  "give checkpoints of the same architecture", path, layer);
          break;
        }

      best = g_new (int, c);
      if (!strongest_images (net, value, data, mean, std, best, &error))
        {
          g_autofree char *text = lens_cli_error_text (error);
          status = lens_cli_fail ("cannot run '%s': %s", path, text);
          break;
        }
      for (int64_t k = 0; k < n_total; k++)
        {
          g_autoptr (LensTrace) trace = lens_trace_new (net, 1, &error);
          g_autoptr (LensTensor) proj = NULL;
          g_autofree guint8 *rgb = NULL;
          LensProjectOptions po = { LENS_PROJECT_DECONV, LENS_START_MAX, 0, 0, LENS_LRN_DEFAULT };
          int w, h;

          if (trace != NULL)
            {
              lens_dataset_get_floats (data, best[channels[k]], mean, std,
                                       lens_trace_get_input (trace)->data);
              if (lens_trace_run (trace, NULL, &error))
                proj = lens_project_channel (trace, value, channels[k], &po, NULL, NULL, &error);
            }
          if (proj == NULL)
            {
              g_autofree char *text = lens_cli_error_text (error);
              status = lens_cli_fail ("cannot project '%s' channel %d of '%s': %s", layer,
                                      channels[k], path, text);
              break;
            }
          rgb = lens_projection_to_rgb (proj, profile->pre.bgr, &w, &h);
          blit (canvas, canvas_w, rgb, w, h, GAP + (int) s * (cell_w + GAP),
                GAP + (int) k * (cell_h + GAP), scale);
          if (show_image && s + 1 == checkpoints->len)
            {
              g_autoptr (LensImage) img = lens_image_from_tensor (lens_trace_get_input (trace),
                                                                  &profile->pre);
              g_autofree guint8 *irgb = img ? lens_image_to_rgb8 (img) : NULL;
              if (irgb)
                blit (canvas, canvas_w, irgb, img->width, img->height,
                      GAP + (int) checkpoints->len * (cell_w + GAP),
                      GAP + (int) k * (cell_h + GAP), scale);
            }
        }
      if (status != LENS_CLI_EXIT_OK)
        break;
      fprintf (stderr, "%s: done (%u/%u)\n", path, s + 1, checkpoints->len);
    }
  lens_cli_common_clear (&common);
  if (status != LENS_CLI_EXIT_OK)
    return status;

  {
    g_autofree char *layer_text = g_strdup_printf ("%s, %" G_GINT64_FORMAT " channels x %u "
                                                   "checkpoints", layer, n_total,
                                                   checkpoints->len);
    const char *text[] = { "Title", "ConvLens feature evolution", "Description", layer_text,
                           NULL };
    if (!lens_png_save_rgb (output, canvas, canvas_w, canvas_h, canvas_w * 3, text, &error))
      return lens_cli_fail_file ("cannot write", output, error, NULL);
  }
  printf ("%s\n", output);
  return LENS_CLI_EXIT_OK;
}
