/* vae/cli/mpi.c: MPI for the program (see mpi.h). */
#include "vae/cli/mpi.h"

#include "base/status.h"

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

static int g_on, g_rank, g_size = 1;

static int launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE");
}

/* k values at p summed over the ranks, the same bits on every rank:
 *   2 ranks: MPI_Allreduce (each rank adds the other's values to its own: a + b = b + a exactly);
 *   more: reduce-scatter then all-gather (the ring pattern: each block is summed by one rank, in
 *         one order, and copied to the others; an all-reduce may add in different orders on
 *         different ranks), with the k mod N tail by reduce to rank 0 and broadcast. */
static int sum_block(void *p, int k, MPI_Datatype t, size_t w)
{
    if (g_size == 2) return MPI_Allreduce(MPI_IN_PLACE, p, k, t, MPI_SUM, MPI_COMM_WORLD);
    const int per = k / g_size, tail = k - per * g_size;
    int e = MPI_SUCCESS;
    if (per > 0) {
        char *mine = (char *)p + (size_t)g_rank * per * w;
        e = MPI_Reduce_scatter_block(MPI_IN_PLACE, p, per, t, MPI_SUM, MPI_COMM_WORLD);
        if (e == MPI_SUCCESS && g_rank > 0) memmove(mine, p, (size_t)per * w); /* the result lands at the front */
        if (e == MPI_SUCCESS) e = MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, p, per, t, MPI_COMM_WORLD);
    }
    void *q = (char *)p + (size_t)per * g_size * w;
    if (e == MPI_SUCCESS && tail > 0)
        e = MPI_Reduce(g_rank == 0 ? MPI_IN_PLACE : q, g_rank == 0 ? q : NULL, tail, t, MPI_SUM, 0, MPI_COMM_WORLD);
    if (e == MPI_SUCCESS && tail > 0) e = MPI_Bcast(q, tail, t, 0, MPI_COMM_WORLD);
    return e;
}

static int sum(void *buf, size_t n, MPI_Datatype t)
{
    const size_t w = t == MPI_FLOAT ? 4 : 8;
    for (size_t at = 0; at < n;) { /* counts are int */
        int k = n - at > (1u << 30) ? 1 << 30 : (int)(n - at);
        int e = sum_block((char *)buf + at * w, k, t, w);
        if (e != MPI_SUCCESS) return base_error(BASE_EIO, "MPI: a sum over %d ranks failed (code %d)", g_size, e);
        at += (size_t)k;
    }
    return BASE_OK;
}
static int sum_f32(void *ctx, float *buf, size_t n) { return (void)ctx, sum(buf, n, MPI_FLOAT); }
static int sum_f64(void *ctx, double *buf, size_t n) { return (void)ctx, sum(buf, n, MPI_DOUBLE); }

/* The sharded optimiser's collectives as rings of point-to-point transfers between neighbours
 * (rank r sends to r + 1 and receives from r - 1), in segments of SEG floats so a transfer and its
 * sum stream through one cache-sized buffer. Measured on 2 ranks for 58 MB (bench_mpi's machine):
 * this reduce-scatter 11.5 ms and all-gather 8.6 ms, against Open MPI 4.1's MPI_Reduce_scatter
 * 66 ms (every algorithm it offers: 57-100 ms) and MPI_Allgatherv 10 ms. */
#define SEG (1u << 18)
static float *g_seg; /* SEG floats, allocated on first use, freed by cli_mpi_end */

/* Floats [lo, hi) of block b (vae_comm_block over the ranks). */
static void block(size_t n, int b, size_t *lo, size_t *hi) { vae_comm_block(n, g_size, (b % g_size + g_size) % g_size, lo, hi); }

/* One ring step: block sb (from buf) goes right, block rb comes from the left; add = 1 sums it
 * into buf (else it is stored). */
static int ring_step(float *buf, size_t n, int sb, int rb, int add)
{
    size_t slo, shi, rlo, rhi;
    block(n, sb, &slo, &shi), block(n, rb, &rlo, &rhi);
    const int right = (g_rank + 1) % g_size, left = (g_rank + g_size - 1) % g_size;
    for (size_t off = 0; off < shi - slo || off < rhi - rlo; off += SEG) {
        int cs = (int)(off < shi - slo ? (shi - slo - off < SEG ? shi - slo - off : SEG) : 0);
        int cr = (int)(off < rhi - rlo ? (rhi - rlo - off < SEG ? rhi - rlo - off : SEG) : 0);
        float *in = add ? g_seg : buf + rlo + off;
        int e = MPI_Sendrecv(buf + slo + off, cs, MPI_FLOAT, right, 7, in, cr, MPI_FLOAT, left, 7, MPI_COMM_WORLD,
                             MPI_STATUS_IGNORE);
        if (e != MPI_SUCCESS) return base_error(BASE_EIO, "MPI: a ring transfer over %d ranks failed (code %d)", g_size, e);
        float *restrict dst = buf + rlo + off;
        for (int i = 0; add && i < cr; i++) dst[i] += g_seg[i];
    }
    return BASE_OK;
}

