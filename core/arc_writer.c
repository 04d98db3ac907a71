/*
 * The archive writer of arc_writer.h.
 *
 * libarchive writes the tar stream unblocked (bytes_per_block 0) straight
 * into the zstd writer through a callback, so no block buffer sits between
 * them. One thread at a time owns the tar stream (`busy`): the thread
 * writing an entry of known size for the whole entry, a thread flushing a
 * part or an index chunk for that write. The index is only touched by the
 * owner.
 *
 * zstd frames end between entries once a frame holds FRAME_TARGET bytes,
 * so a reader can start near any entry; the index records each entry's
 * frame.
 */
#include "arc_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "byte_sink.h"
#include "error.h"
#include "format.h"
#include "fsutil.h"
#include "json.h"
#include "progress.h"
#include "thread_sink.h"
#include "timefmt.h"

#define FRAME_TARGET (64ULL * 1024 * 1024)
#define INDEX_CHUNK_SIZE (1024 * 1024)
#define REMOVED_CHUNK_SIZE (1024 * 1024)
/* Files smaller than this are always compressed (stream_choose_storage). */
#define STORE_MIN (4LL * 1024 * 1024)
#define STORE_PROBE_EVERY (8LL * 1024 * 1024)

struct arc_stream {
	struct arc_writer *writer;
	/* A copy of the plugin's entry (its own may go away): the strings
	 * and xattr values point into `strings`, the xattrs into `xattrs`,
	 * the extents into `extents`, all three owned here. */
	struct cairn_entry meta;
	char *strings; /* starts with the entry's name */
	struct cairn_xattr *xattrs;
	int known;
	int64_t logical; /* content bytes so far, holes included */
	struct cairn_extent *extents;
	size_t extent_index;
	struct sha256 hash;
	unsigned char *part;
	size_t part_length;
	unsigned int parts;
	uint64_t frame;
	int stored;	    /* content goes into stored zstd frames */
	int64_t next_probe; /* where a stored stream is probed again */
	char *state;	    /* for the index record, or NULL */
	/* Open streams, so that those a failing plugin left are freed. */
	struct arc_stream *previous, *next;
};

static la_ssize_t
tar_write_callback(struct archive *a, void *client, const void *data,
		   size_t length)
{
	struct arc_writer *w = client;

	/* After a failure (or when aborting) output goes nowhere. */
	if (w->failed)
		return (la_ssize_t)length;
	if (zstd_writer_write(&w->zstd, data, length, &w->error) != 0) {
		w->failed = 1;
		archive_set_error(a, EIO, "%s", w->error.message);
		return -1;
	}
	return (la_ssize_t)length;
}

/* Records the first failure, so the commit and the job report it. */
static int
writer_fail(struct arc_writer *w, const struct cairn_error *err)
{
	pthread_mutex_lock(&w->lock);
	if (!w->failed) {
		w->failed = 1;
		w->error = *err;
	}
	/* Threads waiting for the stream must learn it is over. */
	pthread_cond_broadcast(&w->released);
	pthread_mutex_unlock(&w->lock);
	return -1;
}

static int
writer_acquire(struct arc_writer *w, struct cairn_error *err)
{
	pthread_mutex_lock(&w->lock);
	while (w->busy && !w->failed)
		pthread_cond_wait(&w->released, &w->lock);
	if (w->failed) {
		*err = w->error;
		pthread_mutex_unlock(&w->lock);
		return -1;
	}
	w->busy = 1;
	pthread_mutex_unlock(&w->lock);
	return 0;
}

static void
writer_release(struct arc_writer *w)
{
	pthread_mutex_lock(&w->lock);
	w->busy = 0;
	pthread_cond_broadcast(&w->released);
	pthread_mutex_unlock(&w->lock);
}

/* Starts a new frame when the current one is big enough (owner only). */
static int
writer_entry_boundary(struct arc_writer *w, uint64_t *frame,
		      struct cairn_error *err)
{
	if (w->zstd.frame_input >= FRAME_TARGET &&
	    zstd_writer_end_frame(&w->zstd, err) != 0)
		return -1;
	*frame = zstd_writer_frame_offset(&w->zstd);
	return 0;
}

