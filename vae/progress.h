/* vae/progress.h: a progress line for long work, on stderr.
 *
 * On a terminal: one line redrawn at most 10 times a second,
 *   "label [#######.......]  45%  4500/10000  1234/s  ETA 0:12  <extra>";
 * otherwise (a log file): a plain line at every 10%. Quiet mode prints nothing.
 */
#ifndef VAE_PROGRESS_H
#define VAE_PROGRESS_H

#include <stddef.h>

typedef struct {
    const char *label, *unit;
    size_t total;
    double t0, last;
    int tty, quiet, last_decile;
} vae_progress_t;

void vae_progress_start(vae_progress_t *p, const char *label, const char *unit, size_t total, int quiet);
/* done of total; extra: optional text appended (may be NULL). */
void vae_progress_update(vae_progress_t *p, size_t done, const char *extra);
/* Final line with the elapsed time and rate. */
void vae_progress_end(vae_progress_t *p, size_t done);
/* Seconds since an arbitrary origin (monotonic). */
double vae_now(void);

#endif
