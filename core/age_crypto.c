/*
 * age_crypto.h over OpenSSL 3: EVP_PKEY_HKDF for HKDF, EVP_MAC for HMAC,
 * EVP_CIPHER for ChaCha20-Poly1305, EVP_PKEY for X25519, EVP_PBE_scrypt.
 */
#include "age_crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

int
age_hkdf(const void *ikm, size_t ikm_length, const void *salt,
	 size_t salt_length, const char *info, void *out, size_t out_length)
{
	/* EVP_PKEY's HKDF takes its inputs const, unlike OSSL_PARAM's. */
	EVP_PKEY_CTX *context = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t length = out_length;
	int rc = -1;

	if (context == NULL)
		return -1;
	/* An empty salt is HKDF's default: a hash-length string of zeros. */
	if (ikm_length <= INT_MAX && salt_length <= INT_MAX &&
	    strlen(info) <= INT_MAX && EVP_PKEY_derive_init(context) == 1 &&
	    EVP_PKEY_CTX_set_hkdf_md(context, EVP_sha256()) == 1 &&
	    EVP_PKEY_CTX_set1_hkdf_key(context, ikm, (int)ikm_length) == 1 &&
	    (salt == NULL || salt_length == 0 ||
	     EVP_PKEY_CTX_set1_hkdf_salt(context, salt, (int)salt_length) ==
		     1) &&
	    EVP_PKEY_CTX_add1_hkdf_info(context, (const unsigned char *)info,
					(int)strlen(info)) == 1 &&
	    EVP_PKEY_derive(context, out, &length) == 1 && length == out_length)
		rc = 0;
	EVP_PKEY_CTX_free(context);
	return rc;
}

int
age_hmac(const void *key, size_t key_length, const void *data, size_t length,
	 unsigned char mac[32])
{
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *context = NULL;
	char digest[] = "SHA256"; /* OSSL_PARAM wants a char * */
	OSSL_PARAM params[2];
	size_t mac_length = 0;
	int rc = -1;

	if (hmac == NULL)
		return -1;
	context = EVP_MAC_CTX_new(hmac);
	if (context == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(context, key, key_length, params) != 1 ||
	    EVP_MAC_update(context, data, length) != 1 ||
	    EVP_MAC_final(context, mac, &mac_length, 32) != 1 ||
	    mac_length != 32)
		goto out;
	rc = 0;
out:
	EVP_MAC_CTX_free(context);
	EVP_MAC_free(hmac);
	return rc;
}

int
age_random(void *buffer, size_t length)
{
	if (length > INT32_MAX)
		return -1;
	return RAND_bytes(buffer, (int)length) == 1 ? 0 : -1;
}

int
age_aead_init(struct age_aead *aead, const unsigned char key[32])
{
	EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();

	aead->context = context;
	if (context == NULL)
		return -1;
	/* Keyed once; every seal or open sets only its nonce. */
	if (EVP_CipherInit_ex(context, EVP_chacha20_poly1305(), NULL, key, NULL,
			      1) != 1) {
		EVP_CIPHER_CTX_free(context);
		aead->context = NULL;
		return -1;
	}
	return 0;
}

int
age_aead_copy(struct age_aead *copy, const struct age_aead *aead)
{
	EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();

	copy->context = context;
	if (context == NULL)
		return -1;
	if (EVP_CIPHER_CTX_copy(context, aead->context) != 1) {
		EVP_CIPHER_CTX_free(context);
		copy->context = NULL;
		return -1;
	}
	return 0;
}

void
age_aead_release(struct age_aead *aead)
{
	/* EVP_CIPHER_CTX_free cleanses the key schedule. */
	EVP_CIPHER_CTX_free(aead->context);
	aead->context = NULL;
}

static int
age_aead_length_fits(size_t length)
{
	return length <= INT32_MAX;
}

int
age_aead_seal(struct age_aead *aead, const unsigned char nonce[AGE_NONCE_SIZE],
	      const void *plaintext, size_t length, unsigned char *out)
{
	EVP_CIPHER_CTX *context = aead->context;
	int n = 0, tail = 0;

	if (!age_aead_length_fits(length) ||
	    EVP_CipherInit_ex(context, NULL, NULL, NULL, nonce, 1) != 1)
		return -1;
	if (length > 0 &&
	    EVP_EncryptUpdate(context, out, &n, plaintext, (int)length) != 1)
		return -1;
	if (EVP_EncryptFinal_ex(context, out + n, &tail) != 1 ||
	    (size_t)n + (size_t)tail != length)
		return -1;
	if (EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, AGE_TAG_SIZE,
				out + length) != 1)
		return -1;
	return 0;
}

