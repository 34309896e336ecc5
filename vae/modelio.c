/* vae/modelio.c: model and checkpoint files (see modelio.h). */
#include "vae/modelio.h"

#include "base/limits.h"
#include "base/status.h"
#include "io/h5.h"

#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TENSORS 128

/* The grid: n_r (L) and n_alpha (L) as int32, r_edges (L, PHYS_MAX_REDGES) as float. */
static int put_geometry(io_model_t *f, const phys_geometry_t *g)
{
    const size_t L = (size_t)g->n_layers;
    int32_t nr[PHYS_MAX_LAYERS], na[PHYS_MAX_LAYERS];
    float *e = calloc(L * PHYS_MAX_REDGES, sizeof *e);
    if (!e) return base_error(BASE_ENOMEM, "out of memory");
    for (size_t l = 0; l < L; l++) {
        nr[l] = g->n_r[l];
        na[l] = g->n_alpha[l];
        for (int i = 0; i <= g->n_r[l]; i++) e[l * PHYS_MAX_REDGES + i] = (float)g->r_edges[l][i];
    }
    io_tensor_t t = {"/geometry/r_edges", e, L, PHYS_MAX_REDGES};
    int rc = io_model_put_ints(f, "/geometry/n_r", nr, L);
    if (rc == BASE_OK) rc = io_model_put_ints(f, "/geometry/n_alpha", na, L);
    if (rc == BASE_OK) rc = io_model_put(f, &t);
    free(e);
    return rc;
}

/* Layer l of the stored grid: whole bin counts within the limits, edges finite, >= 0 and
 * increasing. */
static int check_layer(const io_model_t *f, size_t l, int32_t nr, int32_t na, const float *e)
{
    int ok = nr >= 0 && nr < PHYS_MAX_REDGES && na >= 0 && na <= BASE_MAX_ALPHA;
    for (int i = 0; ok && i <= (int)nr; i++) ok = isfinite(e[i]) && e[i] >= 0 && (i == 0 || e[i] > e[i - 1]);
    return ok ? BASE_OK
              : base_error(BASE_EIO, "%s: bad /geometry (layer %zu: %d radial x %d angular bins, or its edges are not "
                           "increasing numbers >= 0)", f->path, l, (int)nr, (int)na);
}

/* The grid stored in the model, checked: layers and bins within the limits (base/limits.h),
 * its voxel count the config's, and equal to the preset when the config names one. */
static int get_geometry(io_model_t *f, phys_geometry_t *g, const vae_config_t *c)
{
    phys_geometry_t preset;
    int is_preset = phys_geometry_preset(&preset, c->geometry) == BASE_OK;
    memset(g, 0, sizeof *g);
    if (is_preset) *g = preset;
    snprintf(g->name, sizeof g->name, "%s", c->geometry);
    hsize_t dims[2] = {0, 0};
    int rank = 0;
    hid_t ds = io_model_has(f, "/geometry/n_r") ? H5Dopen2(f->file, "/geometry/n_r", H5P_DEFAULT) : -1;
    if (ds < 0) return base_error(BASE_EIO, "%s: no /geometry in the model", f->path);
    hid_t ty = H5Dget_type(ds); /* int32 since integer grids, float32 before */
    H5T_class_t cls = ty >= 0 ? H5Tget_class(ty) : H5T_NO_CLASS;
    if (ty >= 0) H5Tclose(ty);
    int bad = (cls != H5T_INTEGER && cls != H5T_FLOAT) || io_h5_dims(ds, cls, 2, &rank, dims) < 0 || rank != 1;
    H5Dclose(ds);
    hsize_t L = dims[0];
    if (bad || L < 1 || L > PHYS_MAX_LAYERS)
        return base_error(BASE_EIO, "%s: /geometry/n_r must be a vector of 1 to %d layers", f->path, PHYS_MAX_LAYERS);
    int32_t nr[PHYS_MAX_LAYERS], na[PHYS_MAX_LAYERS];
    float *e = malloc(L * PHYS_MAX_REDGES * sizeof *e);
    io_tensor_t t = {"/geometry/r_edges", e, L, PHYS_MAX_REDGES};
    int rc = e ? BASE_OK : base_error(BASE_ENOMEM, "out of memory");
    if (rc == BASE_OK) rc = io_model_get_ints(f, "/geometry/n_r", nr, L);
    if (rc == BASE_OK) rc = io_model_get_ints(f, "/geometry/n_alpha", na, L);
    if (rc == BASE_OK) rc = io_model_get(f, &t);
    g->n_layers = (int)L;
    for (size_t l = 0; l < L && rc == BASE_OK; l++) {
        rc = check_layer(f, l, nr[l], na[l], e + l * PHYS_MAX_REDGES);
        if (rc < 0) break;
        g->n_r[l] = nr[l];
        g->n_alpha[l] = na[l];
        for (int i = 0; i <= g->n_r[l]; i++) g->r_edges[l][i] = e[l * PHYS_MAX_REDGES + i];
    }
    free(e);
    if (rc == BASE_OK && phys_geometry_set_offsets(g) < 0) {
        char why[256]; /* the message buffer is the one base_error writes */
        snprintf(why, sizeof why, "%s", base_last_error());
        rc = base_error(BASE_EIO, "%s: bad /geometry (%s)", f->path, why);
    }
    if (rc == BASE_OK && g->n_voxels != c->V)
        rc = base_error(BASE_EIO, "%s: geometry has %d voxels, the config %d", f->path, g->n_voxels, c->V);
    if (rc == BASE_OK && is_preset && !phys_geometry_same_binning(g, &preset))
        rc = base_error(BASE_EIO, "%s: the config names geometry %s but the stored grid differs from it", f->path,
                        c->geometry);
    if (rc == BASE_OK && g->threshold_mev == 0) g->threshold_mev = c->threshold_mev;
    return rc;
}

