/* tests/testutil.h: helpers shared by the Criterion suites (fills, comparisons, oneDNN
 * fixture, finite differences). Test-only code. */
#ifndef TESTS_TESTUTIL_H
#define TESTS_TESTUTIL_H

#include "layers/ctx.h"

#include <stddef.h>
#include <stdint.h>

/* One context per test process, created by tu_ctx_setup (suite .init) and freed by
 * tu_ctx_teardown (suite .fini). */
extern layer_ctx_t tu_ctx;
void tu_ctx_setup(void);
void tu_ctx_teardown(void);

/* x: (n) uniform in [lo, hi), from a Philox stream of seed. */
void tu_fill(float *x, size_t n, float lo, float hi, uint64_t seed);
void tu_to_double(double *d, const float *f, size_t n);
void tu_to_float(float *f, const double *d, size_t n);

/* max_i |a_i - r_i| / max(|r_i|, floor): relative error with an absolute floor. */
double tu_max_rel_err(const float *a, const double *r, size_t n, double floor);

/* Central finite differences in double of a scalar function f over the n entries of p:
 *   g_i = (f(p + h e_i) - f(p - h e_i)) / (2 h),
 * compared with the analytic gradient a (float). Returns the worst relative error
 * |a_i - g_i| / max(|g_i|, floor). */
typedef double (*tu_scalar_fn)(void *ctx);
double tu_fd_check(tu_scalar_fn f, void *ctx, double *p, size_t n, const float *a, double h,
                   double floor);

/* Creates an empty directory /tmp/sv_<tag>_<pid> and writes its path into dir (n bytes);
 * tu_tmpdir_remove deletes it with its contents. */
void tu_tmpdir_make(char *dir, size_t n, const char *tag);
void tu_tmpdir_remove(const char *dir);

#endif
