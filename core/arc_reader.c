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
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "error.h"
#include "format.h"

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
arc_reader_open(struct arc_reader *r, const struct arc *a, uint64_t offset,
		struct cairn_error *err)
{
	memset(r, 0, sizeof(*r));
	r->name = a->name;
	if (zstd_reader_open(&r->zstd, a->blob, &a->trailer, offset, err) != 0)
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
arc_reader_data(struct arc_reader *r, const void **data, size_t *length,
		int64_t *offset, struct cairn_error *err)
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
			error_set(err,
				  "archive '%s' has a damaged entry of "
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
	st->name = format_entry_name(archive_entry_pathname(ae));
	e->name = st->name;
	e->type = format_entry_type(ae);
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
