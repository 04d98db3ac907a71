/*
 * The manifest and index records of manifest.h, in JSON.
 */
#include "manifest.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "json.h"
#include "timefmt.h"

static const char *const entry_type_names[] = {
	[CAIRN_ENTRY_FILE] = "file",
	[CAIRN_ENTRY_DIRECTORY] = "dir",
	[CAIRN_ENTRY_SYMLINK] = "symlink",
	[CAIRN_ENTRY_HARDLINK] = "hardlink",
	[CAIRN_ENTRY_FIFO] = "fifo",
	[CAIRN_ENTRY_CHARDEV] = "chardev",
	[CAIRN_ENTRY_BLOCKDEV] = "blockdev",
};

const char *
entry_type_name(enum cairn_entry_type type)
{
	if ((size_t)type >=
	    sizeof(entry_type_names) / sizeof(*entry_type_names))
		return "unknown";
	return entry_type_names[type];
}

int
entry_type_parse(const char *name, enum cairn_entry_type *type)
{
	size_t i;

	for (i = 0; i < sizeof(entry_type_names) / sizeof(*entry_type_names);
	     i++)
		if (strcmp(entry_type_names[i], name) == 0) {
			*type = (enum cairn_entry_type)i;
			return 0;
		}
	return -1;
}

void
manifest_init(struct manifest *m)
{
	memset(m, 0, sizeof(*m));
	m->facts = json_new_object();
	if (m->facts == NULL)
		abort();
}

void
manifest_release(struct manifest *m)
{
	size_t i;

	free(m->job);
	free(m->plugin);
	free(m->plugin_version);
	free(m->host);
	free(m->cairn_version);
	json_free(m->facts);
	for (i = 0; i < m->warning_count; i++)
		free(m->warnings[i]);
	free(m->warnings);
	free(m->index_frames);
	free(m->removed_frames);
	memset(m, 0, sizeof(*m));
}

void
manifest_add_warning(struct manifest *m, const char *warning)
{
	m->warnings = xrealloc(m->warnings,
			       (m->warning_count + 1) * sizeof(*m->warnings));
	m->warnings[m->warning_count++] = xstrdup(warning);
}

void
manifest_set_fact(struct manifest *m, const char *key, const char *value)
{
	if (json_object_set_string(m->facts, key, value) != 0)
		abort();
}

const char *
manifest_fact(const struct manifest *m, const char *key)
{
	return json_get_string(m->facts, key);
}

static void
set_or_abort(int rc)
{
	if (rc != 0)
		abort();
}

static void
set_time(struct json_value *object, const char *key, struct timespec when)
{
	char text[TIMEFMT_RFC3339_SIZE];

	timefmt_rfc3339(when, 1, text, sizeof(text));
	set_or_abort(json_object_set_string(object, key, text));
}

struct json_value *
manifest_to_json(const struct manifest *m)
{
	struct json_value *o = json_new_object();
	struct json_value *warnings = json_new_array();
	struct json_value *frames = json_new_array();
	size_t i;

	if (o == NULL || warnings == NULL || frames == NULL)
		abort();
	set_or_abort(json_object_set_int64(o, "format", MANIFEST_FORMAT));
	set_or_abort(json_object_set_string(o, "id", m->id));
	set_or_abort(json_object_set_string(o, "run", m->run));
	set_or_abort(json_object_set_string(o, "job", m->job));
	set_or_abort(json_object_set_string(o, "plugin", m->plugin));
	set_or_abort(json_object_set_string(o, "plugin_version",
					    m->plugin_version
						    ? m->plugin_version
						    : ""));
	set_or_abort(json_object_set_string(o, "host", m->host ? m->host : ""));
	set_or_abort(json_object_set_string(o, "cairn_version",
					    m->cairn_version ? m->cairn_version
							     : ""));
	set_time(o, "started", m->started);
	set_time(o, "finished", m->finished);
	set_or_abort(
		json_object_set(o, "duration",
				json_new_double(
					timefmt_seconds_between(m->started,
								m->finished))));
	set_or_abort(json_object_set_int64(o, "bytes", (int64_t)m->bytes));
	set_or_abort(json_object_set_int64(o, "entries", (int64_t)m->entries));
	set_or_abort(json_object_set_string(o, "compression",
					    m->compressed ? "zstd" : "none"));
	set_or_abort(json_object_set_int64(o, "level", m->level));
	set_or_abort(json_object_set(o, "facts", json_clone(m->facts)));
	for (i = 0; i < m->warning_count; i++)
		set_or_abort(
			json_array_append(warnings,
					  json_new_string(m->warnings[i])));
	set_or_abort(json_object_set(o, "warnings", warnings));
	for (i = 0; i < m->index_frame_count; i++)
		set_or_abort(json_array_append(
			frames, json_new_int64((int64_t)m->index_frames[i])));
	set_or_abort(json_object_set(o, "index", frames));
	set_or_abort(json_object_set_string(o, "kind",
					    m->incremental ? "incremental"
							   : "full"));
	if (m->incremental) {
		struct json_value *removed = json_new_array();

		if (removed == NULL)
			abort();
		set_or_abort(json_object_set_string(o, "parent", m->parent));
		set_or_abort(json_object_set_int64(o, "removed",
						   (int64_t)m->removed));
		for (i = 0; i < m->removed_frame_count; i++)
			set_or_abort(json_array_append(
				removed,
				json_new_int64((int64_t)m->removed_frames[i])));
		set_or_abort(json_object_set(o, "removed_index", removed));
	}
	return o;
}

