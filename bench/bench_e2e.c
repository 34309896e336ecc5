/* bench/bench_e2e.c: end-to-end generation into HDF5: N ds2 showers (default 100,000) from a
 * model (default: the `default` preset's, whose sampled hits give showers as sparse as the
 * data's; bench-ds2's mean output is dense and compresses 1.3:1, unlike showers), in batches, written to a CaloChallenge file, against the rate at which the
 * same bytes can be written to the same file system.
 *
 * Runs, each timed from the first batch to the file renamed into place and fsync'ed (data on
 * disk, as a user's job would leave it):
 *   raw write     the same number of bytes written with write(2) in 8 MiB blocks + fsync
 *   compute only  generation without writing
 *   uncompressed  writer with deflate 0, chunks stored by the writer's threads
 *   HDF5 deflate  shuffle + deflate 4 by HDF5's own filter on the calling thread (zlib)
 *   threaded zlib shuffle + zlib deflate 4 on every core, direct chunk writes (io/chunkpipe.h),
 *                 overlapped with generation: the same bytes as HDF5's filter
 *   threaded      the same with libdeflate, then without shuffle (the default)
 * The writer runs use two shower buffers: batch k is written (io_writer_append_async) while
 * batch k + 1 is generated.
 * and prints a markdown table: seconds, showers/s, MB/s of raw shower bytes, and the split
 * into compute (inside vae_generate_showers), compression and writing (threaded: summed over
 * the worker threads), waiting, fsync, and the cores kept busy (process CPU seconds / wall
 * seconds). The model has random weights with the output biases set
 * from 300 simulated showers (vae_lik_init_bias), so the output has the sparsity and scale of
 * showers; or pass --model to use a trained one.
 * Usage: bench_e2e [--n N (100000)] [--batch B (10000)] [--dir DIR (build/bench-out)]
 *                  [--model PATH]
 */
#include "bench/timing.h"
#include "io/writer.h"
#include "base/status.h"
#include "physics/simulate.h"
#include "vae/generate.h"
#include "vae/lik.h"
#include "vae/modelio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROG "bench_e2e"
#define CHECK(x) bench_check((x), PROG, #x)

typedef struct {
    const char *name;
    double total, compute, compress, write, wait, sync;
    double cpu; /* user + system CPU seconds of the process (all threads) */
    size_t stored;
} run_t;

static double cpu_s(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + 1e-6 * u.ru_utime.tv_usec + u.ru_stime.tv_sec + 1e-6 * u.ru_stime.tv_usec;
}

