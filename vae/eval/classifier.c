/* vae/eval/classifier.c: classifier two-sample test (see classifier.h). */
#include "vae/eval/classifier.h"
#include "base/streams.h"

#include "layers/loss.h"
#include "layers/optim.h"
#include "base/rng.h"
#include "base/status.h"
#include "vae/eval/stats.h"
#include "layers/mlp.h"
#include "base/bf16.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

eval_cls_opts_t eval_cls_defaults(int challenge)
{
    if (challenge)
        return (eval_cls_opts_t){.n_hidden = 3, .hidden = {2048, 2048, 2048}, .epochs = 50, .batch = 1000, .lr = 2e-4f,
                                 .slope = 0.01f, .by_accuracy = 1, .challenge_scores = 1, .torch_init = 1, .seed = 1};
    return (eval_cls_opts_t){.n_hidden = 2, .hidden = {256, 256}, .epochs = 20, .batch = 128, .lr = 5e-4f,
                             .slope = 0.2f, .standardise = 1, .clip = 10.0, .seed = 1};
}

typedef struct {
    layer_mlp_t m;
    layer_arena_t A;
    float *xb, *yb, *db; /* (B, D), (B), (B) */
    int B, D;
    const float *X;      /* (n, D) rows in f32, or */
    const uint16_t *Xh;  /* (n, D) rows in bf16 */
} net_t;

/* dst (D) <- row `row` of the inputs, in f32. */
static void load_row(const net_t *t, size_t row, float *dst)
{
    if (t->X) memcpy(dst, t->X + row * t->D, (size_t)t->D * sizeof(float));
    else base_bf16_to_f32_n(t->Xh + row * t->D, dst, (size_t)t->D);
}

/* Scores (logits) of rows idx[0..k) into out, in padded batches. */
static int scores(net_t *t, const size_t *idx, size_t k, float *out)
{
    for (size_t f = 0; f < k; f += (size_t)t->B) {
        size_t m = k - f < (size_t)t->B ? k - f : (size_t)t->B;
        for (size_t i = 0; i < (size_t)t->B; i++) load_row(t, idx[f + (i < m ? i : 0)], t->xb + i * t->D);
        BASE_TRY(layer_mlp_forward(&t->m, t->xb, 0, NULL));
        for (size_t i = 0; i < m; i++) out[f + i] = t->m.y[i];
    }
    return BASE_OK;
}

/* Mean BCE on logits of rows idx (k), and the accuracy of logit > 0 (p > 0.5: numpy rounds
 * 0.5 to 0) into *acc. */
static double bce(const float *s, const unsigned char *y, const size_t *idx, size_t k, double *acc)
{
    double L = 0, a = 0;
    for (size_t i = 0; i < k; i++) {
        L += layer_bce_logit(s[i], y[idx[i]], NULL);
        a += (s[i] > 0) == (y[idx[i]] == 1);
    }
    *acc = a / (double)k;
    return L / (double)k;
}

/* One epoch over the training rows in a seeded order, in batches of B and, as PyTorch's
 * DataLoader (drop_last False), a last batch of the m < B rows left: it runs padded to B with
 * the padding's gradient zero and the loss the mean over its m rows, the same step as a batch
 * of m (no layer mixes rows: no batch norm here). */
static int train_epoch(net_t *t, const unsigned char *y, const size_t *tr, size_t ntr, uint32_t *perm,
                       layer_adam_t *opt, const eval_cls_opts_t *o, int epoch)
{
    base_rng_t r;
    base_rng_init(&r, o->seed, BASE_STREAM_CLS_EPOCH | (uint64_t)epoch);
    base_rng_permutation(&r, perm, ntr);
    for (size_t f = 0; f < ntr; f += (size_t)t->B) {
        const int m = ntr - f < (size_t)t->B ? (int)(ntr - f) : t->B;
        for (int i = 0; i < t->B; i++) {
            size_t row = tr[perm[f + (size_t)(i < m ? i : 0)]];
            load_row(t, row, t->xb + (size_t)i * t->D);
            t->yb[i] = y[row];
        }
        BASE_TRY(layer_mlp_forward(&t->m, t->xb, 1, NULL));
        layer_loss_bce_logits(t->m.y, t->yb, m, 1, 1.f, t->db, NULL); /* d/dz of the mean over m rows */
        for (int i = m; i < t->B; i++) t->db[i] = 0;
        BASE_TRY(layer_mlp_backward(&t->m, t->xb, t->db, NULL));
        if (o->clip > 0) layer_grad_clip(&t->A, o->clip);
        layer_adam_step(opt, &t->A, o->lr);
    }
    return BASE_OK;
}

