/*
 * age_keys.h: the X25519 and scrypt recipient types of the age spec, the
 * identity file format of age-keygen, and the header MAC.
 */
#include "age_keys.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "age_crypto.h"
#include "bech32.h"
#include "error.h"

#define AGE_X25519_INFO "age-encryption.org/v1/X25519"
#define AGE_SCRYPT_LABEL "age-encryption.org/v1/scrypt"
#define AGE_WRAPPED_SIZE (AGE_FILE_KEY_SIZE + AGE_TAG_SIZE)

static const unsigned char age_zero_nonce[AGE_NONCE_SIZE];

void
age_identities_release(struct age_identities *ids)
{
	size_t i;

	for (i = 0; i < ids->count; i++) {
		struct age_identity *id = &ids->items[i];

		if (id->passphrase != NULL) {
			OPENSSL_cleanse(id->passphrase, id->passphrase_length);
			free(id->passphrase);
		}
	}
	if (ids->items != NULL)
		OPENSSL_cleanse(ids->items, ids->count * sizeof(*ids->items));
	free(ids->items);
	ids->items = NULL;
	ids->count = 0;
}

void
age_recipients_release(struct age_recipients *r)
{
	free(r->keys);
	if (r->passphrase != NULL) {
		OPENSSL_cleanse(r->passphrase, r->passphrase_length);
		free(r->passphrase);
	}
	memset(r, 0, sizeof(*r));
}

static struct age_identity *
age_identities_append(struct age_identities *ids)
{
	struct age_identity *grown = xcalloc(ids->count + 1, sizeof(*grown));

	/* Copied by hand so no stale copy of a secret stays on the heap. */
	if (ids->count > 0) {
		memcpy(grown, ids->items, ids->count * sizeof(*grown));
		OPENSSL_cleanse(ids->items, ids->count * sizeof(*grown));
	}
	free(ids->items);
	ids->items = grown;
	return &ids->items[ids->count++];
}

static int
age_identity_decode(const char *text, unsigned char secret[32])
{
	char hrp[32];
	size_t length = 0;

	if (strncmp(text, "AGE-SECRET-KEY-1", 16) != 0)
		return -1;
	if (bech32_decode(text, hrp, sizeof(hrp), secret, 32, &length) < 0 ||
	    strcmp(hrp, "age-secret-key-") != 0 || length != 32) {
		OPENSSL_cleanse(secret, 32);
		return -1;
	}
	return 0;
}

int
age_identities_add_x25519(struct age_identities *ids, const char *text,
			  struct cairn_error *err)
{
	unsigned char secret[32], public_key[32];
	struct age_identity *id;

	if (age_identity_decode(text, secret) < 0) {
		error_set(err, "not an age X25519 identity "
			       "(AGE-SECRET-KEY-1...)");
		return -1;
	}
	if (age_x25519_public(secret, public_key) < 0) {
		OPENSSL_cleanse(secret, sizeof(secret));
		error_set(err, "cannot compute the public key of an identity");
		return -1;
	}
	id = age_identities_append(ids);
	id->kind = AGE_IDENTITY_X25519;
	memcpy(id->secret, secret, 32);
	memcpy(id->public_key, public_key, 32);
	OPENSSL_cleanse(secret, sizeof(secret));
	return 0;
}

int
age_identities_parse(struct age_identities *ids, const char *text,
		     const char *file, struct cairn_error *err)
{
	const char *line = text;
	unsigned int number = 0;
	size_t before = ids->count;

	while (*line != '\0') {
		const char *end = strchr(line, '\n');
		size_t length = end != NULL ? (size_t)(end - line)
					    : strlen(line);
		char one[128];

		number++;
		while (length > 0 &&
		       (line[length - 1] == '\r' || line[length - 1] == ' ' ||
			line[length - 1] == '\t'))
			length--;
		if (length > 0 && line[0] != '#') {
			if (length >= sizeof(one)) {
				error_set(err,
					  "%s:%u: not an age identity "
					  "(line too long)",
					  file, number);
				return -1;
			}
			memcpy(one, line, length);
			one[length] = '\0';
			if (age_identities_add_x25519(ids, one, err) < 0) {
				OPENSSL_cleanse(one, sizeof(one));
				error_prefix(err, "%s:%u", file, number);
				return -1;
			}
			OPENSSL_cleanse(one, sizeof(one));
		}
		if (end == NULL)
			break;
		line = end + 1;
	}
	if (ids->count == before) {
		error_set(err, "%s: no identity in the file", file);
		return -1;
	}
	return 0;
}