static int
tar_error(struct arc_writer *w, const char *what, const char *name,
	  struct cairn_error *err)
{
	if (w->failed && w->error.message[0] != '\0')
		*err = w->error;
	else
		error_set(err, "cannot write %s of entry '%s': %s", what, name,
			  archive_error_string(w->tar));
	return -1;
}

static void
fill_archive_entry(struct archive_entry *ae, const struct cairn_entry *e)
{
	static const mode_t types[] = {
		[CAIRN_ENTRY_FILE] = AE_IFREG,
		[CAIRN_ENTRY_DIRECTORY] = AE_IFDIR,
		[CAIRN_ENTRY_SYMLINK] = AE_IFLNK,
		[CAIRN_ENTRY_HARDLINK] = AE_IFREG,
		[CAIRN_ENTRY_FIFO] = AE_IFIFO,
		[CAIRN_ENTRY_CHARDEV] = AE_IFCHR,
		[CAIRN_ENTRY_BLOCKDEV] = AE_IFBLK,
	};
	size_t i;

	archive_entry_set_pathname(ae, e->name);
	archive_entry_set_filetype(ae, types[e->type]);
	archive_entry_set_perm(ae, e->mode & 07777);
	archive_entry_set_uid(ae, e->uid);
	archive_entry_set_gid(ae, e->gid);
	if (e->uname != NULL)
		archive_entry_set_uname(ae, e->uname);
	if (e->gname != NULL)
		archive_entry_set_gname(ae, e->gname);
	archive_entry_set_mtime(ae, e->mtime.tv_sec, e->mtime.tv_nsec);
	if (e->atime.tv_sec != 0 || e->atime.tv_nsec != 0)
		archive_entry_set_atime(ae, e->atime.tv_sec, e->atime.tv_nsec);
	archive_entry_set_size(ae, e->type == CAIRN_ENTRY_FILE ? e->size : 0);
	if (e->type == CAIRN_ENTRY_SYMLINK)
		archive_entry_set_symlink(ae, e->link);
	if (e->type == CAIRN_ENTRY_HARDLINK)
		archive_entry_set_hardlink(ae, e->link);
	if (e->type == CAIRN_ENTRY_CHARDEV || e->type == CAIRN_ENTRY_BLOCKDEV) {
		archive_entry_set_rdevmajor(ae, e->rdev_major);
		archive_entry_set_rdevminor(ae, e->rdev_minor);
	}
	for (i = 0; i < e->xattr_count; i++)
		archive_entry_xattr_add_entry(ae, e->xattrs[i].name,
					      e->xattrs[i].value,
					      e->xattrs[i].size);
	if (e->acl_access != NULL)
		archive_entry_acl_from_text(ae, e->acl_access,
					    ARCHIVE_ENTRY_ACL_TYPE_ACCESS);
	if (e->acl_default != NULL)
		archive_entry_acl_from_text(ae, e->acl_default,
					    ARCHIVE_ENTRY_ACL_TYPE_DEFAULT);
	for (i = 0; i < e->extent_count; i++)
		archive_entry_sparse_add_entry(ae, e->extents[i].offset,
					       e->extents[i].length);
}

/* Writes a header; the caller owns the tar stream. */
static int
write_header(struct arc_writer *w, const struct cairn_entry *e,
	     struct cairn_error *err)
{
	struct archive_entry *ae = archive_entry_new();
	int rc;

	if (ae == NULL) {
		error_set(err, "out of memory");
		return -1;
	}
	fill_archive_entry(ae, e);
	rc = archive_write_header(w->tar, ae);
	archive_entry_free(ae);
	if (rc < ARCHIVE_WARN)
		return tar_error(w, "the header", e->name, err);
	return 0;
}

static int
write_data(struct arc_writer *w, const char *name, const void *data,
	   size_t length, struct cairn_error *err)
{
	const char *p = data;

	while (length > 0) {
		la_ssize_t n = archive_write_data(w->tar, p, length);

		if (n <= 0)
			return tar_error(w, "the content", name, err);
		p += n;
		length -= (size_t)n;
	}
	return 0;
}

