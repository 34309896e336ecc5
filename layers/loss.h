/* layers/loss.h: losses with their gradients, as fused C loops.
 *
 * One convention for all: inputs are (B, D) row-major; a loss is summed over the D features
 * of a sample and averaged over the B samples (the ELBO convention: one number per shower),
 *     L = (1/B) sum_b sum_d l(x_bd, t_bd),
 * returned in double. If the gradient pointer is not NULL it receives w * dL/dx (written,
 * not accumulated), so w carries a weight such as beta. If row is not NULL it receives the
 * per-sample sums sum_d l(x_bd, t_bd) (B floats). Sums run row by row in a fixed order, so
 * results are identical for any thread count.
 */
#ifndef LAYERS_LOSS_H
#define LAYERS_LOSS_H

/* Binary cross-entropy on probabilities p in (0, 1), targets t in [0, 1]:
 *   l = -(t log p + (1 - t) log(1 - p)),  dl/dp = (p - t) / (p (1 - p)),
 * with p clamped to [1e-7, 1 - 1e-7] so l and dl/dp stay finite. */
double layer_loss_bce_prob(float *dp, float *row, const float *p, const float *t, int B, int D,
                           float w);

/* Binary cross-entropy on logits z (p = sigmoid(z)), stable for any z:
 *   l = max(z, 0) - z t + log(1 + exp(-|z|)),  dl/dz = sigmoid(z) - t. */
double layer_loss_bce_logits(float *dz, float *row, const float *z, const float *t, int B, int D,
                             float w);

/* Squared error: l = (x - t)^2, dl/dx = 2 (x - t). */
double layer_loss_mse(float *dx, float *row, const float *x, const float *t, int B, int D, float w);

/* Gaussian negative log-likelihood with mean mu and log-variance lv:
 *   l = 0.5 (log 2 pi + lv + (t - mu)^2 exp(-lv)),
 *   dl/dmu = (mu - t) exp(-lv),  dl/dlv = 0.5 (1 - (t - mu)^2 exp(-lv)). */
double layer_loss_gauss_nll(float *dmu, float *dlv, float *row, const float *mu, const float *lv,
                            const float *t, int B, int D, float w);

/* Analytic KL( N(mu, exp(lv)) || N(0, 1) ) per latent dimension (Kingma and Welling 2014, app. B):
 *   l = -0.5 (1 + lv - mu^2 - exp(lv)),  dl/dmu = mu,  dl/dlv = 0.5 (exp(lv) - 1).
 * kl_dim, if not NULL, receives the batch mean per dimension (Z floats). */
double layer_loss_kl_normal(float *dmu, float *dlv, float *row, float *kl_dim, const float *mu,
                            const float *lv, int B, int Z, float w);

#endif
