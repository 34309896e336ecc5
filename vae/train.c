/* vae/train.c: the training loop (see train.h). */
#include "vae/train.h"
#include "io/atomic.h"

#include "io/loader.h"
#include "layers/ctx.h"
#include "layers/optim.h"
#include "layers/schedule.h"
#include "vae/history.h"
#include "base/status.h"
#include "vae/fitprior.h"
#include "vae/lik.h"
#include "vae/modelio.h"
#include "base/clock.h"
#include "base/monitor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const vae_train_opts_t *o;
    layer_ctx_t ctx;
    io_dataset_t data;
    io_loader_t *tr, *va; /* this process's data streams s0 .. s0 + ns - 1 of S (training, validation) */
    int S, s0, ns;
    size_t n_train, n_val; /* rows of all streams */
    vae_model_t m;
    phys_geometry_t geo;
    vae_train_state_t st;
    layer_lr_schedule_t sched;
    int64_t steps_per_epoch;
    char ckpt[1100], hist[1100]; /* OUTPUT.ckpt, OUTPUT.history.csv */
    double ep_elbo, ep_recon, ep_kl; /* sums over this epoch's batches */
    int64_t ep_n;
    float *E, *A, *X; /* one batch: energies, angles, showers */
    int have_best;   /* the output holds the best model so far */
    double ar_secs;  /* time in the all-reduce (data parallelism) */
    int64_t ar_steps;
    int interrupted; /* *o->cancel was seen */
} run_t;

/* Data parallelism: the validation sums of the ranks (each took every N-th batch) added up:
 * rec, kl, n, then kl_dim (Z) and the Welford states (mean, m2) of mu combined through the
 * sums n mean and m2 + n mean^2 (Chan et al.'s pairwise update in closed form). */
static int reduce_validation(run_t *r, double *rec, double *kl, size_t *n, double *kl_dim, double *mean, double *m2)
{
    const int Z = r->m.cfg.Z;
    const vae_comm_t *k = r->o->comm;
    double *b = malloc((3 + 3 * (size_t)Z) * sizeof *b);
    if (!b) return base_error(BASE_ENOMEM, "out of memory");
    b[0] = *rec, b[1] = *kl, b[2] = (double)*n;
    for (int j = 0; j < Z; j++)
        b[3 + j] = kl_dim[j], b[3 + Z + j] = (double)*n * mean[j], b[3 + 2 * Z + j] = m2[j] + (double)*n * mean[j] * mean[j];
    int rc = k->sum_f64(k->ctx, b, 3 + 3 * (size_t)Z);
    if (rc == BASE_OK) {
        *rec = b[0], *kl = b[1], *n = (size_t)b[2];
        for (int j = 0; j < Z && *n > 0; j++) {
            kl_dim[j] = b[3 + j];
            mean[j] = b[3 + Z + j] / (double)*n;
            m2[j] = fmax(b[3 + 2 * Z + j] - (double)*n * mean[j] * mean[j], 0.0);
        }
    }
    free(b);
    return rc;
}

static int parallel(const run_t *r) { return r->o->comm && r->o->comm->size > 1; }

/* Validation sums: reconstruction and KL over showers, KL per dimension, Welford states of mu. */
typedef struct {
    double rec, kl;
    size_t n;
    double *kl_dim, *mean, *m2; /* (Z) each */
    float *mu;                  /* (B, Z) scratch */
} val_sums_t;

/* Data stream s0 + j's validation rows into a: in file order, in batches of the model's B;
 * shower i of stream s draws the noise of index s 2^40 + i (the same for any number of
 * processes). */
static int validate_stream(run_t *r, int j, val_sums_t *a)
{
    vae_model_t *m = &r->m;
    const int Z = m->cfg.Z;
    int got, rc;
    io_loader_epoch(&r->va[j], 0);
    uint64_t row = (uint64_t)(r->s0 + j) << 40;
    while ((rc = io_loader_next(&r->va[j], m->B, r->E, r->A, r->X, &got)) == BASE_OK && got > 0) {
        vae_terms_t bt;
        BASE_TRY(vae_model_eval(m, got, r->E, r->A, r->X, r->st.seed ^ 0x7A11D, row, &bt, a->kl_dim, a->mu));
        row += (uint64_t)got;
        a->rec += bt.recon * got;
        a->kl += bt.kl * got;
        for (int i = 0; i < got; i++) {
            a->n++;
            for (int u = 0; u < Z; u++) {
                double d = a->mu[(size_t)i * Z + u] - a->mean[u];
                a->mean[u] += d / a->n;
                a->m2[u] += d * (a->mu[(size_t)i * Z + u] - a->mean[u]);
            }
        }
    }
    return rc;
}

