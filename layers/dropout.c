/* layers/dropout.c: inverted dropout (see dropout.h). */
#include "layers/dropout.h"

#include "base/status.h"

#include <stdlib.h>
#include <string.h>

int layer_dropout_init(layer_dropout_t *L, const layer_ctx_t *ctx, layer_arena_t *A, const layer_dropout_cfg_t *cfg)
{
    (void)ctx, (void)A;
    const float p = cfg->p;
    const size_t max_n = cfg->max_n;
    memset(L, 0, sizeof *L);
    if (!(p >= 0.f && p < 1.f)) return base_error(BASE_EINVAL, "dropout: p = %g not in [0, 1)", p);
    L->p = p;
    L->max_n = max_n;
    L->mask = malloc((max_n ? max_n : 1) * sizeof(float));
    if (!L->mask) return base_error(BASE_ENOMEM, "dropout: cannot allocate %zu floats", max_n);
    return BASE_OK;
}

void layer_dropout_free(layer_dropout_t *L)
{
    if (!L) return;
    free(L->mask);
    memset(L, 0, sizeof *L);
}

int layer_dropout_forward(layer_dropout_t *L, layer_dropout_mode_t mode, base_rng_t *r,
                          const float *x, float *y, size_t n)
{
    if (n > L->max_n) return base_error(BASE_EINVAL, "dropout: n = %zu > capacity %zu", n, L->max_n);
    if (mode == LAYER_DROPOUT_OFF) {
        if (x != y) memcpy(y, x, n * sizeof *y);
        return BASE_OK;
    }
    base_rng_uniform(r, L->mask, n);
    const float p = L->p, scale = 1.f / (1.f - p);
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        L->mask[i] = L->mask[i] >= p ? scale : 0.f;
        y[i] = x[i] * L->mask[i];
    }
    return BASE_OK;
}

void layer_dropout_backward(const layer_dropout_t *L, const float *dy, float *dx, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * L->mask[i];
}
