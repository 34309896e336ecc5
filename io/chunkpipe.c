/* io/chunkpipe.c: parallel shuffle + deflate and direct chunk writes (see chunkpipe.h). */
#include "io/chunkpipe.h"
#include "io/h5.h"
#include "base/clock.h"

#include "io/dataset.h"
#include "base/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>
#include <zlib.h>

typedef struct {
    float *raw; /* (rows, cols): rows assembled by copying */
    int in_use; /* being filled, queued or stored */
} slot_t;

/* one chunk to store: from a slot, or read in place from the caller's rows (borrowed) */
typedef struct job {
    const float *src;
    size_t index; /* chunk number in the dataset */
    int slot;     /* -1: borrowed */
    struct job *next;
} job_t;

typedef struct {
    struct io_chunkpipe *p;
    unsigned char *tmp, *out; /* shuffled bytes, compressed chunk (out_cap bytes) */
    size_t out_cap;
    struct libdeflate_compressor *ld; /* libdeflate's state at the pipe's level (NULL: zlib) */
    pthread_t th;
} worker_t;

struct io_chunkpipe {
    hid_t ds;
    size_t rows, cols, raw_bytes;
    io_chunkpipe_codec_t codec;
    int n_slot, n_thread, n_w; /* slots, threads started, workers allocated */
    pthread_mutex_t mu, *h5;
    pthread_cond_t cv_work, cv_free;
    slot_t *slot;
    worker_t *w;
    job_t *head, *tail; /* FIFO of chunks to store */
    int busy;           /* queued or being stored */
    int borrowed;       /* of which read the caller's memory */
    int fill;           /* slot being filled (-1: none) */
    size_t fill_rows, next_index;
    int stop, failed;
    char err[256];
    io_chunkpipe_stats_t st;
};

/* HDF5's shuffle filter for 4-byte elements: plane j holds byte j of every element. */
static void shuffle4(const unsigned char *in, unsigned char *out, size_t n)
{
    for (size_t e = 0; e < n; e++) {
        out[e] = in[4 * e];
        out[n + e] = in[4 * e + 1];
        out[2 * n + e] = in[4 * e + 2];
        out[3 * n + e] = in[4 * e + 3];
    }
}

/* Compresses (or not) and stores job j with worker w's buffers; returns 0 or fills p->err. */
static int store(io_chunkpipe_t *p, worker_t *w, const job_t *j, double *t_comp, double *t_write)
{
    double t0 = base_now();
    const void *buf = j->src;
    size_t size = p->raw_bytes;
    if (p->codec.level > 0) {
        const unsigned char *in = (const unsigned char *)j->src;
        if (p->codec.shuffle) shuffle4(in, w->tmp, p->raw_bytes / 4), in = w->tmp;
        if (w->ld) {
            size = libdeflate_zlib_compress(w->ld, in, p->raw_bytes, w->out, w->out_cap);
            if (size == 0) {
                snprintf(p->err, sizeof p->err, "libdeflate: chunk %zu does not fit its bound", j->index);
                return -1;
            }
        } else {
            uLongf len = (uLongf)w->out_cap;
            int z = compress2(w->out, &len, in, (uLong)p->raw_bytes, p->codec.level);
            if (z != Z_OK) {
                snprintf(p->err, sizeof p->err, "zlib compress2 failed (%d) on chunk %zu", z, j->index);
                return -1;
            }
            size = len;
        }
        buf = w->out;
    }
    double t1 = base_now();
    hsize_t off[2] = {(hsize_t)(j->index * p->rows), 0};
    pthread_mutex_lock(p->h5);
    herr_t e = H5Dwrite_chunk(p->ds, H5P_DEFAULT, 0, off, size, buf);
    if (e < 0) H5Eclear2(H5E_DEFAULT);
    pthread_mutex_unlock(p->h5);
    *t_comp = t1 - t0;
    *t_write = base_now() - t1;
    if (e < 0) snprintf(p->err, sizeof p->err, "direct chunk write of chunk %zu failed (disk full?)", j->index);
    return e < 0 ? -1 : 0;
}

