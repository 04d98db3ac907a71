/*
 * Unit tests of archive ids: new ids are random lowercase UUIDs, and what
 * an operator may write for one resolves as cairn(8) says: the whole id,
 * a unique prefix of at least 6 characters (any case), "latest" (the
 * newest complete archive) and "JOB:latest"; anything else is refused as
 * ambiguous, unknown or invalid, with a message that says which.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "arc_id.h"
#include "buf.h"
#include "catalog.h"
#include "test_helpers.h"

/* Three jobs; ids chosen so that some prefixes are shared. */
static const struct {
	const char *id;
	const char *job;
	time_t created;
	long nsec;
	const char *status;
} fixture[] = {
	{"0a1b2c3d-0000-4000-8000-000000000001", "db", 1000, 0, "ok"},
	{"0a1b2c3d-0000-4000-8000-000000000002", "db", 3000, 0, "ok"},
	{"0a1b2c3e-0000-4000-8000-000000000003", "db", 3000, 5, "ok"},
	{"7f000001-0000-4000-8000-000000000004", "volumes", 5000, 0, "ok"},
	/* The newest of all, but being removed: never "latest". */
	{"abcdef12-0000-4000-8000-000000000005", "volumes", 9000, 0,
	 "removing"},
	{"fedcba98-0000-4000-8000-000000000006", "gone", 2000, 0, "removing"},
};

static int
setup(void **state)
{
	struct catalog *c = calloc(1, sizeof(*c));
	size_t i;

	assert_non_null(c);
	for (i = 0; i < sizeof(fixture) / sizeof(*fixture); i++) {
		struct catalog_record r;

		memset(&r, 0, sizeof(r));
		memcpy(r.id, fixture[i].id, ARC_ID_SIZE);
		memcpy(r.run, fixture[i].id, ARC_ID_SIZE);
		r.job = xstrdup(fixture[i].job);
		r.plugin = xstrdup("volume");
		r.file = xstrdup("archives/x.tar.zst");
		r.status = xstrdup(fixture[i].status);
		r.created.tv_sec = fixture[i].created;
		r.created.tv_nsec = fixture[i].nsec;
		r.finished = r.created;
		catalog_add(c, &r);
	}
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	catalog_release(*state);
	free(*state);
	return 0;
}

static void
expect_found(const struct catalog *c, const char *spec, const char *id)
{
	struct cairn_error err;
	size_t index = (size_t)-1;
	enum arc_id_result rc;

	memset(&err, 0, sizeof(err));
	rc = arc_id_resolve(c, spec, &index, &err);
	if (rc != ARC_ID_FOUND)
		fail_msg("'%s' not resolved (%d): %s", spec, (int)rc,
			 err.message);
	assert_true(index < c->count);
	assert_string_equal(c->records[index].id, id);
}

static void
expect_result(const struct catalog *c, const char *spec,
	      enum arc_id_result want, const char *message)
{
	struct cairn_error err;
	size_t index = 12345;
	enum arc_id_result rc;

	memset(&err, 0, sizeof(err));
	rc = arc_id_resolve(c, spec, &index, &err);
	if (rc != want)
		fail_msg("'%s' resolved to %d, not %d: %s", spec, (int)rc,
			 (int)want, err.message);
	assert_contains(err.message, message);
}

static void
test_new_ids(void **state)
{
	char a[ARC_ID_SIZE], b[ARC_ID_SIZE];
	size_t i;

	(void)state;
	arc_id_new(a);
	arc_id_new(b);
	assert_int_equal(strlen(a), ARC_ID_SIZE - 1);
	assert_string_not_equal(a, b);
	for (i = 0; i < ARC_ID_SIZE - 1; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(a[i], '-');
		else
			assert_true(isxdigit((unsigned char)a[i]) &&
				    !isupper((unsigned char)a[i]));
	}
	/* Random (version 4) UUIDs, RFC 4122 variant. */
	assert_int_equal(a[14], '4');
	assert_non_null(strchr("89ab", a[19]));
}

static void
test_whole_id(void **state)
{
	const struct catalog *c = *state;
	size_t i;

	for (i = 0; i < sizeof(fixture) / sizeof(*fixture); i++)
		expect_found(c, fixture[i].id, fixture[i].id);
}

