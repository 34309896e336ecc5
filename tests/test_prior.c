/* tests/test_prior.c: the learned prior: EM against a known mixture, exact conditioning,
 * and the layer scaling that keeps energies through the threshold. */
#include "base/rng.h"
#include "base/status.h"
#include "vae/prior.h"
#include "tests/testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A grid of L layers of n voxels each (only offsets matter to the prior). */
static phys_geometry_t grid(int L, int n)
{
    phys_geometry_t g = {.n_layers = L};
    for (int l = 0; l < L; l++) g.n_r[l] = n, g.n_alpha[l] = 1;
    phys_geometry_set_offsets(&g);
    return g;
}

/* Two well separated Gaussian clusters in D = 1 + Z + L + 1 = 5 dimensions (Z = 1, L = 2):
 * EM finds their weights and means, and the held-out log-likelihood is that of the truth. */
Test(prior, em_recovers_a_known_mixture)
{
    phys_geometry_t g = grid(2, 3);
    vae_prior_t p;
    cr_assert_eq(vae_prior_init(&p, 2, 1, 1, &g, 0.01), BASE_OK);
    cr_assert_eq(p.D, 5);
    enum { N = 6000 };
    const double w0 = 0.3, m[2][5] = {{0.2, -3, 1, 2, 0}, {0.7, 3, -1, 0, 1}}, sd[5] = {0.1, 0.5, 0.3, 0.2, 0.4};
    float *Y = malloc(sizeof(float) * N * 5), nz[5];
    base_rng_t r;
    base_rng_init(&r, 11, 0);
    double ll_true = 0;
    for (int n = 0; n < N; n++) {
        float u;
        base_rng_uniform(&r, &u, 1);
        int k = u < w0 ? 0 : 1;
        base_rng_normal(&r, nz, 5);
        for (int d = 0; d < 5; d++) {
            Y[n * 5 + d] = (float)(m[k][d] + sd[d] * nz[d]);
            ll_true += -0.5 * (1.8378770664093453 + 2 * log(sd[d]) + nz[d] * nz[d]);
        }
        ll_true += log(k ? 1 - w0 : w0);
    }
    ll_true /= N;
    double ll;
    cr_assert_eq(vae_prior_fit(&p, Y, N, 200, 5, NULL, &ll), BASE_OK, "%s", base_last_error());
    int a = p.mu[1] < 0 ? 0 : 1; /* which component found cluster 0 */
    cr_expect(fabs(p.pi[a] - w0) < 0.02, "weight %.3f, want %.2f", p.pi[a], w0);
    for (int d = 0; d < 5; d++) {
        cr_expect(fabs(p.mu[a * 5 + d] - m[0][d]) < 0.05, "mean %d: %.3f vs %.3f", d, p.mu[a * 5 + d], m[0][d]);
        cr_expect(fabs(p.mu[(1 - a) * 5 + d] - m[1][d]) < 0.05, "mean %d: %.3f vs %.3f", d, p.mu[(1 - a) * 5 + d], m[1][d]);
    }
    /* the fit's mean log-likelihood is at least the truth's (it is the maximum), and close */
    cr_expect(ll > ll_true - 1e-3 && ll < ll_true + 0.05, "fit %.4f, truth %.4f", ll, ll_true);
    cr_expect(fabs(vae_prior_loglik(&p, Y, N, NULL) - ll) < 1e-3, "vae_prior_loglik agrees with the fit");
    free(Y);
    vae_prior_free(&p);
}

/* One component with a known covariance: draws given u have the conditional mean
 * mu_x + s_xu / s_uu (u - mu_u) and covariance S_xx - s_xu s_ux / s_uu. */
