/*
 * `cairn list [--job JOB]`: the catalogue, newest first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json.h"
#include "log.h"
#include "timefmt.h"

static const char *
record_status(const struct catalog_record *r)
{
	return r->missing ? "missing" : r->status;
}

static void
print_json(const struct catalog *c, const char *job)
{
	struct json_value *array = json_new_array();
	size_t i;

	for (i = 0; i < c->count; i++) {
		struct json_value *o;

		if (job != NULL && strcmp(c->records[i].job, job) != 0)
			continue;
		o = catalog_record_to_json(&c->records[i]);
		json_object_set_string(o, "status",
				       record_status(&c->records[i]));
		json_array_append(array, o);
	}
	output_json(array);
}

static void
print_table(const struct catalog *c, const char *job)
{
	size_t i;

	printf("%-36s %-20s %-20s %10s %10s %8s %-11s %s\n", "ID", "JOB",
	       "CREATED", "BYTES", "STORED", "ENTRIES", "KIND", "STATUS");
	for (i = 0; i < c->count; i++) {
		const struct catalog_record *r = &c->records[i];
		char when[TIMEFMT_RFC3339_SIZE], bytes[32], stored[32];

		if (job != NULL && strcmp(r->job, job) != 0)
			continue;
		timefmt_rfc3339(r->created, 0, when, sizeof(when));
		format_bytes(r->bytes, bytes, sizeof(bytes));
		format_bytes(r->stored, stored, sizeof(stored));
		const char *drill = json_get_string(json_object_get(r->extra,
								    "drill"),
						    "status");

		printf("%-36s %-20s %-20s %10s %10s %8llu %-11s %s%s%s%s\n",
		       r->id, r->job, when, bytes, stored,
		       (unsigned long long)r->entries,
		       r->incremental ? "incremental" : "full",
		       record_status(r), r->warnings ? " (warnings)" : "",
		       drill ? ", drill " : "", drill ? drill : "");
	}
}

int
cmd_list(struct context *ctx)
{
	struct repository repo;
	struct catalog catalog;
	int status;

	if (ctx->options->remote != NULL)
		return cmd_list_remote(ctx);
	status = context_open_catalog(ctx, &repo, &catalog, 0);
	if (status != EXIT_OK)
		return status;
	if (ctx->options->job != NULL &&
	    config_find_job(&ctx->config, ctx->options->job) == NULL &&
	    !catalog_has_job(&catalog, ctx->options->job)) {
		log_error("no job '%s' in '%s' nor in the catalogue",
			  ctx->options->job, ctx->config.file);
		catalog_release(&catalog);
		repository_release(&repo);
		return EXIT_NOT_FOUND;
	}
	catalog_sort(&catalog);
	if (ctx->options->json)
		print_json(&catalog, ctx->options->job);
	else
		print_table(&catalog, ctx->options->job);
	catalog_release(&catalog);
	repository_release(&repo);
	return EXIT_OK;
}
