/*
 * libFuzzer target for the archive readers: the input is a whole archive
 * file (.tar.zst, or plain tar with compression "none"), read the three
 * ways cairn reads one:
 *   - arc_open: the trailer, then the manifest frame;
 *   - arc_source (restore, cat): every entry in index order, each
 *     read to its end and checked against its SHA-256, then a lookup of
 *     the last entry by name;
 *   - arc_verify (verify): one pass over every frame and entry.
 * None may crash, hang or leak, and every failure must say why. (verify
 * checks checksums only: it rightly accepts a hostile archive, such as a
 * hard link out of the target, that restore refuses.) Built and run by
 * tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "arc_source.h"
#include "arc_verify.h"
#include "buf.h"
#include "fuzz_scratch.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_message(const struct cairn_error *err)
{
	if (err->message[0] == '\0')
		abort();
}

/*
 * The id a manifest holds, from arc_open's refusal of another name
 * ("... its manifest names archive 'ID'"); name is left alone otherwise.
 */
static void
learn_id(const struct cairn_error *err, char *name, size_t size)
{
	static const char said[] = "its manifest names archive '";
	const char *id = strstr(err->message, said);
	const char *end;

	if (id == NULL)
		return;
	id += strlen(said);
	end = strchr(id, '\'');
	if (end != NULL && (size_t)(end - id) < size)
		snprintf(name, size, "%.*s", (int)(end - id), id);
}

/* Reads the current entry to its end: 0, or -1 with err set. */
static int
read_entry(struct arc_source *s, struct cairn_error *err)
{
	const void *block;
	size_t length;
	int64_t offset;
	int rc;

	while ((rc = arc_source_read(s, &block, &length, &offset, err)) > 0)
		if (length > 0 && block == NULL)
			abort();
	return rc;
}

/*
 * Restores every entry into nowhere, up to the first failure, which must
 * mark the source damaged. The name of the last entry is kept in `last`.
 */
static void
read_all(const struct arc *a, struct buf *last)
{
	const struct cairn_entry *entry;
	struct arc_source s;
	struct cairn_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	arc_source_init(&s, a);
	while ((rc = arc_source_next(&s, &entry, &err)) > 0) {
		buf_reset(last);
		buf_append_str(last, entry->name);
		if (read_entry(&s, &err) != 0) {
			rc = -1;
			break;
		}
	}
	if (rc < 0 && (check_message(&err), !s.damaged))
		abort();
	arc_source_close(&s);
}

/* Positions a fresh source on the entry `wanted` and reads it. */
static void
find_one(const struct arc *a, const char *wanted)
{
	const struct cairn_entry *entry;
	struct arc_source s;
	struct cairn_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	arc_source_init(&s, a);
	rc = arc_source_find(&s, wanted, &entry, &err);
	if (rc > 0)
		rc = read_entry(&s, &err);
	if (rc < 0)
		check_message(&err);
	arc_source_close(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_scratch_dir();
	char *path = fuzz_scratch_write(dir, "archive.tar.zst", data, size);
	struct verify_totals totals;
	struct cairn_error err;
	struct buf last = BUF_INIT;
	struct arc *archive;
	char name[ARC_ID_SIZE];

	/* cairn names an archive by the id in its file name, and refuses
	 * one whose manifest names another: learn the id first. */
	memset(&err, 0, sizeof(err));
	snprintf(name, sizeof(name), "fuzz");
	if (arc_open(&archive, path, "fuzz", &err) != 0) {
		check_message(&err);
		/* The message names the id the manifest holds, if any. */
		learn_id(&err, name, sizeof(name));
	} else {
		arc_close(archive);
	}

	memset(&err, 0, sizeof(err));
	if (arc_open(&archive, path, name, &err) != 0) {
		check_message(&err);
	} else {
		read_all(archive, &last);
		if (last.length > 0)
			find_one(archive, buf_str(&last));
		memset(&err, 0, sizeof(err));
		if (arc_verify(archive, &totals, &err) != 0)
			check_message(&err);
		arc_close(archive);
	}
	buf_release(&last);
	free(path);
	return 0;
}
