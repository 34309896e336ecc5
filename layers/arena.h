/* layers/arena.h: one flat arena each for parameters, gradients and the two Adam moments.
 *
 * Contract: layer_arena_init(A, cap) allocates four zeroed, 64-byte aligned float buffers
 * of cap floats: param, grad, m, v. Layers take slices with layer_arena_take, which returns
 * an offset; every slice starts on a 16-float (64-byte) boundary, so cap must include that
 * padding (use layer_arena_size to sum slice sizes). The same offset addresses a tensor in
 * all four buffers, so the optimiser, gradient clipping, a checkpoint or an all-reduce each
 * see one contiguous buffer of A->n floats (padding is zero in grad and never changes).
 * The arena owns its buffers; layer_arena_free releases them (safe twice, safe on zero).
 */
#ifndef LAYERS_ARENA_H
#define LAYERS_ARENA_H

#include <stddef.h>

typedef struct {
    size_t n;     /* floats in use (including alignment padding) */
    size_t cap;   /* floats allocated per buffer */
    float *param; /* owned, cap floats */
    float *grad;  /* owned, cap floats */
    float *m;     /* owned, Adam first moment */
    float *v;     /* owned, Adam second moment */
} layer_arena_t;

#define LAYER_ARENA_ALIGN 16 /* floats */

/* Floats a tensor of count floats occupies in the arena (rounded up to the alignment). */
size_t layer_arena_size(size_t count);

int layer_arena_init(layer_arena_t *A, size_t cap);
void layer_arena_free(layer_arena_t *A);

/* Reserves count floats; *off receives their offset. BASE_ENOMEM if cap is exceeded. */
int layer_arena_take(layer_arena_t *A, size_t count, size_t *off);

#endif
