/* layers/pgemm.c: the panel GEMM (see pgemm.h). */
#include "layers/pgemm.h"
#include "base/status.h"

#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define PG_ISA __attribute__((target("avx512f")))
#define PG_R 8  /* rows of a register tile */
#define PG_G 3  /* panels of a register tile: 8 x 3 accumulators + 3 weight vectors */
#define PG_GW 8 /* panels of a tile of 1 or 2 rows (M = 1: eight weight streams in flight) */
#define PG_MC 96 /* rows per cache block: X (96, K) stays in L2 while the panels stream */

int layer_pgemm_supported(layer_act_spec_t act)
{
    if (act.kind != LAYER_ACT_IDENTITY && act.kind != LAYER_ACT_RELU && act.kind != LAYER_ACT_LEAKY_RELU) return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

int layer_pgemm_init(layer_pgemm_t *g, int K, int N, int kc, layer_act_spec_t act)
{
    memset(g, 0, sizeof *g);
    if (K < 1 || N < 1 || kc < 1) return base_error(BASE_EINVAL, "pgemm: bad shape %d x %d (chunk %d)", K, N, kc);
    if (!layer_pgemm_supported(act))
        return base_error(BASE_EINVAL, "pgemm: needs AVX-512 and an exact activation (%s)", layer_act_name(act.kind));
    g->K = K, g->N = N, g->np = (N + 15) / 16, g->kc = kc, g->act = act;
    size_t pb = (size_t)g->np * K * 16 * sizeof(float), bb = (size_t)g->np * 16 * sizeof(float);
    g->P = aligned_alloc(64, pb);
    g->b = aligned_alloc(64, bb);
    if (!g->P || !g->b) {
        layer_pgemm_free(g);
        return base_error(BASE_ENOMEM, "pgemm: out of memory for %zu bytes of panels", pb);
    }
    return BASE_OK;
}

void layer_pgemm_free(layer_pgemm_t *g)
{
    if (!g) return;
    free(g->P);
    free(g->b);
    memset(g, 0, sizeof *g);
}

/* P[p][k][j] = W[16 p + j][k], 0 for 16 p + j >= N. */
void layer_pgemm_pack(layer_pgemm_t *g, const float *W, const float *b)
{
    const int K = g->K, N = g->N;
    for (int p = 0; p < g->np; p++)
        for (int j = 0; j < 16; j++) {
            const int o = 16 * p + j;
            float *dst = g->P + (size_t)p * K * 16 + j;
            for (int k = 0; k < K; k++) dst[(size_t)k * 16] = o < N ? W[(size_t)o * K + k] : 0.f;
            g->b[o] = o < N ? b[o] : 0.f;
        }
}

/* One register tile: R rows x G panels over one K chunk. */
typedef struct {
    const float *X; /* (R, ldx) at the chunk's first input */
    const float *P; /* the first panel at the chunk's first input; panels ldp floats apart */
    float *Y;       /* (R, ldy) at the first panel's first output */
    const float *b; /* bias at the first panel's first output */
    size_t ldx, ldp, ldy;
    int kn, first, last; /* chunk length; first / last chunk of K */
    __mmask16 mlast;     /* outputs of the last panel that exist */
    int act;             /* 0 identity, 1 relu y = max(x, 0), 2 leaky y = x > 0 ? x : alpha x */
    float alpha;
} pg_tile_t;

/* acc[r][g] = sum_k X[r][k] P[g][k][:] (fma chain from 0); then
 * y = first ? acc : y + acc, and on the last chunk y = f(y + b). */
static inline __attribute__((always_inline)) PG_ISA void tile(const pg_tile_t *t, const int R, const int G)
{
    __m512 acc[PG_R][PG_GW];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int g = 0; g < G; g++) acc[r][g] = _mm512_setzero_ps();
    const float *x = t->X, *p = t->P;
    for (int k = 0; k < t->kn; k++) {
        __m512 w[PG_GW];
#pragma GCC unroll 8
        for (int g = 0; g < G; g++) w[g] = _mm512_load_ps(p + g * t->ldp + (size_t)k * 16);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            const __m512 a = _mm512_set1_ps(x[r * t->ldx + k]);
#pragma GCC unroll 8
            for (int g = 0; g < G; g++) acc[r][g] = _mm512_fmadd_ps(a, w[g], acc[r][g]);
        }
    }
    const __m512 zero = _mm512_setzero_ps(), alpha = _mm512_set1_ps(t->alpha);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int g = 0; g < G; g++) {
            const __mmask16 m = g == G - 1 ? t->mlast : (__mmask16)0xffff;
            float *y = t->Y + r * t->ldy + g * 16;
            __m512 v = acc[r][g];
            if (!t->first) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, y), v);
            if (t->last) {
                v = _mm512_add_ps(v, _mm512_load_ps(t->b + g * 16));
                if (t->act == 1) v = _mm512_max_ps(v, zero); /* +0 for x <= 0, as oneDNN */
                if (t->act == 2) {
                    const __mmask16 pos = _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ);
                    v = _mm512_mask_blend_ps(pos, _mm512_mul_ps(v, alpha), v);
                }
            }
            _mm512_mask_storeu_ps(y, m, v);
        }
}