/* Validation: ELBO terms, KL per dimension, active units (Welford variance of mu over showers)
 * over this process's data streams; with N ranks the sums are added up. */
static int validate(run_t *r, vae_terms_t *t, double *kl_dim, int *active)
{
    vae_model_t *m = &r->m;
    const int Z = m->cfg.Z;
    double *mean = calloc((size_t)Z, sizeof(double)), *m2 = calloc((size_t)Z, sizeof(double));
    float *mu = malloc((size_t)m->B * Z * sizeof(float));
    if (!mean || !m2 || !mu) {
        free(mean), free(m2), free(mu);
        return base_error(BASE_ENOMEM, "out of memory");
    }
    memset(kl_dim, 0, (size_t)Z * sizeof(double));
    val_sums_t a = {0, 0, 0, kl_dim, mean, m2, mu};
    int rc = BASE_OK;
    for (int j = 0; j < r->ns && rc == BASE_OK; j++) rc = validate_stream(r, j, &a);
    double rec = a.rec, kl = a.kl;
    size_t n = a.n;
    if (rc == BASE_OK && parallel(r)) rc = reduce_validation(r, &rec, &kl, &n, kl_dim, mean, m2);
    *active = 0;
    for (int j = 0; j < Z && n > 1; j++) {
        kl_dim[j] /= n;
        *active += m2[j] / n > 0.01;
    }
    free(mean), free(m2), free(mu);
    if (rc < 0) return rc;
    if (n == 0) return base_error(BASE_EINVAL, "%s: the validation part is empty (raise --val-fraction)", r->o->data);
    t->recon = rec / n;
    t->kl = kl / n;
    t->elbo = -(t->recon + t->kl);
    return BASE_OK;
}

static int lead(const run_t *r) { return !r->o->comm || r->o->comm->rank == 0; }

static int checkpoint(run_t *r)
{
    if (parallel(r)) { /* each rank holds the Adam moments of its block (update_sharded) */
        const vae_comm_t *k = r->o->comm;
        BASE_TRY(k->all_gather_f32(k->ctx, r->m.A.m, r->m.A.n));
        BASE_TRY(k->all_gather_f32(k->ctx, r->m.A.v, r->m.A.n));
    }
    if (!lead(r)) return BASE_OK; /* rank 0 writes */
    return vae_model_save(&r->m, &r->geo, r->ckpt, 1, &r->st);
}

/* Decoder output biases at the data's marginal statistics (vae_lik_init_bias), from about
 * 2000 showers in whole read blocks spread over the file (Par04 files are sorted by energy):
 * training starts from a sensible mean shower. */
static int init_output_bias(run_t *r)
{
    const vae_config_t *c = &r->m.cfg;
    const size_t V = (size_t)c->V, R = r->data.block_rows, nblk = (r->data.n + R - 1) / R;
    size_t want = (2000 + R - 1) / R, take = want < nblk ? want : nblk, n = 0;
    float *E = malloc(take * R * sizeof *E), *X = malloc(take * R * V * sizeof *X);
    int rc = E && X ? BASE_OK : base_error(BASE_ENOMEM, "out of memory");
    for (size_t k = 0; k < take && rc == BASE_OK; k++) {
        size_t first = (k * nblk / take) * R, cnt = r->data.n - first < R ? r->data.n - first : R;
        rc = io_dataset_read(&r->data, first, cnt, E + n, X + n * V);
        n += cnt;
    }
    if (rc == BASE_OK && c->lik == VAE_LIK_HURDLE && c->hit_power_fit) {
        r->m.cfg.hit_power = vae_lik_fit_hit_power(c, (int)n, X, E);
        base_monitor_say(r->o->monitor, BASE_MSG_INFO, "hit energies modelled as ((x/thr)^p - 1)/p with p = %.3f "
                         "(Box-Cox profile likelihood on %zu showers)", c->hit_power, n);
    }
    if (rc == BASE_OK) vae_lik_init_bias(c, (int)n, X, E, layer_dense_b(&r->m.dec.head));
    free(E), free(X);
    return rc;
}

