/* tests/corpus/mkcorpus.c: writes the malformed-input corpus into a directory.
 *
 * usage: mkcorpus DIR GOOD_SHOWERS.h5 GOOD_MODEL.h5 GOOD_CHECKPOINT.h5
 *
 * Every item is an input that some showervae command must refuse with a clean one-line error
 * (exit 1 or 2, no signal, no hang): truncated and foreign files, wrong classes, ranks and
 * shapes for every dataset and attribute, huge declared dimensions, NaN/Inf/negative values,
 * edited model configs and checkpoint states, hostile binning XML. The items are made from the
 * good files at test time (nothing binary is committed). stdout gets one line per item,
 * "KIND PATH", KIND one of showers, model, ckpt, resume (a valid model that is no checkpoint),
 * xml; tests/corpus/run.sh runs the commands.
 */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const char *dir;
static char path_buf[4096];

static void die(const char *what)
{
    fprintf(stderr, "mkcorpus: %s\n", what);
    exit(1);
}

/* DIR/name, announced as an item of kind. */
static const char *item(const char *kind, const char *name)
{
    snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
    printf("%s %s\n", kind, path_buf);
    return path_buf;
}

static void copy_bytes(const char *src, const char *dst, long n) /* n < 0: all */
{
    FILE *a = fopen(src, "rb"), *b = fopen(dst, "wb");
    if (!a || !b) die("cannot copy");
    char buf[65536];
    size_t k;
    long done = 0;
    while ((n < 0 || done < n) && (k = fread(buf, 1, n < 0 || n - done > (long)sizeof buf ? sizeof buf : (size_t)(n - done), a)) > 0) {
        fwrite(buf, 1, k, b);
        done += (long)k;
    }
    fclose(a);
    fclose(b);
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static void write_text(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    if (!f) die("cannot write text");
    fputs(text, f);
    fclose(f);
}

/* ---- HDF5 helpers ---- */

static hid_t create(const char *p)
{
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) die("cannot create an HDF5 file");
    return f;
}

/* A dataset of rank/dims and file type ft; data (memory type mt) may be NULL (fill). */
static void put(hid_t loc, const char *name, hid_t ft, hid_t mt, int rank, const hsize_t *dims, const void *data)
{
    hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    if (H5Lexists(loc, name, H5P_DEFAULT) > 0) H5Ldelete(loc, name, H5P_DEFAULT);
    hid_t ds = H5Dcreate2(loc, name, ft, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0) die("cannot create a dataset");
    if (data) H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(ds);
    H5Pclose(lcpl);
    H5Sclose(sp);
}

/* Same, chunked with fletcher32 (as showervae writes its tensors). */
static void put_checked(hid_t loc, const char *name, hid_t ft, hid_t mt, int rank, const hsize_t *dims, const void *data)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL), lcpl = H5Pcreate(H5P_LINK_CREATE), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    H5Pset_chunk(dcpl, rank, dims);
    H5Pset_fletcher32(dcpl);
    if (H5Lexists(loc, name, H5P_DEFAULT) > 0) H5Ldelete(loc, name, H5P_DEFAULT);
    hid_t ds = H5Dcreate2(loc, name, ft, sp, lcpl, dcpl, H5P_DEFAULT);
    if (ds < 0) die("cannot create a checked dataset");
    H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Pclose(lcpl);
    H5Sclose(sp);
}

/* A dataset that declares dims without storing anything (chunked, allocated on write). */
static void put_huge(hid_t loc, const char *name, int rank, const hsize_t *dims)
{
    hsize_t chunk[8];
    for (int i = 0; i < rank; i++) chunk[i] = dims[i] < 16 ? dims[i] : 16;
    hid_t sp = H5Screate_simple(rank, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, rank, chunk);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_INCR);
    hid_t ds = H5Dcreate2(loc, name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0) die("cannot create a huge dataset");
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(sp);
}

static void del_attr(hid_t loc, const char *name)
{
    if (H5Aexists(loc, name) > 0) H5Adelete(loc, name);
}

static void attr(hid_t loc, const char *name, hid_t ft, hid_t mt, int rank, const hsize_t *dims, const void *v)
{
    del_attr(loc, name);
    hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) die("cannot create an attribute");
    H5Awrite(a, mt, v);
    H5Aclose(a);
    H5Sclose(sp);
}

