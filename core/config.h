/*
 * The configuration file (INI, parsed with inih): the [repository] and
 * [retention] sections, and one job per other section. Every error names
 * the file, the line, the section and the key, and a configuration with
 * any error is refused whole.
 *
 * Ownership: config_load fills a struct config that owns every string and
 * array in it; release it with config_release.
 */
#ifndef CAIRN_CONFIG_H
#define CAIRN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <cairn/plugin.h>

struct offsite_target;

enum compression {
	COMPRESSION_ZSTD,
	COMPRESSION_NONE,
};

/* A retention policy; -1 means "not set here" (inherit). */
struct retention {
	int keep_last;
	int keep_hourly;
	int keep_daily;
	int keep_weekly;
	int keep_monthly;
	int keep_yearly;
	int64_t keep_within; /* seconds */
};

struct job_config {
	char *name;
	int line; /* of the section header */
	char *plugin;
	char *before;
	char *after;
	int64_t max_age; /* seconds, 0 = not checked */
	/*
	 * Incremental backups: build on the previous archive; a full one at
	 * least every full_every_seconds, or every full_every_count
	 * archives (0: never forced).
	 */
	int incremental;
	int64_t full_every_seconds;
	int full_every_count;
	struct retention retention;
	/* The plugin's settings; their keys and values point into strings. */
	struct cairn_setting *settings;
	size_t setting_count;
	/* Owned: every key and value of settings, freed by config_release. */
	char **strings;
	size_t string_count;
};

/* [encryption]: each string NULL (count 0) when unset; lines for errors. */
struct encryption_config {
	char **recipients; /* age1... public keys, syntax checked */
	size_t recipient_count;
	int recipients_line;
	char *recipients_file;
	int recipients_file_line;
	char *identity_file;
	int identity_file_line;
	char *passphrase_file;
	int passphrase_file_line;
};

struct config {
	char *file;
	char *repository; /* [repository] path, NULL when unset */
	int repository_line;
	enum compression compression;
	int level;
	int threads;
	char *plugin_dir; /* NULL: the built-in default */
	char *metrics;	  /* NULL: no metrics file */
	int log_syslog;
	struct retention retention;
	struct encryption_config encryption;
	struct job_config *jobs;
	size_t job_count;
	/* [offsite NAME] sections (offsite_config.h). */
	struct offsite_target *offsites;
	size_t offsite_count;
};

/*
 * Loads `path`. A missing file is an error unless `missing_ok`, in which
 * case an empty configuration results (for commands given -r that need no
 * jobs). 0 or -1 with err naming file, line, section and key.
 */
int config_load(struct config *config, const char *path, int missing_ok,
		struct cairn_error *err);
void config_release(struct config *config);

/* The job named `name`, or NULL. */
struct job_config *config_find_job(const struct config *config,
				   const char *name);

/* The value of a job's plugin setting, or NULL. */
const char *config_job_setting(const struct job_config *job, const char *key);

/* The job's policy: its own keys over [retention]'s over the defaults. */
struct retention config_effective_retention(const struct config *config,
					    const struct job_config *job);

/* Whether `key` is one the core reserves in a job section. */
int config_is_core_job_key(const char *key);

#endif
