/* tests/test_bnorm.c: batch normalisation and dropout. */
#include "layers/arena.h"
#include "layers/bnorm.h"
#include "layers/dropout.h"
#include "layers/ref.h"
#include "layers/status.h"
#include "tests/testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

TestSuite(bnorm, .init = tu_ctx_setup, .fini = tu_ctx_teardown);

enum { B = 16, C = 6 };

typedef struct {
    layer_arena_t A;
    layer_bnorm_t L;
    float *gamma, *beta;
} fixture_t;

static void fixture_init(fixture_t *f)
{
    cr_assert_eq(layer_arena_init(&f->A, layer_bnorm_arena_size(C)), LAYER_OK);
    cr_assert_eq(layer_bnorm_init(&f->L, &tu_ctx, &f->A, B, C, 1e-5f, 0.1f), LAYER_OK, "%s",
                 layer_last_error());
    layer_bnorm_init_params(&f->L);
    f->gamma = f->A.param + f->L.g_off;
    f->beta = f->A.param + f->L.b_off;
    tu_fill(f->gamma, C, 0.5f, 1.5f, 1);
    tu_fill(f->beta, C, -0.5f, 0.5f, 2);
}

static void fixture_free(fixture_t *f)
{
    layer_bnorm_free(&f->L);
    layer_arena_free(&f->A);
}

Test(bnorm, training_forward_and_running_statistics_match_reference)
{
    fixture_t f;
    fixture_init(&f);
    float x[B * C], y[B * C];
    tu_fill(x, B * C, -2, 3, 3);
    cr_assert_eq(layer_bnorm_forward_train(&f.L, x, y), LAYER_OK, "%s", layer_last_error());
    double xd[B * C], gd[C], bd[C], yr[B * C], mr[C], vr[C];
    tu_to_double(xd, x, B * C);
    tu_to_double(gd, f.gamma, C);
    tu_to_double(bd, f.beta, C);
    layer_ref_bnorm_train(yr, mr, vr, xd, gd, bd, B, C, 1e-5);
    cr_expect(tu_max_rel_err(y, yr, B * C, 0.1) < 1e-5);
    cr_expect(tu_max_rel_err(f.L.bmean, mr, C, 0.1) < 1e-5);
    cr_expect(tu_max_rel_err(f.L.bvar, vr, C, 0.1) < 1e-5);
    /* running statistics after one step from (0, 1): 0.1 mu and 0.9 + 0.1 var B/(B-1) */
    for (int c = 0; c < C; c++) {
        cr_expect(fabs(f.L.run_mean[c] - 0.1 * mr[c]) < 1e-6);
        cr_expect(fabs(f.L.run_var[c] - (0.9 + 0.1 * vr[c] * B / (B - 1))) < 1e-5);
    }
    fixture_free(&f);
}

Test(bnorm, inference_uses_running_statistics)
{
    fixture_t f;
    fixture_init(&f);
    tu_fill(f.L.run_mean, C, -1, 1, 4);
    tu_fill(f.L.run_var, C, 0.5f, 2, 5);
    float x[B * C], y[B * C];
    tu_fill(x, B * C, -2, 2, 6);
    cr_assert_eq(layer_bnorm_forward_infer(&f.L, x, y), LAYER_OK);
    double xd[B * C], gd[C], bd[C], md[C], vd[C], yr[B * C];
    tu_to_double(xd, x, B * C);
    tu_to_double(gd, f.gamma, C);
    tu_to_double(bd, f.beta, C);
    tu_to_double(md, f.L.run_mean, C);
    tu_to_double(vd, f.L.run_var, C);
    layer_ref_bnorm_infer(yr, xd, gd, bd, md, vd, B, C, 1e-5);
    cr_expect(tu_max_rel_err(y, yr, B * C, 0.1) < 1e-5);
    fixture_free(&f);
}

typedef struct {
    double *x, *g, *b, *r;
} jctx_t;

static double J(void *p)
{
    jctx_t *c = p;
    double y[B * C], s = 0;
    layer_ref_bnorm_train(y, NULL, NULL, c->x, c->g, c->b, B, C, 1e-5);
    for (int i = 0; i < B * C; i++) s += c->r[i] * y[i];
    return s;
}

