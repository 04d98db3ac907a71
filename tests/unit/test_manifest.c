/*
 * Unit tests of manifests and index records: JSON round trips of both,
 * what their parsers refuse, entry type names, and the rule
 * for entry names (relative, no empty, "." or ".." components, nothing
 * under the reserved ".cairn", at most 64 KiB) that keeps a hostile
 * archive from writing outside its target.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "manifest.h"
#include "test_helpers.h"

static void
fill_manifest(struct manifest *m)
{
	manifest_init(m);
	memcpy(m->id, "0a1b2c3d-0000-4000-8000-000000000001", ARC_ID_SIZE);
	memcpy(m->run, "0a1b2c3d-0000-4000-8000-0000000000ff", ARC_ID_SIZE);
	m->job = xstrdup("payment-postgres");
	m->plugin = xstrdup("postgres");
	m->plugin_version = xstrdup("0.1.0");
	m->host = xstrdup("db1");
	m->cairn_version = xstrdup("0.1.0");
	m->started.tv_sec = 1795485600;
	m->started.tv_nsec = 1000;
	m->finished.tv_sec = 1795485660;
	m->finished.tv_nsec = 999999000;
	m->bytes = 5000000000ULL;
	m->entries = 12;
	m->compressed = 1;
	m->level = 19;
	manifest_set_fact(m, "server_version", "15.6");
	manifest_set_fact(m, "database.payment_gateway.size", "8192");
	manifest_set_fact(m, "quote", "a \"quoted\"\nvalue");
	manifest_add_warning(m, "file 'x' changed while it was read");
	manifest_add_warning(m, "second warning");
	m->index_frames = xcalloc(3, sizeof(uint64_t));
	m->index_frames[0] = 0;
	m->index_frames[1] = 1048576;
	m->index_frames[2] = 5000000000ULL;
	m->index_frame_count = 3;
}

static void
test_manifest_round_trip(void **state)
{
	struct manifest m, back;
	struct cairn_error err;
	struct json_value *json;
	size_t length, i;
	char *text;

	(void)state;
	fill_manifest(&m);
	json = manifest_to_json(&m);
	assert_non_null(json);
	text = json_serialize(json, JSON_PRETTY, &length);
	assert_non_null(text);
	assert_contains(text, "\"format\": 1");
	assert_contains(text, "\"started\": \"2026-11-24T02:00:00.000001Z\"");

	manifest_init(&back);
	if (manifest_parse(&back, text, length, &err) != 0)
		fail_msg("cannot parse: %s", err.message);
	assert_string_equal(back.id, m.id);
	assert_string_equal(back.run, m.run);
	assert_string_equal(back.job, m.job);
	assert_string_equal(back.plugin, m.plugin);
	assert_string_equal(back.plugin_version, m.plugin_version);
	assert_string_equal(back.host, m.host);
	assert_string_equal(back.cairn_version, m.cairn_version);
	assert_int_equal(back.started.tv_sec, m.started.tv_sec);
	assert_int_equal(back.started.tv_nsec, m.started.tv_nsec);
	assert_int_equal(back.finished.tv_sec, m.finished.tv_sec);
	assert_int_equal(back.finished.tv_nsec, m.finished.tv_nsec);
	assert_true(back.bytes == m.bytes);
	assert_true(back.entries == m.entries);
	assert_int_equal(back.compressed, 1);
	assert_int_equal(back.level, 19);
	assert_string_equal(manifest_fact(&back, "server_version"), "15.6");
	assert_string_equal(manifest_fact(&back, "quote"),
			    "a \"quoted\"\nvalue");
	assert_null(manifest_fact(&back, "nothing"));
	assert_int_equal(back.warning_count, 2);
	assert_string_equal(back.warnings[0],
			    "file 'x' changed while it was read");
	assert_int_equal(back.index_frame_count, 3);
	for (i = 0; i < 3; i++)
		assert_true(back.index_frames[i] == m.index_frames[i]);

	free(text);
	json_free(json);
	manifest_release(&back);
	manifest_release(&m);
}

static void
test_manifest_uncompressed(void **state)
{
	struct manifest m, back;
	struct cairn_error err;
	struct json_value *json;
	size_t length;
	char *text;

	(void)state;
	fill_manifest(&m);
	m.compressed = 0;
	manifest_set_fact(&m, "server_version", "16.1"); /* replaced */
	json = manifest_to_json(&m);
	text = json_serialize(json, JSON_COMPACT, &length);
	assert_contains(text, "\"compression\":\"none\"");
	manifest_init(&back);
	assert_int_equal(manifest_parse(&back, text, length, &err), 0);
	assert_int_equal(back.compressed, 0);
	assert_string_equal(manifest_fact(&back, "server_version"), "16.1");
	free(text);
	json_free(json);
	manifest_release(&back);
	manifest_release(&m);
}

