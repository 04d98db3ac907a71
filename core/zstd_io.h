/*
 * The compressed container of an archive: a sequence of zstd frames with
 * content checksums, which stock `zstd -dc` reads as one stream.
 *
 * The writer ends a frame only between tar entries, so every frame starts
 * on a tar header and a reader can start at any frame's offset; the
 * archive writer records those offsets to reach an entry without reading
 * everything before it. A final 24-byte skippable frame (ignored by zstd)
 * holds the offset of the frame with the manifest:
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

struct zstd_writer {
	int fd;
	void *cctx; /* ZSTD_CCtx, NULL without compression */
	unsigned char *out;
	size_t out_size;
	uint64_t offset;      /* bytes written to fd */
	uint64_t written_back; /* bytes handed to the kernel's writeback */
	uint64_t frame_start; /* offset of the frame being written */
	uint64_t frame_input; /* uncompressed bytes in that frame */
	uint64_t total_input;
};

/* Starts writing to `fd` (not owned). threads 0: one per core. */
int zstd_writer_open(struct zstd_writer *w, int fd, int compress, int level,
		     int threads, struct cairn_error *err);
int zstd_writer_write(struct zstd_writer *w, const void *data, size_t length,
		      struct cairn_error *err);
/* Ends the current frame, if anything went into it. */
int zstd_writer_end_frame(struct zstd_writer *w, struct cairn_error *err);
/* The offset at which the current (or next) frame starts. */
uint64_t zstd_writer_frame_offset(const struct zstd_writer *w);
/* Ends the frame and appends the trailer naming `manifest_offset`. */
int zstd_writer_finish(struct zstd_writer *w, uint64_t manifest_offset,
		       struct cairn_error *err);
void zstd_writer_release(struct zstd_writer *w);

/* Decompressed blocks the reader thread may hold ready. */
#define ZSTD_READER_SLOTS 4

struct zstd_reader {
	int fd;
	void *dctx; /* ZSTD_DCtx, NULL for a plain tar file */
	unsigned char *in;
	size_t in_size, in_pos, in_length;
	uint64_t file_offset;   /* next byte to read from fd */
	uint64_t file_end;      /* where the trailer starts */
	size_t frame_remaining; /* zstd's hint: 0 at a frame boundary */
	const char *name;       /* for messages, not owned */

	/*
	 * Decompression runs ahead in its own thread, so that it overlaps
	 * with what the caller does with the blocks (hashing, extracting).
	 * The caller holds the block at `head` until its next read.
	 */
	pthread_t thread;
	int thread_started;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	unsigned char *slots[ZSTD_READER_SLOTS];
	size_t slot_length[ZSTD_READER_SLOTS];
	size_t slot_size;
	size_t head, ready;
	int holding, finished, failed, stopping;
	struct cairn_error error;
};

/*
 * Reads the archive in `fd` (not owned) from `offset`, a frame start, up
 * to its trailer. `name` names the archive in messages.
 */
int zstd_reader_open(struct zstd_reader *r, int fd, const char *name,
		     uint64_t offset, struct cairn_error *err);
/*
 * The next block of decompressed bytes: 1 with *data and *length set, 0 at
 * the end, -1 on error (damaged frame, checksum mismatch, truncation).
 */
int zstd_reader_read(struct zstd_reader *r, const void **data,
		     size_t *length, struct cairn_error *err);
void zstd_reader_release(struct zstd_reader *r);

/*
 * Reads the trailer of the archive in `fd`: the manifest frame's offset
 * and whether the archive is compressed. 0, or -1 when it is missing
 * (a truncated or foreign file).
 */
int zstd_io_read_trailer(int fd, const char *name, uint64_t *manifest_offset,
			 int *compressed, struct cairn_error *err);

#endif
