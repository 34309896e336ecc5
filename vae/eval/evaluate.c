/* vae/eval/evaluate.c: the evaluation report (see evaluate.h). */
#include "vae/eval/evaluate.h"
#include "base/streams.h"

#include "io/dataset.h"
#include "io/h5.h"
#include "vae/eval/report.h"
#include "vae/history.h"
#include "layers/ctx.h"
#include "base/rng.h"
#include "base/status.h"
#include "vae/eval/stats.h"
#include "physics/observables.h"
#include "vae/eval/classifier.h"
#include "vae/eval/distance.h"
#include "vae/eval/prdc.h"
#include "base/clock.h"
#include "base/monitor.h"
#include "io/atomic.h"
#include "base/bf16.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* The reference's largest layer and voxel energies: the upper edges of their log bins. */
typedef struct {
    double *emax; /* (L) */
    double vmax;
} ranges_t;

typedef struct {
    char name[48], xlabel[80];
    int logx, logy;
    eval_hist_t h[2]; /* 0 generated, 1 reference */
    eval_hist_t half[2]; /* the reference's even and odd showers */
    double sep, floor; /* separation; the noise floor: that of the reference's two halves */
} hpair_t;

typedef struct {
    const eval_opts_t *o;
    io_dataset_t d[2]; /* 0 generated, 1 reference */
    char hist[1100];   /* the generating model's training history, plotted ("": none) */
    phys_geometry_t geo;
    int V, L, nf, F;   /* voxels, layers with voxels, HLF features, classifier HL features */
    int *layer_of;     /* (L) geometry layer of each relevant layer */
    hpair_t *h;
    int nh;
    int k_disc;        /* first of the ds1 per-energy E_tot/E_inc histograms (0: none) */
    int k_dec;         /* first of the E_tot/E_inc histograms per decade of E_inc (other grids; 0: none);
                        * not in evaluate.py: left out of the mean and maximum separation */
    phys_obs_t obs[2];
    double *img[2];    /* (V) sums of voxel energies */
    float *hl;         /* (n0 + n1, F) high-level classifier inputs */
    float *ll;         /* (m0 + m1, V + 1) low-level classifier inputs in f32, or */
    uint16_t *llh;     /* the same in bf16, when f32 would exceed --cls-memory */
    size_t m[2], stride[2];
    int Fc, La;        /* the challenge's high-level features per shower; layers binned in alpha */
    double *cc[2];     /* (n_s, Fc) those features per sample (FPD, KPD) */
    float *vox[2];     /* (p_s, V) thresholded voxels of the first p_s showers (PRDC) */
    size_t p[2];
    double fpd[2], kpd[2]; /* value, error */
    int fpd_batches[2], kpd_batch; /* the batch sizes used (the challenge's: 10000-50000, 5000) */
    eval_prdc_t prdc;
    int have_dist, have_prdc;
    ranges_t R;
    char tmp[1100];
    /* Many processes (o->comm): this one streams the showers [lo, hi) of each sample; rank 0
     * (the root) holds every row of the per-shower arrays, the others only theirs: shower i of
     * sample s is row at_hl[s] + i of hl, at_row[s] + i of cc[s] and vox[s], and low-level
     * entry j is row at_ll[s] + j of ll / llh. One process: all showers, the root. */
    size_t lo[2], hi[2];
    ptrdiff_t at_hl[2], at_row[2], at_ll[2];
    int root;
} ev_t;

static void thresholded(float *x, size_t n, double thr)
{
    for (size_t k = 0; k < n; k++)
        if (x[k] < thr) x[k] = 0;
}

/* Streams every shower of sample s through fn(ev, s, index, E, x, features). */
typedef void (*visit_fn)(ev_t *e, int s, size_t i, float E, const float *x, const double *f);
static int stream(ev_t *e, int s, visit_fn fn, const char *label)
{
    io_dataset_t *d = &e->d[s];
    const size_t B = d->block_rows, V = (size_t)e->V;
    float *E = malloc(B * sizeof *E), *X = malloc(B * V * sizeof *X);
    double *f = malloc((size_t)e->nf * sizeof *f);
    if (!E || !X || !f) {
        free(E), free(X), free(f);
        return base_error(BASE_ENOMEM, "evaluate: out of memory");
    }
    base_monitor_begin(e->o->monitor, label, "showers", e->hi[s] - e->lo[s]);
    int rc = BASE_OK;
    for (size_t first = e->lo[s]; first < e->hi[s] && rc == BASE_OK; first += B) {
        size_t k = e->hi[s] - first < B ? e->hi[s] - first : B;
        rc = io_dataset_read(d, first, k, E, X);
        if (rc < 0) break;
        thresholded(X, k * V, e->geo.threshold_mev);
        for (size_t i = 0; i < k; i++) {
            phys_hlf_compute(&e->geo, X + i * V, f);
            fn(e, s, first + i, E[i], X + i * V, f);
        }
        base_monitor_update(e->o->monitor, first + k - e->lo[s], NULL);
    }
    if (rc == BASE_OK) base_monitor_end(e->o->monitor, e->hi[s] - e->lo[s]);
    free(E), free(X), free(f);
    return rc;
}

/* ---- pass 1: ranges from the reference (into e->R) ---- */

static void visit_ranges(ev_t *e, int s, size_t i, float E, const float *x, const double *f)
{
    (void)s, (void)i, (void)E;
    for (int j = 0; j < e->L; j++) e->R.emax[j] = fmax(e->R.emax[j], f[1 + PHYS_HLF_PER_LAYER * j]);
    for (int v = 0; v < e->V; v++) e->R.vmax = fmax(e->R.vmax, x[v]);
}

static int add_hist(ev_t *e, const char *name, const char *xl, int n, double lo, double hi, int logx, int logy)
{
    hpair_t *p = &e->h[e->nh++];
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->xlabel, sizeof p->xlabel, "%s", xl);
    p->logx = logx, p->logy = logy;
    if (logx && !(hi > lo)) hi = lo * 10;
    BASE_TRY(eval_hist_init(&p->h[0], n, lo, hi, logx));
    BASE_TRY(eval_hist_init(&p->half[0], n, lo, hi, logx));
    BASE_TRY(eval_hist_init(&p->half[1], n, lo, hi, logx));
    return eval_hist_init(&p->h[1], n, lo, hi, logx);
}

/* The challenge's ranges (code/evaluate_plotting_helper.py) for layer l of the named dataset:
 * centres in x/y, widths in x/y, centre in r, width in r (mm). ds2/ds3: [-30, 30], [0, 30],
 * [0, 42], [0, 20]; ds1: [-100, 100] ([-500, 500] in layers 12, 13), [0, 100] ([0, 400] in 12,
 * 13), [0, 500] ([0, 1500] in 12, 13, 14) for both r features. Other grids: the outer radius. */
static void ranges_of(const char *m, const phys_geometry_t *g, int l, double *ec, double *w, double *ecr, double *wr)
{
    if (!strcmp(m, "ds2") || !strcmp(m, "ds3")) {
        *ec = 30, *w = 30, *ecr = 42, *wr = 20;
    } else if (!strncmp(m, "ds1", 3)) {
        *ec = l == 12 || l == 13 ? 500 : 100;
        *w = l == 12 || l == 13 ? 400 : 100;
        *ecr = *wr = l >= 12 && l <= 14 ? 1500 : 500;
    } else {
        *ec = *w = *ecr = *wr = g->r_edges[l][g->n_r[l]];
    }
}

/* ds1's discrete energies (evaluate_plotting_helper.py plot_Etot_Einc_discrete): E_tot/E_inc
 * of the showers with E_inc in [2^(8+i), 2^(9+i)) MeV, i = 0..14, 20 bins on [0.4, 1.4]; for
 * photons from i = 4 (4.1 GeV) on [0.9, 1.1]. Named Etot_Einc_E<lower edge in MeV>. */
