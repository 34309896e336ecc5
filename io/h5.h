/* io/h5.h: small HDF5 helpers every file module shares.
 *
 * String attributes are written as fixed-length, NUL-terminated scalar strings (what the
 * CaloChallenge tools and h5py read). Reading accepts a string attribute (fixed or variable
 * length, as h5py writes a str) with exactly one element and refuses anything else (an array,
 * a number), so an attribute of an unexpected shape cannot overflow a buffer.
 *
 * The validation layer of every reader: nothing is read or allocated from an attribute or a
 * dataset before its class, rank and size were checked here (io_h5_get_*, io_h5_dims), and a
 * path is opened only if it is a regular file (io_h5_open_ro: a FIFO or a directory would
 * block or confuse HDF5). Limits are in base/limits.h.
 */
#ifndef IO_H5_H
#define IO_H5_H

#include <hdf5.h>

/* Switches off HDF5's own error printing (library code must not print); idempotent. */
void io_h5_quiet(void);
/* Whether the HDF5 library serialises concurrent calls itself (Debian's build does). */
int io_h5_threadsafe(void);

/* Switches off HDF5's clean-up at exit: after a failed H5Fclose (a full disk) HDF5 keeps the
 * file's state and its atexit handler would flush it again and crash. Call first. */
void io_h5_init(void);

/* Opens path read-only after checking that it is a readable regular HDF5 file; the file id, or
 * a negative status with a message naming path (what: "shower file", "model"). */
hid_t io_h5_open_ro(const char *path, const char *what);

/* Writes (or replaces) the string attribute name of loc, as a variable-length UTF-8 string
 * (h5py reads it as str, not bytes); 0 or -1. */
int io_h5_put_str(hid_t loc, const char *name, const char *value);
/* The string attribute name of loc in a new buffer (caller frees), or NULL when it is absent
 * or not a single string. */
char *io_h5_get_str(hid_t loc, const char *name);
/* The integer attribute name of loc (one element of integer class): 1, or 0 when absent,
 * -1 when it is not a single integer. */
int io_h5_get_int_attr(hid_t loc, const char *name, long long *v);
/* A dataset holding exactly one number (rank 0, or rank 1 with one element) of class cls
 * (H5T_INTEGER or H5T_FLOAT), read as mtype into v: 0, or -1. */
int io_h5_read_one(hid_t ds, H5T_class_t cls, hid_t mtype, void *v);
/* The rank (1..max_rank) and dims of a dataset whose element class is cls: 0, or -1 for
 * another class or rank. */
int io_h5_dims(hid_t ds, H5T_class_t cls, int max_rank, int *rank, hsize_t *dims);

#endif
