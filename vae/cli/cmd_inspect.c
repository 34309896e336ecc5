/* vae/cli/cmd_inspect.c: `showervae inspect FILE`: what a shower file holds, checked end to end. */
#include "io/dataset.h"
#include "io/h5.h"
#include "io/modelfile.h"
#include "layers/ctx.h"
#include "vae/modelio.h"
#include "base/status.h"
#include "physics/geometry.h"
#include "vae/cli/cli.h"
#include "vae/cli/progress.h"

#include <math.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: showervae inspect FILE [options]\n"
            "Describe a model or checkpoint file (configuration, size, training state; every tensor\n"
            "is read and checked), or a shower file (CaloChallenge or Par04 layout): layout, N, voxels, geometry,\n"
            "energy range, mean sparsity and E_tot/E_inc; every shower is read and checked, and\n"
            "any problem (NaN/Inf, negative energies, shape mismatch) is reported with exit status 1.\n"
            "\n"
            "  -g, --geometry G   expected geometry: ds1-photons, ds1-pions, ds2, ds3 or a .xml\n"
            "                     [inferred from the voxel count or the file's attribute]\n"
            "  -q, --quiet        no progress line\n"
            "  -h, --help         this text\n");
}

/* Prints the root attributes that are one string or one integer (io/h5.h checks the class
 * and the size; other shapes are named, not read). */
static herr_t print_attr(hid_t loc, const char *name, const H5A_info_t *info, void *op)
{
    (void)info;
    (void)op;
    long long v;
    char *s = io_h5_get_str(loc, name);
    if (s) printf("  attribute  %s = %.511s\n", name, s); /* long JSON cut */
    else if (io_h5_get_int_attr(loc, name, &v) == 1) printf("  attribute  %s = %lld\n", name, v);
    else printf("  attribute  %s (not one string or integer: not shown)\n", name);
    free(s);
    return 0;
}

/* Reads every shower: mean sparsity (fraction of zero voxels) and mean E_tot/E_inc. */
static int scan(io_dataset_t *d, int quiet, double *sparsity, double *ratio)
{
    const size_t B = d->block_rows, V = (size_t)d->V;
    float *E = malloc(B * sizeof *E), *X = malloc(B * V * sizeof *X);
    if (!E || !X) {
        free(E), free(X);
        return base_error(BASE_ENOMEM, "out of memory");
    }
    cli_progress_t p;
    cli_progress_start(&p, "inspect", "showers", d->n, quiet);
    double zeros = 0, r = 0;
    int rc = BASE_OK;
    for (size_t first = 0; first < d->n && rc == BASE_OK; first += B) {
        size_t k = d->n - first < B ? d->n - first : B;
        rc = io_dataset_read(d, first, k, E, X);
        for (size_t i = 0; rc == BASE_OK && i < k; i++) {
            double et = 0;
            size_t z = 0;
            for (size_t v = 0; v < V; v++) {
                et += X[i * V + v];
                z += X[i * V + v] == 0.f;
            }
            zeros += (double)z / V;
            r += et / E[i];
        }
        cli_progress_update(&p, first + k, NULL);
    }
    if (rc == BASE_OK && !quiet && p.tty) fprintf(stderr, "\r\033[K");
    *sparsity = zeros / d->n;
    *ratio = r / d->n;
    free(E);
    free(X);
    return rc;
}

