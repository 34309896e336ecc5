/* vae/infer.h: the encoder and decoder for inference at any batch size, with batch norm folded.
 *
 * Every hidden block becomes one dense layer with its activation fused: for batch norm with
 * running statistics (mu, var), scale s = gamma / sqrt(var + eps) and
 *     W' = diag(s) W,   b' = s (b - mu) + beta,
 * which is exact; a batch norm after the activation (Par04's order) folds into the next
 * layer's input instead: W' = W diag(s), b' = b + W (beta - s mu). Each dense layer has a run-time-batch matmul (layers/dense.h) for the
 * encoder and any batch of up to max_n rows, and the decoder also has fixed-row primitives for
 * the sizes in VAE_INFER_ROWS, built once: generation splits its batches into these sizes
 * (generate.h). In f32 every size computes a row with the same sums, so showers do not depend
 * on the split, and where the panel GEMM reproduces those sums (any_rows, layers/dense.h) a
 * chunk may have any size up to the largest, with no padding; the decoder may instead run in bf16 (precision LAYER_BF16: the hidden
 * activations are bf16 too, the head writes f32). With MC dropout (K stochastic passes),
 * dropout stays on between blocks (Gal and Ghahramani 2016; f32 only).
 * Buffers hold max(max_n, the largest fixed size) rows; the weights are copies (the source
 * model may be freed).
 */
#ifndef VAE_INFER_H
#define VAE_INFER_H

#include "vae/model.h"

typedef struct {
    int n, in, out[VAE_MAX_HIDDEN + 1]; /* blocks + head */
    layer_dense_t d[VAE_MAX_HIDDEN + 1];
} vae_chain_t;

/* fixed decoder row counts, ascending (generation pads a batch's tail up to one of them) */
#define VAE_INFER_MAX_ROWS 512
#define VAE_INFER_ROWS {1, 8, 64, VAE_INFER_MAX_ROWS}

typedef struct {
    vae_config_t cfg;
    int E, O, max_n;
    int rows[LAYER_DENSE_FIXED]; /* VAE_INFER_ROWS */
    layer_prec_t prec;           /* of the decoder's fixed-row path */
    int any_rows;                /* f32 decoder on the any-row path: any chunk of 1..512 rows */
    int chunk;                   /* rows per generation chunk (any_rows: from the L2 size) */
    layer_arena_t A; /* owned: folded weights */
    vae_chain_t enc, dec;
    layer_dropout_t drop; /* MC dropout (p = cfg.dropout) */
    float *b0, *b1;       /* (max_n, widest) ping-pong buffers */
    float *dec_in;        /* (max_n, Z + E) */
    uint16_t *dec_in16;   /* bf16: (max_n, Z + E) */
    float *out;           /* (max_n, O) decoder outputs */
    vae_prior_t prior;    /* owned copy of the model's learned prior (K = 0: none) */
    int use_prior;        /* generation draws (z, energies) from it (default when present) */
    float *lay;           /* (max_n, L + 1) sampled layer energies and total (with a prior) */
} vae_infer_t;

/* Requested decoder precision -> what runs on this CPU. VAE_PREC_BF16: bf16 where the CPU has
 * it natively (AVX512-BF16 / AMX), else f32; VAE_PREC_BF16_EMULATED: also oneDNN's emulation
 * on AVX-512 CPUs without it (slower at large batches, faster at batch 1, where the weight
 * bytes decide). *note (if not NULL) receives a one-line explanation when the result differs
 * from the plain request, else NULL. */
typedef enum { VAE_PREC_F32 = 0, VAE_PREC_BF16 = 1, VAE_PREC_BF16_EMULATED = 2 } vae_prec_request_t;
layer_prec_t vae_infer_resolve_precision(vae_prec_request_t req, const char **note);

int vae_infer_init(vae_infer_t *q, const vae_model_t *m, const layer_ctx_t *ctx, int max_n, layer_prec_t prec);
void vae_infer_free(vae_infer_t *q);
/* in: (n, V + E) encoder input -> mu, lv: (n, Z) (lv clamped as in training). */
int vae_infer_encode(vae_infer_t *q, int n, const float *in, float *mu, float *lv);
/* q->dec_in (n, Z + E) -> q->out (n, O) on the run-time-batch path (f32). */
int vae_infer_decode(vae_infer_t *q, int n);
/* q->dec_in (M, Z + E) -> out (M, O) on the row path: M one of rows[], or any M up to
 * VAE_INFER_MAX_ROWS when any_rows; out = NULL means q->out. mc: dropout on, masks from r
 * (f32 only). A row's result does not depend on M. */
int vae_infer_decode_rows(vae_infer_t *q, int M, int mc, base_rng_t *r, float *out);

#endif
