/* tests/test_optim.c: Adam/AdamW against a hand computation, clipping, schedules, arena. */
#include "layers/arena.h"
#include "layers/optim.h"
#include "layers/schedule.h"
#include "base/status.h"
#include "vae/comm.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

Test(optim, adam_two_steps_match_hand_computation)
{
    layer_arena_t A;
    cr_assert_eq(layer_arena_init(&A, 16), BASE_OK);
    size_t off;
    cr_assert_eq(layer_arena_take(&A, 2, &off), BASE_OK);
    A.param[0] = 1.0f;
    A.param[1] = -2.0f;
    layer_adam_t opt;
    layer_adam_init(&opt, 0.f);
    /* step 1: g = (0.5, -0.1). m = 0.1 g, v = 0.001 g^2, mhat = g, vhat = g^2,
     * theta -= lr * g / (|g| + eps) = lr * sign(g) (to 1e-7) */
    A.grad[0] = 0.5f;
    A.grad[1] = -0.1f;
    layer_adam_step(&opt, &A, 0.01f);
    cr_assert(fabsf(A.param[0] - 0.99f) < 1e-6f, "%.9g", A.param[0]);
    cr_assert(fabsf(A.param[1] - -1.99f) < 1e-6f, "%.9g", A.param[1]);
    cr_assert(fabsf(A.m[0] - 0.05f) < 1e-6f * 0.05f && fabsf(A.v[0] - 0.00025f) < 1e-4f * 0.00025f);
    /* step 2: g = (0.2, 0.3), by hand in double */
    A.grad[0] = 0.2f;
    A.grad[1] = 0.3f;
    layer_adam_step(&opt, &A, 0.01f);
    double g1[2] = {0.5, -0.1}, g2[2] = {0.2, 0.3}, th[2] = {0.99, -1.99};
    for (int i = 0; i < 2; i++) {
        double m = 0.9 * (0.1 * g1[i]) + 0.1 * g2[i];
        double v = 0.999 * (0.001 * g1[i] * g1[i]) + 0.001 * g2[i] * g2[i];
        double mh = m / (1 - 0.81), vh = v / (1 - 0.999 * 0.999);
        double want = th[i] - 0.01 * mh / (sqrt(vh) + 1e-8);
        cr_assert(fabs(A.param[i] - want) < 2e-6, "param %d: %.9g vs %.9g", i, A.param[i], want);
    }
    cr_assert_eq(opt.t, 2);
    layer_arena_free(&A);
}

Test(optim, adamw_decays_weights_with_zero_gradient)
{
    layer_arena_t A;
    size_t off;
    layer_arena_init(&A, 16);
    layer_arena_take(&A, 1, &off);
    A.param[0] = 2.0f;
    layer_adam_t opt;
    layer_adam_init(&opt, 0.1f);
    layer_adam_step(&opt, &A, 0.5f); /* theta -= lr * wd * theta = 2 - 0.1 */
    cr_assert(fabsf(A.param[0] - 1.9f) < 1e-6f, "%.9g", A.param[0]);
    layer_arena_free(&A);
}

Test(optim, clipping_scales_to_max_norm_and_reports_nonfinite)
{
    layer_arena_t A;
    size_t off;
    layer_arena_init(&A, 20000);
    layer_arena_take(&A, 10000, &off);
    layer_arena_take(&A, 3, &off);
    A.grad[0] = 3.f;
    A.grad[off + 2] = 4.f; /* norm 5 across two tensors */
    cr_assert(fabs(layer_grad_norm(&A) - 5.0) < 1e-12);
    double n = layer_grad_clip(&A, 1.0);
    cr_assert(fabs(n - 5.0) < 1e-12);
    cr_assert(fabsf(A.grad[0] - 0.6f) < 1e-7f && fabsf(A.grad[off + 2] - 0.8f) < 1e-7f);
    cr_assert(fabs(layer_grad_clip(&A, 10.0) - 1.0) < 1e-6); /* below max: untouched */
    cr_assert(fabsf(A.grad[0] - 0.6f) < 1e-7f);
    A.grad[5] = NAN;
    cr_assert_eq(layer_grad_clip(&A, 1.0), -1.0);
    layer_arena_free(&A);
}

/* The sharded optimiser's pieces (vae/train.c update_sharded): Adam over the blocks of
 * vae_comm_block, one after the other, is Adam over the whole arena bit for bit; a gradient scale
 * equals scaling the gradient first (to rounding); the blocks' sums of squares add up to the
 * whole norm's, and each block's sum is exactly the whole arena's partial for those floats. */
