/*
 * Byte sinks of byte_sink.h, and the one over a file descriptor.
 */
#include "byte_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "error.h"
#include "fsutil.h"
#include "xalloc.h"

/* Written bytes handed to the kernel's writeback at a time. */
#define WRITEBACK_SIZE (8 * 1024 * 1024)

struct byte_sink *
byte_sink_new(const struct byte_sink_ops *ops, void *self)
{
	struct byte_sink *s = xmalloc(sizeof(*s));

	s->ops = ops;
	s->self = self;
	return s;
}

int
byte_sink_write(struct byte_sink *s, const void *data, size_t length,
		struct cairn_error *err)
{
	return s->ops->write(s->self, data, length, err);
}

int
byte_sink_finish(struct byte_sink *s, struct cairn_error *err)
{
	return s->ops->finish != NULL ? s->ops->finish(s->self, err) : 0;
}

void
byte_sink_free(struct byte_sink *s)
{
	if (s == NULL)
		return;
	if (s->ops->free != NULL)
		s->ops->free(s->self);
	free(s);
}

struct fd_sink {
	int fd;
	uint64_t offset;       /* bytes written */
	uint64_t written_back; /* bytes handed to the kernel's writeback */
};

static int
fd_write(void *self, const void *data, size_t length, struct cairn_error *err)
{
	struct fd_sink *f = self;

	if (fsutil_write_all(f->fd, data, length) != 0) {
		error_errno(err, errno, "cannot write the archive");
		return -1;
	}
	f->offset += length;
	/*
	 * The archive is fsynced before it is committed. Left to itself the
	 * kernel holds most of it in dirty pages until then, and the fsync
	 * waits for all of it while the compressor sits idle. Starting the
	 * writeback of every few megabytes as they are written lets the
	 * disk work while zstd does, and the final fsync only waits for the
	 * tail. Errors are the fsync's to report; a file system without
	 * sync_file_range (EINVAL, ESPIPE) just does without.
	 */
	if (f->offset - f->written_back >= WRITEBACK_SIZE) {
		(void)sync_file_range(f->fd, (off_t)f->written_back,
				      (off_t)(f->offset - f->written_back),
				      SYNC_FILE_RANGE_WRITE);
		f->written_back = f->offset;
	}
	return 0;
}

static const struct byte_sink_ops fd_ops = {
	.write = fd_write,
	.finish = NULL,
	.free = free,
};

struct byte_sink *
byte_sink_fd(int fd)
{
	struct fd_sink *f = xcalloc(1, sizeof(*f));

	f->fd = fd;
	return byte_sink_new(&fd_ops, f);
}
