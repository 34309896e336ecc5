/* vae/config.c: model configuration, presets and JSON (cJSON) (see config.h). */
#include "vae/config.h"

#include "base/limits.h"
#include "base/status.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const lik_names[] = {"bernoulli", "gaussian", "hurdle"};
static const char *const cond_names[] = {"log_energy", "energy", "angle", "geometry"};

const char *vae_likelihood_name(vae_likelihood_t l) { return (unsigned)l < 3 ? lik_names[l] : "?"; }

int vae_config_n_cond(const vae_config_t *c)
{
    return !!(c->conditions & VAE_COND_LOG_ENERGY) + !!(c->conditions & VAE_COND_ENERGY) +
           !!(c->conditions & VAE_COND_ANGLE) + 2 * !!(c->conditions & VAE_COND_GEOMETRY);
}

int vae_config_n_out(const vae_config_t *c)
{
    return c->lik == VAE_LIK_BERNOULLI ? c->V : c->lik == VAE_LIK_GAUSSIAN ? 2 * c->V : 3 * c->V + 2;
}

double vae_config_n_weights(const vae_config_t *c)
{
    double w = 0, in = (double)c->V + vae_config_n_cond(c);
    for (int i = 0; i < c->n_enc; i++) w += in * c->enc[i], in = c->enc[i];
    w += 2 * in * c->Z; /* mean and log-variance heads */
    in = (double)c->Z + vae_config_n_cond(c);
    for (int i = 0; i < c->n_dec; i++) w += in * c->dec[i], in = c->dec[i];
    return w + in * vae_config_n_out(c);
}

static void set_widths(int *n, int *w, const int *src, int k)
{
    *n = k;
    for (int i = 0; i < k; i++) w[i] = src[i];
}

int vae_config_prior_conds(const vae_config_t *c)
{
    return 1 + ((c->conditions & VAE_COND_ANGLE) && c->angle_max > c->angle_min);
}

int vae_config_preset(vae_config_t *c, const char *name, const char *geo_name, int V, double threshold_mev)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->geometry, sizeof c->geometry, "%s", geo_name);
    c->V = V;
    c->act = (layer_act_spec_t){LAYER_ACT_LEAKY_RELU, 0.2f};
    c->e_min_mev = 1e3;
    c->e_max_mev = 1e6;
    c->log_eps = 1e-8;
    c->threshold_mev = threshold_mev;
    c->angle_min = c->angle_max = 90;
    snprintf(c->material, sizeof c->material, "SiW");
    c->beta = 1.f;
    c->clip = 100.f;
    c->lv_clamp = 8.f;
    c->kl_warmup_steps = 0;
    if (strcmp(name, "par04") == 0) {
        /* Geant4 Par04: encoder 100-50-20-14 with batch norm, latent 10, mirrored decoder,
         * sigmoid output, BCE on E_cell/E_inc; conditions E/1024 GeV, angle/90, geometry one-hot */
        static const int e[] = {100, 50, 20, 14}, d[] = {14, 20, 50, 100};
        set_widths(&c->n_enc, c->enc, e, 4);
        set_widths(&c->n_dec, c->dec, d, 4);
        c->Z = 10;
        c->batch_norm = 1;
        c->bn_after_act = 1; /* Dense(activation) then BatchNormalization, as Par04's Keras code */
        c->conditions = VAE_COND_ENERGY | VAE_COND_ANGLE | VAE_COND_GEOMETRY;
        c->lik = VAE_LIK_BERNOULLI;
        c->lr = 1e-3f;
        c->batch = 128;
        c->epochs = 20;
        /* Par04 sums the reconstruction over the batch but averages the KL: its effective KL
         * weight per shower is 1 / batch (physics.md, 1.2) */
        c->beta = 1.f / 128;
    } else if (strcmp(name, "bench-ds2") == 0) {
        /* the speed reference: 6481-1024-512-256 -> 32, 33-256-512-1024-6480 */
        static const int e[] = {1024, 512, 256}, d[] = {256, 512, 1024};
        set_widths(&c->n_enc, c->enc, e, 3);
        set_widths(&c->n_dec, c->dec, d, 3);
        c->Z = 32;
        c->conditions = VAE_COND_LOG_ENERGY;
        c->lik = VAE_LIK_BERNOULLI;
        c->lr = 3e-4f;
        c->batch = 256;
        c->epochs = 10;
    } else if (strcmp(name, "default") == 0) {
        /* fidelity first: hurdle likelihood with a total-energy head (see vae-notes) */
        static const int e[] = {512, 256}, d[] = {256, 512};
        set_widths(&c->n_enc, c->enc, e, 2);
        set_widths(&c->n_dec, c->dec, d, 2);
        c->Z = 16;
        c->conditions = VAE_COND_LOG_ENERGY;
        c->lik = VAE_LIK_HURDLE;
        c->lr = 3e-4f;
        c->batch = 256;
        c->epochs = 30;
        c->kl_warmup_steps = 2000;
        c->free_bits = 0.05f;
        c->prior_k = 12;
        c->hit_power_fit = 1;
    } else if (strcmp(name, "tiny") == 0) {
        /* a small model for tests and quick trials */
        static const int e[] = {64, 32}, d[] = {32, 64};
        set_widths(&c->n_enc, c->enc, e, 2);
        set_widths(&c->n_dec, c->dec, d, 2);
        c->Z = 4;
        c->conditions = VAE_COND_LOG_ENERGY;
        c->lik = VAE_LIK_HURDLE;
        c->lr = 1e-3f;
        c->batch = 32;
        c->epochs = 2;
        c->prior_k = 2;
        c->hit_power_fit = 1;
    } else {
        return base_error(BASE_EINVAL, "unknown preset '%s' (par04, bench-ds2, default, tiny)", name);
    }
    return BASE_OK;
}

