/* io/chunkpipe.c: parallel shuffle + deflate and direct chunk writes (see chunkpipe.h). */
#include "io/chunkpipe.h"

#include "layers/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

enum { SLOT_FREE, SLOT_FILLING, SLOT_QUEUED };

typedef struct {
    float *raw;         /* (rows, cols) */
    unsigned char *tmp; /* shuffled bytes of raw */
    unsigned char *out; /* compressed chunk (compressBound bytes) */
    size_t index;       /* chunk number in the dataset */
    int state;
} slot_t;

struct io_chunkpipe {
    hid_t ds;
    size_t rows, cols, raw_bytes;
    int level, n_slot, n_thread;
    pthread_mutex_t mu, *h5;
    pthread_cond_t cv_work, cv_free;
    slot_t *slot;
    pthread_t *th;
    int *queue, q_head, q_len; /* FIFO of queued slots */
    int busy;                  /* queued or being stored */
    int fill;                  /* slot being filled (-1: none) */
    size_t fill_rows, next_index;
    int stop, failed;
    char err[256];
    io_chunkpipe_stats_t st;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

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

/* Compresses (or not) and stores slot s; returns 0 or fills p->err (under no lock). */
static int store(io_chunkpipe_t *p, slot_t *s, double *t_comp, double *t_write, size_t *stored)
{
    double t0 = now_s();
    const void *buf = s->raw;
    size_t size = p->raw_bytes;
    if (p->level > 0) {
        shuffle4((const unsigned char *)s->raw, s->tmp, p->raw_bytes / 4);
        uLongf len = compressBound((uLong)p->raw_bytes);
        int z = compress2(s->out, &len, s->tmp, (uLong)p->raw_bytes, p->level);
        if (z != Z_OK) {
            snprintf(p->err, sizeof p->err, "zlib compress2 failed (%d) on chunk %zu", z, s->index);
            return -1;
        }
        buf = s->out, size = len;
    }
    double t1 = now_s();
    hsize_t off[2] = {(hsize_t)(s->index * p->rows), 0};
    pthread_mutex_lock(p->h5);
    herr_t e = H5Dwrite_chunk(p->ds, H5P_DEFAULT, 0, off, size, buf);
    pthread_mutex_unlock(p->h5);
    *t_comp = t1 - t0;
    *t_write = now_s() - t1;
    *stored = size;
    if (e < 0) snprintf(p->err, sizeof p->err, "direct chunk write of chunk %zu failed (disk full?)", s->index);
    return e < 0 ? -1 : 0;
}

static void *worker(void *arg)
{
    io_chunkpipe_t *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->q_len == 0) pthread_cond_wait(&p->cv_work, &p->mu);
        if (p->q_len == 0) break; /* stopping and nothing left */
        slot_t *s = &p->slot[p->queue[p->q_head]];
        p->q_head = (p->q_head + 1) % p->n_slot;
        p->q_len--;
        int skip = p->failed; /* after a failure, chunks are only released */
        pthread_mutex_unlock(&p->mu);
        double tc = 0, tw = 0;
        size_t stored = 0;
        int bad = skip ? 0 : store(p, s, &tc, &tw, &stored);
        pthread_mutex_lock(&p->mu);
        if (bad) p->failed = 1;
        p->st.compress_s += tc;
        p->st.write_s += tw;
        p->st.raw_bytes += p->raw_bytes;
        p->st.stored_bytes += stored;
        s->state = SLOT_FREE;
        p->busy--;
        pthread_cond_broadcast(&p->cv_free);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int io_chunkpipe_open(io_chunkpipe_t **out, hid_t ds, size_t chunk_rows, size_t cols, int deflate, int threads,
                      pthread_mutex_t *h5lock)
{
    *out = NULL;
    if (threads < 1 || chunk_rows < 1 || cols < 1 || deflate < 0 || deflate > 9)
        return layer_error(LAYER_EINVAL, "chunk pipe: bad arguments (threads %d, deflate %d)", threads, deflate);
    io_chunkpipe_t *p = calloc(1, sizeof *p);
    if (!p) return layer_error(LAYER_ENOMEM, "chunk pipe: out of memory");
    p->ds = ds, p->rows = chunk_rows, p->cols = cols, p->raw_bytes = chunk_rows * cols * 4;
    p->level = deflate, p->h5 = h5lock, p->fill = -1;
    p->n_slot = 2 * threads + 2;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_free, NULL);
    p->slot = calloc((size_t)p->n_slot, sizeof *p->slot);
    p->queue = calloc((size_t)p->n_slot, sizeof *p->queue);
    p->th = calloc((size_t)threads, sizeof *p->th);
    int ok = p->slot && p->queue && p->th;
    for (int i = 0; ok && i < p->n_slot; i++) {
        slot_t *s = &p->slot[i];
        s->raw = malloc(p->raw_bytes);
        if (deflate > 0) {
            s->tmp = malloc(p->raw_bytes);
            s->out = malloc(compressBound((uLong)p->raw_bytes));
        }
        ok = s->raw && (deflate == 0 || (s->tmp && s->out));
    }
    for (; ok && p->n_thread < threads; p->n_thread++) ok = pthread_create(&p->th[p->n_thread], NULL, worker, p) == 0;
    if (!ok) {
        io_chunkpipe_free(p);
        return layer_error(LAYER_ENOMEM, "chunk pipe: cannot allocate %d chunk buffers or start %d threads",
                           2 * threads + 2, threads);
    }
    *out = p;
    return LAYER_OK;
}

