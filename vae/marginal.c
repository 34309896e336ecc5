/* vae/marginal.c: the conditional marginal flow (see marginal.h). */
#include "vae/marginal.h"

#include "base/status.h"
#include "layers/loss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define H (2 * VAE_MARG_T / (VAE_MARG_KNOTS - 1))

int vae_marg_init(vae_marg_t *m, int B, int J)
{
    memset(m, 0, sizeof *m);
    if (B < 1 || B > VAE_MARG_MAX_BINS || J < 1)
        return base_error(BASE_EINVAL, "marginal flow: %d bins for %d coordinates", B, J);
    m->B = B, m->J = J, m->M = VAE_MARG_KNOTS;
    m->uc = calloc((size_t)B, sizeof(float));
    m->q = calloc((size_t)B * J * m->M, sizeof(float));
    m->lo = calloc((size_t)J, sizeof(float));
    m->f = calloc((size_t)B * J, sizeof(float));
    if (!m->uc || !m->q || !m->lo || !m->f) {
        vae_marg_free(m);
        return base_error(BASE_ENOMEM, "marginal flow: out of memory");
    }
    return BASE_OK;
}

void vae_marg_free(vae_marg_t *m)
{
    if (!m) return;
    free(m->uc), free(m->q), free(m->lo), free(m->f);
    memset(m, 0, sizeof *m);
}

int vae_marg_copy(vae_marg_t *dst, const vae_marg_t *src)
{
    memset(dst, 0, sizeof *dst);
    if (src->B == 0) return BASE_OK;
    BASE_TRY(vae_marg_init(dst, src->B, src->J));
    memcpy(dst->uc, src->uc, (size_t)src->B * sizeof(float));
    memcpy(dst->q, src->q, (size_t)src->B * src->J * src->M * sizeof(float));
    memcpy(dst->lo, src->lo, (size_t)src->J * sizeof(float));
    memcpy(dst->f, src->f, (size_t)src->B * src->J * sizeof(float));
    return BASE_OK;
}

int vae_marg_check(const vae_marg_t *m)
{
    if (m->B == 0) return BASE_OK;
    for (int b = 0; b < m->B; b++)
        if (!isfinite(m->uc[b]) || (b > 0 && !(m->uc[b] > m->uc[b - 1])))
            return base_error(BASE_EINVAL, "marginal flow: bin centre %d (%g) is not finite and increasing", b, m->uc[b]);
    for (int j = 0; j < m->J; j++)
        if (!(m->lo[j] <= 0 && m->lo[j] > -1e30f))
            return base_error(BASE_EINVAL, "marginal flow: band of coordinate %d starts at %g", j, m->lo[j]);
    for (size_t s = 0; s < (size_t)m->B * m->J; s++) {
        const float *q = m->q + s * m->M, f = m->f[s];
        int band = m->lo[s % (size_t)m->J] < 0;
        if (band ? !(f > 0 && f < 1) : f != 0)
            return base_error(BASE_EINVAL, "marginal flow: empty fraction %g of bin %zu, coordinate %zu", f,
                              s / (size_t)m->J, s % (size_t)m->J);
        for (int k = 0; k < m->M; k++)
            if (!isfinite(q[k]) || (k > 0 && !(q[k] > q[k - 1])))
                return base_error(BASE_EINVAL, "marginal flow: knots of bin %zu, coordinate %zu are not increasing",
                                  s / (size_t)m->J, s % (size_t)m->J);
    }
    return BASE_OK;
}

/* ---- fitting ---- */

typedef struct {
    float u;
    size_t row;
} urow_t;

