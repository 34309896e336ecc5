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
    /* The sharded optimiser's pair (ZeRO stage 1): reduce_scatter_f32 sums buf (n) over the ranks
     * but guarantees the sum only in this rank's block [lo, hi) of vae_comm_block (the rest of
     * buf is left undefined); all_gather_f32 copies every rank's block of buf to all ranks. Each
     * block is summed once, by one rank, in a fixed order. */
    int (*reduce_scatter_f32)(void *ctx, float *buf, size_t n);
    int (*all_gather_f32)(void *ctx, float *buf, size_t n);
    /* Evaluation's: the element-wise maximum of buf (n) over the ranks, in place, on every rank;
     * and a gather to rank 0: each rank passes its len bytes at mine and the offset off where
     * they belong in rank 0's buffer all (len and off differ per rank; all is used on rank 0
     * only, and its own bytes are moved there when mine is elsewhere). */
    int (*max_f64)(void *ctx, double *buf, size_t n);
    int (*gather_bytes)(void *ctx, const void *mine, size_t len, void *all, size_t off);
} vae_comm_t;

/* Rank r's share [lo, hi) of n items out of N ranks: contiguous, in rank order, near-equal,
 * cut at multiples of align (the last takes the rest). */
static inline void vae_comm_share(size_t n, size_t align, int N, int r, size_t *lo, size_t *hi)
{
    const size_t units = (n + align - 1) / align;
    const size_t u0 = units * (size_t)r / (size_t)N, u1 = units * (size_t)(r + 1) / (size_t)N;
    *lo = u0 * align < n ? u0 * align : n;
    *hi = u1 * align < n ? u1 * align : n;
}

/* Rank r's block of an arena of n floats for the sharded optimiser: cut at multiples of 4096
 * floats (whole blocks of the gradient norm's sums, layer_grad_sumsq, and whole cache lines). */
static inline void vae_comm_block(size_t n, int N, int r, size_t *lo, size_t *hi) { vae_comm_share(n, 4096, N, r, lo, hi); }

#endif
