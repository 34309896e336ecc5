/* io/writer.c: atomic, appendable CaloChallenge files (see writer.h). */
#include "io/writer.h"

#include "io/atomic.h"
#include "io/dataset.h"
#include "io/h5.h"
#include "base/status.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

io_writer_opts_t io_writer_defaults(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return (io_writer_opts_t){.deflate = 4, .threads = cpus > 0 ? (int)cpus : 1};
}

/* HDF5 is not thread safe: while the pipe's workers write chunks, every call holds w->h5. */
static void h5_lock(io_writer_t *w)
{
    if (w->pipe) pthread_mutex_lock(&w->h5);
}

static void h5_unlock(io_writer_t *w)
{
    if (w->pipe) pthread_mutex_unlock(&w->h5);
}

/* An extendible (0 x cols) float32 dataset, chunked (rows x cols), deflate, shuffle first if asked. */
/* A (0, cols) dataset growing in rows, chunks of rows x cols, stored as type. */
static hid_t make_dset(hid_t f, const char *name, hid_t type, hsize_t cols, hsize_t rows, int deflate, int shuffle)
{
    hsize_t dims[2] = {0, cols}, maxd[2] = {H5S_UNLIMITED, cols}, chunk[2] = {rows, cols};
    hid_t sp = H5Screate_simple(2, dims, maxd), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    if (deflate > 0) {
        if (shuffle) H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, (unsigned)deflate);
    }
    hid_t ds = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return ds;
}

static int attr_str(io_writer_t *w, const char *name, const char *value)
{
    return io_h5_put_str(w->file, name, value) < 0 ? base_error(BASE_EIO, "%s: cannot write attribute %s", w->tmp, name)
                                                    : BASE_OK;
}

static int attr_int(io_writer_t *w, const char *name, int64_t value)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    if (H5Aexists(w->file, name) > 0) H5Adelete(w->file, name);
    hid_t a = H5Acreate2(w->file, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_INT64, &value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return e < 0 ? base_error(BASE_EIO, "%s: cannot write attribute %s", w->tmp, name) : BASE_OK;
}

int io_writer_attr_str(io_writer_t *w, const char *name, const char *value)
{
    h5_lock(w);
    int rc = attr_str(w, name, value);
    h5_unlock(w);
    return rc;
}

int io_writer_attr_int(io_writer_t *w, const char *name, int64_t value)
{
    h5_lock(w);
    int rc = attr_int(w, name, value);
    h5_unlock(w);
    return rc;
}

size_t io_writer_chunk_rows(const io_writer_opts_t *o, const phys_geometry_t *g)
{
    size_t rows = o->chunk_rows ? o->chunk_rows : (size_t)((1u << 20) / ((size_t)g->n_voxels * 4));
    return rows < 1 ? 1 : rows;
}

int io_writer_add_angles(io_writer_opts_t *o)
{
    if (o->n_extra >= IO_WRITER_MAX_EXTRA) return -1;
    int k = o->n_extra++;
    o->extra_name[k] = IO_ANGLE_DATASET;
    o->extra_cols[k] = 1;
    o->extra_f64[k] = 1;
    return k;
}

