/*
 * Restore: each entry of the archive, once target.c has vetted its name,
 * goes to disk through extract.c, relative to directory descriptors
 * opened with openat2 beneath the target. Where the kernel has no
 * openat2, it becomes a libarchive archive_entry handed to
 * archive_write_disk with the secure extraction flags instead. Either
 * way the restore works from inside the target directory (fchdir,
 * undone before returning), so entry names stay relative. Owners are
 * restored by numeric id, which is what a container reading a volume
 * sees; a name counts only when no number came.
 *
 * An entry that cannot be written is a failure that is counted while the
 * restore goes on, and makes the restore fail at the end; a name that is
 * refused, or the target or the archive failing, stops it at once.
 * Directories that already existed (--force) get their metadata from
 * fixup.c at the end. A drill runs the same restore with a digest
 * context: each file's data is hashed as it passes, holes as zeros, and
 * the file read back compared (drill.c).
 */
#include "autoconfig.h"

#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive_entry.h>

static const char *
volume_type_name(enum cairn_entry_type type)
{
	switch (type) {
	case CAIRN_ENTRY_FILE:
		return "file";
	case CAIRN_ENTRY_DIRECTORY:
		return "directory";
	case CAIRN_ENTRY_SYMLINK:
		return "symlink";
	case CAIRN_ENTRY_HARDLINK:
		return "hard link";
	case CAIRN_ENTRY_FIFO:
		return "fifo";
	case CAIRN_ENTRY_CHARDEV:
		return "character device";
	case CAIRN_ENTRY_BLOCKDEV:
		return "block device";
	}
	return "entry";
}

/* libarchive's owner lookups, by volume_owner_resolve's rule. */
static la_int64_t
volume_lookup(enum volume_owner_kind kind, const char *name, la_int64_t id)
{
	int64_t found = volume_owner_resolve(kind, name, id);

	return found >= 0 ? found : id;
}

static la_int64_t
volume_lookup_uid(void *data, const char *name, la_int64_t id)
{
	(void)data;
	return volume_lookup(VOLUME_OWNER_USER, name, id);
}

static la_int64_t
volume_lookup_gid(void *data, const char *name, la_int64_t id)
{
	(void)data;
	return volume_lookup(VOLUME_OWNER_GROUP, name, id);
}

/*
 * Fills r->entry from a cairn entry. An ACL libarchive cannot parse is a
 * warning: the file is restored without it.
 */
