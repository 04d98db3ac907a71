/*
 * age's keys and the stanzas that carry a file key: X25519 recipients
 * ("age1...") and identities ("AGE-SECRET-KEY-1..."), and scrypt for a
 * passphrase. Secrets (identities, passphrases, file keys) live only in
 * memory this module allocates and wipes on release.
 */
#ifndef CAIRN_AGE_KEYS_H
#define CAIRN_AGE_KEYS_H

#include <stddef.h>

#include <cairn/plugin.h>

#include "age_header.h"
#include "buf.h"

#define AGE_FILE_KEY_SIZE 16
/* "age1" + 52 data characters + 6 checksum characters. */
#define AGE_RECIPIENT_SIZE 62
/* "AGE-SECRET-KEY-1" + 52 + 6 characters. */
#define AGE_IDENTITY_STRING_SIZE 74
/* age's default for new files: 2^18 iterations, 256 MiB, about 1 s. */
#define AGE_SCRYPT_LOG_N 18
/* age's cap when reading: more would take minutes and gigabytes. */
#define AGE_SCRYPT_MAX_LOG_N 22

/* The outcome of reading a header, matching the age test vectors' kinds. */
enum age_status {
	AGE_OK = 0,
	AGE_HEADER_FAILURE = 1, /* malformed, or a stanza age refuses */
	AGE_HMAC_FAILURE = 2,	/* the header's MAC does not verify */
	AGE_NO_MATCH = 3,	/* no identity opens any stanza */
	AGE_PAYLOAD_FAILURE = 4,
	AGE_SYSTEM_FAILURE = 5, /* I/O or libcrypto, not the file */
};

enum age_identity_kind {
	AGE_IDENTITY_X25519,
	AGE_IDENTITY_PASSPHRASE,
};

struct age_identity {
	enum age_identity_kind kind;
	unsigned char secret[32];     /* X25519 */
	unsigned char public_key[32]; /* X25519 */
	char *passphrase;	      /* owned, wiped; passphrase kind */
	size_t passphrase_length;
};

/* Owns its items; age_identities_release wipes and frees them. */
struct age_identities {
	struct age_identity *items;
	size_t count;
};

/* What a new file is encrypted to: public keys, or one passphrase. */
struct age_recipients {
	unsigned char (*keys)[32]; /* owned */
	size_t count;
	char *passphrase; /* owned, wiped; instead of keys */
	size_t passphrase_length;
	unsigned int scrypt_log_n; /* 0: AGE_SCRYPT_LOG_N */
};

void age_identities_release(struct age_identities *ids);
void age_recipients_release(struct age_recipients *r);

/*
 * Parses one "AGE-SECRET-KEY-1..." string and appends it to ids.
 * Returns 0 or -1 (err says why, without the key).
 */
int age_identities_add_x25519(struct age_identities *ids, const char *text,
			      struct cairn_error *err);

/*
 * Parses an identity file's text (age-keygen's format: one identity a
 * line, '#' comments, blank lines), appending every identity to ids. The
 * error names file and line.
 */
int age_identities_parse(struct age_identities *ids, const char *text,
			 const char *file, struct cairn_error *err);

/* Appends a passphrase identity (copied). */
void age_identities_add_passphrase(struct age_identities *ids,
				   const char *passphrase, size_t length);

/* Parses "age1..." into a 32-byte public key; 0 or -1. */
int age_recipient_parse(const char *text, unsigned char public_key[32]);

/* Appends one public key to r. */
void age_recipients_add(struct age_recipients *r,
			const unsigned char public_key[32]);

/* The "age1..." string of a public key, NUL-terminated. */
void age_recipient_format(const unsigned char public_key[32],
			  char out[AGE_RECIPIENT_SIZE + 1]);

/* A new identity: its "AGE-SECRET-KEY-1..." string and public key. */
int age_identity_generate(char out[AGE_IDENTITY_STRING_SIZE + 1],
			  unsigned char public_key[32]);

/* The public key of a parsed identity string. */
int age_identity_public(const char *text, unsigned char public_key[32]);

/*
 * Finds the file key: checks the header's rules that do not depend on
 * keys (an scrypt stanza alone), tries every stanza with every identity,
 * then verifies the header's MAC over raw (the header's bytes). Returns
 * an age_status; err says what is wrong on every status but AGE_OK.
 */
enum age_status age_unwrap_file_key(const struct age_header *header,
				    const unsigned char *raw,
				    const struct age_identities *ids,
				    unsigned char file_key[AGE_FILE_KEY_SIZE],
				    struct cairn_error *err);

/*
 * Builds a whole header (stanzas for every recipient or the passphrase,
 * and the MAC) for file_key, appending it to out. 0 or -1.
 */
int age_header_build(const struct age_recipients *r,
		     const unsigned char file_key[AGE_FILE_KEY_SIZE],
		     struct buf *out, struct cairn_error *err);

/* The 32-byte payload key: HKDF(file key, salt nonce, "payload"). */
int age_payload_key(const unsigned char file_key[AGE_FILE_KEY_SIZE],
		    const unsigned char nonce[16], unsigned char key[32]);

#endif
