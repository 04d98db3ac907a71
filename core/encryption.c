/*
 * encryption.h: from configuration keys to age recipients and
 * identities.
 */
#include "encryption.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "catalog.h"
#include "age_blob.h"
#include "age_stream.h"
#include "blob.h"
#include "error.h"
#include "fsutil.h"
#include "host.h"
#include "json.h"

/* A recipients file is public and small; more than this is a mistake. */
#define RECIPIENTS_FILE_LIMIT (1024 * 1024)

static struct {
	const struct config *config;
	struct age_identities ids;
	int loaded;	/* ids holds what the configuration names */
	int key_failed; /* a read failed for want of a key */
} keyring;

void
encryption_use_config(const struct config *config)
{
	keyring.config = config;
}

void
encryption_release(void)
{
	age_identities_release(&keyring.ids);
	memset(&keyring, 0, sizeof(keyring));
}

int
encryption_key_failed(void)
{
	return keyring.key_failed;
}

int
encryption_enabled(const struct config *config)
{
	const struct encryption_config *e = &config->encryption;

	return e->recipient_count > 0 || e->recipients_file != NULL ||
	       e->passphrase_file != NULL;
}

static void
add_unique(struct age_recipients *r, const unsigned char key[32])
{
	size_t i;

	for (i = 0; i < r->count; i++)
		if (memcmp(r->keys[i], key, 32) == 0)
			return;
	age_recipients_add(r, key);
}

/* One "age1..." a line, '#' comments and blank lines, as age -R reads. */
static int
read_recipients_file(const char *path, struct age_recipients *r,
		     struct cairn_error *err)
{
	char *text = NULL, *line, *next;
	size_t length = 0, before = r->count;
	unsigned int number = 0;
	int rc = -1;

	if (fsutil_read_file(path, RECIPIENTS_FILE_LIMIT, &text, &length,
			     err) != 0) {
		error_prefix(err, "[encryption] recipients-file");
		return -1;
	}
	for (line = text; line != NULL; line = next) {
		unsigned char key[32];
		size_t n;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		number++;
		while (*line == ' ' || *line == '\t')
			line++;
		n = strlen(line);
		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' ||
				 line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (age_recipient_parse(line, key) != 0) {
			error_set(err,
				  "%s:%u: '%.80s' is not an age X25519 "
				  "recipient (age1...)",
				  path, number, line);
			goto out;
		}
		add_unique(r, key);
	}
	if (r->count == before) {
		error_set(err, "%s: no recipient in the file", path);
		goto out;
	}
	rc = 0;
out:
	free(text);
	return rc;
}

int
encryption_load_recipients(const struct config *config,
			   struct age_recipients *r, struct cairn_error *err)
{
	const struct encryption_config *e = &config->encryption;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (e->passphrase_file != NULL) {
		char *secret = NULL;

		if (host_secret_read(e->passphrase_file, &secret, err) != 0) {
			error_prefix(err, "[encryption] passphrase-file");
			return -1;
		}
		r->passphrase_length = strlen(secret);
		r->passphrase = xstrdup(secret);
		host_secret_free(secret);
		return 0;
	}
	for (i = 0; i < e->recipient_count; i++) {
		unsigned char key[32];

		/* Checked when the configuration was loaded. */
		if (age_recipient_parse(e->recipients[i], key) == 0)
			add_unique(r, key);
	}
	if (e->recipients_file != NULL &&
	    read_recipients_file(e->recipients_file, r, err) != 0) {
		age_recipients_release(r);
		return -1;
	}
	return 0;
}

/*
 * A process holding an identity must not leave it in a core file, nor
 * let another process of the same user read its memory through ptrace
 * or /proc/PID/mem. The settings outlive the identity, which is simpler
 * and costs nothing; children (hooks, pg_dump) inherit the rlimit, not
 * the identity: secret files are opened O_CLOEXEC and nothing of them
 * goes into the environment.
 */
