/* export-tool.c: writes a freshly initialised zf-mini, loaded by the
 * importer and written back by lens_onnx_net_to_bytes(), plus the input
 * and the probabilities our engine computes for it (raw little-endian
 * float32), for check-export.py:
 *
 *   train-export-tool DIR   ->  DIR/zf-mini.onnx, DIR/input.f32, DIR/prob.f32
 */
#include <stdio.h>

#include "lens-net.h"
#include "lens-onnx-write.h"
#include "lens-train.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) built = NULL, written = NULL;
  g_autoptr (LensNet) net = NULL;
  g_autoptr (LensTrace) trace = NULL;
  g_autoptr (GRand) r = g_rand_new_with_seed (11);
  g_autofree char *model = NULL, *input = NULL, *prob = NULL;
  LensTensor *x;

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s DIR\n", argv[0]);
      return 2;
    }
  g_mkdir_with_parents (argv[1], 0755);
  built = lens_train_build_arch ("zf-mini", 1, 28, 28, 10, 5, &error);
  if (built != NULL)
    net = lens_net_load_onnx_data (g_bytes_get_data (built, NULL), g_bytes_get_size (built), NULL,
                                   NULL, &error);
  if (net != NULL)
    written = lens_onnx_net_to_bytes (net, (const char *[]) { "convlens.test", "1", NULL }, &error);
  if (written == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  model = g_build_filename (argv[1], "zf-mini.onnx", NULL);
  input = g_build_filename (argv[1], "input.f32", NULL);
  prob = g_build_filename (argv[1], "prob.f32", NULL);
  trace = lens_trace_new (net, 3, &error);
  if (trace == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  x = lens_trace_get_input (trace);
  for (gsize i = 0; i < lens_tensor_numel (x); i++)
    ((float *) x->data)[i] = (float) g_rand_double_range (r, -1.0, 2.0);
  if (!lens_trace_run (trace, NULL, &error) ||
      !g_file_set_contents (model, g_bytes_get_data (written, NULL),
                            (gssize) g_bytes_get_size (written), &error) ||
      !g_file_set_contents (input, x->data, (gssize) lens_tensor_nbytes (x), &error) ||
      !g_file_set_contents (prob, lens_trace_get_output (trace)->data,
                            (gssize) lens_tensor_nbytes (lens_trace_get_output (trace)), &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  return 0;
}
