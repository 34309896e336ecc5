/* tests/testutil.c: see testutil.h. */
#include "tests/testutil.h"

#include "layers/rng.h"
#include "layers/status.h"

#include <criterion/criterion.h>
#include <math.h>

layer_ctx_t tu_ctx;

void tu_ctx_setup(void)
{
    int rc = layer_ctx_init(&tu_ctx);
    cr_assert_eq(rc, LAYER_OK, "layer_ctx_init: %s", layer_last_error());
}

void tu_ctx_teardown(void) { layer_ctx_free(&tu_ctx); }

void tu_fill(float *x, size_t n, float lo, float hi, uint64_t seed)
{
    layer_rng_t r;
    layer_rng_init(&r, seed, 0);
    layer_rng_uniform(&r, x, n);
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * x[i];
}

void tu_to_double(double *d, const float *f, size_t n)
{
    for (size_t i = 0; i < n; i++) d[i] = f[i];
}

void tu_to_float(float *f, const double *d, size_t n)
{
    for (size_t i = 0; i < n; i++) f[i] = (float)d[i];
}

double tu_max_rel_err(const float *a, const double *r, size_t n, double floor)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(a[i] - r[i]) / fmax(fabs(r[i]), floor);
        if (!(e <= worst)) worst = e; /* NaN propagates as the worst error */
    }
    return worst;
}

double tu_fd_check(tu_scalar_fn f, void *ctx, double *p, size_t n, const float *a, double h,
                   double floor)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double keep = p[i];
        p[i] = keep + h;
        double fp = f(ctx);
        p[i] = keep - h;
        double fm = f(ctx);
        p[i] = keep;
        double g = (fp - fm) / (2 * h);
        double e = fabs(a[i] - g) / fmax(fabs(g), floor);
        if (!(e <= worst)) worst = e;
    }
    return worst;
}
