/* tests/test_distance.c: the challenge's physics distances (FPD, KPD) and PRDC
 * (vae/eval/distance.h, vae/eval/prdc.h) against hand-computed cases and naive double loops. */
#include "base/rng.h"
#include "base/status.h"
#include "tests/testutil.h"
#include "vae/eval/distance.h"
#include "vae/eval/prdc.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Tr (A B)^(1/2) for A = [[2,1],[1,2]], B = diag(1, 3): AB = [[2,3],[1,6]] has trace 8 and
 * determinant 9, eigenvalues 4 +- sqrt 7; and for diagonal matrices sum sqrt(a_i b_i). */
Test(distance, trace_of_the_matrix_square_root_by_hand)
{
    double A[4] = {2, 1, 1, 2}, B[4] = {1, 0, 0, 3}, t;
    cr_assert_eq(eval_trace_sqrt_product(A, B, 2, &t), BASE_OK);
    double want = sqrt(4 + sqrt(7.0)) + sqrt(4 - sqrt(7.0));
    cr_expect(fabs(t - want) < 1e-12, "%.15g vs %.15g", t, want);
    double C[9] = {4, 0, 0, 0, 9, 0, 0, 0, 0}, E[9] = {1, 0, 0, 0, 4, 0, 0, 0, 5};
    cr_assert_eq(eval_trace_sqrt_product(C, E, 3, &t), BASE_OK);
    cr_expect(fabs(t - (2 + 6 + 0)) < 1e-12, "diagonal: %g", t);
}

/* n rows of D Gaussian features (sd 1 + d / 2), the first shifted by shift. */
static double *gauss(size_t n, int D, double shift, uint64_t seed)
{
    double *X = malloc(n * D * sizeof *X);
    float *z = malloc(n * D * sizeof *z);
    base_rng_t r;
    base_rng_init(&r, seed, 0);
    base_rng_normal(&r, z, n * D);
    for (size_t i = 0; i < n * (size_t)D; i++) X[i] = z[i] * (1 + (i % D) / 2.0) + ((i % D) == 0 ? shift : 0);
    free(z);
    return X;
}

static eval_distance_opts_t small(void)
{
    eval_distance_opts_t o = eval_distance_defaults();
    o.min_samples = 500, o.max_samples = 2500, o.num_batches = 10, o.num_points = 5;
    o.kpd_batch_size = 1000;
    return o;
}

/* Two samples of one distribution: FPD compatible with 0 (within 3 errors + 1e-3), KPD within
 * 3 errors of 0; the same sample against itself too. */
Test(distance, one_distribution_gives_distances_compatible_with_zero)
{
    enum { N = 5000, D = 4 };
    double *X = gauss(N, D, 0, 1), *Y = gauss(N, D, 0, 2), v, e;
    eval_distance_opts_t o = small();
    cr_assert_eq(eval_fpd(X, N, Y, N, D, &o, &v, &e), BASE_OK);
    cr_expect(v <= 3 * e + 1e-3, "FPD %g +- %g", v, e);
    cr_assert_eq(eval_kpd(X, N, Y, N, D, &o, &v, &e), BASE_OK);
    cr_expect(fabs(v) <= 3 * e + 1e-4, "KPD %g +- %g", v, e);
    cr_assert_eq(eval_fpd(X, N, X, N, D, &o, &v, &e), BASE_OK);
    cr_expect(v <= 3 * e + 1e-3, "FPD of a sample against itself %g +- %g", v, e);
    free(X), free(Y);
}

/* A mean shift of 1 in feature 0 (sd 1): after the division by max |X| (about 4), the FPD is
 * the squared shift, (1 / max)^2, to a few per cent; KPD is clearly positive. */
Test(distance, a_shifted_mean_is_seen)
{
    enum { N = 5000, D = 4 };
    double *X = gauss(N, D, 0, 3), *Y = gauss(N, D, 1.0, 4), v, e, mx = 0;
    for (size_t i = 0; i < N; i++) mx = fmax(mx, fabs(X[i * D]));
    eval_distance_opts_t o = small();
    cr_assert_eq(eval_fpd(X, N, Y, N, D, &o, &v, &e), BASE_OK);
    double want = 1 / (mx * mx);
    cr_expect(fabs(v - want) < 0.1 * want + 3 * e, "FPD %g +- %g, want %g", v, e, want);
    cr_assert_eq(eval_kpd(X, N, Y, N, D, &o, &v, &e), BASE_OK);
    cr_expect(v > 5 * e && v > 0, "KPD %g +- %g", v, e);
    free(X), free(Y);
}

