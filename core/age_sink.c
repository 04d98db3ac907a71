/*
 * age_sink.h: an age_writer whose output is another byte sink.
 */
#include "age_sink.h"

#include <stdlib.h>
#include <string.h>

#include "age_stream.h"
#include "buf.h"
#include "byte_sink.h"
#include "error.h"

struct age_sink {
	struct byte_sink *inner;
	struct age_writer *writer;
	struct sha256 hash;
	uint64_t stored;
	struct age_sink_result *result;
};

static int
age_sink_output(void *self, const void *data, size_t length,
		struct cairn_error *err)
{
	struct age_sink *s = self;

	sha256_update(&s->hash, data, length);
	s->stored += length;
	return byte_sink_write(s->inner, data, length, err);
}

static int
age_sink_write(void *self, const void *data, size_t length,
	       struct cairn_error *err)
{
	struct age_sink *s = self;

	return age_writer_write(s->writer, data, length, err);
}

static int
age_sink_finish(void *self, struct cairn_error *err)
{
	struct age_sink *s = self;

	if (age_writer_finish(s->writer, err) != 0)
		return -1;
	s->result->stored = s->stored;
	sha256_final_hex(&s->hash, s->result->sha256);
	return byte_sink_finish(s->inner, err);
}

static void
age_sink_free(void *self)
{
	struct age_sink *s = self;

	age_writer_free(s->writer);
	sha256_release(&s->hash);
	byte_sink_free(s->inner);
	free(s);
}

static const struct byte_sink_ops age_sink_ops = {
	.write = age_sink_write,
	.finish = age_sink_finish,
	.free = age_sink_free,
};

struct byte_sink *
age_sink_new(struct byte_sink *inner, const struct age_recipients *r,
	     struct age_sink_result *result, struct cairn_error *err)
{
	struct age_sink *s = xcalloc(1, sizeof(*s));

	s->inner = inner;
	s->result = result;
	memset(result, 0, sizeof(*result));
	if (sha256_init(&s->hash) != 0) {
		error_set(err, "cannot allocate a SHA-256 context");
		age_sink_free(s);
		return NULL;
	}
	if (age_writer_open(&s->writer, r, age_sink_output, s, err) != 0) {
		error_prefix(err, "cannot start the encrypted archive");
		age_sink_free(s);
		return NULL;
	}
	return byte_sink_new(&age_sink_ops, s);
}
