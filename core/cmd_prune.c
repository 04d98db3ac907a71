/*
 * `cairn prune [--job JOB] [--dry-run]`: applies each job's retention
 * policy and lists every archive with `keep` and the rules that keep it,
 * or `remove`.
 *
 * Removal is crash-safe: the archives to remove are first marked
 * "removing" in the catalogue (so nothing reads them any more), then
 * their files are deleted, then their lines dropped. A crash in between
 * leaves marked lines, which the next prune finishes removing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain.h"
#include "commands.h"
#include "error.h"
#include "fsutil.h"
#include "json.h"
#include "lock.h"
#include "log.h"
#include "metrics.h"
#include "retention.h"
#include "timefmt.h"

struct prune_plan {
	size_t *records; /* indexes into the catalogue, newest first */
	unsigned int *reasons;
	/* KEPT_AS_PARENT: the plan index of the nearest kept archive that
	 * builds on it. */
	size_t *child;
	size_t count;
};

/* qsort_r's context is not const: it carries the const catalogue. */
struct sort_by {
	const struct catalog *catalog;
};

static int
by_created_desc(const void *a, const void *b, void *context)
{
	const struct catalog *c = ((const struct sort_by *)context)->catalog;
	const struct catalog_record *x = &c->records[*(const size_t *)a];
	const struct catalog_record *y = &c->records[*(const size_t *)b];

	if (catalog_record_newer(x, y))
		return -1;
	if (catalog_record_newer(y, x))
		return 1;
	return strcmp(y->id, x->id);
}

/* Plans one job: its complete archives, newest first. */
static int
plan_job(struct context *ctx, const struct catalog *c, const char *job,
	 struct prune_plan *plan)
{
	const struct job_config *jc = config_find_job(&ctx->config, job);
	struct retention policy = config_effective_retention(&ctx->config, jc);
	struct sort_by sort_by = {c};
	struct cairn_error err;
	time_t *created;
	size_t i;
	int rc;

	memset(plan, 0, sizeof(*plan));
	plan->records = xcalloc(c->count + 1, sizeof(size_t));
	for (i = 0; i < c->count; i++)
		if (strcmp(c->records[i].job, job) == 0 &&
		    strcmp(c->records[i].status, "ok") == 0 &&
		    !c->records[i].missing)
			plan->records[plan->count++] = i;
	qsort_r(plan->records, plan->count, sizeof(size_t), by_created_desc,
		&sort_by);
	created = xcalloc(plan->count + 1, sizeof(time_t));
	for (i = 0; i < plan->count; i++)
		created[i] = c->records[plan->records[i]].created.tv_sec;
	plan->reasons = xcalloc(plan->count + 1, sizeof(unsigned int));
	rc = retention_plan(&policy, created, plan->count, plan->reasons, &err);
	free(created);
	if (rc != 0) {
		log_error("job '%s': %s", job, err.message);
		return -1;
	}
	plan->child = xcalloc(plan->count + 1, sizeof(size_t));
	chain_keep_parents(c, plan->records, plan->count, plan->reasons,
			   plan->child);
	return 0;
}

static void
plan_release(struct prune_plan *plan)
{
	free(plan->records);
	free(plan->reasons);
	free(plan->child);
	memset(plan, 0, sizeof(*plan));
}

/* The distinct jobs to prune: --job, or every job of the configuration
 * that has archives. Archives of jobs no longer configured are kept. */
static char **
jobs_to_prune(struct context *ctx, const struct catalog *c, size_t *count)
{
	char **jobs = xcalloc(c->count + ctx->config.job_count + 1,
			      sizeof(char *));
	size_t i, j;

	*count = 0;
	if (ctx->options->job != NULL) {
		jobs[(*count)++] = xstrdup(ctx->options->job);
		return jobs;
	}
	for (i = 0; i < c->count; i++) {
		const char *job = c->records[i].job;

		for (j = 0; j < *count; j++)
			if (strcmp(jobs[j], job) == 0)
				break;
		if (j < *count)
			continue;
		if (config_find_job(&ctx->config, job) == NULL) {
			log_info("job '%s' is not in the configuration: its "
				 "archives are kept (prune it with --job)",
				 job);
			continue;
		}
		jobs[(*count)++] = xstrdup(job);
	}
	return jobs;
}

static void
print_plan(const struct catalog *c, const struct prune_plan *plan,
	   struct json_value *json)
{
	size_t i;

