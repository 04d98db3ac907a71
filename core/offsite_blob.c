/*
 * The remote blob of offsite_blob.h.
 *
 * The object is cut into windows of the shape's window bytes (window k
 * holds the bytes from k * window). A fixed set of slots
 * holds windows; a slot goes FREE -> WANTED (asked for) -> FETCHING (a
 * fetcher is reading it, outside the lock) -> READY or FAILED. Readers
 * only copy out of READY slots and wait for the others; fetcher threads,
 * each with a connection of its own (a client is not safe to share
 * between threads), do every read of the object. A read in window 0, or
 * in the window after one read lately (a reader going through the
 * object), asks for the next `ahead` windows of the shape, so the target's
 * latency and transfer overlap the reader's work; reads here and there
 * (the trailer, an index, one entry) fetch only their own windows.
 *
 * A blob asked to hash (offsite_blob_hash_start) also runs a SHA-256 of
 * the object through it in order: the fetcher that fills the window
 * where the hash stands hashes it, and those after it already there,
 * keeping each FETCHING meanwhile so that no reader copies from it or
 * takes it back; a window read out of that order (the trailer and index
 * at the end come first) and given up before its turn is read again by
 * offsite_blob_hash_finish, which reads what the hash still lacks.
 *
 * Invariants, under rb->lock: a WANTED, FETCHING or READY slot's `window`
 * is unique among the slots; a FETCHING slot is never taken back (its
 * fetcher writes into its data); a WANTED slot a reader waits for
 * (`demanded`) is not taken back either. A FAILED slot keeps its error
 * until a reader reaches that window (the error is then reported and the
 * slot freed) or the slot is taken for another window.
 */
#include "offsite_blob.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "progress.h"
#include "sha256.h"

#define RECENT 4

enum slot_state {
	SLOT_FREE,
	SLOT_WANTED,
	SLOT_FETCHING,
	SLOT_READY,
	SLOT_FAILED,
};

struct slot {
	enum slot_state state;
	uint64_t window;
	unsigned char *data; /* a window of bytes, allocated at first use */
	size_t length;
	int demanded;	/* a reader waits for it */
	int consumed;	/* a reader has read from it */
	uint64_t asked; /* the clock when it was asked for: fetch order */
	uint64_t used;	/* the clock of its last read, for replacement */
	struct cairn_error error;
};

struct remote_blob;

struct fetcher {
	struct remote_blob *rb;
	struct offsite *o; /* owned: this thread's connection */
	pthread_t thread;
};

struct remote_blob {
	char *path;
	uint64_t size;
	struct offsite_blob_shape shape;
	uint64_t windows;   /* how many windows the object spans */
	const char *target; /* the target's name, for messages */
	pthread_mutex_t lock;
	pthread_cond_t wanted;	 /* a slot became WANTED, or stopping */
	pthread_cond_t done;	 /* a slot became READY or FAILED */
	struct slot *slots;	 /* shape.slots of them */
	uint64_t recent[RECENT]; /* the last windows read, newest first */
	size_t recent_count;
	uint64_t clock;
	int stopping;
	struct fetcher *fetchers; /* shape.fetchers of them */
	size_t fetcher_count;	  /* started */
	struct sha256 *hash;	  /* NULL: not hashing */
	uint64_t hashed;	  /* bytes hashed, from the start */
	int hashing;		  /* a fetcher is hashing a window */
};

static size_t
window_length(const struct remote_blob *rb, uint64_t window)
{
	uint64_t start = window * rb->shape.window;

	return rb->size - start < rb->shape.window ? (size_t)(rb->size - start)
						   : rb->shape.window;
}

static struct slot *
slot_find(struct remote_blob *rb, uint64_t window)
{
	size_t i;

	for (i = 0; i < rb->shape.slots; i++) {
		struct slot *s = &rb->slots[i];

		if (s->state != SLOT_FREE && s->window == window)
			return s;
	}
	return NULL;
}

/* The WANTED slot to fetch next: those a reader waits for first, then in
 * the order they were asked for. */
