/*
 * Unit tests of the age v1 code: every C2SP test vector of
 * tests/fixtures/age-testkit that is neither armored nor post-quantum
 * gives its expected outcome and releases exactly the plaintext whose
 * SHA-256 the vector states; bech32 and keys round-trip; a file written
 * by age_writer reads back by random access, and a cut at a chunk
 * boundary is found.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "age_keys.h"
#include "age_stream.h"
#include "bech32.h"
#include "buf.h"
#include "sha256.h"
#include "test_helpers.h"

struct memory_file {
	const unsigned char *data;
	size_t length;
};

static int
memory_read_at(void *self, uint64_t offset, void *buffer, size_t length,
	       size_t *got, struct cairn_error *err)
{
	const struct memory_file *f = self;

	(void)err;
	*got = 0;
	if (offset >= f->length)
		return 0;
	if (length > f->length - offset)
		length = (size_t)(f->length - offset);
	memcpy(buffer, f->data + offset, length);
	*got = length;
	return 0;
}

struct vector {
	char expect[32];
	char payload[65];
	int armored;
	int hybrid;
	int compressed;
	struct age_identities ids;
	unsigned char *body;
	size_t body_length;
};

static const char *
status_name(enum age_status status)
{
	switch (status) {
	case AGE_OK:
		return "success";
	case AGE_HEADER_FAILURE:
		return "header failure";
	case AGE_HMAC_FAILURE:
		return "HMAC failure";
	case AGE_NO_MATCH:
		return "no match";
	case AGE_PAYLOAD_FAILURE:
		return "payload failure";
	default:
		return "system failure";
	}
}

static void
inflate_body(struct vector *v)
{
	size_t capacity = 1 << 20;
	unsigned char *out = xmalloc(capacity);
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit(&z), Z_OK);
	z.next_in = v->body;
	z.avail_in = (uInt)v->body_length;
	for (;;) {
		z.next_out = out + z.total_out;
		z.avail_out = (uInt)(capacity - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			break;
		assert_true(rc == Z_OK || rc == Z_BUF_ERROR);
		capacity *= 2;
		out = xrealloc(out, capacity);
	}
	free(v->body);
	v->body = out;
	v->body_length = z.total_out;
	inflateEnd(&z);
}

static void
parse_vector(const char *path, struct vector *v)
{
	size_t length = 0, pos = 0;
	char *text = test_read_file(path, &length);
	struct cairn_error err;

	memset(v, 0, sizeof(*v));
	for (;;) {
		char *end = memchr(text + pos, '\n', length - pos);
		char *line = text + pos, *value;

		assert_non_null(end);
		*end = '\0';
		pos = (size_t)(end - text) + 1;
		if (*line == '\0')
			break;
		value = strstr(line, ": ");
		assert_non_null(value);
		*value = '\0';
		value += 2;
		if (strcmp(line, "expect") == 0)
			snprintf(v->expect, sizeof(v->expect), "%s", value);
		else if (strcmp(line, "payload") == 0)
			snprintf(v->payload, sizeof(v->payload), "%s", value);
		else if (strcmp(line, "armored") == 0)
			v->armored = strcmp(value, "yes") == 0;
		else if (strcmp(line, "compressed") == 0)
			v->compressed = strcmp(value, "zlib") == 0;
		else if (strcmp(line, "passphrase") == 0)
			age_identities_add_passphrase(&v->ids, value,
						      strlen(value));
		else if (strcmp(line, "identity") == 0) {
			if (strncmp(value, "AGE-SECRET-KEY-1", 16) != 0)
				v->hybrid = 1;
			else
				assert_int_equal(age_identities_add_x25519(
							 &v->ids, value, &err),
						 0);
		}
	}
	v->body_length = length - pos;
	v->body = xmalloc(v->body_length + 1);
	memcpy(v->body, text + pos, v->body_length);
	free(text);
	if (v->compressed)
		inflate_body(v);
}

/*
 * Decrypts v as a reader from the start would: chunk after chunk, each
 * hashed once released, stopping at the first failure.
 */
