/* vae/mlp.c: hidden blocks + linear head on the layer library (see mlp.h). */
#include "vae/mlp.h"

#include "layers/status.h"

#include <stdlib.h>
#include <string.h>

size_t vae_mlp_arena_size(int in, const int *w, int n, int n_out, int batch_norm)
{
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

static int block_init(vae_block_t *b, const layer_ctx_t *ctx, layer_arena_t *A, int B, int in, int w,
                      layer_act_spec_t act, int batch_norm, float dropout)
{
    memset(b, 0, sizeof *b);
    b->width = w;
    b->bn = batch_norm;
    b->drop = dropout > 0;
    layer_dense_cfg_t dc = {.in = in, .out = w, .batch = B,
                            .act = batch_norm ? (layer_act_spec_t){LAYER_ACT_IDENTITY, 0} : act};
    LAYER_TRY(layer_dense_init(&b->dense, ctx, A, &dc));
    if (batch_norm) LAYER_TRY(layer_bnorm_init(&b->bnorm, ctx, A, B, w, VAE_BN_EPS, 0.01f));
    if (B == 0) return LAYER_OK; /* parameters only: inference goes through vae/infer.h */
    if (batch_norm) LAYER_TRY(layer_act_init(&b->act, ctx, act, B, w));
    if (b->drop) LAYER_TRY(layer_dropout_init(&b->dropout, dropout, (size_t)B * w));
    size_t n = (size_t)B * w;
    b->h = buf(n);
    b->a = batch_norm ? buf(n) : b->h;
    b->o = b->drop ? buf(n) : b->a;
    b->d = buf(n);
    b->d2 = buf(n);
    if (!b->h || !b->a || !b->o || !b->d || !b->d2) return layer_error(LAYER_ENOMEM, "mlp: out of memory");
    return LAYER_OK;
}

static void block_free(vae_block_t *b)
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

int vae_mlp_init(vae_mlp_t *m, const layer_ctx_t *ctx, layer_arena_t *A, int B, int in, const int *w,
                 int n, int n_out, layer_act_spec_t act, int batch_norm, float dropout)
{
    memset(m, 0, sizeof *m);
    m->B = B, m->in = in, m->n = n, m->n_out = n_out;
    int rc = LAYER_OK;
    for (int i = 0; i < n && rc == LAYER_OK; i++)
        rc = block_init(&m->blk[i], ctx, A, B, i ? w[i - 1] : in, w[i], act, batch_norm, dropout);
    layer_dense_cfg_t hc = {.in = n ? w[n - 1] : in, .out = n_out, .batch = B,
                            .act = {LAYER_ACT_IDENTITY, 0}};
    if (rc == LAYER_OK) rc = layer_dense_init(&m->head, ctx, A, &hc);
    if (rc == LAYER_OK && B > 0 && !(m->y = buf((size_t)B * n_out)))
        rc = layer_error(LAYER_ENOMEM, "mlp: out of memory");
    if (rc != LAYER_OK) vae_mlp_free(m);
    return rc;
}

void vae_mlp_free(vae_mlp_t *m)
{
    if (!m) return;
    for (int i = 0; i < VAE_MAX_HIDDEN; i++)
        if (m->blk[i].width) block_free(&m->blk[i]);
    layer_dense_free(&m->head);
    free(m->y);
    memset(m, 0, sizeof *m);
}

void vae_mlp_init_params(vae_mlp_t *m, layer_rng_t *r)
{
    for (int i = 0; i < m->n; i++) {
        layer_dense_init_params(&m->blk[i].dense, r);
        if (m->blk[i].bn) layer_bnorm_init_params(&m->blk[i].bnorm);
    }
    layer_dense_init_params(&m->head, r);
}

int vae_mlp_forward(vae_mlp_t *m, const float *x, int train, layer_rng_t *r)
{
    const float *in = x;
    for (int i = 0; i < m->n; i++) {
        vae_block_t *b = &m->blk[i];
        LAYER_TRY(layer_dense_forward(&b->dense, in, b->h));
        if (b->bn) {
            LAYER_TRY(train ? layer_bnorm_forward_train(&b->bnorm, b->h, b->a)
                            : layer_bnorm_forward_infer(&b->bnorm, b->h, b->a));
            LAYER_TRY(layer_act_forward(&b->act, b->a, b->a));
        }
        if (b->drop)
            LAYER_TRY(layer_dropout_forward(&b->dropout, train ? LAYER_DROPOUT_TRAIN : LAYER_DROPOUT_OFF, r,
                                            b->a, b->o, (size_t)m->B * b->width));
        in = b->o;
    }
    return layer_dense_forward(&m->head, in, m->y);
}

int vae_mlp_backward(vae_mlp_t *m, const float *x, float *dy, float *dx)
{
    float *d = m->n ? m->blk[m->n - 1].d : dx;
    const float *hin = m->n ? m->blk[m->n - 1].o : x;
    LAYER_TRY(layer_dense_backward(&m->head, hin, m->y, dy, d));
    for (int i = m->n - 1; i >= 0; i--) {
        vae_block_t *b = &m->blk[i];
        const size_t n = (size_t)m->B * b->width;
        const float *in = i ? m->blk[i - 1].o : x;
        float *dprev = i ? m->blk[i - 1].d : dx;
        if (b->drop) layer_dropout_backward(&b->dropout, b->d, b->d, n);
        if (b->bn) {
            LAYER_TRY(layer_act_backward(&b->act, b->a, b->d, b->d));
            LAYER_TRY(layer_bnorm_backward(&b->bnorm, b->h, b->d, b->d2));
            LAYER_TRY(layer_dense_backward(&b->dense, in, b->h, b->d2, dprev));
        } else {
            LAYER_TRY(layer_dense_backward(&b->dense, in, b->h, b->d, dprev));
        }
    }
    return LAYER_OK;
}
