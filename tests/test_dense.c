/* tests/test_dense.c: the dense layer against the double reference loops and
 * central finite differences. */
#include "layers/act.h"
#include "layers/arena.h"
#include "layers/dense.h"
#include "layers/pgemm.h"
#include "layers/ref.h"
#include "base/status.h"
#include "tests/testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

TestSuite(dense, .init = tu_ctx_setup, .fini = tu_ctx_teardown);

static const layer_act_spec_t ACTS[] = {
    {LAYER_ACT_IDENTITY, 0}, {LAYER_ACT_RELU, 0},    {LAYER_ACT_LEAKY_RELU, 0.2f},
    {LAYER_ACT_SIGMOID, 0},  {LAYER_ACT_TANH, 0},    {LAYER_ACT_SOFTPLUS, 0}};
enum { NACT = sizeof ACTS / sizeof *ACTS };

/* A dense layer with random parameters and its arena. */
typedef struct {
    layer_arena_t A;
    layer_dense_t L;
    int B, in, out;
} fixture_t;

static void fixture_init(fixture_t *f, int B, int in, int out, layer_act_spec_t act, uint64_t seed)
{
    f->B = B;
    f->in = in;
    f->out = out;
    cr_assert_eq(layer_arena_init(&f->A, layer_dense_arena_size(in, out)), BASE_OK);
    layer_dense_cfg_t cfg = {.in = in, .out = out, .batch = B, .act = act};
    int rc = layer_dense_init(&f->L, &tu_ctx, &f->A, &cfg);
    cr_assert_eq(rc, BASE_OK, "%s", base_last_error());
    tu_fill(layer_dense_w(&f->L), (size_t)in * out, -0.5f, 0.5f, seed);
    tu_fill(layer_dense_b(&f->L), (size_t)out, -0.5f, 0.5f, seed + 1);
}

static void fixture_free(fixture_t *f)
{
    layer_dense_free(&f->L);
    layer_arena_free(&f->A);
}

static double *ref_forward(const fixture_t *f, const float *x)
{
    size_t nx = (size_t)f->B * f->in, nw = (size_t)f->in * f->out;
    double *xd = malloc(nx * 8), *wd = malloc(nw * 8), *bd = malloc(f->out * 8);
    double *yd = malloc((size_t)f->B * f->out * 8);
    tu_to_double(xd, x, nx);
    tu_to_double(wd, layer_dense_w(&f->L), nw);
    tu_to_double(bd, layer_dense_b(&f->L), f->out);
    layer_ref_dense(yd, xd, wd, bd, f->B, f->in, f->out, f->L.cfg.act);
    free(xd);
    free(wd);
    free(bd);
    return yd;
}

Test(dense, forward_matches_reference_for_every_activation)
{
    const int B = 64, in = 100, out = 50; /* the first Par04 encoder layer */
    for (int a = 0; a < NACT; a++) {
        fixture_t f;
        fixture_init(&f, B, in, out, ACTS[a], 10 + a);
        float *x = malloc((size_t)B * in * 4), *y = malloc((size_t)B * out * 4);
        tu_fill(x, (size_t)B * in, -1, 1, 3);
        cr_assert_eq(layer_dense_forward(&f.L, x, y), BASE_OK, "%s", base_last_error());
        double *yr = ref_forward(&f, x);
        double e = tu_max_rel_err(y, yr, (size_t)B * out, 0.1); /* abs 1e-5 near 0 */
        cr_expect(e < 1e-4, "%s: relative error %g", layer_act_name(ACTS[a].kind), e);
        fixture_free(&f);
        free(x);
        free(y);
        free(yr);
    }
}

Test(dense, inference_matmul_matches_reference_for_any_batch)
{
    const int in = 33, out = 70;
    fixture_t f;
    fixture_init(&f, 16, in, out, ACTS[2], 5);
    const int ns[] = {1, 7, 16, 1000, 3};
    for (unsigned k = 0; k < sizeof ns / sizeof *ns; k++) {
        int n = ns[k];
        float *x = malloc((size_t)n * in * 4), *y = malloc((size_t)n * out * 4);
        tu_fill(x, (size_t)n * in, -1, 1, 100 + k);
        cr_assert_eq(layer_dense_infer(&f.L, n, x, y), BASE_OK, "%s", base_last_error());
        fixture_t g = f;
        g.B = n;
        double *yr = ref_forward(&g, x);
        double e = tu_max_rel_err(y, yr, (size_t)n * out, 0.1);
        cr_expect(e < 1e-4, "n = %d: relative error %g", n, e);
        free(x);
        free(y);
        free(yr);
    }
    cr_assert_eq(layer_dense_infer(&f.L, 0, NULL, NULL), BASE_EINVAL);
    fixture_free(&f);
}

