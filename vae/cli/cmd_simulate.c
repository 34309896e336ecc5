/* vae/cli/cmd_simulate.c: `showervae simulate`: a CaloChallenge-layout dataset from the built-in
 * GFLASH simulator, written in batches with a progress line, atomically. */
#include "io/writer.h"
#include "base/limits.h"
#include "base/status.h"
#include "physics/simulate.h"
#include "vae/cli/cli.h"
#include "vae/cli/mpi.h"
#include "vae/cli/shard.h"
#include "vae/modelio.h"
#include "vae/cli/progress.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: showervae simulate -o FILE [options]\n"
            "Simulate electron showers (GFLASH, W/Si calorimeter) into a CaloChallenge-layout HDF5 file.\n"
            "Energies are in GeV on the command line and in MeV in the file.\n"
            "\n"
            "  -o, --output FILE        output file (required; never replaced unless --force)\n"
            "  -g, --geometry G         ds2, ds3 or a binning .xml of the same grid [ds2]\n"
            "  -n, --n N                number of showers [10000]\n"
            "  -e, --energy LO:HI       incident energies log-uniform in [LO, HI] GeV [1:1000]\n"
            "  -l, --energy-list a,b,.. incident energies drawn uniformly from this list (GeV)\n"
            "  -a, --angle A            incident angle in degrees, 90 = normal incidence (Par04's theta):\n"
            "                           A fixed, LO:HI uniform, or a,b,c drawn uniformly; in [30, 90]\n"
            "                           (stored as incident_theta, radians, as Par04's converter) [90]\n"
            "  -s, --seed S             random seed; same seed, same file [1]\n"
            "  -b, --batch B            showers simulated and written per batch [1000]\n"
            "      --deflate L          zlib level 0-9 (0 = uncompressed) [4]\n"
            "      --no-threshold       keep voxels below the readout threshold (15.15 keV)\n"
            "  -f, --force              replace FILE if it exists\n"
            "  -q, --quiet              no progress line\n"
            "  -h, --help               this text\n"
            "Under mpirun (or srun) each rank makes a contiguous share of the showers and rank 0 joins\n"
            "them into one file, bit-identical to one process (README, Many machines: MPI).\n");
}

typedef struct {
    const char *out, *geometry;
    uint64_t n, seed;
    long batch, deflate;
    cli_energy_t en;
    cli_angle_t an;
    int force, quiet, threshold;
} opts_t;

static int parse(int argc, char **argv, opts_t *o)
{
    static const struct option lo[] = {
        {"output", 1, 0, 'o'}, {"geometry", 1, 0, 'g'}, {"n", 1, 0, 'n'}, {"energy", 1, 0, 'e'},
        {"energy-list", 1, 0, 'l'}, {"angle", 1, 0, 'a'}, {"seed", 1, 0, 's'}, {"batch", 1, 0, 'b'}, {"deflate", 1, 0, 'D'},
        {"no-threshold", 0, 0, 'T'}, {"force", 0, 0, 'f'}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    *o = (opts_t){.geometry = "ds2", .n = 10000, .seed = 1, .batch = 1000, .deflate = 4, .threshold = 1};
    const char *C = "simulate";
    int c, rc = 0;
    optind = 0; /* glibc: 0 resets getopt completely (1 can keep a pointer into an old argv) */
    while (!rc && (c = getopt_long(argc, argv, "o:g:n:e:l:a:s:b:fqh", lo, NULL)) != -1) {
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'g': o->geometry = optarg; break;
        case 'n': rc = cli_parse_u64(C, "--n", optarg, &o->n); break;
        case 'e': rc = cli_energy_parse(C, optarg, 0, &o->en); break;
        case 'l': rc = cli_energy_parse(C, optarg, 1, &o->en); break;
        case 'a': rc = cli_angle_parse(C, optarg, PHYS_SIM_MIN_ANGLE, 90, &o->an); break;
        case 's': rc = cli_parse_u64(C, "--seed", optarg, &o->seed); break;
        case 'b': rc = cli_parse_int(C, "--batch", optarg, 1, 1000000, &o->batch); break;
        case 'D': rc = cli_parse_int(C, "--deflate", optarg, 0, 9, &o->deflate); break;
        case 'T': o->threshold = 0; break;
        case 'f': o->force = 1; break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout); return -1;
        default: return cli_bad_option(C, argv);
        }
    }
    if (rc) return rc;
    if (optind < argc) return cli_err(C, 2, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!o->out) return cli_err(C, 2, "no output file (-o FILE; see --help)");
    if (o->n == 0 || o->n > BASE_MAX_SHOWERS) return cli_err(C, 2, "--n must be in [1, %llu]", BASE_MAX_SHOWERS);
    double top = o->en.n_list ? 0 : o->en.have_range ? o->en.hi : 1e3; /* GeV */
    for (int i = 0; i < o->en.n_list; i++) top = o->en.list[i] > top ? o->en.list[i] : top;
    if (top * 1e3 > BASE_MAX_SIM_ENERGY_MEV)
        return cli_err(C, 2, "energies up to %g GeV: the built-in simulator runs up to %g GeV", top,
                       BASE_MAX_SIM_ENERGY_MEV * 1e-3);
    if (o->en.have_range && o->en.n_list) return cli_err(C, 2, "give --energy or --energy-list, not both");
    return 0;
}

