/*
 * Retention planning, retention.h.
 */
#include "retention.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

struct period_rule {
	unsigned int reason;
	const char *format; /* strftime of the period in UTC */
};

static const struct period_rule period_rules[] = {
	{KEPT_BY_HOURLY, "%Y-%m-%d %H"}, {KEPT_BY_DAILY, "%Y-%m-%d"},
	{KEPT_BY_WEEKLY, "%G-W%V"},	 {KEPT_BY_MONTHLY, "%Y-%m"},
	{KEPT_BY_YEARLY, "%Y"},
};

static int
period_count(const struct retention *policy, unsigned int reason)
{
	switch (reason) {
	case KEPT_BY_HOURLY:
		return policy->keep_hourly;
	case KEPT_BY_DAILY:
		return policy->keep_daily;
	case KEPT_BY_WEEKLY:
		return policy->keep_weekly;
	case KEPT_BY_MONTHLY:
		return policy->keep_monthly;
	default:
		return policy->keep_yearly;
	}
}

static void
period_of(time_t when, const char *format, char *out, size_t size)
{
	struct tm tm;

	/* An empty period for a time gmtime cannot break down or a period
	 * that does not fit (neither happens for the years of this era):
	 * never an uninitialised or undefined one. */
	if (gmtime_r(&when, &tm) == NULL ||
	    strftime(out, size, format, &tm) == 0)
		out[0] = '\0';
}

int
retention_plan(const struct retention *policy, const time_t *created,
	       size_t count, unsigned int *reasons, struct cairn_error *err)
{
	size_t i, r;

	if (policy->keep_last <= 0 && policy->keep_hourly <= 0 &&
	    policy->keep_daily <= 0 && policy->keep_weekly <= 0 &&
	    policy->keep_monthly <= 0 && policy->keep_yearly <= 0 &&
	    policy->keep_within <= 0) {
		error_set(err,
			  "the retention policy keeps nothing: refusing to "
			  "prune (set at least one keep-* key)");
		return -1;
	}
	memset(reasons, 0, count * sizeof(*reasons));
	for (i = 0; i < count && (int)i < policy->keep_last; i++)
		reasons[i] |= KEPT_BY_LAST;
	for (r = 0; r < sizeof(period_rules) / sizeof(*period_rules); r++) {
		const struct period_rule *rule = &period_rules[r];
		int left = period_count(policy, rule->reason);
		char last[32] = "", period[32];

		for (i = 0; i < count && left > 0; i++) {
			period_of(created[i], rule->format, period,
				  sizeof(period));
			if (strcmp(period, last) == 0)
				continue;
			/* The newest archive of a period not seen yet. */
			reasons[i] |= rule->reason;
			snprintf(last, sizeof(last), "%s", period);
			left--;
		}
	}
	if (policy->keep_within > 0)
		for (i = 0; i < count; i++)
			if (created[0] - created[i] < policy->keep_within)
				reasons[i] |= KEPT_BY_WITHIN;
	if (count > 0)
		reasons[0] |= KEPT_AS_NEWEST;
	return 0;
}

void
retention_describe(unsigned int reasons, char *out, size_t size)
{
	static const struct {
		unsigned int reason;
		const char *name;
	} names[] = {
		{KEPT_BY_LAST, "last"},	      {KEPT_BY_HOURLY, "hourly"},
		{KEPT_BY_DAILY, "daily"},     {KEPT_BY_WEEKLY, "weekly"},
		{KEPT_BY_MONTHLY, "monthly"}, {KEPT_BY_YEARLY, "yearly"},
		{KEPT_BY_WITHIN, "within"},   {KEPT_AS_NEWEST, "newest"},
		{KEPT_AS_PARENT, "parent"},
	};
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
		int n;

		if (!(reasons & names[i].reason))
			continue;
		n = snprintf(out + used, size - used, "%s%s", used ? ", " : "",
			     names[i].name);
		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
	}
}
