/* vae/cli/main.c: the showervae command-line program.
 *
 * Usage: showervae COMMAND [options]; `showervae --help` lists the commands and
 * `showervae COMMAND --help` the options of one, each with its default.
 * Exit status: 0 on success, 1 on a runtime failure, 2 on a usage error.
 */
#include "io/h5.h"
#include "layers/ctx.h"
#include "base/status.h"
#include "vae/cli/cli.h"
#include "vae/cli/mpi.h"
#include "vae/showervae.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "showervae %s: learn calorimeter showers with a conditional VAE, generate them fast\n"
            "\n"
            "usage: showervae COMMAND [options]\n"
            "\n"
            "commands:\n"
            "  simulate   simulate showers with the built-in GFLASH simulator into an HDF5 file\n"
            "  inspect    describe and check a shower file or a model file\n"
            "  train      train a conditional VAE on a shower file\n"
            "  fit-prior  fit (or refit) a model's learned prior to a shower file\n"
            "  generate   generate showers from a trained model\n"
            "  encode     write the posterior of z for every shower of a file\n"
            "  export     write a model's decoder as ONNX for Geant4's Par04 (ONNX Runtime)\n"
            "  evaluate   compare generated with reference showers (CaloChallenge metrics, report)\n"
            "  info       print the version, the CPU ISA oneDNN uses and the thread count\n"
            "\n"
            "options:\n"
            "  -h, --help     this text (COMMAND --help: the options of COMMAND)\n"
            "  -V, --version  print the version\n"
            "\n"
            "Threads: OMP_NUM_THREADS (default: all cores).\n",
            vae_version());
}

static int cmd_info(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: showervae info\n  prints version, oneDNN version, CPU ISA and threads "
               "(no options)\n");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "showervae info: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    layer_ctx_t ctx;
    if (layer_ctx_init(&ctx) != BASE_OK) {
        fprintf(stderr, "showervae info: %s\n", base_last_error());
        return 1;
    }
    const dnnl_version_t *v = dnnl_version();
    printf("showervae %s\noneDNN    %d.%d.%d\nisa       %s\nthreads   %d\n", vae_version(),
           v->major, v->minor, v->patch, layer_isa_name(), layer_threads());
    layer_ctx_free(&ctx);
    return 0;
}

static int dispatch(int argc, char **argv);

int main(int argc, char **argv)
{
    io_h5_init(); /* before any HDF5 call: no HDF5 clean-up at exit (io/h5.h) */
    if (cli_mpi_start(&argc, &argv) < 0) {
        fprintf(stderr, "showervae: %s\n", base_last_error());
        return 1;
    }
    int rc = dispatch(argc, argv);
    cli_mpi_end(rc);
    return rc;
}

static int dispatch(int argc, char **argv)
{
    opterr = 0;               /* option errors are reported with the program's prefix */
    signal(SIGXFSZ, SIG_IGN); /* a file-size limit is a write error (EFBIG), not a kill */
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("showervae %s\n", vae_version());
        return 0;
    }
    if (strcmp(cmd, "info") == 0) return cmd_info(argc - 1, argv + 1);
    if (strcmp(cmd, "simulate") == 0) return cli_cmd_simulate(argc - 1, argv + 1);
    if (strcmp(cmd, "inspect") == 0) return cli_cmd_inspect(argc - 1, argv + 1);
    if (strcmp(cmd, "train") == 0) return cli_cmd_train(argc - 1, argv + 1);
    if (strcmp(cmd, "fit-prior") == 0) return cli_cmd_fit_prior(argc - 1, argv + 1);
    if (strcmp(cmd, "generate") == 0) return cli_cmd_generate(argc - 1, argv + 1);
    if (strcmp(cmd, "encode") == 0) return cli_cmd_encode(argc - 1, argv + 1);
    if (strcmp(cmd, "export") == 0) return cli_cmd_export(argc - 1, argv + 1);
    if (strcmp(cmd, "evaluate") == 0) return cli_cmd_evaluate(argc - 1, argv + 1);
    fprintf(stderr, "showervae: unknown command '%s' (try showervae --help)\n", cmd);
    return 2;
}
