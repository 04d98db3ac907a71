/*
 * A client of S3-compatible object storage over libcurl, signing every
 * request itself (sigv4.h) with the body's SHA-256, so the server checks
 * every byte it stores. Requests are retried with exponential backoff and
 * jitter on 5xx, 408, 429, SlowDown, RequestTimeout, resets and timeouts;
 * any other failure is reported with the server's error code and message
 * (e.g. "403 SignatureDoesNotMatch: ..."). Credentials are never logged.
 *
 * Uploads never leave a partial object visible: an archive up to the part
 * size is one PUT; a larger one is a multipart upload, streamed from the
 * file by a few threads, each with its own connection and one part in
 * memory (s3_parts_in_flight), completed only once every part is in, and
 * aborted on any failure.
 *
 * Ownership: s3_open returns a client owning its curl handle and copies
 * of the configuration's strings; free it with s3_close. A client is used
 * by one thread at a time (its uploads start and join their own threads).
 * Listing results are the caller's (s3_listing_release).
 */
#ifndef CAIRN_S3_H
#define CAIRN_S3_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cairn/plugin.h>

#include "buf.h"

struct s3_config {
	const char *name;     /* the target, for messages */
	const char *endpoint; /* http[s]://host[:port] */
	const char *region;
	const char *bucket;
	int path_style; /* 1: endpoint/bucket/key, 0: bucket.endpoint/key */
	const char *access_key;
	const char *secret_key;
	const char *storage_class; /* NULL: the bucket's default */
	const char *ca_file;	   /* NULL: the system's */
	uint64_t max_rate;	   /* bytes per second, 0: no limit */
	uint64_t part_size;	   /* of multipart uploads, >= 5 MiB */
	int attempts;		   /* per request, >= 1 */
};

struct s3_client;

int s3_open(struct s3_client **client, const struct s3_config *config,
	    struct cairn_error *err);
void s3_close(struct s3_client *client);

/* What a HEAD tells of an object. */
struct s3_object_info {
	uint64_t size;
	char sha256[65];    /* x-amz-meta-sha256, "" when absent */
	time_t lock_until;  /* x-amz-object-lock-retain-until-date, 0: none */
	time_t server_date; /* the reply's Date header, 0: none */
};

/* 1 and *info when the object exists, 0 when it does not, -1 on error. */
int s3_head(struct s3_client *c, const char *key, struct s3_object_info *info,
	    struct cairn_error *err);

/* Called as an upload goes, with the bytes sent so far. */
typedef void (*s3_progress_fn)(void *context, uint64_t done, uint64_t total);

struct s3_upload {
	int fd; /* read from offset 0, `size` bytes */
	uint64_t size;
	const char *sha256; /* the whole file's, stored as x-amz-meta-sha256 */
	/*
	 * 1: `sha256` was recorded earlier (the catalogue's) rather than
	 * computed from the file just now, so the upload hashes the bytes as
	 * it sends them, and fails, leaving no object, if they differ.
	 */
	int verify_sha256;
	time_t lock_until; /* > 0: COMPLIANCE object lock until then */
	s3_progress_fn progress;
	void *progress_context;
	/*
	 * Multipart: called with the upload id once it is created and again
	 * with NULL once it is completed or aborted, so the caller can note
	 * it and abort it on the next run if this process is killed.
	 */
	void (*journal)(void *context, const char *key, const char *upload_id);
	void *journal_context;
};

int s3_put_file(struct s3_client *c, const char *key,
		const struct s3_upload *upload, struct cairn_error *err);

/* A small object from memory (catalogue snapshots, probes). */
int s3_put_bytes(struct s3_client *c, const char *key, const void *data,
		 size_t length, struct cairn_error *err);

/*
 * Reads `length` bytes at `offset` into buffer; *got is less only at the
 * object's end. 0 or -1.
 */
int s3_get_range(struct s3_client *c, const char *key, uint64_t offset,
		 void *buffer, size_t length, size_t *got,
		 struct cairn_error *err);

/* Deletes the object (no error when it is already gone). */
int s3_delete(struct s3_client *c, const char *key, struct cairn_error *err);

/*
 * Aborts the multipart upload `upload_id` of `key`: 0 (also when it is
 * gone already), 1 when the server cannot abort uploads (405, 501), -1.
 */
int s3_abort_upload(struct s3_client *c, const char *key, const char *upload_id,
		    struct cairn_error *err);

struct s3_listing {
	struct s3_listed {
		char *key;
		uint64_t size;
	} * items;
	size_t count;
};

/* Every object under `prefix` (ListObjectsV2, following continuations). */
int s3_list(struct s3_client *c, const char *prefix, struct s3_listing *listing,
	    struct cairn_error *err);
/* The multipart uploads in progress under `prefix`; a server without
 * ListMultipartUploads gives an empty listing (key and upload id in
 * `items[i].key` as "KEY\nUPLOADID"). */
int s3_list_uploads(struct s3_client *c, const char *prefix,
		    struct s3_listing *listing, struct cairn_error *err);
void s3_listing_release(struct s3_listing *listing);

/*
 * What the request layer makes of a reply, exposed for the unit tests on
 * recorded replies: whether it is worth retrying, and the message naming
 * the server's error code.
 */
int s3_reply_retryable(long http_status, const char *body, size_t length);
void s3_reply_error(long http_status, const char *body, size_t length,
		    struct buf *message);
/* The part size that keeps `size` within 10,000 parts. */
uint64_t s3_part_size(uint64_t size, uint64_t preferred);
/* How many parts of that size a multipart upload sends at once. */
uint64_t s3_parts_in_flight(uint64_t part_size);
/* Parses an ISO 8601 / RFC 1123 date of a header; 0 when it does not. */
time_t s3_parse_date(const char *text);

#endif