static void
expect_manifest_error(const char *text, const char *message)
{
	struct manifest m;
	struct cairn_error err;

	manifest_init(&m);
	memset(&err, 0, sizeof(err));
	if (manifest_parse(&m, text, strlen(text), &err) == 0)
		fail_msg("manifest '%s' was accepted", text);
	assert_contains(err.message, message);
	manifest_release(&m);
}

#define IDS                                                                    \
	"\"id\":\"0a1b2c3d-0000-4000-8000-000000000001\","                     \
	"\"run\":\"0a1b2c3d-0000-4000-8000-000000000002\","
#define TIMES                                                                  \
	"\"started\":\"2026-11-24T02:00:00Z\","                                \
	"\"finished\":\"2026-11-24T02:00:01Z\""

static void
test_manifest_refused(void **state)
{
	(void)state;
	expect_manifest_error("", "not valid JSON");
	expect_manifest_error("{\"format\":1", "not valid JSON");
	expect_manifest_error("[]", "format is not 1");
	expect_manifest_error("{\"format\":2," IDS "\"job\":\"j\","
			      "\"plugin\":\"p\"," TIMES "}",
			      "format is not 1");
	expect_manifest_error(
		"{\"format\":1,\"job\":\"j\",\"plugin\":\"p\"," TIMES "}",
		"lacks its id");
	expect_manifest_error(
		"{\"format\":1,\"id\":\"short\","
		"\"run\":\"0a1b2c3d-0000-4000-8000-000000000002\","
		"\"job\":\"j\",\"plugin\":\"p\"," TIMES "}",
		"lacks its id");
	expect_manifest_error("{\"format\":1," IDS "\"plugin\":\"p\"," TIMES
			      "}",
			      "lacks its id, run, job");
	expect_manifest_error("{\"format\":1," IDS "\"job\":\"j\","
			      "\"plugin\":\"p\","
			      "\"started\":\"yesterday\","
			      "\"finished\":\"2026-11-24T02:00:01Z\"}",
			      "times");
	expect_manifest_error("{\"format\":1," IDS "\"job\":\"j\","
			      "\"plugin\":\"p\"," TIMES ",\"index\":[0,-5]}",
			      "bad index offset");
	expect_manifest_error("{\"format\":1," IDS "\"job\":\"j\","
			      "\"plugin\":\"p\"," TIMES
			      ",\"index\":[\"zero\"]}",
			      "bad index offset");
}

static void
test_manifest_minimal(void **state)
{
	static const char text[] = "{\"format\":1," IDS "\"job\":\"j\","
				   "\"plugin\":\"p\"," TIMES
				   ",\"future_member\":{\"x\":1}}";
	struct manifest m;
	struct cairn_error err;

	(void)state;
	/* What later versions add is ignored; what is absent is empty. */
	manifest_init(&m);
	if (manifest_parse(&m, text, strlen(text), &err) != 0)
		fail_msg("minimal manifest refused: %s", err.message);
	assert_string_equal(m.job, "j");
	assert_int_equal(m.index_frame_count, 0);
	assert_int_equal(m.warning_count, 0);
	assert_true(m.entries == 0);
	assert_int_equal(m.compressed, 1);
	assert_null(manifest_fact(&m, "anything"));
	manifest_release(&m);
}

