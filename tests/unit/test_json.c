/*
 * Unit tests of the JSON module: parsing of every type, escapes and
 * surrogate pairs, rejected inputs and the position of their error, exact
 * round trip of numbers, building and editing trees, equality and the
 * escaping done by the serialiser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "json.h"

static struct json_value *
parse_ok(const char *text)
{
	char error[256];
	struct json_value *v;

	v = json_parse(text, strlen(text), error, sizeof(error));
	if (v == NULL)
		fail_msg("cannot parse '%s': %s", text, error);
	return v;
}

static void
expect_error(const char *text, size_t length, const char *message)
{
	char error[256];
	struct json_value *v;

	v = json_parse(text, length, error, sizeof(error));
	if (v != NULL) {
		json_free(v);
		fail_msg("'%s' parsed but should not", text);
	}
	assert_string_equal(error, message);
}

static void
expect_parse_error(const char *text, const char *message)
{
	expect_error(text, strlen(text), message);
}

/* Serialises compactly, checks the text and frees it. */
static void
expect_compact(const struct json_value *v, const char *expected)
{
	size_t length = 0;
	char *text;

	text = json_serialize(v, JSON_COMPACT, &length);
	assert_non_null(text);
	assert_string_equal(text, expected);
	assert_int_equal(length, strlen(expected));
	free(text);
}

static void
test_scalars(void **state)
{
	struct json_value *v;
	int64_t i;

	(void)state;
	v = parse_ok("null");
	assert_int_equal(json_type(v), JSON_NULL);
	assert_null(json_string(v));
	assert_int_equal(json_length(v), 0);
	json_free(v);

	v = parse_ok(" true ");
	assert_int_equal(json_type(v), JSON_BOOL);
	assert_int_equal(json_bool(v), 1);
	json_free(v);

	v = parse_ok("\t\r\nfalse");
	assert_int_equal(json_type(v), JSON_BOOL);
	assert_int_equal(json_bool(v), 0);
	json_free(v);

	v = parse_ok("-42");
	assert_int_equal(json_type(v), JSON_NUMBER);
	assert_int_equal(json_int64(v, &i), 0);
	assert_int_equal(i, -42);
	assert_true(json_number(v) == -42.0);
	assert_string_equal(json_number_text(v), "-42");
	assert_null(json_string(v));
	json_free(v);

	v = parse_ok("3.25e2");
	assert_true(json_number(v) == 325.0);
	assert_int_equal(json_int64(v, &i), 0);
	assert_int_equal(i, 325);
	json_free(v);

	v = parse_ok("0.5");
	assert_int_equal(json_int64(v, &i), -1);
	assert_true(json_number(v) == 0.5);
	json_free(v);

	v = parse_ok("9223372036854775807");
	assert_int_equal(json_int64(v, &i), 0);
	assert_true(i == INT64_MAX);
	json_free(v);
	v = parse_ok("-9223372036854775808");
	assert_int_equal(json_int64(v, &i), 0);
	assert_true(i == INT64_MIN);
	json_free(v);
	v = parse_ok("9223372036854775808");
	assert_int_equal(json_int64(v, &i), -1);
	json_free(v);

	v = parse_ok("\"hello\"");
	assert_int_equal(json_type(v), JSON_STRING);
	assert_string_equal(json_string(v), "hello");
	assert_int_equal(json_string_length(v), 5);
	assert_int_equal(json_bool(v), 0);
	assert_true(json_number(v) == 0.0);
	assert_null(json_number_text(v));
	assert_int_equal(json_int64(v, &i), -1);
	json_free(v);

	/* Not NUL-terminated: only `length` bytes are read. */
	v = json_parse("[1]garbage", 3, NULL, 0);
	assert_non_null(v);
	assert_int_equal(json_length(v), 1);
	json_free(v);

	/* A UTF-8 byte order mark is skipped. */
	v = parse_ok("\xef\xbb\xbf{}");
	assert_int_equal(json_type(v), JSON_OBJECT);
	json_free(v);
}

