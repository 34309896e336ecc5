/* physics/simulate.h: the built-in shower simulator (GFLASH spots binned into a voxel grid).
 *
 * One shower, incident along +z at the grid's axis, energy E (MeV):
 *  1. draw (T, alpha) from the correlated log-normal of gflash.h;
 *  2. walk the depth in steps of step_x0 radiation lengths (0.2 X0, a quarter of a readout
 *     layer; Geant4's default is 0.1 X0, finer than the voxels resolve), and of one readout
 *     layer in the tail once a step expects less than one spot; step [t0, t1) gets
 *     dE = E [P(alpha, beta t1) - P(alpha, beta t0)] (P = regularised incomplete gamma);
 *  3. sampling fluctuation: dE -> Gamma variate with mean dE and variance c^2 dE (dE in GeV);
 *  4. the step's spots: n = max(1, floor(N_spot [P_s(t1) - P_s(t0)])), spot k carrying
 *     (dE/n) w_k with w_k = (p + 1) u^p (mean 1, sd 1.13 for p = 3: most spots small, a few
 *     large, so voxel energies span the threshold to GeV as in Geant4 ds2; GFLASH's equal spots
 *     of 1-3 MeV leave 15 keV - 1 MeV nearly empty), spaced evenly in depth within the step,
 *     at radius r = R_M R sqrt(u/(1-u)) with R = R_C (probability p) or R_T (section 3.3),
 *     and uniform azimuth;
 *  4b. shower-to-shower fluctuations GFLASH leaves out: every radius of a shower is scaled by
 *     exp(0.08 N) and its axis shifted by (N, N) 0.5 mm; and a constant term: all step energies
 *     of a shower are multiplied by g ~ N(1, 0.005^2), so sigma/E = 11%/sqrt(E/GeV) (+) 0.5%
 *     (plus the spot weights' 1.13/sqrt(spots), a few % at 1 GeV);
 *  5. each spot lands in voxel (layer = floor(z / layer_depth), alpha bin, r bin); spots beyond
 *     the grid's radius or the calorimeter's depth leak (they are counted, not stored);
 *  5a. incident angle theta (Par04's convention: the polar angle of the particle from the
 *     barrel's axis, so 90 deg is normal incidence on the barrel's face):
 *     the voxel mesh follows the shower axis, as Par04's readout does (its sensitive detector
 *     bins hits in a frame rotated onto the particle's momentum), and the calorimeter is the
 *     slab 0 <= h < thickness below its front face, the axis tilted by psi = 90 deg - theta
 *     from the face's normal. A spot at shower-frame (x, y, z) (z along the axis, x in the plane
 *     of incidence, pointing back towards the face) is at depth h = z cos psi - x sin psi; spots
 *     with h < 0 (in front of the face) or h >= thickness (behind the back) deposit nothing
 *     (counted as lateral leakage). The walk follows the axis through the slab (to
 *     thickness / cos psi) or to the end of the mesh, whichever is first. The medium is the
 *     homogenised W/Si mix (gflash.h), so the profile in X0 along the axis does not change with
 *     psi; what does is where the faces cut the mesh: the upstream side (+x) of the first layers
 *     lies outside the calorimeter, and the tail stays inside longer. At 90 deg h = z and
 *     nothing changes. This is the frame vae_to_hits places voxels in (showervae.h) with the
 *     face's normal along global +z and the particle tilted towards +x;
 *  6. the readout threshold (geometry's threshold_mev, 15.15 keV for ds2/ds3) zeroes small voxels.
 * Voxel energies are calibrated as CaloChallenge ds2/ds3 write them: the energy seen in the
 * silicon divided by the sampling fraction, i.e. spot energies (summed per voxel) directly, so
 * E_tot / E_inc is just below 1 (minus leakage).
 *
 * Randomness: shower i of seed s uses the Philox stream (s, i), so a shower is the same
 * whichever thread makes it and whichever batch it is in. Incident energies come from their
 * own stream (s, BASE_STREAM_SIM_ENERGY), entry i at offset i, and angles likewise from
 * (s, BASE_STREAM_SIM_ANGLE).
 * Requires a geometry with a layer depth (ds2, ds3, or an XML of the same grid).
 */