/* The prior's marginal flow (vae/marginal.h), when it has one: its bin count as the scalar
 * /state/prior_marginal_bins, /prior/marginal_centres (B), /prior/marginal_knots (B J, M),
 * /prior/marginal_band (J) and /prior/marginal_empty (B, J);
 * J must be the prior's D - C. Read: validated (finite, strictly increasing). */
static int marg_io(io_model_t *f, vae_marg_t *m, size_t J, int write)
{
    int64_t B = m->B;
    if (write && B == 0) return BASE_OK;
    if (!write && !io_model_has(f, "/prior/marginal_knots")) return BASE_OK;
    if (write) BASE_TRY(io_model_put_i64(f, "prior_marginal_bins", B));
    else {
        BASE_TRY(io_model_get_i64(f, "prior_marginal_bins", &B));
        if (B < 1 || B > VAE_MARG_MAX_BINS)
            return base_error(BASE_EIO, "marginal flow with %lld bins (1 .. %d)", (long long)B, VAE_MARG_MAX_BINS);
        BASE_TRY(vae_marg_init(m, (int)B, (int)J));
    }
    io_tensor_t t[4] = {{"/prior/marginal_centres", m->uc, (size_t)B, 0},
                        {"/prior/marginal_knots", m->q, (size_t)B * J, VAE_MARG_KNOTS},
                        {"/prior/marginal_band", m->lo, J, 0},
                        {"/prior/marginal_empty", m->f, (size_t)B, J}};
    int rc = BASE_OK;
    for (int i = 0; i < 4 && rc == BASE_OK; i++) rc = write ? io_model_put(f, &t[i]) : io_model_get(f, &t[i]);
    if (rc == BASE_OK && !write) rc = vae_marg_check(m);
    return rc;
}

/* The learned prior as float tensors: /prior/weights (K), /prior/means (K, D),
 * /prior/cholesky (K D, D) and /prior/powers (L + 1; absent in older files: all 0, ln);
 * write = 1 writes them, 0 reads them into p (allocated by the caller). */