Test(bnorm, backward_matches_finite_differences)
{
    fixture_t f;
    fixture_init(&f);
    float x[B * C], y[B * C], dy[B * C], dx[B * C];
    tu_fill(x, B * C, -2, 3, 7);
    tu_fill(dy, B * C, -1, 1, 8);
    cr_assert_eq(layer_bnorm_forward_train(&f.L, x, y), LAYER_OK);
    cr_assert_eq(layer_bnorm_backward(&f.L, x, dy, dx), LAYER_OK, "%s", layer_last_error());
    double xd[B * C], gd[C], bd[C], rd[B * C];
    tu_to_double(xd, x, B * C);
    tu_to_double(gd, f.gamma, C);
    tu_to_double(bd, f.beta, C);
    tu_to_double(rd, dy, B * C);
    jctx_t c = {xd, gd, bd, rd};
    double ex = tu_fd_check(J, &c, xd, B * C, dx, 1e-6, 1e-2);
    double eg = tu_fd_check(J, &c, gd, C, f.A.grad + f.L.g_off, 1e-6, 1e-2);
    double eb = tu_fd_check(J, &c, bd, C, f.A.grad + f.L.b_off, 1e-6, 1e-2);
    cr_expect(ex < 1e-3, "dx relative error %g", ex);
    cr_expect(eg < 1e-4, "dgamma relative error %g", eg);
    cr_expect(eb < 1e-4, "dbeta relative error %g", eb);
    fixture_free(&f);
}

Test(bnorm, batch_of_one_is_rejected)
{
    layer_arena_t A;
    layer_bnorm_t L;
    layer_arena_init(&A, 64);
    cr_assert_eq(layer_bnorm_init(&L, &tu_ctx, &A, 1, 4, 1e-5f, 0.1f), LAYER_EINVAL);
    cr_assert(strstr(layer_last_error(), "batch") != NULL);
    layer_arena_free(&A);
}

/* ---- dropout ---- */

Test(dropout, training_keeps_expectation_and_backward_uses_the_mask)
{
    const size_t n = 100000;
    const float p = 0.3f;
    layer_dropout_t L;
    cr_assert_eq(layer_dropout_init(&L, p, n), LAYER_OK);
    float *x = malloc(n * 4), *y = malloc(n * 4), *dx = malloc(n * 4);
    for (size_t i = 0; i < n; i++) x[i] = 2.f;
    layer_rng_t r;
    layer_rng_init(&r, 1, 0);
    cr_assert_eq(layer_dropout_forward(&L, LAYER_DROPOUT_TRAIN, &r, x, y, n), LAYER_OK);
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
    layer_dropout_init(&L, 0.5f, N);
    float x[N], a[N], b[N], c[N];
    tu_fill(x, N, 1, 2, 9);
    layer_rng_t r;
    layer_rng_init(&r, 3, 0);
    layer_dropout_forward(&L, LAYER_DROPOUT_OFF, &r, x, a, N);
    cr_assert(memcmp(a, x, sizeof a) == 0);
    cr_assert_eq(r.offset, 0, "OFF must not consume random numbers");
    layer_dropout_forward(&L, LAYER_DROPOUT_MC, &r, x, a, N);
    layer_dropout_forward(&L, LAYER_DROPOUT_MC, &r, x, b, N);
    cr_assert(memcmp(a, b, sizeof a) != 0, "two MC passes must differ");
    layer_rng_init(&r, 3, 0);
    omp_set_num_threads(1);
    layer_dropout_forward(&L, LAYER_DROPOUT_MC, &r, x, c, N);
    cr_assert(memcmp(a, c, sizeof a) == 0, "same seed, same mask");
    cr_assert_eq(layer_dropout_forward(&L, LAYER_DROPOUT_MC, &r, x, c, N + 1), LAYER_EINVAL);
    layer_dropout_free(&L);
    cr_assert_eq(layer_dropout_init(&L, 1.0f, 4), LAYER_EINVAL);
}
