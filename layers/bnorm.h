/* layers/bnorm.h: batch normalisation over the batch axis of (B, C) data, on oneDNN.
 *
 * Training:  mu_c = mean_b x_bc,  var_c = mean_b (x_bc - mu_c)^2   (biased batch variance)
 *            y_bc = gamma_c (x_bc - mu_c) / sqrt(var_c + eps) + beta_c
 *            running statistics, kept in C (oneDNN keeps none):
 *              run_mean <- (1 - m) run_mean + m mu,  run_var <- (1 - m) run_var + m var B/(B-1)
 *            (unbiased running variance and momentum m = 0.1 by default, as in PyTorch).
 * Inference: the same formula with (run_mean, run_var) as global statistics.
 * Backward (training statistics): oneDNN batch-norm backward gives dx, dgamma, dbeta.
 *
 * gamma (scale) and beta (shift) live in the arena (initialised to 1 and 0 by
 * layer_bnorm_init_params); the running statistics are owned by the layer (run_mean,
 * run_var: C floats each, initialised to 0 and 1). Gradients are written, not accumulated.
 * The batch size B is fixed at init; all primitives are built there.
 */
#ifndef LAYERS_BNORM_H
#define LAYERS_BNORM_H

#include "layers/arena.h"
#include "layers/ctx.h"

typedef struct {
    const layer_ctx_t *ctx;
    layer_arena_t *A;          /* not owned */
    int B, C;
    float eps, momentum;
    size_t g_off, b_off;       /* gamma, beta (C each) in A */
    float *run_mean, *run_var; /* owned, C each */
    float *bmean, *bvar;       /* owned, C each: statistics of the last training batch */
    dnnl_primitive_t fwd_train, fwd_infer, bwd; /* owned */
    dnnl_memory_t m_x, m_y, m_g, m_b, m_mean, m_var, m_dy, m_dx, m_dg, m_db; /* owned */
} layer_bnorm_t;

size_t layer_bnorm_arena_size(int C);

/* eps: e.g. 1e-5; momentum: weight of the new batch in the running statistics (0.1).
 * B = 0 builds the parameters and running statistics only (no primitives): for a model loaded
 * for inference, where batch norm is folded into the preceding dense layer. */
typedef struct {
    int B, C;       /* batch (0: parameters only) and features */
    float eps;      /* added to the variance, e.g. 1e-5 */
    float momentum; /* weight of the new batch in the running statistics, e.g. 0.1 */
} layer_bnorm_cfg_t;

int layer_bnorm_init(layer_bnorm_t *L, const layer_ctx_t *ctx, layer_arena_t *A, const layer_bnorm_cfg_t *cfg);
void layer_bnorm_free(layer_bnorm_t *L);
/* gamma = 1, beta = 0, run_mean = 0, run_var = 1. */
void layer_bnorm_init_params(layer_bnorm_t *L);

/* x, y: (B, C). Batch statistics; updates the running statistics. */
int layer_bnorm_forward_train(layer_bnorm_t *L, const float *x, float *y);
/* x, y: (B, C). Running statistics. */
int layer_bnorm_forward_infer(layer_bnorm_t *L, const float *x, float *y);
/* x: (B, C) the forward input, dy: (B, C) -> dx: (B, C); dgamma, dbeta into A->grad.
 * Uses the statistics of the last layer_bnorm_forward_train. */
int layer_bnorm_backward(layer_bnorm_t *L, const float *x, const float *dy, float *dx);

#endif
