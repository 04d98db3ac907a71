/*
 * `cairn key generate [FILE]` and `cairn key recipient FILE`: age
 * identities in age-keygen's format, so that either tool's keys work in
 * the other. Neither needs a configuration or a repository.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "age_keys.h"
#include "buf.h"
#include "commands.h"
#include "error.h"
#include "fsutil.h"
#include "host.h"
#include "log.h"
#include "timefmt.h"

static int
key_generate(const char *path)
{
	char identity[AGE_IDENTITY_STRING_SIZE + 1];
	char recipient[AGE_RECIPIENT_SIZE + 1];
	char created[TIMEFMT_RFC3339_SIZE];
	unsigned char public_key[32];
	struct buf text = BUF_INIT;
	int fd = STDOUT_FILENO, status = EXIT_JOB_FAILED;

	if (age_identity_generate(identity, public_key) != 0) {
		log_error("cannot generate an identity (libcrypto failed)");
		return EXIT_JOB_FAILED;
	}
	age_recipient_format(public_key, recipient);
	timefmt_rfc3339(timefmt_now(), 0, created, sizeof(created));
	buf_printf(&text, "# created: %s\n# public key: %s\n%s\n", created,
		   recipient, identity);
	OPENSSL_cleanse(identity, sizeof(identity));
	if (path != NULL) {
		/* Never over an existing key: that would lose it. */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			log_error("cannot create identity file '%s': %s", path,
				  strerror(errno));
			goto out;
		}
	}
	if (fsutil_write_all(fd, text.data, text.length) != 0 ||
	    (path != NULL && fsync(fd) != 0)) {
		log_error("cannot write identity file '%s': %s",
			  path ? path : "-", strerror(errno));
		if (path != NULL) {
			close(fd);
			unlink(path);
		}
		goto out;
	}
	if (path != NULL && close(fd) != 0) {
		log_error("cannot write identity file '%s': %s", path,
			  strerror(errno));
		unlink(path);
		goto out;
	}
	/* As age-keygen: the public key for the operator, on stderr when
	 * stdout carries the identity itself. */
	if (path != NULL)
		printf("%s\n", recipient);
	else
		fprintf(stderr, "Public key: %s\n", recipient);
	status = EXIT_OK;
out:
	OPENSSL_cleanse(text.data, text.length);
	buf_release(&text);
	return status;
}

static int
key_recipient(const char *path)
{
	struct age_identities ids = {0};
	struct cairn_error err;
	char *secret = NULL;
	size_t i;

	if (host_secret_read(path, &secret, &err) != 0) {
		log_error("%s", err.message);
		return errno == ENOENT ? EXIT_NOT_FOUND : EXIT_JOB_FAILED;
	}
	if (age_identities_parse(&ids, secret, path, &err) != 0) {
		host_secret_free(secret);
		age_identities_release(&ids);
		log_error("%s", err.message);
		return EXIT_CONFIG;
	}
	host_secret_free(secret);
	for (i = 0; i < ids.count; i++) {
		char recipient[AGE_RECIPIENT_SIZE + 1];

		age_recipient_format(ids.items[i].public_key, recipient);
		printf("%s\n", recipient);
	}
	age_identities_release(&ids);
	return EXIT_OK;
}

int
cmd_key(const struct options *o)
{
	const char *verb = o->args[0];

	if (strcmp(verb, "generate") == 0 && o->arg_count <= 2)
		return key_generate(o->arg_count == 2 ? o->args[1] : NULL);
	if (strcmp(verb, "recipient") == 0 && o->arg_count == 2)
		return key_recipient(o->args[1]);
	log_error("usage: cairn key generate [FILE] | cairn key recipient "
		  "FILE");
	return EXIT_USAGE;
}
