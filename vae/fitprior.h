/* vae/fitprior.h: fitting a model's learned prior (vae/prior.h) to a shower file.
 *
 * The model encodes up to max_train showers of the training part (one posterior draw
 * z = mu + sigma eps each, eps from the stream (seed, PRIOR_FIT | k) of the k-th shower read),
 * their layer energies are measured, each coordinate goes through the conditional marginal
 * flow fitted to them (vae/marginal.h; unless no_flow), the mixture is fitted by EM, its held-out fit is
 * measured on up to max_val showers of the validation part, and the model is written with
 * the prior (atomically; replacing the input model when out is NULL). Training calls this
 * after its last epoch; `showervae fit-prior` calls it for an existing model (another
 * component count, or a model trained without a prior).
 * The split is the training's (io/loader.h: by shower index, seed and val_fraction), so a
 * refit with the training's seed and fraction sees the same showers.
 */
#ifndef VAE_FITPRIOR_H
#define VAE_FITPRIOR_H

#include "base/monitor.h"
#include "io/loader.h"
#include "layers/ctx.h"

#include <stdint.h>

typedef struct {
    const char *model, *data, *out; /* out NULL: rewrite model */
    int components;                 /* 0: the model's configured count, else 12 */
    double val_fraction;            /* 0: 0.1 */
    uint64_t seed;                  /* of the split and the posterior draws (the training's) */
    int force;                      /* replace an existing out */
    int no_flow;                    /* 1: the mixture on Box-Cox coordinates, no marginal flow */
    const base_monitor_t *monitor;  /* progress and the fit report; NULL: silent */
} vae_fit_prior_opts_t;

int vae_fit_prior(const vae_fit_prior_opts_t *o);

/* The same on open loaders of the training and validation parts (training's own). */
int vae_fit_prior_loaders(const char *model, const char *out, const layer_ctx_t *ctx, io_loader_t *tr, io_loader_t *va,
                          int components, int flow, uint64_t seed, const base_monitor_t *mon);

#endif
