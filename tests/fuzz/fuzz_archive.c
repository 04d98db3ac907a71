/*
 * libFuzzer target for the archive readers: the input is a whole archive
 * file (.tar.zst, or plain tar with compression "none"), read the three
 * ways cairn reads one:
 *   - arc_read_manifest: the trailer, then the manifest frame;
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

/* Reads the current entry to its end: 0, or -1 with err set. */
static int
read_entry(struct arc_source *s, struct cairn_error *err)
{
	const void *block;
	size_t length;
	int64_t offset;
	int rc;

	while ((rc = arc_source_read(s, &block, &length, &offset, err)) >
	       0)
		if (length > 0 && block == NULL)
			abort();
	return rc;
}

/*
 * Restores every entry into nowhere, up to the first failure, which must
 * mark the source damaged. The name of the last entry is kept in `last`.
 */
static void
read_all(const char *path, const char *name, const struct manifest *m,
	 struct buf *last)
{
	const struct cairn_entry *entry;
	struct arc_source s;
	struct cairn_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	if (arc_source_open(&s, path, name, m, &err) != 0) {
		check_message(&err);
		return;
	}
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
find_one(const char *path, const char *name, const struct manifest *m,
	 const char *wanted)
{
	const struct cairn_entry *entry;
	struct arc_source s;
	struct cairn_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	if (arc_source_open(&s, path, name, m, &err) != 0)
		return;
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
	struct manifest m;
	char name[ARC_ID_SIZE];

	/* cairn names an archive by the id in its file name, and refuses
	 * one whose manifest names another: learn the id first. */
	manifest_init(&m);
	memset(&err, 0, sizeof(err));
	if (arc_read_manifest(path, "fuzz", &m, &err) != 0)
		check_message(&err);
	snprintf(name, sizeof(name), "%s", m.id[0] != '\0' ? m.id : "fuzz");
	manifest_release(&m);

	manifest_init(&m);
	memset(&err, 0, sizeof(err));
	if (arc_read_manifest(path, name, &m, &err) != 0) {
		check_message(&err);
	} else {
		read_all(path, name, &m, &last);
		if (last.length > 0)
			find_one(path, name, &m, buf_str(&last));
	}
	manifest_release(&m);

	memset(&err, 0, sizeof(err));
	if (arc_verify(path, name, &totals, &err) != 0)
		check_message(&err);
	buf_release(&last);
	free(path);
	return 0;
}
