/* tests/test_loss.c: losses and KL against closed forms and finite differences. */
#include "base/fastmath.h"
#include "layers/loss.h"
#include "tests/testutil.h"

#include <criterion/criterion.h>
#include <math.h>

enum { B = 3, D = 5 };

Test(loss, bce_on_logits_matches_closed_form_and_is_stable)
{
    float z[2] = {0.f, 0.f}, t[2] = {1.f, 0.f}, dz[2];
    double L = layer_loss_bce_logits(z, t, 1, 2, 1.f, dz, NULL);
    cr_assert(fabs(L - 2 * log(2.0)) < 1e-12, "L = %.15g", L);
    cr_assert(fabsf(dz[0] + 0.5f) < 1e-7f && fabsf(dz[1] - 0.5f) < 1e-7f);
    /* extreme logits: finite loss equal to |z| for the wrong label, gradient +-1 */
    float zb[2] = {-200.f, 200.f}, tb[2] = {1.f, 1.f}, db[2];
    L = layer_loss_bce_logits(zb, tb, 1, 2, 1.f, db, NULL);
    cr_assert(isfinite(L) && fabs(L - 200.0) < 1e-9, "L = %g", L);
    cr_assert(fabsf(db[0] + 1.f) < 1e-6f && fabsf(db[1]) < 1e-6f);
}

Test(loss, bce_on_probabilities_matches_logits_version)
{
    for (int i = 0; i < 40; i++) {
        double z = -8 + 0.4 * i, t = (i % 7) / 6.0, p = 1 / (1 + exp(-z)), dz, dp;
        double lz = layer_bce_logit(z, t, &dz), lp = layer_bce_prob(p, t, &dp);
        cr_assert(fabs(lz - lp) < 1e-9 * fmax(1, fabs(lz)), "z=%g: %g vs %g", z, lz, lp);
        cr_assert(fabs(dp * p * (1 - p) - dz) < 1e-9, "chain rule dL/dz = dL/dp p (1 - p) at z=%g", z);
    }
    /* clamping keeps p = 0 and p = 1 finite */
    double d0, d1;
    cr_assert(isfinite(layer_bce_prob(0, 1, &d0)) && isfinite(layer_bce_prob(1, 0, &d1)) && isfinite(d0) &&
              isfinite(d1));
}

/* Central differences of a scalar kernel f(x) with its analytic derivative g(x). */
typedef double (*scalar_fn)(double x, double *dx);
static double bce_z(double z, double *d) { return layer_bce_logit(z, 0.3, d); }
static double bce_p(double p, double *d) { return layer_bce_prob(p, 0.3, d); }
static double fd_err(scalar_fn f, double x)
{
    double g, h = 1e-5, fd = (f(x + h, NULL) - f(x - h, NULL)) / (2 * h);
    f(x, &g);
    return fabs(fd - g) / fmax(fabs(fd), 1e-3);
}

Test(loss, gradients_match_finite_differences)
{
    float x[B * D], t[B * D], g[B * D], row[B];
    tu_fill(x, B * D, -2, 2, 3);
    tu_fill(t, B * D, 0, 1, 4);
    double L = layer_loss_bce_logits(x, t, B, D, 0.7f, g, row), s = 0;
    for (int b = 0; b < B; b++) s += row[b];
    cr_assert(fabs(s / B - L) < 1e-5 * fabs(L) + 1e-9, "rows do not sum to the loss");
    for (int i = 0; i < B * D; i++) { /* the batch loss: w dL/dz with L the batch mean */
        float keep = x[i], xp = keep + 1e-3f, xm = keep - 1e-3f;
        x[i] = xp;
        double fp = layer_loss_bce_logits(x, t, B, D, 1.f, NULL, NULL);
        x[i] = xm;
        double fm = layer_loss_bce_logits(x, t, B, D, 1.f, NULL, NULL);
        x[i] = keep;
        double fd = 0.7 * (fp - fm) / ((double)xp - xm);
        cr_expect(fabs(fd - g[i]) / fmax(fabs(fd), 1e-3) < 1e-3, "i=%d", i);
    }
    for (double v = -3; v <= 3; v += 0.5) cr_expect(fd_err(bce_z, v) < 1e-6, "bce_logit at %g", v);
    for (double p = 0.05; p < 1; p += 0.1) cr_expect(fd_err(bce_p, p) < 1e-6, "bce_prob at %g", p);
}

