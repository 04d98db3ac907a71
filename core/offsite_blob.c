/*
 * The remote blob of offsite_blob.h.
 */
#include "offsite_blob.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"

struct window {
	unsigned char *data;
	uint64_t start;
	size_t length;
	uint64_t used; /* the clock of its last use, for replacement */
};

struct remote_blob {
	struct offsite *o;
	char *path;
	uint64_t size;
	pthread_mutex_t lock;
	struct window windows[2];
	uint64_t clock;
};

/* The window holding `offset`, filled from the target when none does. */
static struct window *
window_for(struct remote_blob *rb, uint64_t offset, struct cairn_error *err)
{
	struct window *w = NULL;
	size_t i, got, want;

	for (i = 0; i < 2; i++) {
		struct window *c = &rb->windows[i];

		if (c->length > 0 && offset >= c->start &&
		    offset < c->start + c->length)
			return c;
	}
	/* The one used least recently goes. */
	w = rb->windows[0].used <= rb->windows[1].used ? &rb->windows[0]
						       : &rb->windows[1];
	if (w->data == NULL)
		w->data = xmalloc(OFFSITE_BLOB_WINDOW);
	want = rb->size - offset < OFFSITE_BLOB_WINDOW
		       ? (size_t)(rb->size - offset)
		       : OFFSITE_BLOB_WINDOW;
	w->length = 0;
	if (rb->o->ops->read_at(rb->o, rb->path, offset, w->data, want, &got,
				err) != 0)
		return NULL;
	if (got < want) {
		error_set(err, "offsite %s: %s ends at %llu bytes, not %llu",
			  rb->o->target->name, rb->path,
			  (unsigned long long)(offset + got),
			  (unsigned long long)rb->size);
		return NULL;
	}
	w->start = offset;
	w->length = got;
	return w;
}

static int
remote_read_at(void *self, uint64_t offset, void *buffer, size_t length,
	       size_t *got, struct cairn_error *err)
{
	struct remote_blob *rb = self;
	unsigned char *out = buffer;
	int rc = 0;

	*got = 0;
	if (offset >= rb->size)
		return 0;
	if (length > rb->size - offset)
		length = (size_t)(rb->size - offset);
	pthread_mutex_lock(&rb->lock);
	while (*got < length) {
		uint64_t at = offset + *got;
		struct window *w = window_for(rb, at, err);
		size_t n;

		if (w == NULL) {
			rc = -1;
			break;
		}
		w->used = ++rb->clock;
		n = (size_t)(w->start + w->length - at);
		if (n > length - *got)
			n = length - *got;
		memcpy(out + *got, w->data + (at - w->start), n);
		*got += n;
	}
	pthread_mutex_unlock(&rb->lock);
	return rc;
}

static void
remote_close(void *self)
{
	struct remote_blob *rb = self;

	pthread_mutex_destroy(&rb->lock);
	free(rb->windows[0].data);
	free(rb->windows[1].data);
	free(rb->path);
	free(rb);
}

static const struct blob_ops remote_ops = {
	.read_at = remote_read_at,
	.close = remote_close,
};

int
offsite_blob_open(struct blob **b, struct offsite *o, const char *path,
		  uint64_t size, const char *name, struct cairn_error *err)
{
	struct remote_blob *rb = xcalloc(1, sizeof(*rb));

	(void)err;
	rb->o = o;
	rb->path = xstrdup(path);
	rb->size = size;
	pthread_mutex_init(&rb->lock, NULL);
	*b = blob_new(&remote_ops, rb, size, name);
	return 0;
}