/* The conditions the data asks for: its angle range (the model's angle condition is added when
 * the angles vary) and its material (SiW unless the file says SciPb). */
static void condition_on_data(run_t *r, vae_config_t *c)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < r->data.n; i++) lo = fmin(lo, r->data.angles[i]), hi = fmax(hi, r->data.angles[i]);
    c->angle_min = lo, c->angle_max = hi;
    if (hi > lo && !(c->conditions & VAE_COND_ANGLE)) {
        c->conditions |= VAE_COND_ANGLE;
        base_monitor_say(r->o->monitor, BASE_MSG_INFO, "%s: incident angles %g to %g deg: the model is conditioned on "
                         "the angle too", r->o->data, lo, hi);
    }
    snprintf(c->material, sizeof c->material, "%s", r->data.material == IO_MATERIAL_SCIPB ? "SciPb" : "SiW");
}

static int ranks(const run_t *r) { return r->o->comm ? r->o->comm->size : 1; }

/* Data parallelism: the global batch B divides into equal shares, S streams into N ranks. */
static int check_share(const run_t *r, int B, int S)
{
    if (B % ranks(r) != 0 || B / ranks(r) < 2)
        return base_error(BASE_EINVAL, "batch %d does not split into %d equal shares of at least 2 rows (--batch: the "
                          "global batch)", B, ranks(r));
    if (S < 1 || S % ranks(r) != 0 || B % S != 0)
        return base_error(BASE_EINVAL, "%d data streams do not split into %d ranks and batch %d into the streams (the "
                          "ranks must divide --data-streams, and it the batch)", S, ranks(r), B);
    return BASE_OK;
}

/* This process's data streams: loaders over their blocks, the epoch's length from all S
 * streams (each gives B/S rows per batch; the shortest ends the epoch), and the data in memory
 * when it fits (only these streams' blocks). */
static int setup_streams(run_t *r)
{
    const vae_train_opts_t *o = r->o;
    const int B = r->m.cfg.batch, S = r->S, k = o->comm ? o->comm->rank : 0;
    r->ns = S / ranks(r), r->s0 = k * r->ns;
    r->tr = calloc((size_t)r->ns, sizeof *r->tr), r->va = calloc((size_t)r->ns, sizeof *r->va);
    if (!r->tr || !r->va) return base_error(BASE_ENOMEM, "out of memory");
    for (int j = 0; j < r->ns; j++) {
        BASE_TRY(io_loader_init_stream(&r->tr[j], &r->data, IO_PART_TRAIN, o->val_fraction, r->st.seed, 1,
                                       ((size_t)256 << 20) / (size_t)r->ns, (size_t)S, (size_t)(r->s0 + j)));
        BASE_TRY(io_loader_init_stream(&r->va[j], &r->data, IO_PART_VAL, o->val_fraction, r->st.seed, 0, 0, (size_t)S,
                                       (size_t)(r->s0 + j)));
    }
    r->steps_per_epoch = INT64_MAX;
    for (int s = 0; s < S; s++) {
        size_t t = io_loader_part_rows(&r->data, IO_PART_TRAIN, o->val_fraction, r->st.seed, (size_t)S, (size_t)s);
        r->n_train += t;
        r->n_val += io_loader_part_rows(&r->data, IO_PART_VAL, o->val_fraction, r->st.seed, (size_t)S, (size_t)s);
        if ((int64_t)(t / (size_t)(B / S)) < r->steps_per_epoch) r->steps_per_epoch = (int64_t)(t / (size_t)(B / S));
    }
    if (r->steps_per_epoch < 1)
        return base_error(BASE_EINVAL, "%s: %zu training showers, fewer than one batch of %d%s", o->data, r->n_train, B,
                          S > 1 ? " in each data stream" : "");
    if (S > 1)
        base_monitor_say(o->monitor, BASE_MSG_INFO, "%d data streams (%d rows of each per batch)%s", S, B / S,
                         ranks(r) > 1 ? ": each rank reads and holds only its streams' row blocks of the file" : "");
    /* the data in memory when it fits: inflated once instead of every epoch (after every check
     * of the options and the model, so that a bad one fails before any reading) */
    const size_t budget = o->data_mem_bytes ? o->data_mem_bytes : (size_t)4096 << 20;
    int cached = io_dataset_cache_streams(&r->data, budget, (size_t)S, (size_t)r->s0, (size_t)(r->s0 + r->ns), o->monitor);
    if (cached < 0) return cached;
    if (!cached)
        base_monitor_say(o->monitor, BASE_MSG_INFO, "%s: %.0f MB of showers exceed --data-memory %zu MB: read from the file every epoch",
                         o->data, (double)r->data.n * r->data.V * 4 / 1048576 * r->ns / S, budget >> 20);
    for (int j = 0; j < r->ns; j++) io_loader_epoch(&r->tr[j], 0), io_loader_epoch(&r->va[j], 0); /* see the cache */
    return BASE_OK;
}

