/* vae/prior.c: the conditional Gaussian-mixture prior (see prior.h). */
#include "vae/prior.h"
#include "vae/boxcox.h"

#include "base/rng.h"
#include "base/status.h"
#include "base/streams.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_2PI 1.8378770664093453
#define RIDGE 1e-4   /* covariance ridge, in units of each coordinate's variance */
#define R_SKIP 1e-12 /* responsibilities below this do not enter a component's sums */

int vae_prior_init(vae_prior_t *p, int K, int C, int Z, const phys_geometry_t *g, double c_mev)
{
    memset(p, 0, sizeof *p);
    if (K < 1 || K > 256 || C < 1 || C > VAE_PRIOR_MAX_COND || Z < 1 || g->n_layers < 1 || !(c_mev > 0))
        return base_error(BASE_EINVAL, "prior: %d components, %d conditions, %d latent, %d layers, offset %g MeV", K, C,
                          Z, g->n_layers, c_mev);
    p->K = K, p->C = C, p->Z = Z, p->L = g->n_layers, p->D = C + Z + g->n_layers + 1, p->c_mev = c_mev;
    memcpy(p->offset, g->offset, (size_t)(g->n_layers + 1) * sizeof(int));
    const size_t D = (size_t)p->D, X = D - (size_t)C;
    p->pi = calloc((size_t)K, sizeof(double));
    p->mu = calloc((size_t)K * D, sizeof(double));
    p->chol = calloc((size_t)K * D * D, sizeof(double));
    p->gain = calloc((size_t)K * X * (size_t)C, sizeof(double));
    p->cchol = calloc((size_t)K * X * X, sizeof(double));
    if (!p->pi || !p->mu || !p->chol || !p->gain || !p->cchol) {
        vae_prior_free(p);
        return base_error(BASE_ENOMEM, "prior: out of memory");
    }
    return BASE_OK;
}

void vae_prior_free(vae_prior_t *p)
{
    if (!p) return;
    free(p->pi), free(p->mu), free(p->chol), free(p->gain), free(p->cchol);
    vae_marg_free(&p->marg);
    memset(p, 0, sizeof *p);
}

int vae_prior_copy(vae_prior_t *dst, const vae_prior_t *src)
{
    memset(dst, 0, sizeof *dst);
    if (src->K == 0) return BASE_OK;
    phys_geometry_t g = {.n_layers = src->L};
    memcpy(g.offset, src->offset, (size_t)(src->L + 1) * sizeof(int));
    BASE_TRY(vae_prior_init(dst, src->K, src->C, src->Z, &g, src->c_mev));
    const size_t K = (size_t)src->K, D = (size_t)src->D, X = D - (size_t)src->C;
    memcpy(dst->pi, src->pi, K * sizeof(double));
    memcpy(dst->mu, src->mu, K * D * sizeof(double));
    memcpy(dst->chol, src->chol, K * D * D * sizeof(double));
    memcpy(dst->gain, src->gain, K * X * (size_t)src->C * sizeof(double));
    memcpy(dst->cchol, src->cchol, K * X * X * sizeof(double));
    memcpy(dst->power, src->power, sizeof dst->power);
    dst->anchored = src->anchored;
    int rc = vae_marg_copy(&dst->marg, &src->marg);
    if (rc != BASE_OK) vae_prior_free(dst);
    return rc;
}


double vae_prior_layer_coord(const vae_prior_t *p, int l, double e, double E_inc)
{
    return p->anchored ? log((e + p->c_mev) / (2 * p->c_mev)) : vae_boxcox(p->power[l], (e + p->c_mev) / E_inc);
}

double vae_prior_layer_energy(const vae_prior_t *p, int l, double r, double E_inc)
{
    double s = p->anchored ? 2 * p->c_mev * exp(r) : vae_boxcox_inv(p->power[l], r) * E_inc;
    return fmax(s - p->c_mev, 0.0);
}

void vae_prior_conditions(const vae_prior_t *p, double e_min, double e_max, float E_inc, float angle_deg, double *cond)
{
    cond[0] = (log(E_inc) - log(e_min)) / (log(e_max) - log(e_min));
    if (p->C > 1) cond[1] = angle_deg / 90.0;
}