enum { DISC_N = 15, DISC_LOG2_FIRST = 8 };
static int make_disc_hists(ev_t *e, int photons)
{
    e->k_disc = e->nh;
    for (int i = 0; i < DISC_N; i++) {
        char n[48], xl[80];
        const double E = ldexp(1, DISC_LOG2_FIRST + i), narrow = photons && i > 3;
        snprintf(n, sizeof n, "Etot_Einc_E%.0f", E);
        snprintf(xl, sizeof xl, "E_tot / E_inc at E_inc = %.0f MeV", E);
        BASE_TRY(add_hist(e, n, xl, 20, narrow ? 0.9 : 0.4, narrow ? 1.1 : 1.4, 0, 0));
    }
    return BASE_OK;
}

/* E_tot/E_inc per decade of E_inc, 1-10, 10-100 and 100-1000 GeV (the top one up to 1.001 TeV):
 * the response and resolution change with energy, and one histogram over all energies hides
 * it. 100 bins on [0.5, 1.5] as Etot_Einc. */
enum { DEC_N = 3 };
static int make_decade_hists(ev_t *e)
{
    e->k_dec = e->nh;
    for (int i = 0; i < DEC_N; i++) {
        char n[48], xl[80];
        const double lo = pow(10, i), hi = pow(10, i + 1);
        snprintf(n, sizeof n, "Etot_Einc_%g-%gGeV", lo, hi);
        snprintf(xl, sizeof xl, "E_tot / E_inc for E_inc in %g-%g GeV", lo, hi);
        BASE_TRY(add_hist(e, n, xl, 100, 0.5, 1.5, 0, 0));
    }
    return BASE_OK;
}

/* Decade of E_inc (MeV) for make_decade_hists, or -1 outside 1 GeV - 1.001 TeV. */
static int decade_of(double E)
{
    int d = (int)floor(log10(E * 1e-3));
    if (d == DEC_N && E <= 1.001e6) d = DEC_N - 1;
    return d >= 0 && d < DEC_N ? d : -1;
}

/* The per-layer features in observables.h's order: histogram name prefixes and labels. */
static const char *const FEAT[PHYS_HLF_PER_LAYER] = {"E_layer", "EC_x", "EC_y", "EC_r", "W_x", "W_y", "W_r", "sparsity"};
static const char *const FEAT_LABEL[PHYS_HLF_PER_LAYER] = {
    "energy in the layer [MeV]",   "centre of energy in x (eta) [mm]", "centre of energy in y (phi) [mm]",
    "centre of energy in r [mm]",  "width in x (eta) [mm]",            "width in y (phi) [mm]",
    "width in r [mm]",             "sparsity (empty fraction)"};

/* Histogram list: [E_tot/E_inc, voxel spectrum, then per layer: E, EC_x, EC_y, EC_r, W_x, W_y,
 * W_r, sparsity, for ds1 then E_tot/E_inc per incident energy (make_disc_hists)], binned as
 * the challenge bins them: E_tot/E_inc 100 bins on [0.5, 1.5]; layer
 * energies np.logspace(log10 thr, log10 max_ref, 40) and voxels (..., 50): 40 and 50 edges, so
 * 39 and 49 bins; centres and widths 100 bins on ranges_of; sparsity 20 bins on [0, 1]. Of
 * these, evaluate.py's hist mode runs E_tot/E_inc, the layer energies, the x/y centres and
 * widths and the voxels; the r features and sparsity are defined in its helper but not run. */
static int make_hists(ev_t *e)
{
    const double thr = e->geo.threshold_mev;
    const char *m = phys_geometry_match(&e->geo);
    e->h = calloc((size_t)(2 + PHYS_HLF_PER_LAYER * e->L + DISC_N + DEC_N), sizeof *e->h);
    if (!e->h) return base_error(BASE_ENOMEM, "evaluate: out of memory");
    BASE_TRY(add_hist(e, "Etot_Einc", "E_tot / E_inc", 100, 0.5, 1.5, 0, 0));
    BASE_TRY(add_hist(e, "voxel_energy", "voxel energy [MeV]", 49, thr, fmax(e->R.vmax, thr * 10), 1, 1));
    char n[48], xl[80];
    for (int j = 0; j < e->L; j++) {
        int l = e->layer_of[j];
        double ec, w, ecr, wr;
        ranges_of(m, &e->geo, l, &ec, &w, &ecr, &wr);
        snprintf(n, sizeof n, "%s%d", FEAT[0], l), snprintf(xl, sizeof xl, "energy in layer %d [MeV]", l);
        BASE_TRY(add_hist(e, n, xl, 39, thr, fmax(e->R.emax[j], thr * 10), 1, 1));
        const double lo[6] = {-ec, -ec, 0, 0, 0, 0}, hi[6] = {ec, ec, ecr, w, w, wr};
        for (int k = 1; k < PHYS_HLF_PER_LAYER; k++) { /* centres, widths (100 bins), sparsity (20) */
            snprintf(n, sizeof n, "%s%d", FEAT[k], l), snprintf(xl, sizeof xl, "%s, layer %d", FEAT_LABEL[k], l);
            const int last = k == PHYS_HLF_PER_LAYER - 1;
            BASE_TRY(add_hist(e, n, xl, last ? 20 : 100, last ? 0 : lo[k - 1], last ? 1 : hi[k - 1], 0, 1));
        }
    }
    return strncmp(m, "ds1", 3) ? make_decade_hists(e) : make_disc_hists(e, !strcmp(m, "ds1-photons"));
}

/* The challenge's high-level row (evaluate.py prepare_high_data_for_classifier, without the
 * label): log10 E_inc, log10(E_l + 1e-8) per layer, EC_x/100, EC_y/100, W_x/100, W_y/100 per
 * layer binned in alpha, log10(E_tot + 1e-8), sparsity, EC_r/100, W_r/100 per layer; energies
 * absolute (MeV). f: the features of observables.h. */
static void cc_row(const ev_t *e, double E, const double *f, double *r)
{
    const int L = e->L;
    int k = 0;
    r[k++] = log10(E);
    for (int j = 0; j < L; j++) r[k++] = log10(f[1 + PHYS_HLF_PER_LAYER * j] + 1e-8);
    const int which[4] = {1, 2, 4, 5}; /* EC_x, EC_y, W_x, W_y in a layer's block */
    for (int w = 0; w < 4; w++)
        for (int j = 0; j < L; j++)
            if (e->geo.n_alpha[e->layer_of[j]] > 1) r[k++] = f[1 + PHYS_HLF_PER_LAYER * j + which[w]] / 100;
    r[k++] = log10(f[0] + 1e-8);
    for (int j = 0; j < L; j++) r[k++] = f[1 + PHYS_HLF_PER_LAYER * j + 7];
    for (int j = 0; j < L; j++) r[k++] = f[1 + PHYS_HLF_PER_LAYER * j + 3] / 100;
    for (int j = 0; j < L; j++) r[k++] = f[1 + PHYS_HLF_PER_LAYER * j + 6] / 100;
}

/* ---- pass 2: everything else ---- */
/* Histogram k of sample s gets v; a reference shower also fills its half (by index parity). */
static void fill(ev_t *e, int k, int s, size_t i, double v)
{
    eval_hist_fill(&e->h[k].h[s], v);
    if (s) eval_hist_fill(&e->h[k].half[i & 1], v);
}

