/* vae/cli/cmd_evaluate.c: `showervae evaluate`. */
#include "base/status.h"
#include "vae/cli/cli.h"
#include "vae/cli/mpi.h"
#include "vae/cli/progress.h"
#include "vae/eval/evaluate.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: showervae evaluate -g GEN.h5 -r REF.h5 -o REPORT_DIR [options]\n"
            "Compare generated with reference showers using the CaloChallenge definitions: high-level\n"
            "features and their histograms, separation power, classifier two-sample tests (AUC, JSD),\n"
            "physics distances (FPD, KPD) and precision, recall, density, coverage.\n"
            "Writes REPORT_DIR/{index.html, metrics.json, hists/*.csv, plots/*.png}.\n"
            "\n"
            "  -g, --generated FILE   generated showers (required)\n"
            "  -r, --reference FILE   reference showers (required)\n"
            "  -o, --output DIR       report directory (required; never replaced unless --force)\n"
            "      --geometry G       ds1-photons, ds1-pions, ds2, ds3 or a binning .xml [from the files]\n"
            "      --protocol P       calochallenge (the challenge's evaluate.py definitions: its\n"
            "                         classifier of 3 x 2048 for 50 epochs, FPD, KPD, PRDC; hours on\n"
            "                         2 cores for 100k + 100k showers) or quick (a 2 x 256 classifier\n"
            "                         for 20 epochs: minutes; its AUCs are not the challenge's)\n"
            "                         [calochallenge]\n"
            "  -s, --seed S           seed of the classifier split and training [1]\n"
            "      --cls-epochs N     classifier epochs (the best on the test split is kept)\n"
            "                         [the protocol's: 50, quick 20]\n"
            "      --cls-threads N    threads for the classifiers [all]\n"
            "      --cls-memory MB    memory for the low-level classifier's inputs: held in f32 if\n"
            "                         they fit, else in bf16 (half), else an even subsample is\n"
            "                         used, with a warning [4096, quick 1024]\n"
            "      --no-classifier    no classifier tests\n"
            "      --no-distances     no FPD and KPD (physics distances on the high-level features)\n"
            "      --no-prdc          no precision, recall, density and coverage\n"
            "      --prdc-showers N   PRDC on the first N showers of each file; it holds them in memory\n"
            "                         (N x voxels x 4 bytes each) and costs N^2 [all]\n"
            "  -f, --force            replace the report directory\n"
            "  -q, --quiet            no progress\n"
            "  -h, --help             this text\n"
            "Under mpirun (or srun) each rank reads a contiguous share of both files for the features\n"
            "and histograms (summed over the ranks); rank 0 then runs the classifiers, FPD/KPD and\n"
            "PRDC on all showers (with --cls-threads threads) and writes the report.\n");
}

int cli_cmd_evaluate(int argc, char **argv)
{
    static const struct option lo[] = {
        {"generated", 1, 0, 'g'}, {"reference", 1, 0, 'r'}, {"output", 1, 0, 'o'}, {"geometry", 1, 0, 'G'},
        {"seed", 1, 0, 's'}, {"cls-epochs", 1, 0, 'E'}, {"cls-memory", 1, 0, 'M'}, {"no-classifier", 0, 0, 'N'},
        {"protocol", 1, 0, 'p'}, {"cls-threads", 1, 0, 'T'}, {"no-distances", 0, 0, 'D'}, {"no-prdc", 0, 0, 'P'}, {"prdc-showers", 1, 0, 'S'},
        {"force", 0, 0, 'f'}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    eval_opts_t o = {.seed = 1};
    const char *C = "evaluate";
    long v;
    int c, rc = 0, quiet = 0;
    optind = 0; /* glibc: 0 resets getopt completely (1 can keep a pointer into an old argv) */
    while (!rc && (c = getopt_long(argc, argv, "g:r:o:s:fqh", lo, NULL)) != -1) {
        switch (c) {
        case 'g': o.gen = optarg; break;
        case 'r': o.ref = optarg; break;
        case 'o': o.out = optarg; break;
        case 'G': o.geometry = optarg; break;
        case 's': rc = cli_parse_u64(C, "--seed", optarg, &o.seed); break;
        case 'E': rc = cli_parse_int(C, "--cls-epochs", optarg, 1, 10000, &v), o.cls_epochs = (int)v; break;
        case 'M': rc = cli_parse_int(C, "--cls-memory", optarg, 16, 1 << 20, &v), o.cls_mem_bytes = (size_t)v << 20; break;
        case 'N': o.no_cls = 1; break;
        case 'D': o.no_distances = 1; break;
        case 'p':
            if (!strcmp(optarg, "calochallenge") || !strcmp(optarg, "quick")) o.quick = !strcmp(optarg, "quick");
            else rc = cli_err(C, 2, "--protocol must be calochallenge or quick, not '%s'", optarg);
            break;
        case 'T': rc = cli_parse_int(C, "--cls-threads", optarg, 1, 4096, &v), o.cls_threads = (int)v; break;
        case 'P': o.no_prdc = 1; break;
        case 'S': rc = cli_parse_int(C, "--prdc-showers", optarg, 10, 1L << 40, &v), o.prdc_showers = (size_t)v; break;
        case 'f': o.force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: return cli_bad_option(C, argv);
        }
    }
    if (rc) return rc;
    if (optind < argc) return cli_err(C, 2, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!o.gen || !o.ref || !o.out) return cli_err(C, 2, "need -g GEN, -r REF and -o DIR (see --help)");
    if (cli_parse_only) return 0;
    eval_result_t r;
    cli_monitor_t cm;
    base_monitor_t mon = cli_monitor(&cm, "evaluate", quiet);
    o.monitor = cli_mpi_rank() == 0 ? &mon : NULL; /* rank 0 reports */
    o.comm = cli_mpi_comm();
    if (eval_run(&o, &r) < 0) return cli_fail(C);
    if (cli_mpi_rank() > 0) return 0;
    printf("evaluate: separation E_tot/E_inc %.4f, mean separation %.4f (max %.4f)", r.sep_etot, r.sep_mean, r.sep_max);
    if (r.have_fpd) printf(", FPD %.3g +- %.2g, KPD %.3g +- %.2g", r.fpd, r.fpd_err, r.kpd, r.kpd_err);
    if (r.have_prdc) printf(", precision %.4f recall %.4f density %.4f coverage %.4f", r.precision, r.recall, r.density,
                            r.coverage);
    if (!o.no_cls) printf(", AUC low %.4f (JSD %.4f), AUC high %.4f (JSD %.4f)", r.auc_low, r.jsd_low, r.auc_high, r.jsd_high);
    size_t k = strlen(o.out);
    while (k > 1 && o.out[k - 1] == '/') k--;
    printf("\nevaluate: report in %.*s/index.html\n", (int)k, o.out);
    return 0;
}
