/*
 * `cairn backup [JOB...]`: every job's plugin is loaded and configured
 * before anything runs (a configuration error stops everything), then the
 * repository is locked and the jobs run one after the other, each into
 * its own archive, each committed to the catalogue as soon as it is
 * complete, so a later failure never loses an earlier success.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc_id.h"
#include "arc_writer.h"
#include "chain.h"
#include "commands.h"
#include "encryption.h"
#include "error.h"
#include "hook.h"
#include "host.h"
#include "json.h"
#include "lock.h"
#include "log.h"
#include "metrics.h"
#include "progress.h"
#include "timefmt.h"

struct job_run {
	const struct job_config *job;
	struct loaded_plugin plugin;
	int ok;
	char id[ARC_ID_SIZE];
	char error[CAIRN_ERROR_MESSAGE_SIZE];
	uint64_t bytes;
	uint64_t stored;
	double duration;
	struct manifest manifest;
	/* NULL for a plain archive; else whom it is encrypted to. */
	const struct age_recipients *recipients;
	char sealed_sha256[SHA256_HEX_SIZE]; /* of the age file */
};

/*
 * A warning of the core's about the job it is backing up: logged, and
 * recorded with the plugin's (which come through the writer, host.c) in
 * the job's manifest, its result and JSON.
 */
