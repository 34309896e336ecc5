/* bench/bench_io.c: streaming a large shower file with bounded memory.
 *
 * Writes N showers on a grid (default ds3, 40500 voxels: 162 kB per shower) with the project's
 * writer, from a pool of 200 simulated showers reused in turn (the point is the file size, not
 * the physics), then reads the whole file back through the shuffled loader in batches and
 * reports write and read rates and the peak resident memory (getrusage ru_maxrss).
 * The CaloChallenge-size check is --n 50000 (an 8.1 GB float32 payload); the default is smaller
 * so that `make bench` stays short.
 * Usage: bench_io [--n N] [--geometry G] [--dir DIR] [--keep]
 */
#include "bench/timing.h"
#include "io/loader.h"
#include "base/clock.h"
#include "io/writer.h"
#include "base/status.h"
#include "physics/simulate.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static double rss_mb(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss / 1024.0;
}

#define CHECK(x)                                                                  \
    do {                                                                          \
        if ((x) < 0) {                                                            \
            fprintf(stderr, "bench_io: %s\n", base_last_error());                \
            exit(1);                                                              \
        }                                                                         \
    } while (0)

int main(int argc, char **argv)
{
    size_t N = 5000;
    const char *geo = "ds3", *dir = "/tmp";
    int keep = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc) N = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--geometry") && i + 1 < argc) geo = argv[++i];
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--keep")) keep = 1;
        else {
            fprintf(stderr, "usage: bench_io [--n N (5000)] [--geometry G (ds3)] [--dir DIR (/tmp)] [--keep]\n");
            return 2;
        }
    }
    phys_geometry_t g;
    phys_sim_t sim;
    CHECK(phys_geometry_preset(&g, geo));
    CHECK(phys_sim_init(&sim, &g));
    const size_t V = (size_t)g.n_voxels, POOL = 200, B = 100;
    double E[200];
    float Ef[200], *pool = malloc(POOL * V * sizeof(float));
    phys_sim_energies_loguniform(E, POOL, 1e3, 1e6, 1, 0);
    CHECK(phys_sim_batch(&sim, E, NULL, POOL, 1, 0, pool));
    for (size_t i = 0; i < POOL; i++) Ef[i] = (float)E[i];
    char path[512];
    snprintf(path, sizeof path, "%s/bench_io_%d.h5", dir, (int)getpid());

    io_writer_opts_t o = io_writer_defaults();
    o.deflate = 1;
    io_writer_t w;
    CHECK(io_writer_open(&w, path, &g, &o));
    double t0 = base_now();
    for (size_t f = 0; f < N; f += B) {
        size_t k = N - f < B ? N - f : B, at = f % POOL;
        if (at + k > POOL) at = 0;
        CHECK(io_writer_append(&w, Ef + at, pool + at * V, k));
    }
    CHECK(io_writer_close(&w));
    double tw = base_now() - t0, gb = (double)N * V * 4 / 1e9;
    double rss_write = rss_mb();

    io_dataset_t d;
    io_loader_t L;
    CHECK(io_dataset_open(&d, path, NULL));
    CHECK(io_loader_init(&L, &d, IO_PART_TRAIN, 0.1, 7, 1, 0));
    float *bE = malloc(1024 * sizeof(float)), *bX = malloc(1024 * V * sizeof(float));
    size_t seen = 0;
    int got;
    double sum = 0;
    t0 = base_now();
    do {
        CHECK(io_loader_next(&L, 1024, bE, NULL, bX, &got));
        seen += (size_t)got;
        for (int i = 0; i < got; i++) sum += bX[(size_t)i * V + V / 2];
    } while (got > 0);
    double tr = base_now() - t0;
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    double file_gb = ftell(f) / 1e9;
    fclose(f);
    char cpu[200];
    bench_cpu_model(cpu, sizeof cpu);
    printf("bench_io on %s: %s grid, %zu showers, %.2f GB of float32 payload, file %.2f GB (shuffle+deflate 1), "
           "%d threads\n", cpu, g.name, N, gb, file_gb, omp_get_max_threads());
    printf("| step | showers/s | payload GB/s | peak RSS (MB) |\n|---|---|---|---|\n");
    printf("| write (deflate on %d threads, direct chunk writes) | %.0f | %.3f | %.0f |\n", o.threads, N / tw, gb / tw,
           rss_write);
    printf("| read all, shuffled loader (batch 1024, 256 MiB buffer) | %.0f | %.3f | %.0f |\n",
           seen / tr, (double)seen * V * 4 / 1e9 / tr, rss_mb());
    printf("read %zu training showers of %zu (validation fraction 0.1); checksum %g\n", seen, N, sum);
    io_loader_free(&L);
    io_dataset_close(&d);
    if (!keep) unlink(path);
    free(pool);
    free(bE);
    free(bX);
    return 0;
}
