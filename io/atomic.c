/* io/atomic.c: atomic output files (see atomic.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "io/atomic.h"

#include "base/status.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int io_atomic_begin(const char *path, int force, char *tmp, size_t n)
{
    if (!force && access(path, F_OK) == 0)
        return base_error(BASE_EEXIST, "%s: exists (use --force to replace it)", path);
    const char *slash = strrchr(path, '/');
    int dir = slash ? (int)(slash - path + 1) : 0;
    int len = snprintf(tmp, n, "%.*s.%s.tmp.%ld", dir, path, slash ? slash + 1 : path, (long)getpid());
    if (len < 0 || (size_t)len >= n) return base_error(BASE_EINVAL, "%s: path too long", path);
    return BASE_OK;
}

int io_atomic_commit(const char *tmp, const char *path, int force)
{
    if (force) {
        if (rename(tmp, path) != 0) {
            int e = errno;
            unlink(tmp);
            return base_error(BASE_EIO, "%s: cannot rename from %s (%s)", path, tmp, strerror(e));
        }
        return BASE_OK;
    }
    if (link(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return e == EEXIST ? base_error(BASE_EEXIST, "%s: appeared while writing; not replaced", path)
                           : base_error(BASE_EIO, "%s: cannot create (%s)", path, strerror(e));
    }
    unlink(tmp);
    return BASE_OK;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    return remove(p);
}

/* Removes a directory tree (no symbolic links followed). */
static void rm_tree(const char *p) { nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

int io_atomic_dir_begin(const char *path, int force, char *tmp, size_t n)
{
    if (!force && access(path, F_OK) == 0)
        return base_error(BASE_EEXIST, "%s: exists (use --force to replace it)", path);
    int len = snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    if (len < 0 || (size_t)len >= n) return base_error(BASE_EINVAL, "%s: path too long", path);
    if (mkdir(tmp, 0755) != 0) return base_error(BASE_EIO, "%s: cannot create (%s)", tmp, strerror(errno));
    return BASE_OK;
}

int io_atomic_dir_commit(const char *tmp, const char *path)
{
    char old[4200];
    int len = snprintf(old, sizeof old, "%s.old.%ld", path, (long)getpid()), rc = BASE_OK;
    if (len < 0 || (size_t)len >= sizeof old) rc = base_error(BASE_EINVAL, "%s: path too long", path);
    int had = access(path, F_OK) == 0;
    if (rc == BASE_OK && had && rename(path, old) != 0)
        rc = base_error(BASE_EIO, "%s: cannot replace (%s)", path, strerror(errno));
    if (rc == BASE_OK && rename(tmp, path) != 0) {
        rc = base_error(BASE_EIO, "%s: cannot create (%s)", path, strerror(errno));
        if (had) rename(old, path); /* put the old one back */
    }
    if (rc == BASE_OK && had) rm_tree(old);
    if (rc < 0) rm_tree(tmp);
    return rc;
}

void io_atomic_dir_abort(const char *tmp) { rm_tree(tmp); }