static void *worker(void *arg)
{
    worker_t *w = arg;
    io_chunkpipe_t *p = w->p;
    io_h5_quiet(); /* thread-safe HDF5 keeps an error stack per thread: errors come back as codes */
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && !p->head) pthread_cond_wait(&p->cv_work, &p->mu);
        if (!p->head) break; /* stopping and nothing left */
        job_t *j = p->head;
        p->head = j->next;
        if (!p->head) p->tail = NULL;
        int skip = p->failed; /* after a failure, chunks are only released */
        pthread_mutex_unlock(&p->mu);
        double tc = 0, tw = 0;
        int bad = skip ? 0 : store(p, w, j, &tc, &tw);
        pthread_mutex_lock(&p->mu);
        if (bad) p->failed = 1;
        p->st.compress_s += tc;
        p->st.write_s += tw;
        if (j->slot >= 0) p->slot[j->slot].in_use = 0;
        else p->borrowed--;
        p->busy--;
        free(j);
        pthread_cond_broadcast(&p->cv_free);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int io_chunkpipe_open(io_chunkpipe_t **out, hid_t ds, size_t chunk_rows, size_t cols, const io_chunkpipe_codec_t *codec,
                      int threads, pthread_mutex_t *h5lock)
{
    *out = NULL;
    const int deflate = codec->level;
    if (threads < 1 || chunk_rows < 1 || cols < 1 || deflate < 0 || deflate > 9)
        return base_error(BASE_EINVAL, "chunk pipe: bad arguments (threads %d, deflate %d)", threads, deflate);
    io_chunkpipe_t *p = calloc(1, sizeof *p);
    if (!p) return base_error(BASE_ENOMEM, "chunk pipe: out of memory");
    p->ds = ds, p->rows = chunk_rows, p->cols = cols, p->raw_bytes = chunk_rows * cols * 4;
    p->codec = *codec, p->h5 = h5lock, p->fill = -1;
    p->n_slot = 2 * threads + 2;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_free, NULL);
    p->slot = calloc((size_t)p->n_slot, sizeof *p->slot);
    p->w = calloc((size_t)threads, sizeof *p->w);
    p->n_w = p->w ? threads : 0;
    int ok = p->slot && p->w;
    for (int i = 0; ok && i < p->n_slot; i++) ok = (p->slot[i].raw = malloc(p->raw_bytes)) != NULL;
    for (int i = 0; ok && i < threads && deflate > 0; i++) {
        worker_t *w = &p->w[i];
        /* libdeflate's levels 1-9 are zlib's scale (it adds 10-12); if it cannot start, zlib */
        if (!codec->zlib) w->ld = libdeflate_alloc_compressor(deflate);
        w->out_cap = w->ld ? libdeflate_zlib_compress_bound(w->ld, p->raw_bytes) : compressBound((uLong)p->raw_bytes);
        w->tmp = malloc(p->raw_bytes);
        w->out = malloc(w->out_cap);
        ok = ok && w->tmp && w->out;
    }
    for (; ok && p->n_thread < threads; p->n_thread++) {
        p->w[p->n_thread].p = p;
        ok = pthread_create(&p->w[p->n_thread].th, NULL, worker, &p->w[p->n_thread]) == 0;
    }
    if (!ok) {
        io_chunkpipe_free(p);
        return base_error(BASE_ENOMEM, "chunk pipe: cannot allocate chunk buffers or start %d threads", threads);
    }
    *out = p;
    return BASE_OK;
}

static int failure(io_chunkpipe_t *p) { return base_error(BASE_EIO, "%s", p->err); }

/* Queues chunk src (slot >= 0, or -1: the caller's memory) as the next chunk (mu held). */
static int enqueue(io_chunkpipe_t *p, const float *src, int slot)
{
    job_t *j = malloc(sizeof *j);
    if (!j) return -1;
    *j = (job_t){.src = src, .index = p->next_index++, .slot = slot};
    if (p->tail) p->tail->next = j;
    else p->head = j;
    p->tail = j;
    p->busy++;
    if (slot < 0) p->borrowed++;
    pthread_cond_signal(&p->cv_work);
    return 0;
}

