/*
 * Helpers of test_helpers.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_helpers.h"

void
test_assert_contains(const char *haystack, const char *needle, const char *file,
		     int line)
{
	if (haystack == NULL || strstr(haystack, needle) == NULL) {
		print_error("'%s' does not contain '%s'\n",
			    haystack ? haystack : "(null)", needle);
		_fail(file, line);
	}
}

void
test_assert_not_contains(const char *haystack, const char *needle,
			 const char *file, int line)
{
	if (haystack != NULL && strstr(haystack, needle) != NULL) {
		print_error("'%s' contains '%s'\n", haystack, needle);
		_fail(file, line);
	}
}

char *
test_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path;
	size_t size;

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	size = strlen(tmp) + sizeof("/cairn-unit.XXXXXX");
	path = malloc(size);
	assert_non_null(path);
	snprintf(path, size, "%s/cairn-unit.XXXXXX", tmp);
	if (mkdtemp(path) == NULL)
		fail_msg("mkdtemp '%s': %s", path, strerror(errno));
	return path;
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
test_rmtree(char *path)
{
	if (path == NULL)
		return;
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(path);
}

char *
test_write_file(const char *dir, const char *name, const void *data,
		size_t length)
{
	size_t size = strlen(dir) + strlen(name) + 2;
	char *path = malloc(size);
	FILE *f;

	assert_non_null(path);
	snprintf(path, size, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL)
		fail_msg("cannot create '%s': %s", path, strerror(errno));
	if (length > 0 && fwrite(data, 1, length, f) != length)
		fail_msg("cannot write '%s'", path);
	assert_int_equal(fclose(f), 0);
	return path;
}

char *
test_read_file(const char *path, size_t *length)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t used = 0, capacity = 0, n;

	if (f == NULL)
		fail_msg("cannot open '%s': %s", path, strerror(errno));
	for (;;) {
		if (capacity - used < 4096) {
			capacity = capacity ? 2 * capacity : 8192;
			data = realloc(data, capacity + 1);
			assert_non_null(data);
		}
		n = fread(data + used, 1, capacity - used, f);
		used += n;
		if (n == 0)
			break;
	}
	fclose(f);
	data[used] = '\0';
	if (length != NULL)
		*length = used;
	return data;
}
