/*
 * The sink that writes from a thread of its own: every byte reaches the
 * sink it wraps, in order, and finish is passed on once; an error in the
 * thread comes back from a later write or from finish, every call after
 * it fails too, and the wrapped sink is not finished then; a sink freed
 * unfinished stops its thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "byte_sink.h"
#include "error.h"
#include "thread_sink.h"

/* What the wrapped sink saw; it fails once `fail_after` bytes are in. */
struct collector {
	struct buf bytes;
	size_t fail_after; /* SIZE_MAX: never */
	int finished;
	int *freed;
};

static int
collector_write(void *self, const void *data, size_t length,
		struct cairn_error *err)
{
	struct collector *c = self;

	if (c->bytes.length + length > c->fail_after) {
		error_set(err, "cannot write the archive: No space left");
		return -1;
	}
	buf_append(&c->bytes, data, length);
	return 0;
}

static int
collector_finish(void *self, struct cairn_error *err)
{
	struct collector *c = self;

	(void)err;
	c->finished++;
	return 0;
}

static void
collector_free(void *self)
{
	struct collector *c = self;

	*c->freed = 1;
	buf_release(&c->bytes);
	free(c);
}

static const struct byte_sink_ops collector_ops = {
	.write = collector_write,
	.finish = collector_finish,
	.free = collector_free,
};

static struct byte_sink *
threaded_collector(struct collector **out, size_t fail_after, int *freed)
{
	struct collector *c = calloc(1, sizeof(*c));
	struct cairn_error err;
	struct byte_sink *s;

	assert_non_null(c);
	c->fail_after = fail_after;
	c->freed = freed;
	*freed = 0;
	*out = c;
	s = thread_sink_new(byte_sink_new(&collector_ops, c), &err);
	assert_non_null(s);
	return s;
}

/* Byte i of the test stream. */
static unsigned char
pattern(size_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

static void
bytes_arrive_in_order(void **state)
{
	static unsigned char piece[600 * 1024];
	/* Pieces smaller and larger than a buffer, and one of none. */
	const size_t sizes[] = {1, 0,	       4096,   262143, 262144,
				1, 600 * 1024, 131072, 3,      262145};
	struct collector *c;
	struct cairn_error err;
	struct byte_sink *s;
	size_t i, k, total = 0;
	int freed;

	(void)state;
	s = threaded_collector(&c, SIZE_MAX, &freed);
	for (k = 0; k < 3; k++)
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			size_t j;

			for (j = 0; j < sizes[i]; j++)
				piece[j] = pattern(total + j);
			assert_int_equal(byte_sink_write(s, piece, sizes[i],
							 &err),
					 0);
			total += sizes[i];
		}
	assert_int_equal(byte_sink_finish(s, &err), 0);
	assert_int_equal(c->finished, 1);
	assert_int_equal(c->bytes.length, total);
	for (i = 0; i < total; i++)
		if ((unsigned char)c->bytes.data[i] != pattern(i))
			fail_msg("byte %zu differs", i);
	byte_sink_free(s);
	assert_true(freed);
}

static void
nothing_written(void **state)
{
	struct collector *c;
	struct cairn_error err;
	struct byte_sink *s;
	int freed;

	(void)state;
	s = threaded_collector(&c, SIZE_MAX, &freed);
	assert_int_equal(byte_sink_finish(s, &err), 0);
	assert_int_equal(c->finished, 1);
	assert_int_equal(c->bytes.length, 0);
	byte_sink_free(s);
	assert_true(freed);
}

static void
an_error_in_the_thread_comes_back(void **state)
{
	static unsigned char piece[100 * 1024];
	struct collector *c;
	struct cairn_error err;
	struct byte_sink *s;
	int freed, rc = 0, i;

	(void)state;
	memset(piece, 'x', sizeof(piece));
	/* The second buffer fails: a few writes later, a write says so. */
	s = threaded_collector(&c, THREAD_SINK_BUFFER_SIZE + 10, &freed);
	error_clear(&err);
	for (i = 0; i < 64 && rc == 0; i++)
		rc = byte_sink_write(s, piece, sizeof(piece), &err);
	if (rc == 0)
		rc = byte_sink_finish(s, &err);
	assert_int_equal(rc, -1);
	assert_string_equal(err.message,
			    "cannot write the archive: No space left");
	/* Nothing after the failure is written, nothing is finished. */
	assert_int_equal(byte_sink_write(s, piece, sizeof(piece), &err), -1);
	assert_int_equal(byte_sink_finish(s, &err), -1);
	assert_int_equal(c->bytes.length, THREAD_SINK_BUFFER_SIZE);
	assert_int_equal(c->finished, 0);
	byte_sink_free(s);
	assert_true(freed);
}

static void
an_error_at_the_end_comes_from_finish(void **state)
{
	struct collector *c;
	struct cairn_error err;
	struct byte_sink *s;
	int freed;

	(void)state;
	s = threaded_collector(&c, 10, &freed);
	assert_int_equal(byte_sink_write(s, "0123456789abc", 13, &err), 0);
	assert_int_equal(byte_sink_finish(s, &err), -1);
	assert_string_equal(err.message,
			    "cannot write the archive: No space left");
	assert_int_equal(c->finished, 0);
	byte_sink_free(s);
	assert_true(freed);
}

static void
freed_unfinished(void **state)
{
	static unsigned char piece[THREAD_SINK_BUFFER_SIZE];
	struct collector *c;
	struct cairn_error err;
	struct byte_sink *s;
	int freed, i;

	(void)state;
	memset(piece, 'y', sizeof(piece));
	s = threaded_collector(&c, SIZE_MAX, &freed);
	for (i = 0; i < 2 * THREAD_SINK_BUFFERS; i++)
		assert_int_equal(byte_sink_write(s, piece, sizeof(piece), &err),
				 0);
	byte_sink_free(s);
	assert_true(freed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bytes_arrive_in_order),
		cmocka_unit_test(nothing_written),
		cmocka_unit_test(an_error_in_the_thread_comes_back),
		cmocka_unit_test(an_error_at_the_end_comes_from_finish),
		cmocka_unit_test(freed_unfinished),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
