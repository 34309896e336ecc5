/* tests/test_simulate.c: physics checks of the GFLASH simulator on the ds2 grid, energy
 * bookkeeping and determinism. Numbers are printed with --verbose. */
#include "base/status.h"
#include "physics/simulate.h"

#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static phys_geometry_t G;
static phys_sim_t S;

static void setup(void)
{
    cr_assert_eq(phys_geometry_preset(&G, "ds2"), BASE_OK);
    cr_assert_eq(phys_sim_init(&S, &G), BASE_OK);
}
TestSuite(simulate, .init = setup);

typedef struct {
    double etot_mean, etot_rel_sd, occupancy, tmax_mean, tmax_sd, containment;
    double radial[9]; /* mean energy fraction per radial bin */
} summary_t;

/* Depth of the maximum of the layer profile (X0), by a parabola through the peak layer. */
static double depth_of_max(const float *v)
{
    double e[45] = {0};
    for (int l = 0; l < 45; l++)
        for (int k = 0; k < 144; k++) e[l] += v[l * 144 + k];
    int m = 0;
    for (int l = 1; l < 45; l++)
        if (e[l] > e[m]) m = l;
    double off = 0;
    if (m > 0 && m < 44) {
        double den = e[m - 1] - 2 * e[m] + e[m + 1];
        if (den < 0) off = 0.5 * (e[m - 1] - e[m + 1]) / den;
    }
    return (m + 0.5 + off) * G.layer_depth_mm / S.det.X0_mm;
}

static summary_t run(double E_gev, int n)
{
    summary_t s = {0};
    float *v = malloc(sizeof(float) * G.n_voxels);
    double s1 = 0, s2 = 0, t1 = 0, t2 = 0;
    for (int i = 0; i < n; i++) {
        phys_sim_stats_t st;
        cr_assert_eq(phys_sim_shower(&S, E_gev * 1e3, 90, 7, (uint64_t)i, v, &st), BASE_OK);
        double et = 0;
        int hit = 0;
        for (int k = 0; k < G.n_voxels; k++) {
            cr_assert(v[k] == 0 || v[k] >= G.threshold_mev, "voxel below threshold kept");
            et += v[k];
            hit += v[k] > 0;
            s.radial[k % 9] += v[k] / (E_gev * 1e3) / n;
        }
        /* energy bookkeeping: voxels + lateral leakage + below threshold = deposited */
        double all = et + st.lateral_leak_mev + st.below_thr_mev;
        cr_assert(fabs(all / st.deposited_mev - 1) < 1e-5, "energy not conserved: %g of %g MeV",
                  all, st.deposited_mev);
        s.containment += (st.deposited_mev - st.lateral_leak_mev) / (E_gev * 1e3) / n;
        s1 += et / (E_gev * 1e3);
        s2 += pow(et / (E_gev * 1e3), 2);
        s.occupancy += (double)hit / G.n_voxels / n;
        double t = depth_of_max(v);
        t1 += t;
        t2 += t * t;
    }
    s.etot_mean = s1 / n;
    s.etot_rel_sd = sqrt(fmax(s2 / n - s.etot_mean * s.etot_mean, 0)) / s.etot_mean;
    s.tmax_mean = t1 / n;
    s.tmax_sd = sqrt(fmax(t2 / n - s.tmax_mean * s.tmax_mean, 0));
    free(v);
    return s;
}

