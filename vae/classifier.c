/* vae/classifier.c: classifier two-sample test (see classifier.h). */
#include "vae/classifier.h"

#include "layers/loss.h"
#include "layers/optim.h"
#include "layers/rng.h"
#include "layers/status.h"
#include "physics/metrics.h"
#include "vae/mlp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

vae_cls_opts_t vae_cls_defaults(void)
{
    return (vae_cls_opts_t){.n_hidden = 2, .hidden = {256, 256}, .epochs = 20, .batch = 128, .lr = 5e-4f, .seed = 1};
}

typedef struct {
    vae_mlp_t m;
    layer_arena_t A;
    float *xb, *yb, *db; /* (B, D), (B), (B) */
    int B, D;
} net_t;

/* Scores (logits) of rows idx[0..k) into out, in padded batches. */
static int scores(net_t *t, const float *X, const size_t *idx, size_t k, float *out)
{
    for (size_t f = 0; f < k; f += (size_t)t->B) {
        size_t m = k - f < (size_t)t->B ? k - f : (size_t)t->B;
        for (size_t i = 0; i < (size_t)t->B; i++)
            memcpy(t->xb + i * t->D, X + idx[f + (i < m ? i : 0)] * t->D, (size_t)t->D * sizeof(float));
        LAYER_TRY(vae_mlp_forward(&t->m, t->xb, 0, NULL));
        for (size_t i = 0; i < m; i++) out[f + i] = t->m.y[i];
    }
    return LAYER_OK;
}

/* Mean BCE on logits of rows idx (k). */
static double bce(const float *s, const unsigned char *y, const size_t *idx, size_t k)
{
    double L = 0;
    for (size_t i = 0; i < k; i++) {
        double z = s[i], t = y[idx[i]];
        L += fmax(z, 0) - z * t + log1p(exp(-fabs(z)));
    }
    return L / (double)k;
}

/* One epoch over the training rows in a seeded order. */
static int train_epoch(net_t *t, const float *X, const unsigned char *y, const size_t *tr, size_t ntr, uint32_t *perm,
                       layer_adam_t *opt, float lr, uint64_t seed, int epoch)
{
    layer_rng_t r;
    layer_rng_init(&r, seed, 0xC1A55ull << 32 | (uint64_t)epoch);
    layer_rng_permutation(&r, perm, ntr);
    for (size_t f = 0; f + (size_t)t->B <= ntr; f += (size_t)t->B) {
        for (int i = 0; i < t->B; i++) {
            size_t row = tr[perm[f + (size_t)i]];
            memcpy(t->xb + (size_t)i * t->D, X + row * t->D, (size_t)t->D * sizeof(float));
            t->yb[i] = y[row];
        }
        LAYER_TRY(vae_mlp_forward(&t->m, t->xb, 1, NULL));
        layer_loss_bce_logits(t->db, NULL, t->m.y, t->yb, t->B, 1, 1.f);
        LAYER_TRY(vae_mlp_backward(&t->m, t->xb, t->db, NULL));
        layer_grad_clip(&t->A, 10.0);
        layer_adam_step(opt, &t->A, lr);
    }
    return LAYER_OK;
}

/* X <- (X - mean) / sd in place, with the training rows' statistics. */
static int standardise(float *X, const size_t *tr, size_t ntr, size_t n, int D)
{
    double *mu = calloc((size_t)D, sizeof *mu), *sd = calloc((size_t)D, sizeof *sd);
    if (!mu || !sd) {
        free(mu), free(sd);
        return layer_error(LAYER_ENOMEM, "classifier: out of memory");
    }
    for (size_t i = 0; i < ntr; i++)
        for (int j = 0; j < D; j++) mu[j] += X[tr[i] * D + j] / (double)ntr;
    for (size_t i = 0; i < ntr; i++)
        for (int j = 0; j < D; j++) sd[j] += pow(X[tr[i] * D + j] - mu[j], 2) / (double)ntr;
    for (int j = 0; j < D; j++) sd[j] = sd[j] > 1e-24 ? sqrt(sd[j]) : 1;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < D; j++) X[i * D + j] = (float)((X[i * D + j] - mu[j]) / sd[j]);
    free(mu), free(sd);
    return LAYER_OK;
}

