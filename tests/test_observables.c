/* tests/test_observables.c: high-level features against hand calculations, streaming
 * accumulators against a two-pass computation, merging. */
#include "base/rng.h"
#include "physics/observables.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double PI = 3.14159265358979323846;

/* Two layers with voxels (2 r bins [0,1,3] x 4 alpha bins), one empty layer between them. */
static phys_geometry_t tiny(void)
{
    phys_geometry_t g;
    memset(&g, 0, sizeof g);
    strcpy(g.name, "tiny");
    g.n_layers = 3;
    for (int l = 0; l < 3; l++) {
        g.n_r[l] = l == 1 ? 0 : 2;
        g.n_alpha[l] = l == 1 ? 1 : 4;
        g.r_edges[l][0] = 0, g.r_edges[l][1] = 1, g.r_edges[l][2] = 3;
    }
    g.offset[0] = 0, g.offset[1] = 8, g.offset[2] = 8, g.offset[3] = 16;
    g.n_voxels = 16;
    return g;
}

Test(observables, features_match_hand_calculation)
{
    phys_geometry_t g = tiny();
    cr_assert_eq(phys_hlf_count(&g), 1 + 2 * 8);
    float x[16] = {0};
    /* layer 0: 3 MeV in (alpha bin 0, r bin 1), 1 MeV in (alpha bin 2, r bin 0);
     * alpha centres: -3pi/4, -pi/4, pi/4, 3pi/4; r centres 0.5, 2 */
    x[0 * 2 + 1] = 3.f;
    x[2 * 2 + 0] = 1.f;
    /* layer 2: one voxel */
    x[8 + 3 * 2 + 1] = 2.f;
    double f[17];
    phys_hlf_compute(&g, x, f);
    double x1 = 2 * cos(-3 * PI / 4), y1 = 2 * sin(-3 * PI / 4), x2 = 0.5 * cos(PI / 4), y2 = 0.5 * sin(PI / 4);
    double ecx = (3 * x1 + 1 * x2) / 4, ecy = (3 * y1 + y2) / 4, ecr = (3 * 2 + 0.5) / 4;
    double wx = sqrt((3 * x1 * x1 + x2 * x2) / 4 - ecx * ecx), wr = sqrt((3 * 4 + 0.25) / 4 - ecr * ecr);
    cr_expect(fabs(f[0] - 6) < 1e-12, "E_tot %g", f[0]);
    cr_expect(fabs(f[1] - 4) < 1e-12);
    cr_expect(fabs(f[2] - ecx) < 1e-9 && fabs(f[3] - ecy) < 1e-9 && fabs(f[4] - ecr) < 1e-9);
    cr_expect(fabs(f[5] - wx) < 1e-9 && fabs(f[7] - wr) < 1e-9, "W_x %g vs %g", f[5], wx);
    cr_expect(fabs(f[8] - 6.0 / 8) < 1e-12, "sparsity %g", f[8]);
    /* single voxel: centre at the voxel, zero widths, 7/8 empty */
    cr_expect(fabs(f[9] - 2) < 1e-12 && fabs(f[10] - 2 * cos(3 * PI / 4)) < 1e-9);
    cr_expect(fabs(f[13]) < 1e-6 && fabs(f[15]) < 1e-6 && fabs(f[16] - 7.0 / 8) < 1e-12);
    /* empty shower: zeros, no NaN */
    memset(x, 0, sizeof x);
    phys_hlf_compute(&g, x, f);
    for (int k = 0; k < 17; k++) cr_assert(f[k] == 0 || f[k] == 1, "feature %d = %g", k, f[k]);
    char name[32];
    phys_hlf_name(&g, 9, name, sizeof name);
    cr_expect_str_eq(name, "E_layer2");
    phys_hlf_name(&g, 16, name, sizeof name);
    cr_expect_str_eq(name, "sparsity2");
}

Test(observables, streaming_moments_profiles_and_merge_agree_with_two_pass)
{
    phys_geometry_t g = tiny();
    enum { N = 50 };
    float x[N][16];
    double E[N];
    base_rng_t r;
    base_rng_init(&r, 1, 0);
    for (int i = 0; i < N; i++) {
        base_rng_uniform(&r, x[i], 16);
        for (int v = 0; v < 16; v++) x[i][v] = x[i][v] < 0.4f ? 0.f : 10 * x[i][v];
        E[i] = 100 + i;
    }
    phys_obs_t all, a, b;
    cr_assert_eq(phys_obs_init(&all, &g), 0);
    phys_obs_init(&a, &g);
    phys_obs_init(&b, &g);
    for (int i = 0; i < N; i++) {
        phys_obs_add(&all, E[i], x[i]);
        phys_obs_add(i < 20 ? &a : &b, E[i], x[i]);
    }
    phys_obs_merge(&a, &b);
    /* two-pass reference for E_tot and layer-0 energy */
    double f[17], mean[17] = {0}, var[17] = {0}, prof[3] = {0}, rad[2] = {0};
    for (int i = 0; i < N; i++) {
        phys_hlf_compute(&g, x[i], f);
        for (int k = 0; k < 17; k++) mean[k] += f[k] / N;
        for (int l = 0; l < 3; l++)
            for (int v = g.offset[l]; v < g.offset[l + 1]; v++) prof[l] += (double)x[i][v] / N;
        for (int v = 0; v < 16; v++) rad[v % 2] += (double)x[i][v] / N;
    }
    for (int i = 0; i < N; i++) {
        phys_hlf_compute(&g, x[i], f);
        for (int k = 0; k < 17; k++) var[k] += (f[k] - mean[k]) * (f[k] - mean[k]) / N;
    }
    for (int k = 0; k < 17; k++) {
        cr_expect(fabs(all.mean[k] - mean[k]) < 1e-9 * fmax(1, fabs(mean[k])), "mean %d", k);
        cr_expect(fabs(phys_obs_sd(&all, k) - sqrt(var[k])) < 1e-9 * fmax(1, sqrt(var[k])), "sd %d", k);
        cr_expect(fabs(a.mean[k] - mean[k]) < 1e-9 * fmax(1, fabs(mean[k])), "merged mean %d", k);
        cr_expect(fabs(phys_obs_sd(&a, k) - sqrt(var[k])) < 1e-9 * fmax(1, sqrt(var[k])), "merged sd %d", k);
    }
    for (int l = 0; l < 3; l++) cr_expect(fabs(all.long_prof[l] - prof[l]) < 1e-9, "layer %d: %.17g vs %.17g", l, all.long_prof[l], prof[l]);
    cr_assert_eq(all.n_rad, 2);
    for (int i = 0; i < 2; i++) cr_expect(fabs(all.rad_prof[i] - rad[i]) < 1e-9);
    double total = 0, merged = 0;
    for (int k = 0; k < PHYS_SPEC_BINS + 2; k++) total += all.spectrum[k], merged += a.spectrum[k];
    int hits = 0;
    for (int i = 0; i < N; i++)
        for (int v = 0; v < 16; v++) hits += x[i][v] > 0;
    cr_expect_eq((int)total, hits);
    cr_expect_eq((int)merged, hits);
    phys_obs_free(&all);
    phys_obs_free(&a);
    phys_obs_free(&b);
}
