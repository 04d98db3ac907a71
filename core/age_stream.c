/*
 * age_stream.h: the header read and written whole, the payload chunk by
 * chunk with a context keyed once.
 */
#include "age_stream.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "age_crypto.h"
#include "error.h"

struct age_reader {
	const struct age_source *src;
	struct age_aead aead;
	uint64_t payload_offset; /* of the first chunk, after the nonce */
	uint64_t payload_size;	 /* ciphertext bytes of all chunks */
	uint64_t chunk_count;
	uint64_t cached_index; /* UINT64_MAX: nothing cached */
	size_t cached_length;
	unsigned char sealed[AGE_SEALED_CHUNK_SIZE];
	unsigned char plain[AGE_CHUNK_SIZE];
	uint64_t header_length;
};

/*
 * A writer hands its sealed chunks to the output AGE_WRITER_BATCH at a
 * time, about the 256 KiB of a plain archive's writes: writing each
 * 64 KiB chunk alone cost a backup's writing thread 30 % more CPU in
 * the kernel.
 */
#define AGE_WRITER_BATCH 4

struct age_writer {
	age_output_fn output;
	void *self;
	struct age_aead aead;
	uint64_t counter;
	uint64_t written;
	size_t filled;	/* plaintext bytes waiting in plain */
	size_t batched; /* sealed bytes waiting in sealed */
	int finished;
	unsigned char plain[AGE_CHUNK_SIZE];
	unsigned char sealed[AGE_WRITER_BATCH * AGE_SEALED_CHUNK_SIZE];
};

/* 11-byte big-endian counter, then the last-chunk flag. */
static void
age_chunk_nonce(uint64_t counter, int last, unsigned char nonce[12])
{
	int i;

	memset(nonce, 0, 12);
	for (i = 10; i >= 3; i--) {
		nonce[i] = (unsigned char)(counter & 0xff);
		counter >>= 8;
	}
	nonce[11] = last ? 1 : 0;
}

static int
age_read_full(const struct age_source *src, uint64_t offset, void *buffer,
	      size_t length, size_t *got, struct cairn_error *err)
{
	*got = 0;
	while (*got < length) {
		size_t n = 0;

		if (src->read_at(src->self, offset + *got,
				 (unsigned char *)buffer + *got, length - *got,
				 &n, err) < 0)
			return -1;
		if (n == 0)
			break;
		*got += n;
	}
	return 0;
}

enum age_status
age_header_read(const struct age_source *src, struct age_header *header,
		struct buf *raw, struct cairn_error *err)
{
	size_t want = 4096, got = 0;
	const char *reason = NULL;

	memset(header, 0, sizeof(*header));
	if (src->size == 0) {
		error_set(err, "the file is empty");
		return AGE_HEADER_FAILURE;
	}
	for (;;) {
		enum age_header_parse_result parsed;
		size_t n = 0;

		if (want > src->size)
			want = (size_t)src->size;
		buf_grow(raw, want - got);
		if (want > got) {
			if (age_read_full(src, got,
					  (unsigned char *)raw->data + got,
					  want - got, &n, err) < 0)
				return AGE_SYSTEM_FAILURE;
			got += n;
			raw->length = got;
		}
		parsed = age_header_parse((const unsigned char *)raw->data, got,
					  header, &reason);
		if (parsed == AGE_HEADER_COMPLETE)
			return AGE_OK;
		if (parsed == AGE_HEADER_MALFORMED) {
			error_set(err, "malformed age header: %s", reason);
			return AGE_HEADER_FAILURE;
		}
		if (got >= src->size || got >= AGE_HEADER_LIMIT) {
			error_set(err, got >= AGE_HEADER_LIMIT
					       ? "age header larger than 1 MiB"
					       : "the file ends inside its age "
						 "header");
			return AGE_HEADER_FAILURE;
		}
		want = got * 4 > AGE_HEADER_LIMIT ? AGE_HEADER_LIMIT : got * 4;
	}
}