static void job_warning(struct manifest *m, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static void
job_warning(struct manifest *m, const char *format, ...)
{
	char message[4096];
	va_list ap;

	va_start(ap, format);
	message_vformat(message, sizeof(message), format, ap);
	va_end(ap);
	log_warning("%s", message);
	manifest_add_warning(m, message);
}

static void
manifest_start(struct manifest *m, const struct job_run *run,
	       const char *run_id, const struct config *config)
{
	char host[256] = "";

	manifest_init(m);
	arc_id_new(m->id);
	memcpy(m->run, run_id, ARC_ID_SIZE);
	m->job = xstrdup(run->job->name);
	m->plugin = xstrdup(run->plugin.plugin.descriptor->name);
	m->plugin_version = xstrdup(
		run->plugin.plugin.descriptor->version
			? run->plugin.plugin.descriptor->version
			: "");
	gethostname(host, sizeof(host) - 1);
	m->host = xstrdup(host);
	m->cairn_version = xstrdup(PACKAGE_VERSION);
	m->started = timefmt_now();
	m->compressed = config->compression == COMPRESSION_ZSTD;
	m->level = config->level;
}

/* The job's newest complete archive, or NULL. */
static const struct catalog_record *
newest_archive(const struct catalog *catalog, const char *job)
{
	const struct catalog_record *best = NULL;
	size_t i;

	for (i = 0; i < catalog->count; i++) {
		const struct catalog_record *r = &catalog->records[i];

		if (strcmp(r->job, job) != 0 || r->missing ||
		    strcmp(r->status, "ok") != 0)
			continue;
		if (best == NULL || catalog_record_newer(r, best))
			best = r;
	}
	return best;
}

/* Whether verify found archive `id` of the chain damaged; warns if so. */
static int
chain_link_damaged(const struct repository *repo, const struct job_config *job,
		   struct manifest *m, const char *id)
{
	if (!chain_is_damaged(repo->path, job->name, id))
		return 0;
	job_warning(m,
		    "%s: archive '%s' of the chain was found damaged by "
		    "verify: this backup is a full one",
		    job->name, id);
	return 1;
}

/*
 * Whether full-every calls for a full backup, for a chain of `count`
 * archives whose full one is `full_id`, started at `full_started`; logs
 * why.
 */
static int
full_backup_due(const struct job_config *job, size_t count, const char *full_id,
		struct timespec full_started)
{
	struct timespec now = timefmt_now();

	if (job->full_every_count > 0 &&
	    count >= (size_t)job->full_every_count) {
		log_info("%s: %zu archives since the last full one "
			 "(full-every %d): a full backup",
			 job->name, count, job->full_every_count);
		return 1;
	}
	if (job->full_every_seconds > 0 &&
	    now.tv_sec - full_started.tv_sec >= job->full_every_seconds) {
		log_info("%s: the last full archive '%s' is older than "
			 "full-every: a full backup",
			 job->name, full_id);
		return 1;
	}
	return 0;
}

/* Whether the chain ending at the base may be built on; logs why not. */
static int
chain_usable(const struct repository *repo, const struct job_config *job,
	     struct manifest *m, const struct chain *chain)
{
	const struct manifest *full = chain->links[0].manifest;
	size_t i;

	for (i = 0; i < chain->count; i++)
		if (chain_link_damaged(repo, job, m,
				       chain->links[i].manifest->id))
			return 0;
	return !full_backup_due(job, chain->count, full->id, full->started);
}

/* The archive of `job` whose id is `id` in the catalogue, or NULL. */
static const struct catalog_record *
find_archive(const struct catalog *catalog, const char *job, const char *id)
{
	size_t i;

	for (i = 0; i < catalog->count; i++) {
		const struct catalog_record *r = &catalog->records[i];

		if (strcmp(r->job, job) == 0 && strcmp(r->id, id) == 0 &&
		    !r->missing && strcmp(r->status, "ok") == 0)
			return r;
	}
	return NULL;
}

/*
 * plan_base for an encrypted newest archive on a host without identity
 * (recipients only): the chain cannot be read, so what chain_usable
 * checks comes from the catalogue, and the view file must be there and
 * match, since it cannot be rebuilt. 1 when the backup may build on r.
 */
static int
plan_base_without_identity(const struct repository *repo,
			   const struct catalog *catalog,
			   const struct job_config *job, struct manifest *m,
			   const struct catalog_record *r,
			   struct backup_base *base)
{
	const struct catalog_record *full = r;
	struct cairn_error err;
	size_t count = 1;

	for (;;) {
		if (chain_link_damaged(repo, job, m, full->id))
			return 0;
		if (!full->incremental)
			break;
		full = find_archive(catalog, job->name, full->parent);
		if (full == NULL || ++count > CHAIN_LIMIT) {
			job_warning(m,
				    "%s: the chain of archive '%s' is not "
				    "whole in the catalogue: this backup is a "
				    "full one",
				    job->name, r->id);
			return 0;
		}
	}
	if (full_backup_due(job, count, full->id, full->created))
		return 0;
	if (view_reader_open(&base->reader, repo->path, job->name, r->id,
			     r->stored, &err) == 0) {
		job_warning(m,
			    "%s: the view of archive '%s' cannot be used (%s) "
			    "and it cannot be rebuilt from the encrypted "
			    "chain without an identity: this backup is a "
			    "full one",
			    job->name, r->id, err.message);
		return 0;
	}
	base->incremental = 1;
	memcpy(base->parent, r->id, ARC_ID_SIZE);
	base->started = r->created;
	return 1;
}

/*
 * Decides whether the job's backup may be an incremental one and opens
 * the view of its tree at the newest archive (rebuilt from the chain when
 * the local one is missing or stale). Anything wrong makes it a full one.
 */
static void
plan_base(const struct repository *repo, const struct catalog *catalog,
	  const struct job_config *job, struct manifest *m,
	  struct backup_base *base)
{
	const struct catalog_record *r;
	struct buf path = BUF_INIT;
	struct cairn_error err;
	struct chain chain;

	memset(base, 0, sizeof(*base));
	if (!job->incremental)
		return;
	r = newest_archive(catalog, job->name);
	if (r == NULL) {
		log_info("%s: no archive yet: a full backup", job->name);
		return;
	}
	if (!encryption_has_identity() &&
	    json_object_get(r->extra, "encryption") != NULL) {
		plan_base_without_identity(repo, catalog, job, m, r, base);
		return;
	}
	repository_path(repo, r->file, &path);
	if (chain_load(&chain, buf_str(&path), r->id, NULL, &err) != 0) {
		job_warning(m, "%s: %s: this backup is a full one", job->name,
			    err.message);
		buf_release(&path);
		return;
	}
	buf_release(&path);
	if (!chain_usable(repo, job, m, &chain))
		goto out;
	if (view_reader_open(&base->reader, repo->path, job->name, r->id,
			     r->stored, &err) == 0) {
		log_info("%s: rebuilding the view of archive '%s' from its "
			 "chain (%s)",
			 job->name, r->id, err.message);
		if (view_rebuild(repo->path, &chain, r->stored, &err) != 0 ||
		    view_reader_open(&base->reader, repo->path, job->name,
				     r->id, r->stored, &err) == 0) {
			job_warning(m,
				    "%s: cannot build on archive '%s': %s; "
				    "this backup is a full one",
				    job->name, r->id, err.message);
			goto out;
		}
	}
	base->incremental = 1;
	memcpy(base->parent, r->id, ARC_ID_SIZE);
	base->started = chain.links[chain.count - 1].manifest->started;
out:
	chain_release(&chain);
}

static void
view_record(void *context, const struct index_record *r)
{
	view_writer_add(context, r);
}

/* Writes the archive; 0 when it is committed. */
static int
write_archive(struct context *ctx, struct repository *repo,
	      const struct catalog *catalog, struct job_run *run,
	      struct buf *relative, struct cairn_error *err)
{
	const struct cairn_plugin *d = run->plugin.plugin.descriptor;
	struct buf temporary = BUF_INIT, directory = BUF_INIT, final = BUF_INIT;
	struct arc_writer writer;
	struct backup_base base;
	struct view_writer view;
	struct job_host host;
	int rc = -1, viewing = 0;

	plan_base(repo, catalog, run->job, &run->manifest, &base);
	memset(&view, 0, sizeof(view));

	if (repository_job_dir(repo, run->job->name, &directory, err) != 0)
		goto out;
	repository_archive_names(repo, run->job->name, run->manifest.id,
				 run->manifest.started.tv_sec, relative,
				 &temporary);
	if (run->recipients != NULL)
		buf_append_str(relative, ENCRYPTION_SUFFIX);
	repository_path(repo, buf_str(relative), &final);
	hook_set_partial(buf_str(&temporary));
	if (arc_writer_open(&writer, buf_str(&temporary), &run->manifest,
			    ctx->config.compression == COMPRESSION_ZSTD,
			    ctx->config.level, ctx->config.threads,
			    run->recipients, err) != 0)
		goto out;
	arc_writer_set_base(&writer, &base);
	if (run->job->incremental) {
		struct cairn_error view_err;

		viewing = view_writer_open(&view, repo->path, run->job->name,
					   run->manifest.id, &view_err) == 0;
		if (!viewing)
			job_warning(&run->manifest,
				    "%s: %s: the next backup is a full one",
				    run->job->name, view_err.message);
		else
			arc_writer_on_record(&writer, view_record, &view);
	}
	job_host_init(&host, run->job->name);
	host.writer = &writer;
	error_clear(err);
	if (d->backup(run->plugin.state, &host.host, host_sink(&writer), err) !=
	    0) {
		/* The writer's own failure says more than the plugin's. */
		if (arc_writer_error(&writer) != NULL &&
		    err->message[0] == '\0')
			*err = *arc_writer_error(&writer);
		if (err->message[0] == '\0')
			error_set(err, "plugin '%s' failed without saying why",
				  d->name);
		arc_writer_abort(&writer);
		goto out;
	}
	if (base.used) {
		run->manifest.incremental = 1;
		memcpy(run->manifest.parent, base.parent, ARC_ID_SIZE);
	}
	if (arc_writer_commit(&writer, buf_str(&final), &run->stored, err) != 0)
		goto out;
	memcpy(run->sealed_sha256, arc_writer_sealed_sha256(&writer),
	       sizeof(run->sealed_sha256));
	run->bytes = run->manifest.bytes;
	rc = 0;
	if (viewing) {
		struct cairn_error view_err;

		viewing = 0;
		if (view_writer_commit(&view, run->stored, &view_err) != 0)
			job_warning(&run->manifest,
				    "%s: %s: the next backup rebuilds it",
				    run->job->name, view_err.message);
	}
out:
	if (viewing)
		view_writer_abort(&view);
	if (base.incremental)
		view_reader_close(&base.reader);
	hook_set_partial(NULL);
	buf_release(&temporary);
	buf_release(&directory);
	buf_release(&final);
	return rc;
}

static void
run_job(struct context *ctx, struct repository *repo, struct catalog *catalog,
	struct job_run *run, const char *run_id)
{
	struct buf relative = BUF_INIT;
	struct catalog_record record;
	struct cairn_error err;
	int committed = 0;

	manifest_start(&run->manifest, run, run_id, &ctx->config);
	memcpy(run->id, run->manifest.id, ARC_ID_SIZE);
	log_info("%s: starting (%s)", run->job->name,
		 run->plugin.plugin.descriptor->name);
	progress_start(run->job->name);
	error_clear(&err);
	/* From here on `after` is owed, even if `before` fails. */
	if (run->job->before != NULL || run->job->after != NULL)
		hook_arm(run->job->name, run->job->after);
	if (run->job->before != NULL &&
	    hook_run(run->job->before, run->job->name, "running", &err) != 0) {
		error_prefix(&err, "'before' hook");
		goto done;
	}
	committed = write_archive(ctx, repo, catalog, run, &relative, &err) ==
		    0;
done:
	progress_finish();
	if (committed) {
		catalog_record_from_manifest(&record, &run->manifest,
					     buf_str(&relative), run->stored);
		if (run->recipients != NULL)
			encryption_record_set(&record, run->recipients,
					      run->sealed_sha256);
		catalog_add(catalog, &record);
		if (catalog_save(catalog, repo->path, &err) != 0) {
			/* The archive is durable and will be found again. */
			log_warning("%s: %s", run->job->name, err.message);
			error_clear(&err);
		}
	}
	run->ok = committed;
	if (!committed)
		memcpy(run->error, err.message, sizeof(run->error));
	if (hook_run_after(committed ? "ok" : "failed", &err) != 0) {
		run->ok = 0;
		error_prefix(&err, "'after' hook");
		memcpy(run->error, err.message, sizeof(run->error));
	}
	run->duration = timefmt_seconds_between(run->manifest.started,
						timefmt_now());
	buf_release(&relative);
}

static void
report_run(const struct job_run *run)
{
	char bytes[32], stored[32], duration[32];

	format_bytes(run->bytes, bytes, sizeof(bytes));
	format_bytes(run->stored, stored, sizeof(stored));
	timefmt_duration(run->duration, duration, sizeof(duration));
	if (run->ok)
		log_info("%s: ok, archive %s, %llu entries, %s (%s stored) "
			 "in %s, %zu warnings",
			 run->job->name, run->id,
			 (unsigned long long)run->manifest.entries, bytes,
			 stored, duration, run->manifest.warning_count);
	else
		log_error("%s: failed: %s", run->job->name, run->error);
}

static void
print_json(const struct job_run *runs, size_t count)
{
	struct json_value *array = json_new_array();
	size_t i, w;

	for (i = 0; i < count; i++) {
		const struct job_run *run = &runs[i];
		struct json_value *o = json_new_object();
		struct json_value *warnings = json_new_array();

		json_object_set_string(o, "job", run->job->name);
		json_object_set_string(o, "status", run->ok ? "ok" : "failed");
		if (run->ok)
			json_object_set_string(o, "id", run->id);
		else
			json_object_set_string(o, "error", run->error);
		json_object_set_int64(o, "bytes", (int64_t)run->bytes);
		json_object_set_int64(o, "stored", (int64_t)run->stored);
		json_object_set(o, "duration", json_new_double(run->duration));
		for (w = 0; w < run->manifest.warning_count; w++)
			json_array_append(warnings,
					  json_new_string(
						  run->manifest.warnings[w]));
		json_object_set(o, "warnings", warnings);
		json_array_append(array, o);
	}
	output_json(array);
}

static void
print_table(const struct job_run *runs, size_t count)
{
	size_t i;

	printf("%-20s %-7s %-36s %10s %10s %9s %s\n", "JOB", "STATUS", "ID",
	       "BYTES", "STORED", "SECONDS", "WARNINGS");
	for (i = 0; i < count; i++) {
		char bytes[32], stored[32];

		format_bytes(runs[i].bytes, bytes, sizeof(bytes));
		format_bytes(runs[i].stored, stored, sizeof(stored));
		printf("%-20s %-7s %-36s %10s %10s %9.1f %zu\n",
		       runs[i].job->name, runs[i].ok ? "ok" : "failed",
		       runs[i].ok ? runs[i].id : "-", bytes, stored,
		       runs[i].duration, runs[i].manifest.warning_count);
	}
}

/* The jobs named on the command line, or all of them. */
static int
select_jobs(struct context *ctx, struct job_run **runs, size_t *count)
{
	struct options *o = ctx->options;
	size_t i;

	*count = o->arg_count ? o->arg_count : ctx->config.job_count;
	*runs = xcalloc(*count, sizeof(**runs));
	if (*count == 0) {
		log_error("'%s' defines no job", ctx->config.file);
		return EXIT_CONFIG;
	}
	for (i = 0; i < *count; i++) {
		const struct job_config *job =
			o->arg_count ? config_find_job(&ctx->config, o->args[i])
				     : &ctx->config.jobs[i];

		if (job == NULL) {
			log_error("no job '%s' in '%s'", o->args[i],
				  ctx->config.file);
			return EXIT_NOT_FOUND;
		}
		(*runs)[i].job = job;
	}
	return EXIT_OK;
}

/* Offsite copies of what this run committed (targets with copy = auto). */
static int
copy_after_backup_runs(struct context *ctx, struct repository *repo,
		       struct catalog *catalog, const struct job_run *runs,
		       size_t count)
{
	char(*ids)[ARC_ID_SIZE] = xcalloc(count + 1, sizeof(*ids));
	size_t i, n = 0;
	int rc;

	for (i = 0; i < count; i++)
		if (runs[i].ok)
			memcpy(ids[n++], runs[i].id, ARC_ID_SIZE);
	rc = n > 0 ? copy_after_backup(ctx, repo, catalog,
				       (const char(*)[ARC_ID_SIZE])ids, n)
		   : 0;
	free(ids);
	return rc;
}

int
cmd_backup(struct context *ctx)
{
	struct job_run *runs = NULL;
	struct repository repo = {NULL};
	struct catalog catalog = {NULL, 0, 0, 0};
	struct repo_lock lock = {-1};
	char run_id[ARC_ID_SIZE];
	struct age_recipients recipients = {0};
	size_t count = 0, i, failed = 0;
	int status;

	status = select_jobs(ctx, &runs, &count);
	if (status == EXIT_OK && encryption_enabled(&ctx->config)) {
		struct cairn_error err;

		if (encryption_load_recipients(&ctx->config, &recipients,
					       &err) != 0) {
			log_error("%s", err.message);
			status = EXIT_CONFIG;
		}
		for (i = 0; i < count; i++)
			runs[i].recipients = &recipients;
	}
	for (i = 0; i < count && status == EXIT_OK; i++)
		status = context_load_plugin(ctx, runs[i].job, NULL, NULL,
					     &runs[i].plugin);
	if (status != EXIT_OK)
		goto out;
	status = context_open_catalog_locked(ctx, &repo, &catalog, 1, &lock);
	if (status != EXIT_OK)
		goto out;
	repository_remove_partials(&repo);
	arc_id_new(run_id);
	for (i = 0; i < count; i++) {
		run_job(ctx, &repo, &catalog, &runs[i], run_id);
		report_run(&runs[i]);
		metrics_record_attempt(&repo, runs[i].job->name, runs[i].ok,
				       runs[i].manifest.started,
				       runs[i].duration, runs[i].error);
		failed += !runs[i].ok;
	}
	if (copy_after_backup_runs(ctx, &repo, &catalog, runs, count) != 0)
		failed++;
	metrics_update(ctx, &repo, &catalog);
	if (ctx->options->json)
		print_json(runs, count);
	else if (isatty(STDOUT_FILENO) || ctx->options->verbosity > 0)
		print_table(runs, count);
	status = failed ? EXIT_JOB_FAILED : EXIT_OK;
out:
	lock_release(&lock);
	for (i = 0; i < count; i++) {
		context_release_plugin(&runs[i].plugin);
		if (runs[i].manifest.facts != NULL)
			manifest_release(&runs[i].manifest);
	}
	free(runs);
	age_recipients_release(&recipients);
	catalog_release(&catalog);
	repository_release(&repo);
	return status;
}
