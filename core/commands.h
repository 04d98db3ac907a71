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
	EXIT_USAGE = EX_USAGE,       /* 64: a bad command line */
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
/* Runs without a configuration: the options alone. */
int cmd_key(const struct options *o);
int cmd_rekey(struct context *ctx);

#endif
