/* vae/model.c: conditional VAE training step (see model.h). */
#include "vae/model.h"
#include "base/streams.h"

#include "layers/loss.h"
#include "base/rng.h"
#include "base/status.h"
#include "vae/lik.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The encoder (enc = 1) or decoder MLP of config c for batch B. */
static layer_mlp_cfg_t mlp_cfg(const vae_config_t *c, int enc, int B)
{
    const int E = vae_config_n_cond(c);
    layer_mlp_cfg_t m = {.B = B, .in = enc ? c->V + E : c->Z + E, .n = enc ? c->n_enc : c->n_dec,
                         .n_out = enc ? 2 * c->Z : vae_config_n_out(c), .act = c->act,
                         .batch_norm = c->batch_norm, .bn_after_act = c->bn_after_act,
                         .keras_init = c->keras_init, .dropout = c->dropout};
    for (int i = 0; i < m.n && i < LAYER_MLP_MAX; i++) m.w[i] = enc ? c->enc[i] : c->dec[i];
    return m;
}

static size_t arena_need(const vae_config_t *c)
{
    layer_mlp_cfg_t e = mlp_cfg(c, 1, 0), d = mlp_cfg(c, 0, 0);
    return layer_mlp_arena_size(&e) + layer_mlp_arena_size(&d);
}

