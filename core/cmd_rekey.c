/*
 * `cairn rekey [ID...]`: re-wraps the file key of encrypted archives
 * (default: all) for the recipients configured today, without touching
 * their payload. The old identity opens the header; a new header (new
 * stanzas, new MAC) followed by the unchanged nonce and chunks goes into
 * a temporary file, which is fsynced and renamed over the archive.
 *
 * A kill at any point leaves the old or the new file, both readable by
 * the identities of their own header. So that verify without a key
 * accepts either, the catalogue is saved twice: first with the new
 * file's size and SHA-256 recorded as pending beside the old ones, then,
 * once the rename is durable, with the new ones alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "age_stream.h"
#include "blob.h"
#include "commands.h"
#include "encryption.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "sha256.h"

#define COPY_BLOCK (1024 * 1024)

static int
blob_source_read(void *self, uint64_t offset, void *buffer, size_t length,
		 size_t *got, struct cairn_error *err)
{
	return blob_read_at(self, offset, buffer, length, got, err);
}

struct rekeyed {
	struct buf temporary; /* its path */
	uint64_t stored;
	char sha256[SHA256_HEX_SIZE];
};

/*
 * Writes the new file for the archive at path into r->temporary.
 * Returns an exit status; EXIT_NO_KEY when no identity opens it.
 */
static int
write_rekeyed(const char *path, const char *id,
	      const struct age_identities *ids,
	      const struct age_recipients *recipients, struct rekeyed *r,
	      struct cairn_error *err)
{
	unsigned char file_key[AGE_FILE_KEY_SIZE];
	struct age_header header = {0};
	struct buf raw = BUF_INIT, fresh = BUF_INIT;
	struct age_source src;
	struct sha256 hash = {NULL};
	struct blob *b = NULL;
	unsigned char *block = NULL;
	enum age_status status;
	uint64_t offset;
	int fd = -1, rc = EXIT_DAMAGED;

	if (blob_open_file(&b, path, id, err) != 0)
		return EXIT_DAMAGED;
	src.read_at = blob_source_read;
	src.self = b;
	src.size = b->size;
	status = age_header_read(&src, &header, &raw, err);
	if (status == AGE_OK)
		status = age_unwrap_file_key(&header,
					     (const unsigned char *)raw.data,
					     ids, file_key, err);
	if (status != AGE_OK) {
		error_prefix(err, "archive '%s'", id);
		rc = status == AGE_NO_MATCH ? EXIT_NO_KEY : EXIT_DAMAGED;
		goto out;
	}
	rc = EXIT_JOB_FAILED;
	if (age_header_build(recipients, file_key, &fresh, err) != 0)
		goto out;
	if (sha256_init(&hash) != 0) {
		error_set(err, "cannot allocate a SHA-256 context");
		goto out;
	}
	fd = open(buf_str(&r->temporary),
		  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_errno(err, errno, "cannot create '%s'",
			    buf_str(&r->temporary));
		goto out;
	}
	sha256_update(&hash, fresh.data, fresh.length);
	if (fsutil_write_all(fd, fresh.data, fresh.length) != 0)
		goto write_error;
	r->stored = fresh.length;
	/* The nonce and every chunk, byte for byte. */
	block = xmalloc(COPY_BLOCK);
	for (offset = header.length; offset < b->size;) {
		size_t got = 0;

		if (blob_read_at(b, offset, block, COPY_BLOCK, &got, err) != 0)
			goto out;
		if (got == 0)
			break;
		sha256_update(&hash, block, got);
		if (fsutil_write_all(fd, block, got) != 0)
			goto write_error;
		offset += got;
		r->stored += got;
	}
	if (fsync(fd) != 0)
		goto write_error;
	if (close(fd) != 0) {
		fd = -1;
		goto write_error;
	}
	fd = -1;
	sha256_final_hex(&hash, r->sha256);
	rc = EXIT_OK;
	goto out;
write_error:
	error_errno(err, errno, "cannot write '%s'", buf_str(&r->temporary));
out:
	if (fd >= 0)
		close(fd);
	if (rc != EXIT_OK)
		unlink(buf_str(&r->temporary));
	OPENSSL_cleanse(file_key, sizeof(file_key));
	sha256_release(&hash);
	free(block);
	buf_release(&fresh);
	buf_release(&raw);
	age_header_release(&header);
	blob_close(b);
	return rc;
}