void
age_identities_add_passphrase(struct age_identities *ids,
			      const char *passphrase, size_t length)
{
	struct age_identity *id = age_identities_append(ids);

	id->kind = AGE_IDENTITY_PASSPHRASE;
	id->passphrase = xmalloc(length + 1);
	memcpy(id->passphrase, passphrase, length);
	id->passphrase[length] = '\0';
	id->passphrase_length = length;
}

int
age_recipient_parse(const char *text, unsigned char public_key[32])
{
	char hrp[8];
	size_t length = 0;

	if (strncmp(text, "age1", 4) != 0)
		return -1;
	if (bech32_decode(text, hrp, sizeof(hrp), public_key, 32, &length) <
		    0 ||
	    strcmp(hrp, "age") != 0 || length != 32)
		return -1;
	return 0;
}

void
age_recipients_add(struct age_recipients *r, const unsigned char public_key[32])
{
	r->keys = xrealloc(r->keys, (r->count + 1) * sizeof(*r->keys));
	memcpy(r->keys[r->count++], public_key, 32);
}

void
age_recipient_format(const unsigned char public_key[32],
		     char out[AGE_RECIPIENT_SIZE + 1])
{
	/* Cannot fail: the size is exact for 32 bytes. */
	(void)bech32_encode(out, AGE_RECIPIENT_SIZE + 1, "age", public_key, 32,
			    0);
}

int
age_identity_generate(char out[AGE_IDENTITY_STRING_SIZE + 1],
		      unsigned char public_key[32])
{
	unsigned char secret[32];
	int rc = -1;

	if (age_random(secret, sizeof(secret)) == 0 &&
	    age_x25519_public(secret, public_key) == 0 &&
	    bech32_encode(out, AGE_IDENTITY_STRING_SIZE + 1, "age-secret-key-",
			  secret, 32, 1) == 0)
		rc = 0;
	OPENSSL_cleanse(secret, sizeof(secret));
	return rc;
}

int
age_identity_public(const char *text, unsigned char public_key[32])
{
	unsigned char secret[32];
	int rc;

	if (age_identity_decode(text, secret) < 0)
		return -1;
	rc = age_x25519_public(secret, public_key);
	OPENSSL_cleanse(secret, sizeof(secret));
	return rc;
}

/* Decodes an argument that must be exactly size bytes of base64. */
static int
age_decode_exact(const char *text, unsigned char *out, size_t size)
{
	unsigned char decoded[64];
	size_t length = strlen(text);

	if (length > (sizeof(decoded) * 4) / 3 ||
	    age_base64_decode(text, length, decoded) != (long)size)
		return -1;
	memcpy(out, decoded, size);
	return 0;
}

/* The scrypt work factor: a decimal in 1..22 without sign or zeros. */
static int
age_parse_work_factor(const char *text, unsigned int *log_n)
{
	size_t length = strlen(text), i;
	unsigned int value = 0;

	if (length == 0 || length > 2 || text[0] == '0')
		return -1;
	for (i = 0; i < length; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		value = value * 10 + (unsigned int)(text[i] - '0');
	}
	*log_n = value;
	return 0;
}

