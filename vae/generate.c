/* vae/generate.c: generation by chunks (see generate.h). */
#include "vae/generate.h"
#include "base/streams.h"

#include "base/rng.h"
#include "base/status.h"
#include "vae/lik.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Shower i's draw from the learned prior given its energy (and angle): (z, r, r_tot) from the
 * stream (seed, LATENT | i): D - C normals, then one block whose first word picks the component. */
static void prior_draw(const vae_infer_t *q, float E_inc, float angle, uint64_t seed, uint64_t i, float *x)
{
    const vae_prior_t *p = &q->prior;
    float eps[PHYS_MAX_LAYERS + 2 + 4096];
    double c[VAE_PRIOR_MAX_COND];
    base_rng_t r;
    base_rng_init(&r, seed, BASE_STREAM_VAE_LATENT | i);
    base_rng_normal(&r, eps, (size_t)(p->D - p->C));
    uint32_t w[4];
    base_rng_next_block(&r, w);
    vae_prior_conditions(p, q->cfg.e_min_mev, q->cfg.e_max_mev, E_inc, angle, c);
    vae_prior_sample(p, c, eps, base_rng_to_unit(w[0]), x);
}

/* dec_in rows [z_i, c_i] for n rows; rows n .. M - 1 repeat row 0 (padding up to a fixed size).
 * z_i ~ N(0, I), or with the learned prior (z_i, energies_i) ~ p(. | E_i) (energies into q->lay). */
static void fill_inputs(vae_infer_t *q, int n, int M, const float *E_inc, const float *angle, uint64_t seed,
                        uint64_t first)
{
    const int Z = q->cfg.Z, E = q->E, W = Z + E;
    if (q->use_prior) { /* per-shower streams: the same draws for any thread count */
        const int L1 = q->prior.L + 1;
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++) {
            float x[PHYS_MAX_LAYERS + 2 + 4096];
            prior_draw(q, E_inc[i], angle ? angle[i] : 90.f, seed, first + (uint64_t)i, x);
            memcpy(q->dec_in + (size_t)i * W, x, (size_t)Z * sizeof(float));
            memcpy(q->lay + (size_t)i * L1, x + Z, (size_t)L1 * sizeof(float));
        }
    } else {
        for (int i = 0; i < n; i++) {
            base_rng_t r;
            base_rng_init(&r, seed, BASE_STREAM_VAE_LATENT | (first + (uint64_t)i));
            base_rng_normal(&r, q->dec_in + (size_t)i * W, (size_t)Z);
        }
    }
    vae_prep_conditions(&q->cfg, n, E_inc, angle, q->dec_in + Z, W);
    for (int i = n; i < M; i++) memcpy(q->dec_in + (size_t)i * W, q->dec_in, (size_t)W * sizeof(float));
}

/* The next chunk of what is left and the rows *M the decoder runs for it (>= the chunk; the
 * inputs are padded up to it). Any-row decoder: chunks of up to cap rows, unpadded.
 * Fixed sizes r0 < r1 < r2 < r3 (1, 8, 64, 512): the largest size that fits in what is left;
 * a tail below r2 goes in chunks of r1 rows, the last one padded (per row, an 8-row call costs
 * what a 64-row one does in bf16), and a single row takes r0. E.g. 100 = 64 + 4 x 8 + 4
 * (padded to 8), 1 = 1, 5 = 8 (padded). */
static int next_chunk(const vae_infer_t *q, int left, int cap, int *M)
{
    if (q->any_rows) return *M = left < cap ? left : cap;
    int j = LAYER_DENSE_FIXED - 1;
    while (j > 0 && q->rows[j] > left) j--;
    if (j >= 2 || q->rows[j] == left) return *M = q->rows[j];
    *M = q->rows[1];
    return left < q->rows[1] ? left : q->rows[1];
}

/* Layers of shower x: (V) (raw voxel samples) to which the prior gives an energy above the
 * threshold but the draw gave no hit: redrawn given at least one hit (stream (seed, REDRAW | i)),
 * so that the layer's energy, not the decoder's chance of an empty layer, decides. Only for a
 * prior with the marginal flow, whose empty layers are the data's: without it the mixture puts
 * empty layers just above the threshold, and filling those made fidelity worse (README). */