Test(prior, sampling_given_u_follows_the_gaussian_conditional)
{
    phys_geometry_t g = grid(1, 2);
    vae_prior_t p;
    cr_assert_eq(vae_prior_init(&p, 1, 1, 1, &g, 0.01), BASE_OK); /* D = 4: u, z, r_1, r_tot */
    const double S[4][4] = {{1.0, 0.6, 0.2, 0.0}, {0.6, 2.0, 0.5, 0.3}, {0.2, 0.5, 1.5, 0.4}, {0.0, 0.3, 0.4, 1.0}};
    const double mu[4] = {0.5, 1, -1, 2};
    /* chol by hand through the library's own path: fit cannot give an exact matrix, so write
     * the factor directly (lower Cholesky of S) */
    double L[16] = {0};
    for (int j = 0; j < 4; j++) {
        double s = S[j][j];
        for (int k = 0; k < j; k++) s -= L[j * 4 + k] * L[j * 4 + k];
        L[j * 4 + j] = sqrt(s);
        for (int i = j + 1; i < 4; i++) {
            double t = S[i][j];
            for (int k = 0; k < j; k++) t -= L[i * 4 + k] * L[j * 4 + k];
            L[i * 4 + j] = t / L[j * 4 + j];
        }
    }
    p.pi[0] = 1;
    memcpy(p.mu, mu, sizeof mu);
    memcpy(p.chol, L, sizeof L);
    cr_assert_eq(vae_prior_prepare(&p), BASE_OK);
    enum { N = 40000 };
    const double u = 1.3;
    double s1[3] = {0}, s2[3][3] = {{0}};
    base_rng_t r;
    base_rng_init(&r, 3, 1);
    for (int n = 0; n < N; n++) {
        float eps[3], x[3];
        base_rng_normal(&r, eps, 3);
        vae_prior_sample(&p, &u, eps, 0.5, x);
        for (int i = 0; i < 3; i++) {
            s1[i] += x[i];
            for (int j = 0; j < 3; j++) s2[i][j] += (double)x[i] * x[j];
        }
    }
    for (int i = 0; i < 3; i++) {
        double want = mu[1 + i] + S[1 + i][0] / S[0][0] * (u - mu[0]), got = s1[i] / N;
        double ci = S[1 + i][1 + i] - S[1 + i][0] * S[0][1 + i] / S[0][0];
        cr_expect(fabs(got - want) < 5 * sqrt(ci / N), "mean %d: %.4f vs %.4f", i, got, want);
        for (int j = 0; j < 3; j++) {
            double cij = S[1 + i][1 + j] - S[1 + i][0] * S[0][1 + j] / S[0][0];
            double c = s2[i][j] / N - (s1[i] / N) * (s1[j] / N);
            cr_expect(fabs(c - cij) < 0.03 * sqrt(S[1 + i][1 + i] * S[1 + j][1 + j]), "cov %d %d: %.4f vs %.4f", i, j, c, cij);
        }
    }
    vae_prior_free(&p);
}

/* Each layer ends at its target (share of the total) with every kept voxel above the
 * threshold; a layer whose target is below the threshold is emptied. */
Test(prior, layers_reach_their_energies_through_the_threshold)
{
    phys_geometry_t g = grid(3, 4);
    vae_prior_t p;
    cr_assert_eq(vae_prior_init(&p, 1, 1, 1, &g, 0.015), BASE_OK);
    const float E = 1000.f;
    const double thr = 0.015, c = 0.015;
    /* targets: layer energies 600, 399.9, 0.01 (below threshold); total 990 */
    const double e[3] = {600, 399.9, 0.01}, T = 990;
    float r[4];
    for (int l = 0; l < 3; l++) r[l] = (float)log((e[l] + c) / E);
    r[3] = (float)log((T + c) / E);
    float x[12] = {5, 1, 0.0001f, 0.0001f, 3, 3, 3, 0.0001f, 1, 1, 1, 1}; /* x 99: 0.0099 < thr */
    vae_prior_apply(&p, E, r, thr, x);
    double w[3], sw = 0, sum[3] = {0};
    for (int l = 0; l < 3; l++) sw += (w[l] = exp((double)r[l]) * E - c);
    double tot_want = exp((double)r[3]) * E - c;
    for (int l = 0; l < 3; l++)
        for (int v = 0; v < 4; v++) {
            float y = x[l * 4 + v];
            cr_expect(y == 0 || y >= thr, "voxel %d of layer %d: %g below the threshold", v, l, y);
            sum[l] += y;
        }
    cr_expect(fabs(sum[0] - tot_want * w[0] / sw) < 1e-3 * sum[0], "layer 0: %g vs %g", sum[0], tot_want * w[0] / sw);
    cr_expect(fabs(sum[1] - tot_want * w[1] / sw) < 1e-3 * sum[1], "layer 1: %g vs %g", sum[1], tot_want * w[1] / sw);
    cr_expect(sum[2] == 0, "a target below the threshold empties the layer (%g)", sum[2]);
    cr_expect(x[2] == 0 && x[3] == 0, "the decoder's tiny voxels fall below the threshold");
    vae_prior_free(&p);
}

/* With Box-Cox powers, features and the layer scaling invert each other: the energies a
 * shower's features give back are its layer energies (an empty, dequantised layer stays empty). */