/* This rank's rows of each global batch of B. */
static void set_share(run_t *r, int B)
{
    r->m.B_global = B;
    r->m.row0 = r->o->comm ? r->o->comm->rank * (B / ranks(r)) : 0;
}

/* Builds or restores the model; sets up loaders and schedule. */
static int setup(run_t *r)
{
    const vae_train_opts_t *o = r->o;
    phys_geometry_t g, *gp = NULL;
    if (o->geometry) {
        BASE_TRY(phys_geometry_from_arg(&g, o->geometry));
        gp = &g;
    }
    BASE_TRY(layer_ctx_init(&r->ctx));
    BASE_TRY(io_dataset_open(&r->data, o->data, gp));
    layer_adam_init(&r->st.adam, 0.f);
    if (o->resume) {
        /* the batch size of the checkpoint's config and its data streams */
        vae_model_t probe;
        phys_geometry_t pg;
        vae_train_state_t ps;
        BASE_TRY(vae_model_load(&probe, &pg, o->resume, &r->ctx, 0, &ps));
        int B = probe.cfg.batch;
        vae_model_free(&probe);
        r->S = o->data_streams > 0 ? o->data_streams : (int)ps.data_streams;
        BASE_TRY(check_share(r, B, r->S));
        BASE_TRY(vae_model_load(&r->m, &r->geo, o->resume, &r->ctx, B / ranks(r), &r->st));
        if (r->S != (int)r->st.data_streams)
            base_monitor_say(o->monitor, BASE_MSG_WARNING, "%d data streams where the checkpoint had %lld: the batches "
                             "differ from the interrupted run's from here on", r->S, (long long)r->st.data_streams);
        set_share(r, B);
        /* the output already holds the checkpoint's best model: only a better one replaces it */
        r->have_best = isfinite(r->st.best_val) && access(o->out, F_OK) == 0;
        /* explicit options override the checkpoint's (then the run is no longer bit-identical
         * to an uninterrupted one) */
        if (o->epochs > 0) r->m.cfg.epochs = o->epochs;
        if (o->lr > 0) r->m.cfg.lr = o->lr;
        if (r->m.cfg.V != r->data.V)
            return base_error(BASE_EINVAL, "%s: %d voxels, the checkpoint's model has %d", o->data, r->data.V, r->m.cfg.V);
    } else {
        vae_config_t c;
        r->geo = r->data.geo;
        BASE_TRY(vae_config_preset(&c, o->preset, r->geo.name, r->data.V, r->geo.threshold_mev));
        if (o->epochs > 0) c.epochs = o->epochs;
        if (o->batch > 0) c.batch = o->batch;
        if (o->lr > 0) c.lr = o->lr;
        if (o->dropout >= 0) c.dropout = o->dropout;
        if (o->keras_init) c.keras_init = 1;
        if (o->lr_constant) c.lr_constant = 1;
        if (o->set_free_bits) c.free_bits = o->free_bits;
        if (o->set_kl_warmup) c.kl_warmup_steps = (int)o->kl_warmup;
        double lo = INFINITY, hi = 0; /* the conditioning range is the data's */
        for (size_t i = 0; i < r->data.n; i++) lo = fmin(lo, r->data.energies[i]), hi = fmax(hi, r->data.energies[i]);
        c.e_min_mev = lo;
        c.e_max_mev = hi > lo ? hi : lo * 1.0001;
        condition_on_data(r, &c);
        r->S = o->data_streams > 0 ? o->data_streams : ranks(r);
        BASE_TRY(check_share(r, c.batch, r->S));
        BASE_TRY(vae_model_init(&r->m, &c, &r->ctx, c.batch / ranks(r)));
        set_share(r, c.batch);
        vae_model_init_params(&r->m, o->seed);
        if (!c.keras_init) BASE_TRY(init_output_bias(r)); /* Keras: zero biases */
        r->st.seed = o->seed;
        r->st.best_val = -INFINITY;
    }
    const vae_config_t *c = &r->m.cfg;
    r->st.data_streams = r->S;
    BASE_TRY(setup_streams(r));
    int64_t total = r->steps_per_epoch * c->epochs;
    r->sched = (layer_lr_schedule_t){.kind = c->lr_constant ? LAYER_LR_CONSTANT : LAYER_LR_COSINE, .base = c->lr,
                                     .warmup = c->lr_constant ? 0 : total / 50,
                                     .total = total, .min_lr = c->lr * 0.05f};
    r->E = malloc((size_t)c->batch * sizeof(float));
    r->A = malloc((size_t)c->batch * sizeof(float));
    r->X = malloc((size_t)c->batch * c->V * sizeof(float));
    if (!r->E || !r->A || !r->X) return base_error(BASE_ENOMEM, "out of memory for a batch");
    snprintf(r->ckpt, sizeof r->ckpt, "%s.ckpt", o->out);
    return BASE_OK;
}

