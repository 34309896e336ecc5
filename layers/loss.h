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

/* The same BCE on logits in float over a block of n elements, vectorised (base/fastmath.h),
 * for the likelihood of a whole shower: targets u = min(x inv, 1); per-element losses into l,
 * g (sigmoid(z) - u) into d. Ternaries, not fminf/fmaxf: those are libm calls that block
 * vectorisation. */
void layer_bce_logits_f32(const float *z, const float *x, int n, float inv, float g, float *l, float *d);

#endif