static void visit_fill(ev_t *e, int s, size_t i, float E, const float *x, const double *f)
{
    fill(e, 0, s, i, f[0] / E);
    int b = ilogb(E) - DISC_LOG2_FIRST; /* E in [2^(8+b), 2^(9+b)) */
    if (e->k_disc && E > 0 && b >= 0 && b < DISC_N) fill(e, e->k_disc + b, s, i, f[0] / E);
    const int dec = e->k_dec ? decade_of(E) : -1;
    if (dec >= 0) fill(e, e->k_dec + dec, s, i, f[0] / E);
    for (int v = 0; v < e->V; v++) {
        if (x[v] > 0) fill(e, 1, s, i, x[v]);
        e->img[s][v] += x[v];
    }
    /* feature order per layer: E, EC_x, EC_y, EC_r, W_x, W_y, W_r, S (observables.h) */
    for (int j = 0; j < e->L; j++)
        for (int k = 0; k < PHYS_HLF_PER_LAYER; k++)
            fill(e, 2 + PHYS_HLF_PER_LAYER * j + k, s, i, f[1 + PHYS_HLF_PER_LAYER * j + k]);
    phys_obs_add(&e->obs[s], E, x);
    float *r = e->hl + (size_t)(e->at_hl[s] + (ptrdiff_t)i) * (size_t)e->F;
    const size_t row = (size_t)(e->at_row[s] + (ptrdiff_t)i);
    if (e->o->quick) {
        /* quick: log10 E_inc, log10(E_tot/E_inc), per layer log10(E_l/E_inc), EC/100, W/100,
         * sparsity (energies relative to E_inc, so that the network need not learn to cancel
         * log10 E_inc against the absolute energies) */
        r[0] = log10f(E);
        r[1] = (float)log10(f[0] / E + 1e-8);
        for (int j = 0; j < e->L; j++) {
            const double *g = f + 1 + PHYS_HLF_PER_LAYER * j;
            float *o = r + 2 + PHYS_HLF_PER_LAYER * j;
            o[0] = (float)log10(g[0] / E + 1e-8);
            for (int k = 1; k < 7; k++) o[k] = (float)(g[k] / 100);
            o[7] = (float)g[7];
        }
        if (e->cc[s]) cc_row(e, E, f, e->cc[s] + row * (size_t)e->Fc);
    } else { /* the challenge's row, for its classifier and (in double) for FPD and KPD */
        double c[4 * PHYS_MAX_LAYERS * 2 + 2];
        cc_row(e, E, f, c);
        for (int k = 0; k < e->Fc; k++) r[k] = (float)c[k];
        if (e->cc[s]) memcpy(e->cc[s] + row * (size_t)e->Fc, c, (size_t)e->Fc * sizeof(double));
    }
    if (e->vox[s] && i < e->p[s]) memcpy(e->vox[s] + row * (size_t)e->V, x, (size_t)e->V * sizeof(float));
    /* low-level row (every stride-th shower): log10 E_inc, voxels / E_inc */
    if ((e->ll || e->llh) && i % e->stride[s] == 0 && i / e->stride[s] < e->m[s]) {
        size_t at = (size_t)(e->at_ll[s] + (ptrdiff_t)(i / e->stride[s])) * (size_t)(e->V + 1);
        if (e->ll) {
            float *q = e->ll + at;
            q[0] = log10f(E);
            for (int v = 0; v < e->V; v++) q[1 + v] = x[v] / E;
        } else {
            uint16_t *q = e->llh + at;
            q[0] = base_bf16_from_f32(log10f(E));
            for (int v = 0; v < e->V; v++) q[1 + v] = base_bf16_from_f32(x[v] / E);
        }
    }
}

/* Rows per part (train, test, validation) of a sample of n showers: the challenge's counts
 * (evaluate.py ttv_split: ds2/ds3 60k/20k/20k, ds1 photons 80k/20k/21k, pions 80k/20k/20.8k)
 * when the sample has that many, the validation part taking any rest as np.split does; else
 * int(0.6 n), int(0.2 n) and the rest (its split without a dataset). */
static void part_sizes(const ev_t *e, size_t n, size_t c[3])
{
    const char *m = phys_geometry_match(&e->geo);
    size_t a = 0, b = 0, v = 0;
    if (!strcmp(m, "ds2") || !strcmp(m, "ds3")) a = 60000, b = 20000, v = 20000;
    else if (!strcmp(m, "ds1-photons")) a = 80000, b = 20000, v = 21000;
    else if (!strcmp(m, "ds1-pions")) a = 80000, b = 20000, v = 20800;
    if (a && n >= a + b + v) c[0] = a, c[1] = b;
    else c[0] = (size_t)(0.6 * (double)n), c[1] = (size_t)(0.2 * (double)n);
    c[2] = n - c[0] - c[1];
}

/* The two classifier tests. Each sample is split by a seeded permutation of its indices (the
 * same permutation for both when they have the same size: the i-th generated and the i-th
 * reference shower land in the same part, so identical samples cannot be told apart by
 * memorising training showers). */
static int classify(ev_t *e, float *X, const uint16_t *Xh, size_t n0, size_t n1, int D, eval_cls_result_t *r)
{
    size_t n = n0 + n1, ns[2] = {n0, n1}, big = n0 > n1 ? n0 : n1;
    unsigned char *y = malloc(n), *split = malloc(n);
    uint32_t *perm = malloc(big * sizeof *perm);
    if (!y || !split || !perm) {
        free(y), free(split), free(perm);
        return base_error(BASE_ENOMEM, "evaluate: out of memory");
    }
    for (int s = 0; s < 2; s++) {
        base_rng_t g;
        base_rng_init(&g, e->o->seed, BASE_STREAM_EVAL_SPLIT);
        base_rng_permutation(&g, perm, ns[s]);
        size_t c[3];
        part_sizes(e, ns[s], c);
        for (size_t k = 0; k < ns[s]; k++) {
            size_t i = (s ? n0 : 0) + perm[k];
            y[i] = s == 0; /* generated = 1 */
            split[i] = k < c[0] ? 0 : k < c[0] + c[1] ? 1 : 2;
        }
    }
    free(perm);
    layer_ctx_t ctx;
    int rc = layer_ctx_init(&ctx);
    eval_cls_opts_t co = eval_cls_defaults(!e->o->quick);
    co.seed = e->o->seed;
    co.monitor = e->o->monitor;
    if (e->o->cls_epochs > 0) co.epochs = e->o->cls_epochs;
    size_t ntr = (size_t)(0.6 * n);
    if (e->o->quick && ntr < 16 * (size_t)co.batch) /* quick: enough steps per epoch; the challenge's stay 1000 */
        co.batch = ntr / 16 > 16 ? (int)(ntr / 16) : 16;
    if (rc == BASE_OK) rc = eval_cls_run(&ctx, X, Xh, y, split, n, D, &co, r);
    layer_ctx_free(&ctx);
    free(y), free(split);
    return rc;
}

/* ---- outputs ---- */

static int write_hists(ev_t *e)
{
    char p[1300];
    for (int k = 0; k < e->nh; k++) {
        hpair_t *h = &e->h[k];
        double *edges = malloc((size_t)(h->h[0].n + 1) * sizeof *edges);
        if (!edges) return base_error(BASE_ENOMEM, "evaluate: out of memory");
        for (int i = 0; i <= h->h[0].n; i++) edges[i] = eval_hist_edge(&h->h[0], i);
        snprintf(p, sizeof p, "%s/hists/%s.csv", e->tmp, h->name);
        int rc = eval_write_hist_csv(p, edges, h->h[1].h, h->h[0].h, h->h[0].n);
        /* plots: E_tot/E_inc (also per energy), the voxel spectrum, the features of every fifth layer */
        int j = k >= 2 ? (k - 2) / PHYS_HLF_PER_LAYER : -1;
        if (rc == BASE_OK && (j < 0 || j >= e->L || e->L <= 10 || j % 5 == 0)) {
            snprintf(p, sizeof p, "%s/plots/%s.png", e->tmp, h->name);
            char t[160];
            /* the physics label (the x label without its unit), the separation and its floor */
            const char *u = strchr(h->xlabel, '['), *after = u ? strchr(u, ']') : NULL;
            int nl = u ? (int)(u - h->xlabel) : (int)strlen(h->xlabel);
            while (nl > 0 && h->xlabel[nl - 1] == ' ') nl--;
            snprintf(t, sizeof t, "%.*s%s: separation %.4f (noise floor %.4f)", nl, h->xlabel, after ? after + 1 : "",
                     h->sep, h->floor);
            rc = eval_plot_hist(p, t, h->xlabel, edges, h->h[1].h, h->h[0].h, h->h[0].n, h->logx, h->logy);
        }
        free(edges);
        BASE_TRY(rc);
    }
    return BASE_OK;
}

