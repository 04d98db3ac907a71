/*
 * The compressed container of zstd_io.h, on libzstd's streaming API.
 */
#include "zstd_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY /* the buffer-less decoder */
#include <xxhash.h>
#include <zstd.h>

#include "blob.h"
#include "buf.h"
#include "byte_sink.h"
#include "error.h"

#define ZSTD_MAGIC 0xFD2FB528U
#define TRAILER_MAGIC 0x184D2A50U
static const char trailer_tag[8] = {'C', 'A', 'I', 'R', 'N', 'I', 'X', '1'};

/*
 * Input per compression job of a worker thread. libzstd keeps about
 * nbWorkers + 2 jobs in flight, each with its input (job size plus the
 * overlap) and its output buffer: at 4 MiB the backup of the bench tree
 * peaked at 68-70 MiB, at 2 MiB at 44 MiB, with an archive 0.01 %
 * smaller (the overlap carries the history across job boundaries).
 */
#define JOB_SIZE (2 * 1024 * 1024)

/* ZSTD_c_overlapLog: the overlap is the window >> (9 - OVERLAP_LOG). */
#define OVERLAP_LOG 4

/*
 * Stored frames (zstd_writer's store mode): raw blocks of at most 128 KiB
 * (RFC 8878, 3.1.1.2.3: no more than the window, here 2^17), behind a
 * frame header with a window descriptor and the content checksum flag.
 */
#define STORED_BLOCK_MAX (128 * 1024)
#define STORED_WINDOW_LOG 17
/* A sample compressed to more than this share (per mille) is not worth
 * compressing: zstd -3 would keep it in raw blocks or nearly so. */
#define PROBE_KEEP_PERMILLE 970

static void
put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t
get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int
writer_output(struct zstd_writer *w, const void *data, size_t length,
	      struct cairn_error *err)
{
	if (byte_sink_write(w->out_sink, data, length, err) != 0)
		return -1;
	w->offset += length;
	return 0;
}

int
zstd_writer_open(struct zstd_writer *w, struct byte_sink *sink, int compress,
		 int level, int threads, struct cairn_error *err)
{
	ZSTD_CCtx *cctx;

	memset(w, 0, sizeof(*w));
	w->out_sink = sink;
	if (!compress)
		return 0;
	if (threads == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		threads = cores > 0 ? (int)cores : 1;
	}
	cctx = ZSTD_createCCtx();
	if (cctx == NULL) {
		error_set(err, "cannot create a zstd context");
		return -1;
	}
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	/* Without libzstd's thread support this fails: one thread then. */
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, threads);
	/* Jobs of a few window sizes keep every worker busy while bounding
	 * the buffers each one holds (the default grows with the level). */
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_jobSize, JOB_SIZE);
	/* A shorter overlap than libzstd's default for the level (a
	 * quarter of it: 64 KiB for level 3's 2 MiB window): each job
	 * hashes the overlap before its own input, an eighth more work with
	 * 2 MiB jobs; the archive of the bench tree is 0.02 % larger. */
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_overlapLog, OVERLAP_LOG);
	w->cctx = cctx;
	w->out_size = ZSTD_CStreamOutSize();
	w->out = xmalloc(w->out_size);
	return 0;
}

static int
writer_compress(struct zstd_writer *w, const void *data, size_t length,
		ZSTD_EndDirective mode, struct cairn_error *err)
{
	ZSTD_inBuffer in = {data, length, 0};
	size_t remaining;

	do {
		ZSTD_outBuffer out = {w->out, w->out_size, 0};

		remaining = ZSTD_compressStream2(w->cctx, &out, &in, mode);
		if (ZSTD_isError(remaining)) {
			error_set(err, "zstd: %s",
				  ZSTD_getErrorName(remaining));
			return -1;
		}
		if (out.pos > 0 && writer_output(w, w->out, out.pos, err) != 0)
			return -1;
	} while (mode == ZSTD_e_continue ? in.pos < in.size : remaining != 0);
	return 0;
}

