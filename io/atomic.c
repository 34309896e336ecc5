/* io/atomic.c: atomic output files (see atomic.h). */
#include "io/atomic.h"

#include "layers/status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int io_atomic_begin(const char *path, int force, char *tmp, size_t n)
{
    if (!force && access(path, F_OK) == 0)
        return layer_error(LAYER_EEXIST, "%s: exists (use --force to replace it)", path);
    const char *slash = strrchr(path, '/');
    int dir = slash ? (int)(slash - path + 1) : 0;
    int len = snprintf(tmp, n, "%.*s.%s.tmp.%ld", dir, path, slash ? slash + 1 : path, (long)getpid());
    if (len < 0 || (size_t)len >= n) return layer_error(LAYER_EINVAL, "%s: path too long", path);
    return LAYER_OK;
}

int io_atomic_commit(const char *tmp, const char *path, int force)
{
    if (force) {
        if (rename(tmp, path) != 0) {
            int e = errno;
            unlink(tmp);
            return layer_error(LAYER_EIO, "%s: cannot rename from %s (%s)", path, tmp, strerror(e));
        }
        return LAYER_OK;
    }
    if (link(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return e == EEXIST ? layer_error(LAYER_EEXIST, "%s: appeared while writing; not replaced", path)
                           : layer_error(LAYER_EIO, "%s: cannot create (%s)", path, strerror(e));
    }
    unlink(tmp);
    return LAYER_OK;
}
