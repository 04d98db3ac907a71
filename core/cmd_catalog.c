/*
 * `cairn catalog rebuild`: remakes the catalogue from the archives alone,
 * reading each one's manifest; reports archives it could not read and
 * catalogue lines whose file is gone. What the old catalogue knew beyond
 * the manifests (drill outcomes) is kept for archives still there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "encryption.h"
#include "error.h"
#include "json.h"
#include "lock.h"
#include "log.h"
#include "metrics.h"

static void
keep_extras(struct catalog *rebuilt, const struct catalog *old)
{
	size_t i;

	for (i = 0; i < rebuilt->count; i++) {
		long j = catalog_find(old, rebuilt->records[i].id);

		if (j >= 0 && old->records[j].extra != NULL) {
			struct json_value *fresh = rebuilt->records[i].extra;

			rebuilt->records[i].extra = json_clone(
				old->records[j].extra);
			/* What the file says of its encryption wins. */
			encryption_record_refresh(&rebuilt->records[i], fresh);
		}
	}
}

int
cmd_catalog(struct context *ctx)
{
	struct reconcile_outcome outcome;
	struct repository repo = {NULL};
	struct catalog old, rebuilt;
	struct repo_lock lock = {-1};
	struct cairn_error err;
	size_t i;
	int rc, status;

	if (ctx->options->from != NULL)
		return cmd_catalog_rebuild_from(ctx);
	memset(&rebuilt, 0, sizeof(rebuilt));
	memset(&old, 0, sizeof(old));
	if (ctx->repository_path == NULL) {
		log_error(
			"no repository: give -r DIR or set [repository] path");
		return EXIT_CONFIG;
	}
	rc = repository_open(&repo, ctx->repository_path, 0, &err);
	if (rc != 0) {
		log_error("%s", err.message);
		return rc > 0 ? EXIT_NOT_FOUND : EXIT_JOB_FAILED;
	}
	rc = lock_acquire(&lock, repo.path, ctx->options->wait, &err);
	if (rc != 0) {
		log_error("%s", err.message);
		repository_release(&repo);
		return rc > 0 ? EXIT_LOCKED : EXIT_JOB_FAILED;
	}
	repository_remove_partials(&repo);
	if (catalog_load(&old, repo.path, &err) != 0) {
		log_warning("%s: rebuilding from the archives", err.message);
		memset(&old, 0, sizeof(old));
	}
	repository_reconcile(&repo, &rebuilt, &outcome);
	keep_extras(&rebuilt, &old);
	for (i = 0; i < old.count; i++)
		if (catalog_find(&rebuilt, old.records[i].id) < 0)
			log_warning("archive '%s' of job '%s' was in the "
				    "catalogue but its file '%s' is gone",
				    old.records[i].id, old.records[i].job,
				    old.records[i].file);
	if (catalog_save(&rebuilt, repo.path, &err) != 0) {
		log_error("%s", err.message);
		status = EXIT_JOB_FAILED;
	} else {
		printf("catalogue rebuilt: %zu archives, %d unreadable\n",
		       rebuilt.count, outcome.unreadable);
		status = outcome.unreadable ? EXIT_DAMAGED : EXIT_OK;
	}
	metrics_update(ctx, &repo, &rebuilt);
	lock_release(&lock);
	catalog_release(&old);
	catalog_release(&rebuilt);
	repository_release(&repo);
	return status;
}
