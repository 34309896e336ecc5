/* tests/test_evaluate.c: the evaluation end to end on simulated samples: identical samples,
 * two independent samples of one distribution, and a distorted sample. */
#include "io/writer.h"
#include "base/status.h"
#include "physics/simulate.h"
#include "tests/testutil.h"
#include "vae/eval/evaluate.h"

#include <cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char D[48];

static void setup(void)
{
    tu_tmpdir_make(D, sizeof D, "eval");
}

static void teardown(void)
{
    tu_tmpdir_remove(D);
}

TestSuite(evaluate, .init = setup, .fini = teardown, .timeout = 600);

/* n ds2 showers, 1-100 GeV, seed; voxel energies scaled by scale; shift > 0: every shower
 * moved that many layers deeper (layer l takes layer l - shift's voxels, the first ones empty). */
static const char *sample_with(const char *name, int n, uint64_t seed, float scale, int shift)
{
    static char p[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", D, name);
    phys_geometry_t g;
    phys_sim_t s;
    phys_geometry_preset(&g, "ds2");
    phys_sim_init(&s, &g);
    double *E = malloc((size_t)n * sizeof *E);
    float *Ef = malloc((size_t)n * sizeof *Ef), *X = malloc((size_t)n * 6480 * 4);
    phys_sim_energies_loguniform(E, (size_t)n, 1e3, 1e5, seed, 0);
    cr_assert_eq(phys_sim_batch(&s, E, NULL, (size_t)n, seed, 0, X), BASE_OK);
    for (int i = 0; i < n; i++) Ef[i] = (float)E[i];
    for (size_t v = 0; v < (size_t)n * 6480; v++) X[v] *= scale;
    if (shift > 0)
        for (int i = 0; i < n; i++) {
            float *x = X + (size_t)i * 6480; /* 45 layers of 144 voxels */
            memmove(x + 144 * shift, x, (size_t)(45 - shift) * 144 * sizeof *x);
            memset(x, 0, (size_t)shift * 144 * sizeof *x);
        }
    io_writer_t w;
    cr_assert_eq(io_writer_open(&w, p[k], &g, NULL), BASE_OK);
    cr_assert_eq(io_writer_append(&w, Ef, X, (size_t)n), BASE_OK);
    cr_assert_eq(io_writer_close(&w), BASE_OK);
    free(E), free(Ef), free(X);
    return p[k];
}

static const char *sample(const char *name, int n, uint64_t seed, float scale)
{
    return sample_with(name, n, seed, scale, 0);
}

/* The parsed metrics.json of report directory out (the caller deletes it). */
static cJSON *metrics(const char *out)
{
    char p[300], *txt = malloc(1 << 20);
    snprintf(p, sizeof p, "%s/metrics.json", out);
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f, "no %s", p);
    size_t n = fread(txt, 1, (1 << 20) - 1, f);
    fclose(f);
    txt[n] = 0;
    cJSON *j = cJSON_Parse(txt);
    free(txt);
    cr_assert_not_null(j, "%s is not JSON", p);
    return j;
}

static eval_result_t evaluate(const char *gen, const char *ref, const char *out)
{
    eval_opts_t o = {.gen = gen, .ref = ref, .out = out, .seed = 3, .cls_epochs = 8, .quick = 1};
    eval_result_t r;
    cr_assert_eq(eval_run(&o, &r), BASE_OK, "%s", base_last_error());
    cr_log_info("%s vs %s: sep E_tot/E_inc %.4f, mean sep %.4f, AUC low %.3f high %.3f (JSD %.3f %.3f)", gen, ref,
                r.sep_etot, r.sep_mean, r.auc_low, r.auc_high, r.jsd_low, r.jsd_high);
    return r;
}

