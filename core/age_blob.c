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
 * Decryption ahead of a reader going through the payload, by windows of
 * AGE_WINDOW_CHUNKS chunks: the one the reader is in and the one after
 * it, 1 MiB in all. A reader is going through when it enters the chunk
 * after one it read last (chunk 0 counts); entering a window, it asks
 * for the next, which the thread reads from the file at once and
 * decrypts while the reader goes through this one: one wake-up and one
 * read per half MiB (a read and a wake-up per chunk cost the thread more
 * CPU in the kernel than the cipher did). A reader takes
 * AGE_BLOB_READ_CHUNKS chunks at a time.
 */
#define AGE_WINDOW_CHUNKS 8
#define AGE_WINDOWS 2
#define AGE_BLOB_READ_CHUNKS 4
#define AGE_BLOB_RECENT 2

/*
 * A window's bytes start at the offset within a page that the file's do:
 * the kernel copies from the page cache into such a buffer in half the
 * time it takes into one that starts elsewhere in a page.
 */
#define AGE_WINDOW_ALIGN 4096
#define AGE_WINDOW_MEMORY                                                      \
	(AGE_WINDOW_CHUNKS * AGE_SEALED_CHUNK_SIZE + AGE_WINDOW_ALIGN)

struct age_slot {
	uint64_t index; /* UINT64_MAX: empty */
	size_t length;
	uint64_t used; /* for least recently used */
	unsigned char data[AGE_CHUNK_SIZE];
};

/*
 * A window: FREE -> WANTED (asked for) -> BUSY (the thread reads and
 * decrypts it, outside the lock) -> READY. A reader waits for a WANTED or
 * BUSY window holding the chunk it needs. The chunks of a READY window
 * from `ready` on did not authenticate or could not be read: the reader
 * decrypts those itself, to say why. A WANTED or BUSY window is never
 * taken back.
 */
enum window_state {
	WINDOW_FREE,
	WINDOW_WANTED,
	WINDOW_BUSY,
	WINDOW_READY,
};

struct age_window {
	enum window_state state;
	uint64_t first; /* its first chunk's index */
	size_t count;	/* its chunks: fewer at the end of the payload */
	size_t ready;	/* chunks from the first that authenticated */
	size_t length[AGE_WINDOW_CHUNKS]; /* their plaintext bytes */
	unsigned char *memory; /* AGE_WINDOW_MEMORY, allocated at first use */
	unsigned char *data;   /* within it: chunk j at j sealed chunks in */
};

struct age_blob {
	struct blob *file;
	struct age_source src;
	struct age_reader *reader;
	pthread_mutex_t lock;
	uint64_t clock;
	struct age_slot slots[AGE_BLOB_SLOTS];

