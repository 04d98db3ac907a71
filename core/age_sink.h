/*
 * The encrypting byte sink: what goes in is the payload of a new age v1
 * file, what comes out (header, nonce, sealed 64 KiB chunks) goes to the
 * sink it wraps, with the size and SHA-256 of the file as stored counted
 * on the way for the catalogue. Memory: two chunk buffers.
 */
#ifndef CAIRN_AGE_SINK_H
#define CAIRN_AGE_SINK_H

#include <stdint.h>

#include <cairn/plugin.h>

#include "age_keys.h"
#include "sha256.h"

struct byte_sink;

/* What the sink wrote, filled once it finished. */
struct age_sink_result {
	uint64_t stored; /* bytes of the age file */
	char sha256[SHA256_HEX_SIZE];
};

/*
 * A sink encrypting to r (not kept) into inner, which it takes over
 * (freed with the new sink). result (owned by the caller, outliving the
 * sink) is filled at finish. Writes the header at once. NULL with err
 * set on failure, inner then freed too.
 */
struct byte_sink *age_sink_new(struct byte_sink *inner,
			       const struct age_recipients *r,
			       struct age_sink_result *result,
			       struct cairn_error *err);

#endif