/* Writes a whole small entry of cairn's own (owner only). */
static int
write_own_entry(struct arc_writer *w, const char *name, const void *data,
		size_t length, struct cairn_error *err)
{
	struct cairn_entry e;

	memset(&e, 0, sizeof(e));
	e.name = name;
	e.type = CAIRN_ENTRY_FILE;
	e.mode = 0600;
	e.mtime = w->part_time;
	e.size = (int64_t)length;
	if (write_header(w, &e, err) != 0 ||
	    write_data(w, name, data, length, err) != 0)
		return -1;
	if (archive_write_finish_entry(w->tar) < ARCHIVE_WARN)
		return tar_error(w, "the end", name, err);
	return 0;
}

/*
 * Writes `chunk` (index records, or removals) as cairn's own entry `name`
 * at the start of a frame of its own, so that a reader reaches it by the
 * offset appended to *frames, and empties it (owner only).
 */
static int
write_chunk(struct arc_writer *w, const char *name, struct buf *chunk,
	    uint64_t **frames, size_t *count, struct cairn_error *err)
{
	uint64_t frame;

	if (zstd_writer_end_frame(&w->zstd, err) != 0)
		return -1;
	frame = zstd_writer_frame_offset(&w->zstd);
	if (write_own_entry(w, name, chunk->data, chunk->length, err) != 0)
		return -1;
	*frames = xrealloc(*frames, (*count + 1) * sizeof(**frames));
	(*frames)[(*count)++] = frame;
	buf_reset(chunk);
	return 0;
}

/* Each index chunk starts a frame: `show` reads no data to reach it. */
static int
write_index_chunk(struct arc_writer *w, struct cairn_error *err)
{
	struct buf name = BUF_INIT;
	int rc;

	if (w->index.length == 0)
		return 0;
	format_index_chunk_name(++w->index_parts, &name);
	rc = write_chunk(w, buf_str(&name), &w->index, &w->index_frames,
			 &w->index_frame_count, err);
	buf_release(&name);
	return rc;
}

/* Adds the stream's record to the index (owner only). */
static int
index_add(struct arc_writer *w, struct arc_stream *s, struct cairn_error *err)
{
	struct index_record r;

	memset(&r, 0, sizeof(r));
	r.name = s->strings; /* the name; r does not own it */
	r.type = s->meta.type;
	r.size = s->meta.type == CAIRN_ENTRY_FILE ? s->logical : 0;
	if (s->meta.type == CAIRN_ENTRY_FILE)
		sha256_final_hex(&s->hash, r.sha256);
	r.frame = s->frame;
	r.parts = s->parts;
	r.state = s->state;
	index_record_format(&r, &w->index);
	if (w->on_record != NULL)
		w->on_record(w->on_record_context, &r);
	w->entries++;
	w->bytes += (uint64_t)r.size;
	if (w->index.length >= INDEX_CHUNK_SIZE)
		return write_index_chunk(w, err);
	return 0;
}

int
arc_writer_open(struct arc_writer *w, const char *path,
		struct manifest *manifest, int compress, int level, int threads,
		const struct age_recipients *recipients,
		struct cairn_error *err)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->released, NULL);
	w->manifest = manifest;
	w->part_time = timefmt_now();
	w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     0600);
	if (w->fd < 0) {
		error_errno(err, errno, "cannot create '%s'", path);
		goto fail;
	}
	w->temporary_path = xstrdup(path);
	w->out = byte_sink_fd(w->fd);
	if (recipients != NULL) {
		/* After zstd: the whole .tar.zst stream is the payload. */
		w->out = age_sink_new(w->out, recipients, &w->sealed, err);
		if (w->out == NULL)
			goto fail;
		w->encrypted = 1;
	}
	/* Encrypting, hashing and writing off the main thread. */
	w->out = thread_sink_new(w->out, err);
	if (w->out == NULL)
		goto fail;
	if (zstd_writer_open(&w->zstd, w->out, compress, level, threads, err) !=
	    0)
		goto fail;
	w->tar = archive_write_new();
	if (w->tar == NULL ||
	    archive_write_set_format_pax(w->tar) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w->tar, 0) != ARCHIVE_OK ||
	    archive_write_open(w->tar, w, NULL, tar_write_callback, NULL) !=
		    ARCHIVE_OK) {
		error_set(err, "cannot start the tar stream: %s",
			  w->tar ? archive_error_string(w->tar) : "no memory");
		goto fail;
	}
	return 0;