static enum age_status
decrypt_vector(const struct vector *v, char hash[SHA256_HEX_SIZE],
	       uint64_t *released)
{
	struct memory_file file = {v->body, v->body_length};
	struct age_source src = {memory_read_at, &file, v->body_length};
	struct age_reader *reader = NULL;
	struct cairn_error err;
	enum age_status status;
	struct sha256 sha;
	uint64_t i, count;

	assert_int_equal(sha256_init(&sha), 0);
	*released = 0;
	status = age_reader_open(&reader, &src, &v->ids, &err);
	if (status == AGE_OK) {
		count = age_reader_chunk_count(reader);
		for (i = 0; i == 0 || i < count; i++) {
			const unsigned char *data = NULL;
			size_t n = 0;

			status = age_reader_chunk(reader, i, &data, &n, &err);
			/* A misplaced but authentic chunk counts as released.
			 */
			sha256_update(&sha, data, n);
			*released += n;
			if (status != AGE_OK)
				break;
		}
		age_reader_free(reader);
	}
	sha256_final_hex(&sha, hash);
	sha256_release(&sha);
	return status;
}

static void
test_vectors(void **state)
{
	DIR *dir = opendir(AGE_TESTKIT_DIR);
	unsigned int ran = 0, skipped = 0, failed = 0;
	unsigned int by_kind[6] = {0};
	struct dirent *e;

	(void)state;
	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL) {
		char path[4096], hash[SHA256_HEX_SIZE];
		enum age_status status;
		struct vector v;
		uint64_t released;
		int ok;

		if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", AGE_TESTKIT_DIR,
			 e->d_name);
		parse_vector(path, &v);
		if (v.armored || v.hybrid) {
			skipped++;
		} else {
			ran++;
			status = decrypt_vector(&v, hash, &released);
			ok = strcmp(status_name(status), v.expect) == 0;
			if (v.payload[0] != '\0')
				ok = ok && strcmp(hash, v.payload) == 0;
			else
				ok = ok && released == 0;
			if (ok) {
				by_kind[status]++;
			} else {
				failed++;
				print_error("vector %s: expected %s, got %s; "
					    "released %llu bytes, sha256 %s "
					    "(want %s)\n",
					    e->d_name, v.expect,
					    status_name(status),
					    (unsigned long long)released, hash,
					    v.payload[0] ? v.payload : "none");
			}
		}
		age_identities_release(&v.ids);
		free(v.body);
	}
	closedir(dir);
	print_message("age test vectors: %u ran, %u passed (%u success, %u "
		      "header failure, %u HMAC failure, %u no match, %u "
		      "payload failure), %u failed, %u skipped (armored or "
		      "post-quantum)\n",
		      ran, ran - failed, by_kind[AGE_OK],
		      by_kind[AGE_HEADER_FAILURE], by_kind[AGE_HMAC_FAILURE],
		      by_kind[AGE_NO_MATCH], by_kind[AGE_PAYLOAD_FAILURE],
		      failed, skipped);
	assert_int_equal(failed, 0);
	assert_int_equal(ran, 92);
	assert_int_equal(skipped, 51);
}

static void
test_bech32_round_trip(void **state)
{
	unsigned char key[32], back[32];
	char text[AGE_RECIPIENT_SIZE + 1], hrp[8];
	size_t length = 0, i;

	(void)state;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i * 7 + 1);
	age_recipient_format(key, text);
	assert_int_equal(strlen(text), AGE_RECIPIENT_SIZE);
	assert_int_equal(strncmp(text, "age1", 4), 0);
	assert_int_equal(bech32_decode(text, hrp, sizeof(hrp), back,
				       sizeof(back), &length),
			 0);
	assert_string_equal(hrp, "age");
	assert_int_equal(length, 32);
	assert_memory_equal(key, back, 32);
	assert_int_equal(age_recipient_parse(text, back), 0);
	/* One character changed breaks the checksum. */
	text[10] = text[10] == 'q' ? 'p' : 'q';
	assert_int_equal(age_recipient_parse(text, back), -1);
	/* Mixed case is refused. */
	assert_int_equal(bech32_decode("age1QL3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2"
				       "elw8zmrj2kg5sfn9aqmcac8p",
				       hrp, sizeof(hrp), back, sizeof(back),
				       &length),
			 -1);
	/* The recipient of the age spec's example. */
	assert_int_equal(age_recipient_parse("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc"
					     "7w3j2elw8zmrj2kg5sfn9aqmcac8p",
					     back),
			 0);
}

