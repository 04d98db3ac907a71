/*
 * `cairn verify` of one archive: one sequential pass over the whole file
 * that decompresses every frame (checking zstd's content checksums),
 * hashes every entry and compares it with the index records, which follow
 * the entries they describe. Memory stays bounded: only the entries read
 * since the last index chunk are remembered.
 */
#ifndef CAIRN_ARC_VERIFY_H
#define CAIRN_ARC_VERIFY_H

#include <stdint.h>

#include <cairn/plugin.h>

struct verify_totals {
	uint64_t entries;
	uint64_t bytes; /* logical content checked */
};

struct arc;

/*
 * Checks the archive a, opened by arc_open (which read its manifest).
 * 0, or -1 with err naming the archive and the damaged entry.
 */
int arc_verify(const struct arc *a, struct verify_totals *totals,
	       struct cairn_error *err);

#endif
