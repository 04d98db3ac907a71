/*
 * The restore-side view of an archive, arc_source.h.
 */
#include "arc_source.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "error.h"
#include "format.h"

void
arc_source_init(struct arc_source *s, const struct arc *a)
{
	/* The hash is set up per entry, in load_entry. */
	memset(s, 0, sizeof(*s));
	s->arc = a;
	s->manifest = &a->manifest;
	s->name = a->name;
	index_cursor_init(&s->index, a);
}

static void
close_parts(struct arc_source *s)
{
	if (s->parts_open)
		arc_reader_close(&s->parts);
	s->parts_open = 0;
	s->in_part = 0;
}

static void
close_data(struct arc_source *s)
{
	if (s->data_open)
		arc_reader_close(&s->data);
	s->data_open = 0;
}

/* Moves the sequential reader to the header of the current record. */
static int
position_data(struct arc_source *s, struct cairn_error *err)
{
	struct archive_entry *ae;
	int rc;

	if (!s->data_open) {
		if (arc_reader_open(&s->data, s->arc, s->record.frame, err) !=
		    0)
			goto unreadable;
		s->data_open = 1;
		s->data_frame = s->record.frame;
	}
	/* Whole entries come in index order: anything before the wanted
	 * one is a part or cairn's own. */
	while ((rc = arc_reader_next(&s->data, &ae, err)) > 0) {
		if (format_name_is(archive_entry_pathname(ae), s->record.name))
			break;
	}
	if (rc < 0)
		goto unreadable;
	if (rc == 0) {
		format_entry_missing(err, s->name, s->record.name);
		return -1;
	}
	entry_from_archive(ae, &s->entry, &s->storage);
	if (s->entry.type == CAIRN_ENTRY_HARDLINK &&
	    entry_name_check(s->entry.link, err) != 0) {
		error_prefix(err, "archive '%s': hard link '%s'", s->name,
			     s->entry.name);
		return -1;
	}
	return 0;
unreadable:
	/* A header too damaged to read has no name of its own: the index
	 * says which entry was wanted. */
	error_prefix(err, "entry '%s'", s->record.name);
	return -1;
}

static void
describe_parted(struct arc_source *s)
{
	memset(&s->entry, 0, sizeof(s->entry));
	s->entry.name = s->record.name;
	s->entry.type = CAIRN_ENTRY_FILE;
	s->entry.mode = 0600;
	s->entry.mtime = s->manifest->finished;
	s->entry.size = s->record.size;
}

static int
load_entry(struct arc_source *s, const struct cairn_entry **entry,
	   struct cairn_error *err)
{
	if (entry_name_check(s->record.name, err) != 0) {
		error_prefix(err, "archive '%s'", s->name);
		return -1;
	}
	s->logical = 0;
	s->entry_done = 0;
	s->part_base = 0;
	s->next_part = 0;
	sha256_release(&s->hash);
	if (sha256_init(&s->hash) != 0) {
		error_set(err, "cannot initialise SHA-256");
		return -1;
	}
	if (s->record.parts > 0)
		describe_parted(s);
	else if (position_data(s, err) != 0)
		return -1;
	*entry = &s->entry;
	return 1;
}

static int
advance_record(struct arc_source *s, struct cairn_error *err)
{
	int rc;

	close_parts(s);
	if (s->have_record)
		index_record_release(&s->record);
	s->have_record = 0;
	rc = index_cursor_next(&s->index, &s->record, err);
	if (rc > 0)
		s->have_record = 1;
	return rc;
}

/* Notes that the archive failed us, for the caller's exit status. */
static int
damage(struct arc_source *s, int rc)
{
	if (rc < 0)
		s->damaged = 1;
	return rc;
}

int
arc_source_next(struct arc_source *s, const struct cairn_entry **entry,
		struct cairn_error *err)
{
	int rc;

	if (s->chain != NULL)
		return damage(s, chain_restore_next(s->chain, entry, err));
	rc = advance_record(s, err);
	if (rc <= 0)
		return damage(s, rc);
	return damage(s, load_entry(s, entry, err));
}

int
arc_source_find(struct arc_source *s, const char *name,
		const struct cairn_entry **entry, struct cairn_error *err)
{
	int rc;

	if (s->chain != NULL) {
		while ((rc = chain_restore_next(s->chain, entry, err)) > 0)
			if (strcmp((*entry)->name, name) == 0)
				return 1;
		return damage(s, rc);
	}
	close_data(s);
	while ((rc = advance_record(s, err)) > 0)
		if (strcmp(s->record.name, name) == 0)
			return damage(s, load_entry(s, entry, err));
	return damage(s, rc);
}

