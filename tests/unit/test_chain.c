/*
 * Chains: the name order every archive of a chain is written in, the
 * job's view file (written, read back, refused when stale or tampered
 * with), and the manifest and index fields a chain is built from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "chain.h"
#include "json.h"
#include "manifest.h"
#include "test_helpers.h"

#define ID_A "0b9a4b5e-7a3b-4c1e-9a55-0d2b6e8f1a37"
#define ID_B "1c8b5c6f-8b4c-4d2f-8b66-1e3c7f9a2b48"

static void
name_order(void **state)
{
	(void)state;
	assert_true(chain_name_compare("a", "a") == 0);
	assert_true(chain_name_compare("a", "b") < 0);
	/* A directory comes just before what it holds... */
	assert_true(chain_name_compare("a", "a/b") < 0);
	/* ...and what it holds before its siblings that sort after '/'. */
	assert_true(chain_name_compare("a/b", "a-b") < 0);
	assert_true(chain_name_compare("a-b", "a/b") > 0);
	assert_true(chain_name_compare("a/z", "a0") < 0);
	assert_true(chain_name_compare("a b", "a/b") > 0);
	assert_true(chain_name_compare("a/b/c", "a/b") > 0);
	assert_true(chain_name_compare("\xc3\xbc", "z") > 0);
}

static void
write_view(const char *repo, const char *id, uint64_t stored)
{
	struct index_record r;
	struct view_writer w;
	struct cairn_error err;
	char names[][8] = {"srv", "srv/a", "srv/a/x", "srv/a-b"};
	char state_text[] = "1 5 0.0 0.0 1 2 100644 0 0 1 ff";
	size_t i;

	assert_int_equal(view_writer_open(&w, repo, "job", id, &err), 0);
	for (i = 0; i < 4; i++) {
		memset(&r, 0, sizeof(r));
		r.name = names[i];
		r.type = i == 2 ? CAIRN_ENTRY_FILE : CAIRN_ENTRY_DIRECTORY;
		r.size = i == 2 ? 5 : 0;
		r.state = state_text;
		view_writer_add(&w, &r);
	}
	assert_int_equal(view_writer_commit(&w, stored, &err), 0);
}

static void
view_round_trip(void **state)
{
	char *repo = test_mkdtemp();
	const struct index_record *r;
	struct view_reader v;
	struct cairn_error err;
	int n = 0;

	(void)state;
	write_view(repo, ID_A, 1234);
	assert_int_equal(view_reader_open(&v, repo, "job", ID_A, 1234, &err),
			 1);
	while (view_reader_next(&v, &r, &err) > 0) {
		if (n == 2) {
			assert_string_equal(r->name, "srv/a/x");
			assert_int_equal(r->size, 5);
			assert_string_equal(r->state,
					    "1 5 0.0 0.0 1 2 100644 0 0 1 ff");
		}
		n++;
	}
	assert_int_equal(n, 4);
	view_reader_close(&v);
	test_rmtree(repo);
}

static void
view_refused_when_stale(void **state)
{
	char *repo = test_mkdtemp();
	struct view_reader v;
	struct cairn_error err;

	(void)state;
	write_view(repo, ID_A, 1234);
	/* Another archive, another size: rebuild it. */
	assert_int_equal(view_reader_open(&v, repo, "job", ID_B, 1234, &err),
			 0);
	assert_contains(err.message, "another archive");
	assert_int_equal(view_reader_open(&v, repo, "job", ID_A, 999, &err), 0);
	assert_contains(err.message, "another size");
	assert_int_equal(view_reader_open(&v, repo, "other", ID_A, 1234, &err),
			 0);
	test_rmtree(repo);
}

static void
view_refused_when_tampered(void **state)
{
	char *repo = test_mkdtemp(), *text, *at;
	struct buf path = BUF_INIT;
	struct view_reader v;
	struct cairn_error err;
	size_t length;
	FILE *f;

	(void)state;
	write_view(repo, ID_A, 1234);
	buf_printf(&path, "%s/cache/job.view", repo);
	text = test_read_file(buf_str(&path), &length);
	at = strstr(text, "100644");
	assert_non_null(at);
	at[0] = '2'; /* a mode changed by hand */
	f = fopen(buf_str(&path), "w");
	assert_non_null(f);
	fwrite(text, 1, length, f);
	fclose(f);
	assert_int_equal(view_reader_open(&v, repo, "job", ID_A, 1234, &err),
			 0);
	assert_contains(err.message, "checksum");
	/* Cut short: incomplete. */
	f = fopen(buf_str(&path), "w");
	fwrite(text, 1, length / 2, f);
	fclose(f);
	assert_int_equal(view_reader_open(&v, repo, "job", ID_A, 1234, &err),
			 0);
	free(text);
	buf_release(&path);
	test_rmtree(repo);
}

