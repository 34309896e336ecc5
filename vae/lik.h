/* vae/lik.h: preprocessing and the likelihoods p(x | z, c) of the decoder (see config.h).
 *
 * Shapes: n showers, V voxels, E conditions, O = vae_config_n_out outputs per shower.
 * x is always raw voxel energies in MeV and E_inc incident energies in MeV; the functions here
 * hold every transformation, so training and generation invert each other exactly.
 * Sampling uses the Philox stream (seed, BASE_STREAM_VAE_SAMPLE | index) per shower, so a shower
 * does not depend on the batch it is generated in.
 */
#ifndef VAE_LIK_H
#define VAE_LIK_H

#include "vae/config.h"
#include "base/rng.h"
#include "base/streams.h"

#include <stddef.h>
#include <stdint.h>


/* cond: (n, E) condition inputs from E_inc: (n) MeV and angle: (n) deg (NULL: 90 deg), with
 * the material one-hot of the config. */
void vae_prep_conditions(const vae_config_t *c, int n, const float *E_inc, const float *angle, float *cond, int ld);
/* in: (n, V) encoder input from x: fractions x/E_inc (bernoulli) or ln(1 + x/thr) / 16
 * (gaussian, hurdle), written with leading dimension ld (room for the conditions). */
void vae_prep_encoder_input(const vae_config_t *c, int n, const float *E_inc, const float *x, float *in,
                            int ld);

/* Reconstruction loss: (1/n) sum_rows -ln p(x_row | out_row), returned; d_out: (n, O) receives
 * w * d loss / d out (if not NULL); row: (n) per-shower values (if not NULL). Inputs first,
 * then the weight, outputs last. */
double vae_lik_loss(const vae_config_t *c, int n, const float *out, const float *x, const float *E_inc,
                    float w, float *d_out, float *row);

/* bias: (O) decoder output biases that start training at the data's marginal statistics:
 * Bernoulli logit(mean u); Gaussian mean and log-variance of y; hurdle logit(hit rate), mean and
 * log-variance of the hit variable y(x) over hits, and of r = ln(E_tot/E_inc). From n showers x: (n, V). */
void vae_lik_init_bias(const vae_config_t *c, int n, const float *x, const float *E_inc, float *bias);

/* The hurdle's hit-energy power p (config.h hit_power) that maximises the Box-Cox profile
 * likelihood of the hit energies in n showers x: (n, V), each voxel's y regressed on ln E_inc;
 * chosen on the grid 0, 0.025, ..., 0.5. Call before vae_lik_init_bias. */
double vae_lik_fit_hit_power(const vae_config_t *c, int n, const float *x, const float *E_inc);

/* x: (n, V) showers (MeV) from decoder outputs out: (n, O), thresholded; shower k uses the
 * stream of index first + k. Bernoulli outputs the mean (Par04); the others sample. For
 * Bernoulli (O = V) out may be x itself: the transform is elementwise, in place.
 * raw = 1: the voxel samples only, for a caller that sets the energies itself (vae/prior.h):
 * no rescaling to the hurdle's total and no threshold. */
void vae_lik_generate(const vae_config_t *c, int n, const float *out, const float *E_inc, uint64_t seed,
                      uint64_t first, int raw, float *x);

/* Voxels [v0, v1) of one shower x (raw MeV, as raw = 1 above) redrawn from the hurdle given
 * out: (O) its decoder outputs, conditioned on at least one hit among them (the layer that the
 * learned prior gives energy but the first draw left empty); u: the caller's stream. Returns 0
 * and leaves x alone for the other likelihoods. */
int vae_lik_redraw_hits(const vae_config_t *c, const float *out, int v0, int v1, base_rng_seq_t *u, float *x);

#endif
