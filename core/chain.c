/*
 * Chains of incremental archives, chain.h.
 */
#include <cairn/helpers.h>
#include "chain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arc.h"
#include "arc_source.h"
#include "catalog.h"
#include "error.h"
#include "format.h"
#include "fsutil.h"
#include "json.h"
#include "retention.h"

/* One removal chunk is at most this big; a bigger one is damage. */
#define REMOVED_CHUNK_LIMIT (64 * 1024 * 1024)
#define VIEW_LINE_LIMIT (1024 * 1024)

int
chain_name_compare(const char *a, const char *b)
{
	return cairn_name_compare(a, b);
}

/* The archive of `id` in `directory` ("STAMP-ID.tar.zst..."), or NULL. */
static char *
find_sibling(const char *directory, const char *id)
{
	struct buf wanted = BUF_INIT, path = BUF_INIT;
	struct dirent *d;
	DIR *dir = opendir(directory);
	char *found = NULL;

	if (dir == NULL)
		return NULL;
	buf_printf(&wanted, "-%s.tar.zst", id);
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.' ||
		    strstr(d->d_name, buf_str(&wanted)) == NULL)
			continue;
		buf_printf(&path, "%s/%s", directory, d->d_name);
		found = buf_detach(&path);
		break;
	}
	closedir(dir);
	buf_release(&wanted);
	return found;
}

static void
chain_push_front(struct chain *c, char *path, struct arc *a)
{
	c->links = xrealloc(c->links, (c->count + 1) * sizeof(*c->links));
	memmove(c->links + 1, c->links, c->count * sizeof(*c->links));
	c->links[0].path = path;
	c->links[0].arc = a;
	c->links[0].manifest = &a->manifest;
	c->count++;
}

/*
 * Opens the archive `id` of a chain, the parent of `child` (NULL for the
 * newest, at `path`): through `from`, or beside the newest in
 * `directory`. 0, or -1 with err naming the archive.
 */
static int
link_open(const struct chain_opener *from, const char *directory,
	  const char *path, const char *id, const char *child, struct arc **a,
	  char **at, struct cairn_error *err)
{
	int rc;

	*a = NULL;
	if (from != NULL) {
		rc = from->open(from->context, id, a, at, err);
	} else {
		*at = child == NULL ? xstrdup(path)
				    : find_sibling(directory, id);
		rc = *at == NULL ? 1 : arc_open(a, *at, id, err);
	}
	if (rc == 0)
		return 0;
	*a = NULL;
	if (rc > 0 && child == NULL)
		error_set(err, "archive '%s' is missing from %s", id,
			  from != NULL ? from->where : directory);
	else if (rc > 0 && from != NULL)
		error_set(err,
			  "archive '%s', parent of '%s', is missing from %s: "
			  "the chain is broken",
			  id, child, from->where);
	else if (rc > 0)
		error_set(err,
			  "archive '%s', parent of '%s', is missing: the "
			  "chain is broken",
			  id, child);
	else if (child != NULL)
		error_prefix(err, "parent of '%s'", child);
	return -1;
}

int
chain_load(struct chain *c, const char *path, const char *id,
	   const struct chain_opener *from, struct cairn_error *err)
{
	char directory[4096] = "", child[ARC_ID_SIZE];
	struct arc *a = NULL;
	char *at = NULL;

	memset(c, 0, sizeof(*c));
	if (from == NULL &&
	    fsutil_dirname(path, directory, sizeof(directory), err) != 0)
		return -1;
	if (link_open(from, directory, path, id, NULL, &a, &at, err) != 0)
		goto fail;
	for (;;) {
		const struct manifest *m = &a->manifest;
		char parent[ARC_ID_SIZE];

		memcpy(parent, m->parent, sizeof(parent));
		if (c->count > 0 &&
		    strcmp(m->job, c->links[0].manifest->job) != 0) {
			error_set(err,
				  "archive '%s', parent of '%s', belongs "
				  "to job '%s'",
				  m->id, child, m->job);
			goto fail;
		}
		chain_push_front(c, at, a);
		at = NULL;
		a = NULL;
		if (!c->links[0].manifest->incremental)
			return 0;
		if (c->count >= CHAIN_LIMIT) {
			error_set(err,
				  "the chain of archive '%s' is longer "
				  "than %d archives",
				  id, CHAIN_LIMIT);
			goto fail;
		}
		snprintf(child, sizeof(child), "%s", c->links[0].manifest->id);
		if (link_open(from, directory, path, parent, child, &a, &at,
			      err) != 0)
			goto fail;
	}
fail:
	free(at);
	arc_close(a);
	chain_release(c);
	return -1;
}