static void
volume_to_archive(struct volume_restore *r, const struct cairn_entry *e)
{
	struct archive_entry *ae = r->entry;
	unsigned int type = AE_IFREG;
	size_t i;

	archive_entry_clear(ae);
	archive_entry_set_pathname(ae, e->name);
	switch (e->type) {
	case CAIRN_ENTRY_FILE:
	case CAIRN_ENTRY_HARDLINK:
		type = AE_IFREG;
		break;
	case CAIRN_ENTRY_DIRECTORY:
		type = AE_IFDIR;
		break;
	case CAIRN_ENTRY_SYMLINK:
		type = AE_IFLNK;
		break;
	case CAIRN_ENTRY_FIFO:
		type = AE_IFIFO;
		break;
	case CAIRN_ENTRY_CHARDEV:
		type = AE_IFCHR;
		break;
	case CAIRN_ENTRY_BLOCKDEV:
		type = AE_IFBLK;
		break;
	}
	archive_entry_set_filetype(ae, type);
	/*
	 * The permissions go in before the ACL: libarchive takes the
	 * owner, owning group and other entries of an access ACL as the
	 * mode bits, and the mask then comes back through the ACL.
	 */
	archive_entry_set_perm(ae, e->mode & 07777);
	archive_entry_set_uid(ae, e->uid);
	archive_entry_set_gid(ae, e->gid);
	if (e->uname != NULL)
		archive_entry_set_uname(ae, e->uname);
	if (e->gname != NULL)
		archive_entry_set_gname(ae, e->gname);
	if (e->mtime.tv_sec != 0 || e->mtime.tv_nsec != 0)
		archive_entry_set_mtime(ae, e->mtime.tv_sec, e->mtime.tv_nsec);
	if (e->atime.tv_sec != 0 || e->atime.tv_nsec != 0)
		archive_entry_set_atime(ae, e->atime.tv_sec, e->atime.tv_nsec);
	if (e->type != CAIRN_ENTRY_FILE)
		archive_entry_set_size(ae, 0);
	else if (e->size >= 0)
		archive_entry_set_size(ae, e->size);
	else
		archive_entry_unset_size(ae);
	if (e->type == CAIRN_ENTRY_SYMLINK)
		archive_entry_set_symlink(ae, e->link != NULL ? e->link : "");
	if (e->type == CAIRN_ENTRY_HARDLINK)
		archive_entry_set_hardlink(ae, e->link);
	if (e->type == CAIRN_ENTRY_CHARDEV || e->type == CAIRN_ENTRY_BLOCKDEV) {
		archive_entry_set_rdevmajor(ae, e->rdev_major);
		archive_entry_set_rdevminor(ae, e->rdev_minor);
	}
	for (i = 0; i < e->xattr_count; i++)
		archive_entry_xattr_add_entry(ae, e->xattrs[i].name,
					      e->xattrs[i].value,
					      e->xattrs[i].size);
	if (e->acl_access != NULL && e->acl_access[0] != '\0' &&
	    archive_entry_acl_from_text(ae, e->acl_access,
					ARCHIVE_ENTRY_ACL_TYPE_ACCESS) !=
		    ARCHIVE_OK)
		r->host->log(r->host, CAIRN_LOG_WARNING,
			     "cannot parse the access ACL of '%s'", e->name);
	if (e->acl_default != NULL && e->acl_default[0] != '\0' &&
	    archive_entry_acl_from_text(ae, e->acl_default,
					ARCHIVE_ENTRY_ACL_TYPE_DEFAULT) !=
		    ARCHIVE_OK)
		r->host->log(r->host, CAIRN_LOG_WARNING,
			     "cannot parse the default ACL of '%s'", e->name);
}

void
volume_failure(struct volume_restore *r, const char *format, ...)
{
	char message[CAIRN_ERROR_MESSAGE_SIZE];
	va_list ap;

	va_start(ap, format);
	(void)vsnprintf(message, sizeof(message), format, ap);
	va_end(ap);
	r->host->log(r->host, CAIRN_LOG_ERROR, "%s", message);
	if (r->failed++ == 0)
		(void)snprintf(r->first_failure, sizeof(r->first_failure), "%s",
			       message);
	if (r->report != NULL)
		r->host->report_problem(r->report, "%s", message);
}

static int
volume_hash_zeros(struct volume_restore *r, int64_t count)
{
	while (count > 0) {
		size_t chunk = count > VOLUME_BUFFER_SIZE ? VOLUME_BUFFER_SIZE
							  : (size_t)count;

		if (EVP_DigestUpdate(r->md, r->zeros, chunk) != 1)
			return -1;
		count -= (int64_t)chunk;
	}
	return 0;
}

/*
 * Copies the current entry's blocks to disk at their offsets; in a
 * drill, hashes them with the holes between them as zeros. *ok becomes
 * 0 when the entry could not be written or hashed whole.
 */