/* Simulates and writes all batches; the writer is aborted by the caller on failure. */
static int run(const opts_t *o, const phys_sim_t *sim, io_writer_t *w, uint64_t lo, uint64_t hi)
{
    const size_t V = (size_t)sim->geo.n_voxels, B = (size_t)o->batch;
    double *E = malloc(B * sizeof *E), *A = malloc(B * sizeof *A);
    float *Ef = malloc(B * sizeof *Ef), *Th = malloc(B * sizeof *Th), *X = malloc(B * V * sizeof *X);
    if (!E || !A || !Ef || !Th || !X) {
        free(E), free(A), free(Ef), free(Th), free(X);
        return base_error(BASE_ENOMEM, "out of memory for a batch of %zu showers", B);
    }
    cli_progress_t p;
    cli_progress_start(&p, "simulate", "showers", hi - lo, o->quiet || cli_mpi_rank() > 0);
    int rc = BASE_OK;
    for (uint64_t first = lo; first < hi && rc == BASE_OK; first += B) {
        size_t k = hi - first < B ? (size_t)(hi - first) : B;
        cli_energy_draw(&o->en, E, k, o->seed, first, 1e3, 1e6); /* default 1 GeV .. 1 TeV */
        cli_angle_draw(&o->an, A, k, o->seed, first);
        rc = phys_sim_batch(sim, E, A, k, o->seed, first, X);
        for (size_t i = 0; i < k; i++) Ef[i] = (float)E[i], Th[i] = (float)io_angle_to_theta(A[i]);
        const float *extra[1] = {Th};
        if (rc == BASE_OK) rc = io_writer_append_ex(w, Ef, X, cli_angle_given(&o->an) ? extra : NULL, k);
        cli_progress_update(&p, first + k - lo, NULL);
    }
    if (rc == BASE_OK) cli_progress_end(&p, hi - lo);
    free(E), free(A), free(Ef), free(Th), free(X);
    return rc;
}

/* The output's root attributes. */
static int attrs(io_writer_t *w, const void *ctx)
{
    const opts_t *o = ctx;
    char an[256];
    cli_angle_describe(&o->an, an, sizeof an);
    int rc = io_writer_attr_int(w, "seed", (int64_t)o->seed);
    if (rc == BASE_OK) rc = io_writer_attr_str(w, "source", "showervae simulate (GFLASH, W/Si 1.4 mm + 0.3 mm)");
    if (rc == BASE_OK) rc = io_writer_attr_str(w, "material", "SiW");
    if (rc == BASE_OK) rc = io_writer_attr_str(w, "angles", an);
    if (rc == BASE_OK && cli_mpi_size() > 1) rc = io_writer_attr_int(w, "ranks", cli_mpi_size());
    return rc;
}

int cli_cmd_simulate(int argc, char **argv)
{
    opts_t o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    if (cli_parse_only) return 0;
    phys_geometry_t g;
    phys_sim_t sim;
    if (phys_geometry_from_arg(&g, o.geometry) < 0 || phys_sim_init(&sim, &g) < 0)
        return cli_fail("simulate");
    sim.threshold = o.threshold;
    io_writer_opts_t wo = io_writer_defaults();
    wo.producer = VAE_PRODUCER;
    wo.deflate = (int)o.deflate;
    wo.force = o.force;
    if (cli_angle_given(&o.an)) io_writer_add_angles(&wo);
    io_writer_t w;
    cli_shard_t sh;
    if (cli_shard_open(&sh, &w, o.out, o.n, &g, wo) < 0) return cli_fail("simulate");
    sh.say = o.quiet ? NULL : "simulate";
    rc = run(&o, &sim, &w, sh.lo, sh.hi);
    if (cli_shard_finish(&sh, &w, &g, wo, attrs, &o, rc) < 0) return cli_fail("simulate");
    if (!o.quiet && cli_mpi_rank() == 0) fprintf(stderr, "simulate: wrote %llu showers (%s, %d voxels) to %s\n",
                          (unsigned long long)o.n, g.name, g.n_voxels, o.out);
    return 0;
}
