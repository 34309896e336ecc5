/* tests/test_cli.c: the showervae program end to end: simulate, inspect, errors and exit codes. */
#include "layers/dense.h"
#include "io/hash.h"
#include "io/h5.h"
#include "vae/history.h"
#include "base/status.h"
#include "tests/testutil.h"

#include <hdf5.h>

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char D[48];

static void setup(void)
{
    tu_tmpdir_make(D, sizeof D, "cli");
}

static void teardown(void)
{
    tu_tmpdir_remove(D);
}

TestSuite(cli, .init = setup, .fini = teardown);

/* Runs the program with args (a shell fragment); stdout+stderr into out; returns exit status. */
static int run(char *out, size_t n, const char *fmt, ...)
{
    char args[1024], cmd[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=2 %s %s 2>&1", SV_PROG, args);
    FILE *f = popen(cmd, "r");
    size_t len = fread(out, 1, n - 1, f);
    out[len] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(cli, simulate_then_inspect_and_the_same_seed_gives_the_same_file)
{
    char out[8192];
    cr_assert_eq(run(out, sizeof out, "simulate -n 60 -e 1:50 -s 3 -b 25 -q -o %s/a.h5", D), 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "inspect -q %s/a.h5", D), 0, "%s", out);
    cr_expect(strstr(out, "showers    60") != NULL, "%s", out);
    cr_expect(strstr(out, "binning of ds2") != NULL, "%s", out);
    cr_expect(strstr(out, "seed = 3") != NULL, "%s", out);
    /* same seed, other batch size: identical datasets (h5diff compares values) */
    cr_assert_eq(run(out, sizeof out, "simulate -n 60 -e 1:50 -s 3 -b 7 -q -o %s/b.h5", D), 0, "%s", out);
    char c[400];
    snprintf(c, sizeof c, "h5diff %s/a.h5 %s/b.h5 /showers && h5diff %s/a.h5 %s/b.h5 /incident_energies", D, D, D, D);
    cr_expect_eq(system(c), 0, "same seed gave different showers");
    cr_assert_eq(run(out, sizeof out, "simulate -n 60 -e 1:50 -s 4 -q -o %s/c.h5", D), 0, "%s", out);
    snprintf(c, sizeof c, "h5diff -q %s/a.h5 %s/c.h5 /showers >/dev/null", D, D);
    cr_expect_neq(system(c), 0, "another seed gave the same showers");
}

Test(cli, errors_are_one_line_with_the_right_exit_status)
{
    char out[8192];
    /* usage errors: 2 */
    cr_expect_eq(run(out, sizeof out, "simulate -n 10"), 2, "%s", out);
    cr_expect(strstr(out, "no output file") != NULL, "%s", out);
    cr_expect_eq(run(out, sizeof out, "simulate -n ten -o %s/x.h5", D), 2, "%s", out);
    cr_expect_eq(run(out, sizeof out, "simulate -e 10:1 -o %s/x.h5", D), 2, "%s", out);
    cr_expect_eq(run(out, sizeof out, "frobnicate"), 2, "%s", out);
    /* runtime errors: 1, one line naming the file */
    cr_assert_eq(run(out, sizeof out, "simulate -n 5 -q -o %s/a.h5", D), 0, "%s", out);
    cr_expect_eq(run(out, sizeof out, "simulate -n 5 -q -o %s/a.h5", D), 1, "%s", out);
    cr_expect(strstr(out, "exists") != NULL && strstr(out, "a.h5") != NULL, "%s", out);
    cr_expect_eq(run(out, sizeof out, "simulate -n 5 -q -f -o %s/a.h5", D), 0, "--force: %s", out);
    cr_expect_eq(run(out, sizeof out, "simulate -n 5 -q -g ds1-photons -o %s/p.h5", D), 1, "%s", out);
    char c[200];
    snprintf(c, sizeof c, "echo hello > %s/t.h5", D);
    cr_assert_eq(system(c), 0);
    cr_expect_eq(run(out, sizeof out, "inspect %s/t.h5", D), 1, "%s", out);
    cr_expect(strstr(out, "t.h5: not an HDF5 file") != NULL, "%s", out);
    cr_expect(strchr(out, '\n') == out + strlen(out) - 1, "more than one line: %s", out);
    cr_expect_eq(run(out, sizeof out, "inspect -g ds3 %s/a.h5", D), 1, "%s", out);
    cr_expect(strstr(out, "the file says geometry ds2, but ds3 is in use") != NULL, "%s", out);
}

Test(cli, every_command_help_lists_options_with_defaults)
{
    char out[8192];
    cr_assert_eq(run(out, sizeof out, "--help"), 0);
    cr_expect(strstr(out, "simulate") && strstr(out, "inspect"));
    cr_assert_eq(run(out, sizeof out, "simulate --help"), 0);
    const char *want[] = {"--geometry", "[ds2]", "--n", "[10000]", "--energy", "[1:1000]", "--seed",
                          "[1]", "--batch", "[1000]", "--deflate", "[4]", "--force", "--energy-list"};
    for (unsigned i = 0; i < sizeof want / sizeof *want; i++)
        cr_expect(strstr(out, want[i]) != NULL, "simulate --help lacks %s", want[i]);
    cr_expect(strstr(out, "--angle") && strstr(out, "[90]"), "simulate --help lacks --angle [90]");
    cr_assert_eq(run(out, sizeof out, "inspect --help"), 0);
    cr_expect(strstr(out, "--geometry") != NULL);
    cr_assert_eq(run(out, sizeof out, "generate --help"), 0);
    cr_expect(strstr(out, "--angle") != NULL, "generate --help lacks --angle");
    cr_assert_eq(run(out, sizeof out, "export --help"), 0);
    cr_expect(strstr(out, "--onnx") && strstr(out, "--raw") && strstr(out, "--force"), "export --help: %s", out);
    cr_assert_eq(run(out, sizeof out, "--help"), 0);
    cr_expect(strstr(out, "export") != NULL, "the command list lacks export");
}


/* The stored type of dataset name in file p is type (e.g. H5T_IEEE_F64LE). */
static int dset_is(const char *p, const char *name, hid_t type)
{
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT), d = f < 0 ? -1 : H5Dopen2(f, name, H5P_DEFAULT);
    hid_t t = d < 0 ? -1 : H5Dget_type(d);
    int ok = t >= 0 && H5Tequal(t, type) > 0;
    if (t >= 0) H5Tclose(t);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    return ok;
}

