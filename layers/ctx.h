/* layers/ctx.h: the oneDNN context (engine + stream) every layer is built on.
 *
 * Contract: layer_ctx_init creates one CPU engine and one in-order stream; layer_ctx_free
 * destroys them (safe on a zeroed struct and twice). Layers keep a pointer to the context,
 * which must outlive them. Primitives run on the stream synchronously (CPU); layer
 * functions call dnnl_stream_wait before returning results to C code.
 * Thread safety: a context and the layers built on it are used by one thread at a time
 * (oneDNN's library scratchpad is shared per primitive); use one context per thread.
 * Also here: small helpers shared by all layers to build a primitive from an op
 * descriptor, to wrap a user buffer as oneDNN memory, and to describe the machine
 * (ISA name and thread count) for benchmark reports.
 */
#ifndef LAYERS_CTX_H
#define LAYERS_CTX_H

#include "base/status.h"

#include <oneapi/dnnl/dnnl.h>

/* Records a oneDNN failure as BASE_EDNNL ("file:line: call -> dnnl status"). */
int layer_dnnl_error(dnnl_status_t s, const char *call, const char *file, int line);

/* Wraps a oneDNN call: on failure records the message and returns BASE_EDNNL from the
 * enclosing function. */
#define LAYER_DNNL_TRY(call)                                                  \
    do {                                                                      \
        dnnl_status_t s_ = (call);                                            \
        if (s_ != dnnl_success)                                               \
            return layer_dnnl_error(s_, #call, __FILE__, __LINE__);           \
    } while (0)

typedef struct {
    dnnl_engine_t eng;  /* owned */
    dnnl_stream_t st;   /* owned */
} layer_ctx_t;

int layer_ctx_init(layer_ctx_t *ctx);
void layer_ctx_free(layer_ctx_t *ctx);

/* Creates a primitive for op_desc (with optional attr and forward hint). If pd_out is
 * not NULL the caller receives (and owns) the primitive descriptor, else it is destroyed. */
int layer_prim_create(const layer_ctx_t *ctx, const void *op_desc, const_dnnl_primitive_attr_t attr,
                      const_dnnl_primitive_desc_t hint, dnnl_primitive_t *prim,
                      dnnl_primitive_desc_t *pd_out);

/* A row-major (B, C) f32 memory descriptor (tag ab); C == 0 gives a 1-D (B) descriptor. */
int layer_md_2d(dnnl_memory_desc_t *md, dnnl_dim_t B, dnnl_dim_t C);

/* A memory object over a caller-owned buffer (may be NULL: set later with
 * dnnl_memory_set_data_handle). oneDNN never frees it. */
int layer_mem_wrap(const layer_ctx_t *ctx, const dnnl_memory_desc_t *md, void *buf,
                   dnnl_memory_t *mem);

/* Destroys n primitives / memory objects (NULL entries skipped) and zeroes the array. */
void layer_prims_free(dnnl_primitive_t *p, int n);
void layer_mems_free(dnnl_memory_t *m, int n);

/* Human-readable name of the ISA oneDNN dispatches to, e.g. "avx512_core_vnni". */
const char *layer_isa_name(void);
/* Bytes of cpu0's data cache at level 2 or 3 as the kernel reports it (/sys/devices/system/
 * cpu/cpu0/cache), else glibc's sysconf, else 0. */
long layer_cache_bytes(int level);
/* Threads oneDNN and our OpenMP loops use (omp_get_max_threads). */
int layer_threads(void);

#endif