/* Every layer of each per-layer feature as a small-multiples grid, plots/all_<feature>.png,
 * each panel titled with its layer and separation. */
static int write_grids(ev_t *e)
{
    eval_panel_t *pan = calloc((size_t)e->L, sizeof *pan);
    double *edges = malloc((size_t)e->L * 128 * sizeof *edges);
    char(*titles)[48] = malloc((size_t)e->L * sizeof *titles);
    int rc = pan && edges && titles ? BASE_OK : base_error(BASE_ENOMEM, "evaluate: out of memory");
    for (int k = 0; k < PHYS_HLF_PER_LAYER && rc == BASE_OK; k++) {
        for (int j = 0; j < e->L; j++) {
            const hpair_t *h = &e->h[2 + PHYS_HLF_PER_LAYER * j + k];
            double *ed = edges + (size_t)j * 128;
            for (int i = 0; i <= h->h[0].n && i < 128; i++) ed[i] = eval_hist_edge(&h->h[0], i);
            snprintf(titles[j], sizeof titles[j], "layer %d: %.3f", e->layer_of[j], h->sep);
            pan[j] = (eval_panel_t){ed, h->h[1].h, h->h[0].h, h->h[0].n < 127 ? h->h[0].n : 127, h->logx, titles[j]};
        }
        char p[1300];
        snprintf(p, sizeof p, "%s/plots/all_%s.png", e->tmp, FEAT[k]);
        rc = eval_plot_grid(p, e->L, pan);
    }
    free(pan), free(edges), free(titles);
    return rc;
}

/* The generated file's model (its "model" attribute) and that model's training history,
 * plotted when present: *hist receives the history's path ("" when there is none). A missing
 * or unreadable history is not an error: the report says so. */
static int write_history(ev_t *e, char *hist, size_t n)
{
    hist[0] = 0;
    char *model = io_h5_get_str(e->d[0].file, "model");
    if (!model) return BASE_OK;
    snprintf(hist, n, "%s.history.csv", model);
    free(model);
    enum { MAXE = 100000 };
    double *v = malloc(5 * MAXE * sizeof *v);
    if (!v) return base_error(BASE_ENOMEM, "evaluate: out of memory");
    int k = vae_history_read(hist, MAXE, v, v + MAXE, v + 2 * MAXE, v + 3 * MAXE, v + 4 * MAXE, NULL), rc = BASE_OK;
    if (k > 0) {
        for (int i = 0; i < k; i++) v[MAXE + i] = -v[MAXE + i], v[2 * MAXE + i] = -v[2 * MAXE + i]; /* -ELBO */
        char p[1300];
        snprintf(p, sizeof p, "%s/plots/training_curves.png", e->tmp);
        rc = eval_plot_curves(p, v, v + MAXE, v + 2 * MAXE, v + 3 * MAXE, v + 4 * MAXE, k);
    } else {
        hist[0] = 0; /* absent or not a history: nothing to show */
    }
    free(v);
    return rc;
}

static int write_profiles(ev_t *e)
{
    const phys_geometry_t *g = &e->geo;
    char p[1300];
    double x[PHYS_MAX_LAYERS > PHYS_MAX_REDGES ? PHYS_MAX_LAYERS : PHYS_MAX_REDGES];
    for (int l = 0; l < g->n_layers; l++) x[l] = l;
    snprintf(p, sizeof p, "%s/plots/longitudinal_profile.png", e->tmp);
    BASE_TRY(eval_plot_profile(p, "mean longitudinal profile", "layer", "mean energy per layer [MeV]", x,
                              e->obs[1].long_prof, e->obs[0].long_prof, g->n_layers, 1));
    if (e->obs[0].n_rad) {
        int nr = e->obs[0].n_rad, l0 = e->layer_of[0];
        for (int i = 0; i < nr; i++) x[i] = 0.5 * (g->r_edges[l0][i] + g->r_edges[l0][i + 1]);
        snprintf(p, sizeof p, "%s/plots/radial_profile.png", e->tmp);
        BASE_TRY(eval_plot_profile(p, "mean radial profile (all layers and angles)", "r [mm]",
                                  "mean energy per radial bin [MeV]", x, e->obs[1].rad_prof, e->obs[0].rad_prof, nr, 1));
    }
    /* mean shower images per group of layers (5 layers for 45-layer grids; else each layer) */
    int step = g->n_layers >= 20 ? 5 : 1, k = 0;
    for (int l0 = 0; l0 < g->n_layers; l0 += step) {
        int nr = g->n_r[l0], na = g->n_alpha[l0];
        if (nr == 0) continue;
        double *a = calloc((size_t)nr * na, sizeof *a), *b = calloc((size_t)nr * na, sizeof *b);
        if (!a || !b) {
            free(a), free(b);
            return base_error(BASE_ENOMEM, "evaluate: out of memory");
        }
        int l1 = l0;
        for (int l = l0; l < l0 + step && l < g->n_layers; l++) {
            if (g->n_r[l] != nr || g->n_alpha[l] != na) continue;
            l1 = l;
            for (int v = 0; v < nr * na; v++) {
                a[v] += e->img[1][g->offset[l] + v] / e->d[1].n;
                b[v] += e->img[0][g->offset[l] + v] / e->d[0].n;
            }
        }
        char t[64];
        snprintf(t, sizeof t, "layers %d-%d", l0, l1);
        snprintf(p, sizeof p, "%s/plots/image_%02d.png", e->tmp, k++);
        int rc = eval_plot_image(p, t, a, b, na, nr, g->r_edges[l0]);
        free(a), free(b);
        BASE_TRY(rc);
    }
    return BASE_OK;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return base_error(BASE_EIO, "%s: cannot create (%s)", path, strerror(errno));
    int bad = fputs(text, f) == EOF;
    bad |= ferror(f);
    return fclose(f) == 0 && !bad ? BASE_OK : base_error(BASE_EIO, "%s: write failed (disk full?)", path);
}

static cJSON *cls_json(const eval_cls_result_t *r, int ran, int quick)
{
    cJSON *o = cJSON_CreateObject();
    if (!ran) {
        cJSON_AddStringToObject(o, "status", "skipped");
        return o;
    }
    cJSON_AddNumberToObject(o, "auc", r->auc);
    cJSON_AddNumberToObject(o, "jsd", r->jsd);
    cJSON_AddStringToObject(o, "jsd_unit", quick ? "nats" : "ln 2");
    cJSON_AddNumberToObject(o, "accuracy", r->accuracy);
    cJSON_AddNumberToObject(o, "best_epoch", r->best_epoch);
    cJSON_AddNumberToObject(o, "epochs_run", r->epochs_run);
    cJSON_AddNumberToObject(o, "test_bce", r->test_loss);
    cJSON_AddNumberToObject(o, "test_accuracy", r->test_accuracy);
    return o;
}

