/*
 * The repository directory:
 *
 *     REPO/                      mode 0700
 *       lock                     see lock.h
 *       catalog, catalog.copy    see catalog.h
 *       archives/JOB/STAMP-ID.tar.zst        mode 0600
 *       archives/JOB/.ID.partial             an archive being written
 *
 * An archive is written under its partial name and renamed when complete;
 * partial files are removed by the next process that holds the lock.
 */
#ifndef CAIRN_REPOSITORY_H
#define CAIRN_REPOSITORY_H

#include <time.h>

#include <cairn/plugin.h>

#include "buf.h"
#include "catalog.h"

struct repository {
	char *path;
};

/*
 * Opens the repository at `path`, creating it (0700) when `create` is set.
 * Returns 0, -1 on error, or 1 when it does not exist and create is 0.
 */
int repository_open(struct repository *repo, const char *path, int create,
		    struct cairn_error *err);
void repository_release(struct repository *repo);

/*
 * The directory of a job's archives, created (0700) if missing; one that
 * is not a real directory (a symlink) is refused.
 */
int repository_job_dir(const struct repository *repo, const char *job,
		       struct buf *out, struct cairn_error *err);
/* REPO-relative final name and absolute temporary name of an archive. */
void repository_archive_names(const struct repository *repo, const char *job,
			      const char *id, time_t started,
			      struct buf *relative, struct buf *temporary);
/* The absolute path of a REPO-relative name. */
void repository_path(const struct repository *repo, const char *relative,
		     struct buf *out);

/* Removes partial archives left by a crash; the lock must be held.
 * Returns how many were removed. */
int repository_remove_partials(const struct repository *repo);

/*
 * Marks records whose file is missing, and adds archives that are in the
 * repository but not in the catalogue (a line lost in a crash), read from
 * their manifests. Unreadable files are reported through the log and
 * skipped. The counts go to `outcome`.
 */
struct reconcile_outcome {
	int added;
	int unreadable;
	int missing;
};
void repository_reconcile(const struct repository *repo, struct catalog *c,
			  struct reconcile_outcome *outcome);

#endif
