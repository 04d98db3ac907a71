/*
 * Opening an archive for reading, and its index, arc.h.
 */
#include "arc.h"

#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

#include "arc_reader.h"
#include "encryption.h"
#include "error.h"
#include "format.h"
#include "xalloc.h"

/* The manifest and an index chunk are small; a bigger one is damage. */
#define MANIFEST_LIMIT (16 * 1024 * 1024)
#define INDEX_CHUNK_LIMIT (64 * 1024 * 1024)

static int
read_manifest(struct arc *a, struct cairn_error *err)
{
	struct arc_reader r;
	struct archive_entry *ae;
	struct buf text = BUF_INIT;
	int rc = -1;

	if (arc_reader_open(&r, a, a->trailer.manifest_offset, err) != 0)
		return -1;
	if (arc_reader_next(&r, &ae, err) <= 0 ||
	    format_own_entry(archive_entry_pathname(ae)) != FORMAT_MANIFEST) {
		error_set(err,
			  "archive '%s' has no manifest where its index "
			  "says",
			  a->name);
		goto out;
	}
	if (arc_reader_slurp(&r, MANIFEST_LIMIT, &text, err) != 0)
		goto out;
	if (manifest_parse(&a->manifest, text.data, text.length, err) != 0) {
		error_prefix(err, "archive '%s'", a->name);
		goto out;
	}
	/* Every caller names the archive by its id. Without compression
	 * nothing else would catch a damaged id, and a renamed file
	 * must not pass for another archive. */
	if (strcmp(a->manifest.id, a->name) != 0) {
		error_set(err,
			  "archive '%s' is damaged: its manifest names "
			  "archive '%s'",
			  a->name, a->manifest.id);
		goto out;
	}
	rc = 0;
out:
	arc_reader_close(&r);
	buf_release(&text);
	return rc;
}

int
arc_open_blob(struct arc **out, struct blob *b, struct cairn_error *err)
{
	struct arc *a;

	/* An age file, local or remote, is read through its decrypting blob. */
	if (encryption_open_blob(&b, err) != 0)
		return -1;
	a = xcalloc(1, sizeof(*a));
	a->blob = b;
	a->name = b->name;
	manifest_init(&a->manifest);
	if (zstd_io_read_trailer(b, &a->trailer, err) != 0 ||
	    read_manifest(a, err) != 0) {
		arc_close(a);
		return -1;
	}
	*out = a;
	return 0;
}

int
arc_open(struct arc **a, const char *path, const char *name,
	 struct cairn_error *err)
{
	struct blob *b;

	if (blob_open_file(&b, path, name, err) != 0)
		return -1;
	return arc_open_blob(a, b, err);
}

void
arc_close(struct arc *a)
{
	if (a == NULL)
		return;
	manifest_release(&a->manifest);
	blob_close(a->blob);
	free(a);
}

void
index_cursor_init(struct index_cursor *c, const struct arc *a)
{
	memset(c, 0, sizeof(*c));
	c->arc = a;
}

int
arc_read_chunk(const struct arc *a, uint64_t frame, const char *name,
	       size_t limit, struct buf *out, struct cairn_error *err)
{
	struct arc_reader r;
	struct archive_entry *ae;
	int found;

	if (arc_reader_open(&r, a, frame, err) != 0)
		return -1;
	while ((found = arc_reader_next(&r, &ae, err)) > 0)
		if (strcmp(archive_entry_pathname(ae), name) == 0)
			break;
	if (found > 0 && arc_reader_slurp(&r, limit, out, err) != 0)
		found = -1;
	arc_reader_close(&r);
	return found;
}

static int
index_cursor_load(struct index_cursor *c, struct cairn_error *err)
{
	const struct arc *a = c->arc;
	struct buf wanted = BUF_INIT;
	int found;

	format_index_chunk_name(c->chunk + 1, &wanted);
	found = arc_read_chunk(a, a->manifest.index_frames[c->chunk],
			       buf_str(&wanted), INDEX_CHUNK_LIMIT, &c->text,
			       err);
	buf_release(&wanted);
	if (found == 0)
		error_set(err, "archive '%s': index chunk %zu is missing",
			  a->name, c->chunk + 1);
	if (found <= 0)
		return -1;
	c->position = 0;
	c->chunk++;
	return 0;
}

int
index_cursor_next(struct index_cursor *c, struct index_record *record,
		  struct cairn_error *err)
{
	const struct manifest *m = &c->arc->manifest;
	const char *line;
	size_t length;

	while (!format_next_line(&c->text, &c->position, &line, &length)) {
		if (c->chunk >= m->index_frame_count) {
			if (c->count != m->entries) {
				error_set(err,
					  "archive '%s': the index lists %llu "
					  "entries, the manifest %llu",
					  c->arc->name,
					  (unsigned long long)c->count,
					  (unsigned long long)m->entries);
				return -1;
			}
			return 0;
		}
		if (index_cursor_load(c, err) != 0)
			return -1;
	}
	if (index_record_parse(record, line, length, err) != 0) {
		error_prefix(err, "archive '%s'", c->arc->name);
		return -1;
	}
	c->count++;
	return 1;
}

void
index_cursor_release(struct index_cursor *c)
{
	buf_release(&c->text);
}