void vae_prior_features(const vae_prior_t *p, double e_min, double e_max, float E_inc, float angle_deg,
                        const float *z, const float *x, const float *jitter, float *y)
{
    const double c = p->c_mev;
    double tot = 0, cd[VAE_PRIOR_MAX_COND];
    vae_prior_conditions(p, e_min, e_max, E_inc, angle_deg, cd);
    for (int j = 0; j < p->C; j++) y[j] = (float)cd[j];
    for (int j = 0; j < p->Z; j++) y[p->C + j] = z[j];
    for (int l = 0; l < p->L; l++) {
        double e = 0;
        for (int v = p->offset[l]; v < p->offset[l + 1]; v++) e += x[v] >= c ? x[v] : 0.0;
        tot += e;
        if (e == 0 && jitter) e = c * jitter[l];
        y[p->C + p->Z + l] = (float)vae_prior_layer_coord(p, l, e, E_inc);
    }
    y[p->D - 1] = (float)vae_boxcox(p->power[p->L], (tot + c) / E_inc);
}

/* Profile log-likelihood of power q for coordinate j of Y (its values ln s), over the showers
 * whose energy there is not empty (an empty layer sits at s = c / E_inc exactly: a spike that
 * the mixture models, and that no power makes Gaussian); lnE: (N) ln E_inc of the rows. */
static double power_profile(const vae_prior_t *p, const float *Y, size_t N, const double *lnE, int j, double q)
{
    vae_boxcox_acc_t a = {0};
    for (size_t i = 0; i < N; i++) {
        double ls = Y[i * p->D + j];
        if (ls + lnE[i] < log(2 * p->c_mev) - 1e-4) continue; /* E < c: empty (or dequantised) */
        vae_boxcox_add(&a, Y[i * p->D], vae_boxcox_of_log(q, ls), ls);
    }
    if (a.n < 2) return q == 0 ? 0 : -INFINITY; /* nothing to choose from: ln */
    return vae_boxcox_profile(&a, q);
}

int vae_prior_fit_powers(vae_prior_t *p, const float *Y, size_t N, double e_min, double e_max)
{
    const int j0 = p->C + p->Z;
    double *lnE = malloc((N ? N : 1) * sizeof *lnE);
    if (!lnE) return base_error(BASE_ENOMEM, "prior: out of memory");
    for (size_t i = 0; i < N; i++) lnE[i] = log(e_min) + Y[i * p->D] * (log(e_max) - log(e_min));
#pragma omp parallel for schedule(dynamic, 1)
    for (int l = 0; l <= p->L; l++) {
        double best = 0, lbest = -INFINITY;
        for (int k = 0; k <= 20; k++) {
            double q = 0.05 * k, v = power_profile(p, Y, N, lnE, j0 + l, q);
            if (v > lbest) lbest = v, best = q;
        }
        p->power[l] = best;
    }
    free(lnE);
    return BASE_OK;
}

void vae_prior_apply_powers(const vae_prior_t *p, float *Y, size_t N)
{
    for (size_t i = 0; i < N; i++)
        for (int l = 0; l <= p->L; l++) {
            float *y = Y + i * p->D + p->C + p->Z + l;
            *y = (float)vae_boxcox_of_log(p->power[l], *y);
        }
}

/* ---- Gaussian algebra ---- */

/* In place: A (n, n) -> its lower Cholesky factor (upper part zeroed); -1 if not positive. */
static int cholesky(double *A, int n)
{
    for (int j = 0; j < n; j++) {
        double s = A[(size_t)j * n + j];
        for (int k = 0; k < j; k++) s -= A[(size_t)j * n + k] * A[(size_t)j * n + k];
        if (!(s > 0)) return -1;
        double d = sqrt(s);
        A[(size_t)j * n + j] = d;
        for (int i = j + 1; i < n; i++) {
            double t = A[(size_t)i * n + j];
            for (int k = 0; k < j; k++) t -= A[(size_t)i * n + k] * A[(size_t)j * n + k];
            A[(size_t)i * n + j] = t / d;
            A[(size_t)j * n + i] = 0;
        }
    }
    return 0;
}

/* ln N(y; mu, L L^T) over the leading m coordinates (the leading block of a Cholesky factor
 * is the factor of the leading block): -0.5 (m ln 2 pi + 2 sum ln L_ii + |L^-1 (y - mu)|^2).
 * L has row stride D; v: (m) scratch. */