/* Root attribute name of p as a string, if it is a variable-length UTF-8 string (what h5py
 * reads as str); NULL otherwise. Caller frees. */
static char *utf8_attr(const char *p, const char *name)
{
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return NULL;
    char *v = NULL;
    if (H5Aexists(f, name) > 0) {
        hid_t a = H5Aopen(f, name, H5P_DEFAULT), t = H5Aget_type(a);
        if (H5Tis_variable_str(t) > 0 && H5Tget_cset(t) == H5T_CSET_UTF8) v = io_h5_get_str(f, name);
        H5Tclose(t), H5Aclose(a);
    }
    H5Fclose(f);
    return v;
}

/* A generated or encoded file: the official types (incident_energies float64, showers float32)
 * and string attributes as variable-length UTF-8, naming the model by absolute path and hash. */
static void expect_layout_and_provenance(const char *p, const char *model, int showers)
{
    cr_expect(dset_is(p, "incident_energies", H5T_IEEE_F64LE), "%s: incident_energies not float64", p);
    if (showers) cr_expect(dset_is(p, "showers", H5T_IEEE_F32LE), "%s: showers not float32", p);
    const char *names[] = {"geometry", "format", "producer", "units", "source", "model", "model_sha256"};
    for (int i = 0; i < 7; i++) {
        char *v = utf8_attr(p, names[i]);
        cr_expect(v != NULL, "%s: attribute %s missing or not a variable-length UTF-8 string", p, names[i]);
        if (i == 5 && v) cr_expect(v[0] == '/' && strstr(v, model) != NULL, "%s: model = '%s'", p, v);
        if (i == 6 && v) {
            char hex[65];
            char path[600];
            snprintf(path, sizeof path, "%s/%s", D, model);
            cr_assert_eq(io_sha256_file(path, hex), BASE_OK, "%s", base_last_error());
            cr_expect(strcmp(v, hex) == 0, "%s: model_sha256 %s, the model's bytes hash to %s", p, v, hex);
        }
        free(v);
    }
}