int
zstd_writer_incompressible(struct zstd_writer *w, const void *data,
			   size_t length)
{
	size_t n;

	if (w->cctx == NULL || length < ZSTD_IO_PROBE_SIZE)
		return 0;
	if (w->probe == NULL) {
		w->probe = ZSTD_createCCtx();
		if (w->probe == NULL)
			return 0;
		ZSTD_CCtx_setParameter(w->probe, ZSTD_c_compressionLevel, 1);
		w->probe_out_size = ZSTD_compressBound(ZSTD_IO_PROBE_SIZE);
		w->probe_out = xmalloc(w->probe_out_size);
	}
	n = ZSTD_compress2(w->probe, w->probe_out, w->probe_out_size, data,
			   ZSTD_IO_PROBE_SIZE);
	if (ZSTD_isError(n))
		return 0;
	return n * 1000 > (size_t)ZSTD_IO_PROBE_SIZE * PROBE_KEEP_PERMILLE;
}

/* Appends length bytes to the output buffer, flushing it when full. */
static int
stored_put(struct zstd_writer *w, size_t *used, const void *data, size_t length,
	   struct cairn_error *err)
{
	if (*used + length > w->out_size) {
		if (writer_output(w, w->out, *used, err) != 0)
			return -1;
		*used = 0;
	}
	memcpy(w->out + *used, data, length);
	*used += length;
	return 0;
}

/* One stored frame holding data (length > 0), after the current frame. */
static int
writer_store(struct zstd_writer *w, const unsigned char *data, size_t length,
	     struct cairn_error *err)
{
	unsigned char header[6], block[3], checksum[4];
	size_t used = 0, at;

	if (zstd_writer_end_frame(w, err) != 0)
		return -1;
	put_le32(header, ZSTD_MAGIC);
	header[4] = 0x04; /* no content size, window, checksum, no dict */
	header[5] = (STORED_WINDOW_LOG - 10) << 3;
	if (stored_put(w, &used, header, sizeof(header), err) != 0)
		return -1;
	for (at = 0; at < length;) {
		size_t n = length - at;
		uint32_t bh;

		if (n > STORED_BLOCK_MAX)
			n = STORED_BLOCK_MAX;
		/* Block_Size << 3 | Block_Type 0 (raw) << 1 | Last_Block */
		bh = (uint32_t)n << 3 | (at + n == length);
		block[0] = (unsigned char)bh;
		block[1] = (unsigned char)(bh >> 8);
		block[2] = (unsigned char)(bh >> 16);
		if (stored_put(w, &used, block, sizeof(block), err) != 0 ||
		    stored_put(w, &used, data + at, n, err) != 0)
			return -1;
		at += n;
	}
	/* The checksum of a zstd frame is the low 32 bits of its XXH64. */
	put_le32(checksum, (uint32_t)XXH64(data, length, 0));
	if (stored_put(w, &used, checksum, sizeof(checksum), err) != 0 ||
	    writer_output(w, w->out, used, err) != 0)
		return -1;
	/* The next compressed frame starts after this one. */
	w->frame_start = w->offset;
	return 0;
}

int
zstd_writer_write(struct zstd_writer *w, const void *data, size_t length,
		  struct cairn_error *err)
{
	if (w->cctx == NULL) {
		w->frame_input += length;
		return writer_output(w, data, length, err);
	}
	if (w->store)
		return length > 0 ? writer_store(w, data, length, err) : 0;
	w->frame_input += length;
	return writer_compress(w, data, length, ZSTD_e_continue, err);
}

int
zstd_writer_end_frame(struct zstd_writer *w, struct cairn_error *err)
{
	if (w->frame_input == 0)
		return 0;
	if (w->cctx != NULL &&
	    writer_compress(w, NULL, 0, ZSTD_e_end, err) != 0)
		return -1;
	w->frame_input = 0;
	w->frame_start = w->offset;
	return 0;
}

uint64_t
zstd_writer_frame_offset(const struct zstd_writer *w)
{
	/* Without compression any entry boundary is a place to start. */
	return w->cctx == NULL ? w->offset : w->frame_start;
}

int
zstd_writer_finish(struct zstd_writer *w, uint64_t manifest_offset,
		   struct cairn_error *err)
{
	unsigned char trailer[ZSTD_IO_TRAILER_SIZE];
	int i;

	if (zstd_writer_end_frame(w, err) != 0)
		return -1;
	put_le32(trailer, TRAILER_MAGIC);
	put_le32(trailer + 4, 16);
	memcpy(trailer + 8, trailer_tag, sizeof(trailer_tag));
	for (i = 0; i < 8; i++)
		trailer[16 + i] = (unsigned char)(manifest_offset >> (8 * i));
	if (writer_output(w, trailer, sizeof(trailer), err) != 0)
		return -1;
	return byte_sink_finish(w->out_sink, err);
}

