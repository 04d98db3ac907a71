/*
 * What an archive says about itself, so the catalogue can be rebuilt from
 * the archives alone.
 *
 * An archive ends with `.cairn/manifest.json` (struct manifest: job,
 * plugin, host, times, totals, the plugin's facts, warnings, and the frame
 * offsets of the index chunks). The index lists every entry in archive
 * order with its type, size, SHA-256, the offset of the zstd frame its
 * first header is in and, for an entry streamed in parts, their number;
 * it is written as JSON Lines in chunks `.cairn/index.part-NNNNNN` as the
 * backup goes, so memory stays bounded whatever the number of entries.
 *
 * Ownership: structs own their strings; release with manifest_release and
 * index_record_release.
 */
#ifndef CAIRN_MANIFEST_H
#define CAIRN_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cairn/plugin.h>

#include "buf.h"

#define MANIFEST_FORMAT 1
#define ARC_ID_SIZE 37 /* a UUID and its NUL */

struct json_value;

struct manifest {
	char id[ARC_ID_SIZE];
	char run[ARC_ID_SIZE]; /* the `cairn backup` run that made it */
	char *job;
	char *plugin;
	char *plugin_version;
	char *host;
	char *cairn_version;
	struct timespec started;
	struct timespec finished;
	uint64_t bytes;	  /* uncompressed content of the entries */
	uint64_t entries; /* count, without cairn's own */
	int compressed;
	int level;
	struct json_value *facts; /* object of strings, owned */
	char **warnings;
	size_t warning_count;
	uint64_t *index_frames;
	size_t index_frame_count;
	/*
	 * Incremental archives ("kind": "incremental") hold what changed
	 * since `parent` and list what was removed (or changed type) in
	 * the chunks at removed_frames; full archives have no parent.
	 */
	int incremental;
	char parent[ARC_ID_SIZE];
	uint64_t removed;
	uint64_t *removed_frames;
	size_t removed_frame_count;
};

void manifest_init(struct manifest *m);
void manifest_release(struct manifest *m);
void manifest_add_warning(struct manifest *m, const char *warning);
void manifest_set_fact(struct manifest *m, const char *key, const char *value);
/* The fact, or NULL. */
const char *manifest_fact(const struct manifest *m, const char *key);

/* A new JSON object (owned by the caller) describing m. */
struct json_value *manifest_to_json(const struct manifest *m);
/* Fills m (initialised) from manifest JSON text. 0 or -1. */
int manifest_parse(struct manifest *m, const char *text, size_t length,
		   struct cairn_error *err);

struct index_record {
	char *name;
	enum cairn_entry_type type;
	int64_t size;
	char sha256[65]; /* empty for entries without content */
	uint64_t frame;
	unsigned int parts; /* 0: stored whole */
	/* What the plugin recorded to recognise the entry unchanged next
	 * time (cairn_host's stream_state), or NULL. */
	char *state;
};

void index_record_release(struct index_record *r);
/* Appends one JSON line (with its newline) to out. */
void index_record_format(const struct index_record *r, struct buf *out);
/* Parses one line; 0 or -1. r is overwritten, its old strings not freed. */
int index_record_parse(struct index_record *r, const char *line, size_t length,
		       struct cairn_error *err);

const char *entry_type_name(enum cairn_entry_type type);
/* 0 and *type, or -1 for an unknown name. */
int entry_type_parse(const char *name, enum cairn_entry_type *type);

/*
 * Whether `name` may name an entry: relative, '/'-separated, without
 * empty, "." or ".." components, not reserved (".cairn"), at most 64 KiB.
 * 0, or -1 with err saying why.
 */
int entry_name_check(const char *name, struct cairn_error *err);

#endif