static void
index_round_trip(const struct index_record *r)
{
	struct buf line = BUF_INIT;
	struct index_record back;
	struct cairn_error err;

	index_record_format(r, &line);
	assert_true(line.length > 0);
	assert_int_equal(line.data[line.length - 1], '\n');
	/* One line: JSON Lines. */
	assert_null(memchr(line.data, '\n', line.length - 1));
	if (index_record_parse(&back, line.data, line.length - 1, &err) != 0)
		fail_msg("cannot parse '%s': %s", line.data, err.message);
	assert_string_equal(back.name, r->name);
	assert_int_equal(back.type, r->type);
	assert_int_equal(back.size, r->size);
	assert_string_equal(back.sha256, r->sha256);
	assert_true(back.frame == r->frame);
	assert_int_equal(back.parts, r->parts);
	index_record_release(&back);
	buf_release(&line);
}

static void
test_index_round_trip(void **state)
{
	struct index_record r;
	char name[] = "var/lib/data/\xc3\xa9t\xc3\xa9 \"quoted\"\\file.txt";
	char dir[] = "var/lib/data";
	char dump[] = "payment_gateway.dump";
	enum cairn_entry_type t;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.name = name;
	r.type = CAIRN_ENTRY_FILE;
	r.size = 1234567890123LL;
	memcpy(r.sha256,
	       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"
	       "5",
	       65);
	r.frame = 67108864;
	index_round_trip(&r);

	/* Streamed in parts. */
	r.name = dump;
	r.parts = 3;
	index_round_trip(&r);

	/* No content: no checksum written. */
	memset(&r, 0, sizeof(r));
	r.name = dir;
	r.type = CAIRN_ENTRY_DIRECTORY;
	index_round_trip(&r);

	for (t = CAIRN_ENTRY_FILE; t <= CAIRN_ENTRY_BLOCKDEV; t++) {
		r.type = t;
		index_round_trip(&r);
	}
}

static void
expect_index_error(const char *line)
{
	struct index_record r;
	struct cairn_error err;

	memset(&err, 0, sizeof(err));
	if (index_record_parse(&r, line, strlen(line), &err) == 0) {
		index_record_release(&r);
		fail_msg("index record '%s' was accepted", line);
	}
	assert_true(err.message[0] != '\0');
}

static void
test_index_refused(void **state)
{
	(void)state;
	expect_index_error("");
	expect_index_error("{\"name\":\"a\",\"type\":\"file\",\"size\":1");
	expect_index_error("{\"type\":\"file\",\"size\":1,\"frame\":0}");
	expect_index_error("{\"name\":\"a\",\"size\":1,\"frame\":0}");
	expect_index_error("{\"name\":\"a\",\"type\":\"socket\",\"size\":1,"
			   "\"frame\":0}");
	expect_index_error("{\"name\":\"a\",\"type\":\"file\",\"size\":-1,"
			   "\"frame\":0}");
	expect_index_error("{\"name\":\"a\",\"type\":\"file\",\"size\":1,"
			   "\"frame\":-1}");
	expect_index_error("{\"name\":\"a\",\"type\":\"file\",\"size\":1}");
	expect_index_error("{\"name\":\"a\",\"type\":\"file\",\"size\":1,"
			   "\"frame\":0,\"sha256\":\"abc\"}");
	expect_index_error("{\"name\":\"a\",\"type\":\"file\",\"size\":1,"
			   "\"frame\":0,\"parts\":-2}");
	expect_index_error("{\"name\":\"a\",\"type\":\"file\",\"size\":1,"
			   "\"frame\":0,\"parts\":\"many\"}");
	expect_index_error("{\"name\":\"a\",\"type\":\"file\",\"size\":1.5,"
			   "\"frame\":0}");
	expect_index_error("{\"name\":7,\"type\":\"file\",\"size\":1,"
			   "\"frame\":0}");
}

