/*
 * Copying archives to a target, and the catalogue's record of copies
 * (offsite_copy.h).
 */
#include "offsite_copy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "buf.h"
#include "encryption.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "progress.h"
#include "repository.h"
#include "offsite_state.h"
#include "sha256.h"
#include "timefmt.h"

#define HASH_BUFFER (1024 * 1024)

const struct json_value *
offsite_copy_of(const struct catalog_record *r, const char *target)
{
	const struct json_value *copies = json_object_get(r->extra, "copies");
	size_t i;

	for (i = 0; i < json_length(copies); i++) {
		const struct json_value *c = json_array_at(copies, i);
		const char *name = json_get_string(c, "target");

		if (name != NULL && strcmp(name, target) == 0)
			return c;
	}
	return NULL;
}

int
offsite_has_copy(const struct catalog_record *r, const char *target)
{
	const char *status = json_get_string(offsite_copy_of(r, target),
					     "status");

	return status != NULL && strcmp(status, "ok") == 0;
}

static void
must(int rc)
{
	if (rc != 0)
		abort(); /* out of memory */
}

/* The record's copies without the one on `target` (a new array). */
static struct json_value *
copies_without(const struct catalog_record *r, const char *target)
{
	const struct json_value *copies = json_object_get(r->extra, "copies");
	struct json_value *kept = json_new_array();
	size_t i;

	if (kept == NULL)
		abort();
	for (i = 0; i < json_length(copies); i++) {
		const struct json_value *c = json_array_at(copies, i);
		const char *name = json_get_string(c, "target");

		if (name == NULL || strcmp(name, target) != 0)
			must(json_array_append(kept, json_clone(c)));
	}
	return kept;
}

static void
set_time(struct json_value *o, const char *key, time_t when)
{
	char text[TIMEFMT_RFC3339_SIZE];
	struct timespec ts = {when, 0};

	timefmt_rfc3339(ts, 0, text, sizeof(text));
	must(json_object_set_string(o, key, text));
}

/* {size, sha256, uploaded, verified[, lock-until]} */
static struct json_value *
copy_facts(uint64_t size, const char *sha256, time_t uploaded, time_t verified,
	   time_t lock_until)
{
	struct json_value *c = json_new_object();

	if (c == NULL)
		abort();
	must(json_object_set_int64(c, "size", (int64_t)size));
	must(json_object_set_string(c, "sha256", sha256));
	set_time(c, "uploaded", uploaded);
	set_time(c, "verified", verified);
	if (lock_until > 0)
		set_time(c, "lock-until", lock_until);
	return c;
}

/* Records the copy described by `facts` (borrowed) in r's copies. */
static void
record_copy_facts(struct catalog_record *r, const char *target,
		  const struct json_value *facts)
{
	struct json_value *copies = copies_without(r, target);
	struct json_value *c = json_new_object();
	size_t i;

	if (c == NULL)
		abort();
	must(json_object_set_string(c, "target", target));
	must(json_object_set_string(c, "status", "ok"));
	for (i = 0; i < json_length(facts); i++)
		must(json_object_set(c, json_object_key_at(facts, i),
				     json_clone(
					     json_object_value_at(facts, i))));
	must(json_array_append(copies, c));
	if (r->extra == NULL)
		r->extra = json_new_object();
	must(json_object_set(r->extra, "copies", copies));
}

void
offsite_copy_record(struct catalog_record *r, const char *target, uint64_t size,
		    const char *sha256, time_t uploaded, time_t verified,
		    time_t lock_until)
{
	struct json_value *facts = copy_facts(size, sha256, uploaded, verified,
					      lock_until);

	record_copy_facts(r, target, facts);
	json_free(facts);
}

/* Adds r to the target's catalogue `held`, with its copy's facts. */
static void
hold(struct catalog *held, const struct catalog_record *r,
     struct json_value *facts)
{
	struct catalog_record copy;

	offsite_record_clone(&copy, r);
	json_free(json_object_take(copy.extra, "copies"));
	if (copy.extra == NULL)
		copy.extra = json_new_object();
	must(json_object_set(copy.extra, "copy", facts));
	catalog_add(held, &copy);
}

