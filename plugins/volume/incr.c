/*
 * Incremental backups: what tells a file unchanged without reading it.
 *
 * Every entry is recorded with a state string (the host's stream_state):
 *
 *     1 SIZE MTIME CTIME INODE DEVICE MODE UID GID NLINK DIGEST
 *
 * times as seconds.nanoseconds, MODE with the file type bits, DIGEST the
 * SHA-256 of the extended attributes, ACLs, symlink target and device
 * numbers. On an incremental backup the walk meets the names in the
 * order the base lists them (chain order: each directory's names sorted,
 * a directory before its content), so one pass merges the two: a base
 * name the walk passed is gone (base_removed); a name whose state equals
 * the base's is unchanged and neither opened nor read (base_unchanged),
 * unless its modification or change time falls within the timestamp
 * granularity before the base's backup started (git's "racy" rule: it
 * may have changed again within the same tick after it was read); every
 * other name is written again, and a name whose type changed is also
 * recorded as removed, so that extracting the chain in order replaces
 * it. Directories are always written.
 */
#include "autoconfig.h"

#include <cairn/helpers.h>
#include "volume.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

/* Timestamp granularity assumed of any file system, in nanoseconds. */
#define VOLUME_RACY_NS 1000000000LL

int
volume_name_compare(const char *a, const char *b)
{
	return cairn_name_compare(a, b);
}

static int
volume_digest_update(EVP_MD_CTX *md, const void *data, size_t length)
{
	uint64_t n = length;

	/* Each field is preceded by its length, so fields cannot shift. */
	return EVP_DigestUpdate(md, &n, sizeof(n)) == 1 &&
			       EVP_DigestUpdate(md, data, length) == 1
		       ? 0
		       : -1;
}

static int
volume_digest(const struct cairn_entry *e, const struct stat *st, char hex[65])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int length = 0, i;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint64_t rdev = st->st_rdev;
	size_t x;
	int rc = -1;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	for (x = 0; x < e->xattr_count; x++)
		if (volume_digest_update(md, e->xattrs[x].name,
					 strlen(e->xattrs[x].name)) != 0 ||
		    volume_digest_update(md, e->xattrs[x].value,
					 e->xattrs[x].size) != 0)
			goto out;
	if (volume_digest_update(md, "acl", 3) != 0 ||
	    volume_digest_update(md, e->acl_access ? e->acl_access : "",
				 e->acl_access ? strlen(e->acl_access) : 0) !=
		    0 ||
	    volume_digest_update(md, e->acl_default ? e->acl_default : "",
				 e->acl_default ? strlen(e->acl_default) : 0) !=
		    0 ||
	    volume_digest_update(md, e->link ? e->link : "",
				 e->link ? strlen(e->link) : 0) != 0 ||
	    volume_digest_update(md, &rdev, sizeof(rdev)) != 0 ||
	    EVP_DigestFinal_ex(md, digest, &length) != 1)
		goto out;
	for (i = 0; i < length && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	return rc;
}

int
volume_state_make(struct volume_walk *w, const struct stat *st,
		  const struct cairn_entry *e)
{
	char digest[65] = "";

	if (volume_digest(e, st, digest) != 0) {
		volume_error(w->err, "cannot compute a digest of '%s'",
			     w->path);
		return -1;
	}
	(void)snprintf(w->state, sizeof(w->state),
		       "1 %" PRId64 " %lld.%09ld %lld.%09ld %" PRIu64
		       " %" PRIu64 " %o %" PRIu64 " %" PRIu64 " %" PRIu64 " %s",
		       (int64_t)st->st_size, (long long)st->st_mtim.tv_sec,
		       st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec,
		       st->st_ctim.tv_nsec, (uint64_t)st->st_ino,
		       (uint64_t)st->st_dev, (unsigned int)st->st_mode,
		       (uint64_t)st->st_uid, (uint64_t)st->st_gid,
		       (uint64_t)st->st_nlink, digest);
	return 0;
}

int
volume_base_start(struct volume_walk *w)
{
	int rc = w->host->base_next(w->sink, &w->base, w->err);

	if (rc <= 0)
		w->base = NULL;
	return rc < 0 ? -1 : 0;
}

/* Tells the host the current base entry is gone, and moves on. */
static int
volume_base_drop(struct volume_walk *w)
{
	if (w->host->base_removed(w->sink, w->base->name, w->err) == -1)
		return -1;
	w->removed++;
	return volume_base_start(w);
}

int
volume_base_finish(struct volume_walk *w)
{
	while (w->base != NULL)
		if (volume_base_drop(w) == -1)
			return -1;
	return 0;
}

/* Which entry types tar can put in place of one another. */
static int
volume_type_class(enum cairn_entry_type type)
{
	return type == CAIRN_ENTRY_HARDLINK ? CAIRN_ENTRY_FILE : (int)type;
}

static enum cairn_entry_type
volume_type_of(const struct stat *st)
{
	switch (st->st_mode & S_IFMT) {
	case S_IFDIR:
		return CAIRN_ENTRY_DIRECTORY;
	case S_IFLNK:
		return CAIRN_ENTRY_SYMLINK;
	case S_IFIFO:
		return CAIRN_ENTRY_FIFO;
	case S_IFCHR:
		return CAIRN_ENTRY_CHARDEV;
	case S_IFBLK:
		return CAIRN_ENTRY_BLOCKDEV;
	default:
		return CAIRN_ENTRY_FILE;
	}
}

static int
volume_racy(const struct volume_walk *w, const struct timespec *t)
{
	int64_t at = (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
	int64_t started = (int64_t)w->base_started.tv_sec * 1000000000LL +
			  w->base_started.tv_nsec;

	return at >= started - VOLUME_RACY_NS;
}

int
volume_base_match(struct volume_walk *w, const char *name,
		  const struct stat *st)
{
	int order;

	while (w->base != NULL &&
	       (order = volume_name_compare(w->base->name, name)) < 0)
		if (volume_base_drop(w) == -1)
			return -1;
	if (w->base == NULL || volume_name_compare(w->base->name, name) != 0)
		return 0; /* new */
	if (volume_type_class(w->base->type) !=
	    volume_type_class(volume_type_of(st))) {
		/* Replaced by another kind of file: remove, then write. */
		if (volume_base_drop(w) == -1)
			return -1;
		return 0;
	}
	if (!S_ISDIR(st->st_mode) && w->base->state != NULL &&
	    strcmp(w->base->state, w->state) == 0 &&
	    !volume_racy(w, &st->st_mtim) && !volume_racy(w, &st->st_ctim)) {
		if (w->host->base_unchanged(w->sink, w->err) == -1)
			return -1;
		w->unchanged++;
		if (volume_base_start(w) == -1)
			return -1;
		return 1;
	}
	/* Written again; should that fail, it is removed (backup.c). */
	w->base_pending = 1;
	return volume_base_start(w) == -1 ? -1 : 0;
}
