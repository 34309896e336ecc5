/* tests/test_vi.c: the variational core on a problem with a known answer.
 *
 * Bayesian linear regression: y = X w + e, e ~ N(0, s2 I) with known s2, prior w ~ N(0, I).
 * Exact posterior N(m, S):  Lambda = S^-1 = I + X^T X / s2,  m = S X^T y / s2.
 * Exact log evidence:       log p(y) = log p(y | m) - |m|^2 / 2 - log det(Lambda) / 2.
 * Mean-field q(w) = prod_i N(mu_i, exp(lv_i)); its ELBO in closed form:
 *   ELBO = -N/2 log(2 pi s2) - (|y - X mu|^2 + sum_i exp(lv_i) |X_:i|^2) / (2 s2) - KL(q || p),
 * maximised by mu = m and exp(lv_i) = 1 / Lambda_ii (Bishop, PRML 10.1.2): the mean-field
 * variances are smaller than the marginals S_ii when the posterior is correlated.
 *
 * The fit uses only library pieces: Philox normals for eps, w = mu + exp(lv/2) eps
 * (reparameterisation), layer_gauss_nll for -log p(y | w) and its gradient with respect to
 * the predictions, layer_loss_kl_normal for the KL, and Adam with a cosine
 * schedule on the arena.
 */
#include "layers/arena.h"
#include "layers/loss.h"
#include "layers/optim.h"
#include "base/rng.h"
#include "layers/schedule.h"
#include "tests/testutil.h"

#include <criterion/criterion.h>
#include <math.h>

enum { N = 30, D = 3, K = 64 }; /* observations, parameters, samples per step */

/* Mean over S samples of sum_n -log N(t | pred, e^lv) (the layers/loss.h kernel); dpred (S, N),
 * if not NULL, receives its gradient with respect to pred, divided by S as the mean is. */
static double gauss_nll(const float *pred, const float *lv, const float *t, int S, float *dpred)
{
    double L = 0;
    for (int k = 0; k < S * N; k++) {
        double dm, dv;
        L += layer_gauss_nll(t[k], pred[k], lv[k], INFINITY, dpred ? &dm : NULL, &dv);
        if (dpred) dpred[k] = (float)(dm / S);
    }
    return L / S;
}
static const double S2 = 0.25;  /* noise variance */
static const double LOG_2PI = 1.8378770664093453;

typedef struct {
    double X[N][D], y[N];
    double Lam[D][D], S[D][D], m[D], logZ;
} problem_t;

/* In-place inverse and log-determinant of a symmetric positive-definite D x D matrix
 * (Gauss-Jordan; D = 3). */
static double spd_inverse(double A[D][D], double inv[D][D])
{
    double M[D][2 * D], logdet = 0;
    for (int i = 0; i < D; i++)
        for (int j = 0; j < 2 * D; j++) M[i][j] = j < D ? A[i][j] : (j - D == i);
    for (int c = 0; c < D; c++) {
        double p = M[c][c];
        logdet += log(p);
        for (int j = 0; j < 2 * D; j++) M[c][j] /= p;
        for (int r = 0; r < D; r++)
            if (r != c) {
                double f = M[r][c];
                for (int j = 0; j < 2 * D; j++) M[r][j] -= f * M[c][j];
            }
    }
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) inv[i][j] = M[i][j + D];
    return logdet;
}

static void make_problem(problem_t *P)
{
    float u[N * 3 + N];
    tu_fill(u, N * 4, -1, 1, 2024);
    const double wtrue[D] = {1.0, -0.5, 0.3};
    base_rng_t r;
    base_rng_init(&r, 77, 0);
    float noise[N];
    base_rng_normal(&r, noise, N);
    for (int n = 0; n < N; n++) {
        P->X[n][0] = u[n];
        P->X[n][1] = u[n] + 0.3 * u[N + n]; /* strongly correlated with column 0 */
        P->X[n][2] = u[2 * N + n];
        P->y[n] = sqrt(S2) * noise[n];
        for (int i = 0; i < D; i++) P->y[n] += P->X[n][i] * wtrue[i];
    }
    double Xty[D] = {0};
    for (int i = 0; i < D; i++) {
        for (int j = 0; j < D; j++) {
            double s = 0;
            for (int n = 0; n < N; n++) s += P->X[n][i] * P->X[n][j];
            P->Lam[i][j] = (i == j) + s / S2;
        }
        for (int n = 0; n < N; n++) Xty[i] += P->X[n][i] * P->y[n] / S2;
    }
    double logdetLam = spd_inverse(P->Lam, P->S);
    for (int i = 0; i < D; i++) {
        P->m[i] = 0;
        for (int j = 0; j < D; j++) P->m[i] += P->S[i][j] * Xty[j];
    }
    double rss = 0, mm = 0;
    for (int n = 0; n < N; n++) {
        double e = P->y[n];
        for (int i = 0; i < D; i++) e -= P->X[n][i] * P->m[i];
        rss += e * e;
    }
    for (int i = 0; i < D; i++) mm += P->m[i] * P->m[i];
    P->logZ = -0.5 * N * (LOG_2PI + log(S2)) - rss / (2 * S2) - 0.5 * mm - 0.5 * logdetLam;
}

