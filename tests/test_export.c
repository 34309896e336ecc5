/* tests/test_export.c: `export --onnx` (vae/export/onnx.h): the file is a valid ONNX model
 * (unpacked with protobuf-c: opset, input and output shapes) and ONNX Runtime, run on it
 * through tests/onnx_run.js, gives our decoder's outputs on the same inputs: a Par04-style
 * Bernoulli model (energy fractions in Par04's voxel order) and a hurdle model conditioned on
 * ln E and the angle (--raw: the likelihood parameters). Without node and onnxruntime-node
 * (make bench-deps) the ONNX Runtime half is skipped with a warning. */
#include "base/status.h"
#include "tests/testutil.h"
#include "vae/export/onnx.h"
#include "vae/lik.h"
#include "vae/modelio.h"

#include "onnx/onnx.pb-c.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char D[48];
static void setup(void)
{
    tu_ctx_setup();
    tu_tmpdir_make(D, sizeof D, "export");
}
static void teardown(void)
{
    tu_tmpdir_remove(D);
    tu_ctx_teardown();
}
TestSuite(export, .init = setup, .fini = teardown);

enum { N = 6 };

/* Par04's input rows [z, E / 1024 GeV, angle / 90, 0, 1] and, for our decoder, the energies
 * (MeV) and angles (deg) they stand for. */
static void inputs(int Z, float *x, float *E, float *A)
{
    base_rng_t r;
    base_rng_init(&r, 5, 1);
    for (int i = 0; i < N; i++) {
        base_rng_normal(&r, x + (size_t)i * (Z + 4), (size_t)Z);
        E[i] = 2e3f * powf(3.f, (float)i); /* 2 GeV .. 486 GeV */
        A[i] = 50.f + 8.f * (float)i;
        float *c = x + (size_t)i * (Z + 4) + Z;
        c[0] = E[i] / 1024000.f, c[1] = A[i] / 90.f, c[2] = 0, c[3] = 1;
    }
}

/* Our decoder on the same rows: (N, O) outputs, sigmoid for the Bernoulli fractions. */
static void ours(vae_infer_t *q, const float *x, const float *E, const float *A, int sigmoid, float *y)
{
    const int Z = q->cfg.Z, W = Z + q->E, O = vae_config_n_out(&q->cfg);
    for (int i = 0; i < N; i++) memcpy(q->dec_in + (size_t)i * W, x + (size_t)i * (Z + 4), (size_t)Z * sizeof(float));
    vae_prep_conditions(&q->cfg, N, E, A, q->dec_in + Z, W);
    cr_assert_eq(vae_infer_decode(q, N), BASE_OK, "%s", base_last_error());
    for (size_t j = 0; j < (size_t)N * O; j++) y[j] = sigmoid ? 1.f / (1.f + expf(-q->out[j])) : q->out[j];
}

/* The file unpacked: IR 8, opset 13, input (batch, Z + 4), output (batch, O). */
static void expect_valid(const char *path, int Z, int O)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *b = malloc((size_t)n);
    cr_assert(fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, (size_t)n, b);
    cr_assert(m, "%s is not an ONNX ModelProto", path);
    cr_expect(m->ir_version == 8 && m->n_opset_import == 1 && m->opset_import[0]->version == 13);
    const Onnx__GraphProto *g = m->graph;
    cr_assert(g && g->n_input == 1 && g->n_output == 1);
    const Onnx__TensorShapeProto *si = g->input[0]->type->tensor_type->shape, *so = g->output[0]->type->tensor_type->shape;
    cr_expect(si->n_dim == 2 && !strcmp(si->dim[0]->dim_param, "batch") && si->dim[1]->dim_value == Z + 4);
    cr_expect(so->n_dim == 2 && so->dim[1]->dim_value == O, "output width %lld, want %d", (long long)so->dim[1]->dim_value, O);
    cr_expect_str_eq(g->output[0]->name, "output");
    onnx__model_proto__free_unpacked(m, NULL);
    free(b);
}

/* ONNX Runtime's outputs for x into y (N x O); 0 when it ran, 1 when it is not installed. */
static int ort(const char *model, const float *x, int W, int O, float *y)
{
    char in[128], out[128], cmd[1200];
    snprintf(in, sizeof in, "%s/in.bin", D), snprintf(out, sizeof out, "%s/out.bin", D);
    FILE *f = fopen(in, "wb");
    cr_assert(f && fwrite(x, sizeof(float), (size_t)N * W, f) == (size_t)N * W);
    fclose(f);
    snprintf(cmd, sizeof cmd, "command -v node >/dev/null || exit 3; NODE_PATH=%s node %s/tests/onnx_run.js %s %s %d %d %s",
             SV_ORT_MODULES, SV_SRC_DIR, model, in, N, W, out);
    int st = system(cmd);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 3) return 1;
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "ONNX Runtime failed on %s", model);
    f = fopen(out, "rb");
    cr_assert(f && fread(y, sizeof(float), (size_t)N * O, f) == (size_t)N * O, "short output from ONNX Runtime");
    fclose(f);
    return 0;
}

