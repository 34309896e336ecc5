/* io/writer.h: writing CaloChallenge-layout shower files, appendable in batches, atomically.
 *
 * The file holds incident_energies (N, 1) float64 and showers (N, V) float32, MeV, as the
 * official CaloChallenge files type them, each chunked and compressed with deflate (shuffle
 * for the energies; for the showers only with opts.shower_shuffle), readable by h5py and any
 * HDF5 reader. Root attributes, strings as variable-length UTF-8 (h5py: str): geometry
 * (name), n_voxels, units ("MeV"), producer ("showervae X.Y.Z"), format ("CaloChallenge 2022"
 * or opts.format), plus the caller's string and integer attributes (e.g. seed).
 * With opts.threads > 0 the showers are compressed on that many worker threads and stored by
 * direct chunk writes while the caller goes on (io/chunkpipe.h): the same bytes on disk as
 * HDF5's own filters would write, several times faster; threads = 0 uses HDF5's filter on the
 * calling thread. The writer serialises its own HDF5 calls; with an HDF5 built without thread
 * safety (io_h5_threadsafe() false; Debian's is thread safe) the process must make no other
 * HDF5 call while a threaded writer is open (e.g. reading another file between appends): use
 * threads = 0 there.
 *
 * Atomicity: rows go to a temporary file in the same directory (".NAME.tmp.PID"); close
 * renames it to the final name only when everything was written. An existing file is never
 * replaced unless force is set (checked at open and again, race-free, at close); abort (or a
 * failed close) deletes the temporary file. Not thread safe: one thread per writer.
 */
#ifndef IO_WRITER_H
#define IO_WRITER_H

#include "io/angles.h"
#include "io/chunkpipe.h"
#include "physics/geometry.h"

#include <hdf5.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define IO_WRITER_MAX_EXTRA 4

typedef struct {
    char path[1024], tmp[1100];
    hid_t file, d_e, d_x;
    hid_t d_extra[IO_WRITER_MAX_EXTRA];
    int extra_cols[IO_WRITER_MAX_EXTRA], n_extra;
    char extra_names[IO_WRITER_MAX_EXTRA][32];
    size_t n;          /* rows written */
    size_t chunk_rows; /* rows per chunk of the showers */
    int V;             /* showers columns (0: no showers dataset) */
    int force;
    int unsynced;      /* commit without fsync (io_writer_opts_t.unsynced) */
    struct io_chunkpipe *pipe; /* showers through worker threads (NULL: HDF5's filter) */
    pthread_mutex_t h5;        /* serialises HDF5 calls while the pipe runs */
    int h5_ready;              /* h5 initialised */
} io_writer_t;

typedef struct {
    int deflate;        /* zlib level 0-9 (0 = no compression); default 4 */
    size_t chunk_rows;  /* rows per chunk; 0 = about 1 MiB per chunk */
    int force;          /* replace an existing file */
    int unsynced;       /* a temporary file only this run reads back (a rank's shard): renamed into
                         * place without being flushed to disk */
    int threads;        /* compression threads for the showers (0: HDF5's filter, in the caller) */
    int shower_shuffle; /* HDF5's byte shuffle before deflate on the showers; default 0: on
                         * sparse showers deflate alone is 13% smaller and 1.7x faster (bench_e2e).
                         * The energies and extra datasets (dense) always have it. */
    int zlib;           /* the threads deflate with zlib instead of libdeflate (same format) */
    int no_showers;     /* omit the showers dataset (e.g. a file of latents) */
    const char *producer; /* the "producer" attribute, e.g. "showervae 0.2.0" (NULL: none) */
    const char *format;   /* the "format" attribute (NULL: "CaloChallenge 2022") */
    int n_extra;        /* further (N, cols) float32 datasets written row by row */
    const char *extra_name[IO_WRITER_MAX_EXTRA];
    int extra_cols[IO_WRITER_MAX_EXTRA];
    int extra_f64[IO_WRITER_MAX_EXTRA]; /* stored as float64 (values still come as float) */
} io_writer_opts_t;

/* Default options: deflate 4, automatic chunking, no force, one compression thread per
 * online CPU. */
io_writer_opts_t io_writer_defaults(void);

/* Adds the incident_theta (N, 1) float64 extra dataset (io/angles.h): its values, radians,
 * go in the next free extra slot. Returns that slot or -1 when full. */
int io_writer_add_angles(io_writer_opts_t *o);

int io_writer_open(io_writer_t *w, const char *path, const phys_geometry_t *g, const io_writer_opts_t *o);
/* E_mev: (n), showers: (n, V) appended. Rejects NaN/Inf and negative values. */
int io_writer_append(io_writer_t *w, const float *E_mev, const float *showers, size_t n);
/* The same with the extra datasets: extra[k] is (n, extra_cols[k]); showers may be NULL
 * when the file has none. Extra values must be finite (they may be negative). */
int io_writer_append_ex(io_writer_t *w, const float *E_mev, const float *showers, const float *const *extra,
                        size_t n);
/* The same as io_writer_append, but with threads > 0 the showers are read in place by the
 * compression threads after it returns: they must stay unchanged until the next append or
 * close on w (which wait for them). Generate the next batch into a second buffer meanwhile. */
int io_writer_append_async(io_writer_t *w, const float *E_mev, const float *showers, size_t n);
/* Both: extras (copied at once) and showers read in place as above. */
int io_writer_append_async_ex(io_writer_t *w, const float *E_mev, const float *showers, const float *const *extra,
                              size_t n);
/* Appends the rows of a file this writer's options wrote before (a shard of a sharded run:
 * same geometry, chunking, compression and extra datasets): energies and extras are read and
 * appended, the showers' compressed chunks are copied as they are (H5Dread_chunk /
 * H5Dwrite_chunk, no recompression). Needs rows written so far to be a whole number of chunks
 * (all shards but the last are) and threads = 0. Errors name the shard. */
int io_writer_append_shard(io_writer_t *w, const char *path);
/* Rows per chunk of the showers that opts give for geometry g (shards are cut at multiples). */
size_t io_writer_chunk_rows(const io_writer_opts_t *o, const phys_geometry_t *g);
/* Root attributes (before close). */
int io_writer_attr_str(io_writer_t *w, const char *name, const char *value);
int io_writer_attr_int(io_writer_t *w, const char *name, int64_t value);
/* Flushes, closes and renames to the final name. On failure the temporary file is removed. */
int io_writer_close(io_writer_t *w);
/* Closes and removes the temporary file (safe on a closed or zeroed writer). */
void io_writer_abort(io_writer_t *w);
/* Time split of the threaded path so far (zeros with threads = 0); call before close. */
void io_writer_stats(const io_writer_t *w, io_chunkpipe_stats_t *s);

#endif