/* Closed-form ELBO of q = N(mu, diag exp(lv)). */
static double elbo_exact(const problem_t *P, const double *mu, const double *lv)
{
    double rss = 0, kl = 0;
    for (int n = 0; n < N; n++) {
        double e = P->y[n];
        for (int i = 0; i < D; i++) e -= P->X[n][i] * mu[i];
        rss += e * e;
    }
    for (int i = 0; i < D; i++) {
        double c = 0;
        for (int n = 0; n < N; n++) c += P->X[n][i] * P->X[n][i];
        rss += exp(lv[i]) * c;
        kl += 0.5 * (exp(lv[i]) + mu[i] * mu[i] - 1 - lv[i]);
    }
    return -0.5 * N * (LOG_2PI + log(S2)) - rss / (2 * S2) - kl;
}

/* Predictions pred: (k, N) = w: (k, D) X^T. */
static void predict(const problem_t *P, const float *w, float *pred, int k)
{
    for (int s = 0; s < k; s++)
        for (int n = 0; n < N; n++) {
            double a = 0;
            for (int i = 0; i < D; i++) a += P->X[n][i] * w[s * D + i];
            pred[s * N + n] = (float)a;
        }
}

/* Monte-Carlo ELBO with M samples from q: mean of log p(y | w) minus the analytic KL.
 * Both terms come from the library (negated losses). */
static double elbo_mc(const problem_t *P, const float *mu, const float *lv, base_rng_t *r)
{
    enum { M = 4096 };
    static float eps[M * D], w[M * D], pred[M * N], yt[M * N], lvn[M * N];
    base_rng_normal(r, eps, M * D);
    for (int s = 0; s < M; s++)
        for (int i = 0; i < D; i++) w[s * D + i] = mu[i] + expf(0.5f * lv[i]) * eps[s * D + i];
    predict(P, w, pred, M);
    for (int s = 0; s < M; s++)
        for (int n = 0; n < N; n++) {
            yt[s * N + n] = (float)P->y[n];
            lvn[s * N + n] = (float)log(S2);
        }
    double nll = gauss_nll(pred, lvn, yt, M, NULL);
    double kl = layer_loss_kl_normal(mu, lv, 1, D, 1.f, NULL, NULL, NULL, NULL);
    return -nll - kl;
}