fail:
	arc_writer_abort(w);
	return -1;
}

static void writer_free(struct arc_writer *w);

static void
stream_free(struct arc_stream *s)
{
	free(s->strings);
	free(s->xattrs);
	free(s->extents);
	free(s->part);
	free(s->state);
	sha256_release(&s->hash);
	free(s);
}

static void
stream_link(struct arc_stream *s)
{
	struct arc_writer *w = s->writer;

	pthread_mutex_lock(&w->lock);
	s->next = w->open_streams;
	if (s->next != NULL)
		s->next->previous = s;
	w->open_streams = s;
	pthread_mutex_unlock(&w->lock);
}

static void
stream_unlink_and_free(struct arc_stream *s)
{
	struct arc_writer *w = s->writer;

	pthread_mutex_lock(&w->lock);
	if (s->previous != NULL)
		s->previous->next = s->next;
	else
		w->open_streams = s->next;
	if (s->next != NULL)
		s->next->previous = s->previous;
	pthread_mutex_unlock(&w->lock);
	stream_free(s);
}

static size_t
string_size(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

/* Copies length bytes to *cursor and moves it past them; NULL stays NULL. */
static char *
block_put(char **cursor, const void *from, size_t length)
{
	char *at = *cursor;

	if (from == NULL)
		return NULL;
	memcpy(at, from, length);
	*cursor += length;
	return at;
}

/* A copy of the entry that the stream owns (the plugin's may go away). */
static void
stream_copy_entry(struct arc_stream *s, const struct cairn_entry *from)
{
	struct cairn_entry *e = &s->meta;
	size_t i, total;
	char *cursor;

	total = string_size(from->name) + string_size(from->uname) +
		string_size(from->gname) + string_size(from->link) +
		string_size(from->acl_access) + string_size(from->acl_default);
	for (i = 0; i < from->xattr_count; i++)
		total += string_size(from->xattrs[i].name) +
			 from->xattrs[i].size;
	s->strings = xmalloc(total);
	cursor = s->strings;
	*e = *from;
	e->name = block_put(&cursor, from->name, string_size(from->name));
	e->uname = block_put(&cursor, from->uname, string_size(from->uname));
	e->gname = block_put(&cursor, from->gname, string_size(from->gname));
	e->link = block_put(&cursor, from->link, string_size(from->link));
	e->acl_access = block_put(&cursor, from->acl_access,
				  string_size(from->acl_access));
	e->acl_default = block_put(&cursor, from->acl_default,
				   string_size(from->acl_default));
	e->xattrs = NULL;
	if (from->xattr_count > 0) {
		s->xattrs = xcalloc(from->xattr_count, sizeof(*s->xattrs));
		for (i = 0; i < from->xattr_count; i++) {
			const struct cairn_xattr *x = &from->xattrs[i];

			s->xattrs[i].name = block_put(&cursor, x->name,
						      string_size(x->name));
			s->xattrs[i].value = block_put(&cursor, x->value,
						       x->size);
			s->xattrs[i].size = x->size;
		}
		e->xattrs = s->xattrs;
	}
	e->extents = NULL;
	if (from->extent_count > 0) {
		s->extents = xcalloc(from->extent_count, sizeof(*s->extents));
		memcpy(s->extents, from->extents,
		       from->extent_count * sizeof(*s->extents));
		e->extents = s->extents;
	}
}

static int
entry_check(const struct cairn_entry *e, struct cairn_error *err)
{
	size_t i;
	int64_t end = 0;

	if (e->name == NULL) {
		error_set(err, "entry without a name");
		return -1;
	}
	if (entry_name_check(e->name, err) != 0)
		return -1;
	if ((unsigned int)e->type > CAIRN_ENTRY_BLOCKDEV) {
		error_set(err, "entry '%s' has an unknown type", e->name);
		return -1;
	}
	if ((e->type == CAIRN_ENTRY_SYMLINK ||
	     e->type == CAIRN_ENTRY_HARDLINK) &&
	    e->link == NULL) {
		error_set(err, "link entry '%s' has no target", e->name);
		return -1;
	}
	if (e->type == CAIRN_ENTRY_FILE && e->size < 0 &&
	    e->size != CAIRN_SIZE_UNKNOWN) {
		error_set(err, "entry '%s' has a negative size", e->name);
		return -1;
	}
	for (i = 0; i < e->extent_count; i++) {
		if (e->size == CAIRN_SIZE_UNKNOWN ||
		    e->extents[i].offset < end || e->extents[i].length < 0 ||
		    e->extents[i].offset + e->extents[i].length > e->size) {
			error_set(err, "entry '%s' has a bad sparse map",
				  e->name);
			return -1;
		}
		end = e->extents[i].offset + e->extents[i].length;
	}
	return 0;
}

int
arc_writer_stream_open(struct arc_writer *w, const struct cairn_entry *entry,
		       struct arc_stream **stream, struct cairn_error *err)
{
	struct arc_stream *s;

	if (entry_check(entry, err) != 0)
		return writer_fail(w, err);
	s = xcalloc(1, sizeof(*s));
	s->writer = w;
	if (sha256_init(&s->hash) != 0) {
		free(s);
		error_set(err, "cannot initialise SHA-256");
		return writer_fail(w, err);
	}
	stream_copy_entry(s, entry);
	s->known = entry->type != CAIRN_ENTRY_FILE ||
		   entry->size != CAIRN_SIZE_UNKNOWN;
	if (s->known) {
		if (writer_acquire(w, err) != 0)
			goto fail;
		if (writer_entry_boundary(w, &s->frame, err) != 0 ||
		    write_header(w, &s->meta, err) != 0) {
			writer_release(w);
			writer_fail(w, err);
			goto fail;
		}
		progress_update(0, s->meta.name);
	}
	stream_link(s);
	*stream = s;
	return 0;
fail:
	stream_free(s);
	return -1;
}

/*
 * Whether a file's content is stored rather than compressed, from a probe
 * of its first write: only files of STORE_MIN bytes or more, since ending
 * the compressed frame before them waits for zstd's workers. A stored
 * file is probed again every STORE_PROBE_EVERY bytes and compressed from
 * the first probe that finds its content compressible on (never back).
 */
static void
stream_choose_storage(struct arc_stream *s, const void *data, size_t length)
{
	if (s->logical == 0) {
		s->stored = s->meta.type == CAIRN_ENTRY_FILE &&
			    s->meta.extent_count == 0 &&
			    s->meta.size >= STORE_MIN;
		s->next_probe = 0;
	}
	if (!s->stored || s->logical < s->next_probe)
		return;
	s->stored = zstd_writer_incompressible(&s->writer->zstd, data, length);
	s->next_probe = s->logical + STORE_PROBE_EVERY;
}

/* Feeds logical content to libarchive and the hash (owner only). */
static int
stream_feed(struct arc_stream *s, const void *data, size_t length,
	    struct cairn_error *err)
{
	struct arc_writer *w = s->writer;
	int rc;

	stream_choose_storage(s, data, length);
	/* libarchive passes the content straight to tar_write_callback
	 * (no blocking), so only content bytes are stored. */
	w->zstd.store = s->stored;
	rc = write_data(w, s->meta.name, data, length, err);
	w->zstd.store = 0;
	if (rc != 0)
		return -1;
	sha256_update(&s->hash, data, length);
	s->logical += (int64_t)length;
	return 0;
}

static int
feed_zeros(void *stream, const void *zeros, size_t length,
	   struct cairn_error *err)
{
	return stream_feed(stream, zeros, length, err);
}

/* The zeros of a hole, up to `until`: libarchive skips them. */
static int
stream_feed_hole(struct arc_stream *s, int64_t until, struct cairn_error *err)
{
	if (s->logical >= until)
		return 0;
	return format_zeros(until - s->logical, feed_zeros, s, err);
}

static int
stream_write_sparse(struct arc_stream *s, const unsigned char *data,
		    size_t length, struct cairn_error *err)
{
	while (length > 0) {
		const struct cairn_extent *x;
		int64_t room;
		size_t n;

		if (s->extent_index >= s->meta.extent_count) {
			error_set(err,
				  "entry '%s': more data than its sparse "
				  "map holds",
				  s->meta.name);
			return -1;
		}
		x = &s->extents[s->extent_index];
		if (stream_feed_hole(s, x->offset, err) != 0)
			return -1;
		room = x->offset + x->length - s->logical;
		n = (int64_t)length < room ? length : (size_t)room;
		if (stream_feed(s, data, n, err) != 0)
			return -1;
		data += n;
		length -= n;
		if (s->logical == x->offset + x->length)
			s->extent_index++;
	}
	return 0;
}

static int
stream_flush_part(struct arc_stream *s, struct cairn_error *err)
{
	struct arc_writer *w = s->writer;
	struct buf name = BUF_INIT;
	struct cairn_entry part;
	uint64_t frame;
	int rc = -1;

	if (writer_acquire(w, err) != 0)
		return -1;
	if (writer_entry_boundary(w, &frame, err) != 0)
		goto out;
	if (s->parts == 0)
		s->frame = frame;
	format_part_name(s->meta.name, ++s->parts, &name);
	part = s->meta;
	part.name = buf_str(&name);
	part.size = (int64_t)s->part_length;
	part.extents = NULL;
	part.extent_count = 0;
	part.xattrs = NULL;
	part.xattr_count = 0;
	if (part.mtime.tv_sec == 0)
		part.mtime = w->part_time;
	if (part.mode == 0)
		part.mode = 0600;
	if (write_header(w, &part, err) != 0 ||
	    write_data(w, part.name, s->part, s->part_length, err) != 0)
		goto out;
	if (archive_write_finish_entry(w->tar) < ARCHIVE_WARN) {
		tar_error(w, "the end", part.name, err);
		goto out;
	}
	progress_update(s->part_length, s->meta.name);
	s->part_length = 0;
	rc = 0;
out:
	if (rc != 0)
		writer_fail(w, err);
	writer_release(w);
	buf_release(&name);
	return rc;
}

int
arc_writer_stream_write(struct arc_stream *s, const void *data, size_t length,
			struct cairn_error *err)
{
	const unsigned char *p = data;

	if (s->known) {
		int rc;

		if (s->meta.type != CAIRN_ENTRY_FILE ||
		    (s->meta.extent_count == 0 &&
		     s->logical + (int64_t)length > s->meta.size)) {
			error_set(err,
				  "entry '%s': more than its %lld bytes "
				  "written",
				  s->meta.name, (long long)s->meta.size);
			return writer_fail(s->writer, err);
		}
		rc = s->meta.extent_count > 0
			     ? stream_write_sparse(s, p, length, err)
			     : stream_feed(s, p, length, err);
		if (rc != 0)
			return writer_fail(s->writer, err);
		progress_update(length, NULL);
		return 0;
	}
	sha256_update(&s->hash, data, length);
	s->logical += (int64_t)length;
	while (length > 0) {
		size_t n = ARC_PART_SIZE - s->part_length;

		if (s->part == NULL)
			s->part = xmalloc(ARC_PART_SIZE);
		if (n > length)
			n = length;
		memcpy(s->part + s->part_length, p, n);
		s->part_length += n;
		p += n;
		length -= n;
		if (s->part_length == ARC_PART_SIZE &&
		    stream_flush_part(s, err) != 0)
			return -1;
	}
	return 0;
}

static int
stream_close_known(struct arc_stream *s, struct cairn_error *err)
{
	struct arc_writer *w = s->writer;

	if (s->meta.type == CAIRN_ENTRY_FILE && s->meta.extent_count > 0 &&
	    stream_feed_hole(s, s->meta.size, err) != 0)
		goto fail;
	if (s->meta.type == CAIRN_ENTRY_FILE && s->logical != s->meta.size) {
		error_set(err, "entry '%s': %lld bytes written, %lld declared",
			  s->meta.name, (long long)s->logical,
			  (long long)s->meta.size);
		goto fail;
	}
	if (archive_write_finish_entry(w->tar) < ARCHIVE_WARN) {
		tar_error(w, "the end", s->meta.name, err);
		goto fail;
	}
	if (index_add(w, s, err) != 0)
		goto fail;
	writer_release(w);
	return 0;
fail:
	writer_fail(w, err);
	writer_release(w);
	return -1;
}

static int
stream_close_parts(struct arc_stream *s, struct cairn_error *err)
{
	struct arc_writer *w = s->writer;

	/* An empty stream still gets one (empty) part, so it exists. */
	if ((s->part_length > 0 || s->parts == 0) &&
	    stream_flush_part(s, err) != 0)
		return -1;
	if (writer_acquire(w, err) != 0)
		return -1;
	if (index_add(w, s, err) != 0) {
		writer_fail(w, err);
		writer_release(w);
		return -1;
	}
	writer_release(w);
	return 0;
}

int
arc_writer_stream_close(struct arc_stream *s, struct cairn_error *err)
{
	int rc = s->known ? stream_close_known(s, err)
			  : stream_close_parts(s, err);

	stream_unlink_and_free(s);
	return rc;
}

void
arc_writer_set_fact(struct arc_writer *w, const char *key, const char *value)
{
	pthread_mutex_lock(&w->lock);
	manifest_set_fact(w->manifest, key, value);
	pthread_mutex_unlock(&w->lock);
}

int
arc_writer_stream_state(struct arc_stream *s, const char *state,
			struct cairn_error *err)
{
	if (state == NULL || strlen(state) > 4096 ||
	    strchr(state, '\n') != NULL) {
		error_set(err,
			  "entry '%s': a state of more than 4096 bytes "
			  "or with a newline",
			  s->meta.name);
		return -1;
	}
	free(s->state);
	s->state = xstrdup(state);
	return 0;
}

/* Writes the removals gathered so far as one chunk (owner only). */
static int
write_removed_chunk(struct arc_writer *w, struct cairn_error *err)
{
	struct buf name = BUF_INIT;
	int rc;

	if (w->removed.length == 0)
		return 0;
	format_removed_chunk_name(++w->removed_parts, &name);
	rc = write_chunk(w, buf_str(&name), &w->removed, &w->removed_frames,
			 &w->removed_frame_count, err);
	buf_release(&name);
	return rc;
}

int
arc_writer_removed(struct arc_writer *w, const char *name,
		   struct cairn_error *err)
{
	int rc = 0;

	if (entry_name_check(name, err) != 0)
		return -1;
	if (writer_acquire(w, err) != 0)
		return -1;
	buf_append(&w->removed, name, strlen(name) + 1);
	w->removed_count++;
	if (w->removed.length >= REMOVED_CHUNK_SIZE &&
	    write_removed_chunk(w, err) != 0) {
		writer_fail(w, err);
		rc = -1;
	}
	writer_release(w);
	return rc;
}

int
arc_writer_carry(struct arc_writer *w, const struct index_record *r,
		 struct cairn_error *err)
{
	if (writer_acquire(w, err) != 0)
		return -1;
	if (w->on_record != NULL)
		w->on_record(w->on_record_context, r);
	writer_release(w);
	return 0;
}

static int
write_manifest(struct arc_writer *w, uint64_t *manifest_offset,
	       struct cairn_error *err)
{
	struct manifest *m = w->manifest;
	struct json_value *json;
	size_t length;
	char *text;
	int rc;

	if (write_removed_chunk(w, err) != 0 ||
	    write_index_chunk(w, err) != 0 ||
	    zstd_writer_end_frame(&w->zstd, err) != 0)
		return -1;
	*manifest_offset = zstd_writer_frame_offset(&w->zstd);
	m->finished = timefmt_now();
	m->bytes = w->bytes;
	m->entries = w->entries;
	free(m->index_frames);
	m->index_frames = w->index_frames;
	m->index_frame_count = w->index_frame_count;
	w->index_frames = NULL;
	free(m->removed_frames);
	m->removed_frames = w->removed_frames;
	m->removed_frame_count = w->removed_frame_count;
	m->removed = w->removed_count;
	w->removed_frames = NULL;
	json = manifest_to_json(m);
	text = json_serialize(json, JSON_PRETTY, &length);
	json_free(json);
	if (text == NULL) {
		error_set(err, "out of memory");
		return -1;
	}
	rc = write_own_entry(w, FORMAT_MANIFEST_NAME, text, length, err);
	free(text);
	return rc;
}

int
arc_writer_commit(struct arc_writer *w, const char *final_path,
		  uint64_t *stored, struct cairn_error *err)
{
	char directory[4096];
	uint64_t manifest_offset = 0;

	if (writer_acquire(w, err) != 0)
		goto fail;
	if (write_manifest(w, &manifest_offset, err) != 0)
		goto fail;
	if (archive_write_close(w->tar) != ARCHIVE_OK) {
		tar_error(w, "the end", "of the archive", err);
		goto fail;
	}
	if (w->failed) {
		*err = w->error;
		goto fail;
	}
	if (zstd_writer_finish(&w->zstd, manifest_offset, err) != 0)
		goto fail;
	if (fsync(w->fd) != 0) {
		error_errno(err, errno, "cannot fsync '%s'", w->temporary_path);
		goto fail;
	}
	if (close(w->fd) != 0) {
		w->fd = -1;
		error_errno(err, errno, "cannot write '%s'", w->temporary_path);
		goto fail;
	}
	w->fd = -1;
	if (rename(w->temporary_path, final_path) != 0) {
		error_errno(err, errno, "cannot rename '%s' to '%s'",
			    w->temporary_path, final_path);
		goto fail;
	}
	*stored = w->encrypted ? w->sealed.stored : w->zstd.offset;
	if (fsutil_dirname(final_path, directory, sizeof(directory), err) !=
		    0 ||
	    fsutil_fsync_dir(directory, err) != 0) {
		/* Renamed but maybe not durable: do not pretend either way. */
		unlink(final_path);
		goto fail;
	}
	free(w->temporary_path);
	w->temporary_path = NULL;
	writer_free(w);
	return 0;
fail:
	arc_writer_abort(w);
	return -1;
}

void
arc_writer_warning(struct arc_writer *w, const char *message)
{
	/* Plugins log from their own threads: the lock keeps the list. */
	pthread_mutex_lock(&w->lock);
	manifest_add_warning(w->manifest, message);
	pthread_mutex_unlock(&w->lock);
}

const struct cairn_error *
arc_writer_error(const struct arc_writer *w)
{
	return w->failed ? &w->error : NULL;
}

void
arc_writer_set_base(struct arc_writer *w, void *base)
{
	w->base = base;
}

void
arc_writer_on_record(struct arc_writer *w,
		     void (*on_record)(void *context,
				       const struct index_record *r),
		     void *context)
{
	w->on_record = on_record;
	w->on_record_context = context;
}

const char *
arc_writer_sealed_sha256(const struct arc_writer *w)
{
	return w->sealed.sha256;
}

void
arc_writer_abort(struct arc_writer *w)
{
	if (w->temporary_path != NULL)
		unlink(w->temporary_path);
	writer_free(w);
}

/*
 * Frees what the writer holds. A temporary file still named here was not
 * committed; removing it is arc_writer_abort's to decide.
 */
static void
writer_free(struct arc_writer *w)
{
	if (w->tar != NULL) {
		/* Whatever libarchive flushes now goes nowhere. */
		w->failed = 1;
		archive_write_free(w->tar);
		w->tar = NULL;
	}
	zstd_writer_release(&w->zstd);
	byte_sink_free(w->out);
	w->out = NULL;
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	free(w->temporary_path);
	w->temporary_path = NULL;
	while (w->open_streams != NULL) {
		struct arc_stream *s = w->open_streams;

		w->open_streams = s->next;
		stream_free(s);
	}
	buf_release(&w->index);
	free(w->index_frames);
	w->index_frames = NULL;
	buf_release(&w->removed);
	free(w->removed_frames);
	w->removed_frames = NULL;
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->released);
}