Test(cli, train_generate_encode_round_trip)
{
    char out[16384], c[600];
    cr_assert_eq(run(out, sizeof out, "simulate -n 200 -e 1:20 -s 5 -q -o %s/d.h5", D), 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "train -d %s/d.h5 -p tiny -e 2 -q -o %s/m.h5", D, D), 0, "%s", out);
    cr_expect_eq(run(out, sizeof out, "train -d %s/d.h5 -p tiny -e 1 -q -o %s/m.h5", D, D), 1, "overwrote: %s", out);
    cr_assert_eq(run(out, sizeof out, "inspect %s/m.h5", D), 0, "%s", out);
    cr_expect(strstr(out, "showervae model") && strstr(out, "hurdle") && strstr(out, "prior      learned: 2-component"), "%s", out);
    /* the free bits and the KL warm-up as options, recorded in the model */
    cr_assert_eq(run(out, sizeof out, "train -d %s/d.h5 -p tiny -e 1 --free-bits 0.2 --kl-warmup 5 -q -o %s/mf.h5", D, D),
                 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "inspect %s/mf.h5", D), 0, "%s", out);
    cr_expect(strstr(out, "free bits 0.2 nats, KL warm-up 5 steps") != NULL, "%s", out);
    cr_expect_eq(run(out, sizeof out, "train -d %s/d.h5 -p tiny --free-bits -1 -q -o %s/mg.h5", D, D), 2, "%s", out);
    cr_expect(strstr(out, "--free-bits") != NULL, "%s", out);
    cr_assert_eq(run(out, sizeof out, "inspect %s/m.h5.ckpt", D), 0, "%s", out);
    cr_expect(strstr(out, "checkpoint") && strstr(out, "step 10"), "%s", out);
    /* generation: same seed, other batch sizes, same file; the CaloChallenge layout */
    cr_assert_eq(run(out, sizeof out, "generate -m %s/m.h5 -n 90 -e 2:10 -s 4 -b 7 -q -o %s/g1.h5", D, D), 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "generate -m %s/m.h5 -n 90 -e 2:10 -s 4 -b 64 -q -o %s/g2.h5", D, D), 0, "%s", out);
    snprintf(c, sizeof c, "h5diff %s/g1.h5 %s/g2.h5 /showers && h5diff %s/g1.h5 %s/g2.h5 /incident_energies", D, D, D, D);
    cr_expect_eq(system(c), 0, "same seed, other batch size, other showers");
    /* HDF5's own filter on the generating thread writes the same showers as the worker threads */
    cr_assert_eq(run(out, sizeof out, "generate -m %s/m.h5 -n 90 -e 2:10 -s 4 -b 7 --write-threads 0 -q -o %s/g4.h5",
                     D, D), 0, "%s", out);
    snprintf(c, sizeof c, "h5diff %s/g1.h5 %s/g4.h5 /showers", D, D);
    cr_expect_eq(system(c), 0, "--write-threads 0 wrote other showers");
    /* bf16: where the CPU lacks it, a clear fall-back to f32 (the same showers) */
    cr_assert_eq(run(out, sizeof out, "generate -m %s/m.h5 -n 90 -e 2:10 -s 4 --precision bf16 -o %s/g5.h5", D, D), 0,
                 "%s", out);
    if (!layer_bf16_native()) {
        cr_expect(strstr(out, "falling back to f32") != NULL, "%s", out);
        snprintf(c, sizeof c, "h5diff %s/g1.h5 %s/g5.h5 /showers", D, D);
        cr_expect_eq(system(c), 0, "the f32 fall-back wrote other showers");
    }
    cr_expect_eq(run(out, sizeof out, "generate -m %s/m.h5 -n 9 --precision f16 -q -o %s/g6.h5", D, D), 2, "%s", out);
    cr_expect(strstr(out, "f16") != NULL, "%s", out);
    cr_assert_eq(run(out, sizeof out, "inspect -q %s/g1.h5", D), 0, "%s", out);
    cr_expect(strstr(out, "showers    90") != NULL, "%s", out);
    double lo = 0, hi = 0;
    const char *en = strstr(out, "energies");
    cr_assert(en && sscanf(en, "energies %lf .. %lf GeV", &lo, &hi) == 2, "%s", out);
    cr_expect(lo >= 2 && hi <= 10, "energies %g .. %g GeV outside 2:10", lo, hi);
    snprintf(c, sizeof c, "%s/g1.h5", D);
    expect_layout_and_provenance(c, "m.h5", 1);
    char *en_attr = utf8_attr(c, "energies"), *fmt = utf8_attr(c, "format");
    cr_expect(en_attr && strcmp(en_attr, "log-uniform 2:10 GeV") == 0, "energies attribute '%s'", en_attr);
    cr_expect(fmt && strcmp(fmt, "CaloChallenge 2022") == 0, "format '%s'", fmt);
    free(en_attr), free(fmt);
    cr_assert_eq(run(out, sizeof out, "generate -m %s/m.h5 --energies-from %s/d.h5 -q -o %s/g3.h5", D, D, D), 0, "%s", out);
    snprintf(c, sizeof c, "h5diff %s/d.h5 %s/g3.h5 /incident_energies", D, D);
    cr_expect_eq(system(c), 0, "--energies-from did not copy the energies");
    /* encoding: mu and sigma (N, Z) with the reconstructions */
    cr_assert_eq(run(out, sizeof out, "encode -m %s/m.h5 -d %s/d.h5 --reconstruct -q -o %s/z.h5", D, D, D), 0, "%s", out);
    snprintf(c, sizeof c, "h5ls %s/z.h5 > %s/ls.txt", D, D);
    cr_assert_eq(system(c), 0);
    snprintf(c, sizeof c, "grep -q 'mu .*{200/Inf, 4}' %s/ls.txt && grep -q 'sigma .*{200/Inf, 4}' %s/ls.txt && "
                          "grep -q 'showers .*{200/Inf, 6480}' %s/ls.txt", D, D, D);
    cr_expect_eq(system(c), 0, "encode output lacks mu/sigma/showers of the right shape");
    snprintf(c, sizeof c, "%s/z.h5", D);
    expect_layout_and_provenance(c, "m.h5", 1);
    fmt = utf8_attr(c, "format");
    cr_expect(fmt && strstr(fmt, "latents") && !strstr(fmt, "CaloChallenge"), "an encode file's format: '%s'", fmt);
    free(fmt);
    /* the learned prior: the default, --prior standard switches it off (other showers), the file
     * says which; fit-prior refits it with another component count into a new file */
    cr_assert_eq(run(out, sizeof out, "generate -m %s/m.h5 -n 90 -e 2:10 -s 4 -q --prior standard -o %s/p1.h5", D, D), 0,
                 "%s", out);
    snprintf(c, sizeof c, "h5diff -q %s/g1.h5 %s/p1.h5 /showers > /dev/null", D, D);
    cr_expect_neq(system(c), 0, "the standard prior gave the learned prior's showers");
    cr_assert_eq(run(out, sizeof out, "inspect %s/p1.h5", D), 0, "%s", out);
    cr_expect(strstr(out, "prior = standard normal") != NULL, "%s", out);
    cr_assert_eq(run(out, sizeof out, "inspect %s/g1.h5", D), 0, "%s", out);
    cr_expect(strstr(out, "prior = learned") != NULL, "%s", out);
    cr_expect_eq(run(out, sizeof out, "generate -m %s/m.h5 -n 5 --prior flat -q -o %s/p2.h5", D, D), 2, "%s", out);
    cr_assert_eq(run(out, sizeof out, "fit-prior -m %s/m.h5 -d %s/d.h5 -k 3 -o %s/m3.h5", D, D, D), 0, "%s", out);
    cr_expect(strstr(out, "learned prior: 3 components") != NULL, "%s", out);
    cr_expect_eq(run(out, sizeof out, "fit-prior -m %s/m.h5 -d %s/d.h5 -k 3 -q -o %s/m3.h5", D, D, D), 1, "overwrote: %s", out);
    cr_assert_eq(run(out, sizeof out, "generate -m %s/m3.h5 -n 20 -e 2:10 -s 4 -q -o %s/p3.h5", D, D), 0, "%s", out);
    /* a model that is not one */
    cr_expect_eq(run(out, sizeof out, "generate -m %s/d.h5 -n 5 -q -o %s/x.h5", D, D), 1, "%s", out);
    cr_expect(strstr(out, "not a showervae model") != NULL, "%s", out);
}

