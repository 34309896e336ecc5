/* vae/infer.h: the encoder and decoder for inference at any batch size, with batch norm folded.
 *
 * Every hidden block becomes one dense layer with its activation fused: for batch norm with
 * running statistics (mu, var), scale s = gamma / sqrt(var + eps) and
 *     W' = diag(s) W,   b' = s (b - mu) + beta,
 * which is exact. Each dense layer is a run-time-batch matmul (layers/dense.h), so one set of
 * primitives serves batch 1 and batch 10000. With MC dropout (K stochastic passes), dropout
 * stays on between blocks (Gal and Ghahramani 2016).
 * Buffers hold max_n rows; the weights are copies (the source model may be freed).
 */
#ifndef VAE_INFER_H
#define VAE_INFER_H

#include "vae/model.h"

typedef struct {
    int n, in, out[VAE_MAX_HIDDEN + 1]; /* blocks + head */
    layer_dense_t d[VAE_MAX_HIDDEN + 1];
} vae_chain_t;

typedef struct {
    vae_config_t cfg;
    int E, O, max_n;
    layer_arena_t A; /* owned: folded weights */
    vae_chain_t enc, dec;
    layer_dropout_t drop; /* MC dropout (p = cfg.dropout) */
    float *b0, *b1;       /* (max_n, widest) ping-pong buffers */
    float *dec_in;        /* (max_n, Z + E) */
    float *out;           /* (max_n, O) decoder outputs */
} vae_infer_t;

int vae_infer_init(vae_infer_t *q, const vae_model_t *m, const layer_ctx_t *ctx, int max_n);
void vae_infer_free(vae_infer_t *q);
/* in: (n, V + E) encoder input -> mu, lv: (n, Z) (lv clamped as in training). */
int vae_infer_encode(vae_infer_t *q, int n, const float *in, float *mu, float *lv);
/* q->dec_in (n, Z + E) -> q->out (n, O). mc: dropout on, masks from r. */
int vae_infer_decode(vae_infer_t *q, int n, int mc, layer_rng_t *r);

#endif
