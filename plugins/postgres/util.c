/*
 * Pure logic of the postgres plugin, kept apart so it can be tested
 * without a server: string lists, the encoding of database names into
 * entry names, version numbers and the choice of a client, the row count
 * file format, SQLSTATEs in psql's messages, and libpq parameter lists.
 */
#include "autoconfig.h"

#include "postgres.h"

#include <cairn/helpers.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
postgres_error(struct cairn_error *err, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	cairn_error_vset(err, format, ap);
	va_end(ap);
}

char *
postgres_strdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

void
postgres_list_free(struct postgres_list *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

int
postgres_list_add(struct postgres_list *list, const char *item)
{
	char **grown;
	char *copy;

	copy = strdup(item);
	if (copy == NULL)
		return -1;
	grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(copy);
		return -1;
	}
	grown[list->count++] = copy;
	list->items = grown;
	return 0;
}

int
postgres_list_contains(const struct postgres_list *list, const char *item)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		if (strcmp(list->items[i], item) == 0)
			return 1;
	return 0;
}

int
postgres_list_parse(const char *value, struct postgres_list *list,
		    struct cairn_error *err)
{
	const char *p = value;
	char *word = NULL;
	size_t length;
	int rc = -1;

	word = malloc(strlen(value) + 1);
	if (word == NULL) {
		postgres_error(err, "out of memory");
		return -1;
	}
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		length = 0;
		if (*p == '"') {
			p++;
			for (;;) {
				if (*p == '\0') {
					postgres_error(err,
						       "unterminated quote in "
						       "'%s'",
						       value);
					goto out;
				}
				if (*p == '"' && p[1] == '"') {
					word[length++] = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					word[length++] = *p++;
				}
			}
			if (*p != '\0' && *p != ' ' && *p != '\t' &&
			    *p != ',') {
				postgres_error(err,
					       "text after a closing quote "
					       "in '%s'",
					       value);
				goto out;
			}
		} else {
			while (*p != '\0' && *p != ' ' && *p != '\t' &&
			       *p != ',')
				word[length++] = *p++;
		}
		word[length] = '\0';
		if (length == 0) {
			postgres_error(err, "empty name in '%s'", value);
			goto out;
		}
		if (postgres_list_add(list, word) == -1) {
			postgres_error(err, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	free(word);
	if (rc == -1)
		postgres_list_free(list);
	return rc;
}

static int
postgres_name_needs_escape(unsigned char c)
{
	return c == '%' || c == '/' || c == ' ' || c < 0x20 || c == 0x7f;
}

char *
postgres_name_encode(const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char *out, *q;

	out = malloc(strlen(name) * 3 + 1);
	if (out == NULL)
		return NULL;
	q = out;
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (postgres_name_needs_escape(*p)) {
			*q++ = '%';
			*q++ = hex[*p >> 4];
			*q++ = hex[*p & 0xf];
		} else {
			*q++ = (char)*p;
		}
	}
	*q = '\0';
	return out;
}

static int
postgres_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *
postgres_name_decode(const char *encoded)
{
	const char *p;
	char *out, *q;
	int hi, lo;

	out = malloc(strlen(encoded) + 1);
	if (out == NULL)
		return NULL;
	q = out;
	for (p = encoded; *p != '\0'; p++) {
		if (*p != '%') {
			*q++ = *p;
			continue;
		}
		hi = postgres_hex_value(p[1]);
		lo = hi < 0 ? -1 : postgres_hex_value(p[2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		*q++ = (char)(hi * 16 + lo);
		p += 2;
	}
	*q = '\0';
	return out;
}

int
postgres_entry_parse(const char *entry, char **name, const char **suffix)
{
	static const char prefix[] = "databases/";
	/* Longest first: "x.database.sql" is not a plain dump of "x.database".
	 */
	static const char *const suffixes[] = {".database.sql", ".dump", ".sql",
					       ".rowcounts", ".grants"};
	const char *base;
	size_t length, slen, i;
	char *encoded;

	*name = NULL;
	if (strncmp(entry, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	base = entry + sizeof(prefix) - 1;
	if (strchr(base, '/') != NULL)
		return -1;
	length = strlen(base);
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		slen = strlen(suffixes[i]);
		if (length <= slen ||
		    strcmp(base + length - slen, suffixes[i]) != 0)
			continue;
		encoded = strndup(base, length - slen);
		if (encoded == NULL)
			return -1;
		*name = postgres_name_decode(encoded);
		free(encoded);
		if (*name == NULL)
			return -1;
		*suffix = suffixes[i] + 1;
		return 0;
	}
	return -1;
}

int
postgres_version_parse(const char *text)
{
	const char *p = text;
	long a, b = 0, c = 0;
	char *end;

	/* The first number in the text: after "pg_dump (PostgreSQL) ". */
	while (*p != '\0' && !isdigit((unsigned char)*p))
		p++;
	if (*p == '\0')
		return -1;
	errno = 0;
	a = strtol(p, &end, 10);
	if (errno != 0 || a <= 0 || a > 999)
		return -1;
	if (*end == '.' && isdigit((unsigned char)end[1])) {
		b = strtol(end + 1, &end, 10);
		if (*end == '.' && isdigit((unsigned char)end[1]))
			c = strtol(end + 1, &end, 10);
	}
	if (b < 0 || b > 99 || c < 0 || c > 99)
		return -1;
	if (a >= 10)
		return (int)(a * 10000 + b);
	return (int)(a * 10000 + b * 100 + c);
}

int
postgres_version_major(int version)
{
	return version >= 100000 ? version / 10000 * 100 : version / 100;
}

void
postgres_version_major_text(int version, char *buf, size_t size)
{
	if (version >= 100000)
		snprintf(buf, size, "%d", version / 10000);
	else
		snprintf(buf, size, "%d.%d", version / 10000,
			 version / 100 % 100);
}

int
postgres_client_pick(const int *versions, size_t n, int server_version)
{
	int best = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (versions[i] <= 0 ||
		    postgres_version_major(versions[i]) <
			    postgres_version_major(server_version))
			continue;
		if (best == -1 || versions[i] > versions[best])
			best = (int)i;
	}
	return best;
}

int
postgres_psql_sqlstate(const char *line, char sqlstate[6], const char **message)
{
	const char *p;
	size_t i;

	/*
	 * "psql:<stdin>:12: ERROR:  42710: role "x" already exists": the
	 * severity may be translated, the SQLSTATE never is, so look for
	 * ":  " followed by five code characters and ": ".
	 */
	if (strncmp(line, "psql:", 5) != 0)
		return 0;
	for (p = strstr(line, ":  "); p != NULL; p = strstr(p + 1, ":  ")) {
		for (i = 0; i < 5; i++) {
			char c = p[3 + i];

			if (!(isdigit((unsigned char)c) ||
			      (c >= 'A' && c <= 'Z')))
				break;
		}
		if (i == 5 && p[8] == ':' && p[9] == ' ') {
			memcpy(sqlstate, p + 3, 5);
			sqlstate[5] = '\0';
			*message = p + 10;
			return 1;
		}
	}
	return 0;
}

int
postgres_sqlstate_is_error(const char *sqlstate)
{
	return !(strncmp(sqlstate, "00", 2) == 0 ||
		 strncmp(sqlstate, "01", 2) == 0 ||
		 strncmp(sqlstate, "02", 2) == 0);
}

/* Row count file fields: '%', tab, newline and controls as %XX. */
static int
postgres_field_append(char **buf, size_t *length, size_t *capacity,
		      const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	size_t need = strlen(text) * 3 + 2;
	char *grown;

	if (*length + need + 32 > *capacity) {
		size_t cap = (*capacity + need + 32) * 2;

		grown = realloc(*buf, cap);
		if (grown == NULL)
			return -1;
		*buf = grown;
		*capacity = cap;
	}
	for (p = (const unsigned char *)text; *p != '\0'; p++) {
		if (*p == '%' || *p < 0x20 || *p == 0x7f) {
			(*buf)[(*length)++] = '%';
			(*buf)[(*length)++] = hex[*p >> 4];
			(*buf)[(*length)++] = hex[*p & 0xf];
		} else {
			(*buf)[(*length)++] = (char)*p;
		}
	}
	(*buf)[*length] = '\0';
	return 0;
}

char *
postgres_rowcounts_format(const struct postgres_rowcounts *rc, size_t *length)
{
	size_t capacity = 256, i;
	char *buf;
	char number[48];
	int n;

	buf = malloc(capacity);
	if (buf == NULL)
		return NULL;
	n = snprintf(buf, capacity,
		     "cairn-rowcounts 1\nlarge-objects\t%" PRId64 "\n",
		     rc->large_objects);
	if (n < 0 || (size_t)n >= capacity) {
		free(buf);
		return NULL;
	}
	*length = (size_t)n;
	for (i = 0; i < rc->count; i++) {
		snprintf(number, sizeof(number), "\t%" PRId64 "\n",
			 rc->items[i].rows);
		if (postgres_field_append(&buf, length, &capacity, "table") ==
		    -1)
			goto fail;
		buf[(*length)++] = '\t';
		if (postgres_field_append(&buf, length, &capacity,
					  rc->items[i].schema) == -1)
			goto fail;
		buf[(*length)++] = '\t';
		if (postgres_field_append(&buf, length, &capacity,
					  rc->items[i].table) == -1)
			goto fail;
		/* number is free of escapable characters but for \t \n. */
		if (*length + strlen(number) + 1 > capacity) {
			char *grown = realloc(buf, capacity * 2);

			if (grown == NULL)
				goto fail;
			buf = grown;
			capacity *= 2;
		}
		memcpy(buf + *length, number, strlen(number) + 1);
		*length += strlen(number);
	}
	return buf;
fail:
	free(buf);
	return NULL;
}

/* Decodes a field in place; -1 on a malformed escape. */
static int
postgres_field_decode(char *field)
{
	char *p, *q;
	int hi, lo;

	for (p = q = field; *p != '\0'; p++) {
		if (*p != '%') {
			*q++ = *p;
			continue;
		}
		hi = postgres_hex_value(p[1]);
		lo = hi < 0 ? -1 : postgres_hex_value(p[2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -1;
		*q++ = (char)(hi * 16 + lo);
		p += 2;
	}
	*q = '\0';
	return 0;
}

int
postgres_rowcounts_add(struct postgres_rowcounts *rc, const char *schema,
		       const char *table, int64_t rows)
{
	struct postgres_rowcount *grown;
	char *s, *t;

	s = strdup(schema);
	t = strdup(table);
	grown = realloc(rc->items, (rc->count + 1) * sizeof(*grown));
	if (s == NULL || t == NULL || grown == NULL) {
		free(s);
		free(t);
		if (grown != NULL)
			rc->items = grown;
		return -1;
	}
	grown[rc->count].schema = s;
	grown[rc->count].table = t;
	grown[rc->count].rows = rows;
	rc->items = grown;
	rc->count++;
	return 0;
}

int
postgres_rowcounts_parse(const char *text, size_t length,
			 struct postgres_rowcounts *rc, struct cairn_error *err)
{
	char *copy, *line, *next, *fields[4];
	size_t nfields, lineno = 0;
	char *end;
	long long rows;
	int rc_ = -1;

	memset(rc, 0, sizeof(*rc));
	copy = strndup(text, length);
	if (copy == NULL) {
		postgres_error(err, "out of memory");
		return -1;
	}
	for (line = copy; line != NULL && *line != '\0'; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (lineno == 1) {
			if (strcmp(line, "cairn-rowcounts 1") != 0) {
				postgres_error(err, "not a row count file");
				goto out;
			}
			continue;
		}
		nfields = 0;
		fields[nfields++] = line;
		while (nfields < 4 && (line = strchr(line, '\t')) != NULL) {
			*line++ = '\0';
			fields[nfields++] = line;
		}
		if (nfields == 2 && strcmp(fields[0], "large-objects") == 0) {
			errno = 0;
			rows = strtoll(fields[1], &end, 10);
			if (errno != 0 || end == fields[1] || *end != '\0' ||
			    rows < 0)
				goto bad;
			rc->large_objects = rows;
			continue;
		}
		if (nfields != 4 || strcmp(fields[0], "table") != 0)
			goto bad;
		errno = 0;
		rows = strtoll(fields[3], &end, 10);
		if (errno != 0 || end == fields[3] || *end != '\0' ||
		    rows < 0 || postgres_field_decode(fields[1]) == -1 ||
		    postgres_field_decode(fields[2]) == -1)
			goto bad;
		if (postgres_rowcounts_add(rc, fields[1], fields[2], rows) ==
		    -1) {
			postgres_error(err, "out of memory");
			goto out;
		}
	}
	if (lineno == 0) {
		postgres_error(err, "empty row count file");
		goto out;
	}
	rc_ = 0;
	goto out;
bad:
	postgres_error(err, "malformed row count line %zu", lineno);
out:
	free(copy);
	if (rc_ == -1)
		postgres_rowcounts_free(rc);
	return rc_;
}

void
postgres_rowcounts_free(struct postgres_rowcounts *rc)
{
	size_t i;

	for (i = 0; i < rc->count; i++) {
		free(rc->items[i].schema);
		free(rc->items[i].table);
	}
	free(rc->items);
	memset(rc, 0, sizeof(*rc));
}

const struct postgres_rowcount *
postgres_rowcounts_find(const struct postgres_rowcounts *rc, const char *schema,
			const char *table)
{
	size_t i;

	for (i = 0; i < rc->count; i++)
		if (strcmp(rc->items[i].schema, schema) == 0 &&
		    strcmp(rc->items[i].table, table) == 0)
			return &rc->items[i];
	return NULL;
}

void
postgres_size_text(int64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double value = (double)bytes;
	size_t unit = 0;

	while (value >= 1024 && unit + 1 < sizeof(units) / sizeof(units[0])) {
		value /= 1024;
		unit++;
	}
	if (unit == 0)
		snprintf(buf, size, "%" PRId64 " B", bytes);
	else
		snprintf(buf, size, "%.1f %s", value, units[unit]);
}

int
postgres_params_set(struct postgres_params *p, const char *key,
		    const char *value)
{
	char *v;
	size_t i;

	for (i = 0; i < p->count; i++) {
		if (strcmp(p->keys[i], key) != 0)
			continue;
		v = strdup(value);
		if (v == NULL)
			return -1;
		explicit_bzero(p->values[i], strlen(p->values[i]));
		free(p->values[i]);
		p->values[i] = v;
		return 0;
	}
	if (p->count == POSTGRES_PARAMS_MAX)
		return -1;
	p->keys[p->count] = strdup(key);
	p->values[p->count] = strdup(value);
	if (p->keys[p->count] == NULL || p->values[p->count] == NULL) {
		free(p->keys[p->count]);
		free(p->values[p->count]);
		return -1;
	}
	p->count++;
	return 0;
}

const char *
postgres_params_get(const struct postgres_params *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->count; i++)
		if (strcmp(p->keys[i], key) == 0)
			return p->values[i];
	return NULL;
}

int
postgres_params_copy(struct postgres_params *to,
		     const struct postgres_params *from)
{
	size_t i;

	for (i = 0; i < from->count; i++)
		if (postgres_params_set(to, from->keys[i], from->values[i]) ==
		    -1)
			return -1;
	return 0;
}

void
postgres_params_free(struct postgres_params *p)
{
	size_t i;

	for (i = 0; i < p->count; i++) {
		free(p->keys[i]);
		explicit_bzero(p->values[i], strlen(p->values[i]));
		free(p->values[i]);
	}
	p->count = 0;
}

/* --- growing text ---------------------------------------------------- */

static void
postgres_text_reserve(struct postgres_text *t, size_t more)
{
	size_t capacity;
	char *grown;

	if (t->failed || t->length + more + 1 <= t->capacity)
		return;
	capacity = t->capacity ? t->capacity : 256;
	while (capacity < t->length + more + 1)
		capacity *= 2;
	grown = realloc(t->data, capacity);
	if (grown == NULL) {
		t->failed = 1;
		return;
	}
	t->data = grown;
	t->capacity = capacity;
}

void
postgres_text_add(struct postgres_text *t, const char *s)
{
	size_t n = strlen(s);

	postgres_text_reserve(t, n);
	if (t->failed)
		return;
	memcpy(t->data + t->length, s, n + 1);
	t->length += n;
}

void
postgres_text_addf(struct postgres_text *t, const char *format, ...)
{
	va_list ap;
	int n;

	va_start(ap, format);
	n = vsnprintf(NULL, 0, format, ap);
	va_end(ap);
	if (n < 0) {
		t->failed = 1;
		return;
	}
	postgres_text_reserve(t, (size_t)n);
	if (t->failed)
		return;
	va_start(ap, format);
	vsnprintf(t->data + t->length, (size_t)n + 1, format, ap);
	va_end(ap);
	t->length += (size_t)n;
}

void
postgres_text_add_field(struct postgres_text *t, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	postgres_text_reserve(t, strlen(text) * 3);
	if (t->failed)
		return;
	for (p = (const unsigned char *)text; *p != '\0'; p++) {
		if (*p == '%' || *p < 0x20 || *p == 0x7f) {
			t->data[t->length++] = '%';
			t->data[t->length++] = hex[*p >> 4];
			t->data[t->length++] = hex[*p & 0xf];
		} else {
			t->data[t->length++] = (char)*p;
		}
	}
	t->data[t->length] = '\0';
}

void
postgres_text_release(struct postgres_text *t)
{
	free(t->data);
	memset(t, 0, sizeof(*t));
}

/* --- settings lists ---------------------------------------------------- */

int
postgres_guc_is_list(const char *name)
{
	/* The GUC_LIST_QUOTE settings pg_dump knows. */
	static const char *const lists[] = {
		"local_preload_libraries",   "search_path",
		"session_preload_libraries", "shared_preload_libraries",
		"temp_tablespaces",	     "unix_socket_directories",
	};
	size_t i;

	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (strcasecmp(name, lists[i]) == 0)
			return 1;
	return 0;
}

static int
postgres_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

int
postgres_guc_list_split(const char *value, struct postgres_list *list)
{
	const char *p = value, *start, *end;
	char *item;
	size_t n, i;

	memset(list, 0, sizeof(*list));
	while (postgres_is_blank(*p))
		p++;
	while (*p != '\0') {
		if (*p == '"') {
			/* Quoted: "" is a quote; the quotes go. */
			item = malloc(strlen(p) + 1);
			if (item == NULL)
				goto fail;
			n = 0;
			for (p++;; p++) {
				if (*p == '\0') {
					free(item);
					goto fail;
				}
				if (*p == '"' && p[1] == '"') {
					item[n++] = '"';
					p++;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					item[n++] = *p;
				}
			}
			item[n] = '\0';
		} else {
			start = p;
			while (*p != '\0' && *p != ',' &&
			       !postgres_is_blank(*p))
				p++;
			end = p;
			if (end == start)
				goto fail;
			item = strndup(start, (size_t)(end - start));
			if (item == NULL)
				goto fail;
		}
		i = postgres_list_add(list, item);
		free(item);
		if (i != 0)
			goto fail;
		while (postgres_is_blank(*p))
			p++;
		if (*p == ',') {
			p++;
			while (postgres_is_blank(*p))
				p++;
			if (*p == '\0')
				goto fail;
		} else if (*p != '\0') {
			goto fail;
		}
	}
	return 0;
fail:
	postgres_list_free(list);
	return -1;
}
