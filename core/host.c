/*
 * The host services of host.h.
 */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "progress.h"

#define SECRET_LIMIT 65536

/* The handles are the core's objects under another name. */
struct cairn_sink *
host_sink(struct arc_writer *w)
{
	return (struct cairn_sink *)(void *)w;
}

struct cairn_source *
host_source(struct arc_source *s)
{
	return (struct cairn_source *)(void *)s;
}

struct cairn_report *
host_report(struct report *r)
{
	return (struct cairn_report *)(void *)r;
}

static struct arc_writer *
as_writer(struct cairn_sink *sink)
{
	return (struct arc_writer *)(void *)sink;
}

static struct arc_source *
as_source(struct cairn_source *source)
{
	return (struct arc_source *)(void *)source;
}

static struct report *
as_report(struct cairn_report *report)
{
	return (struct report *)(void *)report;
}

static const struct job_host *
as_job_host(const struct cairn_host *host)
{
	return (const struct job_host *)(const void *)host;
}

/* A warning of the job's: logged, and in the manifest during a backup. */
static void
job_warning(const struct job_host *h, const char *message)
{
	log_warning("%s", message);
	if (h->writer != NULL)
		arc_writer_warning(h->writer, message);
}

static void
host_log(const struct cairn_host *host, enum cairn_log_level level,
	 const char *format, ...)
{
	const struct job_host *h = as_job_host(host);
	char message[4096], line[4096];
	va_list ap;

	va_start(ap, format);
	message_vformat(message, sizeof(message), format, ap);
	va_end(ap);
	if ((unsigned int)level > CAIRN_LOG_DEBUG)
		level = CAIRN_LOG_DEBUG;
	message_format(line, sizeof(line), "%s: %s", h->job, message);
	if (level == CAIRN_LOG_WARNING)
		job_warning(h, line);
	else
		log_message(level, "%s", line);
}

/*
 * Reads the secret file at path; *warning (size bytes) receives the
 * warning its mode deserves, or an empty string.
 */
static int
secret_read(const char *path, char **secret, char *warning, size_t size,
	    struct cairn_error *err)
{
	char *data = NULL;
	struct stat st;
	ssize_t n;
	size_t length = 0;
	int fd;

