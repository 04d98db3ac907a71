/*
 * `cairn drill [JOB...]`: the monthly restore test. The newest archive of
 * each job is restored by its plugin into a scratch target (a private
 * temporary directory, and the job's drill-target for servers) and
 * checked against what the archive recorded; the outcome is written into
 * the catalogue (shown by list and show). Exit 1 when any drill failed.
 * A plugin without a drill of its own gets a full verify instead. After a
 * plugin's drill, the frames that hold the index and removals of every
 * archive restored through are read to their ends (frame_check.h): the
 * drill reads only the start of such a frame, and damage later in it
 * would otherwise pass.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc_source.h"
#include "arc_verify.h"
#include "chain.h"
#include "commands.h"
#include "error.h"
#include "frame_check.h"
#include "host.h"
#include "json.h"
#include "lock.h"
#include "log.h"
#include "metrics.h"
#include "timefmt.h"

struct drill_outcome {
	const char *job;
	char id[ARC_ID_SIZE];
	int ok;
	struct report report;
};

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		log_warning("cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

static void
remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static long
newest_index(const struct catalog *c, const char *job)
{
	long best = -1;
	size_t i;

	for (i = 0; i < c->count; i++) {
		const struct catalog_record *r = &c->records[i];

		if (strcmp(r->job, job) != 0 || strcmp(r->status, "ok") != 0 ||
		    r->missing)
			continue;
		if (best < 0 || catalog_record_newer(r, &c->records[best]))
			best = (long)i;
	}
	return best;
}

/* Reads the chunk frames of the archive at `path` and of each parent to
 * their ends, reporting the first damaged one. */
static void
check_chunk_frames(const char *path, const char *id, struct report *report)
{
	struct cairn_error err;
	struct chain chain;
	uint64_t bytes, total = 0;
	char line[64];
	size_t i;

	if (chain_load(&chain, path, id, NULL, &err) != 0) {
		report_add_problem(report, err.message);
		return;
	}
	for (i = 0; i < chain.count; i++) {
		if (frame_check_chunks(chain.links[i].arc, &bytes, &err) != 0) {
			report_add_problem(report, err.message);
			chain_release(&chain);
			return;
		}
		total += bytes;
	}
	snprintf(line, sizeof(line), "%llu bytes in %zu archives",
		 (unsigned long long)total, chain.count);
	report_add_item(report, "index frames read", line);
	chain_release(&chain);
}

/* Runs the plugin's drill on one archive; 0 when it passed. */
static int
drill_archive(struct context *ctx, const struct job_config *job,
	      const char *path, const struct catalog_record *r,
	      struct report *report)
{
	struct cairn_drill_options options;
	struct arc_source source;
	struct verify_totals totals;
	struct loaded_plugin lp;
	struct cairn_error err;
	struct job_host host;
	struct arc *archive = NULL;
	char scratch[4096];
	const char *tmp = getenv("TMPDIR");
	int rc = -1, n;

	if (context_load_plugin(ctx, job, NULL, NULL, &lp) != EXIT_OK) {
		report_add_problem(report, "plugin cannot be loaded");
		return -1;
	}
	if (lp.plugin.descriptor->drill == NULL) {
		report_add_item(report, "method", "verify (no plugin drill)");
		if (arc_open(&archive, path, r->id, &err) != 0 ||
		    arc_verify(archive, &totals, &err) != 0)
			report_add_problem(report, err.message);
		else
			rc = 0;
		arc_close(archive);
		context_release_plugin(&lp);
		return rc;
	}
	n = snprintf(scratch, sizeof(scratch), "%s/cairn-drill-%s-XXXXXX",
		     tmp && tmp[0] ? tmp : "/var/tmp", job->name);
	if (n < 0 || (size_t)n >= sizeof(scratch) || mkdtemp(scratch) == NULL) {
		report_add_problem(report, "cannot create a scratch directory");
		context_release_plugin(&lp);
		return -1;
	}
	if (arc_open(&archive, path, r->id, &err) != 0) {
		report_add_problem(report, err.message);
		goto out;
	}
	if (chain_source_open(&source, archive, path, NULL, &err) != 0) {
		report_add_problem(report, err.message);
		arc_close(archive);
		archive = NULL;
		goto out;
	}
	options.scratch_dir = scratch;
	options.drill_target = config_job_setting(job, "drill-target");
	job_host_init(&host, job->name);
	host.manifest = &archive->manifest;
	error_clear(&err);
	if (lp.plugin.descriptor->drill(lp.state, &host.host,
					host_source(&source), &options,
					host_report(report), &err) != 0)
		report_add_problem(report, err.message[0] ? err.message
							  : "drill failed");
	else {
		check_chunk_frames(path, r->id, report);
		rc = report->problem_count ? -1 : 0;
	}
	arc_source_close(&source);
out:
	arc_close(archive);
	remove_tree(scratch);
	context_release_plugin(&lp);
	return rc;
}

