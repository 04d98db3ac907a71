/*
 * Archive reading of arc_reader.h. libarchive pulls decompressed
 * blocks through a read callback; errors of the zstd layer (a damaged
 * frame, a checksum mismatch, a truncation) are kept and reported in
 * place of libarchive's vaguer message.
 */
#include "arc_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

/* The manifest and an index chunk are small; a bigger one is damage. */
#define MANIFEST_LIMIT (16 * 1024 * 1024)
#define INDEX_CHUNK_LIMIT (64 * 1024 * 1024)

static la_ssize_t
tar_read_callback(struct archive *a, void *client, const void **block)
{
	struct arc_reader *r = client;
	size_t length = 0;
	int rc;

	rc = zstd_reader_read(&r->zstd, block, &length, &r->read_error);
	if (rc < 0) {
		r->read_failed = 1;
		archive_set_error(a, EIO, "%s", r->read_error.message);
		return -1;
	}
	return rc == 0 ? 0 : (la_ssize_t)length;
}

static int
reader_error(struct arc_reader *r, struct cairn_error *err)
{
	if (r->read_failed)
		*err = r->read_error;
	else
		error_set(err, "archive '%s' is damaged: %s", r->name,
			  archive_error_string(r->tar));
	return -1;
}

int
arc_reader_open(struct arc_reader *r, int fd, const char *name,
		uint64_t offset, struct cairn_error *err)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	if (zstd_reader_open(&r->zstd, fd, name, offset, err) != 0)
		return -1;
	r->tar = archive_read_new();
	if (r->tar == NULL ||
	    archive_read_support_format_tar(r->tar) != ARCHIVE_OK ||
	    archive_read_open(r->tar, r, NULL, tar_read_callback, NULL) !=
		    ARCHIVE_OK) {
		if (r->tar != NULL)
			reader_error(r, err);
		else
			error_set(err, "out of memory");
		arc_reader_close(r);
		return -1;
	}
	return 0;
}

int
arc_reader_next(struct arc_reader *r, struct archive_entry **entry,
		struct cairn_error *err)
{
	int rc = archive_read_next_header(r->tar, entry);

	if (rc == ARCHIVE_EOF)
		return 0;
	if (rc < ARCHIVE_WARN)
		return reader_error(r, err);
	/* libarchive gives no name for a header whose name is empty or
	 * unreadable, and every caller compares or copies the name. */
	if (archive_entry_pathname(*entry) == NULL) {
		error_set(err, "archive '%s' is damaged: an entry has no name",
			  r->name);
		return -1;
	}
	return 1;
}

int
arc_reader_data(struct arc_reader *r, const void **data,
		size_t *length, int64_t *offset, struct cairn_error *err)
{
	la_int64_t at;
	int rc = archive_read_data_block(r->tar, data, length, &at);

	if (rc == ARCHIVE_EOF)
		return 0;
	if (rc < ARCHIVE_WARN)
		return reader_error(r, err);
	*offset = at;
	return 1;
}

int
arc_reader_slurp(struct arc_reader *r, size_t limit, struct buf *out,
		 struct cairn_error *err)
{
	const void *data;
	size_t length;
	int64_t offset;
	int rc;

	buf_reset(out);
	while ((rc = arc_reader_data(r, &data, &length, &offset, err)) > 0) {
		if ((uint64_t)offset != out->length ||
		    out->length + length > limit) {
			error_set(err, "archive '%s' has a damaged entry of "
				       "its own",
				  r->name);
			return -1;
		}
		buf_append(out, data, length);
	}
	return rc;
}

void
arc_reader_close(struct arc_reader *r)
{
	if (r->tar != NULL)
		archive_read_free(r->tar);
	r->tar = NULL;
	zstd_reader_release(&r->zstd);
}

