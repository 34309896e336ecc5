/* io/modelfile.h: model and checkpoint files (HDF5), self-describing and checked.
 *
 * Layout (readable with h5dump or h5py):
 *   root attributes  format = "showervae-model", format_version = 2, producer, config (JSON
 *                    text), config_crc32 (CRC-32 of the config text)
 *   /<name>          one float32 dataset per named tensor, shape (rows, cols) or (rows),
 *                    chunked with the fletcher32 checksum filter (HDF5 verifies it on read)
 *   /state/<name>    int64 or float64 one-element datasets and flat float32 arrays of
 *                    checkpoints (optimiser moments, step, epoch, seed, ...), fletcher32 too
 * Writing is atomic (io/atomic.h). Reading validates the format marker and version, the
 * config's checksum, and every entry's class, rank and shape against what the caller expects
 * before reading it; every entry must carry its checksum, and a corrupted block fails it.
 */
#ifndef IO_MODELFILE_H
#define IO_MODELFILE_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#define IO_MODEL_FORMAT "showervae-model"
#define IO_MODEL_VERSION 2 /* 2: config_crc32, checksummed state scalars */

typedef struct {
    char name[64]; /* "/encoder/dense0/weight" */
    float *data;
    size_t rows, cols; /* cols = 0: a vector */
} io_tensor_t;

typedef struct {
    char path[1024], tmp[1100];
    hid_t file;
    int force, writing;
    char *config; /* owned (reading): the JSON text */
} io_model_t;

/* Writing: create (atomic), add tensors, state entries, then commit with io_model_close. */
/* producer: the "producer" attribute (e.g. "showervae 0.2.0"). */
int io_model_create(io_model_t *f, const char *path, int force, const char *config_json, const char *producer);
int io_model_put(io_model_t *f, const io_tensor_t *t);
int io_model_put_i64(io_model_t *f, const char *name, int64_t v);
int io_model_put_f64(io_model_t *f, const char *name, double v);
/* a vector of n int32 (e.g. bin counts) at name */
int io_model_put_ints(io_model_t *f, const char *name, const int32_t *v, size_t n);
/* a flat float array under /state (rows = n, cols = 0) */
int io_model_put_array(io_model_t *f, const char *name, const float *v, size_t n);

/* Reading: open validates the format; f->config holds the JSON. */
int io_model_open(io_model_t *f, const char *path);
/* Reads a tensor whose shape must be (rows, cols). */
int io_model_get(io_model_t *f, const io_tensor_t *t);
int io_model_get_i64(io_model_t *f, const char *name, int64_t *v);
int io_model_get_f64(io_model_t *f, const char *name, double *v);
int io_model_get_array(io_model_t *f, const char *name, float *v, size_t n);
/* n integers at name: an int32 vector, or (older files) float32 whole numbers. */
int io_model_get_ints(io_model_t *f, const char *name, int32_t *v, size_t n);
/* 1 if the entry exists. */
int io_model_has(io_model_t *f, const char *name);

/* Writing: commits (renames into place); reading: closes. Frees everything. */
int io_model_close(io_model_t *f);
/* Writing: abandons and removes the temporary file. */
void io_model_abort(io_model_t *f);

/* 1 if path is an HDF5 file with the model format marker (no error recorded otherwise). */
int io_model_is_model(const char *path);

#endif
