/* base/rng.c: Philox4x32-10 streams (see rng.h). */
#include "base/rng.h"

#include <math.h>

/* Constants from Salmon et al. (2011), Random123 philox.h. */
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u /* golden ratio */
#define PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

void base_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        /* (hi, lo) = M * c for the two multiplied words */
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += PHILOX_W0; /* key schedule (bumping after the last round is harmless) */
        k1 += PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

void base_rng_init(base_rng_t *r, uint64_t seed, uint64_t stream)
{
    r->seed = seed;
    r->stream = stream;
    r->offset = 0;
}

static void block_at(const base_rng_t *r, uint64_t block, uint32_t out[4])
{
    uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)r->stream,
                       (uint32_t)(r->stream >> 32)};
    uint32_t key[2] = {(uint32_t)r->seed, (uint32_t)(r->seed >> 32)};
    base_philox4x32_10(ctr, key, out);
}

#define to_unit base_rng_to_unit

void base_rng_next_block(base_rng_t *r, uint32_t out[4]) { block_at(r, r->offset++, out); }

/* The 4 values of one block: uniforms, or normals by Box-Muller on two pairs of uniforms,
 *   r = sqrt(-2 ln u1), z = (r cos 2 pi u2, r sin 2 pi u2). */
static void block_values(const uint32_t w[4], float z[4], int normal)
{
    if (!normal) {
        for (int k = 0; k < 4; k++) z[k] = to_unit(w[k]);
        return;
    }
    for (int p = 0; p < 2; p++) {
        double u1 = to_unit(w[2 * p]), u2 = to_unit(w[2 * p + 1]);
        double rad = sqrt(-2.0 * log(u1)), th = 6.283185307179586 * u2;
        z[2 * p] = (float)(rad * cos(th));
        z[2 * p + 1] = (float)(rad * sin(th));
    }
}

/* out: (n) from blocks offset .. offset + ceil(n/4) - 1, in parallel over blocks. */
static void fill(base_rng_t *r, float *out, size_t n, int normal)
{
    size_t nb = (n + 3) / 4;
    const base_rng_t rs = *r;
#pragma omp parallel for schedule(static) if (nb > 4096)
    for (size_t b = 0; b < nb; b++) {
        uint32_t w[4];
        float z[4];
        block_at(&rs, rs.offset + b, w);
        block_values(w, z, normal);
        for (size_t k = 0; k < 4 && 4 * b + k < n; k++) out[4 * b + k] = z[k];
    }
    r->offset += nb;
}

void base_rng_uniform(base_rng_t *r, float *out, size_t n) { fill(r, out, n, 0); }

void base_rng_normal(base_rng_t *r, float *out, size_t n) { fill(r, out, n, 1); }

void base_rng_seq_init(base_rng_seq_t *s, uint64_t seed, uint64_t stream)
{
    base_rng_init(&s->r, seed, stream);
    s->k = 4;
}

double base_rng_seq_normal(base_rng_seq_t *s)
{
    double u1 = base_rng_seq_u01(s), u2 = base_rng_seq_u01(s);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint32_t base_rng_below(base_rng_t *r, uint32_t bound)
{
    /* reject the top partial range so every residue is equally likely */
    uint32_t limit = UINT32_MAX - UINT32_MAX % bound;
    for (;;) {
        uint32_t w[4];
        block_at(r, r->offset++, w);
        for (int k = 0; k < 4; k++)
            if (w[k] < limit) return w[k] % bound;
    }
}

void base_rng_permutation(base_rng_t *r, uint32_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) {
        size_t j = base_rng_below(r, (uint32_t)i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