	warning[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error_errno(err, errno, "cannot open secret file '%s'", path);
		return -1;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
		message_format(warning, size,
			       "secret file '%s' is readable by group or "
			       "others (mode %04o): chmod 600 it",
			       path, (unsigned int)(st.st_mode & 07777));
	data = xmalloc(SECRET_LIMIT + 1);
	while ((n = read(fd, data + length, SECRET_LIMIT - length)) > 0)
		length += (size_t)n;
	close(fd);
	if (n < 0) {
		error_errno(err, errno, "cannot read secret file '%s'", path);
		/* Not yet terminated: wipe all of it, not up to a NUL. */
		explicit_bzero(data, SECRET_LIMIT + 1);
		free(data);
		return -1;
	}
	while (length > 0 &&
	       (data[length - 1] == '\n' || data[length - 1] == '\r'))
		length--;
	data[length] = '\0';
	if (length == 0) {
		error_set(err, "secret file '%s' is empty", path);
		host_secret_free(data);
		return -1;
	}
	*secret = data;
	return 0;
}

int
host_secret_read(const char *path, char **secret, struct cairn_error *err)
{
	char warning[4096] = "";
	int rc = secret_read(path, secret, warning, sizeof(warning), err);

	if (warning[0] != '\0')
		log_warning("%s", warning);
	return rc;
}

void
host_secret_free(char *secret)
{
	if (secret == NULL)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

static int
host_secret_read_service(const struct cairn_host *host, const char *path,
			 char **secret, struct cairn_error *err)
{
	char warning[4096] = "";
	int rc = secret_read(path, secret, warning, sizeof(warning), err);

	if (warning[0] != '\0')
		job_warning(as_job_host(host), warning);
	return rc;
}

static int
host_stream_open(struct cairn_sink *sink, const struct cairn_entry *entry,
		 struct cairn_stream **stream, struct cairn_error *err)
{
	struct arc_stream *s;

	if (arc_writer_stream_open(as_writer(sink), entry, &s, err) != 0)
		return -1;
	*stream = (struct cairn_stream *)(void *)s;
	return 0;
}

static int
host_stream_write(struct cairn_stream *stream, const void *data, size_t length,
		  struct cairn_error *err)
{
	return arc_writer_stream_write((struct arc_stream *)(void *)stream,
				       data, length, err);
}

static int
host_stream_close(struct cairn_stream *stream, struct cairn_error *err)
{
	return arc_writer_stream_close((struct arc_stream *)(void *)stream,
				       err);
}

static void
host_fact_set(struct cairn_sink *sink, const char *key, const char *value)
{
	arc_writer_set_fact(as_writer(sink), key, value);
}

static int
host_entry_next(struct cairn_source *source, const struct cairn_entry **entry,
		struct cairn_error *err)
{
	return arc_source_next(as_source(source), entry, err);
}

static int
host_entry_read(struct cairn_source *source, const void **data, size_t *length,
		int64_t *offset, struct cairn_error *err)
{
	int rc = arc_source_read(as_source(source), data, length, offset, err);

	if (rc > 0)
		progress_update(*length, NULL);
	return rc;
}

static const char *
host_fact_get(struct cairn_source *source, const char *key)
{
	return manifest_fact(as_source(source)->manifest, key);
}

void
report_init(struct report *r)
{
	memset(r, 0, sizeof(*r));
}

void
report_release(struct report *r)
{
	size_t i;

	for (i = 0; i < r->item_count; i++) {
		free(r->keys[i]);
		free(r->values[i]);
	}
	for (i = 0; i < r->problem_count; i++)
		free(r->problems[i]);
	free(r->keys);
	free(r->values);
	free(r->problems);
	memset(r, 0, sizeof(*r));
}

void
report_add_item(struct report *r, const char *key, const char *value)
{
	r->keys = xrealloc(r->keys, (r->item_count + 1) * sizeof(char *));
	r->values = xrealloc(r->values, (r->item_count + 1) * sizeof(char *));
	r->keys[r->item_count] = xstrdup(key);
	r->values[r->item_count] = xstrdup(value);
	r->item_count++;
}

void
report_add_problem(struct report *r, const char *problem)
{
	r->problems = xrealloc(r->problems,
			       (r->problem_count + 1) * sizeof(char *));
	r->problems[r->problem_count++] = xstrdup(problem);
}

void
report_print(const struct report *r)
{
	size_t i;

	for (i = 0; i < r->item_count; i++)
		printf("  %-22s %s\n", r->keys[i], r->values[i]);
	for (i = 0; i < r->problem_count; i++)
		printf("  problem: %s\n", r->problems[i]);
}

struct json_value *
report_to_json(const struct report *r)
{
	struct json_value *o = json_new_object(), *problems = json_new_array();
	size_t i;

	if (o == NULL || problems == NULL)
		abort();
	for (i = 0; i < r->item_count; i++)
		json_object_set_string(o, r->keys[i], r->values[i]);
	for (i = 0; i < r->problem_count; i++)
		json_array_append(problems, json_new_string(r->problems[i]));
	json_object_set(o, "problems", problems);
	return o;
}

static void
host_report_item(struct cairn_report *report, const char *key,
		 const char *value)
{
	report_add_item(as_report(report), key, value);
}

static void
host_report_problem(struct cairn_report *report, const char *format, ...)
{
	char message[2048];
	va_list ap;

	va_start(ap, format);
	message_vformat(message, sizeof(message), format, ap);
	va_end(ap);
	report_add_problem(as_report(report), message);
}

static void
host_progress(const struct cairn_host *host, const char *current, int64_t done,
	      int64_t total)
{
	(void)host;
	(void)done;
	(void)total;
	progress_update(0, current);
}

static int
host_stream_state(struct cairn_stream *stream, const char *state,
		  struct cairn_error *err)
{
	return arc_writer_stream_state((struct arc_stream *)(void *)stream,
				       state, err);
}

static struct backup_base *
base_of(struct cairn_sink *sink)
{
	return as_writer(sink)->base;
}

static int
host_base_open(struct cairn_sink *sink, struct timespec *started,
	       struct cairn_error *err)
{
	struct backup_base *b = base_of(sink);

	(void)err;
	if (b == NULL || !b->incremental)
		return 0;
	b->used = 1;
	*started = b->started;
	return 1;
}

static int
host_base_next(struct cairn_sink *sink, const struct cairn_base_entry **entry,
	       struct cairn_error *err)
{
	struct backup_base *b = base_of(sink);
	int rc;

	if (b == NULL || !b->used) {
		error_set(err, "base_next without an incremental base");
		return -1;
	}
	b->current = NULL;
	rc = view_reader_next(&b->reader, &b->current, err);
	if (rc <= 0) {
		if (rc < 0)
			error_prefix(err, "the view of archive '%s'",
				     b->parent);
		return rc;
	}
	b->entry.name = b->current->name;
	b->entry.type = b->current->type;
	b->entry.size = b->current->size;
	b->entry.state = b->current->state;
	*entry = &b->entry;
	return 1;
}

static int
host_base_unchanged(struct cairn_sink *sink, struct cairn_error *err)
{
	struct backup_base *b = base_of(sink);

	if (b == NULL || b->current == NULL) {
		error_set(err, "base_unchanged without a current base entry");
		return -1;
	}
	return arc_writer_carry(as_writer(sink), b->current, err);
}

static int
host_base_removed(struct cairn_sink *sink, const char *name,
		  struct cairn_error *err)
{
	struct backup_base *b = base_of(sink);

	if (b == NULL || !b->used) {
		error_set(err, "base_removed without an incremental base");
		return -1;
	}
	return arc_writer_removed(as_writer(sink), name, err);
}

void
job_host_init(struct job_host *h, const char *job)
{
	memset(h, 0, sizeof(*h));
	h->host.size = sizeof(h->host);
	h->host.log = host_log;
	h->host.secret_read = host_secret_read_service;
	h->host.secret_free = host_secret_free;
	h->host.stream_open = host_stream_open;
	h->host.stream_write = host_stream_write;
	h->host.stream_close = host_stream_close;
	h->host.fact_set = host_fact_set;
	h->host.entry_next = host_entry_next;
	h->host.entry_read = host_entry_read;
	h->host.fact_get = host_fact_get;
	h->host.report_item = host_report_item;
	h->host.report_problem = host_report_problem;
	h->host.progress = host_progress;
	h->host.stream_state = host_stream_state;
	h->host.base_open = host_base_open;
	h->host.base_next = host_base_next;
	h->host.base_unchanged = host_base_unchanged;
	h->host.base_removed = host_base_removed;
	h->job = job;
}
