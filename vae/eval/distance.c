/* vae/eval/distance.c: FPD and KPD (see distance.h). */
#include "vae/eval/distance.h"

#include "base/rng.h"
#include "base/status.h"
#include "base/streams.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

eval_distance_opts_t eval_distance_defaults(void)
{
    return (eval_distance_opts_t){.min_samples = 10000, .max_samples = 50000, .num_batches = 20, .num_points = 10,
                                  .kpd_batches = 10, .kpd_batch_size = 5000, .seed = 42};
}

/* Xn, Yn: X and Y divided column-wise by max |X| (1 where that is 0); allocated here. */
static int normalised(const double *X, size_t nx, const double *Y, size_t ny, int D, double **Xn, double **Yn)
{
    double *m = calloc((size_t)D, sizeof *m);
    *Xn = malloc(nx * D * sizeof **Xn), *Yn = malloc(ny * D * sizeof **Yn);
    if (!m || !*Xn || !*Yn) {
        free(m), free(*Xn), free(*Yn), *Xn = *Yn = NULL;
        return base_error(BASE_ENOMEM, "distance: out of memory for %zu + %zu rows of %d features", nx, ny, D);
    }
    for (size_t i = 0; i < nx; i++)
        for (int d = 0; d < D; d++) m[d] = fmax(m[d], fabs(X[i * D + d]));
    for (int d = 0; d < D; d++)
        if (m[d] == 0) m[d] = 1;
    for (size_t i = 0; i < nx; i++)
        for (int d = 0; d < D; d++) (*Xn)[i * D + d] = X[i * D + d] / m[d];
    for (size_t i = 0; i < ny; i++)
        for (int d = 0; d < D; d++) (*Yn)[i * D + d] = Y[i * D + d] / m[d];
    free(m);
    return BASE_OK;
}

/* B: (N, D) rows of A: (n, D) drawn with replacement from r. */
static void draw_rows(base_rng_t *r, const double *A, size_t n, int D, size_t N, double *B)
{
    for (size_t i = 0; i < N; i++) {
        size_t k = base_rng_below(r, (uint32_t)n);
        memcpy(B + i * D, A + k * D, (size_t)D * sizeof(double));
    }
}

/* mu: (D) mean and S: (D, D) unbiased covariance of B: (N, D), which is centred in place. */
static void mean_cov(double *B, size_t N, int D, double *mu, double *S)
{
    memset(mu, 0, (size_t)D * sizeof *mu);
    for (size_t i = 0; i < N; i++)
        for (int d = 0; d < D; d++) mu[d] += B[i * D + d];
    for (int d = 0; d < D; d++) mu[d] /= (double)N;
    for (size_t i = 0; i < N; i++)
        for (int d = 0; d < D; d++) B[i * D + d] -= mu[d];
    /* S = B^T B / (N - 1), upper triangle, then mirrored */
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, D, (int)N, 1.0 / ((double)N - 1), B, D, 0.0, S, D);
    for (int i = 0; i < D; i++)
        for (int j = 0; j < i; j++) S[i * D + j] = S[j * D + i];
}

