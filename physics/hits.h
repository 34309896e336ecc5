/* physics/hits.h: voxels to positioned energy deposits (hits) in global coordinates.
 *
 * Shower frame: the shower axis is +z, starting at the calorimeter's front face (z = 0);
 * voxel (layer l, angular bin a, radial bin i) sits at its bin centre
 *     r = (r_i + r_(i+1)) / 2,  alpha = -pi + (a + 1/2) 2 pi / n_alpha,  z = (l + 1/2) depth,
 *     x = r cos(alpha), y = r sin(alpha)
 * (alpha = 0 points along the frame's +x; CaloChallenge's convention, physics/geometry.h).
 * Global frame: the frame is rotated so that +z goes along the particle's direction d, by the
 * rotation about the axis z x d by the angle between z and d (Rodrigues' formula; the identity
 * for d = +z, a half turn about x for d = -z), and moved to the entry point p:
 *     hit = p + R (x, y, z).
 * Empty voxels give no hit; the sum of hit energies is the sum of voxel energies exactly.
 */
#ifndef PHYSICS_HITS_H
#define PHYSICS_HITS_H

#include "physics/geometry.h"

typedef struct {
    float x, y, z; /* mm, global */
    float e;       /* MeV */
} phys_hit_t;

/* The rotation matrix R (row-major 3x3) that takes +z to the unit vector d. */
void phys_rotation_to(const double d[3], double R[9]);

/* hits: up to max entries from voxels x: (V); *n receives the number of non-empty voxels
 * (if it exceeds max, only max are written and BASE_EINVAL is returned). dir need not be
 * normalised (it must not be zero); depth_mm is the readout-layer thickness. */
int phys_voxels_to_hits(const phys_geometry_t *g, double depth_mm, const float *x, const double pos[3],
                        const double dir[3], phys_hit_t *hits, int max, int *n);

#endif
