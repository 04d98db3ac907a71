/*
 * SFTP targets (offsite.h) through libcurl's libssh2 backend.
 *
 * The server's host key is always checked against known-hosts: libcurl
 * compares it and the key callback refuses anything but a match, so an
 * unknown or changed key ends the connection before any credential is
 * used. An upload goes to a temporary name in the final directory
 * (folders created as needed) and is renamed into place once whole, so a
 * partial file never carries an archive's name; the next run removes
 * temporary files a killed one left. SFTP has no object metadata: the
 * archive's SHA-256 goes beside it in FILE.sha256, written after the
 * archive, which is what the copy's check and verify --remote compare.
 *
 * Ownership: the client owns its curl handle and copies of its strings.
 */
#include "offsite.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "buf.h"
#include "error.h"
#include "log.h"
#include "sigv4.h"

#define TEMPORARY_SUFFIX ".cairn-partial"
#define SHA_SUFFIX ".sha256"
#define LISTING_LIMIT (64 * 1024 * 1024)

int offsite_sftp_open(struct offsite *o, struct cairn_error *err);

struct sftp_client {
	CURL *curl;
	char *base; /* sftp://user@host:port */
	char *root; /* /srv/cairn/host1, without trailing '/' */
	char *identity;
	char *known_hosts;
	uint64_t max_rate;
	const char *name;
};

/* Only a key that matches known-hosts is accepted. */
static int
on_host_key(CURL *curl, const struct curl_khkey *known,
	    const struct curl_khkey *found, enum curl_khmatch match,
	    void *context)
{
	(void)curl;
	(void)known;
	(void)found;
	(void)context;
	return match == CURLKHMATCH_OK ? CURLKHSTAT_FINE : CURLKHSTAT_REJECT;
}

/* The absolute path on the server of a target path. */
static void
remote_path(const struct sftp_client *c, const char *path, struct buf *out)
{
	buf_printf(out, "%s/%s", c->root, path);
}

static void
remote_url(const struct sftp_client *c, const char *path, struct buf *out)
{
	struct buf absolute = BUF_INIT;

	remote_path(c, path, &absolute);
	buf_append_str(out, c->base);
	sigv4_uri_encode(out, buf_str(&absolute), 1);
	buf_release(&absolute);
}

static void
setup(struct sftp_client *c, const char *url)
{
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "sftp");
	curl_easy_setopt(c->curl, CURLOPT_SSH_AUTH_TYPES,
			 (long)CURLSSH_AUTH_PUBLICKEY);
	curl_easy_setopt(c->curl, CURLOPT_SSH_PRIVATE_KEYFILE, c->identity);
	curl_easy_setopt(c->curl, CURLOPT_SSH_KNOWNHOSTS, c->known_hosts);
	curl_easy_setopt(c->curl, CURLOPT_SSH_KEYFUNCTION, on_host_key);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, 60L);
}

static int
curl_failed(struct sftp_client *c, CURLcode rc, const char *what,
	    const char *path, struct cairn_error *err)
{
	const char *hint = "";

	if (rc == CURLE_PEER_FAILED_VERIFICATION)
		hint = " (the server's host key is not the one in known-hosts)";
	else if (rc == CURLE_LOGIN_DENIED)
		hint = " (the key in identity-file was refused)";
	error_set(err, "offsite %s: %s %s: %s%s", c->name, what, path,
		  curl_easy_strerror(rc), hint);
	return -1;
}

/* Runs SFTP commands ("rename A B", "rm A") on the connection. */
static int
quote(struct sftp_client *c, const char *const *commands, size_t count,
      struct cairn_error *err)
{
	struct curl_slist *list = NULL;
	struct buf url = BUF_INIT;
	CURLcode rc;
	size_t i;

	for (i = 0; i < count; i++)
		list = curl_slist_append(list, commands[i]);
	buf_printf(&url, "%s%s/", c->base, c->root);
	setup(c, buf_str(&url));
	curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c->curl, CURLOPT_QUOTE, list);
	rc = curl_easy_perform(c->curl);
	curl_easy_reset(c->curl);
	curl_slist_free_all(list);
	buf_release(&url);
	if (rc != CURLE_OK)
		return curl_failed(c, rc, "command", commands[0], err);
	return 0;
}

