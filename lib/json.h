/*
 * JSON reading and writing for manifests, the catalogue, command output and
 * plugins that speak JSON (kong). A parsed document is a tree of
 * struct json_value nodes; numbers keep their original text so that they
 * round-trip exactly (64-bit ids, Kong's floats). Object members keep their
 * order. This module depends on nothing but libc and xalloc.c, so plugins
 * can link it. Running out of memory aborts the program (xalloc.h): no
 * function here returns NULL or -1 for lack of memory.
 *
 * Ownership: every json_new_* and json_parse result is owned by the caller
 * and released with json_free. json_object_set and json_array_append take
 * ownership of the value they are given, also when they fail. Accessors
 * return borrowed pointers that live as long as the tree.
 */
#ifndef CAIRN_JSON_H
#define CAIRN_JSON_H

#include <stddef.h>
#include <stdint.h>

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_value;

/*
 * Parses `length` bytes of `text` (which need not be NUL-terminated).
 * Returns NULL on error after writing "line L, column C: what" into
 * `error`. Nesting deeper than 512 levels is an error.
 */
struct json_value *json_parse(const char *text, size_t length, char *error,
			      size_t error_size);
void json_free(struct json_value *value);

enum json_type json_type(const struct json_value *value);

/* Arrays and objects: number of items or members; 0 for other types. */
size_t json_length(const struct json_value *value);
const struct json_value *json_array_at(const struct json_value *array,
				       size_t index);
/* The same item, for a caller that owns the array and changes the item. */
struct json_value *json_array_at_mutable(struct json_value *array,
					 size_t index);
const char *json_object_key_at(const struct json_value *object, size_t index);
const struct json_value *json_object_value_at(const struct json_value *object,
					      size_t index);
/* The member named `key`, or NULL (also when `object` is not an object). */
const struct json_value *json_object_get(const struct json_value *object,
					 const char *key);
/* The same member, for a caller that owns the object and changes it. */
struct json_value *json_object_get_mutable(struct json_value *object,
					   const char *key);

/* Scalars. json_string returns NULL for a non-string; strings may hold
 * NUL bytes, so json_string_length gives their length. */
const char *json_string(const struct json_value *value);
size_t json_string_length(const struct json_value *value);
int json_bool(const struct json_value *value); /* 0 unless true */
double json_number(const struct json_value *value);
/* 0 and *out when the value is an integral number in range, else -1. */
int json_int64(const struct json_value *value, int64_t *out);
/* The number as written in the source, or as formatted when built. */
const char *json_number_text(const struct json_value *value);

/* Member shortcuts: NULL or -1 when absent or of another type. */
const char *json_get_string(const struct json_value *object, const char *key);
int json_get_int64(const struct json_value *object, const char *key,
		   int64_t *out);

/*
 * Building. None returns NULL, except json_new_number_text of a text that
 * is not a JSON number and json_new_string of NULL.
 */
struct json_value *json_new_null(void);
struct json_value *json_new_bool(int value);
struct json_value *json_new_int64(int64_t value);
struct json_value *json_new_double(double value);
/* A number from its JSON text, which must be a valid JSON number. */
struct json_value *json_new_number_text(const char *text);
struct json_value *json_new_string(const char *text);
struct json_value *json_new_string_length(const char *text, size_t length);
struct json_value *json_new_array(void);
struct json_value *json_new_object(void);
/* A deep copy. */
struct json_value *json_clone(const struct json_value *value);

/*
 * Replaces an existing member of the same key in place. 0, or -1 (value
 * freed) only when `object` is not an object or `key` or `value` is NULL.
 */
int json_object_set(struct json_value *object, const char *key,
		    struct json_value *value);
/* Removes the member and returns it (owned by the caller), or NULL. */
struct json_value *json_object_take(struct json_value *object, const char *key);
/* 0, or -1 (value freed) when `array` is not an array or `value` NULL. */
int json_array_append(struct json_value *array, struct json_value *value);

/* Shortcuts that build the value and set it; -1 as json_object_set. */
int json_object_set_string(struct json_value *object, const char *key,
			   const char *text);
int json_object_set_int64(struct json_value *object, const char *key,
			  int64_t value);

/* Structural equality; object member order does not matter. */
int json_equal(const struct json_value *a, const struct json_value *b);

enum json_style {
	JSON_COMPACT, /* one line, no spaces */
	JSON_PRETTY,  /* two-space indent, one member per line */
};

/*
 * Serialises `value` as UTF-8 JSON text, NUL-terminated, into a malloc'd
 * buffer owned by the caller; *length (if not NULL) receives its length
 * without the NUL. Strings are escaped per RFC 8259 ("/" is not escaped);
 * invalid UTF-8 bytes are written as \u00XX escapes of the byte. NULL only
 * when `value` is NULL.
 */
char *json_serialize(const struct json_value *value, enum json_style style,
		     size_t *length);

#endif