/* PRDC against the definition, computed with double distances in plain loops. */
static void naive(const float *R, int nr, const float *F, int nf, int V, int k, eval_prdc_t *o)
{
    double *rr = malloc(nr * sizeof *rr), *rf = malloc(nf * sizeof *rf), *d = malloc((nr > nf ? nr : nf) * sizeof *d);
#define DIST(a, b)                                                                                                     \
    ({                                                                                                                 \
        double s_ = 0;                                                                                                 \
        for (int v_ = 0; v_ < V; v_++) s_ += ((double)(a)[v_] - (b)[v_]) * ((double)(a)[v_] - (b)[v_]);                \
        sqrt(s_);                                                                                                      \
    })
    for (int s = 0; s < 2; s++) {
        const float *A = s ? F : R;
        int n = s ? nf : nr;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) d[j] = DIST(A + i * V, A + j * V);
            for (int a = 0; a <= k; a++) /* partial selection sort: the (k+1)-th smallest */
                for (int b = a + 1; b < n; b++)
                    if (d[b] < d[a]) { double t = d[a]; d[a] = d[b]; d[b] = t; }
            (s ? rf : rr)[i] = d[k];
        }
    }
    double p = 0, den = 0, rec = 0, cov = 0;
    for (int j = 0; j < nf; j++) {
        int c = 0;
        for (int i = 0; i < nr; i++) c += DIST(R + i * V, F + j * V) < rr[i];
        p += c > 0, den += c;
    }
    for (int i = 0; i < nr; i++) {
        int any = 0;
        double mn = INFINITY;
        for (int j = 0; j < nf; j++) {
            double t = DIST(R + i * V, F + j * V);
            any |= t < rf[j], mn = fmin(mn, t);
        }
        rec += any, cov += mn < rr[i];
    }
#undef DIST
    o->precision = p / nf, o->density = den / ((double)k * nf), o->recall = rec / nr, o->coverage = cov / nr;
    free(rr), free(rf), free(d);
}

Test(distance, prdc_matches_the_definition)
{
    enum { NR = 300, NF = 250, V = 6 };
    float *R = malloc(sizeof(float) * NR * V), *F = malloc(sizeof(float) * NF * V);
    base_rng_t r;
    base_rng_init(&r, 5, 0);
    base_rng_normal(&r, R, NR * V);
    base_rng_normal(&r, F, NF * V);
    for (int i = 0; i < NF * V; i++) F[i] = 1.3f * F[i] + 0.4f; /* a wider, shifted fake sample */
    eval_prdc_t a, b;
    cr_assert_eq(eval_prdc(R, NR, F, NF, V, 5, &a), BASE_OK);
    naive(R, NR, F, NF, V, 5, &b);
    cr_expect(fabs(a.precision - b.precision) < 1e-9 && fabs(a.recall - b.recall) < 1e-9 &&
                  fabs(a.density - b.density) < 1e-9 && fabs(a.coverage - b.coverage) < 1e-9,
              "prdc %g %g %g %g, naive %g %g %g %g", a.precision, a.recall, a.density, a.coverage, b.precision, b.recall,
              b.density, b.coverage);
    cr_expect(a.precision < 0.95 && a.coverage < 0.99, "the distorted sample is seen: %g %g", a.precision, a.coverage);
    /* identical samples: every fake lies in its own real ball */
    cr_assert_eq(eval_prdc(R, NR, R, NR, V, 5, &a), BASE_OK);
    cr_expect(a.precision == 1 && a.coverage == 1 && a.recall == 1, "%g %g %g", a.precision, a.coverage, a.recall);
    cr_expect_eq(eval_prdc(R, 3, F, NF, V, 5, &a), BASE_EINVAL, "fewer rows than k + 1");
    free(R), free(F);
}

/* The challenge's features: log10 of the energy, 0.1 MeV for an empty voxel. */
Test(distance, prdc_features_take_log10_with_empty_at_0_1)
{
    float x[4] = {0, 1, 100, 0.02f};
    eval_prdc_features(x, 1, 4);
    cr_expect(x[0] == -1.f && x[1] == 0.f && fabs(x[2] - 2) < 1e-6 && fabs(x[3] - log10f(0.02f)) < 1e-6);
}
