/*
 * Signature Version 4 of sigv4.h.
 */
#include "sigv4.h"

#include <ctype.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sha256.h"

static int
is_unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

void
sigv4_uri_encode(struct buf *out, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p < 0x80 && is_unreserved(*p)) ||
		    (keep_slash && *p == '/')) {
			buf_append_char(out, (char)*p);
		} else {
			buf_append_char(out, '%');
			buf_append_char(out, hex[*p >> 4]);
			buf_append_char(out, hex[*p & 15]);
		}
	}
}

/* One query parameter, encoded, for sorting. */
struct encoded_pair {
	char *name;
	char *value;
};

static int
compare_encoded(const void *a, const void *b)
{
	const struct encoded_pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

void
sigv4_canonical_query(const struct sigv4_request *r, struct buf *out)
{
	struct encoded_pair *pairs;
	struct buf b = BUF_INIT;
	size_t i;

	if (r->query_count == 0)
		return;
	pairs = xcalloc(r->query_count, sizeof(*pairs));
	for (i = 0; i < r->query_count; i++) {
		sigv4_uri_encode(&b, r->query[i].name, 0);
		pairs[i].name = buf_detach(&b);
		sigv4_uri_encode(&b, r->query[i].value ? r->query[i].value : "",
				 0);
		pairs[i].value = buf_detach(&b);
	}
	qsort(pairs, r->query_count, sizeof(*pairs), compare_encoded);
	for (i = 0; i < r->query_count; i++) {
		buf_printf(out, "%s%s=%s", i > 0 ? "&" : "", pairs[i].name,
			   pairs[i].value);
		free(pairs[i].name);
		free(pairs[i].value);
	}
	free(pairs);
}

/* A header as it is signed: lower-case name, value trimmed with runs of
 * spaces made one. */
static int
compare_headers(const void *a, const void *b)
{
	const struct encoded_pair *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static struct encoded_pair *
canonical_headers(const struct sigv4_request *r)
{
	struct encoded_pair *h = xcalloc(r->header_count + 1, sizeof(*h));
	size_t i;

	for (i = 0; i < r->header_count; i++) {
		const char *v = r->headers[i].value;
		struct buf value = BUF_INIT;
		char *name = xstrdup(r->headers[i].name), *p;
		int space = 0;

		for (p = name; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		while (*v == ' ' || *v == '\t')
			v++;
		for (; *v != '\0'; v++) {
			if (*v == ' ' || *v == '\t') {
				space = 1;
				continue;
			}
			if (space)
				buf_append_char(&value, ' ');
			space = 0;
			buf_append_char(&value, *v);
		}
		h[i].name = name;
		h[i].value = buf_detach(&value);
		if (h[i].value == NULL)
			h[i].value = xstrdup("");
	}
	qsort(h, r->header_count, sizeof(*h), compare_headers);
	return h;
}

static void
free_pairs(struct encoded_pair *pairs, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		free(pairs[i].name);
		free(pairs[i].value);
	}
	free(pairs);
}

static void
signed_header_list(const struct encoded_pair *h, size_t count, struct buf *out)
{
	size_t i;

	for (i = 0; i < count; i++)
		buf_printf(out, "%s%s", i > 0 ? ";" : "", h[i].name);
}

void
sigv4_canonical_request(const struct sigv4_request *r, struct buf *out)
{
	struct encoded_pair *h = canonical_headers(r);
	size_t i;

	buf_printf(out, "%s\n", r->method);
	sigv4_uri_encode(out, r->path, 1);
	buf_append_char(out, '\n');
	sigv4_canonical_query(r, out);
	buf_append_char(out, '\n');
	for (i = 0; i < r->header_count; i++)
		buf_printf(out, "%s:%s\n", h[i].name, h[i].value);
	buf_append_char(out, '\n');
	signed_header_list(h, r->header_count, out);
	buf_printf(out, "\n%s", r->payload_sha256);
	free_pairs(h, r->header_count);
}

static void
scope(const struct sigv4_request *r, struct buf *out)
{
	buf_printf(out, "%.8s/%s/%s/aws4_request", r->amz_date, r->region,
		   r->service);
}

void
sigv4_string_to_sign(const struct sigv4_request *r, struct buf *out)
{
	struct buf canonical = BUF_INIT;
	char hex[SHA256_HEX_SIZE];
	struct sha256 hash;

	sigv4_canonical_request(r, &canonical);
	if (sha256_init(&hash) != 0)
		abort();
	sha256_update(&hash, canonical.data, canonical.length);
	sha256_final_hex(&hash, hex);
	sha256_release(&hash);
	buf_release(&canonical);
	buf_printf(out, "AWS4-HMAC-SHA256\n%s\n", r->amz_date);
	scope(r, out);
	buf_printf(out, "\n%s", hex);
}

/* HMAC-SHA256 of `data` under `key`: 32 bytes into `out`. */
static int
hmac_sha256(const void *key, size_t key_length, const char *data,
	    size_t data_length, unsigned char out[32])
{
	char digest[] = "SHA256";
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx = NULL;
	EVP_MAC *mac;
	size_t out_length = 0;
	int ok = 0;

	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac != NULL)
		ctx = EVP_MAC_CTX_new(mac);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx != NULL && EVP_MAC_init(ctx, key, key_length, params) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)data, data_length) ==
		    1 &&
	    EVP_MAC_final(ctx, out, &out_length, 32) == 1 && out_length == 32)
		ok = 1;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? 0 : -1;
}

int
sigv4_authorization(const struct sigv4_request *r,
		    const struct sigv4_credentials *c, struct buf *out,
		    struct cairn_error *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char key[32], next[32];
	struct buf secret = BUF_INIT, to_sign = BUF_INIT;
	struct encoded_pair *h;
	char signature[65];
	int rc = -1;
	size_t i;

	buf_printf(&secret, "AWS4%s", c->secret_key);
	sigv4_string_to_sign(r, &to_sign);
	if (hmac_sha256(secret.data, secret.length, r->amz_date, 8, key) ||
	    hmac_sha256(key, 32, r->region, strlen(r->region), next) ||
	    hmac_sha256(next, 32, r->service, strlen(r->service), key) ||
	    hmac_sha256(key, 32, "aws4_request", 12, next) ||
	    hmac_sha256(next, 32, to_sign.data, to_sign.length, key)) {
		error_set(err, "cannot compute an HMAC-SHA256 (libcrypto)");
		goto out;
	}
	for (i = 0; i < 32; i++) {
		signature[2 * i] = hex[key[i] >> 4];
		signature[2 * i + 1] = hex[key[i] & 15];
	}
	signature[64] = '\0';
	buf_printf(out, "AWS4-HMAC-SHA256 Credential=%s/", c->access_key);
	scope(r, out);
	buf_append_str(out, ", SignedHeaders=");
	h = canonical_headers(r);
	signed_header_list(h, r->header_count, out);
	free_pairs(h, r->header_count);
	buf_printf(out, ", Signature=%s", signature);
	rc = 0;
out:
	/* The derived keys are as secret as the secret key. */
	explicit_bzero(key, sizeof(key));
	explicit_bzero(next, sizeof(next));
	explicit_bzero(secret.data, secret.length);
	buf_release(&secret);
	buf_release(&to_sign);
	return rc;
}