int eval_trace_sqrt_product(const double *A, const double *B, int D, double *tr)
{
    const size_t DD = (size_t)D * D;
    double *U = malloc(DD * sizeof *U), *w = malloc((size_t)D * sizeof *w), *H = malloc(DD * sizeof *H),
           *T = malloc(DD * sizeof *T);
    int rc = U && w && H && T ? BASE_OK : base_error(BASE_ENOMEM, "distance: out of memory");
    /* A = U diag(w) U^T; H = A^(1/2) = U diag(sqrt w+) U^T */
    if (rc == BASE_OK) {
        memcpy(U, A, DD * sizeof *U);
        if (LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', D, U, D, w) != 0)
            rc = base_error(BASE_ENUM, "distance: eigen-decomposition failed");
    }
    if (rc == BASE_OK) {
        for (int i = 0; i < D; i++) /* T = U diag(w+^(1/4)): H = T T^T */
            for (int j = 0; j < D; j++) T[(size_t)i * D + j] = U[(size_t)i * D + j] * sqrt(sqrt(fmax(w[j], 0.0)));
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, D, D, D, 1.0, T, D, T, D, 0.0, H, D);
        /* M = H B H (symmetric): T = B H, U = H T */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, D, D, D, 1.0, B, D, H, D, 0.0, T, D);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, D, D, D, 1.0, H, D, T, D, 0.0, U, D);
        for (int i = 0; i < D; i++) /* symmetrise the rounding */
            for (int j = 0; j < i; j++) U[(size_t)i * D + j] = U[(size_t)j * D + i] = 0.5 * (U[(size_t)i * D + j] + U[(size_t)j * D + i]);
        if (LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', D, U, D, w) != 0)
            rc = base_error(BASE_ENUM, "distance: eigen-decomposition failed");
    }
    if (rc == BASE_OK) {
        double s = 0;
        for (int i = 0; i < D; i++) s += sqrt(fmax(w[i], 0.0));
        *tr = s;
    }
    free(U), free(w), free(H), free(T);
    return rc;
}

/* Least squares y = a + b x with a, b >= 0 over m points (the active set of the smallest sum
 * of squares among the feasible candidates); err: the standard error of a. */
static void fit_line(const double *x, const double *y, int m, double *a, double *err)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < m; i++) sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i];
    double det = m * sxx - sx * sx, cand[4][2] = {{(sxx * sy - sx * sxy) / det, (m * sxy - sx * sy) / det},
                                                   {0, fmax(sxy / sxx, 0)}, {fmax(sy / m, 0), 0}, {0, 0}};
    double best = INFINITY;
    for (int c = 0; c < 4; c++) {
        if (cand[c][0] < 0 || cand[c][1] < 0) continue;
        double ssr = 0;
        for (int i = 0; i < m; i++) ssr += pow(y[i] - cand[c][0] - cand[c][1] * x[i], 2);
        if (ssr < best) best = ssr, *a = cand[c][0];
    }
    /* pcov = s^2 (J^T J)^-1 with J = [1, x]: (J^T J)^-1_00 = sxx / det */
    *err = m > 2 ? sqrt(best / (m - 2) * sxx / det) : INFINITY;
}

int eval_fpd(const double *X, size_t nx, const double *Y, size_t ny, int D, const eval_distance_opts_t *o,
             double *val, double *err)
{
    if (nx < 2 || ny < 2 || D < 1 || o->num_points < 3 || o->num_batches < 1 || o->min_samples < 2 ||
        o->max_samples < o->min_samples)
        return base_error(BASE_EINVAL, "FPD: %zu and %zu rows of %d features are too few", nx, ny, D);
    double *Xn, *Yn;
    BASE_TRY(normalised(X, nx, Y, ny, D, &Xn, &Yn));
    const size_t DD = (size_t)D * D, Nmax = (size_t)o->max_samples;
    double *B = malloc(Nmax * D * sizeof *B), *m1 = malloc((size_t)D * sizeof *m1), *m2 = malloc((size_t)D * sizeof *m2);
    double *S1 = malloc(DD * sizeof *S1), *S2 = malloc(DD * sizeof *S2);
    double *px = malloc((size_t)o->num_points * sizeof *px), *py = malloc((size_t)o->num_points * sizeof *py);
    int rc = B && m1 && m2 && S1 && S2 && px && py ? BASE_OK : base_error(BASE_ENOMEM, "FPD: out of memory");
    base_rng_t r;
    base_rng_init(&r, o->seed, BASE_STREAM_EVAL_DISTANCE);
    for (int k = 0; k < o->num_points && rc == BASE_OK; k++) {
        /* batch sizes at regular intervals in 1/N, truncated as numpy's astype(int32) */
        double inv = 1.0 / o->min_samples + k * (1.0 / o->max_samples - 1.0 / o->min_samples) / (o->num_points - 1);
        size_t N = (size_t)(1.0 / inv);
        double sum = 0;
        for (int b = 0; b < o->num_batches && rc == BASE_OK; b++) {
            draw_rows(&r, Xn, nx, D, N, B);
            mean_cov(B, N, D, m1, S1);
            draw_rows(&r, Yn, ny, D, N, B);
            mean_cov(B, N, D, m2, S2);
            double t, d2 = 0;
            rc = eval_trace_sqrt_product(S1, S2, D, &t);
            for (int d = 0; d < D; d++) d2 += (m1[d] - m2[d]) * (m1[d] - m2[d]) + S1[(size_t)d * D + d] + S2[(size_t)d * D + d];
            sum += d2 - 2 * t;
        }
        px[k] = 1.0 / (double)N, py[k] = sum / o->num_batches;
    }
    if (rc == BASE_OK) fit_line(px, py, o->num_points, val, err);
    free(Xn), free(Yn), free(B), free(m1), free(m2), free(S1), free(S2), free(px), free(py);
    return rc;
}

