/* layers/dropout.h: inverted dropout, for training and for Monte-Carlo dropout at inference.
 *
 *   keep_i ~ Bernoulli(1 - p),  y_i = x_i keep_i / (1 - p),  dx_i = dy_i keep_i / (1 - p)
 * so E[y] = x and inference without dropout is the identity.
 * Modes: LAYER_DROPOUT_TRAIN and LAYER_DROPOUT_MC draw a fresh mask on every forward
 * (MC = "always on" at inference, Gal and Ghahramani 2016: K stochastic passes estimate the
 * predictive mean and variance); LAYER_DROPOUT_OFF is the identity.
 * The mask comes from a base_rng_t (uniform u_i, keep when u_i >= p), so it is the same for
 * any thread count. The layer owns a mask buffer of max_n floats.
 */
#ifndef LAYERS_DROPOUT_H
#define LAYERS_DROPOUT_H

#include "base/rng.h"
#include "layers/arena.h"
#include "layers/ctx.h"

#include <stddef.h>

typedef enum { LAYER_DROPOUT_OFF = 0, LAYER_DROPOUT_TRAIN, LAYER_DROPOUT_MC } layer_dropout_mode_t;

typedef struct {
    float p;       /* drop probability in [0, 1) */
    size_t max_n;  /* capacity of mask */
    float *mask;   /* owned: keep_i / (1 - p) of the last forward */
} layer_dropout_t;

typedef struct {
    float p;      /* drop probability in [0, 1) */
    size_t max_n; /* elements per call at most */
} layer_dropout_cfg_t;

/* Runs in C (no oneDNN primitive, no parameters): ctx and A may be NULL. */
int layer_dropout_init(layer_dropout_t *L, const layer_ctx_t *ctx, layer_arena_t *A, const layer_dropout_cfg_t *cfg);
void layer_dropout_free(layer_dropout_t *L);
/* x, y: (n) with n <= max_n; in place allowed. Draws n uniforms from r unless mode is OFF. */
int layer_dropout_forward(layer_dropout_t *L, layer_dropout_mode_t mode, base_rng_t *r,
                          const float *x, float *y, size_t n);
/* dy, dx: (n): dx = dy * mask of the last forward (which must have had mode != OFF). */
void layer_dropout_backward(const layer_dropout_t *L, const float *dy, float *dx, size_t n);

#endif
