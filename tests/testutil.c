/* tests/testutil.c: see testutil.h. */
#include "tests/testutil.h"

#include "base/rng.h"
#include "base/status.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

layer_ctx_t tu_ctx;

void tu_ctx_setup(void)
{
    int rc = layer_ctx_init(&tu_ctx);
    cr_assert_eq(rc, BASE_OK, "layer_ctx_init: %s", base_last_error());
}

void tu_ctx_teardown(void) { layer_ctx_free(&tu_ctx); }

void tu_fill(float *x, size_t n, float lo, float hi, uint64_t seed)
{
    base_rng_t r;
    base_rng_init(&r, seed, 0);
    base_rng_uniform(&r, x, n);
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

void tu_tmpdir_make(char *dir, size_t n, const char *tag)
{
    snprintf(dir, n, "/tmp/sv_%s_%d", tag, (int)getpid());
    char c[256];
    snprintf(c, sizeof c, "rm -rf %s && mkdir -p %s", dir, dir);
    cr_assert_eq(system(c), 0, "cannot create %s", dir);
}

void tu_tmpdir_remove(const char *dir)
{
    char c[256];
    snprintf(c, sizeof c, "rm -rf %s", dir);
    if (system(c) != 0) cr_log_warn("cannot remove %s", dir);
}
