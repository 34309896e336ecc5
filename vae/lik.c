/* vae/lik.c: preprocessing and likelihoods (see lik.h and config.h). */
#include "vae/lik.h"
#include "vae/boxcox.h"
#include "base/streams.h"

#include "base/fastmath.h"
#include "layers/loss.h"
#include "base/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LOG_SCALE 16.0f /* ln(1 + 1 TeV / 15 keV) ~ 18: keeps the encoder input near [0, 1] */

void vae_prep_conditions(const vae_config_t *c, int n, const float *E_inc, const float *angle, float *cond, int ld)
{
    const double lo = log(c->e_min_mev), span = log(c->e_max_mev) - lo;
    const int scipb = !strcmp(c->material, "SciPb");
    for (int i = 0; i < n; i++) {
        float *o = cond + (size_t)i * ld;
        int k = 0;
        if (c->conditions & VAE_COND_LOG_ENERGY) o[k++] = (float)((log(E_inc[i]) - lo) / span);
        if (c->conditions & VAE_COND_ENERGY) o[k++] = E_inc[i] / 1024e3f;        /* E / 1024 GeV */
        if (c->conditions & VAE_COND_ANGLE) o[k++] = (angle ? angle[i] : 90.f) / 90.f; /* angle / 90 deg */
        if (c->conditions & VAE_COND_GEOMETRY) o[k++] = (float)scipb, o[k++] = (float)!scipb; /* SiW (0, 1) */
    }
}

void vae_prep_encoder_input(const vae_config_t *c, int n, const float *E_inc, const float *x, float *in,
                            int ld)
{
    const size_t V = (size_t)c->V;
    const float thr = c->threshold_mev > 0 ? (float)c->threshold_mev : 1e-3f;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        const float *xi = x + i * V;
        float *o = in + (size_t)i * ld, inv = 1.f / E_inc[i];
        if (c->lik == VAE_LIK_BERNOULLI)
            for (size_t v = 0; v < V; v++) { /* a ternary vectorises, fminf is a libm call */
                float u = xi[v] * inv;
                o[v] = u < 1.f ? u : 1.f;
            }
        else
            for (size_t v = 0; v < V; v++) o[v] = log1pf(xi[v] / thr) / LOG_SCALE;
    }
}

/* ---- the hit-energy variable: y = B_p(x / thr) (vae/boxcox.h), y >= 0 exactly at hits ---- */

/* ---- per-row losses (each returns the row's summed NLL and writes its gradients) ---- */

/* Bernoulli on u = x / E_inc: BCE on logits (layers/loss.h) in blocks of BCE_BLOCK voxels in
 * float, vectorised; the row sum in double. */
#define BCE_BLOCK 256

/* Without d (evaluation) the gradients go to a scratch block and are dropped. */
static double row_bernoulli(const vae_config_t *c, const float *o, const float *x, float Ei, float *d, float g)
{
    float l[BCE_BLOCK], scratch[BCE_BLOCK];
    double s = 0;
    for (int v0 = 0; v0 < c->V; v0 += BCE_BLOCK) {
        int n = c->V - v0 < BCE_BLOCK ? c->V - v0 : BCE_BLOCK;
        layer_bce_logits_f32(o + v0, x + v0, n, 1.f / Ei, g, l, d ? d + v0 : scratch);
        for (int v = 0; v < n; v++) s += l[v];
    }
    return s;
}

/* Gaussian NLL (layers/loss.h) with lv clamped to +-L, truncated to y >= 0 when trunc;
 * gradients g dl/dm, g dl/dlv into dm, dlv. */
static double gauss_term(double y, double m, double lv, double L, int trunc, float *dm, float *dlv, float g)
{
    double gm, gv, l = trunc ? layer_trunc_gauss_nll(y, m, lv, L, dm ? &gm : NULL, &gv)
                             : layer_gauss_nll(y, m, lv, L, dm ? &gm : NULL, &gv);
    if (dm) *dm = g * (float)gm, *dlv = g * (float)gv;
    return l;
}

