/* vae/infer.c: folded inference chains (see infer.h). */
#include "vae/infer.h"
#include "base/bf16.h"
#include "layers/loss.h"

#include "base/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t chain_size(const layer_mlp_t *p)
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

/* Folds a batch norm that follows the previous block's activation into this layer's input:
 * with x = s a + t (s = gamma / sqrt(var + eps), t = beta - s mu), W x + b = (W diag(s)) a + (b + W t). */
static void fold_input(layer_dense_t *d, const layer_bnorm_t *bn)
{
    const int in = d->cfg.in, out = d->cfg.out;
    float *W = layer_dense_w(d), *b = layer_dense_b(d);
    const float *g = bn->A->param + bn->g_off, *be = bn->A->param + bn->b_off;
    for (int o = 0; o < out; o++) {
        double acc = b[o];
        for (int i = 0; i < in; i++) {
            float s = g[i] / sqrtf(bn->run_var[i] + bn->eps), t = be[i] - s * bn->run_mean[i];
            acc += (double)W[(size_t)o * in + i] * t;
            W[(size_t)o * in + i] *= s;
        }
        b[o] = (float)acc;
    }
}

/* rows: fixed-row sizes (NULL: none), prec: their precision */
static int chain_init(vae_chain_t *c, const layer_mlp_t *p, const layer_ctx_t *ctx, layer_arena_t *A,
                      layer_act_spec_t act, const int *rows, layer_prec_t prec)
{
    c->n = p->n;
    c->in = p->in;
    for (int i = 0; i <= p->n; i++) {
        const layer_dense_t *src = i < p->n ? &p->blk[i].dense : &p->head;
        layer_dense_cfg_t dc = {.in = src->cfg.in, .out = src->cfg.out, .batch = 0, .infer_prec = prec,
                                .infer_dst_f32 = i == p->n,
                                .act = i < p->n ? act : (layer_act_spec_t){LAYER_ACT_IDENTITY, 0}};
        if (rows) memcpy(dc.infer_rows, rows, sizeof dc.infer_rows);
        BASE_TRY(layer_dense_init(&c->d[i], ctx, A, &dc));
        fold(&c->d[i], src, i < p->n && p->blk[i].bn && !p->blk[i].bn_post ? &p->blk[i].bnorm : NULL);
        if (i > 0 && p->blk[i - 1].bn_post) fold_input(&c->d[i], &p->blk[i - 1].bnorm);
        BASE_TRY(layer_dense_pack(&c->d[i]));
        c->out[i] = dc.out;
    }
    return BASE_OK;
}

static void chain_free(vae_chain_t *c)
{
    for (int i = 0; i <= c->n; i++) layer_dense_free(&c->d[i]);
    memset(c, 0, sizeof *c);
}

/* Rows per generation chunk on the any-row path, from this machine's L2: the chunk's decoder
 * activations (every layer's output, f32) fit in the L2 of the cores running it, unless the
 * weights are larger, then as many rows that re-reading the weights per chunk costs no more
 * than the chunk's activations:
 *     rows = clamp(max(L2 x threads, weight bytes) / activation bytes per row, 32, 512),
 * rounded down to a multiple of 16, or 512 from 384 up (512 rows run on oneDNN's primitive). E.g. bench-ds2 (29 MB of weights, 33 KB per row): 512;
 * par04 on ds2 (2.6 MB, 27 KB per row, 2 x 1 MiB of L2): 96. */
static int chunk_rows(const vae_chain_t *c, int in)
{
    double w = 0, a = 0, l2 = (double)layer_cache_bytes(2) * layer_threads();
    for (int i = 0; i <= c->n; i++) {
        w += 4.0 * in * c->out[i];
        a += 4.0 * c->out[i];
        in = c->out[i];
    }
    double r = (l2 > w ? l2 : w) / a;
    r = r < 32 ? 32 : r > VAE_INFER_MAX_ROWS ? VAE_INFER_MAX_ROWS : r;
    /* near the largest size, take it: it runs on oneDNN's primitive, faster on large layers */
    return r >= 0.75 * VAE_INFER_MAX_ROWS ? VAE_INFER_MAX_ROWS : (int)r / 16 * 16;
}

layer_prec_t vae_infer_resolve_precision(vae_prec_request_t req, const char **note)
{
    static _Thread_local char msg[200];
    if (note) *note = NULL;
    if (req == VAE_PREC_F32 || layer_bf16_native()) return req == VAE_PREC_F32 ? LAYER_F32 : LAYER_BF16;
    if (req == VAE_PREC_BF16_EMULATED && layer_bf16_available()) {
        snprintf(msg, sizeof msg, "bf16 emulated by oneDNN on %s (no AVX512-BF16): faster at batch 1, "
                 "about 3x slower at large batches", layer_isa_name());
        if (note) *note = msg;
        return LAYER_BF16;
    }
    snprintf(msg, sizeof msg, "this CPU (%s) has no %s; falling back to f32", layer_isa_name(),
             req == VAE_PREC_BF16 ? "AVX512-BF16" : "AVX-512 for emulated bf16");
    if (note) *note = msg;
    return LAYER_F32;
}