static double log_normal(const double *y, const double *mu, const double *L, int D, int m, double *v)
{
    double q = 0, ld = 0;
    for (int i = 0; i < m; i++) {
        double t = y[i] - mu[i];
        for (int k = 0; k < i; k++) t -= L[(size_t)i * D + k] * v[k];
        v[i] = t / L[(size_t)i * D + i];
        q += v[i] * v[i];
        ld += log(L[(size_t)i * D + i]);
    }
    return -0.5 * (m * LOG_2PI + q) - ld;
}

static double log_sum_exp(const double *a, int n)
{
    double m = -INFINITY, s = 0;
    for (int i = 0; i < n; i++) m = fmax(m, a[i]);
    if (!isfinite(m)) return m;
    for (int i = 0; i < n; i++) s += exp(a[i] - m);
    return m + log(s);
}

/* ---- EM ---- */

typedef struct {
    size_t N;
    int K, D;
    const double *Y; /* (N, D) standardised */
    double *R;       /* (N, K) responsibilities */
    double *pi, *mu, *chol; /* the fit, in standardised units */
} em_t;

/* Initial centres by k-means++ seeding (Arthur and Vassilvitskii 2007) and a hard assignment. */
static void em_init(em_t *e, uint64_t seed)
{
    const size_t N = e->N, D = (size_t)e->D;
    base_rng_t r;
    base_rng_init(&r, seed, BASE_STREAM_PRIOR_INIT);
    double *d2 = malloc(N * sizeof(double));
    size_t first = base_rng_below(&r, (uint32_t)(N < 0xffffffffu ? N : 0xffffffffu));
    memcpy(e->mu, e->Y + first * D, D * sizeof(double));
    for (size_t n = 0; n < N; n++) d2[n] = INFINITY;
    for (int k = 1; k <= e->K; k++) {
        double tot = 0;
        for (size_t n = 0; n < N; n++) { /* squared distance to the nearest centre so far */
            double s = 0;
            for (size_t d = 0; d < D; d++) {
                double t = e->Y[n * D + d] - e->mu[(size_t)(k - 1) * D + d];
                s += t * t;
            }
            d2[n] = fmin(d2[n], s);
            tot += d2[n];
        }
        if (k == e->K) break;
        float u;
        base_rng_uniform(&r, &u, 1);
        double target = u * tot, acc = 0;
        size_t pick = N - 1;
        for (size_t n = 0; n < N; n++)
            if ((acc += d2[n]) >= target) {
                pick = n;
                break;
            }
        memcpy(e->mu + (size_t)k * D, e->Y + pick * D, D * sizeof(double));
    }
    for (size_t n = 0; n < N; n++) { /* hard assignment to the nearest centre */
        int best = 0;
        double bd = INFINITY;
        for (int k = 0; k < e->K; k++) {
            double s = 0;
            for (size_t d = 0; d < D; d++) {
                double t = e->Y[n * D + d] - e->mu[(size_t)k * D + d];
                s += t * t;
            }
            if (s < bd) bd = s, best = k;
        }
        for (int k = 0; k < e->K; k++) e->R[n * e->K + k] = k == best;
    }
    free(d2);
}

/* M-step for component k: weight, mean, covariance + ridge, Cholesky. Sums run over n in
 * order (one component per thread: the same result for any thread count). */
