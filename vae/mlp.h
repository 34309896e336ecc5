/* vae/mlp.h: a stack of hidden blocks plus a linear head, for training at a fixed batch.
 *
 * Block i: h = x W_i^T + b_i -> [batch norm] -> activation -> [dropout], widths w[0..n-1];
 * head: y = x W^T + b (no activation) of n_out outputs. Without batch norm the activation is
 * fused into the dense layer; with it the order is dense -> BN -> activation (as Par04).
 * Shapes: input (B, in), block outputs (B, w[i]), head output (B, n_out).
 * Parameters live in the caller's arena; buffers are owned here. Backward writes gradients
 * into the arena (each parameter is used once per step) and, if dx is not NULL, dL/dinput.
 */
#ifndef VAE_MLP_H
#define VAE_MLP_H

#include "layers/bnorm.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "vae/config.h"

#define VAE_BN_EPS 1e-3f /* Keras' default, as Par04 */

typedef struct {
    layer_dense_t dense;
    int bn;
    layer_bnorm_t bnorm;
    layer_act_t act;       /* after batch norm only */
    int drop;
    layer_dropout_t dropout;
    int width;
    float *h;  /* (B, w) dense output (pre-BN when bn; post-activation otherwise) */
    float *a;  /* (B, w) post-activation (== h without bn) */
    float *o;  /* (B, w) block output (== a without dropout) */
    float *d, *d2; /* (B, w) gradient scratch */
} vae_block_t;

typedef struct {
    int B, in, n, n_out;
    vae_block_t blk[VAE_MAX_HIDDEN];
    layer_dense_t head;
    float *y; /* (B, n_out) head output */
} vae_mlp_t;

/* Arena floats needed. B = 0 in vae_mlp_init: parameters only (no primitives or buffers). */
size_t vae_mlp_arena_size(int in, const int *w, int n, int n_out, int batch_norm);
int vae_mlp_init(vae_mlp_t *m, const layer_ctx_t *ctx, layer_arena_t *A, int B, int in, const int *w,
                 int n, int n_out, layer_act_spec_t act, int batch_norm, float dropout);
void vae_mlp_free(vae_mlp_t *m);
void vae_mlp_init_params(vae_mlp_t *m, layer_rng_t *r);
/* x: (B, in) -> m->y: (B, n_out). train: batch statistics and dropout (mask stream r). */
int vae_mlp_forward(vae_mlp_t *m, const float *x, int train, layer_rng_t *r);
/* x: the forward input; dy: (B, n_out) dL/dy (overwritten); dx: (B, in) or NULL. */
int vae_mlp_backward(vae_mlp_t *m, const float *x, float *dy, float *dx);

#endif
