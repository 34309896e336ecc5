/* vae/cli/cmd_train.c: `showervae train`. */
#include "base/status.h"
#include "vae/cli/cli.h"
#include "vae/cli/mpi.h"
#include "vae/cli/progress.h"
#include "vae/train.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: showervae train -d DATA.h5 -o MODEL.h5 [options]\n"
            "Train a conditional VAE on showers in a CaloChallenge or Par04 file. The best model on the\n"
            "validation part is written to MODEL.h5; checkpoints to MODEL.h5.ckpt.\n"
            "\n"
            "  -d, --data FILE          training data (required)\n"
            "  -o, --output FILE        model file (required; never replaced unless --force)\n"
            "  -p, --preset NAME        par04, bench-ds2, default or tiny (tests) [default]\n"
            "  -g, --geometry G         grid of the data: preset name or .xml [inferred from the file]\n"
            "  -e, --epochs N           epochs [the preset's: par04 20, bench-ds2 10, default 30]\n"
            "  -b, --batch B            batch size; under mpirun the global batch, split in equal\n"
            "                           shares over the ranks [the preset's: 128, 256, 256]\n"
            "      --lr LR              peak learning rate, cosine schedule with 2%% warm-up\n"
            "                           [the preset's: 1e-3, 3e-4, 3e-4]\n"
            "      --dropout P          dropout after each hidden block [the preset's: 0]\n"
            "      --init I             he (He/Glorot normal, output bias at the data's marginals) or\n"
            "                           keras (Par04's own: RandomNormal(0.05), Glorot-uniform heads,\n"
            "                           zero biases) [he]\n"
            "      --lr-schedule S      cosine (2%% warm-up, down to 5%%) or constant (Par04's own) [cosine]\n"
            "      --free-bits F        KL floor per latent dimension in nats: dimensions below it get\n"
            "                           no KL gradient (Kingma et al. 2016) [the preset's: default 0.05,\n"
            "                           others 0]\n"
            "      --kl-warmup N        KL weight rising linearly from 0 over the first N steps\n"
            "                           [the preset's: default 2000, others 0]\n"
            "      --val-fraction F     validation share, split by shower index and seed [0.1]\n"
            "      --data-memory MB     hold the data in memory (read and inflated once) when its\n"
            "                           showers fit in MB; else read every epoch (0: never) [4096]\n"
            "      --data-streams S     the loader's streams: every batch takes B/S rows from each of S\n"
            "                           interleaved sets of the file's row blocks; under mpirun each\n"
            "                           rank reads and holds only its S/N streams' blocks. The same S\n"
            "                           gives the same batches for any number of ranks. [the number\n"
            "                           of ranks (1 without mpirun); the checkpoint's with --resume]\n"
            "  -s, --seed S             seed of initialisation, shuffling, noise and split [1]\n"
            "      --resume CKPT        continue from a checkpoint (bit-identical unless --epochs or\n"
            "                           --lr change the schedule)\n"
            "      --checkpoint-every N also checkpoint every N steps [0: at epoch ends only]\n"
            "      --max-minutes M      stop (with a checkpoint) after M minutes [0: no limit]\n"
            "      --stop-at-step N     stop (with a checkpoint) after step N [0: no limit]\n"
            "  -f, --force              replace an existing output (and OUTPUT.ckpt)\n"
            "  -q, --quiet              no progress\n"
            "  -h, --help               this text\n"
            "Under mpirun (or srun) the ranks train data-parallel; rank 0 writes and reports (README,\n"
            "Many machines: MPI).\n"
            "Ctrl-C or SIGTERM: the run stops after the current batch with a checkpoint (exit 130);\n"
            "continue it with --resume OUTPUT.ckpt. The best model is replaced only by a better one.\n");
}

static volatile sig_atomic_t interrupted;
static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