enum age_status
age_reader_open(struct age_reader **out, const struct age_source *src,
		const struct age_identities *ids, struct cairn_error *err)
{
	unsigned char file_key[AGE_FILE_KEY_SIZE], nonce[16], key[32];
	struct age_header header;
	struct buf raw = BUF_INIT;
	struct age_reader *r = NULL;
	enum age_status status;
	size_t got = 0;

	*out = NULL;
	status = age_header_read(src, &header, &raw, err);
	if (status != AGE_OK)
		goto out;
	status = age_unwrap_file_key(&header, (const unsigned char *)raw.data,
				     ids, file_key, err);
	if (status != AGE_OK)
		goto out;
	status = AGE_SYSTEM_FAILURE;
	if (age_read_full(src, header.length, nonce, sizeof(nonce), &got, err) <
	    0)
		goto out;
	if (got < sizeof(nonce)) {
		error_set(err, "the file ends before the payload's nonce");
		status = AGE_HEADER_FAILURE;
		goto out;
	}
	if (age_payload_key(file_key, nonce, key) < 0) {
		error_set(err, "HKDF failed in libcrypto");
		goto out;
	}
	r = xcalloc(1, sizeof(*r));
	if (age_aead_init(&r->aead, key) < 0) {
		error_set(err, "ChaCha20-Poly1305 failed in libcrypto");
		free(r);
		r = NULL;
		goto out;
	}
	r->src = src;
	r->header_length = header.length;
	r->payload_offset = header.length + sizeof(nonce);
	r->payload_size = src->size - r->payload_offset;
	r->chunk_count = (r->payload_size + AGE_SEALED_CHUNK_SIZE - 1) /
			 AGE_SEALED_CHUNK_SIZE;
	r->cached_index = UINT64_MAX;
	*out = r;
	status = AGE_OK;
out:
	OPENSSL_cleanse(file_key, sizeof(file_key));
	OPENSSL_cleanse(key, sizeof(key));
	age_header_release(&header);
	buf_release(&raw);
	return status;
}

uint64_t
age_reader_chunk_count(const struct age_reader *r)
{
	return r->chunk_count;
}

uint64_t
age_reader_payload_offset(const struct age_reader *r)
{
	return r->header_length;
}

uint64_t
age_reader_size(const struct age_reader *r)
{
	uint64_t last;

	if (r->chunk_count == 0)
		return 0;
	last = r->payload_size - (r->chunk_count - 1) * AGE_SEALED_CHUNK_SIZE;
	return (r->chunk_count - 1) * AGE_CHUNK_SIZE +
	       (last > AGE_TAG_SIZE ? last - AGE_TAG_SIZE : 0);
}

enum age_status
age_reader_decrypt(struct age_reader *r, uint64_t index, unsigned char *out,
		   size_t *length, struct cairn_error *err)
{
	uint64_t offset = r->payload_offset + index * AGE_SEALED_CHUNK_SIZE;
	unsigned char nonce[AGE_NONCE_SIZE];
	size_t sealed_length, got = 0;
	int last, rc;

	*length = 0;
	if (r->chunk_count == 0) {
		error_set(err,
			  "the payload has no chunk (truncated at offset "
			  "%llu)",
			  (unsigned long long)r->payload_offset);
		return AGE_PAYLOAD_FAILURE;
	}
	if (index >= r->chunk_count) {
		error_set(err, "no payload chunk %llu",
			  (unsigned long long)index);
		return AGE_PAYLOAD_FAILURE;
	}
	last = index == r->chunk_count - 1;
	sealed_length = last ? (size_t)(r->payload_size -
					index * AGE_SEALED_CHUNK_SIZE)
			     : AGE_SEALED_CHUNK_SIZE;
	if (sealed_length < AGE_TAG_SIZE ||
	    (last && index > 0 && sealed_length == AGE_TAG_SIZE)) {
		error_set(err,
			  "truncated payload: the last chunk at offset "
			  "%llu is %s",
			  (unsigned long long)offset,
			  sealed_length < AGE_TAG_SIZE ? "shorter than its tag"
						       : "empty");
		return AGE_PAYLOAD_FAILURE;
	}
	if (age_read_full(r->src, offset, r->sealed, sealed_length, &got, err) <
	    0)
		return AGE_SYSTEM_FAILURE;
	if (got != sealed_length) {
		error_set(err,
			  "the file changed size while read (chunk at "
			  "offset %llu)",
			  (unsigned long long)offset);
		return AGE_SYSTEM_FAILURE;
	}
	age_chunk_nonce(index, last, nonce);
	rc = age_aead_open(&r->aead, nonce, r->sealed, sealed_length, out);
	if (rc > 0 && sealed_length == AGE_SEALED_CHUNK_SIZE) {
		/*
		 * A full chunk that authenticates with the other flag is
		 * genuine but in the wrong place: a final chunk with more
		 * after it, or the file cut after a chunk that was not
		 * final. Its plaintext is authentic (a reader from the
		 * start would have released it), the file is not.
		 */
		age_chunk_nonce(index, !last, nonce);
		rc = age_aead_open(&r->aead, nonce, r->sealed, sealed_length,
				   out);
		if (rc == 0) {
			*length = sealed_length - AGE_TAG_SIZE;
			error_set(err,
				  last ? "truncated payload: the file ends "
					 "after the chunk at offset %llu, "
					 "which is not marked final"
				       : "data after the final chunk at offset "
					 "%llu",
				  (unsigned long long)offset);
			return AGE_PAYLOAD_FAILURE;
		}
	}
	if (rc < 0) {
		error_set(err, "ChaCha20-Poly1305 failed in libcrypto");
		return AGE_SYSTEM_FAILURE;
	}
	if (rc > 0) {
		error_set(err,
			  "damaged or truncated payload: the chunk at "
			  "offset %llu does not authenticate",
			  (unsigned long long)offset);
		return AGE_PAYLOAD_FAILURE;
	}
	*length = sealed_length - AGE_TAG_SIZE;
	return AGE_OK;
}