int
arc_read_manifest(const char *path, const char *name, struct manifest *m,
		  struct cairn_error *err)
{
	struct arc_reader r;
	struct archive_entry *ae;
	struct buf text = BUF_INIT;
	uint64_t offset;
	int compressed, fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error_errno(err, errno, "cannot open archive '%s'", path);
		return -1;
	}
	if (zstd_io_read_trailer(fd, name, &offset, &compressed, err) != 0)
		goto out_fd;
	if (arc_reader_open(&r, fd, name, offset, err) != 0)
		goto out_fd;
	if (arc_reader_next(&r, &ae, err) <= 0 ||
	    strcmp(archive_entry_pathname(ae), MANIFEST_ENTRY_NAME) != 0) {
		error_set(err, "archive '%s' has no manifest where its index "
			       "says",
			  name);
		goto out;
	}
	if (arc_reader_slurp(&r, MANIFEST_LIMIT, &text, err) != 0)
		goto out;
	if (manifest_parse(m, text.data, text.length, err) != 0) {
		error_prefix(err, "archive '%s'", name);
		goto out;
	}
	/* Every caller names the archive by its id. Without compression
	 * nothing else would catch a damaged id, and a renamed file
	 * must not pass for another archive. */
	if (strcmp(m->id, name) != 0) {
		error_set(err,
			  "archive '%s' is damaged: its manifest names "
			  "archive '%s'",
			  name, m->id);
		goto out;
	}
	rc = 0;
out:
	arc_reader_close(&r);
out_fd:
	close(fd);
	buf_release(&text);
	return rc;
}

void
index_cursor_init(struct index_cursor *c, int fd, const char *name,
		  const struct manifest *m)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->name = name;
	c->manifest = m;
}

static int
index_cursor_load(struct index_cursor *c, struct cairn_error *err)
{
	struct arc_reader r;
	struct archive_entry *ae;
	struct buf wanted = BUF_INIT;
	int rc = -1, found;

	buf_printf(&wanted, "%s%06zu", INDEX_ENTRY_PREFIX, c->chunk + 1);
	if (arc_reader_open(&r, c->fd, c->name,
			    c->manifest->index_frames[c->chunk], err) != 0)
		goto out_name;
	while ((found = arc_reader_next(&r, &ae, err)) > 0)
		if (strcmp(archive_entry_pathname(ae), buf_str(&wanted)) == 0)
			break;
	if (found < 0)
		goto out;
	if (found == 0) {
		error_set(err, "archive '%s': index chunk %zu is missing",
			  c->name, c->chunk + 1);
		goto out;
	}
	if (arc_reader_slurp(&r, INDEX_CHUNK_LIMIT, &c->text, err) != 0)
		goto out;
	c->position = 0;
	c->chunk++;
	rc = 0;
out:
	arc_reader_close(&r);
out_name:
	buf_release(&wanted);
	return rc;
}

int
index_cursor_next(struct index_cursor *c, struct index_record *record,
		  struct cairn_error *err)
{
	const char *line, *end;

	while (c->position >= c->text.length) {
		if (c->chunk >= c->manifest->index_frame_count) {
			if (c->count != c->manifest->entries) {
				error_set(err,
					  "archive '%s': the index lists %llu "
					  "entries, the manifest %llu",
					  c->name,
					  (unsigned long long)c->count,
					  (unsigned long long)
						  c->manifest->entries);
				return -1;
			}
			return 0;
		}
		if (index_cursor_load(c, err) != 0)
			return -1;
	}
	line = c->text.data + c->position;
	end = memchr(line, '\n', c->text.length - c->position);
	if (end == NULL)
		end = c->text.data + c->text.length;
	c->position = (size_t)(end - c->text.data) + 1;
	if (index_record_parse(record, line, (size_t)(end - line), err) != 0) {
		error_prefix(err, "archive '%s'", c->name);
		return -1;
	}
	c->count++;
	return 1;
}

void
index_cursor_release(struct index_cursor *c)
{
	buf_release(&c->text);
}

static enum cairn_entry_type
entry_type_of(struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae) != NULL)
		return CAIRN_ENTRY_HARDLINK;
	switch (archive_entry_filetype(ae)) {
	case AE_IFDIR:
		return CAIRN_ENTRY_DIRECTORY;
	case AE_IFLNK:
		return CAIRN_ENTRY_SYMLINK;
	case AE_IFIFO:
		return CAIRN_ENTRY_FIFO;
	case AE_IFCHR:
		return CAIRN_ENTRY_CHARDEV;
	case AE_IFBLK:
		return CAIRN_ENTRY_BLOCKDEV;
	default:
		return CAIRN_ENTRY_FILE;
	}
}