static double row_gaussian(const vae_config_t *c, const float *o, const float *x, float Ei, float *d, float g)
{
    const int V = c->V;
    double s = 0;
    for (int v = 0; v < V; v++) {
        double y = log(fmin(x[v] / Ei, 1.0) + c->log_eps);
        s += gauss_term(y, o[v], o[V + v], c->lv_clamp, 0, d ? d + v : NULL, d ? d + V + v : NULL, g);
    }
    return s;
}

/* Hurdle: sum_v BCE(l_v, h_v) + h_v NLL_0(y(x_v) | m_v, v_v), plus NLL(ln(E_tot/E_inc) | m_t, v_t),
 * with hits h_v = [x_v >= thr] (the target thresholded as the readout does), y the hit variable
 * above and NLL_0 the Gaussian truncated to y >= 0, so loss and sampling agree on the support.
 * The value is the density of ln(x/thr) whatever p (the Jacobian -p ln t of y -> ln t is added;
 * it does not depend on the outputs), so ELBOs of models with different p compare. */
static double row_hurdle(const vae_config_t *c, const float *o, const float *x, float Ei, float *d, float g)
{
    const int V = c->V;
    const double thr = c->threshold_mev > 0 ? c->threshold_mev : 1e-3;
    double s = 0, tot = 0;
    for (int v = 0; v < V; v++) {
        double h = x[v] >= thr, dz;
        s += layer_bce_logit(o[v], h, d ? &dz : NULL);
        if (d) d[v] = g * (float)dz;
        if (h) {
            const double t = x[v] / thr; /* the value is the density of ln t for any p: - ln(dy / d ln t) = -p ln t */
            s -= c->hit_power > 0 ? c->hit_power * log(t) : 0.0;
            s += gauss_term(vae_boxcox(c->hit_power, t), o[V + v], o[2 * V + v], c->lv_clamp, 1, d ? d + V + v : NULL,
                            d ? d + 2 * V + v : NULL, g);
            tot += x[v];
        } else if (d) {
            d[V + v] = d[2 * V + v] = 0.f;
        }
    }
    double r = log(fmax(tot, thr) / Ei);
    s += gauss_term(r, o[3 * V], o[3 * V + 1], c->lv_clamp, 0, d ? d + 3 * V : NULL, d ? d + 3 * V + 1 : NULL, g);
    return s;
}

double vae_lik_loss(const vae_config_t *c, int n, const float *out, const float *x, const float *E_inc,
                    float w, float *d_out, float *row)
{
    const size_t O = (size_t)vae_config_n_out(c), V = (size_t)c->V;
    const float g = w / n;
    double *r = malloc((size_t)n * sizeof *r);
    if (!r) return NAN;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        const float *o = out + i * O, *xi = x + i * V;
        float *d = d_out ? d_out + i * O : NULL;
        r[i] = c->lik == VAE_LIK_BERNOULLI  ? row_bernoulli(c, o, xi, E_inc[i], d, g)
               : c->lik == VAE_LIK_GAUSSIAN ? row_gaussian(c, o, xi, E_inc[i], d, g)
                                            : row_hurdle(c, o, xi, E_inc[i], d, g);
    }
    double s = 0; /* fixed order: the same sum for any thread count */
    for (int i = 0; i < n; i++) {
        s += r[i];
        if (row) row[i] = (float)r[i];
    }
    free(r);
    return s / n;
}

/* ---- generation ---- */

/* A draw of N(m, sigma^2) truncated to [0, inf) from a uniform u: s = m + sigma z with
 * Q(z) = u Q(a), a = -m / sigma (Q the upper normal tail), i.e. z = -Phi^-1(u Q(a)). Beyond
 * a = 37 (Q underflows) the tail is exponential: s = (sigma^2 / -m) (-ln u). */
static double trunc_normal(double m, double sigma, double u)
{
    double a = -m / sigma;
    if (a > 37) return sigma * sigma / -m * -log(u);
    double v = u * exp(layer_log_upper_tail(a, NULL)), s = m - sigma * layer_normal_quantile(v);
    return s > 0 ? s : 0;
}

/* A hit's energy (MeV) in voxel v: s from the hurdle's truncated normal, x = thr B_p^-1(s). */
static float hit_energy(const vae_config_t *c, const float *o, int v, base_rng_seq_t *u)
{
    const int V = c->V;
    double s = trunc_normal(o[V + v], exp(0.5 * layer_clamp(o[2 * V + v], c->lv_clamp)), base_rng_seq_u01(u));
    return (float)(c->threshold_mev * vae_boxcox_inv(c->hit_power, s));
}