struct upload_source {
	int fd;
	const unsigned char *data;
	uint64_t size;
	uint64_t sent;
	s3_progress_fn progress;
	void *progress_context;
};

static size_t
on_read(char *buffer, size_t size, size_t count, void *context)
{
	struct upload_source *s = context;
	size_t n = size * count;
	ssize_t got;

	if (n > s->size - s->sent)
		n = (size_t)(s->size - s->sent);
	if (n == 0)
		return 0;
	if (s->data != NULL) {
		memcpy(buffer, s->data + s->sent, n);
	} else {
		do
			got = pread(s->fd, buffer, n, (off_t)s->sent);
		while (got < 0 && errno == EINTR);
		if (got <= 0)
			return CURL_READFUNC_ABORT;
		n = (size_t)got;
	}
	s->sent += n;
	if (s->progress)
		s->progress(s->progress_context, s->sent, s->size);
	return n;
}

/* Uploads under a temporary name, then renames into place. */
static int
upload(struct sftp_client *c, const char *path, struct upload_source *src,
       struct cairn_error *err)
{
	struct buf temporary = BUF_INIT, url = BUF_INIT, command = BUF_INIT;
	struct buf final = BUF_INIT, remove_old = BUF_INIT;
	struct curl_slist *post = NULL;
	unsigned char random[4] = {0, 0, 0, 0};
	CURLcode rc;
	int status = 0;

	RAND_bytes(random, sizeof(random));
	buf_printf(&temporary, "%s.%02x%02x%02x%02x" TEMPORARY_SUFFIX, path,
		   random[0], random[1], random[2], random[3]);
	remote_url(c, buf_str(&temporary), &url);
	remote_path(c, buf_str(&temporary), &command);
	remote_path(c, path, &final);
	/* A rename does not replace an existing file on every server. */
	buf_printf(&remove_old, "*rm \"%s\"", buf_str(&final));
	buf_reset(&command);
	buf_append_str(&command, "rename \"");
	remote_path(c, buf_str(&temporary), &command);
	buf_printf(&command, "\" \"%s\"", buf_str(&final));
	post = curl_slist_append(post, buf_str(&remove_old));
	post = curl_slist_append(post, buf_str(&command));
	setup(c, buf_str(&url));
	curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c->curl, CURLOPT_READDATA, src);
	curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE,
			 (curl_off_t)src->size);
	curl_easy_setopt(c->curl, CURLOPT_FTP_CREATE_MISSING_DIRS,
			 (long)CURLFTP_CREATE_DIR);
	curl_easy_setopt(c->curl, CURLOPT_NEW_FILE_PERMS, 0600L);
	curl_easy_setopt(c->curl, CURLOPT_NEW_DIRECTORY_PERMS, 0700L);
	curl_easy_setopt(c->curl, CURLOPT_POSTQUOTE, post);
	if (c->max_rate > 0)
		curl_easy_setopt(c->curl, CURLOPT_MAX_SEND_SPEED_LARGE,
				 (curl_off_t)c->max_rate);
	rc = curl_easy_perform(c->curl);
	curl_easy_reset(c->curl);
	if (rc != CURLE_OK) {
		struct cairn_error ignored;
		const char *rm[1];

		status = curl_failed(c, rc, "upload of", path, err);
		/* Best effort: the next run removes it otherwise. */
		buf_reset(&command);
		buf_append_str(&command, "rm \"");
		remote_path(c, buf_str(&temporary), &command);
		buf_append_char(&command, '"');
		rm[0] = buf_str(&command);
		if (rc != CURLE_PEER_FAILED_VERIFICATION &&
		    rc != CURLE_LOGIN_DENIED && rc != CURLE_COULDNT_CONNECT)
			quote(c, rm, 1, &ignored);
	}
	curl_slist_free_all(post);
	buf_release(&temporary);
	buf_release(&url);
	buf_release(&command);
	buf_release(&final);
	buf_release(&remove_old);
	return status;
}

