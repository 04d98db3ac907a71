/*
 * Reading an archive's tar stream from any frame offset: libarchive over
 * the zstd container of zstd_io.h, over the archive's blob (arc.h).
 *
 * Ownership: a reader owns its libarchive handle and buffers; the entry
 * returned by arc_reader_next belongs to the reader and lives until
 * the next call. The reader borrows the struct arc it reads.
 */
#ifndef CAIRN_ARC_READER_H
#define CAIRN_ARC_READER_H

#include <stdint.h>

#include <cairn/plugin.h>

#include "buf.h"
#include "manifest.h"
#include "zstd_io.h"

struct arc;
struct archive;
struct archive_entry;

struct arc_reader {
	struct zstd_reader zstd;
	struct archive *tar;
	struct cairn_error read_error; /* from the zstd layer */
	int read_failed;
	const char *name;
};

/* Starts reading the archive a (borrowed) at `offset`, a frame start. */
int arc_reader_open(struct arc_reader *r, const struct arc *a, uint64_t offset,
		    struct cairn_error *err);
/* 1 and the next header, 0 at the end, -1 on error. */
int arc_reader_next(struct arc_reader *r, struct archive_entry **entry,
		    struct cairn_error *err);
/* 1 and the next data block with its offset, 0 at the end of the entry. */
int arc_reader_data(struct arc_reader *r, const void **data, size_t *length,
		    int64_t *offset, struct cairn_error *err);
/* Reads the rest of the current entry (at most `limit` bytes) into out. */
int arc_reader_slurp(struct arc_reader *r, size_t limit, struct buf *out,
		     struct cairn_error *err);
void arc_reader_close(struct arc_reader *r);

/* Fills a plugin-facing entry from a libarchive header; strings point
 * into `ae` or into `storage` (reset first), valid while both live. */
struct entry_storage {
	char *name;
	struct cairn_xattr *xattrs;
	size_t xattr_capacity;
	struct cairn_extent *extents;
	size_t extent_capacity;
	char *acl_access;
	char *acl_default;
};
void entry_from_archive(struct archive_entry *ae, struct cairn_entry *e,
			struct entry_storage *storage);
void entry_storage_release(struct entry_storage *storage);

#endif