BASE_VECTOR_CLONES
static void gen_row(const vae_config_t *c, const float *o, float Ei, base_rng_seq_t *u, int raw, float *x)
{
    const int V = c->V;
    const double L = c->lv_clamp, thr = c->threshold_mev;
    if (c->lik == VAE_LIK_BERNOULLI) { /* the decoder mean, as Par04: sigma(z) E_inc */
#pragma omp simd
        for (int v = 0; v < V; v++) x[v] = Ei / (1.f + base_expf(-o[v]));
    } else if (c->lik == VAE_LIK_GAUSSIAN) { /* y ~ N(m, e^lv), x = (e^y - eps) E_inc */
        for (int v = 0; v < V; v++) {
            double y = o[v] + exp(0.5 * layer_clamp(o[V + v], L)) * base_rng_seq_normal(u);
            x[v] = (float)(fmax(exp(y) - c->log_eps, 0.0) * Ei);
        }
    } else { /* hurdle: hits, their energies, then the shower scaled to a sampled total */
        double tot = 0;
        for (int v = 0; v < V; v++) {
            double p = 1.0 / (1.0 + exp(-(double)o[v]));
            x[v] = 0.f;
            if (base_rng_seq_u01(u) < p) {
                x[v] = hit_energy(c, o, v, u);
                tot += x[v];
            }
        }
        double r = o[3 * V] + exp(0.5 * layer_clamp(o[3 * V + 1], L)) * base_rng_seq_normal(u);
        double target = Ei * exp(fmin(r, 1.0));
        if (tot > 0 && !raw)
            for (int v = 0; v < V; v++) x[v] = (float)(x[v] * (target / tot));
    }
    if (raw) return;
    const float thr_f = (float)thr;
#pragma omp simd
    for (int v = 0; v < V; v++) /* the readout threshold */
        x[v] = x[v] < thr_f ? 0.f : x[v];
}

void vae_lik_generate(const vae_config_t *c, int n, const float *out, const float *E_inc, uint64_t seed,
                      uint64_t first, int raw, float *x)
{
    const size_t O = (size_t)vae_config_n_out(c), V = (size_t)c->V;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        base_rng_seq_t u;
        base_rng_seq_init(&u, seed, BASE_STREAM_VAE_SAMPLE | (first + (uint64_t)i));
        gen_row(c, out + i * O, E_inc[i], &u, raw, x + i * V);
    }
}

/* Mean and log-variance of samples accumulated as (count, sum, sum of squares); defaults when
 * there are fewer than 2 samples. */
static void moments(double k, double s, double q, float *m, float *lv, float m0, float lv0)
{
    if (k < 2) {
        *m = m0, *lv = lv0;
        return;
    }
    double mean = s / k, var = fmax(q / k - mean * mean, 1e-4);
    *m = (float)mean, *lv = (float)log(var);
}

void vae_lik_init_bias(const vae_config_t *c, int n, const float *x, const float *E_inc, float *bias)
{
    const int V = c->V;
    const double thr = c->threshold_mev > 0 ? c->threshold_mev : 1e-3;
    double tk = 0, ts = 0, tq = 0;
    for (int v = 0; v < V; v++) {
        double k = 0, s = 0, q = 0, hits = 0;
        for (int i = 0; i < n; i++) {
            double xe = x[(size_t)i * V + v], y;
            if (c->lik == VAE_LIK_BERNOULLI) {
                s += fmin(xe / E_inc[i], 1.0), k++;
            } else if (c->lik == VAE_LIK_GAUSSIAN) {
                y = log(fmin(xe / E_inc[i], 1.0) + c->log_eps);
                s += y, q += y * y, k++;
            } else {
                hits += xe >= thr;
                if (xe >= thr) y = vae_boxcox(c->hit_power, xe / thr), s += y, q += y * y, k++;
            }
        }
        if (c->lik == VAE_LIK_BERNOULLI) {
            double p = fmin(fmax(s / n, 1e-6), 1 - 1e-6);
            bias[v] = (float)log(p / (1 - p));
        } else if (c->lik == VAE_LIK_GAUSSIAN) {
            moments(k, s, q, &bias[v], &bias[V + v], (float)log(c->log_eps), 0.f);
        } else {
            double p = fmin(fmax(hits / n, 1e-4), 1 - 1e-4);
            bias[v] = (float)log(p / (1 - p));
            moments(k, s, q, &bias[V + v], &bias[2 * V + v], 0.f, 0.f);
        }
    }
    if (c->lik == VAE_LIK_HURDLE) {
        for (int i = 0; i < n; i++) {
            double t = 0;
            for (int v = 0; v < V; v++) t += x[(size_t)i * V + v];
            double r = log(fmax(t, thr) / E_inc[i]);
            tk++, ts += r, tq += r * r;
        }
        moments(tk, ts, tq, &bias[3 * V], &bias[3 * V + 1], 0.f, 0.f);
    }
}