void
zstd_writer_release(struct zstd_writer *w)
{
	ZSTD_freeCCtx(w->cctx);
	ZSTD_freeCCtx(w->probe);
	free(w->probe_out);
	free(w->out);
	memset(w, 0, sizeof(*w));
}

/* Exactly `length` bytes at `offset`: 0, or -1 (err set) at an error. */
static int
read_exact(struct blob *b, uint64_t offset, void *data, size_t length,
	   int *short_read, struct cairn_error *err)
{
	size_t got;

	*short_read = 0;
	if (blob_read_at(b, offset, data, length, &got, err) != 0)
		return -1;
	*short_read = got < length;
	return 0;
}

int
zstd_io_read_trailer(struct blob *b, struct zstd_trailer *t,
		     struct cairn_error *err)
{
	unsigned char trailer[ZSTD_IO_TRAILER_SIZE], head[4];
	uint64_t offset = 0;
	int i, short_read = 1;

	if (b->size >= ZSTD_IO_TRAILER_SIZE + 4 &&
	    read_exact(b, b->size - sizeof(trailer), trailer, sizeof(trailer),
		       &short_read, err) != 0)
		return -1;
	if (short_read || get_le32(trailer) != TRAILER_MAGIC ||
	    get_le32(trailer + 4) != 16 ||
	    memcmp(trailer + 8, trailer_tag, sizeof(trailer_tag)) != 0) {
		error_set(err,
			  "archive '%s' is truncated or not a cairn archive "
			  "(no index at its end)",
			  b->name);
		return -1;
	}
	for (i = 0; i < 8; i++)
		offset |= (uint64_t)trailer[16 + i] << (8 * i);
	if (offset >= b->size - sizeof(trailer)) {
		error_set(err, "archive '%s' has a damaged index", b->name);
		return -1;
	}
	if (read_exact(b, 0, head, sizeof(head), &short_read, err) != 0)
		return -1;
	if (short_read) {
		error_set(err, "archive '%s' is truncated", b->name);
		return -1;
	}
	t->compressed = get_le32(head) == ZSTD_MAGIC;
	t->manifest_offset = offset;
	t->end = b->size - sizeof(trailer);
	return 0;
}

/*
 * The reader side. libzstd's streaming decoder decodes into a window of
 * its own and copies out of it; here the buffer-less API decodes each
 * zstd block straight into a ring that is at once the window and the
 * queue of blocks handed to the caller, so the bytes are written once.
 *
 * Positions in the ring are absolute (they only grow; byte p sits at
 * ring[p % ring_size]). A zstd block is decoded at `write` if a whole
 * block of the frame fits before the end of the ring, else at the start
 * of the ring's next turn, as libzstd's own round buffer does; a ring at
 * least ZSTD_decodingBufferSize_min() larger than what the caller may
 * hold keeps the window intact. Decoded bytes gather into a block from
 * `pending` on, published once it holds BLOCK_TARGET bytes (or before
 * the ring turns, at the end, or when the ring must grow). The decoder
 * never writes over a byte from the oldest block not yet released.
 */

/* Decoded bytes per block handed to the caller. */
#define BLOCK_TARGET (1024 * 1024)
/* Bytes the caller's blocks may take in the ring beyond the window. */
#define QUEUE_BYTES ((ZSTD_READER_SLOTS + 1) * BLOCK_TARGET)
/* libzstd's default limit for a frame's window (ZSTD_d_windowLogMax). */
#define WINDOW_LIMIT ((uint64_t)1 << 27)
/* The window of the levels backups use (up to 2 MiB at level 3). */
#define WINDOW_USUAL ((uint64_t)1 << 21)
/* Reads of the blob end on such a boundary: an age chunk's. */
#define READ_ALIGN (64 * 1024)

/* The start of the oldest byte the caller may still read; lock held. */
static uint64_t
reader_oldest(const struct zstd_reader *r)
{
	return r->ready > 0 ? r->slot_start[r->head] : r->pending;
}

/*
 * At least `need` bytes (need <= in_size) at in + in_pos: 1, 0 when the
 * archive's frames end first (what is left stays), -1 on a read error.
 */
