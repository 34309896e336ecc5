/* bench/timing.c: see timing.h. */
#include "bench/timing.h"
#include "base/clock.h"

#include "base/status.h"

#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bench_check(int rc, const char *prog, const char *what)
{
    if (rc >= 0) return;
    fprintf(stderr, "%s: %s: %s\n", prog, what, base_last_error());
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_time(bench_fn f, void *arg, double window, double *median)
{
    enum { MAXN = 4096 };
    static double t[MAXN];
    bench_check(f(arg), "bench", "warm-up call");
    int n = 0;
    double t0 = base_now(), prev = t0;
    while (n < MAXN && (prev - t0 < window || n < 3)) {
        bench_check(f(arg), "bench", "timed call");
        double now = base_now();
        t[n++] = now - prev;
        prev = now;
    }
    qsort(t, n, sizeof *t, cmp_double);
    if (median) *median = t[n / 2];
    return t[0];
}

typedef struct {
    const layer_ctx_t *c;
    dnnl_primitive_t p;
    dnnl_memory_t a, b, d;
} mm_t;

static int mm_run(void *p)
{
    mm_t *m = p;
    LAYER_DNNL_TRY(dnnl_primitive_execute(m->p, m->c->st, 3,
                                          (dnnl_exec_arg_t[]){{DNNL_ARG_SRC, m->a}, {DNNL_ARG_WEIGHTS, m->b},
                                                              {DNNL_ARG_DST, m->d}}));
    LAYER_DNNL_TRY(dnnl_stream_wait(m->c->st));
    return 0;
}

/* C[M, N] = A[M, K] B[K, N]; weights_any: B in the (blocked) layout oneDNN picks. */
static double matmul_gflops(const layer_ctx_t *c, int M, int K, int N, int weights_any, double window)
{
    dnnl_memory_desc_t a, b, d;
    bench_check(layer_md_2d(&a, M, K), "peak", "md");
    bench_check(layer_md_2d(&d, M, N), "peak", "md");
    if (dnnl_memory_desc_init_by_tag(&b, 2, (dnnl_dims_t){K, N}, dnnl_f32,
                                     weights_any ? dnnl_format_tag_any : dnnl_ab) != dnnl_success)
        bench_check(-1, "peak", "weights md");
    dnnl_matmul_desc_t md;
    if (dnnl_matmul_desc_init(&md, &a, &b, NULL, &d) != dnnl_success) bench_check(-1, "peak", "matmul desc");
    mm_t m = {.c = c};
    dnnl_primitive_desc_t pd;
    bench_check(layer_prim_create(c, &md, NULL, NULL, &m.p, &pd), "peak", "matmul");
    b = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_primitive_desc_destroy(pd);
    size_t bbytes = dnnl_memory_desc_get_size(&b);
    float *A = calloc((size_t)M * K, 4), *B = calloc(bbytes, 1), *D = calloc((size_t)M * N, 4);
    if (!A || !B || !D) bench_check(-1, "peak", "out of memory");
    for (size_t i = 0; i < (size_t)M * K; i++) A[i] = (float)(i % 13) * 0.01f;
    for (size_t i = 0; i < bbytes / 4; i++) B[i] = (float)(i % 7) * 0.01f;
    bench_check(layer_mem_wrap(c, &a, A, &m.a), "peak", "memory");
    bench_check(layer_mem_wrap(c, &b, B, &m.b), "peak", "memory");
    bench_check(layer_mem_wrap(c, &d, D, &m.d), "peak", "memory");
    double s = bench_time(mm_run, &m, window, NULL);
    layer_prims_free(&m.p, 1);
    layer_mems_free((dnnl_memory_t[]){m.a, m.b, m.d}, 3);
    free(A);
    free(B);
    free(D);
    return 2.0 * M * K * N / s * 1e-9;
}

double bench_matmul_peak(const layer_ctx_t *c, double window, char *detail)
{
    window = window > 2.0 ? window : 2.0; /* a shared VM's neighbours: give each shape time */
    double p[4] = {matmul_gflops(c, 2048, 2048, 2048, 0, window), matmul_gflops(c, 2048, 2048, 2048, 1, window),
                   matmul_gflops(c, 1024, 1024, 6480, 0, window), matmul_gflops(c, 1024, 1024, 6480, 1, window)};
    double peak = 0;
    for (int i = 0; i < 4; i++) peak = p[i] > peak ? p[i] : peak;
    if (detail)
        snprintf(detail, 160, "2048^3 W ab %.1f / W any %.1f, 1024x1024x6480 W ab %.1f / W any %.1f", p[0], p[1],
                 p[2], p[3]);
    return peak;
}

cJSON *bench_run_json(const char *prog, const char *cmd, const char *peer, const char *hint)
{
    FILE *f = popen(cmd, "r");
    if (!f) {
        fprintf(stderr, "%s: %s peer skipped: cannot run it\n", prog, peer);
        return NULL;
    }
    static char out[1 << 16];
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    int st = pclose(f);
    cJSON *j = cJSON_Parse(out);
    if (st != 0 || !j || cJSON_GetObjectItem(j, "error")) {
        cJSON *e = j ? cJSON_GetObjectItem(j, "error") : NULL;
        fprintf(stderr, "%s: %s peer skipped (%s); %s\n", prog, peer, cJSON_IsString(e) ? e->valuestring : "it did not run",
                hint);
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

void bench_cpu_model(char *s, size_t n)
{
    snprintf(s, n, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            snprintf(s, n, "%s", v ? v + 2 : line);
            s[strcspn(s, "\n")] = 0;
            break;
        }
    if (f) fclose(f);
}

/* XOR of every 64-bit word of [p, p + n), 32 bytes per load: a read stream the compiler
 * cannot drop. */
__attribute__((target("avx2"))) static uint64_t xor_words(const uint64_t *p, size_t n)
{
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a = _mm256_xor_si256(a, _mm256_loadu_si256((const __m256i *)(p + i)));
        b = _mm256_xor_si256(b, _mm256_loadu_si256((const __m256i *)(p + i + 4)));
        c = _mm256_xor_si256(c, _mm256_loadu_si256((const __m256i *)(p + i + 8)));
        d = _mm256_xor_si256(d, _mm256_loadu_si256((const __m256i *)(p + i + 12)));
    }
    uint64_t w[4];
    _mm256_storeu_si256((__m256i *)w, _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d)));
    uint64_t x = w[0] ^ w[1] ^ w[2] ^ w[3];
    for (; i < n; i++) x ^= p[i];
    return x;
}

double bench_read_gbps(size_t bytes, int threads, double window)
{
    const size_t n = bytes / 8;
    uint64_t *buf = malloc(n * 8);
    if (!buf) return 0;
    double best = 1e30;
    volatile uint64_t sink = 0;
#pragma omp parallel num_threads(threads)
    { /* first touch by the thread that reads the part later */
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        for (size_t i = n * t / T; i < n * (t + 1) / T; i++) buf[i] = i * 0x9e3779b97f4a7c15ull;
    }
    for (double t0 = base_now(); base_now() - t0 < window;) {
        double s = base_now();
        uint64_t x = 0;
#pragma omp parallel num_threads(threads) reduction(^ : x)
        {
            const int t = omp_get_thread_num(), T = omp_get_num_threads();
            const uint64_t *q = buf + n * t / T;
            const size_t k = n * (t + 1) / T - n * t / T;
            if (__builtin_cpu_supports("avx2")) x ^= xor_words(q, k);
            else
                for (size_t i = 0; i < k; i++) x ^= q[i];
        }
        s = base_now() - s;
        sink ^= x;
        best = s < best ? s : best;
    }
    free(buf);
    (void)sink;
    return (double)n * 8 / best * 1e-9;
}
