/* tests/fuzz/fuzz_h5.h: HDF5 pieces the structure-aware targets share (fuzz_showers, fuzz_model). */
#ifndef TESTS_FUZZ_H5_H
#define TESTS_FUZZ_H5_H

#include "tests/fuzz/fuzz.h"

#include <hdf5.h>

/* A file type of class cls: 0 float32, 1 float64, 2 int64, 3 a 4-byte string (caller closes). */
static inline hid_t fuzz_h5_type(unsigned cls)
{
    hid_t t = H5Tcopy(cls == 0 ? H5T_IEEE_F32LE : cls == 1 ? H5T_IEEE_F64LE : cls == 2 ? H5T_STD_I64LE : H5T_C_S1);
    if (cls == 3) H5Tset_size(t, 4);
    return t;
}

/* Writes n numbers from the input into the numeric dataset ds (any float bits: NaN, Inf). */
static inline void fuzz_h5_fill(hid_t ds, hsize_t n, fuzz_bytes_t *b)
{
    if (n == 0) return;
    double *v = malloc(n * sizeof *v);
    if (!v) return;
    for (hsize_t i = 0; i < n; i++) v[i] = (double)fuzz_f32(b);
    H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    free(v);
}

#endif
