/* layers/status.h: status codes and the last-error message, for the whole project.
 *
 * layers/ is the bottom module, so its status mechanism serves physics/, io/ and vae/ too:
 * they return these codes and record their messages with layer_error.
 *
 * Contract: every fallible function in layers/ returns an int status, 0 on success and
 * a negative LAYER_E* code on failure, and records a one-line message retrievable with
 * layer_last_error() from the same thread (the buffer is thread-local). Nothing in
 * layers/ prints or exits. LAYER_DNNL_TRY wraps a oneDNN call: on failure it records
 * "file:line: call -> dnnl status" and returns LAYER_EDNNL from the enclosing function.
 */
#ifndef LAYERS_STATUS_H
#define LAYERS_STATUS_H

#include <oneapi/dnnl/dnnl.h>

enum {
    LAYER_OK = 0,
    LAYER_EDNNL = -1,   /* a oneDNN call failed */
    LAYER_ENOMEM = -2,  /* allocation failed */
    LAYER_EINVAL = -3,  /* invalid argument or configuration */
    LAYER_ENUM = -4,    /* a NaN or Inf was met */
    LAYER_EIO = -5,     /* a file is missing, unreadable, or not in the expected format */
    LAYER_EEXIST = -6   /* an output exists and overwriting was not asked for */
};

/* Records a printf-style message for the calling thread and returns code. */
int layer_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The last message recorded on this thread ("" if none). Owned by the library. */
const char *layer_last_error(void);

/* Records a oneDNN failure; used by LAYER_DNNL_TRY. */
int layer_dnnl_error(dnnl_status_t s, const char *call, const char *file, int line);

#define LAYER_DNNL_TRY(call)                                                  \
    do {                                                                      \
        dnnl_status_t s_ = (call);                                            \
        if (s_ != dnnl_success)                                               \
            return layer_dnnl_error(s_, #call, __FILE__, __LINE__);           \
    } while (0)

/* Propagates a negative status from a call returning int. */
#define LAYER_TRY(call)                                                       \
    do {                                                                      \
        int rc_ = (call);                                                     \
        if (rc_ < 0) return rc_;                                              \
    } while (0)

#endif
