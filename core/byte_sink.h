/*
 * Where the bytes of an archive being written go. The zstd writer hands
 * its compressed output to a sink; the plain one writes to a file
 * descriptor, and a transforming one (encryption) wraps another sink.
 *
 * Ownership: byte_sink_free frees the sink and whatever it owns (a
 * wrapping sink owns the sink it wraps). The fd sink does not own its
 * descriptor.
 */
#ifndef CAIRN_BYTE_SINK_H
#define CAIRN_BYTE_SINK_H

#include <stddef.h>
#include <stdint.h>

#include <cairn/plugin.h>

struct byte_sink_ops {
	/* All of data, or -1 with err set. */
	int (*write)(void *self, const void *data, size_t length,
		     struct cairn_error *err);
	/* No more bytes: flushes whatever is held back. 0 or -1. */
	int (*finish)(void *self, struct cairn_error *err);
	/* Frees self and what it owns; may be NULL. */
	void (*free)(void *self);
};

struct byte_sink {
	const struct byte_sink_ops *ops;
	void *self;
};

/* A sink over `self` with the given operations; takes self. */
struct byte_sink *byte_sink_new(const struct byte_sink_ops *ops, void *self);

/*
 * Writes to fd, handing what it wrote to the kernel's writeback every
 * few megabytes (see fd_write). fd stays the caller's to fsync and close.
 */
struct byte_sink *byte_sink_fd(int fd);

int byte_sink_write(struct byte_sink *s, const void *data, size_t length,
		    struct cairn_error *err);
int byte_sink_finish(struct byte_sink *s, struct cairn_error *err);
/* NULL is fine. */
void byte_sink_free(struct byte_sink *s);

#endif
