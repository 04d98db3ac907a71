/*
 * The commands of cairn(8), one function each, and what they share: the
 * context (options, configuration, repository, plugin directory) and the
 * exit statuses of the SPEC.
 */
#ifndef CAIRN_COMMANDS_H
#define CAIRN_COMMANDS_H

#include "context.h"

enum exit_status {
	EXIT_OK = 0,
	EXIT_JOB_FAILED = 1,
	EXIT_USAGE = 64,
	EXIT_DAMAGED = 65,
	EXIT_NOT_FOUND = 66,
	EXIT_LOCKED = 75,
	EXIT_NO_KEY = 77, /* no identity, or none that opens the archive */
	EXIT_CONFIG = 78,
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
		      struct catalog *catalog,
		      const char (*ids)[ARC_ID_SIZE], size_t id_count);
/* Runs without a configuration: the options alone. */
int cmd_key(const struct options *o);

#endif