static char *
dup_member(const struct json_value *o, const char *key)
{
	const char *value = json_get_string(o, key);

	return value ? xstrdup(value) : NULL;
}

static int
copy_id(char *to, const struct json_value *o, const char *key)
{
	const char *value = json_get_string(o, key);

	if (value == NULL || strlen(value) != ARC_ID_SIZE - 1)
		return -1;
	memcpy(to, value, ARC_ID_SIZE);
	return 0;
}

/* kind, parent and removals; absent (older archives) means full. */
static int
parse_chain(struct manifest *m, const struct json_value *o,
	    struct cairn_error *err)
{
	const char *kind = json_get_string(o, "kind");
	const struct json_value *list;
	int64_t n;
	size_t i;

	if (kind == NULL || strcmp(kind, "full") == 0)
		return 0;
	if (strcmp(kind, "incremental") != 0) {
		error_set(err, "manifest has an unknown kind '%s'", kind);
		return -1;
	}
	m->incremental = 1;
	if (copy_id(m->parent, o, "parent") != 0) {
		error_set(err, "incremental manifest lacks its parent");
		return -1;
	}
	if (json_get_int64(o, "removed", &n) == 0 && n >= 0)
		m->removed = (uint64_t)n;
	list = json_object_get(o, "removed_index");
	if (json_length(list) == 0)
		return 0;
	m->removed_frames = xcalloc(json_length(list), sizeof(uint64_t));
	for (i = 0; i < json_length(list); i++) {
		if (json_int64(json_array_at(list, i), &n) != 0 || n < 0) {
			error_set(err, "manifest has a bad removal offset");
			return -1;
		}
		m->removed_frames[m->removed_frame_count++] = (uint64_t)n;
	}
	return 0;
}

int
manifest_parse(struct manifest *m, const char *text, size_t length,
	       struct cairn_error *err)
{
	char message[256];
	struct json_value *o;
	const struct json_value *facts, *list;
	const char *started, *finished, *compression;
	int64_t n;
	size_t i;
	int rc = -1;

