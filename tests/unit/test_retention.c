/*
 * The retention policy against restic's documented `forget` behaviour:
 * periods in UTC, ISO weeks, gaps, several archives a period, each rule
 * counting on its own, keep-within relative to the newest archive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "retention.h"

static time_t
at(const char *text)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	strptime(text, "%Y-%m-%d %H:%M", &tm);
	return timegm(&tm);
}

static struct retention
policy(void)
{
	struct retention r = {0, 0, 0, 0, 0, 0, 0};

	return r;
}

static void
plan(const struct retention *r, const char *const *times, size_t n,
     unsigned int *reasons)
{
	struct cairn_error err;
	time_t created[64];
	size_t i;

	for (i = 0; i < n; i++)
		created[i] = at(times[i]);
	assert_int_equal(retention_plan(r, created, n, reasons, &err), 0);
}

static void
test_empty_policy_refused(void **state)
{
	struct retention r = policy();
	struct cairn_error err;
	unsigned int reasons[1];
	time_t created[1] = {0};

	(void)state;
	assert_int_equal(retention_plan(&r, created, 1, reasons, &err), -1);
	assert_non_null(strstr(err.message, "keeps nothing"));
}

static void
test_daily_keeps_newest_of_each_day(void **state)
{
	static const char *const times[] = {
		"2024-03-10 23:00", "2024-03-10 12:00", "2024-03-10 01:00",
		"2024-03-09 18:00", "2024-03-09 06:00", "2024-03-08 09:00",
		"2024-03-07 09:00",
	};
	struct retention r = policy();
	unsigned int reasons[7];

	(void)state;
	r.keep_daily = 3;
	plan(&r, times, 7, reasons);
	assert_true(reasons[0] & KEPT_BY_DAILY);
	assert_int_equal(reasons[1], 0);
	assert_int_equal(reasons[2], 0);
	assert_true(reasons[3] & KEPT_BY_DAILY);
	assert_int_equal(reasons[4], 0);
	assert_true(reasons[5] & KEPT_BY_DAILY);
	assert_int_equal(reasons[6], 0);
}

static void
test_periods_are_utc_days(void **state)
{
	/* 23:30 and 00:30 UTC are two days, whatever the local zone. */
	static const char *const times[] = {"2024-03-10 00:30",
					    "2024-03-09 23:30"};
	struct retention r = policy();
	unsigned int reasons[2];

	(void)state;
	r.keep_daily = 2;
	plan(&r, times, 2, reasons);
	assert_true(reasons[0] & KEPT_BY_DAILY);
	assert_true(reasons[1] & KEPT_BY_DAILY);
}

static void
test_gaps_count_only_periods_with_archives(void **state)
{
	/* One archive every two weeks: keep-daily 3 reaches back six weeks,
	 * because periods without an archive are not counted. */
	static const char *const times[] = {
		"2024-06-01 02:00",
		"2024-05-18 02:00",
		"2024-05-04 02:00",
		"2024-04-20 02:00",
	};
	struct retention r = policy();
	unsigned int reasons[4];

	(void)state;
	r.keep_daily = 3;
	plan(&r, times, 4, reasons);
	assert_true(reasons[0] & KEPT_BY_DAILY);
	assert_true(reasons[1] & KEPT_BY_DAILY);
	assert_true(reasons[2] & KEPT_BY_DAILY);
	assert_int_equal(reasons[3], 0);
}

static void
test_iso_weeks_across_the_year(void **state)
{
	/* 2020-12-31 (Thursday) and 2021-01-01 (Friday) are both in ISO
	 * week 2020-W53; 2021-01-04 (Monday) starts 2021-W01. */
	static const char *const times[] = {
		"2021-01-04 02:00",
		"2021-01-01 02:00",
		"2020-12-31 02:00",
		"2020-12-27 02:00",
	};
	struct retention r = policy();
	unsigned int reasons[4];

	(void)state;
	r.keep_weekly = 2;
	plan(&r, times, 4, reasons);
	assert_true(reasons[0] & KEPT_BY_WEEKLY);
	assert_true(reasons[1] & KEPT_BY_WEEKLY);
	assert_int_equal(reasons[2], 0);
	assert_int_equal(reasons[3], 0);
}

