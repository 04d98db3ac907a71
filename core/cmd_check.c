/*
 * `cairn check [JOB...]`: the health of each job's source, as its plugin
 * sees it (reachable, authenticated, versions, sizes), the age of its
 * newest archive against its max-age, and the health of the repository
 * (writable, lock holder, free space against the largest recent archive).
 * Exit 1 when anything is wrong, each problem named.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "error.h"
#include "fsutil.h"
#include "host.h"
#include "json.h"
#include "lock.h"
#include "log.h"
#include "offsite_config.h"
#include "timefmt.h"

struct check_result {
	const char *name; /* job name, "repository", or "offsite NAME" */
	char *owned_name; /* what name points to, when allocated */
	struct report report;
};

static const struct catalog_record *
newest_of(const struct catalog *c, const char *job)
{
	const struct catalog_record *newest = NULL;
	size_t i;

	for (i = 0; i < c->count; i++) {
		const struct catalog_record *r = &c->records[i];

		if (strcmp(r->job, job) != 0 || strcmp(r->status, "ok") != 0 ||
		    r->missing)
			continue;
		if (newest == NULL || catalog_record_newer(r, newest))
			newest = r;
	}
	return newest;
}

static void
check_age(const struct job_config *job, const struct catalog *c,
	  struct report *report)
{
	const struct catalog_record *newest = c ? newest_of(c, job->name)
						: NULL;
	char when[TIMEFMT_RFC3339_SIZE], age[32], limit[32], line[256];
	double seconds;

	if (newest == NULL) {
		report_add_item(report, "newest archive", "none");
		if (job->max_age > 0)
			report_add_problem(report,
					   "no archive of this job yet");
		return;
	}
	timefmt_rfc3339(newest->finished, 0, when, sizeof(when));
	seconds = timefmt_seconds_between(newest->finished, timefmt_now());
	timefmt_duration(seconds, age, sizeof(age));
	snprintf(line, sizeof(line), "%s (%s ago)", when, age);
	report_add_item(report, "newest archive", line);
	if (job->max_age > 0 && seconds > (double)job->max_age) {
		timefmt_duration((double)job->max_age, limit, sizeof(limit));
		snprintf(line, sizeof(line),
			 "newest archive is %s old, more than max-age %s", age,
			 limit);
		report_add_problem(report, line);
	}
}

static void
check_job(struct context *ctx, const struct job_config *job,
	  const struct catalog *c, struct report *report)
{
	struct loaded_plugin lp;
	struct cairn_error err;
	struct job_host host;

	report_add_item(report, "plugin", job->plugin);
	if (context_load_plugin(ctx, job, NULL, NULL, &lp) != EXIT_OK) {
		report_add_problem(report, "plugin cannot be loaded or "
					   "configured (see above)");
		return;
	}
	if (lp.plugin.descriptor->check != NULL) {
		job_host_init(&host, job->name);
		error_clear(&err);
		if (lp.plugin.descriptor->check(lp.state, &host.host,
						host_report(report), &err) != 0)
			report_add_problem(report, err.message[0]
							   ? err.message
							   : "check failed");
	}
	check_age(job, c, report);
	context_release_plugin(&lp);
}

static void
check_repository(struct context *ctx, const struct catalog *c,
		 struct report *report)
{
	struct buf probe = BUF_INIT;
	struct cairn_error err;
	unsigned long long free_bytes, largest = 0;
	char holder[256], text[256], need[32];
	size_t i;
	int fd;

