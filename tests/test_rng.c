/* tests/test_rng.c: Philox4x32-10 known answers, thread-count independence, moments. */
#include "base/rng.h"
#include "base/streams.h"

#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Known-answer vectors of Random123 (kat_vectors, philox4x32 10 rounds). */
Test(rng, philox_matches_random123_known_answers)
{
    struct { uint32_t ctr[4], key[2], out[4]; } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (int k = 0; k < 3; k++) {
        uint32_t out[4];
        base_philox4x32_10(kat[k].ctr, kat[k].key, out);
        for (int i = 0; i < 4; i++)
            cr_expect_eq(out[i], kat[k].out[i], "vector %d word %d: %08x != %08x", k, i, out[i],
                         kat[k].out[i]);
    }
}

static void draw(int threads, int normal, float *out, size_t n)
{
    omp_set_num_threads(threads);
    base_rng_t r;
    base_rng_init(&r, 1234, 7);
    if (normal) base_rng_normal(&r, out, n);
    else base_rng_uniform(&r, out, n);
}

Test(rng, streams_are_bit_identical_for_1_2_and_3_threads)
{
    const size_t n = 200003; /* > the parallel threshold, not a multiple of 4 */
    float *a = malloc(n * 4), *b = malloc(n * 4), *c = malloc(n * 4);
    for (int normal = 0; normal < 2; normal++) {
        draw(1, normal, a, n);
        draw(2, normal, b, n);
        draw(3, normal, c, n);
        cr_assert(memcmp(a, b, n * 4) == 0, "1 vs 2 threads differ (normal=%d)", normal);
        cr_assert(memcmp(a, c, n * 4) == 0, "1 vs 3 threads differ (normal=%d)", normal);
    }
    free(a);
    free(b);
    free(c);
}

Test(rng, split_draws_continue_the_same_stream)
{
    float one[64], two[64];
    base_rng_t r;
    base_rng_init(&r, 99, 3);
    base_rng_normal(&r, one, 64);
    base_rng_init(&r, 99, 3);
    base_rng_normal(&r, two, 32);
    cr_assert_eq(r.offset, 8);
    base_rng_normal(&r, two + 32, 32);
    cr_assert(memcmp(one, two, sizeof one) == 0);
    /* another stream id or seed gives other numbers */
    base_rng_init(&r, 99, 4);
    base_rng_normal(&r, two, 64);
    cr_assert(memcmp(one, two, sizeof one) != 0);
}

Test(rng, normal_moments_within_statistical_bounds)
{
    const size_t n = 1 << 20;
    float *z = malloc(n * sizeof *z);
    base_rng_t r;
    base_rng_init(&r, 2026, 0);
    base_rng_normal(&r, z, n);
    double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
    for (size_t i = 0; i < n; i++) m1 += z[i];
    m1 /= n;
    for (size_t i = 0; i < n; i++) {
        double d = z[i] - m1;
        m2 += d * d;
        m3 += d * d * d;
        m4 += d * d * d * d;
    }
    m2 /= n;
    double skew = m3 / n / pow(m2, 1.5), kurt = m4 / n / (m2 * m2);
    /* standard errors: mean 1/sqrt(n), var sqrt(2/n), skew sqrt(6/n), kurtosis sqrt(24/n);
     * bounds are 5 standard errors */
    double sn = sqrt((double)n);
    cr_expect(fabs(m1) < 5 / sn, "mean %g", m1);
    cr_expect(fabs(m2 - 1) < 5 * sqrt(2.0) / sn, "variance %g", m2);
    cr_expect(fabs(skew) < 5 * sqrt(6.0) / sn, "skewness %g", skew);
    cr_expect(fabs(kurt - 3) < 5 * sqrt(24.0) / sn, "kurtosis %g", kurt);
    /* tail: P(|z| > 3) = 0.0026998 */
    size_t tail = 0;
    for (size_t i = 0; i < n; i++) tail += fabsf(z[i]) > 3.f;
    double p = 0.0026998, se = sqrt(p * (1 - p) / n);
    cr_expect(fabs((double)tail / n - p) < 5 * se, "P(|z|>3) = %g", (double)tail / n);
    free(z);
}

Test(rng, uniform_is_in_open_unit_interval_with_flat_histogram)
{
    const size_t n = 1 << 20;
    float *u = malloc(n * sizeof *u);
    base_rng_t r;
    base_rng_init(&r, 5, 0);
    base_rng_uniform(&r, u, n);
    size_t hist[16] = {0};
    for (size_t i = 0; i < n; i++) {
        cr_assert(u[i] > 0.f && u[i] < 1.f, "u[%zu] = %g", i, u[i]);
        hist[(int)(u[i] * 16)]++;
    }
    double chi2 = 0, e = n / 16.0;
    for (int k = 0; k < 16; k++) chi2 += (hist[k] - e) * (hist[k] - e) / e;
    cr_expect(chi2 < 40.0, "chi2 = %g with 15 dof (p < 1e-3 above 37.7)", chi2);
    free(u);
}

Test(rng, permutation_is_a_permutation_and_seeded)
{
    enum { N = 1000 };
    uint32_t a[N], b[N];
    int seen[N] = {0};
    base_rng_t r;
    base_rng_init(&r, 11, 0);
    base_rng_permutation(&r, a, N);
    for (int i = 0; i < N; i++) seen[a[i]]++;
    for (int i = 0; i < N; i++) cr_assert_eq(seen[i], 1);
    base_rng_init(&r, 11, 0);
    base_rng_permutation(&r, b, N);
    cr_assert(memcmp(a, b, sizeof a) == 0);
    int fixed = 0;
    for (int i = 0; i < N; i++) fixed += a[i] == (uint32_t)i;
    cr_expect(fixed < 10, "%d fixed points (expected about 1)", fixed);
}

/* base/streams.h: no two purposes can draw the same stream under one seed. */
Test(rng, stream_id_ranges_are_disjoint)
{
    for (size_t i = 0; i < BASE_N_STREAMS; i++) {
        const base_stream_range_t *a = &base_streams[i];
        cr_assert(a->count > 0 && a->lo + a->count > a->lo, "%s: empty or wrapping range", a->name);
        for (size_t j = i + 1; j < BASE_N_STREAMS; j++) {
            const base_stream_range_t *b = &base_streams[j];
            int overlap = a->lo < b->lo + b->count && b->lo < a->lo + a->count;
            cr_assert(!overlap, "stream ranges '%s' and '%s' overlap", a->name, b->name);
        }
    }
}
