/* bench/bench_vae.c: generation and training speed of the bench-ds2 and par04 presets on the
 * ds2 grid (6,480 voxels), side by side with the same architectures in PyTorch.
 *
 * Prints a markdown table: per preset, generation ms per shower and showers/s at batch 1, 100
 * and 10000 (the CaloChallenge convention; what vae_generate does: latent draw, conditions,
 * decoder, output sampling and threshold) in f32, and for bench-ds2 also in bf16; training
 * showers/s at batch 1024 (forward, backward, gradient clipping, Adam); GFLOP/s and the
 * fraction of the machine's measured oneDNN f32 matmul peak; the PyTorch peer's figures and
 * the ratio showervae / PyTorch in showers/s. The header gives the CPU, ISA and threads.
 * Timing: the fastest call of a window (--window, 1 s; 3 s for batch 10000 and training, whose
 * calls take most of a second), the same rule as the peer's.
 * FLOPs counted: generation 2 x (decoder multiply-adds) per shower; training 3 x 2 x (encoder +
 * decoder multiply-adds) per shower less 2 x the first encoder layer's (no input gradient).
 * Models have random weights (speed does not depend on them).
 * Two peers, same thread count: PyTorch (bench/peer_torch.py with the Debian python3,
 * python3-torch) and ONNX Runtime (the same generators exported by peer_torch.py
 * --export-onnx, run by bench/peer_ort.js on onnxruntime-node's CPU provider); `make
 * bench-deps` installs both. A missing peer is skipped with a message.
 * Usage: bench_vae [--quick] [--window S] [--no-peer] [--no-ort] [--python PATH]
 *                  [--peer-script PATH] [--node PATH] [--ort-modules DIR]
 */
#include "bench/timing.h"
#include "layers/optim.h"
#include "base/rng.h"
#include "base/status.h"
#include "physics/simulate.h"
#include "vae/generate.h"
#include "vae/model.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "bench_vae"
#define CHECK(x) bench_check((x), PROG, #x)

static const char *const PRESETS[] = {"bench-ds2", "par04"};
static const int BATCHES[] = {1, 100, 10000};
enum { NPRESET = 2, NBATCH = 3, V = 6480, TRAIN_B = 1024 };

typedef struct {
    double gen_s[2][NBATCH]; /* [f32, bf16] seconds per shower (0: not measured) */
    double dec_weights;      /* decoder weights (count): bytes read per batch-1 call / 4 (f32) */
    double train_per_s;
    double dec_flop, train_flop; /* per shower */
} ours_t;

/* ---- our side ---- */
typedef struct {
    vae_infer_t *q;
    int n;
    float *E, *x;
} gen_t;

static int run_gen(void *p)
{
    gen_t *g = p;
    return vae_generate_showers(g->q, g->n, g->E, NULL, 1, 0, g->x);
}

typedef struct {
    vae_model_t *m;
    layer_adam_t adam;
    float *E, *x;
    uint64_t step;
} train_t;

static int run_train(void *p)
{
    train_t *t = p;
    vae_terms_t terms;
    BASE_TRY(vae_model_train_step(t->m, t->E, NULL, t->x, 1, t->step++, t->m->cfg.beta, 0.f, &terms));
    layer_grad_clip(&t->m->A, t->m->cfg.clip);
    layer_adam_step(&t->adam, &t->m->A, t->m->cfg.lr);
    return 0;
}

/* E: (n) log-uniform over 1 GeV .. 1 TeV (MeV), the simulator's energy stream */
static float *energies(int n, uint64_t seed)
{
    float *E = malloc((size_t)n * sizeof *E);
    double *Ed = malloc((size_t)n * sizeof *Ed);
    if (!E || !Ed) bench_check(-1, PROG, "out of memory");
    phys_sim_energies_loguniform(Ed, (size_t)n, 1e3, 1e6, seed, 0);
    for (int i = 0; i < n; i++) E[i] = (float)Ed[i];
    free(Ed);
    return E;
}

/* multiply-adds of a chain in -> widths... -> out */
static double macs(int in, const int *w, int n, int out)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)in * w[i], in = w[i];
    return s + (double)in * out;
}

