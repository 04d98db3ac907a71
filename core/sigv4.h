/*
 * AWS Signature Version 4 for S3 requests signed in the Authorization
 * header: the canonical request (path encoded once as S3 wants it, query
 * parameters RFC 3986-encoded and sorted, headers lower-cased, trimmed and
 * sorted), the string to sign, and the HMAC-SHA256 chain through
 * libcrypto's EVP_MAC. The payload's SHA-256 is the caller's: a body's
 * own hash, never UNSIGNED-PAYLOAD, so the server checks every byte.
 *
 * Ownership: the request describes borrowed strings; results go into the
 * caller's struct buf.
 */
#ifndef CAIRN_SIGV4_H
#define CAIRN_SIGV4_H

#include <stddef.h>

#include <cairn/plugin.h>

#include "buf.h"

/* The SHA-256 of an empty body, in hex. */
#define SIGV4_EMPTY_SHA256                                                     \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct sigv4_pair {
	const char *name;  /* a header name (any case) or a query key */
	const char *value; /* unencoded; "" for a bare query key */
};

struct sigv4_request {
	const char *method;
	const char *path; /* unencoded, starting with '/' */
	const struct sigv4_pair *query;
	size_t query_count;
	/* Every header to sign; host and x-amz-date must be among them. */
	const struct sigv4_pair *headers;
	size_t header_count;
	const char *payload_sha256; /* 64 hex digits */
	const char *amz_date;	    /* YYYYMMDDTHHMMSSZ */
	const char *region;
	const char *service; /* "s3" */
};

struct sigv4_credentials {
	const char *access_key;
	const char *secret_key;
};

/*
 * Appends `s` RFC 3986-encoded: unreserved characters as they are, every
 * other byte as %XX in upper case; '/' kept when `keep_slash` (paths).
 */
void sigv4_uri_encode(struct buf *out, const char *s, int keep_slash);

/* The canonical query string alone (also the query to send). */
void sigv4_canonical_query(const struct sigv4_request *r, struct buf *out);

void sigv4_canonical_request(const struct sigv4_request *r, struct buf *out);
void sigv4_string_to_sign(const struct sigv4_request *r, struct buf *out);

/*
 * The Authorization header's value ("AWS4-HMAC-SHA256 Credential=...,
 * SignedHeaders=..., Signature=..."). 0, or -1 when libcrypto fails.
 */
int sigv4_authorization(const struct sigv4_request *r,
			const struct sigv4_credentials *c, struct buf *out,
			struct cairn_error *err);

#endif
