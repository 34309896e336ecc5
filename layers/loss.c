/* layers/loss.c: losses and gradients (see loss.h). */
#include "layers/loss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LOG_2PI 1.8378770664093453

/* Sums row[b] (already filled) in a fixed order and divides by B. */
static double batch_mean(const double *row, float *row_out, int B)
{
    double s = 0.0;
    for (int b = 0; b < B; b++) {
        s += row[b];
        if (row_out) row_out[b] = (float)row[b];
    }
    return s / B;
}

double layer_loss_bce_prob(float *dp, float *row, const float *p, const float *t, int B, int D,
                           float w)
{
    double *r = malloc((size_t)B * sizeof *r);
    if (!r) return NAN;
    const float g = w / B, lo = 1e-7f, hi = 1.f - 1e-7f;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        double s = 0.0;
        for (size_t i = (size_t)b * D; i < (size_t)(b + 1) * D; i++) {
            float q = fminf(fmaxf(p[i], lo), hi);
            s -= t[i] * log(q) + (1.0 - t[i]) * log1p(-q);
            if (dp) dp[i] = g * (q - t[i]) / (q * (1.f - q));
        }
        r[b] = s;
    }
    double L = batch_mean(r, row, B);
    free(r);
    return L;
}

double layer_loss_bce_logits(float *dz, float *row, const float *z, const float *t, int B, int D,
                             float w)
{
    double *r = malloc((size_t)B * sizeof *r);
    if (!r) return NAN;
    const float g = w / B;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        double s = 0.0;
        for (size_t i = (size_t)b * D; i < (size_t)(b + 1) * D; i++) {
            double x = z[i];
            s += fmax(x, 0.0) - x * t[i] + log1p(exp(-fabs(x)));
            if (dz) {
                /* sigmoid without overflow: e = exp(-|x|) <= 1 */
                double e = exp(-fabs(x)), sg = x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
                dz[i] = g * (float)(sg - t[i]);
            }
        }
        r[b] = s;
    }
    double L = batch_mean(r, row, B);
    free(r);
    return L;
}

double layer_loss_mse(float *dx, float *row, const float *x, const float *t, int B, int D, float w)
{
    double *r = malloc((size_t)B * sizeof *r);
    if (!r) return NAN;
    const float g = 2.f * w / B;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        double s = 0.0;
        for (size_t i = (size_t)b * D; i < (size_t)(b + 1) * D; i++) {
            double d = (double)x[i] - t[i];
            s += d * d;
            if (dx) dx[i] = g * (float)d;
        }
        r[b] = s;
    }
    double L = batch_mean(r, row, B);
    free(r);
    return L;
}

double layer_loss_gauss_nll(float *dmu, float *dlv, float *row, const float *mu, const float *lv,
                            const float *t, int B, int D, float w)
{
    double *r = malloc((size_t)B * sizeof *r);
    if (!r) return NAN;
    const float g = w / B;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        double s = 0.0;
        for (size_t i = (size_t)b * D; i < (size_t)(b + 1) * D; i++) {
            double d = (double)t[i] - mu[i], iv = exp(-(double)lv[i]);
            s += 0.5 * (LOG_2PI + lv[i] + d * d * iv);
            if (dmu) dmu[i] = g * (float)(-d * iv);
            if (dlv) dlv[i] = g * (float)(0.5 * (1.0 - d * d * iv));
        }
        r[b] = s;
    }
    double L = batch_mean(r, row, B);
    free(r);
    return L;
}

double layer_loss_kl_normal(float *dmu, float *dlv, float *row, float *kl_dim, const float *mu,
                            const float *lv, int B, int Z, float w)
{
    double *r = malloc((size_t)B * sizeof *r);
    if (!r) return NAN;
    const float g = w / B;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        double s = 0.0;
        for (size_t i = (size_t)b * Z; i < (size_t)(b + 1) * Z; i++) {
            double e = exp((double)lv[i]);
            s += -0.5 * (1.0 + lv[i] - (double)mu[i] * mu[i] - e);
            if (dmu) dmu[i] = g * mu[i];
            if (dlv) dlv[i] = g * (float)(0.5 * (e - 1.0));
        }
        r[b] = s;
    }
    if (kl_dim) {
        /* per-dimension batch mean, summed over b in order (deterministic) */
        for (int j = 0; j < Z; j++) {
            double s = 0.0;
            for (int b = 0; b < B; b++) {
                size_t i = (size_t)b * Z + j;
                s += -0.5 * (1.0 + lv[i] - (double)mu[i] * mu[i] - exp((double)lv[i]));
            }
            kl_dim[j] = (float)(s / B);
        }
    }
    double L = batch_mean(r, row, B);
    free(r);
    return L;
}
