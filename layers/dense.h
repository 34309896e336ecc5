/* layers/dense.h: fully connected layer y = f(x W^T + b) on oneDNN 2.6.
 *
 * Shapes: x (B, in), W (out, in) row-major as in PyTorch, b (out), y (B, out), all f32.
 * W and b live in a layer_arena_t (offsets w_off, b_off); their gradients land at the
 * same offsets in the arena's grad buffer.
 *
 * Two modes, chosen at init, both with every primitive created there and never again:
 *  - training (cfg.batch = B > 0): inner-product forward with the activation fused as a
 *    post-op, and backward = eltwise *_use_dst_for_bwd on dy (in place) + inner-product
 *    backward-data + backward-weights (which also yields the bias gradient). Fixed batch B.
 *  - inference (always built): a matmul with a run-time batch size (DNNL_RUNTIME_DIM_VAL)
 *    over the transposed view of the same W, with bias and fused activation, so one
 *    primitive serves batch 1 as well as 10000.
 *  - fixed-row inference (cfg.infer_rows): one matmul per listed row count M. In f32 they read
 *    W in place; oneDNN 2.6 runs all of them on its brgemm kernels, which compute each row
 *    with the same sums whatever M is (checked bit for bit by tests/test_dense.c), so a
 *    caller may split a batch into any of these sizes and get the same rows. In bf16
 *    (cfg.infer_prec) W is converted once (layer_dense_pack) into a bf16 copy in the layout
 *    oneDNN picks, x is bf16, y is bf16 (or f32 for cfg.infer_dst_f32): half the weight
 *    bytes, for CPUs with AVX512-BF16 (oneDNN emulates it on plain AVX-512).
 *  - any-row inference (f32 fixed-row layers, AVX-512, identity/relu/leaky relu): a packed
 *    copy of W for the panel GEMM (layers/pgemm.h), which serves any row count M. At each
 *    layer_dense_pack the layer probes the K chunk for which the panel GEMM computes the
 *    largest-but-one fixed size bit for bit as oneDNN does (it does on AVX-512 CPUs with
 *    oneDNN 2.6: chunks of 512, of 1024 above K = 1024); only then is the path on
 *    (layer_dense_any_rows), so rows stay the same whichever engine computes them. It costs a
 *    second copy of W.
 *
 * Gradients are written, not accumulated: layer_dense_backward overwrites dW, db (and dx).
 * Not thread safe: one thread per layer (see ctx.h). The inference matmul runs with its own
 * (user-mode) scratchpad, so layers of different contexts may run concurrently even when
 * oneDNN's primitive cache hands them the same kernel.
 */
#ifndef LAYERS_DENSE_H
#define LAYERS_DENSE_H

#include "layers/act.h"
#include "layers/arena.h"
#include "layers/ctx.h"
#include "layers/pgemm.h"
#include "base/rng.h"

#define LAYER_DENSE_FIXED 4

typedef enum { LAYER_F32 = 0, LAYER_BF16 = 1 } layer_prec_t;

typedef struct {
    int in, out;          /* feature sizes */
    int batch;            /* training batch B; 0 = inference only */
    layer_act_spec_t act; /* fused activation */
    int infer_rows[LAYER_DENSE_FIXED]; /* fixed-row inference sizes, 0 = unused */
    layer_prec_t infer_prec;           /* precision of the fixed-row path */
    int infer_dst_f32;                 /* bf16 path: write f32 output (a chain's head) */
} layer_dense_cfg_t;

typedef struct {
    layer_dense_cfg_t cfg;
    const layer_ctx_t *ctx;
    layer_arena_t *A;     /* not owned */
    size_t w_off, b_off;  /* W (out, in) and b (out) in A */
    /* training primitives (owned, NULL in inference-only mode) */
    dnnl_primitive_t fwd, bwd_act, bwd_data, bwd_w;
    dnnl_memory_t m_x, m_w, m_b, m_y, m_dy, m_dx, m_dw, m_db; /* owned wrappers */
    /* inference: run-time-batch matmul (owned); memories rebuilt only when n changes */
    dnnl_primitive_t inf;
    dnnl_memory_t i_x, i_wt, i_b, i_y;
    dnnl_memory_t i_sp; /* owned scratchpad of the inference matmul (user mode) */
    /* fixed-row inference: one primitive, memories and scratchpad per size */
    dnnl_primitive_t fx[LAYER_DENSE_FIXED];
    dnnl_memory_t fx_x[LAYER_DENSE_FIXED], fx_y[LAYER_DENSE_FIXED], fx_sp[LAYER_DENSE_FIXED];
    dnnl_memory_t fx_w;                  /* f32: wraps W in place; bf16: owned converted copy */
    dnnl_primitive_t fx_pack;            /* bf16: reorder W (f32) -> fx_w */
    dnnl_memory_t fx_wsrc;
    int packed;
    layer_pgemm_t pg;                    /* any-row path (owned), valid when pg_on */
    int pg_on;
    int i_n;
} layer_dense_t;