Test(simulate, physics_checks_at_1_10_100_1000_gev, .timeout = 120)
{
    const double E[4] = {1, 10, 100, 1000};
    const int n[4] = {400, 300, 100, 20};
    summary_t s[4];
    for (int i = 0; i < 4; i++) {
        s[i] = run(E[i], n[i]);
        phys_gflash_long_t p;
        phys_gflash_longitudinal(&S.det, E[i] * 1e3, &p);
        double T = exp(p.lnT), spread = p.sT * T;
        cr_log_info("%6g GeV: containment %.4f, E_tot/E_inc %.4f, rel. spread %.4f (x sqrt(E/GeV) = %.3f), occupancy "
                    "%.3f, shower max %.2f X0 (sd %.2f) vs T = %.2f X0 (spread %.2f)", E[i],
                    s[i].containment, s[i].etot_mean, s[i].etot_rel_sd, s[i].etot_rel_sd * sqrt(E[i]),
                    s[i].occupancy, s[i].tmax_mean, s[i].tmax_sd, T, spread);
        /* the mean depth of the maximum follows T = exp<ln T> within its spread */
        cr_expect(fabs(s[i].tmax_mean - T) < spread, "%g GeV: shower max %.2f X0, T %.2f +- %.2f",
                  E[i], s[i].tmax_mean, T, spread);
        /* E_tot/E_inc: just below 1, within 0.5% of the containment fraction (the difference is
         * what the readout threshold removes) */
        cr_expect(s[i].etot_mean > 0.95 && s[i].etot_mean < 1.0, "%g GeV: E_tot/E_inc %.4f", E[i],
                  s[i].etot_mean);
        cr_expect(fabs(s[i].etot_mean - s[i].containment) < 0.005, "%g GeV: %.4f vs containment %.4f",
                  E[i], s[i].etot_mean, s[i].containment);
    }
    /* flat in energy */
    for (int i = 1; i < 4; i++)
        cr_expect(fabs(s[i].etot_mean - s[0].etot_mean) < 0.02, "E_tot/E_inc not flat");
    /* relative spread falls roughly as 1/sqrt(E): sampling term near c = 0.11 at 1 GeV and a
     * factor about 10 between 1 and 100 GeV */
    cr_expect(fabs(s[0].etot_rel_sd - 0.11) < 0.03, "spread at 1 GeV %.4f", s[0].etot_rel_sd);
    double ratio = s[0].etot_rel_sd / s[2].etot_rel_sd;
    cr_expect(ratio > 6 && ratio < 14, "spread ratio 1/100 GeV = %.2f (1/sqrt(E): 10)", ratio);
    /* shower maximum deepens with energy */
    for (int i = 1; i < 4; i++) cr_expect(s[i].tmax_mean > s[i - 1].tmax_mean + 1.0);
    /* low-energy showers are sparse; occupancy grows with energy */
    cr_expect(s[0].occupancy < 0.1, "occupancy at 1 GeV %.3f", s[0].occupancy);
    for (int i = 1; i < 4; i++) cr_expect(s[i].occupancy > s[i - 1].occupancy);
    cr_expect(s[3].occupancy > 0.5);
    /* core and tail: most energy within the first bin (4.65 mm ~ 0.5 R_M), yet a tail that a
     * single core of radius R_C could not give beyond 2 R_M (bins 4..8) */
    const summary_t *h = &s[2];
    double beyond = 0;
    for (int k = 4; k < 9; k++) beyond += h->radial[k];
    cr_log_info("100 GeV radial fractions: %.4f %.4f %.4f %.4f %.4f %.4f %.4f %.4f %.4f",
                h->radial[0], h->radial[1], h->radial[2], h->radial[3], h->radial[4], h->radial[5],
                h->radial[6], h->radial[7], h->radial[8]);
    cr_expect(h->radial[0] > 0.5, "core fraction %.3f", h->radial[0]);
    cr_expect(beyond > 0.02, "tail fraction beyond 18.6 mm %.4f", beyond);
    for (int k = 1; k < 9; k++) /* energy density per area falls monotonically */
        cr_expect(h->radial[k] / (2 * k + 1) < h->radial[k - 1] / (2 * k - 1), "bin %d", k);
}