/* X <- (X - mean) / sd in place, with the training rows' statistics. */
static int standardise(float *X, const size_t *tr, size_t ntr, size_t n, int D)
{
    double *mu = calloc((size_t)D, sizeof *mu), *sd = calloc((size_t)D, sizeof *sd);
    if (!mu || !sd) {
        free(mu), free(sd);
        return base_error(BASE_ENOMEM, "classifier: out of memory");
    }
    for (size_t i = 0; i < ntr; i++)
        for (int j = 0; j < D; j++) mu[j] += X[tr[i] * D + j] / (double)ntr;
    for (size_t i = 0; i < ntr; i++)
        for (int j = 0; j < D; j++) sd[j] += pow(X[tr[i] * D + j] - mu[j], 2) / (double)ntr;
    for (int j = 0; j < D; j++) sd[j] = sd[j] > 1e-24 ? sqrt(sd[j]) : 1;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < D; j++) X[i * D + j] = (float)((X[i * D + j] - mu[j]) / sd[j]);
    free(mu), free(sd);
    return BASE_OK;
}

static int fit(net_t *t, const unsigned char *y, size_t *idx[3], const size_t cnt[3],
               const eval_cls_opts_t *o, eval_cls_result_t *r)
{
    uint32_t *perm = malloc(cnt[0] * sizeof *perm);
    float *s = malloc((cnt[1] > cnt[2] ? cnt[1] : cnt[2]) * sizeof *s), *best = malloc(t->A.n * sizeof *best);
    int rc = perm && s && best ? BASE_OK : base_error(BASE_ENOMEM, "classifier: out of memory");
    layer_adam_t opt;
    layer_adam_init(&opt, 0.f);
    double best_loss = INFINITY, best_acc = -1;
    for (int e = 0; e < o->epochs && rc == BASE_OK; e++) {
        rc = train_epoch(t, y, idx[0], cnt[0], perm, &opt, o, e);
        if (rc == BASE_OK) rc = scores(t, idx[1], cnt[1], s);
        double acc = 0, L = rc == BASE_OK ? bce(s, y, idx[1], cnt[1], &acc) : INFINITY;
        r->epochs_run = e + 1;
        if (rc == BASE_OK && (o->by_accuracy ? acc > best_acc : L < best_loss)) { /* the best epoch on the test split */
            best_loss = L, best_acc = acc;
            r->best_epoch = e + 1;
            memcpy(best, t->A.param, t->A.n * sizeof *best);
        }
        if (o->by_accuracy && acc == 1.0) break; /* the challenge stops at a perfect test accuracy */
        if (o->monitor)
            base_monitor_say(o->monitor, BASE_MSG_INFO, "classifier epoch %d/%d: test BCE %.4f, accuracy %.4f", e + 1,
                             o->epochs, L, acc);
    }
    if (rc == BASE_OK && r->best_epoch > 0) {
        memcpy(t->A.param, best, t->A.n * sizeof *best);
        r->test_loss = best_loss, r->test_accuracy = best_acc;
        /* calibrate on the test split, measure on the validation split */
        eval_isotonic_t cal;
        unsigned char *lt = malloc(cnt[1] + cnt[2] + 1);
        double *p = malloc((cnt[2] + 1) * sizeof *p);
        rc = lt && p ? scores(t, idx[1], cnt[1], s) : base_error(BASE_ENOMEM, "classifier: out of memory");
        for (size_t i = 0; rc == BASE_OK && i < cnt[1]; i++) lt[i] = y[idx[1][i]];
        if (rc == BASE_OK) rc = eval_isotonic_fit(&cal, s, lt, cnt[1]);
        if (rc == BASE_OK) rc = scores(t, idx[2], cnt[2], s);
        if (rc == BASE_OK) {
            double acc = 0;
            for (size_t i = 0; i < cnt[2]; i++) {
                lt[i] = y[idx[2][i]];
                p[i] = eval_isotonic_apply(&cal, s[i]);
                if (o->challenge_scores) p[i] = fmin(fmax(p[i], 1e-6), 1 - 1e-6); /* IsotonicRegression(y_min, y_max) */
                acc += (p[i] > 0.5) == (lt[i] == 1);
            }
            r->accuracy = acc / (double)cnt[2];
            if (o->challenge_scores) { /* the AUC of the calibrated probabilities; JSD / ln 2 */
                float *pf = malloc(cnt[2] * sizeof *pf);
                if (!pf) rc = base_error(BASE_ENOMEM, "classifier: out of memory");
                for (size_t i = 0; pf && i < cnt[2]; i++) pf[i] = (float)p[i];
                if (pf) r->auc = eval_auc(pf, lt, cnt[2]), r->jsd = eval_jsd(p, lt, cnt[2]) / log(2.0);
                free(pf);
            } else {
                r->auc = eval_auc(s, lt, cnt[2]);
                r->jsd = eval_jsd(p, lt, cnt[2]);
            }
            eval_isotonic_free(&cal);
        }
        free(lt), free(p);
    }
    free(perm), free(s), free(best);
    return rc;
}

