/* base/bf16.h: float32 <-> bfloat16 (the top 16 bits of a float32), the compact number format
 * of the decoder's bf16 path and of the classifier's stored low-level inputs.
 *
 * f32 -> bf16 rounds to nearest, ties to even, on the bit pattern: bf16 = (u + 0x7fff +
 * bit16(u)) >> 16; a NaN stays a (quiet) NaN; relative rounding error at most 2^-9. bf16 ->
 * f32 is exact (the low 16 bits are 0).
 */
#ifndef BASE_BF16_H
#define BASE_BF16_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t base_bf16_from_f32(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

static inline float base_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

/* y[i] = bf16(x[i]), i < n */
static inline void base_bf16_from_f32_n(const float *x, uint16_t *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = base_bf16_from_f32(x[i]);
}

/* y[i] = f32(x[i]), i < n */
static inline void base_bf16_to_f32_n(const uint16_t *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = base_bf16_to_f32(x[i]);
}

#endif
