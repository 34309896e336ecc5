/* layers/bnorm.c: batch normalisation (see bnorm.h). */
#include "layers/bnorm.h"

#include "base/status.h"

#include <stdlib.h>
#include <string.h>

size_t layer_bnorm_arena_size(int C) { return 2 * layer_arena_size((size_t)C); }

static int build(layer_bnorm_t *L)
{
    dnnl_memory_desc_t x_md, c_md;
    BASE_TRY(layer_md_2d(&x_md, L->B, L->C));
    BASE_TRY(layer_md_2d(&c_md, L->C, 0));
    const unsigned flags = dnnl_use_scale | dnnl_use_shift;
    dnnl_batch_normalization_desc_t ft, fi, bd;
    LAYER_DNNL_TRY(dnnl_batch_normalization_forward_desc_init(&ft, dnnl_forward_training, &x_md,
                                                              L->eps, flags));
    LAYER_DNNL_TRY(dnnl_batch_normalization_forward_desc_init(
        &fi, dnnl_forward_inference, &x_md, L->eps, flags | dnnl_use_global_stats));
    LAYER_DNNL_TRY(dnnl_batch_normalization_backward_desc_init(&bd, dnnl_backward, &x_md, &x_md,
                                                               L->eps, flags));
    dnnl_primitive_desc_t fpd = NULL;
    int rc = layer_prim_create(L->ctx, &ft, NULL, NULL, &L->fwd_train, &fpd);
    if (rc == BASE_OK) rc = layer_prim_create(L->ctx, &fi, NULL, NULL, &L->fwd_infer, NULL);
    if (rc == BASE_OK) rc = layer_prim_create(L->ctx, &bd, NULL, fpd, &L->bwd, NULL);
    if (fpd) dnnl_primitive_desc_destroy(fpd);
    struct { dnnl_memory_t *m; const dnnl_memory_desc_t *md; } w[] = {
        {&L->m_x, &x_md},    {&L->m_y, &x_md},   {&L->m_g, &c_md},  {&L->m_b, &c_md},
        {&L->m_mean, &c_md}, {&L->m_var, &c_md}, {&L->m_dy, &x_md}, {&L->m_dx, &x_md},
        {&L->m_dg, &c_md},   {&L->m_db, &c_md}};
    for (unsigned i = 0; i < sizeof w / sizeof *w && rc == BASE_OK; i++)
        rc = layer_mem_wrap(L->ctx, w[i].md, NULL, w[i].m);
    return rc;
}

int layer_bnorm_init(layer_bnorm_t *L, const layer_ctx_t *ctx, layer_arena_t *A, const layer_bnorm_cfg_t *cfg)
{
    const int B = cfg->B, C = cfg->C;
    const float eps = cfg->eps, momentum = cfg->momentum;
    memset(L, 0, sizeof *L);
    L->ctx = ctx;
    L->A = A;
    L->B = B;
    L->C = C;
    L->eps = eps;
    L->momentum = momentum;
    if (B == 1 || B < 0 || C <= 0)
        return base_error(BASE_EINVAL, "bnorm: needs batch >= 2 (or 0) and C > 0 (got %d, %d)", B, C);
    BASE_TRY(layer_arena_take(A, (size_t)C, &L->g_off));
    BASE_TRY(layer_arena_take(A, (size_t)C, &L->b_off));
    L->run_mean = calloc((size_t)C, sizeof(float));
    L->run_var = calloc((size_t)C, sizeof(float));
    L->bmean = calloc((size_t)C, sizeof(float));
    L->bvar = calloc((size_t)C, sizeof(float));
    int rc = !(L->run_mean && L->run_var && L->bmean && L->bvar) ? base_error(BASE_ENOMEM, "bnorm: out of memory")
             : B > 0 ? build(L) : BASE_OK;
    if (rc != BASE_OK) layer_bnorm_free(L);
    return rc;
}

void layer_bnorm_free(layer_bnorm_t *L)
{
    if (!L) return;
    layer_prims_free(&L->fwd_train, 1);
    layer_prims_free(&L->fwd_infer, 1);
    layer_prims_free(&L->bwd, 1);
    dnnl_memory_t *m[] = {&L->m_x,   &L->m_y,  &L->m_g,  &L->m_b,  &L->m_mean,
                          &L->m_var, &L->m_dy, &L->m_dx, &L->m_dg, &L->m_db};
    for (unsigned i = 0; i < sizeof m / sizeof *m; i++) layer_mems_free(m[i], 1);
    free(L->run_mean);
    free(L->run_var);
    free(L->bmean);
    free(L->bvar);
    memset(L, 0, sizeof *L);
}

