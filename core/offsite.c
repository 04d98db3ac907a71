/*
 * Opening a target (offsite.h) and its S3 operations. The SFTP ones live
 * in offsite_sftp.c.
 */
#include "offsite.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "buf.h"
#include "error.h"
#include "fsutil.h"
#include "host.h"
#include "log.h"
#include "offsite_state.h"

#define JOURNAL_LIMIT (4 * 1024 * 1024)
#define S3_ATTEMPTS 6

int offsite_sftp_open(struct offsite *o, struct cairn_error *err);

/* The object key of a path under the target's prefix. */
static void
object_key(const struct offsite *o, const char *path, struct buf *key)
{
	if (o->target->prefix[0] != '\0')
		buf_printf(key, "%s/%s", o->target->prefix, path);
	else
		buf_append_str(key, path);
}

void
offsite_listing_release(struct offsite_listing *listing)
{
	size_t i;

	for (i = 0; i < listing->count; i++)
		free(listing->items[i].path);
	free(listing->items);
	memset(listing, 0, sizeof(*listing));
}

/* ---- the journal of multipart uploads in progress -------------------- */

/*
 * One line per upload, "KEY UPLOADID", replaced atomically: a process
 * killed during an upload leaves its line, and the next one aborts it
 * (S3 keeps the parts of an upload, and bills them, until it is
 * completed or aborted; not every server can list them).
 */