static void measure(const layer_ctx_t *ctx, const char *preset, double window, ours_t *o)
{
    vae_config_t c;
    CHECK(vae_config_preset(&c, preset, "ds2", V, 0.01515));
    vae_model_t m;
    CHECK(vae_model_init(&m, &c, ctx, TRAIN_B));
    vae_model_init_params(&m, 1);
    const int E = vae_config_n_cond(&c);
    double enc = macs(V + E, c.enc, c.n_enc, 2 * c.Z), dec = macs(c.Z + E, c.dec, c.n_dec, vae_config_n_out(&c));
    o->dec_flop = 2 * dec;
    o->dec_weights = dec; /* one multiply-add per weight per shower */
    o->train_flop = 6 * (enc + dec) - 2.0 * (V + E) * c.enc[0];
    float *Eg = energies(10000, 2), *x = malloc((size_t)10000 * V * sizeof(float));
    if (!x) bench_check(-1, PROG, "out of memory");
    for (int p = 0; p < 2; p++) {
        if (p == 1 && (strcmp(preset, "bench-ds2") != 0 || !layer_bf16_available())) break;
        vae_infer_t q;
        CHECK(vae_infer_init(&q, &m, ctx, 0, p ? LAYER_BF16 : LAYER_F32));
        for (int b = 0; b < NBATCH; b++) {
            gen_t g = {&q, BATCHES[b], Eg, x};
            o->gen_s[p][b] = bench_time(run_gen, &g, BATCHES[b] >= 10000 ? 3 * window : window, NULL) / BATCHES[b];
            fprintf(stderr, "%s: %s %s batch %d: %.4f ms/shower (chunks of %d rows%s)\n", PROG, preset,
                    p ? "bf16" : "f32", BATCHES[b], o->gen_s[p][b] * 1e3, q.chunk,
                    q.any_rows ? ", any-row path" : ", fixed sizes");
        }
        vae_infer_free(&q);
    }
    /* training on fractions like the peer's: 30% of voxels hit, E_cell / E_inc < 1 / V */
    train_t t = {.m = &m, .E = Eg, .x = x};
    base_rng_t r;
    base_rng_init(&r, 3, 0);
    base_rng_uniform(&r, x, (size_t)TRAIN_B * V);
    for (size_t i = 0; i < (size_t)TRAIN_B * V; i++) x[i] = x[i] < 0.3f ? Eg[i / V] * x[i] / (0.3f * V) : 0.f;
    layer_adam_init(&t.adam, 0.f);
    o->train_per_s = TRAIN_B / bench_time(run_train, &t, 3 * window, NULL);
    fprintf(stderr, "%s: %s training: %.0f showers/s\n", PROG, preset, o->train_per_s);
    vae_model_free(&m);
    free(Eg);
    free(x);
}

/* ---- the peers ---- */
static cJSON *run_peer(const char *python, const char *script, int threads, double window)
{
    const char *hint = "`make bench-deps` installs python3-torch";
    if (access(python, X_OK) != 0) {
        fprintf(stderr, "%s: PyTorch peer skipped (no Python at %s); %s\n", PROG, python, hint);
        return NULL;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=%d '%s' '%s' --threads %d --window %g", threads, python, script,
             threads, window);
    return bench_run_json(PROG, cmd, "PyTorch", hint);
}

/* The ONNX Runtime peer: peer_torch.py exports the generators into a temporary directory,
 * peer_ort.js (node, onnxruntime-node from modules) times them. */
static cJSON *run_ort(const char *python, const char *script, const char *node, const char *modules, int threads,
                      double window)
{
    const char *hint = "`make bench-deps` installs python3-torch, node and onnxruntime-node";
    char dir[] = "/tmp/bench_vae_onnx.XXXXXX", cmd[2048], js[1024];
    if (access(python, X_OK) != 0 || !mkdtemp(dir)) {
        fprintf(stderr, "%s: ONNX Runtime peer skipped (no Python at %s to export the models); %s\n", PROG, python, hint);
        return NULL;
    }
    snprintf(cmd, sizeof cmd, "'%s' '%s' --export-onnx %s", python, script, dir);
    cJSON *e = bench_run_json(PROG, cmd, "ONNX Runtime (export)", hint), *j = NULL;
    if (e) {
        snprintf(js, sizeof js, "%s", script);
        char *slash = strrchr(js, '/');
        snprintf(slash ? slash + 1 : js, sizeof js - (size_t)(slash ? slash + 1 - js : 0), "peer_ort.js");
        snprintf(cmd, sizeof cmd, "NODE_PATH='%s' '%s' '%s' --models %s --threads %d --window %g", modules, node, js, dir,
                 threads, window);
        j = bench_run_json(PROG, cmd, "ONNX Runtime", hint);
    }
    cJSON_Delete(e);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "%s: could not remove %s\n", PROG, dir);
    return j;
}