static struct slot *
slot_next_wanted(struct remote_blob *rb)
{
	struct slot *best = NULL;
	size_t i;

	for (i = 0; i < rb->shape.slots; i++) {
		struct slot *s = &rb->slots[i];

		if (s->state != SLOT_WANTED)
			continue;
		if (best == NULL || s->demanded > best->demanded ||
		    (s->demanded == best->demanded && s->asked < best->asked))
			best = s;
	}
	return best;
}

/* Which slots slot_take gives up first: those already read, then failed
 * read-ahead, then windows asked for and not read yet. */
static int
slot_rank(const struct slot *s)
{
	if (s->state == SLOT_READY && s->consumed)
		return 0;
	return s->state == SLOT_FAILED ? 1 : 2;
}

/*
 * A slot to hold another window. A reader's demand may take any slot
 * that is not being fetched or waited for, the one read least recently
 * first. Read-ahead takes only a free slot or one already read, never one
 * of the two read most recently (the windows the readers are in).
 */
static struct slot *
slot_take(struct remote_blob *rb, int demand)
{
	struct slot *best = NULL, *recent[2] = {NULL, NULL};
	size_t i;

	for (i = 0; i < rb->shape.slots; i++) {
		struct slot *s = &rb->slots[i];

		if (s->state == SLOT_FREE)
			return s;
		if (s->state != SLOT_READY || !s->consumed)
			continue;
		if (recent[0] == NULL || s->used > recent[0]->used) {
			recent[1] = recent[0];
			recent[0] = s;
		} else if (recent[1] == NULL || s->used > recent[1]->used) {
			recent[1] = s;
		}
	}
	for (i = 0; i < rb->shape.slots; i++) {
		struct slot *s = &rb->slots[i];

		if (s->state == SLOT_FETCHING ||
		    (s->state == SLOT_WANTED && s->demanded))
			continue;
		if (!demand && (s->state != SLOT_READY || !s->consumed ||
				s == recent[0] || s == recent[1]))
			continue;
		if (best == NULL || slot_rank(s) < slot_rank(best) ||
		    (slot_rank(s) == slot_rank(best) && s->used < best->used))
			best = s;
	}
	return best;
}

/* Asks for `window` in slot s (taken by slot_take). */
static void
slot_ask(struct remote_blob *rb, struct slot *s, uint64_t window, int demand)
{
	if (s->data == NULL)
		s->data = xmalloc(rb->shape.window);
	s->state = SLOT_WANTED;
	s->window = window;
	s->length = 0;
	s->demanded = demand;
	s->consumed = 0;
	s->asked = ++rb->clock;
	s->used = s->asked;
	error_clear(&s->error);
	pthread_cond_signal(&rb->wanted);
}

/* Notes that `window` was read; whether a reader is going through the
 * object there (window 0, or the one before was read lately). */
static int
note_read(struct remote_blob *rb, uint64_t window)
{
	int sequential = window == 0;
	size_t i;

	if (rb->recent_count > 0 && rb->recent[0] == window)
		return 1; /* still in it: read ahead as when it was entered */
	for (i = 0; i < rb->recent_count; i++)
		if (rb->recent[i] + 1 == window)
			sequential = 1;
	if (rb->recent_count < RECENT)
		rb->recent_count++;
	memmove(rb->recent + 1, rb->recent,
		(rb->recent_count - 1) * sizeof(rb->recent[0]));
	rb->recent[0] = window;
	return sequential;
}

/* Asks for the windows after `window` that no slot holds, while slots
 * can be had for them. */
static void
read_ahead(struct remote_blob *rb, uint64_t window)
{
	uint64_t k;

	for (k = window + 1; k <= window + rb->shape.ahead && k < rb->windows;
	     k++) {
		struct slot *s;

		if (slot_find(rb, k) != NULL)
			continue;
		s = slot_take(rb, 0);
		if (s == NULL)
			return;
		slot_ask(rb, s, k, 0);
	}
}

/*
 * Hashes the windows there from where the hash stands, in order; the one
 * being hashed stays FETCHING. Lock held, released while hashing.
 */
static void
hash_in_order(struct remote_blob *rb)
{
	while (rb->hash != NULL && !rb->hashing && rb->hashed < rb->size) {
		struct slot *s = slot_find(rb, rb->hashed / rb->shape.window);

		if (s == NULL || s->state != SLOT_READY)
			return;
		s->state = SLOT_FETCHING;
		rb->hashing = 1;
		pthread_mutex_unlock(&rb->lock);
		sha256_update(rb->hash, s->data, s->length);
		progress_update(s->length, NULL);
		pthread_mutex_lock(&rb->lock);
		rb->hashing = 0;
		rb->hashed += s->length;
		s->state = SLOT_READY;
		pthread_cond_broadcast(&rb->done);
	}
}