static float *fbuf(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

int vae_model_init(vae_model_t *m, const vae_config_t *c, const layer_ctx_t *ctx, int B)
{
    memset(m, 0, sizeof *m);
    m->cfg = *c;
    m->ctx = ctx;
    m->B = B;
    m->B_global = B, m->row0 = 0;
    m->E = vae_config_n_cond(c);
    m->O = vae_config_n_out(c);
    const int V = c->V, Z = c->Z, E = m->E;
    BASE_TRY(layer_arena_init(&m->A, arena_need(c)));
    layer_mlp_cfg_t ec = mlp_cfg(c, 1, B), dc = mlp_cfg(c, 0, B);
    int rc = layer_mlp_init(&m->enc, ctx, &m->A, &ec);
    if (rc == BASE_OK) rc = layer_mlp_init(&m->dec, ctx, &m->A, &dc);
    if (rc == BASE_OK && B > 0) {
        m->enc_in = fbuf((size_t)B * (V + E));
        m->dec_in = fbuf((size_t)B * (Z + E));
        m->mu = fbuf((size_t)B * Z);
        m->lv = fbuf((size_t)B * Z);
        m->eps = fbuf((size_t)B * Z);
        m->d_head = fbuf((size_t)B * 2 * Z);
        m->d_dec_in = fbuf((size_t)B * (Z + E));
        m->d_out = fbuf((size_t)B * m->O);
        m->row = fbuf((size_t)B);
        m->d_kl = fbuf((size_t)B * 2 * Z);
        m->kl_tmp = fbuf((size_t)Z);
        m->kl_dim = calloc((size_t)Z, sizeof(double));
        if (!m->enc_in || !m->dec_in || !m->mu || !m->lv || !m->eps || !m->d_head || !m->d_dec_in ||
            !m->d_out || !m->row || !m->d_kl || !m->kl_tmp || !m->kl_dim)
            rc = base_error(BASE_ENOMEM, "model: out of memory for batch %d", B);
    }
    if (rc != BASE_OK) vae_model_free(m);
    return rc;
}

void vae_model_free(vae_model_t *m)
{
    if (!m) return;
    layer_mlp_free(&m->enc);
    layer_mlp_free(&m->dec);
    layer_arena_free(&m->A);
    float *bufs[] = {m->enc_in, m->dec_in, m->mu,    m->lv,   m->eps,   m->d_head,
                     m->d_dec_in, m->d_out, m->row, m->d_kl, m->kl_tmp};
    for (unsigned i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
    free(m->kl_dim);
    vae_prior_free(&m->prior);
    memset(m, 0, sizeof *m);
}

void vae_model_init_params(vae_model_t *m, uint64_t seed)
{
    base_rng_t r;
    base_rng_init(&r, seed, BASE_STREAM_VAE_INIT);
    layer_mlp_init_params(&m->enc, &r);
    layer_mlp_init_params(&m->dec, &r);
}

/* Encoder and decoder forward for the first n rows (the rest of the batch is padding):
 * enc_in = [x', c] -> (mu, lv), z = mu + exp(lv/2) eps, dec_in = [z, c] -> decoder outputs. */
static int forward(vae_model_t *m, int n, const float *E_inc, const float *angle, const float *x, uint64_t seed, uint64_t index0,
                   int train, uint64_t step)
{
    const vae_config_t *c = &m->cfg;
    const int V = c->V, Z = c->Z, E = m->E, B = m->B;
    vae_prep_encoder_input(c, n, E_inc, x, m->enc_in, V + E);
    vae_prep_conditions(c, n, E_inc, angle, m->enc_in + V, V + E);
    for (int i = n; i < B; i++) /* padding rows repeat row 0 (batch norm runs on running stats) */
        memcpy(m->enc_in + (size_t)i * (V + E), m->enc_in, (size_t)(V + E) * sizeof(float));
    base_rng_t rd;
    base_rng_init(&rd, seed, BASE_STREAM_VAE_DROPOUT | step);
    BASE_TRY(layer_mlp_forward(&m->enc, m->enc_in, train, &rd));
    const float L = c->lv_clamp;
    for (int i = 0; i < B; i++) {
        base_rng_t r;
        base_rng_init(&r, seed, BASE_STREAM_VAE_LATENT | (index0 + (uint64_t)i));
        base_rng_normal(&r, m->eps + (size_t)i * Z, (size_t)Z);
        const float *h = m->enc.y + (size_t)i * 2 * Z;
        float *zi = m->dec_in + (size_t)i * (Z + E);
        for (int j = 0; j < Z; j++) {
            float mu = h[j], lv = layer_clampf(h[Z + j], L); /* clamp: stability (vae-notes) */
            m->mu[(size_t)i * Z + j] = mu;
            m->lv[(size_t)i * Z + j] = lv;
            zi[j] = mu + expf(0.5f * lv) * m->eps[(size_t)i * Z + j]; /* z = mu + sigma eps */
        }
        memcpy(zi + Z, m->enc_in + (size_t)i * (V + E) + V, (size_t)E * sizeof(float));
    }
    return layer_mlp_forward(&m->dec, m->dec_in, train, &rd);
}

int vae_model_train_step(vae_model_t *m, const float *E_inc, const float *angle, const float *x, uint64_t seed, uint64_t step,
                         float beta, float free_bits, vae_terms_t *t)
{
    const vae_config_t *c = &m->cfg;
    const int B = m->B, Z = c->Z, E = m->E;
    if (B == 0) return base_error(BASE_EINVAL, "model built without a training batch");
    BASE_TRY(forward(m, B, E_inc, angle, x, seed, step * (uint64_t)m->B_global + (uint64_t)m->row0, 1, step));
    /* reconstruction: -ln p(x | z, c), gradient into d_out */
    t->recon = vae_lik_loss(c, B, m->dec.y, x, E_inc, 1.f, m->d_out, NULL);
    BASE_TRY(layer_mlp_backward(&m->dec, m->dec_in, m->d_out, m->d_dec_in));
    /* KL(N(mu, e^lv) || N(0, 1)) per dimension: -0.5 (1 + lv - mu^2 - e^lv);
     * d/dmu = beta mu / B, d/dlv = beta 0.5 (e^lv - 1) / B; free bits: no gradient for a
     * dimension whose batch-mean KL is below the floor (Kingma et al. 2016) */
    float *dmu = m->d_kl, *dlv = m->d_kl + (size_t)B * Z, *kd = m->kl_tmp;
    t->kl = layer_loss_kl_normal(m->mu, m->lv, B, Z, beta, dmu, dlv, NULL, kd);
    for (int j = 0; j < Z; j++) m->kl_dim[j] = kd[j];
    /* chain rule through z = mu + exp(lv/2) eps: dmu += dz, dlv += dz eps exp(lv/2) / 2;
     * lv was clamped: no gradient where the clamp was active */
    float *dh = m->d_head;
    const float L = c->lv_clamp;
    for (int i = 0; i < B; i++)
        for (int j = 0; j < Z; j++) {
            size_t k = (size_t)i * Z + j;
            float dz = m->d_dec_in[(size_t)i * (Z + E) + j], floor_on = kd[j] < free_bits;
            float s = expf(0.5f * m->lv[k]), raw = m->enc.y[(size_t)i * 2 * Z + Z + j];
            dh[(size_t)i * 2 * Z + j] = dz + (floor_on ? 0.f : dmu[k]);
            float g = 0.5f * dz * m->eps[k] * s + (floor_on ? 0.f : dlv[k]);
            dh[(size_t)i * 2 * Z + Z + j] = (raw > -L && raw < L) ? g : 0.f;
        }
    int rc = layer_mlp_backward(&m->enc, m->enc_in, dh, NULL);
    t->elbo = -(t->recon + t->kl);
    return rc;
}

int vae_model_eval(vae_model_t *m, int n, const float *E_inc, const float *angle, const float *x, uint64_t seed, uint64_t index0,
                   vae_terms_t *t, double *kl_dim_sum, float *mu_out)
{
    const vae_config_t *c = &m->cfg;
    const int Z = c->Z;
    if (n < 1 || n > m->B) return base_error(BASE_EINVAL, "eval: %d rows for batch %d", n, m->B);
    BASE_TRY(forward(m, n, E_inc, angle, x, seed, index0, 0, 0));
    t->recon = vae_lik_loss(c, n, m->dec.y, x, E_inc, 1.f, NULL, NULL);
    float *kd = m->kl_tmp;
    t->kl = layer_loss_kl_normal(m->mu, m->lv, n, Z, 1.f, NULL, NULL, NULL, kd);
    if (kl_dim_sum)
        for (int j = 0; j < Z; j++) kl_dim_sum[j] += (double)kd[j] * n;
    if (mu_out) memcpy(mu_out, m->mu, (size_t)n * Z * sizeof(float));
    t->elbo = -(t->recon + t->kl);
    t->grad_norm = 0;
    return BASE_OK;
}

/* Adds the tensors of one MLP under prefix. */
static int mlp_tensors(layer_mlp_t *p, const char *prefix, io_tensor_t *t, int k, int max)
{
#define ADD(nm, ptr, r, c_)                                                                   \
    do {                                                                                      \
        if (k < max) {                                                                        \
            snprintf(t[k].name, sizeof t[k].name, "%s/%s", prefix, nm);                        \
            t[k].data = (ptr), t[k].rows = (r), t[k].cols = (c_);                             \
        }                                                                                     \
        k++;                                                                                  \
    } while (0)
    char nm[48];
    for (int i = 0; i < p->n; i++) {
        layer_mlp_block_t *b = &p->blk[i];
        snprintf(nm, sizeof nm, "dense%d/weight", i);
        ADD(nm, layer_dense_w(&b->dense), b->dense.cfg.out, b->dense.cfg.in);
        snprintf(nm, sizeof nm, "dense%d/bias", i);
        ADD(nm, layer_dense_b(&b->dense), b->dense.cfg.out, 0);
        if (b->bn) {
            layer_bnorm_t *n = &b->bnorm;
            snprintf(nm, sizeof nm, "bn%d/gamma", i);
            ADD(nm, n->A->param + n->g_off, n->C, 0);
            snprintf(nm, sizeof nm, "bn%d/beta", i);
            ADD(nm, n->A->param + n->b_off, n->C, 0);
            snprintf(nm, sizeof nm, "bn%d/running_mean", i);
            ADD(nm, n->run_mean, n->C, 0);
            snprintf(nm, sizeof nm, "bn%d/running_var", i);
            ADD(nm, n->run_var, n->C, 0);
        }
    }
    ADD("head/weight", layer_dense_w(&p->head), p->head.cfg.out, p->head.cfg.in);
    ADD("head/bias", layer_dense_b(&p->head), p->head.cfg.out, 0);
#undef ADD
    return k;
}

int vae_model_tensors(vae_model_t *m, io_tensor_t *t, int max)
{
    int k = mlp_tensors(&m->enc, "/encoder", t, 0, max);
    return mlp_tensors(&m->dec, "/decoder", t, k, max);
}
