/*
 * The compressed container of zstd_io.h, on libzstd's streaming API.
 */
#include "zstd_io.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

/* Bytes read from the blob at a time: large reads, few system calls. */
#define READ_SIZE (1024 * 1024)

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

/*
 * XXH64 with seed 0 (the checksum of a zstd frame is its low 32 bits),
 * over a whole buffer: each stored frame holds one write.
 */
#define XXH_P1 0x9E3779B185EBCA87ULL
#define XXH_P2 0xC2B2AE3D27D4EB4FULL
#define XXH_P3 0x165667B19E3779F9ULL
#define XXH_P4 0x85EBCA77C2B2AE63ULL
#define XXH_P5 0x27D4EB2F165667C5ULL

static uint64_t
xxh_rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* A little-endian 64-bit word, in one load where the host is one. */
static uint64_t
xxh_read64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static uint64_t
xxh_round(uint64_t acc, uint64_t input)
{
	acc += input * XXH_P2;
	return xxh_rotl(acc, 31) * XXH_P1;
}

static uint64_t
xxh_merge(uint64_t h, uint64_t v)
{
	h ^= xxh_round(0, v);
	return h * XXH_P1 + XXH_P4;
}

static uint64_t
xxh64(const unsigned char *p, size_t length)
{
	const unsigned char *end = p + length;
	uint64_t h;

	if (length >= 32) {
		uint64_t v1 = XXH_P1 + XXH_P2, v2 = XXH_P2, v3 = 0,
			 v4 = 0 - XXH_P1;

		do {
			v1 = xxh_round(v1, xxh_read64(p));
			v2 = xxh_round(v2, xxh_read64(p + 8));
			v3 = xxh_round(v3, xxh_read64(p + 16));
			v4 = xxh_round(v4, xxh_read64(p + 24));
			p += 32;
		} while (end - p >= 32);
		h = xxh_rotl(v1, 1) + xxh_rotl(v2, 7) + xxh_rotl(v3, 12) +
		    xxh_rotl(v4, 18);
		h = xxh_merge(h, v1);
		h = xxh_merge(h, v2);
		h = xxh_merge(h, v3);
		h = xxh_merge(h, v4);
	} else {
		h = XXH_P5;
	}
	h += (uint64_t)length;
	for (; end - p >= 8; p += 8) {
		h ^= xxh_round(0, xxh_read64(p));
		h = xxh_rotl(h, 27) * XXH_P1 + XXH_P4;
	}
	if (end - p >= 4) {
		h ^= (uint64_t)get_le32(p) * XXH_P1;
		h = xxh_rotl(h, 23) * XXH_P2 + XXH_P3;
		p += 4;
	}
	for (; p < end; p++) {
		h ^= *p * XXH_P5;
		h = xxh_rotl(h, 11) * XXH_P1;
	}
	h ^= h >> 33;
	h *= XXH_P2;
	h ^= h >> 29;
	h *= XXH_P3;
	h ^= h >> 32;
	return h;
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
	put_le32(checksum, (uint32_t)xxh64(data, length));
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

/* Refills the input buffer; 0 at the end of the archive's frames. */
static int
reader_fill(struct zstd_reader *r, struct cairn_error *err)
{
	size_t want = r->in_size, n;

	if (r->file_offset >= r->file_end)
		return 0;
	if (r->file_end - r->file_offset < want)
		want = (size_t)(r->file_end - r->file_offset);
	if (blob_read_at(r->blob, r->file_offset, r->in, want, &n, err) != 0)
		return -1;
	if (n == 0) {
		error_set(err, "archive '%s' is truncated", r->name);
		return -1;
	}
	r->file_offset += (uint64_t)n;
	r->in_pos = 0;
	r->in_length = n;
	return 1;
}

/* Decompresses the next block into out: 1, 0 at the end, -1. */
static int
reader_decode(struct zstd_reader *r, unsigned char *out, size_t out_size,
	      size_t *length, struct cairn_error *err)
{
	for (;;) {
		ZSTD_inBuffer in;
		ZSTD_outBuffer o;
		size_t hint;

		if (r->in_pos == r->in_length) {
			int filled = reader_fill(r, err);

			if (filled < 0)
				return -1;
			if (filled == 0) {
				if (r->dctx != NULL &&
				    r->frame_remaining != 0) {
					error_set(err,
						  "archive '%s' is truncated "
						  "(its last zstd frame is "
						  "incomplete)",
						  r->name);
					return -1;
				}
				return 0;
			}
		}
		if (r->dctx == NULL) {
			size_t n = r->in_length - r->in_pos;

			n = n < out_size ? n : out_size;
			memcpy(out, r->in + r->in_pos, n);
			r->in_pos += n;
			*length = n;
			return 1;
		}
		in.src = r->in;
		in.size = r->in_length;
		in.pos = r->in_pos;
		o.dst = out;
		o.size = out_size;
		o.pos = 0;
		hint = ZSTD_decompressStream(r->dctx, &o, &in);
		r->in_pos = in.pos;
		if (ZSTD_isError(hint)) {
			/* zstd does not say where in its input it failed
			 * (in.pos is not moved on error): name the bytes
			 * it was given. */
			error_set(err,
				  "archive '%s' is damaged within bytes %llu "
				  "to %llu: zstd: %s",
				  r->name,
				  (unsigned long long)(r->file_offset -
						       r->in_length),
				  (unsigned long long)r->file_offset,
				  ZSTD_getErrorName(hint));
			return -1;
		}
		r->frame_remaining = hint;
		if (o.pos > 0) {
			*length = o.pos;
			return 1;
		}
	}
}

/* The reader thread: fills free slots until the end, an error or stop. */
static void *
reader_thread(void *arg)
{
	struct zstd_reader *r = arg;
	struct cairn_error err;
	size_t slot, length = 0;
	int rc;

	for (;;) {
		pthread_mutex_lock(&r->lock);
		while (r->ready == ZSTD_READER_SLOTS && !r->stopping)
			pthread_cond_wait(&r->changed, &r->lock);
		if (r->stopping) {
			pthread_mutex_unlock(&r->lock);
			return NULL;
		}
		slot = (r->head + r->ready) % ZSTD_READER_SLOTS;
		pthread_mutex_unlock(&r->lock);

		/* Only this thread touches a slot that is not ready. */
		rc = reader_decode(r, r->slots[slot], r->slot_size, &length,
				   &err);

		pthread_mutex_lock(&r->lock);
		if (rc > 0) {
			r->slot_length[slot] = length;
			r->ready++;
		} else {
			r->finished = 1;
			if (rc < 0) {
				r->failed = 1;
				r->error = err;
			}
		}
		pthread_cond_broadcast(&r->changed);
		pthread_mutex_unlock(&r->lock);
		if (rc <= 0)
			return NULL;
	}
}

int
zstd_reader_open(struct zstd_reader *r, struct blob *b,
		 const struct zstd_trailer *t, uint64_t offset,
		 struct cairn_error *err)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->blob = b;
	r->name = b->name;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
	r->file_end = t->end;
	r->file_offset = offset;
	r->in_size = READ_SIZE;
	r->in = xmalloc(r->in_size);
	if (t->compressed) {
		r->dctx = ZSTD_createDCtx();
		if (r->dctx == NULL) {
			error_set(err, "cannot create a zstd context");
			goto fail;
		}
	}
	r->slot_size = READ_SIZE;
	for (i = 0; i < ZSTD_READER_SLOTS; i++)
		r->slots[i] = xmalloc(r->slot_size);
	if (pthread_create(&r->thread, NULL, reader_thread, r) != 0) {
		error_set(err, "cannot start a decompression thread");
		goto fail;
	}
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
		*data = r->slots[r->head];
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
	size_t i;

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
	for (i = 0; i < ZSTD_READER_SLOTS; i++)
		free(r->slots[i]);
	memset(r, 0, sizeof(*r));
}