void
chain_release(struct chain *c)
{
	size_t i;

	for (i = 0; i < c->count; i++) {
		free(c->links[i].path);
		arc_close(c->links[i].arc);
	}
	free(c->links);
	memset(c, 0, sizeof(*c));
}

struct chain_stream {
	const struct arc *arc;
	const char *id;
	struct index_cursor cursor;
	struct index_record head;
	int have_head;
	struct buf removed; /* NUL-terminated names */
	size_t removed_at;
};

/* Reads the removal chunks of an archive into s->removed. */
static int
load_removed(struct chain_stream *s, const struct manifest *m,
	     struct cairn_error *err)
{
	struct buf wanted = BUF_INIT, chunk = BUF_INIT;
	size_t i;
	int rc = -1;

	for (i = 0; i < m->removed_frame_count; i++) {
		int found;

		format_removed_chunk_name(i + 1, &wanted);
		found = arc_read_chunk(s->arc, m->removed_frames[i],
				       buf_str(&wanted), REMOVED_CHUNK_LIMIT,
				       &chunk, err);
		if (found == 0)
			error_set(err,
				  "archive '%s': removal chunk %zu is "
				  "missing",
				  s->id, i + 1);
		if (found <= 0)
			goto out;
		if (chunk.length > 0 && chunk.data[chunk.length - 1] != '\0') {
			error_set(err,
				  "archive '%s': removal chunk %zu is "
				  "damaged",
				  s->id, i + 1);
			goto out;
		}
		buf_append(&s->removed, chunk.data, chunk.length);
	}
	rc = 0;
out:
	buf_release(&wanted);
	buf_release(&chunk);
	return rc;
}

static int
stream_advance(struct chain_stream *s, struct cairn_error *err)
{
	struct index_record next;
	int rc = index_cursor_next(&s->cursor, &next, err);

	if (rc < 0)
		return -1;
	if (rc > 0 && s->have_head &&
	    chain_name_compare(s->head.name, next.name) >= 0) {
		error_set(err,
			  "archive '%s' does not list its entries in name "
			  "order ('%s' after '%s'): it cannot be part of "
			  "a chain",
			  s->id, next.name, s->head.name);
		index_record_release(&next);
		return -1;
	}
	if (s->have_head)
		index_record_release(&s->head);
	s->have_head = rc > 0;
	if (rc > 0)
		s->head = next;
	return 0;
}

static const char *
removed_head(const struct chain_stream *s)
{
	return s->removed_at < s->removed.length
		       ? s->removed.data + s->removed_at
		       : NULL;
}

static void
removed_advance(struct chain_stream *s)
{
	s->removed_at += strlen(s->removed.data + s->removed_at) + 1;
}

int
chain_view_open(struct chain_view *v, const struct chain *c,
		struct cairn_error *err)
{
	size_t i;

	memset(v, 0, sizeof(*v));
	v->chain = c;
	v->streams = xcalloc(c->count, sizeof(*v->streams));
	for (i = 0; i < c->count; i++) {
		struct chain_stream *s = &v->streams[i];

		s->arc = c->links[i].arc;
		s->id = c->links[i].manifest->id;
		index_cursor_init(&s->cursor, s->arc);
		if (load_removed(s, c->links[i].manifest, err) != 0 ||
		    stream_advance(s, err) != 0)
			goto fail;
	}
	return 0;
fail:
	chain_view_close(v);
	return -1;
}

/* The smallest name at the head of any stream, or NULL at the end. */
static const char *
smallest_head(const struct chain_view *v)
{
	const char *min = NULL;
	size_t i;

	for (i = 0; i < v->chain->count; i++) {
		const struct chain_stream *s = &v->streams[i];
		const char *r = removed_head(s);

		if (s->have_head &&
		    (min == NULL || chain_name_compare(s->head.name, min) < 0))
			min = s->head.name;
		if (r != NULL &&
		    (min == NULL || chain_name_compare(r, min) < 0))
			min = r;
	}
	return min;
}

