/*
 * The command line: global options, a command and its arguments.
 * Options may stand before or after the command; `--` ends them. A
 * command-specific option given to another command is a usage error.
 *
 * Ownership: the struct points into argv and owns only the arrays
 * `only` and `targets`.
 */
#ifndef CAIRN_OPTIONS_H
#define CAIRN_OPTIONS_H

#include <stddef.h>

#include <cairn/plugin.h>

enum command {
	COMMAND_NONE,
	COMMAND_BACKUP,
	COMMAND_LIST,
	COMMAND_SHOW,
	COMMAND_CAT,
	COMMAND_RESTORE,
	COMMAND_VERIFY,
	COMMAND_PRUNE,
	COMMAND_DRILL,
	COMMAND_CHECK,
	COMMAND_PLUGINS,
	COMMAND_CATALOG,
	COMMAND_COPY,
	COMMAND_KEY,
	COMMAND_REKEY,
	COMMAND_VERSION,
	COMMAND_HELP,
};

struct options {
	const char *config;
	const char *repository;
	int verbosity; /* -1 quiet, 0, 1+ verbose */
	int json;
	int no_progress;
	enum command command;
	const char *command_name;
	char **args; /* positional arguments after the command */
	size_t arg_count;
	const char *job;   /* --job */
	const char *to;	   /* --to */
	const char **only; /* --only, repeatable */
	size_t only_count;
	int dry_run;
	int force;
	int wait; /* --wait SECONDS, 0 when absent */
	/* Offsite copies: copy's --to NAME (repeatable), --remote, --from. */
	const char **targets;
	size_t target_count;
	const char *remote; /* list, verify, prune --remote NAME */
	const char *from;   /* restore, cat, catalog rebuild --from NAME */
	int deep;	    /* verify --remote NAME --deep */
};

/* 0, or -1 with err describing the usage error. */
int options_parse(struct options *o, int argc, char **argv,
		  struct cairn_error *err);
void options_release(struct options *o);

/* The --help text. */
const char *options_usage(void);

#endif
