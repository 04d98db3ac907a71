/*
 * The decrypting blob over an age file (age_blob.c): read through from
 * the start in reads of every size, by random access, and by two threads
 * at once, it gives the plaintext, whether the reads fall within the
 * windows it decrypts ahead or across them and whatever the last
 * window's length; a damaged chunk or a failing read of the file stops a
 * reader at that chunk, with all the plaintext before it and a message
 * that names the offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>

#include "age_blob.h"
#include "age_keys.h"
#include "age_stream.h"
#include "blob.h"
#include "buf.h"
#include "error.h"
#include "test_helpers.h"

/* The plaintext byte at offset: no two chunks alike. */
static unsigned char
pattern(uint64_t offset)
{
	return (unsigned char)((offset * 7 + offset / 65536) % 251);
}

/* An age file in memory, whose reads fail from fail_at on. */
struct memory_file {
	struct buf bytes;
	uint64_t fail_at;     /* UINT64_MAX: never */
	pthread_mutex_t lock; /* for reads: threads read at once */
	unsigned reads;	      /* calls of read_at */
};

static int
memory_read_at(void *self, uint64_t offset, void *buffer, size_t length,
	       size_t *got, struct cairn_error *err)
{
	struct memory_file *f = self;

	*got = 0;
	pthread_mutex_lock(&f->lock);
	f->reads++;
	pthread_mutex_unlock(&f->lock);
	if (offset + length > f->fail_at) {
		error_set(err, "cannot read the archive: Input/output error");
		return -1;
	}
	if (offset >= f->bytes.length)
		return 0;
	if (length > f->bytes.length - offset)
		length = (size_t)(f->bytes.length - offset);
	memcpy(buffer, f->bytes.data + offset, length);
	*got = length;
	return 0;
}

static void
memory_close(void *self)
{
	struct memory_file *f = self;

	buf_release(&f->bytes);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static const struct blob_ops memory_ops = {
	.read_at = memory_read_at,
	.close = memory_close,
};

static int
collect_output(void *self, const void *data, size_t length,
	       struct cairn_error *err)
{
	(void)err;
	buf_append(self, data, length);
	return 0;
}

/* size bytes of the pattern encrypted to a new identity, added to ids. */
static struct memory_file *
encrypt_pattern(uint64_t size, struct age_identities *ids)
{
	char identity[AGE_IDENTITY_STRING_SIZE + 1];
	struct memory_file *f = calloc(1, sizeof(*f));
	unsigned char public_key[32], block[4096];
	struct age_recipients r = {0};
	struct age_writer *w = NULL;
	struct cairn_error err;
	uint64_t done = 0;
	size_t i;

	assert_non_null(f);
	f->fail_at = UINT64_MAX;
	pthread_mutex_init(&f->lock, NULL);
	assert_int_equal(age_identity_generate(identity, public_key), 0);
	assert_int_equal(age_identities_add_x25519(ids, identity, &err), 0);
	age_recipients_add(&r, public_key);
	assert_int_equal(age_writer_open(&w, &r, collect_output, &f->bytes,
					 &err),
			 0);
	while (done < size) {
		size_t n = size - done < sizeof(block) ? (size_t)(size - done)
						       : sizeof(block);

		for (i = 0; i < n; i++)
			block[i] = pattern(done + i);
		assert_int_equal(age_writer_write(w, block, n, &err), 0);
		done += n;
	}
	assert_int_equal(age_writer_finish(w, &err), 0);
	age_writer_free(w);
	age_recipients_release(&r);
	return f;
}

static struct blob *
open_blob(struct memory_file *f, const struct age_identities *ids)
{
	struct blob *file = blob_new(&memory_ops, f, f->bytes.length, "a1");
	struct blob *plain = NULL;
	struct cairn_error err;

	assert_int_equal(age_blob_open(&plain, file, ids, &err), AGE_OK);
	return plain;
}

/*
 * Reads the blob from the start in reads of `step` bytes, checking each
 * byte; returns the bytes read before the end or a failure (rc and err
 * say which).
 */
static uint64_t
read_through(struct blob *b, size_t step, int *rc, struct cairn_error *err)
{
	unsigned char *buffer = malloc(step);
	uint64_t offset = 0;
	size_t got, i;

	assert_non_null(buffer);
	*rc = 0;
	for (;;) {
		got = 0;
		*rc = b->ops->read_at(b->self, offset, buffer, step, &got, err);
		for (i = 0; i < got; i++)
			if (buffer[i] != pattern(offset + i))
				fail_msg("byte %llu differs",
					 (unsigned long long)(offset + i));
		offset += got;
		if (*rc != 0 || got == 0)
			break;
	}
	free(buffer);
	return offset;
}

/* Sizes around the windows of 8 chunks: inside, on and across their ends. */
static const uint64_t sizes[] = {
	1, 65536, 8 * 65536, 8 * 65536 + 1, 16 * 65536 - 5, 41 * 65536 + 123,
};

static void
test_read_through(void **state)
{
	static const size_t steps[] = {4 * 65536, 65536, 10007, 300000};
	size_t k, s;

	(void)state;
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
		for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			struct age_identities ids = {0};
			struct memory_file *f = encrypt_pattern(sizes[k], &ids);
			struct blob *b = open_blob(f, &ids);
			unsigned before = f->reads;
			struct cairn_error err;
			int rc;

			assert_int_equal(b->size, sizes[k]);
			assert_int_equal(read_through(b, steps[s], &rc, &err),
					 sizes[k]);
			assert_int_equal(rc, 0);
			/* A read of the file per window, not per chunk. */
			assert_true(f->reads - before <=
				    (sizes[k] / 65536 + 7) / 8 + 1);
			/* Again, from the windows the first left. */
			assert_int_equal(read_through(b, steps[s], &rc, &err),
					 sizes[k]);
			blob_close(b);
			age_identities_release(&ids);
		}
}

