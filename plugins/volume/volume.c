/*
 * The volume plugin: backs up directory trees (Docker volumes, data
 * directories) with their full metadata and restores them.
 *
 * Each archive entry is one file, named by its absolute path without the
 * leading '/', as tar does, with its type, permissions, numeric owners
 * and their names, nanosecond times, symlink target or first hard link,
 * data regions of a sparse file, extended attributes and POSIX ACLs.
 * volume.h says which file does what; this one holds the descriptor,
 * configure and release, and the small helpers every file uses.
 */
#include "autoconfig.h"

#include "volume.h"

#include <cairn/helpers.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const volume_keys[] = {
	"paths",
	"exclude",
	"one-file-system",
	NULL,
};

void
volume_error(struct cairn_error *err, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	cairn_error_vset(err, format, ap);
	va_end(ap);
}

int
volume_grow(void **block, size_t *capacity, size_t needed, size_t size)
{
	size_t wanted = *capacity > 0 ? *capacity : 16;
	void *grown;

	if (needed <= *capacity)
		return 0;
	while (wanted < needed) {
		if (wanted > SIZE_MAX / 2 / size)
			return -1;
		wanted *= 2;
	}
	grown = realloc(*block, wanted * size);
	if (grown == NULL)
		return -1;
	*block = grown;
	*capacity = wanted;
	return 0;
}

void
volume_progress(const struct cairn_host *host, const char *current,
		int64_t done, int64_t total)
{
	if (host->progress != NULL)
		host->progress(host, current, done, total);
}

static void
volume_free(struct volume *vol)
{
	if (vol == NULL)
		return;
	free(vol->job);
	volume_free_words(vol->paths, vol->path_count);
	volume_free_words(vol->excludes, vol->exclude_count);
	free(vol);
}

static int
volume_boolean(const char *value, int *result)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*result = 1;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*result = 0;
			return 0;
		}
	}
	return -1;
}

static int
volume_compare_paths(const void *a, const void *b)
{
	return volume_name_compare(*(const char *const *)a,
				   *(const char *const *)b);
}

static int
volume_configure_paths(struct volume *vol, const struct cairn_setting *s,
		       struct cairn_error *err)
{
	size_t first = vol->path_count, i, j;

	if (volume_split(s->value, &vol->paths, &vol->path_count, err) == -1)
		return -1;
	if (vol->path_count == first) {
		volume_error(err, "'paths' names no directory");
		return -1;
	}
	for (i = first; i < vol->path_count; i++) {
		char *path = vol->paths[i];

		if (volume_normalise(path, err) == -1)
			return -1;
		if (strncmp(path, "/.cairn", 7) == 0) {
			volume_error(err,
				     "path '%s' starts with '.cairn', a name "
				     "reserved for the archive's own entries",
				     path);
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (volume_inside(vol->paths[j], path) ||
			    volume_inside(path, vol->paths[j])) {
				volume_error(err, "paths '%s' and '%s' overlap",
					     vol->paths[j], path);
				return -1;
			}
		}
	}
	/* Entries in chain order whatever the order of the paths, so an
	 * incremental backup can merge the walk with its base. */
	qsort(vol->paths, vol->path_count, sizeof(*vol->paths),
	      volume_compare_paths);
	return 0;
}

static int
volume_configure(const struct cairn_host *host,
		 const struct cairn_job_config *config, void **state,
		 struct cairn_error *err)
{
	const struct cairn_setting *paths = NULL;
	struct volume *vol;
	size_t i;

	(void)host;
	*state = NULL;
	vol = calloc(1, sizeof(*vol));
	if (vol == NULL ||
	    (vol->job = strdup(config->job ? config->job : "")) == NULL) {
		volume_error(err, "out of memory");
		goto fail;
	}
	vol->restore_only = config->restore_only;
	for (i = 0; i < config->count; i++) {
		const struct cairn_setting *s = &config->settings[i];

		err->setting = s;
		if (strcmp(s->key, "paths") == 0) {
			paths = s;
			if (volume_configure_paths(vol, s, err) == -1)
				goto fail;
		} else if (strcmp(s->key, "exclude") == 0) {
			if (volume_split(s->value, &vol->excludes,
					 &vol->exclude_count, err) == -1)
				goto fail;
		} else if (strcmp(s->key, "one-file-system") == 0) {
			if (volume_boolean(s->value, &vol->one_file_system) ==
			    -1) {
				volume_error(err,
					     "'one-file-system' must be yes or "
					     "no, not '%s'",
					     s->value);
				goto fail;
			}
		} else {
			volume_error(err, "unknown key '%s'", s->key);
			goto fail;
		}
	}
	err->setting = NULL;
	if (paths == NULL && !config->restore_only) {
		volume_error(err, "job '%s' has no 'paths' key", vol->job);
		goto fail;
	}
	*state = vol;
	return 0;
fail:
	volume_free(vol);
	return -1;
}

static void
volume_release(void *state)
{
	volume_free(state);
}

const struct cairn_plugin cairn_plugin_entry = {
	.abi_version = CAIRN_PLUGIN_ABI_VERSION,
	.name = "volume",
	.version = PACKAGE_VERSION,
	.description = "directory trees with their full metadata",
	.keys = volume_keys,
	.configure = volume_configure,
	.check = volume_check,
	.backup = volume_backup,
	.restore = volume_restore,
	.drill = volume_drill,
	.release = volume_release,
};
