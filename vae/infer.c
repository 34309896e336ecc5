/* vae/infer.c: folded inference chains (see infer.h). */
#include "vae/infer.h"

#include "layers/status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t chain_size(const vae_mlp_t *p)
{
    size_t s = 0;
    for (int i = 0; i < p->n; i++) s += layer_dense_arena_size(p->blk[i].dense.cfg.in, p->blk[i].width);
    return s + layer_dense_arena_size(p->head.cfg.in, p->head.cfg.out);
}

/* Copies (and folds) one dense layer: W' = diag(s) W, b' = s (b - mu) + beta. */
static void fold(layer_dense_t *dst, const layer_dense_t *src, const layer_bnorm_t *bn)
{
    const int in = src->cfg.in, out = src->cfg.out;
    float *W = layer_dense_w(dst), *b = layer_dense_b(dst);
    memcpy(W, layer_dense_w(src), (size_t)in * out * sizeof(float));
    memcpy(b, layer_dense_b(src), (size_t)out * sizeof(float));
    if (!bn) return;
    const float *g = bn->A->param + bn->g_off, *be = bn->A->param + bn->b_off;
    for (int o = 0; o < out; o++) {
        float s = g[o] / sqrtf(bn->run_var[o] + bn->eps);
        for (int i = 0; i < in; i++) W[(size_t)o * in + i] *= s;
        b[o] = s * (b[o] - bn->run_mean[o]) + be[o];
    }
}

static int chain_init(vae_chain_t *c, const vae_mlp_t *p, const layer_ctx_t *ctx, layer_arena_t *A,
                      layer_act_spec_t act, int rows)
{
    c->n = p->n;
    c->in = p->in;
    for (int i = 0; i <= p->n; i++) {
        const layer_dense_t *src = i < p->n ? &p->blk[i].dense : &p->head;
        layer_dense_cfg_t dc = {.in = src->cfg.in, .out = src->cfg.out, .batch = 0, .infer_rows = rows,
                                .act = i < p->n ? act : (layer_act_spec_t){LAYER_ACT_IDENTITY, 0}};
        LAYER_TRY(layer_dense_init(&c->d[i], ctx, A, &dc));
        fold(&c->d[i], src, i < p->n && p->blk[i].bn ? &p->blk[i].bnorm : NULL);
        LAYER_TRY(layer_dense_pack(&c->d[i]));
        c->out[i] = dc.out;
    }
    return LAYER_OK;
}

static void chain_free(vae_chain_t *c)
{
    for (int i = 0; i <= c->n; i++) layer_dense_free(&c->d[i]);
    memset(c, 0, sizeof *c);
}

int vae_infer_init(vae_infer_t *q, const vae_model_t *m, const layer_ctx_t *ctx, int max_n)
{
    memset(q, 0, sizeof *q);
    q->cfg = m->cfg;
    q->E = m->E;
    q->O = m->O;
    q->max_n = max_n;
    LAYER_TRY(layer_arena_init(&q->A, chain_size(&m->enc) + chain_size(&m->dec)));
    /* the decoder's fixed-M path serves generation, which always runs max_n rows */
    int rc = chain_init(&q->enc, &m->enc, ctx, &q->A, m->cfg.act, 0);
    if (rc == LAYER_OK) rc = chain_init(&q->dec, &m->dec, ctx, &q->A, m->cfg.act, max_n);
    int widest = m->cfg.V + q->E;
    for (int i = 0; i <= q->enc.n; i++) widest = q->enc.out[i] > widest ? q->enc.out[i] : widest;
    for (int i = 0; i <= q->dec.n; i++) widest = q->dec.out[i] > widest ? q->dec.out[i] : widest;
    if (rc == LAYER_OK && m->cfg.dropout > 0) rc = layer_dropout_init(&q->drop, m->cfg.dropout, (size_t)max_n * widest);
    if (rc == LAYER_OK) {
        q->b0 = malloc((size_t)max_n * widest * sizeof(float));
        q->b1 = malloc((size_t)max_n * widest * sizeof(float));
        q->dec_in = malloc((size_t)max_n * (m->cfg.Z + q->E) * sizeof(float));
        q->out = malloc((size_t)max_n * q->O * sizeof(float));
        if (!q->b0 || !q->b1 || !q->dec_in || !q->out) rc = layer_error(LAYER_ENOMEM, "inference: out of memory");
    }
    if (rc != LAYER_OK) vae_infer_free(q);
    return rc;
}

void vae_infer_free(vae_infer_t *q)
{
    if (!q) return;
    chain_free(&q->enc);
    chain_free(&q->dec);
    layer_dropout_free(&q->drop);
    layer_arena_free(&q->A);
    free(q->b0);
    free(q->b1);
    free(q->dec_in);
    free(q->out);
    memset(q, 0, sizeof *q);
}

/* Runs a chain on n rows from x into y (the head's output). */
static int chain_run(vae_infer_t *q, vae_chain_t *c, int n, const float *x, float *y, int mc, layer_rng_t *r)
{
    const float *in = x;
    float *bufs[2] = {q->b0, q->b1};
    for (int i = 0; i < c->n; i++) {
        float *o = bufs[i % 2];
        LAYER_TRY(layer_dense_infer(&c->d[i], n, in, o));
        if (mc && q->cfg.dropout > 0)
            LAYER_TRY(layer_dropout_forward(&q->drop, LAYER_DROPOUT_MC, r, o, o, (size_t)n * c->out[i]));
        in = o;
    }
    return layer_dense_infer(&c->d[c->n], n, in, y);
}

int vae_infer_encode(vae_infer_t *q, int n, const float *in, float *mu, float *lv)
{
    const int Z = q->cfg.Z;
    if (n > q->max_n) return layer_error(LAYER_EINVAL, "inference: %d rows > %d", n, q->max_n);
    LAYER_TRY(chain_run(q, &q->enc, n, in, q->out, 0, NULL));
    const float L = q->cfg.lv_clamp;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < Z; j++) {
            mu[(size_t)i * Z + j] = q->out[(size_t)i * 2 * Z + j];
            lv[(size_t)i * Z + j] = fmaxf(-L, fminf(L, q->out[(size_t)i * 2 * Z + Z + j]));
        }
    return LAYER_OK;
}

int vae_infer_decode(vae_infer_t *q, int n, int mc, layer_rng_t *r)
{
    if (n > q->max_n) return layer_error(LAYER_EINVAL, "inference: %d rows > %d", n, q->max_n);
    return chain_run(q, &q->dec, n, q->dec_in, q->out, mc, r);
}
