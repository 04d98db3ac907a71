/*
 * age_blob.h over age_stream.h's reader.
 */
#include "age_blob.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "age_header.h"
#include "age_stream.h"
#include "blob.h"
#include "buf.h"
#include "error.h"

/* Two readers on one archive, each a little ahead of what it returned. */
#define AGE_BLOB_SLOTS 4

/*
 * Chunks decrypted ahead of a reader going through the payload: the one
 * it is in and 15 after it, 1 MiB. A reader is going through when it
 * enters the chunk after one it read last (chunk 0 counts). It reads
 * AGE_BLOB_READ_CHUNKS at a time, so that while it decompresses what it
 * got the thread fills the rest of the window: with reads as large as
 * the window it would wait for each chunk in turn.
 */
#define AGE_BLOB_AHEAD 16
#define AGE_BLOB_READ_CHUNKS 4
#define AGE_BLOB_RECENT 2

struct age_slot {
	uint64_t index; /* UINT64_MAX: empty */
	size_t length;
	uint64_t used; /* for least recently used */
	unsigned char data[AGE_CHUNK_SIZE];
};

/*
 * A chunk decrypted ahead: FREE -> WANTED (asked for) -> BUSY (the thread
 * decrypts it, outside the lock) -> READY or FAILED. A reader waits for
 * a WANTED or BUSY chunk it needs; it decrypts a FAILED one itself, to
 * say why. A WANTED or BUSY slot is never taken back.
 */
enum ahead_state {
	AHEAD_FREE,
	AHEAD_WANTED,
	AHEAD_BUSY,
	AHEAD_READY,
	AHEAD_FAILED,
};

struct age_ahead {
	enum ahead_state state;
	uint64_t index;
	size_t length;
	int consumed;	     /* a reader copied from it */
	unsigned char *data; /* AGE_SEALED_CHUNK_SIZE, allocated at first use */
};

struct age_blob {
	struct blob *file;
	struct age_source src;
	struct age_reader *reader;
	pthread_mutex_t lock;
	uint64_t clock;
	struct age_slot slots[AGE_BLOB_SLOTS];

	/* Read-ahead, started at the first reader going through. */
	struct age_ahead ahead[AGE_BLOB_AHEAD];
	struct age_reader *ahead_reader; /* the thread's own */
	pthread_t thread;
	int thread_state; /* 0 not started, 1 running, -1 could not start */
	int stopping;
	pthread_cond_t wanted; /* a slot became WANTED, or stopping */
	pthread_cond_t done;   /* a slot became READY or FAILED */
	uint64_t recent[AGE_BLOB_RECENT]; /* chunks read last, newest first */
};

static int
age_blob_file_read(void *self, uint64_t offset, void *buffer, size_t length,
		   size_t *got, struct cairn_error *err)
{
	return blob_read_at(self, offset, buffer, length, got, err);
}

int
age_blob_is_encrypted(struct blob *file)
{
	char head[sizeof(AGE_VERSION_LINE) - 1];
	struct cairn_error err;
	size_t got = 0;

	return blob_read_at(file, 0, head, sizeof(head), &got, &err) == 0 &&
	       got == sizeof(head) &&
	       memcmp(head, AGE_VERSION_LINE, sizeof(head)) == 0;
}

/* The slot holding chunk index, or NULL; lock held. */
static struct age_slot *
age_blob_cached(struct age_blob *a, uint64_t index)
{
	size_t i;

	for (i = 0; i < AGE_BLOB_SLOTS; i++)
		if (a->slots[i].index == index) {
			a->slots[i].used = ++a->clock;
			return &a->slots[i];
		}
	return NULL;
}

/*
 * A chunk the caller wants whole goes straight into its buffer, without
 * a slot or a copy; lock held. 1 when done (*n bytes), 0 when the chunk
 * is not one to read so, -1 on failure.
 */
