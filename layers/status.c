/* layers/status.c: thread-local last-error message (see status.h). */
#include "layers/status.h"

#include <oneapi/dnnl/dnnl_debug.h>
#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_msg[512];

int layer_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof last_msg, fmt, ap);
    va_end(ap);
    return code;
}

const char *layer_last_error(void) { return last_msg; }

int layer_dnnl_error(dnnl_status_t s, const char *call, const char *file, int line)
{
    return layer_error(LAYER_EDNNL, "%s:%d: %s -> %s", file, line, call, dnnl_status2str(s));
}
