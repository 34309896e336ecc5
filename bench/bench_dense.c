/* bench/bench_dense.c: dense layer timings at the reference shapes, against the machine's
 * measured oneDNN f32 matmul rate.
 *
 * Prints a markdown table: shape, pass, best and median ms per call, GFLOP/s (from the best
 * call) and the fraction of the peak,
 * with the ISA oneDNN dispatches to and the thread count (OMP_NUM_THREADS). The peak is the
 * best rate of a plain oneDNN f32 matmul (2048^3 and 1024 x 1024 x 6480, weights in plain
 * 'ab' layout and in the blocked layout oneDNN prefers).
 * FLOPs: 2 B in out per forward, backward-data and backward-weights pass.
 * Usage: bench_dense [--quick]   (--quick: shorter timing windows)
 */
#include "bench/timing.h"
#include "layers/arena.h"
#include "layers/ctx.h"
#include "layers/dense.h"
#include "base/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double min_window = 0.5; /* seconds of timed calls per configuration */

#define CHECK(x) bench_check((x), "bench_dense", #x)

/* Seconds per call (fastest); the median lands in last_median. */
static double last_median;
static double time_pass(bench_fn f, void *ctx) { return bench_time(f, ctx, min_window, &last_median); }

/* ---- dense layer passes ---- */
typedef struct {
    layer_dense_t L;
    float *x, *y, *dy, *dx;
    int n; /* inference batch */
} dense_t;

static int run_fwd(void *p) { dense_t *d = p; return layer_dense_forward(&d->L, d->x, d->y); }
static int run_bwd(void *p)
{
    dense_t *d = p;
    return layer_dense_backward(&d->L, d->x, d->y, d->dy, d->dx);
}
static int run_inf(void *p) { dense_t *d = p; return layer_dense_infer(&d->L, d->n, d->x, d->y); }

static float *buf(size_t n, float v)
{
    float *p = malloc(n * sizeof *p);
    if (!p) exit(1);
    for (size_t i = 0; i < n; i++) p[i] = v * (float)((i % 17) + 1) / 17.f;
    return p;
}

static void row(const char *shape, const char *pass, double s, double flop, double peak)
{
    double g = flop / s * 1e-9;
    printf("| %-22s | %-24s | %9.3f | %9.3f | %7.1f | %5.1f%% |\n", shape, pass, s * 1e3,
           last_median * 1e3, g, 100 * g / peak);
}

static void bench_train(const layer_ctx_t *c, int B, int in, int out, double peak)
{
    layer_arena_t A;
    CHECK(layer_arena_init(&A, layer_dense_arena_size(in, out)));
    dense_t d;
    layer_dense_cfg_t cfg = {.in = in, .out = out, .batch = B, .act = {LAYER_ACT_LEAKY_RELU, 0.2f}};
    CHECK(layer_dense_init(&d.L, c, &A, &cfg));
    for (size_t i = 0; i < A.n; i++) A.param[i] = 0.01f * (float)(i % 11) - 0.05f;
    d.x = buf((size_t)B * in, 0.5f);
    d.y = buf((size_t)B * out, 0.f);
    d.dy = buf((size_t)B * out, 0.1f);
    d.dx = buf((size_t)B * in, 0.f);
    char shape[64];
    snprintf(shape, sizeof shape, "%d x %d -> %d", B, in, out);
    double flop = 2.0 * B * in * out;
    row(shape, "forward (+leaky_relu)", time_pass(run_fwd, &d), flop, peak);
    row(shape, "backward (data+weights)", time_pass(run_bwd, &d), 2 * flop, peak);
    layer_dense_free(&d.L);
    layer_arena_free(&A);
    free(d.x);
    free(d.y);
    free(d.dy);
    free(d.dx);
}

/* The bench-ds2 decoder, layer by layer, with the run-time-batch inference matmul. */
static void bench_decoder(const layer_ctx_t *c, int n, double peak)
{
    static const int dims[] = {33, 256, 512, 1024, 6480};
    double total = 0, total_median = 0, flop_total = 0;
    for (int l = 0; l < 4; l++) {
        int in = dims[l], out = dims[l + 1];
        layer_arena_t A;
        CHECK(layer_arena_init(&A, layer_dense_arena_size(in, out)));
        dense_t d = {.n = n};
        layer_act_spec_t act = {l == 3 ? LAYER_ACT_SIGMOID : LAYER_ACT_LEAKY_RELU, 0.2f};
        layer_dense_cfg_t cfg = {.in = in, .out = out, .batch = 0, .act = act};
        CHECK(layer_dense_init(&d.L, c, &A, &cfg));
        for (size_t i = 0; i < A.n; i++) A.param[i] = 0.01f * (float)(i % 11) - 0.05f;
        d.x = buf((size_t)n * in, 0.5f);
        d.y = buf((size_t)n * out, 0.f);
        char shape[64];
        snprintf(shape, sizeof shape, "%d x %d -> %d", n, in, out);
        double s = time_pass(run_inf, &d), flop = 2.0 * n * in * out;
        row(shape, l == 3 ? "infer (+sigmoid)" : "infer (+leaky_relu)", s, flop, peak);
        total += s;
        total_median += last_median;
        flop_total += flop;
        layer_dense_free(&d.L);
        layer_arena_free(&A);
        free(d.x);
        free(d.y);
    }
    char shape[64];
    snprintf(shape, sizeof shape, "decoder, batch %d", n);
    last_median = total_median;
    row(shape, "all 4 layers", total, flop_total, peak);
    printf("| %-22s | %-24s | %9.4f |           | %7.0f | showers/s |\n", "", "ms per shower",
           total * 1e3 / n, n / total);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--quick") == 0) min_window = 0.1;
    else if (argc > 1) {
        fprintf(stderr, "usage: bench_dense [--quick]\n");
        return 2;
    }
    layer_ctx_t c;
    CHECK(layer_ctx_init(&c));
    const dnnl_version_t *v = dnnl_version();
    char cpu[200];
    bench_cpu_model(cpu, sizeof cpu);
    printf("bench_dense on %s: oneDNN %d.%d.%d, isa %s, threads %d\n\n", cpu, v->major, v->minor, v->patch,
           layer_isa_name(), layer_threads());
    char detail[160];
    double peak = bench_matmul_peak(&c, min_window, detail);
    printf("measured f32 matmul peak: %.1f GFLOP/s (best of %s)\n\n", peak, detail);
    printf("| shape (B x in -> out)  | pass                     |   best ms | median ms | GFLOP/s | of peak |\n");
    printf("|------------------------|--------------------------|-----------|-----------|---------|---------|\n");
    bench_train(&c, 1024, 6481, 1024, peak);
    bench_train(&c, 1024, 1024, 6480, peak);
    const int ns[] = {1, 100, 10000};
    for (int i = 0; i < 3; i++) bench_decoder(&c, ns[i], peak);
    layer_ctx_free(&c);
    return 0;
}
