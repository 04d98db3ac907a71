/*
 * `cairn check` of an offsite target: reachable with the credentials
 * given, a probe object written, read back and removed, and the clock of
 * this host against the server's (S3 refuses requests signed more than
 * 15 minutes off): S3's Date header, or for SFTP, which tells no time of
 * day, the modification time the server gave the probe as it was
 * written.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "buf.h"
#include "commands.h"
#include "error.h"
#include "host.h"
#include "offsite.h"
#include "offsite_state.h"

/* Beyond this, signatures start failing on S3 (it allows 15 minutes). */
#define SKEW_LIMIT 300

void
offsite_check(const struct offsite_target *t, const char *repository,
	      struct report *report)
{
	struct catalog held = {NULL, 0, 0, 0};
	struct offsite *o = NULL;
	struct offsite_stat st;
	struct cairn_error err;
	struct buf path = BUF_INIT, text = BUF_INIT;
	unsigned char random[4] = {0, 0, 0, 0};
	char host[256] = "host", probe[] = "cairn check probe\n";
	time_t before, after;
	long long skew;
	int found;

	report_add_item(report, "type", t->type == OFFSITE_S3 ? "s3" : "sftp");
	report_add_item(report, "where",
			t->type == OFFSITE_S3 ? t->endpoint : t->url);
	if (offsite_catalog_load(repository, t->name, &held, &err) != 0) {
		report_add_problem(report, err.message);
	} else {
		buf_printf(&text, "%zu", held.count);
		report_add_item(report, "copies", buf_str(&text));
	}
	if (offsite_open(&o, t, repository, &err) != 0) {
		report_add_problem(report, err.message);
		goto out;
	}
	gethostname(host, sizeof(host) - 1);
	RAND_bytes(random, sizeof(random));
	buf_printf(&path, "check/probe-%.64s-%02x%02x%02x%02x", host, random[0],
		   random[1], random[2], random[3]);
	before = time(NULL);
	if (o->ops->put_bytes(o, buf_str(&path), probe, strlen(probe), &err) !=
	    0) {
		report_add_problem(report, err.message);
		goto out;
	}
	found = o->ops->stat(o, buf_str(&path), &st, &err);
	after = time(NULL);
	if (found < 0) {
		report_add_problem(report, err.message);
	} else if (found == 0 || st.size != strlen(probe)) {
		report_add_problem(report, "the probe object written is not "
					   "there whole");
	} else {
		report_add_item(report, "probe", "written, read back, removed");
	}
	if (found > 0 && (st.server_date > 0 || st.modified > 0)) {
		/* The server's Date, or the probe's mtime (set while it was
		 * written), is whole seconds between the two. */
		skew = (long long)(st.server_date > 0 ? st.server_date
						      : st.modified) -
		       (long long)(before + (after - before) / 2);
		buf_reset(&text);
		buf_printf(&text, "%+lld s", skew);
		report_add_item(report, "clock skew", buf_str(&text));
		if (skew > SKEW_LIMIT || skew < -SKEW_LIMIT) {
			buf_reset(&text);
			buf_printf(&text,
				   "this host's clock is %lld s off the "
				   "server's: %s; fix NTP",
				   skew,
				   t->type == OFFSITE_S3
					   ? "requests will be refused "
					     "(RequestTimeTooSkewed)"
					   : "the times of the copies there "
					     "are off");
			report_add_problem(report, buf_str(&text));
		}
	}
	if (o->ops->remove(o, buf_str(&path), &err) != 0)
		report_add_problem(report, err.message);
out:
	offsite_close(o);
	catalog_release(&held);
	buf_release(&path);
	buf_release(&text);
}
