/*
 * Chains of incremental archives.
 *
 * An incremental archive holds the entries that changed since its parent
 * (the job's previous archive), every directory, and the names removed
 * (or whose type changed) since then; its manifest names the parent. A
 * chain runs from a full archive to an incremental one through parents.
 *
 * Every archive a chain is made of lists its entries in chain order
 * (chain_name_compare: component by component, so a directory comes
 * just before what it holds), which lets the tree as it was at the
 * newest archive be merged from the indexes one record at a time:
 * for each name, the newest archive that lists it, in its index (kept)
 * or in its removals (gone), decides. Memory: one index chunk and the
 * removals of each archive of the chain.
 *
 * The view of a job's tree at its newest archive is also kept in a
 * local file, REPO/cache/JOB.view (index records in chain order between
 * a header naming the archive and a trailer with its stored size and a
 * SHA-256 of the lines), so an incremental backup reads neither the
 * chain nor, with encryption, needs the identity. It is rebuilt from
 * the chain when missing or stale, and never used when its checksum or
 * its archive does not match the catalogue.
 *
 * Ownership: a struct chain owns its links; a view owns its streams and
 * the record it returns (valid until the next call).
 */
#ifndef CAIRN_CHAIN_H
#define CAIRN_CHAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cairn/plugin.h>

#include "buf.h"
#include "manifest.h"
#include "sha256.h"

/* Longest chain followed (each link holds its archive open): past it an
 * archive is taken as damage. */
#define CHAIN_LIMIT 500

/* <0, 0, >0 like strcmp, with '/' sorting before every other byte. */
int chain_name_compare(const char *a, const char *b);

struct arc;

struct chain_link {
	char *path;
	struct arc *arc;		 /* open, owned */
	const struct manifest *manifest; /* the arc's */
};

struct chain {
	struct chain_link *links; /* the full archive first, `id` last */
	size_t count;
};

/*
 * Where the archives of a chain come from when they are not the files
 * beside the newest one in its job's directory: restore --from and
 * cat --from open them on the offsite target (offsite_read.h).
 */
struct chain_opener {
	/* Opens the archive `id`, with an owned name of it in *path: 0,
	 * 1 when there is no such archive, or -1 (err says why). */
	int (*open)(void *context, const char *id, struct arc **a, char **path,
		    struct cairn_error *err);
	void *context;
	const char *where; /* for messages: "offsite NAME" */
};

/*
 * Loads the chain ending at the archive `id` at `path`: its manifest and
 * each parent's, found beside it in the job's directory, or, with
 * `from`, opened through it (`path` is then unused). A missing or
 * unreadable parent, or one of another job, is an error naming it.
 */
int chain_load(struct chain *c, const char *path, const char *id,
	       const struct chain_opener *from, struct cairn_error *err);
void chain_release(struct chain *c);

struct chain_stream;

struct chain_view {
	const struct chain *chain;
	struct chain_stream *streams; /* one per link */
	struct index_record current;
	int have_current;
	uint64_t count;
};

int chain_view_open(struct chain_view *v, const struct chain *c,
		    struct cairn_error *err);
/*
 * 1 and the next record of the tree at the newest archive with the
 * index of the link that holds it, 0 at the end, -1 on error (an archive
 * out of order, unreadable, damaged).
 */
int chain_view_next(struct chain_view *v, const struct index_record **r,
		    size_t *link, struct cairn_error *err);
void chain_view_close(struct chain_view *v);

/* The view file of a job: written while a backup runs. */
struct view_writer {
	FILE *file;
	char *path;  /* the temporary file */
	char *final; /* REPO/cache/JOB.view */
	struct sha256 hash;
	uint64_t count;
	char *last;    /* the last name, to check the order */
	int unordered; /* then the file is dropped at the end */
};

/* Starts REPO/cache/.JOB.view.tmp for the archive `id`. */
int view_writer_open(struct view_writer *v, const char *repository,
		     const char *job, const char *id, struct cairn_error *err);
void view_writer_add(struct view_writer *v, const struct index_record *r);
/* Ends the file with `stored`, the archive's size, and renames it. */
int view_writer_commit(struct view_writer *v, uint64_t stored,
		       struct cairn_error *err);
void view_writer_abort(struct view_writer *v);

struct view_reader {
	FILE *file;
	char *raw; /* getline's buffer */
	size_t raw_capacity;
	struct buf line;
	struct index_record record;
	int have_record;
	uint64_t count;
	uint64_t expected;
};

/*
 * Opens the view file of `job` if it describes archive `id` of `stored`
 * bytes and its checksum holds: 1, or 0 (err says why) when it is
 * missing, stale or damaged.
 */
int view_reader_open(struct view_reader *v, const char *repository,
		     const char *job, const char *id, uint64_t stored,
		     struct cairn_error *err);
/* 1 and the next record (owned by the reader), 0 at the end, -1. */
int view_reader_next(struct view_reader *v, const struct index_record **r,
		     struct cairn_error *err);
void view_reader_close(struct view_reader *v);

/*
 * Rewrites the view file of the chain's job from the chain itself; every
 * record must carry a state (archives written before states cannot be
 * built on). 0 or -1.
 */
int view_rebuild(const char *repository, const struct chain *c, uint64_t stored,
		 struct cairn_error *err);

/*
 * Restoring an incremental archive: the merged view of its chain, each
 * entry read from the archive that holds its final version, every
 * archive read once, forward. For arc_source.c.
 */
struct arc_source;
struct chain_restore;
/*
 * Starts a source on the archive `a` at `path` (arc_source_init), read
 * through its chain when it is an incremental one, the chain's archives
 * opened as chain_load does with `from`. 0, or -1 (a broken chain) with
 * the source closed.
 */
int chain_source_open(struct arc_source *s, const struct arc *a,
		      const char *path, const struct chain_opener *from,
		      struct cairn_error *err);
int chain_restore_open(struct chain_restore **cr, const char *path,
		       const char *id, const struct chain_opener *from,
		       struct cairn_error *err);
int chain_restore_next(struct chain_restore *cr,
		       const struct cairn_entry **entry,
		       struct cairn_error *err);
int chain_restore_read(struct chain_restore *cr, const void **data,
		       size_t *length, int64_t *offset,
		       struct cairn_error *err);
void chain_restore_close(struct chain_restore *cr);

/*
 * What a backup builds on, for the host's base services: set up by
 * cmd_backup, read by the plugin through host.c.
 */
struct backup_base {
	int incremental; /* the job may build on `parent` */
	char parent[ARC_ID_SIZE];
	struct timespec started; /* the parent's backup */
	struct view_reader reader;
	const struct index_record *current;
	struct cairn_base_entry entry;
	int used; /* the plugin asked and builds on it */
};

/*
 * Prune: keeps (KEPT_AS_PARENT of retention.h) every archive that a kept
 * incremental archive builds on, through its whole chain. `records`
 * indexes `count` archives of one job in the catalogue, newest first,
 * with their retention reasons; child[i] receives, for an archive kept
 * as a parent, the index (into records) of the archive that needs it.
 */
struct catalog;
void chain_keep_parents(const struct catalog *c, const size_t *records,
			size_t count, unsigned int *reasons, size_t *child);

/* Archives that verify found damaged, in REPO/cache/JOB.damaged. */
void chain_mark_damaged(const char *repository, const char *job,
			const char *id);
int chain_is_damaged(const char *repository, const char *job, const char *id);

#endif
