/*
 * What cairn's archive format says about names, types and content, in
 * one place for the writer, the reader, the restore source, verify and
 * cat. The container (zstd frames, the trailer) is zstd_io.h's; the
 * manifest and index records are manifest.h's.
 *
 *   names      tar names of directories end in '/', cairn's do not;
 *   own        cairn's own entries: the manifest, the index chunks and
 *              an incremental archive's removal chunks;
 *   parts      an entry of unknown size is stored as "NAME.part-NNNNNN"
 *              entries of at most ARC_PART_SIZE bytes, numbered from 1;
 *   types      libarchive's file types to the plugin-facing ones;
 *   index      an index chunk is JSON Lines, one record a line;
 *   holes      a sparse file's holes read, hash and write as zeros;
 *   messages   the damage every reader reports the same way.
 *
 * Ownership: the functions that fill a struct buf reset it first; none
 * keeps a pointer to what it is given.
 */
#ifndef CAIRN_FORMAT_H
#define CAIRN_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include <cairn/plugin.h>

#include "buf.h"
#include "sha256.h"

struct archive_entry;

/* --- names ------------------------------------------------------- */

/* A copy of a tar name without its trailing '/' (owned by the caller). */
char *format_entry_name(const char *tar_name);
/* Whether a tar name is `name`, give or take the trailing '/'. */
int format_name_is(const char *tar_name, const char *name);

/* --- cairn's own entries ----------------------------------------- */

#define FORMAT_MANIFEST_NAME ".cairn/manifest.json"
#define FORMAT_INDEX_PREFIX ".cairn/index.part-"
/* An incremental archive's removals: NUL-terminated names, in chunks. */
#define FORMAT_REMOVED_PREFIX ".cairn/removed.part-"

enum format_own {
	FORMAT_NOT_OWN,	      /* an entry of the plugin's */
	FORMAT_MANIFEST,      /* .cairn/manifest.json */
	FORMAT_INDEX_CHUNK,   /* .cairn/index.part-NNNNNN */
	FORMAT_REMOVED_CHUNK, /* .cairn/removed.part-NNNNNN */
};

enum format_own format_own_entry(const char *tar_name);
/* The name of index chunk `number` (from 1). */
void format_index_chunk_name(size_t number, struct buf *out);
/* The name of removal chunk `number` (from 1). */
void format_removed_chunk_name(size_t number, struct buf *out);

/* --- parts -------------------------------------------------------- */

/* The name of part `number` (from 1) of the entry `name`. */
void format_part_name(const char *name, unsigned int number, struct buf *out);
/*
 * If `name` reads "X.part-NNNNNN", the length of X and the number in
 * *number; 0 otherwise. (An ordinary file may have such a name too.)
 */
size_t format_part_base(const char *name, unsigned int *number);

/* --- types -------------------------------------------------------- */

/* A hard link first, then the file type; anything else is a file. */
enum cairn_entry_type format_entry_type(struct archive_entry *ae);

/* --- index -------------------------------------------------------- */

/*
 * The next line of an index chunk from *position, without its '\n':
 * 1 with *line and *length set and *position moved past it, 0 at the
 * end of the chunk.
 */
int format_next_line(const struct buf *chunk, size_t *position,
		     const char **line, size_t *length);

/* --- holes -------------------------------------------------------- */

/* Receives the zeros of a hole, a block at a time: 0 or -1. */
typedef int (*format_zeros_fn)(void *context, const void *zeros, size_t length,
			       struct cairn_error *err);

/* `length` zeros to emit, in blocks of at most 1 MiB: 0, or emit's -1. */
int format_zeros(int64_t length, format_zeros_fn emit, void *context,
		 struct cairn_error *err);
/* `length` zeros into the hash. */
void format_hash_zeros(struct sha256 *hash, int64_t length);
/* `length` zeros written to fd: 0, or -1 with errno set. */
int format_write_zeros(int fd, int64_t length);

/* --- messages ----------------------------------------------------- */

/* The entry's content does not hash to what the index says. */
void format_checksum_mismatch(struct cairn_error *err, const char *archive,
			      const char *entry);
/* The index lists an entry the archive does not hold. */
void format_entry_missing(struct cairn_error *err, const char *archive,
			  const char *entry);

#endif
