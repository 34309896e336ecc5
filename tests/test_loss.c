/* tests/test_loss.c: losses and KL against closed forms and finite differences. */
#include "layers/fastmath.h"
#include "layers/loss.h"
#include "tests/testutil.h"

#include <criterion/criterion.h>
#include <math.h>

enum { B = 3, D = 5 };

Test(loss, bce_on_logits_matches_closed_form_and_is_stable)
{
    float z[2] = {0.f, 0.f}, t[2] = {1.f, 0.f}, dz[2];
    double L = layer_loss_bce_logits(dz, NULL, z, t, 1, 2, 1.f);
    cr_assert(fabs(L - 2 * log(2.0)) < 1e-12, "L = %.15g", L);
    cr_assert(fabsf(dz[0] + 0.5f) < 1e-7f && fabsf(dz[1] - 0.5f) < 1e-7f);
    /* extreme logits: finite loss equal to |z| for the wrong label, gradient +-1 */
    float zb[2] = {-200.f, 200.f}, tb[2] = {1.f, 1.f}, db[2];
    L = layer_loss_bce_logits(db, NULL, zb, tb, 1, 2, 1.f);
    cr_assert(isfinite(L) && fabs(L - 200.0) < 1e-9, "L = %g", L);
    cr_assert(fabsf(db[0] + 1.f) < 1e-6f && fabsf(db[1]) < 1e-6f);
}

Test(loss, bce_on_probabilities_matches_logits_version)
{
    float z[B * D], p[B * D], t[B * D], dz[B * D], dp[B * D];
    tu_fill(z, B * D, -4, 4, 1);
    tu_fill(t, B * D, 0, 1, 2);
    for (int i = 0; i < B * D; i++) p[i] = 1.f / (1.f + expf(-z[i]));
    double Lz = layer_loss_bce_logits(dz, NULL, z, t, B, D, 1.f);
    double Lp = layer_loss_bce_prob(dp, NULL, p, t, B, D, 1.f);
    cr_assert(fabs(Lz - Lp) < 1e-5 * fabs(Lz), "%g vs %g", Lz, Lp);
    /* chain rule: dL/dz = dL/dp * p (1 - p) */
    for (int i = 0; i < B * D; i++)
        cr_assert(fabsf(dp[i] * p[i] * (1 - p[i]) - dz[i]) < 1e-5f, "i=%d", i);
    /* clamping keeps p = 0 and p = 1 finite */
    float pe[2] = {0.f, 1.f}, te[2] = {1.f, 0.f}, de[2];
    double Le = layer_loss_bce_prob(de, NULL, pe, te, 1, 2, 1.f);
    cr_assert(isfinite(Le) && isfinite(de[0]) && isfinite(de[1]));
}

/* Finite differences through the float API, with the exact step (x+h) - (x-h) as stored. */
typedef double (*loss2_fn)(float *, float *, const float *, const float *, int, int, float);
static double fd_loss_err(loss2_fn f, float *x, const float *t)
{
    float g[B * D], row[B];
    double L = f(g, row, x, t, B, D, 0.7f);
    double s = 0;
    for (int b = 0; b < B; b++) s += row[b];
    cr_assert(fabs(s / B - L) < 1e-5 * fabs(L) + 1e-9, "rows do not sum to the loss");
    double worst = 0;
    for (int i = 0; i < B * D; i++) {
        float keep = x[i], xp = keep + 1e-3f, xm = keep - 1e-3f;
        x[i] = xp;
        double fp = f(NULL, NULL, x, t, B, D, 1.f);
        x[i] = xm;
        double fm = f(NULL, NULL, x, t, B, D, 1.f);
        x[i] = keep;
        double fd = 0.7 * (fp - fm) / ((double)xp - xm);
        worst = fmax(worst, fabs(fd - g[i]) / fmax(fabs(fd), 1e-3));
    }
    return worst;
}

Test(loss, gradients_match_finite_differences)
{
    float x[B * D], t[B * D], p[B * D];
    tu_fill(x, B * D, -2, 2, 3);
    tu_fill(t, B * D, 0, 1, 4);
    tu_fill(p, B * D, 0.1f, 0.9f, 5);
    cr_expect(fd_loss_err(layer_loss_bce_logits, x, t) < 1e-3);
    cr_expect(fd_loss_err(layer_loss_mse, x, t) < 1e-3);
    cr_expect(fd_loss_err(layer_loss_bce_prob, p, t) < 1e-3);
}

