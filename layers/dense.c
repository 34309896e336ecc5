/* layers/dense.c: fully connected layer on oneDNN inner product / matmul (see dense.h). */
#include "layers/dense.h"

#include "base/status.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t layer_dense_arena_size(int in, int out)
{
    return layer_arena_size((size_t)in * out) + layer_arena_size((size_t)out);
}

float *layer_dense_w(const layer_dense_t *L) { return L->A->param + L->w_off; }
float *layer_dense_b(const layer_dense_t *L) { return L->A->param + L->b_off; }

/* An attribute carrying the fused activation as an eltwise post-op (NULL for identity). */
static int act_attr(layer_act_spec_t act, dnnl_primitive_attr_t *attr)
{
    dnnl_alg_kind_t alg;
    float alpha;
    *attr = NULL;
    if (!layer_act_dnnl_fwd(act, &alg, &alpha)) return BASE_OK;
    dnnl_post_ops_t po;
    LAYER_DNNL_TRY(dnnl_post_ops_create(&po));
    dnnl_status_t s = dnnl_post_ops_append_eltwise(po, 1.f, alg, alpha, 0.f);
    if (s == dnnl_success) s = dnnl_primitive_attr_create(attr);
    if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(*attr, po);
    dnnl_post_ops_destroy(po);
    if (s != dnnl_success) {
        if (*attr) dnnl_primitive_attr_destroy(*attr);
        *attr = NULL;
        return layer_dnnl_error(s, "post-op attribute", __FILE__, __LINE__);
    }
    return BASE_OK;
}