/* A fixed-row layer (sizes 1, 8, 64, 512) with random parameters, packed. */
static void fixed_init(fixture_t *f, int in, int out, layer_prec_t prec, int dst_f32)
{
    f->in = in;
    f->out = out;
    cr_assert_eq(layer_arena_init(&f->A, layer_dense_arena_size(in, out)), BASE_OK);
    layer_dense_cfg_t cfg = {.in = in, .out = out, .act = ACTS[2], .infer_rows = {1, 8, 64, 512},
                             .infer_prec = prec, .infer_dst_f32 = dst_f32};
    cr_assert_eq(layer_dense_init(&f->L, &tu_ctx, &f->A, &cfg), BASE_OK, "%s", base_last_error());
    tu_fill(layer_dense_w(&f->L), (size_t)in * out, -0.5f, 0.5f, in);
    tu_fill(layer_dense_b(&f->L), (size_t)out, -0.5f, 0.5f, out);
    cr_assert_eq(layer_dense_pack(&f->L), BASE_OK, "%s", base_last_error());
}

Test(dense, fixed_row_sizes_give_the_same_rows_bit_for_bit_at_any_thread_count)
{
    const int shapes[][2] = {{33, 256}, {512, 1024}, {1024, 700}, {14, 6480}};
    const int rows[] = {1, 8, 64, 512};
    for (int s = 0; s < 4; s++) {
        fixture_t f;
        const int in = shapes[s][0], out = shapes[s][1];
        fixed_init(&f, in, out, LAYER_F32, 1);
        float *x = malloc((size_t)512 * in * 4), *y = malloc((size_t)512 * out * 4), *y1 = malloc((size_t)512 * out * 4);
        tu_fill(x, (size_t)512 * in, -1, 1, 7);
        omp_set_num_threads(2);
        cr_assert_eq(layer_dense_infer_fixed(&f.L, 3, x, y), BASE_OK, "%s", base_last_error());
        f.B = 512;
        double *yr = ref_forward(&f, x);
        double e = tu_max_rel_err(y, yr, (size_t)512 * out, 1.0); /* f32 sums of up to 1024 terms */
        cr_expect(e < 1e-4, "%dx%d: relative error %g against the reference", in, out, e);
        for (int k = 0; k < 3; k++) /* the first rows of each smaller size, 1 and 2 threads */
            for (int t = 1; t <= 2; t++) {
                omp_set_num_threads(t);
                cr_assert_eq(layer_dense_infer_fixed(&f.L, k, x, y1), BASE_OK);
                cr_expect(memcmp(y, y1, (size_t)rows[k] * out * 4) == 0, "%dx%d: %d rows on %d threads differ",
                          in, out, rows[k], t);
            }
        omp_set_num_threads(2);
        free(x);
        free(y);
        free(y1);
        free(yr);
        fixture_free(&f);
    }
}

/* The panel GEMM: bit for bit its scalar fmaf loop (the same sums) for any M, K chunk, thread
 * count and ragged N, and close to the double reference loop. */