static void
test_nested(void **state)
{
	const struct json_value *a, *o;
	struct json_value *v;
	int64_t i;

	(void)state;
	v = parse_ok("{\"name\": \"pg\", \"sizes\": [1, [2, {\"x\": null}], "
		     "{}], \"ok\": true, \"n\": 7, \"empty\": []}");
	assert_int_equal(json_type(v), JSON_OBJECT);
	assert_int_equal(json_length(v), 5);
	/* Member order is kept. */
	assert_string_equal(json_object_key_at(v, 0), "name");
	assert_string_equal(json_object_key_at(v, 1), "sizes");
	assert_string_equal(json_object_key_at(v, 4), "empty");
	assert_null(json_object_key_at(v, 5));
	assert_null(json_object_value_at(v, 5));
	assert_string_equal(json_get_string(v, "name"), "pg");
	assert_null(json_get_string(v, "n"));
	assert_null(json_get_string(v, "missing"));
	assert_int_equal(json_get_int64(v, "n", &i), 0);
	assert_int_equal(i, 7);
	assert_int_equal(json_get_int64(v, "name", &i), -1);
	assert_int_equal(json_get_int64(v, "missing", &i), -1);
	assert_int_equal(json_bool(json_object_get(v, "ok")), 1);

	a = json_object_get(v, "sizes");
	assert_int_equal(json_type(a), JSON_ARRAY);
	assert_int_equal(json_length(a), 3);
	assert_null(json_array_at(a, 3));
	assert_null(json_object_get(a, "x"));
	o = json_array_at(json_array_at(a, 1), 1);
	assert_int_equal(json_type(o), JSON_OBJECT);
	assert_int_equal(json_type(json_object_get(o, "x")), JSON_NULL);
	assert_non_null(json_object_get(o, "x"));
	assert_int_equal(json_length(json_array_at(a, 2)), 0);
	assert_int_equal(json_length(json_object_get(v, "empty")), 0);
	assert_null(json_array_at(v, 0));
	json_free(v);

	/* Duplicate keys: the last value wins, at the first one's place. */
	v = parse_ok("{\"a\": 1, \"b\": 2, \"a\": 3}");
	assert_int_equal(json_length(v), 2);
	assert_string_equal(json_object_key_at(v, 0), "a");
	assert_string_equal(json_number_text(json_object_value_at(v, 0)), "3");
	json_free(v);
}

