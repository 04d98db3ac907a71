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

#include "error.h"
#include "fsutil.h"
#include "host.h"

/* A recipients file is public and small; more than this is a mistake. */
#define RECIPIENTS_FILE_LIMIT (1024 * 1024)

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
			error_set(err, "%s:%u: '%.80s' is not an age X25519 "
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
		error_set(err, "no identity-file or passphrase-file in "
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
encryption_describe_recipients(const struct age_recipients *r,
			       struct buf *out)
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
