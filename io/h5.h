/* io/h5.h: small HDF5 helpers every file module shares.
 *
 * String attributes are written as fixed-length, NUL-terminated scalar strings (what the
 * CaloChallenge tools and h5py read). Reading accepts a fixed-length string attribute with
 * exactly one element and refuses anything else (an array, a number, a variable-length
 * string), so an attribute of an unexpected shape cannot overflow a buffer.
 */
#ifndef IO_H5_H
#define IO_H5_H

#include <hdf5.h>

/* Switches off HDF5's own error printing (library code must not print); idempotent. */
void io_h5_quiet(void);
/* Whether the HDF5 library serialises concurrent calls itself (Debian's build does). */
int io_h5_threadsafe(void);

/* Writes (or replaces) the string attribute name of loc; 0 or -1. */
int io_h5_put_str(hid_t loc, const char *name, const char *value);
/* The string attribute name of loc in a new buffer (caller frees), or NULL when it is absent
 * or not a single fixed-length string. */
char *io_h5_get_str(hid_t loc, const char *name);

#endif
