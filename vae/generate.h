/* vae/generate.h: showers from the decoder, deterministic by seed.
 *
 * Shower i (a global index) draws z_i ~ N(0, I) from the stream (seed, BASE_STREAM_VAE_LATENT | i)
 * and its voxel samples from (seed, BASE_STREAM_VAE_SAMPLE | i). A batch is cut into chunks of the
 * fixed decoder sizes (infer.h: 1, 8, 64 or 512 rows), the largest that fits, with a tail of
 * fewer than 64 padded up to the next size (generate.c): a single particle costs one 1-row
 * pass, 100 showers two 64-row passes. In f32
 * every size computes a row with the same sums, so the same seed gives the same showers
 * whatever the batch size or thread count. In bf16 the showers are deterministic for a given
 * batch split and thread count; across splits they agree to bf16 rounding. MC dropout: K passes with the same z and sampling stream and independent
 * dropout masks (stream (seed, BASE_STREAM_VAE_DROPOUT | i)), giving per-voxel mean and standard
 * deviation over the passes: the epistemic part of the spread.
 */
#ifndef VAE_GENERATE_H
#define VAE_GENERATE_H

#include "vae/infer.h"
#include "base/streams.h"

/* x: (n, V) showers (MeV) for E_inc: (n) MeV and angle: (n) deg (NULL: 90 deg), global indices
 * first .. first + n - 1. */
int vae_generate_showers(vae_infer_t *q, int n, const float *E_inc, const float *angle, uint64_t seed, uint64_t first,
                         float *x);

/* mean, sd: (n, V) over K MC-dropout passes (model trained with dropout, f32). Scratch for
 * one chunk is allocated inside. */
int vae_generate_mc(vae_infer_t *q, int n, const float *E_inc, const float *angle, uint64_t seed, uint64_t first, int K,
                    float *mean, float *sd);

#endif
