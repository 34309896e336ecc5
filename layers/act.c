/* layers/act.c: activations (see act.h). */
#include "layers/act.h"

#include "base/status.h"

#include <math.h>
#include <string.h>

static const char *const act_names[] = {"identity", "relu",  "leaky_relu",
                                        "sigmoid",  "tanh",  "softplus"};

const char *layer_act_name(layer_act_kind_t kind)
{
    return (unsigned)kind < sizeof act_names / sizeof *act_names ? act_names[kind] : "?";
}

int layer_act_parse(const char *name, layer_act_kind_t *kind)
{
    for (unsigned i = 0; i < sizeof act_names / sizeof *act_names; i++)
        if (strcmp(name, act_names[i]) == 0) {
            *kind = (layer_act_kind_t)i;
            return BASE_OK;
        }
    return base_error(BASE_EINVAL, "unknown activation '%s' (identity, relu, leaky_relu, "
                                     "sigmoid, tanh, softplus)", name);
}

int layer_act_dnnl_fwd(layer_act_spec_t spec, dnnl_alg_kind_t *alg, float *alpha)
{
    *alpha = 0.f;
    switch (spec.kind) {
    case LAYER_ACT_RELU: *alg = dnnl_eltwise_relu; return 1;
    case LAYER_ACT_LEAKY_RELU: *alg = dnnl_eltwise_relu; *alpha = spec.alpha; return 1;
    case LAYER_ACT_SIGMOID: *alg = dnnl_eltwise_logistic; return 1;
    case LAYER_ACT_TANH: *alg = dnnl_eltwise_tanh; return 1;
    case LAYER_ACT_SOFTPLUS: *alg = dnnl_eltwise_soft_relu; return 1;
    default: return 0;
    }
}

int layer_act_dnnl_bwd(layer_act_spec_t spec, dnnl_alg_kind_t *alg)
{
    switch (spec.kind) {
    case LAYER_ACT_RELU:
    case LAYER_ACT_LEAKY_RELU: *alg = dnnl_eltwise_relu_use_dst_for_bwd; return 1;
    case LAYER_ACT_SIGMOID: *alg = dnnl_eltwise_logistic_use_dst_for_bwd; return 1;
    case LAYER_ACT_TANH: *alg = dnnl_eltwise_tanh_use_dst_for_bwd; return 1;
    default: return 0;
    }
}

void layer_act_backward_c(layer_act_spec_t spec, float *dy, const float *y, size_t n)
{
    switch (spec.kind) {
    case LAYER_ACT_IDENTITY: break;
    case LAYER_ACT_RELU:
        for (size_t i = 0; i < n; i++) dy[i] = y[i] > 0.f ? dy[i] : 0.f;
        break;
    case LAYER_ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) dy[i] = y[i] > 0.f ? dy[i] : spec.alpha * dy[i];
        break;
    case LAYER_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) dy[i] *= y[i] * (1.f - y[i]);
        break;
    case LAYER_ACT_TANH:
        for (size_t i = 0; i < n; i++) dy[i] *= 1.f - y[i] * y[i];
        break;
    case LAYER_ACT_SOFTPLUS: /* d softplus/dx = sigmoid(x) = 1 - exp(-y) = -expm1(-y) */
#pragma omp parallel for simd schedule(static) if (n > 65536)
        for (size_t i = 0; i < n; i++) dy[i] *= -expm1f(-y[i]);
        break;
    }
}