Test(dense, panel_gemm_matches_its_scalar_loop_bit_for_bit_and_the_double_loop)
{
    if (!layer_pgemm_supported(ACTS[0])) cr_skip_test("no AVX-512 on this CPU");
    const int shapes[][3] = {{33, 256, 512}, {70, 37, 512}, {1025, 50, 1024}, {14, 20, 512}, {300, 130, 7}};
    const int Ms[] = {1, 2, 9, 100, 130};
    for (int s = 0; s < 5; s++)
        for (int a = 0; a < 3; a++) {
            const int K = shapes[s][0], N = shapes[s][1], kc = shapes[s][2], Mx = 130;
            float *W = malloc((size_t)N * K * 4), *b = malloc((size_t)N * 4), *x = malloc((size_t)Mx * K * 4);
            float *y = malloc((size_t)Mx * N * 4), *yr = malloc((size_t)Mx * N * 4);
            double *xd = malloc((size_t)Mx * K * 8), *wd = malloc((size_t)N * K * 8), *bd = malloc((size_t)N * 8),
                   *yd = malloc((size_t)Mx * N * 8);
            tu_fill(W, (size_t)N * K, -0.5f, 0.5f, 3 + s);
            tu_fill(b, (size_t)N, -0.5f, 0.5f, 4 + s);
            tu_fill(x, (size_t)Mx * K, -1, 1, 5 + s);
            layer_pgemm_t g;
            cr_assert_eq(layer_pgemm_init(&g, K, N, kc, ACTS[a]), BASE_OK, "%s", base_last_error());
            layer_pgemm_pack(&g, W, b);
            layer_pgemm_ref(W, b, K, N, kc, ACTS[a], Mx, x, yr);
            tu_to_double(xd, x, (size_t)Mx * K);
            tu_to_double(wd, W, (size_t)N * K);
            tu_to_double(bd, b, (size_t)N);
            layer_ref_dense(yd, xd, wd, bd, Mx, K, N, ACTS[a]);
            double e = tu_max_rel_err(yr, yd, (size_t)Mx * N, 1.0);
            cr_expect(e < 1e-4, "%dx%d: the scalar loop is %g from the double loop", K, N, e);
            for (int m = 0; m < 5; m++)
                for (int t = 1; t <= 2; t++) {
                    memset(y, 0xff, (size_t)Mx * N * 4); /* NaN: every output must be written */
                    layer_pgemm_run(&g, Ms[m], x, y, t);
                    cr_expect(memcmp(y, yr, (size_t)Ms[m] * N * 4) == 0, "%dx%d %s: M = %d on %d threads differs",
                              K, N, layer_act_name(ACTS[a].kind), Ms[m], t);
                }
            layer_pgemm_free(&g);
            free(W), free(b), free(x), free(y), free(yr), free(xd), free(wd), free(bd), free(yd);
        }
    cr_assert_eq(layer_pgemm_init(&(layer_pgemm_t){0}, 10, 10, 512, ACTS[3]), BASE_EINVAL); /* sigmoid */
}

/* The any-row path of a fixed-row layer: on for the decoders' shapes and exact activations,
 * and any M gives the rows of the largest fixed size bit for bit (oneDNN's sums), on 1 and 2
 * threads; off for an inexact activation, where only the fixed sizes run. */