static void
journal_update(void *context, const char *key, const char *upload_id)
{
	struct offsite *o = context;
	struct buf kept = BUF_INIT;
	struct cairn_error err;
	char *text = NULL, *line, *save = NULL;
	size_t length = 0, key_length = strlen(key);

	if (fsutil_read_file(o->journal, JOURNAL_LIMIT, &text, &length, &err) ==
	    0) {
		for (line = strtok_r(text, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			if (!(strncmp(line, key, key_length) == 0 &&
			      line[key_length] == ' '))
				buf_printf(&kept, "%s\n", line);
		free(text);
	}
	if (upload_id != NULL)
		buf_printf(&kept, "%s %s\n", key, upload_id);
	if (fsutil_write_atomic(o->journal, kept.data ? kept.data : "",
				kept.length, 0600, &err) != 0)
		log_warning("offsite %s: %s", o->target->name, err.message);
	buf_release(&kept);
}

static int
s3_cleanup(struct offsite *o, struct cairn_error *err)
{
	struct s3_client *c = o->client;
	struct s3_listing uploads;
	struct buf prefix = BUF_INIT;
	char *text = NULL, *line, *save = NULL, *space;
	size_t length = 0, i;
	int rc = 0, aborted;

	if (fsutil_read_file(o->journal, JOURNAL_LIMIT, &text, &length, err) ==
	    0) {
		for (line = strtok_r(text, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save)) {
			space = strrchr(line, ' ');
			if (space == NULL)
				continue;
			*space = '\0';
			aborted = s3_abort_upload(c, line, space + 1, err);
			if (aborted < 0) {
				rc = -1;
				break;
			}
			if (aborted == 0)
				log_info("offsite %s: aborted the upload of %s "
					 "left by an interrupted run",
					 o->target->name, line);
			else
				log_warning("offsite %s: the server cannot "
					    "abort the upload of %s left by an "
					    "interrupted run (no object was "
					    "made of it)",
					    o->target->name, line);
			journal_update(o, line, NULL);
		}
		free(text);
	}
	if (rc != 0)
		return rc;
	error_clear(err); /* no journal is no upload to abort */
	object_key(o, "", &prefix);
	if (s3_list_uploads(c, buf_str(&prefix), &uploads, err) != 0) {
		buf_release(&prefix);
		return -1;
	}
	for (i = 0; i < uploads.count && rc == 0; i++) {
		char *key = uploads.items[i].key;
		char *id = strchr(key, '\n');

		*id++ = '\0';
		rc = s3_abort_upload(c, key, id, err) < 0 ? -1 : 0;
		if (rc == 0)
			log_info("offsite %s: aborted a stale upload of %s",
				 o->target->name, key);
	}
	s3_listing_release(&uploads);
	buf_release(&prefix);
	return rc;
}

/* ---- S3 operations ---------------------------------------------------- */

static int
s3_op_put_file(struct offsite *o, const char *path,
	       const struct offsite_put *put, struct cairn_error *err)
{
	struct s3_upload upload = {
		.fd = put->fd,
		.size = put->size,
		.sha256 = put->sha256,
		.verify_sha256 = put->verify_sha256,
		.lock_until = put->lock_until,
		.progress = put->progress,
		.progress_context = put->progress_context,
		.journal = journal_update,
		.journal_context = o,
	};
	struct buf key = BUF_INIT;
	int rc;

	object_key(o, path, &key);
	rc = s3_put_file(o->client, buf_str(&key), &upload, err);
	buf_release(&key);
	return rc;
}

static int
s3_op_put_bytes(struct offsite *o, const char *path, const void *data,
		size_t length, struct cairn_error *err)
{
	struct buf key = BUF_INIT;
	int rc;

	object_key(o, path, &key);
	rc = s3_put_bytes(o->client, buf_str(&key), data, length, err);
	buf_release(&key);
	return rc;
}

static int
s3_op_stat(struct offsite *o, const char *path, struct offsite_stat *st,
	   struct cairn_error *err)
{
	struct s3_object_info info;
	struct buf key = BUF_INIT;
	int rc;

	object_key(o, path, &key);
	rc = s3_head(o->client, buf_str(&key), &info, err);
	buf_release(&key);
	memset(st, 0, sizeof(*st));
	if (rc == 1) {
		st->size = info.size;
		memcpy(st->sha256, info.sha256, sizeof(st->sha256));
		st->lock_until = info.lock_until;
		st->server_date = info.server_date;
	}
	return rc;
}

static int
s3_op_read_at(struct offsite *o, const char *path, uint64_t offset,
	      void *buffer, size_t length, size_t *got, struct cairn_error *err)
{
	struct buf key = BUF_INIT;
	int rc;

	object_key(o, path, &key);
	rc = s3_get_range(o->client, buf_str(&key), offset, buffer, length, got,
			  err);
	buf_release(&key);
	return rc;
}

static int
s3_op_remove(struct offsite *o, const char *path, struct cairn_error *err)
{
	struct buf key = BUF_INIT;
	int rc;

	object_key(o, path, &key);
	rc = s3_delete(o->client, buf_str(&key), err);
	buf_release(&key);
	return rc;
}

static int
s3_op_list(struct offsite *o, const char *path_prefix,
	   struct offsite_listing *listing, struct cairn_error *err)
{
	struct s3_listing objects;
	struct buf key = BUF_INIT;
	size_t skip, i;

	memset(listing, 0, sizeof(*listing));
	object_key(o, path_prefix, &key);
	skip = o->target->prefix[0] ? strlen(o->target->prefix) + 1 : 0;
	if (s3_list(o->client, buf_str(&key), &objects, err) != 0) {
		buf_release(&key);
		return -1;
	}
	buf_release(&key);
	listing->items = xcalloc(objects.count + 1, sizeof(*listing->items));
	for (i = 0; i < objects.count; i++) {
		if (strlen(objects.items[i].key) <= skip)
			continue;
		listing->items[listing->count].path = xstrdup(
			objects.items[i].key + skip);
		listing->items[listing->count].size = objects.items[i].size;
		listing->count++;
	}
	s3_listing_release(&objects);
	return 0;
}

static void
s3_op_close(struct offsite *o)
{
	s3_close(o->client);
}

static const struct offsite_ops s3_ops = {
	.put_file = s3_op_put_file,
	.put_bytes = s3_op_put_bytes,
	.stat = s3_op_stat,
	.read_at = s3_op_read_at,
	.remove = s3_op_remove,
	.list = s3_op_list,
	.cleanup = s3_cleanup,
	.close = s3_op_close,
	.verifies_sha256 = 1,
};

static int
open_s3(struct offsite *o, struct cairn_error *err)
{
	const struct offsite_target *t = o->target;
	struct s3_client *client = NULL;
	struct s3_config config;
	char *access = NULL, *secret = NULL;
	int rc = -1;

	if (host_secret_read(t->access_key_file, &access, err) != 0 ||
	    host_secret_read(t->secret_key_file, &secret, err) != 0) {
		error_prefix(err, "offsite %s", t->name);
		goto out;
	}
	memset(&config, 0, sizeof(config));
	config.name = t->name;
	config.endpoint = t->endpoint;
	config.region = t->region;
	config.bucket = t->bucket;
	config.path_style = t->path_style;
	config.access_key = access;
	config.secret_key = secret;
	config.storage_class = t->storage_class;
	config.ca_file = t->ca_file;
	config.max_rate = t->max_rate;
	config.part_size = t->part_size;
	config.attempts = S3_ATTEMPTS;
	if (s3_open(&client, &config, err) != 0)
		goto out;
	o->client = client;
	o->ops = &s3_ops;
	rc = 0;
out:
	host_secret_free(access);
	host_secret_free(secret);
	return rc;
}

/*
 * libcurl's global set-up, once, before the first handle: left to
 * itself, curl_easy_init does it in whichever thread comes first, and
 * the part senders and fetchers make handles in threads of their own.
 */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_setup;

static void
curl_setup_once(void)
{
	curl_setup = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Opens o->target's transport into o, whose target and journal are set. */
static int
open_transport(struct offsite *o, struct cairn_error *err)
{
	pthread_once(&curl_once, curl_setup_once);
	if (curl_setup != CURLE_OK) {
		error_set(err, "offsite %s: libcurl cannot start: %s",
			  o->target->name, curl_easy_strerror(curl_setup));
		return -1;
	}
	if (o->target->type == OFFSITE_S3)
		return open_s3(o, err);
	return offsite_sftp_open(o, err);
}

int
offsite_open(struct offsite **out, const struct offsite_target *t,
	     const char *repository, struct cairn_error *err)
{
	struct offsite *o = xcalloc(1, sizeof(*o));
	struct buf journal = BUF_INIT;

	*out = NULL;
	o->target = t;
	offsite_state_dir(repository, t->name, &journal);
	if (fsutil_mkdir_p(buf_str(&journal), 0700, err) != 0) {
		buf_release(&journal);
		free(o);
		return -1;
	}
	buf_append_str(&journal, "/uploads");
	o->journal = buf_detach(&journal);
	if (open_transport(o, err) != 0) {
		free(o->journal);
		free(o);
		return -1;
	}
	*out = o;
	return 0;
}

int
offsite_reopen(struct offsite **out, const struct offsite *from,
	       struct cairn_error *err)
{
	struct offsite *o = xcalloc(1, sizeof(*o));

	*out = NULL;
	o->target = from->target;
	o->journal = xstrdup(from->journal);
	if (open_transport(o, err) != 0) {
		free(o->journal);
		free(o);
		return -1;
	}
	*out = o;
	return 0;
}

void
offsite_close(struct offsite *o)
{
	if (o == NULL)
		return;
	o->ops->close(o);
	free(o->journal);
	free(o);
}