static int
sftp_put_file(struct offsite *o, const char *path,
	      const struct offsite_put *put, struct cairn_error *err)
{
	struct sftp_client *c = o->client;
	struct upload_source src = {put->fd,	   NULL,
				    put->size,	   0,
				    put->progress, put->progress_context};
	struct upload_source sha = {-1,
				    (const unsigned char *)put->sha256,
				    strlen(put->sha256),
				    0,
				    NULL,
				    NULL};
	struct buf sha_path = BUF_INIT;
	int rc;

	rc = upload(c, path, &src, err);
	if (rc == 0) {
		buf_printf(&sha_path, "%s" SHA_SUFFIX, path);
		rc = upload(c, buf_str(&sha_path), &sha, err);
		buf_release(&sha_path);
	}
	return rc;
}

static int
sftp_put_bytes(struct offsite *o, const char *path, const void *data,
	       size_t length, struct cairn_error *err)
{
	struct upload_source src = {-1, data, length, 0, NULL, NULL};

	return upload(o->client, path, &src, err);
}

struct download {
	unsigned char *buffer;
	size_t size;
	size_t got;
	int overflow;
};

static size_t
on_write(char *data, size_t size, size_t count, void *context)
{
	struct download *d = context;
	size_t n = size * count;

	if (n > d->size - d->got) {
		d->overflow = 1;
		return 0;
	}
	memcpy(d->buffer + d->got, data, n);
	d->got += n;
	return n;
}

static int
sftp_read_at(struct offsite *o, const char *path, uint64_t offset, void *buffer,
	     size_t length, size_t *got, struct cairn_error *err)
{
	struct sftp_client *c = o->client;
	struct download d = {buffer, length, 0, 0};
	struct buf url = BUF_INIT;
	char range[64];
	CURLcode rc;

	*got = 0;
	if (length == 0)
		return 0;
	snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, offset,
		 offset + length - 1);
	remote_url(c, path, &url);
	setup(c, buf_str(&url));
	curl_easy_setopt(c->curl, CURLOPT_RANGE, range);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &d);
	rc = curl_easy_perform(c->curl);
	curl_easy_reset(c->curl);
	buf_release(&url);
	*got = d.got;
	if (rc == CURLE_RANGE_ERROR || rc == CURLE_BAD_DOWNLOAD_RESUME)
		return 0; /* at or past the end */
	if (rc != CURLE_OK)
		return curl_failed(c, rc, "read of", path, err);
	return 0;
}

static int
sftp_stat(struct offsite *o, const char *path, struct offsite_stat *st,
	  struct cairn_error *err)
{
	struct sftp_client *c = o->client;
	struct buf url = BUF_INIT, sha_path = BUF_INIT;
	curl_off_t size = -1, modified = -1;
	char sha[80];
	size_t got = 0;
	CURLcode rc;

	memset(st, 0, sizeof(*st));
	remote_url(c, path, &url);
	setup(c, buf_str(&url));
	curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c->curl, CURLOPT_FILETIME, 1L);
	rc = curl_easy_perform(c->curl);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
				  &size);
		curl_easy_getinfo(c->curl, CURLINFO_FILETIME_T, &modified);
	}
	curl_easy_reset(c->curl);
	buf_release(&url);
	if (rc == CURLE_REMOTE_FILE_NOT_FOUND)
		return 0;
	if (rc != CURLE_OK)
		return curl_failed(c, rc, "stat of", path, err);
	st->size = size >= 0 ? (uint64_t)size : 0;
	/* SFTP tells no time of day; a file's mtime is the server's. */
	st->modified = modified > 0 ? (time_t)modified : 0;
	/* The archive's SHA-256 beside it, when it has one. */
	buf_printf(&sha_path, "%s" SHA_SUFFIX, path);
	if (sftp_read_at(o, buf_str(&sha_path), 0, sha, sizeof(sha) - 1, &got,
			 err) != 0) {
		error_clear(err);
		got = 0;
	}
	buf_release(&sha_path);
	if (got == 64) {
		memcpy(st->sha256, sha, 64);
		st->sha256[64] = '\0';
	}
	return 1;
}