static int
volume_restore_data(struct volume_restore *r, const struct cairn_entry *e,
		    unsigned char *digest, int *ok)
{
	int hashing = r->md != NULL, rc;
	int64_t position = 0, offset;
	unsigned int digest_length;
	const void *data;
	size_t length;

	*ok = 1;
	if (hashing && EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1)
		goto digest;
	while ((rc = r->host->entry_read(r->source, &data, &length, &offset,
					 r->err)) == 1) {
		la_ssize_t written;

		if (hashing && offset < position) {
			volume_failure(r, "entry '%s': blocks out of order",
				       e->name);
			hashing = 0;
			*ok = 0;
		}
		if (hashing) {
			if (volume_hash_zeros(r, offset - position) == -1 ||
			    EVP_DigestUpdate(r->md, data, length) != 1)
				goto digest;
			position = offset + (int64_t)length;
		}
		r->done += (int64_t)length;
		volume_progress(r->host, e->name, r->done, r->total);
		if (!*ok)
			continue; /* drain the entry */
		if (r->extract != NULL) {
			(void)volume_extract_data(r, e, data, length, offset);
			continue;
		}
		written = archive_write_data_block(r->disk, data, length,
						   offset);
		if (written == ARCHIVE_FATAL) {
			volume_error(r->err, "cannot write '%s': %s", e->name,
				     archive_error_string(r->disk));
			return -1;
		}
		if (written == ARCHIVE_WARN) {
			r->host->log(r->host, CAIRN_LOG_WARNING, "'%s': %s",
				     e->name, archive_error_string(r->disk));
		} else if (written < ARCHIVE_OK) {
			volume_failure(r, "cannot write '%s': %s", e->name,
				       archive_error_string(r->disk));
			*ok = 0;
		}
	}
	if (rc == -1)
		return -1;
	if (hashing) {
		if (e->size > position &&
		    volume_hash_zeros(r, e->size - position) == -1)
			goto digest;
		if (EVP_DigestFinal_ex(r->md, digest, &digest_length) != 1)
			goto digest;
		r->bytes += e->size;
	} else if (r->md != NULL) {
		*ok = 0;
	}
	return 0;
digest:
	volume_error(r->err, "cannot compute SHA-256 of '%s'", e->name);
	return -1;
}

/*
 * --only: a glob matches the entry's name or the name of one of its
 * parent directories, so a directory brings everything below it. A
 * leading '/' and trailing '/' of the glob are ignored; '*' matches '/'.
 */
static int
volume_selected(const struct cairn_restore_options *options, const char *name)
{
	char prefix[PATH_MAX];
	size_t i;

	if (options->only_count == 0)
		return 1;
	for (i = 0; i < options->only_count; i++) {
		const char *glob = options->only[i];
		char trimmed[PATH_MAX];
		size_t length, cut;
		int n;

		while (*glob == '/')
			glob++;
		n = snprintf(trimmed, sizeof(trimmed), "%s", glob);
		if (n < 0 || (size_t)n >= sizeof(trimmed))
			continue;
		length = (size_t)n;
		while (length > 1 && trimmed[length - 1] == '/')
			trimmed[--length] = '\0';
		if (fnmatch(trimmed, name, 0) == 0)
			return 1;
		for (cut = 0; name[cut] != '\0'; cut++) {
			if (name[cut] != '/' || cut >= sizeof(prefix))
				continue;
			memcpy(prefix, name, cut);
			prefix[cut] = '\0';
			if (fnmatch(trimmed, prefix, 0) == 0)
				return 1;
		}
	}
	return 0;
}

/*
 * The data of a file stopped short: the archive is damaged (the checksum
 * is known only once the last block is on disk) or the disk failed. What
 * was written is not the archived file, so it does not stay in the
 * target looking like one; the error names the entry either way.
 */
static void
volume_discard(struct volume_restore *r, const struct cairn_entry *e)
{
	char reason[CAIRN_ERROR_MESSAGE_SIZE];
	const char *fate = "removed from the target";

	if (r->extract != NULL) {
		if (!volume_extract_discard(r))
			fate = "left incomplete in the target";
	} else {
		(void)archive_write_finish_entry(r->disk);
		if (unlinkat(AT_FDCWD, e->name, 0) == -1 && errno != ENOENT)
			fate = "left incomplete in the target";
	}
	(void)snprintf(reason, sizeof(reason), "%s", r->err->message);
	volume_error(r->err, "file '%s' was not written whole (%s): %s",
		     e->name, fate, reason);
}

/* An entry through extract.c. Returns -1 only when the restore must stop. */
static int
volume_restore_extract(struct volume_restore *r, const struct cairn_entry *e)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	int ok = 1, status;

	status = volume_extract_header(r, e);
	if (status != 0)
		return status == -1 ? -1 : 0;
	if (e->type != CAIRN_ENTRY_FILE)
		return 0;
	if (volume_restore_data(r, e, digest, &ok) == -1) {
		volume_discard(r, e);
		return -1;
	}
	r->files++;
	if (!volume_extract_finish(r, e))
		ok = 0;
	if (ok && r->md != NULL)
		volume_drill_compare(r, e, digest);
	return 0;
}

