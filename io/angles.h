/* io/angles.h: how shower files hold incident angles.
 *
 * Convention (Geant4 Par04's converter root2h5.py, which names it for its future output):
 * a dataset "incident_theta" (N, 1) or (N), float64, radians: the polar angle of the particle
 * from the barrel's axis, so pi/2 (90 deg) is normal incidence on the calorimeter's face.
 * Par04's per-energy files carry one angle in their name instead ("SiW_angle_70.h5").
 * A file without either holds showers at 90 deg. In the program angles are degrees.
 * Angles travel as float32 degrees: a copy (generate --energies-from) agrees to 1e-7 rad.
 */
#ifndef IO_ANGLES_H
#define IO_ANGLES_H

#define IO_ANGLE_DATASET "incident_theta"
#define IO_ANGLE_DEFAULT_DEG 90.0

static inline double io_angle_to_theta(double deg) { return deg * (3.14159265358979323846 / 180.0); }
static inline double io_angle_from_theta(double rad) { return rad * (180.0 / 3.14159265358979323846); }

#endif
