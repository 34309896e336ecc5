/* io/loader.c: streamed, shuffled mini-batches (see loader.h). */
#include "io/loader.h"
#include "base/streams.h"

#include "base/status.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

int io_split_is_val(uint64_t seed, size_t i, double val_fraction)
{
    if (val_fraction <= 0) return 0;
    base_rng_t r;
    base_rng_init(&r, seed, BASE_STREAM_IO_SPLIT);
    r.offset = i;
    uint32_t w[4];
    base_rng_next_block(&r, w);
    return base_rng_to_unit(w[0]) < val_fraction;
}

static int row_in_part(io_part_t part, uint64_t seed, double val_fraction, size_t i)
{
    if (part == IO_PART_ALL) return 1;
    return io_split_is_val(seed, i, val_fraction) == (part == IO_PART_VAL);
}

static int in_part(const io_loader_t *L, size_t i) { return row_in_part(L->part, L->seed, L->val_fraction, i); }

size_t io_loader_part_rows(const io_dataset_t *d, io_part_t part, double val_fraction, uint64_t seed, size_t S, size_t s)
{
    size_t n = 0;
    for (size_t b = s, br = d->block_rows; b * br < d->n; b += S)
        for (size_t i = b * br; i < (b + 1) * br && i < d->n; i++) n += row_in_part(part, seed, val_fraction, i);
    return n;
}

int io_loader_init(io_loader_t *L, io_dataset_t *d, io_part_t part, double val_fraction,
                   uint64_t seed, int shuffle, size_t buffer_bytes)
{
    return io_loader_init_stream(L, d, part, val_fraction, seed, shuffle, buffer_bytes, 1, 0);
}

int io_loader_init_stream(io_loader_t *L, io_dataset_t *d, io_part_t part, double val_fraction, uint64_t seed,
                          int shuffle, size_t buffer_bytes, size_t S, size_t s)
{
    memset(L, 0, sizeof *L);
    if (!(val_fraction >= 0 && val_fraction < 1))
        return base_error(BASE_EINVAL, "validation fraction %g not in [0, 1)", val_fraction);
    if (!(S >= 1 && s < S)) return base_error(BASE_EINVAL, "data stream %zu of %zu", s, S);
    L->d = d;
    L->part = part;
    L->val_fraction = val_fraction;
    L->seed = seed;
    L->shuffle = shuffle;
    L->S = S, L->s = s;
    L->n_part = io_loader_part_rows(d, part, val_fraction, seed, S, s);
    const size_t all = (d->n + d->block_rows - 1) / d->block_rows;
    L->n_blocks = all / S + (all % S > s);
    size_t row = (size_t)d->V * sizeof(float);
    L->cap = shuffle ? (buffer_bytes ? buffer_bytes : (256u << 20)) / row : 0;
    if (shuffle && L->cap < 1) L->cap = 1;
    L->order = malloc((L->n_blocks ? L->n_blocks : 1) * sizeof *L->order);
    L->grp_cap = 4 * (size_t)omp_get_max_threads();
    L->grp_cap = L->grp_cap > 64 ? 64 : L->grp_cap < 1 ? 1 : L->grp_cap;
    L->blk_x = malloc(L->grp_cap * d->block_rows * row);
    if (shuffle) {
        L->buf_i = malloc(L->cap * sizeof *L->buf_i);
        L->buf_x = malloc(L->cap * row); /* pages untouched while the data is in memory */
        L->buf_px = malloc(L->cap * sizeof *L->buf_px);
    }
    if (!L->order || !L->blk_x || (shuffle && (!L->buf_i || !L->buf_x || !L->buf_px))) {
        io_loader_free(L);
        return base_error(BASE_ENOMEM, "%s: loader out of memory", d->path);
    }
    return io_loader_epoch(L, 0);
}

void io_loader_free(io_loader_t *L)
{
    if (!L) return;
    free(L->order);
    free(L->blk_x);
    free(L->buf_i);
    free(L->buf_x);
    free(L->buf_px);
    memset(L, 0, sizeof *L);
}

