/* vae/config.h: the description of a model, stored as JSON inside every model file.
 *
 * Shapes: V voxels (from the geometry), E conditions, Z latent dimensions.
 * Encoder: [preprocessed x (V), c (E)] -> hidden widths enc[0..n_enc-1] -> mu (Z), log-variance (Z).
 * Decoder: [z (Z), c (E)] -> hidden widths dec[0..n_dec-1] -> likelihood parameters.
 * Each hidden layer: dense -> [batch norm] -> activation -> [dropout].
 *
 * Conditions (in this order when enabled):
 *   log_energy  (ln E - ln E_min) / (ln E_max - ln E_min), E_min/E_max from the training data
 *   energy      E / 1024 GeV (Par04)
 *   angle       angle / 90 deg (Par04's theta: 90 deg is normal incidence); training adds it
 *               when the data's angles vary, and the learned prior is then conditioned on it too
 *   geometry    2-way one-hot of the material, SiW = (0, 1), SciPb = (1, 0) (Par04), fixed per
 *               model by the training data (a model is trained on one calorimeter)
 * Likelihoods p(x | z, c):
 *   bernoulli   target u = E_cell / E_inc in [0, 1]; decoder logits (V); loss BCE on logits
 *               (the Par04 baseline; generation outputs the mean, sigmoid(logit) E_inc)
 *   gaussian    target y = ln(E_cell / E_inc + eps); decoder mean and log-variance (2V);
 *               generation samples y and inverts
 *   hurdle      per voxel: hit h = [E_cell > 0] ~ Bernoulli(sigmoid(l)), and for hits
 *               s = ln(E_cell / threshold) ~ N(m, exp(v)); decoder (l, m, v) (3V) plus a
 *               per-shower head (m_t, v_t) for r = ln(E_tot / E_inc); generation samples hits,
 *               energies, and rescales the shower to a sampled total.
 */
#ifndef VAE_CONFIG_H
#define VAE_CONFIG_H

#include "layers/mlp.h"

#define VAE_MAX_HIDDEN LAYER_MLP_MAX

typedef enum { VAE_LIK_BERNOULLI = 0, VAE_LIK_GAUSSIAN, VAE_LIK_HURDLE } vae_likelihood_t;

enum { VAE_COND_LOG_ENERGY = 1, VAE_COND_ENERGY = 2, VAE_COND_ANGLE = 4, VAE_COND_GEOMETRY = 8 };

typedef struct {
    char name[32];          /* preset name or "custom" */
    char geometry[64];      /* geometry name (preset) */
    int V;                  /* voxels */
    unsigned conditions;    /* VAE_COND_* bits */
    int n_enc, enc[VAE_MAX_HIDDEN];
    int n_dec, dec[VAE_MAX_HIDDEN];
    int Z;
    layer_act_spec_t act;
    int batch_norm;
    int bn_after_act;       /* batch norm after the activation (Keras Par04) instead of before it */
    int keras_init;         /* Keras initialisers (hidden N(0, 0.05^2), heads Glorot uniform, zero
                             * biases including the output's) instead of He/Glorot normal and the
                             * data's marginals as the output bias */
    int lr_constant;        /* constant learning rate (Par04) instead of cosine with warm-up */
    float dropout;
    vae_likelihood_t lik;
    /* preprocessing constants (stored so generation inverts exactly) */
    double e_min_mev, e_max_mev; /* conditioning range of log_energy */
    double log_eps;              /* gaussian: y = ln(u + log_eps) */
    double threshold_mev;        /* readout threshold applied at generation */
    double angle_min, angle_max; /* incident angles of the training data (deg; 90, 90 before angles) */
    char material[8];            /* "SiW" or "SciPb": the geometry condition's one-hot */
    double hit_power;            /* hurdle: a hit's energy is modelled as the Box-Cox variable
                                  * y = ((x/thr)^p - 1) / p, p in [0, 1]; p = 0 is y = ln(x/thr) */
    int hit_power_fit;           /* choose p from the data when training starts (vae_lik_fit_hit_power);
                                  * not stored: the model file holds the chosen p */
    /* training defaults */
    float lr, beta, free_bits, clip, lv_clamp;
    int batch, epochs, kl_warmup_steps;
    int prior_k; /* components of the learned prior fitted after training (vae/prior.h); 0: none */
} vae_config_t;

/* The presets "par04", "bench-ds2", "default" for V voxels on geometry geo_name. */
int vae_config_preset(vae_config_t *c, const char *name, const char *geo_name, int V, double threshold_mev);
/* Conditions of the learned prior (vae/prior.h): 2 when the model is conditioned on an angle
 * that varied in its training data, else 1 (the energy). */
int vae_config_prior_conds(const vae_config_t *c);
/* Number of condition inputs E. */
int vae_config_n_cond(const vae_config_t *c);
/* Decoder outputs per shower (V, 2V or 3V + 2). */
int vae_config_n_out(const vae_config_t *c);
/* Weights (matrix entries, biases not counted) the config's networks hold: a lower bound of
 * its parameters, for checking a file's size before allocating. */
double vae_config_n_weights(const vae_config_t *c);
const char *vae_likelihood_name(vae_likelihood_t l);

/* JSON text (caller frees with free()) and back; parsing validates every field. */
char *vae_config_to_json(const vae_config_t *c);
int vae_config_from_json(vae_config_t *c, const char *json, const char *where);

#endif