int vae_infer_init(vae_infer_t *q, const vae_model_t *m, const layer_ctx_t *ctx, int max_n, layer_prec_t prec)
{
    memset(q, 0, sizeof *q);
    q->cfg = m->cfg;
    q->E = m->E;
    q->O = m->O;
    q->prec = prec;
    memcpy(q->rows, (int[LAYER_DENSE_FIXED])VAE_INFER_ROWS, sizeof q->rows);
    q->max_n = max_n = max_n > VAE_INFER_MAX_ROWS ? max_n : VAE_INFER_MAX_ROWS;
    if (prec == LAYER_BF16 && !layer_bf16_available())
        return base_error(BASE_EINVAL, "bf16: oneDNN has no bf16 on this CPU (%s)", layer_isa_name());
    BASE_TRY(layer_arena_init(&q->A, chain_size(&m->enc) + chain_size(&m->dec)));
    int rc = chain_init(&q->enc, &m->enc, ctx, &q->A, m->cfg.act, NULL, LAYER_F32);
    if (rc == BASE_OK) rc = chain_init(&q->dec, &m->dec, ctx, &q->A, m->cfg.act, q->rows, prec);
    q->any_rows = rc == BASE_OK && prec == LAYER_F32;
    for (int i = 0; q->any_rows && i <= q->dec.n; i++) q->any_rows = layer_dense_any_rows(&q->dec.d[i]);
    q->chunk = q->any_rows ? chunk_rows(&q->dec, m->cfg.Z + q->E) : VAE_INFER_MAX_ROWS;
    int widest = m->cfg.V + q->E;
    for (int i = 0; i <= q->enc.n; i++) widest = q->enc.out[i] > widest ? q->enc.out[i] : widest;
    for (int i = 0; i <= q->dec.n; i++) widest = q->dec.out[i] > widest ? q->dec.out[i] : widest;
    if (rc == BASE_OK && m->cfg.dropout > 0) rc = layer_dropout_init(&q->drop, NULL, NULL, &(layer_dropout_cfg_t){m->cfg.dropout, (size_t)max_n * widest});
    if (rc == BASE_OK) {
        q->b0 = malloc((size_t)max_n * widest * sizeof(float));
        q->b1 = malloc((size_t)max_n * widest * sizeof(float));
        q->dec_in = malloc((size_t)max_n * (m->cfg.Z + q->E) * sizeof(float));
        q->out = malloc((size_t)max_n * q->O * sizeof(float));
        q->dec_in16 = malloc((size_t)max_n * (m->cfg.Z + q->E) * sizeof(uint16_t));
        if (!q->b0 || !q->b1 || !q->dec_in || !q->out || !q->dec_in16)
            rc = base_error(BASE_ENOMEM, "inference: out of memory");
    }
    if (rc == BASE_OK && m->prior.K > 0) {
        rc = vae_prior_copy(&q->prior, &m->prior);
        q->lay = rc == BASE_OK ? malloc((size_t)max_n * (m->prior.L + 1) * sizeof(float)) : NULL;
        if (rc == BASE_OK && !q->lay) rc = base_error(BASE_ENOMEM, "inference: out of memory");
        q->use_prior = 1;
    }
    if (rc != BASE_OK) vae_infer_free(q);
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
    free(q->dec_in16);
    free(q->out);
    free(q->lay);
    vae_prior_free(&q->prior);
    memset(q, 0, sizeof *q);
}

/* Runs a chain on n rows from x into y (the head's output), run-time-batch path. */
static int chain_run(vae_infer_t *q, vae_chain_t *c, int n, const float *x, float *y)
{
    const float *in = x;
    float *bufs[2] = {q->b0, q->b1};
    for (int i = 0; i < c->n; i++) {
        BASE_TRY(layer_dense_infer(&c->d[i], n, in, bufs[i % 2]));
        in = bufs[i % 2];
    }
    return layer_dense_infer(&c->d[c->n], n, in, y);
}

int vae_infer_encode(vae_infer_t *q, int n, const float *in, float *mu, float *lv)
{
    const int Z = q->cfg.Z;
    if (n > q->max_n) return base_error(BASE_EINVAL, "inference: %d rows > %d", n, q->max_n);
    BASE_TRY(chain_run(q, &q->enc, n, in, q->out));
    const float L = q->cfg.lv_clamp;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < Z; j++) {
            mu[(size_t)i * Z + j] = q->out[(size_t)i * 2 * Z + j];
            lv[(size_t)i * Z + j] = layer_clampf(q->out[(size_t)i * 2 * Z + Z + j], L);
        }
    return BASE_OK;
}

int vae_infer_decode(vae_infer_t *q, int n)
{
    if (n > q->max_n) return base_error(BASE_EINVAL, "inference: %d rows > %d", n, q->max_n);
    return chain_run(q, &q->dec, n, q->dec_in, q->out);
}

int vae_infer_decode_rows(vae_infer_t *q, int M, int mc, base_rng_t *r, float *out)
{
    vae_chain_t *c = &q->dec;
    if (mc && q->prec != LAYER_F32) return base_error(BASE_EINVAL, "MC dropout runs in f32 only");
    const void *in = q->dec_in;
    if (q->prec == LAYER_BF16) {
        base_bf16_from_f32_n(q->dec_in, q->dec_in16, (size_t)M * (q->cfg.Z + q->E));
        in = q->dec_in16;
    }
    float *bufs[2] = {q->b0, q->b1};
    for (int i = 0; i < c->n; i++) {
        BASE_TRY(layer_dense_infer_rows(&c->d[i], M, in, bufs[i % 2]));
        if (mc && q->cfg.dropout > 0)
            BASE_TRY(layer_dropout_forward(&q->drop, LAYER_DROPOUT_MC, r, bufs[i % 2], bufs[i % 2], (size_t)M * c->out[i]));
        in = bufs[i % 2];
    }
    return layer_dense_infer_rows(&c->d[c->n], M, in, out ? out : q->out);
}