uint64_t
age_reader_chunk_offset(const struct age_reader *r, uint64_t index)
{
	return r->payload_offset + index * AGE_SEALED_CHUNK_SIZE;
}

size_t
age_reader_sealed_length(const struct age_reader *r, uint64_t index)
{
	if (index >= r->chunk_count)
		return 0;
	if (index == r->chunk_count - 1)
		return (size_t)(r->payload_size -
				index * AGE_SEALED_CHUNK_SIZE);
	return AGE_SEALED_CHUNK_SIZE;
}

enum age_status
age_reader_open_in_place(struct age_reader *r, uint64_t index,
			 unsigned char *sealed, size_t sealed_length,
			 size_t *length)
{
	unsigned char nonce[AGE_NONCE_SIZE];
	int rc;

	*length = 0;
	if (sealed_length <= AGE_TAG_SIZE ||
	    sealed_length != age_reader_sealed_length(r, index)) {
		OPENSSL_cleanse(sealed, sealed_length);
		return AGE_PAYLOAD_FAILURE;
	}
	/*
	 * The plaintext takes the place of the ciphertext, and the tag
	 * after it is copied out before it is checked. age_aead_open wipes
	 * the output if the tag does not verify.
	 */
	age_chunk_nonce(index, index == r->chunk_count - 1, nonce);
	rc = age_aead_open(&r->aead, nonce, sealed, sealed_length, sealed);
	if (rc != 0) {
		OPENSSL_cleanse(sealed, sealed_length);
		return rc < 0 ? AGE_SYSTEM_FAILURE : AGE_PAYLOAD_FAILURE;
	}
	*length = sealed_length - AGE_TAG_SIZE;
	return AGE_OK;
}

enum age_status
age_reader_decrypt_into(struct age_reader *r, uint64_t index,
			unsigned char *out, size_t room, size_t *length,
			struct cairn_error *err)
{
	size_t sealed_length = age_reader_sealed_length(r, index), got = 0;

	*length = 0;
	if (sealed_length <= AGE_TAG_SIZE || room < sealed_length)
		return age_reader_decrypt(r, index, out, length, err);
	if (age_read_full(r->src, age_reader_chunk_offset(r, index), out,
			  sealed_length, &got, err) < 0)
		return AGE_SYSTEM_FAILURE;
	if (got == sealed_length &&
	    age_reader_open_in_place(r, index, out, sealed_length, length) ==
		    AGE_OK)
		return AGE_OK;
	/* The ciphertext is gone: the chunk is read again to say why. */
	OPENSSL_cleanse(out, got);
	return age_reader_decrypt(r, index, out, length, err);
}

enum age_status
age_reader_chunk(struct age_reader *r, uint64_t index,
		 const unsigned char **data, size_t *length,
		 struct cairn_error *err)
{
	enum age_status status;

	*data = r->plain;
	if (r->cached_index == index) {
		*length = r->cached_length;
		return AGE_OK;
	}
	r->cached_index = UINT64_MAX;
	status = age_reader_decrypt(r, index, r->plain, length, err);
	if (status == AGE_OK) {
		r->cached_index = index;
		r->cached_length = *length;
	}
	return status;
}

enum age_status
age_reader_read_at(struct age_reader *r, uint64_t offset, void *buffer,
		   size_t length, size_t *got, struct cairn_error *err)
{
	uint64_t size = age_reader_size(r);

	*got = 0;
	while (*got < length && offset < size) {
		uint64_t index = offset / AGE_CHUNK_SIZE;
		size_t within = (size_t)(offset % AGE_CHUNK_SIZE), n;
		const unsigned char *data;
		size_t chunk_length;
		enum age_status status;

		status = age_reader_chunk(r, index, &data, &chunk_length, err);
		if (status != AGE_OK)
			return status;
		if (within >= chunk_length)
			break;
		n = chunk_length - within;
		if (n > length - *got)
			n = length - *got;
		memcpy((unsigned char *)buffer + *got, data + within, n);
		*got += n;
		offset += n;
	}
	return AGE_OK;
}

struct age_reader *
age_reader_clone(const struct age_reader *r)
{
	struct age_reader *copy = xcalloc(1, sizeof(*copy));

	if (age_aead_copy(&copy->aead, &r->aead) != 0) {
		free(copy);
		return NULL;
	}
	copy->src = r->src;
	copy->payload_offset = r->payload_offset;
	copy->payload_size = r->payload_size;
	copy->chunk_count = r->chunk_count;
	copy->cached_index = UINT64_MAX;
	copy->header_length = r->header_length;
	return copy;
}

