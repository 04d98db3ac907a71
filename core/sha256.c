/*
 * SHA-256 of sha256.h.
 */
#include "sha256.h"

#include <openssl/evp.h>
#include <stdio.h>

int
sha256_init(struct sha256 *hash)
{
	EVP_MD_CTX *context = EVP_MD_CTX_new();

	hash->md_context = context;
	if (context == NULL)
		return -1;
	if (EVP_DigestInit_ex(context, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(context);
		hash->md_context = NULL;
		return -1;
	}
	return 0;
}

void
sha256_update(struct sha256 *hash, const void *data, size_t length)
{
	EVP_DigestUpdate(hash->md_context, data, length);
}

void
sha256_final_hex(struct sha256 *hash, char hex[SHA256_HEX_SIZE])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int length = 0, i;

	EVP_DigestFinal_ex(hash->md_context, digest, &length);
	for (i = 0; i < length && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	hex[64] = '\0';
	EVP_DigestInit_ex(hash->md_context, EVP_sha256(), NULL);
}

void
sha256_release(struct sha256 *hash)
{
	EVP_MD_CTX_free(hash->md_context);
	hash->md_context = NULL;
}
