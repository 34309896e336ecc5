/* tests/test_dropout.c: dropout in training and MC modes. */
#include "base/rng.h"
#include "base/status.h"
#include "layers/dropout.h"
#include "tests/testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

Test(dropout, training_keeps_expectation_and_backward_uses_the_mask)
{
    const size_t n = 100000;
    const float p = 0.3f;
    layer_dropout_t L;
    cr_assert_eq(layer_dropout_init(&L, NULL, NULL, &(layer_dropout_cfg_t){p, n}), BASE_OK);
    float *x = malloc(n * 4), *y = malloc(n * 4), *dx = malloc(n * 4);
    for (size_t i = 0; i < n; i++) x[i] = 2.f;
    base_rng_t r;
    base_rng_init(&r, 1, 0);
    cr_assert_eq(layer_dropout_forward(&L, LAYER_DROPOUT_TRAIN, &r, x, y, n), BASE_OK);
    size_t dropped = 0;
    double mean = 0;
    for (size_t i = 0; i < n; i++) {
        dropped += y[i] == 0.f;
        mean += y[i];
        cr_assert(y[i] == 0.f || fabsf(y[i] - 2.f / 0.7f) < 1e-6f);
    }
    double se = sqrt(p * (1 - p) / n);
    cr_expect(fabs((double)dropped / n - p) < 5 * se, "dropped %g", (double)dropped / n);
    cr_expect(fabs(mean / n - 2.0) < 5 * 2 * sqrt(p / (1 - p) / n), "mean %g", mean / n);
    layer_dropout_backward(&L, x, dx, n); /* dy = 2: dx = 2 * mask = y */
    cr_assert(memcmp(dx, y, n * 4) == 0);
    layer_dropout_free(&L);
    free(x);
    free(y);
    free(dx);
}

Test(dropout, off_is_identity_and_mc_passes_differ_but_repeat_by_seed)
{
    enum { N = 4096 };
    layer_dropout_t L;
    layer_dropout_init(&L, NULL, NULL, &(layer_dropout_cfg_t){0.5f, N});
    float x[N], a[N], b[N], c[N];
    tu_fill(x, N, 1, 2, 9);
    base_rng_t r;
    base_rng_init(&r, 3, 0);
    layer_dropout_forward(&L, LAYER_DROPOUT_OFF, &r, x, a, N);
    cr_assert(memcmp(a, x, sizeof a) == 0);
    cr_assert_eq(r.offset, 0, "OFF must not consume random numbers");
    layer_dropout_forward(&L, LAYER_DROPOUT_MC, &r, x, a, N);
    layer_dropout_forward(&L, LAYER_DROPOUT_MC, &r, x, b, N);
    cr_assert(memcmp(a, b, sizeof a) != 0, "two MC passes must differ");
    base_rng_init(&r, 3, 0);
    omp_set_num_threads(1);
    layer_dropout_forward(&L, LAYER_DROPOUT_MC, &r, x, c, N);
    cr_assert(memcmp(a, c, sizeof a) == 0, "same seed, same mask");
    cr_assert_eq(layer_dropout_forward(&L, LAYER_DROPOUT_MC, &r, x, c, N + 1), BASE_EINVAL);
    layer_dropout_free(&L);
    cr_assert_eq(layer_dropout_init(&L, NULL, NULL, &(layer_dropout_cfg_t){1.0f, 4}), BASE_EINVAL);
}