static void
test_identity_generate(void **state)
{
	char text[AGE_IDENTITY_STRING_SIZE + 1];
	unsigned char public_key[32], again[32];
	struct age_identities ids = {0};
	struct cairn_error err;

	(void)state;
	assert_int_equal(age_identity_generate(text, public_key), 0);
	assert_int_equal(strlen(text), AGE_IDENTITY_STRING_SIZE);
	assert_int_equal(strncmp(text, "AGE-SECRET-KEY-1", 16), 0);
	assert_int_equal(age_identity_public(text, again), 0);
	assert_memory_equal(public_key, again, 32);
	assert_int_equal(age_identities_parse(&ids, "# created: now\n\n", "f",
					      &err),
			 -1);
	assert_contains(err.message, "no identity");
	assert_int_equal(age_identities_parse(&ids, "# c\nAGE-SECRET-KEY-1xx\n",
					      "f", &err),
			 -1);
	assert_contains(err.message, "f:2");
	age_identities_release(&ids);
}

/* The bytes an age writer hands out, and how many calls it took. */
struct counted_output {
	struct buf bytes;
	size_t calls;
};

static int
count_output(void *self, const void *data, size_t length,
	     struct cairn_error *err)
{
	struct counted_output *out = self;

	(void)err;
	buf_append(&out->bytes, data, length);
	out->calls++;
	return 0;
}

/*
 * Encrypts size bytes of payload, step bytes per write, to one new
 * identity added to ids; out gets the file.
 */
static void
encrypt_in_steps(const unsigned char *payload, size_t size, size_t step,
		 struct counted_output *out, struct age_identities *ids)
{
	char identity[AGE_IDENTITY_STRING_SIZE + 1];
	unsigned char public_key[32];
	struct age_recipients r = {0};
	struct age_writer *w = NULL;
	struct cairn_error err;
	size_t done = 0;

	assert_int_equal(age_identity_generate(identity, public_key), 0);
	assert_int_equal(age_identities_add_x25519(ids, identity, &err), 0);
	age_recipients_add(&r, public_key);
	assert_int_equal(age_writer_open(&w, &r, count_output, out, &err), 0);
	while (done < size) {
		size_t n = size - done < step ? size - done : step;

		assert_int_equal(age_writer_write(w, payload + done, n, &err),
				 0);
		done += n;
	}
	assert_int_equal(age_writer_finish(w, &err), 0);
	assert_int_equal(age_writer_written(w), out->bytes.length);
	age_writer_free(w);
	age_recipients_release(&r);
}

/* Writes size bytes of a pattern, 1000 at a time, to a new identity. */
static void
write_file(size_t size, struct buf *out, struct age_identities *ids)
{
	struct counted_output file = {BUF_INIT, 0};
	unsigned char *payload = malloc(size + 1);
	size_t i;

	assert_non_null(payload);
	for (i = 0; i < size; i++)
		payload[i] = (unsigned char)((i % 1000) % 251);
	encrypt_in_steps(payload, size, 1000, &file, ids);
	free(payload);
	*out = file.bytes;
}