#ifndef PHYSICS_SIMULATE_H
#define PHYSICS_SIMULATE_H

#include "physics/geometry.h"
#include "base/streams.h"
#include "physics/gflash.h"

#include <stddef.h>
#include <stdint.h>


typedef struct {
    phys_detector_t det;
    phys_geometry_t geo;
    double step_x0;       /* longitudinal step in X0 (0.2; Geant4's StepInX0 is 0.1) */
    double sampling_term; /* c in sigma/E = c / sqrt(E/GeV) (0.11) */
    int threshold;        /* 1: apply the geometry's readout threshold */
    double spot_power;      /* spot energy weights (p + 1) u^p, mean 1 (3; 0: equal spots) */
    double constant_term;   /* b in sigma/E = c / sqrt(E/GeV) (+) b (0.005) */
    double radial_scale_sd; /* sd of the log of a shower's lateral scale (0.08) */
    double axis_offset_mm;  /* sd of a shower's axis position per coordinate (0.5 mm) */
} phys_sim_t;

/* The smallest incident angle the simulator accepts (deg): below it the slab cuts most of the
 * mesh's first layers (Par04's data spans 50-90 deg). */
#define PHYS_SIM_MIN_ANGLE 30.0

/* Per-shower diagnostics (optional). */
typedef struct {
    double T, alpha;         /* drawn profile parameters (T in X0) */
    double spots;            /* spots made */
    double deposited_mev;    /* sum of the fluctuated step energies inside the depth */
    double lateral_leak_mev; /* part of deposited_mev whose spots fell outside the grid's radius */
    double back_leak_mev;    /* profile energy beyond the depth (or below the walk's stop) */
    double below_thr_mev;    /* energy removed by the readout threshold */
} phys_sim_stats_t;
/* Bookkeeping: sum of voxels = deposited - lateral_leak - below_thr. */

/* Default configuration on geometry geo (must have layer_depth_mm > 0). */
int phys_sim_init(phys_sim_t *s, const phys_geometry_t *geo);

/* out: (V) voxel energies (MeV) of shower index i at energy E_mev and incident angle
 * angle_deg (90: normal incidence); st may be NULL. BASE_EINVAL for E_mev outside
 * (BASE_MIN_ENERGY_MEV, BASE_MAX_SIM_ENERGY_MEV] (base/limits.h) or an angle outside
 * [PHYS_SIM_MIN_ANGLE, 90]. */
int phys_sim_shower(const phys_sim_t *s, double E_mev, double angle_deg, uint64_t seed, uint64_t i, float *out,
                    phys_sim_stats_t *st);

/* out: (n, V) showers first_index .. first_index + n - 1 at energies E_mev (n) and angles
 * angle_deg (n; NULL: all 90 deg), in parallel over showers; identical for any thread count. */
int phys_sim_batch(const phys_sim_t *s, const double *E_mev, const double *angle_deg, size_t n, uint64_t seed,
                   uint64_t first_index, float *out);

/* E_mev: (n) log-uniform in [lo, hi] MeV, entries first_index .. of seed's energy stream. */
void phys_sim_energies_loguniform(double *E_mev, size_t n, double lo, double hi, uint64_t seed,
                                  uint64_t first_index);
/* E_mev: (n) drawn uniformly from the list (k values, MeV), entries first_index .. */
void phys_sim_energies_list(double *E_mev, size_t n, const double *list, int k, uint64_t seed,
                            uint64_t first_index);

/* angle_deg: (n) uniform in [lo, hi] deg, entries first_index .. of seed's angle stream. */
void phys_sim_angles_uniform(double *angle_deg, size_t n, double lo, double hi, uint64_t seed, uint64_t first_index);
/* angle_deg: (n) drawn uniformly from the list (k values, deg), entries first_index .. */
void phys_sim_angles_list(double *angle_deg, size_t n, const double *list, int k, uint64_t seed, uint64_t first_index);

#endif