int
chain_view_next(struct chain_view *v, const struct index_record **r,
		size_t *link, struct cairn_error *err)
{
	for (;;) {
		const char *min = smallest_head(v);
		char *name;
		size_t i, winner = 0;
		int present = -1;

		if (min == NULL)
			return 0;
		name = xstrdup(min);
		/* The newest archive that mentions the name decides; within
		 * one archive the removal comes before the entry. */
		for (i = v->chain->count; i-- > 0 && present < 0;) {
			struct chain_stream *s = &v->streams[i];
			const char *rm = removed_head(s);

			if (s->have_head && strcmp(s->head.name, name) == 0)
				present = 1, winner = i;
			else if (rm != NULL && strcmp(rm, name) == 0)
				present = 0;
		}
		if (v->have_current)
			index_record_release(&v->current);
		v->have_current = 0;
		for (i = 0; i < v->chain->count; i++) {
			struct chain_stream *s = &v->streams[i];
			const char *rm = removed_head(s);

			if (rm != NULL && strcmp(rm, name) == 0) {
				removed_advance(s);
				rm = removed_head(s);
				if (rm != NULL &&
				    chain_name_compare(name, rm) >= 0) {
					error_set(err,
						  "archive '%s' does not "
						  "list its removals in "
						  "name order",
						  s->id);
					free(name);
					return -1;
				}
			}
			if (s->have_head && strcmp(s->head.name, name) == 0) {
				if (present == 1 && i == winner) {
					v->current = s->head;
					v->have_current = 1;
					s->have_head = 0;
				}
				if (stream_advance(s, err) != 0) {
					free(name);
					return -1;
				}
			}
		}
		free(name);
		if (present == 1) {
			*r = &v->current;
			*link = winner;
			v->count++;
			return 1;
		}
	}
}

void
chain_view_close(struct chain_view *v)
{
	size_t i;

	for (i = 0; v->streams != NULL && i < v->chain->count; i++) {
		struct chain_stream *s = &v->streams[i];

		if (s->have_head)
			index_record_release(&s->head);
		index_cursor_release(&s->cursor);
		buf_release(&s->removed);
	}
	free(v->streams);
	if (v->have_current)
		index_record_release(&v->current);
	memset(v, 0, sizeof(*v));
}

/* The view file. */

static void
view_paths(const char *repository, const char *job, struct buf *directory,
	   struct buf *final, struct buf *temporary)
{
	buf_printf(directory, "%s/cache", repository);
	buf_printf(final, "%s/%s.view", buf_str(directory), job);
	if (temporary != NULL)
		buf_printf(temporary, "%s/.%s.view.tmp", buf_str(directory),
			   job);
}

static void
view_line(struct view_writer *v, const char *text, size_t length)
{
	sha256_update(&v->hash, text, length);
	if (fwrite(text, 1, length, v->file) != length)
		v->unordered = 1; /* dropped at commit, with the error */
}