static void teardown(run_t *r)
{
    for (int j = 0; j < r->ns && r->tr; j++) io_loader_free(&r->tr[j]);
    for (int j = 0; j < r->ns && r->va; j++) io_loader_free(&r->va[j]);
    free(r->tr), free(r->va);
    io_dataset_close(&r->data);
    vae_model_free(&r->m);
    layer_ctx_free(&r->ctx);
    free(r->E);
    free(r->A);
    free(r->X);
}

/* Data parallelism, the step's terms: summed over the ranks and divided by N (the global
 * batch's means), the batch norms' running statistics averaged. */
static int reduce_terms(run_t *r, vae_terms_t *t)
{
    const vae_comm_t *k = r->o->comm;
    vae_model_t *m = &r->m;
    const float inv = 1.f / (float)k->size;
    double terms[3] = {t->recon, t->kl, t->elbo};
    BASE_TRY(k->sum_f64(k->ctx, terms, 3));
    t->recon = terms[0] / k->size, t->kl = terms[1] / k->size, t->elbo = terms[2] / k->size;
    layer_mlp_t *nets[2] = {&m->enc, &m->dec};
    for (int n = 0; n < 2; n++)
        for (int i = 0; i < nets[n]->n; i++) {
            layer_mlp_block_t *b = &nets[n]->blk[i];
            if (!b->bn) continue;
            BASE_TRY(k->sum_f32(k->ctx, b->bnorm.run_mean, (size_t)b->width));
            BASE_TRY(k->sum_f32(k->ctx, b->bnorm.run_var, (size_t)b->width));
            for (int j = 0; j < b->width; j++) b->bnorm.run_mean[j] *= inv, b->bnorm.run_var[j] *= inv;
        }
    return BASE_OK;
}

/* The gradient step, one process: clip ||g|| to c->clip, then Adam on the whole arena.
 * Returns ||g|| (-1: not finite). */
static double update_all(run_t *r)
{
    vae_model_t *m = &r->m;
    double gn = layer_grad_clip(&m->A, m->cfg.clip);
    if (gn >= 0) layer_adam_step(&r->st.adam, &m->A, layer_lr_at(&r->sched, r->st.step));
    return gn;
}

/* The gradient step over N ranks with the optimiser sharded (ZeRO stage 1): rank k owns the
 * block [lo, hi) of the arena (vae_comm_block).
 *   G = sum_ranks g                   reduce-scatter: this rank's block only
 *   ||g_mean||^2 = sum_blocks sum_{i in block} (G_i / N)^2      one double per rank, summed
 *   s = (1/N) min(1, clip / ||g_mean||)                  (the mean and the clip in one scale)
 *   Adam on [lo, hi) with gradient s G                   (layer_adam_step_range)
 *   all-gather the parameters                            every rank holds the whole model
 * The Adam moments are valid on this rank's block only; checkpoints gather them first.
 * All-reduce time includes the reduce-scatter, the norm's sum and the all-gather. */
