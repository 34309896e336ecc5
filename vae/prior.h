/* vae/prior.h: the learned prior: shower energies and latent z, jointly, given the incident energy.
 *
 * Why: the encoder does not put the data where N(0, I) puts its mass (prior holes: posterior
 * means far from 0, aggregate variances far from 1), and one scale factor per shower cannot
 * give the layer energies and the total their measured spreads and correlations. So, as the
 * strong generators do (CaloFlow, CaloDREAM: energies first, shapes given them), the prior
 * models, for each shower,
 *   y = (u, [a], z, r_1 .. r_L, r_tot),
 *   u     = (ln E_inc - ln E_min) / (ln E_max - ln E_min)   the condition,
 *   a     = angle / 90 deg   a second condition, for a model conditioned on the angle (C = 2),
 *   z     a draw from the encoder's posterior q(z | x, c)    (Z values),
 *   r_l   = B_l((E_l + c) / E_inc)   layer energies after the readout threshold (L values),
 *   r_tot = B_L((E_tot + c) / E_inc) the total, with c the threshold (offset for empty layers),
 *   B_j(s) = (s^p_j - 1) / p_j, the Box-Cox transform (Box and Cox 1964; p_j = 0: ln s) with
 *   one power per coordinate, chosen by its profile likelihood (vae_prior_fit_powers): a
 *   Gaussian tail in ln s is an exponential one in energy, far heavier than the data's,
 *   while p > 0 gives polynomial tails,
 * each coordinate then mapped to a normal score given u by a monotone conditional marginal
 * flow (vae/marginal.h: the marginals are the data's, the mixture carries the dependence),
 * with one K-component full-covariance Gaussian mixture fitted by EM (Dempster, Laird and
 * Rubin 1977) to the training set: the aggregate posterior, conditioned (Tomczak and Welling
 * 2018 and Dai and Wipf 2019 fit learned priors to it; Rosca et al. 2018 on the holes).
 * Conditioning a mixture on the C conditions c = y[0..C) is exact: with x = y[C..], for each k
 *   p(x | c) = sum_k w_k(c) N(x; m_k(c), S_k),   w_k(c) ~ pi_k N(c; mu_kc, S_kcc),
 *   m_k(c) = mu_kx + S_kxc S_kcc^-1 (c - mu_kc),  S_k = S_kxx - S_kxc S_kcc^-1 S_kcx,
 * and S_k does not depend on c; with the Cholesky factor L = [[L_cc, 0], [L_xc, L_xx]],
 * S_k = L_xx L_xx^T and m_k(c) = mu_kx + L_xc L_cc^-1 (c - mu_kc) (vae_prior_prepare).
 * The marginal flow bins on u alone; the angle's effect on the marginals is left to the
 * mixture (a shift of the normal scores with a).
 * Generation draws (z, r) from p(. | u): z goes to the decoder, and each layer of the decoded
 * shower is scaled to its sampled energy, E_l = E_tot (B_l^-1(r_l) E_inc - c)+ / sum_l (...)+
 * with E_tot = (B_L^-1(r_tot) E_inc - c)+, with the threshold applied so that the sums survive it
 * (vae_prior_apply). The total has its own coordinate, so its resolution (0.6% at 1 TeV) is
 * not limited by the sum of 45 noisy layer draws.
 *
 * With the marginal flow the layer coordinates are anchored at the threshold instead,
 *   r_l = ln((E_l + c) / 2c)   (non-empty layers at r_l >= 0, empty ones dequantised to [-ln 2, 0)),
 * so the edge between empty and non-empty layers sits at the same place for every E_inc: the
 * flow's quantiles, pooled over a bin of E_inc, would otherwise smear that edge and leak empty
 * layers into energies just above the threshold. The powers are then 0: a quantile map needs no
 * power transform.
 *
 * Covariances get a ridge of 1e-4 times each coordinate's variance (the data's scale) so EM
 * cannot collapse a component on a few showers. Everything is in double; sums run in a fixed
 * order, so a fit is the same for any thread count.
 * Ownership: vae_prior_init allocates, vae_prior_free releases (safe on a zeroed struct).
 */
#ifndef VAE_PRIOR_H
#define VAE_PRIOR_H

#include "base/monitor.h"
#include "vae/marginal.h"
#include "physics/geometry.h"

#include <stddef.h>
#include <stdint.h>

#define VAE_PRIOR_MAX_COND 2

typedef struct {
    int K, C, Z, L, D; /* components, conditions, latent, layers; D = C + Z + L + 1 (0 = no prior) */
    double c_mev;    /* the offset c of r (the readout threshold) */
    double power[PHYS_MAX_LAYERS + 1]; /* p_j of the L + 1 energy coordinates (0: ln) */
    double *pi;      /* (K) mixture weights */
    double *mu;      /* (K, D) means */
    double *chol;    /* (K, D, D) lower Cholesky factors of the covariances */
    int offset[PHYS_MAX_LAYERS + 1]; /* voxel offsets of the layers (vae_prior_apply) */
    /* derived by vae_prior_prepare: the conditionals given c (X = D - C) */
    double *gain;    /* (K, X, C) L_xc */
    double *cchol;   /* (K, X, X) Cholesky factors of S_k (L_xx) */
    vae_marg_t marg; /* the conditional marginal flow y -> t before the mixture (B = 0: none);
                      * a prior with a flow has anchored layer coordinates (below) and p = 0 */
    int anchored;    /* 1: layer coordinates ln((E_l + c) / 2c) (set with the flow) */
} vae_prior_t;

