/* io/chunkpipe.h: rows of a chunked 2-D float32 dataset compressed on worker threads and
 * stored with HDF5's direct chunk write, while the caller goes on (e.g. generating).
 *
 * HDF5's own deflate filter compresses on the calling thread, one chunk after another; a
 * deflated ds2 shower costs about four times what generating it does, so that decides bulk
 * throughput. Here each full chunk (chunk_rows x cols floats) goes to a queue; `threads`
 * workers apply what the dataset's filter pipeline would, byte shuffle if it has it (HDF5's
 * shuffle filter: byte j of every 4-byte element, for j = 0..3, one plane after another) then
 * deflate in the zlib format HDF5's deflate filter reads, at the given level, by libdeflate
 * (several times faster than zlib) or zlib's compress2 (codec.zlib, or when libdeflate cannot
 * start), and store the chunk with
 * H5Dwrite_chunk (filter mask 0: all filters applied), so any HDF5 reader decodes it as if
 * HDF5 had written it. With deflate 0 the chunk is stored raw (the dataset has no filters).
 * The last, partial chunk is zero padded to full size (HDF5 stores edge chunks whole).
 *
 * Contract: the dataset must exist with exactly this chunk shape (and, for deflate > 0, the
 * deflate filter, preceded by shuffle exactly when codec.shuffle) and be extended by the caller to cover the rows before they are
 * pushed. Every HDF5 call on the file, the caller's included, must hold *h5lock while a pipe
 * is open (needed where HDF5 is built without thread safety, harmless where it is). Rows are copied into 2 x threads + 2 chunk
 * buffers (push blocks while all are busy: bounded memory), or, with borrow, whole chunks are
 * read in place from the caller's rows, which must then stay unchanged until
 * io_chunkpipe_wait_borrowed returns: push returns at once and the caller generates its next
 * batch into another buffer meanwhile. Errors of the workers are kept and returned by the next
 * push, wait or finish. Library code: no printing, no exit.
 */
#ifndef IO_CHUNKPIPE_H
#define IO_CHUNKPIPE_H

#include <hdf5.h>
#include <pthread.h>
#include <stddef.h>

typedef struct io_chunkpipe io_chunkpipe_t;

typedef struct {
    double compress_s; /* worker seconds shuffling and deflating (summed over workers) */
    double write_s;    /* seconds inside H5Dwrite_chunk */
    double wait_s;     /* seconds the caller waited for a free chunk slot or at finish */
} io_chunkpipe_stats_t;

/* How chunks are encoded; it must match the dataset's filter pipeline (shuffle if set, then
 * deflate at `level` when level > 0). Deflate runs through libdeflate (its zlib format, which
 * HDF5's deflate filter reads) unless zlib is set (zlib's compress2). */
typedef struct {
    int level;   /* 0-9; 0: stored raw */
    int shuffle; /* HDF5's byte shuffle before deflate */
    int zlib;    /* 1: zlib instead of libdeflate */
} io_chunkpipe_codec_t;

/* Starts `threads` >= 1 workers for dataset ds (chunk_rows x cols float32 chunks). */
int io_chunkpipe_open(io_chunkpipe_t **p, hid_t ds, size_t chunk_rows, size_t cols, const io_chunkpipe_codec_t *codec,
                      int threads, pthread_mutex_t *h5lock);
/* rows: (n, cols), the next n rows of the dataset; borrow: read whole chunks in place. */
int io_chunkpipe_push(io_chunkpipe_t *p, const float *rows, size_t n, int borrow);
/* Waits until no queued chunk reads the caller's memory. */
int io_chunkpipe_wait_borrowed(io_chunkpipe_t *p);
/* Queues the partial last chunk, waits for every chunk to be stored; first error, if any. */
int io_chunkpipe_finish(io_chunkpipe_t *p);
void io_chunkpipe_stats(const io_chunkpipe_t *p, io_chunkpipe_stats_t *s);
/* Stops the workers (queued chunks are dropped) and frees everything; NULL is fine. */
void io_chunkpipe_free(io_chunkpipe_t *p);

#endif
