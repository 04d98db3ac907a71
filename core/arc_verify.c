/*
 * Whole-archive verification, arc_verify.h.
 *
 * An entry named like a part ("X.part-000001") may be a part of the
 * streamed entry X or an ordinary file with that name: both readings are
 * hashed, and the index record that follows decides which was meant.
 */
#include "arc_verify.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "arc_reader.h"
#include "buf.h"
#include "error.h"
#include "format.h"
#include "manifest.h"
#include "sha256.h"

#define OWN_ENTRY_LIMIT (64 * 1024 * 1024)

struct seen_entry {
	char *name;
	enum cairn_entry_type type;
	int64_t size;
	char sha256[SHA256_HEX_SIZE];
	int maybe_part;
};

struct part_state {
	char *base;
	unsigned int parts;
	int64_t size;
	struct sha256 hash;
	int broken; /* parts out of order */
};

struct verifier {
	const char *name;
	struct seen_entry *seen;
	size_t seen_count, seen_first, seen_capacity;
	struct part_state *states;
	size_t state_count;
	uint64_t records;
	struct verify_totals *totals;
};

static struct part_state *
find_state(struct verifier *v, const char *base, size_t length)
{
	size_t i;

	for (i = 0; i < v->state_count; i++)
		if (strlen(v->states[i].base) == length &&
		    memcmp(v->states[i].base, base, length) == 0)
			return &v->states[i];
	return NULL;
}

static struct part_state *
part_state_for(struct verifier *v, const char *name, unsigned int number,
	       size_t length)
{
	struct part_state *st = find_state(v, name, length);

	if (st == NULL) {
		v->states = xrealloc(v->states,
				     (v->state_count + 1) * sizeof(*v->states));
		st = &v->states[v->state_count++];
		memset(st, 0, sizeof(*st));
		st->base = xstrndup(name, length);
		if (sha256_init(&st->hash) != 0)
			abort();
	}
	if (number != st->parts + 1)
		st->broken = 1;
	st->parts = number;
	return st;
}

static void
remove_state(struct verifier *v, struct part_state *st)
{
	free(st->base);
	sha256_release(&st->hash);
	*st = v->states[--v->state_count];
}

/* A hole: zeros for the entry's hash and the part's, if it may be one. */
static void
hash_hole(struct sha256 *hash, struct part_state *part, int64_t length)
{
	format_hash_zeros(hash, length);
	if (part != NULL)
		format_hash_zeros(&part->hash, length);
}

static int
hash_entry(struct verifier *v, struct arc_reader *r, struct archive_entry *ae,
	   struct seen_entry *e, struct part_state *part,
	   struct cairn_error *err)
{
	struct sha256 hash;
	const void *data;
	size_t length;
	int64_t offset, logical = 0;
	int rc;

	if (sha256_init(&hash) != 0)
		abort();
	e->size = 0;
	while ((rc = arc_reader_data(r, &data, &length, &offset, err)) > 0) {
		if (logical < offset)
			hash_hole(&hash, part, offset - logical);
		sha256_update(&hash, data, length);
		if (part != NULL)
			sha256_update(&part->hash, data, length);
		logical = offset + (int64_t)length;
	}
	if (rc < 0) {
		error_prefix(err, "entry '%s'", e->name);
		sha256_release(&hash);
		return -1;
	}
	if (e->type == CAIRN_ENTRY_FILE) {
		int64_t size = archive_entry_size(ae);

		if (logical < size) {
			hash_hole(&hash, part, size - logical);
			logical = size;
		}
		sha256_final_hex(&hash, e->sha256);
	}
	e->size = logical;
	if (part != NULL)
		part->size += logical;
	v->totals->bytes += (uint64_t)logical;
	sha256_release(&hash);
	(void)v;
	return 0;
}

static void
push_seen(struct verifier *v, struct seen_entry *e)
{
	if (v->seen_count == v->seen_capacity) {
		/* Compact what the index has consumed before growing. */
		if (v->seen_first > 0) {
			memmove(v->seen, v->seen + v->seen_first,
				(v->seen_count - v->seen_first) *
					sizeof(*v->seen));
			v->seen_count -= v->seen_first;
			v->seen_first = 0;
		}
		if (v->seen_count == v->seen_capacity) {
			v->seen_capacity = v->seen_capacity
						   ? 2 * v->seen_capacity
						   : 256;
			v->seen = xrealloc(v->seen,
					   v->seen_capacity * sizeof(*v->seen));
		}
	}
	v->seen[v->seen_count++] = *e;
}

static int
match_parted(struct verifier *v, const struct index_record *rec,
	     struct cairn_error *err)
{
	struct part_state *st = find_state(v, rec->name, strlen(rec->name));
	char hex[SHA256_HEX_SIZE];

	if (st == NULL || st->broken || st->parts != rec->parts) {
		error_set(err, "archive '%s': entry '%s' is missing parts",
			  v->name, rec->name);
		return -1;
	}
	sha256_final_hex(&st->hash, hex);
	if (st->size != rec->size || strcmp(hex, rec->sha256) != 0) {
		format_checksum_mismatch(err, v->name, rec->name);
		return -1;
	}
	remove_state(v, st);
	return 0;
}

