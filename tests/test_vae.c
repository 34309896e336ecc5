/* tests/test_vae.c: the conditional VAE: training lowers the validation ELBO, KL per dimension
 * by hand, bit-identical resume, deterministic generation, folded batch norm, bad model files. */
#include "io/modelfile.h"
#include "io/dataset.h"
#include "io/writer.h"
#include "base/status.h"
#include "physics/simulate.h"
#include "tests/testutil.h"
#include "vae/generate.h"
#include "vae/lik.h"
#include "vae/modelio.h"
#include "vae/train.h"

#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char D[48];
static char DATA[96];

/* A small ds2 sample from the simulator: 480 showers, 1-100 GeV. */
static void setup(void)
{
    tu_ctx_setup();
    tu_tmpdir_make(D, sizeof D, "vae");
    snprintf(DATA, sizeof DATA, "%s/data.h5", D);
    phys_geometry_t g;
    phys_sim_t s;
    phys_geometry_preset(&g, "ds2");
    phys_sim_init(&s, &g);
    enum { N = 480 };
    double E[N];
    float Ef[N], *X = malloc((size_t)N * 6480 * 4);
    phys_sim_energies_loguniform(E, N, 1e3, 1e5, 11, 0);
    cr_assert_eq(phys_sim_batch(&s, E, NULL, N, 11, 0, X), BASE_OK);
    for (int i = 0; i < N; i++) Ef[i] = (float)E[i];
    io_writer_t w;
    cr_assert_eq(io_writer_open(&w, DATA, &g, NULL), BASE_OK);
    cr_assert_eq(io_writer_append(&w, Ef, X, N), BASE_OK);
    cr_assert_eq(io_writer_close(&w), BASE_OK);
    free(X);
}

static void teardown(void)
{
    tu_tmpdir_remove(D);
    tu_ctx_teardown();
}

TestSuite(vae, .init = setup, .fini = teardown, .timeout = 300);

