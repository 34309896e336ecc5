/* bench/bench_train.c: end-to-end training throughput (what `showervae train` does: file ->
 * loader -> step -> validation and checkpoint at each epoch end) against the training step
 * alone, for the par04 and bench-ds2 presets on ds2 showers.
 *
 * The data: N simulated ds2 showers (default 20,000, 1 GeV - 1 TeV) written as a user's file
 * would be: deflate level 1, chunks of 100 showers (the layout that made the streamed loader
 * inflate the whole file every epoch). Per preset:
 *   step        vae_model_train_step + clipping + Adam at the preset's batch on showers held in
 *               memory (no loader), sustained over 3 s (calls / seconds): the ceiling
 *   in memory   vae_train with the file held in memory (the default when it fits)
 *   streamed    vae_train reading the file every epoch (--data-memory 0)
 * End-to-end rates are training showers / seconds of the epochs (vae_train's rate: steps,
 * validation and checkpoints; not the learned prior's fit); the first column adds the time to
 * open and read the file. The PyTorch peer (bench/peer_torch.py --train-file) trains the same
 * architecture on the same file as a PyTorch user's script would: h5py into memory, a shuffled
 * DataLoader at the preset's batch, a 10% validation pass per epoch; its rate is training
 * showers / seconds of the epochs too (its reading time printed apart). Also printed: CPU,
 * ISA, threads.
 * Usage: bench_train [--n N (20000)] [--epochs E (2)] [--dir DIR (build/bench-out)] [--no-peer]
 *                    [--python PATH (/usr/bin/python3)] [--peer-script PATH (bench/peer_torch.py)]
 */
#include "base/clock.h"
#include "base/status.h"
#include "bench/timing.h"
#include "io/writer.h"
#include "layers/optim.h"
#include "physics/simulate.h"
#include "vae/model.h"
#include "vae/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROG "bench_train"
#define CHECK(x) bench_check((x), PROG, #x)

static const char *const PRESETS[] = {"par04", "bench-ds2"};

/* n ds2 showers from the simulator into path, deflate 1, chunks of 100 rows; the showers are
 * also kept in X (n, 6480) and E (n) for the step measurement. */
static void make_data(const char *path, size_t n, float **E, float **X)
{
    phys_geometry_t g;
    CHECK(phys_geometry_preset(&g, "ds2"));
    phys_sim_t s;
    CHECK(phys_sim_init(&s, &g));
    double *Ed = malloc(n * sizeof *Ed);
    *E = malloc(n * sizeof **E), *X = malloc(n * 6480 * sizeof **X);
    if (!Ed || !*E || !*X) bench_check(-1, PROG, "out of memory");
    phys_sim_energies_loguniform(Ed, n, 1e3, 1e6, 11, 0);
    CHECK(phys_sim_batch(&s, Ed, NULL, n, 11, 0, *X));
    for (size_t i = 0; i < n; i++) (*E)[i] = (float)Ed[i];
    io_writer_opts_t o = io_writer_defaults();
    o.deflate = 1, o.chunk_rows = 100, o.force = 1;
    io_writer_t w;
    CHECK(io_writer_open(&w, path, &g, &o));
    CHECK(io_writer_append(&w, *E, *X, n));
    CHECK(io_writer_close(&w));
    free(Ed);
}

typedef struct {
    vae_model_t *m;
    layer_adam_t adam;
    const float *E, *x;
    size_t n, at;
    uint64_t step;
} step_t;

static int run_step(void *p)
{
    step_t *t = p;
    const size_t B = (size_t)t->m->cfg.batch;
    if (t->at + B > t->n) t->at = 0;
    vae_terms_t terms;
    BASE_TRY(vae_model_train_step(t->m, t->E + t->at, NULL, t->x + t->at * 6480, 1, t->step++, t->m->cfg.beta, 0.f, &terms));
    layer_grad_clip(&t->m->A, t->m->cfg.clip);
    layer_adam_step(&t->adam, &t->m->A, t->m->cfg.lr);
    t->at += B;
    return 0;
}

/* showers/s of the step alone at the preset's batch */
static double step_rate(const layer_ctx_t *ctx, const char *preset, const float *E, const float *X, size_t n)
{
    vae_config_t c;
    CHECK(vae_config_preset(&c, preset, "ds2", 6480, 0.01515));
    vae_model_t m;
    CHECK(vae_model_init(&m, &c, ctx, c.batch));
    vae_model_init_params(&m, 1);
    step_t t = {.m = &m, .E = E, .x = X, .n = n};
    layer_adam_init(&t.adam, 0.f);
    /* sustained: every call of a 3 s window, as the epochs count theirs (not the fastest call) */
    CHECK(run_step(&t));
    long calls = 0;
    double t0 = base_now(), el = 0;
    while ((el = base_now() - t0) < 3.0) CHECK(run_step(&t)), calls++;
    vae_model_free(&m);
    return (double)calls * c.batch / el;
}