void
entry_from_archive(struct archive_entry *ae, struct cairn_entry *e,
		   struct entry_storage *st)
{
	const char *xname;
	const void *xvalue;
	size_t xsize, n;
	la_int64_t offset, length;

	memset(e, 0, sizeof(*e));
	free(st->acl_access);
	free(st->acl_default);
	st->acl_access = NULL;
	st->acl_default = NULL;
	free(st->name);
	st->name = xstrdup(archive_entry_pathname(ae));
	for (n = strlen(st->name); n > 1 && st->name[n - 1] == '/'; n--)
		st->name[n - 1] = '\0';
	e->name = st->name;
	e->type = entry_type_of(ae);
	e->mode = archive_entry_perm(ae) & 07777;
	e->uid = archive_entry_uid(ae);
	e->gid = archive_entry_gid(ae);
	e->uname = archive_entry_uname(ae);
	e->gname = archive_entry_gname(ae);
	e->mtime.tv_sec = archive_entry_mtime(ae);
	e->mtime.tv_nsec = archive_entry_mtime_nsec(ae);
	if (archive_entry_atime_is_set(ae)) {
		e->atime.tv_sec = archive_entry_atime(ae);
		e->atime.tv_nsec = archive_entry_atime_nsec(ae);
	}
	e->size = e->type == CAIRN_ENTRY_FILE ? archive_entry_size(ae) : 0;
	if (e->type == CAIRN_ENTRY_HARDLINK)
		e->link = archive_entry_hardlink(ae);
	else if (e->type == CAIRN_ENTRY_SYMLINK)
		e->link = archive_entry_symlink(ae);
	e->rdev_major = archive_entry_rdevmajor(ae);
	e->rdev_minor = archive_entry_rdevminor(ae);

	n = (size_t)archive_entry_xattr_reset(ae);
	if (n > st->xattr_capacity) {
		st->xattrs = xrealloc(st->xattrs, n * sizeof(*st->xattrs));
		st->xattr_capacity = n;
	}
	e->xattrs = st->xattrs;
	while (archive_entry_xattr_next(ae, &xname, &xvalue, &xsize) ==
	       ARCHIVE_OK) {
		st->xattrs[e->xattr_count].name = xname;
		st->xattrs[e->xattr_count].value = xvalue;
		st->xattrs[e->xattr_count].size = xsize;
		e->xattr_count++;
	}

	if (archive_entry_acl_types(ae) & ARCHIVE_ENTRY_ACL_TYPE_ACCESS)
		st->acl_access = archive_entry_acl_to_text(
			ae, NULL, ARCHIVE_ENTRY_ACL_TYPE_ACCESS);
	if (archive_entry_acl_types(ae) & ARCHIVE_ENTRY_ACL_TYPE_DEFAULT)
		st->acl_default = archive_entry_acl_to_text(
			ae, NULL, ARCHIVE_ENTRY_ACL_TYPE_DEFAULT);
	e->acl_access = st->acl_access;
	e->acl_default = st->acl_default;

	n = (size_t)archive_entry_sparse_reset(ae);
	if (n > st->extent_capacity) {
		st->extents = xrealloc(st->extents, n * sizeof(*st->extents));
		st->extent_capacity = n;
	}
	e->extents = st->extents;
	while (archive_entry_sparse_next(ae, &offset, &length) == ARCHIVE_OK) {
		st->extents[e->extent_count].offset = offset;
		st->extents[e->extent_count].length = length;
		e->extent_count++;
	}
}

void
entry_storage_release(struct entry_storage *st)
{
	free(st->name);
	free(st->xattrs);
	free(st->extents);
	free(st->acl_access);
	free(st->acl_default);
	memset(st, 0, sizeof(*st));
}

int
arc_name_is(const char *pathname, const char *name)
{
	size_t length = strlen(name);

	if (strncmp(pathname, name, length) != 0)
		return 0;
	pathname += length;
	while (*pathname == '/')
		pathname++;
	return *pathname == '\0';
}
