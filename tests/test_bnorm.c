/* tests/test_bnorm.c: batch normalisation against the reference loops and finite differences. */
#include "layers/arena.h"
#include "layers/bnorm.h"
#include "layers/ref.h"
#include "base/status.h"
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
    cr_assert_eq(layer_arena_init(&f->A, layer_bnorm_arena_size(C)), BASE_OK);
    cr_assert_eq(layer_bnorm_init(&f->L, &tu_ctx, &f->A, &(layer_bnorm_cfg_t){B, C, 1e-5f, 0.1f}), BASE_OK, "%s",
                 base_last_error());
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
    cr_assert_eq(layer_bnorm_forward_train(&f.L, x, y), BASE_OK, "%s", base_last_error());
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
    cr_assert_eq(layer_bnorm_forward_infer(&f.L, x, y), BASE_OK);
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
    cr_assert_eq(layer_bnorm_forward_train(&f.L, x, y), BASE_OK);
    cr_assert_eq(layer_bnorm_backward(&f.L, x, dy, dx), BASE_OK, "%s", base_last_error());
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
    cr_assert_eq(layer_bnorm_init(&L, &tu_ctx, &A, &(layer_bnorm_cfg_t){1, 4, 1e-5f, 0.1f}), BASE_EINVAL);
    cr_assert(strstr(base_last_error(), "batch") != NULL);
    layer_arena_free(&A);
}
