/*
 * The S3 client of s3.h: one request layer (signing, sending, reading
 * the reply, retrying) and the operations on top of it.
 */
#include "s3.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "sha256.h"
#include "sigv4.h"
#include "xml.h"

/* Replies other than objects' bytes are small XML documents. */
#define REPLY_LIMIT (16 * 1024 * 1024)
#define MAX_PARTS 10000
#define MIN_PART_SIZE (5ULL * 1024 * 1024)
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 8000
/* Bodies are hashed in slices this long, each slice through both
 * digests while it is in the cache. */
#define DIGEST_SLICE (64 * 1024)
/*
 * A multipart upload keeps this many parts in flight, each on its own
 * connection: one part at a time leaves the link idle while each part is
 * read, hashed and acknowledged (awscli sends 10). Each part in flight
 * holds its own buffer, so their total is capped by PART_MEMORY: fewer
 * parts in flight when parts are large, and one at least.
 */
#define PARTS_IN_FLIGHT 4
#define PART_MEMORY (32ULL * 1024 * 1024)

/*
 * A connection and what goes with it: requests made on one handle are
 * made one at a time, so each thread of an upload has its own.
 */
struct s3_handle {
	CURL *curl;
	uint64_t max_rate; /* of this handle's uploads, 0: no limit */
	unsigned int jitter_seed;
};

struct s3_client {
	struct s3_handle handle; /* of every request but parallel parts */
	char *name;
	char *scheme;	/* "http" or "https" */
	char *hostport; /* as in the endpoint */
	char *region;
	char *bucket;
	int path_style;
	char *access_key;
	char *secret_key;
	char *storage_class;
	char *ca_file;
	uint64_t max_rate;
	uint64_t part_size;
	int attempts;
};

/* One request, described by the operation. */
struct s3_call {
	const char *method;
	const char *key; /* NULL: the bucket itself */
	const struct sigv4_pair *query;
	size_t query_count;
	const struct sigv4_pair *headers; /* signed, beside the usual three */
	size_t header_count;
	const void *body;
	size_t body_length;
	/* Where a GET's bytes go; NULL: into reply.body. */
	unsigned char *sink;
	size_t sink_size;
};

struct s3_reply {
	long status;
	struct buf body;
	size_t sink_got;
	int overflow;
	uint64_t content_length;
	int has_length;
	char etag[160];
	char sha256[65];
	char lock_until[64];
	char date[64];
};

/* The upload body, read by curl from memory. */
struct body_reader {
	const unsigned char *data;
	size_t length;
	size_t sent;
};

static char *
copy_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

int
s3_open(struct s3_client **client, const struct s3_config *config,
	struct cairn_error *err)
{
	struct s3_client *c;
	const char *rest;

	*client = NULL;
	if (strncmp(config->endpoint, "https://", 8) == 0)
		rest = config->endpoint + 8;
	else if (strncmp(config->endpoint, "http://", 7) == 0)
		rest = config->endpoint + 7;
	else {
		error_set(err,
			  "offsite %s: endpoint '%s' is not an http:// or "
			  "https:// URL",
			  config->name, config->endpoint);
		return -1;
	}
	c = xcalloc(1, sizeof(*c));
	c->handle.curl = curl_easy_init();
	if (c->handle.curl == NULL) {
		free(c);
		error_set(err, "offsite %s: cannot initialise libcurl",
			  config->name);
		return -1;
	}
	c->name = xstrdup(config->name);
	c->scheme = xstrndup(config->endpoint,
			     (size_t)(rest - config->endpoint - 3));
	c->hostport = xstrndup(rest, strcspn(rest, "/"));
	c->region = xstrdup(config->region);
	c->bucket = xstrdup(config->bucket);
	c->path_style = config->path_style;
	c->access_key = xstrdup(config->access_key);
	c->secret_key = xstrdup(config->secret_key);
	c->storage_class = copy_or_null(config->storage_class);
	c->ca_file = copy_or_null(config->ca_file);
	c->max_rate = config->max_rate;
	c->part_size = config->part_size >= MIN_PART_SIZE ? config->part_size
							  : MIN_PART_SIZE;
	c->attempts = config->attempts > 0 ? config->attempts : 1;
	c->handle.max_rate = c->max_rate;
	c->handle.jitter_seed = (unsigned int)time(NULL) ^
				(unsigned int)getpid();
	*client = c;
	return 0;
}

void
s3_close(struct s3_client *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->handle.curl);
	free(c->name);
	free(c->scheme);
	free(c->hostport);
	free(c->region);
	free(c->bucket);
	wipe_free(c->access_key);
	wipe_free(c->secret_key);
	free(c->storage_class);
	free(c->ca_file);
	free(c);
}

/* ---- replies ------------------------------------------------------ */

/* The server's error code in an XML body, or NULL; caller frees. */
static char *
error_code(const char *body, size_t length)
{
	struct xml_span doc = {body, length}, error;
	size_t cursor = 0;

	if (body == NULL || xml_next(&doc, &cursor, "Error", &error) != 1)
		return NULL;
	return xml_find_text(&error, "Code");
}

int
s3_reply_retryable(long http_status, const char *body, size_t length)
{
	char *code;
	int retry;

	/* 501 NotImplemented is an answer, not a passing failure. */
	if ((http_status >= 500 && http_status != 501) || http_status == 408 ||
	    http_status == 429)
		return 1;
	code = error_code(body, length);
	retry = code != NULL && (strcmp(code, "SlowDown") == 0 ||
				 strcmp(code, "RequestTimeout") == 0 ||
				 strcmp(code, "InternalError") == 0 ||
				 strcmp(code, "ServiceUnavailable") == 0);
	free(code);
	return retry;
}