static void redraw_empty(const vae_infer_t *q, const float *o, float E_inc, const float *r, uint64_t seed,
                         uint64_t i, float *x)
{
    const vae_prior_t *p = &q->prior;
    double tgt[PHYS_MAX_LAYERS];
    base_rng_seq_t u;
    int init = 0;
    if (!p->anchored) return;
    vae_prior_targets(p, E_inc, r, tgt);
    for (int l = 0; l < p->L; l++) {
        if (tgt[l] < q->cfg.threshold_mev) continue;
        int empty = 1;
        for (int v = p->offset[l]; v < p->offset[l + 1] && empty; v++) empty = !(x[v] > 0);
        if (!empty) continue;
        if (!init) base_rng_seq_init(&u, seed, BASE_STREAM_VAE_REDRAW | i), init = 1;
        vae_lik_redraw_hits(&q->cfg, o, p->offset[l], p->offset[l + 1], &u, x);
    }
}

/* Showers x: (n, V) from decoder outputs o of n rows; with the learned prior, the voxel
 * samples are scaled to the drawn layer energies and thresholded (vae_prior_apply). */
static void to_showers(vae_infer_t *q, int n, const float *o, const float *E_inc, uint64_t seed, uint64_t first,
                       float *x)
{
    const size_t V = (size_t)q->cfg.V, L1 = (size_t)q->prior.L + 1, O = (size_t)vae_config_n_out(&q->cfg);
    vae_lik_generate(&q->cfg, n, o, E_inc, seed, first, q->use_prior, x);
    if (!q->use_prior) return;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        redraw_empty(q, o + i * O, E_inc[i], q->lay + i * L1, seed, first + (uint64_t)i, x + i * V);
        vae_prior_apply(&q->prior, E_inc[i], q->lay + i * L1, q->cfg.threshold_mev, x + i * V);
    }
}

int vae_generate_showers(vae_infer_t *q, int n, const float *E_inc, const float *angle, uint64_t seed, uint64_t first,
                         float *x)
{
    const size_t V = (size_t)q->cfg.V;
    for (int k = 0, m, M; k < n; k += m) {
        m = next_chunk(q, n - k, q->chunk, &M);
        fill_inputs(q, m, M, E_inc + k, angle ? angle + k : NULL, seed, first + (uint64_t)k);
        /* Bernoulli, full chunk: the head writes straight into the showers, which are then
         * transformed in place (26 MB less memory traffic per 512 rows; the weights stay in
         * cache) */
        float *dst = x + (size_t)k * V, *o = q->cfg.lik == VAE_LIK_BERNOULLI && m == M ? dst : q->out;
        BASE_TRY(vae_infer_decode_rows(q, M, 0, NULL, o));
        to_showers(q, m, o, E_inc + k, seed, first + (uint64_t)k, dst);
    }
    return BASE_OK;
}

int vae_generate_mc(vae_infer_t *q, int n, const float *E_inc, const float *angle, uint64_t seed, uint64_t first, int K,
                    float *mean, float *sd)
{
    if (q->cfg.dropout <= 0) return base_error(BASE_EINVAL, "--mc-dropout needs a model trained with dropout");
    const size_t V = (size_t)q->cfg.V;
    const size_t C = VAE_INFER_MAX_ROWS;
    float *x = malloc(C * V * sizeof(float));
    double *s1 = malloc(C * V * sizeof(double)), *s2 = malloc(C * V * sizeof(double));
    int rc = (x && s1 && s2) ? BASE_OK : base_error(BASE_ENOMEM, "out of memory");
    for (int k = 0, m = 0, M; k < n && rc == BASE_OK; k += m) {
        m = next_chunk(q, n - k, VAE_INFER_MAX_ROWS, &M); /* fixed: the masks follow the chunks */
        memset(s1, 0, C * V * sizeof(double));
        memset(s2, 0, C * V * sizeof(double));
        for (int p = 0; p < K && rc == BASE_OK; p++) {
            fill_inputs(q, m, M, E_inc + k, angle ? angle + k : NULL, seed, first + (uint64_t)k);
            base_rng_t r;
            base_rng_init(&r, seed, BASE_STREAM_VAE_DROPOUT | (first + (uint64_t)k));
            r.offset = (uint64_t)p << 32; /* pass p: its own masks */
            rc = vae_infer_decode_rows(q, M, 1, &r, NULL);
            to_showers(q, m, q->out, E_inc + k, seed, first + (uint64_t)k, x);
            for (size_t j = 0; j < (size_t)m * V; j++) {
                s1[j] += x[j];
                s2[j] += (double)x[j] * x[j];
            }
        }
        for (size_t j = 0; j < (size_t)m * V; j++) {
            double mu = s1[j] / K;
            mean[(size_t)k * V + j] = (float)mu;
            sd[(size_t)k * V + j] = (float)sqrt(fmax(s2[j] / K - mu * mu, 0.0));
        }
    }
    free(x);
    free(s1);
    free(s2);
    return rc;
}