int io_loader_epoch(io_loader_t *L, uint64_t epoch)
{
    /* stream 0 draws as the one-stream loader; stream s > 0 from a seed of its own (a Weyl step) */
    base_rng_init(&L->rng, L->seed + L->s * 0x9E3779B97F4A7C15ull, BASE_STREAM_IO_SHUFFLE + epoch);
    if (L->shuffle) {
        base_rng_permutation(&L->rng, L->order, L->n_blocks);
    } else {
        for (size_t b = 0; b < L->n_blocks; b++) L->order[b] = (uint32_t)b;
    }
    for (size_t b = 0; b < L->n_blocks; b++) L->order[b] = (uint32_t)(L->s + L->S * L->order[b]); /* file blocks */
    L->next_block = 0;
    L->blk_n = L->blk_pos = 0;
    L->grp_n = L->grp_i = 0;
    L->buf_n = 0;
    L->by_ref = L->n_blocks > 0; /* the cache holds every block of the stream */
    for (size_t b = 0; b < L->n_blocks && L->by_ref; b++) L->by_ref = io_dataset_cached_block(L->d, L->order[b]) != NULL;
    return BASE_OK;
}

/* Moves to the next block of the order: rows of the cache (by reference), or the next block of
 * the group read, reading the next group of blocks when this one is used up. Returns 1, 0 at
 * the end of the file, < 0 on error. */
static int next_block(io_loader_t *L)
{
    const io_dataset_t *d = L->d;
    const size_t br = d->block_rows;
    if (L->by_ref) { /* validated when the cache was filled */
        if (L->next_block >= L->n_blocks) return 0;
        const size_t b = L->order[L->next_block++];
        L->blk_first = b * br;
        L->cur_x = io_dataset_cached_block(d, b);
    } else {
        if (L->grp_i + 1 < L->grp_n) {
            L->grp_i++;
        } else {
            if (L->next_block >= L->n_blocks) return 0;
            for (L->grp_n = 0; L->grp_n < L->grp_cap && L->next_block < L->n_blocks;)
                L->grp[L->grp_n++] = L->order[L->next_block++];
            L->grp_i = 0;
            BASE_TRY(io_dataset_read_blocks(L->d, L->grp, L->grp_n, omp_get_max_threads(), NULL, L->blk_x));
        }
        L->blk_first = L->grp[L->grp_i] * br;
        L->cur_x = L->blk_x + L->grp_i * br * d->V;
    }
    L->blk_n = d->n - L->blk_first < br ? d->n - L->blk_first : br;
    L->blk_pos = 0;
    return 1;
}

/* Makes the next row of the current block that belongs to the part available; moves through
 * the blocks as needed. Returns 1 with *i its file row and *x pointing at it, 0 at the end of
 * the file, < 0 on error. */
static int next_row(io_loader_t *L, size_t *i, const float **x)
{
    for (;;) {
        while (L->blk_pos < L->blk_n) {
            size_t k = L->blk_pos++;
            if (in_part(L, L->blk_first + k)) {
                *i = L->blk_first + k;
                *x = L->cur_x + k * L->d->V;
                return 1;
            }
        }
        int r = next_block(L);
        if (r <= 0) return r;
    }
}

/* Row i of the file (its shower at x) into entry j of the batch. */
static void emit(const io_loader_t *L, size_t i, const float *x, int j, float *E, float *A, float *X)
{
    const size_t V = (size_t)L->d->V;
    E[j] = L->d->energies[i];
    if (A) A[j] = L->d->angles[i];
    memcpy(X + (size_t)j * V, x, V * sizeof(float));
}

int io_loader_next(io_loader_t *L, int B, float *E, float *A, float *X, int *got)
{
    const size_t V = (size_t)L->d->V;
    *got = 0;
    while (*got < B) {
        const float *x;
        size_t i;
        if (!L->shuffle) {
            int r = next_row(L, &i, &x);
            if (r < 0) return r;
            if (r == 0) break;
            emit(L, i, x, (*got)++, E, A, X);
            continue;
        }
        /* fill the buffer, then emit a random entry and close the gap with the last */
        int r = 1;
        while (L->buf_n < L->cap && (r = next_row(L, &i, &x)) == 1) {
            L->buf_i[L->buf_n] = i;
            if (L->by_ref) L->buf_px[L->buf_n] = x;
            else memcpy(L->buf_x + L->buf_n * V, x, V * sizeof(float));
            L->buf_n++;
        }
        if (r < 0) return r;
        if (L->buf_n == 0) break;
        size_t j = base_rng_below(&L->rng, (uint32_t)L->buf_n);
        L->buf_n--;
        emit(L, L->buf_i[j], L->by_ref ? L->buf_px[j] : L->buf_x + j * V, (*got)++, E, A, X);
        L->buf_i[j] = L->buf_i[L->buf_n];
        if (L->by_ref) L->buf_px[j] = L->buf_px[L->buf_n];
        else memmove(L->buf_x + j * V, L->buf_x + L->buf_n * V, V * sizeof(float));
    }
    return BASE_OK;
}
