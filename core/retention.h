/*
 * The retention policy, with the semantics of restic's `forget`: archives
 * are taken newest first; keep-last N keeps the N newest; each
 * keep-<period> N keeps the newest archive of each of the N most recent
 * periods (hours, days, ISO weeks, months, years, in UTC) that have one;
 * keep-within D keeps every archive younger than D before the newest one.
 * Every rule counts the archives it keeps on its own, whether another rule
 * keeps them too. The newest archive is always kept. A policy that keeps
 * nothing is refused rather than applied.
 */
#ifndef CAIRN_RETENTION_H
#define CAIRN_RETENTION_H

#include <stddef.h>
#include <time.h>

#include <cairn/plugin.h>

#include "config.h"

enum retention_reason {
	KEPT_BY_LAST = 1 << 0,
	KEPT_BY_HOURLY = 1 << 1,
	KEPT_BY_DAILY = 1 << 2,
	KEPT_BY_WEEKLY = 1 << 3,
	KEPT_BY_MONTHLY = 1 << 4,
	KEPT_BY_YEARLY = 1 << 5,
	KEPT_BY_WITHIN = 1 << 6,
	KEPT_AS_NEWEST = 1 << 7, /* the newest archive is never removed */
	/* An incremental archive that is kept builds on it (cmd_prune). */
	KEPT_AS_PARENT = 1 << 8,
};

/*
 * Decides for `count` archives, given newest first by creation time,
 * which to keep: reasons[i] is a mask of enum retention_reason, 0 meaning
 * remove. 0, or -1 when the policy keeps nothing (err says so).
 */
int retention_plan(const struct retention *policy, const time_t *created,
		   size_t count, unsigned int *reasons,
		   struct cairn_error *err);

/* "daily, weekly" for a mask, into out. */
void retention_describe(unsigned int reasons, char *out, size_t size);

#endif
