/*
 * File system helpers of fsutil.h.
 */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"

int
fsutil_fsync_dir(const char *path, struct cairn_error *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		error_errno(err, errno, "cannot open directory '%s'", path);
		return -1;
	}
	if (fsync(fd) != 0) {
		error_errno(err, errno, "cannot fsync directory '%s'", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
fsutil_dirname(const char *path, char *out, size_t size,
	       struct cairn_error *err)
{
	const char *slash = strrchr(path, '/');
	const char *directory = path;
	size_t length;

	if (slash == NULL) {
		directory = ".";
		length = 1;
	} else if (slash == path) {
		length = 1; /* "/" */
	} else {
		length = (size_t)(slash - path);
	}
	if (length >= size) {
		error_set(err, "the directory of '%s' is too long", path);
		return -1;
	}
	memcpy(out, directory, length);
	out[length] = '\0';
	return 0;
}

int
fsutil_mkdir_p(const char *path, mode_t mode, struct cairn_error *err)
{
	char *copy = xstrdup(path);
	char *p;
	int rc = -1;

	for (p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(copy, mode) != 0 && errno != EEXIST) {
			error_errno(err, errno, "cannot create directory '%s'",
				    copy);
			goto out;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

int
fsutil_write_all(int fd, const void *data, size_t length)
{
	const char *p = data;

	while (length > 0) {
		ssize_t n = write(fd, p, length);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		length -= (size_t)n;
	}
	return 0;
}

int
fsutil_write_atomic(const char *path, const void *data, size_t length,
		    mode_t mode, struct cairn_error *err)
{
	char temporary[4096], directory[4096];
	int fd, n;

	n = snprintf(temporary, sizeof(temporary), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(temporary)) {
		error_set(err, "path too long: '%s'", path);
		return -1;
	}
	/* A leftover from a crash is ours to replace, a symlink is not. */
	if (unlink(temporary) != 0 && errno != ENOENT) {
		error_errno(err, errno, "cannot remove '%s'", temporary);
		return -1;
	}
	fd = open(temporary,
		  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		error_errno(err, errno, "cannot create '%s'", temporary);
		return -1;
	}
	/* The mode asked for, whatever the umask: a metrics file that a
	 * umask of 077 made 0600 is one node_exporter cannot read. */
	if (fchmod(fd, mode) != 0) {
		error_errno(err, errno, "cannot chmod '%s'", temporary);
		close(fd);
		unlink(temporary);
		return -1;
	}
	if (fsutil_write_all(fd, data, length) != 0 || fsync(fd) != 0) {
		error_errno(err, errno, "cannot write '%s'", temporary);
		close(fd);
		unlink(temporary);
		return -1;
	}
	if (close(fd) != 0) {
		error_errno(err, errno, "cannot write '%s'", temporary);
		unlink(temporary);
		return -1;
	}
	if (rename(temporary, path) != 0) {
		error_errno(err, errno, "cannot rename '%s' to '%s'", temporary,
			    path);
		unlink(temporary);
		return -1;
	}
	if (fsutil_dirname(path, directory, sizeof(directory), err) != 0)
		return -1;
	return fsutil_fsync_dir(directory, err);
}

int
fsutil_read_file(const char *path, size_t limit, char **data, size_t *length,
		 struct cairn_error *err)
{
	struct buf content = BUF_INIT;
	char chunk[65536];
	int fd, saved;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		saved = errno;
		error_errno(err, saved, "cannot open '%s'", path);
		errno = saved;
		return -1;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			error_errno(err, saved, "cannot read '%s'", path);
			goto fail;
		}
		if (n == 0)
			break;
		if (content.length + (size_t)n > limit) {
			saved = EFBIG;
			error_set(err, "'%s' is larger than %zu bytes", path,
				  limit);
			goto fail;
		}
		buf_append(&content, chunk, (size_t)n);
	}
	close(fd);
	*length = content.length;
	*data = buf_detach(&content);
	return 0;
fail:
	close(fd);
	buf_release(&content);
	errno = saved;
	return -1;
}

int
fsutil_free_space(const char *path, unsigned long long *bytes)
{
	struct statvfs vfs;

	if (statvfs(path, &vfs) != 0)
		return -1;
	*bytes = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	return 0;
}