/* A model or checkpoint file: its configuration, size and training state. */
static int inspect_model(const char *file)
{
    layer_ctx_t ctx;
    vae_model_t m;
    phys_geometry_t g;
    vae_train_state_t st;
    if (layer_ctx_init(&ctx) < 0) return cli_fail("inspect");
    int ckpt = 0;
    io_model_t f;
    if (io_model_open(&f, file) == BASE_OK) {
        ckpt = io_model_has(&f, "/state/adam_m");
        io_model_close(&f);
    }
    if (vae_model_load(&m, &g, file, &ctx, 0, ckpt ? &st : NULL) < 0) {
        layer_ctx_free(&ctx);
        return cli_fail("inspect");
    }
    const vae_config_t *c = &m.cfg;
    printf("%s: showervae %s\n", file, ckpt ? "checkpoint" : "model");
    printf("  preset     %s\n  geometry   %s (%d voxels)\n", c->name, g.name, c->V);
    printf("  encoder    %d", c->V + m.E);
    for (int i = 0; i < c->n_enc; i++) printf("-%d", c->enc[i]);
    printf(" -> latent %d (mean, log-variance)\n  decoder    %d", c->Z, c->Z + m.E);
    for (int i = 0; i < c->n_dec; i++) printf("-%d", c->dec[i]);
    printf("-%d (%s likelihood)\n", m.O, vae_likelihood_name(c->lik));
    if (c->lik == VAE_LIK_HURDLE)
        printf("  hits       x >= %.4g MeV; energy as %s (p = %.3f)\n", c->threshold_mev,
               c->hit_power > 0 ? "((x/thr)^p - 1)/p" : "ln(x/thr)", c->hit_power);
    printf("  layers     %s (alpha %g)%s%s\n", layer_act_name(c->act.kind), c->act.alpha,
           c->batch_norm ? (c->bn_after_act ? ", batch norm after the activation" : ", batch norm before the activation")
                         : "",
           c->dropout > 0 ? ", dropout" : "");
    printf("  training   batch %d, lr %g, KL weight %g, free bits %g nats, KL warm-up %d steps\n", c->batch, c->lr,
           c->beta, c->free_bits, c->kl_warmup_steps);
    printf("  conditions %d inputs (%s%s%s%s); energy range %.4g .. %.4g GeV; angle range %g .. %g deg; %s\n", m.E,
           c->conditions & VAE_COND_LOG_ENERGY ? "ln energy" : "", c->conditions & VAE_COND_ENERGY ? "energy" : "",
           c->conditions & VAE_COND_ANGLE ? ", angle" : "", c->conditions & VAE_COND_GEOMETRY ? ", material one-hot" : "",
           c->e_min_mev * 1e-3, c->e_max_mev * 1e-3, c->angle_min, c->angle_max, c->material);
    printf("  parameters %zu (arena floats, with alignment padding)\n", m.A.n);
    if (m.prior.K > 0)
        printf("  prior      learned: %d-component mixture of (ln E, %sz, %d layer energies, total)%s\n", m.prior.K,
               m.prior.C > 1 ? "angle, " : "",
               m.prior.L, m.prior.marg.B > 0 ? " after a marginal flow" : " (Box-Cox coordinates, no flow)");
    if (m.prior.marg.B > 0)
        printf("  flow       %d energy bins, %d knots per coordinate\n", m.prior.marg.B, m.prior.marg.M);
    else
        printf("  prior      standard normal%s\n", c->prior_k > 0 ? " (a learned prior is configured but not fitted: "
                                                                  "showervae fit-prior)" : "");
    if (ckpt)
        printf("  state      step %lld, epoch %lld (+%lld batches), best validation ELBO %.3f, seed %llu\n",
               (long long)st.step, (long long)st.epoch, (long long)st.batch_in_epoch, st.best_val,
               (unsigned long long)st.seed);
    printf("  checked    every tensor present, shapes match the config, checksums verified\n");
    vae_model_free(&m);
    layer_ctx_free(&ctx);
    return 0;
}

int cli_cmd_inspect(int argc, char **argv)
{
    static const struct option lo[] = {{"geometry", 1, 0, 'g'}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *file = NULL, *geo_arg = NULL;
    int quiet = 0, c;
    optind = 0; /* glibc: 0 resets getopt completely (1 can keep a pointer into an old argv) */
    while ((c = getopt_long(argc, argv, "g:qh", lo, NULL)) != -1) {
        switch (c) {
        case 'g': geo_arg = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: return cli_bad_option("inspect", argv);
        }
    }
    if (optind < argc) file = argv[optind++];
    if (optind < argc) return cli_err("inspect", 2, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!file) return cli_err("inspect", 2, "no file given (see --help)");
    if (cli_parse_only) return 0;
    if (io_model_is_model(file)) return inspect_model(file);
    phys_geometry_t g;
    if (geo_arg && phys_geometry_from_arg(&g, geo_arg) < 0) return cli_fail("inspect");
    io_dataset_t d;
    if (io_dataset_open(&d, file, geo_arg ? &g : NULL) < 0) return cli_fail("inspect");
    double emin = INFINITY, emax = 0;
    for (size_t i = 0; i < d.n; i++) {
        emin = fmin(emin, d.energies[i]);
        emax = fmax(emax, d.energies[i]);
    }
    const char *match = phys_geometry_match(&d.geo);
    printf("%s: shower dataset\n", file);
    printf("  layout     %s\n", io_layout_name(d.layout));
    printf("  showers    %zu\n", d.n);
    printf("  voxels     %d per shower", d.V);
    if (d.layout != IO_LAYOUT_CALOCHALLENGE)
        printf(" (R %d x PHI %d x Z %d, converted to CaloChallenge order)", d.par04_dims[0],
               d.par04_dims[1], d.par04_dims[2]);
    printf("\n  geometry   %s (%d layers%s%s)\n", d.geo.name, d.geo.n_layers,
           *match ? ", binning of " : ", matches no preset", match);
    printf("  energies   %.4g .. %.4g GeV\n", emin * 1e-3, emax * 1e-3);
    H5Aiterate2(d.file, H5_INDEX_NAME, H5_ITER_INC, NULL, print_attr, NULL);
    double sparsity = 0, ratio = 0;
    int rc = scan(&d, quiet, &sparsity, &ratio);
    if (rc < 0) {
        printf("  problem    %s\n", base_last_error());
        io_dataset_close(&d);
        return cli_fail("inspect");
    }
    printf("  sparsity   %.4f (mean fraction of empty voxels)\n", sparsity);
    printf("  E_tot/E_inc %.4f (mean)\n", ratio);
    printf("  checked    all %zu showers: finite, non-negative\n", d.n);
    io_dataset_close(&d);
    return 0;
}