static enum age_status
age_unwrap_x25519(const struct age_stanza *s, const struct age_identity *id,
		  unsigned char file_key[AGE_FILE_KEY_SIZE],
		  struct cairn_error *err)
{
	unsigned char share[32], shared[32], salt[64], wrap_key[32];
	enum age_status status = AGE_SYSTEM_FAILURE;
	int rc;

	if (s->arg_count != 1 || age_decode_exact(s->args[0], share, 32) < 0) {
		error_set(err, "malformed X25519 stanza (its share)");
		return AGE_HEADER_FAILURE;
	}
	if (s->body_length != AGE_WRAPPED_SIZE) {
		error_set(err,
			  "malformed X25519 stanza (a body of %zu bytes, "
			  "not 32)",
			  s->body_length);
		return AGE_HEADER_FAILURE;
	}
	rc = age_x25519_shared(id->secret, share, shared);
	if (rc != 0) {
		error_set(err, rc > 0 ? "X25519 stanza with a low-order share "
					"(all-zero shared secret)"
				      : "X25519 failed in libcrypto");
		status = rc > 0 ? AGE_HEADER_FAILURE : AGE_SYSTEM_FAILURE;
		goto out;
	}
	memcpy(salt, share, 32);
	memcpy(salt + 32, id->public_key, 32);
	if (age_hkdf(shared, 32, salt, 64, AGE_X25519_INFO, wrap_key, 32) < 0) {
		error_set(err, "HKDF failed in libcrypto");
		goto out;
	}
	rc = age_aead_open_once(wrap_key, age_zero_nonce, s->body,
				s->body_length, file_key);
	if (rc == 0)
		status = AGE_OK;
	else if (rc > 0)
		status = AGE_NO_MATCH;
	else
		error_set(err, "ChaCha20-Poly1305 failed in libcrypto");
out:
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(wrap_key, sizeof(wrap_key));
	return status;
}

static enum age_status
age_unwrap_scrypt(const struct age_stanza *s, const struct age_identity *id,
		  unsigned char file_key[AGE_FILE_KEY_SIZE],
		  struct cairn_error *err)
{
	unsigned char salt[sizeof(AGE_SCRYPT_LABEL) - 1 + 16], key[32];
	size_t label = sizeof(AGE_SCRYPT_LABEL) - 1;
	enum age_status status = AGE_SYSTEM_FAILURE;
	unsigned int log_n = 0;
	int rc;

	memcpy(salt, AGE_SCRYPT_LABEL, label);
	if (s->arg_count != 2 ||
	    age_decode_exact(s->args[0], salt + label, 16) < 0) {
		error_set(err, "malformed scrypt stanza (its salt)");
		return AGE_HEADER_FAILURE;
	}
	if (age_parse_work_factor(s->args[1], &log_n) < 0) {
		error_set(err, "malformed scrypt stanza (its work factor)");
		return AGE_HEADER_FAILURE;
	}
	if (log_n > AGE_SCRYPT_MAX_LOG_N) {
		error_set(err, "scrypt work factor %u is above the limit of %d",
			  log_n, AGE_SCRYPT_MAX_LOG_N);
		return AGE_HEADER_FAILURE;
	}
	if (s->body_length != AGE_WRAPPED_SIZE) {
		error_set(err,
			  "malformed scrypt stanza (a body of %zu bytes, "
			  "not 32)",
			  s->body_length);
		return AGE_HEADER_FAILURE;
	}
	if (age_scrypt(id->passphrase, id->passphrase_length, salt,
		       sizeof(salt), log_n, key) < 0) {
		error_set(err, "scrypt failed in libcrypto (out of memory?)");
		goto out;
	}
	rc = age_aead_open_once(key, age_zero_nonce, s->body, s->body_length,
				file_key);
	if (rc == 0)
		status = AGE_OK;
	else if (rc > 0)
		status = AGE_NO_MATCH;
	else
		error_set(err, "ChaCha20-Poly1305 failed in libcrypto");
out:
	OPENSSL_cleanse(key, sizeof(key));
	return status;
}

