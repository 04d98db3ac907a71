/*
 * The walk over the configured trees, shared by backup and check.
 *
 * Each configured path is walked with directory file descriptors
 * (openat/fstatat), so a name is always looked up in the directory that
 * was read, never through a path that may have changed meanwhile. The
 * names of a directory are read whole with getdents64 and sorted in byte
 * order, so archives of an unchanged tree list their entries in the same
 * order. Exclusions are matched against each name before it is looked
 * at; with one-file-system, a directory of another file system is saved
 * but not entered. A file that vanishes or cannot be read is a warning
 * naming it (volume_warn), never a silent success and never the end of
 * the walk: only a root that cannot be read, memory running out or the
 * sink failing end it.
 */
#include "autoconfig.h"

#include "volume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
volume_warn(struct volume_walk *w, const char *format, ...)
{
	char message[CAIRN_ERROR_MESSAGE_SIZE + PATH_MAX];
	va_list ap;

	va_start(ap, format);
	(void)vsnprintf(message, sizeof(message), format, ap);
	va_end(ap);
	w->problems++;
	if (w->report == NULL)
		w->host->log(w->host, CAIRN_LOG_WARNING, "%s", message);
	else if (w->problems <= VOLUME_CHECK_PROBLEMS)
		w->host->report_problem(w->report, "%s", message);
}

/* Appends "/name" to the walk's path; volume_walk_pop undoes it. */
static int
volume_walk_push(struct volume_walk *w, const char *name)
{
	size_t length = strlen(name);
	int slash = !(w->path_length == 1 && w->path[0] == '/');

	if (volume_grow((void **)&w->path, &w->path_capacity,
			w->path_length + length + 2, 1) == -1) {
		volume_error(w->err, "out of memory");
		return -1;
	}
	if (slash)
		w->path[w->path_length++] = '/';
	memcpy(w->path + w->path_length, name, length + 1);
	w->path_length += length;
	return 0;
}

static void
volume_walk_pop(struct volume_walk *w, size_t length)
{
	w->path_length = length;
	w->path[length] = '\0';
}

/*
 * Exclusion: a pattern starting with '/' matches the absolute path; a
 * pattern holding a '/' elsewhere matches the path relative to the
 * configured root; a pattern without '/' matches the base name. '*' does
 * not match '/' in the first two forms.
 */
static int
volume_excluded(const struct volume_walk *w, const char *base)
{
	const char *relative;
	size_t i;

	relative = w->path + w->root_length;
	if (w->root_length > 1)
		relative++;
	for (i = 0; i < w->vol->exclude_count; i++) {
		const char *pattern = w->vol->excludes[i];

		if (pattern[0] == '/') {
			if (fnmatch(pattern, w->path, FNM_PATHNAME) == 0)
				return 1;
		} else if (strchr(pattern, '/') != NULL) {
			if (fnmatch(pattern, relative, FNM_PATHNAME) == 0)
				return 1;
		} else if (fnmatch(pattern, base, 0) == 0) {
			return 1;
		}
	}
	return 0;
}

int
volume_open_read(int dirfd, const char *name, int flags)
{
	int fd;

	fd = openat(dirfd, name, flags | O_NOATIME);
	if (fd == -1 && errno == EPERM)
		fd = openat(dirfd, name, flags);
	return fd;
}

static int
volume_open_dir(int dirfd, const char *name)
{
	return volume_open_read(dirfd, name,
				O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					O_CLOEXEC);
}

static int volume_walk_dir(struct volume_walk *w, int fd);