static void
test_rules_count_on_their_own(void **state)
{
	/* keep-last 2 and keep-daily 2 both keep the newest archive, and
	 * each still keeps its own second one (restic's rule). */
	static const char *const times[] = {
		"2024-03-10 12:00",
		"2024-03-10 06:00",
		"2024-03-09 12:00",
		"2024-03-08 12:00",
	};
	struct retention r = policy();
	unsigned int reasons[4];

	(void)state;
	r.keep_last = 2;
	r.keep_daily = 2;
	plan(&r, times, 4, reasons);
	assert_true((reasons[0] & KEPT_BY_LAST) &&
		    (reasons[0] & KEPT_BY_DAILY));
	assert_int_equal(reasons[1], KEPT_BY_LAST);
	assert_int_equal(reasons[2], KEPT_BY_DAILY);
	assert_int_equal(reasons[3], 0);
}

static void
test_within_is_relative_to_the_newest(void **state)
{
	static const char *const times[] = {
		"2024-03-10 12:00",
		"2024-03-09 13:00",
		"2024-03-08 12:00",
		"2024-03-01 12:00",
	};
	struct retention r = policy();
	unsigned int reasons[4];

	(void)state;
	r.keep_within = 2 * 86400;
	plan(&r, times, 4, reasons);
	assert_true(reasons[0] & KEPT_BY_WITHIN);
	assert_true(reasons[1] & KEPT_BY_WITHIN);
	assert_int_equal(reasons[2], 0); /* exactly 2 days: not younger */
	assert_int_equal(reasons[3], 0);
}

static void
test_newest_is_always_kept(void **state)
{
	static const char *const times[] = {"2024-03-10 12:00"};
	struct retention r = policy();
	unsigned int reasons[1];

	(void)state;
	r.keep_yearly = 1;
	plan(&r, times, 1, reasons);
	assert_true(reasons[0] & KEPT_AS_NEWEST);
}

static void
test_monthly_and_yearly(void **state)
{
	static const char *const times[] = {
		"2024-02-03 02:00", "2024-02-01 02:00", "2024-01-15 02:00",
		"2023-12-31 23:59", "2023-06-01 02:00", "2022-12-01 02:00",
	};
	struct retention r = policy();
	unsigned int reasons[6];

	(void)state;
	r.keep_monthly = 2;
	r.keep_yearly = 3;
	plan(&r, times, 6, reasons);
	assert_int_equal(reasons[0],
			 KEPT_BY_MONTHLY | KEPT_BY_YEARLY | KEPT_AS_NEWEST);
	assert_int_equal(reasons[1], 0);
	assert_int_equal(reasons[2], KEPT_BY_MONTHLY);
	assert_int_equal(reasons[3], KEPT_BY_YEARLY);
	assert_int_equal(reasons[4], 0);
	assert_int_equal(reasons[5], KEPT_BY_YEARLY);
}

static void
test_describe(void **state)
{
	char text[128];

	(void)state;
	retention_describe(KEPT_BY_LAST | KEPT_BY_WEEKLY, text, sizeof(text));
	assert_string_equal(text, "last, weekly");
	retention_describe(0, text, sizeof(text));
	assert_string_equal(text, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_policy_refused),
		cmocka_unit_test(test_daily_keeps_newest_of_each_day),
		cmocka_unit_test(test_periods_are_utc_days),
		cmocka_unit_test(test_gaps_count_only_periods_with_archives),
		cmocka_unit_test(test_iso_weeks_across_the_year),
		cmocka_unit_test(test_rules_count_on_their_own),
		cmocka_unit_test(test_within_is_relative_to_the_newest),
		cmocka_unit_test(test_newest_is_always_kept),
		cmocka_unit_test(test_monthly_and_yearly),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
