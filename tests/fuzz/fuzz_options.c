/* tests/fuzz/fuzz_options.c: every command's option parser (vae/cli) on arbitrary argument
 * vectors. The input's first byte picks the command, the rest is split at NUL and newline
 * bytes into at most 24 arguments; cli_parse_only makes a command return once its options
 * are parsed and checked, before it touches a file. */
#include "tests/fuzz/fuzz.h"
#include "vae/cli/cli.h"

typedef int (*cmd_fn)(int, char **);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    static const cmd_fn cmds[] = {cli_cmd_simulate, cli_cmd_inspect, cli_cmd_train, cli_cmd_generate,
                                  cli_cmd_fit_prior, cli_cmd_encode, cli_cmd_evaluate, cli_cmd_export};
    static const char *names[] = {"simulate", "inspect", "train", "generate", "fit-prior", "encode", "evaluate", "export"};
    if (n < 1 || n > 4096) return 0;
    cli_parse_only = 1;
    int k = data[0] % 8;
    char *buf = malloc(n), *argv[26];
    memcpy(buf, data + 1, n - 1);
    buf[n - 1] = 0;
    int argc = 0;
    argv[argc++] = (char *)names[k];
    for (size_t i = 0, start = 0; i < n && argc < 25; i++) {
        if (i == n - 1 || buf[i] == 0 || buf[i] == '\n') {
            buf[i] = 0;
            argv[argc++] = buf + start;
            start = i + 1;
        }
    }
    argv[argc] = NULL;
    int rc = cmds[k](argc, argv);
    if (rc != 0 && rc != 1 && rc != 2) abort(); /* exit statuses are 0, 1 or 2 */
    free(buf);
    return 0;
}
