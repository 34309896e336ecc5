/* io/loader.h: streamed mini-batches from a shower file, with a seeded shuffle and a
 * deterministic train/validation split.
 *
 * Split: shower i belongs to the validation part when u_i < val_fraction, with u_i the
 * Philox uniform of (seed, BASE_STREAM_IO_SPLIT) at offset i: a pure function of (seed, i), so the
 * split does not depend on the reading order, the batch size or the thread count, and
 * validation showers are spread over the whole file (Par04 files are sorted by energy).
 *
 * Order: with shuffling, the file's row blocks (its chunks) are visited in a random order per
 * epoch and rows pass through an in-memory shuffle buffer (random pick with swap-remove), so
 * memory stays bounded by one block plus the buffer; without shuffling, file order.
 * The epoch's randomness is the stream (seed, BASE_STREAM_IO_SHUFFLE + epoch): the same seed and
 * epoch give the same batches.
 * Reading the file, the next 4 x threads blocks of the order are read together, their chunks
 * inflated in parallel where the file allows (io_dataset_read_blocks); the same rows in the
 * same order. When the dataset is held in memory (io_dataset_cache) at the start of an epoch, the blocks
 * and the shuffle buffer refer to its rows instead of copying them: one copy per row, into
 * the batch, and the same batches as reading the file.
 *
 * Streams (data-parallel training): io_loader_init_stream(..., S, s) visits only the row
 * blocks b with b mod S = s, with its own shuffle (stream 0 shuffles as the one-stream loader
 * does); the S streams split the file's blocks between them, interleaved, so each sees the
 * whole energy range of a file sorted by energy. A process that runs some of the streams reads
 * (and caches: io_dataset_cache_streams) only their blocks. One stream (S = 1) is
 * io_loader_init.
 */
#ifndef IO_LOADER_H
#define IO_LOADER_H

#include "io/dataset.h"
#include "base/streams.h"
#include "base/rng.h"

#include <stddef.h>
#include <stdint.h>


typedef enum { IO_PART_ALL = 0, IO_PART_TRAIN, IO_PART_VAL } io_part_t;

typedef struct {
    io_dataset_t *d;          /* not owned */
    io_part_t part;
    size_t S, s;              /* this loader is stream s of S: the row blocks b with b mod S = s */
    double val_fraction;
    uint64_t seed;
    int shuffle;
    size_t n_part;            /* showers in this part */
    size_t n_blocks, next_block; /* blocks of this stream */
    uint32_t *order;          /* owned: block visiting order (file block numbers) */
    float *blk_x;             /* owned: the current group of blocks' showers (grp_cap x block_rows rows);
                               * energies and angles come from the dataset's arrays by row */
    size_t blk_n, blk_pos, blk_first; /* the current block: rows, next row, its first file row */
    size_t grp[64], grp_n, grp_i, grp_cap; /* the group's blocks, how many, the current one */
    size_t *buf_i;            /* owned: shuffle buffer: file rows (cap entries) */
    float *buf_x;             /* owned: their showers (cap rows) */
    const float **buf_px;     /* owned: the same by reference (cap entries), in memory */
    const float *cur_x;       /* the current block: blk_x or rows of the dataset's cache */
    size_t cap, buf_n;
    int by_ref;               /* this epoch refers to the dataset's cache */
    base_rng_t rng;
} io_loader_t;

/* 1 when shower i is in the validation part. */
int io_split_is_val(uint64_t seed, size_t i, double val_fraction);

/* buffer_bytes: memory for the shuffle buffer (0: 256 MiB); unused without shuffling. */
int io_loader_init(io_loader_t *L, io_dataset_t *d, io_part_t part, double val_fraction,
                   uint64_t seed, int shuffle, size_t buffer_bytes);
/* Stream s of S (s < S); io_loader_init is (S = 1, s = 0). */
int io_loader_init_stream(io_loader_t *L, io_dataset_t *d, io_part_t part, double val_fraction, uint64_t seed,
                          int shuffle, size_t buffer_bytes, size_t S, size_t s);
/* Rows of the part in stream s of S (what that stream's loader yields per epoch), without
 * a loader. */
size_t io_loader_part_rows(const io_dataset_t *d, io_part_t part, double val_fraction, uint64_t seed, size_t S, size_t s);
void io_loader_free(io_loader_t *L);
/* Restarts at the beginning of epoch (0, 1, ...). */
int io_loader_epoch(io_loader_t *L, uint64_t epoch);
/* E: (B) energies (MeV), A: (B) angles (deg; NULL: not wanted), X: (B, V): up to B showers;
 * *got receives how many (0 at the end of the epoch). */
int io_loader_next(io_loader_t *L, int B, float *E, float *A, float *X, int *got);

#endif
