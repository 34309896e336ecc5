/* tests/test_io.c: HDF5 shower files: round trip, the on-disk layout (h5dump), atomic writes,
 * every validation error on a crafted bad file, the Par04 layouts, and the streamed loader. */
#include "io/atomic.h"
#include "io/h5.h"
#include "io/chunkread.h"
#include "io/dataset.h"
#include "io/hash.h"
#include "io/loader.h"
#include "io/chunkpipe.h"
#include "io/writer.h"
#include "base/status.h"
#include "tests/testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char DIR_[40];

static void setup(void)
{
    tu_tmpdir_make(DIR_, sizeof DIR_, "io");
}

static void teardown(void)
{
    tu_tmpdir_remove(DIR_);
}

TestSuite(io, .init = setup, .fini = teardown);

static const char *path(const char *name)
{
    static char buf[4][200];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", DIR_, name);
    return buf[k];
}

/* Row i of a test sample: E = 1000 (i + 1) MeV, voxel v = (i * 7 + v) % 13 (zeros included). */
static void sample(float *E, float *X, size_t first, size_t n, int V)
{
    for (size_t i = 0; i < n; i++) {
        E[i] = 1000.f * (float)(first + i + 1);
        for (int v = 0; v < V; v++) X[i * V + v] = (float)(((first + i) * 7 + v) % 13);
    }
}

static void write_ds2_with(const char *p, size_t n, size_t batch, const io_writer_opts_t *o)
{
    phys_geometry_t g;
    phys_geometry_preset(&g, "ds2");
    io_writer_t w;
    cr_assert_eq(io_writer_open(&w, p, &g, o), BASE_OK, "%s", base_last_error());
    float *E = malloc(batch * 4), *X = malloc(batch * 6480 * 4);
    for (size_t f = 0; f < n; f += batch) {
        size_t k = n - f < batch ? n - f : batch;
        sample(E, X, f, k, 6480);
        cr_assert_eq(io_writer_append(&w, E, X, k), BASE_OK, "%s", base_last_error());
    }
    cr_assert_eq(io_writer_attr_int(&w, "seed", 42), BASE_OK);
    cr_assert_eq(io_writer_close(&w), BASE_OK, "%s", base_last_error());
    free(E);
    free(X);
}

static void write_ds2(const char *p, size_t n, size_t batch) { write_ds2_with(p, n, batch, NULL); }

/* Every value of rows 0..n-1 as sample() made them. */
static void expect_sample(const char *p, size_t n)
{
    io_dataset_t d;
    cr_assert_eq(io_dataset_open(&d, p, NULL), BASE_OK, "%s", base_last_error());
    cr_assert_eq(d.n, n);
    float *E = malloc(n * 4), *X = malloc(n * 6480 * 4), *Er = malloc(n * 4), *Xr = malloc(n * 6480 * 4);
    sample(Er, Xr, 0, n, 6480);
    cr_assert_eq(io_dataset_read(&d, 0, n, E, X), BASE_OK, "%s", base_last_error());
    cr_expect(memcmp(E, Er, n * 4) == 0 && memcmp(X, Xr, n * 6480 * 4) == 0, "%s: values differ", p);
    io_dataset_close(&d);
    free(E), free(X), free(Er), free(Xr);
}

/* Bytes the showers dataset occupies on disk (its chunks, as stored). */
static hsize_t showers_storage(const char *p)
{
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(f, "showers", H5P_DEFAULT);
    hsize_t s = d < 0 ? 0 : H5Dget_storage_size(d);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    return s;
}

/* The threads' chunks decode through HDF5's own filters to the same values (h5diff reads both
 * files through them): with zlib byte for byte what HDF5's filter writes; with libdeflate the
 * same values in a standard zlib stream of about the same size; without shuffle (the default
 * for showers) too. */
Test(io, threaded_compression_writes_what_hdf5s_own_filters_would)
{
    /* 97 rows in batches of 13: two full chunks of 40 rows and a padded tail; the reference
     * in one batch, so that HDF5 compresses each chunk once (appending rewrites chunks and
     * leaves the old copies' space in the file) */
    io_writer_opts_t o = io_writer_defaults();
    o.threads = 0, o.shower_shuffle = 1;
    write_ds2_with(path("filter.h5"), 97, 97, &o);
    const int threads[] = {1, 3, 2, 2}, zlib[] = {1, 1, 0, 0}, noshuf[] = {0, 0, 0, 1};
    for (int k = 0; k < 4; k++) {
        o.threads = threads[k], o.zlib = zlib[k], o.shower_shuffle = !noshuf[k];
        write_ds2_with(path("pipe.h5"), 97, 13, &o);
        expect_sample(path("pipe.h5"), 97);
        char cmd[512];
        snprintf(cmd, sizeof cmd, "h5diff %s %s > /dev/null", path("filter.h5"), path("pipe.h5"));
        cr_expect_eq(system(cmd), 0, "h5diff finds differences (%d threads, %s%s)", threads[k],
                     zlib[k] ? "zlib" : "libdeflate", noshuf[k] ? ", no shuffle" : "");
        hsize_t a = showers_storage(path("filter.h5")), b = showers_storage(path("pipe.h5"));
        if (zlib[k])
            cr_expect(a > 0 && a == b, "compressed showers: %llu bytes (HDF5 filter) and %llu (zlib threads)",
                      (unsigned long long)a, (unsigned long long)b);
        else if (!noshuf[k])
            cr_expect(b > 0 && b < 1.1 * a, "compressed showers: %llu bytes (HDF5 filter) and %llu (libdeflate)",
                      (unsigned long long)a, (unsigned long long)b);
        unlink(path("pipe.h5"));
    }
    /* uncompressed through the pipe */
    o.deflate = 0, o.threads = 2, o.zlib = 0, o.shower_shuffle = 0;
    write_ds2_with(path("raw.h5"), 97, 13, &o);
    expect_sample(path("raw.h5"), 97);
}

