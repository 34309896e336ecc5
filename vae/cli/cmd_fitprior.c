/* vae/cli/cmd_fitprior.c: `showervae fit-prior`: (re)fit a model's learned prior. */
#include "base/status.h"
#include "io/atomic.h"
#include "vae/cli/cli.h"
#include "vae/cli/progress.h"
#include "vae/fitprior.h"

#include <getopt.h>
#include <stdio.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: showervae fit-prior -m MODEL.h5 -d DATA.h5 [options]\n"
            "Fit the model's learned prior p(z, layer energies | E) (a Gaussian mixture, EM) to the\n"
            "training part of DATA.h5 and write the model with it. Training does this after its last\n"
            "epoch; use this command for another component count or a model trained without one.\n"
            "\n"
            "  -m, --model FILE         model file (required; rewritten unless -o is given)\n"
            "  -d, --data FILE          showers, e.g. the training file (required)\n"
            "  -o, --output FILE        write the model with its prior here instead\n"
            "  -k, --components K       mixture components [the model's, else 12]\n"
            "      --val-fraction F     held-out share, split as in training [0.1]\n"
            "  -s, --seed S             split and posterior draws; the training's seed [1]\n"
            "      --no-flow            no marginal flow: the mixture on Box-Cox coordinates\n"
            "                           (the prior of earlier versions) [flow on]\n"
            "  -f, --force              replace an existing OUTPUT\n"
            "  -q, --quiet              no progress\n"
            "  -h, --help               this text\n");
}

int cli_cmd_fit_prior(int argc, char **argv)
{
    static const struct option lo[] = {{"model", 1, 0, 'm'}, {"data", 1, 0, 'd'}, {"output", 1, 0, 'o'},
                                       {"components", 1, 0, 'k'}, {"val-fraction", 1, 0, 'V'}, {"seed", 1, 0, 's'},
                                       {"force", 0, 0, 'f'}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'},
                                       {"no-flow", 0, 0, 'N'}, {0, 0, 0, 0}};
    vae_fit_prior_opts_t o = {.val_fraction = 0.1, .seed = 1};
    const char *C = "fit-prior";
    long v;
    int c, rc = 0, quiet = 0;
    optind = 0; /* glibc: 0 resets getopt completely (1 can keep a pointer into an old argv) */
    while (!rc && (c = getopt_long(argc, argv, "m:d:o:k:s:fqh", lo, NULL)) != -1) {
        switch (c) {
        case 'm': o.model = optarg; break;
        case 'd': o.data = optarg; break;
        case 'o': o.out = optarg; break;
        case 'k': rc = cli_parse_int(C, "--components", optarg, 1, 256, &v), o.components = (int)v; break;
        case 'V': rc = cli_parse_double(C, "--val-fraction", optarg, &o.val_fraction); break;
        case 's': rc = cli_parse_u64(C, "--seed", optarg, &o.seed); break;
        case 'f': o.force = 1; break;
        case 'N': o.no_flow = 1; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: return cli_bad_option(C, argv);
        }
    }
    if (rc) return rc;
    if (optind < argc) return cli_err(C, 2, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!o.model || !o.data) return cli_err(C, 2, "need -m MODEL and -d DATA (see --help)");
    if (!(o.val_fraction > 0 && o.val_fraction < 1)) return cli_err(C, 2, "--val-fraction must be in (0, 1)");
    if (io_atomic_not_input(o.out ? o.out : o.model, o.data) < 0) return cli_fail(C);
    if (cli_parse_only) return 0;
    cli_monitor_t cm;
    base_monitor_t mon = cli_monitor(&cm, C, quiet);
    o.monitor = &mon;
    if (vae_fit_prior(&o) < 0) return cli_fail(C);
    return 0;
}