Test(loss, f32_bce_block_matches_the_double_kernel)
{
    enum { N = 300 };
    float z[N], x[N], l[N], d[N];
    tu_fill(z, N, -30, 30, 9);
    tu_fill(x, N, 0, 2, 10); /* targets x / 1.5, clamped at 1 */
    layer_bce_logits_f32(z, x, N, 1 / 1.5f, 0.5f, l, d);
    for (int i = 0; i < N; i++) {
        double u = fmin(x[i] / 1.5f, 1.0), dz, ref = layer_bce_logit(z[i], u, &dz);
        cr_assert(fabs(l[i] - ref) < 2e-6 * fmax(1, fabs(ref)), "i=%d: %g vs %g", i, l[i], ref);
        cr_assert(fabs(d[i] - 0.5 * dz) < 2e-6, "i=%d: gradient %g vs %g", i, d[i], 0.5 * dz);
    }
}

Test(loss, clamp_limits_and_passes_inner_values)
{
    cr_assert(layer_clampf(9.f, 8.f) == 8.f && layer_clampf(-9.f, 8.f) == -8.f && layer_clampf(0.25f, 8.f) == 0.25f);
    cr_assert(layer_clamp(-1e300, 8) == -8 && layer_clamp(3, 8) == 3);
    cr_assert(layer_clampf(NAN, 8.f) == 8.f, "NaN maps to the upper limit (fminf/fmaxf semantics)");
}

Test(loss, gaussian_nll_matches_closed_form_and_finite_differences)
{
    /* one value: y = 1, m = 0.5, lv = log 4: 0.5 (log 2pi + log 4 + 0.25 / 4) */
    double dm, dlv, L = layer_gauss_nll(1, 0.5, log(4.0), INFINITY, &dm, &dlv);
    double want = 0.5 * (log(2 * 3.14159265358979323846) + log(4.0) + 0.0625);
    cr_assert(fabs(L - want) < 1e-12, "%g vs %g", L, want);
    cr_assert(fabs(dm - (-0.125)) < 1e-12 && fabs(dlv - 0.5 * (1 - 0.0625)) < 1e-12);
    for (double m = -1; m <= 1; m += 0.5)
        for (double v = -1; v <= 1; v += 0.5) {
            double gm, gv, h = 1e-6, y = 0.3;
            layer_gauss_nll(y, m, v, 8, &gm, &gv);
            double fm = (layer_gauss_nll(y, m + h, v, 8, NULL, NULL) - layer_gauss_nll(y, m - h, v, 8, NULL, NULL)) / (2 * h);
            double fv = (layer_gauss_nll(y, m, v + h, 8, NULL, NULL) - layer_gauss_nll(y, m, v - h, 8, NULL, NULL)) / (2 * h);
            cr_expect(fabs(fm - gm) < 1e-6 * fmax(1, fabs(fm)) && fabs(fv - gv) < 1e-6 * fmax(1, fabs(fv)), "m=%g v=%g", m, v);
        }
    /* beyond the clamp: the value uses the limit and lv gets no gradient */
    double a = layer_gauss_nll(0.3, 0, 12, 8, &dm, &dlv), b = layer_gauss_nll(0.3, 0, 8, 8, NULL, NULL);
    cr_assert(a == b && dlv == 0.0);
}

Test(loss, kl_matches_closed_form_gradients_and_per_dimension_hand_values)
{
    /* KL(N(mu, s^2) || N(0,1)) = 0.5 (s^2 + mu^2 - 1 - log s^2) */
    float mu[4] = {0.f, 1.f, -2.f, 0.5f}, lv[4] = {0.f, 0.f, logf(0.25f), logf(2.f)};
    float dmu[4], dlv[4], row[2], kd[2];
    double L = layer_loss_kl_normal(mu, lv, 2, 2, 1.f, dmu, dlv, row, kd);
    double k[4];
    for (int i = 0; i < 4; i++) {
        double s2 = exp(lv[i]);
        k[i] = 0.5 * (s2 + mu[i] * mu[i] - 1 - log(s2));
    }
    /* hand values: k = {0, 0.5, 0.5 (0.25 + 4 - 1 + log 4), 0.5 (2 + 0.25 - 1 - log 2)} */
    cr_assert(fabs(k[1] - 0.5) < 1e-12);
    cr_assert(fabs(L - (k[0] + k[1] + k[2] + k[3]) / 2) < 1e-6, "L = %g", L);
    cr_assert(fabsf(kd[0] - (float)(k[0] + k[2]) / 2) < 1e-6f);
    cr_assert(fabsf(kd[1] - (float)(k[1] + k[3]) / 2) < 1e-6f);
    cr_assert(fabsf(row[1] - (float)(k[2] + k[3])) < 1e-6f);
    for (int i = 0; i < 4; i++) {
        cr_expect(fabsf(dmu[i] - mu[i] / 2) < 1e-7f);
        cr_expect(fabsf(dlv[i] - (float)(0.5 * (exp(lv[i]) - 1) / 2)) < 1e-7f);
    }
}