/* Fixed-length string attribute; n > 1 makes an array of n copies (a shape readers must refuse). */
static void attr_str(hid_t loc, const char *name, const char *s, hsize_t n)
{
    size_t len = strlen(s) + 1;
    char *buf = calloc(n, len);
    for (hsize_t i = 0; i < n; i++) memcpy(buf + i * len, s, len);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, len);
    attr(loc, name, t, t, n > 1 ? 1 : 0, &n, buf);
    H5Tclose(t);
    free(buf);
}

static void attr_vlen(hid_t loc, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    attr(loc, name, t, t, 0, NULL, &s);
    H5Tclose(t);
}

static void attr_ints(hid_t loc, const char *name, const long long *v, hsize_t n)
{
    attr(loc, name, H5T_STD_I64LE, H5T_NATIVE_LLONG, n > 1 ? 1 : 0, &n, v);
}

/* ---- shower files ---- */

enum { N = 8, V = 6480 };
static float good_e[N], good_x[N * V];

static void read_good(const char *p)
{
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) die("cannot open the good shower file");
    hid_t de = H5Dopen2(f, "incident_energies", H5P_DEFAULT), dx = H5Dopen2(f, "showers", H5P_DEFAULT);
    hsize_t s[2] = {0, 0}, c[2] = {N, V}, c1[2] = {N, 1}, o[2] = {0, 0};
    hid_t fs = H5Dget_space(dx);
    H5Sget_simple_extent_dims(fs, s, NULL);
    if (s[0] < N || s[1] != V) die("the good shower file must hold at least 8 ds2 showers");
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, o, NULL, c, NULL);
    hid_t ms = H5Screate_simple(2, c, NULL);
    H5Dread(dx, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, good_x);
    H5Sclose(ms);
    H5Sclose(fs);
    fs = H5Dget_space(de);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, o, NULL, c1, NULL);
    ms = H5Screate_simple(2, c1, NULL);
    H5Dread(de, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, good_e);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(de);
    H5Dclose(dx);
    H5Fclose(f);
}

/* A CaloChallenge file from the good showers with energies e and voxels x. */
static hid_t cc_file(const char *name, const float *e, const float *x)
{
    hid_t f = create(item("showers", name));
    hsize_t de[2] = {N, 1}, dx[2] = {N, V};
    put(f, "incident_energies", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, de, e);
    put(f, "showers", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dx, x);
    return f;
}

static void showers_with_value(const char *name, int in_energy, float v)
{
    static float e[N], x[N * V];
    memcpy(e, good_e, sizeof e);
    memcpy(x, good_x, sizeof x);
    if (in_energy) e[N / 2] = v;
    else x[3 * V + 100] = v;
    H5Fclose(cc_file(name, e, x));
}