/* Arena floats needed by one dense layer (W and b, each aligned). */
size_t layer_dense_arena_size(int in, int out);

/* Reserves W and b in A and builds the primitives. Parameters are left as found in the
 * arena (zero for a fresh arena): call layer_dense_init_params or load them. */
int layer_dense_init(layer_dense_t *L, const layer_ctx_t *ctx, layer_arena_t *A,
                     const layer_dense_cfg_t *cfg);
void layer_dense_free(layer_dense_t *L);

/* W ~ N(0, g^2 / in) with g^2 = 2 / (1 + alpha^2) for (leaky) ReLU (He et al. 2015),
 * else Glorot: W ~ N(0, 2 / (in + out)); b = 0. Draws from r. */
void layer_dense_init_params(layer_dense_t *L, base_rng_t *r);
/* Keras' initialisers (Par04): W ~ N(0, sd^2) (RandomNormal), or Glorot uniform
 * W ~ U(-a, a), a = sqrt(6 / (in + out)); b = 0. Draws from r. */
void layer_dense_init_params_normal(layer_dense_t *L, base_rng_t *r, float sd);
void layer_dense_init_params_glorot_uniform(layer_dense_t *L, base_rng_t *r);
/* PyTorch's torch.nn.Linear default (reset_parameters: kaiming_uniform_ with a = sqrt 5, and
 * the bias bound): W ~ U(-a, a) and b ~ U(-a, a), a = 1 / sqrt(in). Draws from r. */
void layer_dense_init_params_torch(layer_dense_t *L, base_rng_t *r);

/* Pointers into the arena. */
float *layer_dense_w(const layer_dense_t *L);
float *layer_dense_b(const layer_dense_t *L);

/* x: (B, in) -> y: (B, out) = f(x W^T + b). Training mode only. */
int layer_dense_forward(layer_dense_t *L, const float *x, float *y);

/* x: (B, in), y: (B, out) from forward, dy: (B, out) dL/dy -> overwritten with dL/d(pre-act);
 * dx: (B, in) = dL/dx, or NULL to skip; dW, db written into A->grad. Training mode only. */
int layer_dense_backward(layer_dense_t *L, const float *x, const float *y, float *dy, float *dx);

/* Makes the fixed-row path see the current W (bf16: converts it); call after W changes. */
int layer_dense_pack(layer_dense_t *L);

/* x: (n, in) -> y: (n, out), any n >= 1, f32, on the run-time-batch matmul. */
int layer_dense_infer(layer_dense_t *L, int n, const float *x, float *y);

/* x: (M, in) -> y: (M, out) on the fixed-row primitive k (M = cfg.infer_rows[k]); x and y are
 * f32 or bf16 (uint16_t) as cfg.infer_prec and cfg.infer_dst_f32 say. Needs layer_dense_pack. */
int layer_dense_infer_fixed(layer_dense_t *L, int k, const void *x, void *y);

/* Whether the any-row path is on (see the header comment); needs layer_dense_pack. */
int layer_dense_any_rows(const layer_dense_t *L);

/* x: (M, in) -> y: (M, out), 1 <= M <= the largest fixed size, in the layer's fixed-row
 * precision (f32 or bf16 as layer_dense_infer_fixed): the largest size on its oneDNN primitive,
 * any other M on the panel GEMM (any-row path, f32) or, when that is off (bf16 always), on the
 * fixed size equal to M (BASE_EINVAL if there is none). Same rows either way. Threads: the
 * calling thread's OpenMP count. */
int layer_dense_infer_rows(layer_dense_t *L, int M, const void *x, void *y);

/* Whether this CPU runs bf16 natively (AVX512-BF16 or AMX), and whether oneDNN can run it at
 * all here (natively or emulated on AVX-512). */
int layer_bf16_native(void);
int layer_bf16_available(void);

#endif
