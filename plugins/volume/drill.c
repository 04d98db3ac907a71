/*
 * Drill: restores the archive into a private scratch directory, reads
 * every restored regular file back and compares its SHA-256 with the
 * SHA-256 of what the archive delivered (holes counted as zeros), then
 * removes the directory. The restore itself is restore.c's, with
 * a digest context; this file holds the comparison and the scratch
 * directory.
 */
#include "autoconfig.h"

#include "volume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
volume_drill_compare(struct volume_restore *r, const struct cairn_entry *e,
		     const unsigned char *expected)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_length = 0;
	int64_t size = 0;
	int fd;

	fd = open(e->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		r->mismatches++;
		r->host->report_problem(r->report, "cannot read back '%s': %s",
					e->name, strerror(errno));
		return;
	}
	if (EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1)
		goto fail;
	for (;;) {
		ssize_t n = read(fd, r->buffer, VOLUME_BUFFER_SIZE);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r->mismatches++;
			r->host->report_problem(r->report,
						"cannot read back '%s': %s",
						e->name, strerror(errno));
			close(fd);
			return;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(r->md, r->buffer, (size_t)n) != 1)
			goto fail;
		size += n;
	}
	close(fd);
	fd = -1;
	if (EVP_DigestFinal_ex(r->md, digest, &digest_length) != 1)
		goto fail;
	if (size != e->size) {
		r->mismatches++;
		r->host->report_problem(r->report,
					"'%s' restored with %" PRId64
					" bytes, %" PRId64 " in the archive",
					e->name, size, e->size);
	} else if (memcmp(digest, expected, digest_length) != 0) {
		r->mismatches++;
		r->host->report_problem(r->report,
					"'%s' restored differs from the "
					"archive (SHA-256)",
					e->name);
	}
	return;
fail:
	if (fd != -1)
		close(fd);
	r->mismatches++;
	r->host->report_problem(r->report, "cannot hash '%s'", e->name);
}

/* Removes a tree without following symlinks, making directories writable. */
static int
volume_remove_at(int dirfd, const char *name)
{
	struct dirent *d;
	DIR *dir;
	int fd, rc = 0;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	/* A directory restored read-only must be emptied all the same. */
	if (fchmodat(dirfd, name, 0700, 0) == -1 && errno == ENOENT)
		return 0;
	fd = openat(dirfd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return -1;
	}
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (volume_remove_at(fd, d->d_name) == -1)
			rc = -1;
	}
	closedir(dir);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) == -1)
		rc = -1;
	return rc;
}

int
volume_drill(void *state, const struct cairn_host *host,
	     struct cairn_source *source,
	     const struct cairn_drill_options *options,
	     struct cairn_report *report, struct cairn_error *err)
{
	struct cairn_restore_options restore;
	struct volume_restore r;
	char scratch[PATH_MAX], value[32];
	int n, rc = -1;

	memset(&r, 0, sizeof(r));
	memset(&restore, 0, sizeof(restore));
	n = snprintf(scratch, sizeof(scratch), "%s/volume",
		     options->scratch_dir);
	if (n < 0 || (size_t)n >= sizeof(scratch)) {
		volume_error(err, "scratch directory '%s' is too long",
			     options->scratch_dir);
		return -1;
	}
	if (volume_remove_at(AT_FDCWD, scratch) == -1) {
		volume_error(err, "cannot clear '%s': %s", scratch,
			     strerror(errno));
		return -1;
	}
	restore.target = scratch;
	r.vol = state;
	r.host = host;
	r.source = source;
	r.options = &restore;
	r.err = err;
	r.report = report;
	r.md = EVP_MD_CTX_new();
	r.buffer = malloc(VOLUME_BUFFER_SIZE);
	r.zeros = calloc(1, VOLUME_BUFFER_SIZE);
	if (r.md == NULL || r.buffer == NULL || r.zeros == NULL) {
		volume_error(err, "out of memory");
		goto out;
	}
	rc = volume_restore_run(&r);
	(void)snprintf(value, sizeof(value), "%" PRId64, r.entries);
	host->report_item(report, "entries", value);
	(void)snprintf(value, sizeof(value), "%" PRId64, r.files);
	host->report_item(report, "files", value);
	(void)snprintf(value, sizeof(value), "%" PRId64, r.bytes);
	host->report_item(report, "bytes", value);
	(void)snprintf(value, sizeof(value), "%" PRId64, r.mismatches);
	host->report_item(report, "mismatches", value);
	if (rc == 0 && r.mismatches > 0) {
		volume_error(err,
			     "%" PRId64 " restored file%s of job '%s' differ "
			     "from the archive",
			     r.mismatches, r.mismatches == 1 ? "" : "s",
			     r.vol->job);
		rc = -1;
	}
out:
	if (volume_remove_at(AT_FDCWD, scratch) == -1 && rc == 0) {
		volume_error(err, "cannot remove '%s': %s", scratch,
			     strerror(errno));
		rc = -1;
	}
	EVP_MD_CTX_free(r.md);
	free(r.buffer);
	free(r.zeros);
	volume_free_words(r.roots, r.root_count);
	return rc;
}
