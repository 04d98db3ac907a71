/*
 * Backup: what each file the walk meets becomes. One entry per file,
 * named by its absolute path without the leading '/', as tar does. It
 * keeps type, permissions, numeric owners and their names, nanosecond
 * modification and access times, symlink targets, hard links (the second
 * and later links name the first), sparse files (SEEK_DATA/SEEK_HOLE:
 * only the data regions are written), extended attributes and ACLs
 * (xattr.c), fifos and device nodes. Sockets are skipped.
 *
 * A regular file is read through one descriptor, and fstat before and
 * after tells whether it changed meanwhile. A file that vanishes, cannot
 * be read or changes while it is read is a warning naming it, never a
 * silent success; a file that shrank is padded with zeros to the size
 * its entry declared, since the entry's size was already written.
 */
#include "autoconfig.h"

#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/*
 * Lists the data regions of a file that may be sparse. Returns the
 * number of extents, or 0 when the file is best read whole.
 */
static size_t
volume_extents(struct volume_walk *w, int fd, int64_t size)
{
	size_t count = 0;
	off_t offset = 0;

	while (offset < size) {
		off_t data = lseek(fd, offset, SEEK_DATA), hole;

		if (data == -1) {
			if (errno == ENXIO)
				break;
			return 0;
		}
		if (data >= size)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole == -1)
			return 0;
		if (hole > size)
			hole = size;
		if (volume_grow((void **)&w->extents, &w->extents_capacity,
				count + 1, sizeof(*w->extents)) == -1)
			return 0;
		w->extents[count].offset = data;
		w->extents[count].length = hole - data;
		count++;
		offset = hole;
	}
	if (count == 1 && w->extents[0].offset == 0 &&
	    w->extents[0].length == size)
		return 0;
	if (count == 0) {
		/* All hole: one zero byte at the end keeps the size. */
		if (volume_grow((void **)&w->extents, &w->extents_capacity, 1,
				sizeof(*w->extents)) == -1)
			return 0;
		w->extents[0].offset = size - 1;
		w->extents[0].length = 1;
		count = 1;
	}
	return count;
}

static int
volume_write_zeros(struct volume_walk *w, struct cairn_stream *stream,
		   int64_t count)
{
	memset(w->buffer, 0, VOLUME_BUFFER_SIZE);
	while (count > 0) {
		size_t chunk = count > VOLUME_BUFFER_SIZE ? VOLUME_BUFFER_SIZE
							  : (size_t)count;

		if (w->host->stream_write(stream, w->buffer, chunk, w->err) ==
		    -1)
			return -1;
		count -= (int64_t)chunk;
	}
	return 0;
}

/*
 * Writes the content of an open regular file: the extents listed, or
 * the whole file. Sets *shrank when the file ended early (the rest is
 * zeros) and *failed on a read error (likewise).
 */
static int
volume_copy(struct volume_walk *w, struct cairn_stream *stream, int fd,
	    const struct cairn_entry *entry, int *shrank, int *failed)
{
	struct cairn_extent whole = {0, entry->size};
	const struct cairn_extent *extents = entry->extents;
	size_t count = entry->extent_count, i;
	int64_t missing = 0;

	if (count == 0) {
		extents = &whole;
		count = 1;
	}
	for (i = 0; i < count; i++) {
		int64_t done = 0;

		if (*shrank || *failed) {
			missing += extents[i].length;
			continue;
		}
		while (done < extents[i].length) {
			int64_t left = extents[i].length - done;
			size_t want = left > VOLUME_BUFFER_SIZE
					      ? VOLUME_BUFFER_SIZE
					      : (size_t)left;
			ssize_t n = pread(fd, w->buffer, want,
					  extents[i].offset + done);

			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (n == -1) {
					*failed = errno;
				} else {
					*shrank = 1;
				}
				missing += left;
				break;
			}
			if (w->host->stream_write(stream, w->buffer, (size_t)n,
						  w->err) == -1)
				return -1;
			done += n;
			w->bytes += n;
			volume_progress(w->host, entry->name, w->bytes, -1);
		}
	}
	return missing > 0 ? volume_write_zeros(w, stream, missing) : 0;
}

