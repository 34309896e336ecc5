/* vae/cli/cmd_encode.c: `showervae encode`: amortised inference, the posterior of z for every shower. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "io/atomic.h"
#include "io/dataset.h"
#include "io/h5.h"
#include "io/writer.h"
#include "layers/ctx.h"
#include "base/status.h"
#include "vae/cli/cli.h"
#include "vae/infer.h"
#include "vae/encode.h"
#include "vae/modelio.h"
#include "vae/cli/progress.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: showervae encode -m MODEL.h5 -d DATA.h5 -o LATENTS.h5 [options]\n"
            "Write the posterior q(z | x, c) of every shower: datasets mu and sigma (N, Z) and\n"
            "incident_energies (N, 1); with --reconstruct also showers (N, V), decoded from z = mu.\n"
            "\n"
            "  -m, --model FILE    model file (required)\n"
            "  -d, --data FILE     showers to encode (required)\n"
            "  -o, --output FILE   output (required; never replaced unless --force)\n"
            "      --reconstruct   also write the reconstructions [off]\n"
            "  -f, --force         replace the output\n"
            "  -q, --quiet         no progress line\n"
            "  -h, --help          this text\n");
}

static int run(vae_infer_t *q, io_dataset_t *d, const phys_geometry_t *g, const char *model, const char *out,
               int recon, int force, int quiet)
{
    const vae_config_t *c = &q->cfg;
    const int V = c->V, Z = c->Z, B = q->max_n;
    io_writer_opts_t wo = io_writer_defaults();
    wo.producer = VAE_PRODUCER;
    wo.format = recon ? "showervae latents and reconstructions (mu, sigma, showers)" : "showervae latents (mu, sigma)";
    wo.force = force;
    wo.no_showers = !recon;
    if (!io_h5_threadsafe()) wo.threads = 0; /* the input is read while this file is written */
    wo.n_extra = 2;
    wo.extra_name[0] = "mu", wo.extra_name[1] = "sigma";
    wo.extra_cols[0] = wo.extra_cols[1] = Z;
    io_writer_t w;
    BASE_TRY(io_writer_open(&w, out, g, &wo));
    float *Ei = malloc((size_t)B * sizeof(float)), *X = malloc((size_t)B * V * sizeof(float));
    float *mu = malloc((size_t)B * Z * sizeof(float)), *sg = malloc((size_t)B * Z * sizeof(float));
    float *R = recon ? malloc((size_t)B * V * sizeof(float)) : NULL;
    int rc = Ei && X && mu && sg && (!recon || R) ? BASE_OK : base_error(BASE_ENOMEM, "out of memory");
    cli_progress_t p;
    cli_progress_start(&p, "encode", "showers", d->n, quiet);
    for (size_t f = 0; f < d->n && rc == BASE_OK; f += (size_t)B) {
        int k = d->n - f < (size_t)B ? (int)(d->n - f) : B;
        rc = io_dataset_read(d, f, (size_t)k, Ei, X);
        if (rc == BASE_OK) rc = vae_encode_showers(q, k, Ei, d->angles + f, X, f, mu, sg, R);
        const float *extra[2] = {mu, sg};
        if (rc == BASE_OK) rc = io_writer_append_ex(&w, Ei, R, extra, (size_t)k);
        cli_progress_update(&p, f + (size_t)k, NULL);
    }
    free(Ei), free(X), free(mu), free(sg), free(R);
    if (rc < 0) {
        io_writer_abort(&w);
        return rc;
    }
    cli_progress_end(&p, d->n);
    char *abs = realpath(d->path, NULL);
    rc = io_writer_attr_str(&w, "source", "showervae encode");
    if (rc == BASE_OK) rc = cli_model_provenance(&w, model);
    if (rc == BASE_OK) rc = io_writer_attr_str(&w, "data", abs ? abs : d->path);
    free(abs);
    if (rc < 0) {
        io_writer_abort(&w);
        return rc;
    }
    return io_writer_close(&w);
}

int cli_cmd_encode(int argc, char **argv)
{
    static const struct option lo[] = {{"model", 1, 0, 'm'}, {"data", 1, 0, 'd'}, {"output", 1, 0, 'o'},
                                       {"reconstruct", 0, 0, 'R'}, {"force", 0, 0, 'f'}, {"quiet", 0, 0, 'q'},
                                       {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL, *data = NULL, *out = NULL;
    int recon = 0, force = 0, quiet = 0, c;
    optind = 0; /* glibc: 0 resets getopt completely (1 can keep a pointer into an old argv) */
    while ((c = getopt_long(argc, argv, "m:d:o:fqh", lo, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'd': data = optarg; break;
        case 'o': out = optarg; break;
        case 'R': recon = 1; break;
        case 'f': force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: return cli_bad_option("encode", argv);
        }
    }
    if (optind < argc) return cli_err("encode", 2, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!model || !data || !out) return cli_err("encode", 2, "need -m MODEL, -d DATA and -o OUT (see --help)");
    if (io_atomic_not_input(out, model) < 0 || io_atomic_not_input(out, data) < 0) return cli_fail("encode");
    if (cli_parse_only) return 0;
    layer_ctx_t ctx;
    vae_model_t m;
    phys_geometry_t g;
    vae_infer_t q;
    io_dataset_t d;
    if (layer_ctx_init(&ctx) < 0) return cli_fail("encode");
    int rc = vae_model_load(&m, &g, model, &ctx, 0, NULL);
    if (rc == BASE_OK) {
        rc = io_dataset_open(&d, data, &g);
        if (rc == BASE_OK) {
            rc = vae_infer_init(&q, &m, &ctx, 256, LAYER_F32);
            if (rc == BASE_OK) rc = run(&q, &d, &g, model, out, recon, force, quiet);
            vae_infer_free(&q);
            io_dataset_close(&d);
        }
        vae_model_free(&m);
    }
    layer_ctx_free(&ctx);
    if (rc < 0) return cli_fail("encode");
    return 0;
}