static int prior_io(io_model_t *f, vae_prior_t *p, int write)
{
    const size_t K = (size_t)p->K, D = (size_t)p->D, L1 = (size_t)p->L + 1, n[3] = {K, K * D, K * D * D};
    double *src[3] = {p->pi, p->mu, p->chol};
    float *buf = malloc(n[2] * sizeof(float)), pw[PHYS_MAX_LAYERS + 1];
    if (!buf) return base_error(BASE_ENOMEM, "out of memory");
    io_tensor_t t[3] = {{"/prior/weights", buf, K, 0}, {"/prior/means", buf, K, D}, {"/prior/cholesky", buf, K * D, D}};
    io_tensor_t tp = {"/prior/powers", pw, L1, 0};
    int rc = BASE_OK;
    for (int i = 0; i < 3 && rc == BASE_OK; i++) {
        if (write) {
            for (size_t j = 0; j < n[i]; j++) buf[j] = (float)src[i][j];
            rc = io_model_put(f, &t[i]);
        } else {
            rc = io_model_get(f, &t[i]);
            for (size_t j = 0; j < n[i] && rc == BASE_OK; j++) src[i][j] = buf[j];
        }
    }
    free(buf);
    for (size_t l = 0; l < L1; l++) pw[l] = (float)p->power[l];
    if (rc == BASE_OK && write) rc = io_model_put(f, &tp);
    if (rc == BASE_OK && !write && io_model_has(f, "/prior/powers")) {
        rc = io_model_get(f, &tp);
        for (size_t l = 0; l < L1 && rc == BASE_OK; l++) {
            if (!(pw[l] >= 0 && pw[l] <= 1)) rc = base_error(BASE_EIO, "/prior/powers[%zu] = %g is not in [0, 1]", l, pw[l]);
            p->power[l] = pw[l];
        }
    }
    if (rc == BASE_OK) rc = marg_io(f, &p->marg, (size_t)(p->D - p->C), write);
    if (rc == BASE_OK && !write) p->anchored = p->marg.B > 0; /* the flow's coordinates (prior.h) */
    if (rc == BASE_OK && write && p->anchored != (p->marg.B > 0))
        rc = base_error(BASE_EINVAL, "prior: anchored coordinates without a marginal flow, or the reverse");
    if (rc == BASE_OK && !write) rc = vae_prior_prepare(p);
    if (rc < 0 && !write) {
        char why[300];
        snprintf(why, sizeof why, "%s", base_last_error());
        rc = base_error(BASE_EIO, "%s: bad learned prior (%s)", f->path, why);
    }
    return rc;
}

int vae_model_save(vae_model_t *m, const phys_geometry_t *g, const char *path, int force,
                   const vae_train_state_t *st)
{
    vae_config_t cfg = m->cfg; /* the stored prior decides the component count a loader expects */
    if (m->prior.K > 0) cfg.prior_k = m->prior.K;
    char *json = vae_config_to_json(&cfg);
    if (!json) return base_error(BASE_ENOMEM, "out of memory");
    io_model_t f;
    int rc = io_model_create(&f, path, force, json, VAE_PRODUCER);
    free(json);
    if (rc < 0) return rc;
    io_tensor_t t[MAX_TENSORS];
    int n = vae_model_tensors(m, t, MAX_TENSORS);
    if (n > MAX_TENSORS) rc = base_error(BASE_EINVAL, "model has more than %d tensors", MAX_TENSORS);
    for (int i = 0; i < n && rc == BASE_OK; i++) rc = io_model_put(&f, &t[i]);
    if (rc == BASE_OK) rc = put_geometry(&f, g);
    if (rc == BASE_OK && m->prior.K > 0) rc = prior_io(&f, &m->prior, 1);
    if (rc == BASE_OK && st) {
        rc = io_model_put_array(&f, "adam_m", m->A.m, m->A.n);
        if (rc == BASE_OK) rc = io_model_put_array(&f, "adam_v", m->A.v, m->A.n);
        int64_t iv[] = {st->adam.t, st->step, st->epoch, st->batch_in_epoch, (int64_t)st->seed, st->data_streams};
        const char *in[] = {"adam_t", "step", "epoch", "batch_in_epoch", "seed", "data_streams"};
        for (int i = 0; i < 6 && rc == BASE_OK; i++) rc = io_model_put_i64(&f, in[i], iv[i]);
        if (rc == BASE_OK) rc = io_model_put_f64(&f, "best_val", st->best_val);
    }
    if (rc < 0) {
        io_model_abort(&f);
        return rc;
    }
    return io_model_close(&f);
}

