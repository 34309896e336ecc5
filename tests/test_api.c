/* tests/test_api.c: the public interface (showervae.h): round trip, errors, hits (energy
 * conservation, the position convention, rotations), concurrent generators. */
#include "layers/dense.h"
#include "base/status.h"
#include "physics/hits.h"
#include "tests/testutil.h"
#include "vae/modelio.h"
#include "vae/showervae.h"

#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static char D[48], MODEL[96];

/* A tiny hurdle model with random weights, saved as a model file. */
static void setup(void)
{
    tu_ctx_setup();
    tu_tmpdir_make(D, sizeof D, "api");
    snprintf(MODEL, sizeof MODEL, "%s/m.h5", D);
    vae_config_t c;
    vae_config_preset(&c, "tiny", "ds2", 6480, 0.01515);
    vae_model_t m;
    cr_assert_eq(vae_model_init(&m, &c, &tu_ctx, 0), BASE_OK, "%s", base_last_error());
    vae_model_init_params(&m, 3);
    phys_geometry_t g;
    phys_geometry_preset(&g, "ds2");
    cr_assert_eq(vae_model_save(&m, &g, MODEL, 1, NULL), BASE_OK, "%s", base_last_error());
    vae_model_free(&m);
}

static void teardown(void)
{
    tu_tmpdir_remove(D);
    tu_ctx_teardown();
}

TestSuite(api, .init = setup, .fini = teardown);

Test(api, open_query_generate_close)
{
    cr_expect_str_eq(vae_version(), SHOWERVAE_VERSION_STRING);
    vae_generator_t *g;
    cr_assert_eq(vae_generator_open(&g, MODEL), VAE_OK, "%s", vae_last_error());
    cr_expect_eq(vae_generator_voxels(g), 6480);
    cr_expect_eq(vae_generator_layers(g), 45);
    int nr, na;
    const double *e;
    cr_assert_eq(vae_generator_layer(g, 3, &nr, &na, &e), VAE_OK);
    cr_expect(nr == 9 && na == 16 && fabs(e[9] - 41.85) < 1e-4);
    cr_expect_eq(vae_generator_layer(g, 45, &nr, &na, &e), VAE_EINVAL);
    cr_expect(fabs(vae_generator_layer_depth(g) - 3.4) < 1e-12);
    /* batch of 10 = the same showers made one at a time (global indices) */
    float E[10], *a = malloc(10 * 6480 * 4), *b = malloc(10 * 6480 * 4);
    for (int i = 0; i < 10; i++) E[i] = 1000.f * (i + 1);
    cr_assert_eq(vae_generate(g, 10, E, 5, 100, a), VAE_OK, "%s", vae_last_error());
    for (int i = 0; i < 10; i++) cr_assert_eq(vae_generate(g, 1, E + i, 5, 100 + (uint64_t)i, b + i * 6480), VAE_OK);
    cr_expect(memcmp(a, b, 10 * 6480 * 4) == 0, "batch and one-by-one differ");
    for (int k = 0; k < 10 * 6480; k++) cr_assert(a[k] >= 0 && isfinite(a[k]));
    float bad = -1;
    cr_expect_eq(vae_generate(g, 1, &bad, 5, 0, b), VAE_EINVAL);
    cr_expect(strstr(vae_last_error(), "energy") != NULL);
    vae_generator_close(g);
    vae_generator_close(NULL);
    cr_expect_eq(vae_generator_open(&g, "/nonexistent/model.h5"), VAE_EIO);
    cr_expect(g == NULL && strstr(vae_last_error(), "/nonexistent/model.h5") != NULL);
    free(a), free(b);
}

