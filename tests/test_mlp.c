/* tests/test_mlp.c: the MLP block (layers/mlp.h) in training mode against central finite
 * differences, with batch norm before and after the activation. */
#include "base/rng.h"
#include "base/status.h"
#include "layers/mlp.h"
#include "tests/testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

TestSuite(mlp, .init = tu_ctx_setup, .fini = tu_ctx_teardown);

enum { B = 8, IN = 5, OUT = 3 };

typedef struct {
    layer_mlp_t m;
    float x[B * IN], c[B * OUT];
} net_t;

/* J = sum_b,o c_bo y_bo (batch statistics in the forward pass, as in training) */
static double J(void *p)
{
    net_t *n = p;
    layer_mlp_forward(&n->m, n->x, 1, NULL);
    double s = 0;
    for (int i = 0; i < B * OUT; i++) s += (double)n->c[i] * n->m.y[i];
    return s;
}

static void check(int bn_after_act)
{
    layer_arena_t A;
    net_t n;
    layer_mlp_cfg_t cfg = {.B = B, .in = IN, .n = 2, .n_out = OUT, .w = {6, 4}, .act = {LAYER_ACT_TANH, 0},
                           .batch_norm = 1, .bn_after_act = bn_after_act};
    cr_assert_eq(layer_arena_init(&A, layer_mlp_arena_size(&cfg)), BASE_OK);
    cr_assert_eq(layer_mlp_init(&n.m, &tu_ctx, &A, &cfg), BASE_OK, "%s", base_last_error());
    base_rng_t r;
    base_rng_init(&r, 4, 0);
    layer_mlp_init_params(&n.m, &r);
    for (int i = 0; i < n.m.n; i++) { /* non-trivial gamma and beta */
        layer_bnorm_t *b = &n.m.blk[i].bnorm;
        tu_fill(A.param + b->g_off, (size_t)b->C, 0.5f, 1.5f, 30 + i);
        tu_fill(A.param + b->b_off, (size_t)b->C, -0.5f, 0.5f, 40 + i);
    }
    tu_fill(n.x, B * IN, -1, 1, 5);
    tu_fill(n.c, B * OUT, -1, 1, 6);
    J(&n);
    float dy[B * OUT], dx[B * IN];
    memcpy(dy, n.c, sizeof dy);
    cr_assert_eq(layer_mlp_backward(&n.m, n.x, dy, dx), BASE_OK);
    /* every parameter and the input, against central differences of J */
    double worst = 0;
    for (size_t k = 0; k < A.n + B * IN; k++) {
        float *p = k < A.n ? A.param + k : n.x + (k - A.n);
        float keep = *p, h = 1e-2f;
        *p = keep + h;
        double fp = J(&n);
        *p = keep - h;
        double fm = J(&n);
        *p = keep;
        double fd = (fp - fm) / (2.0 * h), g = k < A.n ? A.grad[k] : dx[k - A.n];
        worst = fmax(worst, fabs(fd - g) / fmax(fabs(fd), 0.05));
    }
    cr_log_info("batch norm %s: worst relative error %g over %zu parameters and inputs", bn_after_act ? "after" : "before",
                worst, A.n + B * IN);
    cr_expect(worst < 2e-2, "batch norm %s the activation: worst relative gradient error %g",
              bn_after_act ? "after" : "before", worst);
    layer_mlp_free(&n.m);
    layer_arena_free(&A);
}

Test(mlp, gradients_match_finite_differences_with_batch_norm_before_the_activation) { check(0); }
Test(mlp, gradients_match_finite_differences_with_batch_norm_after_the_activation) { check(1); }
