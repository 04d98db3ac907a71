/*
 * age_header.h: a line-by-line reading of the header as the age spec
 * states it, refusing everything it does not allow.
 */
#include "age_header.h"

#include <stdlib.h>
#include <string.h>

#define AGE_COLUMNS 64

static const char age_base64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
age_base64_encode(const unsigned char *data, size_t length, struct buf *out)
{
	size_t i;

	for (i = 0; i + 3 <= length; i += 3) {
		unsigned long v = ((unsigned long)data[i] << 16) |
				  ((unsigned long)data[i + 1] << 8) |
				  data[i + 2];

		buf_append_char(out, age_base64_alphabet[(v >> 18) & 63]);
		buf_append_char(out, age_base64_alphabet[(v >> 12) & 63]);
		buf_append_char(out, age_base64_alphabet[(v >> 6) & 63]);
		buf_append_char(out, age_base64_alphabet[v & 63]);
	}
	if (length - i == 1) {
		unsigned long v = (unsigned long)data[i] << 16;

		buf_append_char(out, age_base64_alphabet[(v >> 18) & 63]);
		buf_append_char(out, age_base64_alphabet[(v >> 12) & 63]);
	} else if (length - i == 2) {
		unsigned long v = ((unsigned long)data[i] << 16) |
				  ((unsigned long)data[i + 1] << 8);

		buf_append_char(out, age_base64_alphabet[(v >> 18) & 63]);
		buf_append_char(out, age_base64_alphabet[(v >> 12) & 63]);
		buf_append_char(out, age_base64_alphabet[(v >> 6) & 63]);
	}
}

static int
age_base64_value(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(age_base64_alphabet, c);
	return p == NULL ? -1 : (int)(p - age_base64_alphabet);
}

long
age_base64_decode(const char *text, size_t length, unsigned char *out)
{
	unsigned long accumulator = 0;
	unsigned int bits = 0;
	size_t i, n = 0;

	/* A lone character in the last group encodes less than a byte. */
	if (length % 4 == 1)
		return -1;
	for (i = 0; i < length; i++) {
		int v = age_base64_value(text[i]);

		if (v < 0)
			return -1;
		accumulator = ((accumulator << 6) | (unsigned long)v) & 0xffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(accumulator >> bits);
		}
	}
	/* Canonical: the bits left over are zero. */
	if ((accumulator & ((1ul << bits) - 1)) != 0)
		return -1;
	return (long)n;
}

void
age_header_release(struct age_header *header)
{
	size_t i, j;

	for (i = 0; i < header->count; i++) {
		struct age_stanza *s = &header->stanzas[i];

		free(s->type);
		for (j = 0; j < s->arg_count; j++)
			free(s->args[j]);
		free(s->args);
		free(s->body);
	}
	free(header->stanzas);
	memset(header, 0, sizeof(*header));
}

/* The next line (without its LF) or NULL when data ends before an LF. */
static const char *
age_next_line(const unsigned char *data, size_t length, size_t *pos,
	      size_t *line_length)
{
	const unsigned char *start = data + *pos;
	const unsigned char *lf = memchr(start, '\n', length - *pos);

	if (lf == NULL)
		return NULL;
	*line_length = (size_t)(lf - start);
	*pos += *line_length + 1;
	return (const char *)start;
}

static int
age_valid_argument(const char *s, size_t length)
{
	size_t i;

	if (length == 0)
		return 0;
	for (i = 0; i < length; i++)
		if (s[i] < 33 || s[i] > 126)
			return 0;
	return 1;
}

/* Splits "-> a b c" into a new stanza with type a and args b c. */
static int
age_parse_stanza_line(const char *line, size_t length, struct age_stanza *s)
{
	size_t start = 3, i;

	memset(s, 0, sizeof(*s));
	for (i = start; i <= length; i++) {
		char *word;

		if (i < length && line[i] != ' ')
			continue;
		if (!age_valid_argument(line + start, i - start))
			return -1;
		word = xstrndup(line + start, i - start);
		if (s->type == NULL) {
			s->type = word;
		} else {
			s->args = xrealloc(s->args,
					   (s->arg_count + 1) * sizeof(char *));
			s->args[s->arg_count++] = word;
		}
		start = i + 1;
	}
	return s->type == NULL ? -1 : 0;
}

/* Appends one body line; returns 1 when it was the short, last one. */
static int
age_parse_body_line(const char *line, size_t length, struct age_stanza *s)
{
	unsigned char decoded[AGE_COLUMNS];
	long n;

	if (length > AGE_COLUMNS)
		return -1;
	n = age_base64_decode(line, length, decoded);
	if (n < 0)
		return -1;
	if (n > 0) {
		s->body = xrealloc(s->body, s->body_length + (size_t)n);
		memcpy(s->body + s->body_length, decoded, (size_t)n);
		s->body_length += (size_t)n;
	}
	return length < AGE_COLUMNS ? 1 : 0;
}