Test(api, hits_conserve_energy_follow_the_convention_and_rotate_with_the_direction)
{
    vae_generator_t *g;
    cr_assert_eq(vae_generator_open(&g, MODEL), VAE_OK);
    float *x = calloc(6480, 4);
    vae_hit_t *h0 = malloc(6480 * sizeof *h0), *h1 = malloc(6480 * sizeof *h1);
    int n0, n1;
    /* one voxel: layer 2, angular bin 8 (alpha centre pi/16), radial bin 1 (centre 6.975 mm) */
    x[2 * 144 + 8 * 9 + 1] = 3.f;
    double p0[3] = {0, 0, 0}, z[3] = {0, 0, 1};
    cr_assert_eq(vae_to_hits(g, x, p0, z, h0, 6480, &n0), VAE_OK);
    cr_assert_eq(n0, 1);
    const double PI = 3.14159265358979323846;
    cr_expect(fabs(h0[0].x - 6.975 * cos(PI / 16)) < 1e-4 && fabs(h0[0].y - 6.975 * sin(PI / 16)) < 1e-4);
    cr_expect(fabs(h0[0].z - 2.5 * 3.4) < 1e-4 && h0[0].e == 3.f);
    /* a generated shower: energy conservation and the rotation */
    float E = 20000;
    cr_assert_eq(vae_generate(g, 1, &E, 9, 0, x), VAE_OK);
    double pos[3] = {10, -20, 800}, dir[3] = {0.3, -0.5, 0.8};
    cr_assert_eq(vae_to_hits(g, x, pos, z, h0, 6480, &n0), VAE_OK);
    cr_assert_eq(vae_to_hits(g, x, pos, dir, h1, 6480, &n1), VAE_OK);
    cr_assert_eq(n0, n1);
    double sv = 0, sh = 0;
    int nz = 0;
    for (int v = 0; v < 6480; v++) sv += x[v], nz += x[v] > 0;
    for (int k = 0; k < n1; k++) sh += h1[k].e;
    cr_expect_eq(n1, nz, "one hit per non-empty voxel");
    cr_expect(sv == sh, "energy %.17g in voxels, %.17g in hits", sv, sh);
    double nd = sqrt(0.09 + 0.25 + 0.64), d[3] = {0.3 / nd, -0.5 / nd, 0.8 / nd}, R[9];
    phys_rotation_to(d, R);
    double rz[3] = {R[2], R[5], R[8]};
    cr_expect(fabs(rz[0] - d[0]) < 1e-12 && fabs(rz[1] - d[1]) < 1e-12 && fabs(rz[2] - d[2]) < 1e-12, "R z != d");
    for (int k = 0; k < n0; k++) {
        double s[3] = {h0[k].x - pos[0], h0[k].y - pos[1], h0[k].z - pos[2]};
        for (int i = 0; i < 3; i++) {
            double want = pos[i] + R[3 * i] * s[0] + R[3 * i + 1] * s[1] + R[3 * i + 2] * s[2];
            double got = i == 0 ? h1[k].x : i == 1 ? h1[k].y : h1[k].z;
            cr_assert(fabs(got - want) < 1e-3, "hit %d coordinate %d: %g vs %g", k, i, got, want);
        }
        cr_assert_eq(h0[k].e, h1[k].e);
    }
    /* distances to the entry point are invariant */
    double m0 = 0, m1 = 0;
    for (int k = 0; k < n0; k++) {
        m0 += hypot(hypot(h0[k].x - pos[0], h0[k].y - pos[1]), h0[k].z - pos[2]);
        m1 += hypot(hypot(h1[k].x - pos[0], h1[k].y - pos[1]), h1[k].z - pos[2]);
    }
    cr_expect(fabs(m0 - m1) < 1e-3 * m0);
    /* too little room, zero direction */
    cr_expect_eq(vae_to_hits(g, x, pos, dir, h1, 2, &n1), VAE_EINVAL);
    double zero[3] = {0, 0, 0};
    cr_expect_eq(vae_to_hits(g, x, pos, zero, h1, 6480, &n1), VAE_EINVAL);
    free(x), free(h0), free(h1);
    vae_generator_close(g);
}

typedef struct {
    int seed;
    float *out;
    int rc;
} job_t;

static void *worker(void *p)
{
    job_t *j = p;
    vae_generator_t *g;
    j->rc = vae_generator_open(&g, MODEL);
    float E[20];
    for (int i = 0; i < 20; i++) E[i] = 2000.f * (i + 1);
    for (int i = 0; i < 20 && j->rc == VAE_OK; i++) /* one particle at a time, as a hook */
        j->rc = vae_generate(g, 1, E + i, (uint64_t)j->seed, (uint64_t)i, j->out + i * 6480);
    vae_generator_close(g);
    return NULL;
}

