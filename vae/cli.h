/* vae/cli.h: the commands of the showervae program and helpers they share.
 *
 * Every command is `int cmd_NAME(int argc, char **argv)` with argv[0] the command name; it
 * returns the process exit status: 0 success, 1 runtime failure, 2 usage error. Errors are one
 * line on stderr: "showervae NAME: <message>".
 */
#ifndef VAE_CLI_H
#define VAE_CLI_H

#include <stdint.h>

int cmd_simulate(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_encode(int argc, char **argv);

/* Prints "showervae CMD: message" for the last library error and returns 1. */
int cli_fail(const char *cmd);
/* Prints "showervae CMD: <formatted>" and returns code. */
int cli_err(const char *cmd, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parsers; each returns 0 or prints a usage error and returns 2. */
int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *v);
int cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *v);
int cli_parse_double(const char *cmd, const char *opt, const char *s, double *v);
/* "LO:HI" with 0 < LO < HI. */
int cli_parse_range(const char *cmd, const char *opt, const char *s, double *lo, double *hi);
/* "a,b,c" of positive numbers into list (at most max); *n receives the count. */
int cli_parse_list(const char *cmd, const char *opt, const char *s, double *list, int max, int *n);

#endif
