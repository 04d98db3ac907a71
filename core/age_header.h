/*
 * The textual header of an age v1 file (c2sp.org/age): the version line,
 * stanzas ("-> TYPE ARG..." and a base64 body wrapped at 64 columns whose
 * last line is shorter, possibly empty), and the "--- MAC" line. Parsing
 * is strict: canonical unpadded base64, LF only, arguments of visible
 * ASCII, every body ended by a short line. This module knows nothing of
 * keys; age_keys.h wraps and unwraps file keys in stanzas.
 */
#ifndef CAIRN_AGE_HEADER_H
#define CAIRN_AGE_HEADER_H

#include <stddef.h>

#include "buf.h"

#define AGE_VERSION_LINE "age-encryption.org/v1\n"
#define AGE_MAC_SIZE 32

struct age_stanza {
	char *type;  /* owned */
	char **args; /* owned, arg_count strings */
	size_t arg_count;
	unsigned char *body; /* owned, may be NULL when body_length is 0 */
	size_t body_length;
};

/* Owns its stanzas; release with age_header_release. */
struct age_header {
	struct age_stanza *stanzas;
	size_t count;
	unsigned char mac[AGE_MAC_SIZE];
	size_t mac_input_length; /* bytes the MAC covers: through "---" */
	size_t length;		 /* the whole header, final LF included */
};

enum age_header_parse_result {
	AGE_HEADER_COMPLETE = 0,
	AGE_HEADER_INCOMPLETE = 1, /* data ends inside the header */
	AGE_HEADER_MALFORMED = -1,
};

/*
 * Parses the header at the start of data (length bytes). On
 * AGE_HEADER_COMPLETE, header is filled and header->length says where
 * the payload starts. On INCOMPLETE the caller may retry with more
 * bytes; on MALFORMED, reason (static) says what is wrong. header is
 * left empty on every result but COMPLETE.
 */
enum age_header_parse_result age_header_parse(const unsigned char *data,
					      size_t length,
					      struct age_header *header,
					      const char **reason);

void age_header_release(struct age_header *header);

/*
 * Appends the header without its MAC (version line, stanzas, "---") to
 * out: the bytes the MAC covers.
 */
void age_header_marshal_without_mac(const struct age_stanza *stanzas,
				    size_t count, struct buf *out);

/* Canonical unpadded base64 (RFC 4648 standard alphabet) of data. */
void age_base64_encode(const unsigned char *data, size_t length,
		       struct buf *out);

/*
 * Decodes text (length characters, no padding, canonical: unused bits
 * zero) into out, which has room for length * 3 / 4 bytes. Returns the
 * byte count, or -1 when text is not canonical unpadded base64.
 */
long age_base64_decode(const char *text, size_t length, unsigned char *out);

#endif
