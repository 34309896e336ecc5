/* vae/encode.c: see encode.h. */
#include "vae/encode.h"

#include "base/status.h"
#include "vae/lik.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int vae_encode_showers(vae_infer_t *q, int n, const float *E_inc, const float *angle, const float *x, uint64_t first, float *mu,
                       float *sigma, float *recon)
{
    const vae_config_t *c = &q->cfg;
    const int V = c->V, Z = c->Z, E = q->E;
    if (n > q->max_n) return base_error(BASE_EINVAL, "encode: %d rows > %d", n, q->max_n);
    float *in = malloc((size_t)n * (V + E) * sizeof(float));
    if (!in) return base_error(BASE_ENOMEM, "encode: out of memory");
    vae_prep_encoder_input(c, n, E_inc, x, in, V + E);
    vae_prep_conditions(c, n, E_inc, angle, in + V, V + E);
    int rc = vae_infer_encode(q, n, in, mu, sigma);
    for (size_t j = 0; j < (size_t)n * Z; j++) sigma[j] = expf(0.5f * sigma[j]); /* sigma = exp(lv / 2) */
    if (rc == BASE_OK && recon) { /* decode z = mu with the shower's conditions */
        for (int i = 0; i < n; i++) {
            memcpy(q->dec_in + (size_t)i * (Z + E), mu + (size_t)i * Z, (size_t)Z * sizeof(float));
            memcpy(q->dec_in + (size_t)i * (Z + E) + Z, in + (size_t)i * (V + E) + V, (size_t)E * sizeof(float));
        }
        rc = vae_infer_decode(q, n);
        if (rc == BASE_OK) vae_lik_generate(c, n, q->out, E_inc, 1, first, 0, recon);
    }
    free(in);
    return rc;
}