Test(dense, any_row_counts_give_the_fixed_rows_bit_for_bit)
{
    if (!layer_pgemm_supported(ACTS[0])) cr_skip_test("no AVX-512 on this CPU");
    const int shapes[][2] = {{33, 256}, {256, 512}, {512, 1024}, {1024, 700}, {14, 20}, {100, 300}, {1100, 64}};
    const int Ms[] = {1, 5, 100, 511, 512};
    for (int s = 0; s < 7; s++)
        for (int a = 0; a < 3; a++) {
            fixture_t f;
            const int in = shapes[s][0], out = shapes[s][1];
            f.in = in, f.out = out;
            cr_assert_eq(layer_arena_init(&f.A, layer_dense_arena_size(in, out)), BASE_OK);
            layer_dense_cfg_t cfg = {.in = in, .out = out, .act = ACTS[a], .infer_rows = {1, 8, 64, 512},
                                     .infer_dst_f32 = 1};
            cr_assert_eq(layer_dense_init(&f.L, &tu_ctx, &f.A, &cfg), BASE_OK, "%s", base_last_error());
            tu_fill(layer_dense_w(&f.L), (size_t)in * out, -0.5f, 0.5f, in + a);
            tu_fill(layer_dense_b(&f.L), (size_t)out, -0.5f, 0.5f, out);
            cr_assert_eq(layer_dense_pack(&f.L), BASE_OK, "%s", base_last_error());
            float *x = malloc((size_t)512 * in * 4), *y = malloc((size_t)512 * out * 4), *y1 = malloc((size_t)512 * out * 4);
            tu_fill(x, (size_t)512 * in, -1, 1, 9);
            if (!layer_dense_any_rows(&f.L)) {
                /* a CPU on which oneDNN sums K in a way no uniform chunking reproduces (on AMD Zen 4
                 * and oneDNN 2.6 every shape here has one): the fixed sizes serve alone, other
                 * row counts are refused, generation stays deterministic (vae tests) */
                cr_log_warn("%dx%d %s: no K chunk reproduces oneDNN on %s; the any-row path is off", in, out,
                            layer_act_name(ACTS[a].kind), layer_isa_name());
                cr_expect_eq(layer_dense_infer_rows(&f.L, 100, x, y1), BASE_EINVAL);
                cr_expect_eq(layer_dense_infer_rows(&f.L, 64, x, y1), BASE_OK);
                free(x), free(y), free(y1);
                fixture_free(&f);
                continue;
            }
            cr_assert_eq(layer_dense_infer_fixed(&f.L, 3, x, y), BASE_OK, "%s", base_last_error());
            for (int m = 0; m < 5; m++)
                for (int t = 1; t <= 2; t++) {
                    omp_set_num_threads(t);
                    cr_assert_eq(layer_dense_infer_rows(&f.L, Ms[m], x, y1), BASE_OK, "%s", base_last_error());
                    cr_expect(memcmp(y, y1, (size_t)Ms[m] * out * 4) == 0, "%dx%d %s: %d rows on %d threads differ",
                              in, out, layer_act_name(ACTS[a].kind), Ms[m], t);
                }
            omp_set_num_threads(2);
            free(x), free(y), free(y1);
            fixture_free(&f);
        }
    fixture_t f;
    cr_assert_eq(layer_arena_init(&f.A, layer_dense_arena_size(40, 30)), BASE_OK);
    layer_dense_cfg_t cfg = {.in = 40, .out = 30, .act = ACTS[3], .infer_rows = {1, 8, 64, 512}, .infer_dst_f32 = 1};
    cr_assert_eq(layer_dense_init(&f.L, &tu_ctx, &f.A, &cfg), BASE_OK, "%s", base_last_error());
    cr_assert_eq(layer_dense_pack(&f.L), BASE_OK);
    cr_expect(!layer_dense_any_rows(&f.L), "sigmoid: the any-row path must stay off");
    float x[100 * 40] = {0}, y[100 * 30];
    cr_expect_eq(layer_dense_infer_rows(&f.L, 100, x, y), BASE_EINVAL);
    cr_expect_eq(layer_dense_infer_rows(&f.L, 64, x, y), BASE_OK);
    cr_expect_eq(layer_dense_infer_rows(&f.L, 513, x, y), BASE_EINVAL);
    fixture_free(&f);
}

/* bf16 -> f32: the high half of the f32 bits. */
static float bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float v;
    memcpy(&v, &u, 4);
    return v;
}

Test(dense, bf16_fixed_rows_match_the_reference_to_bf16_rounding)
{
    if (!layer_bf16_available()) cr_skip_test("oneDNN has no bf16 on %s", layer_isa_name());
    const int in = 256, out = 300, M = 8;
    for (int dst_f32 = 0; dst_f32 <= 1; dst_f32++) {
        fixture_t f;
        fixed_init(&f, in, out, LAYER_BF16, dst_f32);
        float *x = malloc((size_t)M * in * 4), *y = malloc((size_t)M * out * 4);
        uint16_t *xh = malloc((size_t)M * in * 2);
        tu_fill(x, (size_t)M * in, -1, 1, 9);
        for (int i = 0; i < M * in; i++) { /* x exactly representable: truncate to bf16 */
            uint32_t u;
            memcpy(&u, &x[i], 4);
            xh[i] = (uint16_t)(u >> 16);
            x[i] = bf16_to_f32(xh[i]);
        }
        cr_assert_eq(layer_dense_infer_fixed(&f.L, 1, xh, y), BASE_OK, "%s", base_last_error());
        if (!dst_f32) /* y holds M * out bf16 values: widen in place from the back */
            for (int i = M * out - 1; i >= 0; i--) y[i] = bf16_to_f32(((uint16_t *)y)[i]);
        f.B = M;
        double *yr = ref_forward(&f, x);
        /* W rounded to bf16: |dy| <= 2^-8 sum |x w| (+ 2^-8 |y| for a bf16 output) */
        const float *w = layer_dense_w(&f.L);
        int bad = 0;
        for (int r = 0; r < M; r++)
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int i = 0; i < in; i++) s += fabs((double)x[r * in + i] * w[(size_t)o * in + i]);
                double tol = (s + fabs(yr[r * out + o])) / 256 + 1e-6;
                bad += fabs(y[r * out + o] - yr[r * out + o]) > tol;
            }
        cr_expect(bad == 0, "bf16 (dst %s): %d outputs outside bf16 rounding", dst_f32 ? "f32" : "bf16", bad);
        free(x);
        free(xh);
        free(y);
        free(yr);
        fixture_free(&f);
    }
}

