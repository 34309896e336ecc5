/* vae/api.c: the public interface (see showervae.h). */
#include "vae/showervae.h"

#include "layers/ctx.h"
#include "base/status.h"
#include "physics/hits.h"
#include "vae/generate.h"
#include "vae/modelio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* The numeric codes are the library's (base/status.h). */
_Static_assert(VAE_EINVAL == BASE_EINVAL && VAE_EIO == BASE_EIO && VAE_ENOMEM == BASE_ENOMEM,
               "public status codes follow base/status.h");
_Static_assert(sizeof(vae_hit_t) == sizeof(phys_hit_t), "vae_hit_t mirrors phys_hit_t");

struct vae_generator {
    layer_ctx_t ctx;
    vae_model_t model; /* parameters (batch 0) */
    phys_geometry_t geo;
    vae_infer_t q;     /* folded inference chain and fixed-row decoder */
    int threads;       /* OpenMP threads of its calls (vae_generator_set_threads; 1 by default) */
};

/* The generator's work runs with its own thread count: the calling thread's OpenMP setting
 * (a per-thread ICV, so other host threads are untouched) is swapped in for the call and
 * restored after it. Its primitives are created under the same count, since oneDNN fixes a
 * primitive's thread partition when it creates it. */
static int threads_enter(const vae_generator_t *g)
{
#ifdef _OPENMP
    int prev = omp_get_max_threads();
    omp_set_num_threads(g->threads);
    return prev;
#else
    (void)g;
    return 1;
#endif
}

static void threads_leave(int prev)
{
#ifdef _OPENMP
    omp_set_num_threads(prev);
#else
    (void)prev;
#endif
}

/* Rebuilds the decoder's primitives at precision p under the generator's thread count; on
 * failure keeps a working generator at the old precision and returns the error (what: the
 * caller's name). The prior choice survives. */
static int rebuild(vae_generator_t *g, layer_prec_t p, const char *what)
{
    layer_prec_t old = g->q.prec;
    int use_prior = g->q.use_prior, t = threads_enter(g);
    vae_infer_free(&g->q);
    int rc = vae_infer_init(&g->q, &g->model, &g->ctx, 0, p);
    if (rc != BASE_OK) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", base_last_error());
        if (vae_infer_init(&g->q, &g->model, &g->ctx, 0, old) != BASE_OK) memset(&g->q, 0, sizeof g->q);
        rc = base_error(rc, "%s: %s", what, msg);
    }
    g->q.use_prior = use_prior;
    threads_leave(t);
    return rc;
}

const char *vae_version(void) { return SHOWERVAE_VERSION_STRING; }

const char *vae_last_error(void) { return base_last_error(); }

int vae_generator_open(vae_generator_t **out, const char *path)
{
    *out = NULL;
    if (!path) return base_error(BASE_EINVAL, "vae_generator_open: no path");
    vae_generator_t *g = calloc(1, sizeof *g);
    if (!g) return base_error(BASE_ENOMEM, "vae_generator_open: out of memory");
    g->threads = 1;
    int rc = layer_ctx_init(&g->ctx);
    if (rc == BASE_OK) rc = vae_model_load(&g->model, &g->geo, path, &g->ctx, 0, NULL);
    if (rc == BASE_OK && g->geo.layer_depth_mm <= 0) g->geo.layer_depth_mm = 3.4; /* W/Si readout layer */
    if (rc == BASE_OK) {
        int t = threads_enter(g);
        rc = vae_infer_init(&g->q, &g->model, &g->ctx, 0, LAYER_F32);
        threads_leave(t);
    }
    if (rc != BASE_OK) {
        vae_generator_close(g);
        return rc;
    }
    *out = g;
    return VAE_OK;
}

void vae_generator_close(vae_generator_t *g)
{
    if (!g) return;
    vae_infer_free(&g->q);
    vae_model_free(&g->model);
    layer_ctx_free(&g->ctx);
    free(g);
}

