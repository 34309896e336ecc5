/* vae/boxcox.h: the Box-Cox transform and its profile likelihood (G. Box and D. Cox, JRSS B 26
 * (1964) 211), shared by the hurdle's hit energies (vae/lik.c) and the learned prior's energy
 * coordinates (vae/prior.c).
 *
 *   B_p(t) = (t^p - 1) / p for t > 0, the limit p -> 0 being ln t;   B_p^-1(y) = (1 + p y)^(1/p).
 *
 * The power is chosen by the profile likelihood of y = B_p(t) regressed on one covariate x
 * (y = a + b x + N(0, s^2), maximised over a, b, s) with the Jacobian of t -> y:
 *   l(p) = -(n / 2) ln s^2_res(p) + (p - 1) sum ln t.
 * Accumulate (x, y, ln t) per sample with vae_boxcox_add, then read l(p) off the sums.
 */
#ifndef VAE_BOXCOX_H
#define VAE_BOXCOX_H

#include <math.h>

static inline double vae_boxcox(double p, double t) { return p > 0 ? (pow(t, p) - 1) / p : log(t); }
/* B_p of t given ln t (expm1 keeps small p accurate). */
static inline double vae_boxcox_of_log(double p, double lnt) { return p > 0 ? expm1(p * lnt) / p : lnt; }
/* B_p^-1(y); 0 where 1 + p y <= 0 (below the transform's range). */
static inline double vae_boxcox_inv(double p, double y)
{
    if (!(p > 0)) return exp(y);
    double b = 1 + p * y;
    return b > 0 ? pow(b, 1 / p) : 0.0;
}

/* Sums of one regression of y on x, and of ln t. */
typedef struct {
    double n, sx, sxx, sy, sxy, syy, jac;
} vae_boxcox_acc_t;

static inline void vae_boxcox_add(vae_boxcox_acc_t *a, double x, double y, double lnt)
{
    a->n++, a->sx += x, a->sxx += x * x, a->sy += y, a->sxy += x * y, a->syy += y * y, a->jac += lnt;
}

/* l(p) from the sums (n >= 2). */
static inline double vae_boxcox_profile(const vae_boxcox_acc_t *a, double p)
{
    double n = a->n, mx = a->sx / n, my = a->sy / n, vxx = a->sxx / n - mx * mx, vxy = a->sxy / n - mx * my;
    double res = a->syy / n - my * my - (vxx > 1e-12 ? vxy * vxy / vxx : 0); /* residual variance */
    return -0.5 * n * log(fmax(res, 1e-300)) + (p - 1) * a->jac;
}

#endif