void
s3_reply_error(long http_status, const char *body, size_t length,
	       struct buf *message)
{
	struct xml_span doc = {body, length}, error;
	size_t cursor = 0;
	char *code = NULL, *text = NULL;

	if (body != NULL && xml_next(&doc, &cursor, "Error", &error) == 1) {
		code = xml_find_text(&error, "Code");
		text = xml_find_text(&error, "Message");
	}
	buf_printf(message, "%ld", http_status);
	if (code != NULL)
		buf_printf(message, " %s", code);
	else if (http_status == 404)
		buf_append_str(message, " Not Found");
	else if (http_status == 403)
		buf_append_str(message, " Forbidden");
	if (text != NULL) {
		/* One line, and not the whole of a hostile reply. */
		for (char *p = text; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
		buf_printf(message, ": %.300s", text);
	}
	free(code);
	free(text);
}

uint64_t
s3_part_size(uint64_t size, uint64_t preferred)
{
	uint64_t part = preferred >= MIN_PART_SIZE ? preferred : MIN_PART_SIZE;

	while (size / part >= MAX_PARTS)
		part *= 2;
	return part;
}

time_t
s3_parse_date(const char *text)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end == NULL) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	}
	if (end == NULL)
		return 0;
	return timegm(&tm);
}

static size_t
on_header(char *data, size_t size, size_t count, void *context)
{
	struct s3_reply *reply = context;
	size_t length = size * count, n;
	const char *colon, *value;
	char name[64];

	if (length >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		const char *space = memchr(data, ' ', length);

		/* A new status line (after 100 Continue): start over. */
		reply->status = space ? strtol(space + 1, NULL, 10) : 0;
		reply->has_length = 0;
		reply->etag[0] = reply->sha256[0] = '\0';
		reply->lock_until[0] = reply->date[0] = '\0';
		return length;
	}
	colon = memchr(data, ':', length);
	if (colon == NULL || (size_t)(colon - data) >= sizeof(name))
		return length;
	n = (size_t)(colon - data);
	memcpy(name, data, n);
	name[n] = '\0';
	value = colon + 1;
	while (value < data + length && (*value == ' ' || *value == '\t'))
		value++;
	n = (size_t)(data + length - value);
	while (n > 0 && (value[n - 1] == '\r' || value[n - 1] == '\n' ||
			 value[n - 1] == ' '))
		n--;
#define TAKE(field)                                                            \
	snprintf(reply->field, sizeof(reply->field), "%.*s", (int)n, value)
	if (strcasecmp(name, "content-length") == 0) {
		reply->content_length = strtoull(value, NULL, 10);
		reply->has_length = 1;
	} else if (strcasecmp(name, "etag") == 0) {
		TAKE(etag);
	} else if (strcasecmp(name, "x-amz-meta-sha256") == 0) {
		TAKE(sha256);
	} else if (strcasecmp(name, "x-amz-object-lock-retain-until-date") ==
		   0) {
		TAKE(lock_until);
	} else if (strcasecmp(name, "date") == 0) {
		TAKE(date);
	}
#undef TAKE
	return length;
}

/* The call being made, for the write callback. */
struct transfer {
	const struct s3_call *call;
	struct s3_reply *reply;
};

static size_t
on_body(char *data, size_t size, size_t count, void *context)
{
	struct transfer *t = context;
	struct s3_reply *reply = t->reply;
	size_t length = size * count;

	if (t->call->sink != NULL && reply->status >= 200 &&
	    reply->status < 300) {
		if (length > t->call->sink_size - reply->sink_got) {
			reply->overflow = 1;
			return 0;
		}
		memcpy(t->call->sink + reply->sink_got, data, length);
		reply->sink_got += length;
		return length;
	}
	if (reply->body.length + length > REPLY_LIMIT) {
		reply->overflow = 1;
		return 0;
	}
	buf_append(&reply->body, data, length);
	return length;
}

static size_t
on_read(char *buffer, size_t size, size_t count, void *context)
{
	struct body_reader *r = context;
	size_t n = size * count;

	if (n > r->length - r->sent)
		n = r->length - r->sent;
	memcpy(buffer, r->data + r->sent, n);
	r->sent += n;
	return n;
}

/*
 * The body's SHA-256 in hex (x-amz-content-sha256) and, when md5 is not
 * NULL, the base64 of its MD5 (Content-MD5, which S3 checks, and requires
 * of uploads under object lock). One pass over the body: each slice goes
 * through both digests while it is in the cache. 0, or -1 when libcrypto
 * fails.
 */
static int
body_digests(const void *data, size_t length, char sha256[SHA256_HEX_SIZE],
	     char md5[32])
{
	const unsigned char *bytes = data;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_length = 0;
	EVP_MD_CTX *context = NULL;
	struct sha256 hash;
	size_t done, n;
	int rc = -1;

	if (sha256_init(&hash) != 0)
		return -1;
	if (md5 != NULL && ((context = EVP_MD_CTX_new()) == NULL ||
			    EVP_DigestInit_ex(context, EVP_md5(), NULL) != 1))
		goto out;
	for (done = 0; done < length; done += n) {
		n = length - done < DIGEST_SLICE ? length - done : DIGEST_SLICE;
		sha256_update(&hash, bytes + done, n);
		if (context != NULL &&
		    EVP_DigestUpdate(context, bytes + done, n) != 1)
			goto out;
	}
	sha256_final_hex(&hash, sha256);
	if (context != NULL) {
		if (EVP_DigestFinal_ex(context, md, &md_length) != 1 ||
		    md_length != 16)
			goto out;
		EVP_EncodeBlock((unsigned char *)md5, md, 16);
	}
	rc = 0;
out:
	EVP_MD_CTX_free(context);
	sha256_release(&hash);
	return rc;
}

