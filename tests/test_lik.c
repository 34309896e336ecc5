/* tests/test_lik.c: every likelihood's gradient (vae/lik.h) against central finite differences. */
#include "base/status.h"
#include "tests/testutil.h"
#include "vae/config.h"
#include "vae/lik.h"
#include "base/rng.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

enum { N = 3, V = 7 };

static vae_config_t cfg(vae_likelihood_t lik)
{
    vae_config_t c = {.V = V, .lik = lik, .log_eps = 1e-4, .threshold_mev = 0.015, .lv_clamp = 8.f};
    return c;
}

/* Worst relative error of w dL/dout against (L(out + h) - L(out - h)) / 2h. */
static double fd_worst(const vae_config_t *c, float *out, const float *x, const float *E)
{
    const int O = vae_config_n_out(c);
    float *d = malloc(sizeof(float) * N * O);
    vae_lik_loss(c, N, out, x, E, 0.5f, d, NULL);
    double worst = 0;
    for (int i = 0; i < N * O; i++) {
        float keep = out[i], hp = keep + 2e-3f, hm = keep - 2e-3f;
        out[i] = hp;
        double fp = vae_lik_loss(c, N, out, x, E, 1.f, NULL, NULL);
        out[i] = hm;
        double fm = vae_lik_loss(c, N, out, x, E, 1.f, NULL, NULL);
        out[i] = keep;
        double fd = 0.5 * (fp - fm) / ((double)hp - hm);
        worst = fmax(worst, fabs(fd - d[i]) / fmax(fabs(fd), 1e-3));
    }
    free(d);
    return worst;
}

static void showers(float *x, float *E)
{
    tu_fill(x, N * V, 0, 40, 21);
    for (int i = 0; i < N * V; i++)
        if (i % 3 == 1) x[i] = 0; /* empty voxels too */
    for (int i = 0; i < N; i++) E[i] = 100.f + 50.f * i;
}

Test(lik, bernoulli_gradient_matches_finite_differences)
{
    vae_config_t c = cfg(VAE_LIK_BERNOULLI);
    float out[N * V], x[N * V], E[N];
    showers(x, E);
    tu_fill(out, N * V, -3, 3, 22);
    double w = fd_worst(&c, out, x, E);
    cr_expect(w < 2e-2, "worst relative error %g", w);
}

Test(lik, gaussian_gradient_matches_finite_differences)
{
    vae_config_t c = cfg(VAE_LIK_GAUSSIAN);
    float out[N * 2 * V], x[N * V], E[N];
    showers(x, E);
    tu_fill(out, N * 2 * V, -3, 3, 23); /* means and log-variances inside the clamp */
    double w = fd_worst(&c, out, x, E);
    cr_expect(w < 1e-2, "worst relative error %g", w);
}

Test(lik, hurdle_gradient_matches_finite_differences)
{
    vae_config_t c = cfg(VAE_LIK_HURDLE);
    float out[N * (3 * V + 2)], x[N * V], E[N];
    showers(x, E);
    tu_fill(out, N * (3 * V + 2), -2, 2, 24);
    double w = fd_worst(&c, out, x, E);
    cr_expect(w < 1e-2, "worst relative error %g", w);
}

Test(lik, hurdle_gradient_matches_finite_differences_with_a_hit_power)
{
    vae_config_t c = cfg(VAE_LIK_HURDLE);
    c.hit_power = 0.3;
    float out[N * (3 * V + 2)], x[N * V], E[N];
    showers(x, E);
    tu_fill(out, N * (3 * V + 2), -2, 2, 25);
    double w = fd_worst(&c, out, x, E);
    cr_expect(w < 1e-2, "worst relative error %g", w);
}

/* Showers whose hit variable y_p0 = ((x/thr)^p0 - 1)/p0 is Gaussian in every voxel, with a mean
 * linear in ln E: the profile likelihood must pick p0 back (within one grid step). */
static double fitted_power(double p0)
{
    enum { M = 3000, W = 12 };
    vae_config_t c = cfg(VAE_LIK_HURDLE);
    c.V = W;
    float *x = malloc(sizeof(float) * M * W), *E = malloc(sizeof(float) * M);
    base_rng_seq_t g;
    base_rng_seq_init(&g, 5, 0);
    for (int i = 0; i < M; i++) {
        E[i] = (float)(1e3 * exp(6.9 * base_rng_seq_u01(&g)));
        for (int v = 0; v < W; v++) {
            double y = 3 + 0.2 * v + 0.3 * log(E[i] / 1e3) + (0.4 + 0.05 * v) * base_rng_seq_normal(&g);
            y = fmax(y, 0.01);
            double t = p0 > 0 ? pow(1 + p0 * y, 1 / p0) : exp(y);
            x[i * W + v] = (float)(c.threshold_mev * t);
        }
    }
    double p = vae_lik_fit_hit_power(&c, M, x, E);
    free(x), free(E);
    return p;
}