static void
test_escapes(void **state)
{
	struct json_value *v;

	(void)state;
	v = parse_ok("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"");
	assert_string_equal(json_string(v), "a\"b\\c/d\b\f\n\r\t");
	json_free(v);

	v = parse_ok("\"\\u0041\\u00e9\\u20AC\"");
	assert_string_equal(json_string(v), "A\xc3\xa9\xe2\x82\xac");
	json_free(v);

	/* U+1F600 as a surrogate pair, and raw. */
	v = parse_ok("\"\\ud83d\\uDE00 \xf0\x9f\x98\x80\"");
	assert_string_equal(json_string(v),
			    "\xf0\x9f\x98\x80 \xf0\x9f\x98\x80");
	json_free(v);

	/* Embedded NUL. */
	v = parse_ok("\"a\\u0000b\"");
	assert_int_equal(json_string_length(v), 3);
	assert_memory_equal(json_string(v), "a\0b", 4);
	expect_compact(v, "\"a\\u0000b\"");
	json_free(v);

	/* A key holding a NUL keeps its length. */
	v = parse_ok("{\"k\\u0000x\": 1, \"k\": 2}");
	assert_int_equal(json_length(v), 2);
	assert_string_equal(json_number_text(json_object_get(v, "k")), "2");
	expect_compact(v, "{\"k\\u0000x\":1,\"k\":2}");
	json_free(v);
}

static void
test_invalid(void **state)
{
	char error[8];

	(void)state;
	expect_parse_error("", "line 1, column 1: unexpected end of input, "
			       "expected a value");
	expect_parse_error("   ", "line 1, column 4: unexpected end of input, "
				  "expected a value");
	expect_parse_error("[1, 2",
			   "line 1, column 6: unexpected end of input, "
			   "expected ',' or ']'");
	expect_parse_error("{\"a\": \"b",
			   "line 1, column 9: unexpected end of input in "
			   "string");
	expect_parse_error("{\"a\"",
			   "line 1, column 5: unexpected end of input, "
			   "expected ':'");
	expect_parse_error("\"ab\\",
			   "line 1, column 5: unexpected end of input in "
			   "string");
	expect_parse_error("[\"x\\q\"]",
			   "line 1, column 4: invalid escape '\\q'");
	expect_parse_error("\"\\u12\"",
			   "line 1, column 6: expected a hex digit in \\u "
			   "escape");
	expect_parse_error("\"\\ud800\"",
			   "line 1, column 2: lone high surrogate \\uD800");
	expect_parse_error("\"\\ud800\\u0041\"",
			   "line 1, column 2: lone high surrogate \\uD800");
	expect_parse_error("\"ab\\udc00\"",
			   "line 1, column 4: lone low surrogate \\uDC00");
	expect_parse_error("01", "line 1, column 1: leading zero in number");
	expect_parse_error("[-00]", "line 1, column 3: leading zero in number");
	expect_parse_error("1.", "line 1, column 3: expected a digit after the "
				 "decimal point");
	expect_parse_error("1e+", "line 1, column 4: expected a digit in the "
				  "exponent");
	expect_parse_error("-", "line 1, column 2: expected a digit");
	expect_parse_error("+1", "line 1, column 1: unexpected character '+', "
				 "expected a value");
	expect_parse_error(".5", "line 1, column 1: unexpected character '.', "
				 "expected a value");
	expect_parse_error("[1] x",
			   "line 1, column 5: unexpected character 'x', "
			   "expected end of input");
	expect_parse_error("{}{}",
			   "line 1, column 3: unexpected character '{', "
			   "expected end of input");
	expect_error("1\0", 2,
		     "line 1, column 2: unexpected byte 0x00, expected end "
		     "of input");
	expect_parse_error("[1,]",
			   "line 1, column 4: unexpected character ']', "
			   "expected a value");
	expect_parse_error("{\"a\": 1,}",
			   "line 1, column 9: unexpected character '}', "
			   "expected a string key");
	expect_parse_error("{a: 1}",
			   "line 1, column 2: unexpected character 'a', "
			   "expected a string key");
	expect_parse_error("[1 2]",
			   "line 1, column 4: unexpected character '2', "
			   "expected ',' or ']'");
	expect_parse_error("{\n  \"a\": tru\n}",
			   "line 2, column 8: invalid literal, expected "
			   "'true'");
	expect_parse_error("[NaN]",
			   "line 1, column 2: unexpected character 'N', "
			   "expected a value");
	expect_parse_error("// c\n1",
			   "line 1, column 1: unexpected character '/', "
			   "expected a value");
	expect_parse_error("\"tab\there\"",
			   "line 1, column 5: unescaped control character "
			   "0x09 in string");
	expect_parse_error("\"\xc3\"",
			   "line 1, column 2: invalid UTF-8 in string");
	expect_parse_error("\"\xed\xa0\x80\"",
			   "line 1, column 2: invalid UTF-8 in string");
	/* Columns count characters, not bytes. */
	expect_parse_error("\"\xc3\xa9\xc3\xa9\" x",
			   "line 1, column 6: unexpected character 'x', "
			   "expected end of input");

	/* 512 levels are fine, 513 are not. */
	{
		char text[1100];
		struct json_value *v;

		memset(text, '[', 512);
		memset(text + 512, ']', 512);
		v = json_parse(text, 1024, NULL, 0);
		assert_non_null(v);
		json_free(v);
		memset(text, '[', 513);
		memset(text + 513, ']', 513);
		expect_error(text, 1026,
			     "line 1, column 513: nesting deeper than 512 "
			     "levels");
		memcpy(text, "{\"a\":", 5);
		memset(text + 5, '[', 512);
		expect_error(text, 517 + 512,
			     "line 1, column 517: nesting deeper than 512 "
			     "levels");
	}

	/* A small or absent error buffer is fine. */
	assert_null(json_parse("[", 1, error, sizeof(error)));
	assert_string_equal(error, "line 1,");
	assert_null(json_parse("[", 1, NULL, 0));
	assert_null(json_parse(NULL, 0, NULL, 0));
}

static void
test_number_round_trip(void **state)
{
	static const char *texts[] = {
		"12345678901234567890",
		"1.5e-300",
		"-0",
		"0.1",
		"1E+2",
		"-123.456e-7",
		"100000000000000000000000000001",
		"3.141592653589793238462643383279",
	};
	struct json_value *v, *w;
	char *text;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		v = parse_ok(texts[i]);
		assert_string_equal(json_number_text(v), texts[i]);
		expect_compact(v, texts[i]);
		w = json_clone(v);
		assert_string_equal(json_number_text(w), texts[i]);
		assert_true(json_equal(v, w));
		json_free(w);
		json_free(v);
	}
	v = parse_ok("[12345678901234567890, 1.5e-300]");
	text = json_serialize(v, JSON_COMPACT, NULL);
	assert_string_equal(text, "[12345678901234567890,1.5e-300]");
	free(text);
	assert_true(json_number(json_array_at(v, 1)) == 1.5e-300);
	json_free(v);

	/* Built doubles read back to the same value, and never as nan. */
	v = json_new_double(0.1);
	assert_string_equal(json_number_text(v), "0.1");
	assert_true(json_number(v) == 0.1);
	json_free(v);
	v = json_new_double(1.5e-300);
	assert_true(json_number(v) == 1.5e-300);
	json_free(v);
	v = json_new_double(1.0 / 3.0);
	assert_true(json_number(v) == 1.0 / 3.0);
	json_free(v);
	v = json_new_double(NAN);
	assert_int_equal(json_type(v), JSON_NULL);
	expect_compact(v, "null");
	json_free(v);
	v = json_new_double(-INFINITY);
	expect_compact(v, "null");
	json_free(v);
	v = json_new_int64(INT64_MIN);
	expect_compact(v, "-9223372036854775808");
	json_free(v);

	v = json_new_number_text("12345678901234567890");
	expect_compact(v, "12345678901234567890");
	json_free(v);
	assert_null(json_new_number_text("01"));
	assert_null(json_new_number_text("1 "));
	assert_null(json_new_number_text(""));
	assert_null(json_new_number_text("nan"));
}