static void
amz_date(char out[17])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* The request's path, unencoded, and the host it goes to. */
static void
request_target(const struct s3_client *c, const char *key, struct buf *path,
	       struct buf *host)
{
	if (c->path_style) {
		buf_printf(host, "%s", c->hostport);
		buf_printf(path, "/%s", c->bucket);
		if (key != NULL)
			buf_printf(path, "/%s", key);
	} else {
		buf_printf(host, "%s.%s", c->bucket, c->hostport);
		buf_printf(path, "/%s", key ? key : "");
	}
}

static int
retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static void
backoff(struct s3_handle *h, int attempt)
{
	long delay = BACKOFF_FIRST_MS;
	struct timespec ts;
	long wait;

	while (attempt-- > 1 && delay < BACKOFF_MAX_MS)
		delay *= 2;
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	/* Jitter: between half the delay and all of it, so clients that
	 * failed together do not come back together. */
	wait = delay / 2 + (long)(rand_r(&h->jitter_seed) % (delay / 2 + 1));
	ts.tv_sec = wait / 1000;
	ts.tv_nsec = (wait % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
reply_reset(struct s3_reply *reply)
{
	buf_reset(&reply->body);
	reply->status = 0;
	reply->sink_got = 0;
	reply->overflow = 0;
	reply->has_length = 0;
	reply->content_length = 0;
	reply->etag[0] = reply->sha256[0] = '\0';
	reply->lock_until[0] = reply->date[0] = '\0';
}

/*
 * One attempt: signs and sends the call. The curl result, with the reply
 * filled as far as it came.
 */
static CURLcode
attempt_call(struct s3_client *c, struct s3_handle *h,
	     const struct s3_call *call, struct s3_reply *reply,
	     const char *payload_sha256, const char *md5,
	     struct cairn_error *err, int *sign_failed)
{
	struct sigv4_pair headers[24];
	struct buf path = BUF_INIT, host = BUF_INIT, url = BUF_INIT;
	struct buf auth = BUF_INIT, line = BUF_INIT;
	struct sigv4_credentials creds = {c->access_key, c->secret_key};
	struct curl_slist *list = NULL;
	struct body_reader reader = {call->body, call->body_length, 0};
	struct transfer transfer = {call, reply};
	struct sigv4_request r;
	char date[17];
	size_t n = 0, i;
	CURLcode rc;

	*sign_failed = 0;
	amz_date(date);
	request_target(c, call->key, &path, &host);
	headers[n++] = (struct sigv4_pair){"host", buf_str(&host)};
	headers[n++] = (struct sigv4_pair){"x-amz-date", date};
	headers[n++] = (struct sigv4_pair){"x-amz-content-sha256",
					   payload_sha256};
	if (md5 != NULL)
		headers[n++] = (struct sigv4_pair){"content-md5", md5};
	for (i = 0; i < call->header_count && n < 24; i++)
		headers[n++] = call->headers[i];
	memset(&r, 0, sizeof(r));
	r.method = call->method;
	r.path = buf_str(&path);
	r.query = call->query;
	r.query_count = call->query_count;
	r.headers = headers;
	r.header_count = n;
	r.payload_sha256 = payload_sha256;
	r.amz_date = date;
	r.region = c->region;
	r.service = "s3";
	if (sigv4_authorization(&r, &creds, &auth, err) != 0) {
		*sign_failed = 1;
		rc = CURLE_OK;
		goto out;
	}
	buf_printf(&url, "%s://%s", c->scheme, buf_str(&host));
	sigv4_uri_encode(&url, buf_str(&path), 1);
	if (call->query_count > 0) {
		buf_append_char(&url, '?');
		sigv4_canonical_query(&r, &url);
	}
	for (i = 0; i < n; i++) {
		buf_reset(&line);
		buf_printf(&line, "%s: %s", headers[i].name, headers[i].value);
		list = curl_slist_append(list, buf_str(&line));
	}
	buf_reset(&line);
	buf_printf(&line, "Authorization: %s", buf_str(&auth));
	list = curl_slist_append(list, buf_str(&line));
	explicit_bzero(line.data, line.length);
	list = curl_slist_append(list, "Expect:");
	list = curl_slist_append(list, "Content-Type:");
	list = curl_slist_append(list, "Accept:");

	curl_easy_reset(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_URL, buf_str(&url));
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, 30L);
	/* A stalled transfer is a timeout, retried, not a hang. */
	curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, reply);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &transfer);
	if (c->ca_file != NULL)
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, c->ca_file);
	if (strcmp(call->method, "HEAD") == 0) {
		curl_easy_setopt(h->curl, CURLOPT_NOBODY, 1L);
	} else if (strcmp(call->method, "GET") != 0) {
		curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, call->method);
		if (call->body != NULL || strcmp(call->method, "PUT") == 0 ||
		    strcmp(call->method, "POST") == 0) {
			curl_easy_setopt(h->curl, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(h->curl, CURLOPT_READFUNCTION,
					 on_read);
			curl_easy_setopt(h->curl, CURLOPT_READDATA, &reader);
			curl_easy_setopt(h->curl, CURLOPT_INFILESIZE_LARGE,
					 (curl_off_t)call->body_length);
			if (h->max_rate > 0)
				curl_easy_setopt(h->curl,
						 CURLOPT_MAX_SEND_SPEED_LARGE,
						 (curl_off_t)h->max_rate);
		}
	}
	rc = curl_easy_perform(h->curl);
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &reply->status);
	curl_easy_reset(h->curl); /* the header list goes below */
