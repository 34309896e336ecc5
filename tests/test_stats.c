/* tests/test_stats.c: each metric against a hand calculation on tiny inputs. */
#include "base/rng.h"
#include "base/status.h"
#include "layers/ctx.h"
#include "vae/eval/classifier.h"
#include "vae/eval/stats.h"
#include "base/bf16.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

Test(stats, separation_power_by_hand)
{
    double a[2] = {1, 0}, b[2] = {0, 1}, c[2] = {1, 1}, d[2] = {1, 3}, e[2] = {2, 6};
    cr_expect(fabs(eval_separation(a, b, 2) - 1) < 1e-12, "disjoint: 1");
    cr_expect(fabs(eval_separation(c, c, 2)) < 1e-15, "identical: 0");
    /* p = (1/2, 1/2), q = (1/4, 3/4): 0.5 (0.0625/0.75 + 0.0625/1.25) = 1/15 */
    cr_expect(fabs(eval_separation(c, d, 2) - 1.0 / 15) < 1e-12, "%g", eval_separation(c, d, 2));
    cr_expect(fabs(eval_separation(d, e, 2)) < 1e-15, "normalised: scale does not matter");
}

Test(stats, histograms_bin_like_numpy)
{
    eval_hist_t h;
    cr_assert_eq(eval_hist_init(&h, 4, 0, 2, 0), 0);
    double v[] = {-0.1, 0, 0.49, 0.5, 1.99, 2.0, 2.01};
    for (int i = 0; i < 7; i++) eval_hist_fill(&h, v[i]);
    cr_expect(h.h[0] == 2 && h.h[1] == 1 && h.h[2] == 0 && h.h[3] == 2, "%g %g %g %g", h.h[0], h.h[1], h.h[2], h.h[3]);
    cr_expect(eval_hist_total(&h) == 5);
    cr_expect(fabs(eval_hist_edge(&h, 1) - 0.5) < 1e-15);
    eval_hist_free(&h);
    cr_assert_eq(eval_hist_init(&h, 3, 1, 1000, 1), 0);
    eval_hist_fill(&h, 5);
    eval_hist_fill(&h, 50);
    eval_hist_fill(&h, 999);
    eval_hist_fill(&h, 0.5);
    cr_expect(h.h[0] == 1 && h.h[1] == 1 && h.h[2] == 1);
    cr_expect(fabs(eval_hist_edge(&h, 2) - 100) < 1e-9);
    eval_hist_free(&h);
    cr_expect(eval_hist_init(&h, 3, 0, 10, 1) != 0, "log bins need lo > 0");
}

Test(stats, auc_by_hand)
{
    /* the scikit-learn example: 0.75 */
    float s[4] = {0.1f, 0.4f, 0.35f, 0.8f};
    unsigned char y[4] = {0, 0, 1, 1};
    cr_expect(fabs(eval_auc(s, y, 4) - 0.75) < 1e-12);
    float t[2] = {1, 1};
    unsigned char z[2] = {0, 1};
    cr_expect(fabs(eval_auc(t, z, 2) - 0.5) < 1e-12, "a tie counts one half");
    float u[4] = {0, 1, 2, 3};
    unsigned char w[4] = {0, 0, 1, 1};
    cr_expect(fabs(eval_auc(u, w, 4) - 1) < 1e-12);
    unsigned char inv[4] = {1, 1, 0, 0};
    cr_expect(fabs(eval_auc(u, inv, 4)) < 1e-12);
}

