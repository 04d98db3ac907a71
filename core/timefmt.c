/*
 * Time formatting and parsing of timefmt.h. Everything is UTC: cairn's
 * retention periods are computed in UTC, and so are its stamps.
 */
#include "timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
timefmt_rfc3339(struct timespec when, int precise, char *out, size_t size)
{
	struct tm tm;
	time_t seconds = when.tv_sec;
	int n;

	/* A time gmtime cannot break down (a year beyond int) is written as
	 * the epoch rather than from an uninitialised struct tm. */
	if (gmtime_r(&seconds, &tm) == NULL) {
		seconds = 0;
		when.tv_nsec = 0;
		gmtime_r(&seconds, &tm);
	}
	if (precise)
		n = snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec,
			     when.tv_nsec / 1000);
	else
		n = snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02dZ",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec);
	/* TIMEFMT_RFC3339_SIZE holds any int year: a cut is a caller's bug. */
	if (n < 0 || (size_t)n >= size)
		abort();
}

int
timefmt_parse_rfc3339(const char *text, struct timespec *when)
{
	struct tm tm;
	const char *rest;
	long nsec = 0;

	memset(&tm, 0, sizeof(tm));
	rest = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest == NULL)
		return -1;
	if (*rest == '.') {
		long scale = 100000000;

		rest++;
		if (!isdigit((unsigned char)*rest))
			return -1;
		while (isdigit((unsigned char)*rest)) {
			nsec += (*rest - '0') * scale;
			scale /= 10;
			rest++;
		}
	}
	if (strcmp(rest, "Z") != 0)
		return -1;
	when->tv_sec = timegm(&tm);
	when->tv_nsec = nsec;
	return 0;
}

void
timefmt_stamp(time_t when, char *out, size_t size)
{
	struct tm tm;

	if (gmtime_r(&when, &tm) == NULL) {
		when = 0;
		gmtime_r(&when, &tm);
	}
	/* The callers' buffers hold any int year: a cut is a caller's bug. */
	if (strftime(out, size, "%Y%m%dT%H%M%SZ", &tm) == 0)
		abort();
}

int
timefmt_parse_duration(const char *text, int64_t *seconds)
{
	int64_t total = 0;
	const char *p = text;

	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		int64_t number = 0, unit;
		const char *start = p;

		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p)) {
			if (number > INT64_MAX / 10 - 10)
				return -1;
			number = number * 10 + (*p++ - '0');
		}
		switch (*p) {
		case '\0':
			/* A bare number is seconds, but only on its own. */
			if (start != text)
				return -1;
			unit = 1;
			break;
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		case 'w':
			unit = 7 * 86400;
			break;
		default:
			return -1;
		}
		if (*p != '\0')
			p++;
		if (number > (INT64_MAX - total) / unit)
			return -1;
		total += number * unit;
	}
	*seconds = total;
	return 0;
}

void
timefmt_duration(double seconds, char *out, size_t size)
{
	long whole = (long)seconds;

	if (seconds < 60)
		snprintf(out, size, "%.1fs", seconds);
	else if (whole < 3600)
		snprintf(out, size, "%ldm %lds", whole / 60, whole % 60);
	else if (whole < 86400)
		snprintf(out, size, "%ldh %ldm", whole / 3600,
			 whole % 3600 / 60);
	else
		snprintf(out, size, "%ldd %ldh", whole / 86400,
			 whole % 86400 / 3600);
}

double
timefmt_seconds_between(struct timespec from, struct timespec to)
{
	return (double)(to.tv_sec - from.tv_sec) +
	       (double)(to.tv_nsec - from.tv_nsec) / 1e9;
}

struct timespec
timefmt_now(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now;
}
