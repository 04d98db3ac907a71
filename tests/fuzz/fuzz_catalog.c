/*
 * libFuzzer target for the catalogue (core/catalog.c), read through
 * catalog_load from a repository directory as cairn reads it.
 *
 * The first byte of the input chooses what the directory holds, the rest
 * is the text of the catalogue file:
 *   bit 0: the harness ends the text with its correct checksum line, so
 *          that the records themselves are parsed (else the text is
 *          written as it is, its own checksum line included or not);
 *   bit 1: REPO/catalog.copy holds the text with its checksum line added,
 *          the twin a damaged REPO/catalog is recovered from;
 *   bit 2: REPO/catalog is absent.
 * A loaded catalogue must hold well-formed records, and saving it then
 * loading it again must give the same records; a refusal must say why.
 * Built and run by tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "catalog.h"
#include "fuzz_scratch.h"
#include "json.h"
#include "sha256.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WITH_CHECKSUM 1
#define COPY_WITH_CHECKSUM 2
#define NO_PRIMARY 4

/* The body followed by the line catalog.c ends a catalogue with. */
static void
with_checksum(const uint8_t *body, size_t size, struct buf *out)
{
	char hex[SHA256_HEX_SIZE];
	struct sha256 hash;

	buf_reset(out);
	buf_append(out, body, size);
	if (sha256_init(&hash) != 0)
		abort();
	sha256_update(&hash, body, size);
	sha256_final_hex(&hash, hex);
	sha256_release(&hash);
	buf_printf(out, "{\"sha256\":\"%s\"}\n", hex);
}

static void
check_record(const struct catalog_record *r)
{
	struct json_value *o;
	char *drill;

	if (strlen(r->id) != ARC_ID_SIZE - 1 ||
	    strlen(r->run) != ARC_ID_SIZE - 1 || r->job == NULL ||
	    r->plugin == NULL || r->file == NULL || r->status == NULL ||
	    r->created.tv_nsec < 0 || r->created.tv_nsec >= 1000000000 ||
	    r->finished.tv_nsec < 0 || r->finished.tv_nsec >= 1000000000)
		abort();
	o = catalog_record_to_json(r);
	if (o == NULL)
		abort();
	json_free(o);
	drill = catalog_record_drill(r);
	free(drill);
}

/* Saves c into dir, loads it again and compares the records. */
static void
check_round_trip(const struct catalog *c, const char *dir)
{
	struct cairn_error err;
	struct catalog again;
	struct json_value *a, *b;
	size_t i;

	memset(&err, 0, sizeof(err));
	if (catalog_save(c, dir, &err) != 0) {
		fprintf(stderr, "cannot save the catalogue: %s\n", err.message);
		abort();
	}
	if (catalog_load(&again, dir, &err) != 0) {
		fprintf(stderr, "a saved catalogue is refused: %s\n",
			err.message);
		abort();
	}
	if (again.count != c->count || again.recovered_from_copy)
		abort();
	for (i = 0; i < c->count; i++) {
		/* Times are saved to the microsecond: a loaded time with
		 * nanoseconds prints the same, but the duration computed
		 * from it differs in its last digits. */
		a = catalog_record_to_json(&c->records[i]);
		b = catalog_record_to_json(&again.records[i]);
		json_free(json_object_take(a, "duration"));
		json_free(json_object_take(b, "duration"));
		if (!json_equal(a, b)) {
			char *x = json_serialize(a, JSON_COMPACT, NULL);
			char *y = json_serialize(b, JSON_COMPACT, NULL);

			fprintf(stderr, "record %zu changed:\n%s\n%s\n", i, x,
				y);
			abort();
		}
		json_free(a);
		json_free(b);
	}
	catalog_release(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_scratch_dir();
	struct buf text = BUF_INIT;
	struct cairn_error err;
	struct catalog c;
	unsigned int flags;
	size_t i;

	if (size == 0)
		return 0;
	flags = data[0];
	data++;
	size--;

	fuzz_scratch_remove(dir, CATALOG_FILE);
	fuzz_scratch_remove(dir, CATALOG_COPY);
	if (!(flags & NO_PRIMARY)) {
		if (flags & WITH_CHECKSUM)
			with_checksum(data, size, &text);
		else
			buf_append(&text, data, size);
		free(fuzz_scratch_write(dir, CATALOG_FILE, text.data,
					text.length));
	}
	if (flags & COPY_WITH_CHECKSUM) {
		with_checksum(data, size, &text);
		free(fuzz_scratch_write(dir, CATALOG_COPY, text.data,
					text.length));
	}
	buf_release(&text);

	memset(&err, 0, sizeof(err));
	if (catalog_load(&c, dir, &err) != 0) {
		if (err.message[0] == '\0' || c.count != 0)
			abort();
		return 0;
	}
	for (i = 0; i < c.count; i++)
		check_record(&c.records[i]);
	for (i = 0; i < c.count; i++)
		(void)catalog_find(&c, c.records[i].id);
	catalog_sort(&c);
	for (i = 1; i < c.count; i++)
		if (catalog_record_newer(&c.records[i], &c.records[i - 1]))
			abort();
	check_round_trip(&c, dir);
	catalog_release(&c);
	return 0;
}
