/*
 * Unit tests of the plugin loader against fixture plugins built beside
 * this test (tests/fixtures/.libs): a good plugin loads and its keys are
 * known; one built for another ABI, one without cairn_plugin_entry, one
 * with a NULL callback, ones claiming a core key (plugin, keep-daily) and
 * one whose file name is not its own name are refused with messages that
 * name the file and, for the ABI, both versions. Also: files that are not
 * shared objects, missing files, and the listing of a plugin directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "plugin_loader.h"
#include "test_helpers.h"

#ifndef FIXTURE_DIR
#error "FIXTURE_DIR must name the directory of the fixture plugins"
#endif

static char *
fixture_path(const char *name)
{
	struct buf path = BUF_INIT;

	buf_printf(&path, "%s/fixture_%s.so", FIXTURE_DIR, name);
	if (access(buf_str(&path), R_OK) != 0)
		fail_msg("fixture '%s' was not built", buf_str(&path));
	return buf_detach(&path);
}

/* Loads a fixture that must be refused and returns the message. */
static void
expect_refused(const char *name, struct cairn_error *err)
{
	char *path = fixture_path(name);
	struct plugin p;

	memset(err, 0, sizeof(*err));
	if (plugin_loader_open(&p, path, err) == 0) {
		plugin_loader_close(&p);
		fail_msg("fixture '%s' was loaded", path);
	}
	assert_null(p.handle);
	assert_null(p.descriptor);
	/* Every refusal names the file. */
	assert_contains(err->message, path);
	free(path);
}

static void
test_good(void **state)
{
	char *path = fixture_path("good");
	struct cairn_error err;
	struct plugin p;

	(void)state;
	if (plugin_loader_open(&p, path, &err) != 0)
		fail_msg("good fixture refused: %s", err.message);
	assert_non_null(p.handle);
	assert_non_null(p.descriptor);
	assert_string_equal(p.path, path);
	assert_int_equal(p.descriptor->abi_version, CAIRN_PLUGIN_ABI_VERSION);
	assert_string_equal(p.descriptor->name, "fixture_good");
	assert_string_equal(p.descriptor->version, "1.2.3");
	assert_null(p.descriptor->check);
	assert_true(plugin_accepts_key(&p, "paths"));
	assert_true(plugin_accepts_key(&p, "exclude"));
	assert_false(plugin_accepts_key(&p, "plugin"));
	assert_false(plugin_accepts_key(&p, "path"));
	assert_false(plugin_accepts_key(&p, ""));
	plugin_loader_close(&p);
	assert_null(p.handle);
	assert_null(p.path);
	free(path);
}

static void
test_good_by_name(void **state)
{
	struct cairn_error err;
	struct plugin p;

	(void)state;
	if (plugin_loader_open_named(&p, FIXTURE_DIR, "fixture_good", &err) !=
	    0)
		fail_msg("good fixture refused by name: %s", err.message);
	assert_string_equal(p.descriptor->name, "fixture_good");
	plugin_loader_close(&p);
}

static void
test_wrong_abi(void **state)
{
	struct cairn_error err;
	char want[64], got[64];

	(void)state;
	expect_refused("bad_abi", &err);
	snprintf(got, sizeof(got), "ABI %u", CAIRN_PLUGIN_ABI_VERSION + 41);
	snprintf(want, sizeof(want), "ABI %u", CAIRN_PLUGIN_ABI_VERSION);
	assert_contains(err.message, got);
	assert_contains(err.message, want);
	assert_contains(err.message, "rebuild it");
}

static void
test_no_entry(void **state)
{
	struct cairn_error err;

	(void)state;
	expect_refused("no_entry", &err);
	assert_contains(err.message, "is not a cairn plugin");
	assert_contains(err.message, "cairn_plugin_entry");
}

static void
test_null_callbacks(void **state)
{
	struct cairn_error err;

	(void)state;
	expect_refused("null_callbacks", &err);
	assert_contains(err.message, "lacks");
	assert_contains(err.message, "backup");
}

static void
test_core_keys_claimed(void **state)
{
	struct cairn_error err;

	(void)state;
	expect_refused("claims_plugin", &err);
	assert_contains(err.message, "claims the key 'plugin'");
	expect_refused("claims_retention", &err);
	assert_contains(err.message, "claims the key 'keep-daily'");
}