static void
test_build(void **state)
{
	struct json_value *o, *a, *taken;
	char *text;
	int64_t i;

	(void)state;
	o = json_new_object();
	assert_int_equal(json_object_set_string(o, "name", "pg"), 0);
	assert_int_equal(json_object_set_int64(o, "size", 42), 0);
	a = json_new_array();
	assert_int_equal(json_array_append(a, json_new_bool(1)), 0);
	assert_int_equal(json_array_append(a, json_new_null()), 0);
	assert_int_equal(json_array_append(a, json_new_double(2.5)), 0);
	assert_int_equal(json_object_set(o, "list", a), 0);
	expect_compact(o, "{\"name\":\"pg\",\"size\":42,\"list\":[true,null,"
			  "2.5]}");

	/* Replace in place. */
	assert_int_equal(json_object_set_string(o, "size", "big"), 0);
	assert_int_equal(json_length(o), 3);
	assert_string_equal(json_object_key_at(o, 1), "size");
	assert_string_equal(json_get_string(o, "size"), "big");

	/* Take: the member leaves, the caller owns it. */
	taken = json_object_take(o, "name");
	assert_non_null(taken);
	assert_string_equal(json_string(taken), "pg");
	json_free(taken);
	assert_null(json_object_take(o, "name"));
	assert_null(json_object_get(o, "name"));
	assert_int_equal(json_length(o), 2);
	expect_compact(o, "{\"size\":\"big\",\"list\":[true,null,2.5]}");

	text = json_serialize(o, JSON_PRETTY, NULL);
	assert_string_equal(text, "{\n"
				  "  \"size\": \"big\",\n"
				  "  \"list\": [\n"
				  "    true,\n"
				  "    null,\n"
				  "    2.5\n"
				  "  ]\n"
				  "}");
	free(text);

	/* Failing calls free what they were given. */
	assert_int_equal(json_object_set(a, "x", json_new_null()), -1);
	assert_int_equal(json_array_append(o, json_new_null()), -1);
	assert_int_equal(json_object_set(o, NULL, json_new_null()), -1);
	assert_int_equal(json_object_set(o, "x", NULL), -1);
	assert_int_equal(json_object_set_string(o, "x", NULL), -1);
	assert_int_equal(json_array_append(NULL, json_new_string("s")), -1);
	assert_null(json_object_take(a, "x"));

	/* Many members: lookups, replacement and removal with the index. */
	for (i = 0; i < 3000; i++) {
		char key[32];

		snprintf(key, sizeof(key), "k%d", (int)i);
		assert_int_equal(json_object_set_int64(o, key, i), 0);
	}
	assert_int_equal(json_length(o), 3002);
	assert_int_equal(json_object_set_int64(o, "k1234", -1), 0);
	assert_int_equal(json_length(o), 3002);
	assert_int_equal(json_get_int64(o, "k1234", &i), 0);
	assert_int_equal(i, -1);
	taken = json_object_take(o, "k5");
	json_free(taken);
	assert_null(json_object_get(o, "k5"));
	assert_int_equal(json_get_int64(o, "k2999", &i), 0);
	assert_int_equal(i, 2999);
	assert_string_equal(json_object_key_at(o, 2), "k0");
	for (i = 0; i < 2995; i++) {
		char key[32];

		snprintf(key, sizeof(key), "k%d", (int)i);
		json_free(json_object_take(o, key));
	}
	assert_int_equal(json_length(o), 7);
	assert_int_equal(json_get_int64(o, "k2997", &i), 0);
	assert_int_equal(i, 2997);
	assert_string_equal(json_get_string(o, "size"), "big");

	/* Clone is deep and equal. */
	a = json_clone(o);
	assert_true(json_equal(a, o));
	assert_int_equal(json_object_set_int64(a, "k2997", 0), 0);
	assert_false(json_equal(a, o));
	json_free(a);
	json_free(o);

	assert_null(json_new_string(NULL));
	a = json_new_string_length("x\0y", 3);
	assert_int_equal(json_string_length(a), 3);
	json_free(a);
	json_free(NULL);
}

