/* io/dataset.c: CaloChallenge and Par04 shower files (see dataset.h). */
#include "io/dataset.h"
#include "io/chunkread.h"
#include "io/h5.h"

#include "base/limits.h"
#include "base/status.h"

#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BLOCK_BYTES (64u << 20) /* one read block at most */

const char *io_layout_name(io_layout_t l)
{
    return l == IO_LAYOUT_CALOCHALLENGE ? "CaloChallenge" : l == IO_LAYOUT_PAR04 ? "Par04" : "Par04 per-energy";
}

static int exists(hid_t f, const char *name) { return H5Lexists(f, name, H5P_DEFAULT) > 0; }

/* Opens dataset name: floating point, rank 1 to 4, its dims. */
static int open_dset(io_dataset_t *d, const char *name, hid_t *ds, int *rank, hsize_t dims[4])
{
    *ds = H5Dopen2(d->file, name, H5P_DEFAULT);
    if (*ds < 0) return base_error(BASE_EIO, "%s: cannot open dataset '%s'", d->path, name);
    if (io_h5_dims(*ds, H5T_FLOAT, 4, rank, dims) < 0) {
        H5Dclose(*ds);
        *ds = H5I_INVALID_HID;
        return base_error(BASE_EIO, "%s: dataset '%s' must hold float32 or float64 numbers in 1 to 4 dimensions",
                          d->path, name);
    }
    return BASE_OK;
}

/* Refuses a dataset that declares more data than its storage can hold: HDF5 lets a file declare
 * any size without storage, so such a dataset is empty or truncated, and nothing is allocated for
 * its rows. Deflate, the compression HDF5 files carry, shrinks data at most 1032-fold (a 258-byte
 * match per 2 bits), so even rows of one repeated value (a fixed incident energy) need
 * bytes / 1032 of storage; a dataset below that is refused. */
enum { DEFLATE_MAX_RATIO = 1032 };
static int check_storage(const io_dataset_t *d, hid_t ds, const char *name, hsize_t rows)
{
    hsize_t have = H5Dget_storage_size(ds), dims[4] = {0}, bytes = 0;
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    int rank = sp >= 0 ? H5Sget_simple_extent_dims(sp, dims, NULL) : -1;
    if (t >= 0 && rank >= 1) {
        bytes = (hsize_t)H5Tget_size(t);
        for (int i = 0; i < rank; i++) /* saturating: an absurd declaration stays absurd */
            bytes = dims[i] && bytes > (hsize_t)-1 / dims[i] ? (hsize_t)-1 : bytes * dims[i];
    }
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (rows > 0 && (bytes == 0 || have < bytes / DEFLATE_MAX_RATIO || have == 0))
        return base_error(BASE_EIO, "%s: '%s' declares %llu rows (%llu bytes) but stores %llu bytes (empty or truncated)",
                          d->path, name, (unsigned long long)rows, (unsigned long long)bytes, (unsigned long long)have);
    return BASE_OK;
}

/* Voxels per shower from the dims after the first: within BASE_MAX_VOXELS and not 0. */
static int row_length(const io_dataset_t *d, const char *name, int rank, const hsize_t *dims, int *V)
{
    unsigned long long v = 1;
    for (int i = 1; i < rank; i++)
        if (!base_mul_fits(v, dims[i], BASE_MAX_VOXELS, &v))
            return base_error(BASE_EIO, "%s: '%s' declares more than %d voxels per shower", d->path, name,
                              BASE_MAX_VOXELS);
    if (v == 0) return base_error(BASE_EIO, "%s: '%s' has showers of 0 voxels", d->path, name);
    if (dims[0] > BASE_MAX_SHOWERS)
        return base_error(BASE_EIO, "%s: '%s' declares %llu showers (at most %llu)", d->path, name,
                          (unsigned long long)dims[0], BASE_MAX_SHOWERS);
    *V = (int)v;
    return BASE_OK;
}