static void
test_entry_types(void **state)
{
	static const char *const names[] = {"file",	"dir",	"symlink",
					    "hardlink", "fifo", "chardev",
					    "blockdev"};
	enum cairn_entry_type t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
		assert_string_equal(entry_type_name((enum cairn_entry_type)i),
				    names[i]);
		assert_int_equal(entry_type_parse(names[i], &t), 0);
		assert_int_equal(t, (enum cairn_entry_type)i);
	}
	assert_string_equal(entry_type_name((enum cairn_entry_type)99),
			    "unknown");
	assert_int_equal(entry_type_parse("socket", &t), -1);
	assert_int_equal(entry_type_parse("", &t), -1);
	assert_int_equal(entry_type_parse("FILE", &t), -1);
}

static void
expect_name_ok(const char *name)
{
	struct cairn_error err;

	if (entry_name_check(name, &err) != 0)
		fail_msg("entry name '%s' refused: %s", name, err.message);
}

static void
expect_name_refused(const char *name, const char *message)
{
	struct cairn_error err;

	memset(&err, 0, sizeof(err));
	if (entry_name_check(name, &err) == 0)
		fail_msg("entry name '%s' accepted", name);
	assert_contains(err.message, message);
}

static void
test_entry_names(void **state)
{
	(void)state;
	expect_name_ok("a");
	expect_name_ok("a/b/c.txt");
	expect_name_ok("globals.sql");
	expect_name_ok("var/lib/docker/volumes/kafka_data/_data/.hidden");
	expect_name_ok("a/.b");
	expect_name_ok("a/..b");
	expect_name_ok("a/b..");
	expect_name_ok("...");
	expect_name_ok("a/.cairn"); /* reserved only at the top */
	expect_name_ok("cairn/manifest.json");
	expect_name_ok("\xc3\xa9t\xc3\xa9 with spaces");
}

static void
test_entry_names_refused(void **state)
{
	(void)state;
	expect_name_refused("", "entry name of 0 bytes");
	expect_name_refused("/etc/passwd", "absolute");
	expect_name_refused("/", "absolute");
	expect_name_refused("..", "'..' component");
	expect_name_refused("../escape", "'..' component");
	expect_name_refused("a/../../b", "'..' component");
	expect_name_refused("a/..", "'..' component");
	expect_name_refused(".", "'.'");
	expect_name_refused("./a", "'.'");
	expect_name_refused("a/./b", "'.'");
	expect_name_refused("a/.", "'.'");
	expect_name_refused("a//b", "empty");
	expect_name_refused("a/", "empty");
	expect_name_refused("a/b/", "empty");
	expect_name_refused(".cairn", "reserved");
	expect_name_refused(".cairn/manifest.json", "reserved");
	expect_name_refused(".cairn/index.part-000001", "reserved");
	expect_name_refused(".cairnish", "reserved");
}

static void
test_entry_name_limit(void **state)
{
	char *name = malloc(65538);
	size_t i;

	(void)state;
	assert_non_null(name);
	/* 64 KiB of "a/a/a/...": accepted; one byte more is not. */
	for (i = 0; i < 65536; i++)
		name[i] = i % 2 ? '/' : 'a';
	name[65535] = 'a';
	name[65536] = '\0';
	expect_name_ok(name);
	name[65536] = 'b';
	name[65537] = '\0';
	expect_name_refused(name, "entry name of 65537 bytes");
	free(name);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_round_trip),
		cmocka_unit_test(test_manifest_uncompressed),
		cmocka_unit_test(test_manifest_refused),
		cmocka_unit_test(test_manifest_minimal),
		cmocka_unit_test(test_index_round_trip),
		cmocka_unit_test(test_index_refused),
		cmocka_unit_test(test_entry_types),
		cmocka_unit_test(test_entry_names),
		cmocka_unit_test(test_entry_names_refused),
		cmocka_unit_test(test_entry_name_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
