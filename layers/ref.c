/* layers/ref.c: naive double-precision reference loops (see ref.h). */
#include "layers/ref.h"

#include <math.h>
#include <stdlib.h>

double layer_ref_act(layer_act_spec_t act, double x)
{
    switch (act.kind) {
    case LAYER_ACT_RELU: return x > 0 ? x : 0;
    case LAYER_ACT_LEAKY_RELU: return x > 0 ? x : act.alpha * x;
    case LAYER_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case LAYER_ACT_TANH: return tanh(x);
    case LAYER_ACT_SOFTPLUS: return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
    default: return x;
    }
}

void layer_ref_dense(double *y, const double *x, const double *W, const double *b, int B, int in,
                     int out, layer_act_spec_t act)
{
    for (int n = 0; n < B; n++)
        for (int o = 0; o < out; o++) {
            double s = b[o];
            for (int i = 0; i < in; i++) s += x[(size_t)n * in + i] * W[(size_t)o * in + i];
            y[(size_t)n * out + o] = layer_ref_act(act, s);
        }
}

void layer_ref_bnorm_infer(double *y, const double *x, const double *gamma, const double *beta,
                           const double *mean, const double *var, int B, int C, double eps)
{
    for (int n = 0; n < B; n++)
        for (int c = 0; c < C; c++) {
            size_t i = (size_t)n * C + c;
            y[i] = gamma[c] * (x[i] - mean[c]) / sqrt(var[c] + eps) + beta[c];
        }
}

void layer_ref_bnorm_train(double *y, double *mean, double *var, const double *x,
                           const double *gamma, const double *beta, int B, int C, double eps)
{
    double *mu = malloc((size_t)C * sizeof *mu), *va = malloc((size_t)C * sizeof *va);
    for (int c = 0; c < C; c++) {
        double s = 0, q = 0;
        for (int n = 0; n < B; n++) s += x[(size_t)n * C + c];
        mu[c] = s / B;
        for (int n = 0; n < B; n++) {
            double d = x[(size_t)n * C + c] - mu[c];
            q += d * d;
        }
        va[c] = q / B;
        if (mean) mean[c] = mu[c];
        if (var) var[c] = va[c];
    }
    layer_ref_bnorm_infer(y, x, gamma, beta, mu, va, B, C, eps);
    free(mu);
    free(va);
}
