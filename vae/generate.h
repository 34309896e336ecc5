/* vae/generate.h: showers from the decoder, deterministic by seed.
 *
 * Shower i (a global index) draws z_i ~ N(0, I) from the stream (seed, VAE_STREAM_LATENT | i)
 * and its voxel samples from (seed, VAE_STREAM_SAMPLE | i); the decoder runs in fixed chunks
 * of VAE_GEN_CHUNK rows, so the same seed gives the same showers whatever the batch size or
 * thread count. MC dropout: K passes with the same z and sampling stream and independent
 * dropout masks (stream (seed, VAE_STREAM_DROPOUT | i)), giving per-voxel mean and standard
 * deviation over the passes: the epistemic part of the spread.
 */
#ifndef VAE_GENERATE_H
#define VAE_GENERATE_H

#include "vae/infer.h"

#define VAE_GEN_CHUNK 64

/* x: (n, V) showers (MeV) for E_inc: (n) MeV, global indices first .. first + n - 1.
 * q must have max_n >= VAE_GEN_CHUNK. */
int vae_generate_showers(vae_infer_t *q, int n, const float *E_inc, uint64_t seed, uint64_t first, float *x);

/* mean, sd: (n, V) over K MC-dropout passes (model trained with dropout). scratch: (K, n, V)
 * is allocated inside. */
int vae_generate_mc(vae_infer_t *q, int n, const float *E_inc, uint64_t seed, uint64_t first, int K, float *mean,
                    float *sd);

#endif