static void add_ints(cJSON *o, const char *key, const int *v, int n)
{
    cJSON_AddItemToObject(o, key, cJSON_CreateIntArray(v, n));
}

char *vae_config_to_json(const vae_config_t *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddStringToObject(o, "geometry", c->geometry);
    cJSON_AddNumberToObject(o, "voxels", c->V);
    cJSON *cond = cJSON_AddArrayToObject(o, "conditions");
    for (int i = 0; i < 4; i++)
        if (c->conditions & (1u << i)) cJSON_AddItemToArray(cond, cJSON_CreateString(cond_names[i]));
    add_ints(o, "encoder", c->enc, c->n_enc);
    add_ints(o, "decoder", c->dec, c->n_dec);
    cJSON_AddNumberToObject(o, "latent", c->Z);
    cJSON_AddStringToObject(o, "activation", layer_act_name(c->act.kind));
    cJSON_AddNumberToObject(o, "activation_alpha", c->act.alpha);
    cJSON_AddBoolToObject(o, "batch_norm", c->batch_norm);
    if (c->bn_after_act) cJSON_AddStringToObject(o, "batch_norm_order", "after_activation");
    cJSON_AddNumberToObject(o, "dropout", c->dropout);
    cJSON_AddStringToObject(o, "likelihood", vae_likelihood_name(c->lik));
    cJSON *p = cJSON_AddObjectToObject(o, "preprocessing");
    cJSON_AddNumberToObject(p, "energy_min_mev", c->e_min_mev);
    cJSON_AddNumberToObject(p, "energy_max_mev", c->e_max_mev);
    cJSON_AddNumberToObject(p, "log_eps", c->log_eps);
    cJSON_AddNumberToObject(p, "threshold_mev", c->threshold_mev);
    if (c->lik == VAE_LIK_HURDLE) cJSON_AddNumberToObject(p, "hit_power", c->hit_power);
    cJSON_AddNumberToObject(p, "angle_min_deg", c->angle_min);
    cJSON_AddNumberToObject(p, "angle_max_deg", c->angle_max);
    cJSON_AddStringToObject(p, "material", c->material);
    cJSON *t = cJSON_AddObjectToObject(o, "training");
    cJSON_AddNumberToObject(t, "lr", c->lr);
    cJSON_AddNumberToObject(t, "beta", c->beta);
    cJSON_AddNumberToObject(t, "free_bits", c->free_bits);
    cJSON_AddNumberToObject(t, "clip", c->clip);
    cJSON_AddNumberToObject(t, "logvar_clamp", c->lv_clamp);
    cJSON_AddNumberToObject(t, "batch", c->batch);
    cJSON_AddNumberToObject(t, "epochs", c->epochs);
    cJSON_AddNumberToObject(t, "kl_warmup_steps", c->kl_warmup_steps);
    if (c->prior_k > 0) cJSON_AddNumberToObject(o, "prior_components", c->prior_k);
    if (c->keras_init) cJSON_AddStringToObject(t, "init", "keras");
    if (c->lr_constant) cJSON_AddStringToObject(t, "lr_schedule", "constant");
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

/* Field readers: each records an error naming the field when it is missing or wrong. */
static int get_num(const cJSON *o, const char *key, double lo, double hi, double *v, const char *where)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(x) || !(x->valuedouble >= lo && x->valuedouble <= hi))
        return base_error(BASE_EIO, "%s: model config: '%s' missing or not a number in [%g, %g]", where,
                           key, lo, hi);
    *v = x->valuedouble;
    return BASE_OK;
}