/* Reads rows [first, first + count) of a rank-r dataset (row length len) as float. */
static int read_rows(io_dataset_t *d, hid_t ds, int rank, size_t first, size_t count, size_t len,
                     float *out)
{
    hsize_t dims[4], start[4] = {first, 0, 0, 0}, cnt[4];
    hid_t sp = H5Dget_space(ds);
    H5Sget_simple_extent_dims(sp, dims, NULL);
    cnt[0] = count;
    for (int i = 1; i < rank; i++) cnt[i] = dims[i];
    (void)len; /* the memory space has the selection's shape: HDF5's fast path */
    hid_t ms = H5Screate_simple(rank, cnt, NULL);
    herr_t e = H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, cnt, NULL);
    if (e >= 0) e = H5Dread(ds, H5T_NATIVE_FLOAT, ms, sp, H5P_DEFAULT, out);
    H5Sclose(ms);
    H5Sclose(sp);
    if (e < 0)
        return base_error(BASE_EIO, "%s: read of rows %zu..%zu failed (file truncated or damaged?)",
                           d->path, first, first + count - 1);
    return BASE_OK;
}

/* Checks energies (n) within (BASE_MIN_ENERGY_MEV, BASE_MAX_ENERGY_MEV] (so finite and > 0). */
static int check_energies(const io_dataset_t *d, const float *e, size_t n, size_t first)
{
    for (size_t i = 0; i < n; i++)
        if (!(e[i] > BASE_MIN_ENERGY_MEV && e[i] <= BASE_MAX_ENERGY_MEV))
            return base_error(BASE_EIO, "%s: incident energy of shower %zu is %g MeV (must be in (%g, %g])",
                               d->path, first + i, e[i], BASE_MIN_ENERGY_MEV, BASE_MAX_ENERGY_MEV);
    return BASE_OK;
}

/* Picks the grid for a file of V voxels or Par04 dims when none is given. The file's geometry
 * attribute, when present, must be one string of a name's length; when it names a built-in
 * grid, that grid is used, and a given grid must equal it. Other names (an XML file's) leave
 * the choice to the voxel count. */
static int infer_geometry(io_dataset_t *d, const phys_geometry_t *geo)
{
    char name[64] = "";
    if (H5Aexists(d->file, "geometry") > 0) {
        char *attr = io_h5_get_str(d->file, "geometry");
        int ok = attr && strlen(attr) < sizeof name;
        if (ok) strcpy(name, attr);
        free(attr);
        if (!ok) return base_error(BASE_EIO, "%s: the 'geometry' attribute is not one string of at most %zu characters",
                                   d->path, sizeof name - 1);
    }
    phys_geometry_t named;
    int is_preset = name[0] && phys_geometry_preset(&named, name) == BASE_OK;
    if (geo) {
        if (is_preset && !phys_geometry_same_binning(&named, geo))
            return base_error(BASE_EIO, "%s: the file says geometry %s, but %s is in use", d->path, name, geo->name);
        d->geo = *geo;
    } else {
        int V = d->V;
        const char *pick = is_preset ? name
                           : V == 368 ? "ds1-photons" : V == 533 ? "ds1-pions"
                           : V == 6480 ? "ds2" : V == 40500 ? "ds3" : NULL;
        if (!pick)
            return base_error(BASE_EIO, "%s: cannot tell the geometry of %d voxels per shower (give one, "
                               "e.g. --geometry binning.xml)", d->path, V);
        phys_geometry_preset(&d->geo, pick);
    }
    if (d->geo.n_voxels != d->V)
        return base_error(BASE_EIO, "%s: showers have %d voxels, geometry %s has %d", d->path, d->V,
                           d->geo.name, d->geo.n_voxels);
    if (d->layout != IO_LAYOUT_CALOCHALLENGE) { /* Par04 arrays must map onto the grid */
        const phys_geometry_t *g = &d->geo;
        int ok = g->n_layers == d->par04_dims[2];
        for (int l = 0; ok && l < g->n_layers; l++)
            ok = g->n_r[l] == d->par04_dims[0] && g->n_alpha[l] == d->par04_dims[1];
        if (!ok)
            return base_error(BASE_EIO, "%s: Par04 showers (R %d, PHI %d, Z %d) do not match geometry %s",
                               d->path, d->par04_dims[0], d->par04_dims[1], d->par04_dims[2], g->name);
    }
    return BASE_OK;
}

