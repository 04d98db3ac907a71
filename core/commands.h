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
/* Runs without a configuration: the options alone. */
int cmd_key(const struct options *o);

#endif
