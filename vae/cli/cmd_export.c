/* vae/cli/cmd_export.c: `showervae export --onnx`: a model's decoder as an ONNX file for
 * Geant4's Par04 inference (vae/export/onnx.h). */
#include "base/status.h"
#include "io/atomic.h"
#include "vae/cli/cli.h"
#include "vae/export/onnx.h"
#include "vae/modelio.h"

#include <getopt.h>
#include <stdio.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: showervae export -m MODEL.h5 --onnx OUT.onnx [options]\n"
            "Write the model's decoder as an ONNX file that Geant4's Par04 example runs with ONNX Runtime\n"
            "(Par04OnnxInference). Input \"input\" (N, Z + 4): [z ~ N(0, I) drawn by the caller,\n"
            "E / 1024 GeV, angle / 90 deg, geometry one-hot (SiW = 0, 1)], as Par04InferenceSetup builds\n"
            "it; output \"output\" (N, voxels): E_cell / E_inc, which Par04 multiplies by the energy, in\n"
            "Par04's voxel order (r, phi, z) on a regular grid. Bernoulli models (the par04 preset)\n"
            "export as is; other likelihoods need --raw. The learned prior is not in the file.\n"
            "\n"
            "  -m, --model FILE         model file (required)\n"
            "      --onnx FILE          the ONNX file to write (required; never replaced unless --force)\n"
            "      --raw                output the decoder's likelihood parameters (any likelihood) in\n"
            "                           the model's order instead of energy fractions [off]\n"
            "  -f, --force              replace FILE if it exists\n"
            "  -q, --quiet              no summary line\n"
            "  -h, --help               this text\n");
}

int cli_cmd_export(int argc, char **argv)
{
    static const struct option lo[] = {{"model", 1, 0, 'm'}, {"onnx", 1, 0, 'O'}, {"raw", 0, 0, 'R'},
                                       {"force", 0, 0, 'f'}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
    const char *C = "export", *model = NULL, *out = NULL;
    int c, raw = 0, force = 0, quiet = 0;
    optind = 0; /* glibc: 0 resets getopt completely (1 can keep a pointer into an old argv) */
    while ((c = getopt_long(argc, argv, "m:fqh", lo, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'O': out = optarg; break;
        case 'R': raw = 1; break;
        case 'f': force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: return cli_bad_option(C, argv);
        }
    }
    if (optind < argc) return cli_err(C, 2, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!model || !out) return cli_err(C, 2, "need -m MODEL and --onnx OUT (see --help)");
    if (io_atomic_not_input(out, model) < 0) return cli_fail(C);
    if (cli_parse_only) return 0;
    layer_ctx_t ctx;
    vae_model_t m;
    phys_geometry_t g;
    vae_infer_t q;
    int par04 = 0;
    if (layer_ctx_init(&ctx) < 0) return cli_fail(C);
    int rc = vae_model_load(&m, &g, model, &ctx, 0, NULL);
    if (rc == BASE_OK) {
        rc = vae_infer_init(&q, &m, &ctx, 0, LAYER_F32);
        if (rc == BASE_OK) {
            rc = vae_export_onnx(&q, &g, out, raw, force, &par04);
            vae_infer_free(&q);
        }
        if (rc == BASE_OK && !quiet)
            fprintf(stderr, "showervae export: wrote %s: input (N, %d) [z, E/1024 GeV, angle/90, one-hot], output "
                    "(N, %d) %s%s\n", out, m.cfg.Z + 4, vae_config_n_out(&m.cfg),
                    raw ? "likelihood parameters" : "E_cell/E_inc",
                    raw ? "" : par04 ? " in Par04's order (r, phi, z)" : " in the CaloChallenge order (irregular grid)");
        vae_model_free(&m);
    }
    layer_ctx_free(&ctx);
    return rc < 0 ? cli_fail(C) : 0;
}