static void em_mstep_one(em_t *e, int k, double *cov)
{
    const size_t N = e->N, D = (size_t)e->D, K = (size_t)e->K;
    double nk = 0, *mu = e->mu + k * D;
    memset(mu, 0, D * sizeof(double));
    for (size_t n = 0; n < N; n++) {
        double r = e->R[n * K + k];
        if (r < R_SKIP) continue;
        nk += r;
        for (size_t d = 0; d < D; d++) mu[d] += r * e->Y[n * D + d];
    }
    e->pi[k] = nk / (double)N;
    memset(cov, 0, D * D * sizeof(double));
    if (nk < 1e-6) { /* an empty component: unit covariance at the origin, weight ~0 */
        for (size_t d = 0; d < D; d++) cov[d * D + d] = 1;
        e->pi[k] = 1e-300;
    } else {
        for (size_t d = 0; d < D; d++) mu[d] /= nk;
        double *t = malloc(D * sizeof(double));
        for (size_t n = 0; n < N; n++) {
            double r = e->R[n * K + k];
            if (r < R_SKIP) continue;
            for (size_t d = 0; d < D; d++) t[d] = e->Y[n * D + d] - mu[d];
            for (size_t i = 0; i < D; i++) {
                double ri = r * t[i];
                for (size_t j = 0; j <= i; j++) cov[i * D + j] += ri * t[j];
            }
        }
        free(t);
        for (size_t i = 0; i < D; i++)
            for (size_t j = 0; j <= i; j++) cov[i * D + j] = cov[j * D + i] = cov[i * D + j] / nk;
    }
    for (double ridge = RIDGE;; ridge *= 10) { /* the ridge grows until the factor exists */
        double *L = e->chol + (size_t)k * D * D;
        memcpy(L, cov, D * D * sizeof(double));
        for (size_t d = 0; d < D; d++) L[d * D + d] += ridge;
        if (cholesky(L, (int)D) == 0) break;
    }
}

/* E-step: responsibilities and the mean log-likelihood (summed in row order). */
static double em_estep(em_t *e, double *lln)
{
    const size_t N = e->N, D = (size_t)e->D, K = (size_t)e->K;
#pragma omp parallel
    {
        double *v = malloc(D * sizeof(double)), *lp = malloc(K * sizeof(double));
#pragma omp for schedule(static)
        for (size_t n = 0; n < N; n++) {
            for (size_t k = 0; k < K; k++)
                lp[k] = log(e->pi[k]) + log_normal(e->Y + n * D, e->mu + k * D, e->chol + k * D * D, (int)D, (int)D, v);
            double l = log_sum_exp(lp, (int)K);
            for (size_t k = 0; k < K; k++) e->R[n * K + k] = exp(lp[k] - l);
            lln[n] = l;
        }
        free(v), free(lp);
    }
    double s = 0;
    for (size_t n = 0; n < N; n++) s += lln[n];
    return s / (double)N;
}

int vae_prior_fit(vae_prior_t *p, const float *Y, size_t N, int iters, uint64_t seed, const base_monitor_t *mon,
                  double *ll)
{
    const size_t D = (size_t)p->D, K = (size_t)p->K;
    if (N < 2 * K || N < D + 1)
        return base_error(BASE_EINVAL, "prior: %zu showers are too few for %zu components in %zu dimensions", N, K, D);
    double *m = calloc(D, sizeof(double)), *s = calloc(D, sizeof(double));
    double *Ys = malloc(N * D * sizeof(double)), *R = malloc(N * K * sizeof(double));
    double *lln = malloc(N * sizeof(double)), *cov = malloc(K * D * D * sizeof(double));
    double *mu = malloc(K * D * sizeof(double)), *chol = malloc(K * D * D * sizeof(double));
    if (!m || !s || !Ys || !R || !lln || !cov || !mu || !chol) {
        free(m), free(s), free(Ys), free(R), free(lln), free(cov), free(mu), free(chol);
        return base_error(BASE_ENOMEM, "prior: out of memory for %zu showers", N);
    }
    /* standardise each coordinate (mean 0, variance 1), in double */
    for (size_t d = 0; d < D; d++) {
        double a = 0, q = 0;
        for (size_t n = 0; n < N; n++) a += Y[n * D + d];
        a /= (double)N;
        for (size_t n = 0; n < N; n++) q += (Y[n * D + d] - a) * (Y[n * D + d] - a);
        m[d] = a;
        s[d] = q > 0 ? sqrt(q / (double)N) : 1;
        for (size_t n = 0; n < N; n++) Ys[n * D + d] = (Y[n * D + d] - a) / s[d];
    }
    em_t e = {N, (int)K, (int)D, Ys, R, p->pi, mu, chol};
    em_init(&e, seed);
    double prev = -INFINITY, cur = -INFINITY;
    base_monitor_begin(mon, "prior", "EM iterations", (size_t)iters);
    int it;
    for (it = 0; it < iters; it++) {
#pragma omp parallel for schedule(dynamic, 1)
        for (int k = 0; k < (int)K; k++) em_mstep_one(&e, k, cov + (size_t)k * D * D);
        cur = em_estep(&e, lln);
        char extra[64];
        snprintf(extra, sizeof extra, "log-likelihood %.4f per shower (standardised units)", cur);
        base_monitor_update(mon, (size_t)it + 1, extra);
        if (!isfinite(cur)) break;
        if (it > 1 && cur - prev < 1e-5) break;
        prev = cur;
    }
    base_monitor_end(mon, (size_t)(it < iters ? it + 1 : iters));
    int rc = isfinite(cur) ? BASE_OK : base_error(BASE_ENUM, "prior: EM diverged (log-likelihood %g)", cur);
    /* back to the data's units: mu = m + s mu', L = diag(s) L'; the log-likelihood shifts by
     * -sum ln s_d */
    double lds = 0;
    for (size_t d = 0; d < D; d++) lds += log(s[d]);
    for (size_t k = 0; k < K && rc == BASE_OK; k++)
        for (size_t i = 0; i < D; i++) {
            p->mu[k * D + i] = m[i] + s[i] * mu[k * D + i];
            for (size_t j = 0; j < D; j++) p->chol[(k * D + i) * D + j] = s[i] * chol[(k * D + i) * D + j];
        }
    if (ll) *ll = cur - lds;
    free(m), free(s), free(Ys), free(R), free(lln), free(cov), free(mu), free(chol);
    if (rc == BASE_OK) rc = vae_prior_prepare(p);
    return rc;
}

