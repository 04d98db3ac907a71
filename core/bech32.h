/*
 * Bech32 (BIP 173) as age uses it for its keys: "age1..." recipients and
 * "AGE-SECRET-KEY-1..." identities. Unlike BIP 173 there is no 90
 * character limit (age's keys are longer). A string is all lower or all
 * upper case; the data part is 8-bit bytes regrouped into 5-bit words
 * with zero padding, which must be canonical on decoding.
 */
#ifndef CAIRN_BECH32_H
#define CAIRN_BECH32_H

#include <stddef.h>

/*
 * Writes hrp "1" data checksum and a NUL into out (out_size bytes), in
 * upper case when uppercase is set. hrp is given in lower case. Returns 0,
 * or -1 when out is too small or hrp is not printable ASCII.
 */
int bech32_encode(char *out, size_t out_size, const char *hrp,
		  const unsigned char *data, size_t length, int uppercase);

/*
 * Decodes s: its human-readable part, in lower case and NUL-terminated,
 * into hrp (hrp_size bytes), its data into data (data_size bytes) with its
 * length in *length. Returns 0, or -1 for mixed case, a character outside
 * the alphabet, a wrong checksum, non-zero padding or a buffer too small.
 */
int bech32_decode(const char *s, char *hrp, size_t hrp_size,
		  unsigned char *data, size_t data_size, size_t *length);

#endif
