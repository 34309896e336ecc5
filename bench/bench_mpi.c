/* bench/bench_mpi.c: scaling over MPI ranks on this machine, 1 thread per rank: the showervae
 * program under `mpirun -np N` (N = 1, 2) for generation and training, as a user runs it.
 *
 * Data: N_SIM (30,000) simulated ds2 showers (1 GeV - 1 TeV) in the bench directory; one epoch is
 * then about 100 steps, so the epoch-end validation and model files weigh as in real runs. Per N:
 *   training     `train -p P -e 1` (P: bench-ds2, the largest decoder, and default): the
 *                training rate the program reports (showers of the training steps / their
 *                seconds, validation and checkpoint included, not the prior's fit), and the
 *                communication time per step it reports (rank 0's view: the gradients'
 *                reduce-scatter, the parameters' all-gather and the small sums, including the
 *                wait for the slower rank). Two ways to scale: strong, 2 ranks at the preset's
 *                global batch B (B/2 rows per rank), and weak, 2 ranks at 2B (B rows per rank,
 *                as the 1-rank run: the usual data-parallel efficiency);
 *   generation   `generate -m (the default model) -n N_GEN --write-threads 0` (compression on the
 *                generating thread: 1 thread per rank) wall time, start-up, the join of
 *                the shards (chunk copy) and the final rename included: showers / second.
 * Parallel efficiency = rate(2 ranks) / (2 rate(1 rank)); targets >= 90% for generation and
 * >= 85% for training. Prints CPU, ISA, threads per rank. Each figure is the best of REPS runs,
 * the configurations interleaved (a drift of a shared machine then biases no column).
 * Usage: bench_mpi [--dir DIR (build/bench-out)] [--prog PATH (build/showervae)] [--reps R (2)]
 */
#include "base/clock.h"
#include "bench/timing.h"
#include "layers/ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PROG "bench_mpi"
#define N_SIM 30000
#define N_GEN 100000
#define MPIRUN "mpirun --allow-run-as-root --oversubscribe --bind-to none -x OMP_NUM_THREADS=1"

static char dir[256] = "build/bench-out", prog[256] = "build/showervae";
static int reps = 2;

/* Runs cmd (stderr merged) into out; exits the benchmark on failure. Returns wall seconds. */
static double run(const char *cmd, char *out, size_t n)
{
    char c[2200];
    snprintf(c, sizeof c, "%s 2>&1", cmd);
    double t0 = base_now();
    FILE *f = popen(c, "r");
    size_t len = f ? fread(out, 1, n - 1, f) : 0;
    out[len] = 0;
    int st = f ? pclose(f) : -1;
    double t = base_now() - t0;
    if (st != 0) {
        fprintf(stderr, "%s: failed: %s\n%s\n", PROG, cmd, out);
        exit(1);
    }
    return t;
}

/* One measured configuration: the best rate over the repetitions, and its communication time. */
typedef struct {
    const char *preset; /* training preset, or NULL: generation */
    int np, B;          /* ranks, global batch (0: the preset's) */
    double rate, comm;  /* showers/s; ms per step (training, 2 ranks) */
    double join;        /* s: rank 0's join of the rank files (generation, 2 ranks) */
} cfg_t;

/* One run of c: training reports its rate and communication time; generation of N_GEN showers
 * is timed on the wall clock (start-up and the join included). Keeps the best. */