int vae_prior_prepare(vae_prior_t *p)
{
    const size_t D = (size_t)p->D, C = (size_t)p->C, X = D - C;
    double wsum = 0;
    for (int k = 0; k < p->K; k++) wsum += p->pi[k];
    for (size_t i = 0; i < (size_t)p->K * D * D; i++)
        if (!isfinite(p->chol[i]) || (i < (size_t)p->K * D && !isfinite(p->mu[i])))
            return base_error(BASE_EINVAL, "prior: a mean or covariance is not finite");
    if (!(wsum > 0) || !isfinite(wsum)) return base_error(BASE_EINVAL, "prior: the weights do not sum to a positive number");
    for (int k = 0; k < p->K; k++) {
        const double *L = p->chol + (size_t)k * D * D;
        if (!(p->pi[k] >= 0)) return base_error(BASE_EINVAL, "prior: component %d is not valid", k);
        for (size_t i = 0; i < C; i++)
            if (!(L[i * D + i] > 0)) return base_error(BASE_EINVAL, "prior: component %d is not valid", k);
        /* with L = [[L_cc, 0], [L_xc, L_xx]] (c the C conditions): x | c = m_x + L_xc L_cc^-1 (c - m_c)
         * + L_xx e, so the conditional's factor is L_xx and its gain L_xc, applied to
         * w = L_cc^-1 (c - m_c) */
        for (size_t i = 0; i < X; i++) {
            for (size_t j = 0; j < C; j++) p->gain[((size_t)k * X + i) * C + j] = L[(C + i) * D + j];
            for (size_t j = 0; j < X; j++) p->cchol[((size_t)k * X + i) * X + j] = L[(C + i) * D + C + j];
            if (!(L[(C + i) * D + C + i] > 0)) return base_error(BASE_EINVAL, "prior: component %d is singular", k);
        }
    }
    return BASE_OK;
}

/* ln pi_k N(c; mu_kc, S_kcc) for every component (the weights of p(x | c), unnormalised), with
 * c: (C) the conditions; v: (C) scratch. */
static void cond_weights(const vae_prior_t *p, const double *c, double *lw, double *v)
{
    for (int k = 0; k < p->K; k++)
        lw[k] = log(p->pi[k]) + log_normal(c, p->mu + (size_t)k * p->D, p->chol + (size_t)k * p->D * p->D, p->D, p->C, v);
}