	o = json_parse(text, length, message, sizeof(message));
	if (o == NULL) {
		error_set(err, "manifest is not valid JSON: %s", message);
		return -1;
	}
	if (json_get_int64(o, "format", &n) != 0 || n != MANIFEST_FORMAT) {
		error_set(err, "manifest format is not %d", MANIFEST_FORMAT);
		goto out;
	}
	started = json_get_string(o, "started");
	finished = json_get_string(o, "finished");
	if (copy_id(m->id, o, "id") != 0 || copy_id(m->run, o, "run") != 0 ||
	    json_get_string(o, "job") == NULL ||
	    json_get_string(o, "plugin") == NULL || started == NULL ||
	    finished == NULL ||
	    timefmt_parse_rfc3339(started, &m->started) != 0 ||
	    timefmt_parse_rfc3339(finished, &m->finished) != 0) {
		error_set(err, "manifest lacks its id, run, job, plugin or "
			       "times");
		goto out;
	}
	m->job = dup_member(o, "job");
	m->plugin = dup_member(o, "plugin");
	m->plugin_version = dup_member(o, "plugin_version");
	m->host = dup_member(o, "host");
	m->cairn_version = dup_member(o, "cairn_version");
	if (json_get_int64(o, "bytes", &n) == 0 && n >= 0)
		m->bytes = (uint64_t)n;
	if (json_get_int64(o, "entries", &n) == 0 && n >= 0)
		m->entries = (uint64_t)n;
	if (json_get_int64(o, "level", &n) == 0)
		m->level = (int)n;
	compression = json_get_string(o, "compression");
	m->compressed = compression == NULL || strcmp(compression, "none") != 0;
	facts = json_object_get(o, "facts");
	if (facts != NULL && json_type(facts) == JSON_OBJECT) {
		json_free(m->facts);
		m->facts = json_clone(facts);
	}
	list = json_object_get(o, "warnings");
	for (i = 0; i < json_length(list); i++) {
		const char *w = json_string(json_array_at(list, i));

		if (w != NULL)
			manifest_add_warning(m, w);
	}
	list = json_object_get(o, "index");
	if (json_length(list) > 0) {
		m->index_frames = xcalloc(json_length(list), sizeof(uint64_t));
		for (i = 0; i < json_length(list); i++) {
			if (json_int64(json_array_at(list, i), &n) != 0 ||
			    n < 0) {
				error_set(err, "manifest has a bad index "
					       "offset");
				goto out;
			}
			m->index_frames[m->index_frame_count++] = (uint64_t)n;
		}
	}
	if (parse_chain(m, o, err) != 0)
		goto out;
	rc = 0;
out:
	json_free(o);
	return rc;
}

void
index_record_release(struct index_record *r)
{
	free(r->name);
	free(r->state);
	memset(r, 0, sizeof(*r));
}

/*
 * Whether `s` is valid UTF-8. JSON strings are Unicode, so a file name
 * that is not (Latin-1, arbitrary bytes) cannot pass through "name"
 * unchanged: the serialiser writes each stray byte as a code point.
 */
static int
is_utf8(const unsigned char *s)
{
	while (*s != '\0') {
		size_t n, i;
		uint32_t code;

		if (*s < 0x80) {
			s++;
			continue;
		}
		if (*s >= 0xc2 && *s <= 0xdf)
			n = 1, code = *s & 0x1f;
		else if (*s >= 0xe0 && *s <= 0xef)
			n = 2, code = *s & 0x0f;
		else if (*s >= 0xf0 && *s <= 0xf4)
			n = 3, code = *s & 0x07;
		else
			return 0;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			code = (code << 6) | (s[i] & 0x3f);
		}
		/* Overlong forms, surrogates, beyond U+10FFFF. */
		if ((n == 2 && code < 0x800) || (n == 3 && code < 0x10000) ||
		    (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff)
			return 0;
		s += n + 1;
	}
	return 1;
}

/* The bytes of a "name_hex" value, or NULL when it is not hex. */
static char *
hex_decode(const char *hex)
{
	size_t length = strlen(hex), i;
	char *out;

	if (length == 0 || length % 2 != 0)
		return NULL;
	out = xmalloc(length / 2 + 1);
	for (i = 0; i < length / 2; i++) {
		unsigned int byte;

		if (!isxdigit((unsigned char)hex[2 * i]) ||
		    !isxdigit((unsigned char)hex[2 * i + 1]) ||
		    sscanf(hex + 2 * i, "%2x", &byte) != 1 || byte == 0) {
			free(out);
			return NULL;
		}
		out[i] = (char)byte;
	}
	out[length / 2] = '\0';
	return out;
}

