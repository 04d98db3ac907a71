/*
 * An archive's bytes, read by offset. Every read of an archive goes
 * through a blob: the trailer at its end, the manifest and index frames
 * by offset, and the readers started at frame offsets. A blob over a
 * local file is here; others (decrypting, remote) wrap another blob or a
 * connection behind the same two operations.
 *
 * read_at may be called from several threads at once (each zstd reader
 * decompresses in a thread of its own, and a source holds two readers
 * on one archive): an implementation that keeps state between calls
 * locks it.
 *
 * Ownership: blob_close frees the blob, its name and whatever its
 * implementation owns (ops->close). The blob does not own the buffers
 * it reads into.
 */
#ifndef CAIRN_BLOB_H
#define CAIRN_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include <cairn/plugin.h>

struct blob_ops {
	/*
	 * Reads up to `length` bytes at `offset` into buffer and sets *got;
	 * returns 0 with *got < length only at the end of the blob, -1 with
	 * err set (naming the archive) on error.
	 */
	int (*read_at)(void *self, uint64_t offset, void *buffer, size_t length,
		       size_t *got, struct cairn_error *err);
	/* Frees self and what it owns; may be NULL. */
	void (*close)(void *self);
};

struct blob {
	const struct blob_ops *ops;
	void *self;
	uint64_t size; /* bytes readable */
	char *name;    /* for messages: the archive's id; owned */
	/*
	 * What a reader going through the blob asks for at a time: large
	 * reads of a file make few system calls (BLOB_READ_SIZE, set by
	 * blob_new); a blob that reads ahead in a thread of its own wants
	 * reads that leave it room to stay ahead.
	 */
	size_t read_size;
};

#define BLOB_READ_SIZE (1024 * 1024)

/*
 * A blob over `self` with the given operations; takes `self` (closed by
 * blob_close). `name` is copied.
 */
struct blob *blob_new(const struct blob_ops *ops, void *self, uint64_t size,
		      const char *name);

/* The file at `path`, opened read-only; `name` names it in messages. */
int blob_open_file(struct blob **b, const char *path, const char *name,
		   struct cairn_error *err);

/* ops->read_at, retried until `length` bytes or the end of the blob. */
int blob_read_at(struct blob *b, uint64_t offset, void *buffer, size_t length,
		 size_t *got, struct cairn_error *err);

/* Frees b (NULL is fine) and closes what it owns. */
void blob_close(struct blob *b);

#endif