Test(loss, fast_exp_and_log_match_libm)
{
    double me = 0, ml = 0;
    for (float x = -87.f; x < 88.f; x += 0.00173f) {
        double r = exp((double)x), e = fabs(base_expf(x) - r) / r;
        me = e > me ? e : me;
    }
    for (double x = 1e-30; x < 1e30; x *= 1.0007) {
        float xf = (float)x;
        double r = log((double)xf), e = fabs(base_logf(xf) - r) / fmax(1.0, fabs(r));
        ml = e > ml ? e : ml;
    }
    cr_expect(me < 3e-7, "exp: relative error %g", me);
    cr_expect(ml < 3e-7, "log: error %g", ml);
    /* clamped ends stay finite and ordered */
    cr_expect(base_expf(-1000.f) > 0 && base_expf(-1000.f) < 1e-37f);
    cr_expect(isfinite(base_expf(1000.f)) && base_expf(1000.f) > 1e38f);
    cr_expect(base_logf(1.f) == 0.f);
}

/* The normal quantile inverts erfc; the upper tail and its Mills ratio are continuous where
 * the asymptotic series takes over; the truncated NLL integrates to one on [0, inf). */
Test(loss, normal_quantile_tail_and_truncated_gaussian)
{
    for (double p = 1e-12; p < 1; p = p < 0.01 ? p * 10 : p + 0.07) {
        double z = layer_normal_quantile(p), back = 0.5 * erfc(-z * 0.70710678118654752);
        cr_expect(fabs(back - p) < 1e-7 * p, "Phi(Phi^-1(%g)) = %.12g", p, back);
    }
    double m1, m2;
    double l1 = layer_log_upper_tail(7.9999, &m1), l2 = layer_log_upper_tail(8.0001, &m2);
    /* d ln Q / da = -lambda: the two sides 2e-4 apart differ by lambda 2e-4 (the series is good to
     * 105 / a^8 ~ 6e-6 at a = 8) */
    cr_expect(fabs(l1 - l2 - 0.5 * (m1 + m2) * 2e-4) < 2e-5 && fabs(m1 - m2) < 1e-3, "tail %.7g vs %.7g, Mills %g vs %g",
              l1, l2, m1, m2);
    /* integral of exp(-l) over y >= 0 by the midpoint rule, for a few (m, lv) */
    const double ms[3] = {1.0, -0.5, -3.0}, lvs[3] = {0.0, -1.0, 0.5};
    for (int k = 0; k < 3; k++) {
        double s = 0, h = 1e-3;
        for (double y = h / 2; y < 40; y += h) s += exp(-layer_trunc_gauss_nll(y, ms[k], lvs[k], 8, NULL, NULL)) * h;
        cr_expect(fabs(s - 1) < 1e-4, "m %g lv %g: integral %g", ms[k], lvs[k], s);
        double gm, gv, e = 1e-6, y = 0.7;
        layer_trunc_gauss_nll(y, ms[k], lvs[k], 8, &gm, &gv);
        double fm = (layer_trunc_gauss_nll(y, ms[k] + e, lvs[k], 8, NULL, NULL) -
                     layer_trunc_gauss_nll(y, ms[k] - e, lvs[k], 8, NULL, NULL)) / (2 * e);
        double fv = (layer_trunc_gauss_nll(y, ms[k], lvs[k] + e, 8, NULL, NULL) -
                     layer_trunc_gauss_nll(y, ms[k], lvs[k] - e, 8, NULL, NULL)) / (2 * e);
        cr_expect(fabs(fm - gm) < 1e-6 * fmax(1, fabs(fm)) && fabs(fv - gv) < 1e-6 * fmax(1, fabs(fv)),
                  "gradient at m %g lv %g: %g %g vs %g %g", ms[k], lvs[k], gm, gv, fm, fv);
    }
}
