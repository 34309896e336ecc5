/* base/monitor.h: how library code reports progress and messages without printing.
 *
 * Long library work (training, evaluation) takes a const base_monitor_t * and calls the
 * helpers below; each is a no-op when the monitor or the callback is NULL, so a library user
 * who passes NULL hears nothing, and a program decides how to show it (vae/cli/progress.h
 * draws a progress line on stderr). Callbacks run on the calling thread.
 *
 *   begin(user, label, unit, total)   a task of total units starts ("epoch 3/30", "batches")
 *   update(user, done, extra)         done of total units; extra: short status text or NULL
 *   end(user, done)                   the task ended after done units
 *   message(user, kind, text)         one line of information or a warning, no newline
 */
#ifndef BASE_MONITOR_H
#define BASE_MONITOR_H

#include <stddef.h>

typedef enum { BASE_MSG_INFO = 0, BASE_MSG_WARNING = 1 } base_msg_kind_t;

typedef struct {
    void (*begin)(void *user, const char *label, const char *unit, size_t total);
    void (*update)(void *user, size_t done, const char *extra);
    void (*end)(void *user, size_t done);
    void (*message)(void *user, base_msg_kind_t kind, const char *text);
    void *user;
} base_monitor_t;

void base_monitor_begin(const base_monitor_t *m, const char *label, const char *unit, size_t total);
void base_monitor_update(const base_monitor_t *m, size_t done, const char *extra);
void base_monitor_end(const base_monitor_t *m, size_t done);
/* Formats one line (at most 1023 characters) and passes it to message. */
void base_monitor_say(const base_monitor_t *m, base_msg_kind_t kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