int
age_aead_open(struct age_aead *aead, const unsigned char nonce[AGE_NONCE_SIZE],
	      const unsigned char *ciphertext, size_t length,
	      unsigned char *out)
{
	EVP_CIPHER_CTX *context = aead->context;
	size_t body = length - AGE_TAG_SIZE;
	unsigned char tag[AGE_TAG_SIZE];
	int n = 0, tail = 0;

	if (length < AGE_TAG_SIZE || !age_aead_length_fits(length) ||
	    EVP_CipherInit_ex(context, NULL, NULL, NULL, nonce, 0) != 1)
		return -1;
	memcpy(tag, ciphertext + body, AGE_TAG_SIZE);
	if (EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, AGE_TAG_SIZE,
				tag) != 1)
		return -1;
	if (body > 0 &&
	    EVP_DecryptUpdate(context, out, &n, ciphertext, (int)body) != 1)
		return -1;
	if (EVP_DecryptFinal_ex(context, out + n, &tail) != 1) {
		/* What DecryptUpdate wrote was never authenticated. */
		OPENSSL_cleanse(out, body);
		return 1;
	}
	return (size_t)n + (size_t)tail == body ? 0 : -1;
}

int
age_aead_seal_once(const unsigned char key[32],
		   const unsigned char nonce[AGE_NONCE_SIZE],
		   const void *plaintext, size_t length, unsigned char *out)
{
	struct age_aead aead;
	int rc;

	if (age_aead_init(&aead, key) < 0)
		return -1;
	rc = age_aead_seal(&aead, nonce, plaintext, length, out);
	age_aead_release(&aead);
	return rc;
}

int
age_aead_open_once(const unsigned char key[32],
		   const unsigned char nonce[AGE_NONCE_SIZE],
		   const unsigned char *ciphertext, size_t length,
		   unsigned char *out)
{
	struct age_aead aead;
	int rc;

	if (age_aead_init(&aead, key) < 0)
		return -1;
	rc = age_aead_open(&aead, nonce, ciphertext, length, out);
	age_aead_release(&aead);
	return rc;
}

int
age_x25519_public(const unsigned char secret[32], unsigned char public_key[32])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL,
						     secret, 32);
	size_t length = 32;
	int rc = -1;

	if (key == NULL)
		return -1;
	if (EVP_PKEY_get_raw_public_key(key, public_key, &length) == 1 &&
	    length == 32)
		rc = 0;
	EVP_PKEY_free(key);
	return rc;
}

int
age_x25519_shared(const unsigned char secret[32], const unsigned char peer[32],
		  unsigned char shared[32])
{
	static const unsigned char zero[32];
	EVP_PKEY *key = NULL, *peer_key = NULL;
	EVP_PKEY_CTX *context = NULL;
	size_t length = 32;
	int rc = -1;

	key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, secret, 32);
	peer_key = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
	if (key == NULL || peer_key == NULL)
		goto out;
	context = EVP_PKEY_CTX_new(key, NULL);
	if (context == NULL || EVP_PKEY_derive_init(context) != 1 ||
	    EVP_PKEY_derive_set_peer(context, peer_key) != 1)
		goto out;
	/*
	 * OpenSSL itself fails the derivation when the result is all zeros
	 * (a low-order point); either way the share is refused.
	 */
	if (EVP_PKEY_derive(context, shared, &length) != 1) {
		rc = 1;
		goto out;
	}
	rc = (length == 32 && CRYPTO_memcmp(shared, zero, 32) != 0) ? 0 : 1;
out:
	EVP_PKEY_CTX_free(context);
	EVP_PKEY_free(peer_key);
	EVP_PKEY_free(key);
	return rc;
}

int
age_scrypt(const void *passphrase, size_t passphrase_length, const void *salt,
	   size_t salt_length, unsigned int log_n, unsigned char out[32])
{
	uint64_t n = (uint64_t)1 << log_n, r = 8, p = 1;
	/* OpenSSL's own bound: the V array plus B, with room to spare. */
	uint64_t max_memory = 128 * r * (n + 2) + 128 * r * p + (1u << 20);

	if (log_n == 0 || log_n > 30)
		return -1;
	return EVP_PBE_scrypt(passphrase, passphrase_length, salt, salt_length,
			      n, r, p, max_memory, out, 32) == 1
		       ? 0
		       : -1;
}
