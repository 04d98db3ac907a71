/*
 * File system helpers with the durability rules of the repository: files
 * written under a temporary name, fsynced, renamed into place, and the
 * directory fsynced, so a crash leaves the old or the new file, never half
 * of one. Writes refuse to follow symbolic links planted in the way.
 */
#ifndef CAIRN_FSUTIL_H
#define CAIRN_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include <cairn/plugin.h>

/* fsync of a directory, so a rename in it is durable. 0 or -1. */
int fsutil_fsync_dir(const char *path, struct cairn_error *err);

/*
 * The directory holding `path` ("." when it has none), in `out`. -1 when
 * it does not fit in `size` bytes: a cut name would be another directory
 * (and a commit would fsync the wrong one).
 */
int fsutil_dirname(const char *path, char *out, size_t size,
		   struct cairn_error *err);

/* mkdir -p with `mode` for the directories it creates. 0 or -1. */
int fsutil_mkdir_p(const char *path, mode_t mode, struct cairn_error *err);

/*
 * Replaces `path` with `data` atomically and durably, with exactly `mode`
 * whatever the umask. Never writes through a symlink at `path` or at its
 * temporary name `path`.tmp.
 */
int fsutil_write_atomic(const char *path, const void *data, size_t length,
			mode_t mode, struct cairn_error *err);

/*
 * Reads a whole file of at most `limit` bytes into a malloc'd, NUL-
 * terminated buffer owned by the caller. -1 with errno kept when it
 * cannot be opened (ENOENT lets callers tell "missing" apart).
 */
int fsutil_read_file(const char *path, size_t limit, char **data,
		     size_t *length, struct cairn_error *err);

/* write(2) of all of it, retrying on EINTR and short writes. */
int fsutil_write_all(int fd, const void *data, size_t length);

/* Free bytes for an unprivileged user on the file system of `path`. */
int fsutil_free_space(const char *path, unsigned long long *bytes);

#endif
