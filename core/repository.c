/*
 * The repository layout of repository.h.
 */
#include "repository.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arc.h"
#include "encryption.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "timefmt.h"

#define ARC_SUFFIX ".tar.zst"
#define PARTIAL_SUFFIX ".partial"

int
repository_open(struct repository *repo, const char *path, int create,
		struct cairn_error *err)
{
	struct buf archives = BUF_INIT;
	struct stat st;

	repo->path = NULL;
	if (stat(path, &st) != 0) {
		if (errno != ENOENT) {
			error_errno(err, errno, "repository '%s'", path);
			return -1;
		}
		if (!create) {
			error_set(err, "no repository at '%s'", path);
			return 1;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		error_set(err, "repository '%s' is not a directory", path);
		return -1;
	}
	if (create) {
		buf_printf(&archives, "%s/archives", path);
		if (fsutil_mkdir_p(buf_str(&archives), 0700, err) != 0) {
			buf_release(&archives);
			return -1;
		}
		buf_release(&archives);
	}
	repo->path = xstrdup(path);
	return 0;
}

void
repository_release(struct repository *repo)
{
	free(repo->path);
	repo->path = NULL;
}

int
repository_job_dir(const struct repository *repo, const char *job,
		   struct buf *out, struct cairn_error *err)
{
	struct stat st;

	buf_reset(out);
	buf_printf(out, "%s/archives/%s", repo->path, job);
	if (mkdir(buf_str(out), 0700) == 0)
		return 0;
	if (errno != EEXIST) {
		error_errno(err, errno, "cannot create '%s'", buf_str(out));
		return -1;
	}
	/* A symlink here would send the archive out of the repository. */
	if (lstat(buf_str(out), &st) != 0) {
		error_errno(err, errno, "cannot stat '%s'", buf_str(out));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		error_set(err, "'%s' is not a directory%s", buf_str(out),
			  S_ISLNK(st.st_mode) ? " (a symlink: refused)" : "");
		return -1;
	}
	return 0;
}

void
repository_archive_names(const struct repository *repo, const char *job,
			 const char *id, time_t started, struct buf *relative,
			 struct buf *temporary)
{
	char stamp[32];

