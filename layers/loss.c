/* layers/loss.c: losses and gradients (see loss.h).
 *
 * Every loss is a row function: it computes the summed loss of sample b (and the gradients
 * of that row) and is driven by batch_loss, which runs the rows in parallel and adds their
 * sums in row order, so the result does not depend on the thread count. */
#include "layers/loss.h"

#include "base/fastmath.h"

#include <math.h>
#include <stdlib.h>

/* Arguments shared by the row functions: inputs a, b, c; gradients ga, gb; weight g = w / B. */
typedef struct {
    const float *a, *b, *c;
    float *ga, *gb;
    int D;
    float g;
} loss_args_t;

typedef double (*row_fn)(const loss_args_t *x, size_t lo, size_t hi);

/* (1/B) sum_b rowf(b) with per-row values in row_out (if not NULL). */
static double batch_loss(row_fn rowf, const loss_args_t *x, float *row_out, int B)
{
    double *r = malloc((size_t)B * sizeof *r);
    if (!r) return NAN;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) r[b] = rowf(x, (size_t)b * x->D, (size_t)(b + 1) * x->D);
    double s = 0.0;
    for (int b = 0; b < B; b++) {
        s += r[b];
        if (row_out) row_out[b] = (float)r[b];
    }
    free(r);
    return s / B;
}

/* a = z, b = t */
static double bce_logits_row(const loss_args_t *x, size_t lo, size_t hi)
{
    double s = 0.0;
    for (size_t i = lo; i < hi; i++) {
        double dz;
        s += layer_bce_logit(x->a[i], x->b[i], x->ga ? &dz : NULL);
        if (x->ga) x->ga[i] = x->g * (float)dz;
    }
    return s;
}

static inline double kl1(double mu, double lv) { return -0.5 * (1.0 + lv - mu * mu - exp(lv)); }

/* a = mu, b = lv */
static double kl_row(const loss_args_t *x, size_t lo, size_t hi)
{
    double s = 0.0;
    for (size_t i = lo; i < hi; i++) {
        s += kl1(x->a[i], x->b[i]);
        if (x->ga) x->ga[i] = x->g * x->a[i];
        if (x->gb) x->gb[i] = x->g * (float)(0.5 * (exp((double)x->b[i]) - 1.0));
    }
    return s;
}

double layer_loss_bce_logits(const float *z, const float *t, int B, int D, float w, float *dz, float *row)
{
    loss_args_t x = {.a = z, .b = t, .ga = dz, .D = D, .g = w / B};
    return batch_loss(bce_logits_row, &x, row, B);
}

double layer_loss_kl_normal(const float *mu, const float *lv, int B, int Z, float w, float *dmu, float *dlv,
                            float *row, float *kl_dim)
{
    loss_args_t x = {.a = mu, .b = lv, .ga = dmu, .gb = dlv, .D = Z, .g = w / B};
    if (kl_dim) /* per-dimension batch mean, summed over b in order (deterministic) */
        for (int j = 0; j < Z; j++) {
            double s = 0.0;
            for (int b = 0; b < B; b++) s += kl1(mu[(size_t)b * Z + j], lv[(size_t)b * Z + j]);
            kl_dim[j] = (float)(s / B);
        }
    return batch_loss(kl_row, &x, row, B);
}

BASE_VECTOR_CLONES
void layer_bce_logits_f32(const float *z, const float *x, int n, float inv, float g, float *l, float *d)
{
    for (int v = 0; v < n; v++) {
        float zv = z[v], u = x[v] * inv, e = base_expf(-fabsf(zv)), q = 1.f / (1.f + e);
        u = u < 1.f ? u : 1.f;
        l[v] = (zv > 0.f ? zv : 0.f) - zv * u + base_logf(1.f + e);
        d[v] = g * ((zv >= 0 ? q : e * q) - u);
    }
}