static void shower_items(const char *good)
{
    copy_bytes(good, item("showers", "s_truncated_half.h5"), file_size(good) / 2);
    copy_bytes(good, item("showers", "s_truncated_1k.h5"), 1024);
    copy_bytes(good, item("showers", "s_truncated_100.h5"), 100);
    write_text(item("showers", "s_empty.h5"), "");
    write_text(item("showers", "s_text.h5"), "incident_energies,showers\n1,2\n");
    mkdir(item("showers", "s_directory.h5"), 0755);
    unlink(path_buf); /* a FIFO: opening it for reading would block */
    mkfifo(item("showers", "s_fifo.h5"), 0644);
    item("showers", "s_missing.h5");
    H5Fclose(create(item("showers", "s_no_datasets.h5")));

    hsize_t de[2] = {N, 1}, dx[2] = {N, V}, d1 = N * V;
    hid_t f = create(item("showers", "s_only_showers.h5"));
    put(f, "showers", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dx, good_x);
    H5Fclose(f);
    f = create(item("showers", "s_only_energies.h5"));
    put(f, "incident_energies", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, de, good_e);
    H5Fclose(f);

    static int ie[N], ix[N * V];
    for (int i = 0; i < N; i++) ie[i] = (int)good_e[i];
    f = create(item("showers", "s_energies_int.h5"));
    put(f, "incident_energies", H5T_STD_I32LE, H5T_NATIVE_INT, 2, de, ie);
    put(f, "showers", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dx, good_x);
    H5Fclose(f);
    f = create(item("showers", "s_showers_int.h5"));
    put(f, "incident_energies", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, de, good_e);
    put(f, "showers", H5T_STD_I32LE, H5T_NATIVE_INT, 2, dx, ix);
    H5Fclose(f);
    f = create(item("showers", "s_showers_string.h5"));
    put(f, "incident_energies", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, de, good_e);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 4);
    put(f, "showers", st, st, 2, dx, NULL);
    H5Tclose(st);
    H5Fclose(f);

    struct { const char *name; int rank; hsize_t dims[5]; int huge; } shapes[] = {
        {"s_showers_rank1.h5", 1, {N * V}, 0},           {"s_showers_rank3.h5", 3, {N, 45, 144}, 0},
        {"s_showers_rank5.h5", 5, {N, 5, 9, 16, 9}, 0},   {"s_zero_voxels.h5", 2, {N, 0}, 0},
        {"s_zero_showers.h5", 2, {0, V}, 0},             {"s_huge_voxels.h5", 2, {N, 4294967296ull + V}, 1},
        {"s_huge_n.h5", 2, {1ull << 41, V}, 1},          {"s_n_mismatch.h5", 2, {N - 1, V}, 0},
        {"s_voxels_off_by_one.h5", 2, {N, V + 1}, 0}};
    for (unsigned k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        f = create(item("showers", shapes[k].name));
        hsize_t e2[2] = {shapes[k].dims[0], 1};
        if (shapes[k].huge) put_huge(f, "incident_energies", 2, e2);
        else put(f, "incident_energies", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, k == 7 ? de : e2, NULL);
        if (shapes[k].huge) put_huge(f, "showers", shapes[k].rank, shapes[k].dims);
        else put(f, "showers", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, shapes[k].rank, shapes[k].dims, NULL);
        H5Fclose(f);
    }
    (void)d1;
    hsize_t e3[3] = {N, 1, 1}, e22[2] = {N, 2};
    f = create(item("showers", "s_energies_rank3.h5"));
    put(f, "incident_energies", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, e3, good_e);
    put(f, "showers", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dx, good_x);
    H5Fclose(f);
    f = create(item("showers", "s_energies_two_columns.h5"));
    put(f, "incident_energies", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, e22, NULL);
    put(f, "showers", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dx, good_x);
    H5Fclose(f);

    showers_with_value("s_energy_nan.h5", 1, NAN);
    showers_with_value("s_energy_inf.h5", 1, INFINITY);
    showers_with_value("s_energy_negative.h5", 1, -5e3f);
    showers_with_value("s_energy_zero.h5", 1, 0.f);
    showers_with_value("s_energy_1e30.h5", 1, 1e30f);
    showers_with_value("s_voxel_nan.h5", 0, NAN);
    showers_with_value("s_voxel_inf.h5", 0, -INFINITY);
    showers_with_value("s_voxel_negative.h5", 0, -1.f);

    /* the geometry attribute in every wrong shape */
    f = cc_file("s_geometry_string_array.h5", good_e, good_x);
    attr_str(f, "geometry", "ds2", 10000);
    H5Fclose(f);
    f = cc_file("s_geometry_int_array.h5", good_e, good_x);
    long long big[64] = {0};
    attr_ints(f, "geometry", big, 64);
    H5Fclose(f);
    f = cc_file("s_geometry_vlen_ds3.h5", good_e, good_x);
    attr_vlen(f, "geometry", "ds3");
    H5Fclose(f);
    f = cc_file("s_geometry_unknown_long.h5", good_e, good_x);
    char longname[5000];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    attr_str(f, "geometry", longname, 1);
    attr_str(f, "format", "calochallenge", 7);
    H5Fclose(f);

    /* Par04 per-energy files whose group names are no usable energy, or whose data is wrong */
    const char *bad_names[] = {"inf", "1e400", "-5", "0", "nan", "1e30"};
    hsize_t p4[4] = {2, 9, 16, 45};
    for (int k = 0; k < 6; k++) {
        char nm[64];
        snprintf(nm, sizeof nm, "s_par04_group_%s.h5", bad_names[k]);
        f = create(item("showers", nm));
        put(f, bad_names[k], H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 4, p4, NULL);
        H5Fclose(f);
    }
    f = create(item("showers", "s_par04_group_is_group.h5"));
    H5Gclose(H5Gcreate2(f, "10", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(f);
    f = create(item("showers", "s_par04_rank3.h5"));
    hsize_t p3[3] = {2, 9, 16};
    put(f, "10", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, p3, NULL);
    H5Fclose(f);
    f = create(item("showers", "s_par04_shapes_differ.h5"));
    hsize_t p4b[4] = {2, 9, 16, 44};
    put(f, "10", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 4, p4, NULL);
    put(f, "20", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 4, p4b, NULL);
    H5Fclose(f);
    f = create(item("showers", "s_par04_huge.h5"));
    hsize_t ph[4] = {1, 65536, 65536, 2}, pe[1] = {1};
    float one = 1e4f;
    put(f, "incident_energy", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, pe, &one);
    put_huge(f, "showers", 4, ph);
    H5Fclose(f);
    f = create(item("showers", "s_par04_wrong_grid.h5"));
    hsize_t pw[4] = {N, 9, 16, 44}, pn[1] = {N};
    put(f, "incident_energy", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, pn, good_e);
    put(f, "showers", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 4, pw, NULL);
    H5Fclose(f);
}

/* ---- models and checkpoints: copies of the good ones with one thing wrong ---- */

static hid_t model_copy(const char *src, const char *kind, const char *name)
{
    const char *p = item(kind, name);
    copy_bytes(src, p, -1);
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) die("cannot reopen a model copy");
    return f;
}

