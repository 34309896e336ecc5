/* io/chunkread.c: whole-dataset reads with chunks inflated in parallel (see chunkread.h). */
#include "io/chunkread.h"
#include "base/status.h"

#include <libdeflate.h>
#include <limits.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned char *raw; /* the stored bytes (owned, grown as needed) */
    size_t size, cap;
    uint32_t mask;      /* bit i: filter i was skipped */
} stored_t;

/* Positions of shuffle and deflate in ds's pipeline (-1: absent); 1 if the pipeline is one
 * this reader decodes, else 0. */
static int pipeline(hid_t dcpl, int *shuf, int *defl)
{
    int n = H5Pget_nfilters(dcpl);
    *shuf = *defl = -1;
    if (n < 0 || n > 2) return 0;
    for (int i = 0; i < n; i++) {
        unsigned flags, cd[8], conf;
        size_t nc = 8;
        H5Z_filter_t f = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nc, cd, 0, NULL, &conf);
        if (f == H5Z_FILTER_SHUFFLE && i == 0) *shuf = i;
        else if (f == H5Z_FILTER_DEFLATE && i == n - 1) *defl = i;
        else return 0;
    }
    return 1;
}

/* Chunk rows of ds when it is a layout this reader handles, else 0. */
static size_t handled(hid_t ds, size_t cols, int *shuf, int *defl)
{
    hid_t t = H5Dget_type(ds), dcpl = H5Dget_create_plist(ds);
    hsize_t chunk[2] = {0, 0};
    int ok = t >= 0 && dcpl >= 0 && H5Tequal(t, H5T_IEEE_F32LE) > 0 && H5Pget_layout(dcpl) == H5D_CHUNKED &&
             H5Pget_chunk(dcpl, 2, chunk) == 2 && chunk[1] == cols && chunk[0] > 0 && pipeline(dcpl, shuf, defl);
    if (t >= 0) H5Tclose(t);
    if (dcpl >= 0) H5Pclose(dcpl);
    return ok ? (size_t)chunk[0] : 0;
}

/* Reads the stored bytes of the chunk at row r0 (size 0: never written). */
static int read_stored(hid_t ds, size_t r0, stored_t *s, const char *path)
{
    hsize_t off[2] = {r0, 0}, nb = 0;
    if (H5Dget_chunk_storage_size(ds, off, &nb) < 0)
        return base_error(BASE_EIO, "%s: cannot locate the chunk at row %zu (file truncated or damaged?)", path, r0);
    s->size = (size_t)nb;
    if (!nb) return BASE_OK;
    if (s->size > s->cap) {
        unsigned char *p = realloc(s->raw, s->size);
        if (!p) return base_error(BASE_ENOMEM, "%s: out of memory for a %zu-byte chunk", path, s->size);
        s->raw = p, s->cap = s->size;
    }
    if (H5Dread_chunk(ds, H5P_DEFAULT, off, &s->mask, s->raw) < 0)
        return base_error(BASE_EIO, "%s: cannot read the chunk at row %zu (file truncated or damaged?)", path, r0);
    return BASE_OK;
}

/* Stored bytes -> dst (cbytes): inflate and unshuffle as the mask says, tmp: cbytes of scratch.
 * 0 on success, -1 when the bytes do not decode to exactly cbytes. */
static int decode(const stored_t *s, int shuf, int defl, struct libdeflate_decompressor *dz, unsigned char *tmp,
                  size_t cbytes, unsigned char *dst)
{
    if (!s->size) {
        memset(dst, 0, cbytes);
        return 0;
    }
    const int inflate = defl >= 0 && !(s->mask >> defl & 1), unshuffle = shuf >= 0 && !(s->mask >> shuf & 1);
    const unsigned char *a = s->raw;
    if (inflate) {
        size_t got = 0;
        unsigned char *to = unshuffle ? tmp : dst;
        if (libdeflate_zlib_decompress(dz, s->raw, s->size, to, cbytes, &got) != LIBDEFLATE_SUCCESS || got != cbytes)
            return -1;
        if (!unshuffle) return 0;
        a = tmp;
    } else if (s->size != cbytes) {
        return -1;
    }
    if (!unshuffle) {
        memcpy(dst, a, cbytes);
        return 0;
    }
    const size_t n = cbytes / 4; /* byte j of element i was stored at j n + i */
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < 4; j++) dst[4 * i + j] = a[j * n + i];
    return 0;
}

