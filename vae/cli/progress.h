/* vae/cli/progress.h: a progress line for long work, on stderr.
 *
 * On a terminal: one line redrawn at most 10 times a second,
 *   "label [#######.......]  45%  4500/10000  1234/s  ETA 0:12  <extra>";
 * otherwise (a log file): a plain line at every 10%. Quiet mode prints nothing.
 */
#ifndef VAE_PROGRESS_H
#define VAE_PROGRESS_H

#include "base/clock.h"
#include "base/monitor.h"

#include <stddef.h>

typedef struct {
    const char *label, *unit;
    size_t total;
    double t0, last;
    int tty, quiet, last_decile;
} cli_progress_t;

void cli_progress_start(cli_progress_t *p, const char *label, const char *unit, size_t total, int quiet);
/* done of total; extra: optional text appended (may be NULL). */
void cli_progress_update(cli_progress_t *p, size_t done, const char *extra);
/* Final line with the elapsed time and rate. */
void cli_progress_end(cli_progress_t *p, size_t done);

/* A base_monitor_t that draws tasks with the progress line above and prints messages as
 * "prefix: text" (warnings as "showervae prefix: warning: text", shown even when quiet) on
 * stderr; quiet: no progress and no information lines. The monitor
 * points into *c, which must outlive its use. */
typedef struct {
    cli_progress_t p;
    char label[128];
    const char *prefix;
    int quiet;
} cli_monitor_t;
base_monitor_t cli_monitor(cli_monitor_t *c, const char *prefix, int quiet);

#endif