/* Ring reduce-scatter: at step s = 0 .. N-2 rank r passes block r - s - 1 on and adds block
 * r - s - 2 from its left; after N - 1 steps block r holds the sum of all ranks' block r, added
 * in ring order starting at rank r + 1 (one fixed order: reruns give the same bits). */
static int reduce_scatter_f32(void *ctx, float *buf, size_t n)
{
    (void)ctx;
    if (!g_seg && !(g_seg = malloc(SEG * sizeof(float)))) return base_error(BASE_ENOMEM, "out of memory");
    for (int s = 0; s < g_size - 1; s++) BASE_TRY(ring_step(buf, n, g_rank - s - 1, g_rank - s - 2, 1));
    return BASE_OK;
}

/* Ring all-gather: at step s rank r passes block r - s on and stores block r - s - 1. */
static int all_gather_f32(void *ctx, float *buf, size_t n)
{
    (void)ctx;
    for (int s = 0; s < g_size - 1; s++) BASE_TRY(ring_step(buf, n, g_rank - s, g_rank - s - 1, 0));
    return BASE_OK;
}

static int max_f64(void *ctx, double *buf, size_t n)
{
    (void)ctx;
    for (size_t at = 0; at < n; at += 1u << 30) {
        int k = n - at > (1u << 30) ? 1 << 30 : (int)(n - at);
        int e = MPI_Allreduce(MPI_IN_PLACE, buf + at, k, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        if (e != MPI_SUCCESS) return base_error(BASE_EIO, "MPI: a maximum over %d ranks failed (code %d)", g_size, e);
    }
    return BASE_OK;
}

/* Rank 0 learns every rank's (off, len), then receives their bytes in pieces of at most 1 GiB
 * (MPI counts are int). */
static int gather_bytes(void *ctx, const void *mine, size_t len, void *all, size_t off)
{
    (void)ctx;
    enum { PIECE = 1 << 30 };
    unsigned long long me[2] = {off, len}, *at = g_rank == 0 ? malloc(2 * (size_t)g_size * sizeof *at) : NULL;
    if (g_rank == 0 && !at) return base_error(BASE_ENOMEM, "out of memory");
    int e = MPI_Gather(me, 2, MPI_UNSIGNED_LONG_LONG, at, 2, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    if (g_rank == 0 && e == MPI_SUCCESS && len && (const char *)all + off != mine) memmove((char *)all + off, mine, len);
    for (int r = 1; r < g_size && e == MPI_SUCCESS; r++) {
        if (g_rank != 0 && g_rank != r) continue;
        const size_t o = g_rank ? off : (size_t)at[2 * r], n = g_rank ? len : (size_t)at[2 * r + 1];
        for (size_t k = 0; k < n && e == MPI_SUCCESS; k += PIECE) {
            int c = n - k > PIECE ? PIECE : (int)(n - k);
            if (g_rank) e = MPI_Send((const char *)mine + k, c, MPI_BYTE, 0, 9, MPI_COMM_WORLD);
            else e = MPI_Recv((char *)all + o + k, c, MPI_BYTE, r, 9, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
    }
    free(at);
    return e == MPI_SUCCESS ? BASE_OK : base_error(BASE_EIO, "MPI: gathering to rank 0 failed (code %d)", e);
}

static vae_comm_t g_comm;

int cli_mpi_start(int *argc, char ***argv)
{
    if (!launched()) return BASE_OK;
    /* Open MPI's ring all-reduce for the gradients, unless the user chose: 58 MB over 2 ranks in
     * 21.9 ms against 34 ms with its default choice on the benchmark machine (bench_mpi) */
    setenv("OMPI_MCA_coll_tuned_use_dynamic_rules", "1", 0);
    setenv("OMPI_MCA_coll_tuned_allreduce_algorithm", "4", 0);
    if (MPI_Init(argc, argv) != MPI_SUCCESS) return base_error(BASE_EIO, "MPI: MPI_Init failed");
    g_on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    g_comm = (vae_comm_t){g_rank, g_size, NULL, sum_f32, sum_f64, reduce_scatter_f32, all_gather_f32, max_f64, gather_bytes};
    return BASE_OK;
}

void cli_mpi_end(int rc)
{
    if (!g_on) return;
    free(g_seg);
    g_seg = NULL;
    if (rc != 0 && g_size > 1) MPI_Abort(MPI_COMM_WORLD, rc);
    MPI_Finalize();
}

int cli_mpi_rank(void) { return g_rank; }
int cli_mpi_size(void) { return g_size; }
const vae_comm_t *cli_mpi_comm(void) { return g_on && g_size > 1 ? &g_comm : NULL; }

int cli_mpi_agree(int rc)
{
    if (!g_on || g_size == 1) return rc;
    int all = rc;
    if (MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS)
        return base_error(BASE_EIO, "MPI: agreeing on the outcome failed");
    if (all < 0 && rc == 0) base_error(all, "stopped: another rank failed (its message names it)");
    return all;
}

void cli_mpi_share(uint64_t n, uint64_t align, int r, uint64_t *lo, uint64_t *hi)
{
    size_t a, b;
    vae_comm_share((size_t)n, (size_t)align, g_size, r, &a, &b);
    *lo = a, *hi = b;
}