/* The config attribute's text: a variable-length UTF-8 string (what showervae writes) or a
 * fixed-length one (older files). */
static char *get_config(hid_t f)
{
    hid_t a = H5Aopen(f, "config", H5P_DEFAULT), t = H5Aget_type(a);
    char *s;
    if (H5Tis_variable_str(t) > 0) {
        char *p = NULL;
        H5Aread(a, t, &p);
        s = strdup(p ? p : "");
        H5free_memory(p);
    } else {
        size_t n = H5Tget_size(t);
        s = calloc(n + 1, 1);
        H5Aread(a, t, s);
    }
    H5Tclose(t);
    H5Aclose(a);
    return s;
}

/* Replaces the config text; crc = 1 also updates its checksum (so the parser is reached). */
static void set_config(hid_t f, const char *json, int crc)
{
    attr_str(f, "config", json, 1);
    if (crc) {
        unsigned int c = (unsigned int)crc32(crc32(0L, Z_NULL, 0), (const Bytef *)json, (uInt)strlen(json));
        attr(f, "config_crc32", H5T_STD_U32LE, H5T_NATIVE_UINT, 0, NULL, &c);
    }
}

/* The config with the first occurrence of from replaced by to. */
static char *edit(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    if (!p) die("config edit: pattern not found");
    char *o = malloc(strlen(s) + strlen(to) + 1);
    sprintf(o, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
    return o;
}

static void model_items(const char *model, const char *ckpt)
{
    copy_bytes(model, item("model", "m_truncated_half.h5"), file_size(model) / 2);
    copy_bytes(model, item("model", "m_truncated_4k.h5"), 4096);
    write_text(item("model", "m_empty.h5"), "");
    unlink(item("model", "m_fifo.h5"));
    mkfifo(path_buf, 0644);

    hid_t f = model_copy(model, "model", "m_format_array.h5");
    attr_str(f, "format", "showervae-model", 2000);
    H5Fclose(f);
    f = model_copy(model, "model", "m_format_int.h5");
    long long v = 7;
    del_attr(f, "format");
    attr_ints(f, "format", &v, 1);
    H5Fclose(f);
    f = model_copy(model, "model", "m_no_format.h5");
    del_attr(f, "format");
    H5Fclose(f);
    f = model_copy(model, "model", "m_version_string.h5");
    attr_str(f, "format_version", "2", 1);
    H5Fclose(f);
    long long vv[1000] = {2};
    f = model_copy(model, "model", "m_version_array.h5");
    attr_ints(f, "format_version", vv, 1000);
    H5Fclose(f);
    f = model_copy(model, "model", "m_version_1.h5");
    v = 1;
    attr_ints(f, "format_version", &v, 1);
    H5Fclose(f);
    f = model_copy(model, "model", "m_version_99.h5");
    v = 99;
    attr_ints(f, "format_version", &v, 1);
    H5Fclose(f);
    f = model_copy(model, "model", "m_crc_array.h5");
    attr_ints(f, "config_crc32", vv, 1000);
    H5Fclose(f);
    f = model_copy(model, "model", "m_config_array.h5");
    char *cfg = get_config(f);
    attr_str(f, "config", cfg, 40);
    H5Fclose(f);

    struct { const char *name, *from, *to; int crc; } ed[] = {
        {"m_config_not_json.h5", "{", "{{{", 1},
        {"m_config_edited_no_crc.h5", "\"latent\":\t", "\"latent\":\t1", 0},
        {"m_config_width_2p20.h5", "\"decoder\":\t[", "\"decoder\":\t[1048576, ", 1},
        {"m_config_width_65536.h5", "\"decoder\":\t[", "\"decoder\":\t[65536, ", 1},
        {"m_config_width_fraction.h5", "\"decoder\":\t[", "\"decoder\":\t[3.5, ", 1},
        {"m_config_voxels_0.h5", "\"voxels\":\t", "\"voxels\":\t0, \"y\": ", 1},
        {"m_config_latent_0.h5", "\"latent\":\t", "\"latent\":\t0, \"x\": ", 1},
        {"m_config_likelihood.h5", "\"likelihood\":\t\"", "\"likelihood\":\t\"poisson", 1},
        {"m_config_geometry_ds3.h5", "\"geometry\":\t\"ds2\"", "\"geometry\":\t\"ds3\"", 1},
        {"m_config_hit_power_2.h5", "\"threshold_mev\":", "\"hit_power\": 2, \"threshold_mev\":", 1},
        {"m_config_batch_huge.h5", "\"batch\":\t", "\"batch\":\t1e9, \"b\": ", 1}};
    for (unsigned k = 0; k < sizeof ed / sizeof *ed; k++) {
        f = model_copy(model, "model", ed[k].name);
        char *s = edit(cfg, ed[k].from, ed[k].to);
        set_config(f, s, ed[k].crc);
        free(s);
        H5Fclose(f);
    }
    f = model_copy(model, "model", "m_config_empty_object.h5");
    set_config(f, "{}", 1);
    H5Fclose(f);

    /* tensors */
    static float w[64 * 6481];
    hsize_t d2[2] = {64, 6480}, d2i[2] = {64, 6481};
    f = model_copy(model, "model", "m_tensor_wrong_shape.h5");
    put_checked(f, "/encoder/dense0/weight", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d2, w);
    H5Fclose(f);
    f = model_copy(model, "model", "m_tensor_int.h5");
    static int wi[64 * 6481];
    put_checked(f, "/encoder/dense0/weight", H5T_STD_I32LE, H5T_NATIVE_INT, 2, d2i, wi);
    H5Fclose(f);
    f = model_copy(model, "model", "m_tensor_no_checksum.h5");
    put(f, "/encoder/dense0/weight", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d2i, w);
    H5Fclose(f);
    f = model_copy(model, "model", "m_tensor_nan.h5");
    w[5] = NAN;
    put_checked(f, "/encoder/dense0/weight", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d2i, w);
    w[5] = 0;
    H5Fclose(f);
    f = model_copy(model, "model", "m_tensor_missing.h5");
    H5Ldelete(f, "/decoder/head/bias", H5P_DEFAULT);
    H5Fclose(f);

    /* the stored grid */
    float g45[45], e45[45 * 64];
    hsize_t d45 = 45, de45[2] = {45, 64}, d45x2[2] = {45, 2};
    for (int i = 0; i < 45; i++) g45[i] = 65536;
    f = model_copy(model, "model", "m_geometry_nr_65536.h5");
    put_checked(f, "/geometry/n_r", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &d45, g45);
    put_checked(f, "/geometry/n_alpha", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &d45, g45);
    H5Fclose(f);
    for (int i = 0; i < 45; i++) g45[i] = -9;
    f = model_copy(model, "model", "m_geometry_nr_negative.h5");
    put_checked(f, "/geometry/n_r", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &d45, g45);
    H5Fclose(f);
    for (int i = 0; i < 45 * 64; i++) e45[i] = (float)(5.0 * (i % 64)); /* ds2's counts, other edges */
    f = model_copy(model, "model", "m_geometry_not_ds2.h5");
    put_checked(f, "/geometry/r_edges", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, de45, e45);
    H5Fclose(f);
    f = model_copy(model, "model", "m_geometry_rank2.h5");
    static float g90[90];
    put_checked(f, "/geometry/n_r", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, d45x2, g90);
    H5Fclose(f);
    for (int i = 0; i < 45 * 64; i++) e45[i] = (float)(64 - i % 64);
    f = model_copy(model, "model", "m_geometry_edges_decreasing.h5");
    put_checked(f, "/geometry/r_edges", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, de45, e45);
    H5Fclose(f);
    free(cfg);

    /* checkpoint state */
    long long arr[16] = {0};
    hsize_t one = 1, many = 16, two = 2;
    struct { const char *name, *entry; long long value; int kind; } st[] = {
        {"c_step_array.h5", "/state/step", 0, 0},          {"c_epoch_negative.h5", "/state/epoch", -5, 1},
        {"c_step_2p62.h5", "/state/step", 1ll << 62, 1},   {"c_adam_t_mismatch.h5", "/state/adam_t", 12345, 1},
        {"c_batch_negative.h5", "/state/batch_in_epoch", -1, 1}, {"c_seed_string.h5", "/state/seed", 0, 2},
        {"c_step_no_checksum.h5", "/state/step", 3, 3},    {"c_epoch_float.h5", "/state/epoch", 0, 4},
        {"c_adam_m_short.h5", "/state/adam_m", 0, 5},      {"c_best_nan.h5", "/state/best_val", 0, 6}};
    for (unsigned k = 0; k < sizeof st / sizeof *st; k++) {
        f = model_copy(ckpt, "ckpt", st[k].name);
        if (st[k].kind == 0) put_checked(f, st[k].entry, H5T_STD_I64LE, H5T_NATIVE_LLONG, 1, &many, arr);
        if (st[k].kind == 1) put_checked(f, st[k].entry, H5T_STD_I64LE, H5T_NATIVE_LLONG, 1, &one, &st[k].value);
        if (st[k].kind == 2) {
            hid_t t = H5Tcopy(H5T_C_S1);
            H5Tset_size(t, 8);
            put_checked(f, st[k].entry, t, t, 1, &one, "12345678");
            H5Tclose(t);
        }
        if (st[k].kind == 3) put(f, st[k].entry, H5T_STD_I64LE, H5T_NATIVE_LLONG, 0, NULL, &st[k].value);
        if (st[k].kind == 4) {
            double x = 1.5;
            put_checked(f, st[k].entry, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &one, &x);
        }
        if (st[k].kind == 5) {
            float x[2] = {0, 0};
            put_checked(f, st[k].entry, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &two, x);
        }
        if (st[k].kind == 6) {
            double x = NAN;
            put_checked(f, st[k].entry, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &one, &x);
        }
        H5Fclose(f);
    }
    f = model_copy(ckpt, "resume", "c_model_not_checkpoint.h5");
    H5Ldelete(f, "/state", H5P_DEFAULT);
    H5Fclose(f);
}

/* ---- binning XML ---- */

static void xml_items(void)
{
    static const char *layer = "<Layer id=\"%d\" r_edges=\"0,4.65,9.3\" n_bin_alpha=\"%s\" />";
    char buf[8192], l[256];
    struct { const char *name, *alpha; } al[] = {{"x_alpha_1e9.xml", "1000000000"}, {"x_alpha_wraps_to_16.xml", "4294967312"},
                                                 {"x_alpha_negative.xml", "-16"}, {"x_alpha_text.xml", "sixteen"},
                                                 {"x_alpha_zero.xml", "0"}};
    for (unsigned k = 0; k < sizeof al / sizeof *al; k++) {
        snprintf(l, sizeof l, layer, 0, al[k].alpha);
        snprintf(buf, sizeof buf, "<Bins><Bin pid=\"11\" name=\"electron\">%s</Bin></Bins>", l);
        write_text(item("xml", al[k].name), buf);
    }
    write_text(item("xml", "x_billion_laughs.xml"),
               "<?xml version=\"1.0\"?><!DOCTYPE Bins [<!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">"
               "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
               "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
               "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>"
               "<Bins><Bin pid=\"11\" name=\"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\"><Layer id=\"0\" r_edges=\"0,1\" "
               "n_bin_alpha=\"1\" /></Bin></Bins>");
    write_text(item("xml", "x_external_entity.xml"),
               "<?xml version=\"1.0\"?><!DOCTYPE Bins [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
               "<Bins><Bin pid=\"11\" name=\"&x;\"><Layer id=\"0\" r_edges=\"0,1\" n_bin_alpha=\"1\" /></Bin></Bins>");
    write_text(item("xml", "x_no_voxels.xml"),
               "<Bins><Bin pid=\"11\" name=\"e\"><Layer id=\"0\" r_edges=\"0\" n_bin_alpha=\"1\" />"
               "<Layer id=\"1\" r_edges=\"0\" n_bin_alpha=\"1\" /></Bin></Bins>");
    write_text(item("xml", "x_edges_decreasing.xml"),
               "<Bins><Bin pid=\"11\" name=\"e\"><Layer id=\"0\" r_edges=\"0,5,3\" n_bin_alpha=\"1\" /></Bin></Bins>");
    write_text(item("xml", "x_edges_nan.xml"),
               "<Bins><Bin pid=\"11\" name=\"e\"><Layer id=\"0\" r_edges=\"0,nan,3\" n_bin_alpha=\"1\" /></Bin></Bins>");
    write_text(item("xml", "x_edges_negative.xml"),
               "<Bins><Bin pid=\"11\" name=\"e\"><Layer id=\"0\" r_edges=\"-1,0,3\" n_bin_alpha=\"1\" /></Bin></Bins>");
    char many[4096] = "<Bins><Bin pid=\"11\" name=\"e\"><Layer id=\"0\" r_edges=\"0";
    for (int i = 1; i <= 70; i++) snprintf(many + strlen(many), sizeof many - strlen(many), ",%d", i);
    strcat(many, "\" n_bin_alpha=\"1\" /></Bin></Bins>");
    write_text(item("xml", "x_too_many_edges.xml"), many);
    char layers[60000] = "<Bins><Bin pid=\"11\" name=\"e\">";
    for (int i = 0; i < 200; i++) {
        snprintf(l, sizeof l, layer, i, "1");
        strcat(layers, l);
    }
    strcat(layers, "</Bin></Bins>");
    write_text(item("xml", "x_too_many_layers.xml"), layers);
    write_text(item("xml", "x_ids_skip.xml"),
               "<Bins><Bin pid=\"11\" name=\"e\"><Layer id=\"0\" r_edges=\"0,1\" n_bin_alpha=\"1\" />"
               "<Layer id=\"5\" r_edges=\"0,1\" n_bin_alpha=\"1\" /></Bin></Bins>");
    write_text(item("xml", "x_no_r_edges.xml"), "<Bins><Bin pid=\"11\" name=\"e\"><Layer id=\"0\" n_bin_alpha=\"1\" /></Bin></Bins>");
    write_text(item("xml", "x_bin_without_layer.xml"), "<Bins><Bin pid=\"11\" name=\"e\"></Bin></Bins>");
    write_text(item("xml", "x_no_bins.xml"), "<Other/>");
    write_text(item("xml", "x_not_xml.xml"), "this is not < xml");
    write_text(item("xml", "x_empty.xml"), "");
    write_text(item("xml", "x_nul_bytes.xml"), "<Bins>");
    FILE *fx = fopen(path_buf, "ab");
    fputc(0, fx);
    fputs("</Bins>", fx);
    fclose(fx);
    unlink(item("xml", "x_fifo.xml"));
    mkfifo(path_buf, 0644);
    mkdir(item("xml", "x_directory.xml"), 0755);
}

int main(int argc, char **argv)
{
    if (argc != 5) die("usage: mkcorpus DIR GOOD_SHOWERS.h5 GOOD_MODEL.h5 GOOD_CHECKPOINT.h5");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    dir = argv[1];
    mkdir(dir, 0755);
    read_good(argv[2]);
    shower_items(argv[2]);
    model_items(argv[3], argv[4]);
    xml_items();
    return 0;
}