static int
age_blob_direct(struct age_blob *a, uint64_t offset, unsigned char *out,
		size_t room, size_t *n, struct cairn_error *err)
{
	uint64_t index = offset / AGE_CHUNK_SIZE;
	uint64_t size = age_reader_size(a->reader);
	uint64_t whole = size - offset < AGE_CHUNK_SIZE ? size - offset
							: AGE_CHUNK_SIZE;

	*n = 0;
	if (offset % AGE_CHUNK_SIZE != 0 || room < whole ||
	    age_blob_cached(a, index) != NULL)
		return 0;
	if (age_reader_decrypt_into(a->reader, index, out, room, n, err) !=
	    AGE_OK) {
		/* A misplaced chunk's bytes are authentic, but not ours. */
		OPENSSL_cleanse(out, room < AGE_SEALED_CHUNK_SIZE
					     ? room
					     : AGE_SEALED_CHUNK_SIZE);
		*n = 0;
		error_prefix(err, "archive '%s'", a->file->name);
		return -1;
	}
	return 1;
}

/* The slot holding chunk index, decrypted if need be; lock held. */
static struct age_slot *
age_blob_slot(struct age_blob *a, uint64_t index, const char *name,
	      struct cairn_error *err)
{
	struct age_slot *victim = &a->slots[0];
	enum age_status status;
	size_t i;

	for (i = 0; i < AGE_BLOB_SLOTS; i++) {
		if (a->slots[i].index == index) {
			a->slots[i].used = ++a->clock;
			return &a->slots[i];
		}
		if (a->slots[i].used < victim->used)
			victim = &a->slots[i];
	}
	victim->index = UINT64_MAX;
	status = age_reader_decrypt(a->reader, index, victim->data,
				    &victim->length, err);
	if (status != AGE_OK) {
		/* A misplaced chunk's bytes are authentic, but not ours. */
		OPENSSL_cleanse(victim->data, sizeof(victim->data));
		error_prefix(err, "archive '%s'", name);
		return NULL;
	}
	victim->index = index;
	victim->used = ++a->clock;
	return victim;
}

static struct age_ahead *
ahead_find(struct age_blob *a, uint64_t index)
{
	size_t i;

	for (i = 0; i < AGE_BLOB_AHEAD; i++)
		if (a->ahead[i].state != AHEAD_FREE &&
		    a->ahead[i].index == index)
			return &a->ahead[i];
	return NULL;
}

/* The WANTED slot of the lowest chunk: the one a reader needs first. */
static struct age_ahead *
ahead_next_wanted(struct age_blob *a)
{
	struct age_ahead *best = NULL;
	size_t i;

	for (i = 0; i < AGE_BLOB_AHEAD; i++)
		if (a->ahead[i].state == AHEAD_WANTED &&
		    (best == NULL || a->ahead[i].index < best->index))
			best = &a->ahead[i];
	return best;
}