int io_writer_open(io_writer_t *w, const char *path, const phys_geometry_t *g, const io_writer_opts_t *o)
{
    io_writer_opts_t def = io_writer_defaults();
    if (!o) o = &def;
    memset(w, 0, sizeof *w);
    w->file = w->d_e = w->d_x = H5I_INVALID_HID;
    for (int k = 0; k < IO_WRITER_MAX_EXTRA; k++) w->d_extra[k] = H5I_INVALID_HID;
    if (o->n_extra < 0 || o->n_extra > IO_WRITER_MAX_EXTRA) return base_error(BASE_EINVAL, "too many extra datasets");
    io_h5_init();
    if (strlen(path) >= sizeof w->path) return base_error(BASE_EINVAL, "output path too long");
    snprintf(w->path, sizeof w->path, "%s", path);
    w->V = o->no_showers ? 0 : g->n_voxels;
    w->force = o->force;
    w->unsynced = o->unsynced;
    if (o->threads < 0 || o->threads > 1024) return base_error(BASE_EINVAL, "compression threads %d", o->threads);
    pthread_mutex_init(&w->h5, NULL);
    w->h5_ready = 1;
    BASE_TRY(io_atomic_begin(path, o->force, w->tmp, sizeof w->tmp));
    if (o->deflate < 0 || o->deflate > 9) return base_error(BASE_EINVAL, "deflate level %d not in 0-9", o->deflate);
    w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (w->file < 0) return base_error(BASE_EIO, "%s: cannot create (%s)", w->tmp, strerror(errno));
    size_t rows = io_writer_chunk_rows(o, g);
    w->chunk_rows = rows;
    /* the official datasets' types: energies float64 (the challenge's evaluate.py computes in
     * float64 and mixes them into its classifier inputs), showers float32 */
    w->d_e = make_dset(w->file, "incident_energies", H5T_IEEE_F64LE, 1, rows * 64, o->deflate, 1);
    int bad = w->d_e < 0;
    if (w->V) {
        w->d_x = make_dset(w->file, "showers", H5T_IEEE_F32LE, (hsize_t)w->V, rows, o->deflate, o->shower_shuffle);
        bad |= w->d_x < 0;
    }
    w->n_extra = o->n_extra;
    for (int k = 0; k < o->n_extra; k++) {
        w->extra_cols[k] = o->extra_cols[k];
        snprintf(w->extra_names[k], sizeof w->extra_names[k], "%s", o->extra_name[k]);
        hsize_t er = (1u << 20) / ((hsize_t)o->extra_cols[k] * 4);
        w->d_extra[k] =
            make_dset(w->file, o->extra_name[k], o->extra_f64[k] ? H5T_IEEE_F64LE : H5T_IEEE_F32LE,
                      (hsize_t)o->extra_cols[k], er ? er : 1, o->deflate, 1);
        bad |= w->d_extra[k] < 0;
    }
    int rc = bad ? base_error(BASE_EIO, "%s: cannot create datasets", w->tmp) : BASE_OK;
    if (rc == BASE_OK) rc = io_writer_attr_str(w, "geometry", g->name);
    if (rc == BASE_OK) rc = io_writer_attr_int(w, "n_voxels", g->n_voxels);
    if (rc == BASE_OK) rc = io_writer_attr_str(w, "units", "MeV");
    if (rc == BASE_OK) rc = io_writer_attr_str(w, "format", o->format ? o->format : "CaloChallenge 2022");
    if (rc == BASE_OK && o->producer) rc = io_writer_attr_str(w, "producer", o->producer);
    if (rc == BASE_OK && w->V && o->threads > 0) {
        io_chunkpipe_codec_t codec = {.level = o->deflate, .shuffle = o->shower_shuffle, .zlib = o->zlib};
        rc = io_chunkpipe_open(&w->pipe, w->d_x, rows, (size_t)w->V, &codec, o->threads, &w->h5);
    }
    if (rc != BASE_OK) io_writer_abort(w);
    return rc;
}

/* Appends n rows of cols floats to a (rows, cols) extendible dataset. */
static int append_at(io_writer_t *w, hid_t ds, size_t at, const float *x, size_t n, hsize_t cols)
{
    hsize_t dims[2] = {at + n, cols}, start[2] = {at, 0}, cnt[2] = {n, cols};
    if (H5Dset_extent(ds, dims) < 0) return base_error(BASE_EIO, "%s: cannot extend dataset", w->tmp);
    hid_t fs = H5Dget_space(ds), ms = H5Screate_simple(2, cnt, NULL);
    herr_t e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL);
    if (e >= 0) e = H5Dwrite(ds, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, x);
    H5Sclose(ms);
    H5Sclose(fs);
    return e < 0 ? base_error(BASE_EIO, "%s: write failed (disk full?)", w->tmp) : BASE_OK;
}

