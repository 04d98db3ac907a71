/*
 * The shared steps of the commands, context.h.
 */
#include "context.h"

#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arc_id.h"
#include "buf.h"
#include "commands.h"
#include "encryption.h"
#include "error.h"
#include "host.h"
#include "json.h"
#include "log.h"
#include "offsite_read.h"

int
context_open(struct context *ctx, struct options *o)
{
	struct cairn_error err;
	const char *path = o->config, *from_env;
	int explicit_path = path != NULL;
	struct stat st;

	memset(ctx, 0, sizeof(*ctx));
	ctx->options = o;
	if (path == NULL && (from_env = getenv("CAIRN_CONFIG")) != NULL &&
	    from_env[0] != '\0') {
		path = getenv("CAIRN_CONFIG");
		explicit_path = 1;
	}
	if (path == NULL)
		path = SYSCONFDIR "/cairn/cairn.conf";
	/*
	 * With -r, a command may run without any configuration; so may
	 * `plugins`, which checks an installation before it is configured.
	 */
	if (config_load(&ctx->config, path,
			!explicit_path && (o->repository != NULL ||
					   o->command == COMMAND_PLUGINS),
			&err) != 0) {
		log_error("%s", err.message);
		return EXIT_CONFIG;
	}
	/* It names the secret files and the hooks that run as root. */
	if (stat(path, &st) == 0 && (st.st_mode & 026) != 0)
		log_warning("configuration '%s' is readable by others or "
			    "writable by group (mode %04o): chmod 640 it",
			    path, (unsigned int)(st.st_mode & 07777));
	if (ctx->config.log_syslog)
		log_set_destination(LOG_TO_SYSLOG);
	ctx->repository_path = o->repository ? o->repository
					     : ctx->config.repository;
	encryption_use_config(&ctx->config);
	ctx->plugin_dir = getenv("CAIRN_PLUGIN_DIR");
	if (ctx->plugin_dir == NULL || ctx->plugin_dir[0] == '\0')
		ctx->plugin_dir = ctx->config.plugin_dir
					  ? ctx->config.plugin_dir
					  : PLUGINDIR;
	return EXIT_OK;
}

void
context_release(struct context *ctx)
{
	encryption_release();
	config_release(&ctx->config);
}

static int
open_repository(struct context *ctx, struct repository *repo, int create)
{
	struct cairn_error err;
	int rc;

	if (ctx->repository_path == NULL) {
		log_error("no repository: give -r DIR or set [repository] path "
			  "in '%s'",
			  ctx->config.file);
		return EXIT_CONFIG;
	}
	rc = repository_open(repo, ctx->repository_path, create, &err);
	if (rc != 0) {
		log_error("%s", err.message);
		return rc > 0 ? EXIT_NOT_FOUND : EXIT_JOB_FAILED;
	}
	return EXIT_OK;
}

/* Loads the catalogue of an open repository; releases it on failure. */
static int
load_catalog(struct repository *repo, struct catalog *catalog)
{
	struct reconcile_outcome outcome;
	struct cairn_error err;

	if (catalog_load(catalog, repo->path, &err) != 0) {
		log_error("%s", err.message);
		repository_release(repo);
		return EXIT_DAMAGED;
	}
	if (catalog->recovered_from_copy)
		log_warning("the catalogue of '%s' was damaged: using its copy",
			    repo->path);
	repository_reconcile(repo, catalog, &outcome);
	return EXIT_OK;
}

int
context_open_catalog(struct context *ctx, struct repository *repo,
		     struct catalog *catalog, int create)
{
	int status;

	memset(catalog, 0, sizeof(*catalog));
	status = open_repository(ctx, repo, create);
	if (status != EXIT_OK)
		return status;
	return load_catalog(repo, catalog);
}

int
context_open_catalog_locked(struct context *ctx, struct repository *repo,
			    struct catalog *catalog, int create,
			    struct repo_lock *lock)
{
	struct cairn_error err;
	int status, locked;

	memset(catalog, 0, sizeof(*catalog));
	lock->fd = -1;
	status = open_repository(ctx, repo, create);
	if (status != EXIT_OK)
		return status;
	locked = lock_acquire(lock, repo->path, ctx->options->wait, &err);
	if (locked != 0) {
		log_error("%s", err.message);
		repository_release(repo);
		return locked > 0 ? EXIT_LOCKED : EXIT_JOB_FAILED;
	}
	status = load_catalog(repo, catalog);
	if (status != EXIT_OK)
		lock_release(lock);
	return status;
}

