/* layers/ctx.c: engine/stream context and primitive helpers (see ctx.h). */
#define _GNU_SOURCE /* sysconf(_SC_LEVEL2_CACHE_SIZE), the fallback */
#include "layers/ctx.h"

#include "base/status.h"

#include <oneapi/dnnl/dnnl_debug.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int layer_ctx_init(layer_ctx_t *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    LAYER_DNNL_TRY(dnnl_engine_create(&ctx->eng, dnnl_cpu, 0));
    dnnl_status_t s = dnnl_stream_create(&ctx->st, ctx->eng, dnnl_stream_default_flags);
    if (s != dnnl_success) {
        dnnl_engine_destroy(ctx->eng);
        ctx->eng = NULL;
        return layer_dnnl_error(s, "dnnl_stream_create", __FILE__, __LINE__);
    }
    return BASE_OK;
}

void layer_ctx_free(layer_ctx_t *ctx)
{
    if (!ctx) return;
    if (ctx->st) dnnl_stream_destroy(ctx->st);
    if (ctx->eng) dnnl_engine_destroy(ctx->eng);
    ctx->st = NULL;
    ctx->eng = NULL;
}

int layer_prim_create(const layer_ctx_t *ctx, const void *op_desc, const_dnnl_primitive_attr_t attr,
                      const_dnnl_primitive_desc_t hint, dnnl_primitive_t *prim,
                      dnnl_primitive_desc_t *pd_out)
{
    dnnl_primitive_desc_t pd;
    *prim = NULL;
    LAYER_DNNL_TRY(dnnl_primitive_desc_create(&pd, op_desc, attr, ctx->eng, hint));
    dnnl_status_t s = dnnl_primitive_create(prim, pd);
    if (s != dnnl_success || !pd_out) dnnl_primitive_desc_destroy(pd);
    if (s != dnnl_success) {
        *prim = NULL;
        return layer_dnnl_error(s, "dnnl_primitive_create", __FILE__, __LINE__);
    }
    if (pd_out) *pd_out = pd;
    return BASE_OK;
}

int layer_md_2d(dnnl_memory_desc_t *md, dnnl_dim_t B, dnnl_dim_t C)
{
    if (C == 0) {
        LAYER_DNNL_TRY(dnnl_memory_desc_init_by_tag(md, 1, (dnnl_dims_t){B}, dnnl_f32, dnnl_a));
    } else {
        LAYER_DNNL_TRY(dnnl_memory_desc_init_by_tag(md, 2, (dnnl_dims_t){B, C}, dnnl_f32, dnnl_ab));
    }
    return BASE_OK;
}

int layer_mem_wrap(const layer_ctx_t *ctx, const dnnl_memory_desc_t *md, void *buf,
                   dnnl_memory_t *mem)
{
    LAYER_DNNL_TRY(dnnl_memory_create(mem, md, ctx->eng, buf ? buf : DNNL_MEMORY_NONE));
    return BASE_OK;
}

void layer_prims_free(dnnl_primitive_t *p, int n)
{
    for (int i = 0; i < n; i++) {
        if (p[i]) dnnl_primitive_destroy(p[i]);
        p[i] = NULL;
    }
}

void layer_mems_free(dnnl_memory_t *m, int n)
{
    for (int i = 0; i < n; i++) {
        if (m[i]) dnnl_memory_destroy(m[i]);
        m[i] = NULL;
    }
}

/* The sysfs size of cpu0's cache of this level ("1024K"), data or unified. */
static long sysfs_cache(int level)
{
    for (int i = 0; i < 8; i++) {
        char path[96], buf[32];
        long lv = 0, kb = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        FILE *f = fopen(path, "r");
        if (!f) break;
        int ok = fscanf(f, "%ld", &lv) == 1;
        fclose(f);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        if (!ok || lv != level || !(f = fopen(path, "r"))) continue;
        ok = fgets(buf, sizeof buf, f) && strncmp(buf, "Instruction", 11) != 0;
        fclose(f);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        if (!ok || !(f = fopen(path, "r"))) continue;
        ok = fscanf(f, "%ldK", &kb) == 1;
        fclose(f);
        if (ok) return kb * 1024;
    }
    return 0;
}

long layer_cache_bytes(int level)
{
    long b = sysfs_cache(level); /* first: glibc's sysconf gives a whole EPYC package's L3 (320 MiB) */
#ifdef _SC_LEVEL2_CACHE_SIZE
    if (b <= 0) b = sysconf(level == 2 ? _SC_LEVEL2_CACHE_SIZE : _SC_LEVEL3_CACHE_SIZE);
#endif
    return b > 0 ? b : 0;
}

const char *layer_isa_name(void)
{
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
    }
}

int layer_threads(void) { return omp_get_max_threads(); }

int layer_dnnl_error(dnnl_status_t s, const char *call, const char *file, int line)
{
    return base_error(BASE_EDNNL, "%s:%d: %s -> %s", file, line, call, dnnl_status2str(s));
}
