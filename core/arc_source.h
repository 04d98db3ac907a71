/*
 * The entries of an archive as a restore sees them: in index order, whole
 * (parts reassembled), each checked against its SHA-256 as it is read, so
 * a damaged entry is an error before its end is handed over rather than a
 * silently wrong restore.
 *
 * Two readers: a sequential one for entries stored whole (they come in
 * archive order) and one per entry stored in parts, opened at the frame
 * of its first part. Memory: two readers and one index chunk.
 */
#ifndef CAIRN_ARC_SOURCE_H
#define CAIRN_ARC_SOURCE_H

#include <stdint.h>

#include <cairn/plugin.h>

#include "arc.h"
#include "arc_reader.h"
#include "manifest.h"
#include "sha256.h"

struct chain_restore;

struct arc_source {
	const struct arc *arc; /* borrowed */
	const char *name;      /* the archive's id */
	const struct manifest *manifest;
	struct index_cursor index;
	struct index_record record;
	int have_record;

	struct arc_reader data;
	int data_open;
	struct arc_reader parts;
	int parts_open;
	int in_part;
	unsigned int next_part;
	int64_t part_base;
	struct buf part_name;

	struct cairn_entry entry;
	struct entry_storage storage;
	struct sha256 hash;
	int64_t logical;
	int entry_done;
	int damaged; /* reading failed: the archive is damaged or missing */
	uint64_t data_frame; /* where the sequential reader was opened */
	/* An incremental archive: entries come through its chain (chain.h),
	 * each from the archive holding its final version; owned. */
	struct chain_restore *chain;
};

/* Starts on the entries of a (borrowed: it outlives the source). */
void arc_source_init(struct arc_source *s, const struct arc *a);
/* The host's entry_next and entry_read (include/cairn/plugin.h). */
int arc_source_next(struct arc_source *s, const struct cairn_entry **entry,
		    struct cairn_error *err);
int arc_source_read(struct arc_source *s, const void **data, size_t *length,
		    int64_t *offset, struct cairn_error *err);
/* Positions on the entry named `name`: 1, 0 when there is none, -1. */
int arc_source_find(struct arc_source *s, const char *name,
		    const struct cairn_entry **entry, struct cairn_error *err);
/*
 * Positions on the entry named `name`, which must come later in the
 * index than the current one: 1, or -1 when it is missing. Reads on
 * from the current frame when the entry is in it.
 */
int arc_source_seek(struct arc_source *s, const char *name,
		    const struct cairn_entry **entry, struct cairn_error *err);
void arc_source_close(struct arc_source *s);

#endif