int
arc_source_seek(struct arc_source *s, const char *name,
		const struct cairn_entry **entry, struct cairn_error *err)
{
	int rc;

	while ((rc = advance_record(s, err)) > 0) {
		if (strcmp(s->record.name, name) != 0)
			continue;
		/* A later frame: start there rather than read up to it. */
		if (s->data_open && s->record.parts == 0 &&
		    s->record.frame != s->data_frame)
			close_data(s);
		return damage(s, load_entry(s, entry, err));
	}
	if (rc == 0)
		error_set(err, "archive '%s': entry '%s' is missing", s->name,
			  name);
	return damage(s, -1);
}

/* Compares the finished hash with the index; -1 on a mismatch. */
static int
check_entry(struct arc_source *s, struct cairn_error *err)
{
	char hex[SHA256_HEX_SIZE];

	s->entry_done = 1;
	if (s->entry.type != CAIRN_ENTRY_FILE)
		return 0;
	/*
	 * Only a whole entry may end in a hole (parts are written dense),
	 * and only up to the size its tar header gives. An index record
	 * claiming more is damage, reported here rather than after hashing
	 * zeros for as long as it claims (hours for a petabyte).
	 */
	if (s->record.parts == 0 && s->entry.size == s->record.size &&
	    s->logical < s->record.size) {
		format_hash_zeros(&s->hash, s->record.size - s->logical);
		s->logical = s->record.size;
	}
	sha256_final_hex(&s->hash, hex);
	if (s->logical != s->record.size ||
	    strcmp(hex, s->record.sha256) != 0) {
		format_checksum_mismatch(err, s->name, s->record.name);
		return -1;
	}
	return 0;
}

static int
account(struct arc_source *s, const void *data, size_t length, int64_t offset,
	struct cairn_error *err)
{
	/* A gap before the block is a hole: it reads as zeros. */
	if (s->logical < offset) {
		format_hash_zeros(&s->hash, offset - s->logical);
		s->logical = offset;
	}
	if (offset < s->logical || offset + (int64_t)length > s->record.size) {
		error_set(err,
			  "archive '%s': entry '%s' has data outside its "
			  "size",
			  s->name, s->record.name);
		return -1;
	}
	sha256_update(&s->hash, data, length);
	s->logical = offset + (int64_t)length;
	return 0;
}

/* Moves the parts reader to the header of the next part. */
static int
next_part(struct arc_source *s, struct cairn_error *err)
{
	struct archive_entry *ae;
	int rc;

	if (!s->parts_open) {
		if (arc_reader_open(&s->parts, s->arc, s->record.frame, err) !=
		    0)
			return -1;
		s->parts_open = 1;
	}
	format_part_name(s->record.name, ++s->next_part, &s->part_name);
	while ((rc = arc_reader_next(&s->parts, &ae, err)) > 0)
		if (strcmp(archive_entry_pathname(ae),
			   buf_str(&s->part_name)) == 0)
			break;
	if (rc < 0)
		return -1;
	if (rc == 0) {
		error_set(err, "archive '%s': part %u of entry '%s' is missing",
			  s->name, s->next_part, s->record.name);
		return -1;
	}
	s->in_part = 1;
	return 0;
}

static int
read_parted(struct arc_source *s, const void **data, size_t *length,
	    int64_t *offset, struct cairn_error *err)
{
	int64_t at;
	int rc;

	for (;;) {
		if (!s->in_part) {
			if (s->next_part >= s->record.parts)
				return check_entry(s, err) == 0 ? 0 : -1;
			if (next_part(s, err) != 0)
				return -1;
		}
		rc = arc_reader_data(&s->parts, data, length, &at, err);
		if (rc < 0)
			return -1;
		if (rc > 0) {
			*offset = s->part_base + at;
			if (account(s, *data, *length, *offset, err) != 0)
				return -1;
			return 1;
		}
		s->in_part = 0;
		s->part_base = s->logical;
	}
}

int
arc_source_read(struct arc_source *s, const void **data, size_t *length,
		int64_t *offset, struct cairn_error *err)
{
	int rc;

	if (s->chain != NULL)
		return damage(s, chain_restore_read(s->chain, data, length,
						    offset, err));
	if (!s->have_record) {
		error_set(err, "no current entry to read");
		return -1;
	}
	if (s->entry_done)
		return 0;
	if (s->record.parts > 0)
		return damage(s, read_parted(s, data, length, offset, err));
	rc = arc_reader_data(&s->data, data, length, offset, err);
	if (rc < 0)
		return damage(s, -1);
	if (rc == 0)
		return damage(s, check_entry(s, err) == 0 ? 0 : -1);
	if (account(s, *data, *length, *offset, err) != 0)
		return damage(s, -1);
	return 1;
}

void
arc_source_close(struct arc_source *s)
{
	if (s->chain != NULL)
		chain_restore_close(s->chain);
	s->chain = NULL;
	close_parts(s);
	close_data(s);
	if (s->have_record)
		index_record_release(&s->record);
	index_cursor_release(&s->index);
	entry_storage_release(&s->storage);
	sha256_release(&s->hash);
	buf_release(&s->part_name);
	memset(s, 0, sizeof(*s));
}