static int update_sharded(run_t *r, double *gn)
{
    const vae_comm_t *k = r->o->comm;
    vae_model_t *m = &r->m;
    size_t lo, hi;
    vae_comm_block(m->A.n, k->size, k->rank, &lo, &hi);
    double t0 = base_now();
    BASE_TRY(k->reduce_scatter_f32(k->ctx, m->A.grad, m->A.n));
    double ss = layer_grad_sumsq(&m->A, lo, hi);
    BASE_TRY(k->sum_f64(k->ctx, &ss, 1));
    r->ar_secs += base_now() - t0;
    *gn = isfinite(ss) ? sqrt(ss) / k->size : -1.0;
    if (*gn < 0) return BASE_OK;
    double s = 1.0 / k->size;
    if (m->cfg.clip > 0 && *gn > m->cfg.clip) s *= m->cfg.clip / *gn;
    layer_adam_step_range(&r->st.adam, &m->A, layer_lr_at(&r->sched, r->st.step), (float)s, lo, hi);
    t0 = base_now();
    BASE_TRY(k->all_gather_f32(k->ctx, m->A.param, m->A.n));
    r->ar_secs += base_now() - t0;
    return BASE_OK;
}

/* One optimiser step on the batch in r->E, r->X (this rank's rows of it); t receives the terms. */
static int step(run_t *r, vae_terms_t *t)
{
    vae_model_t *m = &r->m;
    const vae_config_t *c = &m->cfg;
    float beta = c->beta;
    if (c->kl_warmup_steps > 0 && r->st.step < c->kl_warmup_steps)
        beta *= (float)(r->st.step + 1) / (float)c->kl_warmup_steps;
    const size_t k0 = (size_t)m->row0;
    BASE_TRY(vae_model_train_step(m, r->E + k0, r->A + k0, r->X + k0 * (size_t)c->V, r->st.seed, (uint64_t)r->st.step,
                                  beta, c->free_bits, t));
    double gn;
    if (parallel(r)) {
        double t0 = base_now();
        BASE_TRY(reduce_terms(r, t));
        r->ar_secs += base_now() - t0, r->ar_steps++;
        BASE_TRY(update_sharded(r, &gn));
    } else
        gn = update_all(r);
    t->grad_norm = gn;
    if (!isfinite(t->recon) || !isfinite(t->kl) || gn < 0)
        return base_error(BASE_ENUM, "training diverged at step %lld (recon %g, KL %g, gradient %s); the last "
                           "checkpoint (%s) and best model (%s) are kept",
                           (long long)r->st.step, t->recon, t->kl, gn < 0 ? "NaN/Inf" : "finite", r->ckpt, r->o->out);
    r->st.step++;
    return BASE_OK;
}

static void report_epoch(run_t *r, const vae_terms_t *v, const double *kl_dim, int active, int prev_active,
                         int64_t epoch)
{
    const int Z = r->m.cfg.Z;
    const base_monitor_t *mon = r->o->monitor;
    char dims[1024];
    size_t n = 0;
    for (int j = 0; j < Z && n < sizeof dims; j++) n += (size_t)snprintf(dims + n, sizeof dims - n, " %.2f", kl_dim[j]);
    base_monitor_say(mon, BASE_MSG_INFO, "epoch %lld: validation ELBO %.2f (recon %.2f, KL %.2f nats), active units %d/%d\n  KL per dim:%s",
                     (long long)epoch + 1, v->elbo, v->recon, v->kl, active, Z, dims);
    if (active == 0 || v->kl < 0.1)
        base_monitor_say(mon, BASE_MSG_WARNING, "posterior collapse: the KL is %.3f nats and %d latent dimensions are active; the "
                         "decoder ignores z", v->kl, active);
    else if (active < (Z + 3) / 4)
        base_monitor_say(mon, BASE_MSG_WARNING, "only %d of %d latent dimensions are active (variational underfitting: the ELBO can "
                         "improve while the model forgets the data)", active, Z);
    if (prev_active >= 0 && active < prev_active)
        base_monitor_say(mon, BASE_MSG_WARNING, "active units dropped from %d to %d: the posterior is collapsing onto the prior in "
                         "some dimensions; compare reconstructions with prior samples", prev_active, active);
}

