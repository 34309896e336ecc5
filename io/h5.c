/* io/h5.c: see h5.h. */
#include "io/h5.h"

#include "base/status.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void io_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

int io_h5_threadsafe(void)
{
    hbool_t t = 0;
    return H5is_library_threadsafe(&t) >= 0 && t;
}

int io_h5_put_str(hid_t loc, const char *name, const char *value)
{
    /* variable length, UTF-8: what h5py writes for a Python str, and reads back as str */
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    if (H5Aexists(loc, name) > 0) H5Adelete(loc, name);
    hid_t a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, t, &value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return e < 0 ? -1 : 0;
}

/* A variable-length string (what h5py writes for a Python str) of one element, file type t
 * (its character set, ASCII or UTF-8, is the memory type's: HDF5 does not convert between them). */
static char *get_vlen_str(hid_t a, hid_t t)
{
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    H5Tset_cset(mt, H5Tget_cset(t));
    char *p = NULL, *s = NULL;
    if (H5Aread(a, mt, &p) >= 0 && p) {
        size_t n = strnlen(p, (size_t)1 << 24);
        s = n < ((size_t)1 << 24) ? strdup(p) : NULL;
    }
    if (p) H5free_memory(p);
    H5Tclose(mt);
    return s;
}

char *io_h5_get_str(hid_t loc, const char *name)
{
    if (H5Aexists(loc, name) <= 0) return NULL;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return NULL;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    char *s = NULL;
    int one = t >= 0 && sp >= 0 && H5Tget_class(t) == H5T_STRING && H5Sget_simple_extent_npoints(sp) == 1;
    if (one && H5Tis_variable_str(t) > 0) {
        s = get_vlen_str(a, t);
    } else if (one && H5Tis_variable_str(t) == 0) {
        size_t n = H5Tget_size(t);
        hid_t mt = H5Tcopy(t);
        s = n < ((size_t)1 << 24) ? calloc(n + 1, 1) : NULL; /* attributes are small */
        H5Tset_strpad(mt, H5T_STR_NULLTERM);
        H5Tset_size(mt, n + 1);
        if (s && H5Aread(a, mt, s) < 0) {
            free(s);
            s = NULL;
        }
        H5Tclose(mt);
    }
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    H5Aclose(a);
    return s;
}

void io_h5_init(void)
{
    H5dont_atexit(); /* only effective before the library initialises: harmless later */
    io_h5_quiet();
}

hid_t io_h5_open_ro(const char *path, const char *what)
{
    struct stat st;
    io_h5_init();
    if (stat(path, &st) != 0) return base_error(BASE_EIO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return base_error(BASE_EIO, "%s: not a regular file (a %s is expected)", path, what);
    if (access(path, R_OK) != 0) return base_error(BASE_EIO, "%s: %s", path, strerror(errno));
    if (H5Fis_hdf5(path) <= 0) return base_error(BASE_EIO, "%s: not an HDF5 file (a %s is expected)", path, what);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return base_error(BASE_EIO, "%s: cannot open as HDF5 (truncated or damaged file?)", path);
    return f;
}

int io_h5_get_int_attr(hid_t loc, const char *name, long long *v)
{
    if (H5Aexists(loc, name) <= 0) return 0;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return -1;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    int ok = t >= 0 && sp >= 0 && H5Tget_class(t) == H5T_INTEGER && H5Sget_simple_extent_npoints(sp) == 1 &&
             H5Aread(a, H5T_NATIVE_LLONG, v) >= 0;
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    H5Aclose(a);
    return ok ? 1 : -1;
}

int io_h5_read_one(hid_t ds, H5T_class_t cls, hid_t mtype, void *v)
{
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    int ok = t >= 0 && H5Tget_class(t) == cls && rank >= 0 && rank <= 1 && H5Sget_simple_extent_npoints(sp) == 1 &&
             H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    return ok ? 0 : -1;
}

int io_h5_dims(hid_t ds, H5T_class_t cls, int max_rank, int *rank, hsize_t *dims)
{
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    *rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    int ok = t >= 0 && H5Tget_class(t) == cls && *rank >= 1 && *rank <= max_rank &&
             H5Sget_simple_extent_dims(sp, dims, NULL) == *rank;
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    return ok ? 0 : -1;
}
