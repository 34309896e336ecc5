/* vae/encode.h: amortised inference: the posterior q(z | x, c) of given showers.
 *
 * For each shower the encoder gives mu and the clamped log-variance lv; sigma = exp(lv / 2).
 * Optionally the shower is reconstructed by decoding z = mu on the run-time-batch path and
 * drawing from the likelihood with the sampling stream (seed 1, BASE_STREAM_VAE_SAMPLE |
 * index), as `showervae encode --reconstruct` has always done.
 */
#ifndef VAE_ENCODE_H
#define VAE_ENCODE_H

#include "vae/infer.h"

/* x: (n, V) showers (MeV), E_inc: (n) MeV, angle: (n) deg (NULL: 90), n <= q->max_n -> mu, sigma: (n, Z); recon: (n, V)
 * MeV or NULL; first: global index of the first shower (for the reconstruction's stream).
 * Scratch for the encoder input, (n, V + E) floats, is allocated per call. */
int vae_encode_showers(vae_infer_t *q, int n, const float *E_inc, const float *angle, const float *x, uint64_t first, float *mu,
                       float *sigma, float *recon);

#endif