Test(io, round_trip_in_batches_keeps_every_value)
{
    const char *p = path("rt.h5");
    write_ds2(p, 25, 10); /* 10 + 10 + 5 rows */
    io_dataset_t d;
    cr_assert_eq(io_dataset_open(&d, p, NULL), BASE_OK, "%s", base_last_error());
    cr_expect_eq(d.n, 25);
    cr_expect_eq(d.V, 6480);
    cr_expect_str_eq(d.geo.name, "ds2");
    cr_expect_eq(d.layout, IO_LAYOUT_CALOCHALLENGE);
    float E[25], *X = malloc(25 * 6480 * 4), Er[25], *Xr = malloc(25 * 6480 * 4);
    sample(Er, Xr, 0, 25, 6480);
    cr_assert_eq(io_dataset_read(&d, 0, 25, E, X), BASE_OK, "%s", base_last_error());
    cr_assert(memcmp(E, Er, sizeof E) == 0);
    cr_assert(memcmp(X, Xr, 25 * 6480 * 4) == 0);
    cr_assert_eq(io_dataset_read(&d, 20, 6, E, X), BASE_EINVAL, "reading past the end");
    io_dataset_close(&d);
    free(X);
    free(Xr);
}

Test(io, h5dump_shows_the_calochallenge_layout)
{
    const char *p = path("dump.h5");
    write_ds2(p, 25, 25);
    char cmd[256], out[16384] = "";
    snprintf(cmd, sizeof cmd, "h5dump -H -p %s", p);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    size_t len = fread(out, 1, sizeof out - 1, f);
    out[len] = 0;
    cr_assert_eq(pclose(f), 0, "h5dump failed");
    const char *want[] = {"DATASET \"incident_energies\"", "( 25, 1 )", "DATASET \"showers\"",
                          "( 25, 6480 )", "H5T_IEEE_F32LE", "SHUFFLE", "DEFLATE", "CHUNKED",
                          "ATTRIBUTE \"units\"", "ATTRIBUTE \"seed\""};
    for (unsigned i = 0; i < sizeof want / sizeof *want; i++)
        cr_expect(strstr(out, want[i]) != NULL, "h5dump lacks %s", want[i]);
}

Test(io, existing_files_are_never_replaced_silently)
{
    const char *p = path("keep.h5");
    write_ds2(p, 3, 3);
    phys_geometry_t g;
    phys_geometry_preset(&g, "ds2");
    io_writer_t w;
    cr_assert_eq(io_writer_open(&w, p, &g, NULL), BASE_EEXIST);
    cr_expect(strstr(base_last_error(), "--force") != NULL);
    /* force replaces; an aborted writer leaves neither the target nor a temporary file */
    io_writer_opts_t o = io_writer_defaults();
    o.force = 1;
    cr_assert_eq(io_writer_open(&w, p, &g, &o), BASE_OK);
    float E[2], X[2 * 6480];
    sample(E, X, 100, 2, 6480);
    cr_assert_eq(io_writer_append(&w, E, X, 2), BASE_OK);
    cr_assert_eq(io_writer_close(&w), BASE_OK);
    io_dataset_t d;
    cr_assert_eq(io_dataset_open(&d, p, NULL), BASE_OK);
    cr_expect_eq(d.n, 2);
    io_dataset_close(&d);
    const char *q = path("aborted.h5");
    cr_assert_eq(io_writer_open(&w, q, &g, NULL), BASE_OK);
    cr_assert_eq(io_writer_append(&w, E, X, 2), BASE_OK);
    X[5] = NAN;
    cr_assert_eq(io_writer_append(&w, E, X, 2), BASE_EINVAL, "NaN must be refused");
    io_writer_abort(&w);
    cr_expect(access(q, F_OK) != 0, "aborted output exists");
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls -a %s | grep -q tmp", DIR_);
    cr_expect(system(cmd) != 0, "a temporary file was left behind");
    /* a file that appears while writing is not replaced */
    cr_assert_eq(io_writer_open(&w, q, &g, NULL), BASE_OK);
    FILE *f = fopen(q, "w");
    fputs("someone else's", f);
    fclose(f);
    cr_assert_eq(io_writer_close(&w), BASE_EEXIST);
    f = fopen(q, "r");
    char buf[32] = "";
    cr_assert(fgets(buf, sizeof buf, f) != NULL);
    fclose(f);
    cr_expect_str_eq(buf, "someone else's");
}

/* ---- crafted files ---- */

