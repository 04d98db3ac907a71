/*
 * SHA-256 through OpenSSL's EVP interface, which uses the CPU's SHA
 * extensions where they exist.
 */
#ifndef CAIRN_SHA256_H
#define CAIRN_SHA256_H

#include <stddef.h>

#define SHA256_HEX_SIZE 65

struct sha256 {
	void *md_context; /* EVP_MD_CTX, owned */
};

/* 0, or -1 when OpenSSL cannot allocate a context. */
int sha256_init(struct sha256 *hash);
void sha256_update(struct sha256 *hash, const void *data, size_t length);
/* Writes 64 hex digits and a NUL, and resets the hash for reuse. */
void sha256_final_hex(struct sha256 *hash, char hex[SHA256_HEX_SIZE]);
void sha256_release(struct sha256 *hash);

#endif