/* Refuses a config whose weights could not fit in the file (tensors are stored uncompressed),
 * before anything is allocated for them: a few edited bytes must not claim gigabytes. */
static int check_size(const io_model_t *f, const vae_config_t *c)
{
    struct stat st;
    double w = vae_config_n_weights(c);
    if (stat(f->path, &st) != 0) return base_error(BASE_EIO, "%s: %s", f->path, strerror(errno));
    if (w * sizeof(float) > (double)st.st_size)
        return base_error(BASE_EIO, "%s: the config declares %.0f weights, more than the file's %lld bytes hold",
                          f->path, w, (long long)st.st_size);
    return BASE_OK;
}

static int load_body(vae_model_t *m, phys_geometry_t *g, io_model_t *f, const layer_ctx_t *ctx, int B,
                     vae_train_state_t *st)
{
    vae_config_t c;
    BASE_TRY(vae_config_from_json(&c, f->config, f->path));
    BASE_TRY(get_geometry(f, g, &c));
    BASE_TRY(check_size(f, &c));
    BASE_TRY(vae_model_init(m, &c, ctx, B));
    io_tensor_t t[MAX_TENSORS];
    int n = vae_model_tensors(m, t, MAX_TENSORS);
    for (int i = 0; i < n && i < MAX_TENSORS; i++) BASE_TRY(io_model_get(f, &t[i]));
    if (c.prior_k > 0 && io_model_has(f, "/prior/weights")) { /* fitted after training */
        BASE_TRY(vae_prior_init(&m->prior, c.prior_k, vae_config_prior_conds(&c), c.Z, g, c.threshold_mev > 0 ? c.threshold_mev : 1e-3));
        BASE_TRY(prior_io(f, &m->prior, 0));
    }
    if (!st) return BASE_OK;
    if (!io_model_has(f, "/state/adam_m"))
        return base_error(BASE_EIO, "%s: a model file, not a checkpoint (no /state)", f->path);
    BASE_TRY(io_model_get_array(f, "adam_m", m->A.m, m->A.n));
    BASE_TRY(io_model_get_array(f, "adam_v", m->A.v, m->A.n));
    int64_t seed;
    BASE_TRY(io_model_get_i64(f, "adam_t", &st->adam.t));
    BASE_TRY(io_model_get_i64(f, "step", &st->step));
    BASE_TRY(io_model_get_i64(f, "epoch", &st->epoch));
    BASE_TRY(io_model_get_i64(f, "batch_in_epoch", &st->batch_in_epoch));
    BASE_TRY(io_model_get_i64(f, "seed", &seed));
    BASE_TRY(io_model_get_f64(f, "best_val", &st->best_val));
    st->data_streams = 1;
    if (io_model_has(f, "/state/data_streams")) BASE_TRY(io_model_get_i64(f, "data_streams", &st->data_streams));
    st->seed = (uint64_t)seed;
    if (!(st->adam.t >= 0 && st->adam.t <= BASE_MAX_STEP && st->step >= 0 && st->step <= BASE_MAX_STEP &&
          st->epoch >= 0 && st->epoch <= c.epochs && st->batch_in_epoch >= 0 && st->batch_in_epoch <= BASE_MAX_STEP &&
          st->adam.t == st->step && (isfinite(st->best_val) || st->best_val == -INFINITY) && st->data_streams >= 1 &&
          st->data_streams <= c.batch))
        return base_error(BASE_EIO, "%s: checkpoint state out of range (step %lld, Adam step %lld, epoch %lld of %d, "
                          "batch %lld, best %g, data streams %lld)", f->path, (long long)st->step, (long long)st->adam.t,
                          (long long)st->epoch, c.epochs, (long long)st->batch_in_epoch, st->best_val,
                          (long long)st->data_streams);
    return BASE_OK;
}

int vae_model_load(vae_model_t *m, phys_geometry_t *g, const char *path, const layer_ctx_t *ctx, int B,
                   vae_train_state_t *st)
{
    memset(m, 0, sizeof *m);
    io_model_t f;
    BASE_TRY(io_model_open(&f, path));
    int rc = load_body(m, g, &f, ctx, B, st);
    io_model_close(&f);
    if (rc < 0) vae_model_free(m);
    return rc;
}