Test(prior, powered_features_give_back_the_layer_energies)
{
    phys_geometry_t g = grid(3, 2);
    vae_prior_t p;
    cr_assert_eq(vae_prior_init(&p, 1, 1, 1, &g, 0.015), BASE_OK);
    p.power[0] = 0.3, p.power[1] = 1.0, p.power[2] = 0.05, p.power[3] = 0.6;
    const float E = 2000.f, z = 0.f, x[6] = {300, 100, 0.5f, 0.25f, 0, 0}, jit[3] = {0.4f, 0.4f, 0.7f};
    float y[6], r[4], out[6] = {1, 1, 1, 1, 1, 1};
    vae_prior_features(&p, 1e3, 1e6, E, 90.f, &z, x, jit, y);
    memcpy(r, y + 2, sizeof r);
    vae_prior_apply(&p, E, r, 0.015, out);
    /* features are floats: B^-1 amplifies their rounding by 1 / (1 + p y), to ~1e-5 relative */
    cr_expect(fabs(out[0] + out[1] - 400) < 400e-4 && fabs(out[2] + out[3] - 0.75) < 0.75e-4, "layers %g %g",
              out[0] + out[1], out[2] + out[3]);
    cr_expect(out[4] == 0 && out[5] == 0, "the empty layer stays empty (%g %g)", out[4], out[5]);
    vae_prior_free(&p);
}

/* Layer energies whose Box-Cox variable with power 0.5 is Gaussian around a line in u: the
 * profile likelihood picks 0.5 back (one grid step), and ln for log-normal ones. */
Test(prior, the_power_fit_recovers_the_generating_power)
{
    phys_geometry_t g = grid(2, 1);
    vae_prior_t p;
    cr_assert_eq(vae_prior_init(&p, 1, 1, 1, &g, 0.015), BASE_OK);
    enum { N = 20000 };
    float *Y = malloc(sizeof(float) * N * p.D);
    base_rng_t r;
    base_rng_init(&r, 12, 0);
    const double emin = 1e3, emax = 1e6;
    for (int n = 0; n < N; n++) {
        float u, nz[3];
        base_rng_uniform(&r, &u, 1);
        base_rng_normal(&r, nz, 3);
        double lnE = log(emin) + u * (log(emax) - log(emin));
        double y0 = -0.9 + 0.2 * u + 0.04 * nz[0], s0 = pow(1 + 0.5 * y0, 2.0); /* B_0.5 Gaussian */
        double s1 = exp(-3 + 0.5 * u + 0.5 * nz[1]);                           /* log-normal */
        (void)lnE;
        float *y = Y + (size_t)n * p.D;
        y[0] = u, y[1] = nz[2], y[2] = (float)log(s0), y[3] = (float)log(s1), y[4] = (float)log(s0 + s1);
    }
    cr_assert_eq(vae_prior_fit_powers(&p, Y, N, emin, emax), BASE_OK);
    cr_expect(fabs(p.power[0] - 0.5) <= 0.051, "B_0.5-Gaussian layer: p = %g", p.power[0]);
    cr_expect(p.power[1] <= 0.051, "log-normal layer: p = %g", p.power[1]);
    free(Y);
    vae_prior_free(&p);
}

Test(prior, bad_sizes_are_rejected)
{
    phys_geometry_t g = grid(2, 2);
    vae_prior_t p;
    cr_assert_eq(vae_prior_init(&p, 0, 1, 4, &g, 0.01), BASE_EINVAL);
    cr_assert_eq(vae_prior_init(&p, 2, 1, 4, &g, 0), BASE_EINVAL);
    cr_assert_eq(vae_prior_init(&p, 4, 1, 1, &g, 0.01), BASE_OK);
    float Y[5 * 6] = {0};
    cr_assert_eq(vae_prior_fit(&p, Y, 6, 10, 1, NULL, NULL), BASE_EINVAL, "6 showers for 4 components in 5 dimensions");
    vae_prior_free(&p);
    vae_prior_free(&p); /* twice is safe */
}

/* A prior read from a damaged file is refused, not sampled: NaN means, zero weights, a
 * non-positive diagonal. */
Test(prior, invalid_parameters_are_refused)
{
    phys_geometry_t g = grid(1, 2);
    vae_prior_t p;
    cr_assert_eq(vae_prior_init(&p, 2, 1, 1, &g, 0.01), BASE_OK);
    const int D = p.D;
    for (int k = 0; k < 2; k++) {
        p.pi[k] = 0.5;
        for (int d = 0; d < D; d++) p.chol[((size_t)k * D + d) * D + d] = 1;
    }
    cr_assert_eq(vae_prior_prepare(&p), BASE_OK);
    p.mu[3] = NAN;
    cr_expect_eq(vae_prior_prepare(&p), BASE_EINVAL);
    p.mu[3] = 0;
    p.pi[0] = p.pi[1] = 0;
    cr_expect_eq(vae_prior_prepare(&p), BASE_EINVAL);
    p.pi[0] = p.pi[1] = 0.5;
    p.chol[(size_t)D * D + 2 * D + 2] = 0; /* component 1, coordinate 2 */
    cr_expect_eq(vae_prior_prepare(&p), BASE_EINVAL);
    vae_prior_free(&p);
}