/* vae_train for `epochs`; *wall receives the seconds including opening and reading the file */
static double e2e_rate(const char *data, const char *out, const char *preset, int epochs, size_t mem, double *wall)
{
    vae_train_opts_t o = {.data = data, .out = out, .preset = preset, .epochs = epochs, .val_fraction = 0.1,
                          .seed = 1, .dropout = -1, .force = 1, .data_mem_bytes = mem};
    vae_train_result_t r;
    double t0 = base_now();
    CHECK(vae_train(&o, &r));
    *wall = base_now() - t0;
    return r.showers_per_s;
}

/* The PyTorch peer's end-to-end training on the same file (NULL: skipped, with a message). */
static cJSON *run_peer(const char *python, const char *script, const char *data, int epochs)
{
    const char *hint = "`make bench-deps` installs python3-torch";
    if (access(python, X_OK) != 0) {
        fprintf(stderr, "%s: PyTorch peer skipped (no Python at %s); %s\n", PROG, python, hint);
        return NULL;
    }
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=%d '%s' '%s' --threads %d --train-file '%s' --epochs %d --presets %s,%s",
             layer_threads(), python, script, layer_threads(), data, epochs, PRESETS[0], PRESETS[1]);
    return bench_run_json(PROG, cmd, "PyTorch", hint);
}

/* "value" of key in the peer's e2e entry for preset, or -1. */
static double peer_num(const cJSON *j, const char *preset, const char *key)
{
    const cJSON *e = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "e2e"), preset);
    const cJSON *v = cJSON_GetObjectItem(e, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

int main(int argc, char **argv)
{
    size_t n = 20000;
    int epochs = 2, peer = 1;
    const char *dir = "build/bench-out", *script = "bench/peer_torch.py";
    const char *python = getenv("SHOWERVAE_PYTHON") ? getenv("SHOWERVAE_PYTHON") : "/usr/bin/python3";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc) n = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--no-peer")) peer = 0;
        else if (!strcmp(argv[i], "--python") && i + 1 < argc) python = argv[++i];
        else if (!strcmp(argv[i], "--peer-script") && i + 1 < argc) script = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--n N (20000)] [--epochs E (2)] [--dir DIR (build/bench-out)] [--no-peer] "
                            "[--python PATH (/usr/bin/python3)] [--peer-script PATH (bench/peer_torch.py)]\n", PROG);
            return 2;
        }
    }
    if (n < 2000 || epochs < 1) bench_check(-1, PROG, "--n >= 2000 and --epochs >= 1");
    mkdir(dir, 0755);
    char data[1100], out[1100];
    snprintf(data, sizeof data, "%s/train_data.h5", dir);
    snprintf(out, sizeof out, "%s/train_model.h5", dir);
    float *E, *X;
    make_data(data, n, &E, &X);
    layer_ctx_t ctx;
    CHECK(layer_ctx_init(&ctx));
    double step[2], mem[2], str[2], wm[2], ws[2];
    for (int p = 0; p < 2; p++) {
        step[p] = step_rate(&ctx, PRESETS[p], E, X, n);
        mem[p] = e2e_rate(data, out, PRESETS[p], epochs, 0, &wm[p]);
        str[p] = e2e_rate(data, out, PRESETS[p], epochs, 1, &ws[p]);
        fprintf(stderr, "%s: %s done\n", PROG, PRESETS[p]);
    }
    cJSON *pj = peer ? run_peer(python, script, data, epochs) : NULL;
    char cpu[200];
    bench_cpu_model(cpu, sizeof cpu);
    printf("\n%s on %s: %zu ds2 showers (deflate 1, chunks of 100), %d epochs, ISA %s, %d threads\n", PROG, cpu, n,
           epochs, layer_isa_name(), layer_threads());
    if (pj)
        printf("peer: PyTorch %s, %d threads (h5py into memory, DataLoader)\n",
               cJSON_GetStringValue(cJSON_GetObjectItem(pj, "torch")), layer_threads());
    printf("\n| preset | step showers/s | in memory showers/s | of step | wall s (with reading) | streamed showers/s "
           "| of step | wall s | PyTorch e2e showers/s | PyTorch reading s | vs PyTorch |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int p = 0; p < 2; p++) {
        printf("| %s | %.0f | %.0f | %.0f%% | %.1f | %.0f | %.0f%% | %.1f |", PRESETS[p], step[p], mem[p],
               100 * mem[p] / step[p], wm[p], str[p], 100 * str[p] / step[p], ws[p]);
        double pr = peer_num(pj, PRESETS[p], "showers_per_s"), pl = peer_num(pj, PRESETS[p], "load_s");
        if (pr > 0) printf(" %.0f | %.1f | **%.2fx** |\n", pr, pl, mem[p] / pr);
        else printf(" - | - | - |\n");
    }
    printf("\nvs PyTorch = in-memory showers/s / the peer's showers/s.\n");
    cJSON_Delete(pj);
    unlink(data), unlink(out);
    char ck[1200];
    snprintf(ck, sizeof ck, "%s.ckpt", out);
    unlink(ck);
    layer_ctx_free(&ctx);
    free(E), free(X);
    return 0;
}