static const char *path(const char *name)
{
    static char b[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(b[k], sizeof b[k], "%s/%s", D, name);
    return b[k];
}

static vae_train_opts_t tiny_opts(const char *out, int epochs)
{
    return (vae_train_opts_t){.data = DATA, .out = out, .preset = "tiny", .epochs = epochs, .val_fraction = 0.2,
                              .seed = 3, .dropout = -1, .force = 1};
}

/* Counts what training reports through its monitor (it prints nothing itself). */
typedef struct {
    int begins, ends, messages, epoch_lines, prior_tasks, prior_lines, in_epoch, reads;
    size_t updates, last_done, total;
} mon_count_t;
static void mc_begin(void *u, const char *label, const char *unit, size_t total)
{
    mon_count_t *c = u;
    c->in_epoch = strncmp(label, "epoch", 5) == 0;
    if (!strcmp(label, "reading into memory")) { /* the data file, once */
        c->reads++;
        return;
    }
    if (!c->in_epoch) { /* the learned prior's fit after the last epoch */
        c->prior_tasks++;
        cr_expect(strcmp(label, "prior") == 0, "label '%s'", label);
        return;
    }
    c->begins++, c->total = total;
    cr_expect(strcmp(unit, "batches") == 0, "label '%s', unit '%s'", label, unit);
}
static void mc_update(void *u, size_t done, const char *extra)
{
    mon_count_t *c = u;
    if (!c->in_epoch) return;
    c->updates++, c->last_done = done;
    cr_expect(extra && strstr(extra, "ELBO"), "progress text '%s'", extra ? extra : "(null)");
}
static void mc_end(void *u, size_t done)
{
    mon_count_t *c = u;
    if (c->in_epoch) c->ends++;
    (void)done;
}
static void mc_message(void *u, base_msg_kind_t kind, const char *text)
{
    mon_count_t *c = u;
    c->messages++;
    if (kind == BASE_MSG_INFO && strncmp(text, "epoch ", 6) == 0) c->epoch_lines++;
    if (kind == BASE_MSG_INFO && strncmp(text, "learned prior: 2 components", 27) == 0) c->prior_lines++;
}

Test(vae, training_lowers_the_validation_elbo_clearly)
{
    vae_train_result_t r1, r8;
    vae_train_opts_t o = tiny_opts(path("m1.h5"), 1);
    mon_count_t mc = {0};
    base_monitor_t mon = {mc_begin, mc_update, mc_end, mc_message, &mc};
    o.monitor = &mon;
    cr_assert_eq(vae_train(&o, &r1), BASE_OK, "%s", base_last_error());
    cr_expect(mc.begins == 1 && mc.ends == 1 && mc.updates == mc.total && mc.last_done == mc.total,
              "monitor: %d begins, %d ends, %zu updates of %zu", mc.begins, mc.ends, mc.updates, mc.total);
    cr_expect(mc.epoch_lines == 1 && mc.messages >= 3, "monitor: %d epoch lines, %d messages", mc.epoch_lines,
              mc.messages);
    cr_expect(mc.prior_tasks == 1 && mc.prior_lines == 1, "monitor: %d prior fits, %d prior reports", mc.prior_tasks,
              mc.prior_lines);
    cr_expect_eq(mc.reads, 1, "the data is read into memory once");
    o = tiny_opts(path("m8.h5"), 8);
    cr_assert_eq(vae_train(&o, &r8), BASE_OK, "%s", base_last_error());
    cr_log_info("validation ELBO after 1 epoch %.1f, after 8 epochs %.1f (recon %.1f, KL %.2f, active %d/%d)",
                r1.val_elbo, r8.val_elbo, r8.val_recon, r8.val_kl, r8.active_units, r8.Z);
    cr_expect(isfinite(r8.val_elbo));
    /* 10% of the ELBO (~300 nats, about 10 standard errors of a 96-shower validation mean).
     * It was 20% while the simulator's equal spots made voxel energies nearly deterministic;
     * its varying spot energies (issue 13) add randomness no model removes: 13% is reached,
     * and 16 epochs do not reach more on 384 showers */
    cr_expect(r8.val_elbo > r1.val_elbo + 0.1 * fabs(r1.val_elbo),
              "ELBO %.1f -> %.1f: not a clear improvement", r1.val_elbo, r8.val_elbo);
    cr_expect(access(path("m8.h5.ckpt"), F_OK) == 0, "no checkpoint");
}

/* The data held in memory (the default when it fits) trains exactly as when every epoch reads
 * the file: the same batches, the same model. */
Test(vae, data_in_memory_trains_as_data_read_from_the_file)
{
    vae_train_result_t a, b;
    vae_train_opts_t o = tiny_opts(path("mem.h5"), 2);
    cr_assert_eq(vae_train(&o, &a), BASE_OK, "%s", base_last_error());
    o = tiny_opts(path("file.h5"), 2);
    o.data_mem_bytes = 1; /* nothing fits */
    cr_assert_eq(vae_train(&o, &b), BASE_OK, "%s", base_last_error());
    cr_expect(a.steps == b.steps && a.val_elbo == b.val_elbo && a.val_kl == b.val_kl,
              "in memory: %lld steps, ELBO %.17g; from the file: %lld, %.17g", (long long)a.steps, a.val_elbo,
              (long long)b.steps, b.val_elbo);
}

Test(vae, kl_per_dimension_matches_a_hand_computation)
{
    vae_config_t c;
    vae_config_preset(&c, "tiny", "ds2", 6480, 0.01515);
    vae_model_t m;
    cr_assert_eq(vae_model_init(&m, &c, &tu_ctx, 32), BASE_OK, "%s", base_last_error());
    vae_model_init_params(&m, 5);
    io_dataset_t d;
    cr_assert_eq(io_dataset_open(&d, DATA, NULL), BASE_OK);
    float E[32], *X = malloc(32 * 6480 * 4);
    cr_assert_eq(io_dataset_read(&d, 0, 32, E, X), BASE_OK);
    vae_terms_t t;
    double kd[4] = {0};
    cr_assert_eq(vae_model_eval(&m, 20, E, NULL, X, 1, 0, &t, kd, NULL), BASE_OK);
    /* KL_j = mean_i 0.5 (mu_ij^2 + exp(lv_ij) - 1 - lv_ij) over the 20 rows */
    double total = 0;
    for (int j = 0; j < 4; j++) {
        double s = 0;
        for (int i = 0; i < 20; i++) {
            double mu = m.mu[i * 4 + j], lv = m.lv[i * 4 + j];
            s += 0.5 * (mu * mu + exp(lv) - 1 - lv);
        }
        cr_expect(fabs(kd[j] / 20 - s / 20) < 1e-5 * fmax(1, s / 20), "dim %d: %g vs %g", j, kd[j] / 20, s / 20);
        total += s / 20;
    }
    cr_expect(fabs(t.kl - total) < 1e-5 * fmax(1, total), "KL %g vs %g", t.kl, total);
    cr_expect(fabs(t.elbo + t.recon + t.kl) < 1e-9 * fabs(t.elbo));
    free(X);
    io_dataset_close(&d);
    vae_model_free(&m);
}

static void load_arena(const char *p, vae_model_t *m, vae_train_state_t *st)
{
    phys_geometry_t g;
    cr_assert_eq(vae_model_load(m, &g, p, &tu_ctx, 32, st), BASE_OK, "%s", base_last_error());
}

Test(vae, resume_continues_bit_identically)
{
    /* uninterrupted: 3 epochs; interrupted mid-epoch 2 at step 17, then resumed */
    vae_train_opts_t a = tiny_opts(path("a.h5"), 3);
    cr_assert_eq(vae_train(&a, NULL), BASE_OK, "%s", base_last_error());
    vae_train_opts_t b = tiny_opts(path("b.h5"), 3);
    b.stop_at_step = 17;
    cr_assert_eq(vae_train(&b, NULL), BASE_OK, "%s", base_last_error());
    vae_train_opts_t b2 = tiny_opts(path("b.h5"), 3);
    b2.resume = path("b.h5.ckpt");
    cr_assert_eq(vae_train(&b2, NULL), BASE_OK, "%s", base_last_error());
    vae_model_t ma, mb;
    vae_train_state_t sa, sb;
    load_arena(path("a.h5.ckpt"), &ma, &sa);
    load_arena(path("b.h5.ckpt"), &mb, &sb);
    cr_assert_eq(sa.step, sb.step);
    cr_assert(sa.step > 17, "the run ended at step %lld", (long long)sa.step);
    cr_assert_eq(ma.A.n, mb.A.n);
    cr_expect(memcmp(ma.A.param, mb.A.param, ma.A.n * 4) == 0, "parameters differ after resume");
    cr_expect(memcmp(ma.A.m, mb.A.m, ma.A.n * 4) == 0 && memcmp(ma.A.v, mb.A.v, ma.A.n * 4) == 0,
              "optimiser moments differ after resume");
    cr_expect_eq(sa.best_val, sb.best_val);
    vae_model_free(&ma);
    vae_model_free(&mb);
}

/* A tiny model with random weights (batch norm on, so the folding is exercised). */
/* bn: 0 none, 1 before the activation, 2 after it (Par04's order) */
static void random_model(vae_model_t *m, int bn, vae_likelihood_t lik)
{
    vae_config_t c;
    vae_config_preset(&c, "tiny", "ds2", 6480, 0.01515);
    c.batch_norm = bn != 0;
    c.bn_after_act = bn == 2;
    c.lik = lik;
    cr_assert_eq(vae_model_init(m, &c, &tu_ctx, 16), BASE_OK, "%s", base_last_error());
    vae_model_init_params(m, 9);
    for (int i = 0; i < m->dec.n; i++) /* non-trivial running statistics */
        if (m->dec.blk[i].bn) {
            layer_bnorm_t *b = &m->dec.blk[i].bnorm;
            tu_fill(b->run_mean, (size_t)b->C, -0.5f, 0.5f, 70 + i);
            tu_fill(b->run_var, (size_t)b->C, 0.5f, 2.f, 80 + i);
            tu_fill(b->A->param + b->g_off, (size_t)b->C, 0.5f, 1.5f, 90 + i);
            tu_fill(b->A->param + b->b_off, (size_t)b->C, -0.3f, 0.3f, 95 + i);
        }
}

/* Batch splits and thread counts give the same showers; lik: the likelihood (Bernoulli takes
 * the in-place path for full chunks, hurdle does not). */
static void check_determinism(vae_likelihood_t lik)
{
    vae_model_t m;
    random_model(&m, 0, lik);
    vae_infer_t q;
    cr_assert_eq(vae_infer_init(&q, &m, &tu_ctx, 0, LAYER_F32), BASE_OK);
    enum { N = 150 };
    float E[N], *a = malloc((size_t)N * 6480 * 4), *b = malloc((size_t)N * 6480 * 4);
    for (int i = 0; i < N; i++) E[i] = 1000.f * (1 + i % 50);
    omp_set_num_threads(2);
    cr_assert_eq(vae_generate_showers(&q, N, E, NULL, 7, 0, a), BASE_OK);
    omp_set_num_threads(1);
    cr_assert_eq(vae_generate_showers(&q, 37, E, NULL, 7, 0, b), BASE_OK);
    cr_assert_eq(vae_generate_showers(&q, N - 37, E + 37, NULL, 7, 37, b + 37 * 6480), BASE_OK);
    cr_expect(memcmp(a, b, (size_t)N * 6480 * 4) == 0, "other batch split or thread count, other showers");
    /* every fixed decoder size: 1 (one particle), 8 (5 padded), 64 (37) and 512 (107) */
    omp_set_num_threads(2);
    memset(b, 0, (size_t)N * 6480 * 4);
    int cut[] = {0, 1, 2, 7, 44, N};
    for (int c = 0; c + 1 < 6; c++)
        cr_assert_eq(vae_generate_showers(&q, cut[c + 1] - cut[c], E + cut[c], NULL, 7, cut[c], b + (size_t)cut[c] * 6480), BASE_OK);
    cr_expect(memcmp(a, b, (size_t)N * 6480 * 4) == 0, "batches of 1, 1, 5, 37 and 106 differ from one of 150");
    cr_assert_eq(vae_generate_showers(&q, 1, E, NULL, 8, 0, b), BASE_OK);
    cr_expect(memcmp(a, b, 6480 * 4) != 0, "another seed gave the same shower");
    /* units and range: MeV, no negatives, zero or above the threshold */
    for (size_t k = 0; k < (size_t)N * 6480; k++) cr_assert(a[k] == 0 || a[k] >= 0.01515f, "voxel %g", a[k]);
    vae_infer_free(&q);
    vae_model_free(&m);
    free(a);
    free(b);
}

Test(vae, generation_is_deterministic_by_seed_for_any_batch_split_and_thread_count)
{
    check_determinism(VAE_LIK_HURDLE);
    check_determinism(VAE_LIK_BERNOULLI);
}

Test(vae, folded_batch_norm_inference_equals_the_training_graph)
{
  for (int bn = 1; bn <= 2; bn++) { /* before and after the activation */
    vae_model_t m;
    random_model(&m, bn, VAE_LIK_GAUSSIAN);
    vae_infer_t q;
    cr_assert_eq(vae_infer_init(&q, &m, &tu_ctx, 16, LAYER_F32), BASE_OK);
    /* same decoder input through both paths */
    const int W = m.cfg.Z + m.E;
    tu_fill(m.dec_in, (size_t)16 * W, -1, 1, 5);
    memcpy(q.dec_in, m.dec_in, (size_t)16 * W * 4);
    cr_assert_eq(layer_mlp_forward(&m.dec, m.dec_in, 0, NULL), BASE_OK);
    cr_assert_eq(vae_infer_decode(&q, 16), BASE_OK);
    double *ref = malloc((size_t)16 * m.O * 8);
    tu_to_double(ref, m.dec.y, (size_t)16 * m.O);
    double e = tu_max_rel_err(q.out, ref, (size_t)16 * m.O, 0.1);
    cr_expect(e < 1e-4, "folded inference (batch norm %s the activation) differs by %g", bn == 1 ? "before" : "after", e);
    free(ref);
    vae_infer_free(&q);
    vae_model_free(&m);
  }
}

Test(vae, saved_models_round_trip_and_bad_files_are_rejected)
{
    vae_model_t m, l;
    random_model(&m, 1, VAE_LIK_BERNOULLI);
    phys_geometry_t g, lg;
    phys_geometry_preset(&g, "ds2");
    const char *p = path("model.h5");
    cr_assert_eq(vae_model_save(&m, &g, p, 0, NULL), BASE_OK, "%s", base_last_error());
    cr_assert_eq(vae_model_save(&m, &g, p, 0, NULL), BASE_EEXIST);
    cr_assert_eq(vae_model_load(&l, &lg, p, &tu_ctx, 0, NULL), BASE_OK, "%s", base_last_error());
    cr_expect_eq(l.A.n, m.A.n);
    cr_expect(memcmp(l.A.param, m.A.param, m.A.n * 4) == 0, "parameters differ after a round trip");
    cr_expect(phys_geometry_same_binning(&g, &lg));
    vae_model_free(&l);
    /* bin counts are int32 now; a model written before (float32 whole numbers) still loads,
     * and a fraction there is refused */
    for (int k = 0; k < 2; k++) {
        const char *pc = path(k ? "frac.h5" : "old.h5");
        char cmd[600];
        snprintf(cmd, sizeof cmd, "cp %s %s", p, pc);
        cr_assert_eq(system(cmd), 0);
        hid_t f = H5Fopen(pc, H5F_ACC_RDWR, H5P_DEFAULT);
        for (int d = 0; d < 2; d++) {
            const char *name = d ? "/geometry/n_alpha" : "/geometry/n_r";
            float v[64];
            for (int i = 0; i < g.n_layers; i++) v[i] = (float)(d ? g.n_alpha[i] : g.n_r[i]) + (k && i == 3 ? 0.5f : 0.f);
            cr_assert(H5Ldelete(f, name, H5P_DEFAULT) >= 0);
            hsize_t n = (hsize_t)g.n_layers;
            hid_t sp = H5Screate_simple(1, &n, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
            H5Pset_chunk(dcpl, 1, &n);
            H5Pset_fletcher32(dcpl);
            hid_t ds = H5Dcreate2(f, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
            cr_assert(ds >= 0 && H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
            H5Dclose(ds), H5Pclose(dcpl), H5Sclose(sp);
        }
        H5Fclose(f);
        if (!k) {
            cr_assert_eq(vae_model_load(&l, &lg, pc, &tu_ctx, 0, NULL), BASE_OK, "float bin counts: %s", base_last_error());
            cr_expect(phys_geometry_same_binning(&g, &lg));
            vae_model_free(&l);
        } else {
            cr_expect_eq(vae_model_load(&l, &lg, pc, &tu_ctx, 0, NULL), BASE_EIO);
            cr_expect(strstr(base_last_error(), "whole number") != NULL, "%s", base_last_error());
        }
    }
    hid_t fi = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT), di = H5Dopen2(fi, "/geometry/n_r", H5P_DEFAULT);
    hid_t ti = H5Dget_type(di);
    cr_expect(H5Tequal(ti, H5T_STD_I32LE) > 0, "bin counts are not stored as int32");
    H5Tclose(ti), H5Dclose(di), H5Fclose(fi);
    vae_train_state_t st;
    cr_expect_eq(vae_model_load(&l, &lg, p, &tu_ctx, 0, &st), BASE_EIO, "a model is not a checkpoint");
    /* a shower file is not a model */
    cr_expect_eq(vae_model_load(&l, &lg, DATA, &tu_ctx, 0, NULL), BASE_EIO);
    cr_expect(strstr(base_last_error(), "not a showervae model") != NULL, "%s", base_last_error());
    /* a flipped byte inside a weight tensor fails its fletcher32 checksum */
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = H5Dopen2(f, "/decoder/head/weight", H5P_DEFAULT);
    haddr_t addr;
    hsize_t off[2] = {0, 0}, size;
    unsigned mask;
    cr_assert(H5Dget_chunk_info_by_coord(ds, off, &mask, &addr, &size) >= 0);
    H5Dclose(ds);
    H5Fclose(f);
    FILE *fp = fopen(p, "r+b");
    fseek(fp, (long)addr + 100, SEEK_SET);
    int ch = fgetc(fp);
    fseek(fp, (long)addr + 100, SEEK_SET);
    fputc(ch ^ 0x5A, fp);
    fclose(fp);
    cr_expect_eq(vae_model_load(&l, &lg, p, &tu_ctx, 0, NULL), BASE_EIO);
    cr_expect(strstr(base_last_error(), "checksum") != NULL, "%s", base_last_error());
    /* truncated */
    char c[300];
    const char *t = path("trunc.h5");
    snprintf(c, sizeof c, "head -c 3000 %s > %s", p, t);
    cr_assert_eq(system(c), 0);
    cr_expect_eq(vae_model_load(&l, &lg, t, &tu_ctx, 0, NULL), BASE_EIO);
    cr_expect(strstr(base_last_error(), t) != NULL, "%s", base_last_error());
    vae_model_free(&m);
}

Test(vae, mc_dropout_gives_a_spread_and_needs_dropout)
{
    vae_config_t c;
    vae_config_preset(&c, "tiny", "ds2", 6480, 0.01515);
    c.dropout = 0.2f;
    c.lik = VAE_LIK_BERNOULLI;
    vae_model_t m;
    cr_assert_eq(vae_model_init(&m, &c, &tu_ctx, 16), BASE_OK);
    vae_model_init_params(&m, 4);
    vae_infer_t q;
    cr_assert_eq(vae_infer_init(&q, &m, &tu_ctx, 0, LAYER_F32), BASE_OK);
    float E[3] = {1e4f, 5e4f, 1e5f}, *mean = malloc(3 * 6480 * 4), *sd = malloc(3 * 6480 * 4);
    cr_assert_eq(vae_generate_mc(&q, 3, E, NULL, 1, 0, 8, mean, sd), BASE_OK, "%s", base_last_error());
    double spread = 0;
    for (int k = 0; k < 3 * 6480; k++) {
        cr_assert(isfinite(mean[k]) && mean[k] >= 0 && sd[k] >= 0);
        spread += sd[k];
    }
    cr_expect(spread > 0, "dropout passes did not differ");
    vae_infer_free(&q);
    vae_model_free(&m);
    random_model(&m, 0, VAE_LIK_BERNOULLI); /* no dropout */
    cr_assert_eq(vae_infer_init(&q, &m, &tu_ctx, 0, LAYER_F32), BASE_OK);
    cr_expect_eq(vae_generate_mc(&q, 3, E, NULL, 1, 0, 8, mean, sd), BASE_EINVAL);
    vae_infer_free(&q);
    vae_model_free(&m);
    free(mean);
    free(sd);
}

Test(vae, a_diverging_run_stops_with_a_message_and_keeps_its_files)
{
    vae_train_opts_t o = tiny_opts(path("div.h5"), 2);
    cr_assert_eq(vae_train(&o, NULL), BASE_OK, "%s", base_last_error());
    char c[300];
    snprintf(c, sizeof c, "cp %s %s", path("div.h5"), path("div_before.h5"));
    cr_assert_eq(system(c), 0);
    /* resume with an absurd learning rate: the loss or gradient becomes NaN/Inf */
    vae_train_opts_t r = tiny_opts(path("div.h5"), 6);
    r.resume = path("div.h5.ckpt");
    r.lr = 1e9f;
    int rc = vae_train(&r, NULL);
    cr_log_info("diverging run: %s", base_last_error());
    cr_expect_eq(rc, BASE_ENUM, "rc %d: %s", rc, base_last_error());
    cr_expect(strstr(base_last_error(), "diverged") != NULL);
    snprintf(c, sizeof c, "cmp -s %s %s", path("div.h5"), path("div_before.h5"));
    cr_expect_eq(system(c), 0, "the best model was overwritten by a diverging run");
}
