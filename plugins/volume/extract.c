/*
 * Extraction relative to directory descriptors: what restore.c hands
 * archive_write_disk otherwise, done with one system call per file
 * where libarchive's secure mode opens and stats every component of
 * every path.
 *
 * An entry's parent directory is opened once with openat2(2) and
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS from the target (so no symlink,
 * planted or restored, is ever followed, and nothing resolves outside
 * the target), and kept open (dircache.c): the entries of an archive
 * come grouped by directory. The entry itself is then made by its base name
 * in that directory (openat with O_CREAT | O_EXCL | O_NOFOLLOW, mkdirat,
 * symlinkat, linkat, mknodat), which follows nothing either. A missing
 * parent is created a component at a time, as libarchive does; a
 * component that is not a directory fails the entry.
 *
 * The metadata is libarchive's, in its order: owner (as root, by number,
 * a name counting only when no number came), mode (set-id bits dropped
 * when the owner could not be restored), extended attributes, ACLs, then
 * times. Zero blocks of file data become holes, and a file ending in a
 * hole gets its size from ftruncate, as with ARCHIVE_EXTRACT_SPARSE. A
 * directory gets its extended attributes at once, the rest of its
 * metadata from fixup.c once its content is written; an
 * existing one is left as it is (fixup.c gives it its metadata under
 * --force). Something in the way of an entry is removed first (an empty
 * directory only).
 *
 * Where the kernel has no openat2 (before Linux 5.6, or a seccomp filter
 * refusing it), volume_extract_start says so and restore.c keeps
 * archive_write_disk. CAIRN_TEST_NO_OPENAT2=1 in the environment forces
 * that too, so that the tests cover both.
 */
#include "autoconfig.h"

#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

struct volume_extract {
	struct volume_dirs dirs; /* beneath the target */
	int root;		 /* restores owners */
	int64_t uid;		 /* ours */
	int64_t gid;
	mode_t umask;
	size_t block; /* the target's block size: zero runs become holes */
	struct volume_name name;
	struct volume_name link;

	/* The regular file being written. */
	int fd;
	int parent;  /* borrowed from the cache */
	int64_t end; /* where the last data written ends */
	int failed;  /* its data was not all written: removed at the end */
};

/*
 * Removes what is in the way of entry n in `parent`: anything but a
 * directory, or an empty directory. Returns 0, or -1 with errno set.
 */
