/*
 * JSON reading and writing (RFC 8259), depending on libc only.
 *
 * The parser is strict: no comments, no trailing commas, no NaN or
 * Infinity, no leading zeros, only space, tab, CR and LF as white space,
 * strings must be valid UTF-8 (a leading UTF-8 byte order mark is skipped).
 * Any value may stand at the top level. It never reads past `length` and
 * does not need a NUL terminator. Strings are decoded to UTF-8 and may hold
 * NUL bytes (from \u0000); so may object keys, which are kept with their
 * length for serialisation and equality, while lookups by a C string key
 * simply never match such a key. When an object repeats a key, the last
 * value wins and takes the place of the first occurrence, as
 * json_object_set does.
 *
 * Invariants:
 * - a number node keeps a NUL-terminated text that is a valid JSON number
 *   (as written in the source, or formatted when built); its value is
 *   computed from that text when asked for;
 * - a string node and every object key are NUL-terminated copies that also
 *   carry their length; the bytes of a number or string live in the same
 *   allocation as their node;
 * - an object of INDEX_MIN members or more may have a hash index of its
 *   members (open addressing, slots hold member index + 1, 0 is empty, at
 *   most half full). The index is only an accelerator.
 *
 * Running out of memory aborts (xalloc.h), so no function fails for lack
 * of memory and no caller has a NULL to forget to check.
 *
 * json_new_double of a NaN or an infinity gives a null value, since JSON
 * has no such numbers. Doubles are written with the fewest of 15, 16 or 17
 * significant digits ("%.Ng") that read back to the same double, so 0.1
 * stays "0.1" and every finite double round-trips. Decimal points are
 * handled independently of the C locale.
 *
 * Pretty output indents by two spaces, puts one item or member per line,
 * writes "key": value with one space, and has no final newline.
 */
#include "json.h"
#include "xalloc.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 512
#define INDEX_MIN 16

struct json_member {
	char *key;
	size_t key_length;
	struct json_value *value;
};

struct json_value {
	enum json_type type;
	union {
		int boolean;
		char *number;
		struct {
			char *data;
			size_t length;
		} string;
		struct {
			struct json_value **items;
			size_t count;
			size_t capacity;
		} array;
		struct {
			struct json_member *members;
			size_t count;
			size_t capacity;
			size_t *slots;
			size_t slot_count;
		} object;
	} u;
};

/* Utilities */

static char *
copy_bytes(const char *data, size_t length)
{
	char *copy;

	if (length == SIZE_MAX)
		xalloc_die();
	copy = xmalloc(length + 1);
	if (length > 0)
		memcpy(copy, data, length);
	copy[length] = '\0';
	return copy;
}

/*
 * Length of the well-formed UTF-8 sequence (RFC 3629) at `s`, of which
 * `left` bytes may be read, or 0 when it is not one.
 */
