/* layers/pgemm.h: a panel GEMM for the decoder's small and odd batches,
 *     Y (M, N) = f(X (M, K) W^T + b),   W (N, K) row-major as in layers/dense.h,
 * for any M, with W packed once into panels of 16 outputs, P[p][k][0..15] = W[16 p + j][k]
 * (zero beyond N), read in place at every call: no per-call packing, no synchronisation
 * beyond the OpenMP team (none with one thread).
 *
 * Summation order, which makes a row's result independent of M, of the row blocking and of
 * the thread count (threads split outputs, or rows, never the K sum):
 *     y = f( ((p_0 + p_1) + ... + p_{C-1}) + b ),   p_c = fma chain over k in chunk c,
 *                                                    ascending k, starting from 0,
 * with chunks of kc inputs (the last one shorter). layers/dense.c chooses kc as the one for
 * which this reproduces oneDNN 2.6's brgemm bit for bit (probed on the layer's own weights),
 * so that the two engines may compute different rows of one batch.
 * f is identity, relu or leaky relu (y = x > 0 ? x : alpha x): exact, hence the same in both.
 *
 * The kernel is AVX-512 (register tiles of up to 8 rows x 3 panels); layer_pgemm_supported
 * says whether this CPU and activation can use it. layer_pgemm_ref computes the same numbers
 * with scalar fmaf, the oracle of the tests.
 */
#ifndef LAYERS_PGEMM_H
#define LAYERS_PGEMM_H

#include "layers/act.h"

typedef struct {
    int K, N, np, kc;     /* inputs, outputs, panels ceil(N / 16), K chunk */
    layer_act_spec_t act;
    float *P;             /* owned: (np, K, 16) packed W, 64-byte aligned */
    float *b;             /* owned: (np * 16) bias, zero padded */
} layer_pgemm_t;

/* 1 when the CPU has AVX-512F and f is identity, relu or leaky relu. */
int layer_pgemm_supported(layer_act_spec_t act);

/* W: (N, K), b: (N) copied and packed (call again after W changes: layer_pgemm_pack).
 * kc >= 1. Returns BASE_ENOMEM / BASE_EINVAL (unsupported activation or CPU). */
int layer_pgemm_init(layer_pgemm_t *g, int K, int N, int kc, layer_act_spec_t act);
void layer_pgemm_free(layer_pgemm_t *g);
/* W: (N, K), b: (N) -> g->P, g->b. */
void layer_pgemm_pack(layer_pgemm_t *g, const float *W, const float *b);

/* X: (M, K), Y: (M, N) row-major, M >= 1; up to nthr threads (OpenMP; 1 = this thread only,
 * and fewer when the product is small). */
void layer_pgemm_run(const layer_pgemm_t *g, int M, const float *X, float *Y, int nthr);

/* The same sums with scalar fmaf: W (N, K), b (N), X (M, K) -> Y (M, N). */
void layer_pgemm_ref(const float *W, const float *b, int K, int N, int kc, layer_act_spec_t act, int M,
                     const float *X, float *Y);

#endif
