/*
 * Per-target state and metrics of offsite_state.h.
 */
#include "offsite_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "offsite_config.h"
#include "timefmt.h"

#define STATE_LIMIT (1024 * 1024)

void
offsite_state_dir(const char *repository, const char *target, struct buf *out)
{
	buf_printf(out, "%s/offsite/%s", repository, target);
}

static void
state_path(const char *repository, const char *target, struct buf *out)
{
	offsite_state_dir(repository, target, out);
	buf_append_str(out, "/status");
}

int
offsite_catalog_load(const char *repository, const char *target,
		     struct catalog *c, struct cairn_error *err)
{
	struct buf dir = BUF_INIT;
	int rc;

	offsite_state_dir(repository, target, &dir);
	rc = catalog_load(c, buf_str(&dir), err);
	if (rc != 0)
		error_prefix(err, "offsite %s", target);
	buf_release(&dir);
	return rc;
}

int
offsite_catalog_save(const char *repository, const char *target,
		     const struct catalog *c, struct cairn_error *err)
{
	struct buf dir = BUF_INIT;
	int rc;

	offsite_state_dir(repository, target, &dir);
	rc = fsutil_mkdir_p(buf_str(&dir), 0700, err);
	if (rc == 0)
		rc = catalog_save(c, buf_str(&dir), err);
	buf_release(&dir);
	return rc;
}

void
offsite_record_clone(struct catalog_record *to,
		     const struct catalog_record *from)
{
	*to = *from;
	to->job = xstrdup(from->job);
	to->plugin = xstrdup(from->plugin);
	to->file = xstrdup(from->file);
	to->status = xstrdup(from->status);
	to->extra = from->extra ? json_clone(from->extra) : NULL;
	to->missing = 0;
}

static struct json_value *
state_load(const char *repository, const char *target)
{
	struct buf path = BUF_INIT;
	struct cairn_error err;
	struct json_value *state = NULL;
	char message[128], *text;
	size_t length;

	state_path(repository, target, &path);
	if (fsutil_read_file(buf_str(&path), STATE_LIMIT, &text, &length,
			     &err) == 0) {
		state = json_parse(text, length, message, sizeof(message));
		free(text);
	}
	buf_release(&path);
	if (state == NULL || json_type(state) != JSON_OBJECT) {
		json_free(state);
		state = json_new_object();
	}
	return state;
}

static void
state_save(const char *repository, const char *target, struct json_value *state)
{
	struct buf path = BUF_INIT, dir = BUF_INIT;
	struct cairn_error err;
	char *text = json_serialize(state, JSON_PRETTY, NULL);

	offsite_state_dir(repository, target, &dir);
	state_path(repository, target, &path);
	if (text == NULL || fsutil_mkdir_p(buf_str(&dir), 0700, &err) != 0 ||
	    fsutil_write_atomic(buf_str(&path), text, strlen(text), 0600,
				&err) != 0)
		log_warning("offsite %s: cannot record its status: %s", target,
			    text ? err.message : "out of memory");
	free(text);
	buf_release(&path);
	buf_release(&dir);
}

static void
set_now(struct json_value *state, const char *key)
{
	char when[TIMEFMT_RFC3339_SIZE];

	timefmt_rfc3339(timefmt_now(), 0, when, sizeof(when));
	json_object_set_string(state, key, when);
}

void
offsite_state_failure(const char *repository, const char *target,
		      const char *message)
{
	struct json_value *state = state_load(repository, target);
	int64_t failures = 0;

	json_get_int64(state, "failures", &failures);
	json_object_set_int64(state, "failures", failures + 1);
	set_now(state, "last_failure");
	json_object_set_string(state, "last_error", message);
	state_save(repository, target, state);
	json_free(state);
}

void
offsite_state_success(const char *repository, const char *target)
{
	struct json_value *state = state_load(repository, target);

	set_now(state, "last_success");
	state_save(repository, target, state);
	json_free(state);
}

void
offsite_format_metrics(const struct config *config, const char *repository,
		       const struct catalog *catalog, struct buf *out)
{
	struct buf last = BUF_INIT, copies = BUF_INIT, stored = BUF_INIT;
	struct buf failures = BUF_INIT;
	struct cairn_error err;
	size_t i, j;

	(void)catalog;
	if (config->offsite_count == 0)
		return;
	for (i = 0; i < config->offsite_count; i++) {
		const char *name = config->offsites[i].name;
		struct catalog held = {NULL, 0, 0, 0};
		struct json_value *state = state_load(repository, name);
		unsigned long long bytes = 0;
		int64_t failed = 0, size;
		time_t newest = 0;

		if (offsite_catalog_load(repository, name, &held, &err) != 0)
			log_warning("%s", err.message);
		for (j = 0; j < held.count; j++) {
			const struct json_value *copy =
				json_object_get(held.records[j].extra, "copy");
			const char *when = json_get_string(copy, "uploaded");
			struct timespec t;

			if (when != NULL &&
			    timefmt_parse_rfc3339(when, &t) == 0 &&
			    t.tv_sec > newest)
				newest = t.tv_sec;
			if (json_get_int64(copy, "size", &size) == 0)
				bytes += (unsigned long long)size;
		}
		if (newest > 0)
			buf_printf(&last,
				   "cairn_offsite_last_copy_timestamp_seconds"
				   "{target=\"%s\"} %lld\n",
				   name, (long long)newest);
		buf_printf(&copies, "cairn_offsite_copies{target=\"%s\"} %zu\n",
			   name, held.count);
		buf_printf(&stored,
			   "cairn_offsite_stored_bytes{target=\"%s\"} %llu\n",
			   name, bytes);
		json_get_int64(state, "failures", &failed);
		buf_printf(&failures,
			   "cairn_offsite_failures_total{target=\"%s\"} "
			   "%lld\n",
			   name, (long long)failed);
		json_free(state);
		catalog_release(&held);
	}
	buf_printf(out,
		   "# HELP cairn_offsite_last_copy_timestamp_seconds Upload "
		   "time of the newest verified copy on the target.\n"
		   "# TYPE cairn_offsite_last_copy_timestamp_seconds gauge\n"
		   "%s"
		   "# HELP cairn_offsite_copies Archives held on the target.\n"
		   "# TYPE cairn_offsite_copies gauge\n%s"
		   "# HELP cairn_offsite_stored_bytes Bytes of the archives "
		   "held on the target.\n"
		   "# TYPE cairn_offsite_stored_bytes gauge\n%s"
		   "# HELP cairn_offsite_failures_total Copies to the target "
		   "that failed.\n"
		   "# TYPE cairn_offsite_failures_total counter\n%s",
		   buf_str(&last), buf_str(&copies), buf_str(&stored),
		   buf_str(&failures));
	buf_release(&last);
	buf_release(&copies);
	buf_release(&stored);
	buf_release(&failures);
}