static void mk(hid_t f, const char *name, hid_t type, int rank, const hsize_t *dims, const void *data)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t mem = H5Tget_class(type) == H5T_INTEGER ? H5T_NATIVE_INT
                : H5Tget_size(type) == 8           ? H5T_NATIVE_DOUBLE
                                                   : H5T_NATIVE_FLOAT;
    cr_assert(H5Dwrite(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(ds);
    H5Sclose(sp);
}

/* A CaloChallenge-like file with n energies of shape (ne0, ne1) and showers (n, V). */
static const char *craft(const char *name, hsize_t ne0, hsize_t ne1, hsize_t n, hsize_t V,
                         float e_value, int bad_voxel_kind)
{
    const char *p = path(name);
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    float *e = calloc(ne0 * ne1, 4), *x = calloc(n * V, 4);
    for (hsize_t i = 0; i < ne0 * ne1; i++) e[i] = 5000;
    e[0] = e_value;
    if (bad_voxel_kind == 1) x[V + 3] = NAN;
    if (bad_voxel_kind == 2) x[V + 3] = INFINITY;
    if (bad_voxel_kind == 3) x[V + 3] = -2.5f;
    hsize_t de[2] = {ne0, ne1}, dx[2] = {n, V};
    mk(f, "incident_energies", H5T_IEEE_F32LE, ne1 ? 2 : 1, de, e);
    mk(f, "showers", H5T_IEEE_F32LE, 2, dx, x);
    H5Fclose(f);
    free(e);
    free(x);
    return p;
}

static void expect_open_error(const char *p, const phys_geometry_t *g, const char *needle)
{
    io_dataset_t d;
    int rc = io_dataset_open(&d, p, g);
    cr_expect_eq(rc, BASE_EIO, "%s: opened (rc %d)", p, rc);
    cr_expect(strstr(base_last_error(), p) != NULL, "message does not name the file: %s",
              base_last_error());
    cr_expect(strstr(base_last_error(), needle) != NULL, "message '%s' lacks '%s'",
              base_last_error(), needle);
    if (rc == BASE_OK) io_dataset_close(&d);
}

static void expect_read_error(const char *p, const char *needle)
{
    io_dataset_t d;
    cr_assert_eq(io_dataset_open(&d, p, NULL), BASE_OK, "%s", base_last_error());
    float E[4], *X = malloc(4 * (size_t)d.V * 4);
    cr_expect_eq(io_dataset_read(&d, 0, d.n, E, X), BASE_EIO);
    cr_expect(strstr(base_last_error(), needle) != NULL, "'%s' lacks '%s'", base_last_error(), needle);
    cr_expect(strstr(base_last_error(), "shower 1") != NULL, "row not named: %s", base_last_error());
    free(X);
    io_dataset_close(&d);
}

Test(io, every_validation_error_is_one_clear_message)
{
    phys_geometry_t ds2;
    phys_geometry_preset(&ds2, "ds2");
    /* not HDF5, missing, truncated */
    const char *p = path("text.h5");
    FILE *f = fopen(p, "w");
    fputs("incident_energies,showers\n1,2,3\n", f);
    fclose(f);
    expect_open_error(p, NULL, "not an HDF5 file");
    expect_open_error(path("missing.h5"), NULL, "No such file");
    const char *good = path("good.h5");
    write_ds2(good, 60, 60);
    const char *trunc = path("trunc.h5");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "head -c $(( $(stat -c %%s %s) / 2 )) %s > %s", good, good, trunc);
    cr_assert_eq(system(cmd), 0);
    io_dataset_t d;
    int rc = io_dataset_open(&d, trunc, NULL);
    if (rc == BASE_OK) { /* the superblock survived: the damage must show on reading */
        float *X = malloc(60 * 6480 * 4);
        rc = io_dataset_read(&d, 0, 60, NULL, X);
        free(X);
        io_dataset_close(&d);
    }
    cr_expect_eq(rc, BASE_EIO, "truncated file accepted");
    cr_expect(strstr(base_last_error(), trunc) != NULL, "%s", base_last_error());

    /* missing datasets */
    p = path("only_showers.h5");
    hid_t h = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    float x[6480] = {0};
    mk(h, "showers", H5T_IEEE_F32LE, 2, (hsize_t[]){1, 6480}, x);
    H5Fclose(h);
    expect_open_error(p, NULL, "no 'incident_energies'");
    p = path("empty.h5");
    h = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(h);
    expect_open_error(p, NULL, "no 'showers'");
    /* wrong rank or shape */
    p = path("rank3.h5");
    h = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    mk(h, "incident_energies", H5T_IEEE_F32LE, 2, (hsize_t[]){1, 1}, (float[]){1000});
    mk(h, "showers", H5T_IEEE_F32LE, 3, (hsize_t[]){1, 80, 81}, x);
    H5Fclose(h);
    expect_open_error(p, NULL, "rank 3");
    expect_open_error(craft("e2.h5", 3, 2, 3, 6480, 5000, 0), NULL, "(N, 1)");
    /* N mismatch */
    expect_open_error(craft("nmis.h5", 4, 1, 3, 6480, 5000, 0), NULL, "4 incident energies but 3 showers");
    /* voxel count vs geometry */
    expect_open_error(craft("v100.h5", 2, 1, 2, 100, 5000, 0), &ds2, "100 voxels, geometry ds2 has 6480");
    expect_open_error(craft("v100b.h5", 2, 1, 2, 100, 5000, 0), NULL, "cannot tell the geometry");
    /* bad incident energies */
    expect_open_error(craft("eneg.h5", 2, 1, 2, 6480, -1, 0), NULL, "incident energy of shower 0");
    expect_open_error(craft("enan.h5", 2, 1, 2, 6480, NAN, 0), NULL, "incident energy of shower 0");
    /* integer data */
    p = path("int.h5");
    h = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    int ie[1] = {1000}, *ix = calloc(6480, sizeof(int));
    mk(h, "incident_energies", H5T_STD_I32LE, 2, (hsize_t[]){1, 1}, ie);
    mk(h, "showers", H5T_STD_I32LE, 2, (hsize_t[]){1, 6480}, ix);
    H5Fclose(h);
    free(ix);
    expect_open_error(p, NULL, "must hold float32 or float64");
    /* NaN, Inf, negative voxel energies: found on reading, with the row */
    expect_read_error(craft("xnan.h5", 2, 1, 2, 6480, 5000, 1), "NaN/Inf");
    expect_read_error(craft("xinf.h5", 2, 1, 2, 6480, 5000, 2), "NaN/Inf");
    expect_read_error(craft("xneg.h5", 2, 1, 2, 6480, 5000, 3), "negative energy");
}

Test(io, float64_files_and_1d_energies_are_read_as_float32)
{
    const char *p = path("f64.h5");
    hid_t h = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    double e[2] = {1500, 2500}, *x = calloc(2 * 368, 8);
    x[367] = 0.125;
    x[368] = 3.5;
    mk(h, "incident_energies", H5T_IEEE_F64LE, 1, (hsize_t[]){2}, e);
    mk(h, "showers", H5T_IEEE_F64LE, 2, (hsize_t[]){2, 368}, x);
    H5Fclose(h);
    io_dataset_t d;
    cr_assert_eq(io_dataset_open(&d, p, NULL), BASE_OK, "%s", base_last_error());
    cr_expect_str_eq(d.geo.name, "ds1-photons");
    float E[2], X[2 * 368];
    cr_assert_eq(io_dataset_read(&d, 0, 2, E, X), BASE_OK);
    cr_expect(E[0] == 1500.f && E[1] == 2500.f && X[367] == 0.125f && X[368] == 3.5f);
    io_dataset_close(&d);
    free(x);
}

