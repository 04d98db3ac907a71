/*
 * cairn: back up, restore, verify and prune the stateful parts of a
 * platform. main() maps the command line to one command and turns its
 * outcome into the exit status; everything else lives in the commands.
 */
#include "autoconfig.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "encryption.h"
#include "error.h"
#include "hook.h"
#include "log.h"
#include "progress.h"

static int
run_command(struct context *ctx)
{
	switch (ctx->options->command) {
	case COMMAND_BACKUP:
		return cmd_backup(ctx);
	case COMMAND_LIST:
		return cmd_list(ctx);
	case COMMAND_SHOW:
		return cmd_show(ctx);
	case COMMAND_CAT:
		return cmd_cat(ctx);
	case COMMAND_RESTORE:
		return cmd_restore(ctx);
	case COMMAND_VERIFY:
		return cmd_verify(ctx);
	case COMMAND_PLUGINS:
		return cmd_plugins(ctx);
	case COMMAND_PRUNE:
		return cmd_prune(ctx);
	case COMMAND_CHECK:
		return cmd_check(ctx);
	case COMMAND_DRILL:
		return cmd_drill(ctx);
	case COMMAND_CATALOG:
		return cmd_catalog(ctx);
	case COMMAND_COPY:
		return cmd_copy(ctx);
	case COMMAND_REKEY:
		return cmd_rekey(ctx);
	default:
		log_error("'%s' is not available in this version",
			  ctx->options->command_name);
		return EXIT_USAGE;
	}
}

/* Names in archives are bytes; libarchive needs a UTF-8 locale to write
 * non-ASCII ones into pax headers. */
static void
setup_locale(void)
{
	const char *current = setlocale(LC_CTYPE, "");

	if (current == NULL || strstr(current, "UTF-8") == NULL)
		setlocale(LC_CTYPE, "C.UTF-8");
}

int
main(int argc, char **argv)
{
	struct options options;
	struct context ctx;
	struct cairn_error err;
	int status;

	setup_locale();
	if (options_parse(&options, argc, argv, &err) != 0) {
		fprintf(stderr, "cairn: %s\n%s", err.message, options_usage());
		options_release(&options);
		return EXIT_USAGE;
	}
	if (options.command == COMMAND_HELP) {
		fputs(options_usage(), stdout);
		return EXIT_OK;
	}
	if (options.command == COMMAND_VERSION) {
		printf("cairn %s (plugin ABI %d)\n", PACKAGE_VERSION,
		       CAIRN_PLUGIN_ABI_VERSION);
		return EXIT_OK;
	}
	/* A dry run exists to be read: its plan is informational lines. */
	if (options.dry_run && options.verbosity == 0)
		options.verbosity = 1;
	log_setup(options.verbosity);
	progress_enable(!options.no_progress && !options.json &&
			options.verbosity >= 0);
	if (hook_install_signal_watch() != 0) {
		log_error("cannot install signal handlers");
		return EXIT_JOB_FAILED;
	}
	if (options.command == COMMAND_KEY) {
		status = cmd_key(&options);
		options_release(&options);
		return status;
	}
	status = context_open(&ctx, &options);
	if (status == EXIT_OK)
		status = run_command(&ctx);
	/* Whatever the command made of it, a missing key is the cause. */
	if (status != EXIT_OK && encryption_key_failed())
		status = EXIT_NO_KEY;
	context_release(&ctx);
	options_release(&options);
	return status;
}
