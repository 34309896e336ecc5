/* physics/observables.c: CaloChallenge high-level features and accumulators (see observables.h). */
#include "physics/observables.h"

#include "base/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int phys_hlf_count(const phys_geometry_t *g)
{
    int n = 1;
    for (int l = 0; l < g->n_layers; l++) n += g->n_r[l] > 0 ? PHYS_HLF_PER_LAYER : 0;
    return n;
}

void phys_hlf_name(const phys_geometry_t *g, int k, char *buf, size_t n)
{
    static const char *const per[PHYS_HLF_PER_LAYER] = {"E_layer", "EC_x", "EC_y", "EC_r",
                                                        "W_x",     "W_y",  "W_r",  "sparsity"};
    if (k == 0) {
        snprintf(buf, n, "E_tot");
        return;
    }
    int j = k - 1;
    for (int l = 0; l < g->n_layers; l++) {
        if (g->n_r[l] == 0) continue;
        if (j < PHYS_HLF_PER_LAYER) {
            snprintf(buf, n, "%s%d", per[j], l);
            return;
        }
        j -= PHYS_HLF_PER_LAYER;
    }
    snprintf(buf, n, "?");
}

void phys_hlf_compute(const phys_geometry_t *g, const float *x, double *out)
{
    const double PI = 3.14159265358979323846;
    double etot = 0;
    double *o = out + 1;
    for (int l = 0; l < g->n_layers; l++) {
        int nr = g->n_r[l], na = g->n_alpha[l];
        if (nr == 0) continue;
        double e = 0, sx = 0, sy = 0, sr = 0, qx = 0, qy = 0, qr = 0;
        int hit = 0;
        for (int a = 0; a < na; a++) {
            double am = -PI + (a + 0.5) * 2 * PI / na, ca = cos(am), sa = sin(am);
            const float *row = x + g->offset[l] + a * nr;
            for (int i = 0; i < nr; i++) {
                double v = row[i];
                if (v == 0) continue;
                double rm = 0.5 * (g->r_edges[l][i] + g->r_edges[l][i + 1]);
                double px = rm * ca, py = rm * sa;
                e += v;
                sx += v * px, sy += v * py, sr += v * rm;
                qx += v * px * px, qy += v * py * py, qr += v * rm * rm;
                hit++;
            }
        }
        double d = e + 1e-16, cx = sx / d, cy = sy / d, cr = sr / d;
        o[0] = e;
        o[1] = cx, o[2] = cy, o[3] = cr;
        o[4] = sqrt(fmax(qx / d - cx * cx, 0));
        o[5] = sqrt(fmax(qy / d - cy * cy, 0));
        o[6] = sqrt(fmax(qr / d - cr * cr, 0));
        o[7] = 1.0 - (double)hit / (nr * na);
        o += PHYS_HLF_PER_LAYER;
        etot += e;
    }
    out[0] = etot;
}

/* The radial profile is defined when all layers with voxels share their radial edges. */
static int shared_radial_bins(const phys_geometry_t *g)
{
    int ref = -1;
    for (int l = 0; l < g->n_layers; l++) {
        if (g->n_r[l] == 0) continue;
        if (ref < 0) ref = l;
        else if (g->n_r[l] != g->n_r[ref] ||
                 memcmp(g->r_edges[l], g->r_edges[ref], (size_t)(g->n_r[l] + 1) * sizeof(double)))
            return 0;
    }
    return ref >= 0 ? g->n_r[ref] : 0;
}

int phys_obs_init(phys_obs_t *o, const phys_geometry_t *g)
{
    memset(o, 0, sizeof *o);
    o->g = g;
    o->nf = phys_hlf_count(g);
    o->n_rad = shared_radial_bins(g);
    o->mean = calloc((size_t)o->nf, sizeof(double));
    o->m2 = calloc((size_t)o->nf, sizeof(double));
    o->feat = calloc((size_t)o->nf, sizeof(double));
    o->long_prof = calloc((size_t)g->n_layers, sizeof(double));
    if (o->n_rad) o->rad_prof = calloc((size_t)o->n_rad, sizeof(double));
    if (!o->mean || !o->m2 || !o->feat || !o->long_prof || (o->n_rad && !o->rad_prof)) {
        phys_obs_free(o);
        return base_error(BASE_ENOMEM, "observables: out of memory");
    }
    return BASE_OK;
}

void phys_obs_free(phys_obs_t *o)
{
    if (!o) return;
    free(o->mean);
    free(o->m2);
    free(o->feat);
    free(o->long_prof);
    free(o->rad_prof);
    memset(o, 0, sizeof *o);
}

