/* tests/fuzz/fuzz_showers.c: the shower-file reader (io/dataset.h) on HDF5 files whose
 * structure the input chooses.
 *
 * The fuzzer does not flip bits in HDF5's own binary format (libhdf5's parser is not this
 * project's code); it drives what a hostile or careless producer can put in a well-formed
 * file: which datasets exist, their classes, ranks and dimensions (also huge ones, declared
 * without storage), their values (any float bits: NaN, Inf, negatives), the geometry
 * attribute in any class and shape, and Par04 per-energy dataset names. Everything the reader
 * accepts is read in full, as inspect does.
 */
#include "io/dataset.h"
#include "tests/fuzz/fuzz_h5.h"

#include <math.h>

/* A dataset name, its class (fuzz_h5_type), rank and dims; huge:
 * declared without storage. Values come from the input. */
static void put(hid_t f, const char *name, fuzz_bytes_t *b)
{
    unsigned c = fuzz_u8(b), cls = c & 3, rank = 1 + (c >> 2) % 5, huge = (c >> 5) & 1;
    hsize_t dims[5], total = 1;
    for (unsigned i = 0; i < rank; i++) {
        unsigned d = fuzz_u16(b);
        dims[i] = huge ? (hsize_t)d << (fuzz_u8(b) % 24) : d % 64;
        total *= dims[i] ? dims[i] : 1;
    }
    if (!huge && total > (1u << 18)) return; /* stored data stays small */
    hid_t t = fuzz_h5_type(cls);
    hid_t sp = H5Screate_simple((int)rank, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (huge) {
        hsize_t chunk[5];
        for (unsigned i = 0; i < rank; i++) chunk[i] = dims[i] ? (dims[i] < 8 ? dims[i] : 8) : 1;
        H5Pset_chunk(dcpl, (int)rank, chunk);
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_INCR);
    }
    hid_t ds = H5Dcreate2(f, name, t, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds >= 0 && !huge && cls < 3) fuzz_h5_fill(ds, total, b);
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Tclose(t);
}

/* The geometry attribute: absent, a string, an array of strings, a variable-length string or
 * integers, with content from the input. */
static void put_geometry(hid_t f, fuzz_bytes_t *b)
{
    static const char *names[] = {"ds2", "ds3", "ds1-photons", "ds1-pions", "", "binning.xml"};
    unsigned c = fuzz_u8(b), kind = c % 5;
    hsize_t n = 1 + fuzz_u8(b) % 4;
    const char *s = names[(c >> 3) % 6];
    if (kind == 0) return;
    hid_t t = H5Tcopy(H5T_C_S1), sp = kind == 2 ? H5Screate_simple(1, &n, NULL) : H5Screate(H5S_SCALAR);
    char buf[64] = {0};
    long long ints[4] = {6480, -1, 0, 1};
    if (kind == 3) H5Tset_size(t, H5T_VARIABLE);
    else H5Tset_size(t, 16);
    snprintf(buf, sizeof buf, "%s", s);
    hid_t a = kind == 4 ? H5Acreate2(f, "geometry", H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT)
                        : H5Acreate2(f, "geometry", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
        if (kind == 4) H5Awrite(a, H5T_NATIVE_LLONG, ints);
        else if (kind == 3) H5Awrite(a, t, &s);
        else {
            char arr[4][16];
            for (int i = 0; i < 4; i++) memcpy(arr[i], buf, 16);
            H5Awrite(a, t, arr);
        }
        H5Aclose(a);
    }
    H5Sclose(sp);
    H5Tclose(t);
}

static void build(const char *path, fuzz_bytes_t *b)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return;
    unsigned layout = fuzz_u8(b) % 3;
    if (layout == 0) put(f, "incident_energies", b), put(f, "showers", b);
    else if (layout == 1) put(f, "incident_energy", b), put(f, "showers", b);
    else {
        static const char *e[] = {"1", "10", "100", "1000", "inf", "nan", "-1", "1e400", "0.5", "1e30", "x"};
        for (unsigned k = 0, m = 1 + fuzz_u8(b) % 3; k < m; k++) put(f, e[fuzz_u8(b) % 11], b);
    }
    put_geometry(f, b);
    H5Fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    static int quiet;
    if (!quiet) H5Eset_auto2(H5E_DEFAULT, NULL, NULL), quiet = 1;
    char path[512];
    fuzz_bytes_t b = {data, n, 0};
    build(fuzz_path(path, sizeof path, "showers.h5"), &b);
    io_dataset_t d;
    phys_geometry_t ds2;
    phys_geometry_preset(&ds2, "ds2");
    if (io_dataset_open(&d, path, n > 0 && (data[0] & 128) ? &ds2 : NULL) == 0) {
        size_t B = d.block_rows, V = (size_t)d.V;
        float *E = malloc(B * sizeof *E), *X = malloc(B * V * sizeof *X);
        for (size_t first = 0; E && X && first < d.n && first < 4096; first += B) {
            size_t k = d.n - first < B ? d.n - first : B;
            if (io_dataset_read(&d, first, k, E, X) != 0) break;
            for (size_t i = 0; i < k * V; i++)
                if (!(X[i] >= 0) || isinf(X[i])) abort(); /* accepted data is checked data */
        }
        free(E), free(X);
        io_dataset_close(&d);
    }
    unlink(path);
    return 0;
}