	timefmt_stamp(started, stamp, sizeof(stamp));
	buf_reset(relative);
	buf_printf(relative, "archives/%s/%s-%s%s", job, stamp, id, ARC_SUFFIX);
	buf_reset(temporary);
	buf_printf(temporary, "%s/archives/%s/.%s%s", repo->path, job, id,
		   PARTIAL_SUFFIX);
}

void
repository_path(const struct repository *repo, const char *relative,
		struct buf *out)
{
	buf_reset(out);
	buf_printf(out, "%s/%s", repo->path, relative);
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Calls visit(job, file name) for every file of every job directory. */
static int
repository_walk(const struct repository *repo,
		int (*visit)(const struct repository *, const char *,
			     const char *, void *),
		void *context)
{
	struct buf path = BUF_INIT;
	struct dirent *job, *file;
	DIR *top, *dir;
	int rc = 0;

	buf_printf(&path, "%s/archives", repo->path);
	top = opendir(buf_str(&path));
	if (top == NULL) {
		buf_release(&path);
		return 0;
	}
	while ((job = readdir(top)) != NULL) {
		if (job->d_name[0] == '.')
			continue;
		buf_reset(&path);
		buf_printf(&path, "%s/archives/%s", repo->path, job->d_name);
		dir = opendir(buf_str(&path));
		if (dir == NULL)
			continue;
		while ((file = readdir(dir)) != NULL)
			if (strcmp(file->d_name, ".") != 0 &&
			    strcmp(file->d_name, "..") != 0)
				rc |= visit(repo, job->d_name, file->d_name,
					    context);
		closedir(dir);
	}
	closedir(top);
	buf_release(&path);
	return rc;
}

static int
remove_partial(const struct repository *repo, const char *job, const char *name,
	       void *context)
{
	struct buf path = BUF_INIT;
	int *removed = context;

	if (name[0] == '.' && ends_with(name, PARTIAL_SUFFIX)) {
		buf_printf(&path, "%s/archives/%s/%s", repo->path, job, name);
		if (unlink(buf_str(&path)) == 0) {
			log_info("removed '%s', left by an interrupted backup",
				 buf_str(&path));
			(*removed)++;
		}
		buf_release(&path);
	}
	return 0;
}

int
repository_remove_partials(const struct repository *repo)
{
	int removed = 0;

	repository_walk(repo, remove_partial, &removed);
	return removed;
}

/* A catalogued archive: its id and where its record is. */
struct catalogued_id {
	char id[ARC_ID_SIZE];
	size_t record;
};

struct reconcile {
	struct catalog *catalog;
	struct reconcile_outcome *outcome;
	/* The catalogue's ids, sorted, so a lookup per file is not a scan
	 * of the catalogue, with ten thousand of each. Indexes rather than
	 * pointers: adopting an archive moves the records. */
	struct catalogued_id *ids;
	size_t id_count;
	/* seen[i]: the file of record i is in its job directory. One
	 * directory walk instead of a stat() per record. */
	unsigned char *seen;
};

static int
compare_ids(const void *a, const void *b)
{
	const struct catalogued_id *x = a, *y = b;

	return strcmp(x->id, y->id);
}

static const struct catalogued_id *
catalogued(const struct reconcile *rc, const char *id)
{
	struct catalogued_id key;

	memset(&key, 0, sizeof(key));
	memcpy(key.id, id, sizeof(key.id));
	return bsearch(&key, rc->ids, rc->id_count, sizeof(*rc->ids),
		       compare_ids);
}

static int
adopt_archive(const struct repository *repo, const char *job, const char *name,
	      void *context)
{
	struct reconcile *rc = context;
	const struct catalogued_id *known;
	struct buf relative = BUF_INIT, path = BUF_INIT;
	struct catalog_record record;
	struct cairn_error err;
	struct arc *archive = NULL;
	struct stat st;
	size_t length = strlen(name);
	char id[ARC_ID_SIZE];
	size_t suffix = strlen(ARC_SUFFIX);

	/* An encrypted archive's name has ".age" after the plain suffix. */
	if (ends_with(name, ARC_SUFFIX ENCRYPTION_SUFFIX))
		suffix += strlen(ENCRYPTION_SUFFIX);
	else if (!ends_with(name, ARC_SUFFIX))
		return 0;
	if (name[0] == '.' || length < suffix + ARC_ID_SIZE - 1)
		return 0;
	memcpy(id, name + length - suffix - (ARC_ID_SIZE - 1), ARC_ID_SIZE - 1);
	id[ARC_ID_SIZE - 1] = '\0';
	buf_printf(&relative, "archives/%s/%s", job, name);
	known = catalogued(rc, id);
	if (known != NULL) {
		if (strcmp(rc->catalog->records[known->record].file,
			   buf_str(&relative)) == 0)
			rc->seen[known->record] = 1;
		buf_release(&relative);
		return 0;
	}
	repository_path(repo, buf_str(&relative), &path);
	if (stat(buf_str(&path), &st) != 0 ||
	    arc_open(&archive, buf_str(&path), id, &err) != 0) {
		log_warning("'%s' is not in the catalogue and cannot be read: "
			    "%s",
			    buf_str(&path), err.message);
		rc->outcome->unreadable++;
	} else if (strcmp(archive->manifest.id, id) != 0) {
		log_warning(
			"'%s' holds archive '%s', not the one its name says",
			buf_str(&path), archive->manifest.id);
		rc->outcome->unreadable++;
	} else {
		catalog_record_from_manifest(&record, &archive->manifest,
					     buf_str(&relative),
					     (uint64_t)st.st_size);
		encryption_record_adopt(&record, buf_str(&path));
		catalog_add(rc->catalog, &record);
		log_info("archive '%s' was missing from the catalogue: added",
			 id);
		rc->outcome->added++;
	}
	arc_close(archive);
	buf_release(&relative);
	buf_release(&path);
	return 0;
}

void
repository_reconcile(const struct repository *repo, struct catalog *c,
		     struct reconcile_outcome *outcome)
{
	struct reconcile context = {c, outcome, NULL, c->count, NULL};
	size_t i;

	memset(outcome, 0, sizeof(*outcome));
	context.ids = xcalloc(c->count + 1, sizeof(*context.ids));
	context.seen = xcalloc(c->count + 1, 1);
	for (i = 0; i < c->count; i++) {
		memcpy(context.ids[i].id, c->records[i].id, ARC_ID_SIZE);
		context.ids[i].record = i;
	}
	qsort(context.ids, c->count, sizeof(*context.ids), compare_ids);
	repository_walk(repo, adopt_archive, &context);
	/* Records adopted by the walk come after id_count, all present. */
	for (i = 0; i < context.id_count; i++) {
		c->records[i].missing = !context.seen[i];
		outcome->missing += c->records[i].missing;
	}
	free(context.seen);
	free(context.ids);
}
