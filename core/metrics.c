/*
 * Job status and Prometheus metrics, metrics.h.
 */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "offsite_state.h"
#include "timefmt.h"

#define STATUS_FILE "status.json"
#define STATUS_LIMIT (16 * 1024 * 1024)

static struct json_value *
status_load(const struct repository *repo)
{
	struct buf path = BUF_INIT;
	struct cairn_error err;
	struct json_value *status = NULL;
	char message[128], *text;
	size_t length;

	repository_path(repo, STATUS_FILE, &path);
	if (fsutil_read_file(buf_str(&path), STATUS_LIMIT, &text, &length,
			     &err) == 0) {
		status = json_parse(text, length, message, sizeof(message));
		free(text);
	}
	buf_release(&path);
	if (status == NULL || json_type(status) != JSON_OBJECT) {
		json_free(status);
		status = json_new_object();
	}
	return status;
}

void
metrics_record_attempt(const struct repository *repo, const char *job, int ok,
		       struct timespec started, double duration,
		       const char *error)
{
	struct json_value *status = status_load(repo), *entry;
	struct buf path = BUF_INIT;
	struct cairn_error err;
	char when[TIMEFMT_RFC3339_SIZE], *text;

	entry = json_new_object();
	timefmt_rfc3339(started, 0, when, sizeof(when));
	json_object_set_string(entry, "last_attempt", when);
	json_object_set_string(entry, "status", ok ? "ok" : "failed");
	json_object_set(entry, "duration", json_new_double(duration));
	if (!ok && error != NULL)
		json_object_set_string(entry, "error", error);
	json_object_set(status, job, entry);
	text = json_serialize(status, JSON_PRETTY, NULL);
	repository_path(repo, STATUS_FILE, &path);
	if (text == NULL || fsutil_write_atomic(buf_str(&path), text,
						strlen(text), 0600, &err) != 0)
		log_warning("cannot record the status of job '%s': %s", job,
			    text ? err.message : "out of memory");
	free(text);
	buf_release(&path);
	json_free(status);
}

struct job_figures {
	const char *job;
	const struct catalog_record *newest;
	unsigned long archives;
	double last_attempt;
	int last_ok;
	double last_duration;
	int attempted;
	/* By kind: [0] full, [1] incremental. */
	const struct catalog_record *newest_kind[2];
	unsigned long archives_kind[2];
};

static const char *const kind_names[2] = {"full", "incremental"};

static struct job_figures *
figures_for(struct job_figures *figures, size_t *count, const char *job)
{
	size_t i;

	for (i = 0; i < *count; i++)
		if (strcmp(figures[i].job, job) == 0)
			return &figures[i];
	memset(&figures[*count], 0, sizeof(*figures));
	figures[*count].job = job;
	return &figures[(*count)++];
}

