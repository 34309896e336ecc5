/* physics/geometry.h: the voxel grid of a calorimeter dataset (CaloChallenge binning).
 *
 * A geometry is a list of layers; layer l has n_r[l] radial bins with edges r_edges[l][0..n_r]
 * (mm, from the shower axis) and n_alpha[l] angular bins. A layer with no radial bin (XML
 * r_edges="0") holds no voxel. Angular bin a covers
 *     alpha in [-pi + a 2 pi / n_alpha, -pi + (a + 1) 2 pi / n_alpha),
 * alpha = atan2(y, x), as in CaloChallenge's XMLHandler (linspace(-pi, pi, n_alpha + 1)).
 * Voxel coordinates for observables are the bin centres: x ("eta") = r_mid cos(alpha_mid),
 * y ("phi") = r_mid sin(alpha_mid).
 *
 * Canonical flattened order (CaloChallenge): layer, then alpha, then r fastest:
 *     index = offset[l] + a * n_r[l] + r.
 * Geant4 Par04 files use (r, phi, z) with z fastest; phys_par04_to_cc converts.
 *
 * Built-in presets equal the official binning files: "ds1-photons" (368 voxels),
 * "ds1-pions" (533), "ds2" (45 x 16 x 9 = 6480, dr = 4.65 mm), "ds3" (45 x 50 x 18 = 40500,
 * dr = 2.325 mm). Any CaloChallenge binning XML can be loaded (libxml2).
 * A geometry is a plain value (fixed-size arrays): copy it freely; nothing to free.
 */
#ifndef PHYSICS_GEOMETRY_H
#define PHYSICS_GEOMETRY_H

#include "base/limits.h"

#define PHYS_MAX_LAYERS BASE_MAX_LAYERS
#define PHYS_MAX_REDGES BASE_MAX_REDGES
#define PHYS_MAX_VOXELS BASE_MAX_VOXELS /* ds3 has 40500 */

typedef struct {
    char name[64];     /* preset name or XML file name */
    char particle[32]; /* "photon", "pion", "electron" */
    int pid;           /* PDG id of the particle */
    int n_layers;      /* layers, including empty ones */
    int n_r[PHYS_MAX_LAYERS];
    int n_alpha[PHYS_MAX_LAYERS];
    double r_edges[PHYS_MAX_LAYERS][PHYS_MAX_REDGES]; /* mm; n_r[l] + 1 used */
    int offset[PHYS_MAX_LAYERS + 1]; /* first voxel of each layer; offset[n_layers] = n_voxels */
    int n_voxels;
    double layer_depth_mm; /* readout-layer thickness along the axis (3.4 for ds2/ds3, 0 = unknown) */
    double threshold_mev;  /* readout threshold per voxel: 15.15 keV (ds2/3), 1 MeV (ds1) */
} phys_geometry_t;

/* Sets offset[] and n_voxels from n_layers, n_r and n_alpha (index = offset[l] + a n_r[l] + r);
 * BASE_EINVAL if a count is negative or the total exceeds PHYS_MAX_VOXELS. */
int phys_geometry_set_offsets(phys_geometry_t *g);

/* Fills g with a built-in preset; BASE_EINVAL (with a message) for an unknown name. */
int phys_geometry_preset(phys_geometry_t *g, const char *name);
/* The names of the presets, NULL-terminated. */
extern const char *const phys_geometry_presets[];

/* Loads a CaloChallenge binning XML (<Bins><Bin pid name><Layer id r_edges n_bin_alpha/>).
 * particle: the Bin's name attribute, or NULL for the first Bin. */
int phys_geometry_load_xml(phys_geometry_t *g, const char *path, const char *particle);

/* A preset name or an XML path (anything ending in .xml). */
int phys_geometry_from_arg(phys_geometry_t *g, const char *arg);

/* The preset whose binning equals g ("" if none); for inspection of files. */
const char *phys_geometry_match(const phys_geometry_t *g);
/* 1 when a and b have the same layers, edges (to 1e-4 mm) and angular bins. */
int phys_geometry_same_binning(const phys_geometry_t *a, const phys_geometry_t *b);

/* Voxel of a point at transverse position (x, y) mm in layer l, or -1 outside the grid. */
int phys_geometry_locate(const phys_geometry_t *g, int l, double x, double y);
/* Voxel of (layer, r, alpha) given r (mm) and alpha in [-pi, pi); -1 if r is outside. */
int phys_geometry_locate_polar(const phys_geometry_t *g, int l, double r, double alpha);

/* Bin centre of voxel v: layer, r_mid (mm), alpha_mid (rad), x = r cos a, y = r sin a. */
void phys_geometry_voxel_centre(const phys_geometry_t *g, int v, int *layer, double *r,
                                double *alpha, double *x, double *y);

/* src: (n_r, n_phi, n_z) Par04 order -> dst: (n_z, n_phi, n_r) CaloChallenge order. */
void phys_par04_to_cc(const float *src, int n_r, int n_phi, int n_z, float *dst);

#endif