Test(lik, the_hit_power_fit_recovers_the_generating_power)
{
    double p0 = fitted_power(0), p25 = fitted_power(0.25);
    cr_expect(p0 <= 0.025, "log-normal hits: p = %g", p0);
    cr_expect(fabs(p25 - 0.25) <= 0.03, "p0 = 0.25: p = %g", p25);
}

/* Sampling inverts the loss's transform: hits drawn from (m, lv) with p = 0.3 map back to a y
 * with mean m and variance e^lv (truncation negligible at m / sigma = 6). */
Test(lik, hurdle_samples_follow_the_modelled_hit_variable)
{
    vae_config_t c = cfg(VAE_LIK_HURDLE);
    c.hit_power = 0.3;
    enum { M = 4000 };
    const int O = 3 * V + 2;
    float *out = malloc(sizeof(float) * M * O), *x = malloc(sizeof(float) * M * V), E[M];
    for (int i = 0; i < M; i++) {
        E[i] = 1e4f;
        for (int v = 0; v < V; v++) out[i * O + v] = 20.f, out[i * O + V + v] = 3.f, out[i * O + 2 * V + v] = logf(0.25f);
        out[i * O + 3 * V] = 0.f, out[i * O + 3 * V + 1] = 0.f;
    }
    vae_lik_generate(&c, M, out, E, 9, 0, 1, x);
    double s = 0, q = 0;
    for (int i = 0; i < M * V; i++) {
        double y = (pow(x[i] / c.threshold_mev, 0.3) - 1) / 0.3;
        s += y, q += y * y;
    }
    double m = s / (M * V), sd = sqrt(q / (M * V) - m * m);
    cr_expect(fabs(m - 3) < 0.02 && fabs(sd - 0.5) < 0.02, "y mean %g sd %g", m, sd);
    free(out), free(x);
}

/* The redraw given at least one hit (vae_lik_redraw_hits) is exact: every draw has a hit, and
 * voxel v is hit with probability p_v / (1 - prod_w (1 - p_w)) (the conditional of independent
 * hits given their union), here with small and unequal p_v (logits -6 .. 0) over voxels 2 .. 6;
 * voxels outside the range are untouched, and other likelihoods are left alone. */
Test(lik, redraw_given_a_hit_is_the_exact_conditional)
{
    vae_config_t c = cfg(VAE_LIK_HURDLE);
    const int O = 3 * V + 2, v0 = 2, v1 = 7;
    float out[3 * V + 2];
    for (int v = 0; v < V; v++) out[v] = -6.f + 1.5f * (float)(v - v0), out[V + v] = 2.f, out[2 * V + v] = 0.f;
    out[3 * V] = out[3 * V + 1] = 0.f;
    (void)O;
    double p[V], none = 1;
    for (int v = v0; v < v1; v++) p[v] = 1 / (1 + exp(-(double)out[v])), none *= 1 - p[v];
    enum { M = 200000 };
    long hits[V] = {0}, empty = 0;
    base_rng_seq_t u;
    base_rng_seq_init(&u, 4, 0);
    for (int i = 0; i < M; i++) {
        float x[V] = {7, 7, 7, 7, 7, 7, 7};
        cr_assert_eq(vae_lik_redraw_hits(&c, out, v0, v1, &u, x), 1);
        int any = 0;
        for (int v = v0; v < v1; v++) any |= x[v] > 0, hits[v] += x[v] > 0;
        empty += !any;
        cr_assert(x[0] == 7 && x[1] == 7, "voxels outside [v0, v1) are not touched");
    }
    cr_expect_eq(empty, 0, "%ld draws without a hit", empty);
    for (int v = v0; v < v1; v++) {
        double want = p[v] / (1 - none), got = hits[v] / (double)M, se = sqrt(want * (1 - want) / M);
        cr_expect(fabs(got - want) < 5 * se + 1e-4, "voxel %d: hit rate %g, want %g", v, got, want);
    }
    vae_config_t g = cfg(VAE_LIK_GAUSSIAN);
    float x[V] = {0};
    cr_expect_eq(vae_lik_redraw_hits(&g, out, v0, v1, &u, x), 0);
}