static int write_json_html(ev_t *e, const eval_cls_result_t *lo, const eval_cls_result_t *hi, int ran,
                           eval_result_t *res)
{
    cJSON *j = cJSON_CreateObject(), *sep = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "protocol", e->o->quick ? "quick" : "calochallenge");
    cJSON_AddStringToObject(j, "generated", e->o->gen);
    cJSON_AddStringToObject(j, "reference", e->o->ref);
    cJSON_AddStringToObject(j, "geometry", e->geo.name);
    cJSON_AddNumberToObject(j, "n_generated", (double)e->d[0].n);
    cJSON_AddNumberToObject(j, "n_reference", (double)e->d[1].n);
    cJSON_AddNumberToObject(j, "threshold_mev", e->geo.threshold_mev);
    cJSON_AddNumberToObject(j, "seed", (double)e->o->seed);
    cJSON_AddNumberToObject(j, "mean_etot_einc_generated", e->obs[0].ratio_mean);
    cJSON_AddNumberToObject(j, "mean_etot_einc_reference", e->obs[1].ratio_mean);
    double s = 0, mx = 0;
    int ns = 0; /* separations defined (NaN: a ds1 energy one sample lacks; JSON null) */
    cJSON *fl = cJSON_CreateObject();
    for (int k = 0; k < e->nh; k++) {
        cJSON_AddNumberToObject(sep, e->h[k].name, e->h[k].sep);
        cJSON_AddNumberToObject(fl, e->h[k].name, e->h[k].floor);
        if (isnan(e->h[k].sep) || (e->k_dec && k >= e->k_dec)) continue;
        s += e->h[k].sep, ns++;
        mx = fmax(mx, e->h[k].sep);
    }
    s /= ns;
    cJSON_AddItemToObject(j, "separation_power", sep);
    cJSON_AddItemToObject(j, "separation_noise_floor", fl); /* the reference's even vs odd showers */
    cJSON_AddNumberToObject(j, "separation_mean", s);
    cJSON_AddNumberToObject(j, "separation_max", mx);
    if (e->have_dist) {
        cJSON *f = cJSON_AddObjectToObject(j, "fpd"), *k = cJSON_AddObjectToObject(j, "kpd");
        cJSON_AddNumberToObject(f, "value", e->fpd[0]), cJSON_AddNumberToObject(f, "error", e->fpd[1]);
        cJSON_AddNumberToObject(k, "value", e->kpd[0]), cJSON_AddNumberToObject(k, "error", e->kpd[1]);
        cJSON_AddNumberToObject(f, "batch_min", e->fpd_batches[0]), cJSON_AddNumberToObject(f, "batch_max", e->fpd_batches[1]);
        cJSON_AddNumberToObject(k, "batch", e->kpd_batch);
        cJSON_AddNumberToObject(j, "physics_distance_features", e->Fc);
    }
    if (e->have_prdc) {
        cJSON *q = cJSON_AddObjectToObject(j, "prdc");
        cJSON_AddNumberToObject(q, "precision", e->prdc.precision), cJSON_AddNumberToObject(q, "recall", e->prdc.recall);
        cJSON_AddNumberToObject(q, "density", e->prdc.density), cJSON_AddNumberToObject(q, "coverage", e->prdc.coverage);
        cJSON_AddNumberToObject(q, "k", 5);
        cJSON_AddNumberToObject(q, "n_reference", (double)e->p[1]), cJSON_AddNumberToObject(q, "n_generated", (double)e->p[0]);
    }
    cJSON *c = cJSON_AddObjectToObject(j, "classifier");
    cJSON_AddItemToObject(c, "low_level", cls_json(lo, ran, e->o->quick));
    cJSON_AddItemToObject(c, "high_level", cls_json(hi, ran, e->o->quick));
    char *txt = cJSON_Print(j), p[1300];
    cJSON_Delete(j);
    snprintf(p, sizeof p, "%s/metrics.json", e->tmp);
    int rc = txt ? write_text(p, txt) : base_error(BASE_ENOMEM, "out of memory");
    free(txt);
    *res = (eval_result_t){e->h[0].sep, s, mx, ran ? lo->auc : NAN, ran ? lo->jsd : NAN,
                               ran ? hi->auc : NAN, ran ? hi->jsd : NAN, e->obs[0].ratio_mean, e->obs[1].ratio_mean,
                               e->have_dist, e->have_prdc, e->fpd[0], e->fpd[1], e->kpd[0], e->kpd[1],
                               e->prdc.precision, e->prdc.recall, e->prdc.density, e->prdc.coverage};
    if (rc < 0) return rc;
    /* index.html: summary, the plots, the separation table */
    size_t cap = 65536 + (size_t)e->nh * 160;
    char *h = malloc(cap);
    if (!h) return base_error(BASE_ENOMEM, "out of memory");
    size_t n = 0;
#define OUT(...) n += (size_t)snprintf(h + n, cap - n, __VA_ARGS__)
    OUT("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>showervae evaluation</title>"
        "<style>body{font-family:sans-serif;max-width:1200px;margin:auto}img{width:48%%}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style></head><body>");
    OUT("<h1>showervae evaluation</h1><p>generated: %s (%zu showers)<br>reference: %s (%zu showers)<br>geometry %s, "
        "readout threshold %.4g MeV applied to both, seed %llu</p>",
        e->o->gen, e->d[0].n, e->o->ref, e->d[1].n, e->geo.name, e->geo.threshold_mev, (unsigned long long)e->o->seed);
    if (e->o->quick)
        OUT("<p><b>Protocol: quick.</b> A small classifier (2 x 256, 20 epochs) on relative high-level features and "
            "a subsample of voxels: its AUCs and JSDs are for training-time checks and are <b>not</b> the "
            "CaloChallenge's numbers. The histograms and separation powers are the challenge's.</p>");
    else
        OUT("<p><b>Protocol: calochallenge</b> (the definitions of the challenge's code/evaluate.py: histograms, "
            "separation power, its 3 x 2048 classifiers with isotonic calibration, FPD, KPD, PRDC).</p>");
    OUT("<h2>Summary</h2><table><tr><th>metric</th><th>value</th><th>reading</th></tr>");
    OUT("<tr><td>separation E_tot/E_inc</td><td>%.4f</td><td>0 identical, 1 disjoint</td></tr>", e->h[0].sep);
    OUT("<tr><td>mean separation over %d histograms</td><td>%.4f</td><td>max %.4f</td></tr>", ns, s, mx);
    OUT("<tr><td>mean E_tot/E_inc generated / reference</td><td>%.4f / %.4f</td><td></td></tr>", e->obs[0].ratio_mean,
        e->obs[1].ratio_mean);
    if (ran) {
        OUT("<tr><td>classifier AUC, low level</td><td>%.4f</td><td>JSD %.4f; 0.5 = indistinguishable</td></tr>", lo->auc, lo->jsd);
        OUT("<tr><td>classifier AUC, high level</td><td>%.4f</td><td>JSD %.4f</td></tr>", hi->auc, hi->jsd);
    }
    if (e->have_dist) {
        OUT("<tr><td>FPD x 10<sup>3</sup></td><td>%.4f &plusmn; %.4f</td><td>Frechet distance of the %d high-level "
            "features extrapolated to infinite samples; 0 = same means and covariances</td></tr>",
            e->fpd[0] * 1e3, e->fpd[1] * 1e3, e->Fc);
        OUT("<tr><td>KPD x 10<sup>3</sup></td><td>%.4f &plusmn; %.4f</td><td>kernel (MMD) distance, median of 10 "
            "batches; 0 = same distribution</td></tr>", e->kpd[0] * 1e3, e->kpd[1] * 1e3);
    }
    if (e->have_prdc)
        OUT("<tr><td>precision / recall / density / coverage</td><td>%.4f / %.4f / %.4f / %.4f</td><td>k = 5 on "
            "log10 voxel energies; 1 / 1 / 1 / 1 for samples of one distribution</td></tr>",
            e->prdc.precision, e->prdc.recall, e->prdc.density, e->prdc.coverage);
    OUT("</table><h2>Plots</h2><p>Reference: thick grey line; generated: blue line; lower panels: gen/ref.</p>");
    OUT("<img src=\"plots/Etot_Einc.png\"><img src=\"plots/voxel_energy.png\">"
        "<img src=\"plots/longitudinal_profile.png\">%s", e->obs[0].n_rad ? "<img src=\"plots/radial_profile.png\">" : "");
    for (int k = 0; k < 16; k++) {
        char p2[1300];
        snprintf(p2, sizeof p2, "%s/plots/image_%02d.png", e->tmp, k);
        if (access(p2, F_OK) == 0) OUT("<img src=\"plots/image_%02d.png\">", k);
    }
    OUT("<h3>Every layer</h3>");
    {
        for (int k = 0; k < PHYS_HLF_PER_LAYER; k++)
            OUT("<p><b>%s</b>%s, every layer; reference grey, generated blue, unit area; panel title: layer and "
                "separation</p><a href=\"plots/all_%s.png\"><img style=\"width:98%%\" src=\"plots/all_%s.png\"></a>",
                FEAT_LABEL[k], k == 0 ? ", log axis" : "", FEAT[k], FEAT[k]);
    }
    OUT("<h3>Selected layers and energies, with ratio panels</h3>");
    for (int k = 2; k < e->nh; k++) {
        char p2[1300];
        snprintf(p2, sizeof p2, "%s/plots/%s.png", e->tmp, e->h[k].name);
        if (access(p2, F_OK) == 0) OUT("<img src=\"plots/%s.png\">", e->h[k].name);
    }
    if (e->hist[0])
        OUT("<h2>Training</h2><p>The generated file names its model; its training history (%s):</p>"
            "<img src=\"plots/training_curves.png\">", e->hist);
    else
        OUT("<h2>Training</h2><p>No training history: the generated file names no model (its \"model\" attribute), "
            "or there is no MODEL.h5.history.csv beside it.</p>");
    OUT("<h2>Separation power of every histogram</h2><p>Noise floor: the separation between the reference's even "
        "and odd showers (two samples of one distribution, each half the reference): values near it are "
        "indistinguishable from statistical noise at this sample size (two full-size samples would show about half "
        "of it).</p><table><tr><th>histogram</th><th>what</th><th>separation</th><th>noise floor</th><th>data</th></tr>");
    for (int k = 0; k < e->nh; k++)
        OUT("<tr><td>%s</td><td style=\"text-align:left\">%s</td><td>%.5f</td><td>%.5f</td><td><a href=\"hists/%s.csv\">"
            "csv</a></td></tr>", e->h[k].name, e->h[k].xlabel, e->h[k].sep, e->h[k].floor, e->h[k].name);
    OUT("</table><p>All numbers: <a href=\"metrics.json\">metrics.json</a>.</p></body></html>\n");
