/* vae/eval/prdc.h: precision, recall, density and coverage (Naeem et al. 2020, arXiv:2002.09797)
 * as the CaloChallenge computes them (code/evaluate.py mode prdc, with the clovaai prdc package):
 * on rows of log10 voxel energies, empty voxels set to 0.1 MeV before the log
 * (eval_prdc_features), real = reference, fake = generated, Euclidean distances, k neighbours.
 *
 *   r_i = distance of real i to its k-th nearest real neighbour (itself not counted),
 *   f_j = the same among the fakes,
 *   precision = mean over fakes j of [exists i: d(i, j) < r_i],
 *   recall    = mean over reals i of [exists j: d(i, j) < f_j],
 *   density   = (1/k) mean over fakes j of #{i: d(i, j) < r_i},
 *   coverage  = mean over reals i of [min_j d(i, j) < r_i].
 *
 * Distances come from d^2 = |a|^2 + |b|^2 - 2 a.b with the norms in double and a.b from
 * OpenBLAS's sgemm by blocks of rows, so memory is the two samples plus one block of
 * distances; the cost is three n x n x V products (about 100 s for 20k + 20k ds2 showers on
 * 2 cores). Comparisons are made on squared distances.
 */
#ifndef VAE_EVAL_PRDC_H
#define VAE_EVAL_PRDC_H

#include <stddef.h>

typedef struct {
    double precision, recall, density, coverage;
} eval_prdc_t;

/* In place on n rows of V voxel energies (MeV, already thresholded): x -> log10(x), with
 * x = 0 taken as 0.1 (the challenge's choice). */
void eval_prdc_features(float *x, size_t n, int V);

/* R: (nr, V) real rows, F: (nf, V) fake rows; k >= 1 neighbours (nr, nf > k). */
int eval_prdc(const float *R, size_t nr, const float *F, size_t nf, int V, int k, eval_prdc_t *out);

#endif
