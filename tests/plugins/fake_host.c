/*
 * The fake host: see fake_host.h. Streams of unknown size are accepted like
 * the real core accepts them; an entry of known size must receive exactly
 * that many bytes, as the real core demands.
 */
#include "fake_host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cairn_stream {
	struct fake_host *fh;
	size_t index;
};

static void
fake_append(char ***lines, size_t *count, char *line)
{
	char **grown = realloc(*lines, (*count + 1) * sizeof(**lines));

	if (grown == NULL)
		abort();
	grown[(*count)++] = line;
	*lines = grown;
}

static char *
fake_vformat(const char *prefix, const char *format, va_list ap)
{
	char message[4096];
	char *line;
	size_t length;

	vsnprintf(message, sizeof(message), format, ap);
	length = strlen(prefix) + strlen(message) + 1;
	line = malloc(length);
	if (line == NULL)
		abort();
	snprintf(line, length, "%s%s", prefix, message);
	return line;
}

static struct fake_host *
fake_from_host(const struct cairn_host *host)
{
	/* host is the first member of struct fake_host. */
	return ((const struct fake_host *)(const void *)host)->self;
}

static void
fake_log(const struct cairn_host *host, enum cairn_log_level level,
	 const char *format, ...)
{
	static const char *const prefixes[] = {"error: ", "warning: ", "info: ",
					       "debug: "};
	struct fake_host *fh = fake_from_host(host);
	va_list ap;

	va_start(ap, format);
	fake_append(&fh->log_lines, &fh->log_count,
		    fake_vformat(prefixes[level], format, ap));
	va_end(ap);
}

static int
fake_secret_read(const struct cairn_host *host, const char *path, char **secret,
		 struct cairn_error *err)
{
	char buffer[4096];
	size_t length;
	FILE *file;

	(void)host;
	file = fopen(path, "r");
	if (file == NULL) {
		snprintf(err->message, sizeof(err->message), "cannot open '%s'",
			 path);
		return -1;
	}
	length = fread(buffer, 1, sizeof(buffer) - 1, file);
	fclose(file);
	while (length > 0 &&
	       (buffer[length - 1] == '\n' || buffer[length - 1] == '\r'))
		length--;
	buffer[length] = '\0';
	*secret = strdup(buffer);
	return *secret ? 0 : -1;
}

static void
fake_secret_free(char *secret)
{
	if (secret != NULL) {
		memset(secret, 0, strlen(secret));
		free(secret);
	}
}