/* One epoch; returns 1 when a stop condition ended it early. */
static int epoch_loop(run_t *r, int64_t epoch, double t0, vae_terms_t *last)
{
    const vae_config_t *c = &r->m.cfg;
    const vae_train_opts_t *o = r->o;
    for (int j = 0; j < r->ns; j++) io_loader_epoch(&r->tr[j], (uint64_t)epoch);
    const int share = c->batch / r->S; /* rows of each stream in a batch */
    char label[32], extra[160];
    snprintf(label, sizeof label, "epoch %lld/%d", (long long)epoch + 1, c->epochs);
    base_monitor_begin(o->monitor, label, "batches", (size_t)r->steps_per_epoch);
    for (int64_t b = 0; b < r->steps_per_epoch; b++) {
        int got = share;
        for (int j = 0; j < r->ns && got == share; j++) { /* stream s fills rows s B/S .. (s + 1) B/S - 1 */
            const size_t at = (size_t)(r->s0 + j) * (size_t)share;
            BASE_TRY(io_loader_next(&r->tr[j], share, r->E + at, r->A + at, r->X + at * (size_t)c->V, &got));
        }
        if (got < share) break;
        if (b < r->st.batch_in_epoch) continue; /* resuming: batches already trained on */
        BASE_TRY(step(r, last));
        r->ep_elbo += last->elbo, r->ep_recon += last->recon, r->ep_kl += last->kl, r->ep_n++;
        r->st.batch_in_epoch = b + 1;
        double el = base_now() - t0;
        snprintf(extra, sizeof extra, "ELBO %.1f  recon %.1f  KL %.2f  %.0f showers/s", last->elbo, last->recon,
                 last->kl, el > 0 ? (double)r->st.step * c->batch / el : 0);
        base_monitor_update(o->monitor, (size_t)b + 1, extra);
        if (o->cancel && *o->cancel) r->interrupted = 1;
        int stop = (o->stop_at_step > 0 && r->st.step >= o->stop_at_step) ||
                   (o->max_minutes > 0 && el > o->max_minutes * 60) || r->interrupted;
        if (parallel(r)) { /* every rank stops after the same step (a signal or the clock may reach one first) */
            double v[2] = {stop, r->interrupted};
            BASE_TRY(o->comm->sum_f64(o->comm->ctx, v, 2));
            stop = v[0] > 0, r->interrupted = v[1] > 0;
        }
        if (stop || (o->ckpt_every > 0 && r->st.step % o->ckpt_every == 0)) BASE_TRY(checkpoint(r));
        if (stop) return 1;
    }
    base_monitor_end(o->monitor, (size_t)r->st.batch_in_epoch);
    return 0;
}

/* The learned prior on the best model, from the whole training and validation parts: this
 * process's loaders with one stream, else loaders over the whole file (reading what is not held). */
static int fit_prior(run_t *r)
{
    const vae_train_opts_t *o = r->o;
    const int K = r->m.cfg.prior_k;
    if (r->S == 1) return vae_fit_prior_loaders(o->out, o->out, &r->ctx, &r->tr[0], &r->va[0], K, 1, r->st.seed, o->monitor);
    io_loader_t tr = {0}, va = {0};
    int rc = io_loader_init(&tr, &r->data, IO_PART_TRAIN, o->val_fraction, r->st.seed, 1, 0);
    if (rc == BASE_OK) rc = io_loader_init(&va, &r->data, IO_PART_VAL, o->val_fraction, r->st.seed, 0, 0);
    if (rc == BASE_OK) rc = vae_fit_prior_loaders(o->out, o->out, &r->ctx, &tr, &va, K, 1, r->st.seed, o->monitor);
    io_loader_free(&tr), io_loader_free(&va);
    return rc;
}

