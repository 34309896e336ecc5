/* vae/eval/classifier.h: the classifier two-sample test of the CaloChallenge, on the layer library.
 *
 * A binary DNN (hidden LeakyReLU layers, one logit, BCE on logits, Adam) learns to tell
 * generated (label 1) from reference (label 0) showers. The split is given per sample (0 train,
 * 1 test, 2 validation). Two ways to run it (eval_cls_defaults):
 * - the challenge's (code/evaluate.py): 3 layers of 2048 with LeakyReLU(0.01), initial weights
 *   and biases as PyTorch's Linear (U(+-1 / sqrt(in)), its network's own), Adam at 2e-4,
 *   batches of 1000, 50 epochs, inputs as given (not standardised), no gradient clipping; the
 *   epoch with the best test accuracy (logit > 0, i.e. p > 0.5) is kept and training stops at
 *   test accuracy 1; its scores are calibrated by isotonic regression (probabilities kept in
 *   [1e-6, 1 - 1e-6]) fitted on the test split, and the AUC and the JSD are measured on the
 *   validation split with the calibrated probabilities, the JSD in units of ln 2;
 * - quick: 2 x 256, LeakyReLU(0.2), He initial weights, standardised inputs, gradient norm clipped at 10, the epoch
 *   with the lowest test loss, AUC of the raw scores, JSD in nats.
 * A remainder of the training rows smaller than a batch is run as a last, smaller batch, as
 * PyTorch's loader runs it.
 * Deterministic for a seed (shuffles and initial weights by Philox), the same numbers for any
 * thread count (tests/test_evaluate.c).
 */
#ifndef VAE_CLASSIFIER_H
#define VAE_CLASSIFIER_H

#include "base/monitor.h"
#include "layers/ctx.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int n_hidden, hidden[4]; /* widths */
    int epochs, batch;
    float lr, slope;         /* Adam's rate, the LeakyReLU slope */
    int standardise;         /* 1: inputs to mean 0, sd 1 with the training rows' statistics */
    int torch_init;          /* 1: PyTorch Linear's initial weights and biases; 0: He, zero biases */
    double clip;             /* gradient norm clip (0: none) */
    int by_accuracy;         /* 1: keep the epoch of best test accuracy, stop at 1; 0: lowest test BCE */
    int challenge_scores;    /* 1: AUC of the calibrated probabilities, JSD / ln 2; 0: raw AUC, nats */
    uint64_t seed;
    const base_monitor_t *monitor; /* per-epoch lines; NULL: silent */
} eval_cls_opts_t;

typedef struct {
    double auc, jsd;  /* on the validation split */
    double accuracy;  /* on the validation split (calibrated probabilities > 0.5) */
    int best_epoch;   /* 1-based */
    int epochs_run;
    double test_loss, test_accuracy; /* of the best epoch on the test split */
} eval_cls_result_t;

/* challenge = 1: the challenge's settings; 0: quick (see above). */
eval_cls_opts_t eval_cls_defaults(int challenge);

/* X: (n, D) features in f32, standardised in place if asked (no copy: the low-level inputs can
 * be large), or Xh: (n, D) in bf16 (base/bf16.h; half the memory, not standardised), the other
 * NULL; y: (n) labels 0/1; split: (n) 0/1/2. Each batch is converted to f32 as it is loaded. */
int eval_cls_run(const layer_ctx_t *ctx, float *X, const uint16_t *Xh, const unsigned char *y, const unsigned char *split, size_t n,
                int D, const eval_cls_opts_t *o, eval_cls_result_t *r);

#endif
