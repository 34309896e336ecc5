/* io/modelfile.c: model and checkpoint files (see modelfile.h). */
#include "io/modelfile.h"

#include "io/atomic.h"
#include "io/dataset.h"
#include "io/h5.h"
#include "base/status.h"

#include <zlib.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* CRC-32 (zlib) of a text. */
static unsigned long text_crc(const char *s) { return crc32(crc32(0L, Z_NULL, 0), (const Bytef *)s, (uInt)strlen(s)); }

/* The config's checksum as the attribute config_crc32. */
static int put_crc(hid_t file, const char *config)
{
    unsigned int c = (unsigned int)text_crc(config);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(file, "config_crc32", H5T_STD_U32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    int e = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_UINT, &c);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return e < 0 ? -1 : 0;
}

int io_model_create(io_model_t *f, const char *path, int force, const char *config_json, const char *producer)
{
    memset(f, 0, sizeof *f);
    f->file = H5I_INVALID_HID;
    io_h5_init();
    snprintf(f->path, sizeof f->path, "%s", path);
    f->force = force;
    BASE_TRY(io_atomic_begin(path, force, f->tmp, sizeof f->tmp));
    /* intermediate groups are created as needed by the link creation property */
    f->file = H5Fcreate(f->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f->file < 0) return base_error(BASE_EIO, "%s: cannot create (%s)", f->tmp, strerror(errno));
    f->writing = 1;
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f->file, "format_version", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    int v = IO_MODEL_VERSION, e = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_INT, &v);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    if (e < 0 || io_h5_put_str(f->file, "format", IO_MODEL_FORMAT) < 0 || io_h5_put_str(f->file, "producer", producer) < 0 ||
        io_h5_put_str(f->file, "config", config_json) < 0 || put_crc(f->file, config_json) < 0) {
        io_model_abort(f);
        return base_error(BASE_EIO, "%s: cannot write the header", path);
    }
    return BASE_OK;
}

/* A float32 dataset of rank 1 or 2, chunked with fletcher32. */
/* A (rows, cols) dataset (cols = 0: a vector) of file type ftype from memory of type mtype,
 * chunked with fletcher32. */