void layer_bnorm_init_params(layer_bnorm_t *L)
{
    float *g = L->A->param + L->g_off, *b = L->A->param + L->b_off;
    for (int c = 0; c < L->C; c++) {
        g[c] = 1.f;
        b[c] = 0.f;
        L->run_mean[c] = 0.f;
        L->run_var[c] = 1.f;
    }
}

static int set(dnnl_memory_t m, const void *p)
{
    LAYER_DNNL_TRY(dnnl_memory_set_data_handle(m, (void *)p));
    return BASE_OK;
}

/* Points x, y, gamma, beta, mean, var at their buffers and runs prim. */
static int run_fwd(layer_bnorm_t *L, dnnl_primitive_t prim, const float *x, float *y,
                   float *mean, float *var)
{
    BASE_TRY(set(L->m_x, x));
    BASE_TRY(set(L->m_y, y));
    BASE_TRY(set(L->m_g, L->A->param + L->g_off));
    BASE_TRY(set(L->m_b, L->A->param + L->b_off));
    BASE_TRY(set(L->m_mean, mean));
    BASE_TRY(set(L->m_var, var));
    LAYER_DNNL_TRY(dnnl_primitive_execute(
        prim, L->ctx->st, 6,
        (dnnl_exec_arg_t[]){{DNNL_ARG_SRC, L->m_x}, {DNNL_ARG_DST, L->m_y},
                            {DNNL_ARG_SCALE, L->m_g}, {DNNL_ARG_SHIFT, L->m_b},
                            {DNNL_ARG_MEAN, L->m_mean}, {DNNL_ARG_VARIANCE, L->m_var}}));
    LAYER_DNNL_TRY(dnnl_stream_wait(L->ctx->st));
    return BASE_OK;
}

int layer_bnorm_forward_train(layer_bnorm_t *L, const float *x, float *y)
{
    BASE_TRY(run_fwd(L, L->fwd_train, x, y, L->bmean, L->bvar));
    const float m = L->momentum, unbias = (float)L->B / (float)(L->B - 1);
    for (int c = 0; c < L->C; c++) {
        L->run_mean[c] = (1.f - m) * L->run_mean[c] + m * L->bmean[c];
        L->run_var[c] = (1.f - m) * L->run_var[c] + m * L->bvar[c] * unbias;
    }
    return BASE_OK;
}

int layer_bnorm_forward_infer(layer_bnorm_t *L, const float *x, float *y)
{
    return run_fwd(L, L->fwd_infer, x, y, L->run_mean, L->run_var);
}

int layer_bnorm_backward(layer_bnorm_t *L, const float *x, const float *dy, float *dx)
{
    BASE_TRY(set(L->m_x, x));
    BASE_TRY(set(L->m_dy, dy));
    BASE_TRY(set(L->m_dx, dx));
    BASE_TRY(set(L->m_g, L->A->param + L->g_off));
    BASE_TRY(set(L->m_b, L->A->param + L->b_off)); /* 2.6 wants SHIFT too (unused) */
    BASE_TRY(set(L->m_mean, L->bmean));
    BASE_TRY(set(L->m_var, L->bvar));
    BASE_TRY(set(L->m_dg, L->A->grad + L->g_off));
    BASE_TRY(set(L->m_db, L->A->grad + L->b_off));
    LAYER_DNNL_TRY(dnnl_primitive_execute(
        L->bwd, L->ctx->st, 9,
        (dnnl_exec_arg_t[]){{DNNL_ARG_SRC, L->m_x}, {DNNL_ARG_DIFF_DST, L->m_dy},
                            {DNNL_ARG_SCALE, L->m_g}, {DNNL_ARG_MEAN, L->m_mean},
                            {DNNL_ARG_VARIANCE, L->m_var}, {DNNL_ARG_DIFF_SRC, L->m_dx},
                            {DNNL_ARG_DIFF_SCALE, L->m_dg}, {DNNL_ARG_DIFF_SHIFT, L->m_db},
                            {DNNL_ARG_SHIFT, L->m_b}}));
    LAYER_DNNL_TRY(dnnl_stream_wait(L->ctx->st));
    return BASE_OK;
}
