/* io/chunkread.h: a whole chunked (rows, cols) float32 dataset read into memory with its chunks
 * inflated on several threads, the reading counterpart of io/chunkpipe.h.
 *
 * HDF5's filters inflate one chunk after another on the calling thread. Here the stored chunks
 * are read as they are (H5Dread_chunk, serially: HDF5 is not thread safe) in batches of
 * 4 x threads, and each batch is decoded on `threads` OpenMP threads: inflate (the zlib format
 * of HDF5's deflate filter, by libdeflate) then the inverse of HDF5's byte shuffle (byte j of
 * element i sits at j n + i in a chunk of n 4-byte elements), each only where the chunk's
 * filter mask says it was applied. A chunk never written reads as zeros (HDF5's fill value).
 *
 * Handled: rank 2, stored as IEEE float32 little-endian, chunks of whole rows (r, cols), and a
 * filter pipeline of deflate, shuffle, or shuffle then deflate (or none). Anything else returns
 * 0 and the caller reads through H5Dread. Library code: no printing, no exit.
 */
#ifndef IO_CHUNKREAD_H
#define IO_CHUNKREAD_H

#include "base/monitor.h"

#include <hdf5.h>
#include <stddef.h>

/* Chunk rows of ds when it is a layout this reader handles, else 0. */
size_t io_chunkread_rows(hid_t ds, size_t cols);

/* The n chunks that start at rows first[i] (multiples of the chunk rows, ascending or not)
 * into out + i x chunk rows x cols; a chunk past the end of the dataset's `rows` is cut there.
 * Returns 1, 0 (layout not handled) or a negative status as io_chunkread_all. */
int io_chunkread_chunks(hid_t ds, size_t rows, size_t cols, int threads, const size_t *first, size_t n, float *out,
                        const char *path);

/* out: (rows, cols), the whole dataset ds of file `path` (for messages). Returns 1 when read,
 * 0 when the layout is not handled (out untouched), or a negative status naming path and the
 * first row of the bad chunk (a chunk that does not inflate to its size: damaged file).
 * monitor: progress in rows (NULL: none). */
int io_chunkread_all(hid_t ds, size_t rows, size_t cols, int threads, float *out, const char *path,
                     const base_monitor_t *monitor);

#endif
