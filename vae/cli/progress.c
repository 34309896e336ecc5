/* vae/cli/progress.c: progress line (see progress.h). */
#include "vae/cli/progress.h"
#include "base/clock.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void cli_progress_start(cli_progress_t *p, const char *label, const char *unit, size_t total, int quiet)
{
    *p = (cli_progress_t){.label = label, .unit = unit, .total = total, .t0 = base_now(),
                          .tty = isatty(2), .quiet = quiet, .last_decile = 0};
}

static void fmt_time(char *b, size_t n, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(b, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(b, n, "%ld:%02ld", t / 60, t % 60);
}

void cli_progress_update(cli_progress_t *p, size_t done, const char *extra)
{
    if (p->quiet || p->total == 0) return;
    double now = base_now(), el = now - p->t0, frac = (double)done / p->total;
    int decile = (int)(frac * 10);
    if (p->tty ? (now - p->last < 0.1 && done < p->total) : decile <= p->last_decile) return;
    p->last = now;
    p->last_decile = decile;
    double rate = el > 0 ? done / el : 0;
    char eta[32];
    fmt_time(eta, sizeof eta, rate > 0 ? (p->total - done) / rate : 0);
    if (p->tty) {
        char bar[21];
        for (int i = 0; i < 20; i++) bar[i] = i < (int)(frac * 20) ? '#' : '.';
        bar[20] = 0;
        fprintf(stderr, "\r%s [%s] %3.0f%%  %zu/%zu  %.0f %s/s  ETA %s  %s\033[K", p->label, bar,
                100 * frac, done, p->total, rate, p->unit, eta, extra ? extra : "");
    } else {
        fprintf(stderr, "%s: %3.0f%%  %zu/%zu  %.0f %s/s  ETA %s  %s\n", p->label, 100 * frac, done,
                p->total, rate, p->unit, eta, extra ? extra : "");
    }
    fflush(stderr);
}

void cli_progress_end(cli_progress_t *p, size_t done)
{
    if (p->quiet) return;
    double el = base_now() - p->t0;
    char t[32];
    fmt_time(t, sizeof t, el);
    fprintf(stderr, "%s%s: %zu %s in %s (%.0f %s/s)\n", p->tty ? "\r\033[K" : "", p->label, done,
            p->unit, t, el > 0 ? done / el : 0, p->unit);
}

static void mon_begin(void *u, const char *label, const char *unit, size_t total)
{
    cli_monitor_t *c = u;
    snprintf(c->label, sizeof c->label, "%s", label);
    cli_progress_start(&c->p, c->label, unit, total, c->quiet);
}

static void mon_update(void *u, size_t done, const char *extra) { cli_progress_update(&((cli_monitor_t *)u)->p, done, extra); }

static void mon_end(void *u, size_t done) { cli_progress_end(&((cli_monitor_t *)u)->p, done); }

static void mon_message(void *u, base_msg_kind_t kind, const char *text)
{
    cli_monitor_t *c = u;
    if (kind == BASE_MSG_WARNING) { /* warnings are shown even when quiet */
        fprintf(stderr, "showervae %s: warning: %s\n", c->prefix ? c->prefix : "", text);
        return;
    }
    if (c->quiet) return;
    if (c->prefix) fprintf(stderr, "%s: %s\n", c->prefix, text);
    else fprintf(stderr, "%s\n", text);
}

base_monitor_t cli_monitor(cli_monitor_t *c, const char *prefix, int quiet)
{
    memset(c, 0, sizeof *c);
    c->prefix = prefix;
    c->quiet = quiet;
    return (base_monitor_t){mon_begin, mon_update, mon_end, mon_message, c};
}
