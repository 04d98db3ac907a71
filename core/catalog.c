/*
 * The catalogue of catalog.h.
 */
#include "catalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "fsutil.h"
#include "json.h"
#include "sha256.h"
#include "timefmt.h"

/* Ten thousand archives make about 3 MiB. */
#define CATALOG_LIMIT (512 * 1024 * 1024)

static const char *const known_members[] = {
	"id",	    "run",	"job",	  "plugin", "file",    "created",
	"finished", "duration", "bytes",  "stored", "entries", "warnings",
	"status",   "kind",	"parent", NULL,
};

void
catalog_record_release(struct catalog_record *r)
{
	free(r->job);
	free(r->plugin);
	free(r->file);
	free(r->status);
	json_free(r->extra);
	memset(r, 0, sizeof(*r));
}

void
catalog_release(struct catalog *c)
{
	size_t i;

	for (i = 0; i < c->count; i++)
		catalog_record_release(&c->records[i]);
	free(c->records);
	memset(c, 0, sizeof(*c));
}

void
catalog_add(struct catalog *c, struct catalog_record *r)
{
	/* Doubling: one realloc per record made loading 10,000 records
	 * quadratic wherever realloc cannot grow in place (25 s under
	 * AddressSanitizer for `cairn list`). */
	if (c->count == c->capacity) {
		c->capacity = c->capacity ? c->capacity * 2 : 16;
		c->records = xrealloc(c->records,
				      c->capacity * sizeof(*c->records));
	}
	c->records[c->count++] = *r;
	memset(r, 0, sizeof(*r));
}

void
catalog_remove(struct catalog *c, size_t index)
{
	catalog_record_release(&c->records[index]);
	memmove(&c->records[index], &c->records[index + 1],
		(c->count - index - 1) * sizeof(*c->records));
	c->count--;
}

int
catalog_has_job(const struct catalog *c, const char *job)
{
	size_t i;

	for (i = 0; i < c->count; i++)
		if (strcmp(c->records[i].job, job) == 0)
			return 1;
	return 0;
}

long
catalog_find(const struct catalog *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->count; i++)
		if (strcmp(c->records[i].id, id) == 0)
			return (long)i;
	return -1;
}

int
catalog_record_newer(const struct catalog_record *a,
		     const struct catalog_record *b)
{
	if (a->created.tv_sec != b->created.tv_sec)
		return a->created.tv_sec > b->created.tv_sec;
	return a->created.tv_nsec > b->created.tv_nsec;
}

static int
newest_first(const void *a, const void *b)
{
	const struct catalog_record *x = a, *y = b;

	if (x->created.tv_sec != y->created.tv_sec)
		return x->created.tv_sec < y->created.tv_sec ? 1 : -1;
	if (x->created.tv_nsec != y->created.tv_nsec)
		return x->created.tv_nsec < y->created.tv_nsec ? 1 : -1;
	return strcmp(y->id, x->id);
}

void
catalog_sort(struct catalog *c)
{
	/* An empty catalogue has no array, and qsort wants one. */
	if (c->count > 1)
		qsort(c->records, c->count, sizeof(*c->records), newest_first);
}

void
catalog_record_from_manifest(struct catalog_record *r, const struct manifest *m,
			     const char *file, uint64_t stored)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->id, m->id, sizeof(r->id));
	memcpy(r->run, m->run, sizeof(r->run));
	r->job = xstrdup(m->job);
	r->plugin = xstrdup(m->plugin);
	r->file = xstrdup(file);
	r->created = m->started;
	r->finished = m->finished;
	r->bytes = m->bytes;
	r->stored = stored;
	r->entries = m->entries;
	r->warnings = m->warning_count;
	r->status = xstrdup("ok");
	r->incremental = m->incremental;
	if (m->incremental)
		memcpy(r->parent, m->parent, sizeof(r->parent));
}

static void
must(int rc)
{
	if (rc != 0)
		abort();
}

struct json_value *
catalog_record_to_json(const struct catalog_record *r)
{
	struct json_value *o = json_new_object();
	char when[TIMEFMT_RFC3339_SIZE];
	size_t i;

	if (o == NULL)
		abort();
	must(json_object_set_string(o, "id", r->id));
	must(json_object_set_string(o, "run", r->run));
	must(json_object_set_string(o, "job", r->job));
	must(json_object_set_string(o, "plugin", r->plugin));
	must(json_object_set_string(o, "file", r->file));
	timefmt_rfc3339(r->created, 1, when, sizeof(when));
	must(json_object_set_string(o, "created", when));
	timefmt_rfc3339(r->finished, 1, when, sizeof(when));
	must(json_object_set_string(o, "finished", when));
	must(json_object_set(o, "duration",
			     json_new_double(
				     timefmt_seconds_between(r->created,
							     r->finished))));
	must(json_object_set_int64(o, "bytes", (int64_t)r->bytes));
	must(json_object_set_int64(o, "stored", (int64_t)r->stored));
	must(json_object_set_int64(o, "entries", (int64_t)r->entries));
	must(json_object_set_int64(o, "warnings", (int64_t)r->warnings));
	must(json_object_set_string(o, "status", r->status));
	must(json_object_set_string(o, "kind",
				    r->incremental ? "incremental" : "full"));
	if (r->incremental)
		must(json_object_set_string(o, "parent", r->parent));
	for (i = 0; i < json_length(r->extra); i++)
		must(json_object_set(o, json_object_key_at(r->extra, i),
				     json_clone(json_object_value_at(r->extra,
								     i))));
	return o;
}

