/* physics/gflash.c: GFLASH parameterisation (see gflash.h; formulas from section 3 of
 * ../shared/docs/physics.md, which cites hep-ex/0001020 and Geant4's gflash sources). */
#include "physics/gflash.h"

#include <math.h>

void phys_detector_derive(phys_detector_t *d)
{
    const phys_material_t *m[2] = {&d->absorber, &d->active};
    const double t[2] = {d->d_abs_mm, d->d_act_mm};
    double mass = 0, w[2];
    for (int i = 0; i < 2; i++) mass += t[i] * m[i]->rho;
    /* W_i = d_i rho_i / sum_j d_j rho_j */
    for (int i = 0; i < 2; i++) w[i] = t[i] * m[i]->rho / mass;
    d->Z_eff = w[0] * m[0]->Z + w[1] * m[1]->Z;
    d->A_eff = w[0] * m[0]->A + w[1] * m[1]->A;
    d->rho_eff = mass / (t[0] + t[1]);
    /* 1/X0_eff = rho_eff sum_i W_i / (X0_i rho_i), X0_i rho_i = X0 in g/cm^2; result in cm */
    double inv = 0, ec_over_x0 = 0;
    for (int i = 0; i < 2; i++) {
        inv += w[i] / m[i]->X0_gcm2;
        ec_over_x0 += w[i] * m[i]->Ec_mev / (m[i]->X0_gcm2 / m[i]->rho * 10.0); /* MeV/mm */
    }
    d->X0_mm = 10.0 / (d->rho_eff * inv);
    /* R_M = E_s / sum_i W_i E_c,i / X0_i  (E_s = 21.2 MeV, sampling);  E_c = X0 sum_i W_i E_c,i / X0_i */
    d->RM_mm = 21.2 / ec_over_x0;
    d->Ec_mev = d->X0_mm * ec_over_x0;
    d->Fs = d->X0_mm / (t[0] + t[1]);
    d->ehat = 1.0 / (1.0 + 0.007 * (m[0]->Z - m[1]->Z));
}

void phys_detector_wsi(phys_detector_t *d)
{
    /* PDG: W X0 = 6.76 g/cm^2, E_c = 7.97 MeV (e-); Si X0 = 21.82 g/cm^2, E_c = 40.19 MeV */
    *d = (phys_detector_t){
        .absorber = {.Z = 74, .A = 183.84, .rho = 19.3, .X0_gcm2 = 6.76, .Ec_mev = 7.97},
        .active = {.Z = 14, .A = 28.0855, .rho = 2.329, .X0_gcm2 = 21.82, .Ec_mev = 40.19},
        .d_abs_mm = 1.4,
        .d_act_mm = 0.3,
        .depth_mm = 153.0,
        .sampling_fraction = 0.033,
    };
    phys_detector_derive(d);
}

static double clamp_min(double x, double lo) { return x < lo ? lo : x; }

void phys_gflash_longitudinal(const phys_detector_t *d, double E_mev, phys_gflash_long_t *p)
{
    const double Z = d->Z_eff, lny = log(E_mev / d->Ec_mev), one_e = 1.0 - d->ehat;
    /* homogeneous means: <ln T> = ln(ln y - 0.812), <ln a> = ln(0.81 + (0.458 + 2.26/Z) ln y) */
    double T_hom = clamp_min(lny - 0.812, 0.1);
    double A_hom = clamp_min(0.81 + (0.458 + 2.26 / Z) * lny, 0.1);
    /* sampling: <ln T_sam> = ln(T_hom - 0.55/Fs - 0.69 (1 - e)), <ln a_sam> = ln(a_hom - 0.476/Fs) */
    p->lnT = log(clamp_min(T_hom - 0.55 / d->Fs - 0.69 * one_e, 0.1));
    p->lnA = log(clamp_min(A_hom - 0.476 / d->Fs, 0.1));
    /* sigma(ln T) = 1/(-2.5 + 1.25 ln y), sigma(ln a) = 1/(-0.82 + 0.79 ln y), each <= 0.5 */
    double dT = -2.5 + 1.25 * lny, dA = -0.82 + 0.79 * lny;
    p->sT = dT > 2.0 ? 1.0 / dT : 0.5;
    p->sA = dA > 2.0 ? 1.0 / dA : 0.5;
    p->rho = 0.784 - 0.023 * lny;
}

