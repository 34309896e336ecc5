/* layers/loss.h: losses with their gradients, as fused C loops.
 *
 * One convention for all (as every layer): inputs first, then sizes and scalars, outputs last.
 * Inputs are (B, D) row-major; a loss is summed over the D features
 * of a sample and averaged over the B samples (the ELBO convention: one number per shower),
 *     L = (1/B) sum_b sum_d l(x_bd, t_bd),
 * returned in double. If the gradient pointer is not NULL it receives w * dL/dx (written,
 * not accumulated), so w carries a weight such as beta. If row is not NULL it receives the
 * per-sample sums sum_d l(x_bd, t_bd) (B floats). Sums run row by row in a fixed order, so
 * results are identical for any thread count.
 */
#ifndef LAYERS_LOSS_H
#define LAYERS_LOSS_H

#include <math.h>
#include <stddef.h>

/* Binary cross-entropy on logits z (p = sigmoid(z)), stable for any z:
 *   l = max(z, 0) - z t + log(1 + exp(-|z|)),  dl/dz = sigmoid(z) - t. */
double layer_loss_bce_logits(const float *z, const float *t, int B, int D, float w, float *dz, float *row);

/* Analytic KL( N(mu, exp(lv)) || N(0, 1) ) per latent dimension (Kingma and Welling 2014, app. B):
 *   l = -0.5 (1 + lv - mu^2 - exp(lv)),  dl/dmu = mu,  dl/dlv = 0.5 (exp(lv) - 1).
 * kl_dim, if not NULL, receives the batch mean per dimension (Z floats). */
double layer_loss_kl_normal(const float *mu, const float *lv, int B, int Z, float w, float *dmu, float *dlv,
                            float *row, float *kl_dim);

/* ---- the scalar kernels every loss of the project is built from ----
 * Double precision, one element at a time; the batch losses above, the likelihoods
 * (vae/lik.c), the classifier and the JSD (vae/eval/) all call these, so each formula is
 * written once. */

/* x clamped to [-L, L] (the log-variance clamp: training stability, vae-notes.md); NaN -> L. */
static inline float layer_clampf(float x, float L) { return fmaxf(-L, fminf(L, x)); }
static inline double layer_clamp(double x, double L) { return fmax(-L, fmin(L, x)); }

/* BCE on a logit: l = max(z, 0) - z t + ln(1 + e^-|z|); *dz (if not NULL) = sigmoid(z) - t,
 * with sigmoid(z) = 1 / (1 + e^-|z|) for z >= 0 and e^-|z| / (1 + e^-|z|) below (e^-|z| <= 1:
 * no overflow). */
static inline double layer_bce_logit(double z, double t, double *dz)
{
    double e = exp(-fabs(z));
    if (dz) *dz = (z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e)) - t;
    return fmax(z, 0.0) - z * t + log1p(e);
}

/* BCE on a probability: l = -(t ln q + (1 - t) ln(1 - q)), q = p clamped to [1e-7, 1 - 1e-7] so
 * that l stays finite; *dp (if not NULL) = (q - t) / (q (1 - q)). */
static inline double layer_bce_prob(double p, double t, double *dp)
{
    double q = fmin(fmax(p, 1e-7), 1 - 1e-7);
    if (dp) *dp = (q - t) / (q * (1 - q));
    return -(t * log(q) + (1 - t) * log1p(-q));
}

/* Gaussian NLL of y under N(m, e^lv) with lv clamped to [-L, L] (L = INFINITY: no clamp):
 *   l = 0.5 (ln 2 pi + lv + (y - m)^2 e^-lv),
 *   dl/dm = (m - y) e^-lv,  dl/dlv = 0.5 (1 - (y - m)^2 e^-lv) (0 where the clamp is active).
 * dm, dlv: NULL for no gradients. */
static inline double layer_gauss_nll(double y, double m, double lv, double L, double *dm, double *dlv)
{
    double lc = layer_clamp(lv, L), iv = exp(-lc), r = y - m;
    if (dm) {
        *dm = -r * iv;
        *dlv = (lv > -L && lv < L) ? 0.5 * (1 - r * r * iv) : 0.0;
    }
    return 0.5 * (1.8378770664093453 /* ln 2 pi */ + lc + r * r * iv);
}

/* The upper tail of the standard normal, Q(a) = P(N(0, 1) > a) = erfc(a / sqrt 2) / 2, as
 * ln Q(a), and (if mills is not NULL) the inverse Mills ratio phi(a) / Q(a); stable for any a
 * (beyond a = 8 the asymptotic series Q(a) = phi(a) / a (1 - 1/a^2 + 3/a^4 - 15/a^6)). */
static inline double layer_log_upper_tail(double a, double *mills)
{
    if (a < 8) {
        double Q = 0.5 * erfc(a * 0.70710678118654752);
        if (mills) *mills = exp(-0.5 * a * a) * 0.39894228040143268 / Q;
        return log(Q);
    }
    double i2 = 1 / (a * a), s = 1 - i2 + 3 * i2 * i2 - 15 * i2 * i2 * i2;
    if (mills) *mills = a / s;
    return -0.5 * a * a - log(a) - 0.91893853320467274 + log(s);
}

/* Gaussian NLL truncated to y >= 0 (the log of a hit's energy over the threshold cannot be
 * negative): N(m, e^lv) renormalised on [0, inf), a = -m / sigma, lambda = phi(a) / Q(a):
 *   l = 0.5 (ln 2 pi + lv + (y - m)^2 e^-lv) + ln Q(a),
 *   dl/dm = (m - y) e^-lv + lambda / sigma,   dl/dlv = 0.5 (1 - (y - m)^2 e^-lv) + a lambda / 2,
 * lv clamped to [-L, L] as in layer_gauss_nll (no lv gradient where the clamp is active). */
static inline double layer_trunc_gauss_nll(double y, double m, double lv, double L, double *dm, double *dlv)
{
    double lc = layer_clamp(lv, L), sig = exp(0.5 * lc), a = -m / sig, lam;
    double l = layer_gauss_nll(y, m, lv, L, dm, dlv) + layer_log_upper_tail(a, dm ? &lam : NULL);
    if (dm) {
        *dm += lam / sig;
        if (lv > -L && lv < L) *dlv += 0.5 * a * lam;
    }
    return l;
}

/* The standard normal quantile Phi^-1(p), 0 < p < 1 (Acklam's rational approximation,
 * relative error below 1.2e-9). */
static inline double layer_normal_quantile(double p)
{
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                3.754408661907416e+00};
    if (p < 0.02425 || p > 1 - 0.02425) {
        double q = sqrt(-2 * log(p < 0.5 ? p : 1 - p));
        double x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                   ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        return p < 0.5 ? x : -x;
    }
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/* The same BCE on logits in float over a block of n elements, vectorised (base/fastmath.h),
 * for the likelihood of a whole shower: targets u = min(x inv, 1); per-element losses into l,
 * g (sigmoid(z) - u) into d. Ternaries, not fminf/fmaxf: those are libm calls that block
 * vectorisation. */
void layer_bce_logits_f32(const float *z, const float *x, int n, float inv, float g, float *l, float *d);

#endif
