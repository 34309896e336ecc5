/* vae/eval/distance.h: the physics distances of the CaloChallenge evaluation (code/evaluate.py,
 * modes fpd and kpd, through jetnet.evaluation; Kansal et al., arXiv:2211.10295), on the
 * high-level feature rows of a reference X (nx, D) and a generated sample Y (ny, D), doubles.
 *
 * Both first divide every feature by its largest |value| in X (a feature that is 0 throughout
 * stays as it is), applied to X and Y.
 *
 * FPD (Frechet physics distance): for each of num_points batch sizes N_k = 1 / linspace(1/min,
 * 1/max, num_points) (truncated to integers), num_batches times: N_k rows of X and of Y drawn
 * with replacement, their means and covariances (unbiased, N - 1), and
 *   d^2 = |mu_1 - mu_2|^2 + Tr S_1 + Tr S_2 - 2 Tr (S_1 S_2)^(1/2);
 * the mean d^2 per N_k is fitted by d^2 = a + b / N with a, b >= 0 (least squares), and the
 * result is a (the value at infinite N) with the standard error of a from the fit's covariance
 * (residual variance / (points - 2) times (J^T J)^-1, as scipy's curve_fit). Tr (S_1 S_2)^(1/2)
 * = sum of sqrt(eigenvalues of S_1^(1/2) S_2 S_1^(1/2)) (symmetric, so LAPACK's dsyevd).
 * evaluate.py calls it with min = 10,000 (max 50,000, 20 batches, 10 points).
 *
 * KPD (kernel physics distance): num_batches times, batch_size rows of X and of Y drawn with
 * replacement, the unbiased squared MMD with the polynomial kernel k(x, y) = (x.y / D + 1)^4:
 *   MMD^2 = sum_{i!=j} k(x_i, x_j) / (m (m-1)) + sum_{i!=j} k(y_i, y_j) / (n (n-1)) - 2 mean k(x_i, y_j);
 * the result is the median over batches and half the spread between the 16.275th and 83.725th
 * percentiles (linear interpolation, as numpy). Defaults 10 batches of 5,000.
 *
 * The draws come from the Philox stream (seed, BASE_STREAM_EVAL_DISTANCE), not numpy's, so the
 * values agree with jetnet's within their errors, not digit for digit. Dense algebra is
 * OpenBLAS (dsyrk, dgemm) and LAPACKE (dsyevd); the result does not depend on the thread count
 * beyond the rounding of BLAS's sums.
 */
#ifndef VAE_EVAL_DISTANCE_H
#define VAE_EVAL_DISTANCE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int min_samples, max_samples, num_batches, num_points; /* FPD: 10000, 50000, 20, 10 */
    int kpd_batches, kpd_batch_size;                       /* KPD: 10, 5000 */
    uint64_t seed;
} eval_distance_opts_t;

eval_distance_opts_t eval_distance_defaults(void);

/* FPD value and error of generated Y against reference X (see above). */
int eval_fpd(const double *X, size_t nx, const double *Y, size_t ny, int D, const eval_distance_opts_t *o,
             double *val, double *err);
/* KPD median and error. */
int eval_kpd(const double *X, size_t nx, const double *Y, size_t ny, int D, const eval_distance_opts_t *o,
             double *val, double *err);

/* Tr (A B)^(1/2) of two symmetric positive semi-definite (D, D) matrices (exposed for tests). */
int eval_trace_sqrt_product(const double *A, const double *B, int D, double *tr);

#endif