int cli_cmd_train(int argc, char **argv)
{
    static const struct option lo[] = {
        {"data", 1, 0, 'd'}, {"output", 1, 0, 'o'}, {"preset", 1, 0, 'p'}, {"geometry", 1, 0, 'g'},
        {"epochs", 1, 0, 'e'}, {"batch", 1, 0, 'b'}, {"lr", 1, 0, 'L'}, {"dropout", 1, 0, 'D'}, {"init", 1, 0, 'I'}, {"lr-schedule", 1, 0, 'J'},
        {"free-bits", 1, 0, 'B'}, {"kl-warmup", 1, 0, 'W'},
        {"val-fraction", 1, 0, 'V'}, {"seed", 1, 0, 's'}, {"resume", 1, 0, 'R'}, {"checkpoint-every", 1, 0, 'C'}, {"data-memory", 1, 0, 'm'}, {"data-streams", 1, 0, 'T'},
        {"max-minutes", 1, 0, 'M'}, {"stop-at-step", 1, 0, 'S'}, {"force", 0, 0, 'f'}, {"quiet", 0, 0, 'q'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    vae_train_opts_t o = {.preset = "default", .val_fraction = 0.1, .seed = 1, .dropout = -1};
    const char *C = "train";
    long v;
    double d;
    uint64_t u;
    int c, rc = 0, quiet = 0;
    optind = 0; /* glibc: 0 resets getopt completely (1 can keep a pointer into an old argv) */
    while (!rc && (c = getopt_long(argc, argv, "d:o:p:g:e:b:s:fqh", lo, NULL)) != -1) {
        switch (c) {
        case 'd': o.data = optarg; break;
        case 'o': o.out = optarg; break;
        case 'p': o.preset = optarg; break;
        case 'g': o.geometry = optarg; break;
        case 'e': rc = cli_parse_int(C, "--epochs", optarg, 1, 1000000, &v), o.epochs = (int)v; break;
        case 'b': rc = cli_parse_int(C, "--batch", optarg, 2, 65536, &v), o.batch = (int)v; break;
        case 'L':
            rc = cli_parse_double(C, "--lr", optarg, &d), o.lr = (float)d;
            if (!rc && !(d > 0 && d <= 10)) rc = cli_err(C, 2, "--lr %s: must be in (0, 10]", optarg);
            break;
        case 'D':
            rc = cli_parse_double(C, "--dropout", optarg, &d), o.dropout = (float)d;
            if (!rc && !(d >= 0 && d < 0.95)) rc = cli_err(C, 2, "--dropout %s: must be in [0, 0.95)", optarg);
            break;
        case 'I':
            if (strcmp(optarg, "he") && strcmp(optarg, "keras")) rc = cli_err(C, 2, "--init '%s': use he or keras", optarg);
            o.keras_init = !strcmp(optarg, "keras");
            break;
        case 'J':
            if (strcmp(optarg, "cosine") && strcmp(optarg, "constant"))
                rc = cli_err(C, 2, "--lr-schedule '%s': use cosine or constant", optarg);
            o.lr_constant = !strcmp(optarg, "constant");
            break;
        case 'B':
            rc = cli_parse_double(C, "--free-bits", optarg, &d), o.free_bits = (float)d, o.set_free_bits = 1;
            if (!rc && !(d >= 0 && d <= 100)) rc = cli_err(C, 2, "--free-bits %s: must be in [0, 100] nats", optarg);
            break;
        case 'W': rc = cli_parse_int(C, "--kl-warmup", optarg, 0, 1000000000, &v), o.kl_warmup = v, o.set_kl_warmup = 1; break;
        case 'V': rc = cli_parse_double(C, "--val-fraction", optarg, &o.val_fraction); break;
        case 's': rc = cli_parse_u64(C, "--seed", optarg, &o.seed); break;
        case 'R': o.resume = optarg; break;
        case 'C': rc = cli_parse_u64(C, "--checkpoint-every", optarg, &u), o.ckpt_every = (int64_t)u; break;
        case 'M':
            rc = cli_parse_double(C, "--max-minutes", optarg, &o.max_minutes);
            if (!rc && !(o.max_minutes >= 0)) rc = cli_err(C, 2, "--max-minutes %s: must be >= 0", optarg);
            break;
        case 'S': rc = cli_parse_u64(C, "--stop-at-step", optarg, &u), o.stop_at_step = (int64_t)u; break;
        case 'm': rc = cli_parse_int(C, "--data-memory", optarg, 0, 1 << 22, &v), o.data_mem_bytes = v ? (size_t)v << 20 : 1; break;
        case 'T': rc = cli_parse_int(C, "--data-streams", optarg, 1, 65536, &v), o.data_streams = (int)v; break;
        case 'f': o.force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: return cli_bad_option(C, argv);
        }
    }
    if (rc) return rc;
    if (optind < argc) return cli_err(C, 2, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!o.data || !o.out) return cli_err(C, 2, "need -d DATA and -o MODEL (see --help)");
    if (!(o.val_fraction > 0 && o.val_fraction < 1)) return cli_err(C, 2, "--val-fraction must be in (0, 1)");
    if (cli_parse_only) return 0;
    cli_monitor_t cm;
    base_monitor_t mon = cli_monitor(&cm, "train", quiet);
    o.monitor = cli_mpi_rank() == 0 ? &mon : NULL; /* rank 0 reports */
    o.comm = cli_mpi_comm();
    /* Ctrl-C or SIGTERM: stop after the current batch with a checkpoint; a second one kills */
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    interrupted = 0;
    o.cancel = &interrupted;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    vae_train_result_t res = {0};
    rc = vae_train(&o, &res);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc < 0) return cli_fail(C);
    return res.interrupted ? 130 : 0;
}
