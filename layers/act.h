/* layers/act.h: activation functions, as oneDNN eltwise primitives.
 *
 *   identity   y = x
 *   relu       y = max(x, 0)
 *   leaky_relu y = x if x > 0 else alpha x         (alpha = slope, e.g. 0.2)
 *   sigmoid    y = 1 / (1 + exp(-x))
 *   tanh       y = tanh(x)
 *   softplus   y = log(1 + exp(x))
 *
 * Backward passes are written in terms of the output y only (no pre-activation copy):
 *   relu/leaky: dy * (y > 0 ? 1 : alpha);  sigmoid: dy * y (1 - y);  tanh: dy * (1 - y^2);
 *   softplus:   dy * (1 - exp(-y))   [since sigmoid(x) = 1 - exp(-softplus(x))].
 * oneDNN's *_use_dst_for_bwd algorithms do the first three; oneDNN 2.6 has no use_dst
 * variant of soft_relu, so softplus backward is the C loop layer_act_backward_c.
 *
 * layer_act_t is a stand-alone activation layer on a fixed (B, C) shape, used where an
 * activation cannot be fused into a dense layer (after batch norm). Forward and backward
 * may run in place (x == y, dy == dx).
 */
#ifndef LAYERS_ACT_H
#define LAYERS_ACT_H

#include "layers/arena.h"
#include "layers/ctx.h"

#include <stddef.h>

typedef enum {
    LAYER_ACT_IDENTITY = 0,
    LAYER_ACT_RELU,
    LAYER_ACT_LEAKY_RELU,
    LAYER_ACT_SIGMOID,
    LAYER_ACT_TANH,
    LAYER_ACT_SOFTPLUS
} layer_act_kind_t;

typedef struct {
    layer_act_kind_t kind;
    float alpha; /* leaky_relu slope; ignored otherwise */
} layer_act_spec_t;

/* "identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus". */
const char *layer_act_name(layer_act_kind_t kind);
/* Parses a name as above; BASE_EINVAL for an unknown name. */
int layer_act_parse(const char *name, layer_act_kind_t *kind);

/* oneDNN forward algorithm and alpha for spec; returns 0 for identity (no op), 1 otherwise. */
int layer_act_dnnl_fwd(layer_act_spec_t spec, dnnl_alg_kind_t *alg, float *alpha);
/* oneDNN use_dst backward algorithm; returns 0 when there is none (identity, softplus). */
int layer_act_dnnl_bwd(layer_act_spec_t spec, dnnl_alg_kind_t *alg);

/* dy, y: (n). dy <- dy * f'(x) expressed through y, in C (all kinds; the oracle for tests
 * and the path for softplus). */
void layer_act_backward_c(layer_act_spec_t spec, float *dy, const float *y, size_t n);

typedef struct {
    const layer_ctx_t *ctx;
    layer_act_spec_t spec;
    int B, C;
    dnnl_primitive_t fwd, bwd;   /* owned; NULL when not needed */
    dnnl_memory_t m_x, m_y, m_dy, m_dx; /* owned wrappers, data set per call */
} layer_act_t;

typedef struct {
    layer_act_spec_t spec;
    int B, C; /* batch and features: x, y (B, C) */
} layer_act_cfg_t;

/* A has no use here (no parameters) and may be NULL. */
int layer_act_init(layer_act_t *L, const layer_ctx_t *ctx, layer_arena_t *A, const layer_act_cfg_t *cfg);
void layer_act_free(layer_act_t *L);
/* x, y: (B, C); y = f(x). In place allowed. */
int layer_act_forward(layer_act_t *L, const float *x, float *y);
/* y, dy, dx: (B, C); dx = dy * f'(x) from the forward output y. In place allowed. */
int layer_act_backward(layer_act_t *L, const float *y, float *dy, float *dx);

#endif