static void
view_out_of_order_is_dropped(void **state)
{
	char *repo = test_mkdtemp();
	struct index_record r;
	struct view_writer w;
	struct view_reader v;
	struct cairn_error err;
	char state_s[] = "s", name_a[] = "a", name_b[] = "b";

	(void)state;
	assert_int_equal(view_writer_open(&w, repo, "job", ID_A, &err), 0);
	memset(&r, 0, sizeof(r));
	r.state = state_s;
	r.name = name_b;
	view_writer_add(&w, &r);
	r.name = name_a;
	view_writer_add(&w, &r);
	assert_int_equal(view_writer_commit(&w, 1, &err), 0);
	assert_int_equal(view_reader_open(&v, repo, "job", ID_A, 1, &err), 0);
	test_rmtree(repo);
}

static void
manifest_kind_round_trip(void **state)
{
	struct manifest m, back;
	struct json_value *json;
	struct cairn_error err;
	char *text;
	size_t length;

	(void)state;
	manifest_init(&m);
	memcpy(m.id, ID_B, sizeof(m.id));
	memcpy(m.run, ID_B, sizeof(m.run));
	m.job = xstrdup("job");
	m.plugin = xstrdup("volume");
	m.incremental = 1;
	memcpy(m.parent, ID_A, sizeof(m.parent));
	m.removed = 2;
	m.removed_frames = xcalloc(1, sizeof(uint64_t));
	m.removed_frames[0] = 4096;
	m.removed_frame_count = 1;
	json = manifest_to_json(&m);
	text = json_serialize(json, JSON_COMPACT, &length);
	assert_contains(text, "\"kind\":\"incremental\"");
	manifest_init(&back);
	assert_int_equal(manifest_parse(&back, text, length, &err), 0);
	assert_true(back.incremental);
	assert_string_equal(back.parent, ID_A);
	assert_int_equal(back.removed, 2);
	assert_int_equal(back.removed_frame_count, 1);
	assert_int_equal(back.removed_frames[0], 4096);
	free(text);
	json_free(json);
	manifest_release(&back);
	/* A full one says so, and an old manifest without "kind" is full. */
	m.incremental = 0;
	json = manifest_to_json(&m);
	text = json_serialize(json, JSON_COMPACT, &length);
	assert_contains(text, "\"kind\":\"full\"");
	assert_not_contains(text, "parent");
	free(text);
	json_free(json);
	manifest_release(&m);
}

static void
index_state_round_trip(void **state)
{
	struct index_record r, back;
	struct buf line = BUF_INIT;
	struct cairn_error err;
	const char *old = "{\"name\":\"a\",\"type\":\"file\",\"size\":0,"
			  "\"frame\":0}";
	char name[] = "srv/a", state_text[] = "1 2 3";

	(void)state;
	memset(&r, 0, sizeof(r));
	r.name = name;
	r.type = CAIRN_ENTRY_FILE;
	r.state = state_text;
	index_record_format(&r, &line);
	assert_int_equal(index_record_parse(&back, line.data, line.length - 1,
					    &err),
			 0);
	assert_string_equal(back.state, "1 2 3");
	index_record_release(&back);
	/* Records of older archives have none. */
	assert_int_equal(index_record_parse(&back, old, strlen(old), &err), 0);
	assert_null(back.state);
	index_record_release(&back);
	buf_release(&line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(name_order),
		cmocka_unit_test(view_round_trip),
		cmocka_unit_test(view_refused_when_stale),
		cmocka_unit_test(view_refused_when_tampered),
		cmocka_unit_test(view_out_of_order_is_dropped),
		cmocka_unit_test(manifest_kind_round_trip),
		cmocka_unit_test(index_state_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
