/* io/dataset.h: reading shower files: the CaloChallenge layout and the two Geant4 Par04 layouts.
 *
 * Layouts recognised (energies in MeV in the file unless stated):
 *  - CaloChallenge 2022: incident_energies (N, 1) or (N), showers (N, V), V voxels in the
 *    (layer, alpha, r) order with r fastest;
 *  - Par04, newer converter (root2h5.py): incident_energy (N) or (N, 1), showers (N, R, PHI, Z);
 *  - Par04, per-energy (root2h5_for_vae.py): one dataset per incident energy, named by the energy
 *    in GeV ("1", "2", ..., "1024"), each (N_e, R, PHI, Z).
 * Showers come out as float32 in the canonical CaloChallenge order (Par04 arrays are transposed
 * on read), with any on-disk float type (32 or 64 bit), chunking or compression.
 *
 * Conditions beyond the energy: incident angles from incident_theta (radians) or a Par04
 * per-energy file's name (io/angles.h), else 90 deg; the material (SiW or SciPb) from the root
 * attribute "material" or the name's prefix ("SiW_angle_70.h5").
 *
 * Validation (each a one-line error naming the file): not HDF5 or truncated, missing dataset,
 * wrong rank or shape, N mismatch between energies and showers, voxel count that does not match
 * the geometry, non-float data, and, on reading, NaN/Inf or negative values (with the row).
 * Incident energies are checked in full at open (N numbers); showers are checked as they are read.
 *
 * Memory: nothing is held but the handles and the N incident energies; rows are read in blocks.
 * The HDF5 chunk cache is sized to one row-block of chunks so a block is decompressed once.
 * io_dataset_cache keeps every row in memory instead, when they fit a budget: the file is read,
 * inflated and validated once, and later reads are copies (training's epochs, evaluation).
 * io_dataset_cache_streams keeps only some data streams: the row blocks b with b mod S in
 * [s0, s1) (a process's share of the file in data-parallel training; io/loader.h).
 * Not thread safe (HDF5 serial build): one thread per dataset.
 */
#ifndef IO_DATASET_H
#define IO_DATASET_H

#include "physics/geometry.h"
#include "base/monitor.h"
#include "io/angles.h"

#include <hdf5.h>
#include <stddef.h>

/* Calorimeter materials (Par04's geometry condition). */
enum { IO_MATERIAL_UNKNOWN = 0, IO_MATERIAL_SIW = 1, IO_MATERIAL_SCIPB = 2 };

typedef enum { IO_LAYOUT_CALOCHALLENGE = 0, IO_LAYOUT_PAR04, IO_LAYOUT_PAR04_PER_ENERGY } io_layout_t;

typedef struct {
    char name[32];  /* dataset name */
    double e_mev;   /* incident energy of all its showers */
    size_t first, n;/* rows first .. first + n - 1 of the whole file */
} io_group_t;

typedef struct {
    char path[1024];
    hid_t file;
    io_layout_t layout;
    size_t n;              /* showers */
    int V;                 /* voxels per shower */
    int par04_dims[3];     /* R, PHI, Z for the Par04 layouts */
    phys_geometry_t geo;   /* the grid the file matches */
    float *energies;       /* owned: (n) incident energies, MeV */
    float *angles;         /* owned: (n) incident angles, deg (io/angles.h; 90 when the file has none) */
    int has_angles;        /* the file states its angles (incident_theta or a Par04 file name) */
    int material;          /* IO_MATERIAL_*: the "material" attribute or a Par04 file name */
    hid_t showers;         /* CaloChallenge / Par04: the showers dataset */
    size_t block_rows;     /* natural read block (the chunk's row count, or 256) */
    io_group_t *groups;    /* Par04 per-energy: n_groups datasets (owned) */
    int n_groups;
    float *scratch;        /* owned: Par04 transposition buffer, block_rows rows */
    float *cache;          /* owned: the cached row blocks, validated (io_dataset_cache, _cache_streams); NULL: read the file */
    size_t cache_S, cache_s0, cache_s1; /* the cache holds the blocks b with b mod S in [s0, s1), in block order (1, 0, 1: all) */
} io_dataset_t;

/* Opens and validates path. geo: the expected grid, or NULL to infer it from the voxel count
 * (368, 533, 6480, 40500), the Par04 dimensions or the file's "geometry" attribute. */
int io_dataset_open(io_dataset_t *d, const char *path, const phys_geometry_t *geo);
void io_dataset_close(io_dataset_t *d);

/* showers: (count, V) float32 canonical order, rows first .. first + count - 1; E_mev: (count)
 * (may be NULL). Rejects NaN/Inf and negative voxel energies with the row number. */
int io_dataset_read(io_dataset_t *d, size_t first, size_t count, float *E_mev, float *showers);

/* The n row blocks blocks[i] (rows blocks[i] x block_rows .. +block_rows, cut at n rows) into
 * E_mev + i x block_rows (E_mev may be NULL) and showers + i x block_rows x V, checked as io_dataset_read does. A
 * CaloChallenge file whose chunks are the blocks has them inflated on up to `threads` threads
 * (io/chunkread.h); any other file is read block by block. */
int io_dataset_read_blocks(io_dataset_t *d, const size_t *blocks, size_t n, int threads, float *E_mev, float *showers);

/* Reads every shower into memory if n x V x 4 bytes fit in budget_bytes; then io_dataset_read
 * copies from memory. Returns 1 when cached, 0 when it does not fit (nothing changes), or a
 * negative status (a bad row, as io_dataset_read reports it; nothing is cached). monitor: a
 * progress line (NULL: silent). */
int io_dataset_cache(io_dataset_t *d, size_t budget_bytes, const base_monitor_t *monitor);

/* The same for the streams [s0, s1) of S: the blocks b with b mod S in [s0, s1) only (their
 * bytes count against the budget); other rows are read from the file. (1, 0, 1) is
 * io_dataset_cache. */
int io_dataset_cache_streams(io_dataset_t *d, size_t budget_bytes, size_t S, size_t s0, size_t s1,
                             const base_monitor_t *monitor);
/* Row block b (block_rows rows, fewer at the end) in the cache, or NULL when it is not held. */
const float *io_dataset_cached_block(const io_dataset_t *d, size_t b);

/* The name of a layout ("CaloChallenge", "Par04", "Par04 per-energy"). */
const char *io_layout_name(io_layout_t l);


#endif
