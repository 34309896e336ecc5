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

int io_chunkread_all(hid_t ds, size_t rows, size_t cols, int threads, float *out, const char *path,
                     const base_monitor_t *mon)
{
    int shuf, defl;
    const size_t cr = handled(ds, cols, &shuf, &defl);
    if (!cr || rows == 0) return 0;
    threads = threads < 1 ? 1 : threads;
    const size_t cbytes = cr * cols * sizeof(float), nchunks = (rows + cr - 1) / cr, batch = 4 * (size_t)threads;
    stored_t *st = calloc(batch, sizeof *st);
    unsigned char *tmp = malloc(2 * cbytes * (size_t)threads); /* per thread: scratch and the edge chunk */
    int rc = st && tmp ? BASE_OK : base_error(BASE_ENOMEM, "%s: out of memory reading into memory", path);
    base_monitor_begin(mon, "reading into memory", "showers", rows);
    for (size_t c0 = 0; c0 < nchunks && rc == BASE_OK; c0 += batch) {
        const size_t nb = nchunks - c0 < batch ? nchunks - c0 : batch;
        for (size_t i = 0; i < nb && rc == BASE_OK; i++) rc = read_stored(ds, (c0 + i) * cr, &st[i], path);
        if (rc != BASE_OK) break;
        long bad = LONG_MAX; /* the first chunk of the batch that does not decode */
#pragma omp parallel num_threads(threads) reduction(min : bad)
        {
            struct libdeflate_decompressor *dz = libdeflate_alloc_decompressor();
            unsigned char *t = tmp + 2 * cbytes * (size_t)omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
            for (size_t i = 0; i < nb; i++) {
                const size_t r0 = (c0 + i) * cr, nr = rows - r0 < cr ? rows - r0 : cr;
                unsigned char *dst = nr == cr ? (unsigned char *)(out + r0 * cols) : t + cbytes;
                if (!dz || decode(&st[i], shuf, defl, dz, t, cbytes, dst) != 0) bad = bad < (long)i ? bad : (long)i;
                else if (nr < cr) memcpy(out + r0 * cols, dst, nr * cols * sizeof(float));
            }
            libdeflate_free_decompressor(dz);
        }
        if (bad != LONG_MAX)
            rc = base_error(BASE_EIO, "%s: the chunk at row %zu does not decode to %zu bytes (file damaged?)", path,
                            (c0 + (size_t)bad) * cr, cbytes);
        base_monitor_update(mon, (c0 + nb) * cr < rows ? (c0 + nb) * cr : rows, NULL);
    }
    for (size_t i = 0; st && i < batch; i++) free(st[i].raw);
    free(st);
    free(tmp);
    if (rc != BASE_OK) return rc;
    base_monitor_end(mon, rows);
    return 1;
}
