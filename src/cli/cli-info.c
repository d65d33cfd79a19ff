/* cli-info.c: `convlens-cli info MODEL`, every layer with its op, output
 * shape, parameter count and FLOPs, then the totals */
#define G_LOG_DOMAIN "cli-info"

#include <stdio.h>
#include <string.h>

#include "cli-common.h"

static const LensShape *
layer_shape (const LensNet *net,
             guint          layer)
{
  int value = lens_net_layer_get_output (net, layer);

  return value >= 0 ? lens_net_value_get_shape (net, value) : NULL;
}

static char *
shape_text (const LensShape *shape)
{
  return shape != NULL ? lens_shape_to_string (shape) : g_strdup ("?");
}

/* 1234567 -> "1.23 M" (decimal units, as FLOP and parameter counts are
 * usually quoted). */
static char *
human_count (guint64 count)
{
  static const char *const units[] = { "", " k", " M", " G", " T", " P" };
  double value = (double) count;
  guint unit = 0;

  while (value >= 1000.0 && unit + 1 < G_N_ELEMENTS (units))
    {
      value /= 1000.0;
      unit++;
    }
  if (unit == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT, count);
  return g_strdup_printf ("%.2f%s", value, units[unit]);
}

static void
print_json (const LensNet *net,
            const char    *path)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  guint n_layers = lens_net_get_n_layers (net);
  guint64 total_params = 0;
  guint64 total_flops = 0;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "model");
  lens_cli_json_add_string (builder, path);
  json_builder_set_member_name (builder, "name");
  lens_cli_json_add_string (builder, lens_net_get_name (net));

  json_builder_set_member_name (builder, "input");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  lens_cli_json_add_string (builder, lens_net_get_input_name (net));
  json_builder_set_member_name (builder, "shape");
  lens_cli_json_add_shape (builder, lens_net_get_input_shape (net));
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "layers");
  json_builder_begin_array (builder);
  for (guint i = 0; i < n_layers; i++)
    {
      gsize params = lens_net_layer_get_n_params (net, i);
      guint64 flops = lens_net_layer_get_flops (net, i);

      total_params += params;
      total_flops += flops;

      json_builder_begin_object (builder);
      lens_cli_json_add_layer (builder, net, i);
      json_builder_set_member_name (builder, "output_shape");
      lens_cli_json_add_shape (builder, layer_shape (net, i));
      json_builder_set_member_name (builder, "params");
      json_builder_add_int_value (builder, (gint64) params);
      json_builder_set_member_name (builder, "flops");
      json_builder_add_int_value (builder, (gint64) flops);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "total_params");
  json_builder_add_int_value (builder, (gint64) total_params);
  json_builder_set_member_name (builder, "total_flops");
  json_builder_add_int_value (builder, (gint64) total_flops);
  json_builder_set_member_name (builder, "trace_bytes");
  json_builder_add_int_value (builder, (gint64) lens_net_get_trace_bytes (net));
  json_builder_end_object (builder);

  lens_cli_json_print (builder, FALSE);
}

static void
print_table (const LensNet *net,
             const char    *path)
{
  guint n_layers = lens_net_get_n_layers (net);
  g_autofree char *input_shape = shape_text (lens_net_get_input_shape (net));
  g_autoptr(GPtrArray) shapes = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *params_text = NULL;
  g_autofree char *flops_text = NULL;
  guint64 total_params = 0;
  guint64 total_flops = 0;
  int name_width = (int) strlen ("layer");
  int op_width = (int) strlen ("op");
  int shape_width = (int) strlen ("output");
  double trace_mib;

  for (guint i = 0; i < n_layers; i++)
    {
      char *shape = shape_text (layer_shape (net, i));

      g_ptr_array_add (shapes, shape);
      name_width = MAX (name_width, (int) strlen (lens_net_layer_get_name (net, i)));
      op_width = MAX (op_width, (int) strlen (lens_net_layer_get_op (net, i)));
      shape_width = MAX (shape_width, (int) strlen (shape));
    }

  printf ("model: %s (%s)\n", lens_net_get_name (net), path);
  printf ("input: %s %s\n\n", lens_net_get_input_name (net), input_shape);
  printf ("%4s  %-*s  %-*s  %-*s  %12s  %16s\n", "#", name_width, "layer", op_width, "op",
          shape_width, "output", "params", "FLOPs");

  for (guint i = 0; i < n_layers; i++)
    {
      gsize params = lens_net_layer_get_n_params (net, i);
      guint64 flops = lens_net_layer_get_flops (net, i);

      total_params += params;
      total_flops += flops;
      printf ("%4u  %-*s  %-*s  %-*s  %12" G_GSIZE_FORMAT "  %16" G_GUINT64_FORMAT "\n", i,
              name_width, lens_net_layer_get_name (net, i),
              op_width, lens_net_layer_get_op (net, i),
              shape_width, (const char *) g_ptr_array_index (shapes, i),
              params, flops);
    }

  params_text = human_count (total_params);
  flops_text = human_count (total_flops);
  trace_mib = (double) lens_net_get_trace_bytes (net) / (1024.0 * 1024.0);

  printf ("\nlayers:            %u\n", n_layers);
  printf ("parameters:        %" G_GUINT64_FORMAT " (%s)\n", total_params, params_text);
  printf ("FLOPs (batch 1):   %" G_GUINT64_FORMAT " (%s)\n", total_flops, flops_text);
  printf ("activation memory: %.1f MiB (one trace, batch 1)\n", trace_mib);
}

int
lens_cli_info (int    argc,
               char **argv)
{
  LensCliCommon common = LENS_CLI_COMMON_INIT;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object instead of a table", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(LensNet) net = NULL;
  int status = LENS_CLI_EXIT_OK;

  context = lens_cli_context_new ("info", "MODEL",
                                  "List every layer of an ONNX model (op, output shape, "
                                  "parameters, FLOPs) and the totals.",
                                  entries, &common);
  if (!lens_cli_parse (context, "info", &common, &argc, &argv))
    status = LENS_CLI_EXIT_USAGE;
  else if (argc != 2)
    status = lens_cli_usage_error ("info", argc < 2 ? "missing MODEL"
                                   : "too many arguments (expected only MODEL)");
  else
    {
      lens_cli_apply_threads (&common);
      net = lens_cli_load_net (argv[1], &common, &status);
      if (net != NULL)
        {
          if (json)
            print_json (net, argv[1]);
          else
            print_table (net, argv[1]);
        }
    }

  lens_cli_common_clear (&common);
  return status;
}