size_t io_chunkread_rows(hid_t ds, size_t cols)
{
    int shuf, defl;
    return handled(ds, cols, &shuf, &defl);
}

/* Reads and decodes n <= 4 x threads chunks (first rows r0[i]) into out + i x cr x cols. */
static int batch(hid_t ds, size_t rows, size_t cols, size_t cr, int shuf, int defl, int threads, stored_t *st,
                 unsigned char *tmp, const size_t *r0, size_t n, float *out, const char *path)
{
    const size_t cbytes = cr * cols * sizeof(float);
    for (size_t i = 0; i < n; i++) BASE_TRY(read_stored(ds, r0[i], &st[i], path));
    long bad = LONG_MAX; /* the first chunk of the batch that does not decode */
#pragma omp parallel num_threads(threads) reduction(min : bad)
    {
        struct libdeflate_decompressor *dz = libdeflate_alloc_decompressor();
        unsigned char *t = tmp + 2 * cbytes * (size_t)omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < n; i++) {
            const size_t nr = rows - r0[i] < cr ? rows - r0[i] : cr;
            float *o = out + i * cr * cols;
            unsigned char *dst = nr == cr ? (unsigned char *)o : t + cbytes;
            if (!dz || decode(&st[i], shuf, defl, dz, t, cbytes, dst) != 0) bad = bad < (long)i ? bad : (long)i;
            else if (nr < cr) memcpy(o, dst, nr * cols * sizeof(float));
        }
        libdeflate_free_decompressor(dz);
    }
    if (bad != LONG_MAX)
        return base_error(BASE_EIO, "%s: the chunk at row %zu does not decode to %zu bytes (file damaged?)", path,
                          r0[bad], cbytes);
    return BASE_OK;
}

/* Reads chunks first[0..n) in batches of 4 x threads; per batch, out advances and the
 * monitor (if any) is told how many rows are done. */
static int chunks(hid_t ds, size_t rows, size_t cols, int threads, const size_t *first, size_t n, float *out,
                  const char *path, const base_monitor_t *mon)
{
    int shuf, defl;
    const size_t cr = handled(ds, cols, &shuf, &defl);
    if (!cr) return 0;
    threads = threads < 1 ? 1 : threads;
    const size_t cbytes = cr * cols * sizeof(float), nb = 4 * (size_t)threads;
    for (size_t i = 0; i < n; i++)
        if (first[i] % cr || first[i] >= rows)
            return base_error(BASE_EINVAL, "%s: row %zu does not start a chunk of %zu rows", path, first[i], cr);
    stored_t *st = calloc(nb, sizeof *st);
    unsigned char *tmp = malloc(2 * cbytes * (size_t)threads); /* per thread: scratch and the edge chunk */
    int rc = st && tmp ? BASE_OK : base_error(BASE_ENOMEM, "%s: out of memory reading chunks", path);
    for (size_t c0 = 0; c0 < n && rc == BASE_OK; c0 += nb) {
        const size_t k = n - c0 < nb ? n - c0 : nb;
        rc = batch(ds, rows, cols, cr, shuf, defl, threads, st, tmp, first + c0, k, out + c0 * cr * cols, path);
        size_t done = (c0 + k) * cr;
        base_monitor_update(mon, done < rows ? done : rows, NULL);
    }
    for (size_t i = 0; st && i < nb; i++) free(st[i].raw);
    free(st);
    free(tmp);
    return rc == BASE_OK ? 1 : rc;
}

int io_chunkread_chunks(hid_t ds, size_t rows, size_t cols, int threads, const size_t *first, size_t n, float *out,
                        const char *path)
{
    return chunks(ds, rows, cols, threads, first, n, out, path, NULL);
}

int io_chunkread_all(hid_t ds, size_t rows, size_t cols, int threads, float *out, const char *path,
                     const base_monitor_t *mon)
{
    const size_t cr = io_chunkread_rows(ds, cols);
    if (!cr || rows == 0) return 0;
    const size_t n = (rows + cr - 1) / cr;
    size_t *first = malloc(n * sizeof *first);
    if (!first) return base_error(BASE_ENOMEM, "%s: out of memory reading into memory", path);
    for (size_t i = 0; i < n; i++) first[i] = i * cr;
    base_monitor_begin(mon, "reading into memory", "showers", rows);
    int rc = chunks(ds, rows, cols, threads, first, n, out, path, mon);
    free(first);
    if (rc == 1) base_monitor_end(mon, rows);
    return rc;
}