double vae_prior_loglik(const vae_prior_t *p, const float *Y, size_t N, double *cond)
{
    const int D = p->D, K = p->K;
    double sj = 0, sx = 0, sz = 0;
    double *v = malloc((size_t)D * sizeof(double)), *y = malloc((size_t)D * sizeof(double));
    double *a = malloc((size_t)K * sizeof(double)), *b = malloc((size_t)K * sizeof(double)),
           *c = malloc((size_t)K * sizeof(double));
    if (!v || !y || !a || !b || !c) {
        free(v), free(y), free(a), free(b), free(c);
        return NAN;
    }
    for (size_t n = 0; n < N; n++) {
        for (int d = 0; d < D; d++) y[d] = Y[n * D + d];
        for (int k = 0; k < K; k++) {
            const double *mu = p->mu + (size_t)k * D, *L = p->chol + (size_t)k * D * D;
            a[k] = log(p->pi[k]) + log_normal(y, mu, L, D, D, v);           /* (c, z, r) */
            b[k] = log(p->pi[k]) + log_normal(y, mu, L, D, p->C + p->Z, v); /* (c, z) */
        }
        cond_weights(p, y, c, v); /* the conditions lead y */
        double lu = log_sum_exp(c, K), lj = log_sum_exp(a, K);
        sj += lj;
        sx += lj - lu;
        sz += log_sum_exp(b, K) - lu;
    }
    free(v), free(y), free(a), free(b), free(c);
    if (cond) cond[0] = sx / (double)N, cond[1] = sz / (double)N;
    return sj / (double)N;
}

void vae_prior_sample(const vae_prior_t *p, const double *cond, const float *eps, double pick, float *x)
{
    const int K = p->K, C = p->C, X = p->D - C;
    double lw[256], v[VAE_PRIOR_MAX_COND], tot = 0;
    cond_weights(p, cond, lw, v);
    double mx = -INFINITY;
    for (int k = 0; k < K; k++) mx = fmax(mx, lw[k]);
    for (int k = 0; k < K; k++) tot += (lw[k] = exp(lw[k] - mx));
    int k = 0;
    for (double acc = lw[0]; k < K - 1 && acc < pick * tot; acc += lw[++k]) {}
    const double *mu = p->mu + (size_t)k * p->D, *L = p->chol + (size_t)k * p->D * p->D;
    const double *g = p->gain + (size_t)k * X * C, *Cf = p->cchol + (size_t)k * X * X;
    log_normal(cond, mu, L, p->D, C, v); /* v = L_cc^-1 (c - m_c) */
    for (int i = 0; i < X; i++) { /* x = m_x + L_xc v + L_xx eps */
        double s = mu[C + i];
        for (int j = 0; j < C; j++) s += g[(size_t)i * C + j] * v[j];
        for (int j = 0; j <= i; j++) s += Cf[(size_t)i * X + j] * eps[j];
        x[i] = (float)s;
    }
    vae_marg_inverse(&p->marg, cond[0], x);
}

void vae_prior_targets(const vae_prior_t *p, float E_inc, const float *r, double *tgt)
{
    const int L = p->L;
    const double c = p->c_mev;
    double sw = 0, T = fmax(vae_boxcox_inv(p->power[L], r[L]) * E_inc - c, 0.0);
    for (int l = 0; l < L; l++) sw += (tgt[l] = vae_prior_layer_energy(p, l, r[l], E_inc));
    for (int l = 0; l < L; l++) tgt[l] = sw > 0 ? T * tgt[l] / sw : 0;
}

void vae_prior_apply(const vae_prior_t *p, float E_inc, const float *r, double thr, float *x)
{
    double tg[PHYS_MAX_LAYERS];
    vae_prior_targets(p, E_inc, r, tg);
    for (int l = 0; l < p->L; l++) {
        float *xl = x + p->offset[l];
        const int n = p->offset[l + 1] - p->offset[l];
        double tgt = tg[l], S = 0;
        int top = 0;
        for (int v = 0; v < n; v++) {
            S += xl[v];
            if (xl[v] > xl[top]) top = v;
        }
        if (tgt < thr || !(S > 0)) {
            memset(xl, 0, (size_t)n * sizeof(float));
            continue;
        }
        double a = tgt / S, S2 = 0;
        for (int v = 0; v < n; v++) {
            float y = (float)(xl[v] * a);
            xl[v] = y < thr ? 0.f : y;
            S2 += xl[v];
        }
        if (S2 > 0) { /* the survivors carry the layer's energy (a factor >= 1) */
            double b = tgt / S2;
            for (int v = 0; v < n; v++) xl[v] = (float)(xl[v] * b);
        } else { /* every voxel fell below the threshold: the largest takes the layer's energy */
            xl[top] = (float)tgt;
        }
    }
}
