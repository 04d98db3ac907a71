/*
 * `cairn restore ID [--to TARGET] [--only NAME]... [--dry-run] [--force]`:
 * the archive's entries, checked as they are read, handed to the plugin
 * of the archive's job, configured as the configuration defines that job
 * today (credentials, TLS files); --to changes only where the data goes.
 * Without --to the job's own source is overwritten, which needs --force.
 */
#include <stdio.h>
#include <string.h>

#include "arc_source.h"
#include "chain.h"
#include "commands.h"
#include "error.h"
#include "host.h"
#include "log.h"
#include "progress.h"

static int
restore(struct context *ctx, const char *path, const struct catalog_record *r)
{
	const struct options *o = ctx->options;
	const struct job_config *job = config_find_job(&ctx->config, r->job);
	struct cairn_restore_options options;
	struct arc_source source;
	struct loaded_plugin lp;
	struct cairn_error err;
	struct job_host host;
	struct arc *archive;
	int status;

	if (job != NULL && strcmp(job->plugin, r->plugin) != 0) {
		log_error(
			"archive '%s' was made by plugin '%s' but job '%s' now "
			"uses '%s': restore it with --to",
			r->id, r->plugin, r->job, job->plugin);
		return EXIT_CONFIG;
	}
	if (job == NULL && o->to == NULL) {
		log_error(
			"job '%s' of archive '%s' is not in '%s': say where to "
			"restore with --to",
			r->job, r->id, ctx->config.file);
		return EXIT_USAGE;
	}
	if (o->to == NULL && !o->force && !o->dry_run) {
		log_error("restoring archive '%s' into the live source of job "
			  "'%s' overwrites it: add --force, or restore "
			  "elsewhere with --to",
			  r->id, r->job);
		return EXIT_USAGE;
	}
	status = context_load_plugin(ctx, job, r->job, r->plugin, &lp);
	if (status != EXIT_OK)
		return status;
	if (context_arc_open(ctx, &archive, path, r, &err) != 0) {
		log_error("%s", err.message);
		context_release_plugin(&lp);
		return EXIT_DAMAGED;
	}
	if (chain_source_open(&source, archive, path, ctx->chain_opener,
			      &err) != 0) {
		log_error("%s", err.message);
		arc_close(archive);
		context_release_plugin(&lp);
		return EXIT_DAMAGED;
	}
	memset(&options, 0, sizeof(options));
	options.target = o->to;
	options.only = o->only;
	options.only_count = o->only_count;
	options.dry_run = o->dry_run;
	options.force = o->force;
	job_host_init(&host, r->job);
	host.manifest = &archive->manifest;
	error_clear(&err);
	progress_start(r->job);
	if (lp.plugin.descriptor->restore(lp.state, &host.host,
					  host_source(&source), &options,
					  &err) != 0) {
		progress_finish();
		log_error("%s: restore of archive '%s' failed: %s", r->job,
			  r->id,
			  err.message[0] ? err.message : "no reason given");
		/* Entries are checked as they stream: what came before the
		 * damage may already be in the target. */
		if (source.damaged)
			log_error("archive '%s' is damaged: the restore "
				  "stopped at the damaged entry (the entries "
				  "before it are in the target)",
				  r->id);
		status = source.damaged ? EXIT_DAMAGED : EXIT_JOB_FAILED;
	} else {
		progress_finish();
		log_info("%s: archive '%s' %s", r->job, r->id,
			 o->dry_run ? "checked (dry run, nothing written)"
				    : "restored");
		status = EXIT_OK;
	}
	arc_source_close(&source);
	arc_close(archive);
	context_release_plugin(&lp);
	return status;
}

int
cmd_restore(struct context *ctx)
{
	return context_run_on_archive(ctx, ctx->options->args[0], restore);
}