/* Welford: delta = x - mean; mean += delta / n; m2 += delta (x - mean). */
static void welford(double *mean, double *m2, double x, size_t n)
{
    double d = x - *mean;
    *mean += d / n;
    *m2 += d * (x - *mean);
}

void phys_obs_add(phys_obs_t *o, double E_inc, const float *x)
{
    const phys_geometry_t *g = o->g;
    phys_hlf_compute(g, x, o->feat);
    o->n++;
    for (int k = 0; k < o->nf; k++) welford(&o->mean[k], &o->m2[k], o->feat[k], o->n);
    welford(&o->ratio_mean, &o->ratio_m2, o->feat[0] / E_inc, o->n);
    const double w = 1.0 / o->n;
    for (int l = 0; l < g->n_layers; l++) {
        double e = 0;
        for (int v = g->offset[l]; v < g->offset[l + 1]; v++) e += x[v];
        o->long_prof[l] += (e - o->long_prof[l]) * w;
    }
    if (o->rad_prof) {
        for (int i = 0; i < o->n_rad; i++) {
            double e = 0;
            for (int l = 0; l < g->n_layers; l++)
                for (int a = 0; a < g->n_alpha[l] && g->n_r[l]; a++) e += x[g->offset[l] + a * g->n_r[l] + i];
            o->rad_prof[i] += (e - o->rad_prof[i]) * w;
        }
    }
    for (int v = 0; v < g->n_voxels; v++) {
        if (x[v] <= 0) continue;
        double b = floor((log10(x[v]) + 3.0) * 10.0);
        int k = b < 0 ? 0 : b >= PHYS_SPEC_BINS ? PHYS_SPEC_BINS + 1 : (int)b + 1;
        o->spectrum[k] += 1;
    }
}

/* Pairwise merge (Chan, Golub, LeVeque): mean = (na ma + nb mb) / n,
 * m2 = m2a + m2b + d^2 na nb / n with d = mb - ma. */
static void merge_moments(double *ma, double *m2a, double mb, double m2b, double na, double nb)
{
    double n = na + nb, d = mb - *ma;
    *ma += d * nb / n;
    *m2a += m2b + d * d * na * nb / n;
}

void phys_obs_merge(phys_obs_t *a, const phys_obs_t *b)
{
    if (b->n == 0) return;
    double na = (double)a->n, nb = (double)b->n, n = na + nb;
    for (int k = 0; k < a->nf; k++) merge_moments(&a->mean[k], &a->m2[k], b->mean[k], b->m2[k], na, nb);
    merge_moments(&a->ratio_mean, &a->ratio_m2, b->ratio_mean, b->ratio_m2, na, nb);
    for (int l = 0; l < a->g->n_layers; l++) a->long_prof[l] = (na * a->long_prof[l] + nb * b->long_prof[l]) / n;
    for (int i = 0; i < a->n_rad; i++) a->rad_prof[i] = (na * a->rad_prof[i] + nb * b->rad_prof[i]) / n;
    for (int k = 0; k < PHYS_SPEC_BINS + 2; k++) a->spectrum[k] += b->spectrum[k];
    a->n += b->n;
}

size_t phys_obs_state_size(const phys_obs_t *o)
{
    return 3 + 2 * (size_t)o->nf + (size_t)o->g->n_layers + (size_t)o->n_rad + PHYS_SPEC_BINS + 2;
}

/* One walk over the state for both directions: save (dir 0) copies fields to s, load (1) back. */
static void state_io(phys_obs_t *o, double *s, int load)
{
    double n = (double)o->n;
    double *f[7] = {&n, o->mean, o->m2, &o->ratio_mean, &o->ratio_m2, o->long_prof, o->rad_prof};
    const size_t c[7] = {1, (size_t)o->nf, (size_t)o->nf, 1, 1, (size_t)o->g->n_layers, (size_t)o->n_rad};
    for (int k = 0; k < 7; k++) {
        if (c[k]) memcpy(load ? f[k] : s, load ? s : f[k], c[k] * sizeof(double));
        s += c[k];
    }
    memcpy(load ? o->spectrum : s, load ? s : o->spectrum, sizeof o->spectrum);
    if (load) o->n = (size_t)n;
}

void phys_obs_save(const phys_obs_t *o, double *state) { state_io((phys_obs_t *)o, state, 0); }
void phys_obs_load(phys_obs_t *o, const double *state) { state_io(o, (double *)state, 1); }

double phys_obs_sd(const phys_obs_t *o, int k) { return o->n ? sqrt(o->m2[k] / o->n) : 0; }