static void *
fetcher_run(void *context)
{
	struct fetcher *f = context;
	struct remote_blob *rb = f->rb;

	pthread_mutex_lock(&rb->lock);
	for (;;) {
		struct slot *s;
		struct cairn_error err;
		uint64_t window, offset;
		size_t want, got = 0;
		int rc;

		while (!rb->stopping && (s = slot_next_wanted(rb)) == NULL)
			pthread_cond_wait(&rb->wanted, &rb->lock);
		if (rb->stopping)
			break;
		s->state = SLOT_FETCHING;
		window = s->window;
		offset = window * rb->shape.window;
		want = window_length(rb, window);
		pthread_mutex_unlock(&rb->lock);

		error_clear(&err);
		rc = f->o->ops->read_at(f->o, rb->path, offset, s->data, want,
					&got, &err);
		if (rc == 0 && got < want) {
			error_set(&err,
				  "offsite %s: %s ends at %llu bytes, not %llu",
				  rb->target, rb->path,
				  (unsigned long long)(offset + got),
				  (unsigned long long)rb->size);
			rc = -1;
		}

		pthread_mutex_lock(&rb->lock);
		s->length = got;
		s->state = rc == 0 ? SLOT_READY : SLOT_FAILED;
		if (rc != 0)
			s->error = err;
		pthread_cond_broadcast(&rb->done);
		if (rc == 0)
			hash_in_order(rb);
	}
	pthread_mutex_unlock(&rb->lock);
	return NULL;
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
		uint64_t window = at / rb->shape.window;
		uint64_t start = window * rb->shape.window;
		struct slot *s = slot_find(rb, window);
		size_t n;

		if (s == NULL) {
			s = slot_take(rb, 1);
			if (s == NULL) { /* every slot busy: wait for one */
				pthread_cond_wait(&rb->done, &rb->lock);
				continue;
			}
			slot_ask(rb, s, window, 1);
		}
		if (s->state == SLOT_WANTED || s->state == SLOT_FETCHING) {
			if (!s->demanded) {
				s->demanded = 1;
				pthread_cond_signal(&rb->wanted);
			}
			pthread_cond_wait(&rb->done, &rb->lock);
			continue; /* the slot may have changed hands */
		}
		if (s->state == SLOT_FAILED) {
			*err = s->error;
			s->state = SLOT_FREE;
			rc = -1;
			break;
		}
		s->consumed = 1;
		s->used = ++rb->clock;
		n = (size_t)(start + s->length - at);
		if (n > length - *got)
			n = length - *got;
		memcpy(out + *got, s->data + (at - start), n);
		*got += n;
		if (note_read(rb, window))
			read_ahead(rb, window);
	}
	pthread_mutex_unlock(&rb->lock);
	return rc;
}

/* Stops and joins the fetchers (one busy finishes its read first), then
 * frees everything. */
static void
remote_close(void *self)
{
	struct remote_blob *rb = self;
	size_t i;

	pthread_mutex_lock(&rb->lock);
	rb->stopping = 1;
	pthread_cond_broadcast(&rb->wanted);
	pthread_mutex_unlock(&rb->lock);
	for (i = 0; i < rb->fetcher_count; i++) {
		pthread_join(rb->fetchers[i].thread, NULL);
		offsite_close(rb->fetchers[i].o);
	}
	for (i = 0; i < rb->shape.slots; i++)
		free(rb->slots[i].data);
	if (rb->hash != NULL)
		sha256_release(rb->hash);
	free(rb->hash);
	free(rb->slots);
	free(rb->fetchers);
	pthread_cond_destroy(&rb->wanted);
	pthread_cond_destroy(&rb->done);
	pthread_mutex_destroy(&rb->lock);
	free(rb->path);
	free(rb);
}

static const struct blob_ops remote_ops = {
	.read_at = remote_read_at,
	.close = remote_close,
};