static double jnum(const cJSON *j, const char *const *path, int n)
{
    for (int i = 0; i < n && j; i++) j = cJSON_GetObjectItem(j, path[i]);
    return cJSON_IsNumber(j) ? j->valuedouble : 0;
}

static const char *jstr(const cJSON *j, const char *const *path, int n)
{
    for (int i = 0; i < n && j; i++) j = cJSON_GetObjectItem(j, path[i]);
    return cJSON_IsString(j) ? j->valuestring : "";
}

/* ---- the table ---- */
/* one table row; s_ours, s_peer, s_ort: seconds per shower (peer 0: none) */
static void row(const char *preset, const char *what, const char *batch, double s_ours, double flop, double peak,
                double s_peer, const char *peer_mode, double s_ort)
{
    double g = flop / s_ours * 1e-9;
    printf("| %-9s | %-22s | %5s | %9.4f | %8.0f | %6.1f | %5.1f%% |", preset, what, batch, s_ours * 1e3,
           1 / s_ours, g, 100 * g / peak);
    if (s_peer > 0)
        printf(" %9.4f | %8.0f | %-10s | **%.2fx** |", s_peer * 1e3, 1 / s_peer, peer_mode, s_peer / s_ours);
    else
        printf(" - | - | - | - |");
    if (s_ort > 0)
        printf(" %9.4f | **%.2fx** |\n", s_ort * 1e3, s_ort / s_ours);
    else
        printf(" - | - |\n");
}

