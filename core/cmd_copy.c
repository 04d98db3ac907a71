/*
 * cairn copy [--to NAME]... [--job JOB] [ID...]: copies the archives that
 * offsite targets lack, each verified on the target before the catalogue
 * records it; and the same after `backup` for targets with copy = auto.
 * Every copy is saved to the catalogue as soon as it is verified, so an
 * interrupted run loses nothing done; the next run goes on from there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "error.h"
#include "log.h"
#include "metrics.h"
#include "offsite_copy.h"
#include "offsite_state.h"

/* Copies the records of `wanted` (indexes into the catalogue) to t. */
static int
copy_to_target(struct context *ctx, struct repository *repo,
	       struct catalog *catalog, const struct offsite_target *t,
	       const size_t *wanted, size_t count)
{
	struct catalog held = {NULL, 0, 0, 0};
	struct offsite *o = NULL;
	struct cairn_error err;
	size_t i, copied = 0, failed = 0, held_before;
	uint64_t sent, bytes = 0;

	(void)ctx;
	if (offsite_catalog_load(repo->path, t->name, &held, &err) != 0 ||
	    offsite_open(&o, t, repo->path, &err) != 0) {
		log_error("%s", err.message);
		offsite_state_failure(repo->path, t->name, err.message);
		catalog_release(&held);
		return -1;
	}
	/* Also the first request: a target that cannot be reached (or
	 * whose host key or credentials are wrong) fails here. */
	if (o->ops->cleanup(o, &err) != 0) {
		log_error("%s", err.message);
		offsite_state_failure(repo->path, t->name, err.message);
		offsite_close(o);
		catalog_release(&held);
		return -1;
	}
	held_before = held.count;
	for (i = 0; i < count; i++) {
		struct catalog_record *r = &catalog->records[wanted[i]];

		if (offsite_has_copy(r, t->name) &&
		    catalog_find(&held, r->id) >= 0)
			continue;
		if (offsite_copy_archive(o, repo, r, &held, &sent, &err) != 0) {
			log_error("%s", err.message);
			offsite_state_failure(repo->path, t->name, err.message);
			failed++;
			continue;
		}
		copied += sent > 0;
		bytes += sent;
		/* The target's catalogue first: a copy it holds is found
		 * again by the next run even if the local one is not saved. */
		if (offsite_catalog_save(repo->path, t->name, &held, &err) !=
			    0 ||
		    catalog_save(catalog, repo->path, &err) != 0) {
			log_error("%s", err.message);
			failed++;
			break;
		}
	}
	if (held.count != held_before) {
		if (offsite_put_snapshot(o, &held, &err) != 0) {
			log_error("%s", err.message);
			offsite_state_failure(repo->path, t->name, err.message);
			failed++;
		}
	}
	if (failed == 0)
		offsite_state_success(repo->path, t->name);
	log_info("offsite %s: %zu archives copied (%llu bytes sent), %zu "
		 "failed",
		 t->name, copied, (unsigned long long)bytes, failed);
	offsite_close(o);
	catalog_release(&held);
	return failed ? -1 : 0;
}

/* The targets named by --to, or all of them (auto_only: copy = auto). */
static int
select_targets(struct context *ctx, const struct offsite_target ***out,
	       size_t *count, int auto_only)
{
	const struct options *o = ctx->options;
	const struct config *c = &ctx->config;
	size_t i;

	*out = xcalloc(c->offsite_count + o->target_count + 1, sizeof(**out));
	*count = 0;
	if (!auto_only && o->target_count > 0) {
		for (i = 0; i < o->target_count; i++) {
			const struct offsite_target *t =
				config_find_offsite(c, o->targets[i]);

			if (t == NULL) {
				log_error("no offsite target '%s' in '%s'",
					  o->targets[i], c->file);
				return EXIT_NOT_FOUND;
			}
			(*out)[(*count)++] = t;
		}
		return EXIT_OK;
	}
	for (i = 0; i < c->offsite_count; i++)
		if (!auto_only || c->offsites[i].copy_auto)
			(*out)[(*count)++] = &c->offsites[i];
	return EXIT_OK;
}

int
copy_after_backup(struct context *ctx, struct repository *repo,
		  struct catalog *catalog, const char (*ids)[ARC_ID_SIZE],
		  size_t id_count)
{
	const struct offsite_target **targets = NULL;
	size_t *wanted, count = 0, n = 0, i;
	int failed = 0;
	long index;

	select_targets(ctx, &targets, &count, 1);
	wanted = xcalloc(id_count + 1, sizeof(*wanted));
	for (i = 0; i < id_count; i++)
		if ((index = catalog_find(catalog, ids[i])) >= 0)
			wanted[n++] = (size_t)index;
	for (i = 0; i < count && n > 0; i++)
		if (copy_to_target(ctx, repo, catalog, targets[i], wanted, n) !=
		    0)
			failed = 1;
	free(wanted);
	free(targets);
	return failed ? -1 : 0;
}

int
cmd_copy(struct context *ctx)
{
	struct options *o = ctx->options;
	const struct offsite_target **targets = NULL;
	struct repository repo = {NULL};
	struct catalog catalog = {NULL, 0, 0, 0};
	struct repo_lock lock = {-1};
	size_t *wanted = NULL, count = 0, n = 0, i, index;
	int status, failed = 0;

	if (ctx->config.offsite_count == 0) {
		log_error("'%s' defines no [offsite NAME] section",
			  ctx->config.file);
		return EXIT_CONFIG;
	}
	status = select_targets(ctx, &targets, &count, 0);
	if (status != EXIT_OK)
		goto out;
	if (o->job != NULL && config_find_job(&ctx->config, o->job) == NULL) {
		log_error("no job '%s' in '%s'", o->job, ctx->config.file);
		status = EXIT_NOT_FOUND;
		goto out;
	}
	status = context_open_catalog_locked(ctx, &repo, &catalog, 0, &lock);
	if (status != EXIT_OK)
		goto out;
	wanted = xcalloc(catalog.count + o->arg_count + 1, sizeof(*wanted));
	if (o->arg_count > 0) {
		for (i = 0; i < o->arg_count; i++) {
			status = context_resolve(ctx, &catalog, o->args[i],
						 &index);
			if (status != EXIT_OK)
				goto out;
			wanted[n++] = index;
		}
	} else {
		/* Oldest first, so a target filled over several runs holds
		 * a job's history without gaps. */
		for (i = catalog.count; i-- > 0;) {
			const struct catalog_record *r = &catalog.records[i];

			if (strcmp(r->status, "ok") != 0 || r->missing)
				continue;
			if (o->job != NULL && strcmp(r->job, o->job) != 0)
				continue;
			wanted[n++] = i;
		}
	}
	for (i = 0; i < n; i++)
		if (catalog.records[wanted[i]].missing) {
			log_error("archive %s: its file '%s' is missing",
				  catalog.records[wanted[i]].id,
				  catalog.records[wanted[i]].file);
			status = EXIT_NOT_FOUND;
			goto out;
		}
	for (i = 0; i < count; i++)
		if (copy_to_target(ctx, &repo, &catalog, targets[i], wanted,
				   n) != 0)
			failed = 1;
	metrics_update(ctx, &repo, &catalog);
	status = failed ? EXIT_JOB_FAILED : EXIT_OK;
out:
	lock_release(&lock);
	free(wanted);
	free(targets);
	catalog_release(&catalog);
	repository_release(&repo);
	return status;
}