void
age_reader_free(struct age_reader *r)
{
	if (r == NULL)
		return;
	age_aead_release(&r->aead);
	OPENSSL_cleanse(r->plain, sizeof(r->plain));
	free(r);
}

int
age_writer_open(struct age_writer **out, const struct age_recipients *rcpt,
		age_output_fn output, void *self, struct cairn_error *err)
{
	unsigned char file_key[AGE_FILE_KEY_SIZE], nonce[16], key[32];
	struct buf header = BUF_INIT;
	struct age_writer *w = NULL;
	int rc = -1;

	*out = NULL;
	if (age_random(file_key, sizeof(file_key)) < 0 ||
	    age_random(nonce, sizeof(nonce)) < 0) {
		error_set(err, "the random generator failed");
		goto out;
	}
	if (age_header_build(rcpt, file_key, &header, err) < 0)
		goto out;
	if (age_payload_key(file_key, nonce, key) < 0) {
		error_set(err, "HKDF failed in libcrypto");
		goto out;
	}
	w = xcalloc(1, sizeof(*w));
	if (age_aead_init(&w->aead, key) < 0) {
		error_set(err, "ChaCha20-Poly1305 failed in libcrypto");
		free(w);
		w = NULL;
		goto out;
	}
	w->output = output;
	w->self = self;
	buf_append(&header, nonce, sizeof(nonce));
	if (output(self, header.data, header.length, err) < 0) {
		age_writer_free(w);
		w = NULL;
		goto out;
	}
	w->written = header.length;
	*out = w;
	rc = 0;
out:
	OPENSSL_cleanse(file_key, sizeof(file_key));
	OPENSSL_cleanse(key, sizeof(key));
	buf_release(&header);
	return rc;
}

/* Hands the sealed chunks waiting to the output. */
static int
age_writer_drain(struct age_writer *w, struct cairn_error *err)
{
	size_t length = w->batched;

	w->batched = 0;
	if (length > 0 && w->output(w->self, w->sealed, length, err) < 0)
		return -1;
	w->written += length;
	return 0;
}

/* Seals the next chunk, length bytes at plaintext, into the batch. */
static int
age_writer_seal(struct age_writer *w, const unsigned char *plaintext,
		size_t length, int last, struct cairn_error *err)
{
	unsigned char nonce[AGE_NONCE_SIZE];

	if (w->batched + AGE_SEALED_CHUNK_SIZE > sizeof(w->sealed) &&
	    age_writer_drain(w, err) < 0)
		return -1;
	age_chunk_nonce(w->counter, last, nonce);
	if (age_aead_seal(&w->aead, nonce, plaintext, length,
			  w->sealed + w->batched) < 0) {
		error_set(err, "ChaCha20-Poly1305 failed in libcrypto");
		return -1;
	}
	w->batched += length + AGE_TAG_SIZE;
	w->counter++;
	return 0;
}

int
age_writer_write(struct age_writer *w, const void *data, size_t length,
		 struct cairn_error *err)
{
	const unsigned char *p = data;

	if (w->finished) {
		error_set(err, "write after the end of an age file");
		return -1;
	}
	while (length > 0) {
		size_t n;

		/* A full chunk waits until more data says it is not last. */
		if (w->filled == AGE_CHUNK_SIZE) {
			if (age_writer_seal(w, w->plain, AGE_CHUNK_SIZE, 0,
					    err) < 0)
				return -1;
			w->filled = 0;
		}
		/* A whole chunk with more after it is sealed where it is. */
		if (w->filled == 0 && length > AGE_CHUNK_SIZE) {
			if (age_writer_seal(w, p, AGE_CHUNK_SIZE, 0, err) < 0)
				return -1;
			p += AGE_CHUNK_SIZE;
			length -= AGE_CHUNK_SIZE;
			continue;
		}
		n = AGE_CHUNK_SIZE - w->filled;
		if (n > length)
			n = length;
		memcpy(w->plain + w->filled, p, n);
		w->filled += n;
		p += n;
		length -= n;
	}
	return 0;
}

int
age_writer_finish(struct age_writer *w, struct cairn_error *err)
{
	if (w->finished) {
		error_set(err, "age file finished twice");
		return -1;
	}
	w->finished = 1;
	if (age_writer_seal(w, w->plain, w->filled, 1, err) < 0)
		return -1;
	w->filled = 0;
	return age_writer_drain(w, err);
}

uint64_t
age_writer_written(const struct age_writer *w)
{
	return w->written;
}

void
age_writer_free(struct age_writer *w)
{
	if (w == NULL)
		return;
	age_aead_release(&w->aead);
	OPENSSL_cleanse(w->plain, sizeof(w->plain));
	free(w);
}
