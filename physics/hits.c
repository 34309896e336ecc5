/* physics/hits.c: voxels to global hits (see hits.h). */
#include "physics/hits.h"

#include "base/status.h"

#include <math.h>

void phys_rotation_to(const double d[3], double R[9])
{
    /* Rodrigues: R = I + [k]x + [k]x^2 / (1 + c), with k = z x d (unnormalised, |k| = sin),
     * c = z . d; for c -> -1 a half turn about x. */
    double c = d[2], kx = -d[1], ky = d[0]; /* z x d = (-d_y, d_x, 0) */
    if (c < -1 + 1e-12) {
        const double H[9] = {1, 0, 0, 0, -1, 0, 0, 0, -1};
        for (int i = 0; i < 9; i++) R[i] = H[i];
        return;
    }
    double f = 1.0 / (1.0 + c);
    /* [k]x = [[0, -kz, ky], [kz, 0, -kx], [-ky, kx, 0]] with kz = 0 */
    R[0] = 1 - f * ky * ky, R[1] = f * kx * ky, R[2] = ky;
    R[3] = f * kx * ky, R[4] = 1 - f * kx * kx, R[5] = -kx;
    R[6] = -ky, R[7] = kx, R[8] = 1 - f * (kx * kx + ky * ky);
}

int phys_voxels_to_hits(const phys_geometry_t *g, double depth_mm, const float *x, const double pos[3],
                        const double dir[3], phys_hit_t *hits, int max, int *n)
{
    double norm = sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
    if (!(norm > 0) || !isfinite(norm)) return base_error(BASE_EINVAL, "hits: direction has zero length");
    const double d[3] = {dir[0] / norm, dir[1] / norm, dir[2] / norm};
    double R[9];
    phys_rotation_to(d, R);
    const double PI = 3.14159265358979323846;
    int k = 0;
    for (int l = 0; l < g->n_layers; l++) {
        int nr = g->n_r[l], na = g->n_alpha[l];
        double z = (l + 0.5) * depth_mm;
        for (int a = 0; a < na && nr; a++) {
            double al = -PI + (a + 0.5) * 2 * PI / na, ca = cos(al), sa = sin(al);
            for (int i = 0; i < nr; i++) {
                float e = x[g->offset[l] + a * nr + i];
                if (e <= 0) continue;
                if (k < max) {
                    double r = 0.5 * (g->r_edges[l][i] + g->r_edges[l][i + 1]), xs = r * ca, ys = r * sa;
                    hits[k] = (phys_hit_t){(float)(pos[0] + R[0] * xs + R[1] * ys + R[2] * z),
                                           (float)(pos[1] + R[3] * xs + R[4] * ys + R[5] * z),
                                           (float)(pos[2] + R[6] * xs + R[7] * ys + R[8] * z), e};
                }
                k++;
            }
        }
    }
    *n = k;
    return k <= max ? BASE_OK : base_error(BASE_EINVAL, "hits: %d non-empty voxels, room for %d", k, max);
}