/* One entry of the source. Returns -1 only when the restore must stop. */
static int
volume_restore_entry(struct volume_restore *r, const struct cairn_entry *e)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	struct stat st;
	int ok = 1, status;

	if (volume_target_vet(r, e) == -1)
		return -1;
	if (!volume_selected(r->options, e->name))
		return 0;
	r->entries++;
	if (r->options->dry_run) {
		if (e->type == CAIRN_ENTRY_FILE)
			r->host->log(r->host, CAIRN_LOG_INFO,
				     "would restore file '%s' (%" PRId64
				     " bytes)",
				     e->name, e->size);
		else if (e->type == CAIRN_ENTRY_HARDLINK ||
			 e->type == CAIRN_ENTRY_SYMLINK)
			r->host->log(r->host, CAIRN_LOG_INFO,
				     "would restore %s '%s' to '%s'",
				     volume_type_name(e->type), e->name,
				     e->link != NULL ? e->link : "");
		else
			r->host->log(r->host, CAIRN_LOG_INFO,
				     "would restore %s '%s'",
				     volume_type_name(e->type), e->name);
		return 0;
	}
	if (e->type == CAIRN_ENTRY_HARDLINK && r->options->only_count > 0 &&
	    fstatat(AT_FDCWD, e->link, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		r->host->log(r->host, CAIRN_LOG_WARNING,
			     "hard link '%s' skipped: its target '%s' was "
			     "not selected",
			     e->name, e->link);
		return 0;
	}
	if (e->type == CAIRN_ENTRY_DIRECTORY && r->options->force &&
	    fstatat(AT_FDCWD, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode)) {
		if (volume_fixup_add(r, e) == -1)
			return -1;
		/* Its content is replaced: open it up until the fixup. */
		if ((st.st_mode & 0700) != 0700 && geteuid() != 0 &&
		    fchmodat(AT_FDCWD, e->name, (st.st_mode & 07777) | 0700,
			     0) == -1)
			r->host->log(r->host, CAIRN_LOG_WARNING,
				     "cannot make '%s' writable: %s", e->name,
				     strerror(errno));
	}
	if (r->extract != NULL)
		return volume_restore_extract(r, e);
	volume_to_archive(r, e);
	status = archive_write_header(r->disk, r->entry);
	if (status == ARCHIVE_FATAL) {
		volume_error(r->err, "cannot restore '%s': %s", e->name,
			     archive_error_string(r->disk));
		return -1;
	}
	if (status == ARCHIVE_WARN) {
		r->host->log(r->host, CAIRN_LOG_WARNING, "'%s': %s", e->name,
			     archive_error_string(r->disk));
	} else if (status != ARCHIVE_OK) {
		volume_failure(r, "cannot restore '%s': %s", e->name,
			       archive_error_string(r->disk));
		return 0;
	}
	if (e->type == CAIRN_ENTRY_FILE) {
		if (volume_restore_data(r, e, digest, &ok) == -1) {
			volume_discard(r, e);
			return -1;
		}
		r->files++;
	}
	status = archive_write_finish_entry(r->disk);
	if (status == ARCHIVE_FATAL) {
		volume_error(r->err, "cannot restore '%s': %s", e->name,
			     archive_error_string(r->disk));
		return -1;
	}
	if (status == ARCHIVE_WARN)
		r->host->log(r->host, CAIRN_LOG_WARNING, "'%s': %s", e->name,
			     archive_error_string(r->disk));
	else if (status != ARCHIVE_OK) {
		volume_failure(r, "cannot restore '%s': %s", e->name,
			       archive_error_string(r->disk));
		ok = 0;
	}
	if (ok && r->md != NULL && e->type == CAIRN_ENTRY_FILE)
		volume_drill_compare(r, e, digest);
	return 0;
}

