/* layers/optim.c: fused Adam/AdamW and gradient clipping (see optim.h). */
#include "layers/optim.h"

#include <math.h>

void layer_adam_init(layer_adam_t *opt, float weight_decay)
{
    opt->beta1 = 0.9f;
    opt->beta2 = 0.999f;
    opt->eps = 1e-8f;
    opt->weight_decay = weight_decay;
    opt->t = 0;
}

void layer_adam_step(layer_adam_t *opt, layer_arena_t *A, float lr)
{
    layer_adam_step_range(opt, A, lr, 1.f, 0, A->n);
}

void layer_adam_step_range(layer_adam_t *opt, layer_arena_t *A, float lr, float gscale, size_t lo, size_t hi)
{
    opt->t++;
    const float b1 = opt->beta1, b2 = opt->beta2, eps = opt->eps, wd = opt->weight_decay;
    const float c1 = 1.f / (float)(1.0 - pow(b1, (double)opt->t));
    const float c2 = 1.f / (float)(1.0 - pow(b2, (double)opt->t));
    float *restrict th = A->param, *restrict m = A->m, *restrict v = A->v;
    const float *restrict g = A->grad;
#pragma omp parallel for simd schedule(static)
    for (size_t i = lo; i < hi; i++) {
        const float gi = gscale * g[i]; /* exact for gscale = 1 */
        float mi = b1 * m[i] + (1.f - b1) * gi;
        float vi = b2 * v[i] + (1.f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        th[i] -= lr * (mi * c1 / (sqrtf(vi * c2) + eps) + wd * th[i]);
    }
}

#define NORM_BLOCK 4096

double layer_grad_norm(const layer_arena_t *A) { return sqrt(layer_grad_sumsq(A, 0, A->n)); }

double layer_grad_sumsq(const layer_arena_t *A, size_t first, size_t end)
{
    enum { PARTS = 1024 };
    const size_t nb = (end - first + NORM_BLOCK - 1) / NORM_BLOCK;
    double total = 0.0;
    /* Each block's partial sum (vectorised, in a fixed order within the block) is computed by
     * one thread; the partials are added in block order, PARTS blocks per parallel region: the
     * same bits for any thread count. */
    for (size_t b0 = 0; b0 < nb; b0 += PARTS) {
        double part[PARTS];
        size_t nb1 = nb - b0 < PARTS ? nb - b0 : PARTS;
#pragma omp parallel for schedule(static)
        for (size_t j = 0; j < nb1; j++) {
            size_t lo = first + (b0 + j) * NORM_BLOCK, hi = lo + NORM_BLOCK < end ? lo + NORM_BLOCK : end;
            const float *g = A->grad;
            double s = 0.0;
#pragma omp simd reduction(+ : s)
            for (size_t i = lo; i < hi; i++) s += (double)g[i] * g[i];
            part[j] = s;
        }
        for (size_t j = 0; j < nb1; j++) total += part[j];
    }
    return total;
}

double layer_grad_clip(layer_arena_t *A, double max_norm)
{
    double norm = layer_grad_norm(A);
    if (!isfinite(norm)) return -1.0;
    if (max_norm > 0 && norm > max_norm) {
        const float s = (float)(max_norm / norm);
        float *restrict g = A->grad;
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < A->n; i++) g[i] *= s;
    }
    return norm;
}