/* One name found in a directory: stat it, write it, descend into it. */
static int
volume_walk_child(struct volume_walk *w, int dirfd, const char *name)
{
	struct stat st;
	int fd, rc;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			volume_warn(w, "'%s' vanished while it was read",
				    w->path);
		else
			volume_warn(w, "cannot stat '%s': %s; skipped", w->path,
				    strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return volume_visit(w, dirfd, name, &st, -1);
	fd = volume_open_dir(dirfd, name);
	if (fd == -1) {
		if (errno == ENOENT) {
			volume_warn(w, "'%s' vanished while it was read",
				    w->path);
			return 0;
		}
		volume_warn(w,
			    "cannot read directory '%s': %s; its content "
			    "is skipped",
			    w->path, strerror(errno));
		return volume_visit(w, dirfd, name, &st, -1);
	}
	if (fstat(fd, &st) == -1 ||
	    volume_visit(w, dirfd, name, &st, fd) == -1) {
		if (w->err->message[0] == '\0')
			volume_error(w->err, "cannot stat '%s': %s", w->path,
				     strerror(errno));
		close(fd);
		return -1;
	}
	rc = 0;
	if (w->vol->one_file_system && st.st_dev != w->root_dev)
		w->host->log(w->host, CAIRN_LOG_INFO,
			     "'%s' is another file system; not descending",
			     w->path);
	else
		rc = volume_walk_dir(w, fd);
	close(fd);
	return rc;
}

static int
volume_compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Reads every name of the directory open as `fd` into one block, sorts
 * them, and walks each. The descriptor stays open for openat.
 */
static int
volume_walk_dir(struct volume_walk *w, int fd)
{
	char *block = NULL, **names = NULL;
	size_t used = 0, capacity = 0, count = 0, names_capacity = 0, i;
	size_t length = w->path_length;
	int rc = -1;

	for (;;) {
		ssize_t n;

		if (volume_grow((void **)&block, &capacity, used + 65536, 1) ==
		    -1)
			goto nomem;
		n = getdents64(fd, block + used, capacity - used);
		if (n == -1) {
			volume_warn(w,
				    "cannot read directory '%s': %s; its "
				    "content is skipped",
				    w->path, strerror(errno));
			rc = 0;
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	/* The block no longer moves: the names can point into it. */
	for (i = 0; i < used;) {
		struct dirent64 *d = (struct dirent64 *)(void *)(block + i);

		i += d->d_reclen;
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (volume_grow((void **)&names, &names_capacity, count + 1,
				sizeof(*names)) == -1)
			goto nomem;
		names[count++] = d->d_name;
	}
	if (count > 1)
		qsort(names, count, sizeof(*names), volume_compare_names);
	for (i = 0; i < count; i++) {
		if (volume_walk_push(w, names[i]) == -1)
			goto out;
		if (!volume_excluded(w, names[i]) &&
		    volume_walk_child(w, fd, names[i]) == -1) {
			volume_walk_pop(w, length);
			goto out;
		}
		volume_walk_pop(w, length);
	}
	rc = 0;
	goto out;
nomem:
	volume_error(w->err, "out of memory reading directory '%s'", w->path);
out:
	free(names);
	free(block);
	return rc;
}

int
volume_walk_root(struct volume_walk *w, const char *root)
{
	struct stat st;
	int fd, rc = -1;

	w->root = root;
	w->root_length = strlen(root);
	if (volume_grow((void **)&w->path, &w->path_capacity,
			w->root_length + 1, 1) == -1) {
		volume_error(w->err, "out of memory");
		return -1;
	}
	memcpy(w->path, root, w->root_length + 1);
	w->path_length = w->root_length;
	fd = volume_open_read(AT_FDCWD, root,
			      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		volume_error(w->err, "cannot open directory '%s': %s", root,
			     strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		volume_error(w->err, "cannot stat '%s': %s", root,
			     strerror(errno));
		goto out;
	}
	w->root_dev = st.st_dev;
	if (volume_visit(w, AT_FDCWD, root, &st, fd) == -1)
		goto out;
	rc = volume_walk_dir(w, fd);
out:
	close(fd);
	return rc;
}

void
volume_walk_release(struct volume_walk *w)
{
	free(w->path);
	free(w->buffer);
	free(w->xnames);
	free(w->xvalues);
	free(w->xattrs);
	free(w->xoffsets);
	free(w->acl_text[0]);
	free(w->acl_text[1]);
	free(w->extents);
	volume_map_release(&w->links);
	volume_map_release(&w->owners);
}