#undef OUT
    snprintf(p, sizeof p, "%s/index.html", e->tmp);
    rc = write_text(p, h);
    free(h);
    return rc;
}

/* ---- driver ---- */

static int open_inputs(ev_t *e)
{
    const eval_opts_t *o = e->o;
    phys_geometry_t g, *gp = NULL;
    if (o->geometry) {
        BASE_TRY(phys_geometry_from_arg(&g, o->geometry));
        gp = &g;
    }
    BASE_TRY(io_dataset_open(&e->d[1], o->ref, gp));
    BASE_TRY(io_dataset_open(&e->d[0], o->gen, &e->d[1].geo));
    e->geo = e->d[1].geo;
    e->V = e->geo.n_voxels;
    e->nf = phys_hlf_count(&e->geo);
    e->L = (e->nf - 1) / PHYS_HLF_PER_LAYER;
    e->F = 2 + PHYS_HLF_PER_LAYER * e->L;
    e->layer_of = malloc((size_t)e->L * sizeof(int));
    e->R.emax = calloc((size_t)e->L, sizeof(double));
    if (!e->layer_of || !e->R.emax) return base_error(BASE_ENOMEM, "evaluate: out of memory");
    for (int l = 0, j = 0; l < e->geo.n_layers; l++)
        if (e->geo.n_r[l]) e->layer_of[j++] = l;
    for (int j = 0; j < e->L; j++) e->La += e->geo.n_alpha[e->layer_of[j]] > 1;
    e->Fc = 2 + 4 * e->L + 4 * e->La;
    if (!o->quick) e->F = e->Fc; /* the challenge's high-level classifier inputs */
    return BASE_OK;
}

/* ---- many processes ---- */

/* This process's low-level entries [j0, j1) of sample s: the showers i in [lo, hi) with
 * i % stride == 0, j = i / stride < m. */
static void ll_share(const ev_t *e, int s, size_t *j0, size_t *j1)
{
    const size_t st = e->stride[s], m = e->m[s];
    *j0 = (e->lo[s] + st - 1) / st, *j1 = (e->hi[s] + st - 1) / st;
    if (*j0 > m) *j0 = m;
    if (*j1 > m) *j1 = m;
}

/* The observables of sample s: every rank's state to rank 0, merged there in rank order. */
static int reduce_obs(ev_t *e, int s)
{
    const vae_comm_t *k = e->o->comm;
    const size_t S = phys_obs_state_size(&e->obs[s]);
    double *st = malloc(S * (e->root ? (size_t)k->size : 1) * sizeof *st);
    if (!st) return base_error(BASE_ENOMEM, "evaluate: out of memory");
    phys_obs_save(&e->obs[s], st);
    int rc = k->gather_bytes(k->ctx, st, S * sizeof *st, st, (size_t)k->rank * S * sizeof *st);
    phys_obs_t o;
    for (int r = 1; r < k->size && e->root && rc == BASE_OK; r++) {
        rc = phys_obs_init(&o, &e->geo);
        if (rc < 0) break;
        phys_obs_load(&o, st + (size_t)r * S);
        phys_obs_merge(&e->obs[s], &o);
        phys_obs_free(&o);
    }
    free(st);
    return rc;
}

/* Rank 0 gets the rows [a, b) of a per-shower array from every rank: row r of the local
 * array at `at` + r (width bytes each), global row `g0` + r in rank 0's. */
static int gather_rows(const ev_t *e, void *base, ptrdiff_t at, size_t g0, size_t a, size_t b, size_t width)
{
    const vae_comm_t *k = e->o->comm;
    char *p = base;
    return k->gather_bytes(k->ctx, p + (size_t)(at + (ptrdiff_t)a) * width, (b - a) * width, base, (g0 + a) * width);
}

/* Every histogram's bins (generated, reference, the reference's halves) copied into b in order
 * (load 0), or back from it (load 1). */
static void hist_bins(ev_t *e, double *b, int load)
{
    for (int i = 0; i < e->nh; i++) {
        eval_hist_t *all[4] = {&e->h[i].h[0], &e->h[i].h[1], &e->h[i].half[0], &e->h[i].half[1]};
        for (int j = 0; j < 4; j++) {
            memcpy(load ? all[j]->h : b, load ? b : all[j]->h, (size_t)all[j]->n * sizeof *b);
            b += all[j]->n;
        }
    }
}

/* The histograms and sums of all ranks added up (counts: exact), the observables merged on
 * rank 0 (phys_obs_merge, rank order), the per-shower rows gathered to rank 0. */