/* Appends n rows of cols floats to a (rows, cols) extendible dataset at row w->n. */
static int append(io_writer_t *w, hid_t ds, const float *x, size_t n, hsize_t cols)
{
    return append_at(w, ds, w->n, x, n, cols);
}

int io_writer_append(io_writer_t *w, const float *E_mev, const float *showers, size_t n)
{
    return io_writer_append_ex(w, E_mev, showers, NULL, n);
}

/* Validates row i; returns BASE_OK or the error naming the row and the value. */
static int check_row(const io_writer_t *w, const float *E_mev, const float *showers, const float *const *extra,
                     size_t i)
{
    if (!(E_mev[i] > 0) || !isfinite(E_mev[i]))
        return base_error(BASE_EINVAL, "%s: incident energy %g of row %zu", w->path, E_mev[i], w->n + i);
    for (size_t v = 0; v < (size_t)w->V; v++) {
        float e = showers[i * w->V + v];
        if (!(e >= 0) || !isfinite(e))
            return base_error(BASE_EINVAL, "%s: row %zu voxel %zu has energy %g", w->path, w->n + i, v, e);
    }
    for (int k = 0; k < w->n_extra; k++)
        for (int j = 0; j < w->extra_cols[k]; j++)
            if (!isfinite(extra[k][i * w->extra_cols[k] + j]))
                return base_error(BASE_EINVAL, "%s: row %zu holds NaN/Inf", w->path, w->n + i);
    return BASE_OK;
}

/* Validates n rows (positive finite energies, finite non-negative voxels, finite extras) on
 * all threads: a batch of 10000 ds2 showers is 259 MB to scan. The error names the first bad
 * row. */
static int check_rows(const io_writer_t *w, const float *E_mev, const float *showers, const float *const *extra,
                      size_t n)
{
    size_t first_bad = n;
#pragma omp parallel for schedule(static) reduction(min : first_bad)
    for (size_t i = 0; i < n; i++) {
        int ok = E_mev[i] > 0 && isfinite(E_mev[i]);
        const float *x = showers + i * (size_t)w->V;
        for (size_t v = 0; v < (size_t)w->V; v++) ok &= x[v] >= 0 && x[v] <= FLT_MAX; /* NaN and Inf fail */
        for (int k = 0; k < w->n_extra; k++)
            for (int j = 0; j < w->extra_cols[k]; j++) ok &= isfinite(extra[k][i * w->extra_cols[k] + j]);
        if (!ok && i < first_bad) first_bad = i;
    }
    return first_bad < n ? check_row(w, E_mev, showers, extra, first_bad) : BASE_OK;
}

/* Appends; borrow: the pipe reads the showers in place (see io_writer_append_async). */
static int append_rows(io_writer_t *w, const float *E_mev, const float *showers, const float *const *extra,
                       size_t n, int borrow)
{
    if (w->file < 0) return base_error(BASE_EINVAL, "writer is not open");
    BASE_TRY(check_rows(w, E_mev, showers, extra, n));
    if (w->pipe) BASE_TRY(io_chunkpipe_wait_borrowed(w->pipe)); /* the previous async batch is stored */
    if (n == 0) return BASE_OK;
    h5_lock(w);
    int rc = append(w, w->d_e, E_mev, n, 1);
    if (rc == BASE_OK && w->V && !w->pipe) rc = append(w, w->d_x, showers, n, (hsize_t)w->V);
    if (rc == BASE_OK && w->pipe) { /* extend; the pipe stores the rows */
        hsize_t dims[2] = {w->n + n, (hsize_t)w->V};
        if (H5Dset_extent(w->d_x, dims) < 0) rc = base_error(BASE_EIO, "%s: cannot extend dataset", w->tmp);
    }
    for (int k = 0; k < w->n_extra && rc == BASE_OK; k++)
        rc = append(w, w->d_extra[k], extra[k], n, (hsize_t)w->extra_cols[k]);
    h5_unlock(w);
    if (rc == BASE_OK && w->pipe) rc = io_chunkpipe_push(w->pipe, showers, n, borrow);
    if (rc == BASE_OK) w->n += n;
    return rc;
}

