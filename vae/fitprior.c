/* vae/fitprior.c: fitting the learned prior of a model (see fitprior.h). */
#include "vae/fitprior.h"

#include "base/clock.h"
#include "base/rng.h"
#include "base/status.h"
#include "base/streams.h"
#include "vae/encode.h"
#include "vae/modelio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TRAIN 50000 /* showers the mixture is fitted on */
#define MAX_VAL 20000   /* held-out showers its fit is measured on */
#define EM_ITERS 80
#define READ_ROWS 256
#define ROWS_PER_BIN 3000 /* showers per energy bin of the marginal flow */

/* Y: (n, D) features of up to cap showers of loader L (one fixed shuffle, epoch 0): the
 * posterior draw z = mu + sigma eps of each and its layer energies. Allocated here. */
static int features(vae_infer_t *q, const vae_prior_t *p, io_loader_t *L, size_t cap, uint64_t seed, float **Y,
                    size_t *n)
{
    const vae_config_t *c = &q->cfg;
    const int B = READ_ROWS < q->max_n ? READ_ROWS : q->max_n, Z = c->Z, D = p->D;
    const size_t want = L->n_part < cap ? L->n_part : cap;
    size_t k = 0;
    float *E = malloc((size_t)B * sizeof(float)), *A = malloc((size_t)B * sizeof(float));
    float *X = malloc((size_t)B * c->V * sizeof(float));
    float *mu = malloc((size_t)B * Z * sizeof(float)), *sg = malloc((size_t)B * Z * sizeof(float));
    *Y = malloc(want * D * sizeof(float));
    int rc = E && A && X && mu && sg && *Y ? BASE_OK : base_error(BASE_ENOMEM, "prior: out of memory for %zu showers", want);
    if (rc == BASE_OK) rc = io_loader_epoch(L, 0);
    int got = 0;
    while (rc == BASE_OK && k < want && (rc = io_loader_next(L, B, E, A, X, &got)) == BASE_OK && got > 0) {
        int m = (size_t)got < want - k ? got : (int)(want - k);
        rc = vae_encode_showers(q, m, E, A, X, 0, mu, sg, NULL);
        for (int i = 0; i < m && rc == BASE_OK; i++, k++) {
            float eps[4096], jit[PHYS_MAX_LAYERS], *z = mu + (size_t)i * Z;
            base_rng_t g;
            base_rng_init(&g, seed, BASE_STREAM_PRIOR_FIT | k);
            base_rng_normal(&g, eps, (size_t)Z);
            base_rng_uniform(&g, jit, (size_t)p->L); /* dequantisation of empty layers */
            for (int j = 0; j < Z; j++) z[j] += sg[(size_t)i * Z + j] * eps[j]; /* z = mu + sigma eps */
            vae_prior_features(p, c->e_min_mev, c->e_max_mev, E[i], A[i], z, X + (size_t)i * c->V, jit, *Y + k * D);
        }
    }
    free(E), free(A), free(X), free(mu), free(sg);
    *n = k;
    return rc;
}

/* The marginal flow on features Y: (n, D), with the band [-ln 2, 0) of the empty layers on
 * the layer coordinates (vae/prior.h). */
static int fit_flow(vae_prior_t *p, const float *Y, size_t n)
{
    float lo[PHYS_MAX_LAYERS + 2 + 4096] = {0};
    for (int l = 0; l < p->L; l++) lo[p->Z + l] = (float)-log(2.0);
    return vae_marg_fit(&p->marg, Y, n, p->D, p->D - p->C, lo, ROWS_PER_BIN);
}

/* Zv: (n, Z) a copy of the latent draws of rows Y (before the flow). */
static int keep_z(const vae_prior_t *p, const float *Y, size_t n, float **Zv)
{
    *Zv = malloc((n ? n : 1) * (size_t)p->Z * sizeof(float));
    if (!*Zv) return base_error(BASE_ENOMEM, "prior: out of memory");
    for (size_t i = 0; i < n; i++) memcpy(*Zv + i * p->Z, Y + i * p->D + p->C, (size_t)p->Z * sizeof(float));
    return BASE_OK;
}

/* Rows Y through the prior's marginal flow, in place; j: the mean ln Jacobian over the
 * latent coordinates ([0]) and over all ([1]). */
static int flow_forward(const vae_prior_t *p, float *Y, size_t n, double *j)
{
    double *ld = malloc((n ? n : 1) * 2 * sizeof(double));
    if (!ld) return base_error(BASE_ENOMEM, "prior: out of memory");
    vae_marg_forward(&p->marg, Y, n, p->D, p->Z, ld);
    j[0] = j[1] = 0;
    for (size_t i = 0; i < n; i++) j[0] += ld[2 * i], j[1] += ld[2 * i + 1];
    if (n) j[0] /= (double)n, j[1] /= (double)n;
    free(ld);
    return BASE_OK;
}

/* The held-out report: ln p(z, energies | E) on both parts, and ln p(z | E) of the held-out
 * draws under the prior and under N(0, I). */