char *
catalog_record_drill(const struct catalog_record *r)
{
	const struct json_value *drill = json_object_get(r->extra, "drill");
	const char *status = json_get_string(drill, "status");
	const char *when = json_get_string(drill, "time");
	const char *detail = json_get_string(drill, "detail");
	struct buf text = BUF_INIT;

	if (status == NULL || when == NULL)
		return NULL;
	buf_printf(&text, "%s at %s", status, when);
	if (detail != NULL)
		buf_printf(&text, ": %s", detail);
	return buf_detach(&text);
}

static int
is_known(const char *key)
{
	const char *const *k;

	for (k = known_members; *k != NULL; k++)
		if (strcmp(*k, key) == 0)
			return 1;
	return 0;
}

static int
get_u64(const struct json_value *o, const char *key, uint64_t *out)
{
	int64_t n;

	if (json_get_int64(o, key, &n) != 0 || n < 0)
		return -1;
	*out = (uint64_t)n;
	return 0;
}

static int
record_parse(struct catalog_record *r, const char *line, size_t length)
{
	char message[128];
	struct json_value *o = json_parse(line, length, message,
					  sizeof(message));
	const char *id, *run, *job, *plugin, *file, *created, *finished,
		*status;
	size_t i;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (o == NULL)
		return -1;
	id = json_get_string(o, "id");
	run = json_get_string(o, "run");
	job = json_get_string(o, "job");
	plugin = json_get_string(o, "plugin");
	file = json_get_string(o, "file");
	created = json_get_string(o, "created");
	finished = json_get_string(o, "finished");
	status = json_get_string(o, "status");
	if (id == NULL || strlen(id) != ARC_ID_SIZE - 1 || run == NULL ||
	    strlen(run) != ARC_ID_SIZE - 1 || job == NULL || plugin == NULL ||
	    file == NULL || created == NULL || finished == NULL ||
	    status == NULL ||
	    timefmt_parse_rfc3339(created, &r->created) != 0 ||
	    timefmt_parse_rfc3339(finished, &r->finished) != 0 ||
	    get_u64(o, "bytes", &r->bytes) != 0 ||
	    get_u64(o, "stored", &r->stored) != 0 ||
	    get_u64(o, "entries", &r->entries) != 0)
		goto out;
	get_u64(o, "warnings", &r->warnings);
	if (json_get_string(o, "kind") != NULL &&
	    strcmp(json_get_string(o, "kind"), "incremental") == 0) {
		const char *parent = json_get_string(o, "parent");

		if (parent == NULL || strlen(parent) != ARC_ID_SIZE - 1)
			goto out;
		r->incremental = 1;
		memcpy(r->parent, parent, ARC_ID_SIZE);
	}
	memcpy(r->id, id, ARC_ID_SIZE);
	memcpy(r->run, run, ARC_ID_SIZE);
	r->job = xstrdup(job);
	r->plugin = xstrdup(plugin);
	r->file = xstrdup(file);
	r->status = xstrdup(status);
	for (i = 0; i < json_length(o); i++) {
		const char *key = json_object_key_at(o, i);

		if (is_known(key))
			continue;
		if (r->extra == NULL)
			r->extra = json_new_object();
		must(json_object_set(r->extra, key,
				     json_clone(json_object_value_at(o, i))));
	}
	rc = 0;
out:
	json_free(o);
	return rc;
}

