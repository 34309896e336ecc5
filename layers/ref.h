/* layers/ref.h: naive reference implementations, in double, of the layers' forward math.
 *
 * These loops are the oracle of the test suite (layer outputs are compared with them, and
 * their central finite differences check every backward pass) and the plainest statement
 * of what each layer computes. They are not used on any hot path.
 */
#ifndef LAYERS_REF_H
#define LAYERS_REF_H

#include "layers/act.h"

/* f(x) of act.h, in double. */
double layer_ref_act(layer_act_spec_t act, double x);

/* y: (B, out) = f(x W^T + b) with x: (B, in), W: (out, in), b: (out). */
void layer_ref_dense(double *y, const double *x, const double *W, const double *b, int B, int in,
                     int out, layer_act_spec_t act);

/* y: (B, C) = gamma (x - mu) / sqrt(var + eps) + beta with batch statistics (biased variance);
 * mean, var: (C) receive the statistics (may be NULL). */
void layer_ref_bnorm_train(double *y, double *mean, double *var, const double *x,
                           const double *gamma, const double *beta, int B, int C, double eps);

/* y: (B, C) with given statistics mean, var: (C). */
void layer_ref_bnorm_infer(double *y, const double *x, const double *gamma, const double *beta,
                           const double *mean, const double *var, int B, int C, double eps);

#endif