Test(stats, isotonic_calibration_and_jsd_by_hand)
{
    /* labels in score order 0, 1, 0, 1, 1: blocks {0}, {1, 0} -> 0.5, {1, 1} -> 1 */
    float s[5] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
    unsigned char y[5] = {0, 1, 0, 1, 1};
    eval_isotonic_t c;
    cr_assert_eq(eval_isotonic_fit(&c, s, y, 5), 0);
    cr_expect_eq(c.n, 3);
    cr_expect(eval_isotonic_apply(&c, 0.05) == 0 && eval_isotonic_apply(&c, 0.1) == 0);
    cr_expect(eval_isotonic_apply(&c, 0.25) == 0.5 && eval_isotonic_apply(&c, 0.45) == 1);
    cr_expect(eval_isotonic_apply(&c, 9) == 1);
    /* between blocks the map is linear, as sklearn's predict (np.interp over the blocks' ends):
     * 0.15 lies halfway between block {0.1} (p 0) and block {0.2, 0.3} (p 0.5); 0.35 halfway
     * between 0.3 (0.5) and 0.4 (1) */
    cr_expect(fabs(eval_isotonic_apply(&c, 0.15) - 0.25) < 1e-6, "%g", eval_isotonic_apply(&c, 0.15));
    cr_expect(fabs(eval_isotonic_apply(&c, 0.35) - 0.75) < 1e-6, "%g", eval_isotonic_apply(&c, 0.35));
    eval_isotonic_free(&c);
    /* tied scores share one block whatever their labels' order */
    float t[4] = {0.2f, 0.2f, 0.2f, 0.7f};
    unsigned char ty[4] = {1, 0, 1, 1};
    cr_assert_eq(eval_isotonic_fit(&c, t, ty, 4), 0);
    cr_expect(fabs(eval_isotonic_apply(&c, 0.2) - 2.0 / 3) < 1e-12, "%g", eval_isotonic_apply(&c, 0.2));
    eval_isotonic_free(&c);
    /* JSD: a perfect classifier gives ln 2, a blind one 0 */
    double p1[2] = {0, 1}, p2[2] = {0.5, 0.5};
    unsigned char l[2] = {0, 1};
    cr_expect(fabs(eval_jsd(p1, l, 2) - log(2)) < 1e-6);
    cr_expect(fabs(eval_jsd(p2, l, 2)) < 1e-12);
}

/* The classifier with the challenge's settings (unstandardised inputs, LeakyReLU 0.01, the
 * epoch of best test accuracy, calibrated AUC, JSD / ln 2), narrowed to 3 x 64 for speed, on
 * two Gaussian samples whose first feature differs by one standard deviation: the best
 * possible AUC is Phi(1 / sqrt 2) = 0.760 and the best accuracy Phi(0.5) = 0.691. */
Test(stats, classifier_with_the_challenge_settings_finds_a_known_separation)
{
    enum { N = 8000, D = 8 };
    float *X = malloc(sizeof(float) * N * D);
    unsigned char y[N], split[N];
    base_rng_t r;
    base_rng_init(&r, 21, 0);
    base_rng_normal(&r, X, (size_t)N * D);
    for (int i = 0; i < N; i++) {
        y[i] = i % 2;
        X[i * D] += y[i] ? 1.f : 0.f;
        split[i] = (i / 2) % 5 < 3 ? 0 : (i / 2) % 5 == 3 ? 1 : 2;
    }
    layer_ctx_t ctx;
    cr_assert_eq(layer_ctx_init(&ctx), BASE_OK);
    eval_cls_opts_t o = eval_cls_defaults(1);
    cr_expect(o.n_hidden == 3 && o.hidden[0] == 2048 && o.batch == 1000 && o.epochs == 50 && fabsf(o.lr - 2e-4f) < 1e-9f &&
                  fabsf(o.slope - 0.01f) < 1e-9f && !o.standardise && o.by_accuracy && o.challenge_scores,
              "the challenge's settings");
    o.hidden[0] = o.hidden[1] = o.hidden[2] = 64, o.batch = 200, o.epochs = 10, o.lr = 1e-3f;
    eval_cls_result_t res;
    cr_assert_eq(eval_cls_run(&ctx, X, NULL, y, split, N, D, &o, &res), BASE_OK, "%s", base_last_error());
    cr_expect(res.auc > 0.72 && res.auc < 0.80, "AUC %g (best possible 0.760)", res.auc);
    cr_expect(res.accuracy > 0.65 && res.accuracy < 0.72, "accuracy %g (best possible 0.691)", res.accuracy);
    cr_expect(res.jsd > 0.05 && res.jsd < 0.3, "JSD %g in units of ln 2", res.jsd);
    cr_expect(res.best_epoch >= 1 && res.best_epoch <= res.epochs_run, "best epoch %d of %d", res.best_epoch,
              res.epochs_run);
    /* the inputs held in bf16 (evaluate's low-level inputs beyond --cls-memory) give exactly
     * what the same bf16-rounded values give in f32, and stay within the rounding of the f32 run */
    uint16_t *Xh = malloc(sizeof(uint16_t) * N * D);
    base_bf16_from_f32_n(X, Xh, (size_t)N * D);
    base_bf16_to_f32_n(Xh, X, (size_t)N * D);
    eval_cls_result_t rh, rr;
    cr_assert_eq(eval_cls_run(&ctx, NULL, Xh, y, split, N, D, &o, &rh), BASE_OK, "%s", base_last_error());
    cr_assert_eq(eval_cls_run(&ctx, X, NULL, y, split, N, D, &o, &rr), BASE_OK, "%s", base_last_error());
    cr_expect(rh.auc == rr.auc && rh.jsd == rr.jsd && rh.best_epoch == rr.best_epoch, "bf16 rows %g %g, rounded f32 %g %g",
              rh.auc, rh.jsd, rr.auc, rr.jsd);
    cr_expect(fabs(rh.auc - res.auc) < 0.01, "bf16 AUC %g, f32 %g", rh.auc, res.auc);
    o.standardise = 1;
    cr_expect_eq(eval_cls_run(&ctx, NULL, Xh, y, split, N, D, &o, &rh), BASE_EINVAL, "bf16 rows are not standardised");
    layer_ctx_free(&ctx);
    free(X), free(Xh);
}