static void measure(cfg_t *c)
{
    char cmd[2048], out[65536], batch[32] = "";
    double x = 0, a = 0, j = 0;
    if (!c->preset) {
        snprintf(cmd, sizeof cmd,
                 MPIRUN " -np %d %s generate -m %s/mpi_default_1.h5 -n %d -s 1 --write-threads 0 -f -o %s/mpi_gen.h5", c->np,
                 prog, dir, N_GEN, dir);
        x = N_GEN / run(cmd, out, sizeof out);
        const char *p = strstr(out, "rank files in ");
        if (p) sscanf(p + 14, "%lf", &j);
    } else {
        if (c->B > 0) snprintf(batch, sizeof batch, "-b %d", c->B);
        snprintf(cmd, sizeof cmd, MPIRUN " -np %d %s train -d %s/mpi_data.h5 -p %s %s -e 1 -f -o %s/mpi_%s_%d.h5", c->np, prog,
                 dir, c->preset, batch, dir, c->preset, c->np);
        run(cmd, out, sizeof out);
        const char *d = strstr(out, "steps in");
        if (!d || sscanf(strchr(d, '(') + 1, "%lf", &x) != 1) {
            fprintf(stderr, "%s: no rate in: %s\n", PROG, out);
            exit(1);
        }
        const char *p = strstr(out, "communication ");
        if (p) sscanf(p + 14, "%lf", &a);
    }
    if (x > c->rate) c->rate = x, c->comm = a, c->join = j;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--dir")) snprintf(dir, sizeof dir, "%s", argv[i + 1]);
        else if (!strcmp(argv[i], "--prog")) snprintf(prog, sizeof prog, "%s", argv[i + 1]);
        else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]) > 0 ? atoi(argv[i + 1]) : 1;
        else {
            fprintf(stderr, "usage: %s [--dir DIR] [--prog PATH] [--reps R]\n", PROG);
            return 2;
        }
    }
    mkdir(dir, 0755);
    char cpu[256], cmd[2048], out[65536];
    bench_cpu_model(cpu, sizeof cpu);
    layer_ctx_t ctx;
    if (layer_ctx_init(&ctx) == 0) layer_ctx_free(&ctx);
    printf("%s: CPU %s, ISA %s, 1 thread per rank, Open MPI (shared memory), best of %d runs\n", PROG, cpu,
           layer_isa_name(), reps);
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=2 %s simulate -n %d -e 1:1000 -s 8 -q -f -o %s/mpi_data.h5", prog, N_SIM, dir);
    run(cmd, out, sizeof out);
    /* the runs interleaved (1 rank, 2 ranks, ..., then again): a drift of the machine's speed
     * (a shared VM) then biases no column */
    const char *presets[2] = {"bench-ds2", "default"};
    const int batch[2] = {256, 256}; /* the presets' */
    cfg_t c[8];
    int n = 0;
    for (int p = 0; p < 2; p++) {
        c[n++] = (cfg_t){presets[p], 1, 0, 0, 0, 0};
        c[n++] = (cfg_t){presets[p], 2, 0, 0, 0, 0};
        c[n++] = (cfg_t){presets[p], 2, 2 * batch[p], 0, 0, 0};
    }
    c[n++] = (cfg_t){NULL, 1, 0, 0, 0, 0};
    c[n++] = (cfg_t){NULL, 2, 0, 0, 0, 0};
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < n; i++) measure(&c[i]);
    printf("\n| what | 1 rank | 2 ranks | efficiency | target | communication per step (2 ranks) |\n|---|---|---|---|---|---|\n");
    for (int p = 0; p < 2; p++) {
        const cfg_t *one = &c[3 * p], *strong = &c[3 * p + 1], *weak = &c[3 * p + 2];
        printf("| training %s, weak: batch %d per rank (showers/s) | %.0f | %.0f | %.0f%% | 85%% | %.1f ms |\n", presets[p],
               batch[p], one->rate, weak->rate, 100 * weak->rate / (2 * one->rate), weak->comm);
        printf("| training %s, strong: global batch %d (showers/s) | %.0f | %.0f | %.0f%% | 85%% | %.1f ms |\n", presets[p],
               batch[p], one->rate, strong->rate, 100 * strong->rate / (2 * one->rate), strong->comm);
    }
    printf("| generation default, %d showers (showers/s, wall) | %.0f | %.0f | %.0f%% | 90%% | join %.2f s |\n", N_GEN,
           c[6].rate, c[7].rate, 100 * c[7].rate / (2 * c[6].rate), c[7].join);
    return 0;
}