static size_t
fake_string_size(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

/* Copies length bytes to *cursor and moves it past them; NULL stays NULL. */
static char *
fake_put(char **cursor, const void *from, size_t length)
{
	char *at = *cursor;

	if (from == NULL)
		return NULL;
	memcpy(at, from, length);
	*cursor += length;
	return at;
}

static void
fake_copy_entry(struct fake_entry *to, const struct cairn_entry *from)
{
	struct cairn_entry *e = &to->meta;
	size_t i, total;
	char *cursor;

	total = fake_string_size(from->name) + fake_string_size(from->uname) +
		fake_string_size(from->gname) + fake_string_size(from->link) +
		fake_string_size(from->acl_access) +
		fake_string_size(from->acl_default) + 1;
	for (i = 0; i < from->xattr_count; i++)
		total += fake_string_size(from->xattrs[i].name) +
			 from->xattrs[i].size;
	to->strings = malloc(total);
	if (to->strings == NULL)
		abort();
	cursor = to->strings;
	*e = *from;
	e->name = fake_put(&cursor, from->name, fake_string_size(from->name));
	e->uname = fake_put(&cursor, from->uname,
			    fake_string_size(from->uname));
	e->gname = fake_put(&cursor, from->gname,
			    fake_string_size(from->gname));
	e->link = fake_put(&cursor, from->link, fake_string_size(from->link));
	e->acl_access = fake_put(&cursor, from->acl_access,
				 fake_string_size(from->acl_access));
	e->acl_default = fake_put(&cursor, from->acl_default,
				  fake_string_size(from->acl_default));
	e->xattrs = NULL;
	if (from->xattr_count > 0) {
		to->xattrs = calloc(from->xattr_count, sizeof(*to->xattrs));
		if (to->xattrs == NULL)
			abort();
		for (i = 0; i < from->xattr_count; i++) {
			const struct cairn_xattr *x = &from->xattrs[i];

			to->xattrs[i].name = fake_put(&cursor, x->name,
						      fake_string_size(
							      x->name));
			to->xattrs[i].value = fake_put(&cursor, x->value,
						       x->size);
			to->xattrs[i].size = x->size;
		}
		e->xattrs = to->xattrs;
	}
	e->extents = NULL;
	if (from->extent_count > 0) {
		to->extents = calloc(from->extent_count, sizeof(*to->extents));
		if (to->extents == NULL)
			abort();
		memcpy(to->extents, from->extents,
		       from->extent_count * sizeof(*to->extents));
		e->extents = to->extents;
	}
}

static void
fake_free_entry(struct fake_entry *entry)
{
	free(entry->strings);
	free(entry->xattrs);
	free(entry->extents);
	free(entry->data);
}

static int
fake_stream_open(struct cairn_sink *sink, const struct cairn_entry *entry,
		 struct cairn_stream **stream, struct cairn_error *err)
{
	struct fake_host *fh = (struct fake_host *)(void *)sink;
	struct fake_entry *grown;

	(void)err;
	pthread_mutex_lock(&fh->lock);
	grown = realloc(fh->entries, (fh->entry_count + 1) * sizeof(*grown));
	if (grown == NULL)
		abort();
	fh->entries = grown;
	memset(&grown[fh->entry_count], 0, sizeof(*grown));
	fake_copy_entry(&grown[fh->entry_count], entry);
	*stream = malloc(sizeof(**stream));
	(*stream)->fh = fh;
	(*stream)->index = fh->entry_count++;
	pthread_mutex_unlock(&fh->lock);
	return 0;
}

static int
fake_stream_write(struct cairn_stream *stream, const void *data, size_t length,
		  struct cairn_error *err)
{
	struct fake_host *fh = stream->fh;
	struct fake_entry *entry;
	unsigned char *grown;

	(void)err;
	pthread_mutex_lock(&fh->lock);
	entry = &fh->entries[stream->index];
	grown = realloc(entry->data, entry->length + length + 1);
	if (grown == NULL)
		abort();
	memcpy(grown + entry->length, data, length);
	entry->data = grown;
	entry->length += length;
	pthread_mutex_unlock(&fh->lock);
	return 0;
}

/* The logical length of what was written: sparse data plus its holes. */
static int64_t
fake_logical_length(const struct fake_entry *entry)
{
	return entry->meta.extent_count > 0 ? entry->meta.size
					    : (int64_t)entry->length;
}

static int
fake_stream_close(struct cairn_stream *stream, struct cairn_error *err)
{
	struct fake_host *fh = stream->fh;
	struct fake_entry *entry;
	int rc = 0;

	pthread_mutex_lock(&fh->lock);
	entry = &fh->entries[stream->index];
	if (entry->meta.size != CAIRN_SIZE_UNKNOWN &&
	    entry->meta.type == CAIRN_ENTRY_FILE &&
	    entry->meta.extent_count == 0 &&
	    fake_logical_length(entry) != entry->meta.size) {
		snprintf(err->message, sizeof(err->message),
			 "entry '%s': %zu bytes written, %lld declared",
			 entry->meta.name, entry->length,
			 (long long)entry->meta.size);
		rc = -1;
	}
	if (entry->meta.size == CAIRN_SIZE_UNKNOWN)
		entry->meta.size = (int64_t)entry->length;
	pthread_mutex_unlock(&fh->lock);
	free(stream);
	return rc;
}

static void
fake_fact_set(struct cairn_sink *sink, const char *key, const char *value)
{
	struct fake_host *fh = (struct fake_host *)(void *)sink;
	size_t length = strlen(key) + strlen(value) + 2;
	char *line = malloc(length);

	snprintf(line, length, "%s=%s", key, value);
	pthread_mutex_lock(&fh->lock);
	fake_append(&fh->facts, &fh->fact_count, line);
	pthread_mutex_unlock(&fh->lock);
}

static int
fake_entry_next(struct cairn_source *source, const struct cairn_entry **entry,
		struct cairn_error *err)
{
	struct fake_host *fh = (struct fake_host *)(void *)source;

	(void)err;
	if (fh->next_entry >= fh->entry_count) {
		fh->current = 0;
		return 0;
	}
	fh->current = ++fh->next_entry;
	fh->block_served = 0;
	fh->extent_next = 0;
	fh->extent_position = 0;
	*entry = &fh->entries[fh->current - 1].meta;
	return 1;
}

static int
fake_entry_read(struct cairn_source *source, const void **data, size_t *length,
		int64_t *offset, struct cairn_error *err)
{
	struct fake_host *fh = (struct fake_host *)(void *)source;
	const struct fake_entry *entry;

	if (fh->current == 0) {
		snprintf(err->message, sizeof(err->message),
			 "entry_read without a current entry");
		return -1;
	}
	entry = &fh->entries[fh->current - 1];
	if (entry->meta.extent_count > 0) {
		const struct cairn_extent *extent;
		size_t bytes;

		/* Zero-length extents carry no block. */
		while (fh->extent_next < entry->meta.extent_count &&
		       entry->meta.extents[fh->extent_next].length == 0)
			fh->extent_next++;
		if (fh->extent_next >= entry->meta.extent_count)
			return 0;
		extent = &entry->meta.extents[fh->extent_next++];
		bytes = (size_t)extent->length;
		if (fh->extent_position + bytes > entry->length) {
			snprintf(err->message, sizeof(err->message),
				 "entry '%s': extents hold more than the "
				 "%zu bytes written",
				 entry->meta.name, entry->length);
			return -1;
		}
		*data = entry->data + fh->extent_position;
		*length = bytes;
		*offset = extent->offset;
		fh->extent_position += bytes;
		return 1;
	}
	if (fh->block_served || entry->length == 0)
		return 0;
	fh->block_served = 1;
	*data = entry->data;
	*length = entry->length;
	*offset = 0;
	return 1;
}

static const char *
fake_fact_get(struct cairn_source *source, const char *key)
{
	return fake_host_fact((const struct fake_host *)(void *)source, key);
}

static void
fake_report_item(struct cairn_report *report, const char *key,
		 const char *value)
{
	struct fake_host *fh = (struct fake_host *)(void *)report;
	size_t length = strlen(key) + strlen(value) + 7;
	char *line = malloc(length);

	snprintf(line, length, "item %s=%s", key, value);
	fake_append(&fh->report_lines, &fh->report_count, line);
}

static void
fake_report_problem(struct cairn_report *report, const char *format, ...)
{
	struct fake_host *fh = (struct fake_host *)(void *)report;
	va_list ap;

	va_start(ap, format);
	fake_append(&fh->report_lines, &fh->report_count,
		    fake_vformat("problem ", format, ap));
	va_end(ap);
}

static void
fake_progress(const struct cairn_host *host, const char *current, int64_t done,
	      int64_t total)
{
	(void)host;
	(void)current;
	(void)done;
	(void)total;
}

void
fake_host_init(struct fake_host *fh)
{
	memset(fh, 0, sizeof(*fh));
	fh->self = fh;
	fh->host.size = sizeof(fh->host);
	fh->host.log = fake_log;
	fh->host.secret_read = fake_secret_read;
	fh->host.secret_free = fake_secret_free;
	fh->host.stream_open = fake_stream_open;
	fh->host.stream_write = fake_stream_write;
	fh->host.stream_close = fake_stream_close;
	fh->host.fact_set = fake_fact_set;
	fh->host.entry_next = fake_entry_next;
	fh->host.entry_read = fake_entry_read;
	fh->host.fact_get = fake_fact_get;
	fh->host.report_item = fake_report_item;
	fh->host.report_problem = fake_report_problem;
	fh->host.progress = fake_progress;
	pthread_mutex_init(&fh->lock, NULL);
}

static void
fake_free_lines(char **lines, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(lines[i]);
	free(lines);
}

void
fake_host_release(struct fake_host *fh)
{
	size_t i;

	fake_free_lines(fh->log_lines, fh->log_count);
	fake_free_lines(fh->facts, fh->fact_count);
	fake_free_lines(fh->report_lines, fh->report_count);
	for (i = 0; i < fh->entry_count; i++)
		fake_free_entry(&fh->entries[i]);
	free(fh->entries);
	pthread_mutex_destroy(&fh->lock);
	memset(fh, 0, sizeof(*fh));
}

struct cairn_sink *
fake_host_sink(struct fake_host *fh)
{
	return (struct cairn_sink *)(void *)fh;
}

struct cairn_source *
fake_host_source(struct fake_host *fh)
{
	return (struct cairn_source *)(void *)fh;
}

struct cairn_report *
fake_host_report(struct fake_host *fh)
{
	return (struct cairn_report *)(void *)fh;
}

void
fake_host_rewind(struct fake_host *fh)
{
	fh->next_entry = 0;
	fh->current = 0;
}

const struct fake_entry *
fake_host_entry(const struct fake_host *fh, const char *name)
{
	size_t i;

	for (i = 0; i < fh->entry_count; i++)
		if (strcmp(fh->entries[i].meta.name, name) == 0)
			return &fh->entries[i];
	return NULL;
}

const char *
fake_host_fact(const struct fake_host *fh, const char *key)
{
	size_t i, length = strlen(key);

	for (i = 0; i < fh->fact_count; i++)
		if (strncmp(fh->facts[i], key, length) == 0 &&
		    fh->facts[i][length] == '=')
			return fh->facts[i] + length + 1;
	return NULL;
}

int
fake_host_logged(const struct fake_host *fh, const char *needle)
{
	size_t i;

	for (i = 0; i < fh->log_count; i++)
		if (strstr(fh->log_lines[i], needle) != NULL)
			return 1;
	return 0;
}