int
view_writer_open(struct view_writer *v, const char *repository, const char *job,
		 const char *id, struct cairn_error *err)
{
	struct buf directory = BUF_INIT, final = BUF_INIT, temporary = BUF_INIT;
	struct buf header = BUF_INIT;
	struct json_value *o;
	char *text;
	int fd, rc = -1;

	memset(v, 0, sizeof(*v));
	view_paths(repository, job, &directory, &final, &temporary);
	if (fsutil_mkdir_p(buf_str(&directory), 0700, err) != 0)
		goto out;
	fd = open(buf_str(&temporary),
		  O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || (v->file = fdopen(fd, "w")) == NULL) {
		error_errno(err, errno, "cannot create '%s'",
			    buf_str(&temporary));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (sha256_init(&v->hash) != 0) {
		error_set(err, "cannot initialise SHA-256");
		fclose(v->file);
		unlink(buf_str(&temporary));
		v->file = NULL;
		goto out;
	}
	v->path = buf_detach(&temporary);
	v->final = buf_detach(&final);
	o = json_new_object();
	json_object_set_int64(o, "view", 1);
	json_object_set_string(o, "job", job);
	json_object_set_string(o, "archive", id);
	text = json_serialize(o, JSON_COMPACT, NULL);
	json_free(o);
	buf_printf(&header, "%s\n", text);
	free(text);
	view_line(v, header.data, header.length);
	rc = 0;
out:
	buf_release(&directory);
	buf_release(&final);
	buf_release(&temporary);
	buf_release(&header);
	return rc;
}

void
view_writer_add(struct view_writer *v, const struct index_record *r)
{
	struct buf line = BUF_INIT;
	struct index_record bare;

	if (v->file == NULL || v->unordered)
		return;
	/* A plugin that writes out of order cannot be built on. */
	if (r->state == NULL ||
	    (v->last != NULL && chain_name_compare(v->last, r->name) >= 0)) {
		v->unordered = 1;
		return;
	}
	free(v->last);
	v->last = xstrdup(r->name);
	/* What a backup compares, not where the entry is nor its hash. */
	memset(&bare, 0, sizeof(bare));
	bare.name = r->name;
	bare.type = r->type;
	bare.size = r->size;
	bare.state = r->state;
	index_record_format(&bare, &line);
	view_line(v, line.data, line.length);
	v->count++;
	buf_release(&line);
}

int
view_writer_commit(struct view_writer *v, uint64_t stored,
		   struct cairn_error *err)
{
	char hex[SHA256_HEX_SIZE];
	int rc = -1;

	if (v->file == NULL)
		return 0;
	if (v->unordered) {
		/* Not an error of the backup: the next one is a full one. */
		view_writer_abort(v);
		return 0;
	}
	sha256_final_hex(&v->hash, hex);
	fprintf(v->file, "{\"end\":%llu,\"stored\":%llu,\"sha256\":\"%s\"}\n",
		(unsigned long long)v->count, (unsigned long long)stored, hex);
	if (fflush(v->file) != 0 || fsync(fileno(v->file)) != 0) {
		error_errno(err, errno, "cannot write '%s'", v->path);
		goto out;
	}
	if (fclose(v->file) != 0) {
		v->file = NULL;
		error_errno(err, errno, "cannot write '%s'", v->path);
		goto out;
	}
	v->file = NULL;
	if (rename(v->path, v->final) != 0) {
		error_errno(err, errno, "cannot rename '%s'", v->path);
		goto out;
	}
	rc = 0;
out:
	view_writer_abort(v);
	return rc;
}

void
view_writer_abort(struct view_writer *v)
{
	if (v->file != NULL) {
		fclose(v->file);
		v->file = NULL;
	}
	if (v->path != NULL) {
		unlink(v->path); /* after a rename, there is nothing */
		sha256_release(&v->hash);
	}
	free(v->path);
	free(v->final);
	free(v->last);
	memset(v, 0, sizeof(*v));
}

/* One line into v->line without its newline: 1, 0 at the end, -1. */
static int
view_read_line(struct view_reader *v, FILE *file, struct cairn_error *err)
{
	ssize_t n = getline(&v->raw, &v->raw_capacity, file);

	buf_reset(&v->line);
	if (n < 0) {
		if (ferror(file)) {
			error_errno(err, errno, "cannot read it");
			return -1;
		}
		return 0;
	}
	if (n > VIEW_LINE_LIMIT) {
		error_set(err, "a line of more than %d bytes", VIEW_LINE_LIMIT);
		return -1;
	}
	if (v->raw[n - 1] != '\n') {
		error_set(err, "it ends in the middle of a line");
		return -1;
	}
	buf_append(&v->line, v->raw, (size_t)n - 1);
	return 1;
}

/* Checks the whole file: header, checksum, trailer. 1, 0 (err), -1. */
static int
view_check(struct view_reader *v, const char *job, const char *id,
	   uint64_t stored, struct cairn_error *err)
{
	struct sha256 hash;
	struct json_value *o = NULL;
	char hex[SHA256_HEX_SIZE], message[128];
	const char *s;
	int64_t n;
	int rc, first = 1, ok = 0;

	if (sha256_init(&hash) != 0) {
		error_set(err, "cannot initialise SHA-256");
		return 0;
	}
	while ((rc = view_read_line(v, v->file, err)) > 0) {
		json_free(o);
		o = NULL;
		if (first) {
			o = json_parse(v->line.data, v->line.length, message,
				       sizeof(message));
			if (o == NULL ||
			    json_get_string(o, "archive") == NULL ||
			    strcmp(json_get_string(o, "archive"), id) != 0 ||
			    json_get_string(o, "job") == NULL ||
			    strcmp(json_get_string(o, "job"), job) != 0) {
				error_set(err, "it describes another archive");
				goto out;
			}
			first = 0;
		} else if (strncmp(v->line.data, "{\"end\":", 7) == 0) {
			o = json_parse(v->line.data, v->line.length, message,
				       sizeof(message));
			break;
		}
		sha256_update(&hash, v->line.data, v->line.length);
		sha256_update(&hash, "\n", 1);
	}
	if (rc < 0)
		goto out;
	sha256_final_hex(&hash, hex);
	if (o == NULL || first || json_get_int64(o, "end", &n) != 0 ||
	    (s = json_get_string(o, "sha256")) == NULL) {
		error_set(err, "it is incomplete");
		goto out;
	}
	v->expected = (uint64_t)n;
	if (strcmp(s, hex) != 0) {
		error_set(err, "its checksum does not match");
		goto out;
	}
	if (json_get_int64(o, "stored", &n) != 0 || (uint64_t)n != stored) {
		error_set(err, "its archive has another size");
		goto out;
	}
	ok = 1;
out:
	json_free(o);
	sha256_release(&hash);
	return ok;
}

int
view_reader_open(struct view_reader *v, const char *repository, const char *job,
		 const char *id, uint64_t stored, struct cairn_error *err)
{
	struct buf directory = BUF_INIT, final = BUF_INIT;
	int fd, rc = 0;

	memset(v, 0, sizeof(*v));
	view_paths(repository, job, &directory, &final, NULL);
	fd = open(buf_str(&final), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (v->file = fdopen(fd, "r")) == NULL) {
		error_errno(err, errno, "cannot open '%s'", buf_str(&final));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (!view_check(v, job, id, stored, err)) {
		error_prefix(err, "'%s'", buf_str(&final));
		view_reader_close(v);
		goto out;
	}
	/* Again from the top, past the header. */
	rewind(v->file);
	if (view_read_line(v, v->file, err) <= 0) {
		view_reader_close(v);
		goto out;
	}
	rc = 1;
out:
	buf_release(&directory);
	buf_release(&final);
	return rc;
}

int
view_reader_next(struct view_reader *v, const struct index_record **r,
		 struct cairn_error *err)
{
	int rc;

	if (v->have_record)
		index_record_release(&v->record);
	v->have_record = 0;
	if (v->count >= v->expected)
		return 0;
	rc = view_read_line(v, v->file, err);
	if (rc <= 0) {
		if (rc == 0)
			error_set(err, "the view file ended early");
		return -1;
	}
	if (index_record_parse(&v->record, v->line.data, v->line.length, err) !=
	    0)
		return -1;
	v->have_record = 1;
	v->count++;
	*r = &v->record;
	return 1;
}

void
view_reader_close(struct view_reader *v)
{
	if (v->file != NULL)
		fclose(v->file);
	if (v->have_record)
		index_record_release(&v->record);
	buf_release(&v->line);
	free(v->raw);
	memset(v, 0, sizeof(*v));
}

int
view_rebuild(const char *repository, const struct chain *c, uint64_t stored,
	     struct cairn_error *err)
{
	const struct manifest *newest = c->links[c->count - 1].manifest;
	const struct index_record *r;
	struct view_writer w;
	struct chain_view v;
	size_t link;
	int rc;

	if (view_writer_open(&w, repository, newest->job, newest->id, err) != 0)
		return -1;
	if (chain_view_open(&v, c, err) != 0) {
		view_writer_abort(&w);
		return -1;
	}
	while ((rc = chain_view_next(&v, &r, &link, err)) > 0) {
		if (r->state == NULL) {
			error_set(err,
				  "archive '%s' records no state for its "
				  "entries (made by an older cairn)",
				  c->links[link].manifest->id);
			rc = -1;
			break;
		}
		view_writer_add(&w, r);
	}
	chain_view_close(&v);
	if (rc < 0 || w.unordered) {
		if (rc == 0)
			error_set(err,
				  "archive '%s' does not list its "
				  "entries in name order",
				  newest->id);
		view_writer_abort(&w);
		return -1;
	}
	return view_writer_commit(&w, stored, err);
}

static void
damaged_path(const char *repository, const char *job, struct buf *out)
{
	buf_printf(out, "%s/cache/%s.damaged", repository, job);
}

void
chain_mark_damaged(const char *repository, const char *job, const char *id)
{
	struct buf directory = BUF_INIT, path = BUF_INIT, line = BUF_INIT;
	struct cairn_error err;
	int fd;

	if (chain_is_damaged(repository, job, id))
		return;
	buf_printf(&directory, "%s/cache", repository);
	damaged_path(repository, job, &path);
	buf_printf(&line, "%s\n", id);
	if (fsutil_mkdir_p(buf_str(&directory), 0700, &err) == 0) {
		fd = open(buf_str(&path),
			  O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW |
				  O_CLOEXEC,
			  0600);
		if (fd >= 0) {
			(void)fsutil_write_all(fd, line.data, line.length);
			close(fd);
		}
	}
	buf_release(&directory);
	buf_release(&path);
	buf_release(&line);
}

int
chain_is_damaged(const char *repository, const char *job, const char *id)
{
	struct buf path = BUF_INIT;
	char *data = NULL, *p;
	size_t length = 0, n = strlen(id);
	struct cairn_error err;
	int found = 0;

	damaged_path(repository, job, &path);
	if (fsutil_read_file(buf_str(&path), 16 * 1024 * 1024, &data, &length,
			     &err) == 0) {
		for (p = data; p != NULL && *p != '\0';) {
			if (strncmp(p, id, n) == 0 &&
			    (p[n] == '\n' || p[n] == '\0')) {
				found = 1;
				break;
			}
			p = strchr(p, '\n');
			if (p != NULL)
				p++;
		}
	}
	free(data);
	buf_release(&path);
	return found;
}

struct chain_restore {
	struct chain chain;
	struct chain_view view;
	struct arc_source *sources; /* one per link */
	size_t opened;
	struct arc_source *current;
};

int
chain_restore_open(struct chain_restore **out, const char *path, const char *id,
		   const struct chain_opener *from, struct cairn_error *err)
{
	struct chain_restore *cr = xcalloc(1, sizeof(*cr));
	size_t i;

	if (chain_load(&cr->chain, path, id, from, err) != 0) {
		free(cr);
		return -1;
	}
	cr->sources = xcalloc(cr->chain.count, sizeof(*cr->sources));
	for (i = 0; i < cr->chain.count; i++) {
		arc_source_init(&cr->sources[i], cr->chain.links[i].arc);
		cr->opened++;
	}
	if (chain_view_open(&cr->view, &cr->chain, err) != 0)
		goto fail;
	*out = cr;
	return 0;
fail:
	cr->view.streams = NULL;
	chain_restore_close(cr);
	return -1;
}

int
chain_restore_next(struct chain_restore *cr, const struct cairn_entry **entry,
		   struct cairn_error *err)
{
	const struct index_record *r;
	size_t link;
	int rc;

	cr->current = NULL;
	rc = chain_view_next(&cr->view, &r, &link, err);
	if (rc <= 0)
		return rc;
	if (arc_source_seek(&cr->sources[link], r->name, entry, err) < 0)
		return -1;
	cr->current = &cr->sources[link];
	return 1;
}

int
chain_restore_read(struct chain_restore *cr, const void **data, size_t *length,
		   int64_t *offset, struct cairn_error *err)
{
	if (cr->current == NULL) {
		error_set(err, "no current entry to read");
		return -1;
	}
	return arc_source_read(cr->current, data, length, offset, err);
}

void
chain_restore_close(struct chain_restore *cr)
{
	size_t i;

	if (cr == NULL)
		return;
	if (cr->view.streams != NULL)
		chain_view_close(&cr->view);
	for (i = 0; i < cr->opened; i++)
		arc_source_close(&cr->sources[i]);
	free(cr->sources);
	chain_release(&cr->chain);
	free(cr);
}

int
chain_source_open(struct arc_source *s, const struct arc *a, const char *path,
		  const struct chain_opener *from, struct cairn_error *err)
{
	arc_source_init(s, a);
	if (!a->manifest.incremental)
		return 0;
	if (chain_restore_open(&s->chain, path, a->name, from, err) != 0) {
		s->chain = NULL;
		arc_source_close(s);
		return -1;
	}
	return 0;
}

void
chain_keep_parents(const struct catalog *c, const size_t *records, size_t count,
		   unsigned int *reasons, size_t *child)
{
	size_t i, j;

	/* Newest first: a parent kept for its child is met after it, and
	 * keeps its own parent in turn. */
	for (i = 0; i < count; i++) {
		const struct catalog_record *r = &c->records[records[i]];

		if (reasons[i] == 0 || !r->incremental)
			continue;
		for (j = i + 1; j < count; j++)
			if (strcmp(c->records[records[j]].id, r->parent) == 0)
				break;
		if (j == count || reasons[j] & KEPT_AS_PARENT)
			continue;
		reasons[j] |= KEPT_AS_PARENT;
		child[j] = i;
	}
}