out:
	curl_slist_free_all(list);
	explicit_bzero(auth.data, auth.length);
	buf_release(&auth);
	buf_release(&line);
	buf_release(&url);
	buf_release(&path);
	buf_release(&host);
	return rc;
}

/*
 * Makes the call on handle h, retrying what is worth retrying. 0 with a
 * 2xx reply; -1 with err naming the target, the method, the key and the
 * server's error (the reply kept for callers that look at the status,
 * e.g. 404). Calls on different handles may run in different threads:
 * they only read the client.
 */
static int
call_on(struct s3_client *c, struct s3_handle *h, const struct s3_call *call,
	struct s3_reply *reply, struct cairn_error *err)
{
	char payload[SHA256_HEX_SIZE], md5[32] = "";
	const char *md5_header = NULL;
	struct buf message = BUF_INIT;
	int attempt, sign_failed;
	CURLcode rc = CURLE_OK;

	/* Content-MD5 goes with the bodies of PUTs (objects and parts). */
	if (call->body != NULL && strcmp(call->method, "PUT") == 0)
		md5_header = md5;
	if (body_digests(call->body ? call->body : "", call->body_length,
			 payload, md5_header != NULL ? md5 : NULL) != 0) {
		error_set(err,
			  "offsite %s: cannot hash a request's body "
			  "(libcrypto)",
			  c->name);
		return -1;
	}
	for (attempt = 1; attempt <= c->attempts; attempt++) {
		if (attempt > 1)
			backoff(h, attempt - 1);
		reply_reset(reply);
		rc = attempt_call(c, h, call, reply, payload, md5_header, err,
				  &sign_failed);
		if (sign_failed)
			return -1;
		log_debug("offsite %s: %s %s%s: %s %ld (attempt %d)", c->name,
			  call->method, call->key ? call->key : "/",
			  call->query_count > 0 ? "?..." : "",
			  rc == CURLE_OK ? "HTTP" : curl_easy_strerror(rc),
			  reply->status, attempt);
		if (rc == CURLE_OK && reply->status >= 200 &&
		    reply->status < 300)
			return 0;
		if (rc == CURLE_WRITE_ERROR && reply->overflow) {
			error_set(err,
				  "offsite %s: %s %s: the reply is longer "
				  "than asked for",
				  c->name, call->method,
				  call->key ? call->key : c->bucket);
			return -1;
		}
		if (rc != CURLE_OK && !retryable_curl(rc))
			break;
		if (rc == CURLE_OK &&
		    !s3_reply_retryable(reply->status, reply->body.data,
					reply->body.length))
			break;
	}
	if (rc != CURLE_OK) {
		buf_printf(&message, "%s", curl_easy_strerror(rc));
	} else {
		s3_reply_error(reply->status, reply->body.data,
			       reply->body.length, &message);
	}
	error_set(err, "offsite %s: %s %s: %s%s", c->name, call->method,
		  call->key ? call->key : c->bucket, buf_str(&message),
		  attempt > c->attempts ? " (after every retry)" : "");
	buf_release(&message);
	return -1;
}

/* call_on with the client's own handle. */
static int
s3_call(struct s3_client *c, const struct s3_call *call, struct s3_reply *reply,
	struct cairn_error *err)
{
	return call_on(c, &c->handle, call, reply, err);
}

static void
reply_release(struct s3_reply *reply)
{
	buf_release(&reply->body);
}

/* ---- operations --------------------------------------------------- */

int
s3_head(struct s3_client *c, const char *key, struct s3_object_info *info,
	struct cairn_error *err)
{
	struct s3_call call = {.method = "HEAD", .key = key};
	struct s3_reply reply;
	int rc;

	memset(&reply, 0, sizeof(reply));
	memset(info, 0, sizeof(*info));
	rc = s3_call(c, &call, &reply, err);
	if (rc != 0 && reply.status == 404) {
		reply_release(&reply);
		return 0;
	}
	if (rc == 0) {
		info->size = reply.content_length;
		snprintf(info->sha256, sizeof(info->sha256), "%s",
			 reply.sha256);
		info->lock_until = reply.lock_until[0]
					   ? s3_parse_date(reply.lock_until)
					   : 0;
		info->server_date = reply.date[0] ? s3_parse_date(reply.date)
						  : 0;
		rc = 1;
	}
	reply_release(&reply);
	return rc;
}

int
s3_put_bytes(struct s3_client *c, const char *key, const void *data,
	     size_t length, struct cairn_error *err)
{
	struct s3_call call = {.method = "PUT",
			       .key = key,
			       .body = data,
			       .body_length = length};
	struct s3_reply reply;
	int rc;

	/* An empty body still goes as a body, with its own hash. */
	if (data == NULL)
		call.body = "";
	memset(&reply, 0, sizeof(reply));
	rc = s3_call(c, &call, &reply, err);
	reply_release(&reply);
	return rc;
}

/* The headers an archive object is created with. */
static size_t
object_headers(const struct s3_client *c, const struct s3_upload *upload,
	       struct sigv4_pair *headers, char *lock_date, size_t lock_size)
{
	size_t n = 0;
	struct tm tm;

	headers[n++] = (struct sigv4_pair){"x-amz-meta-sha256", upload->sha256};
	if (c->storage_class != NULL)
		headers[n++] = (struct sigv4_pair){"x-amz-storage-class",
						   c->storage_class};
	if (upload->lock_until > 0) {
		gmtime_r(&upload->lock_until, &tm);
		strftime(lock_date, lock_size, "%Y-%m-%dT%H:%M:%SZ", &tm);
		headers[n++] = (struct sigv4_pair){"x-amz-object-lock-mode",
						   "COMPLIANCE"};
		headers[n++] = (struct sigv4_pair){
			"x-amz-object-lock-retain-until-date", lock_date};
	}
	return n;
}