int
context_resolve(struct context *ctx, const struct catalog *catalog,
		const char *spec, size_t *index)
{
	struct cairn_error err;

	(void)ctx;
	switch (arc_id_resolve(catalog, spec, index, &err)) {
	case ARC_ID_FOUND:
		return EXIT_OK;
	case ARC_ID_INVALID:
		log_error("%s", err.message);
		return EXIT_USAGE;
	default:
		log_error("%s", err.message);
		return EXIT_NOT_FOUND;
	}
}

static void
log_setting_error(const struct config *config, const struct job_config *job,
		  const struct cairn_error *err)
{
	if (err->setting != NULL)
		log_error("%s:%d: [%s] %s: %s", config->file,
			  err->setting->line, job->name, err->setting->key,
			  err->message);
	else
		log_error("%s:%d: [%s]: %s", config->file, job->line, job->name,
			  err->message);
}

int
context_load_plugin(struct context *ctx, const struct job_config *job,
		    const char *job_name, const char *plugin_name,
		    struct loaded_plugin *lp)
{
	struct cairn_job_config jc;
	struct job_host host;
	struct cairn_error err;
	size_t i;

	memset(lp, 0, sizeof(*lp));
	memset(&jc, 0, sizeof(jc));
	error_clear(&err);
	if (plugin_loader_open_named(&lp->plugin, ctx->plugin_dir,
				     job ? job->plugin : plugin_name,
				     &err) != 0) {
		if (job != NULL)
			log_error("%s:%d: [%s] plugin: %s", ctx->config.file,
				  job->line, job->name, err.message);
		else
			log_error("%s", err.message);
		return EXIT_CONFIG;
	}
	if (job != NULL) {
		for (i = 0; i < job->setting_count; i++)
			if (!plugin_accepts_key(&lp->plugin,
						job->settings[i].key)) {
				log_error("%s:%d: [%s] %s: unknown key for "
					  "plugin '%s'",
					  ctx->config.file,
					  job->settings[i].line, job->name,
					  job->settings[i].key, job->plugin);
				plugin_loader_close(&lp->plugin);
				return EXIT_CONFIG;
			}
		jc.job = job->name;
		jc.section_line = job->line;
		jc.settings = job->settings;
		jc.count = job->setting_count;
	} else {
		jc.job = job_name;
		jc.restore_only = 1;
	}
	jc.file = ctx->config.file;
	job_host_init(&host, jc.job);
	if (lp->plugin.descriptor->configure(&host.host, &jc, &lp->state,
					     &err) != 0) {
		if (job != NULL)
			log_setting_error(&ctx->config, job, &err);
		else
			log_error("job '%s' (plugin '%s'): %s", job_name,
				  plugin_name, err.message);
		plugin_loader_close(&lp->plugin);
		return EXIT_CONFIG;
	}
	return EXIT_OK;
}

void
context_release_plugin(struct loaded_plugin *lp)
{
	if (lp->plugin.descriptor != NULL && lp->state != NULL)
		lp->plugin.descriptor->release(lp->state);
	lp->state = NULL;
	plugin_loader_close(&lp->plugin);
}

int
context_run_on_archive(struct context *ctx, const char *spec,
		       arc_command command)
{
	struct repository repo;
	struct catalog catalog;
	struct buf path = BUF_INIT;
	size_t index;
	int status;

	if (ctx->options->from != NULL)
		return offsite_run_on_archive(ctx, spec, command);
	status = context_open_catalog(ctx, &repo, &catalog, 0);
	if (status != EXIT_OK)
		return status;
	status = context_resolve(ctx, &catalog, spec, &index);
	if (status == EXIT_OK) {
		repository_path(&repo, catalog.records[index].file, &path);
		status = command(ctx, buf_str(&path), &catalog.records[index]);
	}
	buf_release(&path);
	catalog_release(&catalog);
	repository_release(&repo);
	return status;
}

int
context_arc_open(struct context *ctx, struct arc **a, const char *path,
		 const struct catalog_record *r, struct cairn_error *err)
{
	if (ctx->remote != NULL)
		return offsite_arc_open(ctx->remote, a, path, r, NULL, err);
	return arc_open(a, path, r->id, err);
}

void
output_json(struct json_value *value)
{
	char *text = json_serialize(value, JSON_PRETTY, NULL);

	if (text != NULL)
		printf("%s\n", text);
	free(text);
	json_free(value);
}

void
format_bytes(unsigned long long bytes, char *out, size_t size)
{
	static const char *const units[] = {"B",   "KiB", "MiB",
					    "GiB", "TiB", "PiB"};
	double value = (double)bytes;
	size_t unit = 0;

	while (value >= 1024 && unit + 1 < sizeof(units) / sizeof(*units)) {
		value /= 1024;
		unit++;
	}
	if (unit == 0)
		snprintf(out, size, "%llu B", bytes);
	else
		snprintf(out, size, "%.1f %s", value, units[unit]);
}