int io_writer_append_ex(io_writer_t *w, const float *E_mev, const float *showers, const float *const *extra,
                        size_t n)
{
    return append_rows(w, E_mev, showers, extra, n, 0);
}

int io_writer_append_async(io_writer_t *w, const float *E_mev, const float *showers, size_t n)
{
    return append_rows(w, E_mev, showers, NULL, n, 1);
}

int io_writer_append_async_ex(io_writer_t *w, const float *E_mev, const float *showers, const float *const *extra,
                              size_t n)
{
    return append_rows(w, E_mev, showers, extra, n, 1);
}

/* The n rows of the (n, cols) dataset name of file f appended to dst from row w->n on, read
 * and written in blocks of about 16 MiB (an extra dataset may be as wide as the showers). */
static int copy_rows(io_writer_t *w, hid_t f, const char *name, const char *path, hid_t dst, size_t n, size_t cols)
{
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0) return base_error(BASE_EIO, "%s: shard lacks dataset %s", path, name);
    const size_t B = (16u << 20) / (cols * sizeof(float)) + 1;
    float *x = malloc((n < B ? (n ? n : 1) : B) * cols * sizeof(float));
    int rc = x ? BASE_OK : base_error(BASE_ENOMEM, "out of memory");
    hid_t fs = H5Dget_space(ds);
    for (size_t r = 0; r < n && rc == BASE_OK; r += B) {
        hsize_t k = n - r < B ? n - r : B, start[2] = {r, 0}, cnt[2] = {k, cols};
        hid_t ms = H5Screate_simple(2, cnt, NULL);
        herr_t e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL);
        if (e >= 0) e = H5Dread(ds, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, x);
        H5Sclose(ms);
        rc = e < 0 ? base_error(BASE_EIO, "%s: cannot read %s", path, name) : append_at(w, dst, w->n + r, x, k, cols);
    }
    H5Sclose(fs);
    H5Dclose(ds);
    free(x);
    return rc;
}

/* The shard's showers: its chunks copied into w's showers from row w->n on. */
static int copy_chunks(io_writer_t *w, hid_t src, size_t n, const char *path)
{
    hid_t dcpl = H5Dget_create_plist(src);
    hsize_t ch[2] = {0, 0};
    int ok = dcpl >= 0 && H5Pget_chunk(dcpl, 2, ch) == 2 && ch[0] == w->chunk_rows && ch[1] == (hsize_t)w->V;
    if (dcpl >= 0) H5Pclose(dcpl);
    if (!ok) return base_error(BASE_EIO, "%s: shard's chunks are not (%zu, %d)", path, w->chunk_rows, w->V);
    hsize_t dims[2] = {w->n + n, (hsize_t)w->V};
    if (H5Dset_extent(w->d_x, dims) < 0) return base_error(BASE_EIO, "%s: cannot extend dataset", w->tmp);
    void *buf = NULL;
    size_t cap = 0;
    int rc = BASE_OK;
    for (hsize_t r = 0; r < n && rc == BASE_OK; r += w->chunk_rows) {
        hsize_t at[2] = {r, 0}, to[2] = {w->n + r, 0}, size = 0;
        uint32_t mask = 0;
        if (H5Dget_chunk_storage_size(src, at, &size) < 0 || size == 0) {
            rc = base_error(BASE_EIO, "%s: chunk at row %llu missing", path, (unsigned long long)r);
            break;
        }
        if (size > cap) {
            void *b = realloc(buf, size);
            if (!b) {
                rc = base_error(BASE_ENOMEM, "out of memory");
                break;
            }
            buf = b, cap = size;
        }
        if (H5Dread_chunk(src, H5P_DEFAULT, at, &mask, buf) < 0)
            rc = base_error(BASE_EIO, "%s: cannot read the chunk at row %llu", path, (unsigned long long)r);
        else if (H5Dwrite_chunk(w->d_x, H5P_DEFAULT, mask, to, size, buf) < 0)
            rc = base_error(BASE_EIO, "%s: write failed (disk full?)", w->tmp);
    }
    free(buf);
    return rc;
}