/* The layer coordinate r_l of a layer energy e (MeV) at E_inc, and back to e (>= 0 below the
 * threshold only through the dequantisation band). */
double vae_prior_layer_coord(const vae_prior_t *p, int l, double e, double E_inc);
double vae_prior_layer_energy(const vae_prior_t *p, int l, double r, double E_inc);

/* Allocates a prior of K components, C conditions (1: energy; 2: energy and angle) and Z
 * latent dimensions on geometry g (L = its layers). */
int vae_prior_init(vae_prior_t *p, int K, int C, int Z, const phys_geometry_t *g, double c_mev);
void vae_prior_free(vae_prior_t *p);
/* Deep copy (dst uninitialised). */
int vae_prior_copy(vae_prior_t *dst, const vae_prior_t *src);

/* cond: (C) the conditions of a shower at E_inc (MeV) and angle_deg: u with the model's range
 * [e_min, e_max] MeV, and a = angle / 90 deg when C = 2. */
void vae_prior_conditions(const vae_prior_t *p, double e_min, double e_max, float E_inc, float angle_deg, double *cond);
/* y: (D) the prior's coordinates of one shower: u from E_inc (with the model's range
 * [e_min, e_max] MeV), a from angle_deg (C = 2), z: (Z), x: (V) voxel energies (MeV; voxels
 * below c do not count).
 * jitter: (L) uniforms in (0, 1) or NULL: an empty layer gets E_l = c jitter_l instead of 0
 * (dequantisation: the spike of empty layers at s = c / E_inc becomes a band of density just
 * below the smallest non-empty value 2c / E_inc, which a mixture can fit without widening its
 * components; generation turns any E_l < c back into an empty layer). */
void vae_prior_features(const vae_prior_t *p, double e_min, double e_max, float E_inc, float angle_deg,
                        const float *z, const float *x, const float *jitter, float *y);

/* The powers p_j of the energy coordinates from Y: (N, D) features computed with p = 0 (ln s)
 * with the model's range [e_min, e_max] MeV: for each coordinate the p on the grid 0, 0.05,
 * .., 1 that maximises the Box-Cox profile likelihood of y_p regressed on u over the showers
 * where it is not empty, -(n/2) ln s^2_res(p) + (p - 1) sum ln s. */
int vae_prior_fit_powers(vae_prior_t *p, const float *Y, size_t N, double e_min, double e_max);
/* Y: (N, D) features computed with p = 0, in place to the coordinates with p->power. */
void vae_prior_apply_powers(const vae_prior_t *p, float *Y, size_t N);

/* EM on Y: (N, D) rows of features; at most iters iterations (stops when the mean
 * log-likelihood gains less than 1e-5 nats); seed chooses the initial centres. *ll receives
 * the final mean log-likelihood per shower (nats). Then prepares the conditionals. */
int vae_prior_fit(vae_prior_t *p, const float *Y, size_t N, int iters, uint64_t seed, const base_monitor_t *mon,
                  double *ll);
/* Mean over N rows of ln p(y) (joint) and, if cond is not NULL, of ln p(x | c) and of
 * ln p(z | c) (the z marginal) into cond[0], cond[1]: the mixture's densities of rows Y in its
 * own coordinates (after the marginal flow; add the flow's ln Jacobian for densities of y). */
double vae_prior_loglik(const vae_prior_t *p, const float *Y, size_t N, double *cond);

/* Computes gain and cchol from pi, mu and chol (after fitting or loading). */
int vae_prior_prepare(vae_prior_t *p);

/* One draw of x = (z, r, r_tot): (D - C) given the conditions cond: (C) (u, and a when C = 2),
 * from standard normals eps: (D - C) and a uniform pick in (0, 1) that chooses the component:
 * t from the mixture, then y = G(t | u) through the marginal flow (vae/marginal.h) when the
 * prior has one. */
void vae_prior_sample(const vae_prior_t *p, const double *cond, const float *eps, double pick, float *x);

/* tgt: (L) the layer energies (MeV) that r: (L + 1) gives at E_inc: the total
 * E_tot = (B_L^-1(r_tot) E_inc - c)+ shared in proportion to w_l = (B_l^-1(r_l) E_inc - c)+. */
void vae_prior_targets(const vae_prior_t *p, float E_inc, const float *r, double *tgt);

/* Scales each layer of shower x: (V) MeV to the energies in r: (L + 1) (r_1 .. r_L, r_tot) at
 * E_inc, and applies the readout threshold thr so that the layer sums survive it: scale,
 * zero the voxels below thr, scale the survivors back up (by a factor >= 1, so none falls
 * below thr again). A layer whose target is below thr, or that the decoder left empty,
 * stays empty. */
void vae_prior_apply(const vae_prior_t *p, float E_inc, const float *r, double thr, float *x);

#endif