Test(api, two_threads_generate_the_same_showers_as_sequential_calls)
{
    job_t seq[2], par[2];
    for (int k = 0; k < 2; k++) {
        seq[k] = (job_t){11 + k, malloc(20 * 6480 * 4), 0};
        par[k] = (job_t){11 + k, malloc(20 * 6480 * 4), 0};
        worker(&seq[k]);
        cr_assert_eq(seq[k].rc, VAE_OK);
    }
    pthread_t t[2];
    for (int k = 0; k < 2; k++) pthread_create(&t[k], NULL, worker, &par[k]);
    for (int k = 0; k < 2; k++) pthread_join(t[k], NULL);
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(par[k].rc, VAE_OK);
        cr_expect(memcmp(seq[k].out, par[k].out, 20 * 6480 * 4) == 0, "thread %d differs from sequential", k);
        free(seq[k].out), free(par[k].out);
    }
}

/* Threads per generator: 1 by default; 2 and 0 (every core) give the same showers as 1, in
 * any batch split; the caller's own OpenMP setting is the same after every call. */
Test(api, the_thread_count_is_per_generator_and_does_not_change_the_showers)
{
    vae_generator_t *g;
    cr_assert_eq(vae_generator_open(&g, MODEL), VAE_OK, "%s", vae_last_error());
    enum { N = 300, V = 6480 };
    float *E = malloc(N * 4), *a = malloc((size_t)N * V * 4), *b = malloc((size_t)N * V * 4);
    for (int i = 0; i < N; i++) E[i] = 500.f * (i + 1);
    omp_set_num_threads(2);
    cr_assert_eq(vae_generate(g, N, E, 3, 7, a), VAE_OK, "%s", vae_last_error());
    cr_expect_eq(omp_get_max_threads(), 2, "the caller's setting is restored");
    cr_expect_eq(vae_generator_set_threads(g, 2), 2);
    cr_assert_eq(vae_generate(g, 100, E, 3, 7, b), VAE_OK);
    cr_assert_eq(vae_generate(g, N - 100, E + 100, 3, 107, b + 100 * (size_t)V), VAE_OK);
    cr_expect(memcmp(a, b, (size_t)N * V * 4) == 0, "2 threads (batches 100 + 200) differ from 1 thread");
    cr_expect_eq(vae_generator_set_threads(g, 0), omp_get_num_procs());
    memset(b, 0, (size_t)N * V * 4);
    cr_assert_eq(vae_generate(g, N, E, 3, 7, b), VAE_OK);
    cr_expect(memcmp(a, b, (size_t)N * V * 4) == 0, "every core differs from 1 thread");
    cr_expect_eq(omp_get_max_threads(), 2);
    cr_expect_eq(vae_generator_set_threads(g, -1), VAE_EINVAL);
    cr_expect(strstr(vae_last_error(), "threads") != NULL);
    cr_expect_eq(vae_generator_set_threads(g, 1), 1);
    vae_generator_close(g);
    free(E), free(a), free(b);
}

Test(api, bf16_precision_falls_back_or_stays_close_to_f32)
{
    vae_generator_t *g;
    cr_assert_eq(vae_generator_open(&g, MODEL), VAE_OK, "%s", vae_last_error());
    enum { N = 64, V = 6480 };
    float E[N], *a = malloc((size_t)N * V * 4), *b = malloc((size_t)N * V * 4);
    for (int i = 0; i < N; i++) E[i] = 2000.f * (i + 1);
    cr_assert_eq(vae_generate(g, N, E, 9, 0, a), VAE_OK);
    int p = vae_generator_set_precision(g, VAE_PRECISION_BF16);
    cr_expect_eq(p, layer_bf16_native() ? VAE_PRECISION_BF16 : VAE_PRECISION_F32);
    p = vae_generator_set_precision(g, VAE_PRECISION_BF16_EMULATED);
    cr_expect_eq(p, layer_bf16_available() ? VAE_PRECISION_BF16 : VAE_PRECISION_F32);
    cr_assert_eq(vae_generate(g, N, E, 9, 0, b), VAE_OK, "%s", vae_last_error());
    /* the same latent draws and sampling streams: most voxels agree on hit / no hit, and the
     * summed energy is close */
    double sa = 0, sb = 0;
    int flips = 0;
    for (int k = 0; k < N * V; k++) sa += a[k], sb += b[k], flips += (a[k] > 0) != (b[k] > 0);
    cr_expect(flips < N * V / 50, "%d of %d voxels changed hit status in bf16", flips, N * V);
    cr_expect(fabs(sb / sa - 1) < 0.05, "energy sum %g (bf16) vs %g (f32)", sb, sa);
    /* bf16 runs fixed row sizes (1, 8, 64, 512; tails in 8-row chunks): any split, the same showers */
    float *c = malloc((size_t)N * V * 4);
    const int parts[] = {1, 36, 27};
    for (int k = 0, at = 0; k < 3; at += parts[k++])
        cr_assert_eq(vae_generate(g, parts[k], E + at, 9, (uint64_t)at, c + (size_t)at * V), VAE_OK);
    cr_expect(memcmp(b, c, (size_t)N * V * 4) == 0, "bf16: 1 + 36 + 27 differs from 64 at once");
    free(c);
    cr_expect_eq(vae_generator_set_precision(g, 7), VAE_EINVAL);
    cr_expect_eq(vae_generator_set_precision(g, VAE_PRECISION_F32), VAE_PRECISION_F32);
    cr_assert_eq(vae_generate(g, N, E, 9, 0, b), VAE_OK);
    cr_expect(memcmp(a, b, (size_t)N * V * 4) == 0, "back in f32, other showers");
    vae_generator_close(g);
    free(a), free(b);
}