static int
volume_clear(struct volume_extract *ex, int parent, const struct volume_name *n)
{
	const char *base = n->text + n->base;

	volume_dirs_forget(&ex->dirs, n->text, n->length);
	if (unlinkat(parent, base, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	return unlinkat(parent, base, AT_REMOVEDIR) == 0 || errno == ENOENT
		       ? 0
		       : -1;
}

int
volume_extract_start(struct volume_restore *r, int target)
{
	struct volume_extract *ex;
	const char *off = getenv("CAIRN_TEST_NO_OPENAT2");
	struct stat st;
	int probe;

	if (off != NULL && strcmp(off, "1") == 0)
		return 0;
	probe = volume_openat2(target, ".", O_PATH | O_DIRECTORY);
	if (probe == -1) {
		if (errno == ENOSYS || errno == EPERM || errno == EINVAL ||
		    errno == E2BIG)
			return 0;
		volume_error(r->err, "cannot open the restore target: %s",
			     strerror(errno));
		return -1;
	}
	close(probe);
	ex = calloc(1, sizeof(*ex));
	if (ex == NULL) {
		volume_error(r->err, "out of memory");
		return -1;
	}
	volume_dirs_init(&ex->dirs, target);
	ex->root = geteuid() == 0;
	ex->uid = geteuid();
	ex->gid = getegid();
	ex->umask = umask(0);
	(void)umask(ex->umask);
	ex->block = fstat(target, &st) == 0 && st.st_blksize > 0
			    ? (size_t)st.st_blksize
			    : 4096;
	ex->fd = -1;
	r->extract = ex;
	return 1;
}

void
volume_extract_end(struct volume_restore *r)
{
	struct volume_extract *ex = r->extract;

	if (ex == NULL)
		return;
	if (ex->fd != -1)
		close(ex->fd);
	volume_dirs_release(&ex->dirs);
	free(ex->name.text);
	free(ex->link.text);
	free(ex);
	r->extract = NULL;
}

int
volume_extract_open_dir(struct volume_restore *r, const char *name)
{
	struct volume_extract *ex = r->extract;
	int parent;

	if (ex == NULL)
		return open(name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (volume_name_set(&ex->name, name) == -1) {
		errno = ENOMEM;
		return -1;
	}
	if (ex->name.length == 0)
		return fcntl(ex->dirs.target, F_DUPFD_CLOEXEC, 0);
	parent = volume_dirs_parent(&ex->dirs, &ex->name);
	if (parent == -1)
		return -1;
	return volume_openat2(parent, ex->name.text + ex->name.base,
			      O_RDONLY | O_DIRECTORY);
}

static uid_t
volume_uid(const struct cairn_entry *e)
{
	return (uid_t)volume_owner_resolve(VOLUME_OWNER_USER, e->uname, e->uid);
}

static gid_t
volume_gid(const struct cairn_entry *e)
{
	return (gid_t)volume_owner_resolve(VOLUME_OWNER_GROUP, e->gname,
					   e->gid);
}

/* The times to set; 0 when the entry has none (left as they are). */
static int
volume_times(const struct cairn_entry *e, struct timespec times[2])
{
	int atime = e->atime.tv_sec != 0 || e->atime.tv_nsec != 0;
	int mtime = e->mtime.tv_sec != 0 || e->mtime.tv_nsec != 0;

	if (!atime && !mtime)
		return 0;
	times[0] = e->atime;
	times[1] = e->mtime;
	if (!atime)
		times[0].tv_nsec = UTIME_NOW;
	if (!mtime)
		times[1].tv_nsec = UTIME_NOW;
	return 1;
}

/*
 * The mode to set: set-user-id only with the owner restored or ours,
 * set-group-id likewise (the kernel clears it besides for a group we
 * are not in).
 */
static mode_t
volume_mode(const struct volume_extract *ex, const struct cairn_entry *e)
{
	mode_t mode = e->mode & 07777;

	if (!ex->root && ex->uid != e->uid)
		mode &= ~(mode_t)S_ISUID;
	if (!ex->root && ex->gid != e->gid)
		mode &= ~(mode_t)S_ISGID;
	return mode;
}

/*
 * Whether `mode` needs a chmod after the file was made with its
 * permission bits: set-id or sticky bits, or bits the umask took away.
 * Like archive_write_disk, a mode the parent's default ACL changed stays.
 */
static int
volume_chmod_needed(const struct volume_extract *ex, mode_t mode)
{
	return mode != (mode & 0777 & ~ex->umask);
}

static void
volume_warn_errno(struct volume_restore *r, const char *what, const char *name)
{
	r->host->log(r->host, CAIRN_LOG_WARNING,
		     "cannot restore %s of '%s': %s", what, name,
		     strerror(errno));
}

/*
 * Extended attributes of an entry open as `fd`, or, when fd is -1, of
 * `base` in `parent` without following it (through the parent's
 * /proc/self/fd link, since there is no lsetxattrat). Warnings only.
 */
static void
volume_set_xattrs(struct volume_restore *r, const struct cairn_entry *e, int fd,
		  int parent, const char *base)
{
	char path[PATH_MAX];
	size_t i;
	int n;

	if (e->xattr_count == 0)
		return;
	if (fd == -1) {
		n = snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", parent,
			     base);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			errno = ENAMETOOLONG;
			volume_warn_errno(r, "the extended attributes",
					  e->name);
			return;
		}
	}
	for (i = 0; i < e->xattr_count; i++) {
		const struct cairn_xattr *x = &e->xattrs[i];
		int rc = fd != -1 ? fsetxattr(fd, x->name, x->value, x->size, 0)
				  : lsetxattr(path, x->name, x->value, x->size,
					      0);

		if (rc == -1)
			r->host->log(r->host, CAIRN_LOG_WARNING,
				     "cannot restore attribute '%s' of '%s': "
				     "%s",
				     x->name, e->name, strerror(errno));
	}
}

/*
 * Metadata of an entry that is not a directory nor a regular file,
 * `base` in `parent`. What cannot be set is a warning, as with
 * archive_write_disk.
 */
static void
volume_set_at(struct volume_restore *r, const struct cairn_entry *e, int parent,
	      const char *base)
{
	struct volume_extract *ex = r->extract;
	struct timespec times[2];

	if (ex->root && fchownat(parent, base, volume_uid(e), volume_gid(e),
				 AT_SYMLINK_NOFOLLOW) == -1)
		volume_warn_errno(r, "the owner", e->name);
	if (e->type != CAIRN_ENTRY_SYMLINK &&
	    volume_chmod_needed(ex, volume_mode(ex, e)) &&
	    fchmodat(parent, base, volume_mode(ex, e), 0) == -1)
		volume_warn_errno(r, "the mode", e->name);
	volume_set_xattrs(r, e, -1, parent, base);
	if (volume_times(e, times) &&
	    utimensat(parent, base, times, AT_SYMLINK_NOFOLLOW) == -1)
		volume_warn_errno(r, "the times", e->name);
}

/* Makes the entry n in `parent`; -1 with errno set. */
static int
volume_make(struct volume_extract *ex, const struct cairn_entry *e, int parent,
	    const char *base)
{
	mode_t perm = e->mode & 0777;
	int source;

	switch (e->type) {
	case CAIRN_ENTRY_FILE:
		ex->fd = openat(parent, base,
				O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
					O_CLOEXEC,
				perm);
		return ex->fd == -1 ? -1 : 0;
	case CAIRN_ENTRY_DIRECTORY:
		return mkdirat(parent, base, (perm | 0700) & 0775);
	case CAIRN_ENTRY_SYMLINK:
		return symlinkat(e->link != NULL ? e->link : "", parent, base);
	case CAIRN_ENTRY_HARDLINK:
		source = volume_dirs_parent(&ex->dirs, &ex->link);
		if (source == -1)
			return -1;
		return linkat(source, ex->link.text + ex->link.base, parent,
			      base, 0);
	case CAIRN_ENTRY_FIFO:
		return mknodat(parent, base, S_IFIFO | perm, 0);
	case CAIRN_ENTRY_CHARDEV:
	case CAIRN_ENTRY_BLOCKDEV:
		return mknodat(parent, base,
			       (e->type == CAIRN_ENTRY_CHARDEV ? S_IFCHR
							       : S_IFBLK) |
				       perm,
			       makedev(e->rdev_major, e->rdev_minor));
	}
	errno = EINVAL;
	return -1;
}

int
volume_extract_header(struct volume_restore *r, const struct cairn_entry *e)
{
	struct volume_extract *ex = r->extract;
	struct cairn_entry dir;
	const char *base;
	struct stat st;
	int parent;

	if (volume_name_set(&ex->name, e->name) == -1 ||
	    (e->type == CAIRN_ENTRY_HARDLINK &&
	     volume_name_set(&ex->link, e->link) == -1)) {
		volume_error(r->err, "out of memory");
		return -1;
	}
	if (ex->name.length == 0 ||
	    (e->type == CAIRN_ENTRY_HARDLINK && ex->link.length == 0)) {
		volume_failure(r, "cannot restore '%s': invalid empty name",
			       e->name);
		return 1;
	}
	parent = volume_dirs_parent(&ex->dirs, &ex->name);
	if (parent == -1)
		goto fail;
	base = ex->name.text + ex->name.base;
	ex->parent = parent;
	ex->end = 0;
	ex->failed = 0;
	if (volume_make(ex, e, parent, base) == -1) {
		if (errno != EEXIST)
			goto fail;
		if (e->type == CAIRN_ENTRY_DIRECTORY &&
		    fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			return 0; /* left as it is; see fixup.c */
		/* The hard link's parent may have left the cache. */
		if (volume_clear(ex, parent, &ex->name) == -1 ||
		    (parent = volume_dirs_parent(&ex->dirs, &ex->name)) == -1 ||
		    volume_make(ex, e, parent, base) == -1)
			goto fail;
		ex->parent = parent;
	}
	switch (e->type) {
	case CAIRN_ENTRY_FILE:
	case CAIRN_ENTRY_HARDLINK:
		break;
	case CAIRN_ENTRY_DIRECTORY:
		/*
		 * Its attributes while it is still writable, the rest once
		 * its content is written.
		 */
		volume_set_xattrs(r, e, -1, parent, base);
		dir = *e;
		dir.xattrs = NULL;
		dir.xattr_count = 0;
		if (volume_fixup_add(r, &dir) == -1)
			return -1;
		break;
	default:
		volume_set_at(r, e, parent, base);
		break;
	}
	return 0;
fail:
	if (e->type == CAIRN_ENTRY_HARDLINK)
		volume_failure(r, "cannot restore hard link '%s' to '%s': %s",
			       e->name, e->link, strerror(errno));
	else
		volume_failure(r, "cannot restore '%s': %s", e->name,
			       strerror(errno));
	return 1;
}

static int
volume_zero(const unsigned char *p, size_t length)
{
	/* Data mostly differs from zero in its first bytes. */
	return length > 0 && p[0] == 0 && memcmp(p, p + 1, length - 1) == 0;
}

/*
 * pwrite of the whole of it, *end raised to where it ends; -1 with errno
 * set.
 */
static int
volume_pwrite(int fd, const unsigned char *p, size_t length, int64_t offset,
	      int64_t *end)
{
	while (length > 0) {
		ssize_t n = pwrite(fd, p, length, (off_t)offset);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		length -= (size_t)n;
		offset += n;
	}
	if (offset > *end)
		*end = offset;
	return 0;
}

int
volume_extract_data(struct volume_restore *r, const struct cairn_entry *e,
		    const void *data, size_t length, int64_t offset)
{
	struct volume_extract *ex = r->extract;
	const unsigned char *p = data, *run = NULL;
	int64_t at = offset, run_at = 0;

	if (ex->failed)
		return 0;
	if (e->size >= 0 && offset + (int64_t)length > e->size)
		length = offset >= e->size ? 0 : (size_t)(e->size - offset);
	/* Runs of non-zero blocks in one write each; zero blocks skipped. */
	while (length > 0) {
		size_t chunk = ex->block - (size_t)(at % (int64_t)ex->block);

		if (chunk > length)
			chunk = length;
		if (volume_zero(p, chunk)) {
			if (run != NULL &&
			    volume_pwrite(ex->fd, run, (size_t)(p - run),
					  run_at, &ex->end) == -1)
				goto fail;
			run = NULL;
		} else if (run == NULL) {
			run = p;
			run_at = at;
		}
		p += chunk;
		at += (int64_t)chunk;
		length -= chunk;
	}
	if (run != NULL && volume_pwrite(ex->fd, run, (size_t)(p - run), run_at,
					 &ex->end) == -1)
		goto fail;
	return 0;
fail:
	volume_failure(r, "cannot write '%s': %s", e->name, strerror(errno));
	ex->failed = 1;
	return 0;
}

/* The metadata of the regular file just written, then closes it. */
static void
volume_finish_file(struct volume_restore *r, const struct cairn_entry *e)
{
	struct volume_extract *ex = r->extract;
	struct timespec times[2];
	int fd = ex->fd;

	if (e->size > ex->end && ftruncate(fd, (off_t)e->size) == -1)
		volume_failure(r, "cannot set the size of '%s': %s", e->name,
			       strerror(errno));
	if (ex->root && fchown(fd, volume_uid(e), volume_gid(e)) == -1)
		volume_warn_errno(r, "the owner", e->name);
	/* After fchown, which clears the set-id bits. */
	if (volume_chmod_needed(ex, volume_mode(ex, e)) &&
	    fchmod(fd, volume_mode(ex, e)) == -1)
		volume_warn_errno(r, "the mode", e->name);
	volume_set_xattrs(r, e, fd, -1, NULL);
	if (e->acl_access != NULL && e->acl_access[0] != '\0' &&
	    volume_acl_write(fd, e->name, VOLUME_ACL_OF_ACCESS,
			     e->acl_access) == -1)
		volume_warn_errno(r, "the access ACL", e->name);
	if (volume_times(e, times) && futimens(fd, times) == -1)
		volume_warn_errno(r, "the times", e->name);
}

int
volume_extract_finish(struct volume_restore *r, const struct cairn_entry *e)
{
	struct volume_extract *ex = r->extract;
	int ok = 1;

	if (ex->fd == -1)
		return 1;
	if (ex->failed) {
		/* Not the archived file: it does not stay looking like one. */
		(void)unlinkat(ex->parent, ex->name.text + ex->name.base, 0);
		ok = 0;
	} else {
		int64_t failed = r->failed;

		volume_finish_file(r, e);
		ok = r->failed == failed;
	}
	if (close(ex->fd) == -1 && ok) {
		volume_failure(r, "cannot write '%s': %s", e->name,
			       strerror(errno));
		ok = 0;
	}
	ex->fd = -1;
	return ok;
}

int
volume_extract_discard(struct volume_restore *r)
{
	struct volume_extract *ex = r->extract;
	int removed;

	if (ex->fd != -1) {
		close(ex->fd);
		ex->fd = -1;
	}
	removed = unlinkat(ex->parent, ex->name.text + ex->name.base, 0) == 0 ||
		  errno == ENOENT;
	return removed;
}
