/* vae/cli/cmd_generate.c: `showervae generate`: showers in the CaloChallenge layout, streamed in
 * batches, atomically. */
#include "io/dataset.h"
#include "io/writer.h"
#include "layers/ctx.h"
#include "base/status.h"
#include "io/atomic.h"
#include "base/limits.h"
#include "physics/simulate.h"
#include "vae/cli/cli.h"
#include "vae/cli/mpi.h"
#include "vae/cli/shard.h"
#include "vae/generate.h"
#include "vae/modelio.h"
#include "vae/cli/progress.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: showervae generate -m MODEL.h5 -o OUT.h5 [energies] [options]\n"
            "Generate showers conditioned on incident energy into a CaloChallenge-layout file\n"
            "(incident_energies and showers in MeV, readout threshold applied).\n"
            "\n"
            "  -m, --model FILE         model file (required)\n"
            "  -o, --output FILE        output (required; never replaced unless --force)\n"
            "  -n, --n N                number of showers [10000; with --energies-from: that file's N]\n"
            "  -e, --energy LO:HI       energies log-uniform in [LO, HI] GeV [the model's training range]\n"
            "  -l, --energy-list a,b,.. energies drawn uniformly from this list (GeV)\n"
            "      --energies-from F    the incident energies (and angles, when it has them) of a\n"
            "                           shower file, in its order\n"
            "  -a, --angle A            incident angle in degrees (Par04's theta, 90 = normal\n"
            "                           incidence): A fixed, LO:HI uniform, or a,b,c drawn uniformly;\n"
            "                           written as incident_theta (radians) [90, or the --energies-from\n"
            "                           file's angles]; outside the model's range: a warning\n"
            "  -s, --seed S             seed; the same seed gives the same file [1]\n"
            "  -b, --batch B            showers per write [10000]\n"
            "      --mc-dropout K       K dropout passes per shower: writes showers = per-voxel mean and\n"
            "                           showers_std (models trained with --dropout) [0: off]\n"
            "      --deflate L          zlib level 0-9 [4]\n"
            "      --write-threads T    threads compressing and writing while generation goes on\n"
            "                           [one per CPU; 0: HDF5's own filter, on the generating thread]\n"
            "      --precision P        decoder arithmetic: f32, bf16 (CPUs with AVX512-BF16; falls back\n"
            "                           to f32 elsewhere, saying so) or bf16-emulated (oneDNN's bf16\n"
            "                           emulation on other AVX-512 CPUs) [f32]\n"
            "      --prior P            where z and the shower energies come from: learned (the model's\n"
            "                           prior p(z, layer energies | E), fitted after training) or\n"
            "                           standard (z ~ N(0, I), energies from the decoder alone)\n"
            "                           [learned when the model has one, else standard]\n"
            "  -f, --force              replace OUT.h5\n"
            "  -q, --quiet              no progress line\n"
            "  -h, --help               this text\n"
            "Under mpirun (or srun) each rank makes a contiguous share of the showers and rank 0 joins\n"
            "them into one file, bit-identical to one process (README, Many machines: MPI).\n");
}

typedef struct {
    const char *model, *out, *from;
    uint64_t n, seed;
    cli_energy_t en;
    cli_angle_t an;
    int force, quiet, standard_prior;
    long batch, mc, deflate, threads;
    vae_prec_request_t prec;
} opts_t;