static int reduce_fill(ev_t *e)
{
    const vae_comm_t *k = e->o->comm;
    size_t nb = 0;
    for (int i = 0; i < e->nh; i++) nb += 2 * (size_t)(e->h[i].h[0].n + e->h[i].half[0].n);
    double *b = malloc((nb + 1) * sizeof *b);
    if (!b) return base_error(BASE_ENOMEM, "evaluate: out of memory");
    hist_bins(e, b, 0);
    int rc = k->sum_f64(k->ctx, b, nb); /* one collective for all the histograms */
    if (rc == BASE_OK) hist_bins(e, b, 1);
    free(b);
    for (int s = 0; s < 2 && rc == BASE_OK; s++) rc = k->sum_f64(k->ctx, e->img[s], (size_t)e->V);
    for (int s = 0; s < 2 && rc == BASE_OK; s++) rc = reduce_obs(e, s);
    const size_t F = (size_t)e->F * sizeof(float), V = (size_t)e->V * sizeof(float);
    for (int s = 0; s < 2 && rc == BASE_OK; s++) {
        const size_t lo = e->lo[s], hi = e->hi[s];
        rc = gather_rows(e, e->hl, e->at_hl[s], s ? e->d[0].n : 0, lo, hi, F);
        if (rc == BASE_OK && e->cc[s])
            rc = gather_rows(e, e->cc[s], e->at_row[s], 0, lo, hi, (size_t)e->Fc * sizeof(double));
        if (rc == BASE_OK && e->vox[s])
            rc = gather_rows(e, e->vox[s], e->at_row[s], 0, lo < e->p[s] ? lo : e->p[s], hi < e->p[s] ? hi : e->p[s], V);
        if (rc == BASE_OK && (e->ll || e->llh)) {
            size_t j0, j1;
            ll_share(e, s, &j0, &j1);
            rc = gather_rows(e, e->ll ? (void *)e->ll : (void *)e->llh, e->at_ll[s], s ? e->m[0] : 0, j0, j1,
                             (size_t)(e->V + 1) * (e->ll ? sizeof(float) : sizeof(uint16_t)));
        }
    }
    return rc;
}

/* The low-level classifier's inputs within the memory budget (--cls-memory): every shower in
 * f32 if they fit (2 x 100k ds2 showers need 5.2 GB), else every shower in bf16 (half: 2.6 GB;
 * measured on the classifier in the README), else an even subsample in bf16, with a warning.
 * The quick protocol standardises its inputs in place, so it keeps f32 and subsamples. */
static int allocate_low_level(ev_t *e)
{
    const size_t budget = e->o->cls_mem_bytes ? e->o->cls_mem_bytes : (size_t)(e->o->quick ? 1024 : 4096) << 20;
    const size_t row = (size_t)(e->V + 1), n = e->d[0].n + e->d[1].n, MB = 1 << 20;
    int bf16 = !e->o->quick && n * row * sizeof(float) > budget; /* quick standardises: f32 */
    size_t per = budget / (2 * row * (bf16 ? sizeof(uint16_t) : sizeof(float)));
    if (e->d[0].n > per || e->d[1].n > per)
        base_monitor_say(e->o->monitor, e->o->quick ? BASE_MSG_INFO : BASE_MSG_WARNING,
                         "low-level classifier: %zu showers per file fit in --cls-memory %zu MB (in bf16), the files "
                         "have %zu and %zu: it runs on an even subsample%s",
                         per, budget / MB, e->d[0].n, e->d[1].n, e->o->quick ? "" : ", which the challenge does not do");
    else if (bf16)
        base_monitor_say(e->o->monitor, BASE_MSG_INFO,
                         "low-level classifier: inputs held in bf16 (%zu MB; f32 would need %zu MB, over --cls-memory %zu MB)",
                         n * row * 2 / MB, n * row * 4 / MB, budget / MB);
    for (int s = 0; s < 2; s++) {
        e->m[s] = e->d[s].n < per ? e->d[s].n : per;
        e->stride[s] = (e->d[s].n + e->m[s] - 1) / e->m[s];
        e->m[s] = (e->d[s].n + e->stride[s] - 1) / e->stride[s];
    }
    size_t j0[2], j1[2];
    for (int s = 0; s < 2; s++) ll_share(e, s, &j0[s], &j1[s]);
    size_t rows = (e->root ? e->m[0] + e->m[1] : (j1[0] - j0[0]) + (j1[1] - j0[1])) * row + 1;
    e->at_ll[0] = e->root ? 0 : -(ptrdiff_t)j0[0];
    e->at_ll[1] = e->root ? (ptrdiff_t)e->m[0] : (ptrdiff_t)(j1[0] - j0[0]) - (ptrdiff_t)j0[1];
    if (bf16) e->llh = malloc(rows * sizeof *e->llh);
    else e->ll = malloc(rows * sizeof *e->ll);
    if (!e->ll && !e->llh)
        return base_error(BASE_ENOMEM, "evaluate: out of memory for the low-level inputs (%zu MB; see --cls-memory)",
                          rows * (bf16 ? 2 : 4) / MB);
    return BASE_OK;
}

static int allocate(ev_t *e)
{
    const size_t k0 = e->hi[0] - e->lo[0], k1 = e->hi[1] - e->lo[1];
    size_t n = e->root ? e->d[0].n + e->d[1].n : k0 + k1 + 1;
    e->at_hl[0] = e->root ? 0 : -(ptrdiff_t)e->lo[0];
    e->at_hl[1] = e->root ? (ptrdiff_t)e->d[0].n : (ptrdiff_t)k0 - (ptrdiff_t)e->lo[1];
    for (int s = 0; s < 2; s++) e->at_row[s] = e->root ? 0 : -(ptrdiff_t)e->lo[s];
    BASE_TRY(phys_obs_init(&e->obs[0], &e->geo));
    BASE_TRY(phys_obs_init(&e->obs[1], &e->geo));
    e->img[0] = calloc((size_t)e->V, sizeof(double));
    e->img[1] = calloc((size_t)e->V, sizeof(double));
    e->hl = malloc(n * (size_t)e->F * sizeof(float));
    if (!e->img[0] || !e->img[1] || !e->hl) return base_error(BASE_ENOMEM, "evaluate: out of memory");
    for (int s = 0; s < 2 && !e->o->no_distances; s++) {
        e->cc[s] = malloc((e->root ? e->d[s].n : e->hi[s] - e->lo[s] + 1) * (size_t)e->Fc * sizeof(double));
        if (!e->cc[s]) return base_error(BASE_ENOMEM, "evaluate: out of memory for the physics distances");
    }
    for (int s = 0; s < 2 && !e->o->no_prdc; s++) {
        size_t cap = e->o->prdc_showers ? e->o->prdc_showers : e->d[s].n;
        e->p[s] = e->d[s].n < cap ? e->d[s].n : cap;
        e->vox[s] = malloc((e->root ? e->p[s] : e->hi[s] - e->lo[s] + 1) * (size_t)e->V * sizeof(float));
        if (!e->vox[s])
            return base_error(BASE_ENOMEM, "evaluate: out of memory for %zu showers of PRDC (see --prdc-showers)", e->p[s]);
    }
    return e->o->no_cls ? BASE_OK : allocate_low_level(e);
}

static void release(ev_t *e)
{
    for (int s = 0; s < 2; s++) {
        io_dataset_close(&e->d[s]);
        phys_obs_free(&e->obs[s]);
        free(e->img[s]);
    }
    for (int k = 0; k < e->nh; k++)
        for (int j = 0; j < 2; j++) eval_hist_free(&e->h[k].h[j]), eval_hist_free(&e->h[k].half[j]);
    free(e->h), free(e->hl), free(e->ll), free(e->llh), free(e->layer_of), free(e->R.emax);
    for (int s = 0; s < 2; s++) free(e->cc[s]), free(e->vox[s]), e->cc[s] = NULL, e->vox[s] = NULL;
    e->R.emax = NULL;
}

/* FPD and KPD of the generated against the reference high-level rows (distance.h), with the
 * challenge's settings (FPD from 10,000 showers up; fewer showers: batch sizes scaled down). */
