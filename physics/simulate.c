/* physics/simulate.c: GFLASH spot simulator binned into voxels (see simulate.h). */
#include "physics/simulate.h"
#include "base/streams.h"

#include "base/rng.h"
#include "base/limits.h"
#include "base/status.h"

#include <math.h>
#include <string.h>

#define PI 3.14159265358979323846

int phys_sim_init(phys_sim_t *s, const phys_geometry_t *geo)
{
    memset(s, 0, sizeof *s);
    if (geo->layer_depth_mm <= 0)
        return base_error(BASE_EINVAL, "simulator: geometry '%s' has no layer depth; the built-in "
                           "W/Si simulator needs a ds2/ds3-like grid", geo->name);
    phys_detector_wsi(&s->det);
    s->geo = *geo;
    s->step_x0 = 0.2;
    s->sampling_term = 0.11;
    s->threshold = 1;
    s->spot_power = 3.0;
    s->constant_term = 0.005;
    s->radial_scale_sd = 0.08;
    s->axis_offset_mm = 0.5;
    return BASE_OK;
}

/* Gamma(k, 1) variate (Marsaglia and Tsang 2000; for k < 1: G(k) = G(k + 1) U^(1/k)). */
static double gamma_variate(base_rng_seq_t *u, double k)
{
    double boost = 1.0;
    if (k < 1.0) {
        boost = pow(base_rng_seq_u01(u), 1.0 / k);
        k += 1.0;
    }
    double d = k - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = base_rng_seq_normal(u), v = 1.0 + c * x;
        if (v <= 0) continue;
        v = v * v * v;
        double w = base_rng_seq_u01(u);
        if (w < 1.0 - 0.0331 * x * x * x * x || log(w) < 0.5 * x * x + d * (1.0 - v + log(v)))
            return boost * d * v;
    }
}

/* The shower's own lateral fluctuation: its radial scale and the offset of its axis; and the
 * tilt of the calorimeter's faces in the shower frame (simulate.h, 5a). */
typedef struct {
    double scale, ox, oy; /* radii times scale; axis at (ox, oy) mm */
    double cpsi, spsi;    /* cos and sin of psi = 90 deg - incident angle */
    double face_mm;       /* the calorimeter's thickness along its normal */
} lateral_t;

/* 1 when the spot at shower-frame (x, z) mm lies inside the calorimeter slab: its depth below
 * the front face h = z cos(psi) - x sin(psi) in [0, thickness) (simulate.h, 5a). At normal
 * incidence h = z: always inside the mesh. */
static int in_slab(const lateral_t *lat, double x, double z)
{
    if (lat->spsi == 0) return 1;
    double h = z * lat->cpsi - x * lat->spsi;
    return h >= 0 && h < lat->face_mm;
}

/* Deposits n spots of mean energy e over depth [z0, z1) mm at profile depth tau. Spot k
 * carries e w_k with w_k = (p + 1) u^p (mean 1, p = spot_power): a few large and many small
 * deposits, the spread of energy that single particles leave in the thin silicon. Its
 * radius is r = R_M R sqrt(q / (1 - q)) scaled by the shower's factor, around its axis.
 * Returns the energy the spots carried (inside the grid or leaked). */
static double deposit_spots(const phys_sim_t *s, double E_mev, double tau, double n, double e,
                            double z0, double z1, const lateral_t *lat, base_rng_seq_t *u, float *out,
                            double *leak)
{
    double Rc, Rt, p;
    phys_gflash_radial(&s->det, E_mev, tau, &Rc, &Rt, &p);
    const phys_geometry_t *g = &s->geo;
    const double RM = s->det.RM_mm * lat->scale, dz = (z1 - z0) / n, inv_depth = 1.0 / g->layer_depth_mm;
    const double pw = s->spot_power, wmax = pw + 1;
    double sum = 0;
    for (long k = 0; k < (long)n; k++) {
        uint32_t w[4];
        base_rng_next_block(&u->r, w);
        double R = base_rng_to_unit(w[0]) < p ? Rc : Rt;
        double q = base_rng_to_unit(w[1]);
        double r = RM * R * sqrt(q / (1.0 - q));
        double alpha = -PI + 2 * PI * base_rng_to_unit(w[2]);
        double ek = pw > 0 ? e * wmax * pow(base_rng_to_unit(w[3]), pw) : e;
        double z = z0 + (k + 0.5) * dz;
        int layer = (int)(z * inv_depth);
        int v = layer >= g->n_layers || !in_slab(lat, r * cos(alpha) + lat->ox, z) ? -1
                : lat->ox == 0 && lat->oy == 0
                    ? phys_geometry_locate_polar(g, layer, r, alpha)
                    : phys_geometry_locate(g, layer, r * cos(alpha) + lat->ox, r * sin(alpha) + lat->oy);
        if (v >= 0) out[v] += (float)ek;
        else *leak += ek;
        sum += ek;
    }
    return sum;
}