static int failure(io_chunkpipe_t *p) { return layer_error(LAYER_EIO, "%s", p->err); }

/* Queues the filled slot (mu held). */
static void enqueue(io_chunkpipe_t *p)
{
    slot_t *s = &p->slot[p->fill];
    s->state = SLOT_QUEUED;
    s->index = p->next_index++;
    p->queue[(p->q_head + p->q_len) % p->n_slot] = p->fill;
    p->q_len++;
    p->busy++;
    p->fill = -1;
    p->fill_rows = 0;
    pthread_cond_signal(&p->cv_work);
}

/* A free slot to fill (mu held); waits while all are busy. */
static void take_slot(io_chunkpipe_t *p)
{
    double t0 = now_s();
    for (;;) {
        for (int i = 0; i < p->n_slot; i++)
            if (p->slot[i].state == SLOT_FREE) {
                p->slot[i].state = SLOT_FILLING;
                p->fill = i;
                p->st.wait_s += now_s() - t0;
                return;
            }
        pthread_cond_wait(&p->cv_free, &p->mu);
    }
}

int io_chunkpipe_push(io_chunkpipe_t *p, const float *rows, size_t n)
{
    pthread_mutex_lock(&p->mu);
    while (n > 0 && !p->failed) {
        if (p->fill < 0) take_slot(p);
        size_t k = p->rows - p->fill_rows < n ? p->rows - p->fill_rows : n;
        pthread_mutex_unlock(&p->mu); /* copy without the lock: the slot is ours */
        memcpy(p->slot[p->fill].raw + p->fill_rows * p->cols, rows, k * p->cols * 4);
        pthread_mutex_lock(&p->mu);
        p->fill_rows += k, rows += k * p->cols, n -= k;
        if (p->fill_rows == p->rows) enqueue(p);
    }
    int bad = p->failed;
    pthread_mutex_unlock(&p->mu);
    return bad ? failure(p) : LAYER_OK;
}

int io_chunkpipe_finish(io_chunkpipe_t *p)
{
    pthread_mutex_lock(&p->mu);
    if (p->fill >= 0 && p->fill_rows > 0) {
        slot_t *s = &p->slot[p->fill];
        memset(s->raw + p->fill_rows * p->cols, 0, (p->rows - p->fill_rows) * p->cols * 4);
        enqueue(p);
    }
    double t0 = now_s();
    while (p->busy > 0) pthread_cond_wait(&p->cv_free, &p->mu);
    p->st.wait_s += now_s() - t0;
    int bad = p->failed;
    pthread_mutex_unlock(&p->mu);
    return bad ? failure(p) : LAYER_OK;
}

void io_chunkpipe_stats(const io_chunkpipe_t *p, io_chunkpipe_stats_t *s) { *s = p->st; }

void io_chunkpipe_free(io_chunkpipe_t *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->q_len = 0; /* drop queued work */
    p->stop = 1;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_thread; i++) pthread_join(p->th[i], NULL);
    for (int i = 0; p->slot && i < p->n_slot; i++) {
        free(p->slot[i].raw);
        free(p->slot[i].tmp);
        free(p->slot[i].out);
    }
    free(p->slot);
    free(p->queue);
    free(p->th);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_free);
    free(p);
}