/* J(theta) = sum_{b,o} r_bo y_bo(theta) in double via the reference; dJ/dy = r. */
typedef struct {
    double *x, *w, *b, *r;
    int B, in, out;
    layer_act_spec_t act;
} jctx_t;

static double J(void *p)
{
    jctx_t *c = p;
    size_t ny = (size_t)c->B * c->out;
    double *y = malloc(ny * 8), s = 0;
    layer_ref_dense(y, c->x, c->w, c->b, c->B, c->in, c->out, c->act);
    for (size_t i = 0; i < ny; i++) s += c->r[i] * y[i];
    free(y);
    return s;
}

/* Smallest |pre-activation|: finite differences are only valid away from kinks. */
static double min_abs_pre(const jctx_t *c)
{
    layer_act_spec_t id = {LAYER_ACT_IDENTITY, 0};
    size_t ny = (size_t)c->B * c->out;
    double *y = malloc(ny * 8), m = INFINITY;
    layer_ref_dense(y, c->x, c->w, c->b, c->B, c->in, c->out, id);
    for (size_t i = 0; i < ny; i++) m = fmin(m, fabs(y[i]));
    free(y);
    return m;
}

Test(dense, backward_matches_finite_differences_for_every_activation)
{
    const int B = 4, in = 7, out = 5;
    const double h = 1e-6;
    for (int a = 0; a < NACT; a++) {
        fixture_t f;
        fixture_init(&f, B, in, out, ACTS[a], 40 + a);
        float x[B * in], y[B * out], dy[B * out], dx[B * in];
        tu_fill(x, B * in, -1, 1, 70 + a);
        tu_fill(dy, B * out, -1, 1, 90 + a);
        double xd[B * in], wd[in * out], bd[out], rd[B * out];
        tu_to_double(xd, x, B * in);
        tu_to_double(wd, layer_dense_w(&f.L), in * out);
        tu_to_double(bd, layer_dense_b(&f.L), out);
        tu_to_double(rd, dy, B * out);
        jctx_t c = {xd, wd, bd, rd, B, in, out, ACTS[a]};
        cr_assert(min_abs_pre(&c) > 100 * h * 10, "inputs too close to a kink");

        cr_assert_eq(layer_dense_forward(&f.L, x, y), BASE_OK);
        cr_assert_eq(layer_dense_backward(&f.L, x, y, dy, dx), BASE_OK, "%s", base_last_error());
        const char *name = layer_act_name(ACTS[a].kind);
        double ew = tu_fd_check(J, &c, wd, in * out, f.A.grad + f.L.w_off, h, 1e-2);
        double eb = tu_fd_check(J, &c, bd, out, f.A.grad + f.L.b_off, h, 1e-2);
        double ex = tu_fd_check(J, &c, xd, B * in, dx, h, 1e-2);
        cr_expect(ew < 1e-4, "%s: dW relative error %g", name, ew);
        cr_expect(eb < 1e-4, "%s: db relative error %g", name, eb);
        cr_expect(ex < 1e-4, "%s: dx relative error %g", name, ex);
        fixture_free(&f);
    }
}

Test(dense, bad_configuration_gives_a_clear_error)
{
    layer_arena_t A;
    layer_arena_init(&A, 64);
    layer_dense_t L;
    layer_dense_cfg_t cfg = {.in = 0, .out = 4, .batch = 2};
    cr_assert_eq(layer_dense_init(&L, &tu_ctx, &A, &cfg), BASE_EINVAL);
    cr_assert(strstr(base_last_error(), "in=0") != NULL, "message: %s", base_last_error());
    cfg.in = 100; /* does not fit in 64 floats */
    cr_assert_eq(layer_dense_init(&L, &tu_ctx, &A, &cfg), BASE_ENOMEM);
    layer_dense_free(&L);
    layer_arena_free(&A);
}

