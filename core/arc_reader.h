/*
 * Reading archives: the tar stream from any frame offset (libarchive over
 * the zstd container of zstd_io.h), the manifest from the archive's end,
 * and the index chunks the manifest points to.
 *
 * Ownership: a reader owns its libarchive handle and buffers; the entry
 * returned by arc_reader_next belongs to the reader and lives until
 * the next call. The reader does not own the file descriptor.
 */
#ifndef CAIRN_ARC_READER_H
#define CAIRN_ARC_READER_H

#include <stdint.h>

#include <cairn/plugin.h>

#include "buf.h"
#include "manifest.h"
#include "zstd_io.h"

struct archive;
struct archive_entry;

struct arc_reader {
	struct zstd_reader zstd;
	struct archive *tar;
	struct cairn_error read_error; /* from the zstd layer */
	int read_failed;
	const char *name;
};

/* Starts reading the archive in fd at `offset`, a frame start. */
int arc_reader_open(struct arc_reader *r, int fd, const char *name,
		    uint64_t offset, struct cairn_error *err);
/* 1 and the next header, 0 at the end, -1 on error. */
int arc_reader_next(struct arc_reader *r, struct archive_entry **entry,
		    struct cairn_error *err);
/* 1 and the next data block with its offset, 0 at the end of the entry. */
int arc_reader_data(struct arc_reader *r, const void **data,
		    size_t *length, int64_t *offset,
		    struct cairn_error *err);
/* Reads the rest of the current entry (at most `limit` bytes) into out. */
int arc_reader_slurp(struct arc_reader *r, size_t limit,
		     struct buf *out, struct cairn_error *err);
void arc_reader_close(struct arc_reader *r);

/*
 * Reads the manifest of the archive at `path` (fills m, initialised by
 * the caller). `name` is the archive's id, used in messages; a manifest
 * that names another id is damage. 0 or -1.
 */
int arc_read_manifest(const char *path, const char *name,
		      struct manifest *m, struct cairn_error *err);

/*
 * Walks the index records of an archive in order. Memory: one chunk.
 */
struct index_cursor {
	int fd;
	const char *name;
	const struct manifest *manifest;
	size_t chunk;     /* next chunk to load */
	struct buf text;  /* the loaded chunk */
	size_t position;  /* in text */
	uint64_t count;   /* records returned */
};

void index_cursor_init(struct index_cursor *c, int fd, const char *name,
		       const struct manifest *m);
/* 1 and the next record (owned by the caller), 0 at the end, -1. */
int index_cursor_next(struct index_cursor *c, struct index_record *record,
		      struct cairn_error *err);
void index_cursor_release(struct index_cursor *c);

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

/*
 * Whether the tar header's path names the entry `name`: libarchive gives
 * directories a trailing '/', which entry names do not have.
 */
int arc_name_is(const char *pathname, const char *name);

#endif