static void
test_random_access(void **state)
{
	struct age_identities ids = {0};
	struct memory_file *f = encrypt_pattern(41 * 65536 + 123, &ids);
	struct blob *b = open_blob(f, &ids);
	unsigned char buffer[70000];
	struct cairn_error err;
	uint64_t offset;
	size_t got, i;

	(void)state;
	/* Backwards by a little less than a chunk, and read through after. */
	for (offset = b->size; offset > 0;) {
		offset = offset > 65000 ? offset - 65000 : 0;
		got = 0;
		assert_int_equal(b->ops->read_at(b->self, offset, buffer,
						 sizeof(buffer), &got, &err),
				 0);
		assert_true(got > 0);
		for (i = 0; i < got; i++)
			assert_int_equal(buffer[i], pattern(offset + i));
	}
	for (offset = 0; offset < b->size; offset += got) {
		got = 0;
		assert_int_equal(b->ops->read_at(b->self, offset, buffer, 1000,
						 &got, &err),
				 0);
		assert_true(got > 0);
		assert_int_equal(buffer[0], pattern(offset));
	}
	blob_close(b);
	age_identities_release(&ids);
}

struct reader_thread {
	struct blob *blob;
	size_t step;
	uint64_t read;
	int rc;
};

static void *
reader_run(void *context)
{
	struct reader_thread *t = context;
	struct cairn_error err;

	t->read = read_through(t->blob, t->step, &t->rc, &err);
	return NULL;
}

static void
test_two_readers(void **state)
{
	struct age_identities ids = {0};
	struct memory_file *f = encrypt_pattern(41 * 65536 + 123, &ids);
	struct blob *b = open_blob(f, &ids);
	struct reader_thread t[2] = {{b, 4 * 65536, 0, -1}, {b, 10007, 0, -1}};
	pthread_t threads[2];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, reader_run,
						&t[i]),
				 0);
	for (i = 0; i < 2; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(t[i].rc, 0);
		assert_int_equal(t[i].read, b->size);
	}
	blob_close(b);
	age_identities_release(&ids);
}

/* The file offset of chunk index of f. */
static uint64_t
chunk_offset(struct memory_file *f, const struct age_identities *ids,
	     uint64_t index)
{
	struct age_source src = {memory_read_at, f, f->bytes.length};
	struct age_reader *reader = NULL;
	struct cairn_error err;
	uint64_t offset;

	assert_int_equal(age_reader_open(&reader, &src, ids, &err), AGE_OK);
	offset = age_reader_chunk_offset(reader, index);
	age_reader_free(reader);
	return offset;
}

static void
test_damaged_chunk(void **state)
{
	/* The first of a window, one within, the last of the payload. */
	static const uint64_t damaged[] = {16, 19, 41};
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(damaged) / sizeof(damaged[0]); k++) {
		struct age_identities ids = {0};
		struct memory_file *f = encrypt_pattern(41 * 65536 + 123, &ids);
		uint64_t offset = chunk_offset(f, &ids, damaged[k]);
		char where[64];
		struct cairn_error err;
		struct blob *b;
		int rc;

		f->bytes.data[offset + 100] ^= 1;
		if (damaged[k] == 41) {
			/* The last chunk is checked when the blob opens. */
			struct blob *file = blob_new(&memory_ops, f,
						     f->bytes.length, "a1");

			assert_int_equal(age_blob_open(&b, file, &ids, &err),
					 AGE_PAYLOAD_FAILURE);
			assert_contains(err.message, "archive 'a1'");
			age_identities_release(&ids);
			continue;
		}
		b = open_blob(f, &ids);
		assert_int_equal(read_through(b, 4 * 65536, &rc, &err),
				 damaged[k] * 65536);
		assert_int_equal(rc, -1);
		snprintf(where, sizeof(where), "offset %llu",
			 (unsigned long long)offset);
		assert_contains(err.message, "archive 'a1'");
		assert_contains(err.message, where);
		assert_contains(err.message, "does not authenticate");
		blob_close(b);
		age_identities_release(&ids);
	}
}

static void
test_failing_read(void **state)
{
	struct age_identities ids = {0};
	struct memory_file *f = encrypt_pattern(41 * 65536 + 123, &ids);
	struct blob *b = open_blob(f, &ids);
	struct cairn_error err;
	uint64_t offset = chunk_offset(f, &ids, 21);
	int rc;

	(void)state;
	/* From the middle of chunk 21 on: chunks 0 to 20 are whole. */
	f->fail_at = offset + 1000;
	assert_int_equal(read_through(b, 10007, &rc, &err), 21 * 65536);
	assert_int_equal(rc, -1);
	assert_contains(err.message, "Input/output error");
	blob_close(b);
	age_identities_release(&ids);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_through),
		cmocka_unit_test(test_random_access),
		cmocka_unit_test(test_two_readers),
		cmocka_unit_test(test_damaged_chunk),
		cmocka_unit_test(test_failing_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
