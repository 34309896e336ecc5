/* vae/eval/stats.h: the statistics of the evaluation: histograms, separation power, AUC, calibration, JSD.
 *
 * Histograms have fixed bins (linear, or logarithmic in the value) chosen before filling, so
 * they can be filled in a stream; values outside the range are not counted (as numpy.histogram).
 * Separation power (triangular discrimination, eq. 15 of arXiv:2009.03796), on histograms
 * normalised to unit sum p, q:  S = 0.5 sum_i (p_i - q_i)^2 / (p_i + q_i), bins with p+q = 0
 * skipped; 0 for identical shapes, 1 for disjoint ones.
 * AUC: the area under the ROC curve = P(score of a label-1 sample > score of a label-0 sample)
 * + 0.5 P(tie) (Mann-Whitney), from sorted scores.
 * JSD as in CaloChallenge evaluate.py: ln 2 minus the mean binary cross-entropy (nats) of the
 * classifier's calibrated probabilities; calibration is isotonic regression (pool adjacent
 * violators) fitted on one split and applied to another.
 */
#ifndef PHYSICS_METRICS_H
#define PHYSICS_METRICS_H

#include <stddef.h>

typedef struct {
    int n;          /* bins */
    double lo, hi;  /* range (for log bins: of the value, > 0) */
    int log;        /* 1: bins uniform in log10(value) */
    double *h;      /* owned: (n) counts */
} eval_hist_t;

int eval_hist_init(eval_hist_t *h, int n, double lo, double hi, int log);
void eval_hist_free(eval_hist_t *h);
void eval_hist_fill(eval_hist_t *h, double v);
/* Lower edge of bin i (i = n gives the upper edge of the last bin). */
double eval_hist_edge(const eval_hist_t *h, int i);
double eval_hist_total(const eval_hist_t *h);

/* Separation power of two histograms with the same bins (0 if either is empty). */
double eval_separation(const double *a, const double *b, int n);

/* AUC of scores (n) with labels 0/1 (n). */
double eval_auc(const float *score, const unsigned char *label, size_t n);

/* Isotonic calibration (as sklearn's IsotonicRegression with out_of_bounds='clip'): fit on
 * (score, label) of n samples by pool adjacent violators into blocks [xl_i, x_i] of constant
 * probability p_i; applied, a score inside a block gets its p, a score between two blocks the
 * linear interpolation of their p (np.interp over the blocks' ends), beyond the ends the end's. */
typedef struct {
    size_t n;
    double *x, *xl, *p; /* owned: block upper and lower ends, fitted probabilities */
} eval_isotonic_t;
int eval_isotonic_fit(eval_isotonic_t *c, const float *score, const unsigned char *label, size_t n);
double eval_isotonic_apply(const eval_isotonic_t *c, double score);
void eval_isotonic_free(eval_isotonic_t *c);

/* JSD (nats, in [0, ln 2]) = ln 2 - mean BCE(p_i, label_i) with p clipped to [1e-7, 1 - 1e-7]. */
double eval_jsd(const double *p, const unsigned char *label, size_t n);

#endif