/* The training history: one row per epoch in OUTPUT.history.csv, kept whole across a stop and
 * a resume (no epoch twice), never replaced without --force. */
Test(cli, training_writes_a_history_of_every_epoch)
{
    char out[16384], h[600];
    cr_assert_eq(run(out, sizeof out, "simulate -n 300 -e 1:20 -s 5 -q -o %s/d.h5", D), 0, "%s", out);
    /* tiny: batch 32, 270 training showers -> 8 steps per epoch; stop inside epoch 2 */
    cr_assert_eq(run(out, sizeof out, "train -d %s/d.h5 -p tiny -e 3 --stop-at-step 12 -q -o %s/m.h5", D, D), 0, "%s",
                 out);
    snprintf(h, sizeof h, "%s/m.h5.history.csv", D);
    double ep[8], te[8], ve[8], tk[8], vk[8], au[8];
    cr_expect_eq(vae_history_read(h, 8, ep, te, ve, tk, vk, au), 1, "%s", base_last_error());
    cr_assert_eq(run(out, sizeof out, "train -d %s/d.h5 -p tiny --resume %s/m.h5.ckpt -q -o %s/m.h5", D, D, D), 0,
                 "%s", out);
    int n = vae_history_read(h, 8, ep, te, ve, tk, vk, au);
    cr_assert_eq(n, 3, "%d rows: %s", n, base_last_error());
    for (int i = 0; i < n; i++) {
        cr_expect_eq(ep[i], i + 1, "row %d is epoch %g", i, ep[i]);
        cr_expect(ve[i] < 0 && vk[i] > 0 && au[i] >= 0 && au[i] <= 4, "row %d: ELBO %g, KL %g, active %g", i, ve[i],
                  vk[i], au[i]);
    }
    /* evaluate finds the history through the generated file's model attribute and plots it */
    cr_assert_eq(run(out, sizeof out, "generate -m %s/m.h5 --energies-from %s/d.h5 -q -o %s/g.h5", D, D, D), 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "evaluate -g %s/g.h5 -r %s/d.h5 --protocol quick --no-classifier --no-distances "
                     "--no-prdc -q -o %s/rep", D, D, D), 0, "%s", out);
    snprintf(h, sizeof h, "test -s %s/rep/plots/training_curves.png && grep -q 'training history' %s/rep/index.html", D, D);
    cr_expect_eq(system(h), 0, "the report lacks the training curves");
    cr_assert_eq(run(out, sizeof out, "evaluate -g %s/d.h5 -r %s/d.h5 --protocol quick --no-classifier --no-distances "
                     "--no-prdc -q -o %s/rep2", D, D, D), 0, "%s", out);
    snprintf(h, sizeof h, "test ! -e %s/rep2/plots/training_curves.png && grep -q 'No training history' %s/rep2/index.html",
             D, D);
    cr_expect_eq(system(h), 0, "a file without a model got training curves or no note");
    snprintf(h, sizeof h, "grep -q '\"separation_noise_floor\"' %s/rep2/metrics.json && grep -q 'noise floor' %s/rep2/index.html",
             D, D);
    cr_expect_eq(system(h), 0, "the report lacks the separations' noise floor");
    /* E_tot/E_inc per decade of E_inc (1-20 GeV here: two decades; the third has no showers: null) */
    snprintf(h, sizeof h, "grep -q '\"Etot_Einc_1-10GeV\":[[:space:]]*0' %s/rep2/metrics.json && "
             "grep -q '\"Etot_Einc_100-1000GeV\":[[:space:]]*null' %s/rep2/metrics.json && "
             "test -s %s/rep2/plots/Etot_Einc_10-100GeV.png", D, D, D);
    cr_expect_eq(system(h), 0, "E_tot/E_inc per decade of E_inc missing or wrong");
    cr_expect_eq(run(out, sizeof out, "train -d %s/d.h5 -p tiny -e 1 -q -o %s/m2.h5.x", D, D), 0, "%s", out);
    snprintf(h, sizeof h, "cp %s/m.h5.history.csv %s/m3.h5.history.csv", D, D);
    cr_assert_eq(system(h), 0);
    cr_expect_eq(run(out, sizeof out, "train -d %s/d.h5 -p tiny -e 1 -q -o %s/m3.h5", D, D), 1, "%s", out);
    cr_expect(strstr(out, "history") != NULL, "%s", out);
}