static int
sftp_remove(struct offsite *o, const char *path, struct cairn_error *err)
{
	struct sftp_client *c = o->client;
	struct buf archive = BUF_INIT, sha = BUF_INIT;
	const char *commands[2];
	int rc;

	/* '*': a file already gone is not an error. */
	buf_append_str(&archive, "*rm \"");
	remote_path(c, path, &archive);
	buf_append_char(&archive, '"');
	buf_append_str(&sha, "*rm \"");
	remote_path(c, path, &sha);
	buf_append_str(&sha, SHA_SUFFIX "\"");
	commands[0] = buf_str(&archive);
	commands[1] = buf_str(&sha);
	rc = quote(c, commands, 2, err);
	buf_release(&archive);
	buf_release(&sha);
	return rc;
}

/* One directory's listing, in libcurl's ls -l form, into text. */
static int
list_directory(struct sftp_client *c, const char *path, struct buf *text,
	       int *missing, struct cairn_error *err)
{
	struct buf url = BUF_INIT;
	CURLcode rc;

	*missing = 0;
	buf_printf(&url, "%s", c->base);
	{
		struct buf absolute = BUF_INIT;

		buf_printf(&absolute, "%s/%s", c->root, path);
		if (absolute.data[absolute.length - 1] != '/')
			buf_append_char(&absolute, '/');
		sigv4_uri_encode(&url, buf_str(&absolute), 1);
		buf_release(&absolute);
	}
	setup(c, buf_str(&url));
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, NULL);
	{
		struct download d;

		buf_grow(text, LISTING_LIMIT);
		d.buffer = (unsigned char *)text->data;
		d.size = LISTING_LIMIT - 1;
		d.got = 0;
		d.overflow = 0;
		curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_write);
		curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &d);
		rc = curl_easy_perform(c->curl);
		text->length = d.got;
		text->data[d.got] = '\0';
	}
	curl_easy_reset(c->curl);
	buf_release(&url);
	if (rc == CURLE_REMOTE_FILE_NOT_FOUND ||
	    rc == CURLE_REMOTE_ACCESS_DENIED) {
		*missing = 1;
		return 0;
	}
	if (rc != CURLE_OK)
		return curl_failed(c, rc, "listing of", path, err);
	return 0;
}

static void
listing_add(struct offsite_listing *l, const char *path, uint64_t size)
{
	l->items = xrealloc(l->items, (l->count + 1) * sizeof(*l->items));
	l->items[l->count].path = xstrdup(path);
	l->items[l->count].size = size;
	l->count++;
}

/*
 * Walks `dir` (a target path ending in '/'), adding its files; temporary
 * files go to `partials` when it is not NULL, and .sha256 files are left
 * out.
 */
static int
walk(struct sftp_client *c, const char *dir, struct offsite_listing *out,
     struct offsite_listing *partials, int depth, struct cairn_error *err)
{
	struct buf text = BUF_INIT, child = BUF_INIT;
	char *line, *save = NULL;
	int missing, rc;

	if (depth > 4)
		return 0;
	rc = list_directory(c, dir, &text, &missing, err);
	if (rc != 0 || missing) {
		buf_release(&text);
		return rc;
	}
	for (line = strtok_r(text.data, "\r\n", &save); line != NULL && rc == 0;
	     line = strtok_r(NULL, "\r\n", &save)) {
		char perms[16], name[1024];
		unsigned long long size;
		int consumed = 0;

		/* "-rw------- 1 user group SIZE Mon DD HH:MM NAME" */
		if (sscanf(line, "%15s %*s %*s %*s %llu %*s %*s %*s %n", perms,
			   &size, &consumed) < 2 ||
		    consumed == 0)
			continue;
		snprintf(name, sizeof(name), "%s", line + consumed);
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		buf_reset(&child);
		buf_printf(&child, "%s%s", dir, name);
		if (perms[0] == 'd') {
			buf_append_char(&child, '/');
			rc = walk(c, buf_str(&child), out, partials, depth + 1,
				  err);
		} else if (strstr(name, TEMPORARY_SUFFIX) != NULL) {
			if (partials != NULL)
				listing_add(partials, buf_str(&child), size);
		} else if (perms[0] == '-' &&
			   !(strlen(name) > strlen(SHA_SUFFIX) &&
			     strcmp(name + strlen(name) - strlen(SHA_SUFFIX),
				    SHA_SUFFIX) == 0)) {
			listing_add(out, buf_str(&child), size);
		}
	}
	buf_release(&text);
	buf_release(&child);
	return rc;
}