int phys_sim_shower(const phys_sim_t *s, double E_mev, double angle_deg, uint64_t seed, uint64_t i, float *out,
                    phys_sim_stats_t *st)
{
    if (!(E_mev > BASE_MIN_ENERGY_MEV && E_mev <= BASE_MAX_SIM_ENERGY_MEV)) /* its cost grows as E */
        return base_error(BASE_EINVAL, "simulator: incident energy %g MeV outside (%g, %g] MeV", E_mev,
                          BASE_MIN_ENERGY_MEV, BASE_MAX_SIM_ENERGY_MEV);
    if (!(angle_deg >= PHYS_SIM_MIN_ANGLE && angle_deg <= 90))
        return base_error(BASE_EINVAL, "simulator: incident angle %g deg outside [%g, 90] deg", angle_deg,
                          PHYS_SIM_MIN_ANGLE);
    const phys_geometry_t *g = &s->geo;
    memset(out, 0, (size_t)g->n_voxels * sizeof *out);
    base_rng_seq_t u;
    base_rng_seq_init(&u, seed, BASE_STREAM_SIM_SHOWER | i);
    phys_gflash_shower_t sh;
    double z1n = base_rng_seq_normal(&u), z2n = base_rng_seq_normal(&u);
    phys_gflash_draw(&s->det, E_mev, z1n, z2n, &sh);
    /* shower-to-shower fluctuations beyond GFLASH's profile: the lateral scale (log-normal,
     * sd radial_scale_sd), the axis position (Gaussian, sd axis_offset_mm per coordinate), and
     * the response: a constant term b, sigma/E = c / sqrt(E/GeV) (+) b, as one factor g ~ N(1, b^2)
     * on every step's energy */
    lateral_t lat = {exp(s->radial_scale_sd * base_rng_seq_normal(&u)), s->axis_offset_mm * base_rng_seq_normal(&u),
                     s->axis_offset_mm * base_rng_seq_normal(&u), 1, 0, s->det.depth_mm};
    const double gain = fmax(1 + s->constant_term * base_rng_seq_normal(&u), 0.5);
    if (angle_deg < 90) { /* psi = 90 deg - angle: the axis's tilt from the face's normal */
        const double psi = (90 - angle_deg) * PI / 180;
        lat.cpsi = cos(psi), lat.spsi = sin(psi);
    }
    /* the walk follows the axis through the slab (thickness / cos psi) or to the mesh's end */
    const double X0 = s->det.X0_mm, depth = fmin(s->det.depth_mm / lat.cpsi, g->n_layers * g->layer_depth_mm);
    const double tmax = depth / X0, c2 = s->sampling_term * s->sampling_term;
    const double lga = phys_lgamma(sh.alpha), lgs = phys_lgamma(sh.alpha_s);
    /* the walk ends when less than a tenth of the readout threshold is left to deposit */
    const double stop = s->threshold ? 0.1 * g->threshold_mev : 1e-6;
    double P0 = 0, Ps0 = 0, leak = 0, spots = 0, deposited = 0;
    /* Steps of step_x0; in the tail, once past the maximum a step expects less than one spot,
     * steps of one readout layer (finer steps would only add forced single spots that the
     * voxels cannot resolve, and the walk's cost, two incomplete gammas per step, dominates
     * low-energy showers). */
    const double coarse = g->layer_depth_mm / X0;
    double dt = s->step_x0;
    for (double t0 = 0, t1; t0 < tmax; t0 = t1) {
        t1 = fmin(t0 + dt, tmax);
        double P1 = phys_gamma_p_lg(sh.alpha, sh.beta * t1, lga);
        double Ps1 = phys_gamma_p_lg(sh.alpha_s, sh.beta_s * t1, lgs);
        double dE = E_mev * (P1 - P0), dPs = Ps1 - Ps0;
        if (dE > 0) {
            /* sampling fluctuation, dE in GeV: mean dE, variance c^2 dE (choice 3, gflash.h) */
            double dEf = gain * c2 * 1e3 * gamma_variate(&u, dE * 1e-3 / c2);
            double n = fmax(1.0, floor(dPs * sh.n_spots));
            double tau = 0.5 * (t0 + t1) * sh.tau_norm;
            double got = deposit_spots(s, E_mev, tau, n, dEf / n, t0 * X0, t1 * X0, &lat, &u, out, &leak);
            spots += n;
            deposited += got; /* the spot weights make it differ from dEf by sd ~ 1.13 / sqrt(n) */
        }
        P0 = P1;
        Ps0 = Ps1;
        if (E_mev * (1 - P0) < stop) break;
        if (t0 > sh.T && dPs * sh.n_spots < 1 && coarse > dt) dt = coarse;
    }
    double below = 0;
    if (s->threshold)
        for (int v = 0; v < g->n_voxels; v++)
            if (out[v] > 0 && out[v] < g->threshold_mev) {
                below += out[v];
                out[v] = 0;
            }
    if (st) /* back leakage: beyond the calorimeter, or below the walk's stop */
        *st = (phys_sim_stats_t){sh.T, sh.alpha, spots, deposited, leak, E_mev * (1 - P0), below};
    return BASE_OK;
}

