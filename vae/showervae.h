/* showervae.h: the public C interface of showervae, for fast-simulation hooks.
 *
 * showervae learns calorimeter showers with a conditional VAE and generates them fast. This
 * header is all a pipeline needs: build with `pkg-config --cflags --libs showervae`. No oneDNN
 * or HDF5 type appears here. Nothing in the library prints or exits: functions return
 * VAE_OK (0) or a negative VAE_E* code, and vae_last_error() describes the last failure of the
 * calling thread.
 *
 * Tutorial: one particle at a time, as a Geant4 fast-simulation model's DoIt would.
 *
 *     vae_generator_t *g;
 *     if (vae_generator_open(&g, "model.h5") != VAE_OK) { puts(vae_last_error()); return 1; }
 *     int V = vae_generator_voxels(g);
 *     float *voxels = malloc(V * sizeof *voxels);
 *     vae_hit_t *hits = malloc(V * sizeof *hits);
 *     float e_mev = 50000;                        // a 50 GeV electron
 *     double pos[3] = {0, 0, 800}, dir[3] = {0, 0.6, 0.8};
 *     vae_generate(g, 1, &e_mev, 7, 0, voxels);    // seed 7, shower index 0
 *     int n;
 *     vae_to_hits(g, voxels, pos, dir, hits, V, &n);  // n positioned deposits (mm, MeV)
 *     for (int i = 0; i < n; i++) deposit(hits[i].x, hits[i].y, hits[i].z, hits[i].e);
 *     vae_generator_close(g);
 *
 * Determinism: shower k of a call with seed s and first index f is the shower of global index
 * f + k under seed s: the same whatever the batch size it is generated in or the thread
 * (in f32, the default; in bf16 the same for the same batch sizes, and equal to bf16 rounding
 * across batch sizes).
 * Speed: a single particle runs prebuilt 1-row primitives with no allocation per call; bf16
 * (vae_generator_set_precision) halves the weight bytes, which decide batch-1 latency.
 * Threads: a generator is used by one thread at a time; open one generator per thread to
 * generate concurrently (each owns its oneDNN engine, stream, primitives and scratchpads).
 */
#ifndef SHOWERVAE_H
#define SHOWERVAE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHOWERVAE_VERSION_MAJOR 0
#define SHOWERVAE_VERSION_MINOR 2
#define SHOWERVAE_VERSION_PATCH 0
#define SHOWERVAE_VERSION_STRING "0.2.0"

/* Status codes. */
#define VAE_OK 0
#define VAE_EDNNL (-1)  /* the numerical backend failed */
#define VAE_ENOMEM (-2) /* out of memory */
#define VAE_EINVAL (-3) /* invalid argument */
#define VAE_ENUM (-4)   /* NaN or Inf */
#define VAE_EIO (-5)    /* a file is missing, unreadable or not a showervae model */

/* The library's version at run time, "MAJOR.MINOR.PATCH". */
const char *vae_version(void);
/* The last error message recorded on the calling thread ("" if none); owned by the library. */
const char *vae_last_error(void);

typedef struct vae_generator vae_generator_t;

/* A positioned energy deposit. */
typedef struct {
    float x, y, z; /* mm, global coordinates */
    float e;       /* MeV */
} vae_hit_t;

/* Opens a model file (written by `showervae train`); *g receives the handle (close it with
 * vae_generator_close). Batches of any size are served. */
int vae_generator_open(vae_generator_t **g, const char *model_path);
/* Frees everything; NULL is accepted. */
void vae_generator_close(vae_generator_t *g);

/* The voxel grid: voxels per shower, layers, and for layer l its radial bins (edges in mm,
 * n_r + 1 of them, owned by the generator), angular bins and the readout-layer depth (mm). */
