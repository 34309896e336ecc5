/* io/atomic.h: write-to-temporary-then-rename, never replacing a file silently.
 *
 * io_atomic_begin checks that path does not exist (unless force) and gives the temporary name
 * dir/.base.tmp.PID beside it; the caller writes the temporary file; io_atomic_commit moves it
 * into place: with force by rename(2), otherwise by link(2) + unlink, which fails if the name
 * appeared meanwhile (then the temporary file is removed and BASE_EEXIST returned).
 * Directories (a report) work the same way: io_atomic_dir_begin creates the temporary directory
 * PATH.tmp.PID; io_atomic_dir_commit moves it into place (an existing directory, allowed only
 * with force, is renamed aside first and removed only once the new one is in place);
 * io_atomic_dir_abort removes the temporary directory with everything in it. A trailing slash
 * in a directory path is ignored.
 * Durability: the temporary file (every file of a directory) is fsync'ed before the rename and
 * the parent directory after it, so a name never points at incomplete data, even after a crash.
 * Leftovers: begin removes the temporary names of this output that a killed run left (the same
 * pattern with the PID of a process that no longer exists).
 */
#ifndef IO_ATOMIC_H
#define IO_ATOMIC_H

#include <stddef.h>

/* BASE_EINVAL when out names the same file as in (an existing path, compared by device and
 * inode, so links and ./ spellings are caught), or is a directory that holds in: --force must
 * never destroy an input. */
int io_atomic_not_input(const char *out, const char *in);

/* BASE_EIO unless the directory path would be created in exists and is writable: for runs
 * that write their output only at the end. */
int io_atomic_check_dir(const char *path);

int io_atomic_begin(const char *path, int force, char *tmp, size_t n);
int io_atomic_commit(const char *tmp, const char *path, int force);
/* The same rename without flushing the data to disk: for temporary files that only this run
 * reads back (a rank's shard), where a crash loses the run anyway. */
int io_atomic_commit_unsynced(const char *tmp, const char *path, int force);

int io_atomic_dir_begin(const char *path, int force, char *tmp, size_t n);
int io_atomic_dir_commit(const char *tmp, const char *path);
void io_atomic_dir_abort(const char *tmp);

#endif
