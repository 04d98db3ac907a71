/*
 * An archive opened for reading: its bytes (a blob), what its trailer
 * says, and its manifest, read and checked. Every command that reads an
 * archive starts with arc_open; readers, sources, the index cursor and
 * verification work on the struct arc it returns.
 *
 * Ownership: the struct arc owns its blob and its manifest; arc_close
 * frees both. Everything opened on an archive (readers, cursors,
 * sources) borrows it and must be closed first.
 */
#ifndef CAIRN_ARC_H
#define CAIRN_ARC_H

#include <stdint.h>

#include <cairn/plugin.h>

#include "blob.h"
#include "buf.h"
#include "manifest.h"
#include "zstd_io.h"

struct arc {
	struct blob *blob;
	struct zstd_trailer trailer;
	struct manifest manifest;
	const char *name; /* the archive's id, the blob's name */
};

/*
 * Opens the archive file at `path`, whose id is `name`: reads its
 * trailer and its manifest. A manifest that names another id is damage.
 * 0 with *a set, or -1.
 */
int arc_open(struct arc **a, const char *path, const char *name,
	     struct cairn_error *err);
/* The same over any blob, which it takes (closed on failure too). */
int arc_open_blob(struct arc **a, struct blob *b, struct cairn_error *err);
/* NULL is fine. */
void arc_close(struct arc *a);

/*
 * Reads cairn's own entry `name` (an index or removal chunk) from the
 * frame at `frame`, at most `limit` bytes, into out: 1, 0 when that frame
 * does not lead to it (err not set), -1.
 */
int arc_read_chunk(const struct arc *a, uint64_t frame, const char *name,
		   size_t limit, struct buf *out, struct cairn_error *err);

/*
 * Walks the index records of an archive in order. Memory: one chunk.
 */
struct index_cursor {
	const struct arc *arc;
	size_t chunk;	 /* next chunk to load */
	struct buf text; /* the loaded chunk */
	size_t position; /* in text */
	uint64_t count;	 /* records returned */
};

void index_cursor_init(struct index_cursor *c, const struct arc *a);
/* 1 and the next record (owned by the caller), 0 at the end, -1. */
int index_cursor_next(struct index_cursor *c, struct index_record *record,
		      struct cairn_error *err);
void index_cursor_release(struct index_cursor *c);

#endif
