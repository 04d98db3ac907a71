/*
 * Frames of an archive's own chunks read to their ends, frame_check.h.
 */
#include "frame_check.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "arc.h"
#include "blob.h"
#include "error.h"
#include "xalloc.h"

struct frame_check {
	const struct arc *arc;
	ZSTD_DCtx *dctx;
	unsigned char *in, *out;
	size_t in_size, out_size;
	uint64_t bytes;
};

static int
frame_damaged(const struct frame_check *fc, uint64_t frame, const char *why,
	      struct cairn_error *err)
{
	error_set(err,
		  "archive '%s' is damaged in the zstd frame at byte %llu: %s",
		  fc->arc->name, (unsigned long long)frame, why);
	return -1;
}

/* The frame's first bytes (RFC 8878, 3.1.1): the magic number, then the
 * frame header descriptor whose bit 2 says a checksum ends the frame.
 * cairn writes every frame with one, so a frame without is damage. */
static int
check_header(const struct frame_check *fc, uint64_t frame, size_t got,
	     struct cairn_error *err)
{
	static const unsigned char magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

	if (got < 5 || memcmp(fc->in, magic, sizeof(magic)) != 0)
		return frame_damaged(fc, frame, "no zstd frame starts there",
				     err);
	if ((fc->in[4] & 0x04) == 0)
		return frame_damaged(fc, frame, "the frame has no checksum",
				     err);
	return 0;
}

/* Decompresses the frame at `frame`, discarding what it gives, until zstd
 * says it ended (checksum checked): 0 or -1. */
static int
check_frame(struct frame_check *fc, uint64_t frame, struct cairn_error *err)
{
	uint64_t at = frame, end = fc->arc->trailer.end;

	ZSTD_DCtx_reset(fc->dctx, ZSTD_reset_session_only);
	for (;;) {
		ZSTD_inBuffer in;
		ZSTD_outBuffer out;
		size_t got, hint;
		uint64_t left = end > at ? end - at : 0;

		if (left == 0)
			return frame_damaged(fc, frame,
					     "the frame does not end before "
					     "the archive's trailer",
					     err);
		if (blob_read_at(fc->arc->blob, at, fc->in,
				 left < fc->in_size ? (size_t)left
						    : fc->in_size,
				 &got, err) != 0)
			return -1;
		if (got == 0)
			return frame_damaged(fc, frame,
					     "the archive ends inside it", err);
		if (at == frame && check_header(fc, frame, got, err) != 0)
			return -1;
		in.src = fc->in;
		in.size = got;
		in.pos = 0;
		/* Until the input is used up and zstd holds nothing more
		 * back (a full output buffer may leave some). */
		do {
			out.dst = fc->out;
			out.size = fc->out_size;
			out.pos = 0;
			hint = ZSTD_decompressStream(fc->dctx, &out, &in);
			if (ZSTD_isError(hint))
				return frame_damaged(fc, frame,
						     ZSTD_getErrorName(hint),
						     err);
			if (hint == 0) {
				fc->bytes += at + in.pos - frame;
				return 0;
			}
		} while (in.pos < in.size || out.pos == out.size);
		at += got;
	}
}

static int
compare_offsets(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
frame_check_chunks(const struct arc *a, uint64_t *bytes,
		   struct cairn_error *err)
{
	const struct manifest *m = &a->manifest;
	struct frame_check fc;
	size_t count = m->index_frame_count + m->removed_frame_count, i;
	uint64_t *frames;
	int rc = 0;

	memset(&fc, 0, sizeof(fc));
	fc.arc = a;
	if (bytes != NULL)
		*bytes = 0;
	if (!a->trailer.compressed || count == 0)
		return 0;
	/* In file order, each frame once. */
	frames = xcalloc(count, sizeof(*frames));
	for (i = 0; i < m->index_frame_count; i++)
		frames[i] = m->index_frames[i];
	for (i = 0; i < m->removed_frame_count; i++)
		frames[m->index_frame_count + i] = m->removed_frames[i];
	qsort(frames, count, sizeof(*frames), compare_offsets);
	fc.dctx = ZSTD_createDCtx();
	if (fc.dctx == NULL)
		xalloc_die();
	fc.in_size = ZSTD_DStreamInSize();
	fc.out_size = ZSTD_DStreamOutSize();
	fc.in = xmalloc(fc.in_size);
	fc.out = xmalloc(fc.out_size);
	for (i = 0; i < count && rc == 0; i++)
		if (i == 0 || frames[i] != frames[i - 1])
			rc = check_frame(&fc, frames[i], err);
	if (bytes != NULL)
		*bytes = fc.bytes;
	free(fc.in);
	free(fc.out);
	ZSTD_freeDCtx(fc.dctx);
	free(frames);
	return rc;
}