int vae_generator_set_precision(vae_generator_t *g, int precision)
{
    if (precision < VAE_PRECISION_F32 || precision > VAE_PRECISION_BF16_EMULATED)
        return base_error(BASE_EINVAL, "vae_generator_set_precision: unknown precision %d", precision);
    layer_prec_t p = vae_infer_resolve_precision((vae_prec_request_t)precision, NULL);
    if (p != g->q.prec) BASE_TRY(rebuild(g, p, "vae_generator_set_precision"));
    return p == LAYER_BF16 ? VAE_PRECISION_BF16 : VAE_PRECISION_F32;
}

int vae_generator_set_threads(vae_generator_t *g, int n)
{
    if (n < 0 || n > 4096) return base_error(BASE_EINVAL, "vae_generator_set_threads: %d threads", n);
#ifdef _OPENMP
    if (n == 0) n = omp_get_num_procs();
#else
    n = 1;
#endif
    if (n != g->threads) {
        int old = g->threads;
        g->threads = n;
        int rc = rebuild(g, g->q.prec, "vae_generator_set_threads");
        if (rc != BASE_OK) { /* back to the old count, primitives rebuilt under it (best effort) */
            g->threads = old;
            if (rebuild(g, g->q.prec, "vae_generator_set_threads") != BASE_OK) memset(&g->q, 0, sizeof g->q);
            return rc;
        }
    }
    return g->threads;
}

int vae_generator_set_prior(vae_generator_t *g, int prior)
{
    if (prior != VAE_PRIOR_LEARNED && prior != VAE_PRIOR_STANDARD)
        return base_error(BASE_EINVAL, "vae_generator_set_prior: unknown prior %d", prior);
    g->q.use_prior = prior == VAE_PRIOR_LEARNED && g->q.prior.K > 0;
    return g->q.use_prior ? VAE_PRIOR_LEARNED : VAE_PRIOR_STANDARD;
}

int vae_generator_voxels(const vae_generator_t *g) { return g->geo.n_voxels; }
int vae_generator_layers(const vae_generator_t *g) { return g->geo.n_layers; }
double vae_generator_layer_depth(const vae_generator_t *g) { return g->geo.layer_depth_mm; }

int vae_generator_layer(const vae_generator_t *g, int l, int *n_r, int *n_alpha, const double **r_edges)
{
    if (l < 0 || l >= g->geo.n_layers)
        return base_error(BASE_EINVAL, "layer %d outside 0..%d", l, g->geo.n_layers - 1);
    *n_r = g->geo.n_r[l];
    *n_alpha = g->geo.n_alpha[l];
    *r_edges = g->geo.r_edges[l];
    return VAE_OK;
}

void vae_generator_energy_range(const vae_generator_t *g, double *lo, double *hi)
{
    *lo = g->model.cfg.e_min_mev;
    *hi = g->model.cfg.e_max_mev;
}

void vae_generator_angle_range(const vae_generator_t *g, double *lo, double *hi)
{
    *lo = g->model.cfg.angle_min;
    *hi = g->model.cfg.angle_max;
}

int vae_generate_ex(vae_generator_t *g, int n, const float *E, const float *angle, uint64_t seed, uint64_t first,
                    float *out)
{
    if (n < 0 || (n > 0 && (!E || !out))) return base_error(BASE_EINVAL, "vae_generate: bad arguments");
    for (int i = 0; i < n; i++) {
        if (!(E[i] > 0) || E[i] > 1e12f) return base_error(BASE_EINVAL, "vae_generate: energy %g MeV", E[i]);
        if (angle && !(angle[i] > 0 && angle[i] < 180))
            return base_error(BASE_EINVAL, "vae_generate: angle %g deg (must be in (0, 180))", angle[i]);
    }
    int t = threads_enter(g);
    int rc = vae_generate_showers(&g->q, n, E, angle, seed, first, out);
    threads_leave(t);
    return rc;
}

int vae_generate(vae_generator_t *g, int n, const float *E, uint64_t seed, uint64_t first, float *out)
{
    return vae_generate_ex(g, n, E, NULL, seed, first, out);
}

int vae_to_hits(const vae_generator_t *g, const float *voxels, const double pos[3], const double dir[3],
                vae_hit_t *hits, int max, int *n)
{
    return phys_voxels_to_hits(&g->geo, g->geo.layer_depth_mm, voxels, pos, dir, (phys_hit_t *)hits, max, n);
}