	report_add_item(report, "path", ctx->repository_path);
	buf_printf(&probe, "%s/.cairn-check-%ld", ctx->repository_path,
		   (long)getpid());
	fd = open(buf_str(&probe),
		  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(text, sizeof(text), "not writable: %s",
			 strerror(errno));
		report_add_problem(report, text);
	} else {
		close(fd);
		unlink(buf_str(&probe));
		report_add_item(report, "writable", "yes");
	}
	buf_release(&probe);
	if (lock_holder(ctx->repository_path, holder, sizeof(holder), &err) ==
	    0)
		report_add_item(report, "lock", holder[0] ? holder : "free");
	if (catalog_check_twins(ctx->repository_path, &err) != 0)
		report_add_problem(report, err.message);
	if (c != NULL) {
		snprintf(text, sizeof(text), "%zu", c->count);
		report_add_item(report, "archives", text);
		for (i = 0; i < c->count; i++) {
			if (c->records[i].stored > largest)
				largest = c->records[i].stored;
			if (c->records[i].missing) {
				snprintf(text, sizeof(text),
					 "archive %.8s... is missing its file",
					 c->records[i].id);
				report_add_problem(report, text);
			}
		}
	}
	if (fsutil_free_space(ctx->repository_path, &free_bytes) == 0) {
		format_bytes(free_bytes, text, sizeof(text));
		report_add_item(report, "free space", text);
		if (free_bytes < largest) {
			format_bytes(largest, need, sizeof(need));
			snprintf(text, sizeof(text),
				 "free space is less than the largest archive "
				 "(%s)",
				 need);
			report_add_problem(report, text);
		}
	}
}

static void
print_results(struct context *ctx, struct check_result *results, size_t count)
{
	size_t i;

	if (ctx->options->json) {
		struct json_value *o = json_new_object();

		for (i = 0; i < count; i++)
			json_object_set(o, results[i].name,
					report_to_json(&results[i].report));
		output_json(o);
		return;
	}
	for (i = 0; i < count; i++) {
		const struct report *r = &results[i].report;

		printf("%s: %s\n", results[i].name,
		       r->problem_count ? "PROBLEM" : "ok");
		report_print(r);
	}
}

int
cmd_check(struct context *ctx)
{
	const struct options *o = ctx->options;
	struct check_result *results;
	struct repository repo = {NULL};
	struct catalog catalog = {NULL, 0, 0, 0};
	size_t count = 0, i, problems = 0;
	int have_catalog, status = EXIT_OK;

	/* A typo among the jobs named is reported before any check runs:
	 * checks can be slow (a server that does not answer). */
	for (i = 0; i < o->arg_count; i++) {
		if (config_find_job(&ctx->config, o->args[i]) == NULL) {
			log_error("no job '%s' in '%s'", o->args[i],
				  ctx->config.file);
			return EXIT_NOT_FOUND;
		}
	}
	results = xcalloc(ctx->config.job_count + o->arg_count +
				  ctx->config.offsite_count + 2,
			  sizeof(*results));
	have_catalog = ctx->repository_path != NULL &&
		       context_open_catalog(ctx, &repo, &catalog, 0) == EXIT_OK;
	for (i = 0; i < (o->arg_count ? o->arg_count : ctx->config.job_count);
	     i++) {
		const struct job_config *job =
			o->arg_count ? config_find_job(&ctx->config, o->args[i])
				     : &ctx->config.jobs[i];

		results[count].name = job->name;
		report_init(&results[count].report);
		check_job(ctx, job, have_catalog ? &catalog : NULL,
			  &results[count].report);
		count++;
	}
	results[count].name = "repository";
	report_init(&results[count].report);
	if (ctx->repository_path == NULL)
		report_add_problem(&results[count].report,
				   "no repository configured");
	else if (!have_catalog)
		report_add_problem(&results[count].report,
				   "repository or catalogue unreadable (see "
				   "above)");
	else
		check_repository(ctx, &catalog, &results[count].report);
	count++;
	/* Offsite targets, when no job was named. */
	for (i = 0;
	     o->arg_count == 0 && have_catalog && i < ctx->config.offsite_count;
	     i++) {
		struct buf name = BUF_INIT;

		buf_printf(&name, "offsite %s", ctx->config.offsites[i].name);
		results[count].owned_name = buf_detach(&name);
		results[count].name = results[count].owned_name;
		report_init(&results[count].report);
		offsite_check(&ctx->config.offsites[i], repo.path,
			      &results[count].report);
		count++;
	}
	print_results(ctx, results, count);
	for (i = 0; i < count; i++)
		problems += results[i].report.problem_count;
	status = problems ? EXIT_JOB_FAILED : EXIT_OK;
	for (i = 0; i < count; i++) {
		report_release(&results[i].report);
		free(results[i].owned_name);
	}
	free(results);
	if (have_catalog) {
		catalog_release(&catalog);
		repository_release(&repo);
	}
	return status;
}
