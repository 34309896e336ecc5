/* physics/observables.h: high-level shower features with the CaloChallenge definitions, and
 * streaming accumulators to summarise files of any size.
 *
 * Per shower (CaloChallenge code/HighLevelFeatures.py), for every layer l with voxels:
 *   E_l          energy in the layer;
 *   EC_x, EC_y   centre of energy sum(x E) / sum(E), x = r cos(alpha) ("eta"), y = r sin(alpha)
 *                ("phi") at the voxel centres (mm);
 *   EC_r         the same for r;
 *   W_x, W_y, W_r widths sqrt(max(<x^2> - <x>^2, 0));
 *   S_l          sparsity: the fraction of the layer's voxels that are empty (= 1 - fraction > 0);
 * and the total energy E_tot. Empty layers give 0 for centres and widths (the reference adds
 * 1e-16 to the denominator).
 * The flat feature vector is [E_tot, then for each layer with voxels: E_l, EC_x, EC_y, EC_r,
 * W_x, W_y, W_r, S_l], of phys_hlf_count(g) numbers.
 *
 * phys_obs_t accumulates, shower by shower, the means and variances of all features (Welford),
 * E_tot/E_inc, the mean longitudinal profile (mean energy per layer), the mean radial profile
 * (mean energy per radial bin summed over layers and angles, for grids whose layers share
 * their radial edges), and the voxel-energy spectrum (log10 E/MeV histogram of non-empty voxels).
 * Accumulators of parts of a file can be merged.
 */
#ifndef PHYSICS_OBSERVABLES_H
#define PHYSICS_OBSERVABLES_H

#include "physics/geometry.h"

#include <stddef.h>

enum { PHYS_HLF_PER_LAYER = 8 };
#define PHYS_SPEC_BINS 60 /* voxel spectrum: log10(E/MeV) in [-3, 3), 0.1 per bin */

/* Number of features of a shower on g. */
int phys_hlf_count(const phys_geometry_t *g);
/* Name of feature k (e.g. "E_tot", "E_layer3", "EC_x3", "W_r12", "sparsity0"). */
void phys_hlf_name(const phys_geometry_t *g, int k, char *buf, size_t n);
/* out: (phys_hlf_count(g)) features of one shower x: (V). */
void phys_hlf_compute(const phys_geometry_t *g, const float *x, double *out);

typedef struct {
    const phys_geometry_t *g; /* not owned; must outlive the accumulator */
    int nf;                   /* features */
    size_t n;                 /* showers seen */
    double *mean, *m2;        /* owned: (nf) Welford mean and sum of squared deviations */
    double ratio_mean, ratio_m2; /* E_tot / E_inc */
    double *long_prof;        /* owned: (n_layers) mean energy per layer */
    double *rad_prof;         /* owned: (max n_r) mean energy per radial bin, or NULL */
    int n_rad;
    double spectrum[PHYS_SPEC_BINS + 2]; /* [0] underflow, [1..] bins, [last] overflow */
    double *feat;             /* owned scratch (nf) */
} phys_obs_t;

int phys_obs_init(phys_obs_t *o, const phys_geometry_t *g);
void phys_obs_free(phys_obs_t *o);
/* Adds one shower x: (V) of incident energy E_inc (MeV). */
void phys_obs_add(phys_obs_t *o, double E_inc, const float *x);
/* a <- a + b (same geometry): Chan et al.'s pairwise update of means and variances. */
void phys_obs_merge(phys_obs_t *a, const phys_obs_t *b);
/* The accumulator's state as doubles, to move it between processes: phys_obs_state_size(o)
 * numbers [n, mean, m2, ratio_mean, ratio_m2, long_prof, rad_prof, spectrum]; _load sets o
 * (initialised on the same geometry) to a saved state. */
size_t phys_obs_state_size(const phys_obs_t *o);
void phys_obs_save(const phys_obs_t *o, double *state);
void phys_obs_load(phys_obs_t *o, const double *state);
/* Standard deviation of feature k (population). */
double phys_obs_sd(const phys_obs_t *o, int k);

#endif