static int
volume_same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Writes one entry without content. */
static int
volume_put(struct volume_walk *w, const struct cairn_entry *entry)
{
	struct cairn_stream *stream;

	if (w->host->stream_open(w->sink, entry, &stream, w->err) == -1)
		return -1;
	if (w->stating && w->host->stream_state(stream, w->state, w->err) == -1)
		return -1;
	w->entries++;
	return w->host->stream_close(stream, w->err);
}

/*
 * Backs up a regular file of non-zero size: open, list its extents,
 * copy, and compare what fstat says after with before. Returns 0 when
 * the file was written or skipped with a warning.
 */
static int
volume_put_file(struct volume_walk *w, int dirfd, const char *base,
		struct cairn_entry *entry, struct stat *st, int *written)
{
	struct cairn_stream *stream = NULL;
	struct stat after;
	int fd, shrank = 0, failed = 0, rc = -1;

	*written = 0;
	fd = volume_open_read(dirfd, base,
			      O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			volume_warn(w, "file '%s' vanished before it was read",
				    w->path);
		else
			volume_warn(w, "cannot open '%s': %s; skipped", w->path,
				    strerror(errno));
		return 0;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		volume_warn(w,
			    "file '%s' was replaced while it was read; "
			    "skipped",
			    w->path);
		rc = 0;
		goto out;
	}
	entry->size = st->st_size;
	entry->mode = st->st_mode & 07777;
	entry->mtime = st->st_mtim;
	entry->atime = st->st_atim;
	volume_xattr_read(w, fd, entry);
	if (st->st_size > 0 && (int64_t)st->st_blocks * 512 < st->st_size) {
		entry->extent_count = volume_extents(w, fd, st->st_size);
		entry->extents = entry->extent_count > 0 ? w->extents : NULL;
	}
	if (st->st_size > VOLUME_BUFFER_SIZE)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	volume_progress(w->host, entry->name, w->bytes, -1);
	if (w->host->stream_open(w->sink, entry, &stream, w->err) == -1)
		goto out;
	if (w->stating && w->host->stream_state(stream, w->state, w->err) == -1)
		goto out;
	if (volume_copy(w, stream, fd, entry, &shrank, &failed) == -1)
		goto out;
	rc = w->host->stream_close(stream, w->err);
	if (rc == -1)
		goto out;
	w->entries++;
	w->files++;
	*written = 1;
	if (failed)
		volume_warn(w,
			    "cannot read '%s': %s; the rest of it is "
			    "archived as zeros",
			    w->path, strerror(failed));
	else if (shrank)
		volume_warn(w,
			    "file '%s' shrank while it was read; padded "
			    "with zeros to %" PRId64 " bytes",
			    w->path, entry->size);
	else if (fstat(fd, &after) == 0 &&
		 (after.st_size != st->st_size ||
		  !volume_same_time(&after.st_mtim, &st->st_mtim) ||
		  after.st_ino != st->st_ino))
		volume_warn(w, "file '%s' changed while it was read", w->path);
out:
	/*
	 * A stream still open here is left to the core, which discards it
	 * with the whole archive when backup fails.
	 */
	close(fd);
	return rc;
}

/*
 * Records what tells the file unchanged next time in w->state and, on an
 * incremental backup, compares it with the base: 1 when the file is
 * unchanged (nothing to write), 0 when it is to be written, -1.
 */
