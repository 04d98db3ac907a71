/*
 * The directories of a restore target kept open: a small cache of
 * O_PATH descriptors by their names relative to the target, for
 * extract.c, since the entries of an archive come grouped by directory.
 * A directory missing from the cache is opened with one openat2 call,
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS from the target: no symlink in
 * its path is followed, and nothing resolves outside the target. Where
 * it is missing on disk, or its name is too long for one call, it is
 * walked to a component at a time, missing ones created (mode 0777 less
 * the umask, as archive_write_disk does). The least recently used
 * descriptor makes room.
 */
#include "autoconfig.h"

#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int
volume_openat2(int dirfd, const char *path, int flags)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/*
 * Copies `name` into n without empty and "." components (names are
 * vetted: no "..", not absolute). Returns 0, or -1 when out of memory.
 */
int
volume_name_set(struct volume_name *n, const char *name)
{
	const char *p = name;

	if (volume_grow((void **)&n->text, &n->capacity, strlen(name) + 1, 1) ==
	    -1)
		return -1;
	n->length = 0;
	n->base = 0;
	while (*p != '\0') {
		size_t length = strcspn(p, "/");

		if (length > 0 && !(length == 1 && p[0] == '.')) {
			if (n->length > 0)
				n->text[n->length++] = '/';
			n->base = n->length;
			memcpy(n->text + n->length, p, length);
			n->length += length;
		}
		p += length;
		while (*p == '/')
			p++;
	}
	n->text[n->length] = '\0';
	return 0;
}

static void
volume_dir_drop(struct volume_dir *d)
{
	if (d->path == NULL)
		return;
	close(d->fd);
	free(d->path);
	d->path = NULL;
}

/* Forgets the cached directories at `name` and below (it is replaced). */
void
volume_dirs_forget(struct volume_dirs *c, const char *name, size_t length)
{
	size_t i;

	for (i = 0; i < VOLUME_DIR_CACHE; i++) {
		struct volume_dir *d = &c->dir[i];

		if (d->path != NULL && d->length >= length &&
		    memcmp(d->path, name, length) == 0 &&
		    (d->length == length || d->path[length] == '/'))
			volume_dir_drop(d);
	}
}

/*
 * Opens the directory `path` (normalised, `length` bytes, not NUL-ended
 * there) beneath the target a component at a time, creating what is
 * missing: for names too long for one call, and missing parents. Returns
 * the descriptor, or -1 with errno set.
 */
static int
volume_dirs_walk(struct volume_dirs *c, const char *path, size_t length)
{
	char component[NAME_MAX + 1];
	size_t at = 0;
	int fd = c->target, next;

	while (at < length) {
		size_t n = 0;

		while (at + n < length && path[at + n] != '/')
			n++;
		if (n > NAME_MAX) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		memcpy(component, path + at, n);
		component[n] = '\0';
		next = volume_openat2(fd, component, O_PATH | O_DIRECTORY);
		if (next == -1 && errno == ENOENT) {
			if (mkdirat(fd, component, 0777) == -1 &&
			    errno != EEXIST)
				goto fail;
			next = volume_openat2(fd, component,
					      O_PATH | O_DIRECTORY);
		}
		if (next == -1)
			goto fail;
		if (fd != c->target)
			close(fd);
		fd = next;
		at += n + 1;
	}
	if (fd == c->target)
		fd = fcntl(c->target, F_DUPFD_CLOEXEC, 0);
	return fd;
fail:
	if (fd != c->target) {
		int saved = errno;

		close(fd);
		errno = saved;
	}
	return -1;
}

/*
 * The descriptor of the directory named by the first `length` bytes of
 * `path`, the target itself when `length` is 0, from the cache or opened
 * into it. Borrowed: valid until the next lookup but one. -1 with errno
 * set when it cannot be opened.
 */
int
volume_dirs_get(struct volume_dirs *c, const char *path, size_t length)
{
	struct volume_dir *d, *victim = &c->dir[0];
	char *copy;
	size_t i;
	int fd;

	if (length == 0)
		return c->target;
	for (i = 0; i < VOLUME_DIR_CACHE; i++) {
		d = &c->dir[i];
		if (d->path != NULL && d->length == length &&
		    memcmp(d->path, path, length) == 0) {
			d->used = ++c->clock;
			return d->fd;
		}
		if (victim->path != NULL &&
		    (d->path == NULL || d->used < victim->used))
			victim = d;
	}
	copy = strndup(path, length);
	if (copy == NULL) {
		errno = ENOMEM;
		return -1;
	}
	fd = -1;
	if (length < PATH_MAX) {
		fd = volume_openat2(c->target, copy, O_PATH | O_DIRECTORY);
		if (fd == -1 && errno != ENOENT) {
			free(copy);
			return -1;
		}
	}
	if (fd == -1)
		fd = volume_dirs_walk(c, copy, length);
	if (fd == -1) {
		int saved = errno;

		free(copy);
		errno = saved;
		return -1;
	}
	volume_dir_drop(victim);
	victim->path = copy;
	victim->length = length;
	victim->fd = fd;
	victim->used = ++c->clock;
	return fd;
}

/* The parent directory of n, from the cache; -1 with errno set. */
int
volume_dirs_parent(struct volume_dirs *c, const struct volume_name *n)
{
	return volume_dirs_get(c, n->text, n->base > 0 ? n->base - 1 : 0);
}

void
volume_dirs_init(struct volume_dirs *c, int target)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->target = target;
	for (i = 0; i < VOLUME_DIR_CACHE; i++)
		c->dir[i].fd = -1;
}

void
volume_dirs_release(struct volume_dirs *c)
{
	size_t i;

	for (i = 0; i < VOLUME_DIR_CACHE; i++)
		volume_dir_drop(&c->dir[i]);
}
