/* layers/arena.c: flat parameter/gradient/moment arena (see arena.h). */
#include "layers/arena.h"

#include "base/status.h"

#include <stdlib.h>
#include <string.h>

size_t layer_arena_size(size_t count)
{
    return (count + LAYER_ARENA_ALIGN - 1) / LAYER_ARENA_ALIGN * LAYER_ARENA_ALIGN;
}

static float *alloc_zeroed(size_t n)
{
    size_t bytes = layer_arena_size(n ? n : 1) * sizeof(float);
    float *p = aligned_alloc(64, bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

int layer_arena_init(layer_arena_t *A, size_t cap)
{
    memset(A, 0, sizeof *A);
    A->cap = layer_arena_size(cap);
    A->param = alloc_zeroed(A->cap);
    A->grad = alloc_zeroed(A->cap);
    A->m = alloc_zeroed(A->cap);
    A->v = alloc_zeroed(A->cap);
    if (!A->param || !A->grad || !A->m || !A->v) {
        layer_arena_free(A);
        return base_error(BASE_ENOMEM, "arena: cannot allocate 4 x %zu floats", cap);
    }
    return BASE_OK;
}

void layer_arena_free(layer_arena_t *A)
{
    if (!A) return;
    free(A->param);
    free(A->grad);
    free(A->m);
    free(A->v);
    memset(A, 0, sizeof *A);
}

int layer_arena_take(layer_arena_t *A, size_t count, size_t *off)
{
    size_t need = layer_arena_size(count);
    if (A->n + need > A->cap)
        return base_error(BASE_ENOMEM, "arena: %zu floats requested, %zu of %zu free", need,
                           A->cap - A->n, A->cap);
    *off = A->n;
    A->n += need;
    return BASE_OK;
}

