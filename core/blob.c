/*
 * Blobs of blob.h, and the one over a local file.
 */
#include "blob.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "xalloc.h"

struct blob *
blob_new(const struct blob_ops *ops, void *self, uint64_t size,
	 const char *name)
{
	struct blob *b = xmalloc(sizeof(*b));

	b->ops = ops;
	b->self = self;
	b->size = size;
	b->name = xstrdup(name);
	b->read_size = BLOB_READ_SIZE;
	return b;
}

int
blob_read_at(struct blob *b, uint64_t offset, void *buffer, size_t length,
	     size_t *got, struct cairn_error *err)
{
	size_t done = 0;

	*got = 0;
	while (done < length) {
		size_t n = 0;

		if (b->ops->read_at(b->self, offset + done,
				    (char *)buffer + done, length - done, &n,
				    err) != 0)
			return -1;
		if (n == 0)
			break;
		done += n;
	}
	*got = done;
	return 0;
}

void
blob_close(struct blob *b)
{
	if (b == NULL)
		return;
	if (b->ops->close != NULL)
		b->ops->close(b->self);
	free(b->name);
	free(b);
}

/* A local file: pread on one descriptor, which threads may share. */
struct file_blob {
	int fd;
	char *name; /* the archive's id, for messages */
};

static int
file_read_at(void *self, uint64_t offset, void *buffer, size_t length,
	     size_t *got, struct cairn_error *err)
{
	struct file_blob *f = self;
	ssize_t n;

	do
		n = pread(f->fd, buffer, length, (off_t)offset);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		error_errno(err, errno, "cannot read archive '%s'", f->name);
		return -1;
	}
	*got = (size_t)n;
	return 0;
}

static void
file_close(void *self)
{
	struct file_blob *f = self;

	close(f->fd);
	free(f->name);
	free(f);
}

static const struct blob_ops file_ops = {
	.read_at = file_read_at,
	.close = file_close,
};

int
blob_open_file(struct blob **b, const char *path, const char *name,
	       struct cairn_error *err)
{
	struct file_blob *f;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error_errno(err, errno, "cannot open archive '%s'", path);
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		error_errno(err, errno, "archive '%s'", name);
		close(fd);
		return -1;
	}
	/* Verify, restore and copy read an archive front to back: a larger
	 * read-ahead keeps the disk busy while zstd decodes. Only a hint. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	f = xmalloc(sizeof(*f));
	f->fd = fd;
	f->name = xstrdup(name);
	*b = blob_new(&file_ops, f, (uint64_t)st.st_size, name);
	return 0;
}
