/* layers/loss.c: losses and gradients (see loss.h).
 *
 * Every loss is a row function: it computes the summed loss of sample b (and the gradients
 * of that row) and is driven by batch_loss, which runs the rows in parallel and adds their
 * sums in row order, so the result does not depend on the thread count. */
#include "layers/loss.h"

#include <math.h>
#include <stdlib.h>

#define LOG_2PI 1.8378770664093453

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

/* a = p, b = t */
static double bce_prob_row(const loss_args_t *x, size_t lo, size_t hi)
{
    const float eps_lo = 1e-7f, eps_hi = 1.f - 1e-7f;
    double s = 0.0;
    for (size_t i = lo; i < hi; i++) {
        float q = fminf(fmaxf(x->a[i], eps_lo), eps_hi), t = x->b[i];
        s -= t * log(q) + (1.0 - t) * log1p(-q);
        if (x->ga) x->ga[i] = x->g * (q - t) / (q * (1.f - q));
    }
    return s;
}

/* a = z, b = t */
static double bce_logits_row(const loss_args_t *x, size_t lo, size_t hi)
{
    double s = 0.0;
    for (size_t i = lo; i < hi; i++) {
        double z = x->a[i], t = x->b[i], e = exp(-fabs(z)); /* e <= 1: no overflow */
        s += fmax(z, 0.0) - z * t + log1p(e);
        if (x->ga) x->ga[i] = x->g * (float)((z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e)) - t);
    }
    return s;
}

/* a = x, b = t */
static double mse_row(const loss_args_t *x, size_t lo, size_t hi)
{
    double s = 0.0;
    for (size_t i = lo; i < hi; i++) {
        double d = (double)x->a[i] - x->b[i];
        s += d * d;
        if (x->ga) x->ga[i] = x->g * (float)(2.0 * d);
    }
    return s;
}

/* a = mu, b = lv, c = t */
static double gauss_row(const loss_args_t *x, size_t lo, size_t hi)
{
    double s = 0.0;
    for (size_t i = lo; i < hi; i++) {
        double d = (double)x->c[i] - x->a[i], iv = exp(-(double)x->b[i]);
        s += 0.5 * (LOG_2PI + x->b[i] + d * d * iv);
        if (x->ga) x->ga[i] = x->g * (float)(-d * iv);
        if (x->gb) x->gb[i] = x->g * (float)(0.5 * (1.0 - d * d * iv));
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

double layer_loss_bce_prob(float *dp, float *row, const float *p, const float *t, int B, int D,
                           float w)
{
    loss_args_t x = {.a = p, .b = t, .ga = dp, .D = D, .g = w / B};
    return batch_loss(bce_prob_row, &x, row, B);
}

double layer_loss_bce_logits(float *dz, float *row, const float *z, const float *t, int B, int D,
                             float w)
{
    loss_args_t x = {.a = z, .b = t, .ga = dz, .D = D, .g = w / B};
    return batch_loss(bce_logits_row, &x, row, B);
}

double layer_loss_mse(float *dx, float *row, const float *xx, const float *t, int B, int D, float w)
{
    loss_args_t x = {.a = xx, .b = t, .ga = dx, .D = D, .g = w / B};
    return batch_loss(mse_row, &x, row, B);
}

double layer_loss_gauss_nll(float *dmu, float *dlv, float *row, const float *mu, const float *lv,
                            const float *t, int B, int D, float w)
{
    loss_args_t x = {.a = mu, .b = lv, .c = t, .ga = dmu, .gb = dlv, .D = D, .g = w / B};
    return batch_loss(gauss_row, &x, row, B);
}

double layer_loss_kl_normal(float *dmu, float *dlv, float *row, float *kl_dim, const float *mu,
                            const float *lv, int B, int Z, float w)
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
