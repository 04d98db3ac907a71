/*
 * Reading and writing whole age v1 files: the header, the 16-byte nonce,
 * and the payload as STREAM chunks of 64 KiB of plaintext, each sealed
 * with ChaCha20-Poly1305 under the payload key, its nonce an 11-byte
 * counter and a flag set on the last chunk.
 *
 * The reader has random access: since every chunk but the last holds
 * 65,552 bytes of ciphertext, a plaintext offset maps to a chunk index
 * and a file offset, and the file's size says which chunk is last, so a
 * file cut at a chunk boundary (whose new last chunk lacks the flag),
 * extended, or with an empty last chunk after others fails to
 * authenticate. A chunk's plaintext is handed out only after its tag
 * verified; the reader keeps the current chunk in a cache.
 */
#ifndef CAIRN_AGE_STREAM_H
#define CAIRN_AGE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include <cairn/plugin.h>

#include "age_header.h"
#include "age_keys.h"

#define AGE_CHUNK_SIZE 65536
#define AGE_SEALED_CHUNK_SIZE (AGE_CHUNK_SIZE + 16)
#define AGE_PAYLOAD_NONCE_SIZE 16
/* A header larger than this is refused rather than read into memory. */
#define AGE_HEADER_LIMIT (1024 * 1024)

/* Where an encrypted file's bytes come from (a struct blob fits). */
struct age_source {
	/* 0 with *got < length only at the end of the file; -1 on error. */
	int (*read_at)(void *self, uint64_t offset, void *buffer, size_t length,
		       size_t *got, struct cairn_error *err);
	void *self;
	uint64_t size;
};

/*
 * Reads and parses the header at the start of src into header, its raw
 * bytes into raw (a buf the caller releases). Needs no key. Returns
 * AGE_OK, AGE_HEADER_FAILURE (err says what) or AGE_SYSTEM_FAILURE.
 */
enum age_status age_header_read(const struct age_source *src,
				struct age_header *header, struct buf *raw,
				struct cairn_error *err);

struct age_reader;

/*
 * Opens the age file of src with one of ids: reads the header, finds the
 * file key, checks the MAC, derives the payload key. src must outlive the
 * reader. On AGE_OK *reader is set (free it with age_reader_free); on
 * any other status err says what is wrong and nothing is allocated.
 */
enum age_status age_reader_open(struct age_reader **reader,
				const struct age_source *src,
				const struct age_identities *ids,
				struct cairn_error *err);

/* The plaintext size the file's size implies. */
uint64_t age_reader_size(const struct age_reader *reader);
/* Chunks the file's size implies (0 for a file that ends at the nonce). */
uint64_t age_reader_chunk_count(const struct age_reader *reader);
/* Where the payload (its nonce first) starts: the header's length. */
uint64_t age_reader_payload_offset(const struct age_reader *reader);

/*
 * Authenticates and decrypts chunk index; *data (the reader's cache,
 * valid until the next call) and *length get its plaintext. A chunk too
 * short, an empty last chunk after others, a file without any chunk or a
 * tag that does not verify is AGE_PAYLOAD_FAILURE, err naming the file
 * offset of the chunk. A full chunk whose tag verifies only with the
 * other last-chunk flag is genuine but misplaced (the file was cut after
 * it, or continues after a final chunk): AGE_PAYLOAD_FAILURE with its
 * authentic plaintext in *data and *length, which a reader from the
 * start would have released before failing; *length is 0 on every other
 * failure. age_reader_read_at never hands such a chunk out.
 */
enum age_status age_reader_chunk(struct age_reader *reader, uint64_t index,
				 const unsigned char **data, size_t *length,
				 struct cairn_error *err);

/*
 * The same without the cache, into out (AGE_CHUNK_SIZE bytes), for a
 * caller that keeps its own: out holds *length authentic bytes on
 * AGE_OK and on a misplaced chunk's failure, nothing usable otherwise.
 * Neither function may run in two threads on one reader at once.
 */
enum age_status age_reader_decrypt(struct age_reader *reader, uint64_t index,
				   unsigned char *out, size_t *length,
				   struct cairn_error *err);

/*
 * age_reader_decrypt without a copy: when room (the bytes writable at
 * out) holds the whole sealed chunk, the chunk is read into out and
 * decrypted in place, so out needs AGE_SEALED_CHUNK_SIZE bytes for a
 * full chunk; otherwise, or to say why a chunk failed, this is
 * age_reader_decrypt, and out holds what that leaves. On AGE_OK out
 * holds *length authentic bytes, and the 16 bytes after them (within
 * room) may be overwritten.
 */
enum age_status age_reader_decrypt_into(struct age_reader *reader,
					uint64_t index, unsigned char *out,
					size_t room, size_t *length,
					struct cairn_error *err);

/*
 * Where chunk index starts in the file, and how many sealed bytes it has
 * there (the last chunk's as the file's size says; 0 past the end), for
 * a caller that reads chunks itself.
 */
uint64_t age_reader_chunk_offset(const struct age_reader *reader,
				 uint64_t index);
size_t age_reader_sealed_length(const struct age_reader *reader,
				uint64_t index);

/*
 * Authenticates and decrypts in place chunk index, whose sealed_length
 * sealed bytes the caller read from the file: AGE_OK with *length bytes
 * of plaintext at sealed. On any other status the bytes are wiped and
 * *length is 0, and no message is set: age_reader_decrypt, which reads
 * the chunk again, says what is wrong.
 */
enum age_status age_reader_open_in_place(struct age_reader *reader,
					 uint64_t index, unsigned char *sealed,
					 size_t sealed_length, size_t *length);

/*
 * Plaintext bytes at offset, through the chunk cache: *got < length only
 * at the end. Returns AGE_OK or the status of age_reader_chunk.
 */
enum age_status age_reader_read_at(struct age_reader *reader, uint64_t offset,
				   void *buffer, size_t length, size_t *got,
				   struct cairn_error *err);

/*
 * A second reader of the same file, with a cipher context and buffers of
 * its own: the two may decrypt in two threads at once (src must allow
 * reads from both). NULL on a libcrypto failure.
 */
struct age_reader *age_reader_clone(const struct age_reader *reader);

void age_reader_free(struct age_reader *reader);

/* Where an age_writer's output goes: 0, or -1 with err set. */
typedef int (*age_output_fn)(void *self, const void *data, size_t length,
			     struct cairn_error *err);

struct age_writer;

/*
 * Starts a new age file to r: draws a file key, writes the header and
 * the nonce to output. r is not kept. 0 or -1.
 */
int age_writer_open(struct age_writer **writer, const struct age_recipients *r,
		    age_output_fn output, void *self, struct cairn_error *err);

/*
 * Encrypts length bytes, handing the sealed chunks to output a few at a
 * time. 0 or -1.
 */
int age_writer_write(struct age_writer *writer, const void *data, size_t length,
		     struct cairn_error *err);

/*
 * Seals the last chunk and hands output what it still holds. No write
 * is allowed afterwards. 0 or -1.
 */
int age_writer_finish(struct age_writer *writer, struct cairn_error *err);

/* Bytes handed to output so far. */
uint64_t age_writer_written(const struct age_writer *writer);

/* Frees and wipes the writer (finished or not). */
void age_writer_free(struct age_writer *writer);

#endif
