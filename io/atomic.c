/* io/atomic.c: atomic output files (see atomic.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "io/atomic.h"

#include "base/status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int commit_name(const char *tmp, const char *path, int force);
static void dir_of(const char *path, char *d, size_t n);

int io_atomic_check_dir(const char *path)
{
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    if (access(dir, W_OK | X_OK) != 0)
        return base_error(BASE_EIO, "%s: cannot write in %s (%s)", path, dir, strerror(errno));
    return BASE_OK;
}

int io_atomic_not_input(const char *out, const char *in)
{
    struct stat a, b;
    if (!out || !in || stat(out, &a) != 0 || stat(in, &b) != 0) return BASE_OK;
    if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        return base_error(BASE_EINVAL, "%s: is the input file %s; choose another output", out, in);
    char ro[PATH_MAX], ri[PATH_MAX];
    if (S_ISDIR(a.st_mode) && realpath(out, ro) && realpath(in, ri)) { /* replacing it would remove in */
        size_t k = strlen(ro);
        if (strncmp(ro, ri, k) == 0 && (ri[k] == '/' || k == 1))
            return base_error(BASE_EINVAL, "%s: holds the input file %s; choose another output", out, in);
    }
    return BASE_OK;
}

/* Flushes a file (or a directory) to the disk: what is renamed into place is complete even
 * after a power cut. */
static int sync_path(const char *p)
{
    int fd = open(p, O_RDONLY);
    if (fd < 0) return -1;
    int e = fsync(fd);
    close(fd);
    return e;
}

/* The directory part of path ("." if none) into d. */
static void dir_of(const char *path, char *d, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(d, n, ".");
    else if (slash == path) snprintf(d, n, "/");
    else snprintf(d, n, "%.*s", (int)(slash - path), path);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    return remove(p);
}

/* Removes a directory tree (no symbolic links followed). */
static void rm_tree(const char *p) { nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* Removes what killed runs left for this output: entries named prefix + PID (the temporary
 * names below) whose process no longer exists. */
static void remove_stale_in(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d) return;
    size_t k = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, k) != 0) continue;
        char *end;
        long pid = strtol(e->d_name + k, &end, 10);
        if (end == e->d_name + k || *end || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* alive, or not ours to judge */
        char full[4400];
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        rm_tree(full);
    }
    closedir(d);
}

/* remove_stale_in for output path, whose leftovers are named fmt % (its base name) + PID. */
static void remove_stale(const char *path, const char *fmt)
{
    char dir[4096], prefix[4200];
    const char *slash = strrchr(path, '/');
    dir_of(path, dir, sizeof dir);
    snprintf(prefix, sizeof prefix, fmt, slash ? slash + 1 : path);
    remove_stale_in(dir, prefix);
}

int io_atomic_begin(const char *path, int force, char *tmp, size_t n)
{
    if (!force && access(path, F_OK) == 0)
        return base_error(BASE_EEXIST, "%s: exists (use --force to replace it)", path);
    const char *slash0 = strrchr(path, '/');
    remove_stale(path, ".%s.tmp.");
    int dlen = slash0 ? (int)(slash0 - path + 1) : 0;
    int len = snprintf(tmp, n, "%.*s.%s.tmp.%ld", dlen, path, slash0 ? slash0 + 1 : path, (long)getpid());
    if (len < 0 || (size_t)len >= n) return base_error(BASE_EINVAL, "%s: path too long", path);
    return BASE_OK;
}

int io_atomic_commit(const char *tmp, const char *path, int force)
{
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    if (sync_path(tmp) != 0) {
        int e = errno;
        unlink(tmp);
        return base_error(BASE_EIO, "%s: cannot flush %s to disk (%s)", path, tmp, strerror(e));
    }
    int rc = commit_name(tmp, path, force);
    if (rc == BASE_OK) sync_path(dir); /* the new name itself */
    return rc;
}

int io_atomic_commit_unsynced(const char *tmp, const char *path, int force) { return commit_name(tmp, path, force); }

static int commit_name(const char *tmp, const char *path, int force)
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

/* path without trailing slashes ("rep/" is the directory rep) into p. */
static int strip_slashes(const char *path, char *p, size_t n)
{
    size_t k = strlen(path);
    while (k > 1 && path[k - 1] == '/') k--;
    if (k >= n) return base_error(BASE_EINVAL, "%s: path too long", path);
    memcpy(p, path, k);
    p[k] = 0;
    return BASE_OK;
}

static int sync_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    return sync_path(p) != 0 ? -1 : 0;
}

int io_atomic_dir_begin(const char *path_in, int force, char *tmp, size_t n)
{
    char path[4096];
    BASE_TRY(strip_slashes(path_in, path, sizeof path));
    if (!force && access(path, F_OK) == 0)
        return base_error(BASE_EEXIST, "%s: exists (use --force to replace it)", path);
    remove_stale(path, "%s.tmp.");
    remove_stale(path, "%s.old.");
    int len = snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    if (len < 0 || (size_t)len >= n) return base_error(BASE_EINVAL, "%s: path too long", path);
    if (mkdir(tmp, 0755) != 0) return base_error(BASE_EIO, "%s: cannot create (%s)", tmp, strerror(errno));
    return BASE_OK;
}

int io_atomic_dir_commit(const char *tmp, const char *path_in)
{
    char path[4096], old[4200], dir[4096];
    BASE_TRY(strip_slashes(path_in, path, sizeof path));
    int len = snprintf(old, sizeof old, "%s.old.%ld", path, (long)getpid()), rc = BASE_OK;
    if (len < 0 || (size_t)len >= sizeof old) rc = base_error(BASE_EINVAL, "%s: path too long", path);
    if (rc == BASE_OK && nftw(tmp, sync_entry, 16, FTW_PHYS) != 0)
        rc = base_error(BASE_EIO, "%s: cannot flush to disk (%s)", tmp, strerror(errno));
    int had = access(path, F_OK) == 0;
    if (rc == BASE_OK && had && rename(path, old) != 0)
        rc = base_error(BASE_EIO, "%s: cannot replace (%s)", path, strerror(errno));
    if (rc == BASE_OK && rename(tmp, path) != 0) {
        rc = base_error(BASE_EIO, "%s: cannot create (%s)", path, strerror(errno));
        if (had) rename(old, path); /* put the old one back */
    }
    if (rc == BASE_OK && had) rm_tree(old);
    if (rc < 0) rm_tree(tmp);
    dir_of(path, dir, sizeof dir);
    if (rc == BASE_OK) sync_path(dir);
    return rc;
}

void io_atomic_dir_abort(const char *tmp) { rm_tree(tmp); }