int
catalog_parse(struct catalog *c, const char *text, size_t length)
{
	const char *p = text, *end = text + length, *last_line = NULL;
	char hex[SHA256_HEX_SIZE], expected[80];
	struct sha256 hash;
	size_t body;
	int n;

	/* The last line is {"sha256":"..."} over everything before it. */
	if (length == 0 || text[length - 1] != '\n')
		return -1;
	for (p = text; p < end - 1; p++)
		if (*p == '\n')
			last_line = p + 1;
	body = last_line ? (size_t)(last_line - text) : 0;
	if (sha256_init(&hash) != 0)
		return -1;
	sha256_update(&hash, text, body);
	sha256_final_hex(&hash, hex);
	sha256_release(&hash);
	n = snprintf(expected, sizeof(expected), "{\"sha256\":\"%s\"}\n", hex);
	if (n < 0 || (size_t)n >= sizeof(expected))
		return -1;
	if (length - body != strlen(expected) ||
	    memcmp(text + body, expected, length - body) != 0)
		return -1;
	for (p = text; p < text + body;) {
		const char *newline = memchr(p, '\n',
					     (size_t)(text + body - p));
		struct catalog_record r;

		if (record_parse(&r, p, (size_t)(newline - p)) != 0) {
			catalog_record_release(&r);
			catalog_release(c);
			return -1;
		}
		catalog_add(c, &r);
		p = newline + 1;
	}
	return 0;
}

/* 1 loaded, 0 missing, -1 damaged. */
static int
catalog_load_file(struct catalog *c, const char *path, struct cairn_error *err)
{
	char *text;
	size_t length;
	int rc;

	if (fsutil_read_file(path, CATALOG_LIMIT, &text, &length, err) != 0)
		return errno == ENOENT ? 0 : -1;
	rc = catalog_parse(c, text, length) == 0 ? 1 : -1;
	if (rc < 0)
		error_set(err, "catalogue file '%s' is damaged", path);
	free(text);
	return rc;
}

int
catalog_load(struct catalog *c, const char *repository, struct cairn_error *err)
{
	struct buf path = BUF_INIT;
	int primary, copy;

	memset(c, 0, sizeof(*c));
	buf_printf(&path, "%s/%s", repository, CATALOG_FILE);
	primary = catalog_load_file(c, buf_str(&path), err);
	if (primary <= 0) {
		buf_reset(&path);
		buf_printf(&path, "%s/%s", repository, CATALOG_COPY);
		copy = catalog_load_file(c, buf_str(&path), err);
		if (copy < 0 || (primary < 0 && copy == 0)) {
			error_set(err,
				  "the catalogue of '%s' and its copy are "
				  "damaged; run 'cairn catalog rebuild'",
				  repository);
			buf_release(&path);
			return -1;
		}
		c->recovered_from_copy = primary < 0;
	}
	buf_release(&path);
	return 0;
}

int
catalog_check_twins(const char *repository, struct cairn_error *err)
{
	const char *names[2] = {CATALOG_FILE, CATALOG_COPY};
	struct buf path = BUF_INIT;
	struct catalog scratch;
	int found[2], i;

	for (i = 0; i < 2; i++) {
		memset(&scratch, 0, sizeof(scratch));
		buf_reset(&path);
		buf_printf(&path, "%s/%s", repository, names[i]);
		found[i] = catalog_load_file(&scratch, buf_str(&path), err);
		catalog_release(&scratch);
		if (found[i] < 0) {
			buf_release(&path);
			return -1;
		}
	}
	if (found[0] != found[1]) {
		buf_reset(&path);
		buf_printf(&path, "%s/%s", repository, names[found[0] ? 1 : 0]);
		error_set(err, "catalogue file '%s' is missing",
			  buf_str(&path));
		buf_release(&path);
		return -1;
	}
	buf_release(&path);
	return 0;
}

void
catalog_format(const struct catalog *c, struct buf *out)
{
	char hex[SHA256_HEX_SIZE];
	struct sha256 hash;
	size_t i;

	for (i = 0; i < c->count; i++) {
		struct json_value *o = catalog_record_to_json(&c->records[i]);
		char *line = json_serialize(o, JSON_COMPACT, NULL);

		if (line == NULL)
			abort();
		buf_append_str(out, line);
		buf_append_char(out, '\n');
		free(line);
		json_free(o);
	}
	if (sha256_init(&hash) != 0)
		abort();
	sha256_update(&hash, out->data ? out->data : "", out->length);
	sha256_final_hex(&hash, hex);
	sha256_release(&hash);
	buf_printf(out, "{\"sha256\":\"%s\"}\n", hex);
}

int
catalog_save(const struct catalog *c, const char *repository,
	     struct cairn_error *err)
{
	struct buf text = BUF_INIT, path = BUF_INIT;
	int rc = -1;

	catalog_format(c, &text);
	buf_printf(&path, "%s/%s", repository, CATALOG_FILE);
	if (fsutil_write_atomic(buf_str(&path), text.data, text.length, 0600,
				err) != 0)
		goto out;
	buf_reset(&path);
	buf_printf(&path, "%s/%s", repository, CATALOG_COPY);
	if (fsutil_write_atomic(buf_str(&path), text.data, text.length, 0600,
				err) != 0)
		goto out;
	rc = 0;
out:
	buf_release(&text);
	buf_release(&path);
	return rc;
}
