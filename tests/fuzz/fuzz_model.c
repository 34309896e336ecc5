/* tests/fuzz/fuzz_model.c: the model and checkpoint loader (vae/modelio.h) on edited files.
 *
 * At start a small valid model and checkpoint are written (preset tiny on an 8-voxel grid).
 * Each input copies one of them and applies up to 8 edits it chooses: the config text
 * replaced by input bytes or one of its numbers set to an extreme value (with the checksum
 * updated, so that the parser and the checks behind it are reached), a tensor or state entry
 * replaced by a dataset of another class, rank or shape (with or without the checksum
 * filter), an attribute replaced by another class or shape, an entry deleted. Then the file
 * is loaded as a model and as a checkpoint.
 */
#include "base/rng.h"
#include "io/h5.h"
#include "layers/ctx.h"
#include "tests/fuzz/fuzz_h5.h"
#include "vae/config.h"
#include "vae/modelio.h"

#include <zlib.h>

static layer_ctx_t ctx;
static char tmpl[2][512], work[512];

static void copy_file(const char *src, const char *dst)
{
    FILE *a = fopen(src, "rb"), *b = fopen(dst, "wb");
    char buf[65536];
    size_t k;
    while (a && b && (k = fread(buf, 1, sizeof buf, a)) > 0) fwrite(buf, 1, k, b);
    if (a) fclose(a);
    if (b) fclose(b);
}

/* A learned prior with its marginal flow (2 components, 4 energy bins) fitted to random
 * features, so that edits reach every entry the prior reader checks. */
static int add_prior(vae_model_t *m, const phys_geometry_t *g)
{
    vae_prior_t *p = &m->prior;
    if (vae_prior_init(p, 2, 1, m->cfg.Z, g, 0.015) != 0) return -1;
    p->anchored = 1;
    enum { N = 400 };
    const int D = p->D;
    float *Y = malloc(sizeof(float) * N * D), lo[64] = {0};
    base_rng_t r;
    base_rng_init(&r, 3, 0);
    base_rng_normal(&r, Y, (size_t)N * D);
    for (int i = 0; i < N; i++) Y[(size_t)i * D] = (float)(i % 97) / 96.f;
    for (int l = 0; l < p->L; l++) lo[p->Z + l] = -0.6931f;
    int rc = D <= 64 ? vae_marg_fit(&p->marg, Y, N, D, D - 1, lo, 100) : -1;
    if (rc == 0) vae_marg_forward(&p->marg, Y, N, D, p->Z, NULL);
    if (rc == 0) rc = vae_prior_fit(p, Y, N, 20, 1, NULL, NULL);
    free(Y);
    return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (layer_ctx_init(&ctx) != 0) abort();
    phys_geometry_t g;
    memset(&g, 0, sizeof g);
    snprintf(g.name, sizeof g.name, "fuzzgrid");
    g.n_layers = 2;
    for (int l = 0; l < 2; l++) {
        g.n_r[l] = g.n_alpha[l] = 2;
        g.r_edges[l][1] = 1, g.r_edges[l][2] = 2;
    }
    phys_geometry_set_offsets(&g);
    vae_config_t c;
    vae_model_t m;
    if (vae_config_preset(&c, "tiny", "fuzzgrid", g.n_voxels, 0.015) != 0 || vae_model_init(&m, &c, &ctx, 4) != 0)
        abort();
    vae_model_init_params(&m, 1);
    if (add_prior(&m, &g) != 0) abort(); /* the model template carries a learned prior with its flow */
    vae_train_state_t st;
    memset(&st, 0, sizeof st);
    st.step = st.adam.t = 3, st.epoch = 1, st.best_val = -10, st.seed = 1;
    fuzz_path(tmpl[0], sizeof tmpl[0], "model.h5");
    fuzz_path(tmpl[1], sizeof tmpl[1], "ckpt.h5");
    fuzz_path(work, sizeof work, "edited.h5");
    unlink(tmpl[0]), unlink(tmpl[1]);
    if (vae_model_save(&m, &g, tmpl[0], 1, NULL) != 0 || vae_model_save(&m, &g, tmpl[1], 1, &st) != 0) abort();
    vae_model_free(&m);
    return 0;
}

/* ---- edits ---- */

static void set_config(hid_t f, const char *json)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, strlen(json) + 1);
    H5Adelete(f, "config");
    hid_t a = H5Acreate2(f, "config", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) H5Awrite(a, t, json), H5Aclose(a);
    unsigned c = (unsigned)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)json, (uInt)strlen(json));
    H5Adelete(f, "config_crc32");
    a = H5Acreate2(f, "config_crc32", H5T_STD_U32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) H5Awrite(a, H5T_NATIVE_UINT, &c), H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
}

/* The config text when it is one string (an earlier edit may have made it anything else). */
static char *get_config(hid_t f) { return io_h5_get_str(f, "config"); }

