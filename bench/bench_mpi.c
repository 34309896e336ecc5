/* bench/bench_mpi.c: scaling over MPI ranks on this machine, 1 thread per rank: the showervae
 * program under `mpirun -np N` (N = 1, 2) for generation and training, as a user runs it.
 *
 * Data: N_SIM (30,000) simulated ds2 showers (1 GeV - 1 TeV) in the bench directory; one epoch is
 * then about 100 steps, so the epoch-end validation and model files weigh as in real runs. Per N:
 *   training     `train -p P -e 1` (P: bench-ds2, the largest decoder, and default): the
 *                training rate the program reports (showers of the training steps / their
 *                seconds, validation and checkpoint included, not the prior's fit), and the
 *                all-reduce time per step it reports (rank 0's view: the sum over the ranks'
 *                gradients in the arena buffer, including the wait for the slower rank);
 *   generation   `generate -m (the default model) -n N_GEN --write-threads 0` (compression on the
 *                generating thread: 1 thread per rank) wall time, start-up, the join of
 *                the shards (chunk copy) and the final rename included: showers / second.
 * Parallel efficiency = rate(2 ranks) / (2 rate(1 rank)); targets >= 90% for generation and
 * >= 85% for training. Prints CPU, ISA, threads per rank. Each figure is the best of REPS runs.
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

/* Training with np ranks: the reported rate (showers/s) and all-reduce ms per step (0 for 1). */
static void train(const char *preset, int np, double *rate, double *ar)
{
    char cmd[2048], out[65536];
    *rate = 0, *ar = 0;
    for (int r = 0; r < reps; r++) {
        snprintf(cmd, sizeof cmd, MPIRUN " -np %d %s train -d %s/mpi_data.h5 -p %s -e 1 -f -o %s/mpi_%s_%d.h5", np, prog,
                 dir, preset, dir, preset, np);
        run(cmd, out, sizeof out);
        const char *d = strstr(out, "steps in");
        double x = 0, a = 0;
        if (!d || sscanf(strchr(d, '(') + 1, "%lf", &x) != 1) {
            fprintf(stderr, "%s: no rate in: %s\n", PROG, out);
            exit(1);
        }
        const char *p = strstr(out, "floats ");
        if (p) sscanf(p + 7, "%lf", &a);
        if (x > *rate) *rate = x, *ar = a;
    }
}

/* Generation of N_GEN showers with np ranks: showers per second of wall time. */
static double generate(int np)
{
    char cmd[2048], out[65536];
    double best = 0;
    for (int r = 0; r < reps; r++) {
        snprintf(cmd, sizeof cmd, MPIRUN " -np %d %s generate -m %s/mpi_default_1.h5 -n %d -s 1 --write-threads 0 -q -f -o %s/mpi_gen.h5",
                 np, prog, dir, N_GEN, dir);
        double t = run(cmd, out, sizeof out);
        if (N_GEN / t > best) best = N_GEN / t;
    }
    return best;
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
    printf("\n| what | 1 rank | 2 ranks | efficiency | target | all-reduce per step (2 ranks) |\n|---|---|---|---|---|---|\n");
    const char *presets[2] = {"bench-ds2", "default"};
    for (int p = 0; p < 2; p++) {
        double r1, r2, a1, a2;
        train(presets[p], 1, &r1, &a1);
        train(presets[p], 2, &r2, &a2);
        printf("| training %s (showers/s) | %.0f | %.0f | %.0f%% | 85%% | %.1f ms |\n", presets[p], r1, r2,
               100 * r2 / (2 * r1), a2);
        fflush(stdout);
    }
    double g1 = generate(1), g2 = generate(2);
    printf("| generation default, %d showers (showers/s, wall) | %.0f | %.0f | %.0f%% | 90%% | - |\n", N_GEN, g1, g2,
           100 * g2 / (2 * g1));
    return 0;
}