static void
harden_process(void)
{
	struct rlimit none = {0, 0};

	(void)setrlimit(RLIMIT_CORE, &none);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int
encryption_load_identities(const struct config *config,
			   struct age_identities *ids, struct cairn_error *err)
{
	const struct encryption_config *e = &config->encryption;
	char *secret = NULL;

	memset(ids, 0, sizeof(*ids));
	if (e->identity_file == NULL && e->passphrase_file == NULL) {
		error_set(err,
			  "no identity-file or passphrase-file in "
			  "[encryption] of '%s': reading an encrypted "
			  "archive needs its identity",
			  config->file != NULL ? config->file : "-");
		return 1;
	}
	harden_process();
	if (e->identity_file != NULL) {
		int rc;

		if (host_secret_read(e->identity_file, &secret, err) != 0) {
			error_prefix(err, "[encryption] identity-file");
			return -1;
		}
		rc = age_identities_parse(ids, secret, e->identity_file, err);
		host_secret_free(secret);
		if (rc != 0) {
			age_identities_release(ids);
			return -1;
		}
	}
	if (e->passphrase_file != NULL) {
		if (host_secret_read(e->passphrase_file, &secret, err) != 0) {
			error_prefix(err, "[encryption] passphrase-file");
			age_identities_release(ids);
			return -1;
		}
		age_identities_add_passphrase(ids, secret, strlen(secret));
		host_secret_free(secret);
	}
	return 0;
}

void
encryption_describe_recipients(const struct age_recipients *r, struct buf *out)
{
	size_t i;

	if (r->passphrase != NULL) {
		buf_append_str(out, "scrypt");
		return;
	}
	for (i = 0; i < r->count; i++) {
		char text[AGE_RECIPIENT_SIZE + 1];

		age_recipient_format(r->keys[i], text);
		if (i > 0)
			buf_append_char(out, ' ');
		buf_append_str(out, text);
	}
}

void
encryption_record_set(struct catalog_record *r,
		      const struct age_recipients *recipients,
		      const char *sha256)
{
	struct json_value *e = json_new_object(), *list = json_new_array();
	size_t i;

	if (recipients->passphrase != NULL)
		json_array_append(list, json_new_string("scrypt"));
	for (i = 0; i < recipients->count; i++) {
		char text[AGE_RECIPIENT_SIZE + 1];

		age_recipient_format(recipients->keys[i], text);
		json_array_append(list, json_new_string(text));
	}
	json_object_set_string(e, "format", "age-v1");
	json_object_set(e, "recipients", list);
	json_object_set_string(e, "sha256", sha256);
	if (r->extra == NULL)
		r->extra = json_new_object();
	json_object_set(r->extra, "encryption", e);
}

void
encryption_record_set_pending(struct catalog_record *r, const char *sha256,
			      uint64_t stored)
{
	struct json_value *e = json_object_get_mutable(r->extra, "encryption");

	if (e == NULL)
		return;
	json_object_set_string(e, "pending-sha256", sha256);
	json_object_set_int64(e, "pending-stored", (int64_t)stored);
}

void
encryption_record_refresh(struct catalog_record *r, struct json_value *fresh)
{
	const struct json_value *now = json_object_get(fresh, "encryption");
	const struct json_value *before = json_object_get(r->extra,
							  "encryption");
	const char *a = now != NULL ? json_get_string(now, "sha256") : NULL;
	const char *b = before != NULL ? json_get_string(before, "sha256")
				       : NULL;

	if (now == NULL) {
		json_free(json_object_take(r->extra, "encryption"));
	} else if (a == NULL || b == NULL || strcmp(a, b) != 0) {
		if (r->extra == NULL)
			r->extra = json_new_object();
		json_object_set(r->extra, "encryption", json_clone(now));
	}
	json_free(fresh);
}

const char *
encryption_record_sha256(const struct catalog_record *r)
{
	const struct json_value *e = json_object_get(r->extra, "encryption");

	return e != NULL ? json_get_string(e, "sha256") : NULL;
}

int
encryption_open_blob(struct blob **b, struct cairn_error *err)
{
	struct blob *plain = NULL;
	enum age_status status;
	int rc;

	if (!age_blob_is_encrypted(*b))
		return 0;
	if (!keyring.loaded) {
		if (keyring.config == NULL) {
			error_set(err, "no configuration to find an identity "
				       "in");
			rc = 1;
		} else {
			rc = encryption_load_identities(keyring.config,
							&keyring.ids, err);
		}
		if (rc != 0) {
			if (rc > 0)
				keyring.key_failed = 1;
			error_prefix(err, "archive '%s' is encrypted",
				     (*b)->name);
			blob_close(*b);
			*b = NULL;
			return -1;
		}
		keyring.loaded = 1;
	}
	status = age_blob_open(&plain, *b, &keyring.ids, err);
	*b = plain;
	if (status == AGE_OK)
		return 0;
	if (status == AGE_NO_MATCH)
		keyring.key_failed = 1;
	return -1;
}

int
encryption_has_identity(void)
{
	return keyring.config != NULL &&
	       (keyring.config->encryption.identity_file != NULL ||
		keyring.config->encryption.passphrase_file != NULL);
}

static int
blob_source_read(void *self, uint64_t offset, void *buffer, size_t length,
		 size_t *got, struct cairn_error *err)
{
	return blob_read_at(self, offset, buffer, length, got, err);
}

/* The SHA-256 of the whole blob b into hex. 0 or -1. */
static int
blob_sha256(struct blob *b, char hex[SHA256_HEX_SIZE], struct cairn_error *err)
{
	enum {
		BLOCK = 1024 * 1024
	};
	unsigned char *block;
	struct sha256 hash;
	uint64_t offset = 0;
	int rc = -1;

	if (sha256_init(&hash) != 0) {
		error_set(err, "cannot allocate a SHA-256 context");
		return -1;
	}
	block = xmalloc(BLOCK);
	while (offset < b->size) {
		size_t got = 0;

		if (blob_read_at(b, offset, block, BLOCK, &got, err) != 0)
			goto out;
		if (got == 0)
			break;
		sha256_update(&hash, block, got);
		offset += got;
	}
	sha256_final_hex(&hash, hex);
	rc = 0;
out:
	sha256_release(&hash);
	free(block);
	return rc;
}

void
encryption_record_adopt(struct catalog_record *r, const char *path)
{
	char hex[SHA256_HEX_SIZE];
	struct age_recipients unknown = {0};
	struct cairn_error err;
	struct blob *b = NULL;

	if (blob_open_file(&b, path, r->id, &err) != 0)
		return;
	/* The header does not name its recipients: rekey records them. */
	if (age_blob_is_encrypted(b) && blob_sha256(b, hex, &err) == 0)
		encryption_record_set(r, &unknown, hex);
	blob_close(b);
}

int
encryption_verify_stored(const char *path, const struct catalog_record *r,
			 const char *recorded, struct cairn_error *err)
{
	char hex[SHA256_HEX_SIZE];
	struct age_source src;
	struct age_header header;
	struct buf raw = BUF_INIT;
	struct blob *b = NULL;
	int rc = -1;
	const struct json_value *e = json_object_get(r->extra, "encryption");
	const char *pending = e != NULL ? json_get_string(e, "pending-sha256")
					: NULL;
	const struct json_value *pending_stored =
		e != NULL ? json_object_get(e, "pending-stored") : NULL;

	if (blob_open_file(&b, path, r->id, err) != 0)
		return -1;
	/* Interrupted in a rekey: the new file may be the one there. */
	if (pending != NULL && pending_stored != NULL &&
	    b->size == (uint64_t)json_number(pending_stored) &&
	    b->size != r->stored)
		recorded = pending;
	else if (b->size != r->stored) {
		error_set(err,
			  "archive '%s': %llu bytes stored, the catalogue "
			  "says %llu (truncated or replaced)",
			  r->id, (unsigned long long)b->size,
			  (unsigned long long)r->stored);
		goto out;
	}
	src.read_at = blob_source_read;
	src.self = b;
	src.size = b->size;
	if (age_header_read(&src, &header, &raw, err) != AGE_OK) {
		error_prefix(err, "archive '%s'", r->id);
		goto out;
	}
	age_header_release(&header);
	if (blob_sha256(b, hex, err) != 0)
		goto out;
	if (strcmp(hex, recorded) != 0 &&
	    (pending == NULL || strcmp(hex, pending) != 0)) {
		error_set(err,
			  "archive '%s': the SHA-256 of the stored file "
			  "is %s, the catalogue says %s (damaged or "
			  "replaced)",
			  r->id, hex, recorded);
		goto out;
	}
	rc = 0;
out:
	buf_release(&raw);
	blob_close(b);
	return rc;
}