int eval_cls_run(const layer_ctx_t *ctx, float *X, const uint16_t *Xh, const unsigned char *y, const unsigned char *split, size_t n,
                int D, const eval_cls_opts_t *o, eval_cls_result_t *r)
{
    memset(r, 0, sizeof *r);
    if (!X == !Xh || (o->standardise && !X))
        return base_error(BASE_EINVAL, "classifier: inputs in f32 or (without standardising) bf16, one of them");
    size_t cnt[3] = {0, 0, 0}, *idx[3];
    for (size_t i = 0; i < n; i++) cnt[split[i]]++;
    if (cnt[0] < 1 || cnt[1] < 2 || cnt[2] < 2)
        return base_error(BASE_EINVAL, "classifier: %zu/%zu/%zu train/test/validation samples (need 1/2/2)", cnt[0],
                          cnt[1], cnt[2]);
    for (int k = 0; k < 3; k++) idx[k] = malloc(cnt[k] * sizeof(size_t)), cnt[k] = 0;
    if (!idx[0] || !idx[1] || !idx[2]) {
        for (int k = 0; k < 3; k++) free(idx[k]);
        return base_error(BASE_ENOMEM, "classifier: out of memory");
    }
    for (size_t i = 0; i < n; i++) idx[split[i]][cnt[split[i]]++] = i;
    net_t t = {.B = o->batch, .D = D, .X = X, .Xh = Xh};
    int rc = o->standardise ? standardise(X, idx[0], cnt[0], n, D) : BASE_OK;
    layer_mlp_cfg_t mc = {.B = t.B, .in = D, .n = o->n_hidden, .n_out = 1, .act = {LAYER_ACT_LEAKY_RELU, o->slope},
                          .torch_init = o->torch_init};
    for (int i = 0; i < o->n_hidden && i < LAYER_MLP_MAX; i++) mc.w[i] = o->hidden[i];
    if (rc == BASE_OK) rc = layer_arena_init(&t.A, layer_mlp_arena_size(&mc));
    if (rc == BASE_OK) rc = layer_mlp_init(&t.m, ctx, &t.A, &mc);
    if (rc == BASE_OK) {
        base_rng_t ri;
        base_rng_init(&ri, o->seed, BASE_STREAM_CLS_INIT);
        layer_mlp_init_params(&t.m, &ri);
        t.xb = malloc((size_t)t.B * D * sizeof(float));
        t.yb = malloc((size_t)t.B * sizeof(float));
        t.db = malloc((size_t)t.B * sizeof(float));
        rc = t.xb && t.yb && t.db ? fit(&t, y, idx, cnt, o, r) : base_error(BASE_ENOMEM, "classifier: out of memory");
    }
    layer_mlp_free(&t.m);
    layer_arena_free(&t.A);
    free(t.xb), free(t.yb), free(t.db);
    for (int k = 0; k < 3; k++) free(idx[k]);
    return rc;
}