static int
volume_visit_state(struct volume_walk *w, int dirfd, const char *base,
		   const struct stat *st, int fd, struct cairn_entry *entry)
{
	char target[PATH_MAX + 1];
	ssize_t n;

	entry->link = NULL;
	w->base_pending = 0;
	if (S_ISLNK(st->st_mode)) {
		n = readlinkat(dirfd, base, target, sizeof(target) - 1);
		if (n < 0)
			n = 0; /* the backup warns of it below */
		target[n] = '\0';
		entry->link = target;
	}
	volume_xattr_read(w, S_ISDIR(st->st_mode) ? fd : -1, entry);
	if (volume_state_make(w, st, entry) == -1)
		return -1;
	entry->link = NULL;
	entry->xattrs = NULL;
	entry->xattr_count = 0;
	entry->acl_access = NULL;
	entry->acl_default = NULL;
	if (!w->incremental)
		return 0;
	return volume_base_match(w, entry->name, st);
}

int
volume_visit(struct volume_walk *w, int dirfd, const char *base,
	     struct stat *st, int fd)
{
	struct cairn_entry entry;
	struct volume_slot *first = NULL;
	char *target = NULL;
	int written = 1, rc = -1;

	if (w->sink == NULL) {
		/* check: count only */
		w->entries++;
		if (S_ISREG(st->st_mode)) {
			w->files++;
			w->bytes += st->st_size;
		}
		return 0;
	}
	memset(&entry, 0, sizeof(entry));
	entry.name = w->path + 1;
	if (entry.name[0] == '\0')
		return 0; /* "/" itself has no name */
	if (strncmp(entry.name, ".cairn", 6) == 0) {
		volume_warn(w, "'%s' has a name reserved by cairn; skipped",
			    w->path);
		return 0;
	}
	entry.mode = st->st_mode & 07777;
	entry.uid = st->st_uid;
	entry.gid = st->st_gid;
	entry.uname = volume_owner_name(&w->owners, VOLUME_OWNER_USER,
					st->st_uid);
	entry.gname = volume_owner_name(&w->owners, VOLUME_OWNER_GROUP,
					st->st_gid);
	entry.mtime = st->st_mtim;
	entry.atime = st->st_atim;

	if (w->stating) {
		rc = volume_visit_state(w, dirfd, base, st, fd, &entry);
		if (rc != 0)
			return rc > 0 ? 0 : -1;
		rc = -1;
	}

	if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
		first = volume_map_find(&w->links, st->st_dev, st->st_ino);
		if (first != NULL) {
			entry.type = CAIRN_ENTRY_HARDLINK;
			entry.link = first->value;
			rc = volume_put(w, &entry);
			goto out;
		}
	}

	switch (st->st_mode & S_IFMT) {
	case S_IFREG:
		entry.type = CAIRN_ENTRY_FILE;
		if (st->st_size > 0) {
			rc = volume_put_file(w, dirfd, base, &entry, st,
					     &written);
			if (rc == -1 || !written)
				goto out;
			break;
		}
		volume_xattr_read(w, -1, &entry);
		w->files++;
		rc = volume_put(w, &entry);
		break;
	case S_IFDIR:
		entry.type = CAIRN_ENTRY_DIRECTORY;
		volume_xattr_read(w, fd, &entry);
		rc = volume_put(w, &entry);
		break;
	case S_IFLNK: {
		size_t size = st->st_size > 0 ? (size_t)st->st_size + 1
					      : PATH_MAX;
		ssize_t n;

		target = malloc(size);
		if (target == NULL) {
			volume_error(w->err, "out of memory");
			goto out;
		}
		n = readlinkat(dirfd, base, target, size);
		if (n < 0 || (size_t)n >= size) {
			volume_warn(w, "cannot read symlink '%s': %s; skipped",
				    w->path,
				    n < 0 ? strerror(errno) : "it changed");
			rc = 0;
			written = 0;
			goto out;
		}
		target[n] = '\0';
		entry.type = CAIRN_ENTRY_SYMLINK;
		entry.link = target;
		volume_xattr_read(w, -1, &entry);
		rc = volume_put(w, &entry);
		break;
	}
	case S_IFIFO:
		entry.type = CAIRN_ENTRY_FIFO;
		volume_xattr_read(w, -1, &entry);
		rc = volume_put(w, &entry);
		break;
	case S_IFCHR:
	case S_IFBLK:
		entry.type = S_ISCHR(st->st_mode) ? CAIRN_ENTRY_CHARDEV
						  : CAIRN_ENTRY_BLOCKDEV;
		entry.rdev_major = major(st->st_rdev);
		entry.rdev_minor = minor(st->st_rdev);
		volume_xattr_read(w, -1, &entry);
		rc = volume_put(w, &entry);
		break;
	default:
		w->host->log(w->host, CAIRN_LOG_DEBUG,
			     "'%s' is a socket or of an unknown type; skipped",
			     w->path);
		rc = 0;
		written = 0;
		break;
	}
	if (rc == 0 && written && !S_ISDIR(st->st_mode) && st->st_nlink > 1) {
		char *name = strdup(entry.name);

		if (name == NULL || volume_map_put(&w->links, st->st_dev,
						   st->st_ino, name) == -1) {
			free(name);
			volume_error(w->err, "out of memory");
			rc = -1;
		}
	}