static int
equal_texts(const char *a, const char *b)
{
	struct json_value *va = parse_ok(a), *vb = parse_ok(b);
	int equal = json_equal(va, vb);

	json_free(va);
	json_free(vb);
	return equal;
}

static void
test_equal(void **state)
{
	(void)state;
	assert_true(equal_texts("{\"a\": 1, \"b\": [1, 2]}",
				"{\"b\": [1, 2], \"a\": 1}"));
	assert_false(equal_texts("[1, 2]", "[2, 1]"));
	assert_true(equal_texts("1", "1"));
	assert_true(equal_texts("1", "1.0"));
	assert_true(equal_texts("100", "1e2"));
	assert_true(equal_texts("0", "-0"));
	assert_true(
		equal_texts("12345678901234567890", "12345678901234567890"));
	assert_false(
		equal_texts("12345678901234567890", "12345678901234567891"));
	assert_false(equal_texts("1", "-1"));
	assert_false(equal_texts("1", "\"1\""));
	assert_false(equal_texts("true", "false"));
	assert_true(equal_texts("null", "null"));
	assert_false(equal_texts("{\"a\": 1}", "{\"a\": 1, \"b\": 2}"));
	assert_false(equal_texts("{\"a\": 1}", "{\"b\": 1}"));
	assert_false(equal_texts("\"a\\u0000\"", "\"a\""));
	assert_true(equal_texts("\"\\u00e9\"", "\"\xc3\xa9\""));
	assert_true(json_equal(NULL, NULL));
}

