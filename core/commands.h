/*
 * The commands of cairn(8), one function each, and what they share: the
 * context (options, configuration, repository, plugin directory) and the
 * exit statuses of the SPEC.
 */
#ifndef CAIRN_COMMANDS_H
#define CAIRN_COMMANDS_H

#include "context.h"

#include <sysexits.h>

/* The statuses above 1 are those of <sysexits.h>, as other tools use them. */
enum exit_status {
	EXIT_OK = 0,
	EXIT_JOB_FAILED = 1,
	EXIT_USAGE = EX_USAGE,	     /* 64: a bad command line */
	EXIT_DAMAGED = EX_DATAERR,   /* 65: damaged archive or catalogue */
	EXIT_NOT_FOUND = EX_NOINPUT, /* 66: no such archive, entry or job */
	EXIT_LOCKED = EX_TEMPFAIL,   /* 75: the repository is locked */
	EXIT_NO_KEY = EX_NOPERM,     /* 77: no identity opens the archive */
	EXIT_CONFIG = EX_CONFIG,     /* 78: a configuration error */
};

int cmd_backup(struct context *ctx);
int cmd_list(struct context *ctx);
int cmd_show(struct context *ctx);
int cmd_cat(struct context *ctx);
int cmd_restore(struct context *ctx);
int cmd_verify(struct context *ctx);
int cmd_plugins(struct context *ctx);
int cmd_prune(struct context *ctx);
int cmd_check(struct context *ctx);
int cmd_drill(struct context *ctx);
int cmd_catalog(struct context *ctx);
int cmd_copy(struct context *ctx);
/* list, verify and prune given --remote NAME (cmd_remote.c). */
int cmd_list_remote(struct context *ctx);
int cmd_verify_remote(struct context *ctx);
int cmd_prune_remote(struct context *ctx);
int cmd_catalog_rebuild_from(struct context *ctx);
struct json_value;
struct report;
struct offsite_target;
/* check of one target (offsite_check.c). */
void offsite_check(const struct offsite_target *t, const char *repository,
		   struct report *report);
/* prune: each target by its own retention (rows appended to json). */
int prune_targets(struct context *ctx, const char *repository,
		  struct json_value *json);

/*
 * After backup: copies the archives `ids` just committed to every target
 * with copy = auto. 0, or -1 when a copy failed (logged; the archives stay
 * as they are and the next copy or backup retries).
 */
int copy_after_backup(struct context *ctx, struct repository *repo,
		      struct catalog *catalog, const char (*ids)[ARC_ID_SIZE],
		      size_t id_count);
/* Runs without a configuration: the options alone. */
int cmd_key(const struct options *o);
int cmd_rekey(struct context *ctx);

#endif