/* A last training batch smaller than the batch size runs as PyTorch's loader runs it: 50
 * training rows in batches of 64 (one padded batch of 50) take the same Adam steps as batches
 * of 50, so the two runs end with the same test loss and AUC (to float rounding). */
Test(stats, a_partial_last_batch_is_a_batch_of_its_rows)
{
    enum { N = 400, D = 6 };
    float X[N * D];
    unsigned char y[N], split[N];
    base_rng_t r;
    base_rng_init(&r, 5, 0);
    base_rng_normal(&r, X, (size_t)N * D);
    for (int i = 0; i < N; i++) {
        y[i] = i % 2;
        X[i * D] += y[i] ? 1.f : 0.f;
        split[i] = i < 50 ? 0 : i < 225 ? 1 : 2;
    }
    layer_ctx_t ctx;
    cr_assert_eq(layer_ctx_init(&ctx), BASE_OK);
    eval_cls_opts_t o = eval_cls_defaults(1);
    o.hidden[0] = o.hidden[1] = o.hidden[2] = 16, o.epochs = 5, o.lr = 1e-2f;
    eval_cls_result_t a, b;
    o.batch = 64;
    cr_assert_eq(eval_cls_run(&ctx, X, NULL, y, split, N, D, &o, &a), BASE_OK, "%s", base_last_error());
    o.batch = 50;
    cr_assert_eq(eval_cls_run(&ctx, X, NULL, y, split, N, D, &o, &b), BASE_OK, "%s", base_last_error());
    cr_expect(fabs(a.test_loss - b.test_loss) < 1e-5 * b.test_loss, "test BCE %.8f (padded) vs %.8f", a.test_loss,
              b.test_loss);
    cr_expect(fabs(a.auc - b.auc) < 1e-3 && a.best_epoch == b.best_epoch, "AUC %g vs %g, best epoch %d vs %d", a.auc,
              b.auc, a.best_epoch, b.best_epoch);
    /* and the steps did something: 5 epochs moved the test loss away from its start */
    o.epochs = 1, o.lr = 0;
    eval_cls_result_t z;
    cr_assert_eq(eval_cls_run(&ctx, X, NULL, y, split, N, D, &o, &z), BASE_OK, "%s", base_last_error());
    cr_expect(fabs(z.test_loss - b.test_loss) > 1e-3, "trained %g, untrained %g", b.test_loss, z.test_loss);
    layer_ctx_free(&ctx);
}