Test(optim, sharded_adam_and_norm_match_the_whole_arena)
{
    enum { N = 3 * 4096 + 777 };
    layer_arena_t A, B;
    size_t off;
    cr_assert_eq(layer_arena_init(&A, N + 16), BASE_OK);
    cr_assert_eq(layer_arena_init(&B, N + 16), BASE_OK);
    layer_arena_take(&A, N, &off), layer_arena_take(&B, N, &off);
    for (size_t i = 0; i < N; i++) {
        A.param[i] = B.param[i] = sinf((float)i);
        A.grad[i] = B.grad[i] = 0.01f * cosf(0.37f * (float)i) * (float)(1 + i % 7);
    }
    layer_adam_t oa, ob;
    layer_adam_init(&oa, 0.01f), layer_adam_init(&ob, 0.01f);
    for (int t = 0; t < 3; t++) {
        layer_adam_step(&oa, &A, 1e-3f);
        for (int r = 0; r < 3; r++) { /* 3 "ranks", each taking the step on its block */
            size_t lo, hi;
            vae_comm_block(A.n, 3, r, &lo, &hi);
            cr_assert(r > 0 || lo == 0);
            cr_assert(r < 2 || hi == A.n);
            cr_assert_eq(lo % 4096, 0);
            layer_adam_t o = ob;
            layer_adam_step_range(&o, &B, 1e-3f, 1.f, lo, hi);
            if (r == 2) ob = o;
        }
    }
    cr_assert_eq(oa.t, ob.t);
    cr_assert_eq(memcmp(A.param, B.param, N * sizeof(float)), 0, "blockwise Adam differs from whole-arena Adam");
    cr_assert_eq(memcmp(A.v, B.v, N * sizeof(float)), 0);
    double whole = layer_grad_sumsq(&A, 0, A.n), parts = 0;
    for (int r = 0; r < 2; r++) {
        size_t lo, hi;
        vae_comm_block(A.n, 2, r, &lo, &hi);
        parts += layer_grad_sumsq(&A, lo, hi);
    }
    cr_assert(fabs(parts - whole) <= 1e-12 * whole, "%.17g vs %.17g", parts, whole);
    cr_assert(fabs(sqrt(whole) - layer_grad_norm(&A)) == 0);
    /* gscale: one step with 0.5 g equals a step on the halved gradient */
    for (size_t i = 0; i < N; i++) B.grad[i] = 0.5f * A.grad[i];
    memcpy(B.param, A.param, N * sizeof(float)), memcpy(B.m, A.m, N * sizeof(float)), memcpy(B.v, A.v, N * sizeof(float));
    ob = oa;
    layer_adam_step_range(&oa, &A, 1e-3f, 0.5f, 0, A.n);
    layer_adam_step(&ob, &B, 1e-3f);
    for (size_t i = 0; i < N; i++) cr_assert(fabsf(A.param[i] - B.param[i]) <= 1e-6f * fabsf(B.param[i]) + 1e-9f, "%zu", i);
    layer_arena_free(&A), layer_arena_free(&B);
}

Test(optim, arena_aligns_slices_and_refuses_overflow)
{
    layer_arena_t A;
    size_t a, b;
    cr_assert_eq(layer_arena_init(&A, layer_arena_size(5) + layer_arena_size(17)), BASE_OK);
    cr_assert_eq(layer_arena_take(&A, 5, &a), BASE_OK);
    cr_assert_eq(layer_arena_take(&A, 17, &b), BASE_OK);
    cr_assert_eq(a, 0);
    cr_assert_eq(b, 16);
    cr_assert_eq(((uintptr_t)(A.param + b)) % 64, 0);
    cr_assert_eq(layer_arena_take(&A, 1, &a), BASE_ENOMEM);
    cr_assert(base_last_error()[0] != 0);
    layer_arena_free(&A);
    layer_arena_free(&A); /* safe twice */
}

Test(optim, schedules_give_documented_rates)
{
    layer_lr_schedule_t c = {.kind = LAYER_LR_CONSTANT, .base = 0.1f};
    cr_assert_eq(layer_lr_at(&c, 0), 0.1f);
    cr_assert_eq(layer_lr_at(&c, 12345), 0.1f);
    layer_lr_schedule_t s = {.kind = LAYER_LR_STEP, .base = 1.f, .step_size = 10, .gamma = 0.5f};
    cr_assert_eq(layer_lr_at(&s, 9), 1.f);
    cr_assert_eq(layer_lr_at(&s, 10), 0.5f);
    cr_assert_eq(layer_lr_at(&s, 25), 0.25f);
    layer_lr_schedule_t k = {.kind = LAYER_LR_COSINE, .base = 1.f, .warmup = 10, .total = 110,
                             .min_lr = 0.f};
    cr_assert(fabsf(layer_lr_at(&k, 0) - 0.1f) < 1e-7f);   /* warm-up (t+1)/10 */
    cr_assert(fabsf(layer_lr_at(&k, 9) - 1.0f) < 1e-7f);
    cr_assert(fabsf(layer_lr_at(&k, 10) - 1.0f) < 1e-7f);  /* cosine start */
    cr_assert(fabsf(layer_lr_at(&k, 60) - 0.5f) < 1e-6f);  /* half way */
    cr_assert(fabsf(layer_lr_at(&k, 110)) < 1e-7f);        /* end */
    cr_assert(fabsf(layer_lr_at(&k, 500)) < 1e-7f);        /* stays at min */
    layer_lr_kind_t kind;
    cr_assert_eq(layer_lr_parse("cosine", &kind), BASE_OK);
    cr_assert_eq(kind, LAYER_LR_COSINE);
    cr_assert_eq(layer_lr_parse("linear", &kind), BASE_EINVAL);
}