Test(evaluate, identical_samples_give_zero_separation_and_chance_auc)
{
    const char *a = sample("a.h5", 2500, 1, 1.f);
    char out[160];
    snprintf(out, sizeof out, "%s/rep_same", D);
    eval_result_t r = evaluate(a, a, out);
    cr_expect(r.sep_max == 0, "separation %g for identical samples", r.sep_max);
    cr_expect(fabs(r.auc_low - 0.5) < 0.03 && fabs(r.auc_high - 0.5) < 0.03, "AUC %g %g", r.auc_low, r.auc_high);
    /* the report's files */
    const char *files[] = {"index.html", "metrics.json", "hists/Etot_Einc.csv", "hists/E_layer20.csv",
                           "plots/Etot_Einc.png", "plots/longitudinal_profile.png", "plots/radial_profile.png",
                           "plots/image_00.png", "plots/voxel_energy.png", "plots/all_E_layer.png",
                           "plots/all_sparsity.png"};
    for (unsigned i = 0; i < sizeof files / sizeof *files; i++) {
        char p[300];
        snprintf(p, sizeof p, "%s/%s", out, files[i]);
        cr_expect(access(p, R_OK) == 0, "missing %s", files[i]);
    }
    cJSON *j = metrics(out);
    cJSON *sep = cJSON_GetObjectItem(j, "separation_power");
    /* E_tot/E_inc, voxels, 8 features in 45 layers, E_tot/E_inc in 3 decades of E_inc */
    cr_expect_eq(cJSON_GetArraySize(sep), 2 + 45 * 8 + 3, "one separation per histogram");
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "separation_noise_floor")), 2 + 45 * 8 + 3,
                 "one noise floor per histogram");
    cJSON *cls = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "classifier"), "low_level");
    cr_expect(fabs(cJSON_GetObjectItem(cls, "auc")->valuedouble - r.auc_low) < 1e-12);
    cJSON_Delete(j);
    /* an existing report is not replaced without force */
    eval_opts_t o = {.gen = a, .ref = a, .out = out, .no_cls = 1};
    cr_expect_eq(eval_run(&o, NULL), BASE_EEXIST);
}

Test(evaluate, independent_samples_of_one_distribution_are_indistinguishable)
{
    const char *a = sample("a.h5", 2500, 1, 1.f), *b = sample("b.h5", 2500, 2, 1.f);
    char out[160];
    snprintf(out, sizeof out, "%s/rep_indep", D);
    eval_result_t r = evaluate(a, b, out);
    cr_expect(fabs(r.auc_low - 0.5) < 0.05 && fabs(r.auc_high - 0.5) < 0.05, "AUC %g %g", r.auc_low, r.auc_high);
    cr_expect(r.sep_etot < 0.05, "E_tot/E_inc separation %g", r.sep_etot);
    /* the physics distances of two samples of one distribution. KPD (an unbiased MMD) is
     * compatible with 0. FPD is not at any size measured here, in evaluate.py's definition as
     * in ours: its extrapolation in 1/N leaves a floor from the 362 strongly correlated
     * features, 0.27 at 2,500 + 2,500 simulated showers, 0.029 +- 0.0007 at 20k + 20k
     * (evaluate.py on the same files: 0.0300 +- 0.0007) and 0.018 at 100k + 20k; it
     * must stay far below what a shape distortion gives at the same size (showers one layer
     * deeper; an energy scale of even 10% moves the normalised features less than the floor) */
    cr_log_info("independent: FPD %g +- %g, KPD %g +- %g", r.fpd, r.fpd_err, r.kpd, r.kpd_err);
    cr_expect(fabs(r.kpd) <= 3 * r.kpd_err + 1e-5, "independent: KPD %g +- %g", r.kpd, r.kpd_err);
    const char *c = sample_with("c.h5", 2500, 2, 1.f, 1);
    snprintf(out, sizeof out, "%s/rep_indep_scaled", D);
    eval_opts_t o = {.gen = c, .ref = a, .out = out, .seed = 3, .no_cls = 1, .no_prdc = 1, .quick = 1};
    eval_result_t d;
    cr_assert_eq(eval_run(&o, &d), BASE_OK, "%s", base_last_error());
    cr_log_info("one layer deeper: FPD %g +- %g, KPD %g +- %g", d.fpd, d.fpd_err, d.kpd, d.kpd_err);
    cr_expect(r.have_fpd && d.fpd > 3 * r.fpd, "FPD of one distribution %g, one layer deeper %g", r.fpd, d.fpd);
    cr_expect(d.kpd > 10 * d.kpd_err, "one layer deeper: KPD %g +- %g", d.kpd, d.kpd_err);
}

Test(evaluate, a_distorted_sample_is_caught)
{
    const char *a = sample("a.h5", 2500, 1, 1.f), *b = sample("b.h5", 2500, 2, 1.1f);
    char out[160];
    snprintf(out, sizeof out, "%s/rep_dist", D);
    eval_result_t r = evaluate(b, a, out);
    cr_expect(r.sep_etot > 0.5, "E_tot/E_inc separation %g", r.sep_etot);
    cr_expect(r.auc_high > 0.9, "high-level AUC %g", r.auc_high);
    /* the low-level network must find a 10% scale in 6481 raw inputs from 1500 training
     * showers: above chance (identical samples: 0.50 +- 0.02 here). It found 0.7 when the
     * simulator's equal spots made voxel energies a comb of spot multiples that a scale shifts
     * visibly; with spot energies that vary (issue 13) it finds 0.60 at this size, also with
     * 16 epochs */
    cr_expect(r.auc_low > 0.57, "low-level AUC %g", r.auc_low);
}