/* A model with a learned prior: it is the default, the standard normal can be chosen instead
 * (and back), the choice survives a precision change, and the total energy follows the prior's
 * (here narrow) E_tot/E_inc. */
Test(api, learned_prior_is_the_default_and_can_be_switched_off)
{
    char path[128];
    snprintf(path, sizeof path, "%s/prior.h5", D);
    vae_config_t c;
    vae_config_preset(&c, "tiny", "ds2", 6480, 0.01515);
    vae_model_t m;
    cr_assert_eq(vae_model_init(&m, &c, &tu_ctx, 0), BASE_OK, "%s", base_last_error());
    vae_model_init_params(&m, 3);
    phys_geometry_t geo;
    phys_geometry_preset(&geo, "ds2");
    cr_assert_eq(vae_prior_init(&m.prior, 1, 1, c.Z, &geo, c.threshold_mev), BASE_OK);
    vae_prior_t *p = &m.prior;
    const int Dm = p->D;
    p->pi[0] = 1;
    for (int d = 0; d < Dm; d++) { /* u ~ 0.5 +- 0.3, z ~ N(0, 1), layers 2% each, total 0.97 +- 0.1% */
        p->mu[d] = d == 0 ? 0.5 : d <= c.Z ? 0 : d < Dm - 1 ? log(0.02) : log(0.97);
        p->chol[(size_t)d * Dm + d] = d == 0 ? 0.3 : d <= c.Z ? 1 : d < Dm - 1 ? 0.1 : 0.001;
    }
    cr_assert_eq(vae_prior_prepare(p), BASE_OK);
    cr_assert_eq(vae_model_save(&m, &geo, path, 1, NULL), BASE_OK, "%s", base_last_error());
    vae_model_free(&m);
    vae_generator_t *g;
    cr_assert_eq(vae_generator_open(&g, path), VAE_OK, "%s", vae_last_error());
    float E[4] = {2e3f, 2e4f, 2e5f, 8e5f}, *a = malloc(4 * 6480 * 4), *b = malloc(4 * 6480 * 4);
    cr_assert_eq(vae_generate(g, 4, E, 9, 0, a), VAE_OK, "%s", vae_last_error());
    for (int i = 0; i < 4; i++) {
        double t = 0;
        for (int v = 0; v < 6480; v++) t += a[i * 6480 + v];
        cr_expect(fabs(t / E[i] - 0.97) < 0.01, "shower %d: E_tot/E_inc %.4f, the prior says 0.97", i, t / E[i]);
    }
    cr_assert_eq(vae_generator_set_prior(g, VAE_PRIOR_STANDARD), VAE_PRIOR_STANDARD);
    cr_assert_eq(vae_generate(g, 4, E, 9, 0, b), VAE_OK);
    cr_expect(memcmp(a, b, 4 * 6480 * 4) != 0, "the standard prior gives other showers");
    cr_assert_eq(vae_generator_set_prior(g, VAE_PRIOR_LEARNED), VAE_PRIOR_LEARNED);
    cr_assert(vae_generator_set_precision(g, VAE_PRECISION_BF16_EMULATED) >= 0, "%s", vae_last_error());
    cr_assert(vae_generator_set_precision(g, VAE_PRECISION_F32) == VAE_PRECISION_F32);
    cr_assert_eq(vae_generate(g, 4, E, 9, 0, b), VAE_OK);
    cr_expect(memcmp(a, b, 4 * 6480 * 4) == 0, "learned again (after a precision round trip): the same showers");
    cr_expect_eq(vae_generator_set_prior(g, 7), VAE_EINVAL);
    vae_generator_close(g);
    free(a), free(b);
}

