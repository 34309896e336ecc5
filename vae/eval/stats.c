/* vae/eval/stats.c: histograms, separation power, AUC, isotonic calibration, JSD (see stats.h). */
#include "vae/eval/stats.h"
#include "layers/loss.h"

#include "base/status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int eval_hist_init(eval_hist_t *h, int n, double lo, double hi, int log)
{
    memset(h, 0, sizeof *h);
    if (n < 1 || !(hi > lo) || (log && !(lo > 0)))
        return base_error(BASE_EINVAL, "histogram: bad binning (%d bins on [%g, %g]%s)", n, lo, hi, log ? ", log" : "");
    h->n = n, h->lo = lo, h->hi = hi, h->log = log;
    h->h = calloc((size_t)n, sizeof(double));
    return h->h ? BASE_OK : base_error(BASE_ENOMEM, "histogram: out of memory");
}

void eval_hist_free(eval_hist_t *h)
{
    if (!h) return;
    free(h->h);
    memset(h, 0, sizeof *h);
}

void eval_hist_fill(eval_hist_t *h, double v)
{
    if (!(v >= h->lo && v <= h->hi)) return; /* the last bin is closed, as numpy */
    double f = h->log ? (log10(v) - log10(h->lo)) / (log10(h->hi) - log10(h->lo)) : (v - h->lo) / (h->hi - h->lo);
    int i = (int)(f * h->n);
    h->h[i < h->n ? i : h->n - 1] += 1;
}

double eval_hist_edge(const eval_hist_t *h, int i)
{
    double f = (double)i / h->n;
    return h->log ? pow(10, log10(h->lo) + f * (log10(h->hi) - log10(h->lo))) : h->lo + f * (h->hi - h->lo);
}

double eval_hist_total(const eval_hist_t *h)
{
    double s = 0;
    for (int i = 0; i < h->n; i++) s += h->h[i];
    return s;
}

double eval_separation(const double *a, const double *b, int n)
{
    double sa = 0, sb = 0, s = 0;
    for (int i = 0; i < n; i++) sa += a[i], sb += b[i];
    if (sa <= 0 || sb <= 0) return 0;
    for (int i = 0; i < n; i++) {
        double p = a[i] / sa, q = b[i] / sb;
        if (p + q > 0) s += (p - q) * (p - q) / (p + q);
    }
    return 0.5 * s;
}

typedef struct {
    float s;
    unsigned char y;
} sl_t;

static int cmp_sl(const void *a, const void *b)
{
    float x = ((const sl_t *)a)->s, y = ((const sl_t *)b)->s;
    return (x > y) - (x < y);
}

/* Sorted copy of (score, label). */
static sl_t *sorted(const float *score, const unsigned char *label, size_t n)
{
    sl_t *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < n; i++) v[i] = (sl_t){score[i], label[i]};
    qsort(v, n, sizeof *v, cmp_sl);
    return v;
}

double eval_auc(const float *score, const unsigned char *label, size_t n)
{
    sl_t *v = sorted(score, label, n);
    if (!v) return NAN;
    /* Mann-Whitney U with mid-ranks for ties: AUC = (R1 - n1 (n1 + 1) / 2) / (n1 n0) */
    double r1 = 0, n1 = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s) j++;
        double rank = 0.5 * (double)(i + 1 + j); /* mean of ranks i+1 .. j */
        for (size_t k = i; k < j; k++)
            if (v[k].y) r1 += rank, n1 += 1;
        i = j;
    }
    free(v);
    double n0 = (double)n - n1;
    if (n1 == 0 || n0 == 0) return NAN;
    return (r1 - n1 * (n1 + 1) / 2) / (n1 * n0);
}

int eval_isotonic_fit(eval_isotonic_t *c, const float *score, const unsigned char *label, size_t n)
{
    memset(c, 0, sizeof *c);
    sl_t *v = sorted(score, label, n);
    double *sum = malloc((n ? n : 1) * sizeof *sum), *w = malloc((n ? n : 1) * sizeof *w);
    c->x = malloc((n ? n : 1) * sizeof *c->x);
    c->xl = malloc((n ? n : 1) * sizeof *c->xl);
    c->p = malloc((n ? n : 1) * sizeof *c->p);
    if (!v || !sum || !w || !c->x || !c->xl || !c->p) {
        free(v), free(sum), free(w);
        eval_isotonic_free(c);
        return base_error(BASE_ENOMEM, "isotonic: out of memory");
    }
    /* pool adjacent violators: blocks of (sum of labels, count) over [xl, x], merged while means
     * do not increase (equal scores always end in one block: a new score equal to the last
     * block's upper end joins it) */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && v[i].s == c->x[k - 1]) {
            sum[k - 1] += v[i].y, w[k - 1] += 1;
        } else {
            sum[k] = v[i].y, w[k] = 1, c->x[k] = c->xl[k] = v[i].s;
            k++;
        }
        while (k > 1 && sum[k - 2] / w[k - 2] >= sum[k - 1] / w[k - 1]) {
            sum[k - 2] += sum[k - 1], w[k - 2] += w[k - 1], c->x[k - 2] = c->x[k - 1];
            k--;
        }
    }
    for (size_t i = 0; i < k; i++) c->p[i] = sum[i] / w[i];
    c->n = k;
    free(v), free(sum), free(w);
    return BASE_OK;
}

double eval_isotonic_apply(const eval_isotonic_t *c, double s)
{
    if (c->n == 0) return 0.5;
    size_t lo = 0, hi = c->n - 1; /* the first block whose upper end >= s */
    if (s >= c->x[hi]) return c->p[hi];
    if (s <= c->xl[0]) return c->p[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->x[mid] >= s) hi = mid;
        else lo = mid + 1;
    }
    if (s >= c->xl[lo]) return c->p[lo]; /* inside the block */
    /* between block lo - 1's upper end and block lo's lower end: linear, as sklearn's np.interp */
    double a = c->x[lo - 1], b = c->xl[lo];
    return c->p[lo - 1] + (s - a) / (b - a) * (c->p[lo] - c->p[lo - 1]);
}

void eval_isotonic_free(eval_isotonic_t *c)
{
    if (!c) return;
    free(c->x);
    free(c->xl);
    free(c->p);
    memset(c, 0, sizeof *c);
}

double eval_jsd(const double *p, const unsigned char *label, size_t n)
{
    double bce = 0;
    for (size_t i = 0; i < n; i++) bce += layer_bce_prob(p[i], label[i], NULL);
    return log(2.0) - bce / (double)n;
}
