/* layers/optim.h: Adam / AdamW as one fused loop over the arena, and gradient-norm clipping.
 *
 * Adam (Kingma and Ba 2015, Alg. 1) with decoupled weight decay (AdamW, Loshchilov and
 * Hutter 2019, Alg. 2), for every parameter i at step t = 1, 2, ...:
 *   m_i <- b1 m_i + (1 - b1) g_i
 *   v_i <- b2 v_i + (1 - b2) g_i^2
 *   mhat = m_i / (1 - b1^t),  vhat = v_i / (1 - b2^t)
 *   theta_i <- theta_i - lr (mhat / (sqrt(vhat) + eps) + wd theta_i)     (wd = 0: plain Adam)
 * One pass reads g, m, v, theta and writes m, v, theta; it runs over the whole arena (the
 * zero padding between tensors stays zero). Element-wise, so results do not depend on the
 * thread count.
 */
#ifndef LAYERS_OPTIM_H
#define LAYERS_OPTIM_H

#include "layers/arena.h"

#include <stdint.h>

typedef struct {
    float beta1, beta2, eps; /* 0.9, 0.999, 1e-8 */
    float weight_decay;      /* AdamW decoupled decay; 0 = Adam */
    int64_t t;               /* steps taken (the bias-correction counter) */
} layer_adam_t;

/* Defaults: beta1 0.9, beta2 0.999, eps 1e-8, weight_decay as given, t = 0. */
void layer_adam_init(layer_adam_t *opt, float weight_decay);
/* One step with learning rate lr on A->param using A->grad, A->m, A->v. */
void layer_adam_step(layer_adam_t *opt, layer_arena_t *A, float lr);
/* The same step on the floats [lo, hi) of the arena only, with the gradient taken as gscale g
 * (a sharded optimiser: each process updates its slice; gscale folds a 1/N mean and a clip
 * into the pass). layer_adam_step is (1, 0, A->n). Counts one step. */
void layer_adam_step_range(layer_adam_t *opt, layer_arena_t *A, float lr, float gscale, size_t lo, size_t hi);

/* ||g||_2 over the arena, summed in fixed-size blocks in a fixed order (same value for any
 * thread count). */
double layer_grad_norm(const layer_arena_t *A);
/* sum g_i^2 over [first, end), in blocks of 4096 floats from first, added in block order (the
 * same value for any thread count); layer_grad_norm is sqrt(sumsq(0, n)). */
double layer_grad_sumsq(const layer_arena_t *A, size_t first, size_t end);
/* If ||g|| > max_norm (> 0), scales g by max_norm / ||g||. Returns ||g|| before clipping,
 * or -1 if it is not finite (gradients are then left untouched). */
double layer_grad_clip(layer_arena_t *A, double max_norm);

#endif