Test(simulate, showers_are_the_same_for_any_thread_count_and_batch_split)
{
    enum { N = 12 };
    double E[N];
    phys_sim_energies_loguniform(E, N, 1e3, 1e5, 3, 0);
    size_t V = (size_t)G.n_voxels;
    float *a = malloc(sizeof(float) * N * V), *b = malloc(sizeof(float) * N * V);
    omp_set_num_threads(1);
    cr_assert_eq(phys_sim_batch(&S, E, NULL, N, 3, 0, a), BASE_OK);
    omp_set_num_threads(2);
    cr_assert_eq(phys_sim_batch(&S, E, NULL, 5, 3, 0, b), BASE_OK);
    cr_assert_eq(phys_sim_batch(&S, E + 5, NULL, N - 5, 3, 5, b + 5 * V), BASE_OK);
    cr_assert(memcmp(a, b, sizeof(float) * N * V) == 0);
    /* another seed, other showers */
    cr_assert_eq(phys_sim_batch(&S, E, NULL, 1, 4, 0, b), BASE_OK);
    cr_assert(memcmp(a, b, sizeof(float) * V) != 0);
    free(a);
    free(b);
}

Test(simulate, energies_are_log_uniform_in_range_and_from_lists)
{
    enum { N = 20000 };
    static double E[N];
    phys_sim_energies_loguniform(E, N, 1e3, 1e6, 9, 0);
    int below_30 = 0; /* log-uniform: P(E < sqrt(1e3 * 1e6) ~ 31.6 GeV) = 1/2 */
    for (int i = 0; i < N; i++) {
        cr_assert(E[i] >= 1e3 && E[i] <= 1e6);
        below_30 += E[i] < sqrt(1e9);
    }
    cr_expect(fabs(below_30 / (double)N - 0.5) < 0.02, "%d", below_30);
    double tail[3];
    phys_sim_energies_loguniform(tail, 3, 1e3, 1e6, 9, N - 3);
    cr_assert(memcmp(tail, E + N - 3, sizeof tail) == 0, "entries depend only on their index");
    double list[3] = {1e3, 2e3, 4e3};
    int count[3] = {0};
    phys_sim_energies_list(E, N, list, 3, 1, 0);
    for (int i = 0; i < N; i++) count[(E[i] > 1.5e3) + (E[i] > 3e3)]++;
    for (int k = 0; k < 3; k++) cr_expect(abs(count[k] - N / 3) < 400, "%d", count[k]);
}

/* An inclined particle (simulate.h, 5a): with the same seed the spots are the same and those in
 * front of the calorimeter's face (h = z cos psi - x sin psi < 0, so x > 0) are dropped: at 50 deg
 * no voxel gains energy, the ones that lose it all reach into x > 0 (alpha bins that meet
 * (-90, 90) deg), the first layer loses more than a deep one, and 90 deg is the NULL default. */