int main(int argc, char **argv)
{
    double window = 1.0;
    int peer = 1, ort = 1;
    const char *node = getenv("SHOWERVAE_NODE") ? getenv("SHOWERVAE_NODE") : "node";
    const char *modules = getenv("SHOWERVAE_ORT_MODULES") ? getenv("SHOWERVAE_ORT_MODULES") : "build/ort/node_modules";
    const char *python = getenv("SHOWERVAE_PYTHON") ? getenv("SHOWERVAE_PYTHON") : "/usr/bin/python3";
    const char *script = "bench/peer_torch.py";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) window = 0.2;
        else if (!strcmp(argv[i], "--window") && i + 1 < argc) window = atof(argv[++i]);
        else if (!strcmp(argv[i], "--no-peer")) peer = 0;
        else if (!strcmp(argv[i], "--no-ort")) ort = 0;
        else if (!strcmp(argv[i], "--node") && i + 1 < argc) node = argv[++i];
        else if (!strcmp(argv[i], "--ort-modules") && i + 1 < argc) modules = argv[++i];
        else if (!strcmp(argv[i], "--python") && i + 1 < argc) python = argv[++i];
        else if (!strcmp(argv[i], "--peer-script") && i + 1 < argc) script = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--quick] [--window S (1.0)] [--no-peer] [--no-ort] [--python PATH "
                            "(/usr/bin/python3)] [--peer-script PATH (bench/peer_torch.py)] [--node PATH (node)] "
                            "[--ort-modules DIR (build/ort/node_modules)]\n", PROG);
            return 2;
        }
    }
    layer_ctx_t ctx;
    CHECK(layer_ctx_init(&ctx));
    char detail[160], cpu[256];
    double peak = bench_matmul_peak(&ctx, window, detail);
    const long l3 = layer_cache_bytes(3);
    const double bw_mem = bench_read_gbps((size_t)1 << 30, layer_threads(), 2 * window);
    ours_t o[NPRESET];
    memset(o, 0, sizeof o);
    for (int p = 0; p < NPRESET; p++) measure(&ctx, PRESETS[p], window, &o[p]);
    cJSON *pj = peer ? run_peer(python, script, layer_threads(), window) : NULL;
    cJSON *oj = ort ? run_ort(python, script, node, modules, layer_threads(), window) : NULL;

    bench_cpu_model(cpu, sizeof cpu);
    const dnnl_version_t *v = dnnl_version();
    printf("\n%s on %s: oneDNN %d.%d.%d, ISA %s, %d threads, bf16 %s; measured f32 matmul peak %.1f GFLOP/s "
           "(best of %s)\n", PROG, cpu, v->major, v->minor, v->patch, layer_isa_name(), layer_threads(),
           layer_bf16_native() ? "native" : layer_bf16_available() ? "emulated by oneDNN (no AVX512-BF16)" : "none",
           peak, detail);
    if (pj)
        printf("peer: PyTorch %s, %d threads, fastest of eager / TorchScript-frozen per row\n",
               jstr(pj, (const char *const[]){"torch"}, 1), (int)jnum(pj, (const char *const[]){"threads"}, 1));
    if (oj)
        printf("peer: ONNX Runtime %s (onnxruntime-node, CPU provider), %d intra-op threads, the same generators "
               "exported from PyTorch\n", jstr(oj, (const char *const[]){"ort"}, 1),
               (int)jnum(oj, (const char *const[]){"threads"}, 1));
    printf("\n| preset | what | batch | ms/shower | showers/s | GFLOP/s | of peak | PyTorch ms/shower | PyTorch showers/s "
           "| PyTorch mode | vs PyTorch | ORT ms/shower | vs ORT |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int p = 0; p < NPRESET; p++) {
        for (int k = 0; k < 2; k++)
            for (int b = 0; b < NBATCH; b++) {
                if (o[p].gen_s[k][b] <= 0) continue;
                char bs[16];
                snprintf(bs, sizeof bs, "%d", BATCHES[b]);
                const char *path[] = {"presets", PRESETS[p], "gen", bs, "s_per_shower"};
                const char *mpath[] = {"presets", PRESETS[p], "gen", bs, "mode"};
                row(PRESETS[p], k ? (layer_bf16_native() ? "generate, bf16" : "generate, bf16 emulated") : "generate, f32",
                    bs, o[p].gen_s[k][b], o[p].dec_flop, peak, pj ? jnum(pj, path, 5) : 0, pj ? jstr(pj, mpath, 5) : "",
                    oj ? jnum(oj, path, 5) : 0);
            }
        const char *tpath[] = {"presets", PRESETS[p], "train", "showers_per_s"};
        double tp = pj ? jnum(pj, tpath, 4) : 0;
        row(PRESETS[p], "train (fwd, bwd, Adam)", "1024", 1 / o[p].train_per_s, o[p].train_flop, peak,
            tp > 0 ? 1 / tp : 0, "eager", 0);
    }
    printf("\nvs PyTorch, vs ORT = showervae showers/s / the peer's showers/s; bf16 rows are compared with the peers "
           "in f32.\n");
    printf("\nBatch 1 reads every decoder weight once per call: the limit is how fast %d threads read that many "
           "bytes, from the L3 (%.0f MiB) or memory (%.0f GB/s for 1 GiB). Read rate of a buffer of the weights' size, "
           "read the same way, against the call:\n", layer_threads(), l3 / 1048576.0, bw_mem);
    for (int p = 0; p < NPRESET; p++)
        for (int k = 0; k < 2; k++)
            if (o[p].gen_s[k][0] > 0) {
                const double mb = o[p].dec_weights * (k ? 2 : 4) / 1e6, gbs = mb / o[p].gen_s[k][0] * 1e-3;
                const double bw = bench_read_gbps((size_t)(mb * 1e6), layer_threads(), window);
                printf("- %s %s batch 1: %.1f MB of weights in %.4f ms = %.0f GB/s; a %.1f MB buffer reads at %.0f GB/s "
                       "(%.0f%%)\n", PRESETS[p], k ? "bf16" : "f32", mb, o[p].gen_s[k][0] * 1e3, gbs, mb, bw,
                       100 * gbs / bw);
            }
    cJSON_Delete(pj);
    cJSON_Delete(oj);
    layer_ctx_free(&ctx);
    return 0;
}
