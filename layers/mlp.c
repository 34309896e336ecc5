/* layers/mlp.c: hidden blocks + linear head on the layer library (see mlp.h). */
#include "layers/mlp.h"

#include "base/status.h"

#include <stdlib.h>
#include <string.h>

size_t layer_mlp_arena_size(const layer_mlp_cfg_t *cfg)
{
    const int in = cfg->in, n = cfg->n, n_out = cfg->n_out, batch_norm = cfg->batch_norm, *w = cfg->w;
    size_t s = 0;
    for (int i = 0; i < n; i++) {
        s += layer_dense_arena_size(i ? w[i - 1] : in, w[i]);
        if (batch_norm) s += layer_bnorm_arena_size(w[i]);
    }
    return s + layer_dense_arena_size(n ? w[n - 1] : in, n_out);
}

static float *buf(size_t n)
{
    return aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
}

static int block_init(layer_mlp_block_t *b, const layer_ctx_t *ctx, layer_arena_t *A, int B, int in, int w,
                      layer_act_spec_t act, int batch_norm, int bn_post, float dropout)
{
    memset(b, 0, sizeof *b);
    b->width = w;
    b->bn = batch_norm;
    b->bn_post = batch_norm && bn_post;
    b->drop = dropout > 0;
    layer_dense_cfg_t dc = {.in = in, .out = w, .batch = B,
                            .act = batch_norm && !bn_post ? (layer_act_spec_t){LAYER_ACT_IDENTITY, 0} : act};
    BASE_TRY(layer_dense_init(&b->dense, ctx, A, &dc));
    layer_bnorm_cfg_t bc = {.B = B, .C = w, .eps = LAYER_BN_EPS, .momentum = 0.01f};
    if (batch_norm) BASE_TRY(layer_bnorm_init(&b->bnorm, ctx, A, &bc));
    if (B == 0) return BASE_OK; /* parameters only: inference goes through vae/infer.h */
    layer_act_cfg_t ac = {.spec = act, .B = B, .C = w};
    layer_dropout_cfg_t oc = {.p = dropout, .max_n = (size_t)B * w};
    if (batch_norm && !bn_post) BASE_TRY(layer_act_init(&b->act, ctx, NULL, &ac));
    if (b->drop) BASE_TRY(layer_dropout_init(&b->dropout, NULL, NULL, &oc));
    size_t n = (size_t)B * w;
    b->h = buf(n);
    b->a = batch_norm ? buf(n) : b->h;
    b->o = b->drop ? buf(n) : b->a;
    b->d = buf(n);
    b->d2 = buf(n);
    if (!b->h || !b->a || !b->o || !b->d || !b->d2) return base_error(BASE_ENOMEM, "mlp: out of memory");
    return BASE_OK;
}

static void block_free(layer_mlp_block_t *b)
{
    layer_dense_free(&b->dense);
    if (b->bn) {
        layer_bnorm_free(&b->bnorm);
        layer_act_free(&b->act);
        free(b->a);
    }
    if (b->drop) {
        layer_dropout_free(&b->dropout);
        free(b->o);
    }
    free(b->h);
    free(b->d);
    free(b->d2);
    memset(b, 0, sizeof *b);
}

int layer_mlp_init(layer_mlp_t *m, const layer_ctx_t *ctx, layer_arena_t *A, const layer_mlp_cfg_t *cfg)
{
    const int B = cfg->B, in = cfg->in, n = cfg->n, n_out = cfg->n_out, *w = cfg->w;
    const layer_act_spec_t act = cfg->act;
    const int batch_norm = cfg->batch_norm;
    const float dropout = cfg->dropout;
    if (n < 0 || n > LAYER_MLP_MAX) return base_error(BASE_EINVAL, "mlp: %d hidden blocks (at most %d)", n, LAYER_MLP_MAX);
    memset(m, 0, sizeof *m);
    m->B = B, m->in = in, m->n = n, m->n_out = n_out, m->keras_init = cfg->keras_init, m->torch_init = cfg->torch_init;
    int rc = BASE_OK;
    for (int i = 0; i < n && rc == BASE_OK; i++)
        rc = block_init(&m->blk[i], ctx, A, B, i ? w[i - 1] : in, w[i], act, batch_norm, cfg->bn_after_act, dropout);
    layer_dense_cfg_t hc = {.in = n ? w[n - 1] : in, .out = n_out, .batch = B,
                            .act = {LAYER_ACT_IDENTITY, 0}};
    if (rc == BASE_OK) rc = layer_dense_init(&m->head, ctx, A, &hc);
    if (rc == BASE_OK && B > 0 && !(m->y = buf((size_t)B * n_out)))
        rc = base_error(BASE_ENOMEM, "mlp: out of memory");
    if (rc != BASE_OK) layer_mlp_free(m);
    return rc;
}

