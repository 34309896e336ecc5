/* vae/model.h: the conditional VAE for training.
 *
 * ELBO(x, c) = E_q[ln p(x | z, c)] - beta KL(q(z | x, c) || N(0, I)),
 * q(z | x, c) = N(mu, diag exp(lv)) from the encoder, z = mu + exp(lv / 2) eps, eps ~ N(0, I)
 * (the reparameterisation trick, Kingma and Welling 2014), p(x | z, c) from the decoder
 * (vae/lik.h). All parameters are in one arena (A): optimiser, checkpoints and all-reduce see
 * one buffer. Shapes: B batch, V voxels, E conditions, Z latent, O decoder outputs.
 * Built for a fixed training batch B (B = 0: parameters only, for inference via vae/infer.h).
 * The noise of step s for batch row k is the stream (seed, BASE_STREAM_VAE_LATENT | (s B + k)): a
 * resumed run draws the same numbers (with data parallelism, B is the global batch and k the
 * row's place in it, so every rank draws what one process would).
 */
#ifndef VAE_MODEL_H
#define VAE_MODEL_H

#include "io/modelfile.h"
#include "base/streams.h"
#include "layers/arena.h"
#include "vae/config.h"
#include "layers/mlp.h"
#include "vae/prior.h"

#include <stdint.h>

typedef struct {
    vae_config_t cfg;
    const layer_ctx_t *ctx;
    layer_arena_t A;  /* owned */
    int B, E, O;
    int B_global, row0; /* data-parallel training: the global batch and this rank's first row in it
                         * (B, 0 in one process): the noise index of row k is s B_global + row0 + k */
    layer_mlp_t enc, dec;
    float *enc_in;    /* (B, V + E) */
    float *dec_in;    /* (B, Z + E) */
    float *mu, *lv, *eps; /* (B, Z); lv clamped */
    float *d_head;    /* (B, 2Z) */
    float *d_dec_in;  /* (B, Z + E) */
    float *d_out;     /* (B, O) */
    float *row;       /* (B) per-shower values */
    float *d_kl;      /* (2 B Z) scratch: KL gradients w.r.t. mu and lv */
    float *kl_tmp;    /* (Z) scratch: per-dimension KL */
    double *kl_dim;   /* (Z) batch-mean KL per dimension of the last step */
    vae_prior_t prior; /* owned: the learned prior (K = 0: none; fitted after training) */
} vae_model_t;

/* One step's terms, per shower (nats). */
typedef struct {
    double recon;     /* E_q[-ln p(x | z, c)] estimated with one z */
    double kl;        /* KL(q || p) */
    double elbo;      /* -(recon + kl) */
    double grad_norm; /* before clipping (training only) */
} vae_terms_t;

int vae_model_init(vae_model_t *m, const vae_config_t *c, const layer_ctx_t *ctx, int B);
void vae_model_free(vae_model_t *m);
/* He/Glorot initial weights from seed; batch norm gamma 1, beta 0. */
void vae_model_init_params(vae_model_t *m, uint64_t seed);

/* Forward and backward on n = B showers x: (B, V) MeV, E_inc: (B), angle: (B) deg (NULL: 90):
 * gradients into m->A.grad.
 * beta: KL weight; free_bits: per-dimension KL floor (no gradient below it). */
int vae_model_train_step(vae_model_t *m, const float *E_inc, const float *angle, const float *x, uint64_t seed, uint64_t step,
                         float beta, float free_bits, vae_terms_t *t);
/* Forward only (batch-norm running statistics, no dropout) on n <= B showers; kl_dim_sum (Z),
 * if not NULL, accumulates the sum over showers of each dimension's KL; mu_out (n, Z) if not
 * NULL receives the posterior means. */
int vae_model_eval(vae_model_t *m, int n, const float *E_inc, const float *angle, const float *x, uint64_t seed, uint64_t index0,
                   vae_terms_t *t, double *kl_dim_sum, float *mu_out);

/* Named parameter tensors for model files (e.g. "/encoder/dense0/weight", shape (out, in);
 * batch-norm running statistics included). Returns the count; fills up to max entries. */
int vae_model_tensors(vae_model_t *m, io_tensor_t *t, int max);

#endif
