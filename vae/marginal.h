/* vae/marginal.h: a conditional marginal flow: each coordinate of the learned prior (vae/prior.h)
 * mapped to a standard normal score given the condition u, before the mixture sees it.
 *
 * Why: a Gaussian mixture over 60+ coordinates fits the joint structure, but a coordinate
 * whose conditional is sparse, skewed and spread over decades (the first layer's energy) gets
 * a conditional far too wide from a dozen components, and no power transform makes it normal.
 * So each coordinate j first goes through a monotone map fitted to its own conditional
 * distribution (the Gaussian-copula construction; the elementwise, non-parametric analogue of
 * a monotone spline flow, Durkan et al. 2019):
 *   t_j = G_j^-1(y_j | u),   G_j(t | u) = the inverse of Phi^-1(F_j(y | u)),
 * so that t_j | u is N(0, 1) in the data. G_j is piecewise linear in t on the knots
 * t_k = -T + k h (k = 0 .. M - 1, T = 3, h = 2T / (M - 1)), its values the empirical quantiles
 *   q_jk(b) = Q_j(Phi(t_k)) of the rows in bin b of u (bins of equal counts, centred at their
 * mean u), and linear in u between bin centres (a convex combination of increasing knot
 * sequences is increasing, so G_j stays monotone for every u); outside the end knots it
 * continues with the slope of the last unit of t. Then the mixture models (u, t), and
 *   ln p(y | u) = ln p_mix(t | u) + sum_j ln dt_j / dy_j,  dt / dy = h / (q_k+1 - q_k)
 * on the segment k that holds y.
 * The marginals of y given u are the data's by construction (to the knots' resolution and
 * the interpolation in u); the mixture only has to carry the dependence between coordinates.
 *
 * A coordinate may have a band: values in [lo_j, 0) stand for an empty layer dequantised
 * uniformly (vae/prior.h), values >= 0 for a real energy. Knots cannot follow the jump in
 * density at 0 (a segment across it would leak empty layers into energies just above the
 * threshold), so such a coordinate maps in two pieces with the empty fraction f(u) (per bin,
 * linear in u, kept in [1/(2n+2), 1 - 1/(2n+2)]):
 *   P = f (y - lo) / -lo              for y < 0   (the band is uniform: exact),
 *   P = f + (1 - f) Phi(G^-1(y | u))  for y >= 0  (knots fitted to the non-empty values only),
 *   t = Phi^-1(P),  ln dt/dy = ln dP/dy - ln phi(t).
 * Without a band (lo_j = 0) t = G^-1(y | u) directly.
 * Ownership: vae_marg_fit / vae_marg_init allocate, vae_marg_free releases (safe on zeroed).
 */
#ifndef VAE_MARGINAL_H
#define VAE_MARGINAL_H

#include <stddef.h>

#define VAE_MARG_KNOTS 49  /* M */
#define VAE_MARG_T 3.0     /* T */
#define VAE_MARG_MAX_BINS 64

typedef struct {
    int B, J, M;  /* bins of u, coordinates, knots (B = 0: the identity) */
    float *uc;    /* (B) bin centres, strictly increasing */
    float *q;     /* (B, J, M) knot values, strictly increasing in the last index */
    float *lo;    /* (J) the band's lower end lo_j < 0, or 0: no band */
    float *f;     /* (B, J) empty fraction of the band coordinates (0 for the others) */
} vae_marg_t;

/* Allocates B bins for J coordinates (values zeroed: fill, then vae_marg_check). */
int vae_marg_init(vae_marg_t *m, int B, int J);
void vae_marg_free(vae_marg_t *m);
int vae_marg_copy(vae_marg_t *dst, const vae_marg_t *src);
/* 0 if the centres and every knot sequence are finite and strictly increasing, else an error. */
int vae_marg_check(const vae_marg_t *m);

/* Fits on Y: (N, S) rows whose column 0 is u and whose last J columns are the coordinates
 * (S >= J + 1; the columns between are further conditions the flow leaves alone):
 * bins of about rows_per_bin rows each (at least 1, at most VAE_MARG_MAX_BINS); lo: (J) the
 * bands (lo_j < 0), or NULL: none. */
int vae_marg_fit(vae_marg_t *m, const float *Y, size_t N, int S, int J, const float *lo, size_t rows_per_bin);

/* In place on the last J coordinates of each of N rows of stride S (u in column 0): y -> t.
 * logdet: (N, 2) or NULL receives, per row, sum ln dt_j / dy_j over j < split and over all j. */
void vae_marg_forward(const vae_marg_t *m, float *Y, size_t N, int S, int split, double *logdet);
/* One row's J coordinates x at condition u, in place: t -> y. */
void vae_marg_inverse(const vae_marg_t *m, double u, float *x);

#endif
