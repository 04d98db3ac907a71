/*
 * What every command starts from: the parsed options, the configuration
 * (found through -c, $CAIRN_CONFIG or the default path), the repository
 * path (-r over [repository] path) and the plugin directory
 * ($CAIRN_PLUGIN_DIR over [repository] plugin-dir over the built-in one),
 * and the steps several commands share. Functions returning int return an
 * exit status of commands.h, having logged why.
 */
#ifndef CAIRN_CONTEXT_H
#define CAIRN_CONTEXT_H

#include <stddef.h>

struct json_value;

#include "catalog.h"
#include "config.h"
#include "lock.h"
#include "options.h"
#include "plugin_loader.h"
#include "repository.h"

struct offsite;
struct arc;
struct chain_opener;

struct context {
	struct options *options;
	struct config config;
	const char *repository_path; /* not owned */
	const char *plugin_dir;	     /* not owned */
	/* --from NAME: the target archives are read from (not owned). */
	struct offsite *remote;
	/* With --from, how the archives of an incremental chain are opened
	 * on the target (not owned); NULL: beside the newest, locally. */
	const struct chain_opener *chain_opener;
};

/* Loads the configuration. */
int context_open(struct context *ctx, struct options *o);
void context_release(struct context *ctx);

/*
 * Opens the repository and its catalogue, adding archives that the
 * catalogue lost (in memory; saved only by commands holding the lock).
 * `create`: create the repository when missing.
 */
int context_open_catalog(struct context *ctx, struct repository *repo,
			 struct catalog *catalog, int create);

/*
 * The same for a command that writes: takes the repository lock (waiting
 * --wait seconds) before it reads the catalogue, so that what it saves
 * holds everything the previous holder committed or removed. On success
 * the caller releases the lock; on failure it is not held (EXIT_LOCKED
 * when another cairn holds it).
 */
int context_open_catalog_locked(struct context *ctx, struct repository *repo,
				struct catalog *catalog, int create,
				struct repo_lock *lock);

/* Resolves an archive id given on the command line. */
int context_resolve(struct context *ctx, const struct catalog *catalog,
		    const char *spec, size_t *index);

/*
 * A job's plugin, loaded and configured. `job` may be NULL for an archive
 * whose job left the configuration: `plugin_name` is then loaded and
 * configured restore-only, under the archive's job name `job_name`.
 * Release with context_release_plugin.
 */
struct loaded_plugin {
	struct plugin plugin;
	void *state;
};
int context_load_plugin(struct context *ctx, const struct job_config *job,
			const char *job_name, const char *plugin_name,
			struct loaded_plugin *lp);
void context_release_plugin(struct loaded_plugin *lp);

/*
 * Opens the catalogue, resolves the archive `spec` and calls `command`
 * with the archive's path and record; returns the command's status, or
 * the status of what failed before it.
 */
typedef int (*arc_command)(struct context *ctx, const char *path,
			   const struct catalog_record *record);
int context_run_on_archive(struct context *ctx, const char *spec,
			   arc_command command);

/*
 * Opens the archive of record `r` for reading: the file at `path`, or,
 * with --from, the object `path` on ctx->remote, streamed (no local
 * copy). The one call cat and restore open an archive with.
 */
int context_arc_open(struct context *ctx, struct arc **a, const char *path,
		     const struct catalog_record *r, struct cairn_error *err);

/* Prints `value` as pretty JSON on stdout, then frees it. */
void output_json(struct json_value *value);

/* Formats byte counts for tables: "1.5 GiB". */
void format_bytes(unsigned long long bytes, char *out, size_t size);

#endif