int io_writer_append_shard(io_writer_t *w, const char *path)
{
    if (w->file < 0 || w->pipe || !w->V || w->n % w->chunk_rows)
        return base_error(BASE_EINVAL, "%s: a shard joins only after whole chunks, without compression threads", path);
    hid_t f = io_h5_open_ro(path, "shard");
    if (f < 0) return BASE_EIO;
    hid_t src = H5Dopen2(f, "showers", H5P_DEFAULT);
    hsize_t d[2] = {0, 0};
    hid_t sp = src < 0 ? -1 : H5Dget_space(src);
    int rk = sp < 0 ? -1 : H5Sget_simple_extent_dims(sp, d, NULL);
    if (sp >= 0) H5Sclose(sp);
    int rc = rk == 2 && d[1] == (hsize_t)w->V ? BASE_OK
                                                : base_error(BASE_EIO, "%s: shard has no (N, %d) showers", path, w->V);
    const size_t n = (size_t)d[0];
    if (rc == BASE_OK) rc = copy_rows(w, f, "incident_energies", path, w->d_e, n, 1);
    for (int k = 0; k < w->n_extra && rc == BASE_OK; k++)
        rc = copy_rows(w, f, w->extra_names[k], path, w->d_extra[k], n, (size_t)w->extra_cols[k]);
    if (rc == BASE_OK) rc = copy_chunks(w, src, n, path);
    if (rc == BASE_OK) w->n += n;
    if (src >= 0) H5Dclose(src);
    H5Fclose(f);
    return rc;
}

void io_writer_stats(const io_writer_t *w, io_chunkpipe_stats_t *s)
{
    memset(s, 0, sizeof *s);
    if (w->pipe) io_chunkpipe_stats(w->pipe, s);
}

static void close_handles(io_writer_t *w, int *ok)
{
    io_chunkpipe_free(w->pipe); /* workers stopped before HDF5 is touched without the lock */
    w->pipe = NULL;
    if (w->d_e >= 0 && H5Dclose(w->d_e) < 0) *ok = 0;
    if (w->d_x >= 0 && H5Dclose(w->d_x) < 0) *ok = 0;
    for (int k = 0; k < w->n_extra; k++)
        if (w->d_extra[k] >= 0 && H5Dclose(w->d_extra[k]) < 0) *ok = 0;
    if (w->file >= 0 && H5Fclose(w->file) < 0) *ok = 0;
    w->d_e = w->d_x = w->file = H5I_INVALID_HID;
    w->n_extra = 0;
    if (w->h5_ready) pthread_mutex_destroy(&w->h5);
    w->h5_ready = 0;
}

int io_writer_close(io_writer_t *w)
{
    if (w->file < 0) return base_error(BASE_EINVAL, "writer is not open");
    int ok = 1;
    if (w->pipe && io_chunkpipe_finish(w->pipe) != BASE_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", base_last_error());
        io_writer_abort(w);
        return base_error(BASE_EIO, "%s: %s; nothing written", w->path, msg);
    }
    close_handles(w, &ok);
    if (!ok) {
        unlink(w->tmp);
        return base_error(BASE_EIO, "%s: closing the file failed (disk full?); nothing written", w->path);
    }
    return w->unsynced ? io_atomic_commit_unsynced(w->tmp, w->path, w->force) : io_atomic_commit(w->tmp, w->path, w->force);
}

void io_writer_abort(io_writer_t *w)
{
    if (!w) return;
    int ok = 1;
    if (w->file > 0 || w->d_e > 0 || w->d_x > 0) {
        close_handles(w, &ok);
        unlink(w->tmp);
    }
}