/* The k-th number of the config set to an extreme value. */
static void edit_number(hid_t f, fuzz_bytes_t *b)
{
    static const char *vals[] = {"0", "-1", "1e9", "65536", "65537", "1e300", "0.5", "8", "4096", "4097", "-1e-300",
                                 "2147483648", "16777216", "16777217", "1", "3", "\"x\"", "[]", "null", "true"};
    char *s = get_config(f);
    if (!s) return;
    int want = (int)fuzz_u8(b), k = 0;
    for (char *p = s; *p; p++) {
        int starts = (*p == '-' || (*p >= '0' && *p <= '9')) && (p == s || p[-1] == '\t' || p[-1] == ' ' || p[-1] == '[');
        if (!starts || k++ != want % 40) continue;
        char *end = p;
        while (*end && *end != ',' && *end != '\n' && *end != ']') end++;
        const char *v = vals[fuzz_u8(b) % 20];
        char *o = malloc(strlen(s) + 32);
        sprintf(o, "%.*s%s%s", (int)(p - s), s, v, end);
        set_config(f, o);
        free(o);
        break;
    }
    free(s);
}

typedef struct {
    char names[64][128];
    int n;
} list_t;

static herr_t collect(hid_t o, const char *name, const H5O_info_t *info, void *op)
{
    (void)o;
    list_t *l = op;
    if (info->type == H5O_TYPE_DATASET && l->n < 64) snprintf(l->names[l->n++], 128, "/%s", name);
    return 0;
}

/* A dataset of the input's class, rank and shape (small), with or without fletcher32. */
static void replace_dataset(hid_t f, const char *name, fuzz_bytes_t *b)
{
    unsigned c = fuzz_u8(b), cls = c & 3, rank = (c >> 2) % 4, checked = (c >> 4) & 1;
    hsize_t dims[3] = {1, 1, 1}, total = 1;
    for (unsigned i = 0; i < rank; i++) dims[i] = fuzz_u8(b) % 80, total *= dims[i];
    hid_t t = fuzz_h5_type(cls);
    hid_t sp = rank ? H5Screate_simple((int)rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (checked && rank && total) H5Pset_chunk(dcpl, (int)rank, dims), H5Pset_fletcher32(dcpl);
    H5Ldelete(f, name, H5P_DEFAULT);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t ds = H5Dcreate2(f, name, t, sp, lcpl, dcpl, H5P_DEFAULT);
    if (ds >= 0 && cls < 3) fuzz_h5_fill(ds, rank ? total : 1, b);
    if (ds >= 0) H5Dclose(ds);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Tclose(t);
}

/* A root attribute replaced by integers or strings, one or several. */
static void replace_attr(hid_t f, fuzz_bytes_t *b)
{
    static const char *names[] = {"format", "format_version", "config", "config_crc32", "producer"};
    unsigned c = fuzz_u8(b);
    const char *name = names[c % 5];
    hsize_t n = 1 + (c >> 3) % 3;
    hid_t sp = (c >> 6) & 1 ? H5Screate_simple(1, &n, NULL) : H5Screate(H5S_SCALAR);
    H5Adelete(f, name);
    if ((c >> 7) & 1) {
        long long v[3] = {(long long)fuzz_u16(b) - 100, 2, 1};
        hid_t a = H5Acreate2(f, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        if (a >= 0) H5Awrite(a, H5T_NATIVE_LLONG, v), H5Aclose(a);
    } else {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, 16);
        char v[3][16] = {"showervae-model", "2", "{}"};
        hid_t a = H5Acreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
        if (a >= 0) H5Awrite(a, t, v), H5Aclose(a);
        H5Tclose(t);
    }
    H5Sclose(sp);
}

static void edit(hid_t f, fuzz_bytes_t *b)
{
    list_t l = {.n = 0};
    H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_NATIVE, collect, &l, H5O_INFO_BASIC);
    unsigned op = fuzz_u8(b) % 6;
    if (op == 0) { /* the config as the input's text */
        size_t k = fuzz_u8(b) * 4;
        char *s = calloc(k + 1, 1);
        for (size_t i = 0; i < k; i++) s[i] = (char)(fuzz_u8(b) | 1);
        set_config(f, s);
        free(s);
    } else if (op == 1) {
        edit_number(f, b);
    } else if (op == 2 && l.n) {
        replace_dataset(f, l.names[fuzz_u8(b) % l.n], b);
    } else if (op == 3) {
        replace_attr(f, b);
    } else if (op == 4 && l.n) {
        H5Ldelete(f, l.names[fuzz_u8(b) % l.n], H5P_DEFAULT);
    } else if (op == 5) {
        static const char *st[] = {"/state/step", "/state/epoch", "/state/adam_t", "/state/batch_in_epoch",
                                   "/state/seed", "/state/best_val", "/state/adam_m", "/prior/weights",
                                   "/state/prior_marginal_bins", "/prior/marginal_knots", "/prior/marginal_empty",
                                   "/prior/marginal_band"};
        replace_dataset(f, st[fuzz_u8(b) % 12], b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    fuzz_bytes_t b = {data, n, 0};
    unsigned first = fuzz_u8(&b);
    copy_file(tmpl[first & 1], work);
    hid_t f = H5Fopen(work, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return 0;
    for (unsigned k = 0, m = 1 + (first >> 1) % 8; k < m; k++) edit(f, &b);
    H5Fclose(f);
    vae_model_t m;
    phys_geometry_t g;
    vae_train_state_t st;
    if (vae_model_load(&m, &g, work, &ctx, 0, NULL) == 0) vae_model_free(&m);
    if (vae_model_load(&m, &g, work, &ctx, 4, &st) == 0) vae_model_free(&m);
    unlink(work);
    return 0;
}
