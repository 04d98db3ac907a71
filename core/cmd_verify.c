/*
 * `cairn verify [ID...]`: re-reads archives (default: all) and checks
 * every frame and entry checksum; exit 65 when any is damaged or missing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "arc_verify.h"
#include "chain.h"
#include "commands.h"
#include "encryption.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "metrics.h"

struct verify_outcome {
	const struct catalog_record *record;
	const char *status; /* ok, damaged, missing */
	char error[CAIRN_ERROR_MESSAGE_SIZE];
	struct verify_totals totals;
};

static void
verify_one(const struct repository *repo, const struct catalog_record *r,
	   struct verify_outcome *out)
{
	struct buf path = BUF_INIT;
	struct cairn_error err;
	struct arc *archive = NULL;

	out->record = r;
	repository_path(repo, r->file, &path);
	if (r->missing) {
		out->status = "missing";
		message_format(out->error, sizeof(out->error),
			       "archive '%s' is missing: '%s'", r->id,
			       buf_str(&path));
	} else if (encryption_record_sha256(r) != NULL &&
		   !encryption_has_identity()) {
		/* Without a key: the file as stored, against the catalogue. */
		if (encryption_verify_stored(buf_str(&path), r,
					     encryption_record_sha256(r),
					     &err) != 0) {
			out->status = "damaged";
			message_format(out->error, sizeof(out->error), "%s",
				       err.message);
		} else {
			out->status = "ok";
			out->totals.entries = r->entries;
			out->totals.bytes = r->bytes;
		}
	} else if (arc_open(&archive, buf_str(&path), r->id, &err) != 0 ||
		   arc_verify(archive, &out->totals, &err) != 0) {
		out->status = "damaged";
		memcpy(out->error, err.message, sizeof(out->error));
	} else {
		out->status = "ok";
	}
	arc_close(archive);
	buf_release(&path);
}

/* The outcome of archive `id` in this run, or NULL. */
static const struct verify_outcome *
outcome_of(const struct verify_outcome *outcomes, size_t count, const char *id)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strcmp(outcomes[i].record->id, id) == 0)
			return &outcomes[i];
	return NULL;
}

/*
 * An incremental archive is only as good as its chain: every parent must
 * be there, readable, and not found damaged in this run.
 */
static void
verify_chain(const struct repository *repo, struct verify_outcome *out,
	     const struct verify_outcome *outcomes, size_t count)
{
	const struct catalog_record *r = out->record;
	struct buf path = BUF_INIT;
	struct cairn_error err;
	struct chain chain;
	size_t i;

	if (!r->incremental || strcmp(out->status, "ok") != 0)
		return;
	repository_path(repo, r->file, &path);
	if (chain_load(&chain, buf_str(&path), r->id, NULL, &err) != 0) {
		out->status = "damaged";
		snprintf(out->error, sizeof(out->error),
			 "archive '%s': its chain is broken: %.900s", r->id,
			 err.message);
		buf_release(&path);
		return;
	}
	buf_release(&path);
	for (i = 0; i + 1 < chain.count; i++) {
		const char *id = chain.links[i].manifest->id;
		const struct verify_outcome *p = outcome_of(outcomes, count,
							    id);

		if ((p != NULL && strcmp(p->status, "ok") != 0) ||
		    chain_is_damaged(repo->path, r->job, id)) {
			out->status = "damaged";
			snprintf(out->error, sizeof(out->error),
				 "archive '%s': its chain is broken: archive "
				 "'%s' it builds on is damaged",
				 r->id, id);
			break;
		}
	}
	chain_release(&chain);
}

static void
print_json(const struct verify_outcome *outcomes, size_t count)
{
	struct json_value *array = json_new_array();
	size_t i;

	for (i = 0; i < count; i++) {
		struct json_value *o = json_new_object();

		json_object_set_string(o, "id", outcomes[i].record->id);
		json_object_set_string(o, "job", outcomes[i].record->job);
		json_object_set_string(o, "status", outcomes[i].status);
		json_object_set_int64(o, "entries",
				      (int64_t)outcomes[i].totals.entries);
		json_object_set_int64(o, "bytes",
				      (int64_t)outcomes[i].totals.bytes);
		if (outcomes[i].error[0] != '\0')
			json_object_set_string(o, "error", outcomes[i].error);
		json_array_append(array, o);
	}
	output_json(array);
}

int
cmd_verify(struct context *ctx)
{
	const struct options *o = ctx->options;
	struct verify_outcome *outcomes = NULL;
	struct repository repo;
	struct catalog catalog;
	size_t i, count = 0, bad = 0, index;
	struct cairn_error err;
	int status;

	if (o->remote != NULL)
		return cmd_verify_remote(ctx);
	status = context_open_catalog(ctx, &repo, &catalog, 0);
	if (status != EXIT_OK)
		return status;
	catalog_sort(&catalog);
	outcomes = xcalloc(o->arg_count ? o->arg_count : catalog.count + 1,
			   sizeof(*outcomes));
	for (i = 0; i < (o->arg_count ? o->arg_count : catalog.count); i++) {
		if (o->arg_count) {
			status = context_resolve(ctx, &catalog, o->args[i],
						 &index);
			if (status != EXIT_OK)
				goto out;
		} else {
			index = i;
		}
		verify_one(&repo, &catalog.records[index], &outcomes[count]);
		count++;
	}
	/* Chains once every archive is checked: a parent comes after its
	 * child, newest first. Damage is remembered, so that the next
	 * backup of the job does not build on it. */
	for (i = 0; i < count; i++)
		if (strcmp(outcomes[i].status, "ok") != 0)
			chain_mark_damaged(repo.path, outcomes[i].record->job,
					   outcomes[i].record->id);
	for (i = 0; i < count; i++)
		verify_chain(&repo, &outcomes[i], outcomes, count);
	for (i = 0; i < count; i++) {
		const struct catalog_record *r = outcomes[i].record;

		if (strcmp(outcomes[i].status, "ok") != 0) {
			log_error("%s", outcomes[i].error);
			bad++;
		} else if (!o->json) {
			printf("ok       %s  %-20s %llu entries\n", r->id,
			       r->job,
			       (unsigned long long)outcomes[i].totals.entries);
		}
		if (!o->json && bad && outcomes[i].error[0] != '\0')
			printf("%-8s %s  %-20s %s\n", outcomes[i].status, r->id,
			       r->job, outcomes[i].error);
	}
	if (o->json)
		print_json(outcomes, count);
	status = bad ? EXIT_DAMAGED : EXIT_OK;
	/* The archives are what matters; a damaged twin of the catalogue
	 * loses nothing yet and is rewritten by the next backup or prune. */
	if (o->arg_count == 0 && catalog_check_twins(repo.path, &err) != 0)
		log_warning("%s: the next backup or prune rewrites it",
			    err.message);
	metrics_update(ctx, &repo, &catalog);
out:
	free(outcomes);
	catalog_release(&catalog);
	repository_release(&repo);
	return status;
}