static void *
ahead_run(void *context)
{
	struct age_blob *a = context;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct age_ahead *s;
		struct cairn_error err;
		enum age_status status;
		size_t length = 0;
		uint64_t index;

		while (!a->stopping && (s = ahead_next_wanted(a)) == NULL)
			pthread_cond_wait(&a->wanted, &a->lock);
		if (a->stopping)
			break;
		s->state = AHEAD_BUSY;
		index = s->index;
		if (s->data == NULL)
			s->data = xmalloc(AGE_SEALED_CHUNK_SIZE);
		pthread_mutex_unlock(&a->lock);

		error_clear(&err);
		status = age_reader_decrypt_into(a->ahead_reader, index,
						 s->data, AGE_SEALED_CHUNK_SIZE,
						 &length, &err);
		if (status != AGE_OK)
			OPENSSL_cleanse(s->data, AGE_SEALED_CHUNK_SIZE);

		pthread_mutex_lock(&a->lock);
		s->length = length;
		s->consumed = 0;
		s->state = status == AGE_OK ? AHEAD_READY : AHEAD_FAILED;
		pthread_cond_broadcast(&a->done);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* Starts the thread and its reader once; 1 when it runs. Lock held. */
static int
ahead_start(struct age_blob *a)
{
	if (a->thread_state != 0)
		return a->thread_state > 0;
	a->thread_state = -1;
	a->ahead_reader = age_reader_clone(a->reader);
	if (a->ahead_reader == NULL)
		return 0;
	if (pthread_create(&a->thread, NULL, ahead_run, a) != 0) {
		age_reader_free(a->ahead_reader);
		a->ahead_reader = NULL;
		return 0;
	}
	pthread_setname_np(a->thread, "cairn-decrypt");
	a->thread_state = 1;
	return 1;
}

/*
 * A slot for a chunk after `index`: a free one, or one a reader has
 * copied from and left behind (below `index`). Lock held.
 */
static struct age_ahead *
ahead_take(struct age_blob *a, uint64_t index)
{
	size_t i;

	for (i = 0; i < AGE_BLOB_AHEAD; i++)
		if (a->ahead[i].state == AHEAD_FREE)
			return &a->ahead[i];
	for (i = 0; i < AGE_BLOB_AHEAD; i++) {
		struct age_ahead *s = &a->ahead[i];

		if ((s->state == AHEAD_READY && s->consumed &&
		     s->index < index) ||
		    (s->state == AHEAD_FAILED && s->index < index))
			return s;
	}
	return NULL;
}

/*
 * Notes that a reader is in chunk `index`; when it entered it from the
 * one before, asks for the chunks after it that no slot holds. Lock
 * held.
 */
static void
ahead_note_read(struct age_blob *a, uint64_t index)
{
	uint64_t chunks = age_reader_chunk_count(a->reader), k;
	int sequential = 0;
	size_t i;

	if (a->recent[0] == index)
		return;
	for (i = 0; i < AGE_BLOB_RECENT; i++)
		if (a->recent[i] + 1 == index) /* UINT64_MAX + 1: chunk 0 */
			sequential = 1;
	memmove(a->recent + 1, a->recent,
		(AGE_BLOB_RECENT - 1) * sizeof(a->recent[0]));
	a->recent[0] = index;
	if (!sequential || !ahead_start(a))
		return;
	for (k = index + 1; k < index + AGE_BLOB_AHEAD && k < chunks; k++) {
		struct age_ahead *s;

		if (ahead_find(a, k) != NULL || age_blob_cached(a, k) != NULL)
			continue;
		s = ahead_take(a, index);
		if (s == NULL)
			return;
		s->state = AHEAD_WANTED;
		s->index = k;
		s->consumed = 0;
		pthread_cond_signal(&a->wanted);
	}
}

/*
 * The bytes of chunk `index` decrypted ahead: 1 with *data and *length
 * (valid while the lock is held), 0 when no slot has them (or the thread
 * failed on them: the caller decrypts the chunk itself, and says why).
 * Waits for a chunk asked for. Lock held.
 */
static int
ahead_get(struct age_blob *a, uint64_t index, const unsigned char **data,
	  size_t *length)
{
	struct age_ahead *s;

	while ((s = ahead_find(a, index)) != NULL &&
	       (s->state == AHEAD_WANTED || s->state == AHEAD_BUSY))
		pthread_cond_wait(&a->done, &a->lock);
	if (s == NULL)
		return 0;
	if (s->state == AHEAD_FAILED) {
		s->state = AHEAD_FREE;
		return 0;
	}
	s->consumed = 1;
	*data = s->data;
	*length = s->length;
	return 1;
}

static int
age_blob_read_at(void *self, uint64_t offset, void *buffer, size_t length,
		 size_t *got, struct cairn_error *err)
{
	struct age_blob *a = self;
	uint64_t size = age_reader_size(a->reader);
	const char *name = a->file->name;
	int rc = 0;

	*got = 0;
	pthread_mutex_lock(&a->lock);
	while (*got < length && offset < size) {
		uint64_t index = offset / AGE_CHUNK_SIZE;
		size_t within = (size_t)(offset % AGE_CHUNK_SIZE), n;
		const unsigned char *ready;
		size_t ready_length;
		struct age_slot *slot;
		int direct;

		ahead_note_read(a, index);
		if (ahead_get(a, index, &ready, &ready_length)) {
			if (within >= ready_length)
				break;
			n = ready_length - within;
			if (n > length - *got)
				n = length - *got;
			memcpy((unsigned char *)buffer + *got, ready + within,
			       n);
			*got += n;
			offset += n;
			continue;
		}
		direct = age_blob_direct(a, offset,
					 (unsigned char *)buffer + *got,
					 length - *got, &n, err);
		if (direct < 0) {
			rc = -1;
			break;
		}
		if (direct > 0) {
			if (n == 0)
				break;
			*got += n;
			offset += n;
			continue;
		}
		slot = age_blob_slot(a, index, name, err);
		if (slot == NULL) {
			rc = -1;
			break;
		}
		if (within >= slot->length)
			break;
		n = slot->length - within;
		if (n > length - *got)
			n = length - *got;
		memcpy((unsigned char *)buffer + *got, slot->data + within, n);
		*got += n;
		offset += n;
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

static void
age_blob_close(void *self)
{
	struct age_blob *a = self;
	size_t i;

	if (a == NULL)
		return;
	if (a->thread_state > 0) {
		pthread_mutex_lock(&a->lock);
		a->stopping = 1;
		pthread_cond_broadcast(&a->wanted);
		pthread_mutex_unlock(&a->lock);
		pthread_join(a->thread, NULL);
	}
	age_reader_free(a->ahead_reader);
	age_reader_free(a->reader);
	for (i = 0; i < AGE_BLOB_SLOTS; i++)
		OPENSSL_cleanse(a->slots[i].data, sizeof(a->slots[i].data));
	for (i = 0; i < AGE_BLOB_AHEAD; i++) {
		if (a->ahead[i].data != NULL)
			OPENSSL_cleanse(a->ahead[i].data,
					AGE_SEALED_CHUNK_SIZE);
		free(a->ahead[i].data);
	}
	pthread_cond_destroy(&a->wanted);
	pthread_cond_destroy(&a->done);
	pthread_mutex_destroy(&a->lock);
	blob_close(a->file);
	free(a);
}

static const struct blob_ops age_blob_ops = {
	.read_at = age_blob_read_at,
	.close = age_blob_close,
};

enum age_status
age_blob_open(struct blob **out, struct blob *file,
	      const struct age_identities *ids, struct cairn_error *err)
{
	struct age_blob *a = xcalloc(1, sizeof(*a));
	enum age_status status;
	uint64_t chunks;
	struct age_slot *last;
	size_t i;

	*out = NULL;
	a->file = file;
	a->src.read_at = age_blob_file_read;
	a->src.self = file;
	a->src.size = file->size;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->wanted, NULL);
	pthread_cond_init(&a->done, NULL);
	for (i = 0; i < AGE_BLOB_SLOTS; i++)
		a->slots[i].index = UINT64_MAX;
	for (i = 0; i < AGE_BLOB_RECENT; i++)
		a->recent[i] = UINT64_MAX;
	status = age_reader_open(&a->reader, &a->src, ids, err);
	if (status != AGE_OK) {
		error_prefix(err, "archive '%s'", file->name);
		age_blob_close(a);
		return status;
	}
	/*
	 * The last chunk first: readers start from the trailer at the end,
	 * and a file cut or extended fails here, before anything is read.
	 */
	chunks = age_reader_chunk_count(a->reader);
	last = age_blob_slot(a, chunks > 0 ? chunks - 1 : 0, file->name, err);
	if (last == NULL) {
		age_blob_close(a);
		return AGE_PAYLOAD_FAILURE;
	}
	*out = blob_new(&age_blob_ops, a, age_reader_size(a->reader),
			file->name);
	(*out)->read_size = AGE_BLOB_READ_CHUNKS * AGE_CHUNK_SIZE;
	return AGE_OK;
}