static int
sftp_list(struct offsite *o, const char *path_prefix,
	  struct offsite_listing *listing, struct cairn_error *err)
{
	memset(listing, 0, sizeof(*listing));
	if (walk(o->client, path_prefix, listing, NULL, 0, err) != 0) {
		offsite_listing_release(listing);
		return -1;
	}
	return 0;
}

/* Removes the temporary files of uploads a killed run left behind. */
static int
sftp_cleanup(struct offsite *o, struct cairn_error *err)
{
	struct offsite_listing files = {NULL, 0}, partials = {NULL, 0};
	const char *dirs[] = {"archives/", "catalog/"};
	size_t i, d;
	int rc = 0;

	for (d = 0; d < 2 && rc == 0; d++)
		rc = walk(o->client, dirs[d], &files, &partials, 0, err);
	for (i = 0; i < partials.count && rc == 0; i++) {
		struct buf command = BUF_INIT;
		const char *commands[1];

		buf_append_str(&command, "*rm \"");
		remote_path(o->client, partials.items[i].path, &command);
		buf_append_char(&command, '"');
		commands[0] = buf_str(&command);
		rc = quote(o->client, commands, 1, err);
		if (rc == 0)
			log_info("offsite %s: removed %s, left by an "
				 "interrupted upload",
				 o->target->name, partials.items[i].path);
		buf_release(&command);
	}
	offsite_listing_release(&files);
	offsite_listing_release(&partials);
	return rc;
}

static void
sftp_close(struct offsite *o)
{
	struct sftp_client *c = o->client;

	if (c == NULL)
		return;
	curl_easy_cleanup(c->curl);
	free(c->base);
	free(c->root);
	free(c->identity);
	free(c->known_hosts);
	free(c);
}

static const struct offsite_ops sftp_ops = {
	.put_file = sftp_put_file,
	.put_bytes = sftp_put_bytes,
	.stat = sftp_stat,
	.read_at = sftp_read_at,
	.remove = sftp_remove,
	.list = sftp_list,
	.cleanup = sftp_cleanup,
	.close = sftp_close,
};

int
offsite_sftp_open(struct offsite *o, struct cairn_error *err)
{
	const struct offsite_target *t = o->target;
	const char *rest = t->url + strlen("sftp://");
	const char *slash = strchr(rest, '/');
	struct sftp_client *c;
	size_t length;

	if (access(t->identity_file, R_OK) != 0) {
		error_errno(err, errno,
			    "offsite %s: cannot read identity-file "
			    "'%s'",
			    t->name, t->identity_file);
		return -1;
	}
	if (access(t->known_hosts, R_OK) != 0) {
		error_errno(err, errno,
			    "offsite %s: cannot read known-hosts "
			    "'%s'",
			    t->name, t->known_hosts);
		return -1;
	}
	c = xcalloc(1, sizeof(*c));
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		free(c);
		error_set(err, "offsite %s: cannot initialise libcurl",
			  t->name);
		return -1;
	}
	c->base = xstrndup(t->url, (size_t)(slash - t->url));
	length = strlen(slash);
	while (length > 1 && slash[length - 1] == '/')
		length--;
	c->root = xstrndup(slash, length);
	c->identity = xstrdup(t->identity_file);
	c->known_hosts = xstrdup(t->known_hosts);
	c->max_rate = t->max_rate;
	c->name = t->name;
	o->client = c;
	o->ops = &sftp_ops;
	return 0;
}