const struct offsite_blob_shape offsite_blob_alone = {
	.window = 8 * 1024 * 1024,
	.slots = 5,
	.ahead = 3,
	.fetchers = 2,
};

void
offsite_blob_chain_shape(struct offsite_blob_shape *shape, size_t links)
{
	const size_t mib = 1024 * 1024;
	size_t window = links > 0 ? OFFSITE_BLOB_CHAIN_BUDGET / 3 / links : 0;

	window -= window % mib;
	if (window < mib)
		window = mib;
	if (window > offsite_blob_alone.window)
		window = offsite_blob_alone.window;
	shape->window = window;
	shape->slots = 3;
	shape->ahead = 1;
	shape->fetchers = 1;
}

int
offsite_blob_open(struct blob **b, struct offsite *o, const char *path,
		  uint64_t size, const char *name,
		  const struct offsite_blob_shape *shape,
		  struct cairn_error *err)
{
	struct remote_blob *rb = xcalloc(1, sizeof(*rb));
	size_t i;

	*b = NULL;
	rb->path = xstrdup(path);
	rb->size = size;
	rb->shape = shape != NULL ? *shape : offsite_blob_alone;
	rb->slots = xcalloc(rb->shape.slots, sizeof(*rb->slots));
	rb->fetchers = xcalloc(rb->shape.fetchers, sizeof(*rb->fetchers));
	rb->windows = (size + rb->shape.window - 1) / rb->shape.window;
	rb->target = o->target->name;
	pthread_mutex_init(&rb->lock, NULL);
	pthread_cond_init(&rb->wanted, NULL);
	pthread_cond_init(&rb->done, NULL);
	for (i = 0; i < rb->shape.fetchers; i++) {
		struct fetcher *f = &rb->fetchers[i];
		int rc;

		if (offsite_reopen(&f->o, o, err) != 0) {
			remote_close(rb);
			return -1;
		}
		f->rb = rb;
		rc = pthread_create(&f->thread, NULL, fetcher_run, f);
		if (rc != 0) {
			offsite_close(f->o);
			remote_close(rb);
			error_errno(err, rc,
				    "offsite %s: cannot start a thread",
				    o->target->name);
			return -1;
		}
		pthread_setname_np(f->thread, "cairn-fetch");
		rb->fetcher_count++;
	}
	*b = blob_new(&remote_ops, rb, size, name);
	return 0;
}

void
offsite_blob_hash_start(struct blob *b)
{
	struct remote_blob *rb = b->self;

	if (b->ops != &remote_ops)
		return;
	pthread_mutex_lock(&rb->lock);
	if (rb->hash == NULL) {
		rb->hash = xmalloc(sizeof(*rb->hash));
		if (sha256_init(rb->hash) != 0)
			abort();
	}
	pthread_mutex_unlock(&rb->lock);
}

int
offsite_blob_hash_finish(struct blob *b, char hex[SHA256_HEX_SIZE],
			 uint64_t *hashed, struct cairn_error *err)
{
	struct remote_blob *rb = b->self;
	unsigned char probe;
	uint64_t at;
	size_t got;

	if (b->ops != &remote_ops || rb->hash == NULL) {
		error_set(err, "offsite: the blob of %s was not hashing",
			  b->name);
		return -1;
	}
	/* A byte of each window the hash lacks brings the window in, and
	 * the fetcher hashes it. */
	for (;;) {
		pthread_mutex_lock(&rb->lock);
		while (rb->hashing)
			pthread_cond_wait(&rb->done, &rb->lock);
		hash_in_order(rb);
		at = rb->hashed;
		if (at >= rb->size)
			break; /* with the lock held */
		pthread_mutex_unlock(&rb->lock);
		if (remote_read_at(rb, at, &probe, 1, &got, err) != 0)
			return -1;
		if (got == 0) {
			error_set(err, "offsite %s: %s ends at %llu bytes",
				  rb->target, rb->path, (unsigned long long)at);
			return -1;
		}
	}
	/* Under the lock: a fetcher still reading ahead looks at rb->hash. */
	*hashed = at;
	sha256_final_hex(rb->hash, hex);
	sha256_release(rb->hash);
	free(rb->hash);
	rb->hash = NULL;
	pthread_mutex_unlock(&rb->lock);
	return 0;
}