/* The calochallenge protocol end to end on small samples: identical samples give chance AUCs
 * (its 3 x 2048 classifiers, 1 epoch), FPD and KPD compatible with 0 and PRDC of 1; a sample
 * scaled by 1.1 gives a lower precision and coverage, and its
 * E_tot/E_inc separation dominates (its classifiers are not run here: on 1,500 training showers
 * of raw features at the challenge's rate they need more epochs than a unit test can spend; the
 * classifier's challenge settings are tested in test_stats.c). metrics.json names the protocol. */
Test(evaluate, the_calochallenge_protocol_sees_a_distortion_and_not_a_copy)
{
    const char *a = sample("a.h5", 2500, 1, 1.f), *b = sample("b.h5", 2500, 2, 1.1f);
    char out[160];
    snprintf(out, sizeof out, "%s/rep_cc_same", D);
    eval_opts_t o = {.gen = a, .ref = a, .out = out, .seed = 3, .cls_epochs = 1};
    eval_result_t r;
    cr_assert_eq(eval_run(&o, &r), BASE_OK, "%s", base_last_error());
    cr_expect(fabs(r.auc_low - 0.5) < 0.02 && fabs(r.auc_high - 0.5) < 0.02, "identical: AUC %g %g", r.auc_low,
              r.auc_high);
    cr_expect(r.have_fpd && r.fpd <= 3 * r.fpd_err + 1e-4, "identical: FPD %g +- %g", r.fpd, r.fpd_err);
    cr_expect(fabs(r.kpd) <= 3 * r.kpd_err + 1e-5, "identical: KPD %g +- %g", r.kpd, r.kpd_err);
    cr_expect(r.have_prdc && r.precision == 1 && r.recall == 1 && r.coverage == 1, "identical: PRDC %g %g %g",
              r.precision, r.recall, r.coverage);
    snprintf(out, sizeof out, "%s/rep_cc_dist", D);
    o.gen = b, o.out = out, o.no_cls = 1;
    cr_assert_eq(eval_run(&o, &r), BASE_OK, "%s", base_last_error());
    cr_log_info("distorted, calochallenge: FPD %g +- %g, KPD %g +- %g, PRDC %.3f %.3f %.3f %.3f", r.fpd, r.fpd_err,
                r.kpd, r.kpd_err, r.precision, r.recall, r.density, r.coverage);
    /* (FPD and KPD do not see a 10% scale at this size: see the test of independent samples) */
    cr_expect(r.precision < 0.9 && r.coverage < 0.95, "distorted: precision %g, coverage %g", r.precision, r.coverage);
    cr_expect(r.sep_etot == r.sep_max, "E_tot/E_inc (%g) dominates the separations (max %g)", r.sep_etot, r.sep_max);
    cJSON *j = metrics(out);
    cr_expect_str_eq(cJSON_GetObjectItem(j, "protocol")->valuestring, "calochallenge");
    cr_expect(cJSON_GetObjectItem(j, "fpd") && cJSON_GetObjectItem(j, "kpd") && cJSON_GetObjectItem(j, "prdc"));
    cJSON_Delete(j);
}

/* A ds1-photons file: at each of the 15 energies 2^8..2^22 MeV, 40 showers whose whole energy
 * sits in one voxel with E_tot/E_inc cycling through 0.935, 0.945, 0.955, 0.965 (+ shift at the
 * energy shifted); the energy `missing` has no showers. */
static const char *ds1_sample(const char *name, double shifted, double shift, double missing)
{
    static char p[2][128];
    static int k;
    k = (k + 1) % 2;
    snprintf(p[k], sizeof p[k], "%s/%s", D, name);
    phys_geometry_t g;
    cr_assert_eq(phys_geometry_preset(&g, "ds1-photons"), BASE_OK);
    const size_t V = 368;
    float *E = malloc(15 * 40 * sizeof *E), *X = calloc(15 * 40 * V, sizeof *X);
    size_t n = 0;
    for (int i = 0; i < 15; i++) {
        double e = ldexp(1, 8 + i);
        if (e == missing) continue;
        for (int c = 0; c < 40; c++, n++) {
            E[n] = (float)e;
            X[n * V + 100] = (float)(e * (0.935 + 0.01 * (c % 4) + (e == shifted ? shift : 0)));
        }
    }
    io_writer_t w;
    cr_assert_eq(io_writer_open(&w, p[k], &g, NULL), BASE_OK, "%s", base_last_error());
    cr_assert_eq(io_writer_append(&w, E, X, n), BASE_OK);
    cr_assert_eq(io_writer_close(&w), BASE_OK);
    free(E), free(X);
    return p[k];
}