static int get_str(const cJSON *o, const char *key, char *buf, size_t n, const char *where)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(x) || strlen(x->valuestring) >= n)
        return base_error(BASE_EIO, "%s: model config: '%s' missing or not a string", where, key);
    snprintf(buf, n, "%s", x->valuestring);
    return BASE_OK;
}

static int get_widths(const cJSON *o, const char *key, int *n, int *w, const char *where)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key), *x;
    int k = 0;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > VAE_MAX_HIDDEN)
        return base_error(BASE_EIO, "%s: model config: '%s' must be a list of at most %d widths", where,
                           key, VAE_MAX_HIDDEN);
    cJSON_ArrayForEach(x, a)
    {
        if (!cJSON_IsNumber(x) || !(x->valuedouble >= 1 && x->valuedouble <= BASE_MAX_WIDTH) ||
            x->valuedouble != (int)x->valuedouble)
            return base_error(BASE_EIO, "%s: model config: width in '%s' is not a whole number in [1, %d]", where, key,
                              BASE_MAX_WIDTH);
        w[k++] = x->valueint;
    }
    *n = k;
    return BASE_OK;
}

static int parse_fields(vae_config_t *c, const cJSON *o, const char *where)
{
    double v;
    char s[64];
    BASE_TRY(get_str(o, "name", c->name, sizeof c->name, where));
    BASE_TRY(get_str(o, "geometry", c->geometry, sizeof c->geometry, where));
    BASE_TRY(get_num(o, "voxels", 1, BASE_MAX_VOXELS, &v, where));
    c->V = (int)v;
    const cJSON *cond = cJSON_GetObjectItemCaseSensitive(o, "conditions"), *x;
    if (!cJSON_IsArray(cond)) return base_error(BASE_EIO, "%s: model config: 'conditions' missing", where);
    cJSON_ArrayForEach(x, cond)
    {
        int k = -1;
        for (int i = 0; i < 4; i++)
            if (cJSON_IsString(x) && strcmp(x->valuestring, cond_names[i]) == 0) k = i;
        if (k < 0) return base_error(BASE_EIO, "%s: model config: unknown condition", where);
        c->conditions |= 1u << k;
    }
    BASE_TRY(get_widths(o, "encoder", &c->n_enc, c->enc, where));
    BASE_TRY(get_widths(o, "decoder", &c->n_dec, c->dec, where));
    BASE_TRY(get_num(o, "latent", 1, BASE_MAX_LATENT, &v, where));
    c->Z = (int)v;
    BASE_TRY(get_str(o, "activation", s, sizeof s, where));
    if (layer_act_parse(s, &c->act.kind) < 0)
        return base_error(BASE_EIO, "%s: model config: unknown activation '%s'", where, s);
    BASE_TRY(get_num(o, "activation_alpha", 0, 1, &v, where));
    c->act.alpha = (float)v;
    c->batch_norm = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "batch_norm"));
    const cJSON *bo = cJSON_GetObjectItemCaseSensitive(o, "batch_norm_order"); /* absent: before */
    if (bo && !(cJSON_IsString(bo) && (!strcmp(bo->valuestring, "after_activation") || !strcmp(bo->valuestring, "before_activation"))))
        return base_error(BASE_EIO, "%s: model config: 'batch_norm_order' must be before_activation or after_activation", where);
    c->bn_after_act = bo && !strcmp(bo->valuestring, "after_activation");
    BASE_TRY(get_num(o, "dropout", 0, 0.95, &v, where));
    c->dropout = (float)v;
    BASE_TRY(get_str(o, "likelihood", s, sizeof s, where));
    c->lik = (vae_likelihood_t)-1;
    for (int i = 0; i < 3; i++)
        if (strcmp(s, lik_names[i]) == 0) c->lik = (vae_likelihood_t)i;
    if ((int)c->lik < 0) return base_error(BASE_EIO, "%s: model config: unknown likelihood '%s'", where, s);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "preprocessing");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "training");
    if (!cJSON_IsObject(p) || !cJSON_IsObject(t))
        return base_error(BASE_EIO, "%s: model config: 'preprocessing' or 'training' missing", where);
    BASE_TRY(get_num(p, "energy_min_mev", 1e-6, 1e12, &c->e_min_mev, where));
    BASE_TRY(get_num(p, "energy_max_mev", 1e-6, 1e12, &c->e_max_mev, where));
    BASE_TRY(get_num(p, "log_eps", 1e-30, 1, &c->log_eps, where));
    BASE_TRY(get_num(p, "threshold_mev", 0, 1e6, &c->threshold_mev, where));
    if (cJSON_GetObjectItemCaseSensitive(p, "hit_power")) /* absent (older files): ln(x/thr) */
        BASE_TRY(get_num(p, "hit_power", 0, 1, &c->hit_power, where));
    c->angle_min = c->angle_max = 90; /* absent (older files): trained at 90 deg on SiW */
    snprintf(c->material, sizeof c->material, "SiW");
    if (cJSON_GetObjectItemCaseSensitive(p, "angle_min_deg")) {
        BASE_TRY(get_num(p, "angle_min_deg", 1e-3, 180, &c->angle_min, where));
        BASE_TRY(get_num(p, "angle_max_deg", c->angle_min, 180, &c->angle_max, where));
    }
    if (cJSON_GetObjectItemCaseSensitive(p, "material")) {
        BASE_TRY(get_str(p, "material", c->material, sizeof c->material, where));
        if (strcmp(c->material, "SiW") && strcmp(c->material, "SciPb"))
            return base_error(BASE_EIO, "%s: model config: material '%s' is neither SiW nor SciPb", where, c->material);
    }
    struct { const char *k; float *f; double lo, hi; } fl[] = {
        {"lr", &c->lr, 0, 10}, {"beta", &c->beta, 0, 1e6}, {"free_bits", &c->free_bits, 0, 100},
        {"clip", &c->clip, 0, 1e12}, {"logvar_clamp", &c->lv_clamp, 0.1, 100}};
    for (unsigned i = 0; i < sizeof fl / sizeof *fl; i++) {
        BASE_TRY(get_num(t, fl[i].k, fl[i].lo, fl[i].hi, &v, where));
        *fl[i].f = (float)v;
    }
    BASE_TRY(get_num(t, "batch", 2, 65536, &v, where));
    c->batch = (int)v;
    BASE_TRY(get_num(t, "epochs", 0, 1e9, &v, where));
    c->epochs = (int)v;
    BASE_TRY(get_num(t, "kl_warmup_steps", 0, 1e9, &v, where)); /* an int */
    c->kl_warmup_steps = (int)v;
    if (!(c->e_max_mev > c->e_min_mev))
        return base_error(BASE_EIO, "%s: model config: energy range is empty", where);
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(t, "init"), *ls = cJSON_GetObjectItemCaseSensitive(t, "lr_schedule");
    c->keras_init = cJSON_IsString(in) && !strcmp(in->valuestring, "keras");
    c->lr_constant = cJSON_IsString(ls) && !strcmp(ls->valuestring, "constant");
    if (cJSON_GetObjectItemCaseSensitive(o, "prior_components")) { /* absent: no learned prior */
        BASE_TRY(get_num(o, "prior_components", 0, 256, &v, where));
        c->prior_k = (int)v;
    }
    return BASE_OK;
}

int vae_config_from_json(vae_config_t *c, const char *json, const char *where)
{
    memset(c, 0, sizeof *c);
    cJSON *o = cJSON_Parse(json);
    if (!o) return base_error(BASE_EIO, "%s: model config is not valid JSON", where);
    int rc = parse_fields(c, o, where);
    cJSON_Delete(o);
    return rc;
}