static int fit(net_t *t, const float *Z, const unsigned char *y, size_t *idx[3], const size_t cnt[3],
               const vae_cls_opts_t *o, vae_cls_result_t *r)
{
    uint32_t *perm = malloc(cnt[0] * sizeof *perm);
    float *s = malloc((cnt[1] > cnt[2] ? cnt[1] : cnt[2]) * sizeof *s), *best = malloc(t->A.n * sizeof *best);
    int rc = perm && s && best ? LAYER_OK : layer_error(LAYER_ENOMEM, "classifier: out of memory");
    layer_adam_t opt;
    layer_adam_init(&opt, 0.f);
    double best_loss = INFINITY;
    for (int e = 0; e < o->epochs && rc == LAYER_OK; e++) {
        rc = train_epoch(t, Z, y, idx[0], cnt[0], perm, &opt, o->lr, o->seed, e);
        if (rc == LAYER_OK) rc = scores(t, Z, idx[1], cnt[1], s);
        double L = rc == LAYER_OK ? bce(s, y, idx[1], cnt[1]) : INFINITY;
        if (L < best_loss) { /* the best epoch on the test split */
            best_loss = L;
            r->best_epoch = e + 1;
            memcpy(best, t->A.param, t->A.n * sizeof *best);
        }
    }
    if (rc == LAYER_OK && r->best_epoch > 0) {
        memcpy(t->A.param, best, t->A.n * sizeof *best);
        r->test_loss = best_loss;
        /* calibrate on the test split, measure on the validation split */
        phys_isotonic_t cal;
        unsigned char *lt = malloc(cnt[1] + cnt[2] + 1);
        double *p = malloc((cnt[2] + 1) * sizeof *p);
        rc = lt && p ? scores(t, Z, idx[1], cnt[1], s) : layer_error(LAYER_ENOMEM, "classifier: out of memory");
        for (size_t i = 0; rc == LAYER_OK && i < cnt[1]; i++) lt[i] = y[idx[1][i]];
        if (rc == LAYER_OK) rc = phys_isotonic_fit(&cal, s, lt, cnt[1]);
        if (rc == LAYER_OK) rc = scores(t, Z, idx[2], cnt[2], s);
        if (rc == LAYER_OK) {
            for (size_t i = 0; i < cnt[2]; i++) {
                lt[i] = y[idx[2][i]];
                p[i] = phys_isotonic_apply(&cal, s[i]);
            }
            r->auc = phys_auc(s, lt, cnt[2]);
            r->jsd = phys_jsd(p, lt, cnt[2]);
            phys_isotonic_free(&cal);
        }
        free(lt), free(p);
    }
    free(perm), free(s), free(best);
    return rc;
}

int vae_cls_run(const layer_ctx_t *ctx, float *X, const unsigned char *y, const unsigned char *split, size_t n,
                int D, const vae_cls_opts_t *o, vae_cls_result_t *r)
{
    memset(r, 0, sizeof *r);
    size_t cnt[3] = {0, 0, 0}, *idx[3];
    for (size_t i = 0; i < n; i++) cnt[split[i]]++;
    if (cnt[0] < (size_t)o->batch || cnt[1] < 2 || cnt[2] < 2)
        return layer_error(LAYER_EINVAL, "classifier: %zu/%zu/%zu train/test/validation samples (need a batch of %d to "
                           "train)", cnt[0], cnt[1], cnt[2], o->batch);
    for (int k = 0; k < 3; k++) idx[k] = malloc(cnt[k] * sizeof(size_t)), cnt[k] = 0;
    if (!idx[0] || !idx[1] || !idx[2]) {
        for (int k = 0; k < 3; k++) free(idx[k]);
        return layer_error(LAYER_ENOMEM, "classifier: out of memory");
    }
    for (size_t i = 0; i < n; i++) idx[split[i]][cnt[split[i]]++] = i;
    net_t t = {.B = o->batch, .D = D};
    float *Z = X;
    int rc = standardise(X, idx[0], cnt[0], n, D);
    if (rc == LAYER_OK) rc = layer_arena_init(&t.A, vae_mlp_arena_size(D, o->hidden, o->n_hidden, 1, 0));
    layer_act_spec_t act = {LAYER_ACT_LEAKY_RELU, 0.2f};
    if (rc == LAYER_OK) rc = vae_mlp_init(&t.m, ctx, &t.A, t.B, D, o->hidden, o->n_hidden, 1, act, 0, 0.f);
    if (rc == LAYER_OK) {
        layer_rng_t ri;
        layer_rng_init(&ri, o->seed, 0xC1A55ull << 40);
        vae_mlp_init_params(&t.m, &ri);
        t.xb = malloc((size_t)t.B * D * sizeof(float));
        t.yb = malloc((size_t)t.B * sizeof(float));
        t.db = malloc((size_t)t.B * sizeof(float));
        rc = t.xb && t.yb && t.db ? fit(&t, Z, y, idx, cnt, o, r) : layer_error(LAYER_ENOMEM, "classifier: out of memory");
    }
    vae_mlp_free(&t.m);
    layer_arena_free(&t.A);
    free(t.xb), free(t.yb), free(t.db);
    for (int k = 0; k < 3; k++) free(idx[k]);
    return rc;
}
