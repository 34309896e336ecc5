/* vae/cmd_encode.c: `showervae encode`: amortised inference, the posterior of z for every shower. */
#include "io/dataset.h"
#include "io/writer.h"
#include "layers/ctx.h"
#include "layers/status.h"
#include "vae/cli.h"
#include "vae/infer.h"
#include "vae/lik.h"
#include "vae/modelio.h"
#include "vae/progress.h"

#include <math.h>
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

static int run(vae_infer_t *q, io_dataset_t *d, const phys_geometry_t *g, const char *out, int recon, int force,
               int quiet)
{
    const vae_config_t *c = &q->cfg;
    const int V = c->V, Z = c->Z, E = q->E, B = q->max_n;
    io_writer_opts_t wo = io_writer_defaults();
    wo.force = force;
    wo.no_showers = !recon;
    if (!io_h5_threadsafe()) wo.threads = 0; /* the input is read while this file is written */
    wo.n_extra = 2;
    wo.extra_name[0] = "mu", wo.extra_name[1] = "sigma";
    wo.extra_cols[0] = wo.extra_cols[1] = Z;
    io_writer_t w;
    LAYER_TRY(io_writer_open(&w, out, g, &wo));
    float *Ei = malloc((size_t)B * sizeof(float)), *X = malloc((size_t)B * V * sizeof(float));
    float *in = malloc((size_t)B * (V + E) * sizeof(float)), *mu = malloc((size_t)B * Z * sizeof(float));
    float *sg = malloc((size_t)B * Z * sizeof(float)), *R = recon ? malloc((size_t)B * V * sizeof(float)) : NULL;
    int rc = Ei && X && in && mu && sg && (!recon || R) ? LAYER_OK : layer_error(LAYER_ENOMEM, "out of memory");
    vae_progress_t p;
    vae_progress_start(&p, "encode", "showers", d->n, quiet);
    for (size_t f = 0; f < d->n && rc == LAYER_OK; f += (size_t)B) {
        int k = d->n - f < (size_t)B ? (int)(d->n - f) : B;
        rc = io_dataset_read(d, f, (size_t)k, Ei, X);
        if (rc < 0) break;
        vae_prep_encoder_input(c, k, Ei, X, in, V + E);
        vae_prep_conditions(c, k, Ei, in + V, V + E);
        rc = vae_infer_encode(q, k, in, mu, sg);
        for (size_t j = 0; j < (size_t)k * Z; j++) sg[j] = expf(0.5f * sg[j]); /* sigma = exp(lv / 2) */
        if (rc == LAYER_OK && recon) { /* decode z = mu */
            for (int i = 0; i < k; i++) {
                memcpy(q->dec_in + (size_t)i * (Z + E), mu + (size_t)i * Z, (size_t)Z * sizeof(float));
                memcpy(q->dec_in + (size_t)i * (Z + E) + Z, in + (size_t)i * (V + E) + V, (size_t)E * sizeof(float));
            }
            rc = vae_infer_decode(q, k);
            if (rc == LAYER_OK) vae_lik_generate(c, k, q->out, Ei, 1, f, R);
        }
        const float *extra[2] = {mu, sg};
        if (rc == LAYER_OK) rc = io_writer_append_ex(&w, Ei, R, extra, (size_t)k);
        vae_progress_update(&p, f + (size_t)k, NULL);
    }
    free(Ei), free(X), free(in), free(mu), free(sg), free(R);
    if (rc < 0) {
        io_writer_abort(&w);
        return rc;
    }
    vae_progress_end(&p, d->n);
    return io_writer_close(&w);
}

int cmd_encode(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL;
    int recon = 0, force = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && i + 1 < argc) model = argv[++i];
        else if ((!strcmp(a, "-d") || !strcmp(a, "--data")) && i + 1 < argc) data = argv[++i];
        else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && i + 1 < argc) out = argv[++i];
        else if (!strcmp(a, "--reconstruct")) recon = 1;
        else if (!strcmp(a, "-f") || !strcmp(a, "--force")) force = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) quiet = 1;
        else return cli_err("encode", 2, "unexpected argument '%s' (see --help)", a);
    }
    if (!model || !data || !out) return cli_err("encode", 2, "need -m MODEL, -d DATA and -o OUT (see --help)");
    layer_ctx_t ctx;
    vae_model_t m;
    phys_geometry_t g;
    vae_infer_t q;
    io_dataset_t d;
    if (layer_ctx_init(&ctx) < 0) return cli_fail("encode");
    int rc = vae_model_load(&m, &g, model, &ctx, 0, NULL);
    if (rc == LAYER_OK) {
        rc = io_dataset_open(&d, data, &g);
        if (rc == LAYER_OK) {
            rc = vae_infer_init(&q, &m, &ctx, 256, LAYER_F32);
            if (rc == LAYER_OK) rc = run(&q, &d, &g, out, recon, force, quiet);
            vae_infer_free(&q);
            io_dataset_close(&d);
        }
        vae_model_free(&m);
    }
    layer_ctx_free(&ctx);
    if (rc < 0) return cli_fail("encode");
    return 0;
}