/* Angles end to end: simulate inclined showers (incident_theta, radians, float64), train (the
 * model takes the angle as a condition and records the range), generate at given angles (the
 * file says them; another angle, other showers; outside the range, a warning), copy them with
 * --energies-from, encode; a model trained at 90 deg only ignores --angle, saying so. */
Test(cli, angles_are_conditions_from_simulation_to_generation)
{
    char out[16384], c[900];
    cr_assert_eq(run(out, sizeof out, "simulate -n 240 -e 1:20 -a 50:90 -s 5 -q -o %s/d.h5", D), 0, "%s", out);
    snprintf(c, sizeof c, "h5ls %s/d.h5 | grep -q 'incident_theta .*{240/Inf, 1}' && "
                          "h5dump -H -d /incident_theta %s/d.h5 | grep -q 'H5T_IEEE_F64LE'", D, D);
    cr_expect_eq(system(c), 0, "no incident_theta (240, 1) float64 in the simulated file");
    cr_assert_eq(run(out, sizeof out, "train -d %s/d.h5 -p tiny -e 2 -o %s/m.h5", D, D), 0, "%s", out);
    cr_expect(strstr(out, "conditioned on the angle") != NULL, "%s", out);
    cr_assert_eq(run(out, sizeof out, "inspect %s/m.h5", D), 0, "%s", out);
    cr_expect(strstr(out, "angle") != NULL, "inspect does not show the angle: %s", out);
    cr_assert_eq(run(out, sizeof out, "generate -m %s/m.h5 -n 30 -e 2:10 -a 60 -s 4 -q -o %s/g60.h5", D, D), 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "generate -m %s/m.h5 -n 30 -e 2:10 -a 85 -s 4 -q -o %s/g85.h5", D, D), 0, "%s", out);
    snprintf(c, sizeof c, "h5diff -q %s/g60.h5 %s/g85.h5 /showers > /dev/null", D, D);
    cr_expect_neq(system(c), 0, "60 and 85 deg gave the same showers");
    snprintf(c, sizeof c, "%s/g60.h5", D);
    char *an = utf8_attr(c, "angles"), *mat = utf8_attr(c, "material");
    cr_expect(an && !strcmp(an, "60 deg") && mat && !strcmp(mat, "SiW"), "angles '%s', material '%s'", an, mat);
    free(an), free(mat);
    snprintf(c, sizeof c, "h5dump -d /incident_theta %s/g60.h5 | grep -c '1.0472' | grep -q '^[1-9]'", D);
    cr_expect_eq(system(c), 0, "incident_theta of the 60 deg file is not pi/3");
    cr_assert_eq(run(out, sizeof out, "generate -m %s/m.h5 -n 10 -a 30 -s 4 -o %s/g30.h5", D, D), 0, "%s", out);
    cr_expect(strstr(out, "10 of 10 angles lie outside the model's training range") != NULL, "%s", out);
    cr_assert_eq(run(out, sizeof out, "generate -m %s/m.h5 --energies-from %s/d.h5 -q -o %s/gf.h5", D, D, D), 0, "%s", out);
    snprintf(c, sizeof c, "h5diff -d 1e-6 %s/d.h5 %s/gf.h5 /incident_theta", D, D);
    cr_expect_eq(system(c), 0, "--energies-from did not carry the angles");
    cr_expect_eq(run(out, sizeof out, "generate -m %s/m.h5 -n 5 -a 200 -q -o %s/gx.h5", D, D), 2, "%s", out);
    cr_assert_eq(run(out, sizeof out, "encode -m %s/m.h5 -d %s/d.h5 -q -o %s/z.h5", D, D, D), 0, "%s", out);
    /* export: a hurdle model needs --raw (one-line reason), then the file is written once */
    cr_expect_eq(run(out, sizeof out, "export -m %s/m.h5 --onnx %s/m.onnx", D, D), 1, "%s", out);
    cr_expect(strstr(out, "--raw") && !strchr(strchr(out, '\n') + 1, '\n'), "not one line: %s", out);
    cr_assert_eq(run(out, sizeof out, "export -m %s/m.h5 --onnx %s/m.onnx --raw", D, D), 0, "%s", out);
    cr_expect(strstr(out, "input (N, 8)") != NULL, "%s", out);
    cr_expect_eq(run(out, sizeof out, "export -m %s/m.h5 --onnx %s/m.onnx --raw", D, D), 1, "overwrote: %s", out);
    cr_expect_eq(run(out, sizeof out, "export -m %s/m.h5", D), 2, "%s", out);
    /* trained at 90 deg: --angle changes nothing, with a warning */
    cr_assert_eq(run(out, sizeof out, "simulate -n 200 -e 1:20 -s 5 -q -o %s/n.h5", D), 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "train -d %s/n.h5 -p tiny -e 1 -q -o %s/mn.h5", D, D), 0, "%s", out);
    cr_assert_eq(run(out, sizeof out, "generate -m %s/mn.h5 -n 20 -s 4 -a 60 -o %s/n60.h5", D, D), 0, "%s", out);
    cr_expect(strstr(out, "not conditioned on the angle") != NULL, "%s", out);
    cr_assert_eq(run(out, sizeof out, "generate -m %s/mn.h5 -n 20 -s 4 -q -o %s/n90.h5", D, D), 0, "%s", out);
    snprintf(c, sizeof c, "h5diff %s/n60.h5 %s/n90.h5 /showers", D, D);
    cr_expect_eq(system(c), 0, "a model without the angle condition changed its showers with --angle");
}