static void
metric_header(struct buf *out, const char *name, const char *type,
	      const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static double
seconds_of(struct timespec t)
{
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
format_metrics(const struct job_figures *f, size_t count, uint64_t stored,
	       unsigned long long free_bytes, struct buf *out)
{
	size_t i, k;

	metric_header(out, "cairn_last_success_timestamp_seconds", "gauge",
		      "End time of the newest successful backup of the job.");
	for (i = 0; i < count; i++)
		if (f[i].newest != NULL)
			buf_printf(out,
				   "cairn_last_success_timestamp_seconds{job=\""
				   "%s\"} %.3f\n",
				   f[i].job, seconds_of(f[i].newest->finished));
	metric_header(out, "cairn_last_attempt_timestamp_seconds", "gauge",
		      "Start time of the last backup attempt of the job.");
	for (i = 0; i < count; i++)
		if (f[i].attempted)
			buf_printf(out,
				   "cairn_last_attempt_timestamp_seconds{job=\""
				   "%s\"} %.3f\n",
				   f[i].job, f[i].last_attempt);
	metric_header(out, "cairn_last_status", "gauge",
		      "1 when the last backup attempt of the job succeeded.");
	for (i = 0; i < count; i++)
		if (f[i].attempted)
			buf_printf(out, "cairn_last_status{job=\"%s\"} %d\n",
				   f[i].job, f[i].last_ok);
	metric_header(out, "cairn_last_duration_seconds", "gauge",
		      "Duration of the last backup attempt of the job.");
	for (i = 0; i < count; i++)
		if (f[i].attempted)
			buf_printf(out,
				   "cairn_last_duration_seconds{job=\"%s\"} "
				   "%.3f\n",
				   f[i].job, f[i].last_duration);
	metric_header(out, "cairn_last_bytes", "gauge",
		      "Uncompressed bytes of the newest archive of the job.");
	for (i = 0; i < count; i++)
		if (f[i].newest != NULL)
			buf_printf(out, "cairn_last_bytes{job=\"%s\"} %llu\n",
				   f[i].job,
				   (unsigned long long)f[i].newest->bytes);
	metric_header(out, "cairn_last_stored_bytes", "gauge",
		      "Bytes on disk of the newest archive of the job.");
	for (i = 0; i < count; i++)
		if (f[i].newest != NULL)
			buf_printf(out,
				   "cairn_last_stored_bytes{job=\"%s\"} %llu\n",
				   f[i].job,
				   (unsigned long long)f[i].newest->stored);
	metric_header(out, "cairn_archives", "gauge",
		      "Archives of the job in the catalogue.");
	for (i = 0; i < count; i++)
		buf_printf(out, "cairn_archives{job=\"%s\"} %lu\n", f[i].job,
			   f[i].archives);
	metric_header(out, "cairn_archives_by_kind", "gauge",
		      "Archives of the job in the catalogue, by kind.");
	for (i = 0; i < count; i++)
		for (k = 0; k < 2; k++)
			buf_printf(out,
				   "cairn_archives_by_kind{job=\"%s\",kind=\"%"
				   "s\"} "
				   "%lu\n",
				   f[i].job, kind_names[k],
				   f[i].archives_kind[k]);
	metric_header(
		out, "cairn_last_success_by_kind_timestamp_seconds", "gauge",
		"End time of the newest successful archive of each kind.");
	for (i = 0; i < count; i++)
		for (k = 0; k < 2; k++)
			if (f[i].newest_kind[k] != NULL)
				buf_printf(
					out,
					"cairn_last_success_by_kind_timestamp_"
					"seconds{job=\"%s\",kind=\"%s\"} "
					"%.3f\n",
					f[i].job, kind_names[k],
					seconds_of(
						f[i].newest_kind[k]->finished));
	metric_header(out, "cairn_last_stored_bytes_by_kind", "gauge",
		      "Bytes on disk of the newest archive of each kind.");
	for (i = 0; i < count; i++)
		for (k = 0; k < 2; k++)
			if (f[i].newest_kind[k] != NULL)
				buf_printf(
					out,
					"cairn_last_stored_bytes_by_kind{job="
					"\"%s\",kind=\"%s\"} %llu\n",
					f[i].job, kind_names[k],
					(unsigned long long)f[i]
						.newest_kind[k]
						->stored);
	metric_header(out, "cairn_repository_stored_bytes", "gauge",
		      "Bytes on disk of all archives of the repository.");
	buf_printf(out, "cairn_repository_stored_bytes %llu\n",
		   (unsigned long long)stored);
	metric_header(out, "cairn_repository_free_bytes", "gauge",
		      "Free bytes on the repository's file system.");
	buf_printf(out, "cairn_repository_free_bytes %llu\n", free_bytes);
}

void
metrics_update(struct context *ctx, const struct repository *repo,
	       const struct catalog *catalog)
{
	struct job_figures *figures;
	struct json_value *status;
	struct buf out = BUF_INIT;
	struct cairn_error err;
	unsigned long long free_bytes = 0;
	uint64_t stored = 0;
	size_t count = 0, i;

	if (ctx->config.metrics == NULL)
		return;
	figures = xcalloc(catalog->count + ctx->config.job_count + 1,
			  sizeof(*figures));
	for (i = 0; i < ctx->config.job_count; i++)
		figures_for(figures, &count, ctx->config.jobs[i].name);
	for (i = 0; i < catalog->count; i++) {
		const struct catalog_record *r = &catalog->records[i];
		struct job_figures *f;

		if (strcmp(r->status, "ok") != 0 || r->missing)
			continue;
		f = figures_for(figures, &count, r->job);
		f->archives++;
		stored += r->stored;
		if (f->newest == NULL || catalog_record_newer(r, f->newest))
			f->newest = r;
		f->archives_kind[r->incremental ? 1 : 0]++;
		if (f->newest_kind[r->incremental ? 1 : 0] == NULL ||
		    catalog_record_newer(
			    r, f->newest_kind[r->incremental ? 1 : 0]))
			f->newest_kind[r->incremental ? 1 : 0] = r;
	}
	status = status_load(repo);
	for (i = 0; i < count; i++) {
		const struct json_value *s = json_object_get(status,
							     figures[i].job);
		const char *when = json_get_string(s, "last_attempt");
		const char *state = json_get_string(s, "status");
		struct timespec t;

		if (when == NULL || state == NULL ||
		    timefmt_parse_rfc3339(when, &t) != 0)
			continue;
		figures[i].attempted = 1;
		figures[i].last_attempt = seconds_of(t);
		figures[i].last_ok = strcmp(state, "ok") == 0;
		figures[i].last_duration = json_number(
			json_object_get(s, "duration"));
	}
	fsutil_free_space(repo->path, &free_bytes);
	format_metrics(figures, count, stored, free_bytes, &out);
	offsite_format_metrics(&ctx->config, repo->path, catalog, &out);
	if (fsutil_write_atomic(ctx->config.metrics, out.data, out.length, 0644,
				&err) != 0)
		log_warning("cannot write the metrics file: %s", err.message);
	buf_release(&out);
	json_free(status);
	free(figures);
}
