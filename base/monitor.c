/* base/monitor.c: the no-op-when-absent helpers of monitor.h. */
#include "base/monitor.h"

#include <stdarg.h>
#include <stdio.h>

void base_monitor_begin(const base_monitor_t *m, const char *label, const char *unit, size_t total)
{
    if (m && m->begin) m->begin(m->user, label, unit, total);
}

void base_monitor_update(const base_monitor_t *m, size_t done, const char *extra)
{
    if (m && m->update) m->update(m->user, done, extra);
}

void base_monitor_end(const base_monitor_t *m, size_t done)
{
    if (m && m->end) m->end(m->user, done);
}

void base_monitor_say(const base_monitor_t *m, base_msg_kind_t kind, const char *fmt, ...)
{
    if (!m || !m->message) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    m->message(m->user, kind, line);
}
