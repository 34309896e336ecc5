/* base/fastmath.h: exp and log in float that the compiler can vectorise (inline, no
 * calls, no branches), for the per-voxel loops of the likelihoods, where libm's scalar double
 * exp and log1p cost as much as the matrix products.
 *
 * Both follow the Cephes single-precision algorithms (S. L. Moshier, Cephes Math Library
 * 2.2, expf.c and logf.c):
 *   exp(x) = 2^n exp(r),  n = round(x / ln 2),  r = x - n ln 2 (ln 2 split in two parts for
 *            exactness),  exp(r) = 1 + r + r^2 P(r) with the degree-5 Cephes polynomial;
 *            x is clamped to [-87.3, 88.3] (2^n stays a normal float), so no overflow or NaN.
 *   log(x) = e ln 2 + log(m),  x = m 2^e with m in [sqrt(1/2), sqrt(2)),  log(1 + f) =
 *            f - f^2 / 2 + f^3 Q(f) with the degree-8 Cephes polynomial; for x > 0 normal.
 * Accuracy (checked against libm over a grid by tests/test_loss.c): relative error below
 * 3e-7 for exp on [-87, 88]; for log an error below 3e-7 in absolute terms or relative to
 * |log x|, on [1e-30, 1e30].
 * Deterministic: the same input gives the same bits whatever the vector width.
 */
#ifndef LAYERS_FASTMATH_H
#define LAYERS_FASTMATH_H

/* Loops over voxels that call these get AVX-512 and AVX2 clones picked at load time (GCC
 * target_clones), since the build targets baseline x86-64. Elementwise results are the same
 * bits in every clone (C11 mode: no FMA contraction); only the order of a reduction differs. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define BASE_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define BASE_VECTOR_CLONES
#endif

#include <stdint.h>
#include <string.h>

static inline float base_expf(float x)
{
    x = x < -87.3f ? -87.3f : x > 88.3f ? 88.3f : x;
    /* n = round(x log2 e) by the 1.5 * 2^23 trick (|x log2 e| < 2^22) */
    float n = (x * 1.44269504088896341f + 12582912.f) - 12582912.f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float r2 = r * r;
    float p = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r +
               1.6666665459e-1f) * r + 5.0000001201e-1f;
    float y = p * r2 + r + 1.f;
    int32_t bits = ((int32_t)n + 127) << 23; /* 2^n, n in [-126, 127] */
    float s;
    memcpy(&s, &bits, sizeof s);
    return y * s;
}

static inline float base_logf(float x)
{
    int32_t u;
    memcpy(&u, &x, sizeof u);
    /* m in [sqrt(1/2), sqrt(2)): shift the exponent by the bits of sqrt(1/2) = 0x3f3504f3 */
    int32_t k = u - 0x3f3504f3;
    int32_t e = k >> 23;
    int32_t mb = (k & 0x007fffff) + 0x3f3504f3;
    float m;
    memcpy(&m, &mb, sizeof m);
    float f = m - 1.f, z = f * f;
    float q = (((((((7.0376836292e-2f * f - 1.1514610310e-1f) * f + 1.1676998740e-1f) * f - 1.2420140846e-1f) * f +
                  1.4249322787e-1f) * f - 1.6668057665e-1f) * f + 2.0000714765e-1f) * f - 2.4999993993e-1f) * f +
              3.3333331174e-1f;
    float fe = (float)e;
    float y = f * z * q + fe * -2.12194440e-4f - 0.5f * z;
    return f + y + fe * 0.693359375f;
}

#endif
