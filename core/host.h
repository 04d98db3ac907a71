/*
 * The services the core hands a plugin (struct cairn_host of
 * include/cairn/plugin.h), bound to one job: its log prefix, the archive
 * being written (backup), the archive being read (restore, drill, cat)
 * and the report being filled (check, drill).
 *
 * The opaque handles of the ABI are the core's own objects: a cairn_sink
 * is an arc_writer, a cairn_stream an arc_stream, a cairn_source
 * an arc_source, a cairn_report a struct report.
 */
#ifndef CAIRN_HOST_H
#define CAIRN_HOST_H

#include <stddef.h>

#include <cairn/plugin.h>

#include "arc_source.h"
#include "arc_writer.h"

struct json_value;

/* What check and drill found; owns its strings. */
struct report {
	char **keys;
	char **values;
	size_t item_count;
	char **problems;
	size_t problem_count;
};

void report_init(struct report *r);
void report_release(struct report *r);
void report_add_item(struct report *r, const char *key, const char *value);
void report_add_problem(struct report *r, const char *problem);
/* Prints the items and problems, indented, for the human output. */
void report_print(const struct report *r);
/* {"key": "value", ..., "problems": [...]}, owned by the caller. */
struct json_value *report_to_json(const struct report *r);

struct job_host {
	struct cairn_host host;	   /* first: plugins see this */
	const char *job;	   /* not owned */
	struct manifest *manifest; /* restore: the archive's; not owned */
	/* backup: the archive being written, whose manifest records the
	 * warnings the plugin logs; not owned */
	struct arc_writer *writer;
};

void job_host_init(struct job_host *h, const char *job);

/* The ABI's opaque handles for the core's objects. */
struct cairn_sink *host_sink(struct arc_writer *w);
struct cairn_source *host_source(struct arc_source *s);
struct cairn_report *host_report(struct report *r);

/*
 * Reads a secret file (see secret_read in plugin.h), for the core too;
 * the warning about a file others may read is logged.
 */
int host_secret_read(const char *path, char **secret, struct cairn_error *err);
void host_secret_free(char *secret);

#endif
