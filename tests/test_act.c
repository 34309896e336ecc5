/* tests/test_act.c: the stand-alone activation layer against the reference and finite differences. */
#include "base/status.h"
#include "layers/act.h"
#include "layers/ref.h"
#include "tests/testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

TestSuite(act, .init = tu_ctx_setup, .fini = tu_ctx_teardown);

static const layer_act_spec_t ACTS[] = {
    {LAYER_ACT_IDENTITY, 0}, {LAYER_ACT_RELU, 0},    {LAYER_ACT_LEAKY_RELU, 0.2f},
    {LAYER_ACT_SIGMOID, 0},  {LAYER_ACT_TANH, 0},    {LAYER_ACT_SOFTPLUS, 0}};
enum { NACT = sizeof ACTS / sizeof *ACTS };

/* Stand-alone activation layer: forward vs reference, backward vs finite differences. */
Test(act, forward_and_backward_match_reference_and_finite_differences)
{
    enum { B = 8, C = 13 };
    for (int a = 0; a < NACT; a++) {
        layer_act_t L;
        cr_assert_eq(layer_act_init(&L, &tu_ctx, NULL, &(layer_act_cfg_t){ACTS[a], B, C}), BASE_OK, "%s", base_last_error());
        float x[B * C], y[B * C], dy[B * C], dx[B * C];
        tu_fill(x, B * C, -3, 3, 200 + a);
        for (int i = 0; i < B * C; i++)
            if (fabsf(x[i]) < 0.05f) x[i] = 0.05f; /* away from the kink at 0 */
        tu_fill(dy, B * C, -1, 1, 300 + a);
        cr_assert_eq(layer_act_forward(&L, x, y), BASE_OK);
        double yr[B * C];
        for (int i = 0; i < B * C; i++) yr[i] = layer_ref_act(ACTS[a], x[i]);
        const char *name = layer_act_name(ACTS[a].kind);
        cr_expect(tu_max_rel_err(y, yr, B * C, 1e-3) < 1e-5, "%s forward", name);
        cr_assert_eq(layer_act_backward(&L, y, dy, dx), BASE_OK);
        for (int i = 0; i < B * C; i++) {
            double h = 1e-6;
            double g = dy[i] * (layer_ref_act(ACTS[a], x[i] + h) - layer_ref_act(ACTS[a], x[i] - h)) / (2 * h);
            cr_expect(fabs(dx[i] - g) <= 1e-4 * fmax(fabs(g), 1e-2), "%s backward i=%d: %g vs %g",
                      name, i, dx[i], g);
        }
        /* in place: y = f(y), dy = dy * f' */
        cr_assert_eq(layer_act_forward(&L, x, x), BASE_OK);
        cr_expect(tu_max_rel_err(x, yr, B * C, 1e-3) < 1e-5, "%s in place", name);
        layer_act_free(&L);
    }
}

Test(act, names_round_trip_and_unknown_is_rejected)
{
    for (int a = 0; a < NACT; a++) {
        layer_act_kind_t k;
        cr_assert_eq(layer_act_parse(layer_act_name(ACTS[a].kind), &k), BASE_OK);
        cr_assert_eq(k, ACTS[a].kind);
    }
    layer_act_kind_t k;
    cr_assert_eq(layer_act_parse("gelu", &k), BASE_EINVAL);
    cr_assert(strstr(base_last_error(), "gelu") != NULL);
}