static void report(const vae_prior_t *p, const float *Yt, size_t nt, const float *Yv, size_t nv, const double *jt,
                   const double *jv, const float *Zv, double secs, const base_monitor_t *mon)
{
    double ct[2], cv[2], std = 0;
    vae_prior_loglik(p, Yt, nt, ct);
    vae_prior_loglik(p, Yv, nv, cv);
    for (int i = 0; i < 2; i++) ct[i] += jt[1 - i], cv[i] += jv[1 - i]; /* + ln Jacobian of the flow */
    for (size_t i = 0; i < nv; i++)
        for (int j = 0; j < p->Z; j++) {
            double z = Zv[i * p->Z + j];
            std += -0.5 * (z * z + 1.8378770664093453);
        }
    base_monitor_say(mon, BASE_MSG_INFO,
                     "learned prior: %d components on %zu showers in %.0f s; ln p(z, energies | E) per shower %.2f "
                     "training, %.2f held out (%zu showers); ln p(z | E) held out %.2f, under N(0, I) %.2f",
                     p->K, nt, secs, ct[0], cv[0], nv, cv[1], nv ? std / (double)nv : 0.0);
}

int vae_fit_prior_loaders(const char *model, const char *out, const layer_ctx_t *ctx, io_loader_t *tr, io_loader_t *va,
                          int components, int flow, uint64_t seed, const base_monitor_t *mon)
{
    vae_model_t m;
    phys_geometry_t g;
    vae_infer_t q;
    float *Yt = NULL, *Yv = NULL;
    size_t nt = 0, nv = 0;
    BASE_TRY(vae_model_load(&m, &g, model, ctx, 0, NULL));
    vae_prior_free(&m.prior); /* a refit replaces a prior the model has */
    const vae_config_t *c = &m.cfg;
    int rc = vae_infer_init(&q, &m, ctx, 0, LAYER_F32);
    if (rc == BASE_OK)
        rc = vae_prior_init(&m.prior, components, vae_config_prior_conds(c), c->Z, &g, c->threshold_mev > 0 ? c->threshold_mev : 1e-3);
    if (rc == BASE_OK) m.prior.anchored = flow; /* before the features: their layer coordinates */
    if (rc == BASE_OK) rc = features(&q, &m.prior, tr, MAX_TRAIN, seed, &Yt, &nt);
    if (rc == BASE_OK) rc = features(&q, &m.prior, va, MAX_VAL, seed, &Yv, &nv);
    double t0 = base_now();
    if (rc == BASE_OK && !flow) /* the features were computed with p = 0 (ln s): choose the powers, apply them */
        rc = vae_prior_fit_powers(&m.prior, Yt, nt, c->e_min_mev, c->e_max_mev);
    if (rc == BASE_OK) {
        vae_prior_apply_powers(&m.prior, Yt, nt);
        vae_prior_apply_powers(&m.prior, Yv, nv);
    }
    /* the marginal flow, then the mixture on its normal scores; Jacobians and the held-out z
     * kept for the report */
    double jt[2] = {0, 0}, jv[2] = {0, 0};
    float *Zv = NULL;
    if (rc == BASE_OK && flow) rc = fit_flow(&m.prior, Yt, nt);
    if (rc == BASE_OK) rc = keep_z(&m.prior, Yv, nv, &Zv);
    if (rc == BASE_OK) rc = flow_forward(&m.prior, Yt, nt, jt);
    if (rc == BASE_OK) rc = flow_forward(&m.prior, Yv, nv, jv);
    if (rc == BASE_OK) rc = vae_prior_fit(&m.prior, Yt, nt, EM_ITERS, seed, mon, NULL);
    if (rc == BASE_OK) {
        report(&m.prior, Yt, nt, Yv, nv, jt, jv, Zv, base_now() - t0, mon);
        rc = vae_model_save(&m, &g, out, 1, NULL);
    }
    free(Yt), free(Yv), free(Zv);
    vae_infer_free(&q);
    vae_model_free(&m);
    return rc;
}

int vae_fit_prior(const vae_fit_prior_opts_t *o)
{
    const char *out = o->out ? o->out : o->model;
    if (o->out && !o->force && access(o->out, F_OK) == 0)
        return base_error(BASE_EEXIST, "%s: exists (use --force to replace it)", o->out);
    layer_ctx_t ctx;
    vae_model_t probe;
    phys_geometry_t g;
    io_dataset_t d;
    io_loader_t tr, va;
    BASE_TRY(layer_ctx_init(&ctx));
    int rc = vae_model_load(&probe, &g, o->model, &ctx, 0, NULL), K = 12;
    if (rc == BASE_OK) {
        K = o->components > 0 ? o->components : probe.cfg.prior_k > 0 ? probe.cfg.prior_k : 12;
        vae_model_free(&probe);
        rc = io_dataset_open(&d, o->data, &g);
    }
    if (rc == BASE_OK) {
        double f = o->val_fraction > 0 ? o->val_fraction : 0.1;
        memset(&tr, 0, sizeof tr), memset(&va, 0, sizeof va);
        rc = io_loader_init(&tr, &d, IO_PART_TRAIN, f, o->seed, 1, 0);
        if (rc == BASE_OK) rc = io_loader_init(&va, &d, IO_PART_VAL, f, o->seed, 0, 0);
        if (rc == BASE_OK) rc = vae_fit_prior_loaders(o->model, out, &ctx, &tr, &va, K, !o->no_flow, o->seed, o->monitor);
        io_loader_free(&tr);
        io_loader_free(&va);
        io_dataset_close(&d);
    }
    layer_ctx_free(&ctx);
    return rc;
}