static int distances(ev_t *e)
{
    if (!e->cc[0]) return BASE_OK;
    const base_monitor_t *mon = e->o->monitor;
    eval_distance_opts_t d = eval_distance_defaults();
    size_t n = e->d[0].n < e->d[1].n ? e->d[0].n : e->d[1].n;
    if (n < 10) {
        base_monitor_say(mon, BASE_MSG_WARNING, "FPD and KPD skipped: %zu showers (need 10 per file)", n);
        return BASE_OK;
    }
    if (n < (size_t)d.min_samples) { /* keep the 1/N range's shape: min = n, max = 5 n */
        d.min_samples = (int)(n > 100 ? n : 100), d.max_samples = 5 * d.min_samples;
        base_monitor_say(mon, BASE_MSG_INFO,
                         "FPD: %zu showers is below the challenge's smallest batch of 10,000: batches of %d to %d "
                         "(recorded in metrics.json)", n, d.min_samples, d.max_samples);
    }
    if (n < (size_t)d.kpd_batch_size) d.kpd_batch_size = (int)(n > 10 ? n : 10);
    double t0 = base_now();
    BASE_TRY(eval_fpd(e->cc[1], e->d[1].n, e->cc[0], e->d[0].n, e->Fc, &d, &e->fpd[0], &e->fpd[1]));
    BASE_TRY(eval_kpd(e->cc[1], e->d[1].n, e->cc[0], e->d[0].n, e->Fc, &d, &e->kpd[0], &e->kpd[1]));
    e->have_dist = 1, e->fpd_batches[0] = d.min_samples, e->fpd_batches[1] = d.max_samples;
    e->kpd_batch = d.kpd_batch_size;
    base_monitor_say(mon, BASE_MSG_INFO, "FPD x 10^3 = %.4f +- %.4f, KPD x 10^3 = %.4f +- %.4f (%d features, %.0f s)",
                     e->fpd[0] * 1e3, e->fpd[1] * 1e3, e->kpd[0] * 1e3, e->kpd[1] * 1e3, e->Fc, base_now() - t0);
    return BASE_OK;
}

/* PRDC on log10 voxel energies, reference = real (prdc.h). */
static int prdc(ev_t *e)
{
    if (!e->vox[0]) return BASE_OK;
    if (e->p[0] < 10 || e->p[1] < 10) {
        base_monitor_say(e->o->monitor, BASE_MSG_WARNING, "PRDC skipped: %zu and %zu showers (need 10 per file)",
                         e->p[1], e->p[0]);
        return BASE_OK;
    }
    double t0 = base_now();
    for (int s = 0; s < 2; s++) eval_prdc_features(e->vox[s], e->p[s], e->V);
    BASE_TRY(eval_prdc(e->vox[1], e->p[1], e->vox[0], e->p[0], e->V, 5, &e->prdc));
    e->have_prdc = 1;
    base_monitor_say(e->o->monitor, BASE_MSG_INFO,
                     "precision %.4f, recall %.4f, density %.4f, coverage %.4f (k = 5, %zu + %zu showers, %.0f s)",
                     e->prdc.precision, e->prdc.recall, e->prdc.density, e->prdc.coverage, e->p[1], e->p[0],
                     base_now() - t0);
    return BASE_OK;
}

/* Computes everything and writes the report into e->tmp. */
static int body(ev_t *e, eval_result_t *res)
{
    const eval_opts_t *o = e->o;
    const vae_comm_t *k = o->comm;
    BASE_TRY(open_inputs(e));
    for (int s = 0; s < 2; s++) {
        if (k) vae_comm_share(e->d[s].n, e->d[s].block_rows, k->size, k->rank, &e->lo[s], &e->hi[s]);
        else e->lo[s] = 0, e->hi[s] = e->d[s].n;
    }
    BASE_TRY(stream(e, 1, visit_ranges, "reference ranges"));
    if (k) { /* the bins are the reference's maxima over all ranks */
        BASE_TRY(k->max_f64(k->ctx, e->R.emax, (size_t)e->L));
        BASE_TRY(k->max_f64(k->ctx, &e->R.vmax, 1));
    }
    BASE_TRY(make_hists(e));
    BASE_TRY(allocate(e));
    BASE_TRY(stream(e, 0, visit_fill, "generated"));
    BASE_TRY(stream(e, 1, visit_fill, "reference"));
    if (k) BASE_TRY(reduce_fill(e));
    if (!e->root) return BASE_OK; /* rank 0 computes the rest and writes the report */
    for (int k = 0; k < e->nh; k++) {
        const eval_hist_t *g = &e->h[k].h[0], *r = &e->h[k].h[1];
        e->h[k].sep = eval_separation(g->h, r->h, g->n);
        e->h[k].floor = eval_separation(e->h[k].half[0].h, e->h[k].half[1].h, g->n);
        /* a ds1 energy one sample lacks: undefined (evaluate.py's density of an empty histogram is NaN) */
        if (((e->k_disc && k >= e->k_disc) || (e->k_dec && k >= e->k_dec)) &&
            (eval_hist_total(g) <= 0 || eval_hist_total(r) <= 0))
            e->h[k].sep = e->h[k].floor = NAN;
    }
    BASE_TRY(distances(e));
    BASE_TRY(prdc(e));
    eval_cls_result_t lo = {0}, hi = {0};
    if (!o->no_cls) {
#ifdef _OPENMP
        int threads = omp_get_max_threads();
        if (o->cls_threads > 0) omp_set_num_threads(o->cls_threads);
#endif
        double t0 = base_now();
        base_monitor_say(o->monitor, BASE_MSG_INFO, "classifier on high-level features (%d inputs)", e->F);
        BASE_TRY(classify(e, e->hl, NULL, e->d[0].n, e->d[1].n, e->F, &hi));
        base_monitor_say(o->monitor, BASE_MSG_INFO, "classifier on low-level features (%d inputs, %zu + %zu showers)", e->V + 1,
                    e->m[0], e->m[1]);
        BASE_TRY(classify(e, e->ll, e->llh, e->m[0], e->m[1], e->V + 1, &lo));
#ifdef _OPENMP
        omp_set_num_threads(threads);
#endif
        base_monitor_say(o->monitor, BASE_MSG_INFO, "classifiers: %.0f s (%s protocol)", base_now() - t0,
                         o->quick ? "quick" : "calochallenge");
    }
    char p[1300];
    const char *sub[2] = {"hists", "plots"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", e->tmp, sub[i]);
        if (mkdir(p, 0755) != 0) return base_error(BASE_EIO, "%s: cannot create (%s)", p, strerror(errno));
    }
    BASE_TRY(write_hists(e));
    BASE_TRY(write_grids(e));
    BASE_TRY(write_profiles(e));
    BASE_TRY(write_history(e, e->hist, sizeof e->hist));
    return write_json_html(e, &lo, &hi, !o->no_cls, res);
}

int eval_run(const eval_opts_t *o, eval_result_t *res)
{
    ev_t e;
    memset(&e, 0, sizeof e);
    e.o = o;
    e.root = !o->comm || o->comm->rank == 0;
    BASE_TRY(io_atomic_not_input(o->out, o->gen));
    BASE_TRY(io_atomic_not_input(o->out, o->ref));
    if (e.root) BASE_TRY(io_atomic_dir_begin(o->out, o->force, e.tmp, sizeof e.tmp));
    eval_result_t dummy;
    int rc = body(&e, res ? res : &dummy);
    if (e.root) plend(); /* PLplot's global state */
    release(&e);
    if (!e.root) return rc;
    if (rc == BASE_OK) rc = io_atomic_dir_commit(e.tmp, o->out); /* with force the old report goes only now */
    else io_atomic_dir_abort(e.tmp);
    return rc;
}