static void
test_write_read_random_access(void **state)
{
	static const size_t sizes[] = {0, 1, 65536, 65537, 3 * 65536 + 17};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct buf file = BUF_INIT;
		struct age_identities ids = {0};
		struct memory_file mem;
		struct age_source src;
		struct age_reader *reader = NULL;
		struct cairn_error err;
		unsigned char byte;
		const unsigned char *data;
		size_t got = 0, offset, n;
		uint64_t payload_offset, chunks;

		write_file(sizes[k], &file, &ids);
		mem.data = (const unsigned char *)file.data;
		mem.length = file.length;
		src.read_at = memory_read_at;
		src.self = &mem;
		src.size = file.length;
		assert_int_equal(age_reader_open(&reader, &src, &ids, &err),
				 AGE_OK);
		assert_int_equal(age_reader_size(reader), sizes[k]);
		/* Backwards, one byte from each end of every chunk. */
		for (offset = sizes[k]; offset-- > 0;) {
			assert_int_equal(age_reader_read_at(reader, offset,
							    &byte, 1, &got,
							    &err),
					 AGE_OK);
			assert_int_equal(got, 1);
			assert_int_equal(byte, (offset % 1000) % 251);
			if (offset % 65536 > 1 && offset % 65536 < 65534)
				offset -= offset % 65536 - 1;
		}
		assert_int_equal(age_reader_read_at(reader, sizes[k], &byte, 1,
						    &got, &err),
				 AGE_OK);
		assert_int_equal(got, 0);
		payload_offset = age_reader_payload_offset(reader);
		chunks = age_reader_chunk_count(reader);
		age_reader_free(reader);

		/* Cut at the last chunk boundary: the new last one fails. */
		if (chunks > 1) {
			src.size = payload_offset + 16 +
				   (chunks - 1) * AGE_SEALED_CHUNK_SIZE;
			assert_int_equal(age_reader_open(&reader, &src, &ids,
							 &err),
					 AGE_OK);
			assert_int_equal(age_reader_chunk(reader, chunks - 2,
							  &data, &n, &err),
					 AGE_PAYLOAD_FAILURE);
			assert_contains(err.message, "offset");
			assert_int_equal(age_reader_chunk(reader, 0, &data, &n,
							  &err),
					 chunks > 2 ? AGE_OK
						    : AGE_PAYLOAD_FAILURE);
			age_reader_free(reader);
			src.size = file.length;
			/* A flipped byte in the first chunk. */
			file.data[payload_offset + 16 + 100] ^= 1;
			assert_int_equal(age_reader_open(&reader, &src, &ids,
							 &err),
					 AGE_OK);
			assert_int_equal(age_reader_read_at(reader, 0, &byte, 1,
							    &got, &err),
					 AGE_PAYLOAD_FAILURE);
			age_reader_free(reader);
		}
		age_identities_release(&ids);
		buf_release(&file);
	}
}

/*
 * Payloads around chunk and batch edges written in steps smaller than,
 * equal to and larger than a chunk: each decrypts to its bytes, and the
 * sealed chunks reach the output four at a time.
 */
static void
test_write_in_steps(void **state)
{
	static const size_t sizes[] = {0,
				       1,
				       AGE_CHUNK_SIZE - 1,
				       AGE_CHUNK_SIZE,
				       AGE_CHUNK_SIZE + 1,
				       2 * AGE_CHUNK_SIZE,
				       4 * AGE_CHUNK_SIZE,
				       4 * AGE_CHUNK_SIZE + 1,
				       9 * AGE_CHUNK_SIZE + 5};
	static const size_t steps[] = {1000, AGE_CHUNK_SIZE, AGE_CHUNK_SIZE + 1,
				       4 * AGE_CHUNK_SIZE, SIZE_MAX};
	size_t k, m, i;

	(void)state;
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t size = sizes[k];
		size_t chunks = size == 0 ? 1
					  : (size + AGE_CHUNK_SIZE - 1) /
						    AGE_CHUNK_SIZE;
		unsigned char *payload = malloc(size + 1);
		unsigned char *back = malloc(size + 1);

		assert_non_null(payload);
		assert_non_null(back);
		for (i = 0; i < size; i++)
			payload[i] = (unsigned char)(i * 7 % 253);
		for (m = 0; m < sizeof(steps) / sizeof(steps[0]); m++) {
			struct counted_output out = {BUF_INIT, 0};
			struct age_identities ids = {0};
			struct age_reader *reader = NULL;
			struct memory_file mem;
			struct age_source src;
			struct cairn_error err;
			size_t got = 0;

			encrypt_in_steps(payload, size, steps[m], &out, &ids);
			/* The header, then one call per four chunks. */
			assert_int_equal(out.calls, 1 + (chunks + 3) / 4);
			mem.data = (const unsigned char *)out.bytes.data;
			mem.length = out.bytes.length;
			src.read_at = memory_read_at;
			src.self = &mem;
			src.size = out.bytes.length;
			assert_int_equal(age_reader_open(&reader, &src, &ids,
							 &err),
					 AGE_OK);
			assert_int_equal(age_reader_chunk_count(reader),
					 chunks);
			assert_int_equal(age_reader_size(reader), size);
			assert_int_equal(age_reader_read_at(reader, 0, back,
							    size + 1, &got,
							    &err),
					 AGE_OK);
			assert_int_equal(got, size);
			assert_memory_equal(back, payload, size);
			age_reader_free(reader);
			age_identities_release(&ids);
			buf_release(&out.bytes);
		}
		free(back);
		free(payload);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_bech32_round_trip),
		cmocka_unit_test(test_identity_generate),
		cmocka_unit_test(test_write_read_random_access),
		cmocka_unit_test(test_write_in_steps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