void layer_mlp_free(layer_mlp_t *m)
{
    if (!m) return;
    for (int i = 0; i < LAYER_MLP_MAX; i++)
        if (m->blk[i].width) block_free(&m->blk[i]);
    layer_dense_free(&m->head);
    free(m->y);
    memset(m, 0, sizeof *m);
}

void layer_mlp_init_params(layer_mlp_t *m, base_rng_t *r)
{
    for (int i = 0; i < m->n; i++) {
        if (m->keras_init) layer_dense_init_params_normal(&m->blk[i].dense, r, 0.05f);
        else if (m->torch_init) layer_dense_init_params_torch(&m->blk[i].dense, r);
        else layer_dense_init_params(&m->blk[i].dense, r);
        if (m->blk[i].bn) layer_bnorm_init_params(&m->blk[i].bnorm);
    }
    if (m->keras_init) layer_dense_init_params_glorot_uniform(&m->head, r);
    else if (m->torch_init) layer_dense_init_params_torch(&m->head, r);
    else layer_dense_init_params(&m->head, r);
}

int layer_mlp_forward(layer_mlp_t *m, const float *x, int train, base_rng_t *r)
{
    const float *in = x;
    for (int i = 0; i < m->n; i++) {
        layer_mlp_block_t *b = &m->blk[i];
        BASE_TRY(layer_dense_forward(&b->dense, in, b->h));
        if (b->bn_post) { /* activation fused in the dense layer, then batch norm */
            BASE_TRY(train ? layer_bnorm_forward_train(&b->bnorm, b->h, b->a)
                            : layer_bnorm_forward_infer(&b->bnorm, b->h, b->a));
        } else if (b->bn) {
            BASE_TRY(train ? layer_bnorm_forward_train(&b->bnorm, b->h, b->a)
                            : layer_bnorm_forward_infer(&b->bnorm, b->h, b->a));
            BASE_TRY(layer_act_forward(&b->act, b->a, b->a));
        }
        if (b->drop)
            BASE_TRY(layer_dropout_forward(&b->dropout, train ? LAYER_DROPOUT_TRAIN : LAYER_DROPOUT_OFF, r,
                                            b->a, b->o, (size_t)m->B * b->width));
        in = b->o;
    }
    return layer_dense_forward(&m->head, in, m->y);
}

int layer_mlp_backward(layer_mlp_t *m, const float *x, float *dy, float *dx)
{
    float *d = m->n ? m->blk[m->n - 1].d : dx;
    const float *hin = m->n ? m->blk[m->n - 1].o : x;
    BASE_TRY(layer_dense_backward(&m->head, hin, m->y, dy, d));
    for (int i = m->n - 1; i >= 0; i--) {
        layer_mlp_block_t *b = &m->blk[i];
        const size_t n = (size_t)m->B * b->width;
        const float *in = i ? m->blk[i - 1].o : x;
        float *dprev = i ? m->blk[i - 1].d : dx;
        if (b->drop) layer_dropout_backward(&b->dropout, b->d, b->d, n);
        if (b->bn_post) { /* through batch norm, then the dense layer with its fused activation */
            BASE_TRY(layer_bnorm_backward(&b->bnorm, b->h, b->d, b->d2));
            BASE_TRY(layer_dense_backward(&b->dense, in, b->h, b->d2, dprev));
        } else if (b->bn) {
            BASE_TRY(layer_act_backward(&b->act, b->a, b->d, b->d));
            BASE_TRY(layer_bnorm_backward(&b->bnorm, b->h, b->d, b->d2));
            BASE_TRY(layer_dense_backward(&b->dense, in, b->h, b->d2, dprev));
        } else {
            BASE_TRY(layer_dense_backward(&b->dense, in, b->h, b->d, dprev));
        }
    }
    return BASE_OK;
}
