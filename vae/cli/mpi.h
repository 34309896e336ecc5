/* vae/cli/mpi.h: the program's only MPI code: start-up, the collectives training and evaluation
 * need (vae/comm.h), agreement on errors, shares of a range, the end.
 *
 * MPI starts only when the process was launched by an MPI launcher (mpirun, or srun with PMI:
 * one of OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_SIZE is set); otherwise the program is one
 * process and every function here is a no-op (rank 0 of 1), so `showervae` works exactly as
 * without MPI. The library (libshowervae) never sees MPI.
 * Errors: a command that fails on any rank prints its one-line message prefixed with
 * "rank k of N" (cli_fail) and the whole job is aborted (MPI_Abort, in main): no rank waits for
 * ever, and the outputs, written under temporary names, never appear under the final name.
 */
#ifndef CLI_MPI_H
#define CLI_MPI_H

#include "vae/comm.h"

#include <stdint.h>

/* Starts MPI when launched by an MPI launcher; BASE_OK or a status. */
int cli_mpi_start(int *argc, char ***argv);
/* The end of a run: MPI_Finalize when rc is 0, MPI_Abort(rc) otherwise (other ranks stop). */
void cli_mpi_end(int rc);

int cli_mpi_rank(void);
int cli_mpi_size(void);
/* The collectives for vae_train and eval_run (NULL in one process): sums that give every rank
 * the same bits (all-reduce for 2 ranks, reduce-scatter + all-gather for more), the sharded
 * optimiser's ring reduce-scatter and all-gather (point to point, 1 MB segments), an
 * element-wise maximum and a gather of byte ranges to rank 0. */
const vae_comm_t *cli_mpi_comm(void);
/* The lowest of the ranks' rc (the first failure code, BASE_OK when all succeeded); a rank
 * that did not fail itself gets a message saying another one did. */
int cli_mpi_agree(int rc);
/* Rank r's share [lo, hi) of n items, cut at multiples of align (the last share takes the rest):
 * contiguous, in rank order. */
void cli_mpi_share(uint64_t n, uint64_t align, int r, uint64_t *lo, uint64_t *hi);

#endif