static int cmp_urow(const void *a, const void *b)
{
    const urow_t *x = a, *y = b;
    return x->u < y->u ? -1 : x->u > y->u ? 1 : x->row < y->row ? -1 : x->row > y->row;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* q: (M) knots from n sorted values v: the quantile at Phi(t_k) by linear interpolation of
 * the order statistics at the Hazen position P n - 1/2, then made strictly increasing (a gap
 * of at least 1e-6 of the range, and one float step). */
static void knots_from_sorted(const float *v, size_t n, float *q)
{
    double d[VAE_MARG_KNOTS];
    for (int k = 0; k < VAE_MARG_KNOTS; k++) {
        double t = -VAE_MARG_T + k * H, P = 0.5 * erfc(-t / sqrt(2.0));
        double pos = fmin(fmax(P * (double)n - 0.5, 0.0), (double)(n - 1));
        size_t i = (size_t)pos;
        double f = pos - (double)i;
        d[k] = i + 1 < n ? v[i] + f * ((double)v[i + 1] - v[i]) : v[i];
    }
    double gap = 1e-6 * fmax(d[VAE_MARG_KNOTS - 1] - d[0], 1e-6 * (fabs(d[0]) + 1));
    for (int k = 0; k < VAE_MARG_KNOTS; k++) {
        if (k > 0 && d[k] < d[k - 1] + gap) d[k] = d[k - 1] + gap;
        q[k] = (float)d[k];
        if (k > 0 && !(q[k] > q[k - 1])) q[k] = nextafterf(q[k - 1], INFINITY);
    }
}

/* The knots and empty fraction of coordinate j in bin b (rows ord[lo .. hi)); pool: (J)
 * fallbacks for a band coordinate with fewer than 8 non-empty values in the bin: all of its
 * non-empty values (or [0, 1] when it has none). */
static void fit_cell(vae_marg_t *m, const float *Y, int S, const urow_t *ord, size_t lo, size_t hi, int b, int j,
                     const float *pool, size_t npool)
{
    const size_t n = hi - lo;
    float *v = malloc((n ? n : 1) * sizeof(float));
    float *q = m->q + ((size_t)b * m->J + j) * m->M;
    if (!v) return; /* the knots stay zero and fail the check */
    size_t k = 0;
    const int band = m->lo[j] < 0;
    for (size_t i = lo; i < hi; i++) {
        float y = Y[ord[i].row * S + (S - m->J) + j];
        if (!band || y >= 0) v[k++] = y;
    }
    if (band) {
        double e = 0.5 / ((double)n + 1); /* the empty fraction kept inside (0, 1) */
        m->f[(size_t)b * m->J + j] = (float)fmin(fmax((double)(n - k) / (double)n, e), 1 - e);
    }
    if (band && k < 8) {
        static const float unit[2] = {0, 1};
        knots_from_sorted(npool ? pool : unit, npool ? npool : 2, q);
    } else {
        qsort(v, k, sizeof(float), cmp_float);
        knots_from_sorted(v, k, q);
    }
    free(v);
}

/* pool: (n) the sorted non-empty values of band coordinate j over all rows; NULL if none. */
static float *pool_of(const float *Y, size_t N, int S, int c0, int j, size_t *n)
{
    float *v = malloc((N ? N : 1) * sizeof(float));
    *n = 0;
    if (!v) return NULL;
    for (size_t i = 0; i < N; i++)
        if (Y[i * S + c0 + j] >= 0) v[(*n)++] = Y[i * S + c0 + j];
    qsort(v, *n, sizeof(float), cmp_float);
    return v;
}

int vae_marg_fit(vae_marg_t *m, const float *Y, size_t N, int S, int J, const float *lo, size_t rows_per_bin)
{
    memset(m, 0, sizeof *m);
    if (N < 2 || S < J + 1) return base_error(BASE_EINVAL, "marginal flow: %zu rows of %d columns for %d coordinates", N, S, J);
    urow_t *ord = malloc(N * sizeof *ord);
    if (!ord) return base_error(BASE_ENOMEM, "marginal flow: out of memory");
    for (size_t i = 0; i < N; i++) ord[i] = (urow_t){Y[i * S], i};
    qsort(ord, N, sizeof *ord, cmp_urow);
    size_t per = rows_per_bin > 0 ? rows_per_bin : N;
    int B = (int)(N / per);
    if (B < 1) B = 1;
    if (B > VAE_MARG_MAX_BINS) B = VAE_MARG_MAX_BINS;
    if (!(ord[N - 1].u - ord[0].u > 1e-6f)) B = 1; /* one condition: one bin */
    int rc = vae_marg_init(m, B, J);
    for (int j = 0; j < J && rc == BASE_OK; j++) m->lo[j] = lo && lo[j] < 0 ? lo[j] : 0;
    for (int b = 0; b < B && rc == BASE_OK; b++) { /* equal-count bins, centred at their mean u */
        size_t lo = N * b / B, hi = N * (b + 1) / B;
        double s = 0;
        for (size_t i = lo; i < hi; i++) s += ord[i].u;
        m->uc[b] = (float)(s / (double)(hi - lo));
        if (b > 0 && !(m->uc[b] > m->uc[b - 1])) m->uc[b] = nextafterf(m->uc[b - 1], INFINITY);
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (int j = 0; j < (rc == BASE_OK ? J : 0); j++) {
        size_t np = 0;
        float *pool = m->lo[j] < 0 ? pool_of(Y, N, S, S - J, j, &np) : NULL;
        for (int b = 0; b < B; b++) fit_cell(m, Y, S, ord, N * b / B, N * (b + 1) / B, b, j, pool, np);
        free(pool);
    }
    free(ord);
    if (rc == BASE_OK) rc = vae_marg_check(m);
    if (rc != BASE_OK) vae_marg_free(m);
    return rc;
}

/* ---- evaluation ---- */

/* The bins a and a + 1 around u and the weight w of a + 1 (clamped at the ends). */
static void bin_weights(const vae_marg_t *m, double u, int *a, double *w)
{
    if (m->B == 1 || u <= m->uc[0]) {
        *a = 0, *w = 0;
        return;
    }
    if (u >= m->uc[m->B - 1]) {
        *a = m->B - 2, *w = 1;
        return;
    }
    int b = 0;
    while (b + 2 < m->B && u >= m->uc[b + 1]) b++;
    *a = b, *w = (u - m->uc[b]) / ((double)m->uc[b + 1] - m->uc[b]);
}

/* q: (M) the knots of coordinate j at u: (1 - w) q(a) + w q(a + 1); returns f likewise. */
static double knots_at(const vae_marg_t *m, int a, double w, int j, double *q)
{
    const size_t c0 = (size_t)a * m->J + j, c1 = m->B > 1 ? c0 + (size_t)m->J : c0;
    const float *q0 = m->q + c0 * m->M, *q1 = m->q + c1 * m->M;
    for (int k = 0; k < m->M; k++) q[k] = (1 - w) * q0[k] + w * q1[k];
    return (1 - w) * m->f[c0] + w * m->f[c1];
}

#define LN_SQRT_2PI 0.91893853320467274
static double Phi(double t) { return 0.5 * erfc(-t / sqrt(2.0)); }
static double upper(double t) { return 0.5 * erfc(t / sqrt(2.0)); } /* 1 - Phi(t) */
static double ln_phi(double t) { return -0.5 * t * t - LN_SQRT_2PI; }
/* Phi^-1 from P and 1 - P (the smaller of the two is exact). */
static double quantile(double P, double Q)
{
    const double tiny = 1e-300;
    return P < 0.5 ? layer_normal_quantile(fmax(P, tiny)) : -layer_normal_quantile(fmax(Q, tiny));
}

/* The slopes dy/dt used beyond the end knots: over the last unit of t at each end. */
#define TAIL_KNOTS ((int)(1.0 / H + 0.5))
static double slope_lo(const double *q) { return (q[TAIL_KNOTS] - q[0]) / (TAIL_KNOTS * H); }
static double slope_hi(const double *q, int M) { return (q[M - 1] - q[M - 1 - TAIL_KNOTS]) / (TAIL_KNOTS * H); }

/* t = G^-1(y) on knots q, and ln dt/dy into *ld. */
static double forward_one(const double *q, int M, double y, double *ld)
{
    if (y < q[0]) {
        double s = slope_lo(q);
        *ld = -log(s);
        return -VAE_MARG_T + (y - q[0]) / s;
    }
    if (y >= q[M - 1]) {
        double s = slope_hi(q, M);
        *ld = -log(s);
        return VAE_MARG_T + (y - q[M - 1]) / s;
    }
    int lo = 0, hi = M - 1; /* q[lo] <= y < q[hi] */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (y >= q[mid]) lo = mid;
        else hi = mid;
    }
    double d = q[lo + 1] - q[lo];
    *ld = log(H / d);
    return -VAE_MARG_T + lo * H + H * (y - q[lo]) / d;
}

static double inverse_one(const double *q, int M, double t)
{
    double x = (t + VAE_MARG_T) / H;
    if (x < 0) return q[0] + (t + VAE_MARG_T) * slope_lo(q);
    if (x >= M - 1) return q[M - 1] + (t - VAE_MARG_T) * slope_hi(q, M);
    int k = (int)x;
    return q[k] + (x - k) * (q[k + 1] - q[k]);
}

/* One coordinate y -> t at knots q, empty fraction f, band start lo (0: none); *ld = ln dt/dy. */
static double forward_coord(const double *q, int M, double f, double lo, double y, double *ld)
{
    if (!(lo < 0)) return forward_one(q, M, y, ld);
    if (y < 0) { /* the band: P = f (y - lo) / -lo */
        double P = fmax(f * (y - lo) / -lo, 0.0), t = quantile(P, 1 - P);
        *ld = log(f / -lo) - ln_phi(t);
        return t;
    }
    double ls, s = forward_one(q, M, y, &ls), P = f + (1 - f) * Phi(s), Q = (1 - f) * upper(s);
    double t = quantile(P, Q);
    *ld = log(1 - f) + ln_phi(s) + ls - ln_phi(t);
    return t;
}

static double inverse_coord(const double *q, int M, double f, double lo, double t)
{
    if (!(lo < 0)) return inverse_one(q, M, t);
    double P = Phi(t);
    if (P < f) return lo + -lo * P / f;
    double w = (P - f) / (1 - f), Q = upper(t) / (1 - f); /* w and 1 - w */
    return inverse_one(q, M, quantile(w, Q));
}

void vae_marg_forward(const vae_marg_t *m, float *Y, size_t N, int S, int split, double *logdet)
{
    if (m->B == 0) {
        if (logdet) memset(logdet, 0, 2 * N * sizeof(double));
        return;
    }
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < N; i++) {
        double q[VAE_MARG_KNOTS], w, s = 0, s1 = 0, ld;
        int a;
        float *y = Y + i * S;
        bin_weights(m, y[0], &a, &w);
        for (int j = 0; j < m->J; j++) {
            double f = knots_at(m, a, w, j, q);
            y[S - m->J + j] = (float)forward_coord(q, m->M, f, m->lo[j], y[S - m->J + j], &ld);
            s += ld;
            if (j < split) s1 += ld;
        }
        if (logdet) logdet[2 * i] = s1, logdet[2 * i + 1] = s;
    }
}

void vae_marg_inverse(const vae_marg_t *m, double u, float *x)
{
    if (m->B == 0) return;
    double q[VAE_MARG_KNOTS], w;
    int a;
    bin_weights(m, u, &a, &w);
    for (int j = 0; j < m->J; j++) {
        double f = knots_at(m, a, w, j, q);
        x[j] = (float)inverse_coord(q, m->M, f, m->lo[j], x[j]);
    }
}