/* Reads exactly `length` bytes at `offset` of fd. */
static int
read_exactly(int fd, void *buffer, size_t length, uint64_t offset)
{
	size_t done = 0;
	ssize_t n;

	while (done < length) {
		n = pread(fd, (char *)buffer + done, length - done,
			  (off_t)(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* Whether the bytes sent have the SHA-256 the caller gave for them. */
static int
check_sha256(struct s3_client *c, const char *key, const char *expected,
	     const char *got, struct cairn_error *err)
{
	if (strcmp(expected, got) == 0)
		return 0;
	error_set(err,
		  "offsite %s: %s: the archive read has SHA-256 '%s', not "
		  "the '%s' recorded for it",
		  c->name, key, got, expected);
	return -1;
}

static int
put_single(struct s3_client *c, const char *key, const struct s3_upload *upload,
	   struct cairn_error *err)
{
	struct sigv4_pair headers[4];
	char lock_date[32];
	struct s3_call call = {.method = "PUT", .key = key};
	struct s3_reply reply;
	char whole[SHA256_HEX_SIZE];
	unsigned char *data;
	int rc;

	data = xmalloc(upload->size ? upload->size : 1);
	if (read_exactly(upload->fd, data, upload->size, 0) != 0) {
		error_errno(err, errno,
			    "offsite %s: cannot read the archive "
			    "for %s",
			    c->name, key);
		free(data);
		return -1;
	}
	if (upload->verify_sha256 &&
	    (body_digests(data, upload->size, whole, NULL) != 0 ||
	     check_sha256(c, key, upload->sha256, whole, err) != 0)) {
		free(data);
		return -1;
	}
	call.headers = headers;
	call.header_count = object_headers(c, upload, headers, lock_date,
					   sizeof(lock_date));
	call.body = data;
	call.body_length = upload->size;
	memset(&reply, 0, sizeof(reply));
	rc = s3_call(c, &call, &reply, err);
	if (rc == 0 && upload->progress)
		upload->progress(upload->progress_context, upload->size,
				 upload->size);
	reply_release(&reply);
	free(data);
	return rc;
}

int
s3_abort_upload(struct s3_client *c, const char *key, const char *upload_id,
		struct cairn_error *err)
{
	struct sigv4_pair query[] = {{"uploadId", upload_id}};
	struct s3_call call = {.method = "DELETE",
			       .key = key,
			       .query = query,
			       .query_count = 1};
	struct s3_reply reply;
	int rc;

	memset(&reply, 0, sizeof(reply));
	rc = s3_call(c, &call, &reply, err);
	if (rc != 0 && reply.status == 404) { /* already gone */
		error_clear(err);
		rc = 0;
	} else if (rc != 0 && (reply.status == 405 || reply.status == 501)) {
		/* A server without AbortMultipartUpload (some test servers):
		 * nothing more can be done, and no object came of it. */
		error_clear(err);
		rc = 1;
	}
	reply_release(&reply);
	return rc;
}

/* Parses the UploadId of CreateMultipartUpload's reply. */
static char *
reply_upload_id(const struct s3_reply *reply)
{
	struct xml_span doc = {reply->body.data, reply->body.length};

	return reply->body.data ? xml_find_text(&doc, "UploadId") : NULL;
}

uint64_t
s3_parts_in_flight(uint64_t part_size)
{
	uint64_t n = part_size > 0 ? PART_MEMORY / part_size : 1;

	if (n > PARTS_IN_FLIGHT)
		n = PARTS_IN_FLIGHT;
	return n > 0 ? n : 1;
}

/*
 * A multipart upload in progress, shared by the threads sending its
 * parts. Each thread takes the next part, reads it into its own buffer
 * and sends it; the first failure stops every thread from taking more.
 * Everything below `lock` is guarded by it.
 */
struct multipart {
	struct s3_client *c;
	const char *key;
	const char *upload_id;
	const struct s3_upload *upload;
	uint64_t part_size;
	uint64_t parts;
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a part hashed or in, a sender gone */
	char **etags;		/* per part, owned; NULL until it is in */
	uint64_t next;		/* the next part to take */
	uint64_t hashed;	/* parts fed to `whole` (in order) */
	uint64_t done;		/* bytes of the parts in */
	int senders;		/* threads still sending */
	int failed;
	struct cairn_error err; /* the first failure */
	/* The bytes sent, in order, when upload->verify_sha256 asks. */
	struct sha256 whole;
};

/* A thread sending parts: its own connection, its own part buffer. */
struct part_sender {
	struct multipart *m;
	struct s3_handle handle;
	unsigned char *buffer; /* part_size bytes, owned */
	pthread_t thread;
};

/* 1 and the number of the next part to send, or 0 when there is none. */
static int
take_part(struct multipart *m, uint64_t *part)
{
	int got = 0;

	pthread_mutex_lock(&m->lock);
	if (!m->failed && m->next < m->parts) {
		*part = m->next++;
		got = 1;
	}
	pthread_mutex_unlock(&m->lock);
	return got;
}

/* Notes the failure (the first one is the one reported). */
static void
fail_upload(struct multipart *m, const struct cairn_error *err)
{
	pthread_mutex_lock(&m->lock);
	if (!m->failed) {
		m->failed = 1;
		m->err = *err;
	}
	pthread_cond_broadcast(&m->changed);
	pthread_mutex_unlock(&m->lock);
}

/*
 * Feeds the part to the whole upload's SHA-256 once every part before it
 * has been: a file's hash is over its bytes in order. Only the thread
 * whose turn it is touches `whole`, so it hashes without the lock. 0, or
 * -1 when the upload failed meanwhile.
 */
static int
hash_in_order(struct multipart *m, uint64_t part, const void *data,
	      size_t length)
{
	pthread_mutex_lock(&m->lock);
	while (m->hashed != part && !m->failed)
		pthread_cond_wait(&m->changed, &m->lock);
	if (m->failed) {
		pthread_mutex_unlock(&m->lock);
		return -1;
	}
	pthread_mutex_unlock(&m->lock);
	sha256_update(&m->whole, data, length);
	pthread_mutex_lock(&m->lock);
	m->hashed++;
	pthread_cond_broadcast(&m->changed);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* Reads part `part` (from 0) into the sender's buffer and sends it. */
static int
send_part(struct part_sender *s, uint64_t part, struct cairn_error *err)
{
	struct multipart *m = s->m;
	uint64_t offset = part * m->part_size;
	size_t length = (size_t)(m->upload->size - offset < m->part_size
					 ? m->upload->size - offset
					 : m->part_size);
	char number[24];
	struct sigv4_pair query[2] = {{"partNumber", number},
				      {"uploadId", m->upload_id}};
	struct s3_call put = {.method = "PUT",
			      .key = m->key,
			      .query = query,
			      .query_count = 2,
			      .body = s->buffer,
			      .body_length = length};
	struct s3_reply reply;
	int rc = -1;

	snprintf(number, sizeof(number), "%" PRIu64, part + 1);
	if (read_exactly(m->upload->fd, s->buffer, length, offset) != 0) {
		error_errno(err, errno,
			    "offsite %s: cannot read the archive for %s",
			    m->c->name, m->key);
		return -1;
	}
	if (m->upload->verify_sha256 &&
	    hash_in_order(m, part, s->buffer, length) != 0) {
		error_set(err, "offsite %s: %s: stopped", m->c->name, m->key);
		return -1;
	}
	memset(&reply, 0, sizeof(reply));
	if (call_on(m->c, &s->handle, &put, &reply, err) != 0)
		goto out;
	if (reply.etag[0] == '\0') {
		error_set(err,
			  "offsite %s: PUT %s part %" PRIu64
			  ": no ETag in the reply",
			  m->c->name, m->key, part + 1);
		goto out;
	}
	pthread_mutex_lock(&m->lock);
	m->etags[part] = xstrdup(reply.etag);
	m->done += length;
	pthread_cond_broadcast(&m->changed);
	pthread_mutex_unlock(&m->lock);
	rc = 0;
out:
	reply_release(&reply);
	return rc;
}

static void *
part_sender_run(void *context)
{
	struct part_sender *s = context;
	struct multipart *m = s->m;
	struct cairn_error err;
	uint64_t part;

	/* A part that fails after its retries fails the upload; the parts
	 * other threads are sending meanwhile finish on their own. */
	while (take_part(m, &part))
		if (send_part(s, part, &err) != 0) {
			fail_upload(m, &err);
			break;
		}
	pthread_mutex_lock(&m->lock);
	m->senders--;
	pthread_cond_broadcast(&m->changed);
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* Starts the sender's thread with its own handle and buffer. 0 or -1. */
static int
part_sender_start(struct part_sender *s, struct multipart *m, unsigned int n,
		  unsigned int of)
{
	const struct s3_client *c = m->c;

	s->m = m;
	s->handle.curl = curl_easy_init();
	if (s->handle.curl == NULL)
		return -1;
	/* max-rate is the target's: the senders share it. */
	s->handle.max_rate = c->max_rate > 0 ? (c->max_rate + of - 1) / of : 0;
	s->handle.jitter_seed = c->handle.jitter_seed ^ (n * 2654435761U);
	s->buffer = xmalloc((size_t)m->part_size);
	pthread_mutex_lock(&m->lock);
	m->senders++;
	pthread_mutex_unlock(&m->lock);
	if (pthread_create(&s->thread, NULL, part_sender_run, s) != 0) {
		pthread_mutex_lock(&m->lock);
		m->senders--;
		pthread_mutex_unlock(&m->lock);
		curl_easy_cleanup(s->handle.curl);
		free(s->buffer);
		memset(s, 0, sizeof(*s));
		return -1;
	}
	pthread_setname_np(s->thread, "cairn-s3-send");
	return 0;
}

/*
 * Sends every part, s3_parts_in_flight() at a time, reporting progress
 * from this thread as parts come in. 0 once all are in; -1 with the
 * first failure in err.
 */
static int
send_parts(struct multipart *m, struct cairn_error *err)
{
	unsigned int of = (unsigned int)s3_parts_in_flight(m->part_size), i;
	struct part_sender *senders = xcalloc(of, sizeof(*senders));
	const struct s3_upload *upload = m->upload;
	unsigned int started = 0;
	uint64_t reported = 0;

	for (i = 0; i < of; i++)
		if (part_sender_start(&senders[started], m, i, of) == 0)
			started++;
	if (started == 0) {
		free(senders);
		error_set(err, "offsite %s: %s: cannot start sending parts",
			  m->c->name, m->key);
		return -1;
	}
	/* Progress is reported from here, outside the lock, up to the last
	 * part in. */
	pthread_mutex_lock(&m->lock);
	for (;;) {
		if (m->done != reported && upload->progress != NULL) {
			reported = m->done;
			pthread_mutex_unlock(&m->lock);
			upload->progress(upload->progress_context, reported,
					 upload->size);
			pthread_mutex_lock(&m->lock);
			continue;
		}
		if (m->senders == 0)
			break;
		pthread_cond_wait(&m->changed, &m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	for (i = 0; i < started; i++) {
		pthread_join(senders[i].thread, NULL);
		curl_easy_cleanup(senders[i].handle.curl);
		free(senders[i].buffer);
	}
	free(senders);
	if (m->failed) {
		*err = m->err;
		return -1;
	}
	return 0;
}

/* CompleteMultipartUpload with the parts' ETags. */
static int
complete_upload(struct s3_client *c, const char *key, const char *upload_id,
		char *const *etags, uint64_t parts, struct cairn_error *err)
{
	struct sigv4_pair query[] = {{"uploadId", upload_id}};
	struct buf body = BUF_INIT, message = BUF_INIT;
	struct s3_call done = {.method = "POST",
			       .key = key,
			       .query = query,
			       .query_count = 1};
	struct s3_reply reply;
	struct xml_span doc, error;
	size_t cursor = 0;
	uint64_t i;
	int rc = -1;

	buf_append_str(&body, "<CompleteMultipartUpload>");
	for (i = 0; i < parts; i++)
		buf_printf(&body,
			   "<Part><PartNumber>%" PRIu64 "</PartNumber>"
			   "<ETag>%s</ETag></Part>",
			   i + 1, etags[i]);
	buf_append_str(&body, "</CompleteMultipartUpload>");
	done.body = body.data;
	done.body_length = body.length;
	memset(&reply, 0, sizeof(reply));
	if (s3_call(c, &done, &reply, err) != 0)
		goto out;
	/* S3 may answer 200 and put an error in the body. */
	doc = (struct xml_span){reply.body.data, reply.body.length};
	if (reply.body.data != NULL &&
	    xml_next(&doc, &cursor, "Error", &error) == 1) {
		s3_reply_error(500, reply.body.data, reply.body.length,
			       &message);
		error_set(err, "offsite %s: completing %s: %s", c->name, key,
			  buf_str(&message));
		goto out;
	}
	rc = 0;
out:
	buf_release(&message);
	buf_release(&body);
	reply_release(&reply);
	return rc;
}

/* CreateMultipartUpload: the upload id (the caller's), or NULL. */
static char *
create_upload(struct s3_client *c, const char *key,
	      const struct s3_upload *upload, struct cairn_error *err)
{
	struct sigv4_pair headers[4], query[] = {{"uploads", ""}};
	struct s3_call call = {.method = "POST",
			       .key = key,
			       .query = query,
			       .query_count = 1,
			       .headers = headers};
	struct s3_reply reply;
	char lock_date[32], *upload_id = NULL;

	call.header_count = object_headers(c, upload, headers, lock_date,
					   sizeof(lock_date));
	memset(&reply, 0, sizeof(reply));
	if (s3_call(c, &call, &reply, err) == 0) {
		upload_id = reply_upload_id(&reply);
		if (upload_id != NULL && *upload_id == '\0') {
			free(upload_id);
			upload_id = NULL;
		}
		if (upload_id == NULL)
			error_set(err,
				  "offsite %s: POST %s?uploads: no UploadId "
				  "in the reply",
				  c->name, key);
	}
	reply_release(&reply);
	return upload_id;
}

static int
put_multipart(struct s3_client *c, const char *key,
	      const struct s3_upload *upload, struct cairn_error *err)
{
	struct multipart m;
	struct cairn_error abort_err;
	char whole[SHA256_HEX_SIZE], *upload_id;
	uint64_t i;
	int rc = -1;

	if (upload->verify_sha256 && upload->sha256 == NULL) {
		error_set(err, "offsite %s: %s: no SHA-256 to check", c->name,
			  key);
		return -1;
	}
	upload_id = create_upload(c, key, upload, err);
	if (upload_id == NULL)
		return -1;
	if (upload->journal)
		upload->journal(upload->journal_context, key, upload_id);
	memset(&m, 0, sizeof(m));
	m.c = c;
	m.key = key;
	m.upload_id = upload_id;
	m.upload = upload;
	m.part_size = s3_part_size(upload->size, c->part_size);
	m.parts = (upload->size + m.part_size - 1) / m.part_size;
	m.etags = xcalloc((size_t)m.parts, sizeof(*m.etags));
	pthread_mutex_init(&m.lock, NULL);
	pthread_cond_init(&m.changed, NULL);
	if (upload->verify_sha256 && sha256_init(&m.whole) != 0) {
		error_set(err, "offsite %s: cannot hash (libcrypto)", c->name);
		goto abort;
	}
	if (send_parts(&m, err) != 0)
		goto abort;
	if (upload->verify_sha256) {
		sha256_final_hex(&m.whole, whole);
		if (check_sha256(c, key, upload->sha256, whole, err) != 0)
			goto abort;
	}
	if (complete_upload(c, key, upload_id, m.etags, m.parts, err) != 0)
		goto abort;
	if (upload->journal)
		upload->journal(upload->journal_context, key, NULL);
	rc = 0;
	goto out;
abort:
	if (s3_abort_upload(c, key, upload_id, &abort_err) >= 0) {
		if (upload->journal)
			upload->journal(upload->journal_context, key, NULL);
	} else {
		log_warning("%s (the next run aborts it)", abort_err.message);
	}
out:
	if (upload->verify_sha256)
		sha256_release(&m.whole);
	pthread_cond_destroy(&m.changed);
	pthread_mutex_destroy(&m.lock);
	for (i = 0; i < m.parts; i++)
		free(m.etags[i]);
	free(m.etags);
	free(upload_id);
	return rc;
}

int
s3_put_file(struct s3_client *c, const char *key,
	    const struct s3_upload *upload, struct cairn_error *err)
{
	if (upload->size <= c->part_size)
		return put_single(c, key, upload, err);
	return put_multipart(c, key, upload, err);
}

int
s3_get_range(struct s3_client *c, const char *key, uint64_t offset,
	     void *buffer, size_t length, size_t *got, struct cairn_error *err)
{
	struct sigv4_pair headers[1];
	char range[64];
	struct s3_call call = {.method = "GET",
			       .key = key,
			       .headers = headers,
			       .header_count = 1,
			       .sink = buffer,
			       .sink_size = length};
	struct s3_reply reply;
	int rc;

	*got = 0;
	if (length == 0)
		return 0;
	snprintf(range, sizeof(range), "bytes=%" PRIu64 "-%" PRIu64, offset,
		 offset + length - 1);
	headers[0] = (struct sigv4_pair){"range", range};
	memset(&reply, 0, sizeof(reply));
	rc = s3_call(c, &call, &reply, err);
	if (rc != 0 && reply.status == 416) { /* at or past the end */
		error_clear(err);
		rc = 0;
	} else if (rc == 0 && reply.status != 206 && offset > 0) {
		/* A server that ignored the range sent the whole object. */
		error_set(err,
			  "offsite %s: GET %s: the server ignored the "
			  "Range header",
			  c->name, key);
		rc = -1;
	}
	*got = reply.sink_got;
	reply_release(&reply);
	return rc;
}

int
s3_delete(struct s3_client *c, const char *key, struct cairn_error *err)
{
	struct s3_call call = {.method = "DELETE", .key = key};
	struct s3_reply reply;
	int rc;

	memset(&reply, 0, sizeof(reply));
	rc = s3_call(c, &call, &reply, err);
	if (rc != 0 && reply.status == 404)
		rc = 0;
	reply_release(&reply);
	return rc;
}

static void
listing_add(struct s3_listing *listing, char *key, uint64_t size)
{
	listing->items = xrealloc(listing->items,
				  (listing->count + 1) *
					  sizeof(*listing->items));
	listing->items[listing->count].key = key;
	listing->items[listing->count].size = size;
	listing->count++;
}

void
s3_listing_release(struct s3_listing *listing)
{
	size_t i;

	for (i = 0; i < listing->count; i++)
		free(listing->items[i].key);
	free(listing->items);
	memset(listing, 0, sizeof(*listing));
}

int
s3_list(struct s3_client *c, const char *prefix, struct s3_listing *listing,
	struct cairn_error *err)
{
	char *token = NULL;
	struct s3_reply reply;
	int rc = 0;

	memset(listing, 0, sizeof(*listing));
	memset(&reply, 0, sizeof(reply));
	do {
		struct sigv4_pair query[3] = {{"list-type", "2"},
					      {"prefix", prefix}};
		struct s3_call call = {.method = "GET",
				       .query = query,
				       .query_count = 2};
		struct xml_span doc, item;
		size_t cursor = 0;
		char *truncated;
		int found;

		if (token != NULL) {
			query[2] = (struct sigv4_pair){"continuation-token",
						       token};
			call.query_count = 3;
		}
		rc = s3_call(c, &call, &reply, err);
		free(token);
		token = NULL;
		if (rc != 0)
			break;
		doc = (struct xml_span){reply.body.data ? reply.body.data : "",
					reply.body.length};
		while ((found = xml_next(&doc, &cursor, "Contents", &item)) ==
		       1) {
			char *key = xml_find_text(&item, "Key");
			char *size = xml_find_text(&item, "Size");

			if (key != NULL && size != NULL)
				listing_add(listing, key,
					    strtoull(size, NULL, 10));
			else
				free(key);
			free(size);
		}
		truncated = xml_find_text(&doc, "IsTruncated");
		if (found < 0) {
			error_set(err,
				  "offsite %s: the object listing is not "
				  "XML this client reads",
				  c->name);
			rc = -1;
		} else if (truncated && strcmp(truncated, "true") == 0) {
			token = xml_find_text(&doc, "NextContinuationToken");
			if (token == NULL) {
				error_set(err,
					  "offsite %s: a truncated listing "
					  "without a continuation token",
					  c->name);
				rc = -1;
			}
		}
		free(truncated);
	} while (rc == 0 && token != NULL);
	free(token);
	reply_release(&reply);
	if (rc != 0)
		s3_listing_release(listing);
	return rc;
}

int
s3_list_uploads(struct s3_client *c, const char *prefix,
		struct s3_listing *listing, struct cairn_error *err)
{
	struct sigv4_pair query[] = {{"uploads", ""}, {"prefix", prefix}};
	struct s3_call call = {.method = "GET",
			       .query = query,
			       .query_count = 2};
	struct s3_reply reply;
	struct xml_span doc, item;
	size_t cursor = 0;
	char *code;

	memset(listing, 0, sizeof(*listing));
	memset(&reply, 0, sizeof(reply));
	if (s3_call(c, &call, &reply, err) != 0) {
		code = error_code(reply.body.data, reply.body.length);
		if (code != NULL && strcmp(code, "NotImplemented") == 0) {
			/* The server cannot list them: the local journal of
			 * uploads in progress is all there is. */
			free(code);
			reply_release(&reply);
			error_clear(err);
			return 0;
		}
		free(code);
		reply_release(&reply);
		return -1;
	}
	doc = (struct xml_span){reply.body.data ? reply.body.data : "",
				reply.body.length};
	while (xml_next(&doc, &cursor, "Upload", &item) == 1) {
		char *key = xml_find_text(&item, "Key");
		char *id = xml_find_text(&item, "UploadId");
		struct buf both = BUF_INIT;

		if (key != NULL && id != NULL) {
			buf_printf(&both, "%s\n%s", key, id);
			listing_add(listing, buf_detach(&both), 0);
		}
		free(key);
		free(id);
	}
	reply_release(&reply);
	return 0;
}