/* Sum of k(a_i, b_j) = (a_i . b_j / D + 1)^4 over i < na, j < nb (skipping i == j when same),
 * by blocks of rows of A (G: (64, nb) scratch). */
static double kernel_sum(const double *A, size_t na, const double *Bm, size_t nb, int D, int same, double *G)
{
    double s = 0;
    for (size_t i0 = 0; i0 < na; i0 += 64) {
        size_t m = na - i0 < 64 ? na - i0 : 64;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)nb, D, 1.0 / D, A + i0 * D, D, Bm, D, 0.0, G,
                    (int)nb);
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < nb; j++) {
                if (same && i0 + i == j) continue;
                double k = G[i * nb + j] + 1, k2 = k * k;
                s += k2 * k2;
            }
    }
    return s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q-th percentile of sorted v (n) with numpy's linear interpolation. */
static double percentile(const double *v, int n, double q)
{
    double pos = q / 100 * (n - 1);
    int i = (int)pos;
    return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[n - 1];
}

int eval_kpd(const double *X, size_t nx, const double *Y, size_t ny, int D, const eval_distance_opts_t *o,
             double *val, double *err)
{
    const size_t m = (size_t)o->kpd_batch_size;
    if (nx < 1 || ny < 1 || D < 1 || m < 2 || o->kpd_batches < 1)
        return base_error(BASE_EINVAL, "KPD: %zu and %zu rows of %d features, batches of %zu", nx, ny, D, m);
    double *Xn, *Yn;
    BASE_TRY(normalised(X, nx, Y, ny, D, &Xn, &Yn));
    double *A = malloc(m * D * sizeof *A), *Bm = malloc(m * D * sizeof *Bm), *G = malloc(64 * m * sizeof *G);
    double *v = malloc((size_t)o->kpd_batches * sizeof *v);
    int rc = A && Bm && G && v ? BASE_OK : base_error(BASE_ENOMEM, "KPD: out of memory");
    base_rng_t r;
    base_rng_init(&r, o->seed, BASE_STREAM_EVAL_DISTANCE);
    r.offset = 1ull << 40; /* after anything FPD draws from the same stream */
    for (int b = 0; b < o->kpd_batches && rc == BASE_OK; b++) {
        draw_rows(&r, Xn, nx, D, m, A);
        draw_rows(&r, Yn, ny, D, m, Bm);
        double md = (double)m;
        v[b] = kernel_sum(A, m, A, m, D, 1, G) / (md * (md - 1)) + kernel_sum(Bm, m, Bm, m, D, 1, G) / (md * (md - 1)) -
               2 * kernel_sum(A, m, Bm, m, D, 0, G) / (md * md);
    }
    if (rc == BASE_OK) {
        qsort(v, (size_t)o->kpd_batches, sizeof *v, cmp_double);
        *val = percentile(v, o->kpd_batches, 50);
        *err = 0.5 * (percentile(v, o->kpd_batches, 83.725) - percentile(v, o->kpd_batches, 16.275));
    }
    free(Xn), free(Yn), free(A), free(Bm), free(G), free(v);
    return rc;
}