static int
age_parse_mac_line(const char *line, size_t length, struct age_header *header)
{
	unsigned char decoded[48];

	/* "--- " then exactly 43 characters: 32 bytes, unpadded. */
	if (length != 4 + 43 || memcmp(line, "--- ", 4) != 0)
		return -1;
	if (age_base64_decode(line + 4, 43, decoded) != AGE_MAC_SIZE)
		return -1;
	memcpy(header->mac, decoded, AGE_MAC_SIZE);
	return 0;
}

enum age_header_parse_result
age_header_parse(const unsigned char *data, size_t length,
		 struct age_header *header, const char **reason)
{
	size_t version_length = strlen(AGE_VERSION_LINE), pos = 0;
	struct age_stanza *open_stanza = NULL;
	const char *line;
	size_t line_length;

	memset(header, 0, sizeof(*header));
	*reason = NULL;
	if (length < version_length) {
		if (memcmp(data, AGE_VERSION_LINE, length) != 0)
			goto malformed_version;
		return AGE_HEADER_INCOMPLETE;
	}
	if (memcmp(data, AGE_VERSION_LINE, version_length) != 0)
		goto malformed_version;
	pos = version_length;
	for (;;) {
		size_t line_start = pos;

		line = age_next_line(data, length, &pos, &line_length);
		if (line == NULL) {
			age_header_release(header);
			return AGE_HEADER_INCOMPLETE;
		}
		if (open_stanza != NULL) {
			int last = age_parse_body_line(line, line_length,
						       open_stanza);

			if (last < 0) {
				*reason = "a stanza body line is not "
					  "canonical base64 of at most 64 "
					  "columns";
				goto malformed;
			}
			if (last)
				open_stanza = NULL;
			continue;
		}
		if (line_length >= 3 && memcmp(line, "---", 3) == 0) {
			if (age_parse_mac_line(line, line_length, header) < 0) {
				*reason = "the MAC line is malformed";
				goto malformed;
			}
			if (header->count == 0) {
				*reason = "the header has no stanza";
				goto malformed;
			}
			header->mac_input_length = line_start + 3;
			header->length = pos;
			return AGE_HEADER_COMPLETE;
		}
		if (line_length >= 3 && memcmp(line, "-> ", 3) == 0) {
			struct age_stanza s;

			if (age_parse_stanza_line(line, line_length, &s) < 0) {
				header->stanzas = xrealloc(header->stanzas,
							   (header->count + 1) *
								   sizeof(s));
				header->stanzas[header->count++] = s;
				*reason = "a stanza line has an empty or "
					  "invalid argument";
				goto malformed;
			}
			header->stanzas = xrealloc(header->stanzas,
						   (header->count + 1) *
							   sizeof(s));
			header->stanzas[header->count++] = s;
			open_stanza = &header->stanzas[header->count - 1];
			continue;
		}
		*reason = "unexpected line in the header";
		goto malformed;
	}
malformed_version:
	*reason = "not an age v1 file (unexpected first line)";
	return AGE_HEADER_MALFORMED;
malformed:
	age_header_release(header);
	return AGE_HEADER_MALFORMED;
}

void
age_header_marshal_without_mac(const struct age_stanza *stanzas, size_t count,
			       struct buf *out)
{
	size_t i, j;

	buf_append_str(out, AGE_VERSION_LINE);
	for (i = 0; i < count; i++) {
		const struct age_stanza *s = &stanzas[i];
		struct buf encoded = BUF_INIT;

		buf_append_str(out, "-> ");
		buf_append_str(out, s->type);
		for (j = 0; j < s->arg_count; j++) {
			buf_append_char(out, ' ');
			buf_append_str(out, s->args[j]);
		}
		buf_append_char(out, '\n');
		age_base64_encode(s->body, s->body_length, &encoded);
		/* Full lines of 64, then a short one (empty if need be). */
		for (j = 0; j + AGE_COLUMNS <= encoded.length;
		     j += AGE_COLUMNS) {
			buf_append(out, encoded.data + j, AGE_COLUMNS);
			buf_append_char(out, '\n');
		}
		if (encoded.length > j)
			buf_append(out, encoded.data + j, encoded.length - j);
		buf_append_char(out, '\n');
		buf_release(&encoded);
	}
	buf_append_str(out, "---");
}