static void
record_outcome(struct catalog_record *r, const struct drill_outcome *o)
{
	struct json_value *drill = json_new_object();
	char when[TIMEFMT_RFC3339_SIZE];

	timefmt_rfc3339(timefmt_now(), 0, when, sizeof(when));
	json_object_set_string(drill, "time", when);
	json_object_set_string(drill, "status", o->ok ? "ok" : "failed");
	if (o->report.problem_count > 0)
		json_object_set_string(drill, "detail", o->report.problems[0]);
	if (r->extra == NULL)
		r->extra = json_new_object();
	json_object_set(r->extra, "drill", drill);
}

static void
print_outcomes(struct context *ctx, struct drill_outcome *outcomes,
	       size_t count)
{
	size_t i;

	if (ctx->options->json) {
		struct json_value *array = json_new_array();

		for (i = 0; i < count; i++) {
			struct json_value *o = report_to_json(
				&outcomes[i].report);

			json_object_set_string(o, "job", outcomes[i].job);
			json_object_set_string(o, "id", outcomes[i].id);
			json_object_set_string(o, "status",
					       outcomes[i].ok ? "ok"
							      : "failed");
			json_array_append(array, o);
		}
		output_json(array);
		return;
	}
	for (i = 0; i < count; i++) {
		const struct report *r = &outcomes[i].report;

		printf("%s: %s (archive %s)\n", outcomes[i].job,
		       outcomes[i].ok ? "ok" : "FAILED",
		       outcomes[i].id[0] ? outcomes[i].id : "none");
		report_print(r);
	}
}

int
cmd_drill(struct context *ctx)
{
	const struct options *o = ctx->options;
	const struct job_config **jobs;
	struct drill_outcome *outcomes;
	struct repository repo = {NULL};
	struct catalog catalog;
	struct repo_lock lock = {-1};
	struct cairn_error err;
	struct buf path = BUF_INIT;
	size_t count = 0, i, total, failed = 0;
	int status;

	/* Every job named must exist before any is drilled: a typo must not
	 * leave the other drills done but unrecorded. */
	total = o->arg_count ? o->arg_count : ctx->config.job_count;
	jobs = xcalloc(total + 1, sizeof(*jobs));
	for (i = 0; i < total; i++) {
		jobs[i] = o->arg_count
				  ? config_find_job(&ctx->config, o->args[i])
				  : &ctx->config.jobs[i];
		if (jobs[i] == NULL) {
			log_error("no job '%s' in '%s'", o->args[i],
				  ctx->config.file);
			free(jobs);
			return EXIT_NOT_FOUND;
		}
	}
	status = context_open_catalog_locked(ctx, &repo, &catalog, 0, &lock);
	if (status != EXIT_OK) {
		free(jobs);
		return status;
	}
	outcomes = xcalloc(total + 1, sizeof(*outcomes));
	for (i = 0; i < total; i++) {
		const struct job_config *job = jobs[i];
		struct drill_outcome *out = &outcomes[count];
		long index;

		out->job = job->name;
		report_init(&out->report);
		count++;
		index = newest_index(&catalog, job->name);
		if (index < 0) {
			report_add_problem(&out->report, "no archive to drill");
			failed++;
			continue;
		}
		memcpy(out->id, catalog.records[index].id, ARC_ID_SIZE);
		repository_path(&repo, catalog.records[index].file, &path);
		log_info("%s: drilling archive '%s'", job->name, out->id);
		out->ok = drill_archive(ctx, job, buf_str(&path),
					&catalog.records[index],
					&out->report) == 0;
		failed += !out->ok;
		record_outcome(&catalog.records[index], out);
	}
	if (catalog_save(&catalog, repo.path, &err) != 0)
		log_warning("cannot record the drills: %s", err.message);
	metrics_update(ctx, &repo, &catalog);
	print_outcomes(ctx, outcomes, count);
	status = failed ? EXIT_JOB_FAILED : EXIT_OK;
	lock_release(&lock);
	for (i = 0; i < count; i++)
		report_release(&outcomes[i].report);
	free(outcomes);
	free(jobs);
	buf_release(&path);
	catalog_release(&catalog);
	repository_release(&repo);
	return status;
}