/* Training primitives: inner product fwd (+post-op), eltwise bwd, bwd data, bwd weights. */
static int build_train(layer_dense_t *L)
{
    const layer_dense_cfg_t *c = &L->cfg;
    dnnl_memory_desc_t x_md, w_md, b_md, y_md;
    BASE_TRY(layer_md_2d(&x_md, c->batch, c->in));
    BASE_TRY(layer_md_2d(&w_md, c->out, c->in));
    BASE_TRY(layer_md_2d(&b_md, c->out, 0));
    BASE_TRY(layer_md_2d(&y_md, c->batch, c->out));

    dnnl_inner_product_desc_t fd, bdd, bwd;
    LAYER_DNNL_TRY(dnnl_inner_product_forward_desc_init(&fd, dnnl_forward_training, &x_md, &w_md,
                                                        &b_md, &y_md));
    dnnl_primitive_attr_t attr;
    BASE_TRY(act_attr(c->act, &attr));
    dnnl_primitive_desc_t fpd = NULL;
    int rc = layer_prim_create(L->ctx, &fd, attr, NULL, &L->fwd, &fpd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (rc != BASE_OK) return rc;

    dnnl_alg_kind_t alg;
    if (layer_act_dnnl_bwd(c->act, &alg)) {
        dnnl_eltwise_desc_t ed;
        float alpha = c->act.kind == LAYER_ACT_LEAKY_RELU ? c->act.alpha : 0.f;
        if (dnnl_eltwise_backward_desc_init(&ed, alg, &y_md, &y_md, alpha, 0.f) != dnnl_success)
            rc = base_error(BASE_EDNNL, "dense: eltwise backward desc for %s",
                             layer_act_name(c->act.kind));
        if (rc == BASE_OK) rc = layer_prim_create(L->ctx, &ed, NULL, NULL, &L->bwd_act, NULL);
    }
    if (rc == BASE_OK &&
        dnnl_inner_product_backward_data_desc_init(&bdd, &x_md, &w_md, &y_md) != dnnl_success)
        rc = base_error(BASE_EDNNL, "dense: backward data desc");
    if (rc == BASE_OK) rc = layer_prim_create(L->ctx, &bdd, NULL, fpd, &L->bwd_data, NULL);
    if (rc == BASE_OK && dnnl_inner_product_backward_weights_desc_init(
                              &bwd, &x_md, &w_md, &b_md, &y_md) != dnnl_success)
        rc = base_error(BASE_EDNNL, "dense: backward weights desc");
    if (rc == BASE_OK) rc = layer_prim_create(L->ctx, &bwd, NULL, fpd, &L->bwd_w, NULL);
    dnnl_primitive_desc_destroy(fpd);

    struct { dnnl_memory_t *m; const dnnl_memory_desc_t *md; } w[] = {
        {&L->m_x, &x_md}, {&L->m_w, &w_md}, {&L->m_b, &b_md}, {&L->m_y, &y_md},
        {&L->m_dy, &y_md}, {&L->m_dx, &x_md}, {&L->m_dw, &w_md}, {&L->m_db, &b_md}};
    for (unsigned i = 0; i < sizeof w / sizeof *w && rc == BASE_OK; i++)
        rc = layer_mem_wrap(L->ctx, w[i].md, NULL, w[i].m);
    return rc;
}

/* Inference primitive: Y[n, out] = f(X[n, in] W^T[in, out] + b[1, out]) with n at run time.
 * W^T is a 'ba' view of the (out, in) row-major buffer. */
static int build_infer(layer_dense_t *L)
{
    const layer_dense_cfg_t *c = &L->cfg;
    const dnnl_dim_t RT = DNNL_RUNTIME_DIM_VAL;
    dnnl_memory_desc_t x_md, wt_md, b_md, y_md;
    LAYER_DNNL_TRY(dnnl_memory_desc_init_by_strides(&x_md, 2, (dnnl_dims_t){RT, c->in}, dnnl_f32,
                                                    (dnnl_dims_t){c->in, 1}));
    LAYER_DNNL_TRY(dnnl_memory_desc_init_by_tag(&wt_md, 2, (dnnl_dims_t){c->in, c->out}, dnnl_f32,
                                                dnnl_ba));
    LAYER_DNNL_TRY(dnnl_memory_desc_init_by_tag(&b_md, 2, (dnnl_dims_t){1, c->out}, dnnl_f32, dnnl_ab));
    LAYER_DNNL_TRY(dnnl_memory_desc_init_by_strides(&y_md, 2, (dnnl_dims_t){RT, c->out}, dnnl_f32,
                                                    (dnnl_dims_t){c->out, 1}));
    dnnl_matmul_desc_t md;
    LAYER_DNNL_TRY(dnnl_matmul_desc_init(&md, &x_md, &wt_md, &b_md, &y_md));
    dnnl_primitive_attr_t attr;
    BASE_TRY(act_attr(c->act, &attr));
    if (!attr) LAYER_DNNL_TRY(dnnl_primitive_attr_create(&attr));
    dnnl_status_t s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    dnnl_primitive_desc_t pd = NULL;
    int rc = s == dnnl_success ? layer_prim_create(L->ctx, &md, attr, NULL, &L->inf, &pd)
                               : layer_dnnl_error(s, "scratchpad mode", __FILE__, __LINE__);
    dnnl_primitive_attr_destroy(attr);
    if (rc == BASE_OK) { /* the scratchpad this layer owns */
        dnnl_memory_desc_t sp = *dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        s = dnnl_memory_create(&L->i_sp, &sp, L->ctx->eng, DNNL_MEMORY_ALLOCATE);
        if (s != dnnl_success) rc = layer_dnnl_error(s, "scratchpad memory", __FILE__, __LINE__);
    }
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (rc == BASE_OK) rc = layer_mem_wrap(L->ctx, &wt_md, NULL, &L->i_wt);
    if (rc == BASE_OK) rc = layer_mem_wrap(L->ctx, &b_md, NULL, &L->i_b);
    return rc;
}

/* Fixed-row inference k: Y[M, out] = f(X[M, in] W'[in, out] + b) for M = infer_rows[k].
 * f32: W' is the 'ba' view of W in place. bf16: W' is bf16 in the layout oneDNN picks for the
 * first size (format any), which the other sizes then take as given. */
static int build_fixed(layer_dense_t *L, int k, dnnl_memory_desc_t *w_md)
{
    const layer_dense_cfg_t *c = &L->cfg;
    const int M = c->infer_rows[k], bf = c->infer_prec == LAYER_BF16;
    const dnnl_data_type_t xt = bf ? dnnl_bf16 : dnnl_f32, yt = bf && !c->infer_dst_f32 ? dnnl_bf16 : dnnl_f32;
    dnnl_memory_desc_t x_md, b_md, y_md;
    LAYER_DNNL_TRY(dnnl_memory_desc_init_by_tag(&x_md, 2, (dnnl_dims_t){M, c->in}, xt, dnnl_ab));
    LAYER_DNNL_TRY(dnnl_memory_desc_init_by_tag(&y_md, 2, (dnnl_dims_t){M, c->out}, yt, dnnl_ab));
    LAYER_DNNL_TRY(dnnl_memory_desc_init_by_tag(&b_md, 2, (dnnl_dims_t){1, c->out}, dnnl_f32, dnnl_ab));
    if (k == 0)
        LAYER_DNNL_TRY(dnnl_memory_desc_init_by_tag(w_md, 2, (dnnl_dims_t){c->in, c->out}, xt,
                                                    bf ? dnnl_format_tag_any : dnnl_ba));
    dnnl_matmul_desc_t md;
    LAYER_DNNL_TRY(dnnl_matmul_desc_init(&md, &x_md, w_md, &b_md, &y_md));
    dnnl_primitive_attr_t attr;
    BASE_TRY(act_attr(c->act, &attr));
    if (!attr) LAYER_DNNL_TRY(dnnl_primitive_attr_create(&attr));
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    dnnl_primitive_desc_t pd = NULL;
    int rc = layer_prim_create(L->ctx, &md, attr, NULL, &L->fx[k], &pd);
    dnnl_primitive_attr_destroy(attr);
    if (rc != BASE_OK) return rc;
    if (k == 0) *w_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_memory_desc_t sp = *dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    dnnl_primitive_desc_destroy(pd);
    dnnl_status_t s = dnnl_memory_create(&L->fx_sp[k], &sp, L->ctx->eng, DNNL_MEMORY_ALLOCATE);
    if (s != dnnl_success) return layer_dnnl_error(s, "fixed-row scratchpad", __FILE__, __LINE__);
    BASE_TRY(layer_mem_wrap(L->ctx, &x_md, NULL, &L->fx_x[k]));
    return layer_mem_wrap(L->ctx, &y_md, NULL, &L->fx_y[k]);
}

/* The weights of the fixed-row path: W wrapped in place (f32), or a bf16 copy and the
 * reorder that fills it. */
static int build_fixed_weights(layer_dense_t *L, const dnnl_memory_desc_t *w_md)
{
    const layer_dense_cfg_t *c = &L->cfg;
    if (c->infer_prec != LAYER_BF16) return layer_mem_wrap(L->ctx, w_md, NULL, &L->fx_w);
    dnnl_memory_desc_t src;
    LAYER_DNNL_TRY(dnnl_memory_desc_init_by_tag(&src, 2, (dnnl_dims_t){c->in, c->out}, dnnl_f32, dnnl_ba));
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_status_t s = dnnl_memory_create(&L->fx_w, w_md, L->ctx->eng, DNNL_MEMORY_ALLOCATE);
    if (s == dnnl_success) s = dnnl_reorder_primitive_desc_create(&rpd, &src, L->ctx->eng, w_md, L->ctx->eng, NULL);
    if (s == dnnl_success) s = dnnl_primitive_create(&L->fx_pack, rpd);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (s != dnnl_success) return layer_dnnl_error(s, "bf16 weights", __FILE__, __LINE__);
    return layer_mem_wrap(L->ctx, &src, NULL, &L->fx_wsrc);
}

static int build_fixed_all(layer_dense_t *L)
{
    dnnl_memory_desc_t w_md;
    int k = 0;
    for (; k < LAYER_DENSE_FIXED && L->cfg.infer_rows[k] > 0; k++) BASE_TRY(build_fixed(L, k, &w_md));
    return k ? build_fixed_weights(L, &w_md) : BASE_OK;
}

/* Index of the largest fixed row size (sizes ascend, unused ones are 0). */
static int largest_fixed(const layer_dense_cfg_t *c)
{
    int k = LAYER_DENSE_FIXED - 1;
    while (k > 0 && c->infer_rows[k] <= 0) k--;
    return k;
}

/* Index of the fixed row size M, or -1. */
static int fixed_index(const layer_dense_cfg_t *c, int M)
{
    int k = largest_fixed(c);
    while (k >= 0 && c->infer_rows[k] != M) k--;
    return k;
}

/* Packs W for the panel GEMM and looks for the K chunk with which it gives oneDNN's rows bit
 * for bit on pseudo-random inputs in [-1, 1) (a different sum order changes most of them).
 * None: the any-row path stays off (not an error). */
static int pgemm_setup(layer_dense_t *L)
{
    /* probed against the largest size but one (8 rows of 1, 8, 64, 512), or the only one */
    const int top = largest_fixed(&L->cfg), k = top > 0 ? top - 1 : 0;
    const int in = L->cfg.in, out = L->cfg.out, M = L->cfg.infer_rows[k];
    L->pg_on = 0;
    if (!layer_pgemm_supported(L->cfg.act)) return BASE_OK;
    if (!L->pg.P) BASE_TRY(layer_pgemm_init(&L->pg, in, out, 512, L->cfg.act));
    layer_pgemm_pack(&L->pg, layer_dense_w(L), layer_dense_b(L));
    float *x = malloc((size_t)M * in * sizeof(float)), *y = malloc((size_t)M * out * sizeof(float)),
          *y1 = malloc((size_t)M * out * sizeof(float));
    int rc = x && y && y1 ? BASE_OK : base_error(BASE_ENOMEM, "dense: out of memory for the probe");
    uint32_t u = 12345u;
    for (size_t i = 0; rc == BASE_OK && i < (size_t)M * in; i++) {
        u = u * 1664525u + 1013904223u;
        x[i] = (float)(u >> 8) / 8388608.f - 1.f;
    }
    if (rc == BASE_OK) rc = layer_dense_infer_fixed(L, k, x, y);
    /* oneDNN 2.6 on AVX-512 (measured on AMD Zen 4): chunks of 512, of 1024 above K = 1024;
     * other CPUs may block K otherwise: then every chunk of 16 k up to K is tried (a one-time
     * cost at pack time) */
    const int first[] = {512, 1024, 256, in};
    for (int c = 0; rc == BASE_OK && !L->pg_on && c < 4 + in / 16; c++) {
        const int kc = c < 4 ? first[c] : 16 * (c - 3);
        if (c >= 4 && (kc == 256 || kc == 512 || kc == 1024 || kc >= in)) continue;
        L->pg.kc = kc;
        layer_pgemm_run(&L->pg, M, x, y1, 1);
        L->pg_on = memcmp(y, y1, (size_t)M * out * sizeof(float)) == 0;
    }
    free(x);
    free(y);
    free(y1);
    return rc;
}

int layer_dense_pack(layer_dense_t *L)
{
    if (!L->fx_w) return BASE_OK;
    if (!L->fx_pack) { /* f32: in place */
        LAYER_DNNL_TRY(dnnl_memory_set_data_handle(L->fx_w, layer_dense_w(L)));
        L->packed = 1;
        return pgemm_setup(L);
    }
    LAYER_DNNL_TRY(dnnl_memory_set_data_handle(L->fx_wsrc, layer_dense_w(L)));
    LAYER_DNNL_TRY(dnnl_primitive_execute(L->fx_pack, L->ctx->st, 2,
                                          (dnnl_exec_arg_t[]){{DNNL_ARG_FROM, L->fx_wsrc}, {DNNL_ARG_TO, L->fx_w}}));
    LAYER_DNNL_TRY(dnnl_stream_wait(L->ctx->st));
    L->packed = 1;
    return BASE_OK;
}

int layer_bf16_native(void) { return dnnl_get_effective_cpu_isa() >= dnnl_cpu_isa_avx512_core_bf16; }

int layer_bf16_available(void) { return dnnl_get_effective_cpu_isa() >= dnnl_cpu_isa_avx512_core; }

int layer_dense_init(layer_dense_t *L, const layer_ctx_t *ctx, layer_arena_t *A,
                     const layer_dense_cfg_t *cfg)
{
    memset(L, 0, sizeof *L);
    L->cfg = *cfg;
    L->ctx = ctx;
    L->A = A;
    if (cfg->in <= 0 || cfg->out <= 0 || cfg->batch < 0)
        return base_error(BASE_EINVAL, "dense: bad shape in=%d out=%d batch=%d", cfg->in,
                           cfg->out, cfg->batch);
    BASE_TRY(layer_arena_take(A, (size_t)cfg->in * cfg->out, &L->w_off));
    BASE_TRY(layer_arena_take(A, (size_t)cfg->out, &L->b_off));
    int rc = cfg->batch > 0 ? build_train(L) : BASE_OK;
    if (rc == BASE_OK) rc = build_infer(L);
    if (rc == BASE_OK) rc = build_fixed_all(L);
    if (rc != BASE_OK) layer_dense_free(L);
    return rc;
}

void layer_dense_free(layer_dense_t *L)
{
    if (!L) return;
    layer_prims_free(&L->fwd, 1);
    layer_prims_free(&L->bwd_act, 1);
    layer_prims_free(&L->bwd_data, 1);
    layer_prims_free(&L->bwd_w, 1);
    layer_prims_free(&L->inf, 1);
    layer_prims_free(L->fx, LAYER_DENSE_FIXED);
    layer_prims_free(&L->fx_pack, 1);
    layer_pgemm_free(&L->pg);
    dnnl_memory_t *m[] = {&L->m_x, &L->m_w,  &L->m_b,  &L->m_y, &L->m_dy, &L->m_dx, &L->m_dw,
                          &L->m_db, &L->i_x, &L->i_wt, &L->i_b, &L->i_y, &L->i_sp, &L->fx_w, &L->fx_wsrc};
    for (unsigned i = 0; i < sizeof m / sizeof *m; i++) layer_mems_free(m[i], 1);
    layer_mems_free(L->fx_x, LAYER_DENSE_FIXED);
    layer_mems_free(L->fx_y, LAYER_DENSE_FIXED);
    layer_mems_free(L->fx_sp, LAYER_DENSE_FIXED);
    memset(L, 0, sizeof *L);
}

void layer_dense_init_params(layer_dense_t *L, base_rng_t *r)
{
    const layer_dense_cfg_t *c = &L->cfg;
    double var;
    if (c->act.kind == LAYER_ACT_RELU || c->act.kind == LAYER_ACT_LEAKY_RELU) {
        double a = c->act.kind == LAYER_ACT_LEAKY_RELU ? c->act.alpha : 0.0;
        var = 2.0 / (1.0 + a * a) / c->in;
    } else {
        var = 2.0 / (c->in + c->out);
    }
    float *w = layer_dense_w(L);
    size_t n = (size_t)c->in * c->out;
    base_rng_normal(r, w, n);
    float sd = (float)sqrt(var);
    for (size_t i = 0; i < n; i++) w[i] *= sd;
    memset(layer_dense_b(L), 0, (size_t)c->out * sizeof(float));
}

void layer_dense_init_params_normal(layer_dense_t *L, base_rng_t *r, float sd)
{
    const size_t n = (size_t)L->cfg.in * L->cfg.out;
    float *w = layer_dense_w(L);
    base_rng_normal(r, w, n);
    for (size_t i = 0; i < n; i++) w[i] *= sd;
    memset(layer_dense_b(L), 0, (size_t)L->cfg.out * sizeof(float));
}

void layer_dense_init_params_glorot_uniform(layer_dense_t *L, base_rng_t *r)
{
    const size_t n = (size_t)L->cfg.in * L->cfg.out;
    const float a = (float)sqrt(6.0 / (L->cfg.in + L->cfg.out));
    float *w = layer_dense_w(L);
    base_rng_uniform(r, w, n);
    for (size_t i = 0; i < n; i++) w[i] = a * (2 * w[i] - 1);
    memset(layer_dense_b(L), 0, (size_t)L->cfg.out * sizeof(float));
}

void layer_dense_init_params_torch(layer_dense_t *L, base_rng_t *r)
{
    const size_t n = (size_t)L->cfg.in * L->cfg.out;
    const float a = (float)(1.0 / sqrt((double)L->cfg.in));
    float *w = layer_dense_w(L), *b = layer_dense_b(L);
    base_rng_uniform(r, w, n);
    for (size_t i = 0; i < n; i++) w[i] = a * (2 * w[i] - 1);
    base_rng_uniform(r, b, (size_t)L->cfg.out);
    for (int o = 0; o < L->cfg.out; o++) b[o] = a * (2 * b[o] - 1);
}

static int exec(const layer_ctx_t *ctx, dnnl_primitive_t p, int nargs, const dnnl_exec_arg_t *args)
{
    LAYER_DNNL_TRY(dnnl_primitive_execute(p, ctx->st, nargs, args));
    return BASE_OK;
}

static int set(dnnl_memory_t m, const void *p)
{
    LAYER_DNNL_TRY(dnnl_memory_set_data_handle(m, (void *)p));
    return BASE_OK;
}

int layer_dense_forward(layer_dense_t *L, const float *x, float *y)
{
    if (!L->fwd) return base_error(BASE_EINVAL, "dense: forward needs a training layer (batch > 0)");
    BASE_TRY(set(L->m_x, x));
    BASE_TRY(set(L->m_w, layer_dense_w(L)));
    BASE_TRY(set(L->m_b, layer_dense_b(L)));
    BASE_TRY(set(L->m_y, y));
    BASE_TRY(exec(L->ctx, L->fwd, 4,
                   (dnnl_exec_arg_t[]){{DNNL_ARG_SRC, L->m_x}, {DNNL_ARG_WEIGHTS, L->m_w},
                                       {DNNL_ARG_BIAS, L->m_b}, {DNNL_ARG_DST, L->m_y}}));
    LAYER_DNNL_TRY(dnnl_stream_wait(L->ctx->st));
    return BASE_OK;
}

int layer_dense_backward(layer_dense_t *L, const float *x, const float *y, float *dy, float *dx)
{
    if (!L->fwd) return base_error(BASE_EINVAL, "dense: backward needs a training layer (batch > 0)");
    const layer_dense_cfg_t *c = &L->cfg;
    BASE_TRY(set(L->m_x, x));
    BASE_TRY(set(L->m_y, y));
    BASE_TRY(set(L->m_dy, dy));
    BASE_TRY(set(L->m_w, layer_dense_w(L)));
    BASE_TRY(set(L->m_dw, L->A->grad + L->w_off));
    BASE_TRY(set(L->m_db, L->A->grad + L->b_off));
    /* dy <- dy * f'(pre) computed from y (in place) */
    if (L->bwd_act)
        BASE_TRY(exec(L->ctx, L->bwd_act, 3,
                       (dnnl_exec_arg_t[]){{DNNL_ARG_DST, L->m_y}, {DNNL_ARG_DIFF_DST, L->m_dy},
                                           {DNNL_ARG_DIFF_SRC, L->m_dy}}));
    else
        layer_act_backward_c(c->act, dy, y, (size_t)c->batch * c->out);
    /* dW = dy^T x, db = sum_b dy */
    BASE_TRY(exec(L->ctx, L->bwd_w, 4,
                   (dnnl_exec_arg_t[]){{DNNL_ARG_SRC, L->m_x}, {DNNL_ARG_DIFF_DST, L->m_dy},
                                       {DNNL_ARG_DIFF_WEIGHTS, L->m_dw},
                                       {DNNL_ARG_DIFF_BIAS, L->m_db}}));
    /* dx = dy W */
    if (dx) {
        BASE_TRY(set(L->m_dx, dx));
        BASE_TRY(exec(L->ctx, L->bwd_data, 3,
                       (dnnl_exec_arg_t[]){{DNNL_ARG_DIFF_DST, L->m_dy},
                                           {DNNL_ARG_WEIGHTS, L->m_w},
                                           {DNNL_ARG_DIFF_SRC, L->m_dx}}));
    }
    LAYER_DNNL_TRY(dnnl_stream_wait(L->ctx->st));
    return BASE_OK;
}

/* (Re)creates the (n, in) and (n, out) memory objects of the inference matmul. */
static int infer_mems(layer_dense_t *L, int n)
{
    if (L->i_n == n) return BASE_OK;
    layer_mems_free(&L->i_x, 1);
    layer_mems_free(&L->i_y, 1);
    L->i_n = 0;
    dnnl_memory_desc_t x_md, y_md;
    BASE_TRY(layer_md_2d(&x_md, n, L->cfg.in));
    BASE_TRY(layer_md_2d(&y_md, n, L->cfg.out));
    BASE_TRY(layer_mem_wrap(L->ctx, &x_md, NULL, &L->i_x));
    BASE_TRY(layer_mem_wrap(L->ctx, &y_md, NULL, &L->i_y));
    L->i_n = n;
    return BASE_OK;
}

int layer_dense_infer(layer_dense_t *L, int n, const float *x, float *y)
{
    if (n <= 0) return base_error(BASE_EINVAL, "dense: infer with n = %d", n);
    BASE_TRY(infer_mems(L, n));
    BASE_TRY(set(L->i_wt, layer_dense_w(L)));
    BASE_TRY(set(L->i_x, x));
    BASE_TRY(set(L->i_y, y));
    BASE_TRY(set(L->i_b, layer_dense_b(L)));
    BASE_TRY(exec(L->ctx, L->inf, 5,
                   (dnnl_exec_arg_t[]){{DNNL_ARG_SRC, L->i_x}, {DNNL_ARG_WEIGHTS, L->i_wt},
                                       {DNNL_ARG_BIAS, L->i_b}, {DNNL_ARG_DST, L->i_y},
                                       {DNNL_ARG_SCRATCHPAD, L->i_sp}}));
    LAYER_DNNL_TRY(dnnl_stream_wait(L->ctx->st));
    return BASE_OK;
}

int layer_dense_infer_fixed(layer_dense_t *L, int k, const void *x, void *y)
{
    if (k < 0 || k >= LAYER_DENSE_FIXED || !L->fx[k] || !L->packed)
        return base_error(BASE_EINVAL, "dense: no packed fixed-row primitive %d", k);
    BASE_TRY(set(L->fx_x[k], x));
    BASE_TRY(set(L->fx_y[k], y));
    BASE_TRY(set(L->i_b, layer_dense_b(L)));
    BASE_TRY(exec(L->ctx, L->fx[k], 5,
                   (dnnl_exec_arg_t[]){{DNNL_ARG_SRC, L->fx_x[k]}, {DNNL_ARG_WEIGHTS, L->fx_w},
                                       {DNNL_ARG_BIAS, L->i_b}, {DNNL_ARG_DST, L->fx_y[k]},
                                       {DNNL_ARG_SCRATCHPAD, L->fx_sp[k]}}));
    LAYER_DNNL_TRY(dnnl_stream_wait(L->ctx->st));
    return BASE_OK;
}

int layer_dense_any_rows(const layer_dense_t *L) { return L->packed && L->pg_on; }

int layer_dense_infer_rows(layer_dense_t *L, int M, const void *x, void *y)
{
    const int top = L->cfg.infer_rows[largest_fixed(&L->cfg)];
    if (M < 1 || M > top) return base_error(BASE_EINVAL, "dense: %d rows on the row path (1..%d)", M, top);
    if (M == top || !layer_dense_any_rows(L)) {
        const int k = fixed_index(&L->cfg, M);
        if (k < 0) return base_error(BASE_EINVAL, "dense: no fixed-row primitive for %d rows", M);
        return layer_dense_infer_fixed(L, k, x, y);
    }
    layer_pgemm_run(&L->pg, M, x, y, omp_get_max_threads());
    return BASE_OK;
}