int phys_sim_batch(const phys_sim_t *s, const double *E_mev, const double *angle_deg, size_t n, uint64_t seed,
                   uint64_t first_index, float *out)
{
    int rc = BASE_OK;
    const size_t V = (size_t)s->geo.n_voxels;
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t k = 0; k < n; k++) {
        int r = phys_sim_shower(s, E_mev[k], angle_deg ? angle_deg[k] : 90.0, seed, first_index + k, out + k * V, NULL);
        if (r < 0) {
#pragma omp critical
            rc = r;
        }
    }
    return rc;
}

/* w: the random block of entry i of seed's stream (the per-entry draws of a sample). */
static void entry_block(uint64_t seed, uint64_t stream, uint64_t i, uint32_t w[4])
{
    base_rng_t r;
    base_rng_init(&r, seed, stream);
    r.offset = i;
    base_rng_next_block(&r, w);
}

void phys_sim_energies_loguniform(double *E_mev, size_t n, double lo, double hi, uint64_t seed,
                                  uint64_t first_index)
{
    const double a = log(lo), b = log(hi);
    for (size_t k = 0; k < n; k++) {
        uint32_t w[4];
        entry_block(seed, BASE_STREAM_SIM_ENERGY, first_index + k, w);
        /* 48 random bits for a smooth spectrum */
        double u = ((double)(w[0] >> 8) * 0x1p24 + (w[1] >> 8) + 0.5) * 0x1p-48;
        E_mev[k] = exp(a + (b - a) * u);
    }
}

/* out: (n) values drawn uniformly from list (k values), entries first_index .. of stream. */
static void pick_list(double *out, size_t n, const double *list, int k, uint64_t seed, uint64_t stream,
                      uint64_t first_index)
{
    for (size_t j = 0; j < n; j++) {
        uint32_t w[4];
        entry_block(seed, stream, first_index + j, w);
        out[j] = list[(uint64_t)w[0] * (uint64_t)k >> 32];
    }
}

void phys_sim_energies_list(double *E_mev, size_t n, const double *list, int k, uint64_t seed,
                            uint64_t first_index)
{
    pick_list(E_mev, n, list, k, seed, BASE_STREAM_SIM_ENERGY, first_index);
}

void phys_sim_angles_uniform(double *angle_deg, size_t n, double lo, double hi, uint64_t seed, uint64_t first_index)
{
    for (size_t k = 0; k < n; k++) {
        uint32_t w[4];
        entry_block(seed, BASE_STREAM_SIM_ANGLE, first_index + k, w);
        angle_deg[k] = lo + (hi - lo) * base_rng_to_unit(w[0]);
    }
}

void phys_sim_angles_list(double *angle_deg, size_t n, const double *list, int k, uint64_t seed, uint64_t first_index)
{
    pick_list(angle_deg, n, list, k, seed, BASE_STREAM_SIM_ANGLE, first_index);
}
