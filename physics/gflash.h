/* physics/gflash.h: the GFLASH parameterisation of electromagnetic showers in a sampling
 * calorimeter (Grindhammer and Peters, hep-ex/0001020; Geant4 source/parameterisations/gflash).
 *
 * Units: depth t in radiation lengths X0 of the effective medium, radius in Moliere radii
 * R_M (converted to mm by the simulator), energies in MeV unless a name says GeV.
 *
 * Where the sources disagree, this implementation chooses (and says so next to the code):
 *  1. Critical energy E_c: the paper's formula 2.66 (X0 Z / A)^1.1 wants X0 in g/cm^2, while
 *     Geant4 passes X0 in mm. We use the PDG critical energies of W and Si instead.
 *  2. Spot count: the tuning header gives 10.3 ln(Z) E^0.959 for sampling calorimeters,
 *     the Geant4 code uses 93 / 0.11 E^0.876 (with the homogeneous spot T, alpha factors).
 *     We use the Geant4 code's count: it gives occupancies in the range of Geant4 showers
 *     in a 0.3 mm Si readout (hundreds of hit voxels at 1 GeV).
 *  3. Sampling fluctuations: each step's energy dE is replaced by a Gamma variate of mean dE
 *     and variance c^2 dE. Geant4 applies this with dE in MeV, which makes the resolution
 *     11%/sqrt(E/MeV), i.e. negligible; we take dE in GeV, so c = 0.11 is the sampling term
 *     of sigma/E = 11%/sqrt(E/GeV), as the paper intends.
 *  Also: Geant4 draws the energy profile with the homogeneous (T, alpha) and uses the sampling
 *  ones only in tau; we use the sampling-calorimeter (T, alpha) for the profile, which is what
 *  the paper parameterises for such a calorimeter (T_sam ~ 3.4 X0 at 1 GeV here).
 */
#ifndef PHYSICS_GFLASH_H
#define PHYSICS_GFLASH_H

typedef struct {
    double Z, A, rho;    /* atomic number, mass number, density g/cm^3 */
    double X0_gcm2;      /* radiation length, g/cm^2 */
    double Ec_mev;       /* critical energy (PDG), MeV */
} phys_material_t;

typedef struct {
    phys_material_t absorber, active;
    double d_abs_mm, d_act_mm; /* thickness of one absorber and one active layer */
    double depth_mm;           /* total depth of the calorimeter */
    double sampling_fraction;  /* visible (Si) / total energy for showers; documents units */
    /* derived by phys_detector_derive (section 3.5 of the reference) */
    double Z_eff, A_eff, rho_eff; /* mass-fraction weighted Z, A; mean density */
    double X0_mm, RM_mm, Ec_mev;  /* effective radiation length, Moliere radius, E_c */
    double Fs, ehat;              /* X0_eff / (d1 + d2) and 1 / (1 + 0.007 (Z1 - Z2)) */
} phys_detector_t;

/* The W/Si calorimeter of Geant4 Par04 and CaloChallenge ds2/ds3: 90 x (1.4 mm W + 0.3 mm Si),
 * 153 mm deep, sampling fraction 0.033. Derived quantities filled in. */
void phys_detector_wsi(phys_detector_t *d);
/* Fills the derived quantities from the two materials and thicknesses. */
void phys_detector_derive(phys_detector_t *d);

/* Mean and spread of the correlated log-normal (ln T, ln alpha) of the sampling calorimeter at
 * incident energy E (MeV): <ln T>, <ln alpha>, sigma(ln T), sigma(ln alpha), rho. */
typedef struct {
    double lnT, lnA, sT, sA, rho;
} phys_gflash_long_t;
void phys_gflash_longitudinal(const phys_detector_t *d, double E_mev, phys_gflash_long_t *p);

/* One shower's profile parameters. */
typedef struct {
    double T, alpha, beta;        /* energy profile: f(t) ~ t^(alpha-1) exp(-beta t), T = (alpha-1)/beta */
    double Ts, alpha_s, beta_s;   /* spot profile */
    double n_spots;               /* total spot count */
    double tau_norm;              /* tau = t * tau_norm (see phys_gflash_draw) */
} phys_gflash_shower_t;

/* Draws one shower's parameters from standard normals z1, z2 (section 3.2/3.5). */
void phys_gflash_draw(const phys_detector_t *d, double E_mev, double z1, double z2,
                      phys_gflash_shower_t *s);

/* Radial profile at tau = t / T-normalised depth (section 3.3/3.5), radii in R_M:
 * f(r) = p 2 r Rc^2 / (r^2 + Rc^2)^2 + (1 - p) 2 r Rt^2 / (r^2 + Rt^2)^2. */
void phys_gflash_radial(const phys_detector_t *d, double E_mev, double tau, double *Rc,
                        double *Rt, double *p);

/* Regularised lower incomplete gamma P(a, x) (series for x < a + 1, else Lentz continued
 * fraction; relative accuracy 1e-12). a > 0, x >= 0. */
double phys_gamma_p(double a, double x);
/* The same with ln Gamma(a) given (lga = phys_lgamma(a)), for repeated calls with one a. */
double phys_gamma_p_lg(double a, double x, double lga);
/* ln Gamma(a) for a > 0 (Lanczos, g = 7, 9 terms; thread safe, unlike lgamma). */
double phys_lgamma(double a);

#endif
