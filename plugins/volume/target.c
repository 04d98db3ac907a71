/*
 * Where a restore may write, and which entry names it takes.
 *
 * A restore goes into a directory given with --to, which must be empty
 * unless --force says otherwise (a missing one is created), or, with
 * --force alone, back over the live directories: then only under the
 * paths the archive was made of. Whatever the target, an entry whose
 * name or hard link target is absolute or has a ".." component is
 * refused here, before libarchive sees it: an archive is data from
 * outside, and one such name stops the restore.
 */
#include "autoconfig.h"

#include "volume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Whether a name is relative and free of ".." components. */
static int
volume_name_safe(const char *name)
{
	const char *p = name;

	if (name == NULL || name[0] == '\0' || name[0] == '/')
		return 0;
	while (*p != '\0') {
		size_t length = strcspn(p, "/");

		if (length == 2 && p[0] == '.' && p[1] == '.')
			return 0;
		p += length;
		while (*p == '/')
			p++;
	}
	return 1;
}

/* Whether `name` is under one of the archived roots (restoring in place). */
static int
volume_under_roots(const struct volume_restore *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->root_count; i++) {
		size_t length = strlen(r->roots[i]);

		if (length == 0 ||
		    (strncmp(r->roots[i], name, length) == 0 &&
		     (name[length] == '\0' || name[length] == '/')))
			return 1;
	}
	return 0;
}

int
volume_target_vet(struct volume_restore *r, const struct cairn_entry *e)
{
	if (!volume_name_safe(e->name)) {
		volume_error(r->err,
			     "refusing entry '%s': its name is absolute or "
			     "climbs out with '..'",
			     e->name != NULL ? e->name : "");
		return -1;
	}
	if (e->type == CAIRN_ENTRY_HARDLINK && !volume_name_safe(e->link)) {
		volume_error(r->err,
			     "refusing hard link '%s' to '%s': the target "
			     "is absolute or climbs out with '..'",
			     e->name, e->link != NULL ? e->link : "");
		return -1;
	}
	if (r->options->target == NULL && (!volume_under_roots(r, e->name) ||
					   (e->type == CAIRN_ENTRY_HARDLINK &&
					    !volume_under_roots(r, e->link)))) {
		volume_error(r->err,
			     "refusing entry '%s': it is outside the paths "
			     "the archive was made of",
			     e->name);
		return -1;
	}
	return 0;
}

/* Creates `path` and missing parents with mode 0700. */
static int
volume_mkdirs(const char *path, struct cairn_error *err)
{
	char copy[PATH_MAX];
	char *p;
	int n;

	n = snprintf(copy, sizeof(copy), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(copy)) {
		volume_error(err, "target '%s' is too long", path);
		return -1;
	}
	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) == -1 && errno != EEXIST) {
			volume_error(err, "cannot create directory '%s': %s",
				     copy, strerror(errno));
			return -1;
		}
		*p = '/';
	}
	if (mkdir(copy, 0700) == -1 && errno != EEXIST) {
		volume_error(err, "cannot create directory '%s': %s", copy,
			     strerror(errno));
		return -1;
	}
	return 0;
}

/* 1 when the directory is empty, 0 when not, -1 on error. */
static int
volume_empty(const char *path)
{
	struct dirent *d;
	DIR *dir;
	int empty = 1;

	dir = opendir(path);
	if (dir == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") != 0 &&
		    strcmp(d->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	closedir(dir);
	return empty;
}

int
volume_target_prepare(const struct cairn_restore_options *options,
		      const char *job, int *fd, struct cairn_error *err)
{
	const char *target = options->target;
	struct stat st;
	int empty;

	*fd = -1;
	if (target == NULL) {
		if (!options->force) {
			volume_error(err,
				     "restoring job '%s' without --to writes "
				     "over its live directories: give --to "
				     "DIR, or --force",
				     job);
			return -1;
		}
		target = "/";
	} else if (target[0] == '\0') {
		volume_error(err, "empty restore target");
		return -1;
	} else if (stat(target, &st) == -1) {
		if (errno != ENOENT) {
			volume_error(err, "cannot use target '%s': %s", target,
				     strerror(errno));
			return -1;
		}
		if (options->dry_run)
			return 0;
		if (volume_mkdirs(target, err) == -1)
			return -1;
	} else if (!S_ISDIR(st.st_mode)) {
		volume_error(err, "target '%s' is not a directory", target);
		return -1;
	} else if (!options->force) {
		empty = volume_empty(target);
		if (empty == -1) {
			volume_error(err, "cannot read target '%s': %s", target,
				     strerror(errno));
			return -1;
		}
		if (!empty) {
			volume_error(err,
				     "target '%s' is not empty (use --force "
				     "to restore into it anyway)",
				     target);
			return -1;
		}
	}
	*fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd == -1) {
		volume_error(err, "cannot open target '%s': %s", target,
			     strerror(errno));
		return -1;
	}
	return 0;
}

int
volume_target_roots(struct volume_restore *r)
{
	const char *fact = r->host->fact_get(r->source, "paths");
	size_t i;

	if (fact != NULL) {
		if (volume_split(fact, &r->roots, &r->root_count, r->err) == -1)
			return -1;
	} else {
		for (i = 0; i < r->vol->path_count; i++)
			if (volume_append_word(&r->roots, &r->root_count,
					       r->vol->paths[i],
					       strlen(r->vol->paths[i])) == -1)
				goto nomem;
	}
	if (r->root_count == 0) {
		volume_error(r->err,
			     "job '%s': the archive names no paths to "
			     "restore into; give --to DIR",
			     r->vol->job);
		return -1;
	}
	for (i = 0; i < r->root_count; i++) {
		char *root = r->roots[i];

		if (volume_normalise(root, r->err) == -1)
			return -1;
		memmove(root, root + 1, strlen(root));
	}
	return 0;
nomem:
	volume_error(r->err, "out of memory");
	return -1;
}
