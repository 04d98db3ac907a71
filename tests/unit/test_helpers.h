/*
 * What the core's unit tests share: substring assertions with a useful
 * failure message, and scratch directories and files under $TMPDIR that
 * are removed when the test passes.
 *
 * Include after <cmocka.h>.
 */
#ifndef CAIRN_TEST_HELPERS_H
#define CAIRN_TEST_HELPERS_H

#include <stddef.h>

/* Fails the test unless `needle` occurs in `haystack`. */
#define assert_contains(haystack, needle)                                      \
	test_assert_contains((haystack), (needle), __FILE__, __LINE__)
void test_assert_contains(const char *haystack, const char *needle,
			  const char *file, int line);

/* Fails the test when `needle` occurs in `haystack`. */
#define assert_not_contains(haystack, needle)                                  \
	test_assert_not_contains((haystack), (needle), __FILE__, __LINE__)
void test_assert_not_contains(const char *haystack, const char *needle,
			      const char *file, int line);

/* A new empty directory, malloc'd path owned by the caller. */
char *test_mkdtemp(void);
/* Removes `path` and everything under it, then frees it. */
void test_rmtree(char *path);
/* Writes `length` bytes to dir/name; the path, malloc'd, is returned. */
char *test_write_file(const char *dir, const char *name, const void *data,
		      size_t length);
/* Reads a whole file into a malloc'd NUL-terminated buffer. */
char *test_read_file(const char *path, size_t *length);

#endif