static int fsync_path(const char *p)
{
    int fd = open(p, O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* write(2) of `bytes` in 8 MiB blocks, then fsync */
static void raw_write(const char *path, size_t bytes, run_t *r)
{
    enum { BLK = 8 << 20 };
    char *buf = malloc(BLK);
    if (!buf) bench_check(-1, PROG, "out of memory");
    for (size_t i = 0; i < BLK; i++) buf[i] = (char)(i * 131);
    double t0 = base_now(), c0 = cpu_s();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) bench_check(-1, PROG, "cannot create the raw file");
    for (size_t done = 0; done < bytes;) {
        size_t k = bytes - done < BLK ? bytes - done : BLK;
        ssize_t w = write(fd, buf, k);
        if (w <= 0) bench_check(-1, PROG, "raw write failed");
        done += (size_t)w;
    }
    double t1 = base_now();
    fsync(fd);
    close(fd);
    r->sync = base_now() - t1;
    r->write = t1 - t0;
    r->total = base_now() - t0;
    r->cpu = cpu_s() - c0;
    r->stored = bytes;
    unlink(path);
    free(buf);
}

/* n showers in batches into path (NULL: compute only) with the given writer options */
static void generate(vae_infer_t *q, const phys_geometry_t *g, size_t n, size_t B, const char *path,
                     const io_writer_opts_t *o, run_t *r)
{
    const size_t V = (size_t)g->n_voxels;
    float *E = malloc(B * sizeof *E), *X[2] = {malloc(B * V * sizeof(float)), malloc(B * V * sizeof(float))};
    double *Ed = malloc(B * sizeof *Ed);
    if (!E || !X[0] || !X[1] || !Ed) bench_check(-1, PROG, "out of memory");
    io_writer_t w;
    double t0 = base_now(), in_append = 0, c0 = cpu_s();
    if (path) CHECK(io_writer_open(&w, path, g, o));
    for (size_t f = 0, b = 0; f < n; f += B, b ^= 1) { /* X[b] is written while X[b ^ 1] is generated */
        size_t k = n - f < B ? n - f : B;
        phys_sim_energies_loguniform(Ed, k, 1e3, 1e6, 7, f);
        for (size_t i = 0; i < k; i++) E[i] = (float)Ed[i];
        double t = base_now();
        CHECK(vae_generate_showers(q, (int)k, E, NULL, 7, f, X[b]));
        double t2 = base_now();
        r->compute += t2 - t;
        if (path) CHECK(io_writer_append_async(&w, E, X[b], k));
        in_append += base_now() - t2;
    }
    if (path) {
        io_chunkpipe_stats_t st;
        io_writer_stats(&w, &st);
        double t = base_now();
        CHECK(io_writer_close(&w));
        double t2 = base_now();
        if (fsync_path(path) != 0) bench_check(-1, PROG, "fsync failed");
        r->sync = base_now() - t2;
        if (o->threads > 0) { /* the pipe's split; the caller's waits include the final drain */
            r->compress = st.compress_s, r->write = st.write_s;
            r->wait = st.wait_s + (t2 - t);
        } else { /* HDF5's filter: compression and writing happen inside append and close */
            r->write = in_append + (t2 - t);
        }
        struct stat sb;
        r->stored = stat(path, &sb) == 0 ? (size_t)sb.st_size : 0;
        unlink(path);
    }
    r->total = base_now() - t0;
    r->cpu = cpu_s() - c0;
    free(E), free(X[0]), free(X[1]), free(Ed);
}

static void row(const run_t *r, size_t n, size_t raw_bytes)
{
    printf("| %-34s | %7.2f | %8.0f | %7.0f | %8.1f | %7.2f | %7.2f | %7.2f | %6.2f | %6.2f | %5.2f |\n", r->name,
           r->total, n / r->total, raw_bytes / r->total * 1e-6, r->stored * 1e-6, r->compute, r->compress, r->write,
           r->wait, r->sync, r->cpu / r->total);
}

/* a model of the preset: random weights, output biases at 300 simulated showers' marginals */
static void make_model(const layer_ctx_t *ctx, const phys_geometry_t *g, const char *preset, vae_model_t *m)
{
    vae_config_t c;
    CHECK(vae_config_preset(&c, preset, g->name, g->n_voxels, g->threshold_mev));
    CHECK(vae_model_init(m, &c, ctx, 0));
    vae_model_init_params(m, 1);
    enum { NS = 300 };
    phys_sim_t s;
    CHECK(phys_sim_init(&s, g));
    double Ed[NS];
    float E[NS], *X = malloc((size_t)NS * g->n_voxels * sizeof *X);
    if (!X) bench_check(-1, PROG, "out of memory");
    phys_sim_energies_loguniform(Ed, NS, 1e3, 1e6, 3, 0);
    for (int i = 0; i < NS; i++) E[i] = (float)Ed[i];
    CHECK(phys_sim_batch(&s, Ed, NULL, NS, 3, 0, X));
    vae_lik_init_bias(&m->cfg, NS, X, E, layer_dense_b(&m->dec.head));
    free(X);
}

int main(int argc, char **argv)
{
    size_t n = 100000, B = 10000;
    const char *dir = "build/bench-out", *model = NULL, *preset = "default";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc) n = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) B = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--preset") && i + 1 < argc) preset = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--n N (100000)] [--batch B (10000)] [--dir DIR (build/bench-out)] "
                            "[--model PATH (a random model of --preset)] [--preset P (default)]\n", PROG);
            return 2;
        }
    }
    if (n < 1 || B < 1 || B > 1000000) return fprintf(stderr, "%s: bad --n or --batch\n", PROG), 2;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return fprintf(stderr, "%s: cannot create %s\n", PROG, dir), 1;
    layer_ctx_t ctx;
    CHECK(layer_ctx_init(&ctx));
    phys_geometry_t g;
    vae_model_t m;
    if (model) CHECK(vae_model_load(&m, &g, model, &ctx, 0, NULL));
    else {
        CHECK(phys_geometry_preset(&g, "ds2"));
        make_model(&ctx, &g, preset, &m);
    }
    vae_infer_t q;
    CHECK(vae_infer_init(&q, &m, &ctx, 0, LAYER_F32));
    const size_t raw_bytes = n * (size_t)g.n_voxels * 4;
    char path[1100];
    snprintf(path, sizeof path, "%s/e2e.h5", dir);
    io_writer_opts_t plain = io_writer_defaults(), filt = io_writer_defaults(), thr = io_writer_defaults();
    io_writer_opts_t thz = io_writer_defaults(), ns = io_writer_defaults();
    plain.deflate = 0;
    filt.threads = 0;
    thz.zlib = 1;
    thz.shower_shuffle = thr.shower_shuffle = filt.shower_shuffle = 1; /* ns: the default, no shuffle */
    enum { NR = 7 };
    run_t r[NR] = {{.name = "raw write(2) of the same bytes"},
                   {.name = "generation only (no output)"},
                   {.name = "uncompressed HDF5"},
                   {.name = "deflate 4, HDF5 filter (1 thread)"},
                   {.name = "deflate 4, threaded zlib"},
                   {.name = "deflate 4, threaded libdeflate"},
                   {.name = "deflate 4, libdeflate, no shuffle"}};
    fprintf(stderr, "%s: %zu showers of %d voxels (%.2f GB raw), batch %zu, %d threads, %d compression threads\n",
            PROG, n, g.n_voxels, raw_bytes * 1e-9, B, layer_threads(), thr.threads);
    raw_write(path, raw_bytes + n * 4, &r[0]);
    generate(&q, &g, n, B, NULL, NULL, &r[1]);
    generate(&q, &g, n, B, path, &plain, &r[2]);
    generate(&q, &g, n, B, path, &filt, &r[3]);
    generate(&q, &g, n, B, path, &thz, &r[4]);
    generate(&q, &g, n, B, path, &thr, &r[5]);
    generate(&q, &g, n, B, path, &ns, &r[6]);
    char cpu[200];
    bench_cpu_model(cpu, sizeof cpu);
    char what[1200];
    if (model) snprintf(what, sizeof what, "model %s", model);
    else snprintf(what, sizeof what, "%s preset, random weights, output biases from simulated showers", preset);
    printf("\n%s on %s: %zu ds2 showers (%s), batch %zu, ISA %s, %d threads, %d compression threads, "
           "output in %s\n\n", PROG, cpu, n, what, B, layer_isa_name(), layer_threads(), thr.threads, dir);
    printf("| run | seconds | showers/s | MB/s (raw) | file MB | compute s | compress s | write s | wait s | fsync s "
           "| cores busy |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < NR; i++) row(&r[i], n, raw_bytes);
    printf("\nuncompressed / raw file-system rate: %.0f%%; threaded libdeflate / HDF5 filter: %.2fx (threaded zlib "
           "%.2fx, no shuffle %.2fx); compression ratio %.2f (zlib %.2f, no shuffle %.2f)\n", 100 * r[0].total / r[2].total,
           r[3].total / r[5].total, r[3].total / r[4].total, r[3].total / r[6].total,
           r[5].stored ? (double)raw_bytes / r[5].stored : 0, r[4].stored ? (double)raw_bytes / r[4].stored : 0,
           r[6].stored ? (double)raw_bytes / r[6].stored : 0);
    vae_infer_free(&q);
    vae_model_free(&m);
    layer_ctx_free(&ctx);
    return 0;
}
