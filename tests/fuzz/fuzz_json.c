/*
 * libFuzzer target for the JSON module: whatever parses must serialise
 * (compact and pretty) to text that parses again to an equal tree, the
 * compact text must be stable, and a deep copy must be equal. Rejected
 * input must come with a "line L, column C: what" message. Built by hand:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Icore \
 *       core/json.c tests/fuzz/fuzz_json.c -o fuzz_json
 *   ./fuzz_json -max_total_time=120 tests/fuzz/corpus/json
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Calls every accessor on the tree, and edits a copy of objects. */
static void
walk(const struct json_value *v)
{
	struct json_value *copy, *taken;
	const char *key;
	int64_t i;
	size_t n;

	switch (json_type(v)) {
	case JSON_NUMBER:
		if (json_number_text(v) == NULL)
			abort();
		(void)json_number(v);
		(void)json_int64(v, &i);
		break;
	case JSON_STRING:
		if (json_string(v) == NULL ||
		    json_string(v)[json_string_length(v)] != '\0')
			abort();
		break;
	case JSON_ARRAY:
		for (n = 0; n < json_length(v); n++)
			walk(json_array_at(v, n));
		if (json_array_at(v, json_length(v)) != NULL)
			abort();
		break;
	case JSON_OBJECT:
		copy = json_clone(v);
		for (n = 0; n < json_length(v); n++) {
			key = json_object_key_at(v, n);
			walk(json_object_value_at(v, n));
			(void)json_get_string(v, key);
			(void)json_get_int64(v, key, &i);
			if (n % 2 == 0) {
				taken = json_object_take(copy, key);
				json_free(taken);
			} else if (json_object_set_int64(copy, key, 1) != 0)
				abort();
		}
		json_free(copy);
		break;
	case JSON_NULL:
	case JSON_BOOL:
		(void)json_bool(v);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_value *v, *again, *copy;
	char *compact, *pretty, *compact2;
	size_t compact_length, pretty_length, compact2_length;
	char error[128];

	v = json_parse((const char *)data, size, error, sizeof(error));
	if (v == NULL) {
		if (strncmp(error, "line ", 5) != 0 ||
		    strstr(error, ", column ") == NULL)
			abort();
		return 0;
	}
	walk(v);

	compact = json_serialize(v, JSON_COMPACT, &compact_length);
	if (compact == NULL || strlen(compact) > compact_length)
		abort();
	again = json_parse(compact, compact_length, error, sizeof(error));
	if (again == NULL) {
		fprintf(stderr, "serialised text does not parse: %s\n", error);
		abort();
	}
	if (!json_equal(v, again) || !json_equal(again, v))
		abort();
	compact2 = json_serialize(again, JSON_COMPACT, &compact2_length);
	if (compact2 == NULL || compact2_length != compact_length ||
	    memcmp(compact, compact2, compact_length) != 0)
		abort();
	json_free(again);

	pretty = json_serialize(v, JSON_PRETTY, &pretty_length);
	if (pretty == NULL)
		abort();
	again = json_parse(pretty, pretty_length, error, sizeof(error));
	if (again == NULL || !json_equal(v, again))
		abort();
	json_free(again);

	copy = json_clone(v);
	if (copy == NULL || !json_equal(v, copy))
		abort();
	json_free(copy);

	free(compact);
	free(compact2);
	free(pretty);
	json_free(v);
	return 0;
}