static int run(run_t *r, vae_train_result_t *res)
{
    const vae_train_opts_t *o = r->o;
    const vae_config_t *c = &r->m.cfg;
    double t0 = base_now();
    int64_t step0 = r->st.step;
    vae_terms_t last = {0}, v = {0};
    double *kl_dim = calloc((size_t)c->Z, sizeof(double));
    int active = 0, prev_active = -1, stopped = 0;
    if (!kl_dim) return base_error(BASE_ENOMEM, "out of memory");
    int rc = BASE_OK;
    base_monitor_say(o->monitor, BASE_MSG_INFO, "%s, %zu training / %zu validation showers, batch %d, %lld steps per epoch, %zu parameters",
                c->name, r->n_train, r->n_val, c->batch, (long long)r->steps_per_epoch, r->m.A.n);
    for (int64_t e = r->st.epoch; e < c->epochs && rc == BASE_OK && !stopped; e++) {
        r->st.epoch = e;
        r->ep_elbo = r->ep_recon = r->ep_kl = 0, r->ep_n = 0;
        const double te = base_now();
        rc = epoch_loop(r, e, t0, &last);
        if (rc == 1) {
            stopped = 1;
            rc = BASE_OK;
            break;
        }
        if (rc < 0) break;
        rc = validate(r, &v, kl_dim, &active);
        if (rc < 0) break;
        report_epoch(r, &v, kl_dim, active, prev_active, e);
        prev_active = active;
        const double n = r->ep_n > 0 ? (double)r->ep_n : 1;
        vae_history_row_t h = {e + 1, r->st.step, base_now() - te, layer_lr_at(&r->sched, r->st.step - 1),
                               r->ep_elbo / n, r->ep_recon / n, r->ep_kl / n, v.elbo, v.recon, v.kl, active, c->Z,
                               kl_dim};
        if (lead(r)) rc = vae_history_append(r->hist, &h);
        if (rc < 0) break;
        r->st.epoch = e + 1;
        r->st.batch_in_epoch = 0;
        if (v.elbo > r->st.best_val || !r->have_best) { /* the best model on validation */
            r->st.best_val = fmax(v.elbo, r->st.best_val);
            if (lead(r)) rc = vae_model_save(&r->m, &r->geo, o->out, o->force || r->have_best || o->resume, NULL);
            r->have_best = 1;
        }
        if (rc == BASE_OK) rc = checkpoint(r);
    }
    double train_secs = base_now() - t0; /* the rate counts training steps, not the prior's fit */
    if (rc == BASE_OK && r->have_best && c->prior_k > 0 && !r->interrupted && lead(r))
        rc = fit_prior(r);
    double secs = base_now() - t0;
    if (rc == BASE_OK && res)
        *res = (vae_train_result_t){r->st.step, secs,
                                    train_secs > 0 ? (double)(r->st.step - step0) * c->batch / train_secs : 0,
                                    v.elbo, v.recon, v.kl, active, c->Z, r->interrupted};
    if (rc == BASE_OK && r->interrupted)
        base_monitor_say(o->monitor, BASE_MSG_WARNING, "interrupted at step %lld; checkpoint %s (continue with --resume %s)",
                         (long long)r->st.step, r->ckpt, r->ckpt);
    else if (rc == BASE_OK)
        base_monitor_say(o->monitor, BASE_MSG_INFO, "%s after %lld steps in %.0f s (%.0f showers/s); best validation ELBO %.2f in %s",
                stopped ? "stopped" : "done", (long long)r->st.step, secs,
                train_secs > 0 ? (double)(r->st.step - step0) * c->batch / train_secs : 0, r->st.best_val, o->out);
    if (rc == BASE_OK && r->ar_steps > 0)
        base_monitor_say(o->monitor, BASE_MSG_INFO, "%d ranks: communication %.3f ms per step for %zu floats (gradient reduce-scatter, parameter all-gather, sums; "
                         "the wait for the slowest rank included): %.1f%% of the training time",
                         o->comm->size, 1e3 * r->ar_secs / (double)r->ar_steps, r->m.A.n,
                         train_secs > 0 ? 100 * r->ar_secs / train_secs : 0);
    free(kl_dim);
    return rc;
}

int vae_train(const vae_train_opts_t *o, vae_train_result_t *res)
{
    run_t r;
    memset(&r, 0, sizeof r);
    r.o = o;
    char ck[1100];
    snprintf(ck, sizeof ck, "%s.ckpt", o->out);
    snprintf(r.hist, sizeof r.hist, "%s.history.csv", o->out);
    if (!o->force && !o->resume && access(r.hist, F_OK) == 0)
        return base_error(BASE_EEXIST, "%s: exists, the history of another run (use --force to replace it)", r.hist);
    if (!o->force && !o->resume && access(o->out, F_OK) == 0)
        return base_error(BASE_EEXIST, "%s: exists (use --force to replace it)", o->out);
    if (!o->force && !o->resume && access(ck, F_OK) == 0)
        return base_error(BASE_EEXIST, "%s: exists, a checkpoint of another run (continue it with --resume %s, "
                          "or --force to replace it)", ck, ck);
    BASE_TRY(io_atomic_check_dir(o->out));
    BASE_TRY(io_atomic_not_input(o->out, o->data));
    BASE_TRY(io_atomic_not_input(ck, o->data));
    if (o->resume) BASE_TRY(io_atomic_not_input(o->out, o->resume));
    if (!o->resume && o->force && lead(&r) && access(r.hist, F_OK) == 0 && unlink(r.hist) != 0)
        return base_error(BASE_EIO, "%s: cannot replace the old history", r.hist);
    int rc = setup(&r);
    if (rc == BASE_OK) rc = run(&r, res);
    teardown(&r);
    return rc;
}