/* A model of preset p (random weights, energies 1..500 GeV, angles 50..90) saved to path. */
static void make_model(const char *p, unsigned extra_cond, const char *path)
{
    vae_config_t c;
    vae_config_preset(&c, p, "ds2", 6480, 0.01515);
    c.conditions |= extra_cond;
    c.e_min_mev = 1e3, c.e_max_mev = 5e5, c.angle_min = 50, c.angle_max = 90;
    vae_model_t m;
    cr_assert_eq(vae_model_init(&m, &c, &tu_ctx, 0), BASE_OK, "%s", base_last_error());
    vae_model_init_params(&m, 11);
    phys_geometry_t g;
    phys_geometry_preset(&g, "ds2");
    cr_assert_eq(vae_model_save(&m, &g, path, 1, NULL), BASE_OK, "%s", base_last_error());
    vae_model_free(&m);
}

static void expect_close(const float *a, const float *b, size_t n, double rel, double abs_tol, const char *what)
{
    size_t bad = 0, worst = 0;
    double wd = 0;
    for (size_t j = 0; j < n; j++) {
        double d = fabs((double)a[j] - b[j]);
        if (d > abs_tol + rel * fabs(b[j])) bad++;
        if (d > wd) wd = d, worst = j;
    }
    cr_expect_eq(bad, 0, "%s: %zu of %zu values differ; worst %zu: ONNX Runtime %g, ours %g", what, bad, n, worst,
                 a[worst], b[worst]);
}

Test(export, par04_bernoulli_and_raw_hurdle_decoders_run_in_onnx_runtime_as_ours)
{
    char path[128], onnx[128];
    phys_geometry_t g;
    phys_geometry_preset(&g, "ds2");
    int skipped = 0;
    for (int k = 0; k < 2; k++) { /* par04 (energy fractions), default with angle (raw) */
        snprintf(path, sizeof path, "%s/m%d.h5", D, k);
        snprintf(onnx, sizeof onnx, "%s/m%d.onnx", D, k);
        make_model(k ? "default" : "par04", k ? VAE_COND_ANGLE : 0, path);
        vae_model_t m;
        phys_geometry_t mg;
        vae_infer_t q;
        cr_assert_eq(vae_model_load(&m, &mg, path, &tu_ctx, 0, NULL), BASE_OK, "%s", base_last_error());
        cr_assert_eq(vae_infer_init(&q, &m, &tu_ctx, N, LAYER_F32), BASE_OK, "%s", base_last_error());
        const int Z = m.cfg.Z, O = vae_config_n_out(&m.cfg);
        if (k) { /* a hurdle model without --raw: refused, saying why */
            cr_expect_eq(vae_export_onnx(&q, &g, onnx, 0, 0, NULL), BASE_EINVAL);
            cr_expect(strstr(base_last_error(), "--raw") != NULL, "%s", base_last_error());
        }
        int par04 = -1;
        cr_assert_eq(vae_export_onnx(&q, &g, onnx, k, 0, &par04), BASE_OK, "%s", base_last_error());
        cr_expect_eq(par04, !k, "Par04's voxel order only for the fractions of a regular grid");
        cr_expect_eq(vae_export_onnx(&q, &g, onnx, k, 0, NULL), BASE_EEXIST, "replaced an existing file");
        expect_valid(onnx, Z, O);
        float *x = malloc((size_t)N * (Z + 4) * sizeof(float)), E[N], A[N];
        float *y = malloc((size_t)N * O * sizeof(float)), *yo = malloc((size_t)N * O * sizeof(float));
        float *yp = malloc((size_t)N * O * sizeof(float));
        inputs(Z, x, E, A);
        ours(&q, x, E, A, !k, y);
        if (!k) /* ours in Par04's order (r, phi, z): the file's */
            for (int i = 0; i < N; i++)
                for (int r = 0; r < 9; r++)
                    for (int a = 0; a < 16; a++)
                        for (int l = 0; l < 45; l++)
                            yp[(size_t)i * O + (r * 16 + a) * 45 + l] = y[(size_t)i * O + (l * 16 + a) * 9 + r];
        else
            memcpy(yp, y, (size_t)N * O * sizeof(float));
        if (ort(onnx, x, Z + 4, O, yo)) {
            skipped = 1;
        } else {
            /* f32 sums in another order: a few ulps of the pre-activations */
            expect_close(yo, yp, (size_t)N * O, 2e-4, k ? 2e-4 : 1e-7, k ? "raw hurdle" : "par04 fractions");
            if (!k) { /* and a sanity check of the layout: Par04 reads sum_v fraction ~ E_tot / E_inc */
                double s = 0;
                for (int v = 0; v < O; v++) s += yo[v];
                cr_expect(s > 0 && isfinite(s));
            }
        }
        free(x), free(y), free(yo), free(yp);
        vae_infer_free(&q);
        vae_model_free(&m);
    }
    if (skipped)
        cr_log_warn("export: ONNX Runtime is not installed (make bench-deps): the exported files were checked "
                    "structurally only, not run");
}