int layer_act_init(layer_act_t *L, const layer_ctx_t *ctx, layer_arena_t *A, const layer_act_cfg_t *cfg)
{
    (void)A;
    const layer_act_spec_t spec = cfg->spec;
    const int B = cfg->B, C = cfg->C;
    memset(L, 0, sizeof *L);
    L->ctx = ctx;
    L->spec = spec;
    L->B = B;
    L->C = C;
    if (B <= 0 || C <= 0) return base_error(BASE_EINVAL, "act: bad shape (%d, %d)", B, C);
    dnnl_memory_desc_t md;
    BASE_TRY(layer_md_2d(&md, B, C));
    dnnl_alg_kind_t alg;
    float alpha;
    int rc = BASE_OK;
    if (layer_act_dnnl_fwd(spec, &alg, &alpha)) {
        dnnl_eltwise_desc_t fd;
        dnnl_primitive_desc_t fpd = NULL;
        LAYER_DNNL_TRY(dnnl_eltwise_forward_desc_init(&fd, dnnl_forward_training, alg, &md, alpha, 0.f));
        rc = layer_prim_create(ctx, &fd, NULL, NULL, &L->fwd, &fpd);
        if (rc == BASE_OK && layer_act_dnnl_bwd(spec, &alg)) {
            dnnl_eltwise_desc_t bd;
            dnnl_status_t s = dnnl_eltwise_backward_desc_init(&bd, alg, &md, &md, alpha, 0.f);
            rc = s == dnnl_success ? layer_prim_create(ctx, &bd, NULL, fpd, &L->bwd, NULL)
                                   : layer_dnnl_error(s, "eltwise_backward_desc_init", __FILE__, __LINE__);
        }
        if (fpd) dnnl_primitive_desc_destroy(fpd);
    }
    dnnl_memory_t *mems[] = {&L->m_x, &L->m_y, &L->m_dy, &L->m_dx};
    for (int i = 0; i < 4 && rc == BASE_OK; i++) rc = layer_mem_wrap(ctx, &md, NULL, mems[i]);
    if (rc != BASE_OK) layer_act_free(L);
    return rc;
}

void layer_act_free(layer_act_t *L)
{
    if (!L) return;
    layer_prims_free(&L->fwd, 1);
    layer_prims_free(&L->bwd, 1);
    dnnl_memory_t *m[] = {&L->m_x, &L->m_y, &L->m_dy, &L->m_dx};
    for (unsigned i = 0; i < sizeof m / sizeof *m; i++) layer_mems_free(m[i], 1);
    memset(L, 0, sizeof *L);
}

int layer_act_forward(layer_act_t *L, const float *x, float *y)
{
    size_t n = (size_t)L->B * L->C;
    if (!L->fwd) {
        if (x != y) memcpy(y, x, n * sizeof *y);
        return BASE_OK;
    }
    LAYER_DNNL_TRY(dnnl_memory_set_data_handle(L->m_x, (void *)x));
    LAYER_DNNL_TRY(dnnl_memory_set_data_handle(L->m_y, y));
    LAYER_DNNL_TRY(dnnl_primitive_execute(L->fwd, L->ctx->st, 2,
                                          (dnnl_exec_arg_t[]){{DNNL_ARG_SRC, L->m_x},
                                                              {DNNL_ARG_DST, L->m_y}}));
    LAYER_DNNL_TRY(dnnl_stream_wait(L->ctx->st));
    return BASE_OK;
}

int layer_act_backward(layer_act_t *L, const float *y, float *dy, float *dx)
{
    size_t n = (size_t)L->B * L->C;
    if (!L->bwd) {
        if (dx != dy) memcpy(dx, dy, n * sizeof *dx);
        layer_act_backward_c(L->spec, dx, y, n);
        return BASE_OK;
    }
    LAYER_DNNL_TRY(dnnl_memory_set_data_handle(L->m_y, (void *)y));
    LAYER_DNNL_TRY(dnnl_memory_set_data_handle(L->m_dy, dy));
    LAYER_DNNL_TRY(dnnl_memory_set_data_handle(L->m_dx, dx));
    LAYER_DNNL_TRY(dnnl_primitive_execute(L->bwd, L->ctx->st, 3,
                                          (dnnl_exec_arg_t[]){{DNNL_ARG_DST, L->m_y},
                                                              {DNNL_ARG_DIFF_DST, L->m_dy},
                                                              {DNNL_ARG_DIFF_SRC, L->m_dx}}));
    LAYER_DNNL_TRY(dnnl_stream_wait(L->ctx->st));
    return BASE_OK;
}
