/*
 * The primitives age v1 is built of, each a thin wrapper over OpenSSL 3's
 * libcrypto: HKDF-SHA-256, HMAC-SHA-256, ChaCha20-Poly1305, X25519,
 * scrypt and the random generator. Nothing here is implemented by hand.
 * Every function returns 0, or -1 when libcrypto fails (out of memory,
 * provider missing); authentication and low-order failures say so
 * separately where they can happen.
 */
#ifndef CAIRN_AGE_CRYPTO_H
#define CAIRN_AGE_CRYPTO_H

#include <stddef.h>

#define AGE_KEY_SIZE 32
#define AGE_TAG_SIZE 16
#define AGE_NONCE_SIZE 12

/* HKDF-SHA-256 (RFC 5869); salt may be NULL for an empty salt. */
int age_hkdf(const void *ikm, size_t ikm_length, const void *salt,
	     size_t salt_length, const char *info, void *out,
	     size_t out_length);

/* HMAC-SHA-256 of data under key into mac (32 bytes). */
int age_hmac(const void *key, size_t key_length, const void *data,
	     size_t length, unsigned char mac[32]);

/* Fills buffer from the CSPRNG. */
int age_random(void *buffer, size_t length);

/*
 * A ChaCha20-Poly1305 context keyed once and used for many nonces, as the
 * STREAM of the payload does. age_aead_init copies the key into
 * OpenSSL's context; age_aead_release frees and wipes it.
 */
struct age_aead {
	void *context; /* EVP_CIPHER_CTX, owned */
};

int age_aead_init(struct age_aead *aead, const unsigned char key[32]);
/* A second context with the same key, for another thread. 0 or -1. */
int age_aead_copy(struct age_aead *copy, const struct age_aead *aead);
void age_aead_release(struct age_aead *aead);

/* Writes length bytes of ciphertext then the 16-byte tag into out. */
int age_aead_seal(struct age_aead *aead,
		  const unsigned char nonce[AGE_NONCE_SIZE],
		  const void *plaintext, size_t length, unsigned char *out);

/*
 * Decrypts length bytes (ciphertext and tag, length >= 16) into out
 * (length - 16 bytes). OpenSSL writes plaintext into out before it checks
 * the tag: on 1 (authentication failed) out holds unauthenticated bytes
 * that the caller must discard, and this function wipes them itself.
 * Returns 0, 1 when the tag does not verify, -1 on a libcrypto failure.
 */
int age_aead_open(struct age_aead *aead,
		  const unsigned char nonce[AGE_NONCE_SIZE],
		  const unsigned char *ciphertext, size_t length,
		  unsigned char *out);

/* One-shot forms with a fresh context, for stanza bodies. */
int age_aead_seal_once(const unsigned char key[32],
		       const unsigned char nonce[AGE_NONCE_SIZE],
		       const void *plaintext, size_t length,
		       unsigned char *out);
int age_aead_open_once(const unsigned char key[32],
		       const unsigned char nonce[AGE_NONCE_SIZE],
		       const unsigned char *ciphertext, size_t length,
		       unsigned char *out);

/* The X25519 public key of a 32-byte secret scalar. */
int age_x25519_public(const unsigned char secret[32],
		      unsigned char public_key[32]);

/*
 * X25519(secret, peer) into shared. Returns 0, 1 when the result is the
 * all-zero value of a low-order peer point (age refuses it), -1 when
 * libcrypto fails.
 */
int age_x25519_shared(const unsigned char secret[32],
		      const unsigned char peer[32], unsigned char shared[32]);

/*
 * scrypt with N = 2^log_n, r = 8, p = 1 into out (32 bytes); memory is
 * 128 * r * N bytes, 256 MiB at log_n 18.
 */
int age_scrypt(const void *passphrase, size_t passphrase_length,
	       const void *salt, size_t salt_length, unsigned int log_n,
	       unsigned char out[32]);

#endif