/* A parameters-only ReLU layer of in x out in its own arena, for the initialisation tests. */
static void init_layer(layer_arena_t *A, layer_dense_t *L, int in, int out)
{
    layer_arena_init(A, layer_dense_arena_size(in, out));
    layer_dense_cfg_t cfg = {.in = in, .out = out, .batch = 0, .act = {LAYER_ACT_RELU, 0}};
    cr_assert_eq(layer_dense_init(L, &tu_ctx, A, &cfg), BASE_OK);
}

Test(dense, initialisation_has_the_he_variance)
{
    const int in = 512, out = 256;
    layer_arena_t A;
    layer_dense_t L;
    init_layer(&A, &L, in, out);
    base_rng_t r;
    base_rng_init(&r, 1, 0);
    layer_dense_init_params(&L, &r);
    double s = 0, q = 0;
    const float *w = layer_dense_w(&L);
    for (int i = 0; i < in * out; i++) {
        s += w[i];
        q += (double)w[i] * w[i];
    }
    double var = q / (in * out), want = 2.0 / in;
    cr_expect(fabs(var / want - 1) < 0.02, "variance %g, He %g", var, want);
    cr_expect(fabs(s / (in * out)) < 5 * sqrt(want / (in * out)));
    layer_dense_free(&L);
    layer_arena_free(&A);
}

/* Keras' initialisers (Par04's own): RandomNormal(0.05) has variance 0.0025; Glorot uniform
 * stays inside +-sqrt(6 / (in + out)) with variance 2 / (in + out); biases are zero. */
Test(dense, keras_initialisers_have_their_moments)
{
    const int in = 512, out = 256;
    layer_arena_t A;
    layer_dense_t L;
    init_layer(&A, &L, in, out);
    base_rng_t r;
    base_rng_init(&r, 2, 0);
    for (int k = 0; k < 2; k++) {
        if (k == 0) layer_dense_init_params_normal(&L, &r, 0.05f);
        else layer_dense_init_params_glorot_uniform(&L, &r);
        double s = 0, q = 0, mx = 0, a = sqrt(6.0 / (in + out));
        const float *w = layer_dense_w(&L);
        for (int i = 0; i < in * out; i++) s += w[i], q += (double)w[i] * w[i], mx = fmax(mx, fabs(w[i]));
        double var = q / (in * out), want = k == 0 ? 0.0025 : 2.0 / (in + out);
        cr_expect(fabs(var / want - 1) < 0.02, "%s: variance %g, want %g", k ? "glorot" : "normal", var, want);
        cr_expect(fabs(s / (in * out)) < 5 * sqrt(want / (in * out)));
        if (k == 1) cr_expect(mx <= a, "Glorot uniform outside its bound: %g > %g", mx, a);
        for (int o = 0; o < out; o++) cr_assert(layer_dense_b(&L)[o] == 0.f);
    }
    layer_dense_free(&L);
    layer_arena_free(&A);
}

/* PyTorch Linear's default: W and b uniform on +-1/sqrt(in): variance 1 / (3 in), inside the bound. */
Test(dense, torch_initialiser_has_its_moments)
{
    const int in = 512, out = 256;
    layer_arena_t A;
    layer_dense_t L;
    init_layer(&A, &L, in, out);
    base_rng_t r;
    base_rng_init(&r, 4, 0);
    layer_dense_init_params_torch(&L, &r);
    const double a = 1 / sqrt((double)in), want = a * a / 3;
    double s = 0, q = 0, mx = 0;
    const float *w = layer_dense_w(&L), *b = layer_dense_b(&L);
    for (int i = 0; i < in * out; i++) s += w[i], q += (double)w[i] * w[i], mx = fmax(mx, fabs(w[i]));
    cr_expect(fabs(q / (in * out) / want - 1) < 0.02, "variance %g, want %g", q / (in * out), want);
    cr_expect(fabs(s / (in * out)) < 5 * sqrt(want / (in * out)));
    double bq = 0, bmx = 0;
    for (int o = 0; o < out; o++) bq += (double)b[o] * b[o], bmx = fmax(bmx, fabs(b[o]));
    cr_expect(mx <= a && bmx <= a, "outside +-%g: %g %g", a, mx, bmx);
    cr_expect(fabs(bq / out / want - 1) < 0.3, "bias variance %g, want %g", bq / out, want);
    layer_dense_free(&L);
    layer_arena_free(&A);
}
