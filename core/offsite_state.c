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
#include "offsite_copy.h"
#include "timefmt.h"

#define STATE_LIMIT (1024 * 1024)

static void
state_path(const char *repository, const char *target, struct buf *out)
{
	buf_printf(out, "%s/offsite/%s.status", repository, target);
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
state_save(const char *repository, const char *target,
	   struct json_value *state)
{
	struct buf path = BUF_INIT, dir = BUF_INIT;
	struct cairn_error err;
	char *text = json_serialize(state, JSON_PRETTY, NULL);

	buf_printf(&dir, "%s/offsite", repository);
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
	size_t i, j;

	if (config->offsite_count == 0)
		return;
	buf_append_str(out,
		       "# HELP cairn_offsite_last_copy_timestamp_seconds Upload "
		       "time of the newest verified copy on the target.\n"
		       "# TYPE cairn_offsite_last_copy_timestamp_seconds "
		       "gauge\n");
	for (i = 0; i < config->offsite_count; i++) {
		const char *name = config->offsites[i].name;
		time_t newest = 0;

		for (j = 0; j < catalog->count; j++) {
			const char *when = json_get_string(
				offsite_copy_of(&catalog->records[j], name),
				"uploaded");
			struct timespec t;

			if (when != NULL &&
			    timefmt_parse_rfc3339(when, &t) == 0 &&
			    t.tv_sec > newest)
				newest = t.tv_sec;
		}
		if (newest > 0)
			buf_printf(out,
				   "cairn_offsite_last_copy_timestamp_seconds"
				   "{target=\"%s\"} %lld\n",
				   name, (long long)newest);
	}
	buf_append_str(out, "# HELP cairn_offsite_copies Archives with a "
			    "verified copy on the target.\n"
			    "# TYPE cairn_offsite_copies gauge\n"
			    "# HELP cairn_offsite_stored_bytes Bytes of the "
			    "copies on the target.\n"
			    "# TYPE cairn_offsite_stored_bytes gauge\n");
	for (i = 0; i < config->offsite_count; i++) {
		const char *name = config->offsites[i].name;
		unsigned long long bytes = 0;
		unsigned long copies = 0;

		for (j = 0; j < catalog->count; j++) {
			int64_t size;

			if (!offsite_has_copy(&catalog->records[j], name))
				continue;
			copies++;
			if (json_get_int64(offsite_copy_of(
						   &catalog->records[j], name),
					   "size", &size) == 0)
				bytes += (unsigned long long)size;
		}
		buf_printf(out, "cairn_offsite_copies{target=\"%s\"} %lu\n",
			   name, copies);
		buf_printf(out,
			   "cairn_offsite_stored_bytes{target=\"%s\"} %llu\n",
			   name, bytes);
	}
	buf_append_str(out, "# HELP cairn_offsite_failures_total Copies to "
			    "the target that failed.\n"
			    "# TYPE cairn_offsite_failures_total counter\n");
	for (i = 0; i < config->offsite_count; i++) {
		struct json_value *state =
			state_load(repository, config->offsites[i].name);
		int64_t failures = 0;

		json_get_int64(state, "failures", &failures);
		buf_printf(out,
			   "cairn_offsite_failures_total{target=\"%s\"} "
			   "%lld\n",
			   config->offsites[i].name, (long long)failures);
		json_free(state);
	}
}