int
volume_restore_run(struct volume_restore *r)
{
	const struct cairn_restore_options *options = r->options;
	const struct cairn_entry *e;
	const char *fact;
	int target = -1, cwd = -1, flags, status, rc = -1;

	r->err->message[0] = '\0';
	if (options->target == NULL && volume_target_roots(r) == -1)
		return -1;
	if (volume_target_prepare(options, r->vol->job, &target, r->err) == -1)
		return -1;
	fact = r->host->fact_get(r->source, "bytes");
	r->total = fact != NULL ? strtoll(fact, NULL, 10) : -1;
	if (!options->dry_run) {
		cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (cwd == -1) {
			volume_error(r->err,
				     "cannot open the working directory: %s",
				     strerror(errno));
			goto out;
		}
		if (fchdir(target) == -1) {
			volume_error(r->err, "cannot enter target '%s': %s",
				     options->target ? options->target : "/",
				     strerror(errno));
			goto out;
		}
		status = volume_extract_start(r, target);
		if (status == -1)
			goto out;
	}
	if (!options->dry_run && r->extract == NULL) {
		r->disk = archive_write_disk_new();
		r->entry = archive_entry_new();
		if (r->disk == NULL || r->entry == NULL) {
			volume_error(r->err, "out of memory");
			goto out;
		}
		flags = ARCHIVE_EXTRACT_SECURE_NODOTDOT |
			ARCHIVE_EXTRACT_SECURE_SYMLINKS |
			ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
			ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
			ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_XATTR |
			ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_SPARSE;
		if (geteuid() == 0)
			flags |= ARCHIVE_EXTRACT_OWNER;
		if (archive_write_disk_set_options(r->disk, flags) !=
			    ARCHIVE_OK ||
		    archive_write_disk_set_user_lookup(r->disk, NULL,
						       volume_lookup_uid,
						       NULL) != ARCHIVE_OK ||
		    archive_write_disk_set_group_lookup(r->disk, NULL,
							volume_lookup_gid,
							NULL) != ARCHIVE_OK) {
			volume_error(r->err, "cannot set up the restore: %s",
				     archive_error_string(r->disk));
			goto out;
		}
	}
	while ((status = r->host->entry_next(r->source, &e, r->err)) == 1) {
		if (volume_restore_entry(r, e) == -1)
			goto out;
	}
	if (status == -1)
		goto out;
	if (r->disk != NULL) {
		/* libarchive's directories get their metadata now. */
		status = archive_write_close(r->disk);
		if (status != ARCHIVE_OK) {
			volume_failure(r, "cannot finish restoring: %s",
				       archive_error_string(r->disk));
			if (status == ARCHIVE_FATAL)
				goto out;
		}
	}
	/* Directories get their modes and times now, after content. */
	if (r->disk != NULL || r->extract != NULL) {
		volume_fixup_apply(r);
		volume_fixup_release(r);
	}
	if (r->failed > 0) {
		volume_error(r->err,
			     "%" PRId64 " entr%s of job '%s' could not be "
			     "restored; first: %s",
			     r->failed, r->failed == 1 ? "y" : "ies",
			     r->vol->job, r->first_failure);
		goto out;
	}
	rc = 0;
out:
	if (r->disk != NULL) {
		/* Closes it if still open: fixes up what was restored. */
		archive_write_free(r->disk);
		r->disk = NULL;
	}
	archive_entry_free(r->entry);
	r->entry = NULL;
	/* A restore that stopped: what was made still gets its metadata. */
	if (r->extract != NULL)
		volume_fixup_apply(r);
	volume_fixup_release(r);
	volume_extract_end(r);
	if (cwd != -1) {
		if (fchdir(cwd) == -1 && rc == 0) {
			volume_error(r->err,
				     "cannot return to the working "
				     "directory: %s",
				     strerror(errno));
			rc = -1;
		}
		close(cwd);
	}
	if (target != -1)
		close(target);
	return rc;
}

int
volume_restore(void *state, const struct cairn_host *host,
	       struct cairn_source *source,
	       const struct cairn_restore_options *options,
	       struct cairn_error *err)
{
	struct volume_restore r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.vol = state;
	r.host = host;
	r.source = source;
	r.options = options;
	r.err = err;
	rc = volume_restore_run(&r);
	volume_free_words(r.roots, r.root_count);
	return rc;
}
