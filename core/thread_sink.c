/*
 * thread_sink.h: a ring of buffers between the writer and one thread.
 */
#include "thread_sink.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "byte_sink.h"
#include "error.h"
#include "xalloc.h"

struct sink_buffer {
	unsigned char *data; /* THREAD_SINK_BUFFER_SIZE */
	size_t length;
};

/*
 * The ring: the writer fills buffers[filling]; the thread owns the
 * `queued` buffers from buffers[head] on, and gives each back only once
 * it is written, so filling == (head + queued) % THREAD_SINK_BUFFERS and
 * the writer waits while the thread owns all of them.
 */
struct thread_sink {
	struct byte_sink *inner;
	pthread_t thread;
	int running;
	pthread_mutex_t lock;
	pthread_cond_t queued_more; /* a buffer was queued, or stopping */
	pthread_cond_t gave_back;   /* the thread is done with a buffer */
	struct sink_buffer buffers[THREAD_SINK_BUFFERS];
	size_t filling;
	size_t head;
	size_t queued;
	int stopping;
	int failed;		  /* the thread's first error is in error */
	struct cairn_error error; /* lock held to read or write */
};

static void *
thread_sink_run(void *context)
{
	struct thread_sink *t = context;

	pthread_mutex_lock(&t->lock);
	for (;;) {
		struct sink_buffer *b;
		struct cairn_error err;
		int rc = 0;

		while (t->queued == 0 && !t->stopping)
			pthread_cond_wait(&t->queued_more, &t->lock);
		if (t->queued == 0)
			break;
		b = &t->buffers[t->head];
		if (!t->failed) {
			/* Unlocked: the writer does not touch this buffer. */
			pthread_mutex_unlock(&t->lock);
			error_clear(&err);
			rc = byte_sink_write(t->inner, b->data, b->length,
					     &err);
			pthread_mutex_lock(&t->lock);
			if (rc != 0) {
				t->failed = 1;
				t->error = err;
			}
		}
		/* After a failure the rest is dropped: the archive is lost. */
		b->length = 0;
		t->head = (t->head + 1) % THREAD_SINK_BUFFERS;
		t->queued--;
		pthread_cond_signal(&t->gave_back);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

/* The thread's error, if it had one; lock held. */
static int
thread_sink_status(struct thread_sink *t, struct cairn_error *err)
{
	if (!t->failed)
		return 0;
	*err = t->error;
	return -1;
}

/*
 * The thread's error, if it had one. Once it has, the writer touches no
 * buffer again: the one it was filling may be the thread's by then.
 */
static int
thread_sink_check(struct thread_sink *t, struct cairn_error *err)
{
	int rc;

	pthread_mutex_lock(&t->lock);
	rc = thread_sink_status(t, err);
	pthread_mutex_unlock(&t->lock);
	return rc;
}

/* Hands the buffer being filled to the thread, waits for a free one. */
static int
thread_sink_queue(struct thread_sink *t, struct cairn_error *err)
{
	int rc;

	pthread_mutex_lock(&t->lock);
	if (thread_sink_status(t, err) != 0) {
		pthread_mutex_unlock(&t->lock);
		return -1;
	}
	t->queued++;
	t->filling = (t->filling + 1) % THREAD_SINK_BUFFERS;
	pthread_cond_signal(&t->queued_more);
	while (t->queued == THREAD_SINK_BUFFERS && !t->failed)
		pthread_cond_wait(&t->gave_back, &t->lock);
	rc = thread_sink_status(t, err);
	pthread_mutex_unlock(&t->lock);
	return rc;
}

static int
thread_sink_write(void *self, const void *data, size_t length,
		  struct cairn_error *err)
{
	struct thread_sink *t = self;
	const unsigned char *p = data;

	if (thread_sink_check(t, err) != 0)
		return -1;
	while (length > 0) {
		struct sink_buffer *b = &t->buffers[t->filling];
		size_t n = THREAD_SINK_BUFFER_SIZE - b->length;

		if (n > length)
			n = length;
		memcpy(b->data + b->length, p, n);
		b->length += n;
		p += n;
		length -= n;
		if (b->length == THREAD_SINK_BUFFER_SIZE &&
		    thread_sink_queue(t, err) != 0)
			return -1;
	}
	return 0;
}

/* Waits until the thread has written every queued buffer, and joins it. */
static void
thread_sink_stop(struct thread_sink *t)
{
	if (!t->running)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = 1;
	pthread_cond_signal(&t->queued_more);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	t->running = 0;
}

static int
thread_sink_finish(void *self, struct cairn_error *err)
{
	struct thread_sink *t = self;

	if (thread_sink_check(t, err) != 0)
		return -1;
	if (t->buffers[t->filling].length > 0 && thread_sink_queue(t, err) != 0)
		return -1;
	thread_sink_stop(t);
	if (thread_sink_check(t, err) != 0)
		return -1;
	return byte_sink_finish(t->inner, err);
}

static void
thread_sink_free(void *self)
{
	struct thread_sink *t = self;
	size_t i;

	if (t->running) {
		/* Abandoned: nothing more needs writing. */
		pthread_mutex_lock(&t->lock);
		t->failed = 1;
		error_set(&t->error, "the archive was abandoned");
		pthread_mutex_unlock(&t->lock);
		thread_sink_stop(t);
	}
	for (i = 0; i < THREAD_SINK_BUFFERS; i++)
		free(t->buffers[i].data);
	pthread_cond_destroy(&t->gave_back);
	pthread_cond_destroy(&t->queued_more);
	pthread_mutex_destroy(&t->lock);
	byte_sink_free(t->inner);
	free(t);
}

static const struct byte_sink_ops thread_sink_ops = {
	.write = thread_sink_write,
	.finish = thread_sink_finish,
	.free = thread_sink_free,
};

struct byte_sink *
thread_sink_new(struct byte_sink *inner, struct cairn_error *err)
{
	struct thread_sink *t = xcalloc(1, sizeof(*t));
	size_t i;

	t->inner = inner;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->queued_more, NULL);
	pthread_cond_init(&t->gave_back, NULL);
	for (i = 0; i < THREAD_SINK_BUFFERS; i++)
		t->buffers[i].data = xmalloc(THREAD_SINK_BUFFER_SIZE);
	if (pthread_create(&t->thread, NULL, thread_sink_run, t) != 0) {
		error_set(err, "cannot start the thread writing the archive");
		thread_sink_free(t);
		return NULL;
	}
	pthread_setname_np(t->thread, "cairn-write");
	t->running = 1;
	return byte_sink_new(&thread_sink_ops, t);
}