Test(simulate, an_inclined_particle_loses_the_spots_in_front_of_the_face)
{
    enum { N = 40 };
    double E[N], A50[N], A90[N];
    phys_sim_energies_loguniform(E, N, 1e4, 1e5, 5, 0);
    for (int i = 0; i < N; i++) A50[i] = 50, A90[i] = 90;
    const size_t V = (size_t)G.n_voxels;
    float *a = malloc(sizeof(float) * N * V), *b = malloc(sizeof(float) * N * V), *c = malloc(sizeof(float) * N * V);
    cr_assert_eq(phys_sim_batch(&S, E, A90, N, 5, 0, a), BASE_OK);
    cr_assert_eq(phys_sim_batch(&S, E, NULL, N, 5, 0, c), BASE_OK);
    cr_expect(memcmp(a, c, sizeof(float) * N * V) == 0, "90 deg is not the default");
    cr_assert_eq(phys_sim_batch(&S, E, A50, N, 5, 0, b), BASE_OK);
    double lost[PHYS_MAX_LAYERS] = {0}, had[PHYS_MAX_LAYERS] = {0};
    int wrong_side = 0, gained = 0;
    for (size_t i = 0; i < N; i++)
        for (int l = 0; l < G.n_layers; l++)
            for (int al = 0; al < G.n_alpha[l]; al++)
                for (int r = 0; r < G.n_r[l]; r++) {
                    size_t v = i * V + (size_t)(G.offset[l] + al * G.n_r[l] + r);
                    const double pi = 3.14159265358979323846, w = 2 * pi / G.n_alpha[l];
                    double a0 = -pi + al * w, a1 = a0 + w;
                    int meets_px = a1 > -pi / 2 && a0 < pi / 2; /* the bin reaches into x > 0 */
                    gained += b[v] > a[v];
                    wrong_side += b[v] < a[v] && !meets_px;
                    lost[l] += a[v] - b[v], had[l] += a[v];
                }
    cr_expect_eq(gained, 0, "%d voxels gained energy at 50 deg", gained);
    cr_expect_eq(wrong_side, 0, "%d voxels on the x < 0 side lost energy", wrong_side);
    cr_expect(lost[0] / had[0] > 0.02 && lost[0] / had[0] > 5 * lost[20] / had[20],
              "layer 0 lost %.4f of its energy, layer 20 %.4f", lost[0] / had[0], lost[20] / had[20]);
    float v1[1];
    cr_expect_eq(phys_sim_shower(&S, 1e4, 20, 1, 0, v1, NULL), BASE_EINVAL, "20 deg is below the range");
    cr_expect_eq(phys_sim_shower(&S, 1e4, NAN, 1, 0, v1, NULL), BASE_EINVAL);
    /* angle draws: uniform in range, entries depend only on their index */
    double t[1000], t2[3];
    phys_sim_angles_uniform(t, 1000, 50, 90, 2, 0);
    double mean = 0;
    for (int i = 0; i < 1000; i++) {
        cr_assert(t[i] >= 50 && t[i] <= 90);
        mean += t[i] / 1000;
    }
    cr_expect(fabs(mean - 70) < 1.5, "mean angle %.2f", mean);
    phys_sim_angles_uniform(t2, 3, 50, 90, 2, 997);
    cr_expect(memcmp(t2, t + 997, sizeof t2) == 0);
    free(a), free(b), free(c);
}

Test(simulate, bad_inputs_are_rejected)
{
    float v[1];
    cr_assert_eq(phys_sim_shower(&S, -5, 90, 1, 0, v, NULL), BASE_EINVAL);
    cr_assert_eq(phys_sim_shower(&S, NAN, 90, 1, 0, v, NULL), BASE_EINVAL);
    phys_geometry_t g1;
    phys_sim_t s1;
    phys_geometry_preset(&g1, "ds1-photons");
    cr_assert_eq(phys_sim_init(&s1, &g1), BASE_EINVAL);
    cr_assert(strstr(base_last_error(), "ds1-photons") != NULL);
}

/* The regularised lower incomplete gamma P(a, x) of the GFLASH profiles against closed forms:
 * P(1, x) = 1 - e^-x, P(2, x) = 1 - (1 + x) e^-x, P(1/2, x) = erf(sqrt(x)). */
Test(simulate, incomplete_gamma_matches_closed_forms)
{
    for (double x = 0.05; x < 30; x *= 1.7) {
        double p1 = 1 - exp(-x), p2 = 1 - (1 + x) * exp(-x), ph = erf(sqrt(x));
        cr_expect(fabs(phys_gamma_p(1, x) - p1) < 1e-9, "P(1, %g) = %.12g, want %.12g", x, phys_gamma_p(1, x), p1);
        cr_expect(fabs(phys_gamma_p(2, x) - p2) < 1e-9, "P(2, %g) = %.12g, want %.12g", x, phys_gamma_p(2, x), p2);
        cr_expect(fabs(phys_gamma_p(0.5, x) - ph) < 1e-9, "P(1/2, %g) = %.12g, want %.12g", x, phys_gamma_p(0.5, x), ph);
    }
    cr_expect(phys_gamma_p(3, 0) == 0);
}
