/* vae/comm.h: the collective operations data-parallel training needs, as callbacks.
 *
 * The library does not depend on MPI (a fast-simulation hook must not pull it in): the program
 * fills this table from MPI (vae/cli/mpi.h) and passes it to vae_train. NULL, or size 1, is a
 * single process. Every rank calls the same operations in the same order (collectives); a
 * failing callback returns a negative status, which the training returns.
 */
#ifndef VAE_COMM_H
#define VAE_COMM_H

#include <stddef.h>

typedef struct vae_comm {
    int rank, size; /* this process, of size */
    void *ctx;      /* the implementation's */
    /* buf (n) summed over the ranks, in place, on every rank; the sum is done in a fixed order
     * (the same result on every rank and in every run). */
    int (*sum_f32)(void *ctx, float *buf, size_t n);
    int (*sum_f64)(void *ctx, double *buf, size_t n);
} vae_comm_t;

#endif