static size_t
utf8_sequence_length(const unsigned char *s, size_t left)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (left == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (left < n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

static size_t
utf8_encode(uint32_t code, char *out)
{
	if (code < 0x80) {
		out[0] = (char)code;
		return 1;
	}
	if (code < 0x800) {
		out[0] = (char)(0xc0 | (code >> 6));
		out[1] = (char)(0x80 | (code & 0x3f));
		return 2;
	}
	if (code < 0x10000) {
		out[0] = (char)(0xe0 | (code >> 12));
		out[1] = (char)(0x80 | ((code >> 6) & 0x3f));
		out[2] = (char)(0x80 | (code & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (code >> 18));
	out[1] = (char)(0x80 | ((code >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((code >> 6) & 0x3f));
	out[3] = (char)(0x80 | (code & 0x3f));
	return 4;
}

/*
 * Length of the JSON number at the start of `s` (at most `left` bytes), or
 * 0 when there is none. On failure *bad is the offset of the offending
 * byte and *why says what is wrong.
 */
static size_t
number_scan(const char *s, size_t left, size_t *bad, const char **why)
{
	size_t i = 0;

	if (i < left && s[i] == '-')
		i++;
	if (i >= left || s[i] < '0' || s[i] > '9') {
		*bad = i;
		*why = "expected a digit";
		return 0;
	}
	if (s[i] == '0') {
		i++;
		if (i < left && s[i] >= '0' && s[i] <= '9') {
			*bad = i - 1;
			*why = "leading zero in number";
			return 0;
		}
	} else
		while (i < left && s[i] >= '0' && s[i] <= '9')
			i++;
	if (i < left && s[i] == '.') {
		i++;
		if (i >= left || s[i] < '0' || s[i] > '9') {
			*bad = i;
			*why = "expected a digit after the decimal point";
			return 0;
		}
		while (i < left && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < left && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < left && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= left || s[i] < '0' || s[i] > '9') {
			*bad = i;
			*why = "expected a digit in the exponent";
			return 0;
		}
		while (i < left && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i;
}

/* Whether a valid number text has neither fraction nor exponent. */
static int
number_is_integer_text(const char *text)
{
	return strpbrk(text, ".eE") == NULL;
}

/* strtod of a JSON number text, whatever the C locale's decimal point. */
static double
number_to_double(const char *text)
{
	const char *point = localeconv()->decimal_point;
	size_t length, point_length, i, j;
	const char *dot;
	char *copy;
	double d;

	dot = strchr(text, '.');
	if (dot == NULL || point == NULL || strcmp(point, ".") == 0)
		return strtod(text, NULL);
	length = strlen(text);
	point_length = strlen(point);
	copy = xmalloc(length + point_length + 1);
	for (i = 0, j = 0; i < length; i++) {
		if (text[i] == '.') {
			memcpy(copy + j, point, point_length);
			j += point_length;
		} else
			copy[j++] = text[i];
	}
	copy[j] = '\0';
	d = strtod(copy, NULL);
	free(copy);
	return d;
}

/* Formats a finite double as JSON number text into `out` (size >= 40). */
static void
number_format(double d, char *out, size_t out_size)
{
	const char *point = localeconv()->decimal_point;
	char *at;
	int precision, n;

	for (precision = 15; precision <= 17; precision++) {
		n = snprintf(out, out_size, "%.*g", precision, d);
		if (n < 0 || (size_t)n >= out_size) {
			snprintf(out, out_size, "0");
			return;
		}
		if (point != NULL && strcmp(point, ".") != 0 &&
		    point[0] != '\0' && (at = strstr(out, point)) != NULL) {
			size_t pl = strlen(point);

			*at = '.';
			memmove(at + 1, at + pl, strlen(at + pl) + 1);
		}
		if (number_to_double(out) == d)
			return;
	}
}

/* Values */

static struct json_value *
value_new(enum json_type type)
{
	struct json_value *v = xcalloc(1, sizeof(*v));

	v->type = type;
	return v;
}

/*
 * A number or string node with room for `size` bytes and a NUL after it,
 * in the same allocation: parsed documents are mostly such leaves.
 */
static struct json_value *
value_new_bytes(enum json_type type, size_t size)
{
	struct json_value *v;

	if (size > SIZE_MAX - sizeof(*v) - 1)
		xalloc_die();
	v = xmalloc(sizeof(*v) + size + 1);
	memset(v, 0, sizeof(*v));
	v->type = type;
	if (type == JSON_NUMBER)
		v->u.number = (char *)(v + 1);
	else
		v->u.string.data = (char *)(v + 1);
	return v;
}

static struct json_value *
number_new(const char *text, size_t length)
{
	struct json_value *v = value_new_bytes(JSON_NUMBER, length);

	memcpy(v->u.number, text, length);
	v->u.number[length] = '\0';
	return v;
}

void
json_free(struct json_value *value)
{
	size_t i;

	if (value == NULL)
		return;
	switch (value->type) {
	case JSON_ARRAY:
		for (i = 0; i < value->u.array.count; i++)
			json_free(value->u.array.items[i]);
		free(value->u.array.items);
		break;
	case JSON_OBJECT:
		for (i = 0; i < value->u.object.count; i++) {
			free(value->u.object.members[i].key);
			json_free(value->u.object.members[i].value);
		}
		free(value->u.object.members);
		free(value->u.object.slots);
		break;
	case JSON_NULL:
	case JSON_BOOL:
	case JSON_NUMBER:
	case JSON_STRING:
		break;
	}
	free(value);
}

static void
array_push(struct json_value *array, struct json_value *item)
{
	size_t capacity;

	if (array->u.array.count == array->u.array.capacity) {
		capacity = array->u.array.capacity ? array->u.array.capacity * 2
						   : 4;
		array->u.array.items =
			xreallocarray(array->u.array.items, capacity,
				      sizeof(struct json_value *));
		array->u.array.capacity = capacity;
	}
	array->u.array.items[array->u.array.count++] = item;
}

/* Objects and their index */

static size_t
key_hash(const char *key, size_t length)
{
	uint64_t h = 0xcbf29ce484222325u;
	size_t i;

	for (i = 0; i < length; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3u;
	}
	return (size_t)(h ^ (h >> 32));
}

static void
index_insert(struct json_value *object, size_t member)
{
	const struct json_member *m = &object->u.object.members[member];
	size_t mask = object->u.object.slot_count - 1;
	size_t h = key_hash(m->key, m->key_length) & mask;

	while (object->u.object.slots[h] != 0)
		h = (h + 1) & mask;
	object->u.object.slots[h] = member + 1;
}

/* Rebuilds the index for the current members, or drops it. */
static void
index_rebuild(struct json_value *object)
{
	size_t count = object->u.object.count, size = 64, i;

	while (size / 4 < count && size < SIZE_MAX / 8)
		size *= 2;
	if (count >= INDEX_MIN && size == object->u.object.slot_count) {
		/* Same size (after a removal): reuse the slots. */
		memset(object->u.object.slots, 0, size * sizeof(size_t));
	} else {
		free(object->u.object.slots);
		object->u.object.slots = NULL;
		object->u.object.slot_count = 0;
		if (count < INDEX_MIN)
			return;
		object->u.object.slots = xcalloc(size, sizeof(size_t));
		object->u.object.slot_count = size;
	}
	for (i = 0; i < count; i++)
		index_insert(object, i);
}

/* Index of the member with that key, or -1 (as SIZE_MAX). */
static size_t
object_find(const struct json_value *object, const char *key, size_t length)
{
	const struct json_member *m;
	size_t mask, h, slot, i;

	if (object->u.object.slot_count == 0) {
		for (i = 0; i < object->u.object.count; i++) {
			m = &object->u.object.members[i];
			if (m->key_length == length &&
			    memcmp(m->key, key, length) == 0)
				return i;
		}
		return SIZE_MAX;
	}
	mask = object->u.object.slot_count - 1;
	h = key_hash(key, length) & mask;
	while ((slot = object->u.object.slots[h]) != 0) {
		m = &object->u.object.members[slot - 1];
		if (m->key_length == length && memcmp(m->key, key, length) == 0)
			return slot - 1;
		h = (h + 1) & mask;
	}
	return SIZE_MAX;
}

/*
 * Sets member `key` (taking ownership of `key_copy` and `value`):
 * replaces the value of an existing member in place, else appends.
 */
static void
object_put(struct json_value *object, char *key_copy, size_t length,
	   struct json_value *value)
{
	size_t i, capacity;

	i = object_find(object, key_copy, length);
	if (i != SIZE_MAX) {
		json_free(object->u.object.members[i].value);
		object->u.object.members[i].value = value;
		free(key_copy);
		return;
	}
	if (object->u.object.count == object->u.object.capacity) {
		capacity = object->u.object.capacity
				   ? object->u.object.capacity * 2
				   : 4;
		object->u.object.members =
			xreallocarray(object->u.object.members, capacity,
				      sizeof(*object->u.object.members));
		object->u.object.capacity = capacity;
	}
	i = object->u.object.count++;
	object->u.object.members[i].key = key_copy;
	object->u.object.members[i].key_length = length;
	object->u.object.members[i].value = value;
	if (object->u.object.count >= INDEX_MIN) {
		if (object->u.object.slot_count == 0 ||
		    object->u.object.count * 2 > object->u.object.slot_count)
			index_rebuild(object);
		else
			index_insert(object, i);
	}
}

/* Parser */

struct parser {
	const char *text;
	size_t length;
	size_t pos;
	int depth;
	char *error;
	size_t error_size;
	int failed;
};

static void parser_fail(struct parser *p, size_t at, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/* Records the first error, with the line and column of byte `at`. */
static void
parser_fail(struct parser *p, size_t at, const char *format, ...)
{
	size_t line = 1, column = 1, i, used;
	va_list ap;
	int n;

	if (p->failed)
		return;
	p->failed = 1;
	if (p->error == NULL || p->error_size == 0)
		return;
	if (at > p->length)
		at = p->length;
	/* Columns count characters: UTF-8 continuation bytes do not. */
	for (i = 0; i < at; i++) {
		if (p->text[i] == '\n') {
			line++;
			column = 1;
		} else if (((unsigned char)p->text[i] & 0xc0) != 0x80)
			column++;
	}
	n = snprintf(p->error, p->error_size, "line %zu, column %zu: ", line,
		     column);
	if (n < 0)
		return;
	used = (size_t)n;
	if (used >= p->error_size)
		return;
	va_start(ap, format);
	/* A cut message in the caller's error_size bytes is still one. */
	/* NOLINTNEXTLINE(cert-err33-c) */
	vsnprintf(p->error + used, p->error_size - used, format, ap);
	va_end(ap);
}

/* Describes the byte at `at` for an error message. */
static void
parser_unexpected(struct parser *p, size_t at, const char *expected)
{
	unsigned char c;

	if (at >= p->length) {
		parser_fail(p, at, "unexpected end of input, %s", expected);
		return;
	}
	c = (unsigned char)p->text[at];
	if (c > 0x20 && c < 0x7f)
		parser_fail(p, at, "unexpected character '%c', %s", c,
			    expected);
	else
		parser_fail(p, at, "unexpected byte 0x%02x, %s", c, expected);
}

static void
parser_skip_space(struct parser *p)
{
	char c;

	while (p->pos < p->length) {
		c = p->text[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The four hex digits at `at` as a code unit, or -1 after failing. */
static long
parser_hex4(struct parser *p, size_t at)
{
	long code = 0;
	size_t i;
	int h;

	for (i = 0; i < 4; i++) {
		if (at + i >= p->length) {
			parser_fail(p, at + i,
				    "unexpected end of input in \\u escape");
			return -1;
		}
		h = hex_value(p->text[at + i]);
		if (h < 0) {
			parser_fail(p, at + i,
				    "expected a hex digit in \\u escape");
			return -1;
		}
		code = code * 16 + h;
	}
	return code;
}

/*
 * Finds the closing quote of the string whose opening quote is at p->pos.
 * The decoded string is no longer than the bytes in between, so a buffer
 * of (*end - p->pos) bytes holds it and its NUL. 0, or -1 after failing.
 */
static int
parser_string_end(struct parser *p, size_t *end)
{
	size_t i;

	for (i = p->pos + 1;; i++) {
		if (i >= p->length) {
			parser_fail(p, i, "unexpected end of input in string");
			return -1;
		}
		if (p->text[i] == '"')
			break;
		if (p->text[i] == '\\')
			i++;
	}
	*end = i;
	return 0;
}

/*
 * Decodes the string from p->pos to its closing quote at `end` into `out`,
 * NUL-terminated, and moves past it. 0, or -1 after failing.
 */
static int
parser_string_decode(struct parser *p, size_t end, char *out,
		     size_t *out_length)
{
	const char *s = p->text;
	size_t i, o, n;
	long code, low;
	char c;

	for (i = p->pos + 1, o = 0; i < end;) {
		c = s[i];
		if ((unsigned char)c < 0x20) {
			parser_fail(p, i,
				    "unescaped control character 0x%02x in "
				    "string",
				    (unsigned char)c);
			return -1;
		}
		if ((unsigned char)c >= 0x80) {
			n = utf8_sequence_length((const unsigned char *)s + i,
						 end - i);
			if (n == 0) {
				parser_fail(p, i, "invalid UTF-8 in string");
				return -1;
			}
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
			continue;
		}
		if (c != '\\') {
			out[o++] = c;
			i++;
			continue;
		}
		/* The scan above guarantees a byte after the backslash. */
		switch (s[i + 1]) {
		case '"':
		case '\\':
		case '/':
			out[o++] = s[i + 1];
			break;
		case 'b':
			out[o++] = '\b';
			break;
		case 'f':
			out[o++] = '\f';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case 'u':
			code = parser_hex4(p, i + 2);
			if (code < 0)
				return -1;
			if (code >= 0xdc00 && code <= 0xdfff) {
				parser_fail(p, i, "lone low surrogate \\u%04lX",
					    code);
				return -1;
			}
			if (code >= 0xd800 && code <= 0xdbff) {
				if (i + 7 >= end || s[i + 6] != '\\' ||
				    s[i + 7] != 'u') {
					parser_fail(p, i,
						    "lone high surrogate "
						    "\\u%04lX",
						    code);
					return -1;
				}
				low = parser_hex4(p, i + 8);
				if (low < 0)
					return -1;
				if (low < 0xdc00 || low > 0xdfff) {
					parser_fail(p, i,
						    "lone high surrogate "
						    "\\u%04lX",
						    code);
					return -1;
				}
				code = 0x10000 + ((code - 0xd800) << 10) +
				       (low - 0xdc00);
				i += 6;
			}
			/* At most 4 bytes from at least 6 of input. */
			o += utf8_encode((uint32_t)code, out + o);
			i += 6;
			continue;
		default:
			if ((unsigned char)s[i + 1] > 0x20 &&
			    (unsigned char)s[i + 1] < 0x7f)
				parser_fail(p, i, "invalid escape '\\%c'",
					    s[i + 1]);
			else
				parser_fail(p, i, "invalid escape");
			return -1;
		}
		i += 2;
	}
	out[o] = '\0';
	*out_length = o;
	p->pos = end + 1;
	return 0;
}

static struct json_value *parser_value(struct parser *p);

static struct json_value *
parser_array(struct parser *p)
{
	struct json_value *array, *item;

	array = value_new(JSON_ARRAY);
	p->pos++;
	parser_skip_space(p);
	if (p->pos < p->length && p->text[p->pos] == ']') {
		p->pos++;
		return array;
	}
	for (;;) {
		item = parser_value(p);
		if (item == NULL)
			goto fail;
		array_push(array, item);
		parser_skip_space(p);
		if (p->pos < p->length && p->text[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->length && p->text[p->pos] == ']') {
			p->pos++;
			return array;
		}
		parser_unexpected(p, p->pos, "expected ',' or ']'");
		goto fail;
	}
fail:
	json_free(array);
	return NULL;
}

static struct json_value *
parser_object(struct parser *p)
{
	struct json_value *object, *value;
	size_t key_length, end;
	char *key;

	object = value_new(JSON_OBJECT);
	p->pos++;
	parser_skip_space(p);
	if (p->pos < p->length && p->text[p->pos] == '}') {
		p->pos++;
		return object;
	}
	for (;;) {
		parser_skip_space(p);
		if (p->pos >= p->length || p->text[p->pos] != '"') {
			parser_unexpected(p, p->pos, "expected a string key");
			goto fail;
		}
		if (parser_string_end(p, &end) == -1)
			goto fail;
		key = xmalloc(end - p->pos);
		if (parser_string_decode(p, end, key, &key_length) == -1) {
			free(key);
			goto fail;
		}
		parser_skip_space(p);
		if (p->pos >= p->length || p->text[p->pos] != ':') {
			free(key);
			parser_unexpected(p, p->pos, "expected ':'");
			goto fail;
		}
		p->pos++;
		value = parser_value(p);
		if (value == NULL) {
			free(key);
			goto fail;
		}
		object_put(object, key, key_length, value);
		parser_skip_space(p);
		if (p->pos < p->length && p->text[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->length && p->text[p->pos] == '}') {
			p->pos++;
			return object;
		}
		parser_unexpected(p, p->pos, "expected ',' or '}'");
		goto fail;
	}
fail:
	json_free(object);
	return NULL;
}

static struct json_value *
parser_literal(struct parser *p, const char *word, enum json_type type,
	       int boolean)
{
	size_t n = strlen(word);
	struct json_value *v;

	if (p->length - p->pos < n || memcmp(p->text + p->pos, word, n) != 0) {
		parser_fail(p, p->pos, "invalid literal, expected '%s'", word);
		return NULL;
	}
	v = value_new(type);
	v->u.boolean = boolean;
	p->pos += n;
	return v;
}

static struct json_value *
parser_value(struct parser *p)
{
	struct json_value *v;
	const char *why = NULL;
	size_t n, end, bad = 0;
	char c;

	parser_skip_space(p);
	if (p->pos >= p->length) {
		parser_unexpected(p, p->pos, "expected a value");
		return NULL;
	}
	c = p->text[p->pos];
	switch (c) {
	case '{':
	case '[':
		if (p->depth >= JSON_MAX_DEPTH) {
			parser_fail(p, p->pos, "nesting deeper than %d levels",
				    JSON_MAX_DEPTH);
			return NULL;
		}
		p->depth++;
		v = c == '{' ? parser_object(p) : parser_array(p);
		p->depth--;
		return v;
	case '"':
		if (parser_string_end(p, &end) == -1)
			return NULL;
		v = value_new_bytes(JSON_STRING, end - p->pos - 1);
		if (parser_string_decode(p, end, v->u.string.data,
					 &v->u.string.length) == -1) {
			free(v);
			return NULL;
		}
		return v;
	case 't':
		return parser_literal(p, "true", JSON_BOOL, 1);
	case 'f':
		return parser_literal(p, "false", JSON_BOOL, 0);
	case 'n':
		return parser_literal(p, "null", JSON_NULL, 0);
	default:
		if (c != '-' && (c < '0' || c > '9')) {
			parser_unexpected(p, p->pos, "expected a value");
			return NULL;
		}
		n = number_scan(p->text + p->pos, p->length - p->pos, &bad,
				&why);
		if (n == 0) {
			parser_fail(p, p->pos + bad, "%s", why);
			return NULL;
		}
		v = number_new(p->text + p->pos, n);
		p->pos += n;
		return v;
	}
}

struct json_value *
json_parse(const char *text, size_t length, char *error, size_t error_size)
{
	struct parser p = {
		.text = text,
		.length = text == NULL ? 0 : length,
		.error = error,
		.error_size = error_size,
	};
	struct json_value *v;

	if (error != NULL && error_size > 0)
		error[0] = '\0';
	if (p.length >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		p.pos = 3;
	v = parser_value(&p);
	if (v == NULL)
		return NULL;
	parser_skip_space(&p);
	if (p.pos < p.length) {
		parser_unexpected(&p, p.pos, "expected end of input");
		json_free(v);
		return NULL;
	}
	return v;
}

/* Accessors */

enum json_type
json_type(const struct json_value *value)
{
	return value == NULL ? JSON_NULL : value->type;
}

size_t
json_length(const struct json_value *value)
{
	if (value == NULL)
		return 0;
	if (value->type == JSON_ARRAY)
		return value->u.array.count;
	if (value->type == JSON_OBJECT)
		return value->u.object.count;
	return 0;
}

/* Whether array[index] exists. */
static int
array_has(const struct json_value *array, size_t index)
{
	return array != NULL && array->type == JSON_ARRAY &&
	       index < array->u.array.count;
}

const struct json_value *
json_array_at(const struct json_value *array, size_t index)
{
	return array_has(array, index) ? array->u.array.items[index] : NULL;
}

struct json_value *
json_array_at_mutable(struct json_value *array, size_t index)
{
	return array_has(array, index) ? array->u.array.items[index] : NULL;
}

const char *
json_object_key_at(const struct json_value *object, size_t index)
{
	if (object == NULL || object->type != JSON_OBJECT ||
	    index >= object->u.object.count)
		return NULL;
	return object->u.object.members[index].key;
}

const struct json_value *
json_object_value_at(const struct json_value *object, size_t index)
{
	if (object == NULL || object->type != JSON_OBJECT ||
	    index >= object->u.object.count)
		return NULL;
	return object->u.object.members[index].value;
}

/* The index of the member named `key`, or SIZE_MAX. */
static size_t
member_index(const struct json_value *object, const char *key)
{
	if (object == NULL || object->type != JSON_OBJECT || key == NULL)
		return SIZE_MAX;
	return object_find(object, key, strlen(key));
}

const struct json_value *
json_object_get(const struct json_value *object, const char *key)
{
	size_t i = member_index(object, key);

	return i == SIZE_MAX ? NULL : object->u.object.members[i].value;
}

struct json_value *
json_object_get_mutable(struct json_value *object, const char *key)
{
	size_t i = member_index(object, key);

	return i == SIZE_MAX ? NULL : object->u.object.members[i].value;
}

const char *
json_string(const struct json_value *value)
{
	if (value == NULL || value->type != JSON_STRING)
		return NULL;
	return value->u.string.data;
}

size_t
json_string_length(const struct json_value *value)
{
	if (value == NULL || value->type != JSON_STRING)
		return 0;
	return value->u.string.length;
}

int
json_bool(const struct json_value *value)
{
	return value != NULL && value->type == JSON_BOOL && value->u.boolean;
}

double
json_number(const struct json_value *value)
{
	if (value == NULL || value->type != JSON_NUMBER)
		return 0.0;
	return number_to_double(value->u.number);
}

/* Exact conversion of an integer text; -1 when out of range. */
static int
integer_text_to_int64(const char *text, int64_t *out)
{
	const char *s = text;
	uint64_t limit = INT64_MAX, v = 0;
	int negative = 0;
	unsigned digit;

	if (*s == '-') {
		negative = 1;
		limit = (uint64_t)INT64_MAX + 1;
		s++;
	}
	for (; *s != '\0'; s++) {
		digit = (unsigned)(*s - '0');
		if (v > (limit - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	if (negative)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return 0;
}

int
json_int64(const struct json_value *value, int64_t *out)
{
	int64_t i;
	double d;

	if (value == NULL || value->type != JSON_NUMBER)
		return -1;
	if (number_is_integer_text(value->u.number)) {
		if (integer_text_to_int64(value->u.number, &i) == -1)
			return -1;
	} else {
		/* 1.0 or 1e3: integral when the double is exactly so. */
		d = number_to_double(value->u.number);
		if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
			return -1;
		i = (int64_t)d;
		if ((double)i != d)
			return -1;
	}
	if (out != NULL)
		*out = i;
	return 0;
}

const char *
json_number_text(const struct json_value *value)
{
	if (value == NULL || value->type != JSON_NUMBER)
		return NULL;
	return value->u.number;
}

const char *
json_get_string(const struct json_value *object, const char *key)
{
	return json_string(json_object_get(object, key));
}

int
json_get_int64(const struct json_value *object, const char *key, int64_t *out)
{
	return json_int64(json_object_get(object, key), out);
}

/* Building */

struct json_value *
json_new_null(void)
{
	return value_new(JSON_NULL);
}

struct json_value *
json_new_bool(int value)
{
	struct json_value *v = value_new(JSON_BOOL);

	v->u.boolean = value != 0;
	return v;
}

struct json_value *
json_new_int64(int64_t value)
{
	char text[32];
	int n;

	/* 20 digits and a sign at most: never cut. */
	n = snprintf(text, sizeof(text), "%" PRId64, value);
	return number_new(text, (size_t)n);
}

struct json_value *
json_new_double(double value)
{
	char text[64];

	if (!isfinite(value))
		return json_new_null();
	number_format(value, text, sizeof(text));
	return number_new(text, strlen(text));
}

struct json_value *
json_new_number_text(const char *text)
{
	const char *why;
	size_t length, bad;

	if (text == NULL)
		return NULL;
	length = strlen(text);
	if (number_scan(text, length, &bad, &why) != length || length == 0)
		return NULL;
	return number_new(text, length);
}

struct json_value *
json_new_string(const char *text)
{
	if (text == NULL)
		return NULL;
	return json_new_string_length(text, strlen(text));
}

struct json_value *
json_new_string_length(const char *text, size_t length)
{
	struct json_value *v;

	if (text == NULL && length > 0)
		return NULL;
	v = value_new_bytes(JSON_STRING, length);
	if (length > 0)
		memcpy(v->u.string.data, text, length);
	v->u.string.data[length] = '\0';
	v->u.string.length = length;
	return v;
}

struct json_value *
json_new_array(void)
{
	return value_new(JSON_ARRAY);
}

struct json_value *
json_new_object(void)
{
	return value_new(JSON_OBJECT);
}

struct json_value *
json_clone(const struct json_value *value)
{
	struct json_value *copy;
	const struct json_member *m;
	char *key;
	size_t i;

	if (value == NULL)
		return NULL;
	switch (value->type) {
	case JSON_NULL:
		return json_new_null();
	case JSON_BOOL:
		return json_new_bool(value->u.boolean);
	case JSON_NUMBER:
		return number_new(value->u.number, strlen(value->u.number));
	case JSON_STRING:
		return json_new_string_length(value->u.string.data,
					      value->u.string.length);
	case JSON_ARRAY:
		copy = json_new_array();
		for (i = 0; i < value->u.array.count; i++)
			array_push(copy, json_clone(value->u.array.items[i]));
		return copy;
	case JSON_OBJECT:
		copy = json_new_object();
		for (i = 0; i < value->u.object.count; i++) {
			m = &value->u.object.members[i];
			key = copy_bytes(m->key, m->key_length);
			object_put(copy, key, m->key_length,
				   json_clone(m->value));
		}
		return copy;
	}
	return NULL;
}

int
json_object_set(struct json_value *object, const char *key,
		struct json_value *value)
{
	char *copy;
	size_t length;

	if (object == NULL || object->type != JSON_OBJECT || key == NULL ||
	    value == NULL) {
		json_free(value);
		return -1;
	}
	length = strlen(key);
	copy = copy_bytes(key, length);
	object_put(object, copy, length, value);
	return 0;
}

struct json_value *
json_object_take(struct json_value *object, const char *key)
{
	struct json_value *value;
	size_t i;

	if (object == NULL || object->type != JSON_OBJECT || key == NULL)
		return NULL;
	i = object_find(object, key, strlen(key));
	if (i == SIZE_MAX)
		return NULL;
	value = object->u.object.members[i].value;
	free(object->u.object.members[i].key);
	memmove(&object->u.object.members[i], &object->u.object.members[i + 1],
		(object->u.object.count - i - 1) *
			sizeof(object->u.object.members[0]));
	object->u.object.count--;
	if (object->u.object.slot_count != 0)
		index_rebuild(object);
	return value;
}

int
json_array_append(struct json_value *array, struct json_value *value)
{
	if (array == NULL || array->type != JSON_ARRAY || value == NULL) {
		json_free(value);
		return -1;
	}
	array_push(array, value);
	return 0;
}

int
json_object_set_string(struct json_value *object, const char *key,
		       const char *text)
{
	return json_object_set(object, key, json_new_string(text));
}

int
json_object_set_int64(struct json_value *object, const char *key, int64_t value)
{
	return json_object_set(object, key, json_new_int64(value));
}

/* Equality */

/* Integers of any size by value: sign (none for zero) and digits. */
static int
integer_text_equal(const char *a, const char *b)
{
	int a_negative = a[0] == '-' && strcmp(a, "-0") != 0;
	int b_negative = b[0] == '-' && strcmp(b, "-0") != 0;

	if (a_negative != b_negative)
		return 0;
	if (a[0] == '-')
		a++;
	if (b[0] == '-')
		b++;
	return strcmp(a, b) == 0;
}

static int
number_equal(const char *a, const char *b)
{
	if (number_is_integer_text(a) && number_is_integer_text(b))
		return integer_text_equal(a, b);
	return number_to_double(a) == number_to_double(b);
}

int
json_equal(const struct json_value *a, const struct json_value *b)
{
	const struct json_member *m;
	size_t i, j;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case JSON_NULL:
		return 1;
	case JSON_BOOL:
		return (a->u.boolean != 0) == (b->u.boolean != 0);
	case JSON_NUMBER:
		return number_equal(a->u.number, b->u.number);
	case JSON_STRING:
		return a->u.string.length == b->u.string.length &&
		       memcmp(a->u.string.data, b->u.string.data,
			      a->u.string.length) == 0;
	case JSON_ARRAY:
		if (a->u.array.count != b->u.array.count)
			return 0;
		for (i = 0; i < a->u.array.count; i++)
			if (!json_equal(a->u.array.items[i],
					b->u.array.items[i]))
				return 0;
		return 1;
	case JSON_OBJECT:
		/* Keys are unique in an object, so equal counts suffice. */
		if (a->u.object.count != b->u.object.count)
			return 0;
		for (i = 0; i < a->u.object.count; i++) {
			m = &a->u.object.members[i];
			j = object_find(b, m->key, m->key_length);
			if (j == SIZE_MAX ||
			    !json_equal(m->value, b->u.object.members[j].value))
				return 0;
		}
		return 1;
	}
	return 0;
}

/* Serialiser */

struct output {
	char *data;
	size_t length;
	size_t capacity;
};

static void
output_append(struct output *o, const char *data, size_t length)
{
	size_t capacity;

	if (length >= SIZE_MAX - o->length)
		xalloc_die();
	if (o->length + length + 1 > o->capacity) {
		capacity = o->capacity ? o->capacity : 256;
		while (capacity < o->length + length + 1) {
			if (capacity > SIZE_MAX / 2) {
				capacity = o->length + length + 1;
				break;
			}
			capacity *= 2;
		}
		o->data = xrealloc(o->data, capacity);
		o->capacity = capacity;
	}
	memcpy(o->data + o->length, data, length);
	o->length += length;
	o->data[o->length] = '\0';
}

static void
output_string(struct output *o, const char *data, size_t length)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)data;
	size_t i = 0, run, n;
	char escape[6];

	output_append(o, "\"", 1);
	while (i < length) {
		/* Copy the longest run that needs no escaping at once. */
		for (run = i; run < length; run += n) {
			if (s[run] < 0x20 || s[run] == '"' || s[run] == '\\')
				break;
			n = utf8_sequence_length(s + run, length - run);
			if (n == 0)
				break;
		}
		output_append(o, data + i, run - i);
		i = run;
		if (i >= length)
			break;
		escape[0] = '\\';
		n = 2;
		switch (s[i]) {
		case '"':
			escape[1] = '"';
			break;
		case '\\':
			escape[1] = '\\';
			break;
		case '\b':
			escape[1] = 'b';
			break;
		case '\f':
			escape[1] = 'f';
			break;
		case '\n':
			escape[1] = 'n';
			break;
		case '\r':
			escape[1] = 'r';
			break;
		case '\t':
			escape[1] = 't';
			break;
		default:
			/* Other controls and bytes of invalid UTF-8. */
			escape[1] = 'u';
			escape[2] = '0';
			escape[3] = '0';
			escape[4] = hex[s[i] >> 4];
			escape[5] = hex[s[i] & 0xf];
			n = 6;
			break;
		}
		output_append(o, escape, n);
		i++;
	}
	output_append(o, "\"", 1);
}

static void
output_newline(struct output *o, enum json_style style, size_t depth)
{
	static const char spaces[] = "                                ";
	size_t n = depth * 2, chunk;

	if (style != JSON_PRETTY)
		return;
	output_append(o, "\n", 1);
	while (n > 0) {
		chunk = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
		output_append(o, spaces, chunk);
		n -= chunk;
	}
}

static void
output_value(struct output *o, const struct json_value *v,
	     enum json_style style, size_t depth)
{
	const struct json_member *m;
	size_t i;

	switch (v->type) {
	case JSON_NULL:
		output_append(o, "null", 4);
		break;
	case JSON_BOOL:
		if (v->u.boolean)
			output_append(o, "true", 4);
		else
			output_append(o, "false", 5);
		break;
	case JSON_NUMBER:
		output_append(o, v->u.number, strlen(v->u.number));
		break;
	case JSON_STRING:
		output_string(o, v->u.string.data, v->u.string.length);
		break;
	case JSON_ARRAY:
		output_append(o, "[", 1);
		for (i = 0; i < v->u.array.count; i++) {
			if (i > 0)
				output_append(o, ",", 1);
			output_newline(o, style, depth + 1);
			output_value(o, v->u.array.items[i], style, depth + 1);
		}
		if (v->u.array.count > 0)
			output_newline(o, style, depth);
		output_append(o, "]", 1);
		break;
	case JSON_OBJECT:
		output_append(o, "{", 1);
		for (i = 0; i < v->u.object.count; i++) {
			m = &v->u.object.members[i];
			if (i > 0)
				output_append(o, ",", 1);
			output_newline(o, style, depth + 1);
			output_string(o, m->key, m->key_length);
			if (style == JSON_PRETTY)
				output_append(o, ": ", 2);
			else
				output_append(o, ":", 1);
			output_value(o, m->value, style, depth + 1);
		}
		if (v->u.object.count > 0)
			output_newline(o, style, depth);
		output_append(o, "}", 1);
		break;
	}
}

char *
json_serialize(const struct json_value *value, enum json_style style,
	       size_t *length)
{
	struct output o = {0};

	if (value == NULL)
		return NULL;
	output_value(&o, value, style, 0);
	if (o.data == NULL)
		o.data = copy_bytes("", 0);
	if (length != NULL)
		*length = o.length;
	return o.data;
}
