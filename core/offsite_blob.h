/*
 * An archive read from an offsite target (blob.h): ranged reads of the
 * object, so restore --from, cat --from and verify --remote --deep stream
 * the archive with no local copy. The object is read in windows by
 * fetcher threads, each with a connection of its own to the target, ahead
 * of a reader going through the object. How big the windows are, how
 * many are held (which bounds the memory) and how far ahead they are
 * asked for is the blob's shape. An error met reading ahead is reported
 * by the read that reaches its window.
 *
 * Ownership: the blob borrows `o` (for its target and name) and opens
 * connections of its own, closed with it; `o` must outlive it.
 */
#ifndef CAIRN_OFFSITE_BLOB_H
#define CAIRN_OFFSITE_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include <cairn/plugin.h>

#include "blob.h"
#include "offsite.h"
#include "sha256.h"

struct offsite_blob_shape {
	size_t window;	 /* bytes */
	size_t slots;	 /* windows held at most, allocated as used */
	size_t ahead;	 /* windows asked for past a reader going through */
	size_t fetchers; /* threads, and connections */
};

/*
 * An archive read alone: 8 MiB windows (the tests' S3 server spends on a
 * request about the CPU time of 2 MiB of transfer); five of them, the
 * window a data reader is in and three ahead, and one for the index and
 * trailer at the end; with the rest of a restore, about 58 MiB of peak
 * RSS. Two fetchers.
 */
extern const struct offsite_blob_shape offsite_blob_alone;

/*
 * Each of the `links` archives of an incremental chain, read side by side
 * by a restore: three windows (the data reader's, one ahead, the index
 * reader's) and one fetcher each, the windows cut so that the chain holds
 * about OFFSITE_BLOB_CHAIN_BUDGET bytes, but never under 1 MiB (a longer
 * chain holds more) nor over the window of an archive read alone.
 */
#define OFFSITE_BLOB_CHAIN_BUDGET (48 * 1024 * 1024)
void offsite_blob_chain_shape(struct offsite_blob_shape *shape, size_t links);

/* The object `path` of `size` bytes on o, named `name` in messages, read
 * in `shape` (NULL: offsite_blob_alone). */
int offsite_blob_open(struct blob **b, struct offsite *o, const char *path,
		      uint64_t size, const char *name,
		      const struct offsite_blob_shape *shape,
		      struct cairn_error *err);

/*
 * Hashing what is read: offsite_blob_hash_start, before the first read
 * of a blob offsite_blob_open made, has it run a SHA-256 of the object as
 * it is read through (in order; what comes out of order is read again at
 * the end), so that a verify reading the archive gets the checksum of
 * the object as stored without a second download.
 * offsite_blob_hash_finish reads what the hash still lacks and gives its
 * hex and the bytes it covers (the object's size). 0 or -1. Neither is
 * for any other blob.
 */
void offsite_blob_hash_start(struct blob *b);
int offsite_blob_hash_finish(struct blob *b, char hex[SHA256_HEX_SIZE],
			     uint64_t *hashed, struct cairn_error *err);

#endif