Test(loss, mse_matches_closed_form)
{
    float x[4] = {1, 2, 3, 4}, t[4] = {0, 2, 5, 4}, g[4];
    double L = layer_loss_mse(g, NULL, x, t, 2, 2, 1.f); /* ((1 + 0) + (4 + 0)) / 2 */
    cr_assert(fabs(L - 2.5) < 1e-12);
    cr_assert(g[0] == 1.f && g[1] == 0.f && g[2] == -2.f && g[3] == 0.f);
}

Test(loss, gaussian_nll_matches_closed_form_and_finite_differences)
{
    /* one value: t = 1, mu = 0.5, lv = log 4: 0.5 (log 2pi + log 4 + 0.25 / 4) */
    float mu = 0.5f, lv = logf(4.f), t = 1.f, dmu, dlv;
    double L = layer_loss_gauss_nll(&dmu, &dlv, NULL, &mu, &lv, &t, 1, 1, 1.f);
    double want = 0.5 * (log(2 * 3.14159265358979323846) + log(4.0) + 0.0625);
    cr_assert(fabs(L - want) < 1e-6, "%g vs %g", L, want);
    cr_assert(fabsf(dmu - (-0.125f)) < 1e-6f && fabsf(dlv - 0.5f * (1 - 0.0625f)) < 1e-6f);
    float m[B * D], v[B * D], tt[B * D], gm[B * D], gv[B * D];
    tu_fill(m, B * D, -1, 1, 6);
    tu_fill(v, B * D, -1, 1, 7);
    tu_fill(tt, B * D, -1, 1, 8);
    layer_loss_gauss_nll(gm, gv, NULL, m, v, tt, B, D, 1.f);
    for (int i = 0; i < B * D; i++) {
        float *which[2] = {m, v}, *grad[2] = {gm, gv};
        for (int k = 0; k < 2; k++) {
            float keep = which[k][i], xp = keep + 1e-2f, xm = keep - 1e-2f;
            which[k][i] = xp;
            double fp = layer_loss_gauss_nll(NULL, NULL, NULL, m, v, tt, B, D, 1.f);
            which[k][i] = xm;
            double fm = layer_loss_gauss_nll(NULL, NULL, NULL, m, v, tt, B, D, 1.f);
            which[k][i] = keep;
            double fd = (fp - fm) / ((double)xp - xm);
            cr_expect(fabs(fd - grad[k][i]) < 1e-3 * fmax(fabs(fd), 1e-2), "i=%d k=%d", i, k);
        }
    }
}

Test(loss, kl_matches_closed_form_gradients_and_per_dimension_hand_values)
{
    /* KL(N(mu, s^2) || N(0,1)) = 0.5 (s^2 + mu^2 - 1 - log s^2) */
    float mu[4] = {0.f, 1.f, -2.f, 0.5f}, lv[4] = {0.f, 0.f, logf(0.25f), logf(2.f)};
    float dmu[4], dlv[4], row[2], kd[2];
    double L = layer_loss_kl_normal(dmu, dlv, row, kd, mu, lv, 2, 2, 1.f);
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
        double r = exp((double)x), e = fabs(layer_expf(x) - r) / r;
        me = e > me ? e : me;
    }
    for (double x = 1e-30; x < 1e30; x *= 1.0007) {
        float xf = (float)x;
        double r = log((double)xf), e = fabs(layer_logf(xf) - r) / fmax(1.0, fabs(r));
        ml = e > ml ? e : ml;
    }
    cr_expect(me < 3e-7, "exp: relative error %g", me);
    cr_expect(ml < 3e-7, "log: error %g", ml);
    /* clamped ends stay finite and ordered */
    cr_expect(layer_expf(-1000.f) > 0 && layer_expf(-1000.f) < 1e-37f);
    cr_expect(isfinite(layer_expf(1000.f)) && layer_expf(1000.f) > 1e38f);
    cr_expect(layer_logf(1.f) == 0.f);
}
