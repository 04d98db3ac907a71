/*
 * Times and durations as operators write and read them: RFC 3339 in UTC
 * for output and manifests, compact stamps for file names, and durations
 * such as "26h", "2d" or "90m" in the configuration.
 */
#ifndef CAIRN_TIMEFMT_H
#define CAIRN_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Room for any int year, "-2147481748-12-31T23:59:59.999999Z". */
#define TIMEFMT_RFC3339_SIZE 48

/* "2026-11-24T02:00:00Z" (with ".123456Z" when precise is set). */
void timefmt_rfc3339(struct timespec when, int precise, char *out, size_t size);
/* Parses the output of timefmt_rfc3339 (fraction optional, UTC "Z" only).
 * 0 or -1. */
int timefmt_parse_rfc3339(const char *text, struct timespec *when);
/* "20261124T020000Z" for file names. */
void timefmt_stamp(time_t when, char *out, size_t size);

/*
 * A duration: a whole number followed by s, m, h, d or w (several may
 * follow each other: "1d12h"); a bare number is seconds. 0 or -1.
 */
int timefmt_parse_duration(const char *text, int64_t *seconds);
/* "1d 2h", "3m 5s", "0.4s": for humans. */
void timefmt_duration(double seconds, char *out, size_t size);

double timefmt_seconds_between(struct timespec from, struct timespec to);
struct timespec timefmt_now(void);

#endif