static void
test_misnamed(void **state)
{
	struct cairn_error err;
	struct plugin p;
	char *path = fixture_path("misnamed");

	(void)state;
	/* Loading by path is fine; by name, the names must agree. */
	assert_int_equal(plugin_loader_open(&p, path, &err), 0);
	plugin_loader_close(&p);
	memset(&err, 0, sizeof(err));
	assert_int_equal(plugin_loader_open_named(&p, FIXTURE_DIR,
						  "fixture_misnamed", &err),
			 -1);
	assert_contains(err.message, path);
	assert_contains(err.message, "holds plugin 'somebody_else'");
	free(path);
}

static void
test_not_found(void **state)
{
	struct cairn_error err;
	struct plugin p;

	(void)state;
	memset(&err, 0, sizeof(err));
	assert_int_equal(plugin_loader_open_named(&p, FIXTURE_DIR, "nosuch",
						  &err),
			 -1);
	assert_contains(err.message, "no plugin 'nosuch'");
	assert_contains(err.message, FIXTURE_DIR);
	/* Names that would leave the directory are not names. */
	assert_int_equal(plugin_loader_open_named(&p, FIXTURE_DIR, "../good",
						  &err),
			 -1);
	assert_contains(err.message, "'../good' is not a plugin name");
	assert_int_equal(plugin_loader_open_named(&p, FIXTURE_DIR, ".hidden",
						  &err),
			 -1);
	assert_contains(err.message, "not a plugin name");
	assert_int_equal(plugin_loader_open(&p, "/nonexistent/x.so", &err), -1);
	assert_contains(err.message, "cannot load plugin '/nonexistent/x.so'");
}

static void
test_not_a_shared_object(void **state)
{
	char *dir = test_mkdtemp(), *path;
	struct cairn_error err;
	struct plugin p;

	(void)state;
	path = test_write_file(dir, "junk.so", "#!/bin/sh\necho hi\n", 19);
	memset(&err, 0, sizeof(err));
	assert_int_equal(plugin_loader_open(&p, path, &err), -1);
	assert_contains(err.message, "cannot load plugin");
	assert_contains(err.message, path);
	free(path);
	path = test_write_file(dir, "empty.so", "", 0);
	assert_int_equal(plugin_loader_open(&p, path, &err), -1);
	assert_contains(err.message, path);
	free(path);
	test_rmtree(dir);
}

static void
test_list(void **state)
{
	char *dir = test_mkdtemp();
	struct buf path = BUF_INIT;
	struct cairn_error err;
	char **paths = NULL;
	size_t count = 0, i;

	(void)state;
	free(test_write_file(dir, "redis.so", "", 0));
	free(test_write_file(dir, "postgres.so", "", 0));
	free(test_write_file(dir, "volume.la", "", 0));
	free(test_write_file(dir, "notes.txt", "", 0));
	free(test_write_file(dir, ".so", "", 0));
	assert_int_equal(plugin_loader_list(dir, &paths, &count, &err), 0);
	assert_int_equal(count, 2);
	buf_printf(&path, "%s/postgres.so", dir);
	assert_string_equal(paths[0], buf_str(&path));
	buf_reset(&path);
	buf_printf(&path, "%s/redis.so", dir);
	assert_string_equal(paths[1], buf_str(&path));
	buf_release(&path);
	for (i = 0; i < count; i++)
		free(paths[i]);
	free(paths);

	/* The fixtures' own directory: sorted, every .so found. */
	assert_int_equal(plugin_loader_list(FIXTURE_DIR, &paths, &count, &err),
			 0);
	assert_true(count >= 7);
	for (i = 0; i + 1 < count; i++)
		assert_true(strcmp(paths[i], paths[i + 1]) < 0);
	for (i = 0; i < count; i++)
		free(paths[i]);
	free(paths);

	memset(&err, 0, sizeof(err));
	assert_int_equal(plugin_loader_list("/nonexistent/plugins", &paths,
					    &count, &err),
			 -1);
	assert_contains(err.message, "'/nonexistent/plugins'");
	assert_int_equal(count, 0);
	test_rmtree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_good_by_name),
		cmocka_unit_test(test_wrong_abi),
		cmocka_unit_test(test_no_entry),
		cmocka_unit_test(test_null_callbacks),
		cmocka_unit_test(test_core_keys_claimed),
		cmocka_unit_test(test_misnamed),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_not_a_shared_object),
		cmocka_unit_test(test_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