static int
reader_input(struct zstd_reader *r, size_t need, struct cairn_error *err)
{
	while (r->in_length - r->in_pos < need) {
		size_t rest = r->in_length - r->in_pos, want, n;
		uint64_t end;

		if (r->file_offset >= r->file_end)
			return 0;
		memmove(r->in, r->in + r->in_pos, rest);
		r->in_pos = 0;
		r->in_length = rest;
		want = r->in_size - rest;
		if (r->file_end - r->file_offset < want)
			want = (size_t)(r->file_end - r->file_offset);
		/* Whole age chunks decrypt in place, without a copy. */
		end = r->file_offset + want;
		if (end < r->file_end && end % READ_ALIGN != 0 &&
		    want - end % READ_ALIGN >= need - rest)
			want -= (size_t)(end % READ_ALIGN);
		if (blob_read_at(r->blob, r->file_offset, r->in + rest, want,
				 &n, err) != 0)
			return -1;
		if (n == 0) {
			error_set(err, "archive '%s' is truncated", r->name);
			return -1;
		}
		r->file_offset += (uint64_t)n;
		r->in_length += n;
	}
	return 1;
}

/* The file offset of in + in_pos. */
static uint64_t
reader_input_offset(const struct zstd_reader *r)
{
	return r->file_offset - (uint64_t)(r->in_length - r->in_pos);
}

static int
reader_truncated(struct zstd_reader *r, struct cairn_error *err)
{
	error_set(err,
		  "archive '%s' is truncated (its last zstd frame is "
		  "incomplete)",
		  r->name);
	return -1;
}

static int
reader_damaged(struct zstd_reader *r, uint64_t from, size_t length,
	       const char *what, struct cairn_error *err)
{
	error_set(err, "archive '%s' is damaged within bytes %llu to %llu: %s",
		  r->name, (unsigned long long)from,
		  (unsigned long long)from + length, what);
	return -1;
}

/*
 * Publishes the bytes from `pending` to `upto` as a block, waiting for
 * a free slot: 0, or -1 when the reader is stopping.
 */