#define PG_DEF(R, G) static PG_ISA void tile_##R##_##G(const pg_tile_t *t) { tile(t, R, G); }
#define PG_DEF_R(R) PG_DEF(R, 1) PG_DEF(R, 2) PG_DEF(R, 3)
#define PG_DEF_W(R) PG_DEF_R(R) PG_DEF(R, 4) PG_DEF(R, 5) PG_DEF(R, 6) PG_DEF(R, 7) PG_DEF(R, 8)
PG_DEF_W(1) PG_DEF_W(2) PG_DEF_R(3) PG_DEF_R(4) PG_DEF_R(5) PG_DEF_R(6) PG_DEF_R(7) PG_DEF_R(8)
#define PG_ROW(R) {tile_##R##_1, tile_##R##_2, tile_##R##_3}
#define PG_ROW_W(R) {tile_##R##_1, tile_##R##_2, tile_##R##_3, tile_##R##_4, tile_##R##_5, tile_##R##_6, tile_##R##_7, tile_##R##_8}
/* [R - 1][G - 1]; G <= 3 for R >= 3 */
static void (*const TILES[PG_R][PG_GW])(const pg_tile_t *) = {PG_ROW_W(1), PG_ROW_W(2), PG_ROW(3), PG_ROW(4),
                                                              PG_ROW(5), PG_ROW(6), PG_ROW(7), PG_ROW(8)};

/* Rows [r0, r1) x panels [p0, p1) of Y, one thread. */
static PG_ISA __attribute__((noinline)) void part(const layer_pgemm_t *g, const float *X, float *Y, int r0, int r1,
                                                  int p0, int p1)
{
    const int K = g->K, tail = g->N % 16;
    pg_tile_t t = {.ldx = (size_t)K, .ldp = (size_t)K * 16, .ldy = (size_t)g->N,
                   .act = g->act.kind == LAYER_ACT_RELU ? 1 : g->act.kind == LAYER_ACT_LEAKY_RELU ? 2 : 0,
                   .alpha = g->act.kind == LAYER_ACT_LEAKY_RELU ? g->act.alpha : 0.f};
    for (int m0 = r0; m0 < r1; m0 += PG_MC) {
        const int m1 = m0 + PG_MC < r1 ? m0 + PG_MC : r1;
        const int gmax = m1 - m0 <= 2 ? PG_GW : PG_G;
        for (int p = p0; p < p1; p += gmax) {
            const int G = p1 - p < gmax ? p1 - p : gmax;
            t.mlast = p + G == g->np && tail ? (__mmask16)((1u << tail) - 1) : (__mmask16)0xffff;
            for (int r = m0; r < m1; r += PG_R) {
                const int R = m1 - r < PG_R ? m1 - r : PG_R;
                for (int c = 0; c < K; c += g->kc) {
                    t.X = X + (size_t)r * K + c;
                    t.P = g->P + (size_t)p * K * 16 + (size_t)c * 16;
                    t.Y = Y + (size_t)r * g->N + (size_t)p * 16;
                    t.b = g->b + (size_t)p * 16;
                    t.kn = K - c < g->kc ? K - c : g->kc;
                    t.first = c == 0;
                    t.last = c + t.kn == K;
                    TILES[R - 1][G - 1](&t);
                }
            }
        }
    }
}

/* Thread t of n: its panels (when there are enough to share), else its rows. */
static void share(const layer_pgemm_t *g, int M, const float *X, float *Y, int t, int n)
{
    if (g->np >= PG_G * n || M < n)
        part(g, X, Y, 0, M, (int)((long)g->np * t / n), (int)((long)g->np * (t + 1) / n));
    else
        part(g, X, Y, (int)((long)M * t / n), (int)((long)M * (t + 1) / n), 0, g->np);
}

void layer_pgemm_run(const layer_pgemm_t *g, int M, const float *X, float *Y, int nthr)
{
    /* a thread per 2^18 multiply-adds at least: below that the team costs more than it saves */
    const double work = (double)M * g->K * g->N;
    int T = (int)(work / (1 << 18));
    T = T < nthr ? T : nthr;
    if (T <= 1) {
        share(g, M, X, Y, 0, 1);
        return;
    }
#pragma omp parallel num_threads(T)
    share(g, M, X, Y, omp_get_thread_num(), omp_get_num_threads());
}

void layer_pgemm_ref(const float *W, const float *b, int K, int N, int kc, layer_act_spec_t act, int M,
                     const float *X, float *Y)
{
    const float alpha = act.alpha;
    for (int m = 0; m < M; m++)
        for (int o = 0; o < N; o++) {
            float tot = 0.f;
            for (int c = 0; c < K; c += kc) {
                float p = 0.f;
                for (int k = c; k < K && k < c + kc; k++) p = fmaf(X[(size_t)m * K + k], W[(size_t)o * K + k], p);
                tot = c == 0 ? p : tot + p;
            }
            float y = tot + b[o];
            if (act.kind == LAYER_ACT_RELU) y = y > 0 ? y : 0.f;
            if (act.kind == LAYER_ACT_LEAKY_RELU) y = y > 0 ? y : alpha * y;
            Y[(size_t)m * N + o] = y;
        }
}