static void
test_prefixes(void **state)
{
	const struct catalog *c = *state;

	expect_found(c, "7f0000", fixture[3].id);
	expect_found(c, "7f000001-0", fixture[3].id);
	expect_found(c, "0a1b2c3e", fixture[2].id);
	expect_found(c, "0a1b2c3d-0000-4000-8000-000000000002", fixture[1].id);
	/* Prefixes are case-insensitive, as UUIDs are. */
	expect_found(c, "ABCDEF", fixture[4].id);
	expect_found(c, "FedCba98", fixture[5].id);
}

static void
test_short_prefix(void **state)
{
	const struct catalog *c = *state;

	expect_result(c, "7f000", ARC_ID_INVALID, "at least 6");
	expect_result(c, "7", ARC_ID_INVALID, "'7' is not an archive id");
	expect_result(c, "", ARC_ID_INVALID, "is not an archive id");
}

static void
test_ambiguous(void **state)
{
	const struct catalog *c = *state;

	expect_result(c, "0a1b2c", ARC_ID_AMBIGUOUS,
		      "'0a1b2c' matches 3 archives");
	expect_result(c, "0a1b2c3d", ARC_ID_AMBIGUOUS, "matches 2");
	expect_result(c, "0a1b2c3d-0000-4000-8000-00000000000",
		      ARC_ID_AMBIGUOUS, "give more of the id");
}

static void
test_unknown(void **state)
{
	const struct catalog *c = *state;

	expect_result(c, "123456", ARC_ID_NOT_FOUND, "no archive '123456'");
	expect_result(c, "0a1b2c3d-0000-4000-8000-000000000009",
		      ARC_ID_NOT_FOUND, "no archive");
}

static void
test_invalid(void **state)
{
	const struct catalog *c = *state;

	expect_result(c, "zzzzzzzz", ARC_ID_INVALID,
		      "'zzzzzzzz' is not an archive id");
	expect_result(c, "0a1b2c3d 0000", ARC_ID_INVALID, "not an archive");
	expect_result(c, "../../etc/passwd", ARC_ID_INVALID, "not an archive");
	/* Longer than any UUID. */
	expect_result(c, "0a1b2c3d-0000-4000-8000-0000000000010",
		      ARC_ID_INVALID, "not an archive");
	expect_result(c, ":latest", ARC_ID_INVALID, "not an archive id");
	expect_result(c, "Latest", ARC_ID_INVALID, "not an archive id");
	expect_result(c, "db:newest", ARC_ID_INVALID, "not an archive id");
}

static void
test_latest(void **state)
{
	const struct catalog *c = *state;

	/* The "removing" archive is newer but does not count. */
	expect_found(c, "latest", fixture[3].id);
	/* Same second: the nanoseconds decide. */
	expect_found(c, "db:latest", fixture[2].id);
	expect_found(c, "volumes:latest", fixture[3].id);
}

static void
test_job_latest_unknown(void **state)
{
	const struct catalog *c = *state;
	char long_job[300];

	expect_result(c, "nosuchjob:latest", ARC_ID_NOT_FOUND,
		      "no archive of job 'nosuchjob'");
	/* A job whose only archive is being removed has no latest. */
	expect_result(c, "gone:latest", ARC_ID_NOT_FOUND,
		      "no archive of job 'gone'");
	memset(long_job, 'j', sizeof(long_job));
	memcpy(long_job + sizeof(long_job) - 8, ":latest", 8);
	expect_result(c, long_job, ARC_ID_INVALID, "not an archive id");
}

static void
test_empty_catalog(void **state)
{
	struct catalog empty;

	(void)state;
	memset(&empty, 0, sizeof(empty));
	expect_result(&empty, "latest", ARC_ID_NOT_FOUND, "no archive");
	expect_result(&empty, "db:latest", ARC_ID_NOT_FOUND,
		      "no archive of job 'db'");
	expect_result(&empty, "0a1b2c", ARC_ID_NOT_FOUND, "no archive");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_ids),
		cmocka_unit_test_setup_teardown(test_whole_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prefixes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_prefix, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ambiguous, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_latest_unknown, setup,
						teardown),
		cmocka_unit_test(test_empty_catalog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
