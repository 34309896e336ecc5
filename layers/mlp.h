/* layers/mlp.h: a stack of hidden blocks plus a linear head, for training at a fixed batch.
 *
 * Block i: h = x W_i^T + b_i -> [batch norm] -> activation -> [dropout], widths w[0..n-1];
 * head: y = x W^T + b (no activation) of n_out outputs. Without batch norm the activation is
 * fused into the dense layer; with it the order is dense -> BN -> activation, or with
 * bn_after_act dense -> activation -> BN (Keras Par04: Dense(activation) then BatchNormalization).
 * Shapes: input (B, in), block outputs (B, w[i]), head output (B, n_out).
 * Parameters live in the caller's arena; buffers are owned here. Backward writes gradients
 * into the arena (each parameter is used once per step) and, if dx is not NULL, dL/dinput.
 */
#ifndef LAYERS_MLP_H
#define LAYERS_MLP_H

#include "layers/bnorm.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#define LAYER_MLP_MAX 8 /* hidden blocks at most */

#define LAYER_BN_EPS 1e-3f /* Keras' default, as Par04 */

typedef struct {
    layer_dense_t dense;
    int bn, bn_post;       /* batch norm; after the activation (bn_post) or before it */
    layer_bnorm_t bnorm;
    layer_act_t act;       /* stand-alone activation: batch norm before it only */
    int drop;
    layer_dropout_t dropout;
    int width;
    float *h;  /* (B, w) dense output (pre-BN when bn before the activation; activated otherwise) */
    float *a;  /* (B, w) after activation and batch norm (== h without bn) */
    float *o;  /* (B, w) block output (== a without dropout) */
    float *d, *d2; /* (B, w) gradient scratch */
} layer_mlp_block_t;

typedef struct {
    int B, in, n, n_out, keras_init, torch_init;
    layer_mlp_block_t blk[LAYER_MLP_MAX];
    layer_dense_t head;
    float *y; /* (B, n_out) head output */
} layer_mlp_t;

typedef struct {
    int B;                 /* training batch; 0: parameters only (no primitives or buffers) */
    int in, n, n_out;      /* input width, hidden blocks, head outputs */
    int w[LAYER_MLP_MAX];  /* hidden widths */
    layer_act_spec_t act;  /* of every hidden block */
    int batch_norm;        /* dense -> BN -> activation */
    int bn_after_act;      /* with batch_norm: dense -> activation -> BN instead (Keras Par04) */
    int keras_init;        /* initial weights as Keras: hidden N(0, 0.05^2), head Glorot uniform */
    int torch_init;        /* initial weights and biases as PyTorch's Linear: U(+-1 / sqrt(in)) */
    float dropout;         /* after every block; 0: none */
} layer_mlp_cfg_t;

/* Arena floats the parameters need. */
size_t layer_mlp_arena_size(const layer_mlp_cfg_t *cfg);
int layer_mlp_init(layer_mlp_t *m, const layer_ctx_t *ctx, layer_arena_t *A, const layer_mlp_cfg_t *cfg);
void layer_mlp_free(layer_mlp_t *m);
void layer_mlp_init_params(layer_mlp_t *m, base_rng_t *r);
/* x: (B, in) -> m->y: (B, n_out). train: batch statistics and dropout (mask stream r). */
int layer_mlp_forward(layer_mlp_t *m, const float *x, int train, base_rng_t *r);
/* x: the forward input; dy: (B, n_out) dL/dy (overwritten); dx: (B, in) or NULL. */
int layer_mlp_backward(layer_mlp_t *m, const float *x, float *dy, float *dx);

#endif
