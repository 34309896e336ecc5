/* io/h5.c: see h5.h. */
#include "io/h5.h"

#include <stdlib.h>
#include <string.h>

void io_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

int io_h5_threadsafe(void)
{
    hbool_t t = 0;
    return H5is_library_threadsafe(&t) >= 0 && t;
}

int io_h5_put_str(hid_t loc, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, strlen(value) + 1);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    if (H5Aexists(loc, name) > 0) H5Adelete(loc, name);
    hid_t a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, t, value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return e < 0 ? -1 : 0;
}

char *io_h5_get_str(hid_t loc, const char *name)
{
    if (H5Aexists(loc, name) <= 0) return NULL;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return NULL;
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    char *s = NULL;
    if (t >= 0 && sp >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) == 0 &&
        H5Sget_simple_extent_npoints(sp) == 1) {
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