static int put_data(io_model_t *f, const char *name, hid_t ftype, hid_t mtype, const void *data, size_t rows,
                    size_t cols)
{
    int rank = cols ? 2 : 1;
    hsize_t dims[2] = {rows, cols};
    hid_t sp = H5Screate_simple(rank, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hsize_t chunk[2] = {rows, cols};
    if (rows * (cols ? cols : 1) > (1u << 18)) chunk[0] = (1u << 18) / (cols ? cols : 1) + 1;
    if (chunk[0] > rows) chunk[0] = rows;
    if (chunk[0] < 1) chunk[0] = 1;
    H5Pset_chunk(dcpl, rank, chunk);
    H5Pset_fletcher32(dcpl);
    hid_t ds = H5Dcreate2(f->file, name, ftype, sp, lcpl, dcpl, H5P_DEFAULT);
    herr_t e = ds < 0 ? -1 : H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return e < 0 ? base_error(BASE_EIO, "%s: cannot write %s", f->path, name) : BASE_OK;
}

static int put_floats(io_model_t *f, const char *name, const float *data, size_t rows, size_t cols)
{
    return put_data(f, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, data, rows, cols);
}

int io_model_put(io_model_t *f, const io_tensor_t *t) { return put_floats(f, t->name, t->data, t->rows, t->cols); }

int io_model_put_ints(io_model_t *f, const char *name, const int32_t *v, size_t n)
{
    return put_data(f, name, H5T_STD_I32LE, H5T_NATIVE_INT32, v, n, 0);
}

int io_model_put_array(io_model_t *f, const char *name, const float *v, size_t n)
{
    char full[128];
    snprintf(full, sizeof full, "/state/%s", name);
    return put_floats(f, full, v, n ? n : 1, 0);
}

/* A state scalar: a one-element float64 or int64 dataset, chunked with fletcher32 like the
 * tensors, so that a changed step or seed fails its checksum. */
static int put_scalar(io_model_t *f, const char *name, hid_t ftype, hid_t mtype, const void *v)
{
    char full[128];
    snprintf(full, sizeof full, "/state/%s", name);
    hsize_t one = 1;
    hid_t sp = H5Screate_simple(1, &one, NULL), lcpl = H5Pcreate(H5P_LINK_CREATE), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    H5Pset_chunk(dcpl, 1, &one);
    H5Pset_fletcher32(dcpl);
    hid_t ds = H5Dcreate2(f->file, full, ftype, sp, lcpl, dcpl, H5P_DEFAULT);
    herr_t e = ds < 0 ? -1 : H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(dcpl);
    H5Pclose(lcpl);
    H5Sclose(sp);
    return e < 0 ? base_error(BASE_EIO, "%s: cannot write %s", f->path, full) : BASE_OK;
}

int io_model_put_i64(io_model_t *f, const char *name, int64_t v)
{
    return put_scalar(f, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}

int io_model_put_f64(io_model_t *f, const char *name, double v)
{
    return put_scalar(f, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

int io_model_is_model(const char *path)
{
    struct stat st;
    io_h5_init();
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, R_OK) != 0 || H5Fis_hdf5(path) <= 0) return 0;
    hid_t h = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (h < 0) return 0;
    char *s = io_h5_get_str(h, "format");
    int yes = s && strcmp(s, IO_MODEL_FORMAT) == 0;
    free(s);
    H5Fclose(h);
    return yes;
}

/* The format marker and version, and the config with its checksum; f->config set. */
static int check_header(io_model_t *f)
{
    char *fmt = io_h5_get_str(f->file, "format");
    int ok = fmt && strcmp(fmt, IO_MODEL_FORMAT) == 0;
    free(fmt);
    if (!ok) return base_error(BASE_EIO, "%s: not a showervae model (no format=\"%s\" attribute)", f->path, IO_MODEL_FORMAT);
    long long v = -1, crc = -1;
    if (io_h5_get_int_attr(f->file, "format_version", &v) != 1)
        return base_error(BASE_EIO, "%s: format_version is missing or not one integer", f->path);
    if (v != IO_MODEL_VERSION)
        return base_error(BASE_EIO, "%s: model format version %lld, this showervae reads version %d%s", f->path, v,
                          IO_MODEL_VERSION, v == 1 ? " (version 1 files have no checksum on the config: retrain)" : "");
    f->config = io_h5_get_str(f->file, "config");
    if (!f->config) return base_error(BASE_EIO, "%s: the config attribute is missing or not one string", f->path);
    if (io_h5_get_int_attr(f->file, "config_crc32", &crc) != 1)
        return base_error(BASE_EIO, "%s: config_crc32 is missing or not one integer", f->path);
    if ((unsigned long)crc != text_crc(f->config))
        return base_error(BASE_EIO, "%s: the config fails its checksum (edited or corrupted file)", f->path);
    return BASE_OK;
}

int io_model_open(io_model_t *f, const char *path)
{
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    f->file = io_h5_open_ro(path, "showervae model");
    if (f->file < 0) {
        f->file = H5I_INVALID_HID;
        return BASE_EIO;
    }
    int rc = check_header(f);
    if (rc < 0) {
        char why[600];
        snprintf(why, sizeof why, "%s", base_last_error());
        io_model_close(f);
        return base_error(rc, "%s", why);
    }
    return BASE_OK;
}

int io_model_has(io_model_t *f, const char *name)
{
    /* H5Lexists needs each path component to exist: check them in turn */
    char part[256];
    const char *p = name;
    while ((p = strchr(p + 1, '/')) != NULL) {
        snprintf(part, sizeof part, "%.*s", (int)(p - name), name);
        if (H5Lexists(f->file, part, H5P_DEFAULT) <= 0) return 0;
    }
    return H5Lexists(f->file, name, H5P_DEFAULT) > 0;
}

/* Whether dataset ds carries the fletcher32 checksum every showervae tensor has. */
static int has_checksum(hid_t ds)
{
    hid_t dcpl = H5Dget_create_plist(ds);
    unsigned flags;
    size_t nv = 0;
    int yes = dcpl >= 0 && H5Pget_filter_by_id2(dcpl, H5Z_FILTER_FLETCHER32, &flags, &nv, NULL, 0, NULL, NULL) >= 0;
    if (dcpl >= 0) H5Pclose(dcpl);
    return yes;
}

/* Opens an entry that must exist, hold numbers of class cls and carry the checksum. */
static int open_checked(io_model_t *f, const char *name, H5T_class_t cls, hid_t *ds)
{
    if (!io_model_has(f, name)) return base_error(BASE_EIO, "%s: missing %s", f->path, name);
    *ds = H5Dopen2(f->file, name, H5P_DEFAULT);
    if (*ds < 0) return base_error(BASE_EIO, "%s: %s is not a dataset", f->path, name);
    hid_t t = H5Dget_type(*ds);
    int ok = t >= 0 && H5Tget_class(t) == cls;
    if (t >= 0) H5Tclose(t);
    if (!ok || !has_checksum(*ds)) {
        H5Dclose(*ds);
        return base_error(BASE_EIO, "%s: %s is not %s with a checksum (not written by showervae?)", f->path, name,
                          cls == H5T_FLOAT ? "floating point" : "an integer");
    }
    return BASE_OK;
}

static int get_floats(io_model_t *f, const char *name, float *data, size_t rows, size_t cols)
{
    hid_t ds;
    BASE_TRY(open_checked(f, name, H5T_FLOAT, &ds));
    hsize_t dims[2] = {0, 0};
    int rank = 0;
    if (io_h5_dims(ds, H5T_FLOAT, 2, &rank, dims) < 0 || rank != (cols ? 2 : 1) || dims[0] != rows ||
        (cols && dims[1] != cols)) {
        H5Dclose(ds);
        return base_error(BASE_EIO, "%s: %s has rank %d, shape (%llu, %llu); the config needs (%zu, %zu)", f->path, name,
                          rank, (unsigned long long)dims[0], (unsigned long long)(rank == 2 ? dims[1] : 0), rows, cols);
    }
    herr_t e = H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(ds);
    if (e < 0) return base_error(BASE_EIO, "%s: %s cannot be read (checksum mismatch: corrupted file?)", f->path, name);
    for (size_t i = 0; i < rows * (cols ? cols : 1); i++)
        if (!isfinite(data[i])) return base_error(BASE_EIO, "%s: %s holds NaN/Inf", f->path, name);
    return BASE_OK;
}

int io_model_get(io_model_t *f, const io_tensor_t *t) { return get_floats(f, t->name, t->data, t->rows, t->cols); }

int io_model_get_ints(io_model_t *f, const char *name, int32_t *v, size_t n)
{
    hid_t ds = io_model_has(f, name) ? H5Dopen2(f->file, name, H5P_DEFAULT) : -1, t = ds < 0 ? -1 : H5Dget_type(ds);
    const int is_float = t >= 0 && H5Tget_class(t) == H5T_FLOAT;
    if (t >= 0) H5Tclose(t);
    if (ds >= 0) H5Dclose(ds);
    if (is_float) { /* files before integer grids: whole numbers stored as float32 */
        float *x = malloc(n * sizeof *x);
        int rc = x ? get_floats(f, name, x, n, 0) : base_error(BASE_ENOMEM, "out of memory");
        for (size_t i = 0; rc == BASE_OK && i < n; i++) {
            if (!(x[i] >= INT32_MIN && x[i] <= INT32_MAX) || x[i] != (float)(int32_t)x[i])
                rc = base_error(BASE_EIO, "%s: %s[%zu] = %g is not a whole number", f->path, name, i, x[i]);
            else v[i] = (int32_t)x[i];
        }
        free(x);
        return rc;
    }
    BASE_TRY(open_checked(f, name, H5T_INTEGER, &ds));
    hsize_t dims[2] = {0, 0};
    int rank = 0;
    if (io_h5_dims(ds, H5T_INTEGER, 2, &rank, dims) < 0 || rank != 1 || dims[0] != n) {
        H5Dclose(ds);
        return base_error(BASE_EIO, "%s: %s is not a vector of %zu integers", f->path, name, n);
    }
    herr_t e = H5Dread(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(ds);
    return e < 0 ? base_error(BASE_EIO, "%s: %s cannot be read (checksum mismatch: corrupted file?)", f->path, name)
                 : BASE_OK;
}

int io_model_get_array(io_model_t *f, const char *name, float *v, size_t n)
{
    char full[128];
    snprintf(full, sizeof full, "/state/%s", name);
    return get_floats(f, full, v, n ? n : 1, 0);
}

static int get_scalar(io_model_t *f, const char *name, H5T_class_t cls, hid_t mtype, void *v)
{
    char full[128];
    snprintf(full, sizeof full, "/state/%s", name);
    hid_t ds;
    BASE_TRY(open_checked(f, full, cls, &ds));
    int e = io_h5_read_one(ds, cls, mtype, v);
    H5Dclose(ds);
    return e < 0 ? base_error(BASE_EIO, "%s: %s is not one number or fails its checksum", f->path, full) : BASE_OK;
}

int io_model_get_i64(io_model_t *f, const char *name, int64_t *v)
{
    return get_scalar(f, name, H5T_INTEGER, H5T_NATIVE_INT64, v);
}
int io_model_get_f64(io_model_t *f, const char *name, double *v)
{
    double x;
    BASE_TRY(get_scalar(f, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, &x));
    *v = x;
    return BASE_OK;
}

int io_model_close(io_model_t *f)
{
    int rc = BASE_OK;
    if (f->file > 0 && H5Fclose(f->file) < 0) rc = base_error(BASE_EIO, "%s: close failed (disk full?)", f->path);
    f->file = H5I_INVALID_HID;
    if (f->writing) {
        if (rc == BASE_OK) rc = io_atomic_commit(f->tmp, f->path, f->force);
        else unlink(f->tmp);
    }
    free(f->config);
    f->config = NULL;
    f->writing = 0;
    return rc;
}

void io_model_abort(io_model_t *f)
{
    if (f->file > 0) H5Fclose(f->file);
    f->file = H5I_INVALID_HID;
    if (f->writing) unlink(f->tmp);
    f->writing = 0;
    free(f->config);
    f->config = NULL;
}