/* A model conditioned on the angle, whose learned prior ties the total energy to it (a
 * coordinate a = angle / 90 with gain 0.05 on ln(E_tot / E_inc)): vae_generate_ex gives each
 * particle its own angle, the totals follow the prior's conditional mean
 * ln 0.97 + 0.05 (a - 0.8) / 0.1, NULL and all-90 are vae_generate, and a bad angle is refused. */
Test(api, per_particle_angles_condition_the_decoder_and_the_prior)
{
    char path[128];
    snprintf(path, sizeof path, "%s/angle.h5", D);
    vae_config_t c;
    vae_config_preset(&c, "tiny", "ds2", 6480, 0.01515);
    c.conditions |= VAE_COND_ANGLE;
    c.angle_min = 50, c.angle_max = 90;
    vae_model_t m;
    cr_assert_eq(vae_model_init(&m, &c, &tu_ctx, 0), BASE_OK, "%s", base_last_error());
    vae_model_init_params(&m, 3);
    phys_geometry_t geo;
    phys_geometry_preset(&geo, "ds2");
    cr_assert_eq(vae_config_prior_conds(&c), 2);
    cr_assert_eq(vae_prior_init(&m.prior, 1, 2, c.Z, &geo, c.threshold_mev), BASE_OK);
    vae_prior_t *p = &m.prior;
    const int Dm = p->D;
    p->pi[0] = 1;
    for (int d = 0; d < Dm; d++) { /* u, a, z, layers 2% each, total */
        p->mu[d] = d == 0 ? 0.5 : d == 1 ? 0.8 : d < 2 + c.Z ? 0 : d < Dm - 1 ? log(0.02) : log(0.97);
        p->chol[(size_t)d * Dm + d] = d == 0 ? 0.3 : d == 1 ? 0.1 : d < 2 + c.Z ? 1 : d < Dm - 1 ? 0.1 : 0.001;
    }
    p->chol[(size_t)(Dm - 1) * Dm + 1] = 0.05; /* L_tot,a */
    cr_assert_eq(vae_prior_prepare(p), BASE_OK);
    cr_assert_eq(vae_model_save(&m, &geo, path, 1, NULL), BASE_OK, "%s", base_last_error());
    vae_model_free(&m);
    vae_generator_t *g;
    cr_assert_eq(vae_generator_open(&g, path), VAE_OK, "%s", vae_last_error());
    double lo, hi;
    vae_generator_angle_range(g, &lo, &hi);
    cr_expect(lo == 50 && hi == 90, "angle range %g..%g", lo, hi);
    float E[4] = {2e4f, 2e4f, 2e5f, 2e5f}, A[4] = {90, 50, 90, 50}, A90[4] = {90, 90, 90, 90};
    float *a = malloc(4 * 6480 * 4), *b = malloc(4 * 6480 * 4);
    cr_assert_eq(vae_generate_ex(g, 4, E, A, 9, 0, a), VAE_OK, "%s", vae_last_error());
    for (int i = 0; i < 4; i++) {
        double t = 0, want = 0.97 * exp(0.05 * (A[i] / 90.0 - 0.8) / 0.1);
        for (int v = 0; v < 6480; v++) t += a[i * 6480 + v];
        cr_expect(fabs(t / E[i] / want - 1) < 0.01, "shower %d at %g deg: E_tot/E_inc %.4f, the prior says %.4f", i,
                  A[i], t / E[i], want);
    }
    cr_assert_eq(vae_generate(g, 4, E, 9, 0, a), VAE_OK);
    cr_assert_eq(vae_generate_ex(g, 4, E, A90, 9, 0, b), VAE_OK);
    cr_expect(memcmp(a, b, 4 * 6480 * 4) == 0, "vae_generate is not 90 deg");
    cr_assert_eq(vae_generate_ex(g, 4, E, NULL, 9, 0, b), VAE_OK);
    cr_expect(memcmp(a, b, 4 * 6480 * 4) == 0, "NULL angles are not 90 deg");
    A[2] = 0;
    cr_expect_eq(vae_generate_ex(g, 4, E, A, 9, 0, b), VAE_EINVAL);
    cr_expect(strstr(vae_last_error(), "angle") != NULL, "%s", vae_last_error());
    vae_generator_close(g);
    free(a), free(b);
}
