/*
 * The catalogue: one line of JSON per archive in REPO/catalog, closed by
 * a line holding the SHA-256 of the lines before it, and an identical
 * twin REPO/catalog.copy. Each file is replaced atomically (temporary
 * file, fsync, rename, fsync of the directory), the catalog first and its
 * copy second, so a crash at any instant leaves each file whole, old or
 * new; a damaged or missing file is replaced by its twin; and archives
 * whose catalogue line was lost are found again from their manifests
 * (see repository_reconcile). `catalog rebuild` remakes it from the
 * archives alone.
 *
 * Ownership: a struct catalog owns its records and their strings.
 */
#ifndef CAIRN_CATALOG_H
#define CAIRN_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cairn/plugin.h>

#include "buf.h"
#include "manifest.h"

struct json_value;

struct catalog_record {
	char id[ARC_ID_SIZE];
	char run[ARC_ID_SIZE];
	char *job;
	char *plugin;
	char *file; /* relative to the repository */
	struct timespec created;
	struct timespec finished;
	uint64_t bytes;
	uint64_t stored;
	uint64_t entries;
	uint64_t warnings;
	char *status; /* "ok", or "removing" while prune deletes it */
	/* "kind": full or incremental; an incremental builds on `parent`. */
	int incremental;
	char parent[ARC_ID_SIZE];
	/* Members this version does not know, kept as they were. */
	struct json_value *extra;
	int missing; /* set at load: the file is not there */
};

struct catalog {
	struct catalog_record *records;
	size_t count;
	int recovered_from_copy; /* the primary file was damaged */
	size_t capacity;	 /* records allocated */
};

#define CATALOG_FILE "catalog"
#define CATALOG_COPY "catalog.copy"

/*
 * Loads the catalogue of the repository at `repository`. Neither file
 * existing is an empty catalogue; both damaged is an error that points at
 * `cairn catalog rebuild`.
 */
int catalog_load(struct catalog *c, const char *repository,
		 struct cairn_error *err);
int catalog_save(const struct catalog *c, const char *repository,
		 struct cairn_error *err);
/*
 * Whether both files of the catalogue are whole: catalog_load is content
 * with either, so a damaged twin would otherwise go unnoticed until the
 * day it is needed. 0 when both are (or neither exists yet); -1 with the
 * damaged or missing file named in err.
 */
int catalog_check_twins(const char *repository, struct cairn_error *err);
void catalog_release(struct catalog *c);

/*
 * The catalogue's text (its lines and the closing checksum line), and
 * parsing it back into an empty catalogue: -1 when it is damaged in any
 * way. Offsite targets hold such snapshots.
 */
void catalog_format(const struct catalog *c, struct buf *out);
int catalog_parse(struct catalog *c, const char *text, size_t length);

/* Takes over the record's strings. */
void catalog_add(struct catalog *c, struct catalog_record *r);
/* Removes the record at `index`, freeing it. */
void catalog_remove(struct catalog *c, size_t index);
/* Whether any record belongs to `job`. */
int catalog_has_job(const struct catalog *c, const char *job);
/* The index of the record with this id, or -1. */
long catalog_find(const struct catalog *c, const char *id);
/* Whether a was created after b (to the microsecond). */
int catalog_record_newer(const struct catalog_record *a,
			 const struct catalog_record *b);
/* Sorts newest first (by creation time, then id). */
void catalog_sort(struct catalog *c);

/* A record describing an archive from its manifest. */
void catalog_record_from_manifest(struct catalog_record *r,
				  const struct manifest *m, const char *file,
				  uint64_t stored);
void catalog_record_release(struct catalog_record *r);
/* "ok at 2026-11-24T02:00:00Z" (or "failed at ...: detail") when the
 * archive was drilled, else NULL; owned by the caller. */
char *catalog_record_drill(const struct catalog_record *r);
/* The record as JSON (for `list --json`), owned by the caller. */
struct json_value *catalog_record_to_json(const struct catalog_record *r);

#endif
