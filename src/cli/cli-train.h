/* cli-train.h: the training verbs of convlens-cli (cli-train.c, cli-evolution.c) */
#pragma once

G_BEGIN_DECLS

int lens_cli_train     (int    argc,
                        char **argv);
int lens_cli_evaluate  (int    argc,
                        char **argv);
int lens_cli_evolution (int    argc,
                        char **argv);

G_END_DECLS