void
index_record_format(const struct index_record *r, struct buf *out)
{
	struct json_value *o = json_new_object();
	char *text;

	if (o == NULL)
		abort();
	set_or_abort(json_object_set_string(o, "name", r->name));
	if (!is_utf8((const unsigned char *)r->name)) {
		struct buf hex = BUF_INIT;
		const unsigned char *p;

		/* "name" stays readable; this is the name, byte for byte. */
		for (p = (const unsigned char *)r->name; *p != '\0'; p++)
			buf_printf(&hex, "%02x", *p);
		set_or_abort(
			json_object_set_string(o, "name_hex", buf_str(&hex)));
		buf_release(&hex);
	}
	set_or_abort(
		json_object_set_string(o, "type", entry_type_name(r->type)));
	set_or_abort(json_object_set_int64(o, "size", r->size));
	if (r->sha256[0] != '\0')
		set_or_abort(json_object_set_string(o, "sha256", r->sha256));
	set_or_abort(json_object_set_int64(o, "frame", (int64_t)r->frame));
	if (r->parts > 0)
		set_or_abort(json_object_set_int64(o, "parts", r->parts));
	if (r->state != NULL)
		set_or_abort(json_object_set_string(o, "state", r->state));
	text = json_serialize(o, JSON_COMPACT, NULL);
	if (text == NULL)
		abort();
	buf_append_str(out, text);
	buf_append_char(out, '\n');
	free(text);
	json_free(o);
}

int
index_record_parse(struct index_record *r, const char *line, size_t length,
		   struct cairn_error *err)
{
	char message[256];
	struct json_value *o;
	const char *name, *type, *sha, *state;
	int64_t size, frame, parts = 0;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	o = json_parse(line, length, message, sizeof(message));
	if (o == NULL) {
		error_set(err, "index record is not valid JSON: %s", message);
		return -1;
	}
	name = json_get_string(o, "name");
	type = json_get_string(o, "type");
	sha = json_get_string(o, "sha256");
	if (name == NULL || type == NULL ||
	    entry_type_parse(type, &r->type) != 0 ||
	    json_get_int64(o, "size", &size) != 0 || size < 0 ||
	    json_get_int64(o, "frame", &frame) != 0 || frame < 0 ||
	    (json_object_get(o, "parts") != NULL &&
	     (json_get_int64(o, "parts", &parts) != 0 || parts < 0 ||
	      parts > 100000000)) ||
	    (sha != NULL && strlen(sha) != 64)) {
		error_set(err, "index record is incomplete");
		goto out;
	}
	if (json_object_get(o, "name_hex") != NULL) {
		const char *hex = json_get_string(o, "name_hex");

		r->name = hex != NULL ? hex_decode(hex) : NULL;
		if (r->name == NULL) {
			error_set(err, "index record has a bad name_hex");
			goto out;
		}
	} else {
		r->name = xstrdup(name);
	}
	r->size = size;
	r->frame = (uint64_t)frame;
	r->parts = (unsigned int)parts;
	if (sha != NULL)
		memcpy(r->sha256, sha, 65);
	state = json_get_string(o, "state");
	if (state != NULL)
		r->state = xstrdup(state);
	rc = 0;
out:
	json_free(o);
	return rc;
}

int
entry_name_check(const char *name, struct cairn_error *err)
{
	const char *component = name;
	size_t length = strlen(name);

	if (length == 0 || length > 65536) {
		error_set(err, "entry name of %zu bytes", length);
		return -1;
	}
	if (name[0] == '/') {
		error_set(err, "entry '%s' has an absolute name", name);
		return -1;
	}
	/* "a/" would be stored as "a/" but read back as "a". */
	if (name[length - 1] == '/') {
		error_set(err, "entry '%s' ends with an empty component", name);
		return -1;
	}
	if (strncmp(name, ".cairn", 6) == 0) {
		error_set(err, "entry '%s' uses the reserved name '.cairn'",
			  name);
		return -1;
	}
	while (*component != '\0') {
		const char *end = strchr(component, '/');
		size_t n = end ? (size_t)(end - component) : strlen(component);

		if ((n == 0 && end != NULL) ||
		    (n == 1 && component[0] == '.') ||
		    (n == 2 && component[0] == '.' && component[1] == '.')) {
			error_set(err,
				  "entry '%s' has an empty, '.' or '..' "
				  "component",
				  name);
			return -1;
		}
		if (end == NULL)
			break;
		component = end + 1;
	}
	return 0;
}