/* Profile log-likelihood of p (Box and Cox 1964): for every voxel with at least 20 hits, the hit
 * variable y_p = (t^p - 1)/p regressed on ln E_inc, y = a + b ln E + N(0, s^2), maximised over
 * a, b, s; summed over voxels with the Jacobian of t -> y_p:
 *   l(p) = sum_v [-(n_v / 2) ln s_v^2(p)] + (p - 1) sum_hits ln t.
 * Truncation at y >= 0 is ignored here: the aim is the shape of the spectrum, not its fit. */
static double boxcox_profile(const vae_config_t *c, int n, const float *x, const float *E_inc, double p)
{
    const int V = c->V;
    const double thr = c->threshold_mev > 0 ? c->threshold_mev : 1e-3;
    double l = 0;
#pragma omp parallel for schedule(static) reduction(+ : l)
    for (int v = 0; v < V; v++) {
        vae_boxcox_acc_t a = {0};
        for (int i = 0; i < n; i++) {
            double xe = x[(size_t)i * V + v];
            if (!(xe >= thr)) continue;
            double lnt = log(xe / thr);
            vae_boxcox_add(&a, log(E_inc[i]), vae_boxcox_of_log(p, lnt), lnt);
        }
        if (a.n >= 20) l += vae_boxcox_profile(&a, p);
    }
    return l;
}

double vae_lik_fit_hit_power(const vae_config_t *c, int n, const float *x, const float *E_inc)
{
    double best = 0, lbest = -INFINITY;
    for (int k = 0; k <= 20; k++) { /* p = 0, 0.025, ..., 0.5 */
        double p = 0.025 * k, l = boxcox_profile(c, n, x, E_inc, p);
        if (l > lbest) lbest = l, best = p;
    }
    return best;
}

/* ln(1 + e^a), without overflow. */
static double softplus(double a) { return a > 0 ? a + log1p(exp(-a)) : log1p(exp(a)); }

/* Sequential sampling given at least one hit (exact): with q_v = 1 - p_v and
 * R_v = 1 - prod_{w >= v} q_w the chance of a hit among v .. v1 - 1, voxel v is hit with
 * probability p_v / R_v until the first hit, and with p_v after it. ln q_v = -softplus(o_v),
 * and R_v = -expm1(sum_{w >= v} ln q_w) keeps small probabilities exact. */
int vae_lik_redraw_hits(const vae_config_t *c, const float *o, int v0, int v1, base_rng_seq_t *u, float *x)
{
    if (c->lik != VAE_LIK_HURDLE || v1 <= v0) return 0;
    double S = 0; /* sum over the remaining voxels of ln q */
    for (int v = v0; v < v1; v++) S -= softplus(o[v]);
    int hit = 0;
    for (int v = v0; v < v1; v++) {
        double lq = -softplus(o[v]), p = -expm1(lq), R = -expm1(S);
        double pv = hit ? p : R > 0 ? p / R : (v == v1 - 1); /* R = 0: underflow; the last takes it */
        S -= lq;
        x[v] = 0.f;
        if (base_rng_seq_u01(u) < pv) {
            x[v] = hit_energy(c, o, v, u);
            hit = 1;
        }
    }
    return 1;
}
