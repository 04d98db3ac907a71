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

struct age_slot {
	uint64_t index; /* UINT64_MAX: empty */
	size_t length;
	uint64_t used; /* for least recently used */
	unsigned char data[AGE_CHUNK_SIZE];
};

struct age_blob {
	struct blob *file;
	struct age_source src;
	struct age_reader *reader;
	pthread_mutex_t lock;
	uint64_t clock;
	struct age_slot slots[AGE_BLOB_SLOTS];
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
		struct age_slot *slot;
		int direct = age_blob_direct(a, offset,
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
	age_reader_free(a->reader);
	for (i = 0; i < AGE_BLOB_SLOTS; i++)
		OPENSSL_cleanse(a->slots[i].data, sizeof(a->slots[i].data));
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
	for (i = 0; i < AGE_BLOB_SLOTS; i++)
		a->slots[i].index = UINT64_MAX;
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
	return AGE_OK;
}