static enum age_status
age_unwrap_one(const struct age_stanza *s, const struct age_identity *id,
	       unsigned char file_key[AGE_FILE_KEY_SIZE],
	       struct cairn_error *err)
{
	/* A stanza of another type, or in another case, is not for us. */
	if (id->kind == AGE_IDENTITY_X25519 && strcmp(s->type, "X25519") == 0)
		return age_unwrap_x25519(s, id, file_key, err);
	if (id->kind == AGE_IDENTITY_PASSPHRASE &&
	    strcmp(s->type, "scrypt") == 0)
		return age_unwrap_scrypt(s, id, file_key, err);
	return AGE_NO_MATCH;
}

static int
age_header_mac(const unsigned char file_key[AGE_FILE_KEY_SIZE],
	       const void *data, size_t length, unsigned char mac[32])
{
	unsigned char key[32];
	int rc = -1;

	if (age_hkdf(file_key, AGE_FILE_KEY_SIZE, NULL, 0, "header", key, 32) ==
		    0 &&
	    age_hmac(key, 32, data, length, mac) == 0)
		rc = 0;
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

enum age_status
age_unwrap_file_key(const struct age_header *header, const unsigned char *raw,
		    const struct age_identities *ids,
		    unsigned char file_key[AGE_FILE_KEY_SIZE],
		    struct cairn_error *err)
{
	enum age_status status = AGE_NO_MATCH;
	unsigned char mac[32];
	size_t i, j;

	for (i = 0; i < header->count; i++)
		if (strcmp(header->stanzas[i].type, "scrypt") == 0 &&
		    header->count != 1) {
			error_set(err, "an scrypt stanza is not alone in the "
				       "header");
			return AGE_HEADER_FAILURE;
		}
	for (i = 0; i < ids->count && status == AGE_NO_MATCH; i++)
		for (j = 0; j < header->count && status == AGE_NO_MATCH; j++)
			status = age_unwrap_one(&header->stanzas[j],
						&ids->items[i], file_key, err);
	if (status == AGE_NO_MATCH) {
		error_set(err,
			  "no identity matches any of the %zu "
			  "recipient(s) of the file",
			  header->count);
		return status;
	}
	if (status != AGE_OK)
		return status;
	if (age_header_mac(file_key, raw, header->mac_input_length, mac) < 0) {
		OPENSSL_cleanse(file_key, AGE_FILE_KEY_SIZE);
		error_set(err, "HMAC failed in libcrypto");
		return AGE_SYSTEM_FAILURE;
	}
	if (CRYPTO_memcmp(mac, header->mac, sizeof(mac)) != 0) {
		OPENSSL_cleanse(file_key, AGE_FILE_KEY_SIZE);
		error_set(err, "the header's MAC does not verify");
		return AGE_HMAC_FAILURE;
	}
	return AGE_OK;
}

static void
age_stanza_set(struct age_stanza *s, const char *type, const char *arg0,
	       const char *arg1, const unsigned char *body)
{
	s->type = xstrdup(type);
	s->arg_count = arg1 != NULL ? 2 : 1;
	s->args = xcalloc(s->arg_count, sizeof(char *));
	s->args[0] = xstrdup(arg0);
	if (arg1 != NULL)
		s->args[1] = xstrdup(arg1);
	s->body = xmalloc(AGE_WRAPPED_SIZE);
	memcpy(s->body, body, AGE_WRAPPED_SIZE);
	s->body_length = AGE_WRAPPED_SIZE;
}

static int
age_wrap_x25519(const unsigned char recipient[32],
		const unsigned char file_key[AGE_FILE_KEY_SIZE],
		struct age_stanza *s)
{
	unsigned char ephemeral[32], share[32], shared[32], salt[64];
	unsigned char wrap_key[32], body[AGE_WRAPPED_SIZE];
	struct buf encoded = BUF_INIT;
	int rc = -1;

	if (age_random(ephemeral, 32) < 0 ||
	    age_x25519_public(ephemeral, share) < 0 ||
	    age_x25519_shared(ephemeral, recipient, shared) != 0)
		goto out;
	memcpy(salt, share, 32);
	memcpy(salt + 32, recipient, 32);
	if (age_hkdf(shared, 32, salt, 64, AGE_X25519_INFO, wrap_key, 32) < 0 ||
	    age_aead_seal_once(wrap_key, age_zero_nonce, file_key,
			       AGE_FILE_KEY_SIZE, body) < 0)
		goto out;
	age_base64_encode(share, 32, &encoded);
	age_stanza_set(s, "X25519", buf_str(&encoded), NULL, body);
	rc = 0;
out:
	buf_release(&encoded);
	OPENSSL_cleanse(ephemeral, sizeof(ephemeral));
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(wrap_key, sizeof(wrap_key));
	return rc;
}

static int
age_wrap_scrypt(const struct age_recipients *r,
		const unsigned char file_key[AGE_FILE_KEY_SIZE],
		struct age_stanza *s)
{
	unsigned char salt[sizeof(AGE_SCRYPT_LABEL) - 1 + 16], key[32];
	unsigned char body[AGE_WRAPPED_SIZE];
	size_t label = sizeof(AGE_SCRYPT_LABEL) - 1;
	unsigned int log_n = r->scrypt_log_n ? r->scrypt_log_n
					     : AGE_SCRYPT_LOG_N;
	struct buf encoded = BUF_INIT;
	char work_factor[16];
	int rc = -1;

	memcpy(salt, AGE_SCRYPT_LABEL, label);
	if (age_random(salt + label, 16) < 0 ||
	    age_scrypt(r->passphrase, r->passphrase_length, salt, sizeof(salt),
		       log_n, key) < 0 ||
	    age_aead_seal_once(key, age_zero_nonce, file_key, AGE_FILE_KEY_SIZE,
			       body) < 0)
		goto out;
	age_base64_encode(salt + label, 16, &encoded);
	snprintf(work_factor, sizeof(work_factor), "%u", log_n);
	age_stanza_set(s, "scrypt", buf_str(&encoded), work_factor, body);
	rc = 0;
out:
	buf_release(&encoded);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int
age_header_build(const struct age_recipients *r,
		 const unsigned char file_key[AGE_FILE_KEY_SIZE],
		 struct buf *out, struct cairn_error *err)
{
	struct age_header header = {0};
	unsigned char mac[32];
	size_t start = out->length, i;
	int rc = -1;

	if (r->passphrase == NULL && r->count == 0) {
		error_set(err, "no recipient to encrypt to");
		return -1;
	}
	header.count = r->passphrase != NULL ? 1 : r->count;
	header.stanzas = xcalloc(header.count, sizeof(*header.stanzas));
	for (i = 0; i < header.count; i++) {
		int wrapped = r->passphrase != NULL
				      ? age_wrap_scrypt(r, file_key,
							&header.stanzas[i])
				      : age_wrap_x25519(r->keys[i], file_key,
							&header.stanzas[i]);

		if (wrapped < 0) {
			error_set(err, "cannot wrap the file key in "
				       "libcrypto");
			goto out;
		}
	}
	age_header_marshal_without_mac(header.stanzas, header.count, out);
	if (age_header_mac(file_key, out->data + start, out->length - start,
			   mac) < 0) {
		error_set(err, "HMAC failed in libcrypto");
		goto out;
	}
	buf_append_char(out, ' ');
	age_base64_encode(mac, sizeof(mac), out);
	buf_append_char(out, '\n');
	rc = 0;
out:
	age_header_release(&header);
	return rc;
}

int
age_payload_key(const unsigned char file_key[AGE_FILE_KEY_SIZE],
		const unsigned char nonce[16], unsigned char key[32])
{
	return age_hkdf(file_key, AGE_FILE_KEY_SIZE, nonce, 16, "payload", key,
			32);
}
