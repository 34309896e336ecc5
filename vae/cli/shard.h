/* vae/cli/shard.h: one output file written by N ranks (generate and simulate under mpirun).
 *
 * Rank k writes rows [lo, hi) of the n (a contiguous range, cut at whole chunks of the showers)
 * into its own shard beside the output (".NAME.shard-k-of-N", atomically, by the same writer
 * options); when every rank succeeded, rank 0 makes the output from the shards in rank order,
 * copying their compressed chunks as they are (io_writer_append_shard: no recompression; the
 * energies and extras are small and rewritten), adds the attributes and renames it into
 * place; the shards are then removed. The result is one ordinary file (h5py, evaluate.py) whose
 * showers are bit-identical to one process's: shower i uses its own random streams wherever
 * it is made. Chosen over parallel HDF5 (Debian's libhdf5-dev is the serial build; the
 * parallel one also cannot write compressed chunks from the pipe's threads) and a virtual
 * dataset (the output would depend on N files staying beside it).
 * In one process the output is written directly, as without MPI.
 */
#ifndef CLI_SHARD_H
#define CLI_SHARD_H

#include "io/writer.h"

#include <stdint.h>

typedef struct {
    const char *out;  /* the final name */
    char path[1200];  /* where this rank writes: out itself in one process, else its shard */
    uint64_t lo, hi;  /* this rank's rows */
    int sharded;      /* more than one rank */
    const char *say;  /* set by the caller: rank 0 prints "<say>: joined ..." with the join's time; NULL: quiet */
} cli_shard_t;

typedef int (*cli_attrs_fn)(io_writer_t *w, const void *ctx); /* the output's root attributes */

/* This rank's range [s->lo, s->hi) of n rows (cut at whole chunks of the showers) and its
 * writer w on out (one process) or on its shard, with options wo (geometry g); refuses an
 * existing out unless wo.force, on every rank before anything is written. BASE_OK on every
 * rank, or the first failure of any (w is then closed). */
int cli_shard_open(cli_shard_t *s, io_writer_t *w, const char *out, uint64_t n, const phys_geometry_t *g,
                   io_writer_opts_t wo);
/* After this rank's rows were appended with outcome rc: one process adds the attributes
 * (attrs(w, ctx)) and closes; N ranks close their shards, agree on the outcome, and rank 0
 * joins the shards into out (options wo) with the attributes and removes the shards. w is
 * closed or aborted in every case. Returns the first failure of any rank, or BASE_OK. */
int cli_shard_finish(const cli_shard_t *s, io_writer_t *w, const phys_geometry_t *g, io_writer_opts_t wo,
                     cli_attrs_fn attrs, const void *ctx, int rc);

#endif
