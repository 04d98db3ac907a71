/*
 * Unit tests of timefmt: RFC 3339 output and parsing in UTC, file name
 * stamps, configuration durations ("26h", "1d12h") and their refusals,
 * and the durations shown to humans.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "timefmt.h"

/* 2026-11-24T02:00:00Z */
#define SOME_TIME ((time_t)1795485600)

static void
test_rfc3339_format(void **state)
{
	struct timespec when = {SOME_TIME, 123456789};
	char text[TIMEFMT_RFC3339_SIZE];

	(void)state;
	timefmt_rfc3339(when, 0, text, sizeof(text));
	assert_string_equal(text, "2026-11-24T02:00:00Z");
	timefmt_rfc3339(when, 1, text, sizeof(text));
	assert_string_equal(text, "2026-11-24T02:00:00.123456Z");
	when.tv_sec = 0;
	when.tv_nsec = 0;
	timefmt_rfc3339(when, 1, text, sizeof(text));
	assert_string_equal(text, "1970-01-01T00:00:00.000000Z");
}

static void
test_rfc3339_round_trip(void **state)
{
	struct timespec when = {SOME_TIME + 59, 999999000}, back;
	char text[TIMEFMT_RFC3339_SIZE];

	(void)state;
	timefmt_rfc3339(when, 1, text, sizeof(text));
	assert_int_equal(timefmt_parse_rfc3339(text, &back), 0);
	assert_int_equal(back.tv_sec, when.tv_sec);
	assert_int_equal(back.tv_nsec, when.tv_nsec);

	/* A leap year's 29 February, and the end of a year. */
	assert_int_equal(timefmt_parse_rfc3339("2024-02-29T23:59:59Z", &back),
			 0);
	assert_int_equal(back.tv_sec, 1709251199);
	assert_int_equal(back.tv_nsec, 0);
	assert_int_equal(timefmt_parse_rfc3339("2025-12-31T23:59:59.5Z", &back),
			 0);
	assert_int_equal(back.tv_sec, 1767225599);
	assert_int_equal(back.tv_nsec, 500000000);
}

static void
test_rfc3339_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"yesterday",
		"2026-11-24",
		"2026-11-24T02:00:00",	     /* no zone */
		"2026-11-24T02:00:00+01:00", /* UTC only */
		"2026-11-24T02:00:00.Z",     /* empty fraction */
		"2026-11-24T02:00:00Zjunk",
		"2026-13-24T02:00:00Z",
		"2026-11-24 02:00:00Z",
	};
	struct timespec when;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (timefmt_parse_rfc3339(bad[i], &when) == 0)
			fail_msg("'%s' was accepted as a time", bad[i]);
}

static void
test_stamp(void **state)
{
	char text[32];

	(void)state;
	timefmt_stamp(SOME_TIME, text, sizeof(text));
	assert_string_equal(text, "20261124T020000Z");
	timefmt_stamp(0, text, sizeof(text));
	assert_string_equal(text, "19700101T000000Z");
}

static void
expect_duration(const char *text, int64_t seconds)
{
	int64_t parsed = -42;

	if (timefmt_parse_duration(text, &parsed) != 0)
		fail_msg("duration '%s' was refused", text);
	if (parsed != seconds)
		fail_msg("duration '%s' is %lld seconds, not %lld", text,
			 (long long)parsed, (long long)seconds);
}

static void
test_durations(void **state)
{
	(void)state;
	expect_duration("0", 0);
	expect_duration("45", 45);
	expect_duration("45s", 45);
	expect_duration("90m", 5400);
	expect_duration("26h", 93600);
	expect_duration("2d", 172800);
	expect_duration("1w", 604800);
	expect_duration("1d12h", 129600);
	expect_duration("1w2d3h4m5s", 604800 + 2 * 86400 + 3 * 3600 + 245);
	expect_duration("0d", 0);
	expect_duration("100000d", 8640000000LL);
}

static void
test_durations_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"h",
		"2x",
		"-1d",
		"+1d",
		"1.5h",
		"12 h",
		" 12h",
		"12h ",
		"1d12",
		"0d12",
		"1h1",
		"d1",
		"2dd",
		"1D",
		"forever",
		"99999999999999999999d",
		"999999999999999999w",
	};
	int64_t seconds;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (timefmt_parse_duration(bad[i], &seconds) == 0)
			fail_msg("'%s' was accepted as a duration (%lld s)",
				 bad[i], (long long)seconds);
}

static void
expect_human(double seconds, const char *text)
{
	char out[64];

	timefmt_duration(seconds, out, sizeof(out));
	assert_string_equal(out, text);
}

static void
test_human_durations(void **state)
{
	(void)state;
	expect_human(0, "0.0s");
	expect_human(0.4, "0.4s");
	expect_human(59.9, "59.9s");
	expect_human(60, "1m 0s");
	expect_human(185, "3m 5s");
	expect_human(7200, "2h 0m");
	expect_human(3 * 3600 + 25 * 60 + 7, "3h 25m");
	expect_human(93600, "1d 2h");
}

static void
test_seconds_between(void **state)
{
	struct timespec a = {100, 900000000}, b = {102, 100000000};

	(void)state;
	assert_float_equal(timefmt_seconds_between(a, b), 1.2, 1e-9);
	assert_float_equal(timefmt_seconds_between(b, a), -1.2, 1e-9);
	assert_float_equal(timefmt_seconds_between(a, a), 0, 0);
}

static void
test_now(void **state)
{
	struct timespec now = timefmt_now();

	(void)state;
	/* After this code was written, and a valid fraction. */
	assert_true(now.tv_sec > 1700000000);
	assert_in_range(now.tv_nsec, 0, 999999999);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339_format),
		cmocka_unit_test(test_rfc3339_round_trip),
		cmocka_unit_test(test_rfc3339_refused),
		cmocka_unit_test(test_stamp),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_durations_refused),
		cmocka_unit_test(test_human_durations),
		cmocka_unit_test(test_seconds_between),
		cmocka_unit_test(test_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
