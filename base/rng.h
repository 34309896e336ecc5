/* base/rng.h: counter-based random numbers (Philox4x32-10).
 *
 * Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3",
 * SC'11) maps a 128-bit counter and a 64-bit key to 128 random bits with 10 rounds of
 * multiply-hi/lo and xor. Because every output block is a pure function of
 * (key, counter), a stream can be filled in parallel and is bit-identical for any number
 * of threads, and any position can be reached in O(1) (no sequential state).
 *
 * Layout of the counter: words 0-1 hold the block index within a stream, words 2-3 the
 * stream id; the key is the 64-bit seed. A base_rng_t is (seed, stream, offset): a draw of
 * n values consumes ceil(n/4) blocks starting at offset and advances offset. Saving and
 * restoring the three integers resumes the stream exactly.
 *
 * Uniform draws lie in the open interval (0, 1) with 24-bit resolution; normal draws use
 * the Box-Muller transform on the 4 words of a block (2 pairs -> 4 normals).
 */
#ifndef LAYERS_RNG_H
#define LAYERS_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t seed;   /* the Philox key */
    uint64_t stream; /* independent stream id (e.g. a shower index, a purpose) */
    uint64_t offset; /* next 128-bit block to use */
} base_rng_t;

/* The raw bijection: out = Philox4x32-10(ctr, key). */
void base_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

void base_rng_init(base_rng_t *r, uint64_t seed, uint64_t stream);

/* out: (n). Uniform on (0, 1). Parallel over blocks; same values for any thread count. */
void base_rng_uniform(base_rng_t *r, float *out, size_t n);
/* out: (n). Standard normal N(0, 1). Parallel over blocks; thread-count independent. */
void base_rng_normal(base_rng_t *r, float *out, size_t n);
/* The next raw 128-bit block of the stream (offset advances by 1): for sequential draws
 * inside a per-item loop, where the parallel fills above would cost too much per call. */
void base_rng_next_block(base_rng_t *r, uint32_t out[4]);
/* 32 random bits -> (0, 1), the map the uniform fills use: (top 24 bits + 0.5) / 2^24. */
static inline float base_rng_to_unit(uint32_t u) { return ((float)(u >> 8) + 0.5f) * 0x1p-24f; }

/* A sequential reader of one stream, 4 uniforms per Philox block, for per-item loops
 * (a shower's spots, a shower's voxel samples). */
typedef struct {
    base_rng_t r;
    uint32_t w[4];
    int k; /* next word of w; 4 = empty */
} base_rng_seq_t;

void base_rng_seq_init(base_rng_seq_t *s, uint64_t seed, uint64_t stream);
/* Uniform on (0, 1). */
static inline double base_rng_seq_u01(base_rng_seq_t *s)
{
    if (s->k == 4) {
        base_rng_next_block(&s->r, s->w);
        s->k = 0;
    }
    return base_rng_to_unit(s->w[s->k++]);
}
/* Standard normal (Box-Muller, one of the pair). */
double base_rng_seq_normal(base_rng_seq_t *s);

/* One uniform 32-bit integer below bound (bound > 0), by rejection (no modulo bias). */
uint32_t base_rng_below(base_rng_t *r, uint32_t bound);
/* idx: (n). A uniformly random permutation of 0..n-1 (Fisher-Yates). */
void base_rng_permutation(base_rng_t *r, uint32_t *idx, size_t n);

#endif