out:
	/* A changed file of the base that could not be saved is gone from
	 * this archive's tree, as it would be from a full one. */
	if (rc == 0 && !written && w->base_pending) {
		rc = w->host->base_removed(w->sink, entry.name, w->err);
		w->removed++;
	}
	w->base_pending = 0;
	free(target);
	return rc;
}

static void
volume_fact_number(const struct cairn_host *host, struct cairn_sink *sink,
		   const char *key, int64_t value)
{
	char text[32];

	(void)snprintf(text, sizeof(text), "%" PRId64, value);
	host->fact_set(sink, key, text);
}

/*
 * Whether the host records states, and whether this backup builds on a
 * base (then the base's first entry is current). 0 or -1.
 */
static int
volume_backup_base(struct volume_walk *w)
{
	const struct cairn_host *host = w->host;
	int rc;

	if (!CAIRN_HOST_HAS(host, base_removed) || host->stream_state == NULL ||
	    host->base_open == NULL)
		return 0;
	w->stating = 1;
	rc = host->base_open(w->sink, &w->base_started, w->err);
	if (rc <= 0)
		return rc;
	w->incremental = 1;
	return volume_base_start(w);
}

int
volume_backup(void *state, const struct cairn_host *host,
	      struct cairn_sink *sink, struct cairn_error *err)
{
	const struct volume *vol = state;
	struct volume_walk w;
	char *paths = NULL;
	size_t length = 0, capacity = 0, i;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	w.vol = vol;
	w.host = host;
	w.sink = sink;
	w.err = err;
	err->message[0] = '\0';
	if (vol->path_count == 0) {
		volume_error(err, "job '%s' has no paths to back up", vol->job);
		return -1;
	}
	w.buffer = malloc(VOLUME_BUFFER_SIZE);
	if (w.buffer == NULL) {
		volume_error(err, "out of memory");
		goto out;
	}
	if (volume_backup_base(&w) == -1)
		goto out;
	for (i = 0; i < vol->path_count; i++) {
		if (volume_walk_root(&w, vol->paths[i]) == -1)
			goto out;
		if (volume_quote(&paths, &length, &capacity, vol->paths[i]) ==
		    -1) {
			volume_error(err, "out of memory");
			goto out;
		}
	}
	if (w.incremental && volume_base_finish(&w) == -1)
		goto out;
	if (w.incremental) {
		host->log(host, CAIRN_LOG_INFO,
			  "%" PRId64 " entries written, %" PRId64
			  " unchanged, %" PRId64 " removed",
			  w.entries, w.unchanged, w.removed);
		volume_fact_number(host, sink, "unchanged", w.unchanged);
		volume_fact_number(host, sink, "removed", w.removed);
	}
	host->fact_set(sink, "paths", paths);
	volume_fact_number(host, sink, "entries", w.entries);
	volume_fact_number(host, sink, "files", w.files);
	volume_fact_number(host, sink, "bytes", w.bytes);
	rc = 0;
out:
	free(paths);
	volume_walk_release(&w);
	return rc;
}
