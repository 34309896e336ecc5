/* tests/test_marginal.c: the conditional marginal flow of the learned prior (vae/marginal.h):
 * normal scores given u, exact inversion, its log-Jacobian against finite differences, the
 * band of empty layers, and refusal of damaged parameters. */
#include "base/rng.h"
#include "base/status.h"
#include "vae/marginal.h"
#include "tests/testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N = 40000, S = 3 }; /* rows (u, a, b) */

/* Column a: a skewed conditional, a = 2u + e^(0.8 g) (log-normal shifted by u); column b: an
 * empty layer with probability 0.2 + 0.5 u, dequantised uniformly in [-ln 2, 0), else a
 * log-normal energy coordinate 1 + u + 0.5 g' >= 0 (folded). */
static float *sample(uint64_t seed)
{
    float *Y = malloc(sizeof(float) * N * S);
    base_rng_t r;
    base_rng_init(&r, seed, 0);
    for (int n = 0; n < N; n++) {
        float u[3], g[2];
        base_rng_uniform(&r, u, 3);
        base_rng_normal(&r, g, 2);
        float *y = Y + (size_t)n * S;
        y[0] = u[0];
        y[1] = (float)(2 * u[0] + exp(0.8 * g[0]));
        y[2] = u[1] < 0.2 + 0.5 * u[0] ? (float)(-log(2.0) * u[2]) : (float)fabs(1 + u[0] + 0.5 * g[1]);
    }
    return Y;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static const float LO[2] = {0, -0.69314718f};

/* Forward-mapped rows have t | u close to N(0, 1) in every slice of u: mean, variance and the
 * share below -1 and 1 (0.159, 0.841), for both the skewed and the banded coordinate. */
Test(marginal, scores_are_standard_normal_given_u)
{
    float *Y = sample(1);
    vae_marg_t m;
    cr_assert_eq(vae_marg_fit(&m, Y, N, S, 2, LO, 3000), BASE_OK);
    cr_expect_eq(m.B, 13);
    float *T = malloc(sizeof(float) * N * S);
    memcpy(T, Y, sizeof(float) * N * S);
    vae_marg_forward(&m, T, N, S, 1, NULL);
    for (int j = 1; j <= 2; j++)
        for (int sl = 0; sl < 4; sl++) {
            double s = 0, q = 0, lo = 0, hi = 0, n = 0;
            for (int i = 0; i < N; i++) {
                if ((int)(T[i * S] * 4) != sl) continue;
                double t = T[i * S + j];
                s += t, q += t * t, lo += t < -1, hi += t < 1, n++;
            }
            double mean = s / n, var = q / n - mean * mean;
            cr_expect(fabs(mean) < 0.04 && fabs(var - 1) < 0.08, "coordinate %d, slice %d: mean %g var %g", j, sl, mean,
                      var);
            cr_expect(fabs(lo / n - 0.1587) < 0.015 && fabs(hi / n - 0.8413) < 0.015, "coordinate %d, slice %d: %g %g",
                      j, sl, lo / n, hi / n);
        }
    free(T), free(Y);
    vae_marg_free(&m);
}

/* inverse(forward(y)) = y, inside the knots, in the tails beyond them and in the band; and
 * ln dt/dy equals the log of a central difference of the forward map. */
Test(marginal, inverts_and_its_jacobian_matches_finite_differences)
{
    float *Y = sample(2);
    vae_marg_t m;
    cr_assert_eq(vae_marg_fit(&m, Y, N, S, 2, LO, 3000), BASE_OK);
    const float probe[][3] = {{0.03f, 0.2f, -0.6f}, {0.5f, 2.0f, -0.1f}, {0.77f, 3.5f, 0.4f},
                              {0.99f, 60.0f, 9.0f},  {0.2f, 0.01f, 1.5f}, {0.61f, 1.3f, -0.01f}};
    for (size_t k = 0; k < sizeof probe / sizeof probe[0]; k++) {
        float y[3], b[3];
        double ld[2], l1[2], l2[2];
        memcpy(y, probe[k], sizeof y);
        vae_marg_forward(&m, y, 1, S, 1, ld);
        memcpy(b, y + 1, 2 * sizeof(float));
        vae_marg_inverse(&m, probe[k][0], b);
        for (int j = 0; j < 2; j++)
            cr_expect(fabs(b[j] - probe[k][1 + j]) < 2e-4 * (1 + fabs(probe[k][1 + j])), "probe %zu coord %d: %g -> %g -> %g",
                      k, j, probe[k][1 + j], y[1 + j], b[j]);
        /* ln dt_a/dy_a (split = 1) and the sum over both, against central differences */
        double fd = 0, fa = 0;
        for (int j = 0; j < 2; j++) {
            const double h = 1e-3 * (1 + fabs(probe[k][1 + j]));
            float p[3], q[3];
            memcpy(p, probe[k], sizeof p), memcpy(q, probe[k], sizeof q);
            p[1 + j] += (float)h, q[1 + j] -= (float)h;
            vae_marg_forward(&m, p, 1, S, 1, l1);
            vae_marg_forward(&m, q, 1, S, 1, l2);
            double d = log((p[1 + j] - q[1 + j]) / (2 * h));
            fd += d;
            if (j == 0) fa = d;
        }
        cr_expect(fabs(ld[0] - fa) < 0.03, "probe %zu: ln dt/dy %g, finite difference %g", k, ld[0], fa);
        cr_expect(fabs(ld[1] - fd) < 0.06, "probe %zu: sum %g, finite differences %g", k, ld[1], fd);
    }
    free(Y);
    vae_marg_free(&m);
}

/* Sampling through the inverse from N(0, 1) scores gives the data's conditional back: the
 * empty share 0.2 + 0.5 u near u = 0.1 and 0.9, and the non-empty median. Nothing leaks from
 * the band to energies just above it (the share in [0, 0.05) matches the data's). */
Test(marginal, sampling_reproduces_the_empty_share_and_the_energies)
{
    float *Y = sample(3);
    vae_marg_t m;
    cr_assert_eq(vae_marg_fit(&m, Y, N, S, 2, LO, 3000), BASE_OK);
    base_rng_t r;
    base_rng_init(&r, 9, 0);
    const double us[2] = {0.1, 0.9};
    for (int k = 0; k < 2; k++) {
        int empty = 0, low = 0, n = 20000, ne = 0;
        float *ne_v = malloc(sizeof(float) * n);
        for (int i = 0; i < n; i++) {
            float t[2];
            base_rng_normal(&r, t, 2);
            vae_marg_inverse(&m, us[k], t);
            if (t[1] < 0) empty++;
            else {
                ne_v[ne++] = t[1];
                low += t[1] < 0.05;
            }
        }
        double want = 0.2 + 0.5 * us[k];
        cr_expect(fabs(empty / (double)n - want) < 0.02, "u = %g: empty share %g, want %g", us[k], empty / (double)n,
                  want);
        /* the non-empty part is |1 + u + 0.5 g|: its share below 0.05 is tiny (P(g < -3.9..) ~ 1e-4) */
        cr_expect(low < 0.005 * ne, "u = %g: %d of %d non-empty values in [0, 0.05)", us[k], low, ne);
        qsort(ne_v, (size_t)ne, sizeof(float), cmp_float);
        double med = ne_v[ne / 2];
        cr_expect(fabs(med - (1 + us[k])) < 0.05, "u = %g: non-empty median %g, want %g", us[k], med, 1 + us[k]);
        free(ne_v);
    }
    free(Y);
    vae_marg_free(&m);
}

/* One condition for every row: one bin, and the map still works. */
Test(marginal, a_single_condition_gives_one_bin)
{
    float *Y = sample(4);
    for (int i = 0; i < N; i++) Y[i * S] = 0.5f;
    vae_marg_t m;
    cr_assert_eq(vae_marg_fit(&m, Y, N, S, 2, LO, 3000), BASE_OK);
    cr_expect_eq(m.B, 1);
    float y[3] = {0.5f, 1.5f, 0.7f}, b[2];
    vae_marg_forward(&m, y, 1, S, 1, NULL);
    memcpy(b, y + 1, sizeof b);
    vae_marg_inverse(&m, 0.5, b);
    cr_expect(fabs(b[0] - 1.5f) < 1e-3 && fabs(b[1] - 0.7f) < 1e-3, "%g %g", b[0], b[1]);
    free(Y);
    vae_marg_free(&m);
}

/* Damaged parameters (as from a file) are refused: knots not increasing, a NaN centre, an
 * empty fraction outside (0, 1) on a band coordinate, a band starting above 0. */
Test(marginal, damaged_parameters_are_refused)
{
    float *Y = sample(5);
    vae_marg_t m;
    cr_assert_eq(vae_marg_fit(&m, Y, N, S, 2, LO, 3000), BASE_OK);
    cr_assert_eq(vae_marg_check(&m), BASE_OK);
    float keep = m.q[5];
    m.q[5] = m.q[4];
    cr_expect_eq(vae_marg_check(&m), BASE_EINVAL);
    m.q[5] = keep;
    m.uc[1] = NAN;
    cr_expect_eq(vae_marg_check(&m), BASE_EINVAL);
    m.uc[1] = m.uc[0] + 0.01f;
    cr_assert_eq(vae_marg_check(&m), BASE_OK);
    m.f[1] = 1.0f; /* bin 0, coordinate 1 (the band) */
    cr_expect_eq(vae_marg_check(&m), BASE_EINVAL);
    m.f[1] = 0.5f;
    m.lo[1] = 0.5f;
    cr_expect_eq(vae_marg_check(&m), BASE_EINVAL);
    vae_marg_free(&m);
    vae_marg_free(&m); /* twice is safe */
    cr_expect_eq(vae_marg_fit(&m, Y, 1, S, 2, LO, 3000), BASE_EINVAL, "one row");
    cr_expect_eq(vae_marg_init(&m, 0, 2), BASE_EINVAL);
    free(Y);
}