/* Block size and chunk cache for the showers dataset (reopened with a sized cache). */
static int plan_blocks(io_dataset_t *d, const char *name)
{
    hid_t dcpl = H5Dget_create_plist(d->showers);
    hsize_t chunk[4] = {0}, dims[4];
    hid_t sp = H5Dget_space(d->showers);
    int rank = H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    int chunked = H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, 4, chunk) == rank;
    H5Pclose(dcpl);
    size_t row_bytes = (size_t)d->V * sizeof(float), max_rows = MAX_BLOCK_BYTES / row_bytes;
    d->block_rows = chunked ? chunk[0] : 256;
    if (d->block_rows > max_rows) d->block_rows = max_rows ? max_rows : 1;
    if (d->block_rows < 1) d->block_rows = 1;
    if (!chunked) return BASE_OK;
    /* cache: all chunks across one block of rows, so each chunk is decompressed once */
    size_t chunk_elems = 1, across = 1;
    for (int i = 0; i < rank; i++) chunk_elems *= chunk[i];
    for (int i = 1; i < rank; i++) across *= (dims[i] + chunk[i] - 1) / chunk[i];
    double need = (double)across * chunk_elems * 8 + (1u << 20); /* float64 worst case */
    if (need > (double)(1u << 30)) need = (double)(1u << 30); /* odd chunkings: HDF5 rereads */
    hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
    H5Pset_chunk_cache(dapl, 10007, (size_t)need, 1.0);
    H5Dclose(d->showers);
    d->showers = H5Dopen2(d->file, name, dapl);
    H5Pclose(dapl);
    return d->showers < 0 ? base_error(BASE_EIO, "%s: cannot reopen '%s'", d->path, name) : BASE_OK;
}

/* The two-dataset layouts: energies e_name (N) or (N, 1), showers (N, V) for CaloChallenge or
 * (N, R, PHI, Z) for Par04 (rank want_rank). Reads and checks the N energies. */
static int open_pair(io_dataset_t *d, const char *e_name, int want_rank)
{
    hid_t de;
    int re, rs;
    hsize_t ed[4], sd[4];
    BASE_TRY(open_dset(d, e_name, &de, &re, ed));
    int rc = BASE_OK;
    if (re > 2 || (re == 2 && ed[1] != 1))
        rc = base_error(BASE_EIO, "%s: %s must be (N, 1) or (N); it is rank %d", d->path, e_name, re);
    if (rc == BASE_OK) rc = open_dset(d, "showers", &d->showers, &rs, sd);
    if (rc == BASE_OK && rs != want_rank)
        rc = base_error(BASE_EIO, "%s: showers must be %s; it has rank %d", d->path,
                         want_rank == 2 ? "(N, voxels)" : "(N, R, PHI, Z) in the Par04 layout", rs);
    if (rc == BASE_OK && sd[0] != ed[0])
        rc = base_error(BASE_EIO, "%s: %llu incident energies but %llu showers", d->path,
                         (unsigned long long)ed[0], (unsigned long long)sd[0]);
    if (rc == BASE_OK) rc = row_length(d, "showers", rs, sd, &d->V);
    if (rc == BASE_OK) rc = check_storage(d, de, e_name, ed[0]);
    if (rc == BASE_OK) rc = check_storage(d, d->showers, "showers", sd[0]);
    if (rc == BASE_OK) {
        d->n = sd[0];
        if (rs == 4)
            for (int i = 0; i < 3; i++) d->par04_dims[i] = (int)sd[i + 1];
        d->energies = malloc((d->n ? d->n : 1) * sizeof(float));
        rc = d->energies ? read_rows(d, de, re, 0, d->n, 1, d->energies)
                         : base_error(BASE_ENOMEM, "%s: out of memory", d->path);
    }
    H5Dclose(de);
    if (rc == BASE_OK) rc = check_energies(d, d->energies, d->n, 0);
    return rc;
}

