/* base/status.c: thread-local last-error message (see status.h). */
#include "base/status.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_msg[512];

int base_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    va_end(ap);
    return code;
}

const char *base_last_error(void) { return last_msg; }