static void
test_serialize_escapes(void **state)
{
	struct json_value *v;
	char *text;

	(void)state;
	v = json_new_string_length("a/b\"c\\d\x01\x1f\b\f\n\r\t\x7f", 15);
	expect_compact(v, "\"a/b\\\"c\\\\d\\u0001\\u001f\\b\\f\\n\\r\\t\x7f\"");
	json_free(v);

	/* Invalid UTF-8 bytes become \u00XX; valid sequences stay. */
	v = json_new_string("\xff\xc3\xa9\xc3(\xed\xa0\x80\xf0\x9f\x98\x80");
	expect_compact(v, "\"\\u00ff\xc3\xa9\\u00c3(\\u00ed\\u00a0\\u0080"
			  "\xf0\x9f\x98\x80\"");
	json_free(v);

	/* Keys are escaped the same way. */
	v = json_new_object();
	assert_int_equal(json_object_set_string(v, "k\n\"", "\x80"), 0);
	expect_compact(v, "{\"k\\n\\\"\":\"\\u0080\"}");
	text = json_serialize(v, JSON_PRETTY, NULL);
	assert_string_equal(text, "{\n  \"k\\n\\\"\": \"\\u0080\"\n}");
	free(text);
	json_free(v);

	v = parse_ok("[[], {}, [[]]]");
	text = json_serialize(v, JSON_PRETTY, NULL);
	assert_string_equal(text, "[\n  [],\n  {},\n  [\n    []\n  ]\n]");
	free(text);
	json_free(v);
	assert_null(json_serialize(NULL, JSON_COMPACT, NULL));
}

static void
test_large_array(void **state)
{
	struct json_value *v, *w;
	size_t length, i, used = 0, size = 10000 * 160 + 16;
	char *text, *again;
	int64_t n;
	int written;

	(void)state;
	/* 10,000 catalogue-like records. */
	text = malloc(size);
	assert_non_null(text);
	text[used++] = '[';
	for (i = 0; i < 10000; i++) {
		written = snprintf(text + used, size - used,
				   "%s{\"id\": \"%016zx\", \"job\": \"pg\", "
				   "\"time\": %zu, \"bytes\": %zu, "
				   "\"ok\": true}",
				   i ? ", " : "", i * 7919, 1700000000 + i,
				   i * 1000);
		assert_true(written > 0 && (size_t)written < size - used);
		used += (size_t)written;
	}
	text[used++] = ']';
	v = json_parse(text, used, NULL, 0);
	assert_non_null(v);
	assert_int_equal(json_length(v), 10000);
	assert_int_equal(json_get_int64(json_array_at(v, 9999), "time", &n), 0);
	assert_int_equal(n, 1700009999);

	again = json_serialize(v, JSON_COMPACT, &length);
	assert_non_null(again);
	w = json_parse(again, length, NULL, 0);
	assert_non_null(w);
	assert_true(json_equal(v, w));
	free(again);
	json_free(w);
	json_free(v);
	free(text);

	/* And built one item at a time. */
	v = json_new_array();
	for (i = 0; i < 10000; i++)
		assert_int_equal(json_array_append(v,
						   json_new_int64((int64_t)i)),
				 0);
	assert_int_equal(json_int64(json_array_at(v, 9999), &n), 0);
	assert_int_equal(n, 9999);
	json_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_number_round_trip),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_serialize_escapes),
		cmocka_unit_test(test_large_array),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
