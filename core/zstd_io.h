/*
 * The compressed container of an archive: a sequence of zstd frames with
 * content checksums, which stock `zstd -dc` reads as one stream.
 *
 * The writer ends a compressed frame only between tar entries, so each
 * starts on a tar header and a reader can start at its offset; the
 * archive writer records those offsets to reach an entry without reading
 * everything before it. Stored frames (store mode, below) hold parts of
 * an entry's content and are never recorded. A final 24-byte skippable frame
 * (ignored by zstd) holds the offset of the frame with the manifest:
 *
 *     50 2A 4D 18 | 10 00 00 00 | "CAIRNIX1" | offset (64-bit LE)
 *
 * With compression "none" the stream is a plain tar file; "frames" are
 * then plain offsets and the same 24 bytes follow the tar end marker,
 * where tar does not look.
 */
#ifndef CAIRN_ZSTD_IO_H
#define CAIRN_ZSTD_IO_H

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <cairn/plugin.h>

#define ZSTD_IO_TRAILER_SIZE 24

struct blob;
struct byte_sink;

struct zstd_writer {
	struct byte_sink *out_sink; /* not owned */
	void *cctx;		    /* ZSTD_CCtx, NULL without compression */
	unsigned char *out;
	size_t out_size;
	uint64_t offset;      /* bytes handed to the sink */
	uint64_t frame_start; /* offset of the frame being written */
	uint64_t frame_input; /* uncompressed bytes in that frame */
	int store;	      /* writes go into stored frames (below) */
	void *probe;	      /* ZSTD_CCtx of zstd_writer_incompressible */
	unsigned char *probe_out;
	size_t probe_out_size;
};

/*
 * Starts writing to `sink` (not owned; the writer never frees it).
 * threads 0: one per core.
 */
int zstd_writer_open(struct zstd_writer *w, struct byte_sink *sink,
		     int compress, int level, int threads,
		     struct cairn_error *err);
int zstd_writer_write(struct zstd_writer *w, const void *data, size_t length,
		      struct cairn_error *err);
/*
 * 1 when a sample of data (its first ZSTD_IO_PROBE_SIZE bytes) gains
 * almost nothing from compression, as with media, encrypted or already
 * compressed files; 0 otherwise, and always without compression. A quick
 * level-1 compression of the sample decides, a few percent of the cost of
 * compressing the data it stands for.
 */
#define ZSTD_IO_PROBE_SIZE (64 * 1024)
int zstd_writer_incompressible(struct zstd_writer *w, const void *data,
			       size_t length);
/*
 * While w->store is set, compressed output is ended with its frame and
 * what is written goes into frames of raw (stored) blocks of its own,
 * with their content checksum: still standard zstd frames, which
 * `zstd -dc` and cairn's reader decode like the others, without the
 * compressor's time spent on data it could not shrink. Such frames are
 * no place for a reader to start at: the archive writer sets store only
 * within an entry's content.
 */
/* Ends the current frame, if anything went into it. */
int zstd_writer_end_frame(struct zstd_writer *w, struct cairn_error *err);
/* The offset at which the current (or next) frame starts. */
uint64_t zstd_writer_frame_offset(const struct zstd_writer *w);
/*
 * Ends the frame, appends the trailer naming `manifest_offset` and
 * finishes the sink.
 */
int zstd_writer_finish(struct zstd_writer *w, uint64_t manifest_offset,
		       struct cairn_error *err);
void zstd_writer_release(struct zstd_writer *w);

/* What the trailer and the first bytes of an archive tell. */
struct zstd_trailer {
	uint64_t manifest_offset; /* the frame holding the manifest */
	uint64_t end;		  /* where the trailer starts */
	int compressed;		  /* zstd frames, or a plain tar stream */
};

/*
 * Reads the trailer at the end of b: 0, or -1 when the archive is
 * truncated, is not a cairn archive or cannot be read.
 */
int zstd_io_read_trailer(struct blob *b, struct zstd_trailer *t,
			 struct cairn_error *err);

/* Decompressed blocks the reader thread may hold ready. */
#define ZSTD_READER_SLOTS 4

struct zstd_reader {
	struct blob *blob; /* not owned */
	void *dctx;	   /* ZSTD_DCtx, NULL for a plain tar file */
	unsigned char *in;
	size_t in_size, in_pos, in_length;
	uint64_t file_offset; /* next byte to read from the blob */
	uint64_t file_end;    /* where the trailer starts */
	const char *name;     /* for messages, the blob's */

	/*
	 * Decompression runs ahead in its own thread, so that it overlaps
	 * with what the caller does with the blocks (hashing, extracting).
	 * zstd decodes straight into `ring`, which is both its window and
	 * the blocks handed out (zstd_io.c says how). The caller holds the
	 * block at `head` until its next read.
	 */
	pthread_t thread;
	int thread_started;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	unsigned char *ring;
	size_t ring_size;
	uint64_t write, pending; /* the thread's, in ring positions */
	uint64_t slot_start[ZSTD_READER_SLOTS];
	size_t slot_length[ZSTD_READER_SLOTS];
	size_t head, ready;
	int holding, finished, failed, stopping;
	struct cairn_error error;
};

/*
 * Starts reading the frames of b (not owned, outlives the reader) at
 * `offset`, up to the trailer that t describes.
 */
int zstd_reader_open(struct zstd_reader *r, struct blob *b,
		     const struct zstd_trailer *t, uint64_t offset,
		     struct cairn_error *err);

/*
 * The next block of decompressed bytes: 1 with *data and *length set, 0 at
 * the end, -1 on error (damaged frame, checksum mismatch, truncation).
 */
int zstd_reader_read(struct zstd_reader *r, const void **data, size_t *length,
		     struct cairn_error *err);
void zstd_reader_release(struct zstd_reader *r);

#endif