int vae_generator_voxels(const vae_generator_t *g);
int vae_generator_layers(const vae_generator_t *g);
int vae_generator_layer(const vae_generator_t *g, int layer, int *n_r, int *n_alpha, const double **r_edges);
double vae_generator_layer_depth(const vae_generator_t *g);
/* The incident-energy range the model was trained on (MeV); other energies extrapolate. */
void vae_generator_energy_range(const vae_generator_t *g, double *min_mev, double *max_mev);
/* The incident-angle range the model was trained on (deg; 90, 90 for a model trained at normal
 * incidence only, whose showers then do not depend on the angle unless it is a condition). */
void vae_generator_angle_range(const vae_generator_t *g, double *min_deg, double *max_deg);

/* Decoder arithmetic (vae_generator_set_precision). */
#define VAE_PRECISION_F32 0           /* the default */
#define VAE_PRECISION_BF16 1          /* bf16 on CPUs with AVX512-BF16 / AMX; f32 elsewhere */
#define VAE_PRECISION_BF16_EMULATED 2 /* also oneDNN's bf16 emulation on other AVX-512 CPUs */

/* Sets the precision; returns the one that now runs (VAE_PRECISION_F32 or _BF16: a bf16
 * request falls back to f32 where the CPU cannot run it) or a negative status. Rebuilds the
 * decoder's primitives: call it once after open, not per particle. */
int vae_generator_set_precision(vae_generator_t *g, int precision);

/* Threads of this generator's calls (vae_generate and the rebuilds); 0: every core. Default 1,
 * as ONNX Runtime's intra-op default in Geant4's Par04 hook: a host that simulates one particle
 * per call on its own worker threads keeps its cores, and no thread team is started per call.
 * Only the calling thread's OpenMP setting is touched, for the duration of the call. The
 * showers do not depend on it. Rebuilds the decoder's primitives (oneDNN fixes their thread
 * partition when it creates them): call it once after open. Returns the count now used (1
 * where the library was built without OpenMP) or a negative status. */
int vae_generator_set_threads(vae_generator_t *g, int n);

/* Where a shower's latent z and its layer energies come from (vae_generator_set_prior). */
#define VAE_PRIOR_LEARNED 0  /* the default when the model has one: p(z, energies | E) fitted after training */
#define VAE_PRIOR_STANDARD 1 /* z ~ N(0, I), the energies from the decoder alone */

/* Chooses the prior; returns the one now used (VAE_PRIOR_STANDARD for a model without a
 * learned prior) or a negative status. */
int vae_generator_set_prior(vae_generator_t *g, int prior);

/* n showers for incident energies energy_mev (n, MeV) into out (n x voxels, MeV, in the
 * CaloChallenge order layer, angle, radius fastest), with seed and global index of the first;
 * at normal incidence (90 deg). */
int vae_generate(vae_generator_t *g, int n, const float *energy_mev, uint64_t seed, uint64_t first_index,
                 float *out);
/* The same with a per-particle incident angle angle_deg (n, degrees; NULL: all 90), Par04's
 * theta: the particle's polar angle from the barrel's axis, 90 = normal incidence on the
 * calorimeter's face. The voxels are in the shower's own frame, the mesh following its axis
 * (place them with vae_to_hits and the particle's direction). Angles outside
 * vae_generator_angle_range extrapolate; VAE_EINVAL outside (0, 180). */
int vae_generate_ex(vae_generator_t *g, int n, const float *energy_mev, const float *angle_deg, uint64_t seed,
                    uint64_t first_index, float *out);

/* Hits of one shower (voxels, as from vae_generate) for a particle entering at pos (mm) along
 * dir (any length > 0). Convention: the shower axis along dir, angular bin 0 starting at the
 * shower frame's -x side (alpha = atan2(y, x) in [-pi, pi)), the frame rotated from +z onto dir
 * by the rotation about z x dir. Empty voxels are skipped; energy is conserved exactly.
 * *n receives the number of hits (up to max are written; VAE_EINVAL if there are more). */
int vae_to_hits(const vae_generator_t *g, const float *voxels, const double pos[3], const double dir[3],
                vae_hit_t *hits, int max, int *n);

#ifdef __cplusplus
}
#endif

#endif
