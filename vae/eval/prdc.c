/* vae/eval/prdc.c: precision, recall, density, coverage (see prdc.h). */
#include "vae/eval/prdc.h"

#include "base/status.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 128 /* rows of A per sgemm */

void eval_prdc_features(float *x, size_t n, int V)
{
    for (size_t i = 0; i < n * (size_t)V; i++) x[i] = log10f(x[i] == 0 ? 0.1f : x[i]);
}

static double *row_norms(const float *A, size_t n, int V)
{
    double *q = malloc((n ? n : 1) * sizeof *q);
    if (!q) return NULL;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (int v = 0; v < V; v++) s += (double)A[i * V + v] * A[i * V + v];
        q[i] = s;
    }
    return q;
}

/* Calls fn(ctx, i, j, d2) for every pair of a row i of A (na, V) and a row j of B (nb, V), by
 * blocks of BLOCK rows of A (rows of one block in parallel; each row's pairs in order of j). */
typedef void (*pair_fn)(void *ctx, size_t i, const double *d2, size_t nb);
static int for_pairs(const float *A, const double *qa, size_t na, const float *B, const double *qb, size_t nb, int V,
                     pair_fn fn, void *ctx)
{
    float *G = malloc((size_t)BLOCK * nb * sizeof *G);
    double *d2 = malloc((size_t)BLOCK * nb * sizeof *d2);
    if (!G || !d2) {
        free(G), free(d2);
        return base_error(BASE_ENOMEM, "prdc: out of memory for blocks of %zu distances", (size_t)BLOCK * nb);
    }
    for (size_t i0 = 0; i0 < na; i0 += BLOCK) {
        size_t m = na - i0 < BLOCK ? na - i0 : BLOCK;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)nb, V, 1.f, A + i0 * V, V, B, V, 0.f, G,
                    (int)nb);
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < m; i++) {
            double *d = d2 + i * nb;
            for (size_t j = 0; j < nb; j++) d[j] = fmax(qa[i0 + i] + qb[j] - 2.0 * G[i * nb + j], 0.0);
            fn(ctx, i0 + i, d, nb);
        }
    }
    free(G), free(d2);
    return BASE_OK;
}

/* The (k+1)-th smallest squared distance of row i (itself, at ~0, is the first). */
typedef struct {
    int k;
    double *r2;
} knn_t;

static void knn_row(void *ctx, size_t i, const double *d2, size_t nb)
{
    knn_t *c = ctx;
    double best[64];
    int n = 0, K = c->k + 1;
    for (size_t j = 0; j < nb; j++) { /* insertion into the K smallest so far */
        double v = d2[j];
        if (n == K && v >= best[K - 1]) continue;
        int p = n < K ? n++ : K - 1;
        while (p > 0 && best[p - 1] > v) best[p] = best[p - 1], p--;
        best[p] = v;
    }
    c->r2[i] = best[n - 1];
}

/* Real row i against every fake: counts for precision and density (per fake, summed over the
 * real rows of one thread into its own arrays), recall and coverage (per real row). */
typedef struct {
    const double *rr2, *rf2; /* squared radii of reals and fakes */
    unsigned *cnt;           /* (threads, nf) #{i: d(i, j) < r_i} */
    unsigned char *rec, *cov; /* (nr) */
} cross_t;

#ifdef _OPENMP
#include <omp.h>
#define THREAD omp_get_thread_num()
#else
#define THREAD 0
#endif

static void cross_row(void *ctx, size_t i, const double *d2, size_t nf)
{
    cross_t *c = ctx;
    unsigned *cnt = c->cnt + (size_t)THREAD * nf;
    double ri = c->rr2[i], mn = INFINITY;
    int rec = 0;
    for (size_t j = 0; j < nf; j++) {
        cnt[j] += d2[j] < ri;
        rec |= d2[j] < c->rf2[j];
        mn = fmin(mn, d2[j]);
    }
    c->rec[i] = (unsigned char)rec, c->cov[i] = mn < ri;
}

int eval_prdc(const float *R, size_t nr, const float *F, size_t nf, int V, int k, eval_prdc_t *out)
{
    if (k < 1 || k > 63 || nr <= (size_t)k || nf <= (size_t)k || V < 1)
        return base_error(BASE_EINVAL, "prdc: %zu real and %zu fake rows for k = %d", nr, nf, k);
#ifdef _OPENMP
    int T = omp_get_max_threads();
#else
    int T = 1;
#endif
    double *qr = row_norms(R, nr, V), *qf = row_norms(F, nf, V);
    double *rr2 = malloc(nr * sizeof *rr2), *rf2 = malloc(nf * sizeof *rf2);
    unsigned *cnt = calloc((size_t)T * nf, sizeof *cnt);
    unsigned char *rec = malloc(nr), *cov = malloc(nr);
    int rc = qr && qf && rr2 && rf2 && cnt && rec && cov ? BASE_OK : base_error(BASE_ENOMEM, "prdc: out of memory");
    knn_t kr = {k, rr2}, kf = {k, rf2};
    if (rc == BASE_OK) rc = for_pairs(R, qr, nr, R, qr, nr, V, knn_row, &kr);
    if (rc == BASE_OK) rc = for_pairs(F, qf, nf, F, qf, nf, V, knn_row, &kf);
    cross_t c = {rr2, rf2, cnt, rec, cov};
    if (rc == BASE_OK) rc = for_pairs(R, qr, nr, F, qf, nf, V, cross_row, &c);
    if (rc == BASE_OK) {
        double prec = 0, dens = 0, recall = 0, cover = 0;
        for (size_t j = 0; j < nf; j++) {
            unsigned s = 0;
            for (int t = 0; t < T; t++) s += cnt[(size_t)t * nf + j];
            prec += s > 0, dens += s;
        }
        for (size_t i = 0; i < nr; i++) recall += rec[i], cover += cov[i];
        out->precision = prec / (double)nf, out->density = dens / ((double)k * nf);
        out->recall = recall / (double)nr, out->coverage = cover / (double)nr;
    }
    free(qr), free(qf), free(rr2), free(rf2), free(cnt), free(rec), free(cov);
    return rc;
}
