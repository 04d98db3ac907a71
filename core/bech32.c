/*
 * Bech32 of bech32.h, after BIP 173's reference: the checksum is a BCH
 * code over the expanded human-readable part and the 5-bit data words.
 */
#include "bech32.h"

#include <stdint.h>
#include <string.h>

static const char bech32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t
bech32_polymod_step(uint32_t checksum, unsigned int value)
{
	static const uint32_t generator[5] = {0x3b6a57b2, 0x26508e6d,
					      0x1ea119fa, 0x3d4233dd,
					      0x2a1462b3};
	uint32_t top = checksum >> 25;
	int i;

	checksum = ((checksum & 0x1ffffff) << 5) ^ value;
	for (i = 0; i < 5; i++)
		if ((top >> i) & 1)
			checksum ^= generator[i];
	return checksum;
}

static uint32_t
bech32_hrp_checksum(const char *hrp, size_t hrp_length)
{
	uint32_t checksum = 1;
	size_t i;

	for (i = 0; i < hrp_length; i++)
		checksum = bech32_polymod_step(checksum,
					       (unsigned char)hrp[i] >> 5);
	checksum = bech32_polymod_step(checksum, 0);
	for (i = 0; i < hrp_length; i++)
		checksum = bech32_polymod_step(checksum,
					       (unsigned char)hrp[i] & 31);
	return checksum;
}

static char
bech32_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static char
bech32_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

int
bech32_encode(char *out, size_t out_size, const char *hrp,
	      const unsigned char *data, size_t length, int uppercase)
{
	size_t hrp_length = strlen(hrp), words = (length * 8 + 4) / 5;
	size_t needed = hrp_length + 1 + words + 6 + 1, pos = 0, i;
	uint32_t checksum, accumulator = 0;
	unsigned int bits = 0, word;

	if (hrp_length == 0 || needed > out_size)
		return -1;
	for (i = 0; i < hrp_length; i++) {
		if (hrp[i] < 33 || hrp[i] > 126)
			return -1;
		out[pos++] = hrp[i];
	}
	out[pos++] = '1';
	checksum = bech32_hrp_checksum(hrp, hrp_length);
	for (i = 0; i < length; i++) {
		accumulator = ((accumulator << 8) | data[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			word = (accumulator >> bits) & 31;
			checksum = bech32_polymod_step(checksum, word);
			out[pos++] = bech32_charset[word];
		}
	}
	if (bits > 0) {
		word = (accumulator << (5 - bits)) & 31;
		checksum = bech32_polymod_step(checksum, word);
		out[pos++] = bech32_charset[word];
	}
	for (i = 0; i < 6; i++)
		checksum = bech32_polymod_step(checksum, 0);
	checksum ^= 1;
	for (i = 0; i < 6; i++)
		out[pos++] = bech32_charset[(checksum >> (5 * (5 - i))) & 31];
	out[pos] = '\0';
	if (uppercase)
		for (i = 0; i < pos; i++)
			out[i] = bech32_upper(out[i]);
	return 0;
}

int
bech32_decode(const char *s, char *hrp, size_t hrp_size, unsigned char *data,
	      size_t data_size, size_t *length)
{
	size_t s_length = strlen(s), separator, i, out = 0;
	int has_lower = 0, has_upper = 0;
	uint32_t checksum, accumulator = 0;
	unsigned int bits = 0;
	const char *found;

	for (i = 0; i < s_length; i++) {
		if (s[i] < 33 || s[i] > 126)
			return -1;
		if (s[i] >= 'a' && s[i] <= 'z')
			has_lower = 1;
		if (s[i] >= 'A' && s[i] <= 'Z')
			has_upper = 1;
	}
	if (has_lower && has_upper)
		return -1;
	found = strrchr(s, '1');
	if (found == NULL)
		return -1;
	separator = (size_t)(found - s);
	if (separator == 0 || separator + 7 > s_length ||
	    separator + 1 > hrp_size)
		return -1;
	for (i = 0; i < separator; i++)
		hrp[i] = bech32_lower(s[i]);
	hrp[separator] = '\0';
	checksum = bech32_hrp_checksum(hrp, separator);
	for (i = separator + 1; i < s_length; i++) {
		const char *p = strchr(bech32_charset, bech32_lower(s[i]));
		unsigned int word;

		if (p == NULL || *p == '\0')
			return -1;
		word = (unsigned int)(p - bech32_charset);
		checksum = bech32_polymod_step(checksum, word);
		if (i + 6 >= s_length)
			continue; /* one of the six checksum words */
		accumulator = ((accumulator << 5) | word) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (out >= data_size)
				return -1;
			data[out++] = (unsigned char)(accumulator >> bits);
		}
	}
	if (checksum != 1)
		return -1;
	/* Padding: fewer than 5 bits, all zero. */
	if (bits >= 5 || (accumulator & ((1u << bits) - 1)) != 0)
		return -1;
	*length = out;
	return 0;
}
