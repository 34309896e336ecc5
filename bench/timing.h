/* bench/timing.h: timing and the machine's matmul peak, shared by the benchmark programs.
 *
 * bench_time runs f once to warm up, then repeatedly until `window` seconds have passed (at
 * least 3 calls, at most 4096) and returns the fastest call in seconds (on a shared VM a busy
 * neighbour only ever adds time), with the median in *median if not NULL.
 * bench_matmul_peak: the best rate of a plain oneDNN f32 matmul over 2048^3 and
 * 1024 x 1024 x 6480, weights in 'ab' and in the layout oneDNN prefers: the reference every
 * GFLOP/s figure is compared with (each shape timed for at least 2 s). Errors print a message and exit (benchmarks only).
 */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#include "base/clock.h"
#include "layers/ctx.h"

#include <cJSON.h>

typedef int (*bench_fn)(void *arg);

double bench_time(bench_fn f, void *arg, double window, double *median);
/* GFLOP/s; detail (if not NULL, >= 160 bytes) receives the four measured rates */
double bench_matmul_peak(const layer_ctx_t *c, double window, char *detail);
/* Runs cmd (a peer), which prints one JSON object on stdout; returns it parsed (the caller
 * deletes it), or NULL with "<prog>: <peer> peer skipped (why); <hint>" on stderr. */
cJSON *bench_run_json(const char *prog, const char *cmd, const char *peer, const char *hint);
/* GB/s of reading a buffer of `bytes` on `threads` threads, each its own part (first touched by
 * it), the best pass of a `window`-second run: with bytes below the L3 size the cache's read
 * bandwidth, far above it the memory's. */
double bench_read_gbps(size_t bytes, int threads, double window);
/* The CPU's model name from /proc/cpuinfo ("unknown CPU" when it says none), for every table. */
void bench_cpu_model(char *s, size_t n);
/* prints "<prog>: <what>: <last error>" and exits 1 when rc < 0 */
void bench_check(int rc, const char *prog, const char *what);

#endif
