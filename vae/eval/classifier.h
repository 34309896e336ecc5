/* vae/eval/classifier.h: the classifier two-sample test of the CaloChallenge, on the layer library.
 *
 * A binary DNN (hidden LeakyReLU(0.2) layers, one logit, BCE on logits, Adam) learns to tell
 * generated (label 1) from reference (label 0) showers. Features are standardised with the
 * training split's mean and deviation. The split is given per sample (0 train, 1 test,
 * 2 validation; CaloChallenge uses 60/20/20); the epoch with the lowest test loss is kept,
 * its scores are calibrated by isotonic regression on the test split, and the AUC (raw scores)
 * and JSD (calibrated) are measured on the validation split. AUC 0.5: indistinguishable.
 * Deterministic for a seed (shuffling by Philox; oneDNN with a fixed thread count).
 */
#ifndef VAE_CLASSIFIER_H
#define VAE_CLASSIFIER_H

#include "layers/ctx.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int n_hidden, hidden[4]; /* widths (CaloChallenge: 3 x 2048; default here 2 x 256) */
    int epochs, batch;       /* default 20, 128 */
    float lr;                /* default 5e-4 */
    uint64_t seed;
} eval_cls_opts_t;

typedef struct {
    double auc, jsd;  /* on the validation split */
    int best_epoch;   /* 1-based */
    double test_loss; /* BCE of the best epoch on the test split */
} eval_cls_result_t;

eval_cls_opts_t eval_cls_defaults(void);

/* X: (n, D) features, standardised in place (no copy: the low-level inputs can be large);
 * y: (n) labels 0/1; split: (n) 0/1/2. */
int eval_cls_run(const layer_ctx_t *ctx, float *X, const unsigned char *y, const unsigned char *split, size_t n,
                int D, const eval_cls_opts_t *o, eval_cls_result_t *r);

#endif