void
offsite_copy_forget(struct catalog_record *r, const char *target)
{
	struct json_value *copies;

	if (offsite_copy_of(r, target) == NULL)
		return;
	copies = copies_without(r, target);
	if (json_length(copies) == 0) {
		json_free(copies);
		json_free(json_object_take(r->extra, "copies"));
		return;
	}
	must(json_object_set(r->extra, "copies", copies));
}

int
offsite_hash_fd(int fd, char hex[65], uint64_t *size)
{
	unsigned char *buffer = xmalloc(HASH_BUFFER);
	struct sha256 hash;
	uint64_t total = 0;
	ssize_t n;

	if (sha256_init(&hash) != 0) {
		free(buffer);
		return -1;
	}
	while ((n = pread(fd, buffer, HASH_BUFFER, (off_t)total)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		sha256_update(&hash, buffer, (size_t)n);
		total += (uint64_t)n;
	}
	sha256_final_hex(&hash, hex);
	sha256_release(&hash);
	free(buffer);
	if (n < 0)
		return -1;
	*size = total;
	return 0;
}

/*
 * The SHA-256 of r's file as the catalogue knows it without reading the
 * file, or NULL (borrowed): an encrypted archive's is recorded at backup,
 * of the file as stored (not while a rekey may be replacing the file);
 * a good copy's on another target is of the file as it was sent. Either
 * may be stale if the file was damaged since, so an upload that relies on
 * one checks the bytes it sends against it.
 */
static const char *
recorded_sha256(const struct catalog_record *r, uint64_t size)
{
	const struct json_value *encryption = json_object_get(r->extra,
							      "encryption");
	const struct json_value *copies = json_object_get(r->extra, "copies");
	const char *sha256;
	size_t i;

	if (encryption != NULL) {
		sha256 = json_get_string(encryption, "sha256");
		if (json_get_string(encryption, "pending-sha256") == NULL &&
		    sha256 != NULL && strlen(sha256) == 64)
			return sha256;
	}
	for (i = 0; i < json_length(copies); i++) {
		const struct json_value *c = json_array_at(copies, i);
		const char *status = json_get_string(c, "status");
		int64_t bytes;

		sha256 = json_get_string(c, "sha256");
		if (status != NULL && strcmp(status, "ok") == 0 &&
		    sha256 != NULL && strlen(sha256) == 64 &&
		    json_get_int64(c, "size", &bytes) == 0 &&
		    bytes == (int64_t)size)
			return sha256;
	}
	return NULL;
}

/*
 * The size and SHA-256 of the archive open at fd: the recorded hash when
 * the target checks it as it sends (*recorded = 1), which saves reading
 * the whole file once more before the upload; else read and hashed here.
 */
static int
archive_facts(const struct offsite *o, const struct catalog_record *r, int fd,
	      char sha256[65], uint64_t *size, int *recorded)
{
	const char *known;
	struct stat st;

	*recorded = 0;
	if (o->ops->verifies_sha256 && fstat(fd, &st) == 0) {
		known = recorded_sha256(r, (uint64_t)st.st_size);
		if (known != NULL) {
			memcpy(sha256, known, 65);
			*size = (uint64_t)st.st_size;
			*recorded = 1;
			return 0;
		}
	}
	return offsite_hash_fd(fd, sha256, size);
}

static void
show_progress(void *context, uint64_t done, uint64_t total)
{
	(void)total;
	progress_update(done, context);
}

/* Checks what the target holds against the local size and hash. */
static int
check_remote(struct offsite *o, const char *path, uint64_t size,
	     const char *sha256, struct offsite_stat *st,
	     struct cairn_error *err)
{
	int found = o->ops->stat(o, path, st, err);

	if (found < 0)
		return -1;
	if (found == 0) {
		error_set(err, "offsite %s: %s is not there after its upload",
			  o->target->name, path);
		return -1;
	}
	if (st->size != size) {
		error_set(err,
			  "offsite %s: %s holds %" PRIu64 " bytes, the "
			  "archive %" PRIu64,
			  o->target->name, path, st->size, size);
		return -1;
	}
	if (strcmp(st->sha256, sha256) != 0) {
		error_set(err,
			  "offsite %s: %s has SHA-256 '%s', the archive "
			  "%s",
			  o->target->name, path, st->sha256, sha256);
		return -1;
	}
	return 0;
}

int
offsite_copy_archive(struct offsite *o, const struct repository *repo,
		     struct catalog_record *r, struct catalog *held,
		     uint64_t *sent, struct cairn_error *err)
{
	const struct offsite_target *t = o->target;
	struct buf path = BUF_INIT;
	struct offsite_stat st;
	struct offsite_put put;
	char sha256[65];
	uint64_t size = 0;
	time_t now = time(NULL), lock_until = 0;
	int fd = -1, rc = -1, found, recorded;
	long index;

	*sent = 0;
	index = catalog_find(held, r->id);
	if (index >= 0) {
		/* Held there already: the local record may have lost it. */
		if (!offsite_has_copy(r, t->name))
			record_copy_facts(r, t->name,
					  json_object_get(held->records[index]
								  .extra,
							  "copy"));
		return 0;
	}
	repository_path(repo, r->file, &path);
	fd = open(buf_str(&path), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		error_errno(err, errno, "archive %s: cannot open '%s'", r->id,
			    buf_str(&path));
		goto out;
	}
	if (archive_facts(o, r, fd, sha256, &size, &recorded) != 0) {
		error_errno(err, errno, "archive %s: cannot read '%s'", r->id,
			    buf_str(&path));
		goto out;
	}
	/* Already there whole: a run killed before its catalogue. */
	found = o->ops->stat(o, r->file, &st, err);
	if (found < 0)
		goto out;
	if (found == 1 && st.size == size && strcmp(st.sha256, sha256) == 0) {
		log_info("offsite %s: %s is already there, verified", t->name,
			 r->id);
		offsite_copy_record(r, t->name, size, sha256, now, now,
				    st.lock_until);
		hold(held, r,
		     copy_facts(size, sha256, now, now, st.lock_until));
		rc = 0;
		goto out;
	}
	if (t->object_lock_days > 0)
		lock_until = now + (time_t)t->object_lock_days * 86400;
	memset(&put, 0, sizeof(put));
	put.fd = fd;
	put.size = size;
	put.sha256 = sha256;
	put.verify_sha256 = recorded;
	put.lock_until = lock_until;
	put.progress = show_progress;
	put.progress_context = r->id;
	progress_start(t->name);
	rc = o->ops->put_file(o, r->file, &put, err);
	progress_finish();
	if (rc == 0)
		rc = check_remote(o, r->file, size, sha256, &st, err);
	if (rc != 0) {
		error_prefix(err, "archive %s", r->id);
		goto out;
	}
	if (st.lock_until == 0)
		st.lock_until = lock_until;
	offsite_copy_record(r, t->name, size, sha256, now, time(NULL),
			    st.lock_until);
	hold(held, r, copy_facts(size, sha256, now, time(NULL), st.lock_until));
	*sent = size;
	log_info("offsite %s: copied %s (%" PRIu64 " bytes), verified", t->name,
		 r->id, size);
out:
	if (fd >= 0)
		close(fd);
	buf_release(&path);
	return rc;
}

int
offsite_put_snapshot(struct offsite *o, const struct catalog *c,
		     struct cairn_error *err)
{
	struct buf text = BUF_INIT, path = BUF_INIT;
	unsigned char random[4];
	char stamp[32];
	int rc;

	if (RAND_bytes(random, sizeof(random)) != 1) {
		error_set(err, "cannot draw random bytes (libcrypto)");
		return -1;
	}
	timefmt_stamp(time(NULL), stamp, sizeof(stamp));
	buf_printf(&path, "catalog/%s-%02x%02x%02x%02x.catalog", stamp,
		   random[0], random[1], random[2], random[3]);
	catalog_format(c, &text);
	rc = o->ops->put_bytes(o, buf_str(&path), text.data, text.length, err);
	buf_release(&text);
	buf_release(&path);
	return rc;
}