/* ds1's E_tot/E_inc per incident energy (evaluate_plotting_helper.py plot_Etot_Einc_discrete),
 * by hand: from 4 GeV on the photon bins are 0.01 wide, so a shift of 0.01 moves every shower
 * one bin: p = q = 1/4 on three bins and 1/4 against 0 on two: separation 1/2 (2 (1/4)^2 / (1/4))
 * = 1/4. Below 4 GeV the four ratios share one bin of [0.4, 1.4] / 20: 0. An energy the
 * generated file lacks has no separation (null, as evaluate.py's NaN). */
Test(evaluate, ds1_energies_get_their_own_etot_histograms)
{
    const char *ref = ds1_sample("ds1_ref.h5", 0, 0, 0), *gen = ds1_sample("ds1_gen.h5", 65536, 0.01, 4096);
    char out[160];
    snprintf(out, sizeof out, "%s/rep_ds1", D);
    eval_opts_t o = {.gen = gen, .ref = ref, .out = out, .no_cls = 1, .quick = 1};
    eval_result_t r;
    cr_assert_eq(eval_run(&o, &r), BASE_OK, "%s", base_last_error());
    cJSON *j = metrics(out), *sep = cJSON_GetObjectItem(j, "separation_power");
    int seen = 0;
    for (int i = 0; i < 15; i++) {
        char n[48];
        double e = ldexp(1, 8 + i);
        snprintf(n, sizeof n, "Etot_Einc_E%.0f", e);
        cJSON *s = cJSON_GetObjectItem(sep, n);
        cr_assert_not_null(s, "no %s", n);
        seen++;
        if (e == 4096) cr_expect(cJSON_IsNull(s), "%s: an energy without generated showers is null", n);
        else if (e == 65536) cr_expect(fabs(s->valuedouble - 0.25) < 1e-12, "%s: %.15g, expected 1/4", n, s->valuedouble);
        else cr_expect(fabs(s->valuedouble) < 1e-12, "%s: %g, expected 0", n, s->valuedouble);
    }
    cr_expect_eq(seen, 15);
    cr_expect(isfinite(r.sep_mean) && r.sep_max >= 0.25, "mean %g, max %g over the defined separations", r.sep_mean,
              r.sep_max);
    char p[300];
    snprintf(p, sizeof p, "%s/plots/Etot_Einc_E65536.png", out);
    cr_expect(access(p, R_OK) == 0, "missing %s", p);
    cJSON_Delete(j);
}

/* The calochallenge classifiers give the same numbers with 1 and 2 threads (seeded shuffles and
 * initial weights; oneDNN's products do not change their sums with the thread count here). */
Test(evaluate, the_classifiers_do_not_depend_on_the_thread_count)
{
    const char *a = sample("a.h5", 2500, 1, 1.f), *b = sample("b.h5", 2500, 2, 1.05f);
    eval_result_t r[2];
    for (int t = 0; t < 2; t++) {
        char out[160];
        snprintf(out, sizeof out, "%s/rep_threads%d", D, t + 1);
        eval_opts_t o = {.gen = b, .ref = a, .out = out, .seed = 4, .cls_epochs = 1, .cls_threads = t + 1,
                         .no_prdc = 1, .no_distances = 1};
        cr_assert_eq(eval_run(&o, &r[t]), BASE_OK, "%s", base_last_error());
    }
    cr_expect(r[0].auc_low == r[1].auc_low && r[0].jsd_low == r[1].jsd_low, "low level: %.17g %.17g vs %.17g %.17g",
              r[0].auc_low, r[0].jsd_low, r[1].auc_low, r[1].jsd_low);
    cr_expect(r[0].auc_high == r[1].auc_high && r[0].jsd_high == r[1].jsd_high,
              "high level: %.17g %.17g vs %.17g %.17g", r[0].auc_high, r[0].jsd_high, r[1].auc_high, r[1].jsd_high);
}