/* Collects the root datasets named by an energy in GeV. */
static herr_t collect_group(hid_t loc, const char *name, const H5L_info_t *info, void *op)
{
    (void)info;
    io_dataset_t *d = op;
    char *end;
    double e = strtod(name, &end);
    H5O_info_t oi;
    if (end == name || *end || !(e * 1e3 > BASE_MIN_ENERGY_MEV && e * 1e3 <= BASE_MAX_ENERGY_MEV) || H5Oget_info_by_name2(loc, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
        oi.type != H5O_TYPE_DATASET)
        return 0;
    io_group_t *g = realloc(d->groups, (size_t)(d->n_groups + 1) * sizeof *g);
    if (!g) return -1;
    d->groups = g;
    memset(&g[d->n_groups], 0, sizeof *g);
    snprintf(g[d->n_groups].name, sizeof g->name, "%s", name);
    g[d->n_groups].e_mev = e * 1e3;
    d->n_groups++;
    return 0;
}

static int cmp_group(const void *a, const void *b)
{
    double x = ((const io_group_t *)a)->e_mev, y = ((const io_group_t *)b)->e_mev;
    return (x > y) - (x < y);
}

static int open_par04_per_energy(io_dataset_t *d)
{
    if (H5Literate(d->file, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, collect_group, d) < 0)
        return base_error(BASE_ENOMEM, "%s: out of memory", d->path);
    if (d->n_groups == 0)
        return base_error(BASE_EIO, "%s: no 'showers' dataset: not a CaloChallenge file (incident_energies, "
                           "showers) nor a Par04 file (incident_energy + showers, or one dataset per energy)",
                           d->path);
    qsort(d->groups, (size_t)d->n_groups, sizeof *d->groups, cmp_group);
    for (int k = 0; k < d->n_groups; k++) {
        hid_t ds;
        int r;
        hsize_t dims[4];
        BASE_TRY(open_dset(d, d->groups[k].name, &ds, &r, dims));
        int rc = check_storage(d, ds, d->groups[k].name, dims[0]);
        H5Dclose(ds);
        if (rc < 0) return rc;
        if (r != 4)
            return base_error(BASE_EIO, "%s: Par04 dataset '%s' must be (N, R, PHI, Z); rank is %d", d->path,
                               d->groups[k].name, r);
        BASE_TRY(row_length(d, d->groups[k].name, r, dims, &d->V));
        if (d->n + dims[0] > BASE_MAX_SHOWERS)
            return base_error(BASE_EIO, "%s: more than %llu showers", d->path, BASE_MAX_SHOWERS);
        if (k > 0 && (dims[1] != (hsize_t)d->par04_dims[0] || dims[2] != (hsize_t)d->par04_dims[1] ||
                      dims[3] != (hsize_t)d->par04_dims[2]))
            return base_error(BASE_EIO, "%s: Par04 datasets have different shapes ('%s')", d->path,
                               d->groups[k].name);
        for (int i = 0; i < 3; i++) d->par04_dims[i] = (int)dims[i + 1];
        d->groups[k].first = d->n;
        d->groups[k].n = dims[0];
        d->n += dims[0];
    }
    d->energies = malloc((d->n ? d->n : 1) * sizeof(float));
    if (!d->energies) return base_error(BASE_ENOMEM, "%s: out of memory", d->path);
    for (int k = 0; k < d->n_groups; k++)
        for (size_t i = 0; i < d->groups[k].n; i++) d->energies[d->groups[k].first + i] = (float)d->groups[k].e_mev;
    return BASE_OK;
}

/* The angle and material that a Par04 per-energy file's name states ("SiW_angle_70.h5",
 * root2h5_for_vae.py's "{geo}_angle_{angle}.h5"): *deg (0 when absent), *mat. */
static void name_conditions(const char *path, double *deg, int *mat)
{
    const char *b = strrchr(path, '/'), *a;
    b = b ? b + 1 : path;
    *deg = 0;
    if ((a = strstr(b, "_angle_"))) *deg = strtod(a + 7, NULL);
    if (!strncmp(b, "SiW_", 4)) *mat = IO_MATERIAL_SIW;
    if (!strncmp(b, "SciPb_", 6)) *mat = IO_MATERIAL_SCIPB;
}

/* The incident angles (io/angles.h): the incident_theta dataset (radians), else one angle from a
 * Par04 per-energy file's name, else 90 deg; and the material from the "material" attribute or
 * the file's name. */
static int open_conditions(io_dataset_t *d)
{
    double deg;
    name_conditions(d->path, &deg, &d->material);
    if (d->layout != IO_LAYOUT_PAR04_PER_ENERGY) deg = 0; /* only those files name their angle */
    char *mat = io_h5_get_str(d->file, "material");
    int rc = BASE_OK;
    if (mat && !strcmp(mat, "SiW")) d->material = IO_MATERIAL_SIW;
    else if (mat && !strcmp(mat, "SciPb")) d->material = IO_MATERIAL_SCIPB;
    else if (mat) rc = base_error(BASE_EIO, "%s: material attribute '%.40s' is neither SiW nor SciPb", d->path, mat);
    free(mat);
    BASE_TRY(rc);
    d->angles = malloc((d->n ? d->n : 1) * sizeof(float));
    if (!d->angles) return base_error(BASE_ENOMEM, "%s: out of memory", d->path);
    for (size_t i = 0; i < d->n; i++) d->angles[i] = deg > 0 ? (float)deg : (float)IO_ANGLE_DEFAULT_DEG;
    d->has_angles = deg > 0;
    if (!exists(d->file, IO_ANGLE_DATASET)) return BASE_OK;
    hid_t ds;
    int r;
    hsize_t dims[4];
    BASE_TRY(open_dset(d, IO_ANGLE_DATASET, &ds, &r, dims));
    if (r > 2 || (r == 2 && dims[1] != 1) || dims[0] != d->n)
        rc = base_error(BASE_EIO, "%s: %s must be (N, 1) or (N) with N = %zu showers", d->path, IO_ANGLE_DATASET, d->n);
    if (rc == BASE_OK) rc = check_storage(d, ds, IO_ANGLE_DATASET, dims[0]);
    if (rc == BASE_OK) rc = read_rows(d, ds, r, 0, d->n, 1, d->angles);
    H5Dclose(ds);
    for (size_t i = 0; i < d->n && rc == BASE_OK; i++) {
        double a = io_angle_from_theta(d->angles[i]);
        if (!(a > 0 && a < 180))
            rc = base_error(BASE_EIO, "%s: %s of shower %zu is %g rad (must be in (0, pi), radians)", d->path,
                            IO_ANGLE_DATASET, i, d->angles[i]);
        d->angles[i] = (float)a;
    }
    d->has_angles = 1;
    return rc;
}

static int open_layout(io_dataset_t *d)
{
    if (exists(d->file, "showers")) {
        if (exists(d->file, "incident_energies")) {
            d->layout = IO_LAYOUT_CALOCHALLENGE;
            BASE_TRY(open_pair(d, "incident_energies", 2));
        } else if (exists(d->file, "incident_energy")) {
            d->layout = IO_LAYOUT_PAR04;
            BASE_TRY(open_pair(d, "incident_energy", 4));
        } else {
            return base_error(BASE_EIO, "%s: has 'showers' but no 'incident_energies' dataset", d->path);
        }
    } else {
        d->layout = IO_LAYOUT_PAR04_PER_ENERGY;
        BASE_TRY(open_par04_per_energy(d));
    }
    return BASE_OK;
}

int io_dataset_open(io_dataset_t *d, const char *path, const phys_geometry_t *geo)
{
    memset(d, 0, sizeof *d);
    d->file = H5I_INVALID_HID;
    d->showers = H5I_INVALID_HID;
    snprintf(d->path, sizeof d->path, "%s", path);
    d->file = io_h5_open_ro(path, "shower file");
    if (d->file < 0) {
        d->file = H5I_INVALID_HID;
        return BASE_EIO;
    }
    int rc = open_layout(d);
    if (rc == BASE_OK && d->n == 0) rc = base_error(BASE_EIO, "%s: holds no showers", path);
    if (rc == BASE_OK) rc = open_conditions(d);
    if (rc == BASE_OK) rc = infer_geometry(d, geo);
    if (rc == BASE_OK && d->layout != IO_LAYOUT_PAR04_PER_ENERGY)
        rc = plan_blocks(d, "showers");
    if (rc == BASE_OK && d->layout == IO_LAYOUT_PAR04_PER_ENERGY) d->block_rows = 256;
    if (rc == BASE_OK && d->layout != IO_LAYOUT_CALOCHALLENGE) {
        d->scratch = malloc(d->block_rows * (size_t)d->V * sizeof(float));
        if (!d->scratch) rc = base_error(BASE_ENOMEM, "%s: out of memory", path);
    }
    if (rc != BASE_OK) io_dataset_close(d);
    return rc;
}

void io_dataset_close(io_dataset_t *d)
{
    if (!d) return;
    if (d->showers >= 0 && d->showers != 0) H5Dclose(d->showers);
    if (d->file >= 0 && d->file != 0) H5Fclose(d->file);
    free(d->energies);
    free(d->angles);
    free(d->groups);
    free(d->scratch);
    free(d->cache);
    memset(d, 0, sizeof *d);
    d->file = H5I_INVALID_HID;
    d->showers = H5I_INVALID_HID;
}

/* Rows of one Par04 dataset: read (count, R, PHI, Z) and transpose each row. */
static int read_par04(io_dataset_t *d, hid_t ds, size_t first, size_t count, size_t file_row, float *out)
{
    const int R = d->par04_dims[0], P = d->par04_dims[1], Z = d->par04_dims[2];
    for (size_t done = 0; done < count;) {
        size_t k = count - done < d->block_rows ? count - done : d->block_rows;
        int rc = read_rows(d, ds, 4, first + done, k, (size_t)d->V, d->scratch);
        if (rc < 0) {
            char why[400]; /* base_last_error() is the buffer base_error writes */
            snprintf(why, sizeof why, "%s", base_last_error());
            return base_error(rc, "%s (rows from %zu)", why, file_row + done);
        }
        for (size_t i = 0; i < k; i++)
            phys_par04_to_cc(d->scratch + i * d->V, R, P, Z, out + (done + i) * d->V);
        done += k;
    }
    return BASE_OK;
}

/* A voxel energy a shower file may hold: finite and >= 0. */
static int voxel_ok(float e) { return isfinite(e) && e >= 0; }

static int check_showers(const io_dataset_t *d, const float *x, size_t count, size_t first)
{
    const size_t V = (size_t)d->V;
    for (size_t i = 0; i < count; i++)
        for (size_t v = 0; v < V; v++) {
            float e = x[i * V + v];
            if (voxel_ok(e)) continue;
            if (!isfinite(e))
                return base_error(BASE_EIO, "%s: shower %zu, voxel %zu is %g (NaN/Inf)", d->path, first + i, v, e);
            return base_error(BASE_EIO, "%s: shower %zu, voxel %zu has negative energy %g MeV", d->path, first + i,
                              v, e);
        }
    return BASE_OK;
}

int io_dataset_read(io_dataset_t *d, size_t first, size_t count, float *E_mev, float *showers)
{
    if (first + count > d->n || count == 0)
        return base_error(BASE_EINVAL, "%s: rows %zu..%zu requested of %zu", d->path, first,
                           first + count - 1, d->n);
    if (E_mev) memcpy(E_mev, d->energies + first, count * sizeof *E_mev);
    if (d->cache && d->cache_S == 1) { /* every row, validated when it was filled */
        memcpy(showers, d->cache + first * (size_t)d->V, count * (size_t)d->V * sizeof *showers);
        return BASE_OK;
    }
    if (d->layout == IO_LAYOUT_CALOCHALLENGE) {
        BASE_TRY(read_rows(d, d->showers, 2, first, count, (size_t)d->V, showers));
    } else if (d->layout == IO_LAYOUT_PAR04) {
        BASE_TRY(read_par04(d, d->showers, first, count, first, showers));
    } else {
        for (int k = 0; k < d->n_groups; k++) {
            const io_group_t *g = &d->groups[k];
            size_t lo = first > g->first ? first : g->first;
            size_t hi = first + count < g->first + g->n ? first + count : g->first + g->n;
            if (lo >= hi) continue;
            hid_t ds = H5Dopen2(d->file, g->name, H5P_DEFAULT);
            if (ds < 0) return base_error(BASE_EIO, "%s: cannot open dataset '%s'", d->path, g->name);
            int rc = read_par04(d, ds, lo - g->first, hi - lo, lo, showers + (lo - first) * d->V);
            H5Dclose(ds);
            if (rc < 0) return rc;
        }
    }
    return check_showers(d, showers, count, first);
}

int io_dataset_read_blocks(io_dataset_t *d, const size_t *blocks, size_t n, int threads, float *E_mev, float *showers)
{
    const size_t V = (size_t)d->V, br = d->block_rows;
    size_t first[64];
    int rc = 0;
    if (!(d->cache && d->cache_S == 1) && d->layout == IO_LAYOUT_CALOCHALLENGE && n <= 64 &&
        io_chunkread_rows(d->showers, V) == br) {
        for (size_t i = 0; i < n; i++) first[i] = blocks[i] * br;
        rc = io_chunkread_chunks(d->showers, d->n, V, threads, first, n, showers, d->path);
    }
    for (size_t i = 0; i < n && rc >= 0; i++) {
        const size_t r0 = blocks[i] * br, k = d->n - r0 < br ? d->n - r0 : br;
        if (r0 >= d->n) return base_error(BASE_EINVAL, "%s: block %zu beyond %zu rows", d->path, blocks[i], d->n);
        if (rc == 1) {
            if (E_mev) memcpy(E_mev + i * br, d->energies + r0, k * sizeof(float));
            BASE_TRY(check_showers(d, showers + i * br * V, k, r0));
        } else {
            BASE_TRY(io_dataset_read(d, r0, k, E_mev ? E_mev + i * br : NULL, showers + i * br * V));
        }
    }
    return rc < 0 ? rc : BASE_OK;
}

/* check_showers over all n rows of x on the OpenMP threads; the message names the first bad
 * row, as the serial check would. */
static int check_showers_parallel(const io_dataset_t *d, const float *x)
{
    const size_t V = (size_t)d->V;
    long first_bad = LONG_MAX;
#pragma omp parallel for schedule(static) reduction(min : first_bad)
    for (long i = 0; i < (long)d->n; i++)
        for (size_t v = 0; v < V; v++)
            if (!voxel_ok(x[i * V + v])) {
                first_bad = i < first_bad ? i : first_bad;
                break;
            }
    return first_bad == LONG_MAX ? BASE_OK : check_showers(d, x + (size_t)first_bad * V, 1, (size_t)first_bad);
}

/* The slot of block b in a cache of the streams [s0, s1) of S (blocks in block order). */
static size_t cache_slot(size_t b, size_t S, size_t s0, size_t s1) { return b / S * (s1 - s0) + (b % S - s0); }

const float *io_dataset_cached_block(const io_dataset_t *d, size_t b)
{
    const size_t S = d->cache_S, s0 = d->cache_s0, s1 = d->cache_s1;
    if (!d->cache || b * d->block_rows >= d->n || b % S < s0 || b % S >= s1) return NULL;
    return d->cache + cache_slot(b, S, s0, s1) * d->block_rows * (size_t)d->V;
}

/* The blocks of the streams into c at their slots, 64 at a time (inflated on the threads). */
static int cache_blocks(io_dataset_t *d, size_t S, size_t s0, size_t s1, float *c, const base_monitor_t *mon)
{
    const size_t br = d->block_rows, nb = (d->n + br - 1) / br, V = (size_t)d->V;
    size_t grp[64], k = 0, done = 0;
    int rc = BASE_OK;
    base_monitor_begin(mon, "reading into memory", "showers", d->n);
    for (size_t b = 0; b <= nb && rc == BASE_OK; b++) {
        if (b < nb && (b % S < s0 || b % S >= s1)) continue;
        if (b < nb) grp[k++] = b;
        if (k == 64 || (b == nb && k > 0)) {
            rc = io_dataset_read_blocks(d, grp, k, omp_get_max_threads(), NULL, c + cache_slot(grp[0], S, s0, s1) * br * V);
            done += k, k = 0;
            base_monitor_update(mon, done * br < d->n ? done * br : d->n, NULL);
        }
    }
    if (rc == BASE_OK) base_monitor_end(mon, d->n);
    return rc;
}

int io_dataset_cache(io_dataset_t *d, size_t budget, const base_monitor_t *mon)
{
    return io_dataset_cache_streams(d, budget, 1, 0, 1, mon);
}

int io_dataset_cache_streams(io_dataset_t *d, size_t budget, size_t S, size_t s0, size_t s1, const base_monitor_t *mon)
{
    if (d->cache) return d->cache_S == S && d->cache_s0 == s0 && d->cache_s1 == s1;
    if (!(S >= 1 && s0 < s1 && s1 <= S)) return base_error(BASE_EINVAL, "%s: streams %zu..%zu of %zu", d->path, s0, s1, S);
    const size_t V = (size_t)d->V, br = d->block_rows, nb = (d->n + br - 1) / br;
    const size_t slots = nb / S * (s1 - s0) + (nb % S > s0 ? (nb % S < s1 ? nb % S : s1) - s0 : 0);
    const size_t rows = S == 1 ? d->n : slots * br, bytes = rows * V * sizeof(float);
    if (d->n == 0 || rows == 0 || bytes / V / sizeof(float) != rows || bytes > budget) return 0;
    float *c = malloc(bytes);
    if (!c) return 0; /* not an error: the file is read as before */
    /* the whole of a CaloChallenge file: every chunk inflated in parallel, then checked as
     * io_dataset_read does; else (or when that does not apply) the streams' blocks in groups */
    int rc = S == 1 && d->layout == IO_LAYOUT_CALOCHALLENGE
                 ? io_chunkread_all(d->showers, d->n, V, omp_get_max_threads(), c, d->path, mon)
                 : 0;
    if (rc == 1) rc = check_showers_parallel(d, c);
    else if (rc == 0) rc = cache_blocks(d, S, s0, s1, c, mon);
    if (rc != BASE_OK) {
        free(c);
        return rc;
    }
    d->cache = c, d->cache_S = S, d->cache_s0 = s0, d->cache_s1 = s1;
    return 1;
}
