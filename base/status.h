/* base/status.h: status codes and the last-error message, for the whole project.
 *
 * base/ is the bottom module (no oneDNN, no HDF5): every other module returns these codes
 * and records its messages with base_error.
 *
 * Contract: every fallible library function returns an int status, 0 on success and a
 * negative BASE_E* code on failure, and records a one-line message retrievable with
 * base_last_error() from the same thread (the buffer is thread-local). Library code never
 * prints or exits. The public header (vae/showervae.h) mirrors these values as VAE_E*.
 * oneDNN failures are turned into BASE_EDNNL by LAYER_DNNL_TRY (layers/ctx.h).
 */
#ifndef BASE_STATUS_H
#define BASE_STATUS_H

enum {
    BASE_OK = 0,
    BASE_EDNNL = -1,   /* a oneDNN call failed */
    BASE_ENOMEM = -2,  /* allocation failed */
    BASE_EINVAL = -3,  /* invalid argument or configuration */
    BASE_ENUM = -4,    /* a NaN or Inf was met */
    BASE_EIO = -5,     /* a file is missing, unreadable, or not in the expected format */
    BASE_EEXIST = -6   /* an output exists and overwriting was not asked for */
};

/* Records a printf-style message for the calling thread and returns code. */
int base_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The last message recorded on this thread ("" if none). Owned by the library. */
const char *base_last_error(void);

/* Propagates a negative status from a call returning int. */
#define BASE_TRY(call)                                                        \
    do {                                                                      \
        int rc_ = (call);                                                     \
        if (rc_ < 0) return rc_;                                              \
    } while (0)

#endif