static int
match_whole(struct verifier *v, const struct index_record *rec,
	    struct cairn_error *err)
{
	struct seen_entry *e;

	/* Entries named like parts that the index does not list were. */
	while (v->seen_first < v->seen_count &&
	       v->seen[v->seen_first].maybe_part &&
	       strcmp(v->seen[v->seen_first].name, rec->name) != 0) {
		free(v->seen[v->seen_first].name);
		v->seen_first++;
	}
	if (v->seen_first == v->seen_count ||
	    strcmp(v->seen[v->seen_first].name, rec->name) != 0) {
		format_entry_missing(err, v->name, rec->name);
		return -1;
	}
	e = &v->seen[v->seen_first];
	if (e->size != rec->size || (rec->type == CAIRN_ENTRY_FILE &&
				     strcmp(e->sha256, rec->sha256) != 0)) {
		format_checksum_mismatch(err, v->name, rec->name);
		return -1;
	}
	free(e->name);
	v->seen_first++;
	return 0;
}

static int
check_index_chunk(struct verifier *v, const struct buf *chunk,
		  struct cairn_error *err)
{
	size_t position = 0, length;
	const char *line;

	while (format_next_line(chunk, &position, &line, &length)) {
		struct index_record rec;
		int rc;

		if (index_record_parse(&rec, line, length, err) != 0) {
			error_prefix(err, "archive '%s'", v->name);
			return -1;
		}
		rc = rec.parts > 0 ? match_parted(v, &rec, err)
				   : match_whole(v, &rec, err);
		index_record_release(&rec);
		if (rc != 0)
			return -1;
		v->records++;
		v->totals->entries++;
	}
	return 0;
}

static int
verify_entry(struct verifier *v, struct arc_reader *r, struct archive_entry *ae,
	     struct cairn_error *err)
{
	struct seen_entry e;
	struct part_state *part = NULL;
	unsigned int number;
	size_t base;

	memset(&e, 0, sizeof(e));
	e.name = format_entry_name(archive_entry_pathname(ae));
	e.type = format_entry_type(ae);
	base = format_part_base(e.name, &number);
	if (e.type == CAIRN_ENTRY_FILE && base > 0) {
		e.maybe_part = 1;
		part = part_state_for(v, e.name, number, base);
	}
	if (hash_entry(v, r, ae, &e, part, err) != 0) {
		free(e.name);
		return -1;
	}
	push_seen(v, &e);
	return 0;
}

int
arc_verify(const struct arc *a, struct verify_totals *totals,
	   struct cairn_error *err)
{
	const struct manifest *m = &a->manifest;
	const char *name = a->name;
	struct verifier v;
	struct arc_reader r;
	struct archive_entry *ae;
	struct buf own = BUF_INIT;
	int rc = -1, next, manifest_seen = 0;
	size_t i;

	memset(totals, 0, sizeof(*totals));
	memset(&v, 0, sizeof(v));
	v.name = name;
	v.totals = totals;
	if (arc_reader_open(&r, a, 0, err) != 0)
		return -1;
	while ((next = arc_reader_next(&r, &ae, err)) > 0) {
		enum format_own own_kind = format_own_entry(
			archive_entry_pathname(ae));

		/* Removal chunks go to verify_entry: named like parts and
		 * in no index, they are hashed, then dropped. */
		if (own_kind == FORMAT_MANIFEST) {
			if (arc_reader_slurp(&r, OWN_ENTRY_LIMIT, &own, err) !=
			    0)
				goto out;
			manifest_seen = 1;
		} else if (own_kind == FORMAT_INDEX_CHUNK) {
			if (arc_reader_slurp(&r, OWN_ENTRY_LIMIT, &own, err) !=
				    0 ||
			    check_index_chunk(&v, &own, err) != 0)
				goto out;
		} else if (verify_entry(&v, &r, ae, err) != 0) {
			error_prefix(err, "archive '%s'", name);
			goto out;
		}
	}
	if (next < 0)
		goto out;
	if (!manifest_seen || v.records != m->entries) {
		error_set(err,
			  "archive '%s' is incomplete: %llu of %llu entries "
			  "indexed",
			  name, (unsigned long long)v.records,
			  (unsigned long long)m->entries);
		goto out;
	}
	for (i = v.seen_first; i < v.seen_count; i++)
		if (!v.seen[i].maybe_part) {
			error_set(
				err,
				"archive '%s': entry '%s' is not in the index",
				name, v.seen[i].name);
			goto out;
		}
	rc = 0;
out:
	arc_reader_close(&r);
	for (i = v.seen_first; i < v.seen_count; i++)
		free(v.seen[i].name);
	free(v.seen);
	while (v.state_count > 0)
		remove_state(&v, &v.states[v.state_count - 1]);
	free(v.states);
	buf_release(&own);
	return rc;
}