static int parse(int argc, char **argv, opts_t *o)
{
    static const struct option lo[] = {
        {"model", 1, 0, 'm'}, {"output", 1, 0, 'o'}, {"n", 1, 0, 'n'}, {"energy", 1, 0, 'e'},
        {"energy-list", 1, 0, 'l'}, {"energies-from", 1, 0, 'F'}, {"angle", 1, 0, 'a'}, {"seed", 1, 0, 's'}, {"batch", 1, 0, 'b'},
        {"mc-dropout", 1, 0, 'K'}, {"deflate", 1, 0, 'D'}, {"force", 0, 0, 'f'}, {"quiet", 0, 0, 'q'},
        {"write-threads", 1, 0, 'T'}, {"precision", 1, 0, 'P'}, {"prior", 1, 0, 'R'}, {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    *o = (opts_t){.n = 0, .seed = 1, .batch = 10000, .deflate = 4, .threads = io_writer_defaults().threads};
    const char *C = "generate";
    int c, rc = 0;
    optind = 0; /* glibc: 0 resets getopt completely (1 can keep a pointer into an old argv) */
    while (!rc && (c = getopt_long(argc, argv, "m:o:n:e:l:a:s:b:fqh", lo, NULL)) != -1) {
        switch (c) {
        case 'm': o->model = optarg; break;
        case 'o': o->out = optarg; break;
        case 'n':
            rc = cli_parse_u64(C, "--n", optarg, &o->n);
            if (!rc && (o->n < 1 || o->n > BASE_MAX_SHOWERS))
                rc = cli_err(C, 2, "--n %s: must be in [1, %llu]", optarg, BASE_MAX_SHOWERS);
            break;
        case 'e': rc = cli_energy_parse(C, optarg, 0, &o->en); break;
        case 'l': rc = cli_energy_parse(C, optarg, 1, &o->en); break;
        case 'F': o->from = optarg; break;
        case 'a': rc = cli_angle_parse(C, optarg, 1e-3, 179.999, &o->an); break;
        case 's': rc = cli_parse_u64(C, "--seed", optarg, &o->seed); break;
        case 'b': rc = cli_parse_int(C, "--batch", optarg, 1, 10000000, &o->batch); break;
        case 'K': rc = cli_parse_int(C, "--mc-dropout", optarg, 0, 10000, &o->mc); break;
        case 'D': rc = cli_parse_int(C, "--deflate", optarg, 0, 9, &o->deflate); break;
        case 'T': rc = cli_parse_int(C, "--write-threads", optarg, 0, 256, &o->threads); break;
        case 'P':
            if (!strcmp(optarg, "f32")) o->prec = VAE_PREC_F32;
            else if (!strcmp(optarg, "bf16")) o->prec = VAE_PREC_BF16;
            else if (!strcmp(optarg, "bf16-emulated")) o->prec = VAE_PREC_BF16_EMULATED;
            else rc = cli_err(C, 2, "--precision '%s': use f32, bf16 or bf16-emulated", optarg);
            break;
        case 'R':
            if (!strcmp(optarg, "learned") || !strcmp(optarg, "standard")) o->standard_prior = !strcmp(optarg, "standard");
            else rc = cli_err(C, 2, "--prior '%s': use learned or standard", optarg);
            break;
        case 'f': o->force = 1; break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout); return -1;
        default: return cli_bad_option(C, argv);
        }
    }
    if (rc) return rc;
    if (optind < argc) return cli_err(C, 2, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!o->model || !o->out) return cli_err(C, 2, "need -m MODEL and -o OUT (see --help)");
    if ((o->en.have_range != 0) + (o->en.n_list != 0) + (o->from != NULL) > 1)
        return cli_err(C, 2, "give one of --energy, --energy-list, --energies-from");
    if (o->mc && o->prec != VAE_PREC_F32) return cli_err(C, 2, "--mc-dropout runs in f32 only");
    if (io_atomic_not_input(o->out, o->model) < 0 || (o->from && io_atomic_not_input(o->out, o->from) < 0))
        return cli_fail(C);
    return 0;
}

/* Conditioning outside the training data's energies or angles is extrapolation: say so. */
static void warn_range(const vae_config_t *c, const float *E, const float *A, uint64_t n)
{
    uint64_t out = 0, aout = 0;
    for (uint64_t i = 0; i < n; i++) {
        out += E[i] < c->e_min_mev / 1.05 || E[i] > c->e_max_mev * 1.05;
        aout += A[i] < c->angle_min - 0.5 || A[i] > c->angle_max + 0.5;
    }
    if (out)
        fprintf(stderr, "showervae generate: warning: %llu of %llu energies lie outside the model's training range "
                "%.4g..%.4g GeV (extrapolation: showers there are not validated)\n", (unsigned long long)out,
                (unsigned long long)n, c->e_min_mev * 1e-3, c->e_max_mev * 1e-3);
    if (aout)
        fprintf(stderr, "showervae generate: warning: %llu of %llu angles lie outside the model's training range "
                "%g..%g deg (%s)\n", (unsigned long long)aout, (unsigned long long)n, c->angle_min, c->angle_max,
                c->conditions & VAE_COND_ANGLE ? "extrapolation: showers there are not validated"
                                               : "the model is not conditioned on the angle: they are ignored");
}

/* Incident energies (MeV) and angles (deg) of all n showers; *angled: the output states its
 * angles (given, or from a file that has them). */
static int conditions(const opts_t *o, const vae_config_t *c, float **E, float **A, uint64_t *n, int *angled)
{
    *angled = cli_angle_given(&o->an);
    if (o->from) {
        io_dataset_t d;
        BASE_TRY(io_dataset_open(&d, o->from, NULL));
        *n = o->n ? (o->n < d.n ? o->n : d.n) : d.n;
        *E = malloc(*n * sizeof **E);
        *A = malloc(*n * sizeof **A);
        if (*E && *A) memcpy(*E, d.energies, *n * sizeof **E), memcpy(*A, d.angles, *n * sizeof **A);
        if (!*angled) *angled = d.has_angles;
        io_dataset_close(&d);
        if (!*E || !*A) return base_error(BASE_ENOMEM, "out of memory");
        if (!cli_angle_given(&o->an)) return BASE_OK;
    } else {
        *n = o->n ? o->n : 10000;
        *E = malloc(*n * sizeof **E);
        *A = malloc(*n * sizeof **A);
    }
    double *tmp = malloc(*n * sizeof *tmp);
    if (!tmp || !*E || !*A) {
        free(tmp);
        return base_error(BASE_ENOMEM, "out of memory for %llu energies", (unsigned long long)*n);
    }
    if (!o->from) {
        cli_energy_draw(&o->en, tmp, *n, o->seed, 0, c->e_min_mev, c->e_max_mev);
        for (uint64_t i = 0; i < *n; i++) (*E)[i] = (float)tmp[i];
    }
    cli_angle_draw(&o->an, tmp, *n, o->seed, 0);
    for (uint64_t i = 0; i < *n; i++) (*A)[i] = (float)tmp[i];
    free(tmp);
    return BASE_OK;
}

/* Showers into w in batches: batch k is compressed and written (io_writer_append_async) while
 * batch k + 1 is generated into the other buffer; MC dropout writes synchronously. */
static int generate_into(const opts_t *o, vae_infer_t *q, io_writer_t *w, const float *E, const float *A, int angled,
                         uint64_t lo, uint64_t hi, float *const X[2], float *S)
{
    const size_t B = (size_t)o->batch;
    cli_progress_t p;
    cli_progress_start(&p, "generate", "showers", hi - lo, o->quiet || cli_mpi_rank() > 0);
    int rc = BASE_OK, b = 0;
    for (uint64_t f = lo; f < hi && rc == BASE_OK; f += B, b ^= 1) {
        size_t k = hi - f < B ? (size_t)(hi - f) : B;
        float *th = X[2]; /* incident_theta (radians) after the MC spread */
        for (size_t i = 0; i < k && angled; i++) th[i] = (float)io_angle_to_theta(A[f + i]);
        const float *extra[2] = {o->mc ? S : th, th};
        if (o->mc) {
            rc = vae_generate_mc(q, (int)k, E + f, A + f, o->seed, f, (int)o->mc, X[0], S);
            if (rc == BASE_OK) rc = io_writer_append_ex(w, E + f, X[0], extra, k);
        } else {
            rc = vae_generate_showers(q, (int)k, E + f, A + f, o->seed, f, X[b]);
            if (rc == BASE_OK) rc = io_writer_append_async_ex(w, E + f, X[b], extra, k);
        }
        cli_progress_update(&p, f + k - lo, NULL);
    }
    if (rc == BASE_OK) cli_progress_end(&p, hi - lo);
    return rc;
}

typedef struct {
    const opts_t *o;
    const vae_infer_t *q;
} attrs_t;

/* The output's root attributes: provenance and the generation's choices. */
static int attrs(io_writer_t *w, const void *ctx)
{
    const opts_t *o = ((const attrs_t *)ctx)->o;
    const vae_infer_t *q = ((const attrs_t *)ctx)->q;
    char en[2400];
    if (o->from) snprintf(en, sizeof en, "from %s", o->from);
    else cli_energy_describe(&o->en, q->cfg.e_min_mev, q->cfg.e_max_mev, en, sizeof en);
    int rc = io_writer_attr_int(w, "seed", (int64_t)o->seed);
    if (rc == BASE_OK) rc = io_writer_attr_str(w, "source", "showervae generate");
    if (rc == BASE_OK) rc = cli_model_provenance(w, o->model);
    if (rc == BASE_OK) rc = io_writer_attr_str(w, "energies", en);
    if (o->from && !cli_angle_given(&o->an)) snprintf(en, sizeof en, "from %s", o->from);
    else cli_angle_describe(&o->an, en, sizeof en);
    if (rc == BASE_OK) rc = io_writer_attr_str(w, "angles", en);
    if (rc == BASE_OK) rc = io_writer_attr_str(w, "material", q->cfg.material);
    if (rc == BASE_OK) rc = io_writer_attr_str(w, "precision", q->prec == LAYER_BF16 ? "bf16" : "f32");
    if (rc == BASE_OK) rc = io_writer_attr_str(w, "prior", q->use_prior ? "learned" : "standard normal");
    if (rc == BASE_OK && o->mc) rc = io_writer_attr_int(w, "mc_dropout_passes", o->mc);
    if (rc == BASE_OK && cli_mpi_size() > 1) rc = io_writer_attr_int(w, "ranks", cli_mpi_size());
    return rc;
}

static int run(const opts_t *o, vae_infer_t *q, const phys_geometry_t *g, const float *E, const float *A, int angled,
               uint64_t n)
{
    const size_t V = (size_t)q->cfg.V, B = (size_t)o->batch;
    io_writer_opts_t wo = io_writer_defaults();
    wo.producer = VAE_PRODUCER;
    wo.deflate = (int)o->deflate;
    wo.force = o->force;
    wo.threads = (int)o->threads;
    if (o->mc) {
        wo.n_extra = 1;
        wo.extra_name[0] = "showers_std";
        wo.extra_cols[0] = (int)V;
    }
    if (angled) io_writer_add_angles(&wo);
    cli_shard_t sh;
    io_writer_t w;
    BASE_TRY(cli_shard_open(&sh, &w, o->out, n, g, wo));
    sh.say = o->quiet ? NULL : "showervae generate";
    float *X[3] = {malloc(B * V * sizeof(float)), o->mc ? NULL : malloc(B * V * sizeof(float)), malloc(B * sizeof(float))};
    float *S = o->mc ? malloc(B * V * sizeof *S) : NULL;
    int rc = X[0] && (X[1] || o->mc) && X[2] && (S || !o->mc)
                 ? BASE_OK
                 : base_error(BASE_ENOMEM, "out of memory for a batch of %zu", B);
    if (rc == BASE_OK) rc = generate_into(o, q, &w, E, A, angled, sh.lo, sh.hi, X, S);
    const attrs_t at = {o, q};
    rc = cli_shard_finish(&sh, &w, g, wo, attrs, &at, rc); /* closing waits for the threads reading X */
    free(X[0]), free(X[1]), free(X[2]);
    free(S);
    return rc;
}

int cli_cmd_generate(int argc, char **argv)
{
    opts_t o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    if (cli_parse_only) return 0;
    layer_ctx_t ctx;
    vae_model_t m;
    phys_geometry_t g;
    vae_infer_t q;
    float *E = NULL, *A = NULL;
    uint64_t n = 0;
    int angled = 0;
    if (layer_ctx_init(&ctx) < 0) return cli_fail("generate");
    rc = vae_model_load(&m, &g, o.model, &ctx, 0, NULL);
    if (rc == BASE_OK) {
        const char *note;
        layer_prec_t prec = vae_infer_resolve_precision(o.prec, &note);
        if (note) fprintf(stderr, "showervae generate: --precision: %s\n", note);
        rc = vae_infer_init(&q, &m, &ctx, 0, prec);
        if (rc == BASE_OK && o.standard_prior) q.use_prior = 0;
        if (rc == BASE_OK) {
            rc = conditions(&o, &m.cfg, &E, &A, &n, &angled);
            if (rc == BASE_OK) warn_range(&m.cfg, E, A, n);
            if (rc == BASE_OK) rc = run(&o, &q, &g, E, A, angled, n);
            vae_infer_free(&q);
        }
        vae_model_free(&m);
    }
    free(E), free(A);
    layer_ctx_free(&ctx);
    if (rc < 0) return cli_fail("generate");
    if (!o.quiet && cli_mpi_rank() == 0) fprintf(stderr, "showervae generate: wrote %llu showers to %s\n", (unsigned long long)n, o.out);
    return 0;
}