static int
rekey_one(struct repository *repo, struct catalog *catalog, size_t index,
	  const struct age_identities *ids,
	  const struct age_recipients *recipients)
{
	struct catalog_record *record = &catalog->records[index];
	struct buf path = BUF_INIT;
	struct rekeyed r = {BUF_INIT, 0, ""};
	char directory[4096];
	struct cairn_error err;
	int status;

	repository_path(repo, record->file, &path);
	fsutil_dirname(buf_str(&path), directory, sizeof(directory), &err);
	buf_printf(&r.temporary, "%s/.%s-rekey.partial", directory, record->id);
	status = write_rekeyed(buf_str(&path), record->id, ids, recipients, &r,
			       &err);
	if (status != EXIT_OK)
		goto fail;
	/* Phase one: the catalogue knows the new file before it exists. */
	encryption_record_set_pending(record, r.sha256, r.stored);
	if (catalog_save(catalog, repo->path, &err) != 0) {
		unlink(buf_str(&r.temporary));
		status = EXIT_JOB_FAILED;
		goto fail;
	}
	if (rename(buf_str(&r.temporary), buf_str(&path)) != 0) {
		error_errno(&err, errno, "cannot rename '%s' to '%s'",
			    buf_str(&r.temporary), buf_str(&path));
		unlink(buf_str(&r.temporary));
		status = EXIT_JOB_FAILED;
		goto fail;
	}
	if (fsutil_fsync_dir(directory, &err) != 0) {
		status = EXIT_JOB_FAILED;
		goto fail;
	}
	/* Phase two: only the new file. */
	encryption_record_set(record, recipients, r.sha256);
	record->stored = r.stored;
	if (catalog_save(catalog, repo->path, &err) != 0) {
		status = EXIT_JOB_FAILED;
		goto fail;
	}
	log_info("archive '%s': rekeyed", record->id);
	printf("rekeyed  %s  %s\n", record->id, record->job);
	buf_release(&path);
	buf_release(&r.temporary);
	return EXIT_OK;
fail:
	log_error("%s", err.message);
	buf_release(&path);
	buf_release(&r.temporary);
	return status;
}

int
cmd_rekey(struct context *ctx)
{
	const struct options *o = ctx->options;
	struct age_recipients recipients = {0};
	struct age_identities ids = {0};
	struct repository repo;
	struct catalog catalog;
	struct repo_lock lock = {-1};
	struct cairn_error err;
	size_t i, index, done = 0, count;
	int status, rc, worst = EXIT_OK;

	if (!encryption_enabled(&ctx->config)) {
		log_error("%s: no recipients or passphrase-file in "
			  "[encryption]: nothing to rekey for",
			  ctx->config.file);
		return EXIT_CONFIG;
	}
	if (encryption_load_recipients(&ctx->config, &recipients, &err) != 0) {
		log_error("%s", err.message);
		return EXIT_CONFIG;
	}
	rc = encryption_load_identities(&ctx->config, &ids, &err);
	if (rc != 0) {
		log_error("%s", err.message);
		age_recipients_release(&recipients);
		return rc > 0 ? EXIT_NO_KEY : EXIT_CONFIG;
	}
	status = context_open_catalog_locked(ctx, &repo, &catalog, 0, &lock);
	if (status != EXIT_OK)
		goto out_keys;
	count = o->arg_count ? o->arg_count : catalog.count;
	for (i = 0; i < count; i++) {
		if (o->arg_count) {
			status = context_resolve(ctx, &catalog, o->args[i],
						 &index);
			if (status != EXIT_OK)
				goto out;
		} else {
			index = i;
		}
		if (encryption_record_sha256(&catalog.records[index]) == NULL) {
			/* rekey changes keys; it does not encrypt. */
			if (o->arg_count)
				log_warning("archive '%s' is not encrypted: "
					    "left as it is",
					    catalog.records[index].id);
			continue;
		}
		if (catalog.records[index].missing) {
			log_error("archive '%s' is missing",
				  catalog.records[index].id);
			worst = EXIT_DAMAGED;
			continue;
		}
		rc = rekey_one(&repo, &catalog, index, &ids, &recipients);
		if (rc != EXIT_OK && worst != EXIT_NO_KEY)
			worst = rc;
		done += rc == EXIT_OK;
	}
	log_info("%zu archive(s) rekeyed", done);
	status = worst;
out:
	lock_release(&lock);
	catalog_release(&catalog);
	repository_release(&repo);
out_keys:
	age_identities_release(&ids);
	age_recipients_release(&recipients);
	return status;
}