static int
reader_publish(struct zstd_reader *r, uint64_t upto)
{
	size_t slot;

	pthread_mutex_lock(&r->lock);
	while (upto > r->pending && r->ready == ZSTD_READER_SLOTS &&
	       !r->stopping)
		pthread_cond_wait(&r->changed, &r->lock);
	if (r->stopping) {
		pthread_mutex_unlock(&r->lock);
		return -1;
	}
	if (upto == r->pending) {
		pthread_mutex_unlock(&r->lock);
		return 0;
	}
	slot = (r->head + r->ready) % ZSTD_READER_SLOTS;
	r->slot_start[slot] = r->pending;
	r->slot_length[slot] = (size_t)(upto - r->pending);
	r->ready++;
	r->pending = upto;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

/*
 * Room for `length` contiguous bytes at `write`: turns the ring if they
 * would cross its end, then waits until they do not reach the oldest
 * byte the caller may read. The destination, or NULL when stopping.
 */
static unsigned char *
reader_room(struct zstd_reader *r, size_t length)
{
	size_t at = (size_t)(r->write % r->ring_size);
	int stopping;

	if (at + length > r->ring_size) {
		/* A block is contiguous: what gathered is published first. */
		if (reader_publish(r, r->write) != 0)
			return NULL;
		r->write += r->ring_size - at;
		r->pending = r->write;
		at = 0;
	}
	pthread_mutex_lock(&r->lock);
	while (r->write + length > reader_oldest(r) + r->ring_size &&
	       !r->stopping)
		pthread_cond_wait(&r->changed, &r->lock);
	stopping = r->stopping;
	pthread_mutex_unlock(&r->lock);
	return stopping ? NULL : r->ring + at;
}

/*
 * A ring of at least `size` bytes. A larger one is allocated once every
 * block was released (nothing points into the old one): 0, or -1 when
 * stopping.
 */
static int
reader_ring(struct zstd_reader *r, size_t size)
{
	int stopping;

	if (r->ring_size >= size)
		return 0;
	if (reader_publish(r, r->write) != 0)
		return -1;
	pthread_mutex_lock(&r->lock);
	while (r->ready > 0 && !r->stopping)
		pthread_cond_wait(&r->changed, &r->lock);
	if (!r->stopping) {
		free(r->ring);
		r->ring = xmalloc(size);
		r->ring_size = size;
		r->write = r->pending = 0;
	}
	stopping = r->stopping;
	pthread_mutex_unlock(&r->lock);
	return stopping ? -1 : 0;
}

/*
 * Gathers a block once it is big enough: 0, or -1 when stopping. The
 * zstd block decoded last stays behind until the next is (or the
 * frame's checksum) checks out, so that damage found at the end of a
 * frame stops the caller inside the entry it hit, as libzstd's
 * streaming decoder did by not returning what it decoded in a failed
 * call.
 */
static int
reader_advance(struct zstd_reader *r, size_t length)
{
	uint64_t start = r->write;

	r->write += length;
	if (start - r->pending >= BLOCK_TARGET)
		return reader_publish(r, start);
	return 0;
}

/* A skippable frame at in + in_pos: skipped. 1, or -1. */
static int
reader_skip_frame(struct zstd_reader *r, struct cairn_error *err)
{
	uint64_t skip;
	int rc = reader_input(r, 8, err);

	if (rc <= 0)
		return rc < 0 ? -1 : reader_truncated(r, err);
	skip = 8 + (uint64_t)get_le32(r->in + r->in_pos + 4);
	while (skip > 0) {
		size_t n = r->in_length - r->in_pos;

		if (n == 0) {
			rc = reader_input(r, 1, err);
			if (rc <= 0)
				return rc < 0 ? -1 : reader_truncated(r, err);
			continue;
		}
		if (n > skip)
			n = (size_t)skip;
		r->in_pos += n;
		skip -= n;
	}
	return 1;
}

/*
 * Decodes the frame at in + in_pos into the ring: 1, 0 when the
 * archive's frames ended before it, -1 (err set unless stopping).
 */
static int
reader_frame(struct zstd_reader *r, struct cairn_error *err)
{
	ZSTD_DCtx *dctx = r->dctx;
	ZSTD_frameHeader fh;
	size_t head, need, got;
	uint64_t at;
	int rc;

	rc = reader_input(r, 1, err);
	if (rc <= 0)
		return rc;
	rc = reader_input(r, 4, err);
	if (rc < 0)
		return -1;
	if (rc > 0 && (get_le32(r->in + r->in_pos) & 0xFFFFFFF0U) ==
			      (TRAILER_MAGIC & 0xFFFFFFF0U))
		return reader_skip_frame(r, err);
	/* The header's size is in its first 5 bytes, at most 18 in all. */
	at = reader_input_offset(r);
	rc = reader_input(r, 5, err);
	if (rc > 0) {
		head = ZSTD_frameHeaderSize(r->in + r->in_pos, 5);
		if (ZSTD_isError(head))
			return reader_damaged(r, at, 5,
					      "zstd: unknown frame descriptor",
					      err);
		rc = reader_input(r, head, err);
	}
	if (rc < 0)
		return -1;
	if (rc == 0)
		return reader_truncated(r, err);
	got = ZSTD_getFrameHeader(&fh, r->in + r->in_pos, head);
	if (got != 0) {
		char what[128];

		snprintf(what, sizeof(what), "zstd: %s",
			 ZSTD_isError(got) ? ZSTD_getErrorName(got)
					   : "corrupted frame header");
		return reader_damaged(r, at, head, what, err);
	}
	if (fh.windowSize > WINDOW_LIMIT)
		return reader_damaged(r, at, head,
				      "zstd: frame requires too much memory "
				      "for decoding",
				      err);
	/* Sized for the usual window at least: the small frames of the
	 * manifest and index do not shrink it, and a ring grows only once
	 * its blocks were all released. Pages not written cost nothing. */
	need = ZSTD_decodingBufferSize_min(fh.windowSize > WINDOW_USUAL
						   ? fh.windowSize
						   : WINDOW_USUAL,
					   ZSTD_CONTENTSIZE_UNKNOWN);
	if (ZSTD_isError(need) || reader_ring(r, need + QUEUE_BYTES) != 0)
		return -1;
	got = ZSTD_decompressBegin(dctx);
	if (ZSTD_isError(got))
		return reader_damaged(r, at, head, "zstd: cannot start a frame",
				      err);
	while ((need = ZSTD_nextSrcSizeToDecompress(dctx)) != 0) {
		unsigned char *dst;

		at = reader_input_offset(r);
		rc = reader_input(r, need, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return reader_truncated(r, err);
		dst = reader_room(r, fh.blockSizeMax);
		if (dst == NULL)
			return -1;
		got = ZSTD_decompressContinue(dctx, dst, fh.blockSizeMax,
					      r->in + r->in_pos, need);
		if (ZSTD_isError(got)) {
			char what[128];

			snprintf(what, sizeof(what), "zstd: %s",
				 ZSTD_getErrorName(got));
			return reader_damaged(r, at, need, what, err);
		}
		r->in_pos += need;
		if (reader_advance(r, got) != 0)
			return -1;
	}
	return 1;
}

/* A plain tar stream: read straight into the ring. 1, 0 at its end, -1. */
static int
reader_plain(struct zstd_reader *r, struct cairn_error *err)
{
	size_t want = BLOCK_TARGET, n;
	unsigned char *dst;

	if (r->file_offset >= r->file_end)
		return 0;
	if (r->file_end - r->file_offset < want)
		want = (size_t)(r->file_end - r->file_offset);
	dst = reader_room(r, want);
	if (dst == NULL)
		return -1;
	if (blob_read_at(r->blob, r->file_offset, dst, want, &n, err) != 0)
		return -1;
	if (n == 0) {
		error_set(err, "archive '%s' is truncated", r->name);
		return -1;
	}
	r->file_offset += (uint64_t)n;
	r->write += n;
	return reader_publish(r, r->write) != 0 ? -1 : 1;
}

/* The reader thread: decodes until the end, an error or stop. */
static void *
reader_thread(void *arg)
{
	struct zstd_reader *r = arg;
	struct cairn_error err;
	int rc;

	err.message[0] = '\0';
	if (r->dctx == NULL)
		do
			rc = reader_plain(r, &err);
		while (rc > 0);
	else
		do
			rc = reader_frame(r, &err);
		while (rc > 0);
	/* What gathered goes out at the end; not what preceded damage. */
	if (rc == 0 && reader_publish(r, r->write) != 0)
		rc = -1;
	pthread_mutex_lock(&r->lock);
	r->finished = 1;
	if (rc < 0 && !r->stopping) {
		r->failed = 1;
		r->error = err;
	}
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int
zstd_reader_open(struct zstd_reader *r, struct blob *b,
		 const struct zstd_trailer *t, uint64_t offset,
		 struct cairn_error *err)
{
	memset(r, 0, sizeof(*r));
	r->blob = b;
	r->name = b->name;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
	r->file_end = t->end;
	r->file_offset = offset;
	if (t->compressed) {
		r->dctx = ZSTD_createDCtx();
		if (r->dctx == NULL) {
			error_set(err, "cannot create a zstd context");
			goto fail;
		}
		r->in_size = r->blob->read_size;
		r->in = xmalloc(r->in_size);
	} else {
		r->ring_size = QUEUE_BYTES + BLOCK_TARGET;
		r->ring = xmalloc(r->ring_size);
	}
	if (pthread_create(&r->thread, NULL, reader_thread, r) != 0) {
		error_set(err, "cannot start a decompression thread");
		goto fail;
	}
	/* Each thread of cairn's is named (15 bytes at most) for top -H, perf
	 * and gdb. */
	pthread_setname_np(r->thread, "cairn-decode");
	r->thread_started = 1;
	return 0;
fail:
	zstd_reader_release(r);
	return -1;
}

int
zstd_reader_read(struct zstd_reader *r, const void **data, size_t *length,
		 struct cairn_error *err)
{
	int rc;

	pthread_mutex_lock(&r->lock);
	if (r->holding) {
		/* The caller is done with the block it had. */
		r->head = (r->head + 1) % ZSTD_READER_SLOTS;
		r->ready--;
		r->holding = 0;
		pthread_cond_broadcast(&r->changed);
	}
	while (r->ready == 0 && !r->finished)
		pthread_cond_wait(&r->changed, &r->lock);
	if (r->ready > 0) {
		*data = r->ring + r->slot_start[r->head] % r->ring_size;
		*length = r->slot_length[r->head];
		r->holding = 1;
		rc = 1;
	} else if (r->failed) {
		*err = r->error;
		rc = -1;
	} else {
		rc = 0;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void
zstd_reader_release(struct zstd_reader *r)
{
	if (r->thread_started) {
		pthread_mutex_lock(&r->lock);
		r->stopping = 1;
		pthread_cond_broadcast(&r->changed);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->changed);
	ZSTD_freeDCtx(r->dctx);
	free(r->in);
	free(r->ring);
	memset(r, 0, sizeof(*r));
}
