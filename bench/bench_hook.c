/* bench/bench_hook.c: one particle per call through the public API (showervae.h), as a Geant4
 * fast-simulation hook calls it, on a quiet machine and inside a busy host.
 *
 * For the bench-ds2 and par04 decoders (random weights, saved as model files in a temporary
 * directory and opened with vae_generator_open) it times vae_generate(g, 1, ...) call by call
 * at 1 thread (vae_generator_set_threads(g, 1): the library's default) and at every core, first
 * alone, then with --load busy processes (default: as many as cores) spinning on the same
 * cores, the Geant4 event loop's neighbours. Per row: the median, the 99th percentile and the
 * fastest call in ms, and the median's ratio to the quiet median at the same thread count.
 * Calls: for --seconds per row (default 3), at least 200, after 20 warm-up calls.
 * Usage: bench_hook [--seconds S] [--load N] [--quick]
 */
#include "base/clock.h"
#include "base/status.h"
#include "bench/timing.h"
#include "physics/geometry.h"
#include "vae/model.h"
#include "vae/modelio.h"
#include "vae/showervae.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define PROG "bench_hook"
#define CHECK(x) bench_check((x), PROG, #x)

static const char *const PRESETS[] = {"bench-ds2", "par04"};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A model file of preset p with random weights under dir; path into out. */
static void make_model(const layer_ctx_t *ctx, const char *p, const char *dir, char *out, size_t n)
{
    vae_config_t c;
    CHECK(vae_config_preset(&c, p, "ds2", 6480, 0.01515));
    vae_model_t m;
    CHECK(vae_model_init(&m, &c, ctx, 0));
    vae_model_init_params(&m, 1);
    phys_geometry_t g;
    CHECK(phys_geometry_preset(&g, "ds2"));
    snprintf(out, n, "%s/%s.h5", dir, p);
    CHECK(vae_model_save(&m, &g, out, 1, NULL));
    vae_model_free(&m);
}

/* Latencies of single-particle calls for `seconds` (at least 200): median, p99, min (ms). */
static void time_calls(vae_generator_t *g, double seconds, double r[3])
{
    enum { MAXC = 1 << 20 };
    static double t[MAXC];
    float *x = malloc(6480 * sizeof *x), E = 1;
    if (!x) bench_check(-1, PROG, "out of memory");
    for (int i = 0; i < 20; i++) CHECK(vae_generate(g, 1, &E, 1, (uint64_t)i, x));
    size_t n = 0;
    double t0 = base_now();
    while (n < MAXC && (n < 200 || base_now() - t0 < seconds)) {
        E = (float)(1000.0 * (1 + (double)(n % 997))); /* 1 GeV .. 1 TeV */
        double a = base_now();
        CHECK(vae_generate(g, 1, &E, 1, n, x));
        t[n++] = base_now() - a;
    }
    qsort(t, n, sizeof *t, cmp_double);
    r[0] = t[n / 2] * 1e3, r[1] = t[(size_t)(0.99 * (double)(n - 1))] * 1e3, r[2] = t[0] * 1e3;
    free(x);
}

/* k busy processes (spinning); their pids into pid */
static void load_start(int k, pid_t *pid)
{
    for (int i = 0; i < k; i++) {
        pid[i] = fork();
        if (pid[i] == 0) {
            volatile double s = 0;
            for (;;) s += 1e-9;
        }
        if (pid[i] < 0) bench_check(-1, PROG, "fork");
    }
}

static void load_stop(int k, const pid_t *pid)
{
    for (int i = 0; i < k; i++) kill(pid[i], SIGKILL), waitpid(pid[i], NULL, 0);
}

int main(int argc, char **argv)
{
    double seconds = 3;
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN), load = cores;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--load") && i + 1 < argc) load = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick")) seconds = 0.5;
        else {
            fprintf(stderr, "usage: %s [--seconds S (3)] [--load N (cores: %d)] [--quick]\n", PROG, cores);
            return 2;
        }
    }
    if (load < 0 || load > 64) load = cores;
    layer_ctx_t ctx;
    CHECK(layer_ctx_init(&ctx));
    char dir[] = "/tmp/bench_hook.XXXXXX", path[2][256];
    if (!mkdtemp(dir)) bench_check(-1, PROG, "mkdtemp");
    for (int p = 0; p < 2; p++) make_model(&ctx, PRESETS[p], dir, path[p], sizeof path[p]);
    char cpu[200];
    bench_cpu_model(cpu, sizeof cpu);
    printf("\n%s on %s: %d cores, ISA %s; single-particle vae_generate calls, %.1f s per row; loaded = %d busy "
           "processes on the same cores\n\n", PROG, cpu, cores, layer_isa_name(), seconds, load);
    printf("| decoder | threads | host | median ms | p99 ms | fastest ms | median / quiet |\n|---|---|---|---|---|---|---|\n");
    pid_t pid[64];
    for (int p = 0; p < 2; p++) {
        vae_generator_t *g;
        CHECK(vae_generator_open(&g, path[p]));
        const int threads[2] = {1, cores};
        for (int k = 0; k < 2; k++) {
            if (k == 1 && cores == 1) break;
            CHECK(vae_generator_set_threads(g, threads[k]));
            double quiet[3], busy[3];
            time_calls(g, seconds, quiet);
            load_start(load, pid);
            time_calls(g, seconds, busy);
            load_stop(load, pid);
            printf("| %s | %d | quiet | %.3f | %.3f | %.3f | 1 |\n", PRESETS[p], threads[k], quiet[0], quiet[1], quiet[2]);
            printf("| %s | %d | loaded | %.3f | %.3f | %.3f | %.1fx |\n", PRESETS[p], threads[k], busy[0], busy[1],
                   busy[2], busy[0] / quiet[0]);
            fflush(stdout);
        }
        vae_generator_close(g);
    }
    for (int p = 0; p < 2; p++) unlink(path[p]);
    rmdir(dir);
    layer_ctx_free(&ctx);
    return 0;
}