Test(vi, mean_field_fit_of_bayesian_linear_regression_matches_the_exact_answer)
{
    problem_t P;
    make_problem(&P);
    /* q's parameters in the arena: mu at off_mu, lv at off_lv */
    layer_arena_t A;
    size_t off_mu, off_lv;
    cr_assert_eq(layer_arena_init(&A, 2 * layer_arena_size(D)), 0);
    layer_arena_take(&A, D, &off_mu);
    layer_arena_take(&A, D, &off_lv);
    float *mu = A.param + off_mu, *lv = A.param + off_lv;
    for (int i = 0; i < D; i++) lv[i] = -2.f; /* mu = 0, small initial variance */

    layer_adam_t opt;
    layer_adam_init(&opt, 0.f);
    const int steps = 4000;
    layer_lr_schedule_t sched = {.kind = LAYER_LR_COSINE, .base = 0.05f, .warmup = 50,
                                 .total = steps, .min_lr = 1e-4f};
    base_rng_t r, r_eval;
    base_rng_init(&r, 1, 0);
    base_rng_init(&r_eval, 1, 1);

    float eps[K * D], w[K * D], pred[K * N], dpred[K * N], yt[K * N], lvn[K * N];
    for (int s = 0; s < K; s++)
        for (int n = 0; n < N; n++) {
            yt[s * N + n] = (float)P.y[n];
            lvn[s * N + n] = (float)log(S2);
        }
    double avg_mu[D] = {0}, avg_lv[D] = {0};
    int navg = 0, checks = 0;
    for (int t = 0; t < steps; t++) {
        /* w = mu + sigma eps (reparameterisation trick) */
        base_rng_normal(&r, eps, K * D);
        for (int s = 0; s < K; s++)
            for (int i = 0; i < D; i++)
                w[s * D + i] = mu[i] + expf(0.5f * lv[i]) * eps[s * D + i];
        predict(&P, w, pred, K);
        /* loss = -ELBO = E_eps[-log p(y | w)] + KL;  dpred = d(-log p)/dpred / K */
        gauss_nll(pred, lvn, yt, K, dpred);
        layer_loss_kl_normal(mu, lv, 1, D, 1.f, A.grad + off_mu, A.grad + off_lv, NULL, NULL);
        /* chain rule: dw = X^T dpred;  dmu += dw;  dlv += dw * eps * sigma / 2 */
        for (int s = 0; s < K; s++)
            for (int i = 0; i < D; i++) {
                double dw = 0;
                for (int n = 0; n < N; n++) dw += P.X[n][i] * dpred[s * N + n];
                A.grad[off_mu + i] += (float)dw;
                A.grad[off_lv + i] += (float)(dw * eps[s * D + i] * 0.5 * expf(0.5f * lv[i]));
            }
        layer_adam_step(&opt, &A, layer_lr_at(&sched, t));

        if (t % 200 == 0 || t == steps - 1) { /* the ELBO never exceeds the evidence */
            double mud[D], lvd[D];
            tu_to_double(mud, mu, D);
            tu_to_double(lvd, lv, D);
            double ex = elbo_exact(&P, mud, lvd), mc = elbo_mc(&P, mu, lv, &r_eval);
            cr_assert(ex <= P.logZ, "step %d: exact ELBO %g > log evidence %g", t, ex, P.logZ);
            cr_assert(mc <= P.logZ, "step %d: MC ELBO %g > log evidence %g", t, mc, P.logZ);
            checks++;
        }
        if (t >= steps - 500) { /* Polyak average of the last iterates */
            for (int i = 0; i < D; i++) {
                avg_mu[i] += mu[i];
                avg_lv[i] += lv[i];
            }
            navg++;
        }
    }
    cr_assert_gt(checks, 10);
    for (int i = 0; i < D; i++) {
        avg_mu[i] /= navg;
        avg_lv[i] /= navg;
    }
    for (int i = 0; i < D; i++) {
        double sd = sqrt(P.S[i][i]), mf = 1.0 / P.Lam[i][i], v = exp(avg_lv[i]);
        cr_log_info("w%d: mu %.4f exact %.4f; var %.5f mean-field %.5f marginal %.5f", i,
                    avg_mu[i], P.m[i], v, mf, P.S[i][i]);
        cr_expect(fabs(avg_mu[i] - P.m[i]) < 0.05 * sd, "mu[%d] = %g, exact %g (sd %g)", i,
                  avg_mu[i], P.m[i], sd);
        cr_expect(fabs(v / mf - 1) < 0.05, "var[%d] = %g, mean-field optimum %g", i, v, mf);
    }
    /* columns 0 and 1 are correlated: mean-field variances strictly below the marginals */
    for (int i = 0; i < 2; i++)
        cr_expect(exp(avg_lv[i]) < 0.5 * P.S[i][i], "var[%d] = %g not below marginal %g", i,
                  exp(avg_lv[i]), P.S[i][i]);
    double best_mu[D], best_lv[D];
    for (int i = 0; i < D; i++) {
        best_mu[i] = P.m[i];
        best_lv[i] = -log(P.Lam[i][i]);
    }
    double best = elbo_exact(&P, best_mu, best_lv), final = elbo_exact(&P, avg_mu, avg_lv);
    cr_expect(best < P.logZ - 0.1, "mean-field gap %g should be visible", P.logZ - best);
    cr_expect(fabs(final - best) < 0.02, "final ELBO %g, mean-field maximum %g (log Z %g)", final,
              best, P.logZ);
    cr_log_info("log Z %.4f, mean-field max %.4f, final ELBO %.4f", P.logZ, best, final);
    layer_arena_free(&A);
}
