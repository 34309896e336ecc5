/* tests/test_lik.c: every likelihood's gradient (vae/lik.h) against central finite differences. */
#include "base/status.h"
#include "tests/testutil.h"
#include "vae/config.h"
#include "vae/lik.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

enum { N = 3, V = 7 };

static vae_config_t cfg(vae_likelihood_t lik)
{
    vae_config_t c = {.V = V, .lik = lik, .log_eps = 1e-4, .threshold_mev = 0.015, .lv_clamp = 8.f};
    return c;
}

/* Worst relative error of w dL/dout against (L(out + h) - L(out - h)) / 2h. */
static double fd_worst(const vae_config_t *c, float *out, const float *x, const float *E)
{
    const int O = vae_config_n_out(c);
    float *d = malloc(sizeof(float) * N * O);
    vae_lik_loss(c, N, out, x, E, 0.5f, d, NULL);
    double worst = 0;
    for (int i = 0; i < N * O; i++) {
        float keep = out[i], hp = keep + 2e-3f, hm = keep - 2e-3f;
        out[i] = hp;
        double fp = vae_lik_loss(c, N, out, x, E, 1.f, NULL, NULL);
        out[i] = hm;
        double fm = vae_lik_loss(c, N, out, x, E, 1.f, NULL, NULL);
        out[i] = keep;
        double fd = 0.5 * (fp - fm) / ((double)hp - hm);
        worst = fmax(worst, fabs(fd - d[i]) / fmax(fabs(fd), 1e-3));
    }
    free(d);
    return worst;
}

static void showers(float *x, float *E)
{
    tu_fill(x, N * V, 0, 40, 21);
    for (int i = 0; i < N * V; i++)
        if (i % 3 == 1) x[i] = 0; /* empty voxels too */
    for (int i = 0; i < N; i++) E[i] = 100.f + 50.f * i;
}

Test(lik, bernoulli_gradient_matches_finite_differences)
{
    vae_config_t c = cfg(VAE_LIK_BERNOULLI);
    float out[N * V], x[N * V], E[N];
    showers(x, E);
    tu_fill(out, N * V, -3, 3, 22);
    double w = fd_worst(&c, out, x, E);
    cr_expect(w < 2e-2, "worst relative error %g", w);
}

Test(lik, gaussian_gradient_matches_finite_differences)
{
    vae_config_t c = cfg(VAE_LIK_GAUSSIAN);
    float out[N * 2 * V], x[N * V], E[N];
    showers(x, E);
    tu_fill(out, N * 2 * V, -3, 3, 23); /* means and log-variances inside the clamp */
    double w = fd_worst(&c, out, x, E);
    cr_expect(w < 1e-2, "worst relative error %g", w);
}

Test(lik, hurdle_gradient_matches_finite_differences)
{
    vae_config_t c = cfg(VAE_LIK_HURDLE);
    float out[N * (3 * V + 2)], x[N * V], E[N];
    showers(x, E);
    tu_fill(out, N * (3 * V + 2), -2, 2, 24);
    double w = fd_worst(&c, out, x, E);
    cr_expect(w < 1e-2, "worst relative error %g", w);
}