static int enqueue_fill(io_chunkpipe_t *p)
{
    int rc = enqueue(p, p->slot[p->fill].raw, p->fill);
    if (rc) p->slot[p->fill].in_use = 0; /* not queued: the slot is free again */
    p->fill = -1;
    p->fill_rows = 0;
    return rc;
}

/* A free slot to fill (mu held); waits while all are busy. */
static void take_slot(io_chunkpipe_t *p)
{
    double t0 = base_now();
    for (;;) {
        for (int i = 0; i < p->n_slot; i++)
            if (!p->slot[i].in_use) {
                p->slot[i].in_use = 1;
                p->fill = i;
                p->st.wait_s += base_now() - t0;
                return;
            }
        pthread_cond_wait(&p->cv_free, &p->mu);
    }
}

int io_chunkpipe_push(io_chunkpipe_t *p, const float *rows, size_t n, int borrow)
{
    pthread_mutex_lock(&p->mu);
    int oom = 0;
    while (n > 0 && !p->failed && !oom) {
        if (borrow && p->fill < 0 && n >= p->rows) { /* a whole chunk read in place */
            oom = enqueue(p, rows, -1);
            rows += p->rows * p->cols, n -= p->rows;
            continue;
        }
        if (p->fill < 0) take_slot(p);
        size_t k = p->rows - p->fill_rows < n ? p->rows - p->fill_rows : n;
        pthread_mutex_unlock(&p->mu); /* copy without the lock: the slot is ours */
        memcpy(p->slot[p->fill].raw + p->fill_rows * p->cols, rows, k * p->cols * 4);
        pthread_mutex_lock(&p->mu);
        p->fill_rows += k, rows += k * p->cols, n -= k;
        if (p->fill_rows == p->rows) oom = enqueue_fill(p);
    }
    int bad = p->failed;
    pthread_mutex_unlock(&p->mu);
    if (oom) return base_error(BASE_ENOMEM, "chunk pipe: out of memory");
    return bad ? failure(p) : BASE_OK;
}

int io_chunkpipe_wait_borrowed(io_chunkpipe_t *p)
{
    pthread_mutex_lock(&p->mu);
    double t0 = base_now();
    while (p->borrowed > 0) pthread_cond_wait(&p->cv_free, &p->mu);
    p->st.wait_s += base_now() - t0;
    int bad = p->failed;
    pthread_mutex_unlock(&p->mu);
    return bad ? failure(p) : BASE_OK;
}

int io_chunkpipe_finish(io_chunkpipe_t *p)
{
    pthread_mutex_lock(&p->mu);
    if (p->fill >= 0 && p->fill_rows > 0) {
        memset(p->slot[p->fill].raw + p->fill_rows * p->cols, 0, (p->rows - p->fill_rows) * p->cols * 4);
        if (enqueue_fill(p)) p->failed = 1, snprintf(p->err, sizeof p->err, "out of memory");
    }
    double t0 = base_now();
    while (p->busy > 0) pthread_cond_wait(&p->cv_free, &p->mu);
    p->st.wait_s += base_now() - t0;
    int bad = p->failed;
    pthread_mutex_unlock(&p->mu);
    return bad ? failure(p) : BASE_OK;
}

void io_chunkpipe_stats(const io_chunkpipe_t *p, io_chunkpipe_stats_t *s) { *s = p->st; }

void io_chunkpipe_free(io_chunkpipe_t *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    while (p->head) { /* drop queued work */
        job_t *j = p->head;
        p->head = j->next;
        free(j);
    }
    p->tail = NULL;
    p->stop = 1;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_thread; i++) pthread_join(p->w[i].th, NULL);
    for (int i = 0; p->slot && i < p->n_slot; i++) free(p->slot[i].raw);
    for (int i = 0; i < p->n_w; i++) {
        free(p->w[i].tmp), free(p->w[i].out);
        if (p->w[i].ld) libdeflate_free_compressor(p->w[i].ld);
    }
    free(p->slot);
    free(p->w);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_free);
    free(p);
}