/* Par04 value of (shower s, r, phi, z), distinct everywhere. */
static float par04_value(int s, int r, int p, int z) { return (float)(s * 100000 + r * 1000 + p * 50 + z); }

static void par04_fill(float *a, int n, int s0)
{
    for (int s = 0; s < n; s++)
        for (int r = 0; r < 9; r++)
            for (int p = 0; p < 16; p++)
                for (int z = 0; z < 45; z++)
                    a[(((size_t)s * 9 + r) * 16 + p) * 45 + z] = par04_value(s0 + s, r, p, z);
}

static void expect_cc_order(const float *X, int s, int s_global)
{
    for (int z = 0; z < 45; z += 11)
        for (int p = 0; p < 16; p += 5)
            for (int r = 0; r < 9; r += 4)
                cr_assert_eq(X[(size_t)s * 6480 + (z * 16 + p) * 9 + r], par04_value(s_global, r, p, z));
}

Test(io, par04_layouts_are_read_and_transposed)
{
    /* per-energy layout: datasets "1" (2 showers) and "1024" (1), shape (N, R 9, PHI 16, Z 45) */
    const char *p = path("par04_old.h5");
    hid_t h = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    float *a = malloc(3 * 6480 * 4);
    par04_fill(a, 2, 0);
    mk(h, "1024", H5T_IEEE_F32LE, 4, (hsize_t[]){1, 9, 16, 45}, a); /* written first on purpose */
    mk(h, "1", H5T_IEEE_F32LE, 4, (hsize_t[]){2, 9, 16, 45}, a);
    H5Fclose(h);
    io_dataset_t d;
    cr_assert_eq(io_dataset_open(&d, p, NULL), BASE_OK, "%s", base_last_error());
    cr_expect_eq(d.layout, IO_LAYOUT_PAR04_PER_ENERGY);
    cr_expect_eq(d.n, 3);
    cr_expect_str_eq(d.geo.name, "ds2");
    float E[3], *X = malloc(3 * 6480 * 4);
    cr_assert_eq(io_dataset_read(&d, 0, 3, E, X), BASE_OK, "%s", base_last_error());
    cr_expect(E[0] == 1000.f && E[1] == 1000.f && E[2] == 1024000.f, "energies %g %g %g", E[0], E[1], E[2]);
    expect_cc_order(X, 0, 0);
    expect_cc_order(X, 1, 1);
    expect_cc_order(X, 2, 0);
    io_dataset_close(&d);

    /* newer layout: incident_energy (N) + showers (N, R, PHI, Z) */
    p = path("par04_new.h5");
    h = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    par04_fill(a, 3, 10);
    mk(h, "incident_energy", H5T_IEEE_F32LE, 1, (hsize_t[]){3}, (float[]){2000, 3000, 4000});
    mk(h, "showers", H5T_IEEE_F32LE, 4, (hsize_t[]){3, 9, 16, 45}, a);
    H5Fclose(h);
    cr_assert_eq(io_dataset_open(&d, p, NULL), BASE_OK, "%s", base_last_error());
    cr_expect_eq(d.layout, IO_LAYOUT_PAR04);
    cr_assert_eq(io_dataset_read(&d, 1, 2, E, X), BASE_OK, "%s", base_last_error());
    cr_expect(E[0] == 3000.f && E[1] == 4000.f);
    expect_cc_order(X, 0, 11);
    expect_cc_order(X, 1, 12);
    cr_expect(!d.has_angles && d.angles[0] == 90.f && d.material == IO_MATERIAL_UNKNOWN, "a file without angles");
    io_dataset_close(&d);
    /* conditions: a per-energy file's name gives its angle and material (root2h5_for_vae.py's
     * "{geo}_angle_{angle}.h5"); incident_theta (radians) gives one angle per shower; a bad one
     * is an error naming the row */
    const char *p2 = path("SciPb_angle_70.h5");
    h = H5Fcreate(p2, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    mk(h, "1", H5T_IEEE_F32LE, 4, (hsize_t[]){2, 9, 16, 45}, a);
    H5Fclose(h);
    cr_assert_eq(io_dataset_open(&d, p2, NULL), BASE_OK, "%s", base_last_error());
    cr_expect(d.has_angles && d.angles[0] == 70.f && d.angles[1] == 70.f && d.material == IO_MATERIAL_SCIPB,
              "angle %g, material %d", d.angles[0], d.material);
    io_dataset_close(&d);
    h = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    mk(h, "incident_theta", H5T_IEEE_F64LE, 1, (hsize_t[]){3},
       (double[]){1.5707963267948966, 0.8726646259971648, 1.0471975511965976}); /* 90, 50, 60 deg */
    H5Fclose(h);
    cr_assert_eq(io_dataset_open(&d, p, NULL), BASE_OK, "%s", base_last_error());
    cr_expect(d.has_angles && fabsf(d.angles[0] - 90) < 1e-4f && fabsf(d.angles[1] - 50) < 1e-4f &&
              fabsf(d.angles[2] - 60) < 1e-4f, "angles %g %g %g", d.angles[0], d.angles[1], d.angles[2]);
    io_dataset_close(&d);
    h = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(h, "incident_theta", H5P_DEFAULT);
    mk(h, "incident_theta", H5T_IEEE_F32LE, 1, (hsize_t[]){3}, (float[]){1.5f, NAN, 1.f});
    H5Fclose(h);
    expect_open_error(p, NULL, "incident_theta of shower 1");
    h = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(h, "incident_theta", H5P_DEFAULT);
    mk(h, "incident_theta", H5T_IEEE_F32LE, 1, (hsize_t[]){2}, (float[]){1.5f, 1.f});
    H5Fclose(h);
    expect_open_error(p, NULL, "incident_theta must be");
    h = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(h, "incident_theta", H5P_DEFAULT);
    H5Fclose(h);
    /* a Par04 grid that does not fit the requested geometry */
    phys_geometry_t ds3;
    phys_geometry_preset(&ds3, "ds3");
    expect_open_error(p, &ds3, "voxels");
    free(a);
    free(X);
}

/* ---- loader ---- */

static void collect(io_loader_t *L, int B, float *seen, size_t *n)
{
    float E[64], *X = malloc((size_t)B * 6480 * 4);
    int got;
    *n = 0;
    do {
        cr_assert_eq(io_loader_next(L, B, E, NULL, X, &got), BASE_OK, "%s", base_last_error());
        for (int i = 0; i < got; i++) {
            /* the voxels travel with their energy */
            size_t row = (size_t)(E[i] / 1000.f) - 1;
            cr_assert_eq(X[(size_t)i * 6480 + 5], (float)((row * 7 + 5) % 13));
            seen[(*n)++] = E[i];
        }
    } while (got > 0);
    free(X);
}

static int cmpf(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

Test(io, loader_splits_deterministically_and_shuffles_every_row_once)
{
    const char *p = path("loader.h5");
    write_ds2(p, 300, 300); /* chunks of 40 rows: 8 blocks */
    io_dataset_t d;
    cr_assert_eq(io_dataset_open(&d, p, NULL), BASE_OK);
    cr_expect_eq(d.block_rows, 40);
    io_loader_t tr, va, tr2;
    cr_assert_eq(io_loader_init(&tr, &d, IO_PART_TRAIN, 0.2, 5, 1, 7 * 6480 * 4), BASE_OK);
    cr_assert_eq(io_loader_init(&va, &d, IO_PART_VAL, 0.2, 5, 0, 0), BASE_OK);
    cr_expect_eq(tr.n_part + va.n_part, 300);
    cr_expect(va.n_part > 40 && va.n_part < 80, "validation part %zu of 300", va.n_part);
    float a[300], b[300], v[300];
    size_t na, nb, nv;
    collect(&tr, 16, a, &na);
    collect(&va, 16, v, &nv);
    cr_assert_eq(na, tr.n_part);
    cr_assert_eq(nv, va.n_part);
    /* validation in file order; train and validation disjoint and complete */
    for (size_t i = 1; i < nv; i++) cr_assert(v[i] > v[i - 1]);
    float all[300];
    memcpy(all, a, na * 4);
    memcpy(all + na, v, nv * 4);
    qsort(all, 300, 4, cmpf);
    for (int i = 0; i < 300; i++) cr_assert_eq(all[i], 1000.f * (i + 1), "row %d missing or repeated", i);
    /* shuffled: not in file order; the same seed and epoch repeat; another epoch differs */
    int sorted = 1;
    for (size_t i = 1; i < na; i++) sorted &= a[i] > a[i - 1];
    cr_expect(!sorted, "training order not shuffled");
    cr_assert_eq(io_loader_init(&tr2, &d, IO_PART_TRAIN, 0.2, 5, 1, 7 * 6480 * 4), BASE_OK);
    collect(&tr2, 5, b, &nb); /* another batch size */
    cr_assert(nb == na && memcmp(a, b, na * 4) == 0, "same seed and epoch, other order");
    io_loader_epoch(&tr2, 1);
    collect(&tr2, 16, b, &nb);
    cr_assert(memcmp(a, b, na * 4) != 0, "epoch 1 repeats epoch 0");
    /* the split is a function of (seed, index) only */
    for (size_t i = 0; i < 300; i++) cr_assert_eq(io_split_is_val(5, i, 0.2), io_split_is_val(5, i, 0.2));
    io_loader_free(&tr);
    io_loader_free(&tr2);
    io_loader_free(&va);
    io_dataset_close(&d);
}

Test(io, chunk_pipe_reports_a_failed_chunk_write_and_stops_cleanly)
{
    /* a dataset of 2 chunks (80 rows) that is never extended further: rows 80.. cannot be
     * stored, and the error comes back from finish, once, naming the chunk */
    const char *p = path("pipe_err.h5");
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[2] = {80, 6480}, maxd[2] = {H5S_UNLIMITED, 6480}, chunk[2] = {40, 6480};
    hid_t sp = H5Screate_simple(2, dims, maxd), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 4);
    hid_t ds = H5Dcreate2(f, "showers", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    cr_assert(ds >= 0);
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    io_chunkpipe_t *pipe;
    cr_assert_eq(io_chunkpipe_open(&pipe, ds, 40, 6480, &(io_chunkpipe_codec_t){.level = 4, .shuffle = 1}, 2, &lock), BASE_OK, "%s", base_last_error());
    float *X = calloc((size_t)200 * 6480, 4), E[200];
    sample(E, X, 0, 200, 6480);
    int rc = io_chunkpipe_push(pipe, X, 200, 1);
    if (rc == BASE_OK) rc = io_chunkpipe_finish(pipe);
    cr_expect_eq(rc, BASE_EIO, "a write beyond the extent was not reported");
    cr_expect(strstr(base_last_error(), "chunk") != NULL, "%s", base_last_error());
    io_chunkpipe_free(pipe);
    cr_expect_eq(io_chunkpipe_open(&pipe, ds, 40, 6480, &(io_chunkpipe_codec_t){.level = 4, .shuffle = 1}, 0, &lock), BASE_EINVAL);
    H5Dclose(ds), H5Pclose(dcpl), H5Sclose(sp), H5Fclose(f);
    free(X);
}

/* io/h5.h: a string attribute is read back; an array of strings, a number or an absent name
 * gives NULL instead of overflowing a buffer. */
Test(io, string_attributes_are_read_only_when_they_are_single_strings)
{
    const char *p = path("attrs.h5");
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert(f >= 0);
    cr_assert_eq(io_h5_put_str(f, "geometry", "ds2"), 0);
    cr_assert_eq(io_h5_put_str(f, "geometry", "ds3"), 0, "replacing an attribute");
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 8);
    hsize_t n = 3;
    hid_t sp = H5Screate_simple(1, &n, NULL), a = H5Acreate2(f, "format", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    char three[3][8] = {"a", "bb", "ccc"};
    cr_assert(a >= 0 && H5Awrite(a, t, three) >= 0);
    H5Aclose(a), H5Sclose(sp), H5Tclose(t);
    sp = H5Screate(H5S_SCALAR);
    a = H5Acreate2(f, "seed", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    long long v = 7;
    cr_assert(a >= 0 && H5Awrite(a, H5T_NATIVE_LLONG, &v) >= 0);
    H5Aclose(a), H5Sclose(sp);
    char *s = io_h5_get_str(f, "geometry");
    cr_assert(s && strcmp(s, "ds3") == 0, "got '%s'", s ? s : "(null)");
    free(s);
    cr_expect_null(io_h5_get_str(f, "format"), "an array of strings is not one string");
    cr_expect_null(io_h5_get_str(f, "seed"), "a number is not a string");
    cr_expect_null(io_h5_get_str(f, "nothing"));
    H5Fclose(f);
}

/* io/atomic.h for directories: nothing replaced without force; with force the new directory
 * takes the old one's place and no temporary or old copy is left. */
Test(io, report_directories_are_replaced_only_with_force_and_leave_nothing_behind)
{
    char tmp[600], f[700];
    const char *dir = path("report");
    cr_assert_eq(io_atomic_dir_begin(dir, 0, tmp, sizeof tmp), BASE_OK);
    snprintf(f, sizeof f, "%s/a.txt", tmp);
    FILE *fp = fopen(f, "w");
    cr_assert(fp != NULL);
    fputs("first", fp), fclose(fp);
    cr_assert_eq(io_atomic_dir_commit(tmp, dir), BASE_OK);
    cr_assert_eq(io_atomic_dir_begin(dir, 0, tmp, sizeof tmp), BASE_EEXIST);
    cr_assert_eq(io_atomic_dir_begin(dir, 1, tmp, sizeof tmp), BASE_OK);
    snprintf(f, sizeof f, "%s/b.txt", tmp);
    fp = fopen(f, "w");
    cr_assert(fp != NULL);
    fputs("second", fp), fclose(fp);
    cr_assert_eq(io_atomic_dir_commit(tmp, dir), BASE_OK);
    snprintf(f, sizeof f, "%s/b.txt", dir);
    cr_expect(access(f, F_OK) == 0, "the new report is in place");
    snprintf(f, sizeof f, "%s/a.txt", dir);
    cr_expect(access(f, F_OK) != 0, "the old report is gone");
    cr_expect(access(tmp, F_OK) != 0, "the temporary directory is gone");
    /* an aborted one leaves nothing */
    cr_assert_eq(io_atomic_dir_begin(path("other"), 0, tmp, sizeof tmp), BASE_OK);
    io_atomic_dir_abort(tmp);
    cr_expect(access(tmp, F_OK) != 0 && access(path("other"), F_OK) != 0);
}

/* A fixed-energy sample (every incident energy 50 GeV, most voxels empty) compresses its
 * energies far below a byte per row; it is a real file and is read (the storage check allows
 * deflate's largest ratio, 1032). */
Test(io, a_fixed_energy_sample_compresses_and_is_read)
{
    phys_geometry_t g;
    phys_geometry_preset(&g, "ds2");
    const size_t n = 50000, B = 5000;
    const char *p = path("fixed.h5");
    io_writer_t w;
    cr_assert_eq(io_writer_open(&w, p, &g, NULL), BASE_OK, "%s", base_last_error());
    float *E = malloc(B * 4), *X = calloc(B * 6480, 4);
    for (size_t i = 0; i < B; i++) E[i] = 50000.f, X[i * 6480 + i % 6480] = 1.f;
    for (size_t f = 0; f < n; f += B) cr_assert_eq(io_writer_append(&w, E, X, B), BASE_OK, "%s", base_last_error());
    cr_assert_eq(io_writer_close(&w), BASE_OK, "%s", base_last_error());
    hid_t h = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(h, "incident_energies", H5P_DEFAULT);
    hsize_t stored = H5Dget_storage_size(d);
    H5Dclose(d), H5Fclose(h);
    cr_log_info("%zu fixed energies stored in %llu bytes", n, (unsigned long long)stored);
    io_dataset_t ds;
    cr_assert_eq(io_dataset_open(&ds, p, NULL), BASE_OK, "%s", base_last_error());
    cr_expect_eq(ds.n, n);
    cr_assert_eq(io_dataset_read(&ds, n - B, B, E, X), BASE_OK, "%s", base_last_error());
    cr_expect(E[B - 1] == 50000.f && X[(B - 1) * 6480 + (B - 1) % 6480] == 1.f);
    io_dataset_close(&ds);
    free(E), free(X);
}

/* io_dataset_cache: every row in memory when it fits, reads then equal the file's; too small a
 * budget changes nothing; a bad row is reported when caching, and nothing is cached. */
Test(io, a_cached_dataset_reads_as_the_file)
{
    const char *p = path("cache.h5");
    write_ds2(p, 70, 70);
    io_dataset_t d;
    cr_assert_eq(io_dataset_open(&d, p, NULL), BASE_OK, "%s", base_last_error());
    cr_expect_eq(io_dataset_cache(&d, 70 * 6480 * 4 - 1, NULL), 0, "cached beyond its budget");
    cr_expect_null(d.cache);
    cr_assert_eq(io_dataset_cache(&d, 70 * 6480 * 4, NULL), 1, "%s", base_last_error());
    cr_expect_not_null(d.cache);
    io_dataset_close(&d);
    expect_sample(p, 70); /* through the file */
    cr_assert_eq(io_dataset_open(&d, p, NULL), BASE_OK);
    cr_assert_eq(io_dataset_cache(&d, (size_t)1 << 30, NULL), 1);
    float *E = malloc(20 * 4), *X = malloc(20 * 6480 * 4), *Er = malloc(20 * 4), *Xr = malloc(20 * 6480 * 4);
    sample(Er, Xr, 33, 20, 6480);
    cr_assert_eq(io_dataset_read(&d, 33, 20, E, X), BASE_OK);
    cr_expect(memcmp(E, Er, 20 * 4) == 0 && memcmp(X, Xr, 20 * 6480 * 4) == 0, "cached rows differ");
    io_dataset_close(&d);
    /* a NaN in row 41 */
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT), ds = H5Dopen2(f, "showers", H5P_DEFAULT);
    hid_t fs = H5Dget_space(ds), ms = H5Screate_simple(1, (hsize_t[]){1}, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, (hsize_t[]){41, 5}, NULL, (hsize_t[]){1, 1}, NULL);
    float nan = NAN;
    cr_assert(H5Dwrite(ds, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, &nan) >= 0);
    H5Sclose(ms), H5Sclose(fs), H5Dclose(ds), H5Fclose(f);
    cr_assert_eq(io_dataset_open(&d, p, NULL), BASE_OK);
    cr_expect_eq(io_dataset_cache(&d, (size_t)1 << 30, NULL), BASE_EIO);
    cr_expect(strstr(base_last_error(), "41") != NULL, "%s", base_last_error());
    cr_expect_null(d.cache);
    io_dataset_close(&d);
    free(E), free(X), free(Er), free(Xr);
}

/* A CaloChallenge file of sample() rows whose showers have chunks of cr rows and the given
 * filters (shuffle, deflate level or -1, fletcher32: a pipeline the parallel reader leaves to
 * HDF5). */
static void craft_chunked(const char *p, size_t n, size_t cr, int shuffle, int deflate, int fletcher)
{
    float *E = malloc(n * 4), *X = malloc(n * 6480 * 4);
    sample(E, X, 0, n, 6480);
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    mk(f, "incident_energies", H5T_IEEE_F32LE, 2, (hsize_t[]){n, 1}, E);
    hid_t sp = H5Screate_simple(2, (hsize_t[]){n, 6480}, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, (hsize_t[]){cr, 6480});
    if (shuffle) H5Pset_shuffle(dcpl);
    if (deflate >= 0) H5Pset_deflate(dcpl, (unsigned)deflate);
    if (fletcher) H5Pset_fletcher32(dcpl);
    hid_t ds = H5Dcreate2(f, "showers", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    cr_assert(ds >= 0 && H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, X) >= 0);
    H5Dclose(ds), H5Pclose(dcpl), H5Sclose(sp), H5Fclose(f);
    free(E), free(X);
}

/* Every pipeline the parallel reader decodes (none, deflate, shuffle, shuffle + deflate), a
 * partial last chunk, and one it leaves to HDF5 (fletcher32), on 1 and 2 threads: the cache
 * holds what the file holds. A chunk that does not inflate is an error naming file and row. */
Test(io, chunks_inflated_in_parallel_read_as_the_file)
{
    const int pipes[][3] = {{0, -1, 0}, {0, 1, 0}, {1, -1, 0}, {1, 6, 0}, {1, 1, 1}};
    const size_t n = 50;
    float *E = malloc(n * 4), *X = malloc(n * 6480 * 4), *Er = malloc(n * 4), *Xr = malloc(n * 6480 * 4);
    sample(Er, Xr, 0, n, 6480);
    for (int k = 0; k < 5; k++)
        for (int t = 1; t <= 2; t++) {
            const char *p = path("chunked.h5");
            craft_chunked(p, n, 7, pipes[k][0], pipes[k][1], pipes[k][2]);
            io_dataset_t d;
            cr_assert_eq(io_dataset_open(&d, p, NULL), BASE_OK, "%s", base_last_error());
            hid_t ds = H5Dopen2(d.file, "showers", H5P_DEFAULT);
            memset(X, 0xff, n * 6480 * 4);
            int rc = io_chunkread_all(ds, n, 6480, t, X, p, NULL);
            H5Dclose(ds);
            cr_expect_eq(rc, pipes[k][2] ? 0 : 1, "pipeline %d: %d (%s)", k, rc, base_last_error());
            if (rc == 1) cr_expect(memcmp(X, Xr, n * 6480 * 4) == 0, "pipeline %d, %d threads: values differ", k, t);
            omp_set_num_threads(t);
            cr_assert_eq(io_dataset_cache(&d, (size_t)1 << 30, NULL), 1, "%s", base_last_error());
            cr_assert_eq(io_dataset_read(&d, 0, n, E, X), BASE_OK);
            cr_expect(memcmp(E, Er, n * 4) == 0 && memcmp(X, Xr, n * 6480 * 4) == 0, "pipeline %d: cache differs", k);
            io_dataset_close(&d);
            omp_set_num_threads(2);
        }
    /* chunk 3 (rows 21..27) replaced by bytes that claim to be deflated and are not */
    const char *p = path("chunked.h5");
    craft_chunked(p, n, 7, 1, 1, 0);
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT), ds = H5Dopen2(f, "showers", H5P_DEFAULT);
    unsigned char junk[64];
    memset(junk, 0x5a, sizeof junk);
    cr_assert(H5Dwrite_chunk(ds, H5P_DEFAULT, 0, (hsize_t[]){21, 0}, sizeof junk, junk) >= 0);
    H5Dclose(ds), H5Fclose(f);
    io_dataset_t d;
    cr_assert_eq(io_dataset_open(&d, p, NULL), BASE_OK, "%s", base_last_error());
    cr_expect_eq(io_dataset_cache(&d, (size_t)1 << 30, NULL), BASE_EIO);
    cr_expect(strstr(base_last_error(), "chunked.h5") && strstr(base_last_error(), "row 21"), "%s", base_last_error());
    cr_expect_null(d.cache);
    io_dataset_close(&d);
    free(E), free(X), free(Er), free(Xr);
}

/* With the data in memory the loader refers to its rows instead of copying them; the batches
 * are the ones read from the file, shuffled and not, over two epochs. */
Test(io, a_loader_on_data_in_memory_gives_the_batches_of_the_file)
{
    const char *p = path("loadmem.h5");
    craft_chunked(p, 300, 32, 0, 1, 0);
    io_dataset_t d[2];
    io_loader_t L[2];
    for (int shuffle = 0; shuffle <= 1; shuffle++) {
        for (int k = 0; k < 2; k++) {
            cr_assert_eq(io_dataset_open(&d[k], p, NULL), BASE_OK, "%s", base_last_error());
            /* a shuffle buffer of 50 rows: the buffer's random picks matter */
            cr_assert_eq(io_loader_init(&L[k], &d[k], IO_PART_TRAIN, 0.2, 7, shuffle, 50 * 6480 * 4), BASE_OK);
        }
        cr_assert_eq(io_dataset_cache(&d[1], (size_t)1 << 30, NULL), 1);
        float *E[2], *X[2];
        for (int k = 0; k < 2; k++) E[k] = malloc(64 * 4), X[k] = malloc(64 * 6480 * 4);
        for (int e = 0; e < 2; e++) {
            int got[2] = {1, 1}, batches = 0;
            for (int k = 0; k < 2; k++) io_loader_epoch(&L[k], (uint64_t)e);
            cr_expect(L[1].by_ref && !L[0].by_ref);
            while (got[0] > 0) {
                for (int k = 0; k < 2; k++) cr_assert_eq(io_loader_next(&L[k], 64, E[k], NULL, X[k], &got[k]), BASE_OK);
                cr_assert_eq(got[0], got[1]);
                cr_expect(memcmp(E[0], E[1], (size_t)got[0] * 4) == 0 &&
                              memcmp(X[0], X[1], (size_t)got[0] * 6480 * 4) == 0,
                          "shuffle %d, epoch %d, batch %d differs", shuffle, e, batches);
                batches++;
            }
            cr_expect(batches >= 4);
        }
        for (int k = 0; k < 2; k++) io_loader_free(&L[k]), io_dataset_close(&d[k]), free(E[k]), free(X[k]);
    }
}

/* Data streams (training over many processes): stream s of S visits only the row blocks
 * b = s mod S; the streams' rows are disjoint and together the part; a cache of some streams
 * holds only their blocks, and loaders give the same batches from it as from the file. */
Test(io, data_streams_split_the_blocks_and_a_partial_cache_reads_as_the_file)
{
    const char *p = path("streams.h5");
    write_ds2(p, 300, 300); /* chunks of 40 rows: 8 blocks */
    io_dataset_t d, c;
    cr_assert_eq(io_dataset_open(&d, p, NULL), BASE_OK);
    cr_assert_eq(io_dataset_open(&c, p, NULL), BASE_OK);
    cr_assert_eq(io_dataset_cache_streams(&c, (size_t)1 << 30, 3, 1, 3, NULL), 1, "%s", base_last_error());
    cr_expect(io_dataset_cached_block(&c, 0) == NULL && io_dataset_cached_block(&c, 3) == NULL &&
              io_dataset_cached_block(&c, 1) != NULL && io_dataset_cached_block(&c, 7) != NULL);
    float *x = malloc(40 * 6480 * 4);
    cr_assert_eq(io_dataset_read(&d, 280, 20, NULL, x), BASE_OK); /* block 7: the last, 20 rows */
    cr_expect(memcmp(io_dataset_cached_block(&c, 7), x, 20 * 6480 * 4) == 0);
    cr_assert_eq(io_dataset_read(&c, 0, 40, NULL, x), BASE_OK, "rows outside the cache come from the file");
    cr_expect_eq(x[5], 5.f);
    io_loader_t one;
    cr_assert_eq(io_loader_init(&one, &d, IO_PART_TRAIN, 0.2, 5, 1, 0), BASE_OK);
    float all[300], seen[300];
    size_t n_all = 0, n;
    for (size_t s = 0; s < 3; s++) {
        io_loader_t L[2];
        cr_assert_eq(io_loader_init_stream(&L[0], &d, IO_PART_TRAIN, 0.2, 5, 1, 50 * 6480 * 4, 3, s), BASE_OK);
        cr_assert_eq(io_loader_init_stream(&L[1], &c, IO_PART_TRAIN, 0.2, 5, 1, 50 * 6480 * 4, 3, s), BASE_OK);
        cr_expect_eq(L[1].by_ref, s > 0, "stream %zu", s);
        cr_expect_eq(L[0].n_part, io_loader_part_rows(&d, IO_PART_TRAIN, 0.2, 5, 3, s));
        float other[300];
        size_t m;
        collect(&L[0], 16, seen, &n);
        collect(&L[1], 16, other, &m);
        cr_assert(n == L[0].n_part && m == n && memcmp(seen, other, n * 4) == 0, "stream %zu: cache and file differ", s);
        for (size_t i = 0; i < n; i++) {
            size_t row = (size_t)(seen[i] / 1000.f) - 1;
            cr_assert_eq(row / 40 % 3, s, "row %zu in stream %zu", row, s);
            all[n_all++] = seen[i];
        }
        io_loader_free(&L[0]), io_loader_free(&L[1]);
    }
    cr_assert_eq(n_all, one.n_part);
    collect(&one, 16, seen, &n);
    qsort(all, n_all, 4, cmpf), qsort(seen, n, 4, cmpf);
    cr_expect(memcmp(all, seen, n * 4) == 0, "the streams' rows are not the part's");
    cr_expect_eq(io_dataset_cache_streams(&c, (size_t)1 << 30, 1, 0, 1, NULL), 0, "another cache is refused");
    io_loader_free(&one);
    io_dataset_close(&d), io_dataset_close(&c);
    free(x);
}

/* SHA-256 (io/hash.h) against the FIPS 180-2 example "abc" and the empty message; a missing
 * file is an error naming it. */
Test(io, sha256_of_files_matches_the_standard_examples)
{
    const char *p = path("abc.txt");
    char hex[65];
    FILE *f = fopen(p, "wb");
    cr_assert(f && fwrite("abc", 1, 3, f) == 3);
    fclose(f);
    cr_assert_eq(io_sha256_file(p, hex), BASE_OK, "%s", base_last_error());
    cr_expect_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    f = fopen(p, "wb");
    fclose(f);
    cr_assert_eq(io_sha256_file(p, hex), BASE_OK);
    cr_expect_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    cr_expect_eq(io_sha256_file(path("none.bin"), hex), BASE_EIO);
    cr_expect(strstr(base_last_error(), "none.bin") != NULL, "%s", base_last_error());
}
