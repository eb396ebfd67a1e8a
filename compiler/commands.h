/* commands.h — the CLI's commands (main.c dispatches). Each returns the process exit code:
 * 0 success, 1 user error (with a message), 2 usage error. */
#ifndef HN_COMMANDS_H
#define HN_COMMANDS_H

#include "driver.h"

int hn_cmd_check(int argc, char **argv);
int hn_cmd_compile(int argc, char **argv);
int hn_cmd_infer(int argc, char **argv);
int hn_cmd_ops(int argc, char **argv);
int hn_cmd_compare(int argc, char **argv);
int hn_cmd_eval(int argc, char **argv);
int hn_cmd_import(int argc, char **argv);
int hn_cmd_convert(int argc, char **argv);
int hn_cmd_convert_iaformer(int argc, char **argv);   /* hepnc convert iaformer (cmd_convert_iaformer.c) */
int hn_cmd_bench(int argc, char **argv);
int hn_cmd_gradcheck(int argc, char **argv);
int hn_cmd_train(int argc, char **argv);
int hn_cmd_split(int argc, char **argv);

/* Prints "hepnc CMD: error: …" and the command's usage line; returns 2. */
int hn_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hn_print_help(const char *cmd);

#endif
