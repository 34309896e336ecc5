/* base/limits.h: every size and range limit the project enforces, in one place.
 *
 * Readers check what a file or an option declares against these before allocating or reading
 * anything, and refuse with a message naming the limit. They are far above every published
 * calorimeter dataset (the largest, CaloChallenge ds3, has 40,500 voxels in 45 layers of
 * 18 x 50 bins; energies reach 4.2 TeV) and low enough that arithmetic on them cannot overflow
 * an int (voxels) or a size_t (bytes of a read block).
 */
#ifndef BASE_LIMITS_H
#define BASE_LIMITS_H

#define BASE_MAX_VOXELS (1 << 24)      /* voxels per shower */
#define BASE_MAX_LAYERS 128            /* layers of a grid */
#define BASE_MAX_REDGES 64             /* radial edges of a layer (so at most 63 radial bins) */
#define BASE_MAX_ALPHA 4096            /* angular bins of a layer */
#define BASE_MAX_WIDTH 65536           /* a hidden layer's width */
#define BASE_MAX_HIDDEN_LAYERS 8       /* hidden layers of the encoder or the decoder */
#define BASE_MAX_LATENT 4096           /* latent dimensions */
#define BASE_MAX_PRIOR_K 256           /* components of a learned prior */
#define BASE_MAX_SHOWERS (1ull << 40)  /* showers in one file or one run */
#define BASE_MIN_ENERGY_MEV 1e-3       /* incident energies in a file: (1 keV, 100 TeV] */
#define BASE_MAX_ENERGY_MEV 1e8
#define BASE_MAX_SIM_ENERGY_MEV 1e7    /* the built-in simulator: up to 10 TeV (its cost grows as E) */
#define BASE_MAX_STEP (1ll << 50)      /* optimiser steps and epochs in a checkpoint */
#define BASE_MAX_SMALL_FILE (16 << 20) /* a binning XML or JSON text read whole */

/* a * b into *out unless it exceeds max (all non-negative); 1 if it fits, 0 if not. */
static inline int base_mul_fits(unsigned long long a, unsigned long long b, unsigned long long max,
                                unsigned long long *out)
{
    if (a != 0 && b > max / a) return 0;
    *out = a * b;
    return *out <= max;
}

#endif