	for (i = 0; i < plan->count; i++) {
		const struct catalog_record *r = &c->records[plan->records[i]];
		const char *child = NULL;
		char when[TIMEFMT_RFC3339_SIZE], why[192];

		timefmt_rfc3339(r->created, 0, when, sizeof(when));
		if (plan->reasons[i] & KEPT_AS_PARENT)
			child = c->records[plan->records[plan->child[i]]].id;
		retention_describe(plan->reasons[i] &
					   ~(unsigned int)KEPT_AS_PARENT,
				   why, sizeof(why));
		if (json == NULL && child != NULL)
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 "%sparent of %s", why[0] ? ", " : "", child);
		else if (child != NULL)
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 "%sparent", why[0] ? ", " : "");
		if (json != NULL) {
			struct json_value *o = json_new_object();
			struct json_value *rules = json_new_array();
			char *rule, *save = NULL;

			json_object_set_string(o, "id", r->id);
			json_object_set_string(o, "job", r->job);
			json_object_set_string(o, "created", when);
			json_object_set_string(o, "action",
					       plan->reasons[i] ? "keep"
								: "remove");
			for (rule = strtok_r(why, ", ", &save); rule != NULL;
			     rule = strtok_r(NULL, ", ", &save))
				json_array_append(rules, json_new_string(rule));
			json_object_set(o, "rules", rules);
			if (child != NULL)
				json_object_set_string(o, "parent_of", child);
			json_array_append(json, o);
		} else {
			printf("%-6s %s  %-20s %s  %s\n",
			       plan->reasons[i] ? "keep" : "remove", r->id,
			       r->job, when, why);
		}
	}
}

/* Deletes the files of records marked "removing", then their lines. */
static int
finish_removals(const struct repository *repo, struct catalog *c)
{
	struct buf path = BUF_INIT;
	struct cairn_error err;
	char directory[4096];
	size_t i = 0;
	int rc = 0;

	while (i < c->count) {
		if (strcmp(c->records[i].status, "removing") != 0) {
			i++;
			continue;
		}
		repository_path(repo, c->records[i].file, &path);
		if (unlink(buf_str(&path)) != 0 && errno != ENOENT) {
			log_error("cannot remove '%s': %s", buf_str(&path),
				  strerror(errno));
			rc = -1;
			i++;
			continue;
		}
		if (fsutil_dirname(buf_str(&path), directory, sizeof(directory),
				   &err) != 0 ||
		    fsutil_fsync_dir(directory, &err) != 0)
			log_warning("%s", err.message);
		log_info("removed archive '%s' of job '%s'", c->records[i].id,
			 c->records[i].job);
		catalog_remove(c, i);
	}
	buf_release(&path);
	if (catalog_save(c, repo->path, &err) != 0) {
		log_error("%s", err.message);
		rc = -1;
	}
	return rc;
}

int
cmd_prune(struct context *ctx)
{
	struct repository repo = {NULL};
	struct catalog catalog;
	struct repo_lock lock = {-1};
	struct json_value *json = NULL;
	struct cairn_error err;
	char **jobs = NULL;
	size_t job_count = 0, i, j, marked = 0;
	int status, failed = 0;

	if (ctx->options->remote != NULL)
		return cmd_prune_remote(ctx);
	if (ctx->options->dry_run)
		status = context_open_catalog(ctx, &repo, &catalog, 0);
	else
		status = context_open_catalog_locked(ctx, &repo, &catalog, 0,
						     &lock);
	if (status != EXIT_OK)
		return status;
	if (!ctx->options->dry_run) {
		repository_remove_partials(&repo);
		/* A prune interrupted last time is finished first. */
		if (finish_removals(&repo, &catalog) != 0)
			failed = 1;
	}
	if (ctx->options->job != NULL &&
	    config_find_job(&ctx->config, ctx->options->job) == NULL) {
		if (!catalog_has_job(&catalog, ctx->options->job)) {
			log_error("no job '%s' in '%s' nor in the catalogue",
				  ctx->options->job, ctx->config.file);
			status = EXIT_NOT_FOUND;
			goto out;
		}
	}
	if (ctx->options->json)
		json = json_new_array();
	jobs = jobs_to_prune(ctx, &catalog, &job_count);
	for (j = 0; j < job_count; j++) {
		struct prune_plan plan;

		if (plan_job(ctx, &catalog, jobs[j], &plan) != 0) {
			failed = 1;
			plan_release(&plan);
			continue;
		}
		print_plan(&catalog, &plan, json);
		for (i = 0; i < plan.count; i++)
			if (plan.reasons[i] == 0 && !ctx->options->dry_run) {
				struct catalog_record *r =
					&catalog.records[plan.records[i]];

				free(r->status);
				r->status = xstrdup("removing");
				marked++;
			}
		plan_release(&plan);
	}
	if (marked > 0) {
		if (catalog_save(&catalog, repo.path, &err) != 0) {
			log_error("%s", err.message);
			failed = 1;
		} else if (finish_removals(&repo, &catalog) != 0) {
			failed = 1;
		}
	}
	/* Then each offsite target, by its own policy. */
	if (prune_targets(ctx, repo.path, json) != 0)
		failed = 1;
	if (json != NULL) {
		output_json(json);
		json = NULL;
	}
	if (!ctx->options->dry_run)
		metrics_update(ctx, &repo, &catalog);
	status = failed ? EXIT_JOB_FAILED : EXIT_OK;
out:
	lock_release(&lock);
	for (j = 0; j < job_count; j++)
		free(jobs[j]);
	free(jobs);
	json_free(json);
	catalog_release(&catalog);
	repository_release(&repo);
	return status;
}