void phys_gflash_draw(const phys_detector_t *d, double E_mev, double z1, double z2,
                      phys_gflash_shower_t *s)
{
    phys_gflash_long_t p;
    phys_gflash_longitudinal(d, E_mev, &p);
    /* correlated normals: (sqrt((1+rho)/2) z1 +- sqrt((1-rho)/2) z2) */
    double a = sqrt((1 + p.rho) / 2), b = sqrt((1 - p.rho) / 2);
    s->T = fmax(exp(p.lnT + p.sT * (a * z1 + b * z2)), 1.0);       /* Geant4 clamps: T >= 1 */
    s->alpha = fmax(exp(p.lnA + p.sA * (a * z1 - b * z2)), 1.1);  /* alpha >= 1.1 */
    s->beta = (s->alpha - 1) / s->T;
    /* spots (homogeneous factors, as the Geant4 code): T_s = T (0.698 + 0.00212 Z),
     * alpha_s = alpha (0.639 + 0.00334 Z) */
    const double Z = d->Z_eff, E_gev = E_mev * 1e-3;
    s->Ts = s->T * (0.698 + 0.00212 * Z);
    s->alpha_s = fmax(s->alpha * (0.639 + 0.00334 * Z), 1.1);
    s->beta_s = (s->alpha_s - 1) / s->Ts;
    s->n_spots = 93.0 / 0.11 * pow(E_gev, 0.876); /* choice 2 in gflash.h */
    /* tau = (t / T) ((alpha - 1) / alpha) (A / (A - 1)), A = exp<ln alpha>: depth relative to
     * this shower's mean depth, scaled by the average <t>/T (Geant4) */
    double A = exp(p.lnA);
    s->tau_norm = (1.0 / s->T) * ((s->alpha - 1) / s->alpha) * (A / fmax(A - 1, 1e-3));
}

void phys_gflash_radial(const phys_detector_t *d, double E_mev, double tau, double *Rc,
                        double *Rt, double *p)
{
    const double Z = d->Z_eff, lnE = log(E_mev * 1e-3), one_e = 1.0 - d->ehat, Fs = d->Fs;
    /* core: R_C = z1 + z2 tau */
    double z1 = 0.0251 + 0.00319 * lnE, z2 = 0.1162 - 0.000381 * Z;
    double rc = z1 + z2 * tau;
    /* tail: R_T = k1 (exp(k3 (tau - k2)) + exp(k4 (tau - k2))) */
    double k1 = 0.659 - 0.00309 * Z, k2 = 0.645, k3 = -2.59, k4 = 0.3585 + 0.0412 * lnE;
    double rt = k1 * (exp(k3 * (tau - k2)) + exp(k4 * (tau - k2)));
    /* core weight: p = p1 exp((p2 - tau)/p3 - exp((p2 - tau)/p3)) */
    double p1 = 2.632 - 0.00094 * Z, p2 = 0.401 + 0.00187 * Z, p3 = 1.313 - 0.0686 * lnE;
    double u = (p2 - tau) / p3, pc = p1 * exp(u - exp(u));
    /* sampling-calorimeter corrections */
    double et = exp(-tau);
    rc += -0.0203 * one_e + 0.0397 / Fs * et;
    rt += -0.14 * one_e - 0.495 / Fs * et;
    pc += one_e * (0.348 - 0.642 / Fs * exp(-(tau - 1) * (tau - 1)));
    *Rc = clamp_min(rc, 1e-3);
    *Rt = clamp_min(rt, 1e-3);
    *p = pc < 0 ? 0 : pc > 1 ? 1 : pc;
}

double phys_lgamma(double a)
{
    static const double c[9] = {0.99999999999980993,  676.5203681218851,     -1259.1392167224028,
                                771.32342877765313,   -176.61502916214059,   12.507343278686905,
                                -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};
    if (a < 0.5) /* reflection: Gamma(a) Gamma(1 - a) = pi / sin(pi a) */
        return log(3.14159265358979323846 / fabs(sin(3.14159265358979323846 * a))) - phys_lgamma(1 - a);
    a -= 1;
    double x = c[0], t = a + 7.5;
    for (int i = 1; i < 9; i++) x += c[i] / (a + i);
    return 0.9189385332046727 + (a + 0.5) * log(t) - t + log(x);
}

double phys_gamma_p(double a, double x) { return phys_gamma_p_lg(a, x, phys_lgamma(a)); }

double phys_gamma_p_lg(double a, double x, double lga)
{
    if (x <= 0) return 0.0;
    double lpre = a * log(x) - x - lga;
    if (x < a + 1) { /* series: P = e^-x x^a / Gamma(a+1) sum_n x^n / ((a+1)...(a+n)) */
        double ap = a, sum = 1.0 / a, del = sum;
        for (int n = 0; n < 500; n++) {
            ap += 1;
            del *= x / ap;
            sum += del;
            if (fabs(del) < fabs(sum) * 1e-10) break;
        }
        return fmin(1.0, sum * exp(lpre));
    }
    /* continued fraction for Q = 1 - P (modified Lentz) */
    const double tiny = 1e-300;
    double b = x + 1 - a, cc = 1 / tiny, dd = 1 / b, h = dd;
    for (int i = 1; i < 500; i++) {
        double an = -i * (i - a);
        b += 2;
        dd = an * dd + b;
        if (fabs(dd) < tiny) dd = tiny;
        cc = b + an / cc;
        if (fabs(cc) < tiny) cc = tiny;
        dd = 1 / dd;
        double del = dd * cc;
        h *= del;
        if (fabs(del - 1) < 1e-10) break;
    }
    return fmax(0.0, 1.0 - exp(lpre) * h);
}