	/* Read-ahead, started at the first reader going through. */
	struct age_window windows[AGE_WINDOWS];
	struct age_reader *ahead_reader; /* the thread's own */
	pthread_t thread;
	int thread_state; /* 0 not started, 1 running, -1 could not start */
	int stopping;
	pthread_cond_t wanted; /* a window became WANTED, or stopping */
	pthread_cond_t done;   /* a window became READY */
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

/* The window holding chunk index, or NULL; lock held. */
static struct age_window *
window_find(struct age_blob *a, uint64_t index)
{
	size_t i;

	for (i = 0; i < AGE_WINDOWS; i++) {
		struct age_window *w = &a->windows[i];

		if (w->state != WINDOW_FREE && w->first <= index &&
		    index - w->first < w->count)
			return w;
	}
	return NULL;
}

/* The WANTED window of the lowest chunks: the one a reader needs first. */
static struct age_window *
window_next_wanted(struct age_blob *a)
{
	struct age_window *best = NULL;
	size_t i;

	for (i = 0; i < AGE_WINDOWS; i++)
		if (a->windows[i].state == WINDOW_WANTED &&
		    (best == NULL || a->windows[i].first < best->first))
			best = &a->windows[i];
	return best;
}

static unsigned char *
window_memory(void)
{
	void *memory = NULL;

	if (posix_memalign(&memory, AGE_WINDOW_ALIGN, AGE_WINDOW_MEMORY) != 0)
		xalloc_die();
	return memory;
}

/*
 * Reads the window's chunks with one read and decrypts them in place;
 * the window is BUSY, the lock not held. *ready and length[] get what
 * authenticated; the bytes of the chunks after are wiped.
 */
static void
window_fill(struct age_blob *a, struct age_window *w, size_t *ready,
	    size_t length[AGE_WINDOW_CHUNKS])
{
	struct age_reader *reader = a->ahead_reader;
	uint64_t offset = age_reader_chunk_offset(reader, w->first);
	size_t total = 0, got = 0, j;
	struct cairn_error err;

	w->data = w->memory + offset % AGE_WINDOW_ALIGN;
	for (j = 0; j < w->count; j++)
		total += age_reader_sealed_length(reader, w->first + j);
	*ready = 0;
	error_clear(&err);
	if (blob_read_at(a->file, offset, w->data, total, &got, &err) < 0)
		got = 0;
	for (j = 0; j < w->count; j++) {
		unsigned char *sealed = w->data + j * AGE_SEALED_CHUNK_SIZE;
		size_t sealed_length = age_reader_sealed_length(reader,
								w->first + j);

		if ((size_t)(sealed - w->data) + sealed_length > got ||
		    age_reader_open_in_place(reader, w->first + j, sealed,
					     sealed_length,
					     &length[j]) != AGE_OK)
			break;
	}
	*ready = j;
	if (j < w->count)
		OPENSSL_cleanse(w->data + j * AGE_SEALED_CHUNK_SIZE,
				total - j * AGE_SEALED_CHUNK_SIZE);
}

static void *
ahead_run(void *context)
{
	struct age_blob *a = context;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		size_t length[AGE_WINDOW_CHUNKS];
		struct age_window *w;
		size_t ready;

		while (!a->stopping && (w = window_next_wanted(a)) == NULL)
			pthread_cond_wait(&a->wanted, &a->lock);
		if (a->stopping)
			break;
		w->state = WINDOW_BUSY;
		if (w->memory == NULL)
			w->memory = window_memory();
		pthread_mutex_unlock(&a->lock);

		window_fill(a, w, &ready, length);

		pthread_mutex_lock(&a->lock);
		w->ready = ready;
		memcpy(w->length, length, sizeof(length));
		w->state = WINDOW_READY;
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
 * A window for chunks after `index`: a free one, or a READY one wholly
 * before it, which the reader has left behind. Lock held.
 */
static struct age_window *
window_take(struct age_blob *a, uint64_t index)
{
	size_t i;

	for (i = 0; i < AGE_WINDOWS; i++)
		if (a->windows[i].state == WINDOW_FREE)
			return &a->windows[i];
	for (i = 0; i < AGE_WINDOWS; i++) {
		struct age_window *w = &a->windows[i];

		if (w->state == WINDOW_READY && w->first + w->count <= index)
			return w;
	}
	return NULL;
}

/*
 * Notes that a reader is in chunk `index`; when it entered it from the
 * one before, asks for the windows of the chunks after it up to a window
 * ahead that no window holds. Lock held.
 */
static void
ahead_note_read(struct age_blob *a, uint64_t index)
{
	uint64_t chunks = age_reader_chunk_count(a->reader), first, last;
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
	last = index + (AGE_WINDOWS - 1) * AGE_WINDOW_CHUNKS;
	for (first = (index + 1) / AGE_WINDOW_CHUNKS * AGE_WINDOW_CHUNKS;
	     first <= last && first < chunks; first += AGE_WINDOW_CHUNKS) {
		struct age_window *w;

		if (window_find(a, first) != NULL)
			continue;
		w = window_take(a, index);
		if (w == NULL)
			return;
		w->state = WINDOW_WANTED;
		w->first = first;
		w->count = chunks - first < AGE_WINDOW_CHUNKS
				   ? (size_t)(chunks - first)
				   : AGE_WINDOW_CHUNKS;
		w->ready = 0;
		pthread_cond_signal(&a->wanted);
	}
}

/*
 * The bytes of chunk `index` decrypted ahead: 1 with *data and *length
 * (valid while the lock is held), 0 when no window has them (or the
 * thread failed on them: the caller decrypts the chunk itself, and says
 * why). Waits for a window asked for. Lock held.
 */
static int
ahead_get(struct age_blob *a, uint64_t index, const unsigned char **data,
	  size_t *length)
{
	struct age_window *w;
	size_t j;

	while ((w = window_find(a, index)) != NULL &&
	       (w->state == WINDOW_WANTED || w->state == WINDOW_BUSY))
		pthread_cond_wait(&a->done, &a->lock);
	if (w == NULL)
		return 0;
	j = (size_t)(index - w->first);
	if (j >= w->ready)
		return 0;
	*data = w->data + j * AGE_SEALED_CHUNK_SIZE;
	*length = w->length[j];
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
	for (i = 0; i < AGE_WINDOWS; i++) {
		if (a->windows[i].memory != NULL)
			OPENSSL_cleanse(a->windows[i].memory,
					AGE_WINDOW_MEMORY);
		free(a->windows[i].memory);
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
