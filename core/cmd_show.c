/*
 * `cairn show ID`: an archive's manifest, read from the archive itself,
 * and every entry of its index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "commands.h"
#include "json.h"
#include "log.h"
#include "timefmt.h"

static void
print_header(const struct manifest *m, const struct catalog_record *r)
{
	char started[TIMEFMT_RFC3339_SIZE], finished[TIMEFMT_RFC3339_SIZE];
	char bytes[32], stored[32], *drill;
	size_t i;

	timefmt_rfc3339(m->started, 0, started, sizeof(started));
	timefmt_rfc3339(m->finished, 0, finished, sizeof(finished));
	format_bytes(m->bytes, bytes, sizeof(bytes));
	format_bytes(r->stored, stored, sizeof(stored));
	printf("id:        %s\nrun:       %s\njob:       %s\nplugin:    %s %s\n"
	       "host:      %s\nstarted:   %s\nfinished:  %s (%.1f s)\n"
	       "entries:   %llu\nbytes:     %s\nstored:    %s (%s)\n"
	       "file:      %s\n",
	       m->id, m->run, m->job, m->plugin,
	       m->plugin_version ? m->plugin_version : "",
	       m->host ? m->host : "", started, finished,
	       timefmt_seconds_between(m->started, m->finished),
	       (unsigned long long)m->entries, bytes, stored,
	       m->compressed ? "zstd" : "uncompressed", r->file);
	if (m->incremental)
		printf("kind:      incremental, on %s (%llu removed)\n",
		       m->parent, (unsigned long long)m->removed);
	else
		printf("kind:      full\n");
	for (i = 0; i < json_length(m->facts); i++)
		printf("%s%-24s %s\n", i == 0 ? "facts:\n  " : "  ",
		       json_object_key_at(m->facts, i),
		       json_string(json_object_value_at(m->facts, i))
			       ? json_string(json_object_value_at(m->facts, i))
			       : "");
	for (i = 0; i < m->warning_count; i++)
		printf("%s%s\n", i == 0 ? "warnings:\n  " : "  ",
		       m->warnings[i]);
	drill = catalog_record_drill(r);
	printf("drill:     %s\n", drill ? drill : "never");
	free(drill);
	printf("\n%14s  %-64s  %s\n", "SIZE", "SHA256", "NAME");
}

static int
show(struct context *ctx, const char *path, const struct catalog_record *r)
{
	struct index_cursor cursor;
	struct index_record record;
	struct cairn_error err;
	struct arc *archive;
	const struct manifest *m;
	struct json_value *json = NULL, *entries = NULL;
	int rc, status = EXIT_DAMAGED;

	if (arc_open(&archive, path, r->id, &err) != 0) {
		log_error("%s", err.message);
		return EXIT_DAMAGED;
	}
	m = &archive->manifest;
	if (ctx->options->json) {
		json = manifest_to_json(m);
		json_object_set_int64(json, "entry_count", (int64_t)m->entries);
		json_object_set_int64(json, "stored", (int64_t)r->stored);
		json_object_set_string(json, "file", r->file);
		/* The last drill, as list --json gives it. */
		if (json_object_get(r->extra, "drill") != NULL)
			json_object_set(json, "drill",
					json_clone(json_object_get(r->extra,
								   "drill")));
		entries = json_new_array();
	} else {
		print_header(m, r);
	}
	index_cursor_init(&cursor, archive);
	while ((rc = index_cursor_next(&cursor, &record, &err)) > 0) {
		if (entries != NULL) {
			struct json_value *e = json_new_object();

			json_object_set_string(e, "name", record.name);
			json_object_set_string(e, "type",
					       entry_type_name(record.type));
			json_object_set_int64(e, "size", record.size);
			if (record.sha256[0] != '\0')
				json_object_set_string(e, "sha256",
						       record.sha256);
			else
				json_object_set(e, "sha256", json_new_null());
			json_array_append(entries, e);
		} else {
			printf("%14lld  %-64s  %s%s\n", (long long)record.size,
			       record.sha256[0] ? record.sha256 : "-",
			       record.name,
			       record.type == CAIRN_ENTRY_DIRECTORY ? "/" : "");
		}
		index_record_release(&record);
	}
	if (rc < 0) {
		log_error("%s", err.message);
	} else {
		status = EXIT_OK;
		if (json != NULL) {
			json_object_set(json, "entries", entries);
			entries = NULL;
			output_json(json);
			json = NULL;
		}
	}
	json_free(entries);
	json_free(json);
	index_cursor_release(&cursor);
	arc_close(archive);
	return status;
}

int
cmd_show(struct context *ctx)
{
	return context_run_on_archive(ctx, ctx->options->args[0], show);
}
