/*
 * Unit tests of the catalogue: a save and load round trip in a scratch
 * repository, the twin file taking over when the primary is damaged or
 * missing, both damaged being an error that points at `catalog rebuild`,
 * members written by a later version kept as they were, records built
 * from a manifest, and the newest-first order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "catalog.h"
#include "json.h"
#include "manifest.h"
#include "sha256.h"
#include "test_helpers.h"

static void
make_record(struct catalog_record *r, const char *id, const char *job,
	    time_t created, long nsec)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->id, id, ARC_ID_SIZE);
	memcpy(r->run, "99999999-0000-4000-8000-000000000000", ARC_ID_SIZE);
	r->job = xstrdup(job);
	r->plugin = xstrdup("volume");
	r->file = xstrdup("archives/job/file.tar.zst");
	r->created.tv_sec = created;
	r->created.tv_nsec = nsec;
	r->finished.tv_sec = created + 65;
	r->finished.tv_nsec = 250000000;
	r->bytes = 123456789012ULL;
	r->stored = 4096;
	r->entries = 42;
	r->warnings = 2;
	r->status = xstrdup("ok");
}

static void
fill(struct catalog *c)
{
	struct catalog_record r;

	memset(c, 0, sizeof(*c));
	make_record(&r, "11111111-0000-4000-8000-000000000001", "db",
		    1795485600, 123456000);
	catalog_add(c, &r);
	make_record(&r, "22222222-0000-4000-8000-000000000002", "volumes",
		    1795489200, 0);
	catalog_add(c, &r);
}

static char *
repo_file(const char *repo, const char *name)
{
	struct buf path = BUF_INIT;

	buf_printf(&path, "%s/%s", repo, name);
	return buf_detach(&path);
}

static void
assert_same_record(const struct catalog_record *a,
		   const struct catalog_record *b)
{
	assert_string_equal(a->id, b->id);
	assert_string_equal(a->run, b->run);
	assert_string_equal(a->job, b->job);
	assert_string_equal(a->plugin, b->plugin);
	assert_string_equal(a->file, b->file);
	assert_int_equal(a->created.tv_sec, b->created.tv_sec);
	assert_int_equal(a->created.tv_nsec, b->created.tv_nsec);
	assert_int_equal(a->finished.tv_sec, b->finished.tv_sec);
	assert_int_equal(a->finished.tv_nsec, b->finished.tv_nsec);
	assert_true(a->bytes == b->bytes);
	assert_true(a->stored == b->stored);
	assert_true(a->entries == b->entries);
	assert_true(a->warnings == b->warnings);
	assert_string_equal(a->status, b->status);
}

static void
assert_same_catalog(const struct catalog *a, const struct catalog *b)
{
	size_t i;

	assert_int_equal(a->count, b->count);
	for (i = 0; i < a->count; i++)
		assert_same_record(&a->records[i], &b->records[i]);
}

static void
flip_byte(const char *path, size_t offset)
{
	size_t length;
	char *data = test_read_file(path, &length);
	FILE *f;

	assert_true(offset < length);
	data[offset] ^= 0x20;
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, length, f), length);
	fclose(f);
	free(data);
}

static void
test_round_trip(void **state)
{
	char *repo = test_mkdtemp(), *primary, *copy, *a, *b;
	struct catalog saved, loaded;
	struct cairn_error err;
	struct stat st;
	size_t la, lb;

	(void)state;
	fill(&saved);
	assert_int_equal(catalog_save(&saved, repo, &err), 0);
	primary = repo_file(repo, CATALOG_FILE);
	copy = repo_file(repo, CATALOG_COPY);
	/* Two identical files, private to the repository's owner. */
	a = test_read_file(primary, &la);
	b = test_read_file(copy, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	assert_contains(a, "\"job\":\"db\"");
	assert_contains(a, "{\"sha256\":\"");
	assert_int_equal(stat(primary, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(copy, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	assert_int_equal(catalog_load(&loaded, repo, &err), 0);
	assert_int_equal(loaded.recovered_from_copy, 0);
	assert_same_catalog(&saved, &loaded);
	assert_int_equal(loaded.records[0].missing, 0);

	free(a);
	free(b);
	free(primary);
	free(copy);
	catalog_release(&saved);
	catalog_release(&loaded);
	test_rmtree(repo);
}

static void
test_empty(void **state)
{
	char *repo = test_mkdtemp();
	struct catalog c;
	struct cairn_error err;

	(void)state;
	/* A new repository has no catalogue yet: that is an empty one. */
	assert_int_equal(catalog_load(&c, repo, &err), 0);
	assert_int_equal(c.count, 0);
	/* Sorting it must not hand qsort the NULL array (UBSan). */
	catalog_sort(&c);
	assert_int_equal(c.count, 0);
	assert_int_equal(catalog_save(&c, repo, &err), 0);
	catalog_release(&c);
	assert_int_equal(catalog_load(&c, repo, &err), 0);
	assert_int_equal(c.count, 0);
	assert_int_equal(c.recovered_from_copy, 0);
	catalog_release(&c);
	test_rmtree(repo);
}

static void
test_damaged_primary(void **state)
{
	char *repo = test_mkdtemp(), *primary;
	struct catalog saved, loaded;
	struct cairn_error err;

	(void)state;
	fill(&saved);
	assert_int_equal(catalog_save(&saved, repo, &err), 0);
	primary = repo_file(repo, CATALOG_FILE);

	/* One flipped bit in a record: the checksum line catches it. */
	flip_byte(primary, 20);
	assert_int_equal(catalog_load(&loaded, repo, &err), 0);
	assert_int_equal(loaded.recovered_from_copy, 1);
	assert_same_catalog(&saved, &loaded);
	catalog_release(&loaded);

	/* Cut short, without its checksum line. */
	assert_int_equal(truncate(primary, 100), 0);
	assert_int_equal(catalog_load(&loaded, repo, &err), 0);
	assert_int_equal(loaded.recovered_from_copy, 1);
	assert_same_catalog(&saved, &loaded);
	catalog_release(&loaded);

	/* Emptied. */
	assert_int_equal(truncate(primary, 0), 0);
	assert_int_equal(catalog_load(&loaded, repo, &err), 0);
	assert_int_equal(loaded.recovered_from_copy, 1);
	assert_same_catalog(&saved, &loaded);
	catalog_release(&loaded);

	/* Gone: the copy has everything. */
	assert_int_equal(unlink(primary), 0);
	assert_int_equal(catalog_load(&loaded, repo, &err), 0);
	assert_same_catalog(&saved, &loaded);
	catalog_release(&loaded);

	/* Saving again makes both whole. */
	assert_int_equal(catalog_save(&saved, repo, &err), 0);
	assert_int_equal(catalog_load(&loaded, repo, &err), 0);
	assert_int_equal(loaded.recovered_from_copy, 0);
	assert_same_catalog(&saved, &loaded);
	catalog_release(&loaded);

	free(primary);
	catalog_release(&saved);
	test_rmtree(repo);
}

static void
test_damaged_copy(void **state)
{
	char *repo = test_mkdtemp(), *copy;
	struct catalog saved, loaded;
	struct cairn_error err;

	(void)state;
	fill(&saved);
	assert_int_equal(catalog_save(&saved, repo, &err), 0);
	copy = repo_file(repo, CATALOG_COPY);
	flip_byte(copy, 30);
	/* The primary is whole: the copy is not even read. */
	assert_int_equal(catalog_load(&loaded, repo, &err), 0);
	assert_int_equal(loaded.recovered_from_copy, 0);
	assert_same_catalog(&saved, &loaded);
	catalog_release(&loaded);
	free(copy);
	catalog_release(&saved);
	test_rmtree(repo);
}

static void
test_both_damaged(void **state)
{
	char *repo = test_mkdtemp(), *primary, *copy;
	struct catalog saved, loaded;
	struct cairn_error err;

	(void)state;
	fill(&saved);
	assert_int_equal(catalog_save(&saved, repo, &err), 0);
	primary = repo_file(repo, CATALOG_FILE);
	copy = repo_file(repo, CATALOG_COPY);
	flip_byte(primary, 20);
	flip_byte(copy, 40);
	memset(&err, 0, sizeof(err));
	assert_int_equal(catalog_load(&loaded, repo, &err), -1);
	assert_contains(err.message, repo);
	assert_contains(err.message, "cairn catalog rebuild");
	catalog_release(&loaded);

	/* A damaged primary and no copy is no better. */
	assert_int_equal(unlink(copy), 0);
	assert_int_equal(catalog_load(&loaded, repo, &err), -1);
	assert_contains(err.message, "catalog rebuild");
	catalog_release(&loaded);

	free(primary);
	free(copy);
	catalog_release(&saved);
	test_rmtree(repo);
}

/* Writes a catalogue file by hand, with its checksum line. */
static void
write_catalog_text(const char *repo, const char *name, const char *lines)
{
	struct buf text = BUF_INIT;
	char hex[SHA256_HEX_SIZE];
	struct sha256 hash;
	char *path;

	assert_int_equal(sha256_init(&hash), 0);
	sha256_update(&hash, lines, strlen(lines));
	sha256_final_hex(&hash, hex);
	sha256_release(&hash);
	buf_printf(&text, "%s{\"sha256\":\"%s\"}\n", lines, hex);
	path = test_write_file(repo, name, text.data, text.length);
	free(path);
	buf_release(&text);
}

#define RECORD_START                                                           \
	"{\"id\":\"33333333-0000-4000-8000-000000000003\","                    \
	"\"run\":\"44444444-0000-4000-8000-000000000004\","                    \
	"\"job\":\"kong\",\"plugin\":\"kong\","                                \
	"\"file\":\"archives/kong/a.tar.zst\","                                \
	"\"created\":\"2026-11-24T02:00:00.000000Z\","                         \
	"\"finished\":\"2026-11-24T02:00:01.500000Z\","                        \
	"\"bytes\":10,\"stored\":20,\"entries\":3,\"status\":\"ok\""

static void
test_unknown_members_kept(void **state)
{
	char *repo = test_mkdtemp(), *text, *path;
	struct catalog c, again;
	struct cairn_error err;
	struct json_value *o;
	const struct json_value *v;
	int64_t n;

	(void)state;
	write_catalog_text(repo, CATALOG_FILE,
			   RECORD_START
			   ",\"drill\":{\"outcome\":\"ok\",\"when\":"
			   "\"2026-11-25T00:00:00Z\"},\"label\":\"before "
			   "upgrade\",\"tier\":3}\n");
	assert_int_equal(catalog_load(&c, repo, &err), 0);
	assert_int_equal(c.count, 1);
	assert_string_equal(c.records[0].job, "kong");
	assert_int_equal(c.records[0].warnings, 0); /* absent: none */
	assert_non_null(c.records[0].extra);
	assert_int_equal(json_length(c.records[0].extra), 3);

	/* list --json shows them... */
	o = catalog_record_to_json(&c.records[0]);
	assert_string_equal(json_get_string(o, "label"), "before upgrade");
	v = json_object_get(o, "drill");
	assert_non_null(v);
	assert_string_equal(json_get_string(v, "outcome"), "ok");
	assert_int_equal(json_get_int64(o, "tier", &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(json_get_string(o, "id"),
			    "33333333-0000-4000-8000-000000000003");
	json_free(o);

	/* ...and a save by this version keeps them. */
	assert_int_equal(catalog_save(&c, repo, &err), 0);
	path = repo_file(repo, CATALOG_COPY);
	text = test_read_file(path, NULL);
	assert_contains(text, "\"label\":\"before upgrade\"");
	assert_contains(text, "\"drill\":{\"outcome\":\"ok\"");
	free(text);
	free(path);
	assert_int_equal(catalog_load(&again, repo, &err), 0);
	assert_int_equal(again.count, 1);
	assert_non_null(again.records[0].extra);
	assert_true(json_equal(again.records[0].extra, c.records[0].extra));
	catalog_release(&again);
	catalog_release(&c);
	test_rmtree(repo);
}

static void
test_bad_record_is_damage(void **state)
{
	char *repo = test_mkdtemp();
	struct catalog saved, loaded;
	struct cairn_error err;

	(void)state;
	fill(&saved);
	assert_int_equal(catalog_save(&saved, repo, &err), 0);
	/* A well-checksummed primary whose record lacks its id. */
	write_catalog_text(repo, CATALOG_FILE,
			   "{\"job\":\"db\",\"status\":\"ok\"}\n");
	assert_int_equal(catalog_load(&loaded, repo, &err), 0);
	assert_int_equal(loaded.recovered_from_copy, 1);
	assert_same_catalog(&saved, &loaded);
	catalog_release(&loaded);

	/* A negative size, then a line that is not JSON. */
	write_catalog_text(repo, CATALOG_FILE,
			   "{\"id\":\"33333333-0000-4000-8000-000000000003\","
			   "\"run\":\"44444444-0000-4000-8000-000000000004\","
			   "\"job\":\"kong\",\"plugin\":\"kong\","
			   "\"file\":\"f\","
			   "\"created\":\"2026-11-24T02:00:00.000000Z\","
			   "\"finished\":\"2026-11-24T02:00:01.500000Z\","
			   "\"bytes\":-10,\"stored\":20,\"entries\":3,"
			   "\"status\":\"ok\"}\n");
	assert_int_equal(catalog_load(&loaded, repo, &err), 0);
	assert_int_equal(loaded.recovered_from_copy, 1);
	catalog_release(&loaded);
	write_catalog_text(repo, CATALOG_FILE, "not json\n");
	assert_int_equal(catalog_load(&loaded, repo, &err), 0);
	assert_int_equal(loaded.recovered_from_copy, 1);
	catalog_release(&loaded);

	catalog_release(&saved);
	test_rmtree(repo);
}

static void
test_sort(void **state)
{
	struct catalog c;
	struct catalog_record r;

	(void)state;
	memset(&c, 0, sizeof(c));
	make_record(&r, "a0000000-0000-4000-8000-000000000001", "j", 100, 0);
	catalog_add(&c, &r);
	make_record(&r, "b0000000-0000-4000-8000-000000000002", "j", 300, 0);
	catalog_add(&c, &r);
	make_record(&r, "c0000000-0000-4000-8000-000000000003", "j", 200, 500);
	catalog_add(&c, &r);
	make_record(&r, "d0000000-0000-4000-8000-000000000004", "j", 200, 1000);
	catalog_add(&c, &r);
	/* Same instant as c...3: the id breaks the tie, the same way
	 * every time. */
	make_record(&r, "10000000-0000-4000-8000-000000000005", "j", 200, 500);
	catalog_add(&c, &r);
	catalog_sort(&c);
	assert_string_equal(c.records[0].id,
			    "b0000000-0000-4000-8000-000000000002");
	assert_string_equal(c.records[1].id,
			    "d0000000-0000-4000-8000-000000000004");
	assert_string_equal(c.records[2].id,
			    "c0000000-0000-4000-8000-000000000003");
	assert_string_equal(c.records[3].id,
			    "10000000-0000-4000-8000-000000000005");
	assert_string_equal(c.records[4].id,
			    "a0000000-0000-4000-8000-000000000001");

	assert_int_equal(catalog_find(&c,
				      "d0000000-0000-4000-8000-000000000004"),
			 1);
	assert_int_equal(catalog_find(&c, "d0000000"), -1);
	catalog_remove(&c, 1);
	assert_int_equal(c.count, 4);
	assert_int_equal(catalog_find(&c,
				      "d0000000-0000-4000-8000-000000000004"),
			 -1);
	assert_string_equal(c.records[1].id,
			    "c0000000-0000-4000-8000-000000000003");
	catalog_remove(&c, c.count - 1);
	assert_int_equal(c.count, 3);
	catalog_release(&c);
}

static void
test_record_from_manifest(void **state)
{
	struct catalog_record r;
	struct manifest m;
	struct json_value *o;
	const struct json_value *d;

	(void)state;
	manifest_init(&m);
	memcpy(m.id, "55555555-0000-4000-8000-000000000005", ARC_ID_SIZE);
	memcpy(m.run, "66666666-0000-4000-8000-000000000006", ARC_ID_SIZE);
	m.job = xstrdup("payment-postgres");
	m.plugin = xstrdup("postgres");
	m.started.tv_sec = 1795485600;
	m.finished.tv_sec = 1795485612;
	m.finished.tv_nsec = 500000000;
	m.bytes = 1000;
	m.entries = 7;
	manifest_add_warning(&m, "file changed while read");
	catalog_record_from_manifest(&r, &m, "archives/p/x.tar.zst", 333);
	assert_string_equal(r.id, m.id);
	assert_string_equal(r.run, m.run);
	assert_string_equal(r.job, "payment-postgres");
	assert_string_equal(r.plugin, "postgres");
	assert_string_equal(r.file, "archives/p/x.tar.zst");
	assert_string_equal(r.status, "ok");
	assert_true(r.bytes == 1000 && r.stored == 333 && r.entries == 7);
	assert_true(r.warnings == 1);

	/* The fields of `list --json` (SPEC). */
	o = catalog_record_to_json(&r);
	assert_string_equal(json_get_string(o, "id"), m.id);
	assert_string_equal(json_get_string(o, "job"), "payment-postgres");
	assert_string_equal(json_get_string(o, "plugin"), "postgres");
	assert_string_equal(json_get_string(o, "created"),
			    "2026-11-24T02:00:00.000000Z");
	d = json_object_get(o, "duration");
	assert_non_null(d);
	assert_float_equal(json_number(d), 12.5, 1e-9);
	assert_non_null(json_object_get(o, "bytes"));
	assert_non_null(json_object_get(o, "stored"));
	assert_non_null(json_object_get(o, "entries"));
	assert_string_equal(json_get_string(o, "status"), "ok");
	json_free(o);
	catalog_record_release(&r);
	manifest_release(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_damaged_primary),
		cmocka_unit_test(test_damaged_copy),
		cmocka_unit_test(test_both_damaged),
		cmocka_unit_test(test_unknown_members_kept),
		cmocka_unit_test(test_bad_record_is_damage),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_record_from_manifest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
